"""`/support-admin dashboard`: a private, one-time link to the moderator dashboard."""

from __future__ import annotations

from bot.core.cards import Card, CardTone
from bot.core.commands.verbs import Arguments, Verb, VerbTable
from bot.core.dashboard import DashboardAccess
from bot.core.models import RequestContext


class DashboardCommands:
    def __init__(self, access: DashboardAccess) -> None:
        self._access = access
        self.table = VerbTable(
            "dashboard",
            "the moderator dashboard in your browser",
            (Verb("open", "a one-time sign-in link to the dashboard (only for you)", self.open),),
            default_verb="open",
        )

    async def open(self, ctx: RequestContext, args: Arguments) -> Card:
        url = await self._access.issue_link(ctx)
        return Card(
            title="Your dashboard link",
            tone=CardTone.INFO,
            body=f"{url}\nOpen it within 10 minutes. It works once and only for you: "
            "do not share it.",
            footer="The dashboard checks your moderator role on every page; "
            "it never shows who asked for support.",
        )
