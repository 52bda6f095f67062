"""`haven console` then `/support-admin dashboard` prints a link that works on this machine:
the console serves the dashboard on its own local port while it is open."""

from __future__ import annotations

import io
import re
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.console import run_console
from bot.app import local_dashboard, open_services
from bot.settings import Settings


@pytest.mark.sqlite_only
async def test_the_console_prints_a_link_that_signs_in_here(tmp_path: Path) -> None:
    out: list[str] = []
    async with open_services(Settings(database_path=tmp_path / "h.db")) as services:
        async with local_dashboard(services) as server:
            await run_console(
                services,
                stdin=io.StringIO("/support-admin dashboard\n"),
                write=out.append,
                interactive=False,
            )
            printed = "".join(out)
            found = re.search(r"(http://127\.0\.0\.1:\d+)/dashboard/login\?token=([\w-]+)", printed)
            assert found, printed
            assert found[1] == server.url
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
                async with browser.get(found[0]) as answer:
                    assert answer.status == 200
                async with browser.post(
                    f"{server.url}/dashboard/login", data={"token": found[2]}
                ) as answer:
                    assert answer.status == 200
                    assert "Library" in await answer.text()


@pytest.mark.sqlite_only
async def test_a_taken_port_does_not_stop_the_console(tmp_path: Path) -> None:
    async with open_services(Settings(database_path=tmp_path / "h.db")) as first:
        async with local_dashboard(first) as taken:
            assert taken.port is not None
            settings = Settings(database_path=tmp_path / "h2.db", http_port=taken.port)
            async with open_services(settings) as second, local_dashboard(second) as server:
                assert server.port != taken.port
                assert second.dashboard.base_url() == server.url
