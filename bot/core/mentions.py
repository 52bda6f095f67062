"""Reading channel, role and user references as each platform writes them in text."""

from __future__ import annotations

import re

from bot.core.commands.grammar import split_list
from bot.core.errors import ValidationFailed
from bot.core.models import Platform

_ROLE = re.compile(r"^<@&(\d+)>$")
_SLACK_GROUP = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$")
_USER = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$")
_PLAIN_ID = re.compile(r"^[A-Za-z0-9]+$")


_DISCORD_MENTION = re.compile(r"^<#(\d{5,25})>$")
_DISCORD_ID = re.compile(r"^\d{5,25}$")
_SLACK_ESCAPED = re.compile(r"^<#([A-Z0-9]{5,30})(?:\|([^<>|]{0,80}))?>$")
_SLACK_ID = re.compile(r"^[CGD][A-Z0-9]{4,29}$")
_CONSOLE_NAME = re.compile(r"^#?([a-z0-9][a-z0-9_-]{0,79})$")


def parse_channel(text: str, platform: Platform) -> tuple[str, str]:
    """(channel id, label) from `<#123>` (Discord), `<#C123|name>` (Slack, escaped), a bare
    id, or `#name` (console)."""
    value = text.strip()
    example = {
        Platform.DISCORD: "pick the channel from the menu, or give <#123456789012345678>",
        Platform.SLACK: "pick the channel from the menu, or give its id like C0123456789",
        Platform.CONSOLE: "give a name like #welcome",
    }[platform]
    if not value:
        raise ValidationFailed(["channel: is required."], f"Example: {example}.")
    if platform is Platform.DISCORD:
        match = _DISCORD_MENTION.match(value) or _DISCORD_ID.match(value)
        if match:
            channel_id = match.group(1) if match.re is _DISCORD_MENTION else value
            return channel_id, f"<#{channel_id}>"
    elif platform is Platform.SLACK:
        escaped = _SLACK_ESCAPED.match(value)
        if escaped:
            name = escaped.group(2)
            return escaped.group(1), f"#{name}" if name else escaped.group(1)
        if _SLACK_ID.match(value):
            return value, value
    else:
        console = _CONSOLE_NAME.match(value.lower())
        if console:
            return console.group(1), f"#{console.group(1)}"
    raise ValidationFailed(
        [f"channel: '{value[:80]}' is not a channel I can recognise."], f"Please {example}."
    )


def _parse_refs(value: str, patterns: tuple[re.Pattern[str], ...], what: str) -> tuple[str, ...]:
    if value.strip().lower() in ("none", "-", ""):
        return ()
    found: list[str] = []
    for part in split_list(value):
        for pattern in patterns:
            match = pattern.match(part)
            if match:
                found.append(match.group(1))
                break
        else:
            raise ValidationFailed(
                [f"{what}: '{part}' is not a mention or id."],
                f"Mention the {what[:-1]} or paste its id; write none to clear the list.",
            )
    return tuple(dict.fromkeys(found))


def parse_role_refs(value: str) -> tuple[str, ...]:
    """Discord role mentions / ids, or Slack user-group mentions / ids; `none` clears."""
    return _parse_refs(value, (_ROLE, _SLACK_GROUP, _PLAIN_ID), "roles")


def parse_user_refs(value: str) -> tuple[str, ...]:
    return _parse_refs(value, (_USER, _PLAIN_ID), "users")
