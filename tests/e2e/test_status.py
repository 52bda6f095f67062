"""`haven status`: what the database says, read without the running process (lease holder and
its age, communities, recent slot outcomes), and a clear refusal without a database."""

from __future__ import annotations

import time
from pathlib import Path

from bot.core.models import Platform
from bot.core.scheduling.schedules import NewSchedule
from bot.scheduler import lease_name_for
from bot.storage.database import Database
from bot.storage.migrate import migrate
from bot.storage.schedule_store import SqlScheduleStore
from tests.e2e.test_cli import haven
from tests.test_scheduler_helpers import add_community


async def seed(path: Path, *, lease_expired: bool) -> None:
    now = int(time.time())
    db = await Database.open(path)
    try:
        await migrate(db)
        await add_community(db, "discord:1", Platform.DISCORD)
        await add_community(db, "discord:2", Platform.DISCORD)
        async with db.write() as conn:
            await conn.execute(
                "UPDATE communities SET status = 'removed', removed_at = '2026-01-01'"
                " WHERE id = 'discord:2'"
            )
        store = SqlScheduleStore(db)
        await store.insert_many(
            [
                NewSchedule(
                    community_id="discord:1",
                    platform=Platform.DISCORD,
                    channel_id="c1",
                    channel_label="<#c1>",
                    topic="general",
                    message_key=None,
                    when_text="every 1h",
                    timezone="UTC",
                    one_shot=False,
                    next_run_at=now + 3600,
                    grace_seconds=1800,
                    created_by="mod-1",
                    created_at=now - 86400 * 3,
                )
            ]
        )
        rows = [
            (now - 3600 * i, status, now - 3600 * i)
            for i, status in enumerate(["sent", "sent", "missed", "failed", "sent"])
        ]
        rows.append((now - 86400 * 2, "sent", now - 86400 * 2))  # older than the 24 h asked
        async with db.write() as conn:
            await conn.executemany(
                "INSERT INTO schedule_slots (schedule_id, slot_at, status, updated_at)"
                " VALUES (1, ?, ?, ?)",
                rows,
            )
        held_until = now - 40 if lease_expired else now + 15
        await store.acquire_lease(lease_name_for(Platform.DISCORD), "host-a:4242", now - 5, 0)
        async with db.write() as conn:
            await conn.execute(
                "UPDATE scheduler_lease SET heartbeat = ?, expires_at = ?",
                (now - 5 if not lease_expired else now - 60, held_until),
            )
    finally:
        await db.close()


async def test_status_reads_the_lease_communities_and_recent_outcomes(tmp_path: Path) -> None:
    await seed(tmp_path / "haven.db", lease_expired=False)
    result = haven(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Database: ") and lines[0].endswith("(readable)")
    assert lines[1].startswith("Scheduler (Discord): held by host-a:4242, last heartbeat ")
    assert "Communities: 1 active, 1 removed (awaiting purge)" in lines
    assert "Scheduled posts in the last 24 h: 3 sent, 1 missed, 1 failed, 0 claimed" in lines


async def test_status_says_when_the_holder_stopped(tmp_path: Path) -> None:
    await seed(tmp_path / "haven.db", lease_expired=True)
    result = haven(tmp_path, "status", "--hours", "72")
    assert result.returncode == 0, result.stderr
    assert "Scheduler (Discord): lease of host-a:4242 expired" in result.stdout
    assert "4 sent" in result.stdout


def test_status_without_a_database_creates_none(tmp_path: Path) -> None:
    result = haven(tmp_path, "status")
    assert result.returncode == 2
    assert "There is no database at" in result.stderr
    assert not (tmp_path / "haven.db").exists()
