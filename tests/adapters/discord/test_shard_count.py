"""Where the shard count comes from: Discord's recommendation when none is configured (one
process runs them all), and a configured gateway URL still honoured then (discord.py connects
to the URL /gateway/bot advertises unless the count is given)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot, run_discord
from bot.adapters.discord.shards import DiscordShardingRefused
from bot.services import Services
from tests.adapters.discord.conftest import start_client, stop_client
from tests.fakes.fake_discord import FakeDiscord, shard_of


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_without_a_slice_one_process_runs_every_recommended_shard(
    fake: FakeDiscord, services: Services
) -> None:
    fake.recommended_shards, fake.max_concurrency = 2, 2  # two buckets: no 5 s wait here
    guilds = [fake.make_guild(f"Guild {n}") for n in range(4)]
    assert {shard_of(g["id"], 2) for g in guilds} == {0, 1}
    bot = HavenBot(services, guild_ready_timeout=0.05)
    task = await start_client(bot)
    try:
        assert bot.held_shards() == (0, 1) and bot.shard_count == 2
        assert sorted((r.shard_id, r.shard_count) for r in fake.identifies) == [(0, 2), (1, 2)]
        assert {g.id for g in bot.guilds} == {int(g["id"]) for g in guilds}
        assert bot.identify_turns.max_concurrency == 2
        status = await bot.gateway_status()
        assert status.ready and status.detail == "connected to the gateway (shards 0-1 of 2)"
    finally:
        await stop_client(bot, task)


async def test_a_configured_gateway_is_used_even_when_discord_picks_the_count(
    fake: FakeDiscord, services: Services
) -> None:
    # What Discord advertises is unreachable here: only the configured URL works.
    fake.advertised_gateway_url = f"ws://127.0.0.1:{_closed_port()}/gateway"
    fake.recommended_shards = 1
    fake.make_guild("Peer support")
    configured = replace(services.settings, discord_gateway_url=fake.gateway_url)
    bot = HavenBot(replace(services, settings=configured), guild_ready_timeout=0.05)
    task = await start_client(bot)
    try:
        assert bot.shard_count == 1 and fake.connected_shards == {0}
    finally:
        await stop_client(bot, task)


async def test_too_few_shards_stops_with_what_to_change(
    fake: FakeDiscord, services: Services, log_guard: Any
) -> None:
    fake.recommended_shards, fake.require_sharding = 4, True
    fake.max_concurrency = 2  # a bucket per shard: no 5 s wait here
    configured = replace(services.settings, discord_shard_count=2)
    with pytest.raises(DiscordShardingRefused) as refused:
        await asyncio.wait_for(run_discord(replace(services, settings=configured)), 20)
    assert "more shards for this bot than DISCORD_SHARD_COUNT=2" in refused.value.message
    assert "Raise DISCORD_SHARD_COUNT" in refused.value.hint
    assert {r.outcome for r in fake.identifies} == {"sharding_required"}
    # Each shard tried once, then it stopped: no retry loop spending the daily start limit.
    assert sorted(r.shard_id for r in fake.identifies) == [0, 1]
