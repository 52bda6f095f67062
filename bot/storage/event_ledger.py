"""The handled-events table (`handled_events`): the SQL of bot/core/deliveries.py's ledger,
one statement per step, the same text on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from bot.storage.database import SqlDatabase

# One statement decides the claim, so two processes cannot both win it: a new event is
# inserted; an existing one is taken over only while unfinished and claimed before the
# stale mark. A row comes back only when this call holds the claim.
_CLAIM = """
INSERT INTO handled_events (event_id, claimed_at, done) VALUES (:event_id, :now, 0)
ON CONFLICT (event_id) DO UPDATE SET claimed_at = excluded.claimed_at
WHERE handled_events.done = 0 AND handled_events.claimed_at < :stale
RETURNING event_id
"""


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class SqlEventLedger:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def claim(self, event_id: str, now: datetime, stale_before: datetime) -> bool:
        async with self._db.write() as tx:
            outcome = await tx.execute(
                _CLAIM,
                {"event_id": event_id, "now": _epoch(now), "stale": _epoch(stale_before)},
            )
            return outcome.first() is not None

    async def finish(self, event_id: str) -> None:
        async with self._db.write() as tx:
            await tx.execute(
                "UPDATE handled_events SET done = 1 WHERE event_id = :event_id",
                {"event_id": event_id},
            )

    async def is_done(self, event_id: str) -> bool:
        rows = await self._db.fetch_all(
            "SELECT done FROM handled_events WHERE event_id = ?", (event_id,)
        )
        return bool(rows) and bool(rows[0]["done"])

    async def release(self, event_id: str) -> None:
        async with self._db.write() as tx:
            await tx.execute(
                "DELETE FROM handled_events WHERE event_id = :event_id AND done = 0",
                {"event_id": event_id},
            )

    async def prune(self, before: datetime) -> int:
        async with self._db.write() as tx:
            outcome = await tx.execute(
                "DELETE FROM handled_events WHERE claimed_at < :before",
                {"before": _epoch(before)},
            )
            return outcome.rowcount
