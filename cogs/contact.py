"""/support-contact on Discord: write to the moderators, anonymously or as yourself.

Every answer to the person is ephemeral or in their DM. The card with their reply key goes
by DM (its buttons carry the key; Haven keeps only its hash); with DMs closed it is shown
once, privately, with the key in words. Inbox buttons (Reply, Close, Block sender) run the
moderators' `/support-admin contact` verbs through the one permission gate and answer only
the moderator who pressed them; the core redraws the inbox message itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.contact import DiscordContact
from bot.adapters.discord.context import request_context
from bot.adapters.discord.localisations import (
    ANONYMOUS_CHOICE,
    CONTACT_DESCRIPTION,
    MYSELF_CHOICE,
    SEND_AS_DESCRIPTION,
)
from bot.adapters.discord.modals_contact import CANNOT_SEND_TO_USER, TEXT_FIELD, contact_modal
from bot.adapters.discord.responding import modal_values, raw_data, send_card
from bot.core.cards import Card
from bot.core.contact.rules import CONTACT_COMMAND
from bot.core.contact.service import ContactAnswer

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot

log = logging.getLogger(__name__)

_WRITES = ("anonymous", "myself")
_WITH_KEY = ("open", "close", "delete", "erase")
DM_SENT = (
    "Haven sent you a DM with your request's buttons: they are your only way back to it "
    "(to read replies, answer, close or delete it)."
)
DM_CLOSED = (
    "Your DMs are closed to Haven, so your request's buttons are below, shown only this "
    "once. Copy your key now, or open your DMs (server menu → Privacy Settings)."
)


class ContactCog(commands.Cog):
    def __init__(self, bot: HavenBot) -> None:
        self.bot = bot
        self.services = bot.services

    async def cog_load(self) -> None:
        handlers = self.bot.component_handlers
        handlers[ids.CONTACT] = self.on_person_button
        handlers[ids.CONTACT_FORM] = self.on_form
        handlers[ids.CONTACT_MOD] = self.on_inbox_button
        self.services.register_contact(DiscordContact(self.bot))

    async def cog_unload(self) -> None:
        for kind in (ids.CONTACT, ids.CONTACT_FORM, ids.CONTACT_MOD):
            self.bot.component_handlers.pop(kind, None)

    @app_commands.command(name=CONTACT_COMMAND, description=CONTACT_DESCRIPTION)
    @app_commands.rename(send_as="as")
    @app_commands.describe(send_as=SEND_AS_DESCRIPTION)
    @app_commands.choices(
        send_as=[
            app_commands.Choice(name=ANONYMOUS_CHOICE, value="anonymous"),
            app_commands.Choice(name=MYSELF_CHOICE, value="myself"),
        ]
    )
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def support_contact(
        self, interaction: discord.Interaction, send_as: app_commands.Choice[str] | None = None
    ) -> None:
        """Only you see this. Without a choice: how you can write; with one: the form."""
        if send_as is None:
            await self._answer(interaction, f"/{CONTACT_COMMAND}")
        else:
            await self._open_form(interaction, send_as.value)

    # ---- the person's buttons ---------------------------------------------------------------

    async def on_person_button(
        self, interaction: discord.Interaction, parsed: ids.ParsedId
    ) -> None:
        verb = parsed.parts[0] if parsed.parts else "start"
        key = parsed.parts[1] if len(parsed.parts) > 1 else ""
        if verb == "start":
            await self._answer(interaction, f"/{CONTACT_COMMAND}")
        elif verb in _WRITES:
            await self._open_form(interaction, verb)
        elif verb == "struggling":
            # One click: the alert goes now; text can be added later with Answer.
            await self._deliver(interaction, f"/{CONTACT_COMMAND} struggling")
        elif verb == "answer" and key:
            words = await self.services.router.contact_words(request_context(interaction))
            await interaction.response.send_modal(contact_modal("answer", key, words))
        elif verb in _WITH_KEY and key:
            await self._answer(interaction, f"/{CONTACT_COMMAND} {verb} {key}")
        else:
            await self._answer(interaction, f"/{CONTACT_COMMAND} help")

    async def on_form(self, interaction: discord.Interaction, parsed: ids.ParsedId) -> None:
        verb = parsed.parts[0] if parsed.parts else ""
        key = parsed.parts[1] if len(parsed.parts) > 1 else ""
        text = modal_values(raw_data(interaction)).get(TEXT_FIELD, "")
        if verb == "answer":
            await self._answer(interaction, f"/{CONTACT_COMMAND} answer {key} {text}")
        else:
            await self._deliver(interaction, f"/{CONTACT_COMMAND} {verb} {text}")

    async def _open_form(self, interaction: discord.Interaction, verb: str) -> None:
        ctx = request_context(interaction)
        refused = await self.services.router.contact_precheck(ctx, verb)
        if refused is not None:
            await send_card(interaction, refused, self.bot.renderer, what="contact form")
            return
        words = await self.services.router.contact_words(ctx)
        await interaction.response.send_modal(contact_modal(verb, None, words))

    async def _answer(self, interaction: discord.Interaction, line: str) -> None:
        """A line whose answer is one private card (no key to hand over)."""
        ctx = request_context(interaction)

        async def card() -> Card:
            return (await self.services.router.contact(ctx, line)).as_card()

        await self.bot.answer(interaction, card(), what="support contact")

    async def _deliver(self, interaction: discord.Interaction, line: str) -> None:
        """A new request: the answer privately, and the card with the key by DM."""
        # Sending the request and the DM are several REST calls: acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer: ContactAnswer = await self.services.router.contact(
            request_context(interaction), line
        )
        shown = answer.shown
        renderer = self.bot.renderer
        if answer.keep is None:
            await send_card(interaction, shown, renderer, what="support contact")
            return
        keep = renderer.render(answer.keep, interactive=True)
        try:
            await interaction.user.send(**keep.send_kwargs())
        except discord.HTTPException as error:
            if not (isinstance(error, discord.Forbidden) and error.code == CANNOT_SEND_TO_USER):
                log.warning("The request's DM failed (Discord %s %s)", error.status, error.code)
            await send_card(interaction, shown, renderer, what="support contact")
            await interaction.followup.send(DM_CLOSED, ephemeral=True)
            await interaction.followup.send(**keep.send_kwargs(), ephemeral=True)
            return
        await send_card(interaction, _with_footer(shown, DM_SENT), renderer, what="support contact")

    # ---- the moderators' inbox buttons ------------------------------------------------------

    async def on_inbox_button(self, interaction: discord.Interaction, parsed: ids.ParsedId) -> None:
        verb = parsed.parts[0] if parsed.parts else ""
        number = parsed.parts[1] if len(parsed.parts) > 1 else ""
        if verb == "reply":
            # The verb's form (a modal asking for the text), through the gate first.
            await self.bot.run_verb(interaction, "contact", "reply", {"number": number})
        else:
            await self.bot.run_admin(interaction, "contact", verb, {"number": number})


def _with_footer(card: Card, text: str) -> Card:
    return replace(card, footer=f"{card.footer}\n{text}".strip())


async def setup(bot: HavenBot) -> None:
    await bot.add_cog(ContactCog(bot))
