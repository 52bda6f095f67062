"""Repositories for communities, content, audit, aggregate state and meta, on either engine.

Each statement is written once and runs on SQLite and PostgreSQL (bot/storage/database.py).
This module and schedule_store.py hold most of Haven's SQL. Every write runs inside one
`Database.write()` transaction together with its audit entry, so a change and its record of who
made it are committed together or not at all. A write to a community's library or settings runs
in `community_write` (bot/storage/changes.py), which announces it to every other process.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from bot.core.content.records import (
    contact_from_dict,
    contact_to_dict,
    item_from_dict,
    same_content,
)
from bot.core.errors import AlreadyExists, Conflict, NotFound
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
    ItemLayer,
    ItemWrite,
    Library,
    LibraryChanges,
    NewAuditEntry,
    Refusal,
    Review,
)
from bot.storage.changes import announce, community_write
from bot.storage.database import Row, SqlDatabase, Tx
from bot.storage.tables import SHIPPED_LAYER


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
ITEM_TABLES: dict[
    ItemKind, tuple[str, Callable[[Row], LibraryItem], str, Callable[[str, Any], tuple[Any, ...]]]
] = {
    ItemKind.MESSAGE: ("messages", _message_from_row, _UPSERT_MESSAGE, _message_params),
    ItemKind.RESOURCE: ("resources", _resource_from_row, _UPSERT_RESOURCE, _resource_params),
}

_CHANGED_BY_SOMEONE_ELSE = Conflict(
    "This item was changed by someone else since you opened it; nothing was overwritten.",
    "Open it again (show or edit) to see the current version, then make your change.",
)


Fetch = Callable[[str, tuple[Any, ...]], Awaitable[Sequence[Row]]]


def _tx_fetch(conn: Tx) -> Fetch:
    async def fetch(sql: str, params: tuple[Any, ...]) -> Sequence[Row]:
        return list(await conn.execute_fetchall(sql, params))

    return fetch


def seen_through(
    shipped: LibraryItem, state: str | None, version: int | None, confirmed_on: str | None = None
) -> LibraryItem:
    """A shipped item as a community sees it without an own copy: hidden or not, confirmed
    by its moderators or not, at the community's own version once it has a layer row."""
    item = replace(shipped, version=version or shipped.version)
    if confirmed_on and isinstance(item, Resource):
        item = replace(item, needs_review=False, last_verified=date.fromisoformat(confirmed_on))
    if state == "hidden":
        item = replace(item, enabled=False)
    return item


def _inherits(after: LibraryItem, shipped: LibraryItem) -> tuple[str, str | None] | None:
    """(state, confirmed_on) when `after` is the shipped item, perhaps switched off or
    confirmed (a resource no longer needing review, verified on a date); None when it is an
    edit and needs an own copy."""
    core = replace(after, enabled=shipped.enabled)
    confirmed_on: str | None = None
    if isinstance(core, Resource) and isinstance(shipped, Resource):
        confirmed = (core.needs_review, core.last_verified) != (
            shipped.needs_review,
            shipped.last_verified,
        )
        if confirmed and (core.needs_review or core.last_verified is None):
            return None  # not a confirmation: an edit of its review state
        confirmed_on = core.last_verified.isoformat() if confirmed and core.last_verified else None
        core = replace(core, needs_review=shipped.needs_review, last_verified=shipped.last_verified)
    if not same_content(core, shipped):
        return None
    hidden = shipped.enabled and not after.enabled
    return ("hidden" if hidden else "inherited"), confirmed_on


@dataclass(frozen=True, slots=True)
class _Layered:
    """One item of one community on both layers."""

    own: LibraryItem | None
    shipped: LibraryItem | None
    state: str | None
    version: int | None
    based_on: int | None
    confirmed_on: str | None

    @property
    def effective(self) -> LibraryItem | None:
        if self.own is not None:
            return self.own
        if self.shipped is None:
            return None
        return seen_through(self.shipped, self.state, self.version, self.confirmed_on)

    @property
    def layer(self) -> ItemLayer:
        return _layer_of(self.own is not None, self.shipped is not None, self.state)


def _layer_of(has_own: bool, has_shipped: bool, state: str | None) -> ItemLayer:
    """Which layer an item is read from: the one rule for one item and for a whole list."""
    if has_own:
        return ItemLayer.EDITED if has_shipped else ItemLayer.OWN
    if not has_shipped:
        return ItemLayer.NONE
    return ItemLayer.HIDDEN if state == "hidden" else ItemLayer.INHERITED


async def _layered(
    fetch: Fetch, community_id: str, kind: ItemKind, key: str, lock: str = ""
) -> _Layered:
    table, from_row, _, _ = ITEM_TABLES[kind]
    own = await fetch(
        f"SELECT * FROM {table} WHERE community_id = ? AND key = ?{lock}", (community_id, key)
    )
    shipped = await fetch(
        f"SELECT * FROM shipped_{table} WHERE community_id = ? AND key = ?", (SHIPPED_LAYER, key)
    )
    layer = await fetch(
        f"SELECT state, version, based_on, confirmed_on FROM library_layer"
        f" WHERE community_id = ?"
        f" AND item_kind = ? AND key = ?{lock}",
        (community_id, kind.value, key),
    )
    row = layer[0] if layer else None
    return _Layered(
        own=from_row(own[0]) if own else None,
        shipped=from_row(shipped[0]) if shipped else None,
        state=row["state"] if row else None,
        version=row["version"] if row else None,
        based_on=row["based_on"] if row else None,
        confirmed_on=row["confirmed_on"] if row else None,
    )


