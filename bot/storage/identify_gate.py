"""The IdentifyGate on either engine: one row per key, taken with one conditional upsert.

Like the scheduler lease (schedule_store.py): the statement inserts the row or takes it over
only when the holder's time has run out, so two processes racing for a free key cannot both
win. On PostgreSQL the second waits for the first's row lock, then sees the row held and changes
nothing; SQLite's single writer serialises them. The times are the processes' own clocks, as
for the lease: machines that share a database must keep their clocks in step (NTP); a row held
further ahead than one turn lasts (a clock running ahead) is taken over rather than waited for.
"""

from __future__ import annotations

from bot.storage.database import SqlDatabase

# How far apart two processes' clocks (and the order their statements reach the database) may
# be before a turn that ends too far ahead counts as written by a clock running ahead.
CLOCK_ALLOWANCE = 1.0


class SqlIdentifyGate:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def take(self, key: int, owner: str, now: float, hold: float) -> float | None:
        async with self._db.write() as conn:
            won = await conn.execute(
                "INSERT INTO identify_buckets (bucket, owner, held_until) VALUES (?, ?, ?)"
                " ON CONFLICT (bucket) DO UPDATE SET owner = excluded.owner,"
                " held_until = excluded.held_until WHERE identify_buckets.held_until <= ?"
                # A turn ending further ahead than any turn can (plus the allowance) was written
                # by a clock that runs ahead: taken over, or every process would wait for it.
                " OR identify_buckets.held_until > ? RETURNING bucket",
                (key, owner, now + hold, now, now + hold + CLOCK_ALLOWANCE),
            )
            if won.rows:
                return None
            row = await conn.fetch_one(
                "SELECT held_until FROM identify_buckets WHERE bucket = ?", (key,)
            )
        # A row deleted in between (nothing deletes them today) is free: try again now.
        return float(row["held_until"]) if row is not None else now
