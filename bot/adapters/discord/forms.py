"""Modals for moderators: a message's text, a resource's main fields, prefilled when editing.

A modal's custom_id carries the command it completes and the options given with it (the key and
`version` of the item being edited), so submitting runs exactly `/support-admin <group> <verb>`
with those options plus the fields, through the same router and permission check as any command.
Limits: title 45, at most 5 fields, label 45, text 4000 characters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.render import clip

log = logging.getLogger(__name__)

MODAL_TITLE_MAX = 45
LABEL_MAX = 45
TEXT_MAX = 4000


@dataclass(frozen=True, slots=True)
class FormField:
    name: str  # the /support-admin option it fills
    label: str
    paragraph: bool = False
    required: bool = False
    max_length: int = 200
    placeholder: str = ""


MESSAGE_FIELDS = (
    FormField(
        "text",
        "Message",
        paragraph=True,
        required=True,
        max_length=TEXT_MAX,
        placeholder="A kind, supportive message. It is shown privately to people who ask.",
    ),
    FormField(
        "topics", "Topics (comma separated)", max_length=200, placeholder="e.g. coming-out, general"
    ),
)

RESOURCE_FIELDS = (
    FormField("title", "Title", required=True, max_length=256),
    FormField("url", "Link (https://…)", required=True, max_length=512),
    FormField("topics", "Topics (comma separated)", max_length=200, placeholder="e.g. crisis"),
    FormField("regions", "Countries (e.g. GB, IE or global)", max_length=200),
    FormField("description", "Description", paragraph=True, max_length=1000),
)


def build_modal(
    title: str,
    group: str,
    verb: str,
    fields: Sequence[FormField],
    *,
    prefill: Mapping[str, str] | None = None,
    carried: Mapping[str, str] | None = None,
    store: ids.ShortLivedStore,
) -> discord.ui.Modal:
    prefill = prefill or {}
    modal = discord.ui.Modal(
        title=clip(title, MODAL_TITLE_MAX),
        custom_id=ids.form_id(group, verb, dict(carried or {}), store),
        timeout=None,
    )
    for spec in fields[:5]:
        default = prefill.get(spec.name) or None
        modal.add_item(
            discord.ui.Label(
                text=clip(spec.label, LABEL_MAX),
                component=discord.ui.TextInput(
                    custom_id=spec.name,
                    style=discord.TextStyle.paragraph
                    if spec.paragraph
                    else discord.TextStyle.short,
                    required=spec.required,
                    max_length=spec.max_length,
                    default=clip(default, spec.max_length) if default else None,
                    placeholder=clip(spec.placeholder, 100) or None,
                ),
            )
        )
    # Submissions are dispatched by custom_id (HavenBot.on_interaction), so the library must not
    # keep this object: a modal that is dismissed would otherwise stay in memory for good.
    modal.stop()
    return modal
