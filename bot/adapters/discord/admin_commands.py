"""`/support-admin` slash commands built from the core's verb tables, with nothing of their own.

Each verb becomes a subcommand whose options are the verb's: text as `Range[str, 1, limit]` with
the core's length limit, numbers as `Range[int, ...]`, yes/no as a boolean, choices as Discord
choices, a channel as Discord's channel picker, a file as an attachment, and the autocomplete the
option declares. A verb added to a table appears here with no edit to this module.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Optional

import discord
from discord import app_commands

from bot.adapters.discord import autocomplete
from bot.adapters.discord.forms import can_show_form
from bot.core.commands.verbs import DESCRIPTION_MAX, Completion, Option, OptionKind, Verb, VerbTable
from bot.core.models import ItemKind

# Discord takes at most 6000 characters in one string option.
STRING_OPTION_MAX = 6000
RunVerb = Callable[[discord.Interaction, str, str, dict[str, Any]], Coroutine[Any, Any, None]]

_AUTOCOMPLETE: Mapping[Completion, autocomplete.AutocompleteFn] = {
    Completion.TOPIC: autocomplete.topic,
    Completion.TOPICS: autocomplete.topics,
    Completion.REGION: autocomplete.region,
    Completion.REGIONS: autocomplete.regions,
    Completion.TIMEZONE: autocomplete.timezone,
    Completion.MESSAGE_KEY: autocomplete.item_key(ItemKind.MESSAGE),
    Completion.RESOURCE_KEY: autocomplete.item_key(ItemKind.RESOURCE),
}


def _annotation(option: Option) -> Any:
    if option.kind is OptionKind.NUMBER:
        return app_commands.Range[int, option.min_value, option.max_value]
    if option.kind is OptionKind.YES_NO:
        return bool
    if option.kind is OptionKind.CHANNEL:
        return discord.TextChannel | discord.Thread
    if option.kind is OptionKind.FILE:
        return discord.Attachment
    return app_commands.Range[str, 1, min(option.max_length, STRING_OPTION_MAX)]


def discord_options(verb: Verb) -> tuple[Option, ...]:
    """The verb's options a slash command offers: not hidden ones, not where to save a file
    (Discord sends the file itself), and not the pasted text a file option stands for."""
    files = any(option.kind is OptionKind.FILE for option in verb.options)
    return tuple(
        option
        for option in verb.shown_options
        if option.kind is not OptionKind.SAVE_AS and not (files and option.name == "content")
    )


def slash_required(verb: Verb, option: Option) -> bool:
    """Required on Discord unless a form Discord can show asks for it instead."""
    covered = verb.form is not None and can_show_form(verb) and option.name in verb.form.fields
    return option.required and not covered


def build_command(group: str, verb: Verb, run: RunVerb) -> app_commands.Command[Any, ..., None]:
    options = discord_options(verb)
    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    # Required options first: Discord lists them so, and discord.py sorts them so anyway.
    for option in sorted(options, key=lambda o: not slash_required(verb, o)):
        required = slash_required(verb, option)
        annotation = _annotation(option)
        parameters.append(
            inspect.Parameter(
                _python_name(option.name),
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation if required else Optional[annotation],  # noqa: UP045
                default=inspect.Parameter.empty if required else None,
            )
        )

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        given = {name: values.get(_python_name(name)) for name in (o.name for o in options)}
        await run(interaction, group, verb.name, given)

    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = f"{group}_{verb.name}".replace("-", "_")
    callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
        _python_name(o.name): o.description[:DESCRIPTION_MAX] for o in options
    }
    callback.__discord_app_commands_param_rename__ = {  # type: ignore[attr-defined]
        _python_name(o.name): o.name for o in options if _python_name(o.name) != o.name
    }
    callback.__discord_app_commands_param_autocomplete__ = {  # type: ignore[attr-defined]
        _python_name(o.name): _AUTOCOMPLETE[o.completion]
        for o in options
        if o.completion in _AUTOCOMPLETE and not o.choices
    }
    callback.__discord_app_commands_param_choices__ = {  # type: ignore[attr-defined]
        _python_name(o.name): [app_commands.Choice(name=c, value=c) for c in o.choices]
        for o in options
        if o.choices
    }
    return app_commands.Command(
        name=verb.name, description=verb.summary[:DESCRIPTION_MAX], callback=callback
    )


def build_group(table: VerbTable, run: RunVerb) -> app_commands.Group:
    group = app_commands.Group(name=table.name, description=table.description[:DESCRIPTION_MAX])
    for verb in table.shown_verbs:
        group.add_command(build_command(table.name, verb, run))
    return group


def _python_name(option: str) -> str:
    return option.replace("-", "_")
