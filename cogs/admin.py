"""Haven's own upkeep on Discord: server join and removal, /support-admin help, and the buttons
that run a command line (list pages, "Apply" on a pack preview).

- Join (on_guild_join) and servers seen at start-up (on_guild_available, e.g. joined while
  Haven was offline) -> the community exists, with the default pack the first time; a server
  that comes back within the removal grace keeps everything.
- Removal (on_guild_remove) -> the community is marked removed: its schedules pause now and its
  data is purged after the grace period (bot/app.py runs the purge).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.context import community_id_for_guild, request_context
from bot.adapters.discord.responding import UPDATE_MESSAGE, answer_text
from bot.core.models import Platform

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot

log = logging.getLogger(__name__)


class AdminCog(commands.Cog):
    def __init__(self, bot: HavenBot) -> None:
        self.bot = bot
        self.services = bot.services
        self._steps: deque[Callable[[], Awaitable[None]]] = deque()
        self._worker: asyncio.Task[None] | None = None

        async def show_help(interaction: discord.Interaction) -> None:
            await bot.run_admin(interaction, "help", "", {})

        # A plain function (not a method): a subcommand directly under /support-admin.
        self.help_command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="help",
            description="Every /support-admin command, with examples",
            callback=show_help,
        )

    async def cog_load(self) -> None:
        self.bot.admin_group.add_command(self.help_command)
        self.bot.component_handlers[ids.RUN] = self.on_run_button
        self.bot.component_handlers[ids.RUN_REF] = self.on_run_button

    async def cog_unload(self) -> None:
        self.bot.admin_group.remove_command(self.help_command.name)
        for kind in (ids.RUN, ids.RUN_REF):
            self.bot.component_handlers.pop(kind, None)

    # ---- buttons that run a command line --------------------------------------------------

    async def on_run_button(self, interaction: discord.Interaction, parsed: ids.ParsedId) -> None:
        """Next/previous page or an action: the line runs through the router (permission
        checked again) and its card replaces the message, so an action cannot run twice."""
        line = ids.resolve_run(parsed, self.bot.refs)
        if line is None:
            await answer_text(
                interaction, "This button has expired. Please run the command again.", what="run"
            )
            return
        ctx = request_context(interaction)
        verb = " ".join(line.split()[:3])
        await self.bot.answer(
            interaction, self.services.router.run_text(ctx, line), what=verb, how=UPDATE_MESSAGE
        )

    # ---- server lifecycle ---------------------------------------------------------------------

    def _enqueue(self, step: Callable[[], Awaitable[None]]) -> None:
        """Joins and removals run one at a time, in gateway order: a removal can never overtake
        the join it follows, and a burst (1,000 servers at start-up) does not open 1,000
        concurrent transactions. The worker is tracked by the bot, so a shutdown waits for it."""
        self._steps.append(step)
        if self._worker is None or self._worker.done():
            self._worker = self.bot.spawn(self._drain(), "guild-lifecycle")

    async def _drain(self) -> None:
        while self._steps:
            step = self._steps.popleft()
            await step()

    async def _ensure(self, guild_id: int, name: str, why: str) -> None:
        try:
            await self.services.communities.ensure(Platform.DISCORD, str(guild_id), name)
        except Exception:
            log.exception("Could not set up the community for a server (%s)", why)

    async def _remove(self, guild_id: int) -> None:
        try:
            await self.services.communities.mark_removed(
                community_id_for_guild(guild_id), "Haven was removed from the server"
            )
        except Exception:
            log.exception("Could not mark a removed server's community")

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        guild_id, name = guild.id, guild.name
        self._enqueue(lambda: self._ensure(guild_id, name, "join"))

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        guild_id, name = guild.id, guild.name
        self._enqueue(lambda: self._ensure(guild_id, name, "available"))

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        guild_id = guild.id
        self._enqueue(lambda: self._remove(guild_id))


async def setup(bot: HavenBot) -> None:
    await bot.add_cog(AdminCog(bot))
