"""Numbered SQL migrations, each atomic, with the schema version in PRAGMA user_version.

Before an existing database is migrated, an online backup of it is written beside it: a
migration that succeeds but turns out wrong (or a Haven downgrade) is then a file copy away
from undoing. A brand-new database has nothing to lose and gets none.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.core.errors import StorageUnavailable
from bot.storage.database import Database, timestamped_path

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class MigrationReport:
    from_version: int
    to_version: int
    applied: tuple[str, ...]
    # The copy taken before the first migration ran; None when nothing was pending or the
    # database was brand new.
    backup: Path | None = None


def available_migrations() -> list[Migration]:
    """The migrations shipped with this version of Haven, in order, with no gaps."""
    folder = resources.files("bot.storage") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"Migration numbering has a gap before {migration.name}.")
    return found


def latest_version() -> int:
    migrations = available_migrations()
    return migrations[-1].version if migrations else 0


async def check_schema_version(db: Database) -> int:
    """Refuse a database written by a newer Haven: running on it could corrupt its data."""
    current = await db.user_version()
    latest = latest_version()
    if current > latest:
        raise StorageUnavailable(
            f"The database {db.path} has schema version {current}, newer than this Haven "
            f"knows (up to {latest}).",
            "Upgrade Haven to the version that wrote it, or restore a backup made by this "
            "version. Nothing was changed.",
        )
    return current


async def migrate(db: Database) -> MigrationReport:
    """Apply every pending migration. Each runs in its own transaction with its version bump,
    so a failure leaves the database exactly at the last good version."""
    current = await check_schema_version(db)
    pending = [m for m in available_migrations() if m.version > current]
    # user_version 0 is a file no migration has touched: a new database, nothing to keep.
    backup = await backup_before_migrating(db, pending[0]) if pending and current > 0 else None
    applied: list[str] = []
    for migration in pending:
        try:
            await db.execute_script_atomically(migration.sql, migration.version)
        except sqlite3.Error as error:
            raise StorageUnavailable(
                f"Migration {migration.name} failed: {error}.",
                f"The database was left at version {current}, as it was before this step.",
            ) from error
        log.info("Applied database migration %s", migration.name)
        applied.append(migration.name)
        current = migration.version
    return MigrationReport(
        from_version=current - len(applied),
        to_version=current,
        applied=tuple(applied),
        backup=backup,
    )


async def backup_before_migrating(db: Database, first: Migration) -> Path:
    """An online backup beside the database, named for the migration it precedes and the time.

    If it cannot be written, nothing is migrated: running a migration with no way back is the
    thing this backup exists to prevent.
    """
    target = timestamped_path(db.path, f"before-{first.version:04d}")
    try:
        await db.backup_to(target)
    except (sqlite3.Error, OSError) as error:
        target.unlink(missing_ok=True)  # a partial copy would look like a good backup
        raise StorageUnavailable(
            f"Haven did not migrate {db.path}: the backup before migration {first.name} "
            f"could not be written to {target} ({error}).",
            f"Free some disk space or make {target.parent} writable, then start Haven again. "
            "The database was not changed.",
        ) from error
    log.info("Backed up %s to %s before applying migration %s", db.path, target, first.name)
    return target
