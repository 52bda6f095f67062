"""Benchmark Haven at hosting size: 100,000 communities and 1,000,000 schedules, on SQLite and
on a real PostgreSQL server, beside the same figures at 1/10 of that size (the baseline, measured
in the same run, so growth shows as a ratio).

How the database is filled: one community is created the way a new server really is (its row
and the default pack, through SqlCommunityRepository.create_if_missing) and one schedule the way
a moderator's `schedule add` stores it (the row and its audit entry, through
SqlScheduleStore.insert). Those rows are then copied server-side (INSERT ... SELECT over a
numbers table) with new community ids, channel ids and due times: the same bytes per
community as a real one, loaded in seconds instead of hours. Schedules are spread over the
communities and over the next day, so none is due at start-up.

Figures, per engine and size (medians of --runs runs where a run is cheap):
1. Database size per community (the communities and their libraries, bytes) and per schedule
   (the schedule row, its audit entry and their indexes).
2. Start-up to ready: `open_services` (open, migrate check, services built) plus the
   scheduler's first pass as lease holder (lease taken, claimed slots recovered, the due-time
   query). Timed in this process, after imports.
3. Leader takeover: the lease row is held by a "dead" owner whose lease has just expired; a
   standby PostScheduler takes the lease and finishes its first pass (recovering the dead
   leader's claimed slots, the due-time query). Timed from its first attempt. With Haven's
   defaults add the wait for expiry and the retry: a lease lasts 20 s after the last
   heartbeat and a standby retries every 5 s, so a standby leads at most about 25 s after the
   leader's death.
4. The due-slot claim: 50 schedules made due, then SqlScheduleStore.claim_due (the scheduler's
   one transaction: select with FOR UPDATE SKIP LOCKED on PostgreSQL, insert the slot keys,
   advance the schedules), and the due-time query (`next_due_at`) alone.

    python bench/scale.py                 # 100,000 / 1,000,000, both engines (minutes)
    python bench/scale.py --quick         # 1/100 of that: a smoke check in seconds
    python bench/scale.py --engine sqlite --communities 20000 --schedules 200000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import open_services  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.content.packs import load_default_pack, pack_to_changes  # noqa: E402
from bot.core.models import Community, ItemKind, Platform  # noqa: E402
from bot.core.ports import NewAuditEntry  # noqa: E402
from bot.core.scheduling.schedules import (  # noqa: E402
    NewSchedule,
    Schedule,
    SlotPlan,
    plan_slots,
    recurrence_for,
)
from bot.scheduler import PostScheduler, lease_name_for  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import tables  # noqa: E402
from bot.storage.database import SqlDatabase  # noqa: E402
from bot.storage.engine import open_url  # noqa: E402
from bot.storage.migrate import migrate  # noqa: E402
from bot.storage.repositories import SqlCommunityRepository  # noqa: E402
from bot.storage.schedule_store import SqlScheduleStore  # noqa: E402

GUILD_BASE = 10**17  # community ids look like real snowflakes: discord:1000...
CHANNEL_BASE = 2 * 10**17
TEMPLATE_ID = f"discord:{GUILD_BASE}"
DUE_BATCH = 50
# Tables that belong to one community (everything create_if_missing writes), for the copy.
COMMUNITY_TABLES = ("topics", "messages", "resources", "emergency_numbers")


@dataclass
class Figures:
    engine: str
    communities: int
    schedules: int
    bytes_per_community: float = 0.0
    bytes_per_schedule: float = 0.0
    load_seconds: float = 0.0
    startup: list[float] = field(default_factory=list)
    takeover: list[float] = field(default_factory=list)
    claim: list[float] = field(default_factory=list)
    due_query: list[float] = field(default_factory=list)
    url: str = ""
    now: int = 0


# ---- databases ----------------------------------------------------------------------------


class Engines:
    """Where each run's database lives: a temporary SQLite file, or a new database on one
    throwaway PostgreSQL server (tests/postgres.py) started on first use."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._server: Any = None
        self._count = 0

    async def new(self, engine: str) -> str:
        self._count += 1
        if engine == "sqlite":
            return f"sqlite:///{self._folder / f'scale-{self._count}.db'}"
        if self._server is None:
            from tests.postgres import start_server

            try:
                self._server = await asyncio.to_thread(start_server)
            except RuntimeError as error:
                raise SystemExit(
                    f"bench/scale.py cannot start a PostgreSQL server here: {error}. "
                    "Run it with --engine sqlite, or install PostgreSQL's server programs."
                ) from None
        name = f"haven_scale_{self._count}"
        await self._admin(f'CREATE DATABASE "{name}"')
        return str(self._server.url(name))

    async def _admin(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(self._server.url("postgres"))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


async def database_bytes(db: SqlDatabase) -> int:
    """What the database occupies: SQLite's pages, or PostgreSQL's own count of the
    database's files (tables, indexes, TOAST)."""
    if db.is_sqlite:
        # The pages of the committed database, WAL included: its file size once checkpointed.
        pages = await db.fetch_one("PRAGMA page_count")
        size = await db.fetch_one("PRAGMA page_size")
        assert pages is not None and size is not None
        return int(pages[0]) * int(size[0])
    row = await db.fetch_one("SELECT pg_database_size(current_database())")
    assert row is not None
    return int(row[0])


def _columns(table: str, skip: tuple[str, ...] = ()) -> list[str]:
    return [c.name for c in tables.metadata.tables[table].columns if c.name not in skip]


def _text_id(base: int, expression: str) -> str:
    return f"CAST({base} + {expression} AS TEXT)"


async def _numbers(tx: Any, name: str, count: int) -> None:
    """A temporary table of the whole numbers 1..count (both engines run this SQL)."""
    await tx.execute(f"DROP TABLE IF EXISTS {name}")
    await tx.execute(
        f"CREATE TEMPORARY TABLE {name} AS WITH RECURSIVE seq(n) AS"
        " (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < ?) SELECT n FROM seq",
        (count,),
    )


async def fill(db: SqlDatabase, communities: int, schedules: int, now: int) -> tuple[int, int]:
    """Load the communities, then the schedules; returns the database size after each."""
    repository = SqlCommunityRepository(db)
    seed = pack_to_changes(load_default_pack())
    await repository.create_if_missing(
        Community(id=TEMPLATE_ID, platform=Platform.DISCORD, name="Server 0"), seed
    )
    async with db.write() as tx:
        await _numbers(tx, "bench_n", communities - 1)
        community_id = "'discord:' || " + _text_id(GUILD_BASE, "bench_n.n")
        columns = _columns("communities")
        values = [
            community_id
            if c == "id"
            else "'Server ' || CAST(bench_n.n AS TEXT)"
            if c == "name"
            else c
            for c in columns
        ]
        await tx.execute(
            f"INSERT INTO communities ({', '.join(columns)}) SELECT {', '.join(values)}"
            " FROM communities CROSS JOIN bench_n WHERE communities.id = ?",
            (TEMPLATE_ID,),
        )
        for table in COMMUNITY_TABLES:
            columns = _columns(table)
            values = [community_id if c == "community_id" else f"{table}.{c}" for c in columns]
            await tx.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)}"
                f" FROM {table} CROSS JOIN bench_n WHERE {table}.community_id = ?",
                (TEMPLATE_ID,),
            )
        await tx.execute("DROP TABLE bench_n")
    after_communities = await database_bytes(db)

    store = SqlScheduleStore(db)
    template = NewSchedule(
        community_id=TEMPLATE_ID,
        platform=Platform.DISCORD,
        channel_id=str(CHANNEL_BASE),
        channel_label="#welcome",
        topic="coming-out",
        message_key=None,
        when_text="weekly mon 18:00",
        timezone="Europe/London",
        one_shot=False,
        next_run_at=now + 3600,
        grace_seconds=3600,
        created_by="123456789012345678",
        created_at=now,
    )

    def audit(schedule_id: int) -> NewAuditEntry:
        return NewAuditEntry(
            actor_id="123456789012345678",
            actor_name="A moderator",
            action="add",
            item_kind=ItemKind.SCHEDULE,
            item_key=str(schedule_id),
            before=None,
            after={
                "channel": "#welcome",
                "channel_id": str(CHANNEL_BASE),
                "topic": "coming-out",
                "message": None,
                "when": "weekly mon 18:00",
                "timezone": "Europe/London",
                "paused": False,
                "paused_reason": None,
            },
        )

    first = await store.insert(template, audit)
    async with db.write() as tx:
        await _numbers(tx, "bench_m", schedules - 1)
        columns = _columns("schedules", skip=("id",))
        computed = {
            "community_id": "'discord:' || " + _text_id(GUILD_BASE, f"bench_m.n % {communities}"),
            "channel_id": _text_id(CHANNEL_BASE, "bench_m.n"),
            # Spread over the next day: nothing is due at start-up.
            "next_run_at": f"{now + 3600} + (bench_m.n * 86400) / {schedules}",
        }
        values = [computed.get(c, f"schedules.{c}") for c in columns]
        await tx.execute(
            f"INSERT INTO schedules ({', '.join(columns)}) SELECT {', '.join(values)}"
            " FROM schedules CROSS JOIN bench_m WHERE schedules.id = ?",
            (first.id,),
        )
        columns = _columns("audit_log", skip=("id",))
        computed = {
            "community_id": "schedules.community_id",
            "item_key": "CAST(schedules.id AS TEXT)",
        }
        values = [computed.get(c, f"audit_log.{c}") for c in columns]
        await tx.execute(
            f"INSERT INTO audit_log ({', '.join(columns)}) SELECT {', '.join(values)}"
            " FROM schedules CROSS JOIN audit_log WHERE audit_log.item_kind = 'schedule'"
            " AND audit_log.item_key = ? AND schedules.id <> ?",
            (str(first.id), first.id),
        )
        await tx.execute("DROP TABLE bench_m")
    if not db.is_sqlite:
        await db.fetch_all("ANALYZE")  # what autovacuum would do soon after a bulk load
    return after_communities, await database_bytes(db)


