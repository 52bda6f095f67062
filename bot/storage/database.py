"""One storage handle over SQLAlchemy's async engine: SQLite (the default) or PostgreSQL.

Repositories write each statement once, as SQL both engines run (`ON CONFLICT ... DO UPDATE`,
`RETURNING`, `IN` lists bound as expanding parameters), against the `SqlDatabase` interface:
`write()` for a transaction, `fetch_all` / `fetch_one` for single-statement reads, and the few
engine facts a statement may need (`for_update`). Driver errors come out as the storage-neutral
errors of bot/core/errors.py, so nothing above this package names an engine.

SQLite under asyncio keeps its own shape. It has one writer at a time, and a deferred
transaction that reads then writes gets SQLITE_BUSY without waiting; sharing one connection
between concurrent transactions interleaves them. So every write runs on the writer connection
inside `async with db.write()`, which holds an asyncio.Lock from BEGIN IMMEDIATE to COMMIT;
reads go to a separate connection as single statements, never holding a transaction across an
await (WAL lets them run beside the writer). Both connections are in the driver's autocommit
mode so that SQLAlchemy never begins or commits behind our BEGIN IMMEDIATE.

Two faults the file system can cause are handled here. If the database file is deleted, moved
or replaced while Haven runs, the open connections keep writing to a file nobody will read
again, so every write first checks that the path still names the file that was opened and is
refused otherwise. And a reader that holds an old snapshot stops checkpoints, so the write-ahead
log only grows; `WalKeeper` truncates it when writes are quiet and warns when it gets large.

PostgreSQL (bot/storage/postgres.py) needs none of that: a pool of connections, each write its
own transaction, row locks where two processes could race.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
import os
import re
import sqlite3
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite
from sqlalchemy import bindparam, exc, inspect, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import TextClause

from bot.core.errors import IntegrityError, OperationalError, StorageError, StorageUnavailable

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
Params = Sequence[Any] | Mapping[str, Any]

_QMARK = re.compile(r"\?")


class Row(Sequence[Any]):
    """One result row, by position and by column name (the shape sqlite3.Row gave callers)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: tuple[Any, ...], index: Mapping[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row):
            return self._values == other._values
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Row{self._values!r}"

    def keys(self) -> list[str]:
        return list(self._index)


def _expanding(value: object) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


@functools.lru_cache(maxsize=1024)
def _clause(sql: str, expanding: frozenset[str]) -> TextClause:
    clause = text(sql)
    if expanding:
        clause = clause.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    return clause


@functools.lru_cache(maxsize=1024)
def _named_sql(sql: str) -> str:
    """`?` placeholders as `:p0, :p1, ...`: the statements here (and the tests') are written
    in the positional style sqlite3 reads, and SQLAlchemy's text() binds by name."""
    counter = iter(range(10_000))
    return _QMARK.sub(lambda _match: f":p{next(counter)}", sql)


def bind(sql: str, params: Params = ()) -> tuple[TextClause, dict[str, Any]]:
    """A statement and its parameters by name. A list or tuple value is bound as an expanding
    parameter: `id IN :ids` (or `IN ?`) becomes `IN (...)` on either engine, an empty list a
    condition that matches nothing."""
    if isinstance(params, Mapping):
        named = dict(params)
    else:
        sql = _named_sql(sql)
        named = {f"p{i}": value for i, value in enumerate(params)}
    expanding = frozenset(name for name, value in named.items() if _expanding(value))
    named = {k: list(v) if k in expanding else v for k, v in named.items()}
    return _clause(sql, expanding), named


