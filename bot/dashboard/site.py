"""The dashboard's aiohttp application: its route table, the middleware every request passes
(security headers; the moderator check of the core on every request; size, origin and CSRF
checks on every POST) and the page helpers the page modules share.

Pages are Jinja2 templates (autoescaped) in bot/dashboard/templates; the one stylesheet is
served from bot/dashboard/static. A page module only reads the request, calls the core, and
renders: `Dashboard.page` for a page, `Dashboard.card_page` for a command's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from bot.core.cards import Card, CardTone
from bot.core.dashboard import DashboardAccess, SignedOut, csrf_matches, csrf_token
from bot.core.errors import HavenError, NotFound, PermissionDenied
from bot.core.failures import log_failure
from bot.core.models import RequestContext
from bot.dashboard.security import (
    MAX_FORM_BYTES,
    SignInLimiter,
    add_security_headers,
    same_origin,
)
from bot.services import Services

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
COOKIE = "haven_dashboard"
# Routes a browser without a session may reach (the sign-in itself, the stylesheet).
PUBLIC_ROUTES = frozenset({"login", "login-submit", "stylesheet"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# What the middleware learnt about the request: the checked moderator, the session's secret.
CTX_KEY = web.RequestKey("haven_ctx", RequestContext)
SECRET_KEY = web.RequestKey("haven_session", str)


class Dashboard:
    """What every page needs: the services, the sign-in rules, the templates."""

    def __init__(
        self, services: Services, access: DashboardAccess, limiter: SignInLimiter | None = None
    ) -> None:
        self.services = services
        self.access = access
        self.limiter = limiter or SignInLimiter()
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.dashboard", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    # ---- rendering -------------------------------------------------------------------------

    def page(
        self, request: web.Request, template: str, status: int = 200, **values: Any
    ) -> web.Response:
        ctx: RequestContext | None = request.get(CTX_KEY)
        secret: str | None = request.get(SECRET_KEY)
        html = self.templates.get_template(template).render(
            moderator=ctx.actor if ctx else None,
            community_id=ctx.community_id if ctx else "",
            csrf=csrf_token(secret) if secret else "",
            prefix=PREFIX,
            **values,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def card_page(
        self, request: web.Request, card: Card, back: str = "/library", status: int | None = None
    ) -> web.Response:
        """A command's answer as a page, with a link `back` (a path below /dashboard): an
        error card is a 400 (nothing was written)."""
        if status is None:
            status = 400 if card.tone is CardTone.ERROR else 200
        return self.page(request, "card.html", status=status, card=card, back=PREFIX + back)

    def refusal(self, request: web.Request, error: HavenError) -> web.Response:
        if isinstance(error, SignedOut):
            status = 401
        elif isinstance(error, PermissionDenied):
            status = 403
        elif isinstance(error, NotFound):
            status = 404
        else:
            status = 400
        return self.page(request, "refused.html", status=status, error=error)

    # ---- the application -------------------------------------------------------------------

    def application(self) -> web.Application:
        # Mounted as a sub-application: the root's client_max_size still bounds every read,
        # and the middleware below refuses a dashboard POST larger than MAX_FORM_BYTES first.
        app = web.Application(middlewares=[self._guard])
        from bot.dashboard import routes

        app.router.add_routes(routes.table(self))
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await self._checked(request, handler)
        except web.HTTPException as exc:
            add_security_headers(exc)
            raise
        add_security_headers(response)
        return response

    async def _checked(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        name = request.match_info.route.name
        if request.method == "POST":
            if request.content_length is None or request.content_length > MAX_FORM_BYTES:
                return web.Response(
                    status=413 if request.content_length else 411,
                    text=f"A dashboard form is at most {MAX_FORM_BYTES // 1024} KB; "
                    "nothing was changed.\n",
                )
            if not same_origin(request, self.access.base_url()):
                return web.Response(
                    status=403, text="Forms are accepted only from Haven's own pages.\n"
                )
        if name in PUBLIC_ROUTES:
            return await handler(request)
        secret = request.cookies.get(COOKIE)
        try:
            ctx = await self.access.request_context(secret)
        except HavenError as error:
            return self.refusal(request, error)
        request[CTX_KEY] = ctx
        assert secret is not None
        request[SECRET_KEY] = secret
        if request.method == "POST":
            form = await request.post()
            given = form.get("csrf")
            if not isinstance(given, str) or not csrf_matches(secret, given):
                return web.Response(
                    status=403,
                    text="This form is out of date or not from your session; nothing was "
                    "changed. Reload the page and try again.\n",
                )
        try:
            return await handler(request)
        except HavenError as error:
            return self.refusal(request, error)
        except web.HTTPException:
            raise
        except Exception as error:
            log_failure(log, f"Dashboard page {name}", error)
            return self.page(request, "refused.html", status=500, error=_SORRY)


_SORRY = HavenError(
    "Something went wrong on Haven's side.", "Nothing was half-changed; please try again."
)


def moderator(request: web.Request) -> RequestContext:
    """The moderator of this request, checked by the core in the middleware."""
    ctx: RequestContext = request[CTX_KEY]
    return ctx


async def form_fields(
    request: web.Request, names: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The submitted text fields (not csrf), stripped of Windows line ends browsers send."""
    form = await request.post()
    out: dict[str, str] = {}
    for name, value in form.items():
        if name == "csrf" or not isinstance(value, str):
            continue
        if names is not None and name not in names:
            continue
        out[name] = value.replace("\r\n", "\n")
    return out


def stylesheet_text() -> str:
    return resources.files("bot.dashboard").joinpath("static/haven.css").read_text("utf-8")
