"""Read-only status queries: the readiness probe and `haven status` (no person is named)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.ports import LeaseHolder
from bot.storage.database import SqlDatabase
from bot.storage.schedule_store import GUARD_OWNER


class SqlStatusReader:
    """StatusReader on either engine: single read statements."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def ping(self) -> None:
        # A real table, not `SELECT 1`: that would answer even if the schema were gone.
        await self._db.fetch_one("SELECT id FROM communities LIMIT 1")

    async def scheduler_leases(self) -> Mapping[str, LeaseHolder]:
        """Every platform's lease row by name (expired rows included; not the guard that the
        per-platform leaders hold against older Havens, which leads nothing)."""
        rows = await self._db.fetch_all(
            "SELECT name, owner, heartbeat, expires_at FROM scheduler_lease WHERE owner <> ?"
            " ORDER BY name",
            (GUARD_OWNER,),
        )
        return {
            str(row["name"]): LeaseHolder(
                owner=str(row["owner"]),
                heartbeat=float(row["heartbeat"]),
                expires_at=float(row["expires_at"]),
            )
            for row in rows
        }

    async def community_counts(self) -> Mapping[str, int]:
        rows = await self._db.fetch_all(
            "SELECT status, count(*) AS n FROM communities GROUP BY status"
        )
        return {str(row["status"]): int(row["n"]) for row in rows}

    async def slot_outcomes_since(self, since: int) -> Mapping[str, int]:
        rows = await self._db.fetch_all(
            "SELECT status, count(*) AS n FROM schedule_slots WHERE updated_at >= ?"
            " GROUP BY status",
            (since,),
        )
        return {str(row["status"]): int(row["n"]) for row in rows}
