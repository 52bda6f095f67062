"""SQLite access under asyncio: one writer behind a lock with BEGIN IMMEDIATE, one reader.

Why this shape: SQLite has one writer at a time, and a
deferred transaction that reads then writes gets SQLITE_BUSY without waiting. Sharing one
aiosqlite connection between concurrent transactions interleaves them. So every write runs on
the writer connection inside `async with db.write()`, which holds an asyncio.Lock from BEGIN
IMMEDIATE to COMMIT; reads go to a separate connection as single statements, never holding a
transaction across an await (WAL lets them run beside the writer).

Two faults the file system can cause are handled here. If the database file is deleted, moved
or replaced while Haven runs, the open connections keep writing to a file nobody will read
again, so every write first checks that the path still names the file that was opened and is
refused otherwise. And a reader that holds an old snapshot stops checkpoints, so the write-ahead
log only grows; `WalKeeper` truncates it when writes are quiet and warns when it gets large.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite

from bot.core.errors import StorageUnavailable

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]

# What moderators read when the file went away: the card says nothing can be saved and that it
# is not theirs to fix; the operator's log line says what to do.
FILE_LOST_MESSAGE = (
    "Haven cannot save changes right now: its database file was moved or deleted. "
    "Nothing was changed; the operator has been told."
)

# SQLite's own checkpoints keep a log of up to about 4 MB (1000 pages) and reuse it from the
# start; what they never do is shrink a log that a long reader let grow. So in a quiet period
# the log is truncated once it is over 1 MB, and left alone below: the scheduler's lease
# heartbeat writes a page every 5 s, which is not worth an fsync and a truncation each time.
WAL_TRUNCATE_ABOVE_BYTES = 1024 * 1024
# No write for this long counts as quiet. The scheduler's lease heartbeat writes every 5 s, so
# a longer quiet period would never come while the scheduler runs.
WAL_QUIET_SECONDS = 2.0
WAL_POLL_SECONDS = 1.0
# Past this, checkpoints are not finishing: normally a reader holds an old snapshot.
WAL_WARN_BYTES = 64 * 1024 * 1024
# A TRUNCATE checkpoint waits for readers through the busy handler while holding the write
# lock; waiting the full BUSY_TIMEOUT_MS would stall every write behind a stuck reader.
CHECKPOINT_BUSY_TIMEOUT_MS = 100

FileIdentity = tuple[int, int]


def _identity(path: Path) -> FileIdentity:
    status = os.stat(path)
    return (status.st_dev, status.st_ino)


def timestamped_path(path: Path, label: str, now: datetime | None = None) -> Path:
    """A new file beside `path` named with `label` and the UTC time, e.g.
    haven.before-0002.20261201T112233Z.db; never an existing file (a counter is added)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.stem}.{label}.{stamp}{path.suffix}")
    counter = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{label}.{stamp}-{counter}{path.suffix}")
        counter += 1
    return candidate


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The outcome of `PRAGMA wal_checkpoint(TRUNCATE)`: `busy` when a reader or writer kept
    it from finishing (the log was then not truncated)."""

    busy: bool
    log_frames: int
    checkpointed_frames: int


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

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        identity: FileIdentity | None = None,
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        # The file the connections opened, as (device, inode): a path that stops naming it
        # means the file was deleted, moved or replaced under us.
        self._identity = identity if identity is not None else _identity(path)
        self._file_lost = False
        self._loss_reported = False
        self._lost_found = ""
        self._last_write = time.monotonic()

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
            # Taken once both connections have the file open, so it names that file.
            identity = _identity(path)
        except (sqlite3.Error, OSError) as error:
            for connection in (reader, writer):
                if connection is not None:
                    await connection.close()
            raise _describe_open_error(path, error) from error
        return cls(path, writer, reader, identity)

    @staticmethod
    async def _configure(connection: aiosqlite.Connection) -> None:
        connection.row_factory = sqlite3.Row
        await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA foreign_keys=ON")

    async def close(self) -> None:
        async with self._write_lock:
            await self._reader.close()
            await self._writer.close()

    @property
    def file_lost(self) -> bool:
        """True while the path no longer names the file Haven opened (writes are refused)."""
        return self._file_lost

    def _same_file(self) -> bool:
        """Whether the path still names the file the connections hold open.

        Asked on every write transaction, before BEGIN and again before COMMIT: an os.stat is
        a few microseconds against a few hundred for an aiosqlite commit, so there is no reason
        to ask less often and let a change through. If the file comes back (moved back),
        writes simply resume.
        """
        try:
            now: FileIdentity | None = _identity(self.path)
        except OSError:
            now = None
        if now == self._identity:
            if self._file_lost:
                self._file_lost = self._loss_reported = False
                log.warning("The database file %s is back; Haven saves changes again.", self.path)
            return True
        if not self._file_lost:
            self._file_lost = True
            self._lost_found = (
                "nothing is there now" if now is None else "another file is there now"
            )
        return False

    async def _refuse_lost_file(self) -> NoReturn:
        """Tell the operator once per loss, secure what was committed, refuse the write."""
        if not self._loss_reported:
            self._loss_reported = True
            log.error(
                "The database file %s was deleted, moved or replaced while Haven was running "
                "(%s). Haven refuses every change until this is fixed, so nothing is saved "
                "into a file nobody will read; /support keeps answering from memory. Put the "
                "original file back at %s, or restart Haven to open whatever is at that path "
                "(restore a backup there first).",
                self.path,
                self._lost_found,
                self.path,
            )
            # Copy everything committed into the file we hold open and empty the log at the
            # path: a file moved away without its -wal then still has every change, and a file
            # put in its place is not read through our log (SQLite would apply its frames).
            with contextlib.suppress(sqlite3.Error):
                await self._checkpoint_unlocked()
        raise StorageUnavailable(FILE_LOST_MESSAGE)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: everything inside commits together or not at all."""
        async with self._write_lock:
            if not self._same_file():
                await self._refuse_lost_file()
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                self._last_write = time.monotonic()
                raise
            self._last_write = time.monotonic()
            if not self._same_file():
                # Removed during the transaction: it must not be swallowed by the lost file.
                await self._writer.execute("ROLLBACK")
                await self._refuse_lost_file()
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
            if not self._same_file():
                await self._refuse_lost_file()
            self._last_write = time.monotonic()
            try:
                version = int(user_version)
                await self._writer.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version={version};\nCOMMIT;"
                )
            except sqlite3.Error:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    def seconds_since_last_write(self) -> float:
        return time.monotonic() - self._last_write

    def wal_size(self) -> int:
        """Bytes in the write-ahead log file beside the database (0 when there is none)."""
        try:
            return os.stat(f"{self.path}-wal").st_size
        except OSError:
            return 0

    async def checkpoint(self) -> Checkpoint:
        """Copy the write-ahead log into the database and truncate it to zero bytes.

        Under the write lock, so no write of ours is in flight; with a short busy timeout, so a
        reader holding an old snapshot makes it give up quickly (busy) instead of stalling
        every write for the full timeout. It is retried at the next quiet moment.
        """
        async with self._write_lock:
            return await self._checkpoint_unlocked()

    async def _checkpoint_unlocked(self) -> Checkpoint:
        await self._writer.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
        try:
            rows = list(await self._writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
        finally:
            await self._writer.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        busy, log_frames, checkpointed = rows[0] if rows else (1, -1, -1)
        return Checkpoint(bool(busy), int(log_frames), int(checkpointed))

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


class WalKeeper:
    """Keeps the write-ahead log small: a TRUNCATE checkpoint once writes have been quiet for a
    while, and one warning when the log passes `warn_bytes` (again only after it came back
    under). The composition root runs `run()` beside the bot for as long as the database is
    open."""

    def __init__(
        self,
        db: Database,
        *,
        quiet_seconds: float = WAL_QUIET_SECONDS,
        poll_seconds: float = WAL_POLL_SECONDS,
        truncate_above_bytes: int = WAL_TRUNCATE_ABOVE_BYTES,
        warn_bytes: int = WAL_WARN_BYTES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self._sleep = sleep
        self._quiet_seconds = quiet_seconds
        self._poll_seconds = poll_seconds
        self._truncate_above = truncate_above_bytes
        self._warn_bytes = warn_bytes
        self._warned = False

    async def run(self) -> None:
        while True:
            await self._sleep(self._poll_seconds)
            try:
                await self.step()
            except (sqlite3.Error, OSError) as error:
                # A checkpoint that fails is not urgent: the log is still consistent, and the
                # next quiet moment tries again.
                log.debug("WAL checkpoint failed (%s); will retry", error)
            except Exception:
                # A bug here must not end the task (the log would then grow unwatched) nor
                # repeat its traceback every second.
                log.exception("WAL upkeep failed; trying again in a minute")
                await self._sleep(60.0)

    async def step(self) -> None:
        """One look at the log: warn if it is too big, truncate it if writes are quiet."""
        if self._db.file_lost:
            return  # the log beside the path is not ours any more
        size = self._db.wal_size()
        self._warn_if_large(size)
        if size <= self._truncate_above:
            return
        if self._db.seconds_since_last_write() < self._quiet_seconds:
            return
        result = await self._db.checkpoint()
        if result.busy:
            log.debug("WAL checkpoint blocked by a reader; the log stays at %d bytes", size)
            return
        log.debug("WAL checkpointed and truncated (was %d bytes)", size)
        self._warn_if_large(self._db.wal_size())

    def _warn_if_large(self, size: int) -> None:
        if size <= self._warn_bytes:
            if self._warned:
                self._warned = False
                log.info(
                    "The database's write-ahead log %s-wal is back under %s.",
                    self._db.path,
                    _size(self._warn_bytes),
                )
            return
        if self._warned:
            return
        self._warned = True
        log.warning(
            "The database's write-ahead log %s-wal is %s, past the %s Haven expects: "
            "it cannot be checkpointed while something holds an old snapshot. Check for another "
            "program keeping the database open inside a long transaction (a sqlite3 shell, a "
            "backup, sync or monitoring tool reading the file) and stop it, and check the free "
            "disk space; Haven truncates the log at the next quiet moment after that.",
            self._db.path,
            _size(size),
            _size(self._warn_bytes),
        )


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count / 1024:.0f} KB"


async def executemany(connection: aiosqlite.Connection, sql: str, rows: Iterable[Params]) -> None:
    await connection.executemany(sql, rows)
