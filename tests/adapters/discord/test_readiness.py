"""/readyz and /metrics follow the real discord.py client's gateway connection to the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.discord.client import HavenBot
from bot.app import open_services
from bot.metrics import PrometheusMetrics
from bot.settings import Secret, Settings
from bot.web import HavenWeb
from tests.adapters.discord.conftest import start_client, stop_client
from tests.fakes.fake_discord import FakeDiscord


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_ready_while_the_gateway_is_connected_and_not_after(
    fake: FakeDiscord, guild: dict[str, Any], tmp_path: Path
) -> None:
    metrics = PrometheusMetrics()
    settings = Settings(database_path=tmp_path / "haven.db", discord_token=Secret("fake-token"))
    async with (
        open_services(settings, metrics=metrics) as services,
        aiohttp.ClientSession() as http,
    ):
        web = HavenWeb(services.health, metrics, port=0)
        await web.start()
        try:
            before, _ = await fetch(http, f"{web.url}/readyz")
            bot = HavenBot(services, guild_ready_timeout=0.05)
            task = await start_client(bot)
            try:
                during, body = await fetch(http, f"{web.url}/readyz")
                _, text = await fetch(http, f"{web.url}/metrics")
            finally:
                await stop_client(bot, task)
            after, closed = await fetch(http, f"{web.url}/readyz")
        finally:
            await web.stop()

    assert before == 503
    assert during == 200, body
    assert body["platforms"]["discord"]["ready"] is True
    assert body["platforms"]["discord"]["shards_connected"] == 1
    assert "haven_discord_shards_connected 1.0" in text
    assert 'haven_platform_ready{platform="discord"} 1.0' in text
    assert after == 503
    assert closed["reasons"] == ["Discord: the gateway connection is closed"]
