"""Repositories for communities, content, audit, aggregate state and meta, on either engine.

Each statement is written once and runs on SQLite and PostgreSQL (bot/storage/database.py).
This module and schedule_store.py hold most of Haven's SQL. Every write runs inside one
`Database.write()` transaction together with its audit entry, so a change and its record of who
made it are committed together or not at all. A write to a community's library or settings runs
in `community_write` (bot/storage/changes.py), which announces it to every other process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.core.content.records import contact_from_dict, contact_to_dict
from bot.core.errors import AlreadyExists, Conflict
from bot.core.models import (
    Audience,
    AuditEntry,
    Community,
    CommunityStatus,
    EmergencyNumber,
    ItemKind,
    LibraryItem,
    Platform,
    Resource,
    SupportMessage,
    Topic,
)
from bot.core.ports import (
    REFUSAL_KIND,
    ItemWrite,
    Library,
    LibraryChanges,
    NewAuditEntry,
    Refusal,
)
from bot.storage.changes import announce, community_write
from bot.storage.database import Row, SqlDatabase, Tx


def _utc_now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_or_none(value: Mapping[str, object] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), ensure_ascii=False)


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


async def insert_audit(conn: Tx, community_id: str, entry: NewAuditEntry) -> int:
    """Write an audit entry on an open write transaction (used by every repository)."""
    inserted = await conn.execute(
        "INSERT INTO audit_log (community_id, actor_id, actor_name, action, item_kind, item_key,"
        " before_json, after_json, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            community_id,
            entry.actor_id,
            entry.actor_name,
            entry.action,
            entry.item_kind.value,
            entry.item_key,
            json.dumps(dict(entry.before), ensure_ascii=False)
            if entry.before is not None
            else None,
            json.dumps(dict(entry.after), ensure_ascii=False) if entry.after is not None else None,
            _utc_now_text(),
        ),
    )
    if entry.undoes is not None:
        await conn.execute(
            "UPDATE audit_log SET undone = 1 WHERE id = ? AND community_id = ?",
            (entry.undoes, community_id),
        )
    row = inserted.first()
    return int(row[0]) if row else 0


def _community_from_row(row: Row) -> Community:
    return Community(
        id=row["id"],
        platform=Platform(row["platform"]),
        name=row["name"],
        default_region=row["default_region"],
        default_locale=row["default_locale"],
        timezone=row["timezone"],
        moderator_role_ids=tuple(json.loads(row["moderator_role_ids"])),
        moderator_user_ids=tuple(json.loads(row["moderator_user_ids"])),
        log_channel_id=row["log_channel_id"],
        status=CommunityStatus(row["status"]),
        removed_reason=row["removed_reason"],
        version=row["version"],
    )


class SqlCommunityRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def get(self, community_id: str) -> Community | None:
        row = await self._db.fetch_one("SELECT * FROM communities WHERE id = ?", (community_id,))
        return _community_from_row(row) if row else None

    async def list_all(self) -> list[Community]:
        """Every community, by platform then name (for the operator's `haven communities`)."""
        rows = await self._db.fetch_all("SELECT * FROM communities ORDER BY platform, name, id")
        return [_community_from_row(row) for row in rows]

    async def create_if_missing(
        self, community: Community, seed: LibraryChanges | None = None
    ) -> bool:
        # The community and its starting library are one transaction: never an empty half.
        # Announced only when created: another process that won the race already told.
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO communities (id, platform, name, default_region,"
                " default_locale, timezone) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (
                    community.id,
                    community.platform.value,
                    community.name,
                    community.default_region,
                    community.default_locale,
                    community.timezone,
                ),
            )
            created = cursor.rowcount == 1
            if created and seed is not None:
                await _apply_library_changes(conn, community.id, seed)
            if created:
                await announce(conn, community.id)
            return created

    async def save(
        self, before: Community, after: Community, audit: NewAuditEntry | None
    ) -> Community:
        async with community_write(self._db, before.id) as conn:
            cursor = await conn.execute(
                "UPDATE communities SET name = ?, default_region = ?, default_locale = ?,"
                " timezone = ?, moderator_role_ids = ?, moderator_user_ids = ?,"
                " log_channel_id = ?, version = version + 1 WHERE id = ? AND version = ?",
                (
                    after.name,
                    after.default_region,
                    after.default_locale,
                    after.timezone,
                    _json_list(after.moderator_role_ids),
                    _json_list(after.moderator_user_ids),
                    after.log_channel_id,
                    before.id,
                    before.version,
                ),
            )
            if cursor.rowcount != 1:
                raise Conflict(
                    "These settings were changed by someone else since you opened them.",
                    "Run `settings show` to see the current values, then try again.",
                )
            if audit is not None:
                await insert_audit(conn, before.id, audit)
            rows = await conn.execute_fetchall(
                "SELECT * FROM communities WHERE id = ?", (before.id,)
            )
        return _community_from_row(next(iter(rows)))

    async def list_removed_since(self, cutoff: datetime) -> Sequence[str]:
        rows = await self._db.fetch_all(
            "SELECT id FROM communities WHERE status = 'removed' AND removed_at <= ?",
            (cutoff.astimezone(UTC).isoformat(timespec="seconds"),),
        )
        return [row["id"] for row in rows]

    async def mark_removed(self, community_id: str, at: datetime, reason: str) -> None:
        async with community_write(self._db, community_id) as conn:
            await conn.execute(
                "UPDATE communities SET status = 'removed', removed_at = ?, removed_reason = ?"
                " WHERE id = ?",
                (at.astimezone(UTC).isoformat(timespec="seconds"), reason, community_id),
            )

    async def mark_active(self, community_id: str) -> None:
        async with community_write(self._db, community_id) as conn:
            await conn.execute(
                "UPDATE communities SET status = 'active', removed_at = NULL,"
                " removed_reason = NULL WHERE id = ?",
                (community_id,),
            )

    async def record_refusal(self, community_id: str, refusal: Refusal, keep: int) -> None:
        # No before or after: a refusal changed nothing, and what was typed is never kept.
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO audit_log (community_id, actor_id, actor_name, action, item_kind,"
                " item_key, at) VALUES (?, ?, ?, 'refused', ?, ?, ?)",
                (
                    community_id,
                    refusal.actor_id,
                    refusal.actor_name,
                    REFUSAL_KIND,
                    refusal.command,
                    refusal.at.astimezone(UTC).isoformat(timespec="seconds"),
                ),
            )
            await conn.execute(
                "DELETE FROM audit_log WHERE community_id = ? AND item_kind = ? AND id NOT IN"
                " (SELECT id FROM audit_log WHERE community_id = ? AND item_kind = ?"
                " ORDER BY id DESC LIMIT ?)",
                (community_id, REFUSAL_KIND, community_id, REFUSAL_KIND, keep),
            )

    async def purge(self, community_id: str) -> None:
        # Every other table references communities ON DELETE CASCADE.
        async with community_write(self._db, community_id) as conn:
            await conn.execute("DELETE FROM communities WHERE id = ?", (community_id,))


