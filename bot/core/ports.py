"""Protocols the core needs from the outside world: storage, clock, publishers.

Implementations live in `bot/storage` (SQLite) and `bot/adapters`; tests may pass their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.core.models import (
    AuditEntry,
    Community,
    EmergencyNumber,
    ItemKind,
    Resource,
    SupportMessage,
    Topic,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    """An audit entry to write in the same transaction as the change it records."""

    actor_id: str
    actor_name: str
    action: str
    item_kind: ItemKind
    item_key: str
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None
    # The id of the audit entry this change reverts (undo); marked undone in the same transaction.
    undoes: int | None = None


@dataclass(frozen=True, slots=True)
class Library:
    """Everything `/support` needs for one community, loaded at once and cached in memory."""

    topics: tuple[Topic, ...]
    messages: tuple[SupportMessage, ...]
    resources: tuple[Resource, ...]
    emergency_numbers: tuple[EmergencyNumber, ...]


@dataclass(frozen=True, slots=True)
class LibraryChanges:
    """A whole-library change (a pack import) applied in one transaction."""

    topics: tuple[Topic, ...] = ()
    upsert_messages: tuple[SupportMessage, ...] = ()
    upsert_resources: tuple[Resource, ...] = ()
    emergency_numbers: tuple[EmergencyNumber, ...] = ()


class CommunityRepository(Protocol):
    async def get(self, community_id: str) -> Community | None: ...

    async def create_if_missing(
        self, community: Community, seed: LibraryChanges | None = None
    ) -> bool:
        """Insert the community with its starting library in one transaction; True if it was
        new, False if it already existed (then nothing is written)."""
        ...

    async def save(
        self, before: Community, after: Community, audit: NewAuditEntry | None
    ) -> Community:
        """Write `after` if the stored version is still `before.version`, else raise Conflict.
        Returns the stored community with its new version."""
        ...

    async def list_removed_since(self, cutoff: datetime) -> Sequence[str]:
        """Ids of communities removed before `cutoff` (due for purging)."""
        ...

    async def mark_removed(self, community_id: str, at: datetime, reason: str) -> None: ...

    async def mark_active(self, community_id: str) -> None: ...

    async def purge(self, community_id: str) -> None:
        """Delete every row that belongs to the community."""
        ...


class ContentRepository(Protocol):
    async def load_library(self, community_id: str) -> Library: ...

    async def get_message(self, community_id: str, key: str) -> SupportMessage | None: ...

    async def get_resource(self, community_id: str, key: str) -> Resource | None: ...

    async def write_message(
        self,
        community_id: str,
        before: SupportMessage | None,
        after: SupportMessage | None,
        audit: NewAuditEntry,
    ) -> None:
        """Insert (`before` None), update or delete (`after` None) in one transaction with the
        audit entry. Raises Conflict if the stored row is not `before` (by version), or if
        inserting a key that exists."""
        ...

    async def write_resource(
        self,
        community_id: str,
        before: Resource | None,
        after: Resource | None,
        audit: NewAuditEntry,
    ) -> None: ...

    async def apply_library_changes(
        self, community_id: str, changes: LibraryChanges, audit: NewAuditEntry | None
    ) -> None:
        """Upsert a whole pack in one transaction (idempotent by key)."""
        ...

    async def history(
        self, community_id: str, kind: ItemKind, key: str | None, limit: int
    ) -> Sequence[AuditEntry]:
        """Newest first. `key` None: every item of that kind."""
        ...

    async def mark_undone(self, audit_id: int) -> None: ...


class StateRepository(Protocol):
    """Aggregate counters and rotation cursors: nothing here identifies a person."""

    async def load_rotation(self) -> Mapping[tuple[str, str], Sequence[str]]:
        """(community_id, topic) -> keys already shown in the current round."""
        ...

    async def save_rotation(self, state: Mapping[tuple[str, str], Sequence[str]]) -> None: ...

    async def add_usage(self, counts: Mapping[tuple[str, str, date], int]) -> None:
        """Add to the per (community, topic, day) counters."""
        ...

    async def usage(self, community_id: str) -> Mapping[tuple[str, date], int]: ...