async def count_rows(db: SqlDatabase, table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


# ---- the measurements ---------------------------------------------------------------------


async def _until(predicate: Callable[[], bool]) -> None:
    # The scheduler exposes counters, not events: poll them, briefly.
    async with asyncio.timeout(60):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.002)


@contextlib.asynccontextmanager
async def running(scheduler: PostScheduler) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(scheduler.run(), name="bench-scheduler")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def startup(url: str) -> float:
    """open_services + the first scheduler pass as lease holder, in seconds."""
    settings = _settings(url)
    started = time.perf_counter()
    async with open_services(settings) as services:
        async with running(services.scheduler):
            await _until(lambda: services.scheduler.stats.passes >= 1)
            return time.perf_counter() - started


def _settings(url: str) -> Settings:
    if url.startswith("sqlite:///"):
        return Settings(database_path=Path(url.removeprefix("sqlite:///")), database_url=url)
    return Settings(database_url=url)


async def takeover(db: SqlDatabase) -> float:
    """A dead owner's lease has just expired: seconds from a standby's first attempt until it
    holds the lease and has finished its first pass."""
    store = SqlScheduleStore(db)
    expired = time.time() - 0.001
    lease = lease_name_for(Platform.DISCORD)
    async with db.write() as tx:
        await tx.execute("DELETE FROM scheduler_lease WHERE name = ?", (lease,))
        await tx.execute(
            "INSERT INTO scheduler_lease (name, owner, expires_at, heartbeat) VALUES (?, ?, ?, ?)",
            (lease, "dead-host:1", expired, expired - 20.0),
        )
    standby = PostScheduler(
        store,
        {},
        _NoCards(),
        SystemClock(),
        "bench-standby:2",
        standby_retry_seconds=0.1,
    )
    standby.serve(frozenset({Platform.DISCORD}))
    started = time.perf_counter()
    async with running(standby):
        await _until(lambda: standby.stats.passes >= 1)
        return time.perf_counter() - started


