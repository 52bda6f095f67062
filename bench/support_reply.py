"""Benchmark SupportService.reply: warm and cold, on a large library among many communities.

One community holds 10,000 messages and 10,000 resources, among 1,000 communities seeded with
the default pack, all in a real SQLite file. Prints p50/p99 latency of `reply` with the content
cache warm, the same with the cache cold (reloaded from SQLite on every call), and, as the
same-process baseline, warm replies in a community with only the default pack.

    python bench/support_reply.py            # full run
    python bench/support_reply.py --quick    # smaller, for a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.app import default_library, open_services
from bot.core.content.packs import load_default_pack, pack_to_changes
from bot.core.models import (
    GLOBAL_REGION,
    Actor,
    Community,
    Platform,
    RequestContext,
    Resource,
    SupportMessage,
    community_id_for,
)
from bot.core.ports import LibraryChanges
from bot.settings import Settings
from bot.storage.repositories import SqlCommunityRepository, SqlContentRepository

REGIONS = ("GB", "IE", "US", "CA", "AU", "NZ", "DE", "FR", "ES", "IT")


def big_library(messages: int, resources: int) -> LibraryChanges:
    base = pack_to_changes(load_default_pack())
    topics = [t.slug for t in base.topics]
    rng = random.Random(1)
    return LibraryChanges(
        topics=base.topics,
        upsert_messages=tuple(
            SupportMessage(f"m-{i}", f"Supportive message number {i}.", (rng.choice(topics),))
            for i in range(messages)
        ),
        upsert_resources=tuple(
            Resource(
                key=f"r-{i}",
                title=f"Service {i}",
                url=f"https://service{i}.example.org",
                regions=(GLOBAL_REGION,) if i % 500 == 0 else (rng.choice(REGIONS),),
                topics=(rng.choice(topics), rng.choice(topics)),
                crisis_service=i % 7 == 0,
                always_open=i % 14 == 0,
            )
            for i in range(resources)
        ),
        emergency_numbers=base.emergency_numbers,
    )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(services: object, ctx: RequestContext, calls: int, cold: bool) -> list[float]:
    support = services.support  # type: ignore[attr-defined]
    topics = [t.slug for t in default_library().topics]
    rng = random.Random(2)
    samples: list[float] = []
    for _ in range(calls):
        topic, region = rng.choice(topics), rng.choice((*REGIONS, None))
        if cold:
            support.invalidate(ctx.community_id)
        start = time.perf_counter_ns()
        await support.reply(ctx, topic, region)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def report(name: str, samples: list[float]) -> tuple[float, float]:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    print(f"{name:<44} n={len(samples):>6}  p50 {p50:8.3f} ms   p99 {p99:8.3f} ms")
    return p50, p99


async def main(quick: bool) -> None:
    communities, size = (100, 2_000) if quick else (1_000, 10_000)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_path=Path(folder) / "bench.db")
        async with open_services(settings) as services:
            repository = SqlCommunityRepository(services.db)
            seed = pack_to_changes(load_default_pack())
            started = time.perf_counter()
            for n in range(communities - 1):
                community = Community(id=f"console:c{n}", platform=Platform.CONSOLE)
                await repository.create_if_missing(community, seed)
            big = community_id_for(Platform.CONSOLE, "big")
            await repository.create_if_missing(Community(id=big, platform=Platform.CONSOLE))
            await SqlContentRepository(services.db).apply_library_changes(
                big, big_library(size, size), None
            )
            print(
                f"seeded {communities} communities (one with {size} messages and {size} "
                f"resources) in {time.perf_counter() - started:.1f} s"
            )
            actor = Actor(id="bench")
            big_ctx = RequestContext(big, Platform.CONSOLE, actor)
            small_ctx = RequestContext("console:c0", Platform.CONSOLE, actor)
            await measure(services, small_ctx, 200, cold=False)  # warm-up
            calls = 5_000 if quick else 20_000
            baseline = report(
                "baseline: default pack, warm", await measure(services, small_ctx, calls, False)
            )
            await measure(services, big_ctx, 200, cold=False)
            warm = report(
                f"large library ({size}+{size}), warm",
                await measure(services, big_ctx, calls, False),
            )
            cold = report(
                f"large library ({size}+{size}), cold cache",
                await measure(services, big_ctx, 5 if quick else 20, True),
            )
            print(
                f"warm large / baseline: p50 x{warm[0] / baseline[0]:.2f}, "
                f"p99 x{warm[1] / baseline[1]:.2f}"
            )
            print(f"cold / warm p50: x{cold[0] / warm[0]:.0f}")
            print(f"aim: warm p99 under 1 ms -> {'met' if warm[1] < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    asyncio.run(main(parser.parse_args().quick))