def _message_from_row(row: Row) -> SupportMessage:
    return SupportMessage(
        key=row["key"],
        text=row["text"],
        topics=tuple(json.loads(row["topics"])),
        locale=row["locale"],
        enabled=bool(row["enabled"]),
        version=row["version"],
        audience=Audience(row["audience"]),
    )


def _resource_from_row(row: Row) -> Resource:
    verified = row["last_verified"]
    return Resource(
        key=row["key"],
        title=row["title"],
        url=row["url"],
        description=row["description"],
        contacts=tuple(contact_from_dict(c) for c in json.loads(row["contacts"])),
        regions=tuple(json.loads(row["regions"])),
        topics=tuple(json.loads(row["topics"])),
        crisis_service=bool(row["crisis_service"]),
        always_open=bool(row["always_open"]),
        hours=row["hours"],
        source_url=row["source_url"],
        last_verified=date.fromisoformat(verified) if verified else None,
        needs_review=bool(row["needs_review"]),
        notes_for_mods=row["notes_for_mods"],
        enabled=bool(row["enabled"]),
        version=row["version"],
        rank=row["rank"],
        audience=Audience(row["audience"]),
        age_min=row["age_min"],
        age_max=row["age_max"],
        opening_hours=row["opening_hours"],
        timezone=row["timezone"],
    )


def _message_params(community_id: str, message: SupportMessage) -> tuple[Any, ...]:
    return (
        community_id,
        message.key,
        message.text,
        _json_list(message.topics),
        message.locale,
        int(message.enabled),
        message.version,
        message.audience.value,
    )


def _resource_params(community_id: str, resource: Resource) -> tuple[Any, ...]:
    return (
        community_id,
        resource.key,
        resource.title,
        resource.url,
        resource.description,
        json.dumps([contact_to_dict(c) for c in resource.contacts], ensure_ascii=False),
        _json_list(resource.regions),
        _json_list(resource.topics),
        int(resource.crisis_service),
        int(resource.always_open),
        resource.hours,
        resource.source_url,
        resource.last_verified.isoformat() if resource.last_verified else None,
        int(resource.needs_review),
        resource.notes_for_mods,
        int(resource.enabled),
        resource.version,
        resource.rank,
        resource.audience.value,
        resource.age_min,
        resource.age_max,
        resource.opening_hours,
        resource.timezone,
    )


