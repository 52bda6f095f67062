"""Autocomplete for Haven's slash-command options, answered from memory.

Discord gives autocomplete no deferral (answer within 3 s, at most 25 choices of 100
characters), and discord.py logs an escaping exception together with the user's id: so every
function here is wrapped by `safe_autocomplete` and answers [] rather than fail.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.adapters.discord.context import request_context
from bot.adapters.discord.render import clip
from bot.core.cards import Choice
from bot.core.errors import HavenError
from bot.core.failures import log_failure
from bot.core.models import GLOBAL_REGION, ItemKind, LibraryItem, SupportMessage
from bot.core.permissions import moderator_community
from bot.core.scheduling.timezones import suggest_timezones

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

CHOICES_MAX = 25
# The longest text worth matching while someone types (Discord's own choice limit).
TYPED_MAX = 100

AppChoices = list[app_commands.Choice[str]]
AutocompleteFn = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, AppChoices]]


def services_of(interaction: discord.Interaction) -> Services:
    return cast("Services", interaction.client.services)  # type: ignore[attr-defined]


def to_app_choices(choices: list[Choice]) -> AppChoices:
    return [
        app_commands.Choice(name=clip(c.label or c.value, 100), value=c.value[:100])
        for c in choices[:CHOICES_MAX]
        if c.value
    ]


def safe_autocomplete(what: str) -> Callable[[AutocompleteFn], AutocompleteFn]:
    def decorate(fn: AutocompleteFn) -> AutocompleteFn:
        # functools.wraps keeps the signature and qualname that discord.py inspects.
        @functools.wraps(fn)
        async def wrapper(interaction: discord.Interaction[Any], current: str) -> AppChoices:
            if len(current) > TYPED_MAX:
                # Nothing this long names a topic, region, zone or key; matching it would only
                # hold up the event loop, and everyone else's /support with it.
                return []
            try:
                return (await fn(interaction, current))[:CHOICES_MAX]
            except Exception as error:
                log_failure(log, f"Autocomplete for {what} (offering no choices)", error)
                return []

        return wrapper

    return decorate


def _split_list(current: str) -> tuple[list[str], str]:
    """ "a, b, c" -> (["a", "b"], "c"): the items already chosen and the one being typed."""
    parts = [p.strip() for p in current.split(",")]
    return [p for p in parts[:-1] if p], parts[-1] if parts else ""


def _complete_list(done: list[str], choices: list[Choice]) -> AppChoices:
    prefix = ", ".join(done)
    out: AppChoices = []
    for choice in choices:
        if choice.value in done:
            continue
        value = f"{prefix}, {choice.value}" if prefix else choice.value
        if len(value) > 100:
            continue
        out.append(app_commands.Choice(name=clip(value, 100), value=value))
    return out[:CHOICES_MAX]


@safe_autocomplete("topic")
async def topic(interaction: discord.Interaction, current: str) -> AppChoices:
    ctx = request_context(interaction)
    support = services_of(interaction).support
    return to_app_choices(support.topic_choices(ctx.community_id, current, ctx.locale))


@safe_autocomplete("topics")
async def topics(interaction: discord.Interaction, current: str) -> AppChoices:
    done, typing = _split_list(current)
    community_id = request_context(interaction).community_id
    choices = services_of(interaction).support.topic_choices(community_id, typing)
    return _complete_list(done, choices)


@safe_autocomplete("region")
async def region(interaction: discord.Interaction, current: str) -> AppChoices:
    ctx = request_context(interaction)
    support = services_of(interaction).support
    return to_app_choices(support.region_choices(current, ctx.community_id, ctx.locale))


@safe_autocomplete("regions")
async def regions(interaction: discord.Interaction, current: str) -> AppChoices:
    done, typing = _split_list(current)
    community_id = request_context(interaction).community_id
    choices = services_of(interaction).support.region_choices(typing, community_id)
    if GLOBAL_REGION.startswith(typing.lower()):
        choices = [Choice("global (everywhere)", GLOBAL_REGION), *choices]
    return _complete_list(done, choices)


@safe_autocomplete("timezone")
async def timezone(interaction: discord.Interaction, current: str) -> AppChoices:
    names = suggest_timezones(current, CHOICES_MAX)
    return [app_commands.Choice(name=n, value=n) for n in names]


def _preview(text: str) -> str:
    return " ".join(text.split())


def item_key(kind: ItemKind) -> AutocompleteFn:
    """Keys of the library's messages or resources, offered to moderators only (the core's
    gate decides who that is), matched on the key and on the text or title."""

    @safe_autocomplete(f"{kind.value} key")
    async def complete(interaction: discord.Interaction, current: str) -> AppChoices:
        services = services_of(interaction)
        ctx = request_context(interaction)
        try:
            await moderator_community(services.communities, ctx)
        except HavenError:
            return []
        library = await services.support.library(ctx.community_id)
        items: tuple[LibraryItem, ...] = (
            library.messages if kind is ItemKind.MESSAGE else library.resources
        )
        wanted = current.strip().lower()
        out: AppChoices = []
        for item in items:
            shown = item.text if isinstance(item, SupportMessage) else item.title
            if wanted and wanted not in item.key.lower() and wanted not in shown.lower():
                continue
            label = clip(f"{item.key} — {_preview(shown)}", 100)
            out.append(app_commands.Choice(name=label, value=item.key[:100]))
        return out[:CHOICES_MAX]

    return complete
