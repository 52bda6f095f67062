"""The PostgreSQL handle: a pool of asyncpg connections behind SQLAlchemy's async engine.

Each `write()` is its own transaction on a pooled connection (READ COMMITTED, PostgreSQL's
default); the statements that read before they decide what to write take row locks through
`SqlDatabase.for_update` / `skip_locked`, so several processes on one database never both act
on the same row. Reads are single statements on any pooled connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.errors import OperationalError, StorageUnavailable
from bot.storage.database import Params, Row, SqlDatabase, Tx, _rows, bind, translated

log = logging.getLogger(__name__)

# Enough for a process's concurrent writes and reads; PostgreSQL's default max_connections is
# 100, and a hosted Haven runs several processes on one server.
POOL_SIZE = 5
POOL_OVERFLOW = 5


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://"))


def asyncpg_url(url: str) -> URL:
    """`postgresql://user@host/db` (what operators write) as SQLAlchemy's asyncpg URL."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg")


def safe_label(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return asyncpg_url(url).set(drivername="postgresql").render_as_string(hide_password=True)


class PostgresDatabase(SqlDatabase):
    """Create with `await PostgresDatabase.open(url)`."""

    dialect = "postgresql"

    def __init__(self, url: str, engine: AsyncEngine) -> None:
        self.url = url
        self.label = safe_label(url)
        self._engine = engine
        # SQLAlchemy's engine opens new connections even after dispose(); a closed handle
        # must fail like a closed SQLite connection does.
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise OperationalError("The database handle is closed.")

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        engine = create_async_engine(
            asyncpg_url(url),
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            # A server restart leaves dead connections in the pool: test each on checkout.
            pool_pre_ping=True,
        )
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except (exc.DBAPIError, OSError) as error:
            await engine.dispose()
            original = error.orig if isinstance(error, exc.DBAPIError) else error
            raise StorageUnavailable(
                f"Haven cannot reach its PostgreSQL database {safe_label(url)}: {original}.",
                "Check that the server runs, that the database exists and that this user may "
                "connect (HAVEN_DATABASE_URL=postgresql://user@host/db).",
            ) from error
        return cls(url, engine)

    async def close(self) -> None:
        self._closed = True
        await self._engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """A write transaction: everything inside commits together or not at all."""
        self._check_open()
        with translated():
            async with self._engine.begin() as connection:
                yield Tx(connection, self.dialect)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        self._check_open()
        clause, named = bind(sql, params)
        with translated():
            async with self._engine.connect() as connection:
                return _rows(await connection.execute(clause, named))
