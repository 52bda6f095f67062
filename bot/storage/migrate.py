"""Schema migrations with Alembic, on either engine; each revision atomic.

The revisions in bot/storage/migrations/versions are numbered (0001, 0002, ...), and on SQLite
`PRAGMA user_version` mirrors the number, as Haven's earlier numbered .sql migrations kept it:
a database those made (user_version 1 to 3, no alembic_version table) is stamped at the
revision with its number, then upgraded in place; and an older Haven still refuses a database
that a newer one migrated. A database at a revision this Haven does not ship was written by a
newer Haven and is refused.

On SQLite, before an existing database is migrated, an online backup of it is written beside
it: a migration that succeeds but turns out wrong (or a Haven downgrade) is then a file copy
away from undoing. A brand-new database has nothing to lose and gets none. On PostgreSQL the
operator backs up with `haven db backup` (pg_dump) before an upgrade, and every pending
revision runs in one transaction under an advisory lock, so two processes starting together
never both migrate.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import exc, inspect
from sqlalchemy.engine import Connection

from bot.core.errors import StorageError, StorageUnavailable
from bot.storage.database import Database, SqlDatabase, timestamped_path, translated

log = logging.getLogger(__name__)

_REVISION = re.compile(r"^\d{4}$")
# Any fixed number: the key of the lock PostgreSQL holds while one process migrates.
_MIGRATION_LOCK = 0x4A5E_0001


def script_location() -> Path:
    """Where the revisions are (a function, so a test can point it at a copy)."""
    return Path(str(resources.files("bot.storage") / "migrations"))


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str  # the revision file's name without .py, e.g. 0002_schedules


@dataclass(frozen=True, slots=True)
class MigrationReport:
    from_version: int
    to_version: int
    applied: tuple[str, ...]
    # The copy taken before the first migration ran; None when nothing was pending, the
    # database was brand new, or it is PostgreSQL (backed up by the operator).
    backup: Path | None = None


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["connection"] = connection
    return config


def available_migrations() -> list[Migration]:
    """The revisions shipped with this version of Haven, in order: numbers grow along the
    chain. A number may be skipped (revisions written on parallel branches keep the ids they
    were given when the chain is re-linked), never run backwards."""
    scripts = ScriptDirectory.from_config(_config())
    found: list[Migration] = []
    # walk_revisions goes from the head down to the first revision.
    for script in reversed(list(scripts.walk_revisions())):
        if not _REVISION.match(script.revision):
            raise RuntimeError(f"Migration {script.path} is not numbered like 0001.")
        migration = Migration(int(script.revision), Path(script.path).stem)
        if found and migration.version <= found[-1].version:
            raise RuntimeError(
                f"Migration {migration.name} follows {found[-1].name} but is not numbered after it."
            )
        found.append(migration)
    return found


def latest_version() -> int:
    migrations = available_migrations()
    return migrations[-1].version if migrations else 0


def _revision(version: int) -> str:
    return f"{version:04d}"


def _stored_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def _version_of(revision: str | None, legacy: int) -> tuple[int, bool, str | None]:
    """(version, tracked by Alembic, a revision this Haven does not know or None)."""
    if revision is None:
        return legacy, False, None
    if not _REVISION.match(revision):
        return 0, True, revision
    return int(revision), True, None


def _newer(db: SqlDatabase, found: str, latest: int) -> StorageUnavailable:
    return StorageUnavailable(
        f"The database {db.label} has schema version {found}, newer than this Haven "
        f"knows (up to {latest}).",
        "Upgrade Haven to the version that wrote it, or restore a backup made by this "
        "version. Nothing was changed.",
    )


async def schema_version(db: SqlDatabase) -> tuple[int, bool]:
    """The database's schema version and whether Alembic tracks it; refuses a newer one."""
    async with db.engine.connect() as connection:
        with translated():
            revision = await connection.run_sync(_stored_revision)
    legacy = await db.user_version() if isinstance(db, Database) else 0
    version, tracked, unknown = _version_of(revision, legacy)
    latest = latest_version()
    if unknown is not None:
        raise _newer(db, unknown, latest)
    # user_version mirrors the revision; a larger one is an older or newer Haven's say-so
    # that this file is beyond us, whatever alembic_version holds.
    version = max(version, legacy)
    if version > latest:
        raise _newer(db, str(version), latest)
    return version, tracked


