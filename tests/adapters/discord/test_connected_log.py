"""What Haven logs once connected to Discord, and `haven discord sync` when Discord is down."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.adapters.discord.cli_support import DiscordUnreachable, sync_command_tree
from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.endpoints import apply_endpoint_overrides, restore_endpoints
from bot.app import open_services
from bot.services import Services
from bot.settings import Secret, Settings
from tests.adapters.discord.conftest import LogGuard, eventually, start_client, stop_client
from tests.fakes.fake_discord import FakeDiscord


async def test_connected_names_the_bot_and_counts_its_servers(
    fake: FakeDiscord, services: Services, log_guard: LogGuard
) -> None:
    fake.make_guild("Peer support")
    fake.make_guild("Rainbow room")
    bot = HavenBot(services, guild_ready_timeout=0.05)
    task = await start_client(bot)
    try:

        def connected() -> list[str]:
            return [
                r.getMessage()
                for r in log_guard.records
                if r.getMessage().startswith("Connected to Discord")
            ]

        await eventually(connected)
        assert connected() == [
            f"Connected to Discord as Haven (id {fake.bot_user['id']}), in 2 servers"
        ]
    finally:
        await stop_client(bot, task)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused


async def test_sync_against_an_unreachable_api_is_one_sentence(tmp_path: Path) -> None:
    port = _closed_port()
    settings = Settings(
        database_path=tmp_path / "haven.db",
        discord_token=Secret("fake-token"),
        discord_api_url=f"http://127.0.0.1:{port}",
    )
    before = apply_endpoint_overrides(None, None)
    try:
        async with open_services(settings) as services:
            with pytest.raises(DiscordUnreachable) as raised:
                await sync_command_tree(services, None)
    finally:
        restore_endpoints(before)
    assert raised.value.message == (
        f"Haven cannot reach Discord at http://127.0.0.1:{port}/api/v10 (Connection refused); "
        "nothing was synced."
    )
    assert "DISCORD_API_URL" in raised.value.hint


async def test_sync_when_discord_answers_5xx_is_one_sentence(
    fake: FakeDiscord, services: Services
) -> None:
    fake.fail("PUT", r"^/applications/\d+/commands$", status=503, code=0, times=10)
    with pytest.raises(DiscordUnreachable) as raised:
        await sync_command_tree(services, None)
    assert raised.value.message == (
        "Discord answered 503 (a problem on Discord's side); nothing was synced."
    )
