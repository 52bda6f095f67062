"""The scheduler lease across real `haven console` processes on one database file, and how the
console shows a slot that may or may not have posted.

A lease left behind by a clean exit made the next process post nothing for 20 s and print a
warning into a moderator's console; a console session also used to take the lease of the
process that posts for Discord and Slack. Each test runs the real command from a pipe.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.models import Platform
from bot.core.scheduling.schedules import SlotPlan, SlotStatus
from bot.scheduler import CONSOLE_LEASE_NAME, lease_name_for
from bot.storage.database import Database
from bot.storage.migrate import migrate
from bot.storage.schedule_store import SlotOutcome, SqlScheduleStore
from tests.test_scheduler_helpers import add_community, insert_schedule

ROOT = Path(__file__).resolve().parents[2]
STANDBY_WARNING = "Another Haven process"


def _environment(db_path: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    environment.update({"HAVEN_DATABASE_URL": f"sqlite:///{db_path}", "PYTHONPATH": str(ROOT)})
    return environment


def _console(db_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=script,
        capture_output=True,
        text=True,
        cwd=db_path.parent,
        env=_environment(db_path),
        timeout=60,
        check=False,
    )


def _slot_status(db_path: Path, schedule_id: int) -> str | None:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT status FROM schedule_slots WHERE schedule_id = ?", (schedule_id,)
        ).fetchone()
    return None if row is None else str(row[0])


def _leases(db_path: Path) -> dict[str, str]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT name, owner FROM scheduler_lease").fetchall())


def test_every_clean_console_exit_releases_the_lease(tmp_path: Path) -> None:
    """Short piped sessions end while the scheduler is still starting (taking the lease,
    recovering, claiming): wherever the exit lands, the lease is gone afterwards, so the next
    session never waits for it or warns about it."""
    db_path = tmp_path / "haven.db"
    scripts = ["", "/support\n", "/support crisis GB\n/support-admin schedule list\n"]
    for run in range(9):
        result = _console(db_path, scripts[run % len(scripts)])
        assert result.returncode == 0, result.stderr
        assert STANDBY_WARNING not in result.stdout + result.stderr, f"run {run}"
        assert _leases(db_path) == {}, f"run {run} left its lease behind"


def _prepare_shared_database(db_path: Path, now: datetime) -> tuple[int, int]:
    """A database that also serves a Discord server, whose `haven run` holds the lease; one
    console schedule and one Discord schedule, both due a moment from now."""

    async def go() -> tuple[int, int]:
        db = await Database.open(db_path)
        try:
            await migrate(db)
            await add_community(db, "console:local", Platform.CONSOLE)
            await add_community(db, "discord:42", Platform.DISCORD)
            store = SqlScheduleStore(db)
            await store.acquire_lease(
                lease_name_for(Platform.DISCORD), "server:1", now.timestamp(), 3600.0
            )
            console = await insert_schedule(
                store, "console:local", Platform.CONSOLE, "welcome", "in 2s", "UTC", created=now
            )
            discord = await insert_schedule(
                store, "discord:42", Platform.DISCORD, "123", "in 2s", "UTC", created=now
            )
            return console.id, discord.id
        finally:
            await db.close()

    return asyncio.run(go())


def test_the_console_posts_only_its_own_schedules_beside_a_running_server(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "haven.db"
    now = datetime.now(UTC).replace(microsecond=0)
    console_id, discord_id = _prepare_shared_database(db_path, now)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_environment(db_path),
    )
    try:
        # Keep the session open past the schedules' instant (2 s after `now`) until the console
        # has recorded its post: a fixed pause read a slow start on a loaded machine as a
        # console that posts nothing.
        time.sleep(max(0.0, (now + timedelta(seconds=2)).timestamp() - time.time()))
        deadline = time.monotonic() + 60
        while _slot_status(db_path, console_id) != "sent" and process.poll() is None:
            assert time.monotonic() < deadline, "the console never recorded its post"
            time.sleep(0.1)
        # A moment for the Discord schedule's instant to pass unclaimed in this session too.
        time.sleep(0.5)
        out, err = process.communicate("/support-admin schedule list\n", timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0, err
    # The console posted its own schedule, and said which posts it leaves to `haven run`.
    assert "Scheduled post to #welcome" in out
    assert "also serves Discord communities" in out
    assert STANDBY_WARNING not in out + err
    with sqlite3.connect(db_path) as conn:
        slots = dict(conn.execute("SELECT schedule_id, status FROM schedule_slots").fetchall())
    assert slots == {console_id: "sent"}  # the Discord schedule was not even claimed
    assert discord_id not in slots
    # The server's lease is untouched; the console's own is released.
    assert _leases(db_path) == {lease_name_for(Platform.DISCORD): "server:1"}
    assert CONSOLE_LEASE_NAME not in _leases(db_path)


def test_an_unknown_slot_reads_may_or_may_not_have_posted_in_history_and_list(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "haven.db"
    nine = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    async def go() -> None:
        db = await Database.open(db_path)
        try:
            await migrate(db)
            await add_community(db, "console:local", Platform.CONSOLE)
            store = SqlScheduleStore(db)
            schedule = await insert_schedule(
                store,
                "console:local",
                Platform.CONSOLE,
                "welcome",
                "daily 09:00",
                "UTC",
                created=nine - timedelta(hours=1),
            )
            slot = int(nine.timestamp())

            # The next run far ahead: the console's own scheduler, which starts beside the
            # commands, must find nothing due (catching up since March would record "missed"
            # as the last outcome before `schedule list` runs).
            far = int(datetime(2100, 1, 1, 9, 0, tzinfo=UTC).timestamp())

            def plan(_: object) -> SlotPlan:
                return SlotPlan(claim=slot, missed=(), next_run_at=far)

            await store.claim_due(slot, 1, set(), plan, "owner", slot + 20)
            reason = "It may or may not have posted: Discord answered 500 after creating it."
            await store.record_outcomes(
                [SlotOutcome(schedule.id, slot, SlotStatus.UNKNOWN, reason, attempts=3)],
                slot + 400,
            )
        finally:
            await db.close()

    asyncio.run(go())
    result = _console(
        db_path, "/support-admin schedule history id:1\n/support-admin schedule list\n"
    )
    assert result.returncode == 0, result.stderr
    assert "unknown: It may or may not have posted" in result.stdout
    assert "last: unknown (may or may not have posted)" in result.stdout
