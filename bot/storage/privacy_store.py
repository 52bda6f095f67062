"""The storage side of forgetting a moderator (bot/privacy.py decides what replaces what).

Every place a moderator's id or name is stored: `audit_log` (actor id and name, and the before
and after data of entries), `schedules` (`created_by`, `paused_reason`) and `communities`
(`moderator_user_ids`), and the dashboard's `dashboard_links` and `dashboard_sessions`
(deleted). Rows are found by the id or a name appearing in them at all, then
rewritten by the rule; everything is one transaction with the forgetting's own audit entries.
Rows are found with LIKE on both engines, with `!` as its escape character (PostgreSQL's default
escape, the backslash, appears in JSON text); SQLite's LIKE ignores ASCII case, so it may find
more than the exact text: every candidate is compared again here and left alone unless the rule
changes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import exc

from bot.core.ports import NewAuditEntry
from bot.privacy import ForgetCounts, Forgetting
from bot.storage.changes import announce
from bot.storage.database import BUSY_TIMEOUT_MS, Database, SqlDatabase, Tx
from bot.storage.repositories import insert_audit


def _needles(forgetting: Forgetting) -> list[str]:
    """Forms the id and names take in stored text: as typed, and escaped inside JSON."""
    needles: set[str] = set()
    for value in (forgetting.user_id, *forgetting.names):
        if value:
            needles.add(value)
            needles.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return sorted(needles)


def _like(needle: str) -> str:
    """A LIKE pattern (with ESCAPE '!') matching `needle` anywhere in the text."""
    escaped = needle.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


_CONTAINS = "LIKE ? ESCAPE '!'"


def _any_of(columns: tuple[str, ...], count: int) -> str:
    tests = [f"coalesce({column}, '') {_CONTAINS}" for column in columns for _ in range(count)]
    return " OR ".join(tests)


def _params(columns: tuple[str, ...], needles: list[str]) -> list[str]:
    return [_like(needle) for _ in columns for needle in needles]


def _json_text(forgetting: Forgetting, text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(forgetting.data(json.loads(text)), ensure_ascii=False)


class SqlPrivacyStore:
    def __init__(self, db: SqlDatabase) -> None:
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
            # SQLite's secure_delete zeroes the space the old values leave, in the WAL's pages
            # too. PostgreSQL has no such switch: erase_freed_space rewrites the tables instead.
            secure = None
            if self._db.is_sqlite:
                secure = await conn.fetch_one("PRAGMA secure_delete")
                await conn.execute("PRAGMA secure_delete = ON")
            try:
                await self._audit_log(conn, forgetting, needles, counts)
                await self._schedules(conn, forgetting, needles, counts)
                await self._communities(conn, forgetting, counts)
                # Their dashboard links and sessions end with them (ids only, nothing to
                # rewrite: the rows are simply gone, and so is any signed-in browser).
                for table in ("dashboard_links", "dashboard_sessions"):
                    await conn.execute(
                        f"DELETE FROM {table} WHERE actor_id = ?", (forgetting.user_id,)
                    )
                for community_id, changed in counts.items():
                    if changed.any:
                        await insert_audit(conn, community_id, audit(changed))
            finally:
                if self._db.is_sqlite:
                    await conn.execute(f"PRAGMA secure_delete = {int(secure[0]) if secure else 0}")
        return {community_id: changed for community_id, changed in counts.items() if changed.any}

    @staticmethod
    async def _audit_log(
        conn: Tx,
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
        conn: Tx,
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
        conn: Tx, forgetting: Forgetting, counts: dict[str, ForgetCounts]
    ) -> None:
        rows = await conn.execute_fetchall(
            f"SELECT id, moderator_user_ids FROM communities WHERE moderator_user_ids {_CONTAINS}",
            (_like(json.dumps(forgetting.user_id)[1:-1]),),
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
            # A settings change like any other: every process drops its copy of the old list.
            await announce(conn, community_id)
            current = counts[community_id]
            counts[community_id] = replace(
                current, moderator_users=current.moderator_users + len(ids) - len(kept)
            )

    async def erase_freed_space(self) -> bool:
        """VACUUM rewrites every page of the file, and a TRUNCATE checkpoint empties the WAL,
        so no copy of a replaced value is left in either. A separate connection: VACUUM cannot
        run inside the transactions the Database hands out.

        On PostgreSQL, VACUUM FULL rewrites the three tables into new files and deletes the
        old ones, and a CHECKPOINT lets the server recycle the write-ahead log that still
        holds the old values; the server removes those segments at a later checkpoint, and
        its archive or replicas (if the operator runs any) are outside Haven's reach (the
        README says so). False if the rewrite could not run now."""
        if isinstance(self._db, Database):
            return await asyncio.to_thread(_vacuum, str(self._db.path))
        try:
            async with self._db.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM FULL audit_log, schedules, communities")
                # CHECKPOINT needs superuser or pg_checkpoint; without it the server's own
                # next checkpoint (minutes at most) does the same.
                with contextlib.suppress(exc.DBAPIError):
                    await autocommit.exec_driver_sql("CHECKPOINT")
        except exc.DBAPIError:
            return False
        return True


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
