"""`haven privacy forget`: a moderator's request that their data be deleted.

Haven keeps no data about people who ask for support (no user id, request text or time is ever
stored), so the only personal data it holds is about moderators: who changed what, for
accountability. When a moderator asks to be forgotten, every reference to them is replaced by
one anonymous marker (`forgotten-1a2b3c4d`):

- audit entries they made keep their place, action, before and after, so the trail keeps its
  shape (undo and history still work), but the actor id and name become the marker, and their
  id or name inside an entry's before/after (a settings change that listed them) does too;
- schedules they created keep running, with the marker as creator and in a pause reason;
- they are removed from every community's moderator users (a marker there would be a
  moderator entry nobody can match);
- the forgetting is audited in each community it touched, as done by the operator, with the
  marker and counts and without the id or name.

The marker is random, one per request, the same for every reference: a hash of the id would let
anyone holding a candidate id recompute it and undo the forgetting. Afterwards the store erases
freed space, so the old values are not left in the database file's unused pages.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import click

from bot.core.models import ItemKind
from bot.core.ports import NewAuditEntry

MARKER_PREFIX = "forgotten-"
OPERATOR_ID = "cli"
OPERATOR_NAME = "haven privacy forget"
FORGET_ACTION = "privacy.forget"
# A name shorter than this is replaced only where it is a whole value: as a word inside text, a
# two-letter name would also match unrelated words.
MIN_NAME_IN_TEXT = 3
# The audit fields whose text can name a moderator ("paused by Alex").
_FIELDS_NAMING_PEOPLE = frozenset({"paused_reason", "reason", "actor_name", "created_by"})


def new_marker() -> str:
    return MARKER_PREFIX + secrets.token_hex(4)


def _word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")


@dataclass(frozen=True, slots=True)
class Forgetting:
    """One person to forget: their platform id, the names they acted under, and the marker that
    replaces both everywhere."""

    user_id: str
    names: tuple[str, ...]
    marker: str

    def __post_init__(self) -> None:
        if not self.user_id.strip():
            raise ValueError("a user id is needed")

    def is_person(self, actor_id: str) -> bool:
        return actor_id == self.user_id

    def _whole(self, value: str) -> bool:
        return value == self.user_id or (bool(value) and value in self.names)

    def text(self, value: str) -> str:
        """Free text (a pause reason, a value inside an audit entry): the id, and each name long
        enough to be told from ordinary words, replaced where they stand as words."""
        if self._whole(value):
            return self.marker
        patterns = [_word(self.user_id)]
        patterns += [_word(name) for name in self.names if len(name) >= MIN_NAME_IN_TEXT]
        for pattern in patterns:
            value = pattern.sub(self.marker, value)
        return value

    def data(self, value: object, key: str | None = None) -> object:
        """An audit entry's before/after (JSON data), at any depth: a value that is the id or
        a name is replaced; inside text only the fields that name people (a pause reason) are
        rewritten. Library text ("Hope is real") is content, not a reference: rewriting it
        would put the marker into answers once someone undoes to it."""
        if isinstance(value, str):
            if key in _FIELDS_NAMING_PEOPLE:
                return self.text(value)
            return self.marker if self._whole(value) else value
        if isinstance(value, list):
            return [self.data(item, key) for item in value]
        if isinstance(value, dict):
            return {name: self.data(item, name) for name, item in value.items()}
        return value

    def without_person(self, ids: Sequence[str]) -> tuple[str, ...]:
        return tuple(value for value in ids if value != self.user_id)


@dataclass(frozen=True, slots=True)
class ForgetCounts:
    """What changed in one community."""

    audit_entries: int = 0
    schedules: int = 0
    moderator_users: int = 0

    @property
    def any(self) -> bool:
        return bool(self.audit_entries or self.schedules or self.moderator_users)


@dataclass(frozen=True, slots=True)
class ForgetReport:
    marker: str
    by_community: Mapping[str, ForgetCounts]
    # False when freed space could not be erased at once (another process was reading).
    erased: bool

    @property
    def changed(self) -> bool:
        return any(counts.any for counts in self.by_community.values())


class PrivacyStore(Protocol):
    """What forgetting needs from storage; bot/storage/privacy_store.py implements it."""

    async def names_of(self, user_id: str) -> tuple[str, ...]:
        """Every name the person's audit entries were recorded under."""
        ...

    async def forget(
        self, forgetting: Forgetting, audit: Callable[[ForgetCounts], NewAuditEntry]
    ) -> dict[str, ForgetCounts]:
        """Replace every reference in one transaction, with `audit(counts)` written in each
        community that changed; the counts per community."""
        ...

    async def erase_freed_space(self) -> bool:
        """Rewrite the file so replaced values do not survive in free pages or the WAL; False
        if that could not complete now."""
        ...


