"""The shipped layer: the default pack of this Haven version, stored once, and what a new
release does to every community (its audit entries, review items and log-channel notice).

`install` runs at start-up in every process; a meta row holding the release decides, inside
one write transaction, which single process replaces the shipped layer (the others find the
release already there and do nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.core.content.records import item_to_dict, same_content
from bot.core.models import ItemKind, LibraryItem, Platform
from bot.core.ports import LibraryChanges, ReleaseNotice, ShippedChange
from bot.storage.changes import announce
from bot.storage.database import SqlDatabase, Tx
from bot.storage.repositories import ITEM_TABLES
from bot.storage.tables import SHIPPED_LAYER

RELEASE_KEY = "shipped_release"
HAVEN_ACTOR = "haven"


def _json(item: LibraryItem | None) -> str | None:
    return None if item is None else json.dumps(item_to_dict(item), ensure_ascii=False)


def _action(change: ShippedChange) -> str:
    if change.before is None:
        return "shipped.add"
    return "shipped.retire" if change.after is None else "shipped.change"


class SqlShippedLayer:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def install(
        self,
        pack: LibraryChanges,
        release: str,
        summarise: Callable[[Sequence[ShippedChange]], str],
    ) -> Sequence[ShippedChange] | None:
        async with self._db.write() as conn:
            # The row exists before it is locked, so a second process waits for the first
            # one's commit and then reads its release (PostgreSQL); SQLite has one writer.
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, '') ON CONFLICT (key) DO NOTHING",
                (RELEASE_KEY,),
            )
            row = await conn.fetch_one(
                f"SELECT value FROM meta WHERE key = ?{self._db.for_update}", (RELEASE_KEY,)
            )
            stored = str(row["value"]) if row else ""
            if stored == release:
                return None
            changes = [
                *await self._replace_items(conn, ItemKind.MESSAGE, pack.upsert_messages),
                *await self._replace_items(conn, ItemKind.RESOURCE, pack.upsert_resources),
            ]
            await self._replace_settings(conn, pack)
            if stored:  # the first release stored changes nothing anyone saw
                await self._spread(conn, release, changes, summarise(changes) if changes else "")
            await conn.execute("UPDATE meta SET value = ? WHERE key = ?", (release, RELEASE_KEY))
            return changes

    async def _replace_items(
        self, conn: Tx, kind: ItemKind, items: Sequence[LibraryItem]
    ) -> list[ShippedChange]:
        table, from_row, upsert, params = ITEM_TABLES[kind]
        shipped = f"shipped_{table}"
        rows = await conn.execute_fetchall(
            f"SELECT * FROM {shipped} WHERE community_id = ?", (SHIPPED_LAYER,)
        )
        old = {row["key"]: from_row(row) for row in rows}
        changes: list[ShippedChange] = []
        for item in items:
            before = old.pop(item.key, None)
            if before is not None and same_content(before, item):
                continue
            after = replace(item, version=before.version + 1 if before else 1)
            await conn.execute(
                upsert.replace(f"INSERT INTO {table} ", f"INSERT INTO {shipped} ", 1),
                params(SHIPPED_LAYER, after),
            )
            changes.append(ShippedChange(kind, item.key, before, after))
        for key, before in sorted(old.items()):
            await conn.execute(
                f"DELETE FROM {shipped} WHERE community_id = ? AND key = ?", (SHIPPED_LAYER, key)
            )
            changes.append(ShippedChange(kind, key, before, None))
        return changes

    async def _replace_settings(self, conn: Tx, pack: LibraryChanges) -> None:
        await conn.execute("DELETE FROM shipped_topics")
        await conn.executemany(
            "INSERT INTO shipped_topics (community_id, slug, label, description, position)"
            " VALUES (?, ?, ?, ?, ?)",
            [(SHIPPED_LAYER, t.slug, t.label, t.description, i) for i, t in enumerate(pack.topics)],
        )
        await conn.execute("DELETE FROM shipped_emergency_numbers")
        await conn.executemany(
            "INSERT INTO shipped_emergency_numbers (community_id, region, number, needs_review)"
            " VALUES (?, ?, ?, ?)",
            [
                (SHIPPED_LAYER, n.region, n.number, int(n.needs_review))
                for n in pack.emergency_numbers
            ],
        )

    async def _spread(
        self, conn: Tx, release: str, changes: Sequence[ShippedChange], summary: str
    ) -> None:
        """What the release means for each community, in the same transaction."""
        communities = [
            row["id"] for row in await conn.execute_fetchall("SELECT id FROM communities")
        ]
        at = datetime.now(UTC).isoformat(timespec="seconds")
        for change in changes:
            table = ITEM_TABLES[change.kind][0]
            kept = {
                row["community_id"]
                for row in await conn.execute_fetchall(
                    f"SELECT community_id FROM {table} WHERE key = ?", (change.key,)
                )
            }
            layer = (change.kind.value, change.key)
            if change.after is None:
                await conn.execute(
                    "DELETE FROM library_layer WHERE item_kind = ? AND key = ?"
                    " AND state <> 'edited'",
                    layer,
                )
            else:
                # A community that reverted or hid it sees a new version too; what its
                # moderators confirmed was the old one, so the confirmation goes.
                await conn.execute(
                    "UPDATE library_layer SET version = version + 1, confirmed_on = NULL"
                    " WHERE item_kind = ? AND key = ? AND state <> 'edited'",
                    layer,
                )
            if change.before is not None:
                # Keep the shipped version the moderators last saw if they never decided.
                await conn.executemany(
                    "INSERT INTO layer_reviews (community_id, item_kind, key, release,"
                    " before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (community_id, item_kind, key) DO UPDATE SET"
                    " release = excluded.release, after_json = excluded.after_json",
                    [
                        (c, *layer, release, _json(change.before), _json(change.after))
                        for c in sorted(kept)
                    ],
                )
            action = _action(change)
            await conn.executemany(
                "INSERT INTO audit_log (community_id, actor_id, actor_name, action, item_kind,"
                " item_key, before_json, after_json, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c,
                        HAVEN_ACTOR,
                        "Haven",
                        f"{action}.kept-own" if c in kept and change.before else action,
                        *layer,
                        _json(change.before),
                        _json(change.after),
                        at,
                    )
                    for c in communities
                ],
            )
        if summary:
            await conn.executemany(
                "INSERT INTO layer_notices (community_id, release, summary) VALUES (?, ?, ?)"
                " ON CONFLICT (community_id, release) DO NOTHING",
                [(c, release, summary) for c in communities],
            )
        for community_id in communities:
            await announce(conn, community_id)

    async def pending_notices(self) -> Sequence[ReleaseNotice]:
        rows = await self._db.fetch_all(
            "SELECT n.community_id, n.release, n.summary, c.platform, c.log_channel_id"
            " FROM layer_notices n JOIN communities c ON c.id = n.community_id"
            " WHERE n.sent = 0 AND c.status = 'active' AND c.log_channel_id IS NOT NULL"
            " ORDER BY n.community_id, n.release"
        )
        return [
            ReleaseNotice(
                community_id=row["community_id"],
                platform=Platform(row["platform"]),
                channel_id=row["log_channel_id"],
                release=row["release"],
                summary=row["summary"],
            )
            for row in rows
        ]

    async def claim_notice(self, community_id: str, release: str) -> bool:
        return await self._set_sent(community_id, release, 1)

    async def unclaim_notice(self, community_id: str, release: str) -> None:
        await self._set_sent(community_id, release, 0)

    async def _set_sent(self, community_id: str, release: str, sent: int) -> bool:
        params: tuple[Any, ...] = (sent, community_id, release, 1 - sent)
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE layer_notices SET sent = ? WHERE community_id = ? AND release = ?"
                " AND sent = ?",
                params,
            )
            return cursor.rowcount == 1
