"""The settings page: the community's settings as `/support-admin settings show` gives them,
and one form per setting, each running that setting's command (same checks and wording)."""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.library import field_of
from bot.dashboard.site import Dashboard, Handler, form_fields, moderator

GROUP = "settings"


def index(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        router = dashboard.services.router
        shown = await router.admin(ctx, GROUP, "show", {})
        table = router.tables[GROUP]
        forms = [
            (verb.name, verb.summary, field_of(verb.options[0], required=True))
            for verb in table.shown_verbs
            if len(verb.options) == 1
        ]
        return dashboard.page(request, "settings.html", card=shown, forms=forms)

    return handler


def change(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        name = request.match_info["verb"]
        verb = dashboard.services.router.tables[GROUP].verb(name)
        if verb is None or verb.hidden or len(verb.options) != 1:
            return dashboard.page(request, "not_found.html", status=404)
        option = verb.options[0].name
        fields = await form_fields(request, {option: option})
        card = await dashboard.services.router.admin(
            ctx, GROUP, name, {option: fields.get(option, "")}
        )
        return dashboard.card_page(request, card, "/settings")

    return handler
