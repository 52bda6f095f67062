"""The contact line's modals on Discord: the text of a new request, or of an answer back.

A modal's custom_id says what it completes (`haven:cform:anonymous`, `haven:cform:answer:
<key>`): the key comes back only to the person who pressed their own button.
"""

from __future__ import annotations

import discord

from bot.adapters.discord import component_ids as ids
from bot.core.contact.rules import TEXT_MAX

# Discord's "Cannot send messages to this user": the person's DMs are closed to Haven.
CANNOT_SEND_TO_USER = 50007
TEXT_FIELD = "text"

_TITLES = {
    "anonymous": "Write to the moderators anonymously",
    "myself": "Write to the moderators as yourself",
    "struggling": "Ask for a check-in",
    "answer": "Answer the moderators",
}
_HELP = {
    "anonymous": "They will not know who wrote it.",
    "myself": "They will see your name.",
    "struggling": "Optional: the moderators see only this.",
    "answer": "Only the moderators read it.",
}


def contact_modal(verb: str, key: str | None = None) -> discord.ui.Modal:
    modal = discord.ui.Modal(
        title=_TITLES[verb][:45],
        custom_id=ids.make_id(ids.CONTACT_FORM, verb, key),
        timeout=None,
    )
    modal.add_item(
        discord.ui.Label(
            text="What you want to say",
            description=_HELP[verb],
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