_UPSERT_MESSAGE = (
    "INSERT INTO messages (community_id, key, text, topics, locale, enabled, version,"
    " audience)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (community_id, key) DO UPDATE SET text = excluded.text,"
    " topics = excluded.topics, locale = excluded.locale, enabled = excluded.enabled,"
    " version = excluded.version, audience = excluded.audience"
)
_UPSERT_RESOURCE = (
    "INSERT INTO resources (community_id, key, title, url, description, contacts, regions,"
    " topics, crisis_service, always_open, hours, source_url, last_verified, needs_review,"
    " notes_for_mods, enabled, version, rank, audience, age_min, age_max, opening_hours,"
    " timezone)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (community_id, key) DO UPDATE SET title = excluded.title,"
    " url = excluded.url, description = excluded.description, contacts = excluded.contacts,"
    " regions = excluded.regions, topics = excluded.topics,"
    " crisis_service = excluded.crisis_service, always_open = excluded.always_open,"
    " hours = excluded.hours, source_url = excluded.source_url,"
    " last_verified = excluded.last_verified, needs_review = excluded.needs_review,"
    " notes_for_mods = excluded.notes_for_mods,"
    " enabled = excluded.enabled, version = excluded.version, rank = excluded.rank,"
    " audience = excluded.audience, age_min = excluded.age_min, age_max = excluded.age_max,"
    " opening_hours = excluded.opening_hours, timezone = excluded.timezone"
)

# Per item kind: (table, row -> item, upsert statement, item -> upsert parameters).
_ITEM_TABLES: dict[
    ItemKind, tuple[str, Callable[[Row], LibraryItem], str, Callable[[str, Any], tuple[Any, ...]]]
] = {
    ItemKind.MESSAGE: ("messages", _message_from_row, _UPSERT_MESSAGE, _message_params),
    ItemKind.RESOURCE: ("resources", _resource_from_row, _UPSERT_RESOURCE, _resource_params),
}

_CHANGED_BY_SOMEONE_ELSE = Conflict(
    "This item was changed by someone else since you opened it; nothing was overwritten.",
    "Open it again (show or edit) to see the current version, then make your change.",
)


async def _check_version(
    conn: Tx, table: str, community_id: str, key: str, expected: int | None, lock: str
) -> None:
    """Optimistic concurrency: the stored version must be the one the editor started from."""
    rows = list(
        await conn.execute_fetchall(
            f"SELECT version FROM {table} WHERE community_id = ? AND key = ?{lock}",
            (community_id, key),
        )
    )
    stored = rows[0]["version"] if rows else None
    if expected is None and stored is not None:
        raise AlreadyExists(f"'{key}' is already in the library.")
    if expected is not None and stored != expected:
        raise _CHANGED_BY_SOMEONE_ELSE


async def _apply_library_changes(conn: Tx, community_id: str, changes: LibraryChanges) -> None:
    """Upsert a pack's content by key, on an open write transaction."""
    await conn.executemany(
        "INSERT INTO topics (community_id, slug, label, description, position)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, slug) DO UPDATE SET"
        " label = excluded.label, description = excluded.description,"
        " position = excluded.position",
        [(community_id, t.slug, t.label, t.description, i) for i, t in enumerate(changes.topics)],
    )
    await conn.executemany(
        _UPSERT_MESSAGE, [_message_params(community_id, m) for m in changes.upsert_messages]
    )
    await conn.executemany(
        _UPSERT_RESOURCE, [_resource_params(community_id, r) for r in changes.upsert_resources]
    )
    await conn.executemany(
        "INSERT INTO emergency_numbers (community_id, region, number, needs_review)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (community_id, region) DO UPDATE SET"
        " number = excluded.number, needs_review = excluded.needs_review",
        [
            (community_id, n.region, n.number, int(n.needs_review))
            for n in changes.emergency_numbers
        ],
    )


class SqlContentRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def load_library(self, community_id: str) -> Library:
        topics = await self._db.fetch_all(
            "SELECT slug, label, description FROM topics WHERE community_id = ?"
            " ORDER BY position, slug",
            (community_id,),
        )
        messages = await self._db.fetch_all(
            "SELECT * FROM messages WHERE community_id = ? ORDER BY key", (community_id,)
        )
        resources = await self._db.fetch_all(
            "SELECT * FROM resources WHERE community_id = ? ORDER BY key", (community_id,)
        )
        numbers = await self._db.fetch_all(
            "SELECT region, number, needs_review FROM emergency_numbers WHERE community_id = ?",
            (community_id,),
        )
        return Library(
            topics=tuple(Topic(r["slug"], r["label"], r["description"]) for r in topics),
            messages=tuple(_message_from_row(r) for r in messages),
            resources=tuple(_resource_from_row(r) for r in resources),
            emergency_numbers=tuple(
                EmergencyNumber(r["region"], r["number"], bool(r["needs_review"])) for r in numbers
            ),
        )

    async def get_item(self, community_id: str, kind: ItemKind, key: str) -> LibraryItem | None:
        table, from_row, _, _ = _ITEM_TABLES[kind]
        row = await self._db.fetch_one(
            f"SELECT * FROM {table} WHERE community_id = ? AND key = ?", (community_id, key)
        )
        return from_row(row) if row else None

    async def write_items(
        self,
        community_id: str,
        writes: Sequence[ItemWrite],
        library: LibraryChanges | None = None,
        audit: NewAuditEntry | None = None,
    ) -> None:
        """Each write checks nobody changed its item since `before` was read, then inserts,
        changes or deletes it with its audit entry; all of them in one transaction."""
        async with community_write(self._db, community_id) as conn:
            if library is not None:
                await _apply_library_changes(conn, community_id, library)
            if audit is not None:
                await insert_audit(conn, community_id, audit)
            for write in writes:
                table, _, upsert, params = _ITEM_TABLES[write.kind]
                expected = write.before.version if write.before else None
                await _check_version(
                    conn, table, community_id, write.key, expected, self._db.for_update
                )
                if write.after is None:
                    await conn.execute(
                        f"DELETE FROM {table} WHERE community_id = ? AND key = ?",
                        (community_id, write.key),
                    )
                else:
                    await conn.execute(upsert, params(community_id, write.after))
                await insert_audit(conn, community_id, write.audit)

    async def apply_library_changes(
        self, community_id: str, changes: LibraryChanges, audit: NewAuditEntry | None
    ) -> None:
        async with community_write(self._db, community_id) as conn:
            await _apply_library_changes(conn, community_id, changes)
            if audit is not None:
                await insert_audit(conn, community_id, audit)

    async def history(
        self, community_id: str, kind: ItemKind, key: str | None, limit: int
    ) -> Sequence[AuditEntry]:
        if key is None:
            rows = await self._db.fetch_all(
                "SELECT * FROM audit_log WHERE community_id = ? AND item_kind = ?"
                " ORDER BY id DESC LIMIT ?",
                (community_id, kind.value, limit),
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM audit_log WHERE community_id = ? AND item_kind = ?"
                " AND item_key = ? ORDER BY id DESC LIMIT ?",
                (community_id, kind.value, key, limit),
            )
        return [_audit_from_row(row) for row in rows]

    async def mark_undone(self, audit_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE audit_log SET undone = 1 WHERE id = ?", (audit_id,))


def _audit_from_row(row: Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        community_id=row["community_id"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        action=row["action"],
        item_kind=ItemKind(row["item_kind"]),
        item_key=row["item_key"],
        before=json.loads(row["before_json"]) if row["before_json"] else None,
        after=json.loads(row["after_json"]) if row["after_json"] else None,
        at=row["at"],
        undone=bool(row["undone"]),
    )


class SqlStateRepository:
    """Rotation cursors and usage counters: aggregates only, nothing about a person."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def load_rotation(self) -> Mapping[tuple[str, str], Sequence[str]]:
        rows = await self._db.fetch_all(
            "SELECT community_id, topic, shown_keys FROM rotation_state"
        )
        return {(r["community_id"], r["topic"]): json.loads(r["shown_keys"]) for r in rows}

    async def save_rotation(self, state: Mapping[tuple[str, str], Sequence[str]]) -> None:
        if not state:
            return
        async with self._db.write() as conn:
            # A community purged meanwhile has no row to reference: skip it (FK would refuse).
            await conn.executemany(
                "INSERT INTO rotation_state (community_id, topic, shown_keys)"
                " SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT)"
                " WHERE EXISTS (SELECT 1 FROM communities WHERE id = ?)"
                " ON CONFLICT (community_id, topic) DO UPDATE SET shown_keys = excluded.shown_keys",
                [
                    (community, topic, _json_list(keys), community)
                    for (community, topic), keys in state.items()
                ],
            )

    async def add_usage(self, counts: Mapping[tuple[str, str, date], int]) -> None:
        if not counts:
            return
        async with self._db.write() as conn:
            await conn.executemany(
                "INSERT INTO usage_daily (community_id, topic, day, count)"
                " SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER)"
                " WHERE EXISTS (SELECT 1 FROM communities WHERE id = ?)"
                " ON CONFLICT (community_id, topic, day) DO UPDATE SET"
                " count = usage_daily.count + excluded.count",
                [
                    (community, topic, day.isoformat(), n, community)
                    for (community, topic, day), n in counts.items()
                ],
            )

    async def usage(self, community_id: str) -> Mapping[tuple[str, date], int]:
        rows = await self._db.fetch_all(
            "SELECT topic, day, count FROM usage_daily WHERE community_id = ?", (community_id,)
        )
        return {(r["topic"], date.fromisoformat(r["day"])): r["count"] for r in rows}


class SqlMetaRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set(self, key: str, value: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
