"""/support on Discord: private support and resources, the topic and region menus, DM copies.

Every answer is ephemeral: only the person who asked sees it, and nobody else can tell they
asked. Nothing about the person is stored or logged; the request context lives for one call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import autocomplete
from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.context import request_context
from bot.adapters.discord.localisations import (
    REGION_DESCRIPTION,
    SUPPORT_COMMAND,
    SUPPORT_DESCRIPTION,
    TOPIC_DESCRIPTION,
)
from bot.adapters.discord.responding import UPDATE_MESSAGE, answer_text, selected_values
from bot.core.i18n import N_, translator

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot

log = logging.getLogger(__name__)

DM_SENT = N_("Sent. Check your direct messages from Haven.")
DM_CLOSED = N_(
    "I couldn't DM you — your DMs may be closed. To allow them: open this server's menu → "
    "Privacy Settings → turn on Direct Messages. Your answer above stays here for you."
)
DM_FAILED = N_("I couldn't send the DM just now. Please try again in a moment.")
CANNOT_SEND_TO_USER = 50007


class SupportCog(commands.Cog):
    def __init__(self, bot: HavenBot) -> None:
        self.bot = bot
        self.services = bot.services

    async def cog_load(self) -> None:
        handlers = self.bot.component_handlers
        handlers[ids.TOPIC_SELECT] = self.on_topic_select
        handlers[ids.REGION_SELECT] = self.on_region_select
        handlers[ids.DM_COPY] = self.on_dm_copy
        handlers[ids.REPORT_SELECT] = self.on_report_select

    async def cog_unload(self) -> None:
        for kind in (ids.TOPIC_SELECT, ids.REGION_SELECT, ids.DM_COPY, ids.REPORT_SELECT):
            self.bot.component_handlers.pop(kind, None)

    # Localised for every shipped language by adapters/discord/localisations.py.
    @app_commands.command(name=SUPPORT_COMMAND, description=SUPPORT_DESCRIPTION)
    @app_commands.describe(topic=TOPIC_DESCRIPTION, region=REGION_DESCRIPTION)
    @app_commands.autocomplete(topic=autocomplete.topic, region=autocomplete.region)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def support(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 100] | None = None,
        region: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Only you see the answer. Nothing about who asked is kept."""
        ctx = request_context(interaction)
        await self.bot.answer(
            interaction, self.services.router.support(ctx, topic, region), what="/support"
        )

    # ---- components on the answer -------------------------------------------------------

    async def on_topic_select(self, interaction: discord.Interaction, parsed: ids.ParsedId) -> None:
        """Another topic from the menu: the answer is replaced in place (still private)."""
        values = selected_values(interaction)
        topic = values[0] if values else None
        region = ids.optional(parsed.parts[0]) if parsed.parts else None
        ctx = request_context(interaction)
        await self.bot.answer(
            interaction,
            self.services.router.support(ctx, topic, region),
            what="/support topic menu",
            how=UPDATE_MESSAGE,
        )

    async def on_region_select(
        self, interaction: discord.Interaction, parsed: ids.ParsedId
    ) -> None:
        values = selected_values(interaction)
        region = values[0] if values else None
        topic = ids.optional(parsed.parts[0]) if parsed.parts else None
        ctx = request_context(interaction)
        await self.bot.answer(
            interaction,
            self.services.router.support(ctx, topic, region),
            what="/support region menu",
            how=UPDATE_MESSAGE,
        )

    async def on_report_select(
        self, interaction: discord.Interaction, parsed: ids.ParsedId
    ) -> None:
        """A report on one resource: counted (nothing about who sent it) and thanked in a new
        private message, so the answer stays where it was."""
        values = selected_values(interaction)
        words = values[0].split() if values else []
        key, kind = (words[-2], words[-1]) if len(words) >= 3 else ("", "")
        ctx = request_context(interaction)
        await self.bot.answer(
            interaction, self.services.router.report(ctx, key, kind), what="support report"
        )

    async def on_dm_copy(self, interaction: discord.Interaction, parsed: ids.ParsedId) -> None:
        """The same message and resources, by DM, so the person can keep them."""
        parts = (*parsed.parts, "", "", "")[:3]
        topic, region, message_key = (ids.optional(p) for p in parts)
        ctx = request_context(interaction)
        # Opening the DM channel and sending are two REST calls: acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        card = await self.services.router.support(ctx, topic, region, message_key)
        words = translator(card.locale)
        rendered = self.bot.renderer.render(card, interactive=False)
        try:
            await interaction.user.send(**rendered.send_kwargs())
        except discord.Forbidden as error:
            if error.code != CANNOT_SEND_TO_USER:
                log.warning("DM copy refused by Discord (error %s)", error.code)
            await answer_text(interaction, words.gettext(DM_CLOSED), what="DM copy")
            return
        except discord.HTTPException as error:
            log.warning("DM copy failed (Discord %s %s)", error.status, error.code)
            await answer_text(interaction, words.gettext(DM_FAILED), what="DM copy")
            return
        await answer_text(interaction, words.gettext(DM_SENT), what="DM copy")


async def setup(bot: HavenBot) -> None:
    await bot.add_cog(SupportCog(bot))
