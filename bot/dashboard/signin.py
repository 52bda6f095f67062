"""Signing in with the link from `/support-admin dashboard`, signing out, the stylesheet.

Opening the link shows a page with one button; the button's POST uses the link. Two reasons:
Slack and Discord fetch links posted in chat to preview them, and a GET that used the link
would burn it before the moderator clicked; and a SameSite=Strict cookie set during a
navigation that started on another site is not sent on the redirect that follows it, while
one set by a POST from Haven's own page is. The POST answers with the cookie and a redirect
to the library, so the token never stays in the address bar or the history's last page.
"""

from __future__ import annotations

from aiohttp import web

from bot.core.dashboard import SESSION_TTL
from bot.core.errors import HavenError
from bot.dashboard.site import COOKIE, PREFIX, Dashboard, Handler, stylesheet_text

# Longer than any link (43 characters): anything past this is not one, and is not looked up.
MAX_TOKEN_LENGTH = 100


def _address(request: web.Request) -> str:
    return request.remote or "unknown"


def _limited(dashboard: Dashboard, request: web.Request) -> web.Response | None:
    wait = dashboard.limiter.wait(_address(request))
    if wait is None:
        return None
    seconds = max(1, int(wait + 0.999))
    return web.Response(
        status=429,
        text=f"Too many sign-in attempts from this address. Try again in {seconds} seconds.\n",
        headers={"Retry-After": str(seconds)},
    )


def login_page(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        limited = _limited(dashboard, request)
        if limited is not None:
            return limited
        token = request.query.get("token", "")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            error = HavenError(
                "This address is missing its sign-in token.",
                "Type /support-admin dashboard in the chat and open the whole link it gives.",
            )
            return dashboard.page(request, "refused.html", status=400, error=error)
        return dashboard.page(request, "login.html", token=token)

    return handler


def login_submit(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        limited = _limited(dashboard, request)
        if limited is not None:
            return limited
        form = await request.post()
        token = form.get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            dashboard.limiter.failed(_address(request))
            error = HavenError("This sign-in form has no link token.")
            return dashboard.page(request, "refused.html", status=400, error=error)
        try:
            signed_in = await dashboard.access.sign_in(token)
        except HavenError as error:
            dashboard.limiter.failed(_address(request))
            return dashboard.refusal(request, error)
        response = see_other(f"{PREFIX}/library")
        response.set_cookie(
            COOKIE,
            signed_in.secret,
            max_age=int(SESSION_TTL.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=dashboard.access.secure,
        )
        return response

    return handler


def logout(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        secret = request.cookies.get(COOKIE)
        if secret:
            await dashboard.access.sign_out(secret)
        response = dashboard.page(request, "signed_out.html")
        response.del_cookie(COOKIE, path=PREFIX)
        return response

    return handler


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def home(request: web.Request) -> web.StreamResponse:
    return see_other(f"{PREFIX}/library")


async def stylesheet(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=stylesheet_text(),
        content_type="text/css",
        charset="utf-8",
        headers={"Cache-Control": "max-age=3600"},
    )