def _translate(error: exc.DBAPIError) -> StorageError:
    """The driver's error as a storage-neutral one, with the driver's own sentence."""
    original = error.orig if error.orig is not None else error
    message = str(original).strip() or type(original).__name__
    if isinstance(error, exc.IntegrityError):
        return IntegrityError(message)
    return OperationalError(message)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Run database calls so that only storage-neutral errors leave this package."""
    try:
        yield
    except exc.DBAPIError as error:
        raise _translate(error) from error
    except sqlite3.IntegrityError as error:
        raise IntegrityError(str(error)) from error
    except sqlite3.Error as error:
        raise OperationalError(str(error) or type(error).__name__) from error


_SQLITE_DIALECT = sqlite_dialect.dialect()


def sqlite_statement(sql: str, params: Params = ()) -> tuple[str, tuple[Any, ...]]:
    """The statement as sqlite3 itself takes it: `?` placeholders and a tuple. Positional
    parameters without lists pass through untouched (the common case, no work at all);
    named ones and IN lists are rendered by SQLAlchemy's own SQLite compiler."""
    if not isinstance(params, Mapping) and not any(_expanding(v) for v in params):
        return sql, tuple(params)
    clause, named = bind(sql, params)
    compiled = clause.bindparams(**named).compile(
        dialect=_SQLITE_DIALECT, compile_kwargs={"render_postcompile": True}
    )
    order = compiled.positiontup or []
    return compiled.string, tuple(compiled.params[name] for name in order)


def _run_on_thread(
    connection: sqlite3.Connection, sql: str, params: tuple[Any, ...]
) -> tuple[list[tuple[Any, ...]], list[str], int]:
    """One statement, its rows and its row count, in one trip to aiosqlite's thread."""
    cursor = connection.execute(sql, params)
    try:
        rows = [tuple(row) for row in cursor.fetchall()]
        names = [column[0] for column in cursor.description or ()]
        return rows, names, cursor.rowcount
    finally:
        cursor.close()


async def sqlite_execute(
    connection: aiosqlite.Connection, sql: str, params: Params = ()
) -> Outcome:
    """Run a statement straight on the aiosqlite connection SQLAlchemy opened. SQLAlchemy's
    own execution path costs several thread round trips per statement on aiosqlite (about
    0.4 ms for a point read against 0.02 ms directly), which the scheduler's and the
    writer's hot paths would pay on every call; the statements are the same text either
    way, and the engine, migrations and PostgreSQL still go through SQLAlchemy.
    `_execute` is how aiosqlite itself runs each call on its thread (aiosqlite is pinned
    below 0.23 in pyproject.toml for this)."""
    text_sql, values = sqlite_statement(sql, params)
    with translated():
        rows, names, rowcount = await connection._execute(  # type: ignore[no-untyped-call]
            _run_on_thread, connection._conn, text_sql, values
        )
    index = {name: i for i, name in enumerate(names)}
    found = [Row(values_, index) for values_ in rows]
    return Outcome(len(found) if found else max(int(rowcount), 0), found)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a statement did: rows changed, and the rows it returned (RETURNING, SELECT)."""

    rowcount: int
    rows: list[Row]

    def first(self) -> Row | None:
        return self.rows[0] if self.rows else None


def _rows(result: Any) -> list[Row]:
    if not result.returns_rows:
        return []
    index = {name: i for i, name in enumerate(result.keys())}
    return [Row(tuple(values), index) for values in result.fetchall()]


class Tx:
    """An open write transaction: statements run on it commit together or not at all.
    `connection` is SQLAlchemy's, for Core statements (copying whole tables)."""

    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect

    async def execute(self, sql: str, params: Params = ()) -> Outcome:
        clause, named = bind(sql, params)
        with translated():
            result = await self.connection.execute(clause, named)
            rows = _rows(result)
            return Outcome(max(int(result.rowcount), 0) if not rows else len(rows), rows)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return (await self.execute(sql, params)).rows

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return (await self.execute(sql, params)).first()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = list(rows)
        if not batch:
            return  # SQLAlchemy would run the statement once with no parameters
        first = batch[0]
        clause, _ = bind(sql, first)
        named = [bind(sql, row)[1] for row in batch]
        with translated():
            await self.connection.execute(clause, named)


