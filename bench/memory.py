"""Resident memory per 1,000 Discord servers: Haven's client vs a bare discord.py AutoShardedBot.

Both clients run against the loopback Discord emulator (tests/fakes/fake_discord.py), each in
its own process, connected the way `haven run` connects (DISCORD_API_URL / DISCORD_GATEWAY_URL
through apply_endpoint_overrides):

- haven: the real HavenBot with real services, SQLite and the default pack: every server that
  joins becomes a community seeded with the default pack, as in production;
- bare:  commands.AutoShardedBot with Haven's intents and cache settings (guilds intent only,
  no message cache, no member cache, no chunking) and one static /support command.

The driver measures the client's VmRSS (from /proc) after it connects with one server, then
after each step of servers joining (GUILD_CREATE with a few channels and roles each). A step
counts as done when a /support sent after it is answered (the gateway is ordered, so every
GUILD_CREATE before it was handled) and, for Haven, when every new community is in its
database. Growth per 1,000 servers is (RSS at the last step - RSS at 0) / thousands joined;
medians over fresh processes; the ratio Haven / bare is printed (aim: at most 1.5). The growth
over the last step alone is printed too (once caches that fill to a limit are full), and then
what answering /support once in every server adds: Haven keeps each community's library in
memory once it has been used, which joining alone never shows.

`--trace` runs Haven once more under tracemalloc (one step of servers) and prints where the
Python memory held after the servers joined, and then after /support in each, was allocated
(by traceback, the allocation first), with how much of it was allocated under Haven's own code
(bot/, cogs/): what Haven keeps per server that the bare client does not. tracemalloc sees
Python allocations only: SQLite's page cache and the C allocator's free lists are in RSS but
not in that list.

    python bench/memory.py            # 0, 1,000, 2,000 servers; median of 3 runs each
    python bench/memory.py --quick    # 0, 100, 200 servers; one run each (a smoke check)
    python bench/memory.py --trace --steps 0,100   # and where Haven's memory goes (minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import count_communities, rss_mib  # noqa: E402

TOKEN = "bench-memory-token-0123456789"
CLIENTS = ("haven", "bare")
CHANNELS = ("general", "welcome", "resources")
ROLES = ("moderators", "helpers", "members")
TRACE_FRAMES = 6
TRACE_TOP = 15


# --------------------------------------------------------------------------- client processes


def _client_main(kind: str, api_url: str, gateway_url: str, db_path: str, trace: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    if trace:
        import tracemalloc

        tracemalloc.start(TRACE_FRAMES)
    main = (
        _run_haven(api_url, gateway_url, db_path, trace)
        if kind == "haven"
        else _run_bare(api_url, gateway_url, trace)
    )
    asyncio.run(main)


def _tracer(path: str) -> Any:
    """On each SIGUSR1 a snapshot; from the second on, what is held since the one before is
    written to `path`.N (N = 1, 2, ...): a summary line (all of it, and the part allocated
    under Haven's own code, bot/ and cogs/), then the top allocations by traceback.
    `path`.0 marks the first snapshot taken."""
    import tracemalloc

    taken: list[tracemalloc.Snapshot] = []

    def on_signal() -> None:
        import gc

        gc.collect()
        snapshot = tracemalloc.take_snapshot().filter_traces(
            (tracemalloc.Filter(False, tracemalloc.__file__),)
        )
        taken.append(snapshot)
        if len(taken) == 1:
            Path(f"{path}.0").write_text("1")
            return
        stats = snapshot.compare_to(taken[-2], "traceback")
        total = sum(stat.size_diff for stat in stats)
        own = sum(
            stat.size_diff for stat in stats if any(_ours(f.filename) for f in stat.traceback)
        )
        lines = [f"{total / 1024:.1f} KiB held in all; {own / 1024:.1f} KiB under bot/ and cogs/"]
        for stat in stats[:TRACE_TOP]:
            # tracemalloc lists a traceback oldest frame first: show the allocation first.
            frames = [
                f"{Path(frame.filename).as_posix().split('site-packages/')[-1]}:{frame.lineno}"
                for frame in reversed(stat.traceback)
                if "asyncio" not in frame.filename
            ][:4]
            lines.append(
                f"{stat.size_diff / 1024:9.1f} KiB {stat.count_diff:+7d} blocks  "
                + " <- ".join(frames)
            )
        Path(f"{path}.{len(taken) - 1}").write_text("\n".join(lines) + "\n")

    return on_signal


OURS = tuple(f"{ROOT / top}/" for top in ("bot", "cogs"))


def _ours(filename: str) -> bool:
    # Module files are recorded by the absolute path they were imported from.
    return filename.startswith(OURS)


async def _until_terminated(client: Any, trace: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if trace:
        loop.add_signal_handler(signal.SIGUSR1, _tracer(trace))
    task = asyncio.create_task(client.start(TOKEN))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    await client.close()
    waiter.cancel()
    await asyncio.gather(task, waiter, return_exceptions=True)


async def _run_haven(api_url: str, gateway_url: str, db_path: str, trace: str) -> None:
    from bot.adapters.discord.client import HavenBot
    from bot.adapters.discord.endpoints import apply_endpoint_overrides
    from bot.app import open_services
    from bot.settings import Secret, Settings

    apply_endpoint_overrides(api_url, gateway_url)
    settings = Settings(database_path=Path(db_path), discord_token=Secret(TOKEN))
    async with open_services(settings) as services:
        await _until_terminated(HavenBot(services, guild_ready_timeout=0.1), trace)


async def _run_bare(api_url: str, gateway_url: str, trace: str) -> None:
    import discord
    from discord.ext import commands

    from bot.adapters.discord.endpoints import apply_endpoint_overrides

    apply_endpoint_overrides(api_url, gateway_url)
    discord.VoiceClient.warn_nacl = False  # as Haven does: neither joins voice
    discord.VoiceClient.warn_dave = False
    intents = discord.Intents.none()
    intents.guilds = True
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned,
        help_command=None,
        intents=intents,
        max_messages=None,
        chunk_guilds_at_startup=False,
        member_cache_flags=discord.MemberCacheFlags.none(),
        allowed_mentions=discord.AllowedMentions.none(),
        guild_ready_timeout=0.1,
        max_ratelimit_timeout=30.0,
    )

    @bot.tree.command(name="support", description="A static answer")
    async def support(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("You are not alone.", ephemeral=True)

    async def setup_hook() -> None:
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    await _until_terminated(bot, trace)


# --------------------------------------------------------------------------- the driver


@dataclass
class Run:
    client: str
    # (servers joined, VmRSS in MiB) after each step, the first at 0.
    steps: list[tuple[int, float]] = field(default_factory=list)
    # VmRSS after /support was then answered once in every server.
    used_rss: float = 0.0

    @property
    def used_per_1000(self) -> float:
        """What answering /support in each server added, per 1,000 servers."""
        (last, rss1) = self.steps[-1]
        return (self.used_rss - rss1) / (last / 1000)

    @property
    def growth_per_1000(self) -> float:
        (first, rss0), (last, rss1) = self.steps[0], self.steps[-1]
        return (rss1 - rss0) / ((last - first) / 1000)

    @property
    def last_step_per_1000(self) -> float:
        """Growth over the last step only: what each further server costs once one-off costs
        (caches filling to their limit, the allocator's first arenas) are paid."""
        (first, rss0), (last, rss1) = self.steps[-2], self.steps[-1]
        return (rss1 - rss0) / ((last - first) / 1000)


async def _settled(
    fake: Any, guild: dict[str, Any], kind: str, db_path: Path, servers: int, slow: bool
) -> None:
    """Every GUILD_CREATE so far handled (and for Haven, every community stored). `slow`:
    under tracemalloc, which makes every allocation several times slower."""
    handle = await fake.dispatch_command("support", {}, guild=guild)
    await handle.response(timeout=600 if slow else 60)
    if kind == "haven":
        async with asyncio.timeout(1800 if slow else 300):
            while await count_communities(db_path) < servers + 1:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # background work after the last event (logs, flushes)


async def run_client(kind: str, steps: list[int], trace: str = "") -> Run:
    from tests.fakes.fake_discord import FakeDiscord

    result = Run(kind)
    with tempfile.TemporaryDirectory(prefix="haven-memory-") as tmp:
        db_path = Path(tmp) / "haven.db"
        async with FakeDiscord(token=TOKEN) as fake:
            guild = fake.make_guild("Bench server", channels=CHANNELS, roles=ROLES)
            identified = asyncio.create_task(fake.wait_for_session("identify", timeout=60))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--client",
                kind,
                fake.api_url,
                fake.gateway_url,
                str(db_path),
                trace,
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
                joined = 0
                servers: list[dict[str, Any]] = []
                for target in steps:
                    while joined < target:
                        joined += 1
                        servers.append(
                            await fake.add_guild(f"Server {joined}", channels=CHANNELS, roles=ROLES)
                        )
                    await _settled(fake, guild, kind, db_path, joined, slow=bool(trace))
                    if trace and target == steps[0]:
                        await _signal_and_wait(process, Path(f"{trace}.0"))
                    result.steps.append((joined, rss_mib(process.pid)))
                if trace:
                    await _signal_and_wait(process, Path(f"{trace}.1"))
                # Then /support once in every server: what using each community keeps.
                for server in servers:
                    handle = await fake.dispatch_command("support", {}, guild=server)
                    await handle.response(timeout=600 if trace else 60)
                await asyncio.sleep(0.5)
                result.used_rss = rss_mib(process.pid)
                if trace:
                    await _signal_and_wait(process, Path(f"{trace}.2"))
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(process.wait(), 30)
                    except TimeoutError:
                        process.kill()
    return result


async def _signal_and_wait(process: Any, written: Path) -> None:
    process.send_signal(signal.SIGUSR1)
    # A snapshot of a big heap, and its comparison, take minutes under tracemalloc.
    async with asyncio.timeout(900):
        while not written.exists():  # noqa: ASYNC110 - a file the other process writes
            await asyncio.sleep(0.05)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(runs: list[Run]) -> list[str]:
    lines = []
    growth: dict[str, float] = {}
    last_step: dict[str, float] = {}
    used: dict[str, float] = {}
    for kind in CLIENTS:
        mine = [r for r in runs if r.client == kind]
        if not mine:
            continue
        steps = mine[0].steps
        cells = []
        for index, (servers, _) in enumerate(steps):
            cells.append(
                f"{servers:>5} servers {_median([r.steps[index][1] for r in mine]):7.1f} MiB"
            )
        growth[kind] = _median([r.growth_per_1000 for r in mine])
        last_step[kind] = _median([r.last_step_per_1000 for r in mine])
        used[kind] = _median([r.used_per_1000 for r in mine])
        cells.append(f"/support in each {_median([r.used_rss for r in mine]):7.1f} MiB")
        lines.append(
            f"{kind:<6} "
            + " | ".join(cells)
            + f" | growth {growth[kind]:+.2f} MiB per 1,000 servers"
        )
    if "haven" in growth and "bare" in growth:
        ratio = growth["haven"] / growth["bare"] if growth["bare"] > 0 else float("inf")
        lines.append(
            f"Growth per 1,000 servers: Haven {growth['haven']:+.2f} MiB, bare AutoShardedBot "
            f"{growth['bare']:+.2f} MiB, ratio {ratio:.2f} (aim <= 1.5)"
        )
        lines.append(
            f"Over the last step only: Haven {last_step['haven']:+.2f} MiB, bare "
            f"{last_step['bare']:+.2f} MiB per 1,000 servers (one-off costs paid)"
        )
        lines.append(
            f"Then /support once in every server: Haven {used['haven']:+.2f} MiB, bare "
            f"{used['bare']:+.2f} MiB per 1,000 servers (Haven keeps each community's library "
            "in memory once it is used)"
        )
    return lines


async def main(args: argparse.Namespace) -> None:
    steps = [0, 100, 200] if args.quick else args.steps
    rounds = 1 if args.quick else args.runs
    print(
        f"Resident memory with {', '.join(map(str, steps))} servers joined "
        f"({len(CHANNELS)} channels, {len(ROLES)} roles each); median of {rounds} "
        f"run{'s' if rounds != 1 else ''}, each client in its own process"
    )
    runs: list[Run] = []
    for _ in range(rounds):
        for kind in CLIENTS:  # alternate, so a noisy moment hits both
            runs.append(await run_client(kind, steps))
    for line in report(runs):
        print(line, flush=True)
    if args.trace:
        with tempfile.TemporaryDirectory(prefix="haven-trace-") as tmp:
            path = str(Path(tmp) / "trace")
            steps = steps[:2]  # one step is enough to see what each server leaves behind
            await run_client("haven", steps, trace=path)
            for index, what in ((1, f"{steps[-1]} servers joining"), (2, "/support in each")):
                print(f"Haven's Python allocations held after {what} (tracemalloc):")
                print(Path(f"{path}.{index}").read_text(), end="")


def _steps(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list like 0,1000,2000") from None
    if len(steps) < 2 or steps[0] != 0 or steps != sorted(set(steps)):
        raise argparse.ArgumentTypeError(
            f"'{text}': give at least two rising numbers, the first 0 (e.g. 0,1000,2000)"
        )
    return steps


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _client_main(*sys.argv[2:7])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0, 100, 200 servers; one run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trace", action="store_true", help="where Haven's memory goes")
    parser.add_argument(
        "--steps",
        type=_steps,
        default=[0, 1000, 2000],
        help="servers joined at each measurement, rising, from 0 (default 0,1000,2000)",
    )
    asyncio.run(main(parser.parse_args()))