_SET_LAYER = (
    "INSERT INTO library_layer (community_id, item_kind, key, state, version, based_on,"
    " confirmed_on) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (community_id, item_kind, key) DO UPDATE SET state = excluded.state,"
    " version = excluded.version, based_on = excluded.based_on,"
    " confirmed_on = excluded.confirmed_on"
)


async def _write_layered(conn: Tx, community_id: str, write: ItemWrite, lock: str) -> None:
    """One item write on the community's own layer. The rule, in one place: the write must
    start from the version the community sees; an item equal to the shipped one (whatever its
    version) keeps no copy ('inherited', or 'hidden' when only switched off); anything else
    of a shipped item is an own copy ('edited', remembering the shipped version it was based
    on); an item Haven does not ship is simply the community's own."""
    table, _, upsert, params = ITEM_TABLES[write.kind]
    state = await _layered(_tx_fetch(conn), community_id, write.kind, write.key, lock)
    current = state.effective
    expected = write.before.version if write.before else None
    if expected is None and current is not None:
        raise AlreadyExists(f"'{write.key}' is already in the library.")
    if expected is not None and (current.version if current else None) != expected:
        raise _CHANGED_BY_SOMEONE_ELSE
    after, shipped = write.after, state.shipped
    where = (community_id, write.key)
    own_copy = False
    inherits = _inherits(after, shipped) if after is not None and shipped is not None else None
    if after is None or shipped is None:
        layer: tuple[str, int, int | None, str | None] | None = None
        own_copy = after is not None
    elif inherits is not None:
        layer = (inherits[0], after.version, shipped.version, inherits[1])
    else:
        based_on = state.based_on if state.state == "edited" else shipped.version
        layer = ("edited", after.version, based_on, None)
        own_copy = True
    if own_copy and after is not None:
        await conn.execute(upsert, params(community_id, after))
    else:
        await conn.execute(f"DELETE FROM {table} WHERE community_id = ? AND key = ?", where)
    if layer is None:
        await conn.execute(
            "DELETE FROM library_layer WHERE community_id = ? AND item_kind = ? AND key = ?",
            (community_id, write.kind.value, write.key),
        )
    else:
        await conn.execute(_SET_LAYER, (community_id, write.kind.value, write.key, *layer))


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


def _topic(row: Row) -> Topic:
    return Topic(row["slug"], row["label"], row["description"])


def _number(row: Row) -> EmergencyNumber:
    return EmergencyNumber(row["region"], row["number"], bool(row["needs_review"]))


