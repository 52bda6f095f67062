"""Reading channel, role and user references as each platform writes them in text."""

from __future__ import annotations

import re

from bot.core.errors import ValidationFailed
from bot.core.textgrammar import split_list

# Discord <#123>, Slack (escaped) <#C123|name> or <#C123>.
_CHANNEL = re.compile(r"^<#([A-Za-z0-9]+)(?:\|([^>]*))?>$")
_ROLE = re.compile(r"^<@&(\d+)>$")
_SLACK_GROUP = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$")
_USER = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$")
_PLAIN_ID = re.compile(r"^[A-Za-z0-9]+$")
_CHANNEL_NAME = re.compile(r"^#([a-z0-9][a-z0-9_-]{0,79})$")


def parse_channel_ref(value: str) -> tuple[str, str]:
    """(channel id, label for display). Accepts a mention, a bare id, or `#name` (console)."""
    text = value.strip()
    match = _CHANNEL.match(text)
    if match:
        channel_id = match.group(1)
        return channel_id, f"#{match.group(2)}" if match.group(2) else f"<#{channel_id}>"
    match = _CHANNEL_NAME.match(text)
    if match:
        return match.group(1), text
    if _PLAIN_ID.match(text):
        return text, text
    raise ValidationFailed(
        [f"channel: '{value}' is not a channel I can read."],
        "Mention the channel (#welcome) or paste its id.",
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
