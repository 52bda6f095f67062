"""The usage page: `/support` use per topic per week as a bar chart drawn on the server (CSS
widths by class, no script, nothing from elsewhere), small buckets as "fewer than 5" (the rule
is bot/core/usage.py's), and the resources people reported (shown from 3, as in the chat)."""

from __future__ import annotations

from aiohttp import web

from bot.core.content.reports import SHOW_AT, WINDOW_DAYS
from bot.core.usage import FEWER_THAN
from bot.dashboard.site import Dashboard, Handler, moderator


def index(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        usage = await dashboard.services.usage.usage(ctx)
        return dashboard.page(
            request,
            "usage.html",
            usage=usage,
            fewer_than=FEWER_THAN,
            show_at=SHOW_AT,
            window_days=WINDOW_DAYS,
        )

    return handler
