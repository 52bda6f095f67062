"""Haven on several processes' shard slices: two real HavenBots on one database and one emulator.

Each bot stands for a `haven run --shards ... --shard-count N` process (its own Services over
the same database, as a second process would open it). The emulator enforces Discord's rules:
one IDENTIFY per bucket per interval (max_concurrency 1: every shard is in one bucket), a
guild's events only on its shard, DMs only on shard 0. The emulator and the bots agree on a 1 s
interval instead of Discord's 5 s: the rule and the turns across processes are the same, and
the start-up takes a third of the time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest
from prometheus_client import generate_latest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.endpoints import apply_endpoint_overrides, restore_endpoints
from bot.app import open_services
from bot.core.models import Platform
from bot.metrics import PlatformStatus, PrometheusMetrics
from bot.services import Services
from bot.settings import Secret, Settings
from tests.adapters.discord.conftest import eventually_async, stop_client
from tests.conftest import HEAVY, new_postgres_database
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord
from tests.postgres import PostgresServer

pytestmark = HEAVY

# Per engine: the slices of two processes and the shard count. SQLite runs 2 x 2 shards (four
# IDENTIFYs in one bucket: about 5 s); PostgreSQL 2 x 1 (the same rule across processes).
# What the emulator enforces and the bots wait for between two IDENTIFYs of one bucket.
IDENTIFY_INTERVAL = 1.0
LAYOUTS = {"sqlite": (((0, 1), (2, 3)), 4), "postgresql": (((0,), (1,)), 2)}


@dataclass
class Process:
    bot: HavenBot
    services: Services
    metrics: PrometheusMetrics
    task: asyncio.Task[None] | None = None
    seen: list[int] = field(default_factory=list)  # interaction ids this process received


@dataclass
class Cluster:
    fake: FakeDiscord
    processes: list[Process]
    count: int
    guilds: dict[int, dict[str, Any]]  # shard id -> a guild on that shard
    starting: list[tuple[int, PlatformStatus]]  # (process index, its status) while starting

    def holder(self, shard_id: int) -> Process:
        return next(p for p in self.processes if shard_id in p.bot.held_shards())


def settings_for(engine: str, url: str, shards: tuple[int, ...], count: int) -> Settings:
    base = Settings(
        discord_token=Secret("fake-token"), discord_shard_ids=shards, discord_shard_count=count
    )
    if engine == "sqlite":
        return Settings(**{**base.__dict__, "database_path": Path(url)})
    return Settings(**{**base.__dict__, "database_url": url})


@pytest.fixture
def server(engine: str, request: pytest.FixtureRequest) -> PostgresServer | None:
    # Outside the event loop: the first test to ask starts the server.
    return request.getfixturevalue("postgres_server") if engine == "postgresql" else None


@pytest.fixture
async def cluster(
    engine: str, server: PostgresServer | None, tmp_path: Path
) -> AsyncIterator[Cluster]:
    async with AsyncExitStack() as databases:
        if server is None:
            url = str(tmp_path / "haven.db")
        else:
            url = await databases.enter_async_context(new_postgres_database(server))
        async for cluster in _cluster(engine, url):
            yield cluster


async def _cluster(engine: str, url: str) -> AsyncIterator[Cluster]:
    slices, count = LAYOUTS[engine]
    fake = FakeDiscord(
        max_concurrency=1, heartbeat_interval_ms=200, identify_interval=IDENTIFY_INTERVAL
    )
    await fake.start()
    before = apply_endpoint_overrides(fake.api_url, fake.gateway_url)
    guilds = {s: fake.make_guild(f"Shard {s}", on_shard=(s, count)) for s in range(count)}
    processes: list[Process] = []
    try:
        async with AsyncExitStack() as stack:
            for shards in slices:
                metrics = PrometheusMetrics()
                services = await stack.enter_async_context(
                    open_services(settings_for(engine, url, shards, count), metrics=metrics)
                )
                bot = HavenBot(
                    services, guild_ready_timeout=0.05, identify_interval=IDENTIFY_INTERVAL
                )
                process = Process(bot, services, metrics)

                async def record(interaction: discord.Interaction, p: Process = process) -> None:
                    p.seen.append(interaction.id)

                bot.add_listener(record, "on_interaction")
                processes.append(process)
            # Both start at the same moment, as processes a service manager starts together.
            for process in processes:
                process.task = asyncio.create_task(process.bot.start("fake-token"))
            # What /readyz would have said while the shards came up, one after another.
            seen: list[tuple[int, PlatformStatus]] = []
            async with asyncio.timeout(40):
                while not all(p.bot.is_ready() for p in processes):
                    for n, process in enumerate(processes):
                        seen.append((n, await process.bot.gateway_status()))
                    await asyncio.sleep(0.1)
            try:
                yield Cluster(fake, processes, count, guilds, seen)
            finally:
                for process in processes:
                    assert process.task is not None
                    await stop_client(process.bot, process.task)
    finally:
        restore_endpoints(before)
        await fake.close()


async def test_processes_identify_in_turn_and_each_answers_its_own_shards(
    cluster: Cluster,
) -> None:
    fake = cluster.fake
    # Every shard identified once, none refused: the turns were taken across processes.
    assert sorted(r.shard_id for r in fake.identifies) == list(range(cluster.count))
    assert {r.outcome for r in fake.identifies} == {"ready"}
    assert all(gap >= IDENTIFY_INTERVAL for gap in fake.identify_gaps()[0])
    assert fake.connected_shards == set(range(cluster.count))

    # A guild's command is answered by the process holding that guild's shard, and only there.
    for shard_id in (1, cluster.count - 1):
        holder = cluster.holder(shard_id)
        handle = await fake.dispatch_command("support", guild=cluster.guilds[shard_id])
        body = await handle.response()
        assert body["data"]["flags"] & EPHEMERAL
        for process in cluster.processes:
            assert (int(handle.id) in process.seen) is (process is holder)

    # A DM arrives only on shard 0: the process holding it answers, with the DM's own card.
    dm = await fake.dispatch_command("support")
    assert (await dm.response())["data"]["flags"] & EPHEMERAL
    for process in cluster.processes:
        assert (int(dm.id) in process.seen) is (process is cluster.holder(0))
    refused = await fake.dispatch_command("support-admin message list")
    text = (await refused.response())["data"]["embeds"][0]["description"]
    assert "server" in text.lower()

    # (One cluster for both parts: its start-up is the slow part, four IDENTIFYs 1.5 s apart.)
    await readiness_and_metrics_name_this_process_shards(cluster)


async def readiness_and_metrics_name_this_process_shards(cluster: Cluster) -> None:
    for process in cluster.processes:
        held = process.bot.held_shards()
        readiness = await process.services.health.check()
        assert readiness.ready, readiness.reasons
        discord_json: Any = readiness.as_json()["platforms"]
        shown = discord_json[Platform.DISCORD.value]
        assert shown["shards"] == list(held) == shown["shards_ready"]
        assert shown["shard_count"] == cluster.count
        assert shown["shards_connected"] == len(held)

        async def heartbeats_answered(p: Process = process) -> bool:
            status = await p.bot.gateway_status()
            return len(status.shard_latencies) == len(p.bot.held_shards())

        await eventually_async(heartbeats_answered)
        await process.services.health.check()
        text = generate_latest(process.metrics.registry).decode()
        assert f"haven_discord_shards_connected {float(len(held))}" in text
        for shard_id in range(cluster.count):
            line = f'haven_discord_gateway_latency_seconds{{shard="{shard_id}"}}'
            assert (line in text) is (shard_id in held)

    # While starting, a process was ready exactly when all of its own shards were, and
    # said which shard it was still waiting for.
    for n, status in cluster.starting:
        held = cluster.processes[n].bot.held_shards()
        if status.ready:
            assert status.shards_ready == held
        elif status.shards_ready:
            missing = next(s for s in held if s not in status.shards_ready)
            assert f"shard {missing} not ready yet" in status.detail
    assert any(not status.ready for _, status in cluster.starting)
