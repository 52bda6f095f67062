"""The schema as the Alembic revisions build it, on both engines, against bot/storage/tables.py;
and an older Haven's SQLite database (numbered migrations, user_version 1-3) upgraded in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage.database import Database, SqlDatabase
from bot.storage.migrate import available_migrations, latest_version, migrate
from bot.storage.tables import metadata
from tests.storage.legacy import legacy_migrations


async def differences(database: SqlDatabase) -> list[Any]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )


async def test_tables_py_is_the_schema_the_migrations_build(db: SqlDatabase) -> None:
    assert await differences(db) == []
    assert set(await db.table_names()) == {t.name for t in metadata.sorted_tables} | {
        "alembic_version"
    }


async def test_migrating_twice_changes_nothing(db: SqlDatabase) -> None:
    report = await migrate(db)
    assert report.applied == () and report.to_version == latest_version()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("version", [1, 2, 3])
async def test_an_older_havens_database_is_stamped_and_upgraded_in_place(
    tmp_path: Path, version: int
) -> None:
    database = await Database.open(tmp_path / "haven.db")
    try:
        for legacy in legacy_migrations()[:version]:
            await database.execute_script_atomically(legacy.sql, legacy.version)
        async with database.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform, name)"
                " VALUES ('console:old', 'console', 'Old')"
            )
        report = await migrate(database)
        assert report.from_version == version and report.to_version == latest_version()
        # Numbers may skip (branches reserve theirs): count the revisions newer than `version`.
        newer = [m for m in available_migrations() if m.version > version]
        assert len(report.applied) == len(newer)
        assert (report.backup is not None) == bool(report.applied)
        rows = await database.fetch_all("SELECT version_num FROM alembic_version")
        assert [tuple(r) for r in rows] == [(f"{latest_version():04d}",)]
        assert await database.user_version() == latest_version()
        kept = await database.fetch_all("SELECT id, name FROM communities")
        assert [tuple(r) for r in kept] == [("console:old", "Old")]
        # And it works as a current database does: an `unknown` slot is accepted.
        tables = set(await database.table_names())
        assert {"schedules", "schedule_slots", "scheduler_lease"} <= tables
    finally:
        await database.close()
