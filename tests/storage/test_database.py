"""SQLite storage: migrations are atomic, bad files are refused clearly, writes never collide."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.core.errors import StorageUnavailable
from bot.storage import migrate as migrate_module
from bot.storage.database import Database
from bot.storage.migrate import available_migrations, latest_version, migrate

MIGRATIONS = Path(__file__).resolve().parents[2] / "bot" / "storage" / "migrations"
REVISIONS = MIGRATIONS / "versions"


async def test_migrate_creates_schema_and_is_idempotent(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "haven.db")
    try:
        first = await migrate(database)
        second = await migrate(database)
        # The files as they sit in the package, read here rather than through migrate.py.
        shipped = sorted(p.stem for p in REVISIONS.glob("[0-9]*.py"))
        assert shipped[:2] == ["0001_initial", "0002_schedules"]
        # Increasing numbers, each once (parallel branches reserve theirs, so they may skip).
        numbers = [int(name[:4]) for name in shipped]
        assert numbers == sorted(set(numbers))
        assert list(first.applied) == shipped
        assert first.to_version == numbers[-1] == latest_version()
        assert second.applied == ()
        assert await database.user_version() == numbers[-1]
        tables = {r["name"] for r in await database.fetch_all("SELECT name FROM sqlite_master")}
        assert {"communities", "messages", "resources", "audit_log", "usage_daily"} <= tables
        assert {"schedules", "schedule_slots"} <= tables
    finally:
        await database.close()


async def test_failed_migration_leaves_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = await Database.open(tmp_path / "haven.db")
    try:
        await migrate(database)
        good = available_migrations()
        # The real revisions and one more that fails half-way, in a copy of the folder.
        scripts = tmp_path / "migrations"
        shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        last = good[-1].version
        number = f"{last + 1:04d}"
        (scripts / "versions" / f"{number}_broken.py").write_text(
            f"revision = {number!r}\n"
            f"down_revision = {good[-1].name[:4]!r}\n"
            "from alembic import op\n"
            "def upgrade() -> None:\n"
            "    op.execute('CREATE TABLE half_done (id INTEGER)')\n"
            "    op.execute('INSERT INTO no_such_table VALUES (1)')\n",
            "utf-8",
        )
        monkeypatch.setattr(migrate_module, "script_location", lambda: scripts)
        with pytest.raises(StorageUnavailable) as raised:
            await migrate(database)
        assert "broken" in raised.value.message
        assert f"version {last}" in raised.value.hint
        assert await database.user_version() == last
        names = {r["name"] for r in await database.fetch_all("SELECT name FROM sqlite_master")}
        assert "half_done" not in names
    finally:
        await database.close()


async def test_database_from_a_newer_haven_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "haven.db"
    database = await Database.open(path)
    await migrate(database)
    await database.close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={latest_version() + 3}")
    raw.close()
    database = await Database.open(path)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            await migrate(database)
        assert "newer than this Haven knows" in raised.value.message
        assert await database.user_version() == latest_version() + 3
    finally:
        await database.close()


async def test_corrupt_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "haven.db"
    garbage = b"this is not a database at all" * 200
    path.write_bytes(garbage)
    with pytest.raises(StorageUnavailable) as raised:
        await Database.open(path)
    assert "damaged" in raised.value.message
    assert "backup" in raised.value.hint
    assert path.read_bytes() == garbage


async def test_unwritable_location_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StorageUnavailable) as raised:
        await Database.open(blocker / "haven.db")
    assert "cannot create the folder" in raised.value.message
    assert "HAVEN_DATABASE_URL" in raised.value.hint


async def test_concurrent_writers_never_collide(db: Database) -> None:
    await db_insert_communities(db, 60)
    rows = await db.fetch_all("SELECT count(*) AS n FROM communities")
    assert rows[0]["n"] == 60


async def db_insert_communities(db: Database, count: int) -> None:
    async def insert(i: int) -> None:
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform) VALUES (?, 'console')", (f"c{i}",)
            )
            await asyncio.sleep(0)  # yield inside the transaction: others must wait, not fail

    await asyncio.gather(*(insert(i) for i in range(count)))


async def test_failed_write_rolls_back_everything(db: Database) -> None:
    with pytest.raises(RuntimeError, match=r"^boom$"):
        async with db.write() as conn:
            await conn.execute("INSERT INTO communities (id, platform) VALUES ('x', 'console')")
            raise RuntimeError("boom")
    assert await db.fetch_one("SELECT id FROM communities WHERE id = 'x'") is None


@pytest.mark.sqlite_only  # SQLite's online backup; PostgreSQL's is pg_dump (test_cli_backup)
async def test_backup_is_a_consistent_copy_while_writing(db: Database, tmp_path: Path) -> None:
    await db_insert_communities(db, 20)
    target = tmp_path / "backups" / "copy.db"
    writer = asyncio.create_task(_insert_range(db, 20, 60))
    await db.backup_to(target)
    await writer
    copy = sqlite3.connect(target)
    try:
        (count,) = copy.execute("SELECT count(*) FROM communities").fetchone()
        (check,) = copy.execute("PRAGMA integrity_check").fetchone()
    finally:
        copy.close()
    assert 20 <= count <= 60
    assert check == "ok"


async def _insert_range(db: Database, start: int, stop: int) -> None:
    for i in range(start, stop):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform) VALUES (?, 'console')", (f"c{i}",)
            )


async def test_reads_right_after_concurrent_commits_see_them(db: Database) -> None:
    """Many create-then-read sequences at once: each read sees its own committed row."""

    async def create_then_read(i: int) -> bool:
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform) VALUES (?, 'console')", (f"r{i}",)
            )
        return await db.fetch_one("SELECT id FROM communities WHERE id = ?", (f"r{i}",)) is not None

    async def other_reader(i: int) -> None:
        await db.fetch_one("SELECT count(*) FROM communities WHERE id > ?", (f"r{i}",))

    tasks = [create_then_read(i) for i in range(300)]
    noise = [other_reader(i) for i in range(300)]
    results = await asyncio.gather(*(t for pair in zip(tasks, noise, strict=True) for t in pair))
    assert results[0::2] == [True] * 300  # each create-then-read saw its own row
    assert results[1::2] == [None] * 300
