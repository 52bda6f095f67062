"""Discord /support throughput and dispatch-to-callback latency: Haven vs a bare discord.py bot.

This process runs the loopback Discord emulator (tests/fakes/fake_discord.py) and drives the
load; each client runs in its own process (`--client ...`), connected exactly as `haven run`
connects (DISCORD_API_URL / DISCORD_GATEWAY_URL through apply_endpoint_overrides):

- haven: the real HavenBot with real services, SQLite and the default pack, answering
         /support <topic> <region> with the embed, link buttons, menus and DM button;
- bare:  a bare discord.py client whose /support answers a static string, ephemerally;
- bare-rich: the same bare client answering with a static message of Haven's shape (embed with
         resources, link buttons, topic menu, DM button), so the Haven/bare-rich ratio isolates
         Haven's own work from the cost of a richer message (discord.py also parses the echoed
         message, components included, from the callback response).

Measured per interaction, in the emulator: from the INTERACTION_CREATE being sent to the
callback arriving. Reported: one at a time (p50/p99, throughput), then N in flight, then the
client's resident memory (VmRSS) before and after 1,000 servers join (GUILD_CREATE). Rounds
alternate the two clients; medians over rounds are printed, with Haven/bare ratios (aim: >= 0.8
of the bare client's throughput).

    python bench/discord_throughput.py            # full run (3 rounds)
    python bench/discord_throughput.py --quick    # two short rounds, under a minute (CI smoke)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import count_communities, percentile, rss_mib  # noqa: E402

TOKEN = "bench-discord-token-0123456789"
CLIENTS = ("haven", "bare", "bare-rich")
QUERIES: tuple[dict[str, str], ...] = (
    {"topic": "coming-out", "region": "GB"},
    {"topic": "crisis", "region": "US"},
    {},
    {"topic": "harassment", "region": "IE"},
    {"topic": "family", "region": "AU"},
    {"topic": "mental-health", "region": "CA"},
    {"topic": "trans-and-gender", "region": "NZ"},
    {"topic": "being-outed", "region": "GB"},
)


# --------------------------------------------------------------------------- client processes


def _client_main(kind: str, api_url: str, gateway_url: str, db_path: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    main = (
        _run_haven(api_url, gateway_url, db_path)
        if kind == "haven"
        else _run_bare(api_url, gateway_url, rich=kind == "bare-rich")
    )
    profile_to = os.environ.get("HAVEN_BENCH_PROFILE")
    if not profile_to:
        asyncio.run(main)
        return
    # Where the client spends its time: HAVEN_BENCH_PROFILE=/tmp/prof python bench/...
    import cProfile

    with cProfile.Profile() as profiler:
        asyncio.run(main)
    profiler.dump_stats(f"{profile_to}.{kind}")


async def _until_terminated(client: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    task = asyncio.create_task(client.start(TOKEN))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    await client.close()
    waiter.cancel()
    await asyncio.gather(task, waiter, return_exceptions=True)


async def _run_haven(api_url: str, gateway_url: str, db_path: str) -> None:
    from bot.adapters.discord.client import HavenBot
    from bot.adapters.discord.endpoints import apply_endpoint_overrides
    from bot.app import open_services
    from bot.settings import Secret, Settings

    apply_endpoint_overrides(api_url, gateway_url)
    settings = Settings(database_path=Path(db_path), discord_token=Secret(TOKEN))
    async with open_services(settings) as services:
        await _until_terminated(HavenBot(services, guild_ready_timeout=0.1))


def _rich_card() -> Any:
    """A static card of the shape Haven answers /support with (4 resources, 9 other topics)."""
    from bot.core.cards import Card, CardContact, CardResource, CardTone, Choice

    resources = tuple(
        CardResource(
            title=f"Helpline {n}",
            url=f"https://helpline{n}.example.org",
            domain=f"helpline{n}.example.org",
            description="A listening service for LGBTQ+ people, their friends and families.",
            contacts=(CardContact("Call", "0800 123 4567"),),
            hours="10am to 10pm",
            badges=("24/7",),
            last_verified="checked 2026-11-28",
        )
        for n in range(4)
    )
    return Card(
        title="Coming out",
        body="There's no single big reveal you owe anyone. Whatever pace keeps you safe is valid.",
        tone=CardTone.SUPPORT,
        resources=resources,
        footer="Only you can see this. Haven is not a crisis service.",
        choices=tuple(Choice(f"Topic {n}", f"topic-{n}", "What it is about") for n in range(9)),
        topic="coming-out",
        region="GB",
        message_key="coming-out-own-pace",
    )


async def _run_bare(api_url: str, gateway_url: str, rich: bool) -> None:
    import discord
    from discord import app_commands

    from bot.adapters.discord import component_ids
    from bot.adapters.discord.endpoints import apply_endpoint_overrides
    from bot.adapters.discord.render import render_card

    apply_endpoint_overrides(api_url, gateway_url)
    intents = discord.Intents.none()
    intents.guilds = True

    class Bare(discord.Client):
        def __init__(self) -> None:
            super().__init__(
                intents=intents,
                max_messages=None,
                chunk_guilds_at_startup=False,
                member_cache_flags=discord.MemberCacheFlags.none(),
                allowed_mentions=discord.AllowedMentions.none(),
                guild_ready_timeout=0.1,
            )
            self.tree = app_commands.CommandTree(self)

            @self.tree.command(name="support", description="Static answer")
            async def support(
                interaction: discord.Interaction,
                topic: str | None = None,
                region: str | None = None,
            ) -> None:
                if rich:
                    await interaction.response.send_message(**answer, ephemeral=True)
                else:
                    await interaction.response.send_message(
                        "You are not alone. Here are some places that can help.", ephemeral=True
                    )

        async def setup_hook(self) -> None:
            await self.tree.sync()

    answer: dict[str, Any] = {}
    client = Bare()
    if rich:
        answer = render_card(_rich_card(), component_ids.ShortLivedStore()).send_kwargs()
    await _until_terminated(client)


# --------------------------------------------------------------------------- the driver


@dataclass
class Result:
    client: str
    sequential_per_s: float = 0.0
    sequential_ms: list[float] = field(default_factory=list)
    concurrent_per_s: float = 0.0
    concurrent_ms: list[float] = field(default_factory=list)
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0
    guilds: int = 0
    failures: int = 0


async def _one(fake: Any, guild: dict[str, Any], index: int) -> float:
    handle = await fake.dispatch_command("support", QUERIES[index % len(QUERIES)], guild=guild)
    body = await handle.response(timeout=10)
    if body.get("type") != 4:
        raise RuntimeError(f"unexpected answer {body}")
    return (handle.answered_at - handle.dispatched_at) * 1000.0


async def run_client(
    kind: str, *, sequential: int, concurrent: int, in_flight: int, guilds: int
) -> Result:
    from tests.fakes.fake_discord import FakeDiscord

    result = Result(kind)
    with tempfile.TemporaryDirectory(prefix="haven-bench-") as tmp:
        db_path = Path(tmp) / "haven.db"
        async with FakeDiscord(token=TOKEN) as fake:
            guild = fake.make_guild("Bench server")
            identified = asyncio.create_task(fake.wait_for_session("identify", timeout=60))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--client",
                kind,
                fake.api_url,
                fake.gateway_url,
                str(db_path),
                cwd=tmp,
            )
            try:
                exited = asyncio.create_task(process.wait())
                await asyncio.wait({identified, exited}, return_when=asyncio.FIRST_COMPLETED)
                if exited.done():
                    identified.cancel()
                    raise RuntimeError(f"the {kind} client exited with {process.returncode}")
                exited.cancel()
                await identified
                await fake.wait_for("PUT", r"/commands$", timeout=60)
                for i in range(50):  # warm-up: caches, code paths, connection pools
                    await _one(fake, guild, i)

                started = time.perf_counter()
                for i in range(sequential):
                    result.sequential_ms.append(await _one(fake, guild, i))
                result.sequential_per_s = sequential / (time.perf_counter() - started)

                gate = asyncio.Semaphore(in_flight)

                async def limited(i: int) -> float:
                    async with gate:
                        return await _one(fake, guild, i)

                started = time.perf_counter()
                outcomes = await asyncio.gather(
                    *(limited(i) for i in range(concurrent)), return_exceptions=True
                )
                result.concurrent_per_s = concurrent / (time.perf_counter() - started)
                result.concurrent_ms = [o for o in outcomes if isinstance(o, float)]
                result.failures = concurrent - len(result.concurrent_ms)

                result.rss_before_mib = rss_mib(process.pid)
                for n in range(guilds):
                    await fake.add_guild(f"Server {n}", channels=("general",), roles=())
                # The gateway is ordered: once this answer arrives, every GUILD_CREATE before it
                # has been parsed. Haven then records each new community in the background.
                await _one(fake, guild, 0)
                if kind == "haven":
                    deadline = time.monotonic() + 120
                    while await count_communities(db_path) < guilds + 1:
                        if time.monotonic() > deadline:
                            break
                        await asyncio.sleep(0.2)
                await asyncio.sleep(0.5)
                result.rss_after_mib = rss_mib(process.pid)
                result.guilds = guilds
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(process.wait(), 30)
                    except TimeoutError:
                        process.kill()
    return result


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(results: list[Result], in_flight: int) -> None:
    by_kind: dict[str, list[Result]] = {k: [r for r in results if r.client == k] for k in CLIENTS}
    print()
    print(f"{'client':<9} {'1-at-a-time/s':>14} {'p50 ms':>7} {'p99 ms':>7} "
          f"{f'{in_flight} in flight/s':>15} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'RSS MiB':>8} {'+guilds':>8}")  # fmt: skip
    medians: dict[str, dict[str, float]] = {}
    for kind, runs in by_kind.items():
        m = {
            "seq": _median([r.sequential_per_s for r in runs]),
            "seq50": _median([percentile(r.sequential_ms, 50) for r in runs]),
            "seq99": _median([percentile(r.sequential_ms, 99) for r in runs]),
            "con": _median([r.concurrent_per_s for r in runs]),
            "con50": _median([percentile(r.concurrent_ms, 50) for r in runs]),
            "con99": _median([percentile(r.concurrent_ms, 99) for r in runs]),
            "rss0": _median([r.rss_before_mib for r in runs]),
            "rss1": _median([r.rss_after_mib for r in runs]),
        }
        medians[kind] = m
        failures = sum(r.failures for r in runs)
        print(
            f"{kind:<9} {m['seq']:>14.0f} {m['seq50']:>7.2f} {m['seq99']:>7.2f} "
            f"{m['con']:>15.0f} {m['con50']:>7.2f} {m['con99']:>7.2f} "
            f"{m['rss1']:>8.1f} {m['rss1'] - m['rss0']:>+8.1f}"
            + (f"  ({failures} failed)" if failures else "")
        )
    haven, bare, rich = medians["haven"], medians["bare"], medians["bare-rich"]
    guilds = results[0].guilds if results else 0
    print()
    print(f"Haven / bare throughput, one at a time: {haven['seq'] / bare['seq']:.2f} (aim >= 0.8)")
    print(f"Haven / bare throughput, {in_flight} in flight: {haven['con'] / bare['con']:.2f}")
    print(
        f"Haven / bare-rich (same message shape): {haven['seq'] / rich['seq']:.2f} one at a "
        f"time, {haven['con'] / rich['con']:.2f} in flight"
    )
    print(
        f"Resident memory after {guilds} servers joined: Haven {haven['rss1']:.1f} MiB "
        f"(+{haven['rss1'] - haven['rss0']:.1f}), bare {bare['rss1']:.1f} MiB "
        f"(+{bare['rss1'] - bare['rss0']:.1f})"
    )


async def main(args: argparse.Namespace) -> None:
    if args.quick:
        rounds, sequential, concurrent, guilds = 2, 300, 400, 1000
    else:
        rounds, sequential, concurrent, guilds = args.rounds, 1000, 2000, 1000
    results: list[Result] = []
    print(f"{rounds} round(s): {sequential} one at a time, {concurrent} with {args.in_flight} in "
          f"flight, then {guilds} servers joined; each client in its own process")  # fmt: skip
    for round_number in range(rounds):
        # Alternate the order: these machines are noisy, and position in a run matters.
        order = CLIENTS if round_number % 2 == 0 else tuple(reversed(CLIENTS))
        for kind in order:
            started = time.perf_counter()
            result = await run_client(
                kind,
                sequential=sequential,
                concurrent=concurrent,
                in_flight=args.in_flight,
                guilds=guilds,
            )
            results.append(result)
            print(
                f"  round {round_number + 1} {kind:<9}: {result.sequential_per_s:6.0f}/s one at "
                f"a time, {result.concurrent_per_s:6.0f}/s in flight, "
                f"RSS {result.rss_before_mib:.1f} -> {result.rss_after_mib:.1f} MiB "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    report(results, args.in_flight)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _client_main(*sys.argv[2:6])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two short rounds (< 60 s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=20)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(parser.parse_args()))