class SqlContentRepository:
    """A community's library: the shipped layer seen through its own (merged here, the one
    place that knows there are two)."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def _rows(self, table: str, community_id: str, order: str) -> Sequence[Row]:
        return await self._db.fetch_all(
            f"SELECT * FROM {table} WHERE community_id = ? ORDER BY {order}", (community_id,)
        )

    async def _items(
        self, kind: ItemKind, community_id: str, layer: Mapping[tuple[str, str], Row]
    ) -> tuple[LibraryItem, ...]:
        table, from_row, _, _ = ITEM_TABLES[kind]
        merged: dict[str, LibraryItem] = {}
        for row in await self._rows(f"shipped_{table}", SHIPPED_LAYER, "key"):
            own = layer.get((kind.value, row["key"]))
            merged[row["key"]] = seen_through(
                from_row(row),
                own["state"] if own else None,
                own["version"] if own else None,
                own["confirmed_on"] if own else None,
            )
        for row in await self._rows(table, community_id, "key"):
            merged[row["key"]] = from_row(row)
        return tuple(merged[key] for key in sorted(merged))

    async def load_library(self, community_id: str) -> Library:
        layer = {
            (row["item_kind"], row["key"]): row
            for row in await self._rows("library_layer", community_id, "key")
        }
        topics = {t.slug: t for t in map(_topic, await self._shipped_rows("topics"))}
        topics.update(
            (t.slug, t)
            for t in map(_topic, await self._rows("topics", community_id, "position, slug"))
        )
        numbers = {n.region: n for n in map(_number, await self._shipped_rows("emergency_numbers"))}
        numbers.update(
            (n.region, n)
            for n in map(_number, await self._rows("emergency_numbers", community_id, "region"))
        )
        messages = await self._items(ItemKind.MESSAGE, community_id, layer)
        resources = await self._items(ItemKind.RESOURCE, community_id, layer)
        return Library(
            topics=tuple(topics.values()),
            messages=tuple(m for m in messages if isinstance(m, SupportMessage)),
            resources=tuple(r for r in resources if isinstance(r, Resource)),
            emergency_numbers=tuple(numbers.values()),
        )

    async def _shipped_rows(self, table: str) -> Sequence[Row]:
        order = "position, slug" if table == "topics" else "region"
        return await self._rows(f"shipped_{table}", SHIPPED_LAYER, order)

    async def own_library(self, community_id: str) -> Library:
        """The own layer, with the shipped topics its items use: so the file passes `pack
        check` and imports on its own (an import stores only topics that differ)."""
        messages = tuple(map(_message_from_row, await self._rows("messages", community_id, "key")))
        resources = tuple(
            map(_resource_from_row, await self._rows("resources", community_id, "key"))
        )
        own_topics = list(map(_topic, await self._rows("topics", community_id, "position, slug")))
        items: tuple[LibraryItem, ...] = (*messages, *resources)
        used = {slug for item in items for slug in item.topics}
        used -= {t.slug for t in own_topics}
        shipped_topics = map(_topic, await self._shipped_rows("topics"))
        return Library(
            topics=(*(t for t in shipped_topics if t.slug in used), *own_topics),
            messages=messages,
            resources=resources,
            emergency_numbers=tuple(
                map(_number, await self._rows("emergency_numbers", community_id, "region"))
            ),
        )

    async def get_item(self, community_id: str, kind: ItemKind, key: str) -> LibraryItem | None:
        return (await _layered(self._db.fetch_all, community_id, kind, key)).effective

    async def item_layer(self, community_id: str, kind: ItemKind, key: str) -> ItemLayer:
        return (await _layered(self._db.fetch_all, community_id, kind, key)).layer

    async def item_layers(self, community_id: str, kind: ItemKind) -> dict[str, ItemLayer]:
        table = ITEM_TABLES[kind][0]
        own = await self._db.fetch_all(
            f"SELECT key FROM {table} WHERE community_id = ?", (community_id,)
        )
        shipped = await self._db.fetch_all(
            f"SELECT key FROM shipped_{table} WHERE community_id = ?", (SHIPPED_LAYER,)
        )
        states = await self._db.fetch_all(
            "SELECT key, state FROM library_layer WHERE community_id = ? AND item_kind = ?",
            (community_id, kind.value),
        )
        own_keys = {row["key"] for row in own}
        shipped_keys = {row["key"] for row in shipped}
        state = {row["key"]: row["state"] for row in states}
        return {
            key: _layer_of(key in own_keys, key in shipped_keys, state.get(key))
            for key in own_keys | shipped_keys
        }

    async def shipped_item(self, kind: ItemKind, key: str) -> LibraryItem | None:
        return (await _layered(self._db.fetch_all, SHIPPED_LAYER, kind, key)).shipped

    async def write_items(
        self,
        community_id: str,
        writes: Sequence[ItemWrite],
        library: LibraryChanges | None = None,
        audit: NewAuditEntry | None = None,
    ) -> None:
        """Each write checks nobody changed its item since `before` was read, then writes it
        on the own layer with its audit entry; all of them in one transaction."""
        async with community_write(self._db, community_id) as conn:
            if library is not None:
                await _apply_library_changes(conn, community_id, library)
            if audit is not None:
                await insert_audit(conn, community_id, audit)
            for write in writes:
                await _write_layered(conn, community_id, write, self._db.for_update)
                await insert_audit(conn, community_id, write.audit)

    async def reviews(self, community_id: str) -> Sequence[Review]:
        rows = await self._rows("layer_reviews", community_id, "item_kind, key")
        found: list[Review] = []
        for row in rows:
            kind = ItemKind(row["item_kind"])
            own = await _layered(self._db.fetch_all, community_id, kind, row["key"])
            after = row["after_json"]
            found.append(
                Review(
                    kind=kind,
                    key=row["key"],
                    release=row["release"],
                    before=item_from_dict(kind, json.loads(row["before_json"])),
                    after=item_from_dict(kind, json.loads(after)) if after else None,
                    own=own.own,
                )
            )
        return found

    async def resolve_review(
        self,
        community_id: str,
        kind: ItemKind,
        key: str,
        write: ItemWrite | None,
        audit: NewAuditEntry,
    ) -> None:
        async with community_write(self._db, community_id) as conn:
            closed = await conn.execute(
                "DELETE FROM layer_reviews WHERE community_id = ? AND item_kind = ? AND key = ?",
                (community_id, kind.value, key),
            )
            if closed.rowcount != 1:
                raise NotFound(
                    f"There is no update to review for {kind.value} '{key}'.",
                    f"`/support-admin {kind.value} updates` lists what is waiting.",
                )
            if write is not None:
                await _write_layered(conn, community_id, write, self._db.for_update)
            # Kept: the copy now answers to the current shipped version, not the old one.
            await conn.execute(
                "UPDATE library_layer SET based_on = (SELECT s.version FROM"
                f" shipped_{ITEM_TABLES[kind][0]} s WHERE s.community_id = ? AND s.key = ?)"
                " WHERE community_id = ? AND item_kind = ? AND key = ? AND state = 'edited'",
                (SHIPPED_LAYER, key, community_id, kind.value, key),
            )
            await insert_audit(conn, community_id, audit)

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
