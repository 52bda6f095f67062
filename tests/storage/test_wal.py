"""The write-ahead log: a long reader makes it grow; once writes are quiet it is truncated.

Real SQLite files with the real migrations. The long reader is a second process's view of the
database (a plain sqlite3 connection holding a read transaction), as a backup or a sqlite3
shell left open would be.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.storage.database import Checkpoint, Database, WalKeeper

# SQLite's own file, write-ahead log and online backup: nothing PostgreSQL has.
pytestmark = pytest.mark.sqlite_only

KB = 1024


@pytest.fixture
def long_reader(tmp_path: Path, db: Database) -> Iterator[sqlite3.Connection]:
    """A connection that holds a snapshot of the database until the test commits it."""
    reader = sqlite3.connect(tmp_path / "haven.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM communities").fetchone()
    try:
        yield reader
    finally:
        reader.close()


async def write_rows(db: Database, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform, name) VALUES (?, 'console', ?)",
                (f"w{i}", "x" * KB),
            )


async def wait_until(condition: Callable[[], object], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


def wal_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "Haven expects" in r.getMessage()]


async def test_the_log_is_truncated_once_the_long_reader_ends_and_writes_are_quiet(
    db: Database, long_reader: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = WalKeeper(
        db, quiet_seconds=0.3, poll_seconds=0.05, truncate_above_bytes=16 * KB, warn_bytes=256 * KB
    )
    task = asyncio.create_task(keeper.run())
    try:
        await write_rows(db, 300)
        # The reader's snapshot pins the log: SQLite's own checkpoints cannot reset it.
        grown = db.wal_size()
        assert grown > 256 * KB
        assert await wait_until(lambda: wal_warnings(caplog))
        # Quiet, but the reader still holds its snapshot: the log cannot be truncated yet.
        await asyncio.sleep(0.6)
        assert db.wal_size() >= grown
        long_reader.execute("COMMIT")
        assert await wait_until(lambda: db.wal_size() == 0), db.wal_size()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    (warning,) = wal_warnings(caplog)  # once, not once per poll
    assert warning.levelno == logging.WARNING
    text = warning.getMessage()
    assert f"{db.path}-wal" in text and "256 KB" in text
    assert "long transaction" in text and "disk space" in text
    # Every row written while the reader looked away is in the database itself.
    rows = await db.fetch_all("SELECT count(*) AS n FROM communities WHERE id LIKE 'w%'")
    assert rows[0]["n"] == 300


async def test_sqlite_alone_leaves_the_grown_log_at_its_size(
    db: Database, long_reader: sqlite3.Connection
) -> None:
    """Why the keeper exists: after the reader ends and more writes come, the log file keeps
    its size (SQLite reuses it from the start, it never shrinks it)."""
    await write_rows(db, 300)
    grown = db.wal_size()
    long_reader.execute("COMMIT")
    await write_rows(db, 5, start=1000)
    assert db.wal_size() >= grown > 256 * KB


async def test_no_checkpoint_while_writes_keep_coming(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stepped by hand right after each write (no background timing to race): a write less
    than the quiet period ago means no checkpoint; once it has passed, exactly one."""
    calls: list[float] = []
    real = db.checkpoint

    async def counted() -> Checkpoint:
        calls.append(time.monotonic())
        return await real()

    monkeypatch.setattr(db, "checkpoint", counted)
    keeper = WalKeeper(db, quiet_seconds=0.5, truncate_above_bytes=0)
    for i in range(30):
        await write_rows(db, 1, start=i)
        await keeper.step()
    assert calls == [] and db.wal_size() > 0
    await asyncio.sleep(0.6)
    await keeper.step()
    assert len(calls) == 1 and db.wal_size() == 0
    await keeper.step()  # an empty log: nothing more to do
    assert len(calls) == 1


async def test_a_small_log_is_left_alone(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler's heartbeat writes a page every few seconds: that is no reason to fsync."""
    calls: list[None] = []

    async def counted() -> Checkpoint:
        calls.append(None)
        return Checkpoint(False, 0, 0)

    monkeypatch.setattr(db, "checkpoint", counted)
    await write_rows(db, 1)
    assert 0 < db.wal_size() < 1024 * KB
    keeper = WalKeeper(db, quiet_seconds=0.0)
    await keeper.step()
    assert calls == []


async def test_a_stuck_reader_makes_the_checkpoint_give_up_quickly(
    db: Database, long_reader: sqlite3.Connection
) -> None:
    """The checkpoint holds the write lock: it must not wait the whole busy timeout (5 s)."""
    await write_rows(db, 20)
    started = time.monotonic()
    result = await db.checkpoint()
    assert result.busy
    assert time.monotonic() - started < 3.0  # the full busy timeout would be 5 s
    # Writes go on at once afterwards (the normal busy timeout is back for them).
    await write_rows(db, 1, start=500)
    long_reader.execute("COMMIT")
    assert not (await db.checkpoint()).busy
    assert db.wal_size() == 0


async def test_the_composition_root_runs_the_keeper(tmp_path: Path) -> None:
    from bot.app import open_services
    from bot.settings import Settings

    async with open_services(Settings(database_path=tmp_path / "haven.db")) as services:
        names = {task.get_name() for task in asyncio.all_tasks()}
        assert "wal-keeper" in names
        assert services.db.wal_size() >= 0
    assert "wal-keeper" not in {task.get_name() for task in asyncio.all_tasks()}


async def test_a_bug_in_a_step_does_not_end_the_keeper(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    naps: list[float] = []

    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) > 3:
            raise asyncio.CancelledError

    keeper = WalKeeper(db, poll_seconds=0.01, sleep=sleep)

    async def broken() -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(keeper, "step", broken)
    with pytest.raises(asyncio.CancelledError):
        await keeper.run()
    assert naps == [0.01, 60.0, 0.01, 60.0]
    failures = [r for r in caplog.records if "WAL upkeep failed" in r.getMessage()]
    assert len(failures) == 2
