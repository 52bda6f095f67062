"""The operator's database commands on PostgreSQL: migrate, status, backup (pg_dump), and
`haven db copy` of a whole SQLite Haven onto PostgreSQL, checked row by row and by counts.

Real processes (`python -m bot`), a real SQLite file filled by a real console session, and the
test PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from pathlib import Path

from bot.storage.migrate import latest_version
from bot.storage.postgres import PostgresDatabase
from bot.storage.tables import metadata
from tests.e2e.test_cli import haven
from tests.postgres import PostgresServer

SESSION = (
    "/support-admin message add topics:coming-out You get to choose who knows.\n"
    '/support-admin schedule add channel:#welcome when:"weekly mon 18:00" '
    "topic:coming-out timezone:Europe/London\n"
    "/support coming-out GB\n"
    "quit\n"
)


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as raw:
        counts = {
            t.name: raw.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
            for t in metadata.sorted_tables
        }
    raw.close()
    return counts


async def test_migrate_and_status_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    migrated = haven(tmp_path, "db", "migrate", HAVEN_DATABASE_URL=postgres_url)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0001_initial, 0002_schedules, 0003_unknown_slots" in migrated.stdout
    again = haven(tmp_path, "db", "migrate", HAVEN_DATABASE_URL=postgres_url)
    assert f"is up to date (schema version {latest_version()})" in again.stdout
    status = haven(tmp_path, "status", HAVEN_DATABASE_URL=postgres_url)
    assert status.returncode == 0, status.stderr
    assert "(readable)" in status.stdout and "0 active" in status.stdout
    # Nothing of the database is created on the local disk.
    assert not (tmp_path / "data").exists()


async def test_db_copy_moves_every_row_of_a_sqlite_haven_to_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    session = haven(tmp_path, "console", stdin=SESSION)
    assert session.returncode == 0, session.stderr
    source = sqlite_counts(tmp_path / "haven.db")
    assert source["messages"] > 0 and source["schedules"] == 1 and source["audit_log"] >= 2

    copied = haven(tmp_path, "db", "copy", "--to", postgres_url)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert f"{sum(source.values())} rows" in copied.stdout
    for name, count in source.items():
        assert f"  {name}: {count}\n" in copied.stdout

    database = await PostgresDatabase.open(postgres_url)
    try:
        for name, count in source.items():
            row = await database.fetch_one(f"SELECT count(*) FROM {name}")
            assert row is not None and row[0] == count, name
        # Row for row, not only by count: the audit trail as the SQLite file holds it.
        with sqlite3.connect(tmp_path / "haven.db") as raw:
            expected = raw.execute(
                "SELECT id, actor_id, action, item_key, after_json FROM audit_log ORDER BY id"
            ).fetchall()
        raw.close()
        got = await database.fetch_all(
            "SELECT id, actor_id, action, item_key, after_json FROM audit_log ORDER BY id"
        )
        assert [tuple(r) for r in got] == expected
    finally:
        await database.close()

    # Haven runs on the copy: a new audit entry gets a new id after the copied ones.
    more = haven(
        tmp_path,
        "console",
        stdin="/support-admin message add topics:crisis You are not alone.\nquit\n",
        HAVEN_DATABASE_URL=postgres_url,
    )
    assert more.returncode == 0, more.stderr
    assert "Message added" in more.stdout or "added" in more.stdout.lower()

    # A second copy into the same (now full) database is refused, and changes nothing.
    twice = haven(tmp_path, "db", "copy", "--to", postgres_url)
    assert twice.returncode == 1
    assert "already holds Haven data" in twice.stderr


async def test_backup_of_postgresql_uses_pg_dump(
    postgres_url: str, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    assert haven(tmp_path, "db", "migrate", HAVEN_DATABASE_URL=postgres_url).returncode == 0
    with_dump = haven(
        tmp_path,
        "db",
        "backup",
        "copy.dump",
        HAVEN_DATABASE_URL=postgres_url,
        PATH=f"{postgres_server.bindir}:/usr/bin:/bin",
    )
    assert with_dump.returncode == 0, with_dump.stderr
    dump = tmp_path / "copy.dump"
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    listing = await asyncio.to_thread(
        subprocess.run,
        [str(postgres_server.bindir / "pg_restore"), "--list", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "TABLE public communities" in listing.stdout

    # Without pg_dump on PATH: one clear sentence, and no file.
    without = haven(
        tmp_path,
        "db",
        "backup",
        "other.dump",
        HAVEN_DATABASE_URL=postgres_url,
        PATH=str(tmp_path / "empty-bin"),
    )
    assert without.returncode == 1
    assert "pg_dump, which is not installed here; no backup was made" in without.stderr
    assert not (tmp_path / "other.dump").exists()
