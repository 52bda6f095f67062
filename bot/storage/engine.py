"""Which engine a Haven runs on, decided once from HAVEN_DATABASE_URL: the only place that
opens a database, so every caller (the composition root, the CLI) gets either one alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.core.errors import StorageUnavailable
from bot.settings import Settings
from bot.storage.database import Database, SqlDatabase, WalKeeper
from bot.storage.fs import ensure_local_filesystem
from bot.storage.postgres import PostgresDatabase, is_postgres_url, safe_label


def uses_postgres(settings: Settings) -> bool:
    return settings.database_url is not None and is_postgres_url(settings.database_url)


def database_file(settings: Settings) -> Path | None:
    """The local file the database lives in, or None for a database on a server."""
    return None if uses_postgres(settings) else settings.database_path


def database_label(settings: Settings) -> str:
    """The database as an operator names it: a file path, or the URL without a password."""
    if uses_postgres(settings):
        assert settings.database_url is not None
        return safe_label(settings.database_url)
    return str(settings.database_path)


async def open_database(settings: Settings, *, local_only: bool = True) -> SqlDatabase:
    """The configured database, opened. `local_only=False` is for `haven db backup`, the way
    off a network share: copying the file out must work where running on it is refused."""
    if uses_postgres(settings):
        assert settings.database_url is not None
        return await PostgresDatabase.open(settings.database_url)
    if local_only:
        # Before opening: on a network file system not even the WAL file should be created.
        ensure_local_filesystem(settings.database_path)
    return await Database.open(settings.database_path)


async def open_url(url: str) -> SqlDatabase:
    """A database named by a URL other than the configured one (`haven db copy --to`)."""
    if is_postgres_url(url):
        return await PostgresDatabase.open(url)
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise StorageUnavailable(
            f"'{url}' is not a database URL Haven reads.",
            "Write postgresql://user@host/db (or sqlite:///path/to/file.db).",
        )
    path = Path(url[len(prefix) :]).expanduser()
    ensure_local_filesystem(path)
    return await Database.open(path)


@asynccontextmanager
async def upkeep(db: SqlDatabase) -> AsyncIterator[None]:
    """What an engine needs beside a running Haven: SQLite's WAL checkpoints; nothing for
    PostgreSQL, whose server does its own."""
    if not isinstance(db, Database):
        yield
        return
    task = asyncio.create_task(WalKeeper(db).run(), name="wal-keeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
