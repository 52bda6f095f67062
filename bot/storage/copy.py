"""`haven db copy --to postgresql://...`: every row of a Haven database into another one.

The source is brought to the newest schema first (with its usual backup), the target is
migrated to the same revision and must hold no Haven data yet. Tables are copied parent first
(the order of their foreign keys) inside ONE transaction on the target, so a failure leaves
it empty; the source is read inside one read transaction, so the copy is one moment's state.
Then the ids PostgreSQL hands out next are moved past the copied ones, and every table's row
count is compared on both sides: the copy is reported done only if all of them match.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.errors import HavenError
from bot.storage.database import SqlDatabase, translated
from bot.storage.migrate import migrate
from bot.storage.tables import metadata

log = logging.getLogger(__name__)

# Rows per INSERT batch: large enough that a million rows is a few hundred round trips,
# small enough to keep a batch's memory modest.
BATCH = 2000


@dataclass(frozen=True, slots=True)
class CopyReport:
    counts: Mapping[str, int]  # rows per table, the same on both sides

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def count_rows(database: SqlDatabase) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with database.engine.connect() as connection:
        with translated():
            for table in metadata.sorted_tables:
                counted = await connection.scalar(select(func.count()).select_from(table))
                counts[table.name] = int(counted or 0)
    return counts


async def copy_database(source: SqlDatabase, target: SqlDatabase) -> CopyReport:
    await migrate(source)
    await migrate(target)
    already = {name: n for name, n in (await count_rows(target)).items() if n}
    if already:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(already.items()))
        raise HavenError(
            f"{target.label} already holds Haven data ({listed}); nothing was copied.",
            "Copy into a new, empty database (createdb), or drop this one first.",
        )
    copied: dict[str, int] = {}
    async with source.engine.connect() as reading, target.write() as tx:
        with translated():
            if source.is_sqlite:
                # One snapshot of the whole file for every table read below.
                await reading.exec_driver_sql("BEGIN")
            for table in metadata.sorted_tables:
                result = await reading.stream(select(table))
                count = 0
                async for chunk in result.mappings().partitions(BATCH):
                    rows = [dict(row) for row in chunk]
                    await tx.connection.execute(insert(table), rows)
                    count += len(rows)
                copied[table.name] = count
                log.info("Copied %d rows of %s", count, table.name)
            if source.is_sqlite:
                await reading.exec_driver_sql("COMMIT")
            if not target.is_sqlite:
                await _move_sequences_past_copied_ids(tx.connection)
    source_counts = await count_rows(source)
    target_counts = await count_rows(target)
    differ = [
        f"{name}: {source_counts[name]} in the source, {target_counts.get(name)} copied"
        for name in source_counts
        if source_counts[name] != target_counts.get(name)
    ]
    if differ:
        raise HavenError(
            "The copy does not match its source: " + "; ".join(differ) + ".",
            "Was Haven still running on the source? Stop it, empty the target, copy again.",
        )
    return CopyReport(target_counts)


# The tables whose ids PostgreSQL generates (SERIAL): audit entries, schedules, and the
# Slack installation and state stores' rows.
SERIAL_IDS = (
    ("audit_log", "id"),
    ("schedules", "id"),
    ("slack_installations", "id"),
    ("slack_bots", "id"),
    ("slack_oauth_states", "id"),
)


async def _move_sequences_past_copied_ids(connection: AsyncConnection) -> None:
    """The serial ids continue after the copied ones: an insert that reused an id would
    collide, or worse, attach an undo to the wrong audit entry."""
    for table, column in SERIAL_IDS:
        await connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        )