def forget_audit(marker: str) -> Callable[[ForgetCounts], NewAuditEntry]:
    """The audit entry for a forgetting: by the operator, with the marker and what changed."""

    def entry(counts: ForgetCounts) -> NewAuditEntry:
        return NewAuditEntry(
            actor_id=OPERATOR_ID,
            actor_name=OPERATOR_NAME,
            action=FORGET_ACTION,
            item_kind=ItemKind.SETTINGS,
            item_key="privacy",
            before=None,
            after={
                "replaced_with": marker,
                "audit_entries": counts.audit_entries,
                "schedules": counts.schedules,
                "moderator_users": counts.moderator_users,
            },
        )

    return entry


async def forget_person(store: PrivacyStore, user_id: str) -> ForgetReport:
    forgetting = Forgetting(user_id.strip(), await store.names_of(user_id.strip()), new_marker())
    changed = await store.forget(forgetting, forget_audit(forgetting.marker))
    erased = await store.erase_freed_space() if changed else True
    return ForgetReport(forgetting.marker, changed, erased)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def report_lines(report: ForgetReport) -> list[str]:
    if not report.changed:
        return ["Nothing refers to that person in this database: nothing was changed."]
    lines = [f"Replaced every reference to that person with {report.marker}:"]
    for community_id, counts in sorted(report.by_community.items()):
        parts = []
        if counts.audit_entries:
            parts.append(_plural(counts.audit_entries, "audit entry", "audit entries"))
        if counts.schedules:
            parts.append(_plural(counts.schedules, "schedule", "schedules") + " (creator)")
        if counts.moderator_users:
            parts.append("removed from the moderator users")
        lines.append(f"  {community_id}: {', '.join(parts)}")
    lines.append(
        "Each community's audit trail records this forgetting, without the id or name. "
        "Backups made before now still hold them: run this on each backup you keep, or let "
        "them expire."
    )
    if not report.erased:
        lines.append(
            "Another process was reading the database, so the old values may remain in its "
            "free space: stop Haven and run this command again to erase them."
        )
    return lines


@click.group()
def privacy() -> None:
    """Data-protection requests (a moderator asking to be forgotten)."""


@privacy.command("forget")
@click.option("--user", "user_id", required=True, help="The moderator's platform user id.")
def privacy_forget(user_id: str) -> None:
    """Replace every reference to a moderator with an anonymous marker, and say what changed.

    Stop Haven first (so nothing writes the old id back from memory); the command rewrites the
    database file so the id and name do not remain in its free space."""
    # Imported here: bot.cli registers this group, so a top-level import would be circular.
    from bot.cli import _existing_database, _fail, _run, _settings
    from bot.storage.engine import open_database
    from bot.storage.migrate import migrate
    from bot.storage.privacy_store import SqlPrivacyStore

    if not user_id.strip():
        _fail("--user needs the moderator's platform user id (for example 123456789012345678).")
    if user_id.strip() == OPERATOR_ID or user_id.strip().startswith(MARKER_PREFIX):
        # Haven's own operator id and markers are not people; forgetting them would rewrite
        # the record of earlier forgettings.
        _fail(f"'{user_id.strip()}' is Haven's own marker, not a person's id; nothing was changed.")
    settings = _settings()
    # A mistyped HAVEN_DATABASE_URL must not create an empty database and report "nothing
    # refers to that person": the operator would believe the request was handled.
    _existing_database(settings)

    async def work() -> ForgetReport:
        database = await open_database(settings)
        try:
            await migrate(database)
            return await forget_person(SqlPrivacyStore(database), user_id)
        finally:
            await database.close()

    for line in report_lines(_run(work)):
        click.echo(line)
