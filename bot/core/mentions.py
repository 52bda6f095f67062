"""Reading channel, role and user references as each platform writes them in text."""

from __future__ import annotations

import re

from bot.core.commands.grammar import split_list
from bot.core.errors import ValidationFailed
from bot.core.models import Platform
from bot.core.ports import MemberRef

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


# ---- roles and people -----------------------------------------------------------------

_CLEARING = ("none", "-", "")
_DISCORD_ROLE_MENTION = re.compile(r"^<@&(\d{5,25})>$")
_DISCORD_USER_MENTION = re.compile(r"^<@!?(\d{5,25})>$")
_SLACK_GROUP_MENTION = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,30})(?:\|[^>]*)?>$")
_SLACK_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,30}$")
_SLACK_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
# What would make everybody a moderator, as each platform writes it.
_EVERYONE = re.compile(
    r"^(?:@?(?:everyone|here|channel)|<!(?:everyone|here|channel)(?:\|[^>]*)?>)$"
)
REF_MAX = 100


def is_clearing(value: str) -> bool:
    return value.strip().lower() in _CLEARING


def split_refs(value: str, platform: Platform) -> list[str]:
    """The roles or people in one option, as typed. Commas separate when there are any.
    Otherwise spaces do, except that on Discord and Slack (where a role may be called
    "Peer Helpers") a word that is not a mention, an id or an @name continues the name
    before it. The console's names are single words."""
    if "," in value:
        return [part.strip() for part in value.split(",") if part.strip()]
    if platform is Platform.CONSOLE:
        return split_list(value)
    parts: list[str] = []
    for word in value.split():
        complete = parts and _starts_a_ref(parts[-1], platform, whole=True)
        if parts and not complete and not _starts_a_ref(word, platform):
            parts[-1] += " " + word
        else:
            parts.append(word)
    return parts


def _starts_a_ref(word: str, platform: Platform, *, whole: bool = False) -> bool:
    """A mention or an id (and, for a word that starts a new ref, an @name)."""
    if word.startswith("<"):
        return True
    if platform is Platform.DISCORD and _DISCORD_ID.match(word):
        return True
    if platform is Platform.SLACK and (_SLACK_USER_ID.match(word) or _SLACK_GROUP_ID.match(word)):
        return True
    return not whole and word.startswith("@")


def read_refs(value: str, platform: Platform, what: str) -> tuple[list[MemberRef], list[str]]:
    """The `roles` or `users` of a moderator setting read as `MemberRef`s, and a problem
    sentence for each part that cannot be a role or person at all (looking them up is the
    directory's job). `none` clears: no refs, no problems."""
    refs: list[MemberRef] = []
    problems: list[str] = []
    if is_clearing(value):
        return refs, problems
    for part in split_refs(value, platform):
        shown = part if len(part) <= 80 else part[:80] + "…"
        if len(part) > REF_MAX:
            problems.append(f"{what}: '{shown}' is longer than any name ({REF_MAX} characters).")
        elif what == "roles" and _EVERYONE.match(part):
            problems.append(
                f"roles: '{shown}' means everybody here; name the role moderators hold instead."
            )
        else:
            ref = _read_ref(part, platform, what)
            if ref is None:
                problems.append(_unreadable(shown, platform, what))
            else:
                refs.append(ref)
    return refs, problems


def _read_ref(part: str, platform: Platform, what: str) -> MemberRef | None:
    if platform is Platform.CONSOLE:
        if "<" in part or ">" in part:
            return None
        name = part.lstrip("@").strip().lower()
        return MemberRef(part, name=name) if name else None
    if platform is Platform.DISCORD:
        mention = _DISCORD_ROLE_MENTION if what == "roles" else _DISCORD_USER_MENTION
        plain_id = _DISCORD_ID
    else:
        mention = _SLACK_GROUP_MENTION if what == "roles" else _SLACK_USER_MENTION
        plain_id = _SLACK_GROUP_ID if what == "roles" else _SLACK_USER_ID
    found = mention.match(part)
    if found:
        return MemberRef(part, id=found.group(1))
    if plain_id.match(part):
        # A bare id may also be a role's name (a role called 2024): the directory tries both.
        return MemberRef(part, id=part, name=part if what == "roles" else None)
    if part.startswith("<"):
        return None  # another kind of mention (a channel, or the other platform's)
    name = part.lstrip("@").strip()
    return MemberRef(part, name=name) if name else None


def _unreadable(shown: str, platform: Platform, what: str) -> str:
    if platform is Platform.CONSOLE:
        example = "helpers" if what == "roles" else "alex"
        return f"{what}: '{shown}' is not a name; on the console it is a plain name like {example}."
    kind = {
        ("roles", Platform.DISCORD): "a role",
        ("roles", Platform.SLACK): "a user group",
    }.get((what, platform), "a person")
    return f"{what}: '{shown}' is not {kind} I can read."
