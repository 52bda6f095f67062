"""SQLite side of forgetting a moderator (bot/privacy.py decides what replaces what).

Every place a moderator's id or name is stored: `audit_log` (actor id and name, and the before
and after data of entries), `schedules` (`created_by`, `paused_reason`) and `communities`
(`moderator_user_ids`). Rows are found by the id or a name appearing in them at all, then
rewritten by the rule; everything is one transaction with the forgetting's own audit entries.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import aiosqlite

from bot.core.ports import NewAuditEntry
from bot.privacy import ForgetCounts, Forgetting
from bot.storage.database import BUSY_TIMEOUT_MS, Database
from bot.storage.repositories import insert_audit


def _needles(forgetting: Forgetting) -> list[str]:
    """Forms the id and names take in stored text: as typed, and escaped inside JSON."""
    needles: set[str] = set()
    for value in (forgetting.user_id, *forgetting.names):
        if value:
            needles.add(value)
            needles.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return sorted(needles)


def _any_of(columns: tuple[str, ...], count: int) -> str:
    tests = [f"instr(coalesce({column}, ''), ?) > 0" for column in columns for _ in range(count)]
    return " OR ".join(tests)


def _params(columns: tuple[str, ...], needles: list[str]) -> list[str]:
    return [needle for _ in columns for needle in needles]


def _json_text(forgetting: Forgetting, text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(forgetting.data(json.loads(text)), ensure_ascii=False)


class SqlitePrivacyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def names_of(self, user_id: str) -> tuple[str, ...]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT actor_name FROM audit_log WHERE actor_id = ? AND actor_name != ''",
            (user_id,),
        )
        return tuple(sorted(str(row["actor_name"]) for row in rows))

    async def forget(
        self, forgetting: Forgetting, audit: Callable[[ForgetCounts], NewAuditEntry]
    ) -> dict[str, ForgetCounts]:
        needles = _needles(forgetting)
        counts: dict[str, ForgetCounts] = defaultdict(ForgetCounts)
        async with self._db.write() as conn:
            # secure_delete zeroes the space the old values leave, in the WAL's pages too.
            secure = await (await conn.execute("PRAGMA secure_delete")).fetchone()
            await conn.execute("PRAGMA secure_delete = ON")
            try:
                await self._audit_log(conn, forgetting, needles, counts)
                await self._schedules(conn, forgetting, needles, counts)
                await self._communities(conn, forgetting, counts)
                for community_id, changed in counts.items():
                    if changed.any:
                        await insert_audit(conn, community_id, audit(changed))
            finally:
                await conn.execute(f"PRAGMA secure_delete = {int(secure[0]) if secure else 0}")
        return {community_id: changed for community_id, changed in counts.items() if changed.any}

    @staticmethod
    async def _audit_log(
        conn: aiosqlite.Connection,
        forgetting: Forgetting,
        needles: list[str],
        counts: dict[str, ForgetCounts],
    ) -> None:
        columns = ("actor_id", "actor_name", "before_json", "after_json")
        rows = await conn.execute_fetchall(
            "SELECT id, community_id, actor_id, actor_name, before_json, after_json"
            f" FROM audit_log WHERE {_any_of(columns, len(needles))}",
            _params(columns, needles),
        )
        for row in rows:
            person = forgetting.is_person(row["actor_id"])
            actor_id = forgetting.marker if person else row["actor_id"]
            actor_name = forgetting.marker if person else forgetting.text(row["actor_name"])
            before = _json_text(forgetting, row["before_json"])
            after = _json_text(forgetting, row["after_json"])
            new = (actor_id, actor_name, before, after)
            old = (row["actor_id"], row["actor_name"], row["before_json"], row["after_json"])
            if new == old:
                continue  # the text matched only as part of another word
            await conn.execute(
                "UPDATE audit_log SET actor_id = ?, actor_name = ?, before_json = ?,"
                " after_json = ? WHERE id = ?",
                (*new, row["id"]),
            )
            community_id = str(row["community_id"])
            current = counts[community_id]
            counts[community_id] = replace(current, audit_entries=current.audit_entries + 1)

    @staticmethod
    async def _schedules(
        conn: aiosqlite.Connection,
        forgetting: Forgetting,
        needles: list[str],
        counts: dict[str, ForgetCounts],
    ) -> None:
        columns = ("created_by", "paused_reason")
        rows = await conn.execute_fetchall(
            "SELECT id, community_id, created_by, paused_reason"
            f" FROM schedules WHERE {_any_of(columns, len(needles))}",
            _params(columns, needles),
        )
        for row in rows:
            created_by = (
                forgetting.marker if forgetting.is_person(row["created_by"]) else row["created_by"]
            )
            reason = row["paused_reason"]
            new_reason = forgetting.text(reason) if reason is not None else None
            if (created_by, new_reason) == (row["created_by"], reason):
                continue
            # The version is left alone: nothing a moderator edits has changed.
            await conn.execute(
                "UPDATE schedules SET created_by = ?, paused_reason = ? WHERE id = ?",
                (created_by, new_reason, row["id"]),
            )
            community_id = str(row["community_id"])
            current = counts[community_id]
            counts[community_id] = replace(current, schedules=current.schedules + 1)

    @staticmethod
    async def _communities(
        conn: aiosqlite.Connection, forgetting: Forgetting, counts: dict[str, ForgetCounts]
    ) -> None:
        rows = await conn.execute_fetchall(
            "SELECT id, moderator_user_ids FROM communities WHERE instr(moderator_user_ids, ?) > 0",
            (json.dumps(forgetting.user_id)[1:-1],),
        )
        for row in rows:
            ids = tuple(json.loads(row["moderator_user_ids"]))
            kept = forgetting.without_person(ids)
            if kept == ids:
                continue
            # A new version, so a settings edit opened before this cannot write the id back.
            await conn.execute(
                "UPDATE communities SET moderator_user_ids = ?, version = version + 1 WHERE id = ?",
                (json.dumps(list(kept), ensure_ascii=False), row["id"]),
            )
            community_id = str(row["id"])
            current = counts[community_id]
            counts[community_id] = replace(
                current, moderator_users=current.moderator_users + len(ids) - len(kept)
            )

    async def erase_freed_space(self) -> bool:
        """VACUUM rewrites every page of the file, and a TRUNCATE checkpoint empties the WAL,
        so no copy of a replaced value is left in either. A separate connection: VACUUM cannot
        run inside the transactions the Database hands out."""
        return await asyncio.to_thread(_vacuum, str(self._db.path))


def _vacuum(path: str) -> bool:
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute("PRAGMA secure_delete = ON")
        connection.execute("VACUUM")
        busy, _log, _checkpointed = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return int(busy) == 0
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