async def check_schema_version(db: SqlDatabase) -> int:
    """Refuse a database written by a newer Haven: running on it could corrupt its data."""
    version, _ = await schema_version(db)
    return version


def _step(connection: Connection, tracked: bool, current: int, target: int) -> None:
    """On a connection inside a transaction: stamp an untracked (legacy) schema at its
    version, then upgrade to `target`."""
    config = _config(connection)
    if not tracked and current > 0:
        command.stamp(config, _revision(current))
    if target > current:
        command.upgrade(config, _revision(target))


async def migrate(db: SqlDatabase, up_to: int | None = None) -> MigrationReport:
    """Apply every pending migration (`up_to`: only those up to that version, for tests that
    build a database as an older Haven left it). On SQLite each runs in its own transaction
    with its version bump, so a failure leaves the database exactly at the last good one."""
    if isinstance(db, Database):
        return await _migrate_sqlite(db, up_to)
    return await _migrate_postgres(db, up_to)


def _pending(current: int, up_to: int | None) -> list[Migration]:
    return [
        m
        for m in available_migrations()
        if m.version > current and (up_to is None or m.version <= up_to)
    ]


async def _migrate_sqlite(db: Database, up_to: int | None) -> MigrationReport:
    current, tracked = await schema_version(db)
    pending = _pending(current, up_to)
    # user_version 0 is a file no migration has touched: a new database, nothing to keep.
    backup = await backup_before_migrating(db, pending[0]) if pending and current > 0 else None
    applied: list[str] = []
    start = current
    # A legacy database already at the newest number is only stamped (one step, no revision).
    steps: list[Migration | None] = list(pending) or ([] if tracked or current == 0 else [None])
    async with db.exclusive() as connection:
        for migration in steps:
            target = migration.version if migration else current
            try:
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    await connection.run_sync(_step, tracked, current, target)
                    await connection.exec_driver_sql(f"PRAGMA user_version={int(target)}")
                except BaseException:
                    await connection.exec_driver_sql("ROLLBACK")
                    raise
                await connection.exec_driver_sql("COMMIT")
            except (exc.DBAPIError, exc.SQLAlchemyError, sqlite3.Error) as error:
                name = migration.name if migration else f"stamp {_revision(current)}"
                original = getattr(error, "orig", None) or error
                raise StorageUnavailable(
                    f"Migration {name} failed: {original}.",
                    f"The database was left at version {current}, as it was before this step.",
                ) from error
            tracked = True
            if migration is not None:
                log.info("Applied database migration %s", migration.name)
                applied.append(migration.name)
                current = migration.version
    return MigrationReport(start, current, tuple(applied), backup)


async def _migrate_postgres(db: SqlDatabase, up_to: int | None) -> MigrationReport:
    applied: list[str] = []
    try:
        async with db.engine.begin() as connection:
            # Inside the lock the version is read again: another process may have migrated.
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            revision = await connection.run_sync(_stored_revision)
            current, tracked, unknown = _version_of(revision, 0)
            latest = latest_version()
            if unknown is not None or current > latest:
                raise _newer(db, unknown or str(current), latest)
            pending = _pending(current, up_to)
            if pending:
                await connection.run_sync(_step, tracked, current, pending[-1].version)
                applied = [m.name for m in pending]
    except exc.DBAPIError as error:
        raise StorageUnavailable(
            f"Migrating {db.label} failed: {error.orig}.",
            "Nothing was changed: every pending migration runs in one transaction.",
        ) from error
    for name in applied:
        log.info("Applied database migration %s", name)
    reached = max(current, latest if up_to is None else min(latest, up_to))
    return MigrationReport(current, reached, tuple(applied), None)


async def backup_before_migrating(db: Database, first: Migration) -> Path:
    """An online backup beside the database, named for the migration it precedes and the time.

    If it cannot be written, nothing is migrated: running a migration with no way back is the
    thing this backup exists to prevent.
    """
    target = timestamped_path(db.path, f"before-{first.version:04d}")
    try:
        await db.backup_to(target)
    except (sqlite3.Error, StorageError, OSError) as error:
        target.unlink(missing_ok=True)  # a partial copy would look like a good backup
        raise StorageUnavailable(
            f"Haven did not migrate {db.path}: the backup before migration {first.name} "
            f"could not be written to {target} ({error}).",
            f"Free some disk space or make {target.parent} writable, then start Haven again. "
            "The database was not changed.",
        ) from error
    log.info("Backed up %s to %s before applying migration %s", db.path, target, first.name)
    return target
