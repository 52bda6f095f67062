"""Haven as a host runs it, measured: several `haven run` processes on one PostgreSQL.

Against the loopback Discord and Slack emulators (tests/fakes), with a real PostgreSQL server
started for the run (tests/postgres.py), this prints:

- `/support` latency under load (dispatch to callback, p50 and p99) with three processes (two
  Discord shard slices and a Slack-only process), beside the same load on one process that runs
  every shard (the baseline, measured in the same run);
- the scheduler's burst drain rate: N Discord posts due at the same instant in N channels, as
  posts per second from the first to the last, and as a ratio of Discord's global limit
  (50 requests/s per bot; the emulator enforces it and answers 429 with `Via` above it), with
  the number of 429s the burst met.

    python bench/cluster.py            # 2,000 /support, 1,000 posts, 3 rounds
    python bench/cluster.py --quick    # a smoke run (seconds, not minutes)

These machines are noisy: compare the ratios and medians, not the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.measure import percentile  # noqa: E402
from bot.core.models import Platform, community_id_for  # noqa: E402
from bot.core.scheduling.schedules import NewSchedule  # noqa: E402
from bot.storage.postgres import PostgresDatabase  # noqa: E402
from bot.storage.schedule_store import SqlScheduleStore  # noqa: E402
from tests.e2e.processes import Cluster, haven_cluster  # noqa: E402
from tests.postgres import PostgresServer, start_server  # noqa: E402

DISCORD_GLOBAL_LIMIT = 50


async def new_database(server: PostgresServer, name: str) -> str:
    connection = await asyncpg.connect(server.url("postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.url(name)


async def support_latencies(cluster: Cluster, count: int, in_flight: int) -> list[float]:
    """`count` /support interactions spread over every guild, `in_flight` at a time; the
    seconds from dispatch to the callback, as the emulator saw them."""
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(in_flight)

    async def one(index: int) -> None:
        guild = cluster.guilds[index % len(cluster.guilds)]
        async with semaphore:
            handle = await cluster.discord.dispatch_command(
                "support", {"topic": "coming-out", "region": "GB"}, guild=guild
            )
            await handle.response(timeout=30)
            assert handle.answered_at is not None
            latencies.append(handle.answered_at - handle.dispatched_at)

    await asyncio.gather(*(one(index) for index in range(count)))
    return latencies


async def drain_rate(cluster: Cluster, posts: int) -> tuple[float, int]:
    """Posts per second of a burst of `posts` due at once (one per channel), and the 429s."""
    due = int(time.time()) + 3
    news: list[NewSchedule] = []
    # One post per channel (so no channel's own limit is what slows the burst), never c0.
    targets = [
        (guild, str(channel["id"]))
        for guild in cluster.guilds
        for channel in guild["channels"]
        if channel.get("type") == 0 and channel["name"] not in ("general", "c0")
    ][:posts]
    assert len(targets) == posts, "not enough channels for the burst"
    for guild, channel in targets:
        news.append(
            NewSchedule(
                community_id=community_id_for(Platform.DISCORD, guild["id"]),
                platform=Platform.DISCORD,
                channel_id=channel,
                channel_label=f"#{channel}",
                topic="coming-out",
                message_key=None,
                when_text="in 3s",
                timezone="UTC",
                one_shot=True,
                next_run_at=due,
                grace_seconds=3600,
                created_by="bench",
                created_at=int(time.time()),
            )
        )
    database = await PostgresDatabase.open(cluster.database_url)
    try:
        await SqlScheduleStore(database).insert_many(news)
    finally:
        await database.close()
    refusals_before = cluster.discord.global_refusals
    wanted = {channel for _, channel in targets}

    def posted() -> list[float]:
        # When the emulator created each post (its ISO timestamp, wall clock).
        return [
            datetime.fromisoformat(str(message["timestamp"])).timestamp()
            for channel in wanted
            for message in cluster.discord.messages.get(channel, [])
        ]

    deadline = time.monotonic() + 120 + posts / 10
    while len(posted()) < posts and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)  # the emulator has no event for "n posts made"
    times = sorted(posted())
    if len(times) < 2:
        return 0.0, cluster.discord.global_refusals - refusals_before
    rate = (len(times) - 1) / (times[-1] - times[0])
    return rate, cluster.discord.global_refusals - refusals_before


async def measure(
    server: PostgresServer, folder: Path, *, slices: list[list[int]], slack: bool, args: Any
) -> dict[str, float]:
    url = await new_database(server, f"bench_{len(slices)}_{int(time.time() * 1000)}")
    channels = max(2, args.posts // (2 * args.guilds_per_shard) + 2)
    async with haven_cluster(
        folder,
        url,
        shard_slices=slices,
        shard_count=2,
        guilds_per_shard=args.guilds_per_shard,
        channels_per_guild=channels,
        slack_channels=1,
        slack_process=slack,
    ) as cluster:
        await support_latencies(cluster, min(50, args.support), args.in_flight)  # warm-up
        latencies = await support_latencies(cluster, args.support, args.in_flight)
        rate, refusals = await drain_rate(cluster, args.posts)
    return {
        "p50_ms": 1000 * percentile(latencies, 50),
        "p99_ms": 1000 * percentile(latencies, 99),
        "drain_per_s": rate,
        "refusals": float(refusals),
    }


async def main(args: argparse.Namespace) -> None:
    server = start_server()
    try:
        three: list[dict[str, float]] = []
        one: list[dict[str, float]] = []
        for round_number in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="haven-bench-") as tmp:
                folder = Path(tmp)
                one.append(
                    await measure(server, folder / "one", slices=[[0, 1]], slack=False, args=args)
                )
                three.append(
                    await measure(
                        server, folder / "three", slices=[[0], [1]], slack=True, args=args
                    )
                )
            print(f"round {round_number + 1}: one process {one[-1]}, three {three[-1]}")
    finally:
        server.stop()

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(result[key] for result in results)

    print()
    print(
        f"/support under load ({args.support} interactions, {args.in_flight} in flight), "
        f"median of {args.rounds} rounds:"
    )
    for key in ("p50_ms", "p99_ms"):
        base, multi = median(one, key), median(three, key)
        print(
            f"  {key}: three processes {multi:7.1f}   one process {base:7.1f}"
            f"   ratio {multi / base:.2f}"
        )
    for label, results in (("three processes", three), ("one process", one)):
        rate = median(results, "drain_per_s")
        print(
            f"Burst of {args.posts} posts ({label}): {rate:5.1f} posts/s = "
            f"{rate / DISCORD_GLOBAL_LIMIT:.2f} of Discord's {DISCORD_GLOBAL_LIMIT}/s, "
            f"{median(results, 'refusals'):.0f} global 429s"
        )


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (small and one round)")
    parser.add_argument("--support", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--guilds-per-shard", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.support, args.posts, args.rounds, args.guilds_per_shard = 60, 60, 1, 2
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
