"""The change feed's receivers: how a process learns that another one changed a community.

- SQLite: `PRAGMA data_version` on the reader connection, polled (about 0.5 s; one cheap call
  on aiosqlite's thread). It changes whenever another connection commits, this process's own
  writer included; only then are the `community_revisions` rows newer than the last one seen
  read, so the scheduler's lease heartbeat or a usage flush costs one indexed read and drops
  no cache.
- PostgreSQL: `LISTEN haven_changes` (asyncpg `add_listener`) on a connection of its own,
  outside the pool. A lost connection (a server restart, `pg_terminate_backend`, a half-open
  socket found by a periodic `SELECT 1`) is logged once and reconnected with a growing delay;
  once listening again every listener hears "anything may have changed" (None), since
  notifications sent meanwhile were not delivered to anyone.

Both call their listeners on the event loop, with a community id, or None for everything.
Announcing is bot/storage/changes.py. `open_change_feed` picks the receiver for a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bot.core.errors import StorageError
from bot.core.ports import ChangeFeed, ChangeListener
from bot.storage.changes import CHANNEL, community_write
from bot.storage.database import Database, SqlDatabase
from bot.storage.postgres import PostgresDatabase, asyncpg_url

log = logging.getLogger(__name__)

# A moderator's change must reach every process within 2 s (issue 9).
POLL_SECONDS = 0.5
# Delays between attempts to listen again on PostgreSQL (the last repeats).
RECONNECT_SECONDS = (0.2, 1.0, 2.0, 5.0, 10.0, 30.0)
# How often a quiet PostgreSQL listener checks that its connection still answers, and how
# long the answer may take: a socket that died without a FIN never reports itself.
CHECK_SECONDS = 10.0
CHECK_TIMEOUT_SECONDS = 5.0
APPLICATION_NAME = "haven-change-feed"


class _Listeners:
    """The subscribed listeners; one failing listener neither stops the feed nor the others."""

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def tell(self, community_id: str | None) -> None:
        for listener in self._listeners:
            try:
                listener(community_id)
            except Exception:
                log.exception("A change-feed listener failed; the feed goes on")


class SqliteChangeFeed:
    """Polls `PRAGMA data_version`; reads the revisions newer than the last it saw."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = POLL_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self._poll_seconds = poll_seconds
        self._sleep = sleep
        self._listeners = _Listeners()
        self._data_version: int | None = None
        self._seen = 0
        self._failing = False

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.subscribe(listener)

    async def changed(self, community_id: str) -> None:
        async with community_write(self._db, community_id):
            pass

    async def start(self) -> None:
        """From now on: what is already in the database is not a change."""
        self._data_version = await self._version()
        row = await self._db.fetch_one("SELECT MAX(revision) FROM community_revisions")
        self._seen = int(row[0]) if row and row[0] is not None else 0

    async def run(self) -> None:
        while True:
            await self._sleep(self._poll_seconds)
            try:
                await self.poll()
            except StorageError as error:
                # The database already speaks for itself (a lost file, a full disk); one
                # line here, then quiet until it answers again.
                if not self._failing:
                    self._failing = True
                    log.warning("Watching for other processes' changes failed: %s", error)
                continue
            if self._failing:
                self._failing = False
                log.info("Watching for other processes' changes again.")

    async def poll(self) -> None:
        """One look: tell the listeners about every community changed since the last."""
        version = await self._version()
        if version == self._data_version:
            return
        # Read after the version: a commit between the two is read now and changes the
        # version again, so the next look reads once more and finds nothing new.
        self._data_version = version
        rows = await self._db.fetch_all(
            "SELECT community_id, revision FROM community_revisions WHERE revision > ?"
            " ORDER BY revision",
            (self._seen,),
        )
        for row in rows:
            self._seen = max(self._seen, int(row["revision"]))
            self._listeners.tell(str(row["community_id"]))

    async def _version(self) -> int:
        row = await self._db.fetch_one("PRAGMA data_version")
        return int(row[0]) if row else 0