class _NoCards:
    """Nothing is due during a takeover here; a card asked for would be a benchmark bug."""

    async def post_card(self, *args: object) -> Any:
        raise AssertionError("the benchmark posts nothing")

    async def resolve_post(self, *args: object) -> Any:
        raise AssertionError("the benchmark posts nothing")


async def claim(db: SqlDatabase, schedules: int, now: int) -> tuple[float, float]:
    """Seconds for one claim of DUE_BATCH due schedules, and for the due-time query alone.
    The schedules made due are spread over the table; afterwards they are put back."""
    store = SqlScheduleStore(db)
    step = max(1, schedules // DUE_BATCH)
    ids = [1 + i * step for i in range(DUE_BATCH)]
    rows = await db.fetch_all("SELECT id, next_run_at FROM schedules WHERE id IN ?", (ids,))
    before = {int(r[0]): int(r[1]) for r in rows}
    async with db.write() as tx:
        await tx.execute("UPDATE schedules SET next_run_at = ? WHERE id IN ?", (now - 30, ids))

    def plan(schedule: Schedule) -> SlotPlan:
        return plan_slots(schedule, now, recurrence_for(schedule))

    started = time.perf_counter()
    due = await store.next_due_at()
    due_seconds = time.perf_counter() - started
    assert due == now - 30, due
    started = time.perf_counter()
    claimed = await store.claim_due(now, DUE_BATCH, set(), plan, "bench:1", now + 20)
    claim_seconds = time.perf_counter() - started
    assert len(claimed) == len(before), (len(claimed), len(before))
    async with db.write() as tx:
        await tx.execute("DELETE FROM schedule_slots WHERE schedule_id IN ?", (ids,))
        await tx.executemany(
            "UPDATE schedules SET next_run_at = ?, last_outcome = NULL, last_outcome_at = NULL"
            " WHERE id = ?",
            [(at, schedule_id) for schedule_id, at in before.items()],
        )
    return claim_seconds, due_seconds


async def load(engines: Engines, engine: str, communities: int, schedules: int) -> Figures:
    """A new database of this size, filled and measured; `url` and `now` kept for the timings."""
    figures = Figures(engine, communities, schedules)
    figures.url = await engines.new(engine)
    figures.now = int(time.time())
    db = await open_url(figures.url)
    try:
        await migrate(db)
        empty = await database_bytes(db)
        started = time.perf_counter()
        with_communities, with_schedules = await fill(db, communities, schedules, figures.now)
        figures.load_seconds = time.perf_counter() - started
        loaded = (await count_rows(db, "communities"), await count_rows(db, "schedules"))
        assert loaded == (communities, schedules), loaded
        figures.bytes_per_community = (with_communities - empty) / communities
        figures.bytes_per_schedule = (with_schedules - with_communities) / schedules
    finally:
        await db.close()
    return figures


async def time_once(figures: Figures) -> None:
    """One run of each timing, added to `figures`."""
    figures.startup.append(await startup(figures.url))
    db = await open_url(figures.url)
    try:
        figures.takeover.append(await takeover(db))
        claim_seconds, due_seconds = await claim(db, figures.schedules, figures.now)
        figures.claim.append(claim_seconds)
        figures.due_query.append(due_seconds)
    finally:
        await db.close()


# ---- report -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:5.2f}x" if baseline > 0 else "    -"


ROWS: tuple[tuple[str, str, Callable[[Figures], float], float], ...] = (
    ("database size per community", "bytes", lambda f: f.bytes_per_community, 1),
    ("database size per schedule", "bytes", lambda f: f.bytes_per_schedule, 1),
    ("start-up to ready (open_services + first pass)", "ms", lambda f: _median(f.startup), 1000),
    ("leader takeover after the lease expired", "ms", lambda f: _median(f.takeover), 1000),
    (
        f"due-slot claim ({DUE_BATCH} slots, one transaction)",
        "ms",
        lambda f: _median(f.claim),
        1000,
    ),
    ("due-time query (next_due_at)", "ms", lambda f: _median(f.due_query), 1000),
)


def report(baseline: Figures, full: Figures) -> list[str]:
    lines = [
        f"== {full.engine}: {full.communities:,} communities, {full.schedules:,} schedules "
        f"(baseline {baseline.communities:,} / {baseline.schedules:,}, same run; loaded in "
        f"{full.load_seconds:.1f} s / {baseline.load_seconds:.1f} s)",
        f"{'figure':<50} {'at size':>12} {'baseline':>12}  ratio",
    ]
    for name, unit, pick, scale in ROWS:
        value, base = pick(full) * scale, pick(baseline) * scale
        lines.append(
            f"{name:<50} {value:>9.1f} {unit:<2} {base:>9.1f} {unit:<2} {_ratio(value, base)}"
        )
    return lines


async def main(args: argparse.Namespace) -> None:
    # The standby's "another process runs the scheduler" warning is expected here.
    logging.getLogger("bot").setLevel(logging.ERROR)
    communities, schedules = args.communities, args.schedules
    if args.quick:
        communities, schedules = max(communities // 100, 10), max(schedules // 100, 100)
    engines_to_run = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    runs = args.runs
    print(
        f"Haven at {communities:,} communities and {schedules:,} schedules, beside 1/10 of that; "
        f"medians of {runs} runs for the timings"
    )
    with tempfile.TemporaryDirectory(prefix="haven-scale-") as folder:
        engines = Engines(Path(folder))
        try:
            for engine in engines_to_run:
                baseline = await load(
                    engines, engine, max(communities // 10, 1), max(schedules // 10, 1)
                )
                full = await load(engines, engine, communities, schedules)
                # One warm-up of each, not counted (a fresh server's first connections and
                # plans), then the two sizes alternately, so a noisy moment hits both.
                await time_once(Figures(engine, 0, 0, url=baseline.url, now=baseline.now))
                for _ in range(runs):
                    await time_once(baseline)
                    await time_once(full)
                for line in report(baseline, full):
                    print(line, flush=True)
        finally:
            engines.stop()
    print(
        "Takeover with Haven's defaults: the lease ends 20 s after the dead leader's last "
        "heartbeat and a standby retries every 5 s, so add up to 25 s to the figure above."
    )


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=100_000)
    parser.add_argument("--schedules", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="runs per timing (the median)")
    parser.add_argument("--quick", action="store_true", help="1/100 of the size: a smoke check")
    args = parser.parse_args(argv)
    if args.communities < 10 or args.schedules < 100:
        parser.error("use at least 10 communities and 100 schedules")
    return args


if __name__ == "__main__":
    asyncio.run(main(_arguments()))
