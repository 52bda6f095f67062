"""Modals for moderators: a FormRequest from the core shown as a Discord modal.

A modal's custom_id carries the command it completes and the options given with it (the key
and `version` of the item being edited), so submitting runs exactly `/support-admin <group> <verb>`
with those options plus the fields, through the same router and permission check as any command.
Limits: title 45, at most 5 fields, label 45, text 4000 characters, placeholder 100.
"""

from __future__ import annotations

import discord

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.render import clip
from bot.core.commands.verbs import FormRequest, OptionKind, Verb

MODAL_TITLE_MAX = 45
MODAL_FIELDS_MAX = 5
LABEL_MAX = 45
TEXT_MAX = 4000
PLACEHOLDER_MAX = 100
# What a modal's text input can ask for; a channel or a file needs the slash command's own
# pickers, so a form that asks for one is not shown on Discord (those options stay required).
TEXT_KINDS = frozenset(
    {
        OptionKind.TEXT,
        OptionKind.PARAGRAPH,
        OptionKind.NUMBER,
        OptionKind.YES_NO,
        OptionKind.CHOICE,
    }
)


def can_show(request: FormRequest) -> bool:
    return all(field.option.kind in TEXT_KINDS for field in request.fields)


def can_show_form(verb: Verb) -> bool:
    """Whether Discord can show this verb's form (a modal holds text inputs only)."""
    if verb.form is None:
        return False
    options = [verb.option(name) for name in verb.form.fields]
    return all(option is not None and option.kind in TEXT_KINDS for option in options)


def build_modal(request: FormRequest, store: ids.ShortLivedStore) -> discord.ui.Modal:
    shown = request.fields[:MODAL_FIELDS_MAX]
    # Values of fields Discord has no room for go back with the submission unchanged.
    carried = dict(request.carried)
    carried.update({f.option.name: f.value for f in request.fields[MODAL_FIELDS_MAX:] if f.value})
    modal = discord.ui.Modal(
        title=clip(request.title, MODAL_TITLE_MAX),
        custom_id=ids.form_id(request.group, request.verb, carried, store),
        timeout=None,
    )
    for field in shown:
        option = field.option
        max_length = min(option.max_length, TEXT_MAX)
        modal.add_item(
            discord.ui.Label(
                text=clip(option.description, LABEL_MAX),
                component=discord.ui.TextInput(
                    custom_id=option.name,
                    style=discord.TextStyle.paragraph
                    if option.kind is OptionKind.PARAGRAPH
                    else discord.TextStyle.short,
                    required=option.required,
                    max_length=max_length,
                    default=clip(field.value, max_length) if field.value else None,
                    placeholder=clip(option.placeholder.strip('"<>'), PLACEHOLDER_MAX) or None,
                ),
            )
        )
    # Submissions are dispatched by custom_id (HavenBot.on_interaction), so the library must not
    # keep this object: a modal that is dismissed would otherwise stay in memory for good.
    modal.stop()
    return modal
