"""/support-admin schedule: moderators schedule resource posts to a channel.

The schedule itself lives in the database and the scheduler (bot/scheduler.py) posts it through
DiscordPublisher; this cog only translates options. `channel` is a Discord channel option, so a
moderator can only pick a channel of this server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import autocomplete

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot

log = logging.getLogger(__name__)

ScheduleId = app_commands.Range[int, 1]


class ScheduleGroup(app_commands.Group, name="schedule", description="Scheduled posts"):
    def __init__(self, bot: HavenBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(
        name="add", description="Post a topic's message and resources on a schedule"
    )
    @app_commands.describe(
        channel="Where to post",
        when='e.g. "daily 09:00", "mondays 18:30", "2026-12-24 10:00"',
        topic="What to post",
        message="A specific message key instead of the rotation",
        timezone="Time zone (default: the server's)",
    )
    @app_commands.autocomplete(
        topic=autocomplete.topic, message=autocomplete.message_key, timezone=autocomplete.timezone
    )
    async def add(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.Thread,
        when: app_commands.Range[str, 1, 200],
        topic: str | None = None,
        message: str | None = None,
        timezone: str | None = None,
    ) -> None:
        options = {
            # The core reads Discord's channel mention form; the id is from Discord's menu.
            "channel": f"<#{channel.id}>",
            "when": when,
            "topic": topic,
            "message": message,
            "timezone": timezone,
        }
        await self.bot.run_admin(interaction, "schedule", "add", options)

    @app_commands.command(name="list", description="Every schedule, its next run and last outcome")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self.bot.run_admin(interaction, "schedule", "list", {})

    async def _by_id(
        self, interaction: discord.Interaction, verb: str, schedule_id: int | None
    ) -> None:
        await self.bot.run_admin(interaction, "schedule", verb, {"id": schedule_id})

    @app_commands.command(name="pause", description="Stop posting until resumed")
    async def pause(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        await self._by_id(interaction, "pause", id)

    @app_commands.command(name="resume", description="Start again from the next run")
    async def resume(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        await self._by_id(interaction, "resume", id)

    @app_commands.command(name="remove", description="Delete a schedule")
    async def remove(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        await self._by_id(interaction, "remove", id)

    @app_commands.command(name="test", description="Post once now")
    async def test(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        await self._by_id(interaction, "test", id)

    @app_commands.command(name="history", description="Recent runs: sent, missed or failed")
    async def history(self, interaction: discord.Interaction, id: ScheduleId | None = None) -> None:
        await self._by_id(interaction, "history", id)


class SchedulesCog(commands.Cog):
    def __init__(self, bot: HavenBot) -> None:
        self.bot = bot
        self.group = ScheduleGroup(bot)

    async def cog_load(self) -> None:
        self.bot.admin_group.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.admin_group.remove_command(self.group.name)


async def setup(bot: HavenBot) -> None:
    await bot.add_cog(SchedulesCog(bot))
