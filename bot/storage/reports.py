"""Reports on resources, stored as counts per community, resource key, kind and day only.

Not a content change: nothing here goes through `community_write`, so a report never makes
another process drop its caches (bot/storage/changes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.storage.database import SqlDatabase


class SqlReportStore:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def add_report(
        self, community_id: str, key: str, kind: str, day: date, since: date
    ) -> int:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO resource_reports (community_id, resource_key, kind, day, count)"
                " VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (community_id, resource_key, kind, day) DO UPDATE SET"
                " count = resource_reports.count + 1",
                (community_id, key, kind, day.isoformat()),
            )
            row = await conn.fetch_one(
                "SELECT COALESCE(SUM(count), 0) AS total FROM resource_reports"
                " WHERE community_id = ? AND resource_key = ? AND kind = ? AND day >= ?",
                (community_id, key, kind, since.isoformat()),
            )
        return int(row["total"]) if row else 0

    async def report_counts(self, community_id: str, key: str, since: date) -> Mapping[str, int]:
        rows = await self._db.fetch_all(
            "SELECT kind, SUM(count) AS total FROM resource_reports"
            " WHERE community_id = ? AND resource_key = ? AND day >= ? GROUP BY kind",
            (community_id, key, since.isoformat()),
        )
        return {r["kind"]: int(r["total"]) for r in rows}

    async def report_totals(self, community_id: str, since: date) -> Mapping[tuple[str, str], int]:
        rows = await self._db.fetch_all(
            "SELECT resource_key, kind, SUM(count) AS total FROM resource_reports"
            " WHERE community_id = ? AND day >= ? GROUP BY resource_key, kind",
            (community_id, since.isoformat()),
        )
        return {(r["resource_key"], r["kind"]): int(r["total"]) for r in rows}

    async def claim_report_notice(self, community_id: str, key: str, kind: str) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO resource_report_notices (community_id, resource_key, kind)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (community_id, key, kind),
            )
            return bool(cursor.rowcount == 1)

    async def unclaim_report_notice(self, community_id: str, key: str, kind: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM resource_report_notices"
                " WHERE community_id = ? AND resource_key = ? AND kind = ?",
                (community_id, key, kind),
            )
