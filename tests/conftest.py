"""Shared fixtures: real SQLite and real PostgreSQL with the real migrations, a hand-made
library, a fixed clock.

Every test that uses the `db` fixture (directly or through another fixture, such as the core
tests' service stack) runs once per engine: `[sqlite]` and `[postgresql]`. A test about what
only SQLite has (its file, WAL, PRAGMAs) is marked `sqlite_only`. The PostgreSQL server is
started once per run (tests/postgres.py); each test gets a new, empty database on it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.models import (
    Contact,
    ContactKind,
    EmergencyNumber,
    Resource,
    SupportMessage,
    Topic,
)
from bot.core.ports import Library
from bot.settings import Settings
from bot.storage.database import Database, SqlDatabase
from bot.storage.migrate import migrate
from bot.storage.postgres import PostgresDatabase
from tests.postgres import PostgresServer, start_server, unavailable

ENGINES = ("sqlite", "postgresql")
# The tests that start several processes or post in bursts and measure seconds (takeovers,
# IDENTIFY gaps, requests per second): under pytest-xdist (`--dist loadgroup`) they all run on
# one worker, one after another, so two of them never share the machine's cores at once.
HEAVY = pytest.mark.xdist_group("heavy")
_database_numbers = itertools.count(1)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: a test of what only SQLite has (its file, WAL, PRAGMAs)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that needs `engine` (the `db` fixture does) on both engines."""
    if "engine" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        engines = ("sqlite",) if sqlite_only else ENGINES
        metafunc.parametrize("engine", engines, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_server: PostgresServer | None = None
_server_problem: str | None = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started the first time a test needs it."""
    global _server, _server_problem
    if _server is None and _server_problem is None:
        try:
            _server = start_server()
        except RuntimeError as error:
            _server_problem = str(error)
    if _server is None:
        unavailable(_server_problem or "it did not start")
    assert _server is not None
    yield _server


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres_server() -> Iterator[None]:
    yield
    if _server is not None:
        _server.stop()


async def _admin(server: PostgresServer, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server.url("postgres"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def new_postgres_database(server: PostgresServer) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test server, dropped afterwards."""
    name = f"haven_test_{next(_database_numbers)}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    async with new_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
async def engine_settings(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    """Settings for open_services on this engine (a throwaway PostgreSQL database)."""
    if engine == "sqlite":
        yield Settings(database_path=tmp_path / "haven.db")
        return
    async with new_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield Settings(database_url=url)


@asynccontextmanager
async def empty_database(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqlDatabase]:
    """An empty database of this engine, closed (and on PostgreSQL dropped) afterwards."""
    if engine == "sqlite":
        database: SqlDatabase = await Database.open(tmp_path / "haven.db")
        try:
            yield database
        finally:
            await database.close()
        return
    server = request.getfixturevalue("postgres_server")
    async with new_postgres_database(server) as url:
        database = await PostgresDatabase.open(url)
        try:
            yield database
        finally:
            await database.close()


async def stored_bytes(
    database: SqlDatabase, request: pytest.FixtureRequest, tmp_path: Path
) -> bytes:
    """Every byte the engine keeps on disk, to search for what must never be stored: the
    SQLite file and its WAL, or every file under the PostgreSQL server's data directory
    (after a CHECKPOINT, so what was committed is in the table files and not only in the
    server's memory; the write-ahead log is under the data directory too), and the server's
    own log."""
    if isinstance(database, Database):
        return b"".join(path.read_bytes() for path in tmp_path.glob("haven.db*"))
    server: PostgresServer = request.getfixturevalue("postgres_server")
    await _admin(server, "CHECKPOINT")
    chunks = []
    for path in sorted(server.data_dir.rglob("*")):
        if path.is_file():
            with contextlib.suppress(OSError):  # a file the server removed meanwhile
                chunks.append(path.read_bytes())
    chunks.append((server.base / "server.log").read_bytes())
    return b"".join(chunks)


async def reopen(database: SqlDatabase) -> SqlDatabase:
    """A second handle on the same database, as another process would open it."""
    if isinstance(database, Database):
        return await Database.open(database.path)
    assert isinstance(database, PostgresDatabase)
    return await PostgresDatabase.open(database.url)


@pytest.fixture
async def db(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """A migrated database on `engine`. Typed Any: SQLite-only tests use its file's methods."""
    async with empty_database(engine, request, tmp_path) as database:
        await migrate(database)
        yield database


TOPICS = (
    Topic("general", "General support", "Anything on your mind."),
    Topic("coming-out", "Coming out", "Deciding who to tell, when and how."),
    Topic("crisis", "In crisis", "Right now feels like too much."),
    Topic("harassment", "Harassment", "Being targeted online or offline."),
)


def sample_library() -> Library:
    """A small library with the shapes the rules care about (no real numbers needed)."""
    verified = date(2026, 11, 1)
    return Library(
        topics=TOPICS,
        messages=(
            SupportMessage("general-1", "You matter here.", ("general",)),
            SupportMessage("coming-out-1", "Your pace is the right pace.", ("coming-out",)),
            SupportMessage("coming-out-2", "You decide who knows.", ("coming-out",)),
            SupportMessage("coming-out-3", "Nobody is owed your story.", ("coming-out",)),
            SupportMessage("crisis-1", "Please talk to someone today.", ("crisis",)),
            SupportMessage("harassment-1", "It was not your fault.", ("harassment",)),
        ),
        resources=(
            Resource(
                key="gb-crisisline",
                title="GB Crisis Line",
                url="https://crisis.example.org.uk",
                contacts=(Contact(ContactKind.PHONE, "116 123", "+44116123"),),
                regions=("GB",),
                topics=("crisis", "general"),
                crisis_service=True,
                always_open=True,
                last_verified=verified,
            ),
            Resource(
                key="gb-peerline",
                title="GB Peer Line",
                url="https://peer.example.org.uk",
                contacts=(Contact(ContactKind.PHONE, "0800 000 000", "+44800000000"),),
                regions=("GB",),
                topics=("coming-out", "crisis"),
                crisis_service=False,
                last_verified=verified,
            ),
            Resource(
                key="us-crisisline",
                title="US Crisis Line",
                url="https://crisis.example.com",
                contacts=(Contact(ContactKind.PHONE, "988", "+1988"),),
                regions=("US",),
                topics=("crisis", "general", "coming-out"),
                crisis_service=True,
                always_open=True,
                last_verified=verified,
            ),
            Resource(
                key="us-youthline",
                title="US Youth Line",
                url="https://youth.example.com",
                regions=("US",),
                topics=("coming-out",),
                last_verified=verified,
            ),
            Resource(
                key="au-peerline",
                title="AU Peer Line",
                url="https://peer.example.org.au",
                regions=("AU",),
                topics=("crisis", "coming-out"),
                crisis_service=False,
                last_verified=verified,
            ),
            Resource(
                key="gb-unreviewed",
                title="GB Unreviewed",
                url="https://unreviewed.example.org.uk",
                regions=("GB",),
                topics=("coming-out",),
                needs_review=True,
            ),
            Resource(
                key="global-directory",
                title="Helpline Directory",
                url="https://directory.example.org",
                regions=("global",),
                topics=("crisis", "general", "coming-out", "harassment"),
                last_verified=verified,
            ),
        ),
        emergency_numbers=(
            EmergencyNumber("GB", "999"),
            EmergencyNumber("US", "911"),
            EmergencyNumber("AU", "000"),
        ),
    )


@pytest.fixture(autouse=True)
def _no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Any ERROR record fails the test unless the test says it expects one."""
    caplog.set_level(logging.WARNING)
    yield
    if getattr(caplog, "haven_allow_errors", False):
        return
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, "unexpected ERROR logs: " + "; ".join(r.getMessage() for r in errors)
