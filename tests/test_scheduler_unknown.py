"""The `unknown` slot status in storage: the migration that allows it, and how it is recorded.

A slot is `unknown` when the platform failed after it may have created the post and the
nonce window ran out (the scheduler side is tested in tests/adapters/discord/test_publisher.py
with the real client). Here: a database written before the status existed upgrades with its
slots intact and then accepts it; the schedule's last outcome carries the sentence moderators
read in `schedule list`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import IntegrityError
from bot.core.models import Platform
from bot.core.scheduling.schedules import SlotPlan, SlotStatus
from bot.storage.database import Database
from bot.storage.migrate import migrate
from bot.storage.schedule_store import SlotOutcome, SqlScheduleStore
from tests.storage.legacy import legacy_migrations
from tests.test_scheduler_helpers import add_community, insert_schedule

NINE = 1_772_355_600  # 2026-03-01 09:00 UTC


async def _database_at_version_2(path: Path) -> Database:
    """A database as the version before `unknown` left it (migrations 0001 and 0002 only)."""
    db = await Database.open(path)
    for migration in legacy_migrations()[:2]:
        await db.execute_script_atomically(migration.sql, migration.version)
    return db


async def test_a_version_2_database_keeps_its_slots_and_then_accepts_unknown(
    tmp_path: Path,
) -> None:
    db = await _database_at_version_2(tmp_path / "haven.db")
    try:
        await add_community(db, "console:local", Platform.CONSOLE)
        store = SqlScheduleStore(db)
        created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        schedule = await insert_schedule(
            store, "console:local", Platform.CONSOLE, "c", "daily 09:00", "UTC", created=created
        )
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO schedule_slots (schedule_id, slot_at, status, reason, attempts,"
                " message_id, updated_at) VALUES (?, ?, 'sent', NULL, 2, 'm1', ?)",
                (schedule.id, NINE - 86400, NINE),
            )
        # Before the migration the status is refused by the table's CHECK.
        with pytest.raises(IntegrityError):
            async with db.write() as conn:
                await conn.execute(
                    "INSERT INTO schedule_slots (schedule_id, slot_at, status, updated_at)"
                    " VALUES (?, ?, 'unknown', ?)",
                    (schedule.id, NINE, NINE),
                )
        report = await migrate(db)
        assert report.applied[0] == "0003_unknown_slots"  # later revisions may follow
        (kept,) = await store.slots(schedule.id)
        assert (kept.slot_at, kept.status, kept.attempts, kept.message_id) == (
            NINE - 86400,
            SlotStatus.SENT,
            2,
            "m1",
        )
        # The claimed-slot index the scheduler's recovery reads survived the rebuild.
        indexes = await db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'schedule_slots'"
        )
        assert "schedule_slots_claimed" in {row[0] for row in indexes}

        def plan(_: object) -> SlotPlan:
            return SlotPlan(claim=NINE, missed=(), next_run_at=NINE + 86400)

        await store.claim_due(NINE, 10, set(), plan, "owner", NINE + 20)
        reason = "It may or may not have posted: the platform failed after ..."
        await store.record_outcomes(
            [SlotOutcome(schedule.id, NINE, SlotStatus.UNKNOWN, reason, attempts=3)], NINE + 400
        )
        slots = {slot.slot_at: slot for slot in await store.slots(schedule.id)}
        assert slots[NINE].status is SlotStatus.UNKNOWN and slots[NINE].reason == reason
        refreshed = await store.get(schedule.id)
        assert refreshed is not None
        assert refreshed.last_outcome == "unknown (may or may not have posted)"
        assert not refreshed.paused  # unknown is no reason to stop the schedule
        # An unknown slot is final: a later outcome for it is not written over it.
        await store.record_outcomes(
            [SlotOutcome(schedule.id, NINE, SlotStatus.SENT, None, "m2")], NINE + 500
        )
        again = {slot.slot_at: slot for slot in await store.slots(schedule.id)}[NINE]
        assert again.status is SlotStatus.UNKNOWN and again.message_id is None
    finally:
        await db.close()
