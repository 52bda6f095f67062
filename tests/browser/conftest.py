"""Headless Chromium (Debian's `chromium`) driven by Playwright against Haven's real HTTP
server and services on SQLite, with the console's community, member list and publisher: the
dashboard as a moderator's browser sees it.

Without Chromium or Playwright the tests skip and say why; in CI (`HAVEN_REQUIRE_BROWSER=1`,
set by .ci/run) that is a failure instead. Screenshots of each page go to
test-artifacts/screenshots/ (gitignored), for a person to look at.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.adapters.console import ConsoleDirectory, console_context
from bot.adapters.console_publisher import ConsolePublisher
from bot.app import dashboard_app, open_services
from bot.core.models import Platform
from bot.services import Services
from bot.settings import Settings
from bot.web import HavenWeb
from tests.conftest import FixedClock

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path(os.environ.get("HAVEN_CHROMIUM", "/usr/bin/chromium"))
# Chromium without a sandbox (containers run as root), a GPU, or any call home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Europe/London leaves summer time at 01:00 UTC on Sunday 25 October 2026.
BEFORE_DST_END = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


def missing(chromium: Path = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not chromium.exists():
        return f"Chromium is not at {chromium} (apt-get install -y chromium)"
    return None


def require_browser(reason: str | None, required: bool) -> None:
    """Skip with the reason, or fail when the browser tests are required (CI)."""
    if reason is None:
        return
    if required:
        pytest.fail(f"Browser tests are required here (HAVEN_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(f"Browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser_ready() -> None:
    require_browser(missing(), os.environ.get("HAVEN_REQUIRE_BROWSER") == "1")


@pytest.fixture
async def browser(browser_ready: None) -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Console:
    """Haven as `haven console` runs it, with its dashboard on a free port."""

    services: Services
    clock: FixedClock
    url: str
    printed: list[str] = field(default_factory=list)

    async def run(self, line: str) -> str:
        card = await self.services.router.run_text(console_context(), line)
        return f"{card.title}\n{card.body}"

    async def link(self) -> str:
        answer = await self.run("/support-admin dashboard")
        return next(word for word in answer.split() if "/dashboard/login?token=" in word)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    clock = FixedClock(BEFORE_DST_END)
    settings = Settings(database_path=tmp_path / "haven.db")
    async with open_services(settings, clock=clock) as services:
        await services.communities.ensure(Platform.CONSOLE, "local", "Local console")
        services.register_directory(ConsoleDirectory())
        printed: list[str] = []
        services.register_publisher(ConsolePublisher(printed.append))
        server = HavenWeb(services.health, None, port=0, dashboard=dashboard_app(services))
        await server.start()
        services.dashboard.serve_locally_at(server.url)
        try:
            yield Console(services, clock, server.url, printed)
        finally:
            await server.stop()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