class SqliteTx(Tx):
    """The SQLite writer's transaction: statements straight on its aiosqlite connection."""

    def __init__(
        self, connection: AsyncConnection, driver: aiosqlite.Connection, dialect: str
    ) -> None:
        super().__init__(connection, dialect)
        self.driver = driver

    async def execute(self, sql: str, params: Params = ()) -> Outcome:
        return await sqlite_execute(self.driver, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [sqlite_statement(sql, row) for row in rows]
        if not batch:
            return
        with translated():
            await self.driver.executemany(batch[0][0], [values for _, values in batch])


class SqlDatabase(abc.ABC):
    """What repositories need from either engine. `dialect` is "sqlite" or "postgresql"."""

    dialect: str = ""
    # A URL or path for messages (never with a password).
    label: str = ""

    @property
    @abc.abstractmethod
    def engine(self) -> AsyncEngine: ...

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def for_update(self) -> str:
        """The row-lock clause for a read inside a write transaction that decides what to
        write: PostgreSQL's concurrent transactions need it; SQLite's one writer already
        excludes every other (and has no such clause)."""
        return "" if self.is_sqlite else " FOR UPDATE"

    @property
    def skip_locked(self) -> str:
        """Claim rows no other transaction holds (queue-like claims by several processes)."""
        return "" if self.is_sqlite else " FOR UPDATE SKIP LOCKED"

    @abc.abstractmethod
    def write(self) -> contextlib.AbstractAsyncContextManager[Tx]: ...

    @abc.abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def writer_fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Read where a transaction this process just committed is certainly visible."""
        return await self.fetch_all(sql, params)

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def table_names(self) -> list[str]:
        """Every table in the database, Haven's and Alembic's (checks that scan all data)."""
        async with self.engine.connect() as connection:
            with translated():
                names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        return sorted(str(name) for name in names)


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


async def _driver_of(connection: AsyncConnection) -> aiosqlite.Connection:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, aiosqlite.Connection)
    return driver


def _driver_error(error: Exception) -> Exception:
    """The sqlite3 error SQLAlchemy wrapped, for the sentences that read its text."""
    if isinstance(error, exc.DBAPIError) and isinstance(error.orig, Exception):
        return error.orig
    return error


class Database(SqlDatabase):
    """The SQLite handle. Create with `await Database.open(path)`."""

    dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        engine: AsyncEngine,
        writer: AsyncConnection,
        reader: AsyncConnection,
        drivers: tuple[aiosqlite.Connection, aiosqlite.Connection],
        identity: FileIdentity | None = None,
    ) -> None:
        self.path = path
        self.label = str(path)
        self._engine = engine
        self._writer = writer
        self._reader = reader
        # The aiosqlite connections under those two, where the statements run (sqlite_execute).
        self._writer_driver, self._reader_driver = drivers
        self._write_lock = asyncio.Lock()
        # The file the connections opened, as (device, inode): a path that stops naming it
        # means the file was deleted, moved or replaced under us.
        self._identity = identity if identity is not None else _identity(path)
        self._file_lost = False
        self._loss_reported = False
        self._lost_found = ""
        self._last_write = time.monotonic()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

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
        # NullPool: the two connections below are held for the life of the handle, and
        # nothing else may open one behind the writer's lock. AUTOCOMMIT: the driver's
        # isolation_level=None, so we issue BEGIN IMMEDIATE / COMMIT ourselves.
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{path}", poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )
        writer: AsyncConnection | None = None
        reader: AsyncConnection | None = None
        try:
            writer = await engine.connect()
            await cls._configure(writer)
            await writer.exec_driver_sql("PRAGMA journal_mode=WAL")
            # NORMAL under WAL never corrupts; a power cut may lose the last commit (documented).
            await writer.exec_driver_sql("PRAGMA synchronous=NORMAL")
            reader = await engine.connect()
            await cls._configure(reader)
            await reader.exec_driver_sql("PRAGMA query_only=ON")
            # Touch the schema so a damaged or foreign file fails here, not mid-request.
            await reader.exec_driver_sql("SELECT count(*) FROM sqlite_master")
            drivers = (await _driver_of(writer), await _driver_of(reader))
            # Taken once both connections have the file open, so it names that file.
            identity = _identity(path)
        except (exc.DBAPIError, sqlite3.Error, OSError) as error:
            for connection in (reader, writer):
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
            await engine.dispose()
            raise _describe_open_error(path, _driver_error(error)) from error
        return cls(path, engine, writer, reader, drivers, identity)

    @staticmethod
    async def _configure(connection: AsyncConnection) -> None:
        await connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not left in free pages: a request its
        # sender deleted (or that the retention purge removed) is gone from the file.
        await connection.exec_driver_sql("PRAGMA secure_delete=ON")

    async def close(self) -> None:
        async with self._write_lock:
            await self._reader.close()
            await self._writer.close()
            await self._engine.dispose()

    async def driver_connection(self) -> aiosqlite.Connection:
        """The writer's aiosqlite connection, for what only SQLite has (scripts, backups);
        callers hold the write lock or run before anything else uses the handle."""
        return self._writer_driver

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
            with contextlib.suppress(StorageError, exc.DBAPIError, sqlite3.Error):
                await self._checkpoint_unlocked()
        raise StorageUnavailable(FILE_LOST_MESSAGE)

    async def _driver_sql(self, sql: str) -> None:
        with translated():
            await self._writer_driver.execute(sql)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """A write transaction: everything inside commits together or not at all."""
        async with self._write_lock:
            if not self._same_file():
                await self._refuse_lost_file()
            await self._driver_sql("BEGIN IMMEDIATE")
            try:
                yield SqliteTx(self._writer, self._writer_driver, self.dialect)
            except BaseException:
                await self._driver_sql("ROLLBACK")
                self._last_write = time.monotonic()
                raise
            self._last_write = time.monotonic()
            if not self._same_file():
                # Removed during the transaction: it must not be swallowed by the lost file.
                await self._driver_sql("ROLLBACK")
                await self._refuse_lost_file()
            await self._driver_sql("COMMIT")

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        # One round trip that finalises the statement: a cursor left open across an await would
        # hold the reader's snapshot, and concurrent reads would miss rows just committed.
        return (await sqlite_execute(self._reader_driver, sql, params)).rows

    async def writer_fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Read on the writer connection: for reads that must see a transaction just committed
        by this process before the reader's WAL snapshot advances (rarely needed)."""
        async with self._write_lock:
            return (await sqlite_execute(self._writer_driver, sql, params)).rows

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[AsyncConnection]:
        """The writer connection under the write lock, outside any transaction: migrations
        begin and commit their own (BEGIN IMMEDIATE ... COMMIT per revision)."""
        async with self._write_lock:
            if not self._same_file():
                await self._refuse_lost_file()
            self._last_write = time.monotonic()
            try:
                yield self._writer
            finally:
                self._last_write = time.monotonic()

    async def execute_script_atomically(self, script: str, user_version: int) -> None:
        """Run a SQL script and set `user_version` in one transaction (older Haven schemas,
        built by tests; Haven itself migrates with Alembic).

        sqlite3's executescript() commits any open transaction first, so BEGIN and COMMIT are
        part of the script; if a statement fails we roll back, leaving the file as it was.
        """
        async with self._write_lock:
            if not self._same_file():
                await self._refuse_lost_file()
            self._last_write = time.monotonic()
            connection = await self.driver_connection()
            try:
                version = int(user_version)
                await connection.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version={version};\nCOMMIT;"
                )
            except sqlite3.Error:
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
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
        await self._driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
        try:
            outcome = await sqlite_execute(self._writer_driver, "PRAGMA wal_checkpoint(TRUNCATE)")
            rows = [tuple(row) for row in outcome.rows]
        finally:
            await self._driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
            except (StorageError, OSError) as error:
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
