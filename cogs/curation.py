"""/support-admin: every group and verb of the core's verb tables as Discord slash commands.

The commands are built from the tables (bot/adapters/discord/admin_commands.py), so this cog
declares nothing itself. Each call goes through `HavenBot.run_verb`: the router decides whether
it opens a form (and checks the moderator gate first), and otherwise runs it. The router checks
moderator rights on every call (Manage Server or a moderator role), whatever Discord's command
permissions say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.admin_commands import build_group

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot


class CurationCog(commands.Cog):
    """Adds one /support-admin subcommand group per verb table."""

    def __init__(self, bot: HavenBot) -> None:
        self.bot = bot
        self.groups: list[app_commands.Group] = [
            build_group(table, bot.run_verb) for table in bot.services.router.tables.values()
        ]

    async def cog_load(self) -> None:
        for group in self.groups:
            self.bot.admin_group.add_command(group)

    async def cog_unload(self) -> None:
        for group in self.groups:
            self.bot.admin_group.remove_command(group.name)


async def setup(bot: HavenBot) -> None:
    await bot.add_cog(CurationCog(bot))
