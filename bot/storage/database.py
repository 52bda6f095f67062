"""SQLite access under asyncio: one writer behind a lock with BEGIN IMMEDIATE, one reader.

Why this shape: SQLite has one writer at a time, and a
deferred transaction that reads then writes gets SQLITE_BUSY without waiting. Sharing one
aiosqlite connection between concurrent transactions interleaves them. So every write runs on
the writer connection inside `async with db.write()`, which holds an asyncio.Lock from BEGIN
IMMEDIATE to COMMIT; reads go to a separate connection as single statements, never holding a
transaction across an await (WAL lets them run beside the writer).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.errors import StorageUnavailable

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]


def _describe_open_error(path: Path, error: Exception) -> StorageUnavailable:
    text = str(error).lower()
    if "not a database" in text or "malformed" in text or "disk image" in text:
        return StorageUnavailable(
            f"The database file {path} is damaged or is not a Haven database.",
            "Restore it from a backup (haven db backup makes one), or move it aside to start "
            "fresh; Haven has not changed it.",
        )
    if "readonly" in text or "permission" in text or "unable to open" in text:
        return StorageUnavailable(
            f"Haven cannot write its database at {path} ({error}).",
            "Check that the folder exists and is writable by this user, or set "
            "HAVEN_DATABASE_URL=sqlite:///a/writable/path/haven.db.",
        )
    return StorageUnavailable(f"Haven cannot open its database at {path}: {error}.")


class Database:
    """The project's single handle on SQLite. Create with `await Database.open(path)`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        path = path.expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable(
                f"Haven cannot create the folder {path.parent} for its database "
                f"({error.strerror}).",
                "Create it, make it writable, or set HAVEN_DATABASE_URL=sqlite:///other/path.db.",
            ) from error
        writer: aiosqlite.Connection | None = None
        reader: aiosqlite.Connection | None = None
        try:
            # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
            writer = await aiosqlite.connect(str(path), isolation_level=None)
            await cls._configure(writer)
            await writer.execute("PRAGMA journal_mode=WAL")
            # NORMAL under WAL never corrupts; a power cut may lose the last commit (documented).
            await writer.execute("PRAGMA synchronous=NORMAL")
            reader = await aiosqlite.connect(str(path), isolation_level=None)
            await cls._configure(reader)
            await reader.execute("PRAGMA query_only=ON")
            # Touch the schema so a damaged or foreign file fails here, not mid-request.
            await reader.execute_fetchall("SELECT count(*) FROM sqlite_master")
        except (sqlite3.Error, OSError) as error:
            for connection in (reader, writer):
                if connection is not None:
                    await connection.close()
            raise _describe_open_error(path, error) from error
        return cls(path, writer, reader)

    @staticmethod
    async def _configure(connection: aiosqlite.Connection) -> None:
        connection.row_factory = sqlite3.Row
        await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA foreign_keys=ON")

    async def close(self) -> None:
        async with self._write_lock:
            await self._reader.close()
            await self._writer.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: everything inside commits together or not at all."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        rows = await self._reader.execute_fetchall(sql, params)
        return list(rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        # One round trip that finalises the statement: a cursor left open across an await would
        # hold the reader's snapshot, and concurrent reads would miss rows just committed.
        rows = await self._reader.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def writer_fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Read on the writer connection: for reads that must see a transaction just committed
        by this process before the reader's WAL snapshot advances (rarely needed)."""
        async with self._write_lock:
            rows = await self._writer.execute_fetchall(sql, params)
            return list(rows)

    async def execute_script_atomically(self, script: str, user_version: int) -> None:
        """Run a migration script and set `user_version` in one transaction.

        sqlite3's executescript() commits any open transaction first, so BEGIN and COMMIT are
        part of the script; if a statement fails we roll back, leaving the file as it was.
        """
        async with self._write_lock:
            try:
                version = int(user_version)
                await self._writer.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version={version};\nCOMMIT;"
                )
            except sqlite3.Error:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    async def user_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def backup_to(self, target: Path) -> None:
        """A consistent copy while the bot runs, through SQLite's online backup API, from a
        dedicated connection so the bot's own connections are not blocked for the copy."""
        target = target.expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        source = await aiosqlite.connect(str(self.path))
        try:
            destination = await aiosqlite.connect(str(target))
            try:
                await source.backup(destination)
            finally:
                await destination.close()
        finally:
            await source.close()


async def executemany(connection: aiosqlite.Connection, sql: str, rows: Iterable[Params]) -> None:
    await connection.executemany(sql, rows)
