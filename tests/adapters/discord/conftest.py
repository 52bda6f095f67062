"""Fixtures for the Discord tests: the loopback emulator, endpoint overrides, an ERROR-log guard."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.endpoints import apply_endpoint_overrides, restore_endpoints
from bot.app import open_services
from bot.services import Services
from bot.settings import Secret, Settings
from tests.fakes.fake_discord import FakeDiscord


class LogGuard(logging.Handler):
    """Collects every record; the test fails on an ERROR nobody declared as expected.

    discord.py runs command handlers in their own task and only *logs* their exceptions, so a
    broken handler would otherwise pass silently.
    """

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._expected: list[re.Pattern[str]] = []
        self._caplog = caplog

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def expect_error(self, pattern: str) -> None:
        """Declare that an ERROR whose message matches `pattern` is part of this test."""
        self._expected.append(re.compile(pattern))
        # The project-wide guard (tests/conftest.py) knows only "allow all"; this guard keeps
        # failing on any ERROR that is not the expected one.
        self._caplog.haven_allow_errors = True  # type: ignore[attr-defined]

    def text(self) -> str:
        """Everything logged, formatted with tracebacks, as an operator's log file would hold."""
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)

    def unexpected_errors(self) -> list[logging.LogRecord]:
        return [
            r
            for r in self.records
            if r.levelno >= logging.ERROR
            and not any(p.search(r.getMessage()) for p in self._expected)
        ]


@pytest.fixture(autouse=True)
def log_guard(caplog: pytest.LogCaptureFixture) -> Iterator[LogGuard]:
    guard = LogGuard(caplog)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(guard)
    # INFO, as an operator runs Haven (DEBUG would also drown the run in aiosqlite lines).
    root.setLevel(logging.INFO)
    # The platform loggers at DEBUG would log interaction tokens; INFO is enough to see them.
    discord_logger = logging.getLogger("discord")
    old_discord = discord_logger.level
    discord_logger.setLevel(logging.INFO)
    try:
        yield guard
    finally:
        root.removeHandler(guard)
        root.setLevel(old_level)
        discord_logger.setLevel(old_discord)
    errors = guard.unexpected_errors()
    if errors:
        details = "\n".join(f"{r.name}: {r.getMessage()}" for r in errors)
        pytest.fail(f"ERROR logged during the test:\n{details}")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    emulator = FakeDiscord()
    await emulator.start()
    before = apply_endpoint_overrides(emulator.api_url, emulator.gateway_url)
    try:
        yield emulator
    finally:
        restore_endpoints(before)
        await emulator.close()


async def start_client(client: discord.Client, token: str = "fake-token") -> asyncio.Task[None]:
    """Run `client` against the emulator until it is ready; the caller must `stop_client`."""
    task = asyncio.create_task(client.start(token), name="discord-client")
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()  # raises the start-up failure
        raise AssertionError("the client stopped before it was ready")
    if ready not in done:
        ready.cancel()
        task.cancel()
        raise AssertionError("the client was not ready within 10 s")
    return task


async def stop_client(client: discord.Client, task: asyncio.Task[Any]) -> None:
    await client.close()
    try:
        await asyncio.wait_for(task, 5)
    except asyncio.CancelledError:
        pass


# How long `eventually` waits. Only a stuck test reaches it: a burst of 100 interactions took
# over 5 s on a loaded 2-core machine running the suite under xdist, and that is no failure.
PATIENCE = 20.0


async def eventually(condition: Callable[[], object], within: float = PATIENCE) -> None:
    """Wait until `condition()` is true: for effects the client produces in its own tasks
    (event listeners), which offer nothing to await."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling another library's side effect
            await asyncio.sleep(0.005)


# ---------------------------------------------------------------- Haven on the emulator

MANAGE_GUILD = 1 << 5


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(database_path=tmp_path / "haven.db", discord_token=Secret("fake-token"))
    async with open_services(settings) as opened:
        yield opened


@pytest.fixture
def guild(fake: FakeDiscord) -> dict[str, Any]:
    """A server Haven is already in when it connects."""
    return fake.make_guild("Peer support")


@pytest.fixture
async def haven(
    fake: FakeDiscord, services: Services, guild: dict[str, Any]
) -> AsyncIterator[HavenBot]:
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=1.0)
    task = await start_client(bot)
    try:
        yield bot
    finally:
        await stop_client(bot, task)


async def eventually_async(
    condition: Callable[[], Awaitable[object]], within: float = PATIENCE
) -> None:
    """`eventually` for a condition that must be awaited (a database read)."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - polling another task's side effect
            await asyncio.sleep(0.01)


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a message payload, rows flattened."""
    return [c for row in message.get("components", []) for c in row["components"]]


def component(message: dict[str, Any], kind: str) -> dict[str, Any]:
    """The component whose custom_id is of `kind` (haven:<kind>:...)."""
    for found in components(message):
        if found.get("custom_id", "").startswith(f"haven:{kind}:"):
            return found
    raise AssertionError(f"no {kind} component in {components(message)}")