class PostgresChangeFeed:
    """LISTENs on its own asyncpg connection; listens again whenever that connection is lost."""

    def __init__(
        self,
        db: PostgresDatabase,
        *,
        reconnect_seconds: tuple[float, ...] | None = None,
        check_seconds: float | None = None,
    ) -> None:
        self._db = db
        # asyncpg takes the URL operators write, not SQLAlchemy's driver name.
        self._dsn = asyncpg_url(db.url).set(drivername="postgresql").render_as_string(False)
        # Read when built, not when defined, so a test can shorten or lengthen them.
        self._reconnect_seconds = reconnect_seconds or RECONNECT_SECONDS
        self._check_seconds = check_seconds or CHECK_SECONDS
        self._listeners = _Listeners()
        self._connection: asyncpg.Connection[Any] | None = None
        self._lost = asyncio.Event()
        self._down_logged = False

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.subscribe(listener)

    async def changed(self, community_id: str) -> None:
        async with community_write(self._db, community_id):
            pass

    async def start(self) -> None:
        """Listen now, so no change committed after this returns is missed. If the server
        cannot be reached, `run` keeps trying (and then tells everything changed)."""
        try:
            await self._listen()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            self._report_down(error)

    async def run(self) -> None:
        attempt = 0
        try:
            while True:
                if self._connection is None:
                    delay = self._reconnect_seconds[min(attempt, len(self._reconnect_seconds) - 1)]
                    await asyncio.sleep(delay)
                    attempt += 1
                    try:
                        await self._listen()
                    except (
                        OSError,
                        asyncpg.PostgresError,
                        asyncpg.InterfaceError,
                        TimeoutError,
                    ) as error:
                        self._report_down(error)
                        continue
                    attempt = 0
                    if self._down_logged:
                        self._down_logged = False
                        log.info("Listening for other processes' changes again.")
                    # Whatever was announced while nobody listened is lost: forget it all.
                    self._listeners.tell(None)
                await self._watch()
        finally:
            await self._close()

    async def _listen(self) -> None:
        connection: asyncpg.Connection[Any] = await asyncpg.connect(
            self._dsn,
            timeout=CHECK_TIMEOUT_SECONDS,
            # So an operator (and a test) can tell this connection apart in pg_stat_activity.
            server_settings={"application_name": APPLICATION_NAME},
        )
        try:
            self._lost = asyncio.Event()
            lost = self._lost
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._on_notification)
        except BaseException:
            connection.terminate()
            raise
        self._connection = connection

    async def _watch(self) -> None:
        """Until the connection is lost: wake every `check_seconds` to see that it answers."""
        connection = self._connection
        assert connection is not None
        try:
            while not self._lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), self._check_seconds)
                if not self._lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=CHECK_TIMEOUT_SECONDS)
            error: BaseException | None = None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as failed:
            error = failed
        await self._close()
        self._report_down(error)

    def _on_notification(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._listeners.tell(payload)

    def _report_down(self, error: BaseException | None) -> None:
        if self._down_logged:
            return
        self._down_logged = True
        why = f" ({error})" if error is not None and str(error) else ""
        log.warning(
            "Stopped hearing other processes' changes: the listening connection to %s was "
            "lost%s. Trying again; caches are dropped once it is back.",
            self._db.label,
            why,
        )

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CHECK_TIMEOUT_SECONDS)
            if not connection.is_closed():
                connection.terminate()


def open_change_feed(db: SqlDatabase, *, poll_seconds: float = POLL_SECONDS) -> ChangeFeed:
    """The receiver for this database's engine."""
    if isinstance(db, Database):
        return SqliteChangeFeed(db, poll_seconds=poll_seconds)
    if isinstance(db, PostgresDatabase):
        return PostgresChangeFeed(db)
    raise TypeError(f"No change feed for {type(db).__name__}")
