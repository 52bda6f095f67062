"""The contact line's modals on Discord: the text of a new request, or of an answer back.

A modal's custom_id says what it completes (`haven:cform:anonymous`, `haven:cform:answer:
<key>`): the key comes back only to the person who pressed their own button.
"""

from __future__ import annotations

import discord

from bot.adapters.discord import component_ids as ids
from bot.core.contact.rules import TEXT_MAX
from bot.core.i18n import ENGLISH, N_, Words

# Discord's "Cannot send messages to this user": the person's DMs are closed to Haven.
CANNOT_SEND_TO_USER = 50007
TEXT_FIELD = "text"

# Translated where shown, in the person's words (Discord cuts a modal title at 45 characters).
_TITLES = {
    "anonymous": N_("Write to the moderators anonymously"),
    "myself": N_("Write to the moderators as yourself"),
    "struggling": N_("Ask for a check-in"),
    "answer": N_("Answer the moderators"),
}
_HELP = {
    "anonymous": N_("They will not know who wrote it."),
    "myself": N_("They will see your name."),
    "struggling": N_("Optional: the moderators see only this."),
    "answer": N_("Only the moderators read it."),
}


def contact_modal(verb: str, key: str | None = None, words: Words = ENGLISH) -> discord.ui.Modal:
    modal = discord.ui.Modal(
        title=words.gettext(_TITLES[verb])[:45],
        custom_id=ids.make_id(ids.CONTACT_FORM, verb, key),
        timeout=None,
    )
    modal.add_item(
        discord.ui.Label(
            text=words.gettext("What you want to say"),
            description=words.gettext(_HELP[verb]),
            component=discord.ui.TextInput(
                custom_id=TEXT_FIELD,
                style=discord.TextStyle.paragraph,
                required=verb != "struggling",
                max_length=TEXT_MAX,
            ),
        )
    )
    # Submissions are dispatched by custom_id (HavenBot.on_interaction): not kept in memory.
    modal.stop()
    return modal
