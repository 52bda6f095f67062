"""`haven db backup` on either engine: a consistent copy, never a partial or replaced file.

SQLite: the online backup API into a temporary file beside the target, renamed into place.
PostgreSQL: `pg_dump` (custom format, restored with `pg_restore`) the same way, when the
client programs are installed; when they are not, the operator is told so in one sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from bot.core.errors import HavenError
from bot.files import DATABASE_SIDE_FILES, is_database_file
from bot.storage.database import Database, SqlDatabase, timestamped_path
from bot.storage.postgres import PostgresDatabase, asyncpg_url


def _partial_beside(target: Path) -> Path:
    """An empty temporary file beside `target`, renamed onto it once the backup is whole."""
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=folder)
    except OSError as error:
        raise HavenError(
            f"Haven cannot write a backup in {folder} ({error.strerror}); no backup was made."
        ) from None
    os.close(handle)
    return Path(name)


def backup_problem(source: Path | None, target: Path, force: bool) -> str | None:
    """Why a backup cannot be written to `target`, as one sentence, or None. `source` is the
    live SQLite file (None for a server's database, which has no file here)."""
    # A backup onto the live file or one of SQLite's side files would damage the database.
    if source is not None and is_database_file(target, source):
        return (
            f"{target} is the live database itself; a backup must go to another file, "
            "e.g. haven db backup (a time-stamped copy beside it)."
        )
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, so it cannot hold the backup {target}."
            break
    if target.is_dir():
        return f"{target} is a folder; name a file inside it, e.g. {target / 'haven-backup.db'}."
    if target.exists() and not target.is_file():
        return f"{target} is not a regular file (a device or pipe); choose a file for the backup."
    if target.exists() and not force:
        return f"{target} already exists; choose another name, or add --force to replace it."
    return None


async def write_sqlite_backup(database: Database, target: Path, force: bool) -> None:
    """Write the copy to a temporary file beside `target`, then move it into place, so a
    failure part-way (a full disk, no permission) never leaves a partial backup, or a
    half-overwritten old one, under the name asked for."""
    partial = _partial_beside(target)
    moved = False
    try:
        await database.backup_to(partial)
        _put_in_place(partial, target, force)
        moved = True
    except (sqlite3.Error, OSError) as error:
        raise HavenError(_backup_failure(error, target), "Nothing was left behind.") from None
    finally:
        if not moved:
            for suffix in DATABASE_SIDE_FILES:
                with contextlib.suppress(OSError):
                    partial.with_name(partial.name + suffix).unlink()


def _put_in_place(partial: Path, target: Path, force: bool) -> None:
    with partial.open("rb+") as written:
        os.fsync(written.fileno())  # on disk before it takes the backup's name
    if force:
        os.replace(partial, target)
    else:
        _move_without_replacing(partial, target)


def _move_without_replacing(partial: Path, target: Path) -> None:
    """Rename, but never onto a file that appeared since the check: a hard link fails if the
    name exists. File systems without hard links get a plain rename after a last check."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise OSError(errno.EEXIST, "it appeared while the backup was written") from None
    except OSError:
        if target.exists():
            raise OSError(errno.EEXIST, "it appeared while the backup was written") from None
        os.rename(partial, target)
        return
    partial.unlink()


def _backup_failure(error: sqlite3.Error | OSError, target: Path) -> str:
    code = getattr(error, "sqlite_errorname", "")
    if code == "SQLITE_FULL" or (
        isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)
    ):
        return f"The disk holding {target.parent} is full, so the backup to {target} failed."
    if code.startswith("SQLITE_IOERR") or (
        isinstance(error, OSError) and error.errno == errno.EFBIG
    ):
        return (
            f"The disk refused to write the backup {target} (full, over a quota or a file-size "
            "limit, or failing)."
        )
    if isinstance(error, OSError):
        return f"Haven could not write the backup {target} ({error.strerror or error})."
    return f"Haven could not write the backup {target} ({error})."


def default_target(database: SqlDatabase, now: datetime | None = None) -> Path:
    """Where a backup goes without FILE: beside a SQLite file (haven.backup.<time>.db, the
    naming of the backup before a migration), or in this folder for PostgreSQL
    (<database>.backup.<time>.dump)."""
    if isinstance(database, Database):
        return timestamped_path(database.path, "backup", now)
    assert isinstance(database, PostgresDatabase)
    name = asyncpg_url(database.url).database or "haven"
    return timestamped_path(Path.cwd() / f"{name}.dump", "backup", now)


def pg_dump_path() -> str | None:
    return shutil.which("pg_dump")


async def write_postgres_backup(database: PostgresDatabase, target: Path, force: bool) -> None:
    """`pg_dump --format=custom` into a temporary file beside `target`, then into place."""
    program = pg_dump_path()
    if program is None:
        raise HavenError(
            "Haven backs up PostgreSQL with pg_dump, which is not installed here; no backup "
            "was made.",
            "Install PostgreSQL's client programs (Debian and Ubuntu: apt install "
            "postgresql-client, the same major version as the server or newer), or back up "
            "with your provider's own tool.",
        )
    url = asyncpg_url(database.url)
    environment = dict(os.environ)
    if url.password:
        # Through the environment, never the command line (which other users can read).
        environment["PGPASSWORD"] = url.password
    arguments = ["--format=custom", "--no-owner", f"--dbname={_libpq_url(database.url)}"]
    partial = _partial_beside(target)
    moved = False
    try:
        process = await asyncio.create_subprocess_exec(
            program,
            *arguments,
            f"--file={partial}",
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        if process.returncode != 0:
            said = stderr.decode("utf-8", "replace").strip().splitlines()
            raise HavenError(
                f"pg_dump could not back up {database.label}: "
                f"{said[-1] if said else f'exit status {process.returncode}'}.",
                "Nothing was left behind.",
            )
        try:
            _put_in_place(partial, target, force)
        except OSError as error:
            raise HavenError(_backup_failure(error, target), "Nothing was left behind.") from None
        moved = True
    finally:
        if not moved:
            with contextlib.suppress(OSError):
                partial.unlink()


def _libpq_url(url: str) -> str:
    """The URL as libpq (pg_dump) reads it: no driver name, no password."""
    parsed = asyncpg_url(url).set(drivername="postgresql", password=None)
    return parsed.render_as_string(hide_password=False)


async def write_backup(database: SqlDatabase, target: Path, force: bool) -> None:
    if isinstance(database, Database):
        await write_sqlite_backup(database, target, force)
    else:
        assert isinstance(database, PostgresDatabase)
        await write_postgres_backup(database, target, force)
