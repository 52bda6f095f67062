"""An online backup before an existing database is migrated; none for a brand-new one.

Real SQLite and the real migrations: the old database is one that only the numbered 0001
migration of an earlier Haven ever ran on.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import StorageUnavailable
from bot.storage.database import Database, timestamped_path
from bot.storage.migrate import latest_version, migrate
from tests.storage.legacy import legacy_migrations

# SQLite's own file, write-ahead log and online backup: nothing PostgreSQL has.
pytestmark = pytest.mark.sqlite_only


async def old_database(path: Path) -> Database:
    """Open a database at schema version 1 holding one community."""
    database = await Database.open(path)
    first = legacy_migrations()[0]
    assert first.name == "0001_initial.sql"
    await database.execute_script_atomically(first.sql, first.version)
    async with database.write() as conn:
        await conn.execute(
            "INSERT INTO communities (id, platform, name) VALUES ('console:old', 'console', 'Old')"
        )
    return database


def read(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(sql).fetchall()
    raw.close()
    return rows


async def test_an_old_database_is_backed_up_with_its_rows_before_0002_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.storage.migrate")
    database = await old_database(tmp_path / "haven.db")
    try:
        report = await migrate(database)
    finally:
        await database.close()
    assert report.applied[0] == "0002_schedules"
    assert report.backup is not None
    assert report.backup.parent == tmp_path
    assert report.backup.name.startswith("haven.before-0002.") and report.backup.suffix == ".db"
    # The copy is the database as 0001 left it: its rows, and nothing 0002 creates.
    assert read(report.backup, "PRAGMA user_version") == [(1,)]
    assert read(report.backup, "SELECT id, name FROM communities") == [("console:old", "Old")]
    tables = {row[0] for row in read(report.backup, "SELECT name FROM sqlite_master")}
    assert "communities" in tables and "schedules" not in tables
    assert read(report.backup, "PRAGMA integrity_check") == [("ok",)]
    assert read(tmp_path / "haven.db", "PRAGMA user_version") == [(latest_version(),)]
    (line,) = [r for r in caplog.records if "before applying migration" in r.getMessage()]
    assert str(report.backup) in line.getMessage() and line.levelno == logging.INFO


async def test_a_brand_new_database_gets_no_backup(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "haven.db")
    try:
        report = await migrate(database)
    finally:
        await database.close()
    assert report.applied and report.backup is None
    assert sorted(p.name for p in tmp_path.iterdir() if ".before-" in p.name) == []


async def test_an_up_to_date_database_gets_no_backup(db: Database, tmp_path: Path) -> None:
    report = await migrate(db)
    assert report.applied == () and report.backup is None
    assert [p for p in tmp_path.iterdir() if ".before-" in p.name] == []


async def test_no_migration_runs_when_the_backup_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = await old_database(tmp_path / "haven.db")

    async def disk_full(target: Path) -> None:
        target.write_bytes(b"half a copy")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(database, "backup_to", disk_full)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            await migrate(database)
        assert "did not migrate" in raised.value.message
        assert "No space left" in raised.value.message
        assert "was not changed" in raised.value.hint
        assert await database.user_version() == 1
    finally:
        await database.close()
    assert [p for p in tmp_path.iterdir() if ".before-" in p.name] == []


def test_a_backup_name_never_overwrites_an_earlier_one(tmp_path: Path) -> None:
    moment = datetime(2026, 12, 1, 11, 22, 33, tzinfo=UTC)
    first = timestamped_path(tmp_path / "haven.db", "before-0002", moment)
    assert first.name == "haven.before-0002.20261201T112233Z.db"
    first.write_bytes(b"earlier")
    second = timestamped_path(tmp_path / "haven.db", "before-0002", moment)
    assert second != first and second.name == "haven.before-0002.20261201T112233Z-1.db"
    assert first.read_bytes() == b"earlier"
