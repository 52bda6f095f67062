"""Benchmark the scheduler: 100,000 schedules, a 10,000-post burst, and APScheduler 3 beside it.

Figures (medians over fresh processes, so memory is measured fairly):
1. Start-up: 100,000 schedules in the database; time from before the first import to the end of
   the scheduler's first pass, resident memory after it, the cost of an idle pass (woken, with
   nothing due) and of the due-time query itself.
   Beside it, APScheduler 3 (AsyncIOScheduler + SQLAlchemyJobStore on SQLite) holding the same
   100,000 jobs: time to its first `_process_jobs`, memory, idle wake-up; printed as ratios
   Haven / APScheduler (below 1 is better for Haven).
2. Burst: 10,000 slots due at one instant through a fake Discord publisher that answers 429
   above 50 requests/s or 5 messages per 5 s per channel. On simulated time (so it takes
   seconds, not the 250 s the budget implies): achieved rate / allowed rate (aim >= 0.95) and
   the number of 429s (aim 0), plus the CPU time the scheduler spent. Then a shorter run on the
   real clock with a higher budget, to show the loop keeps up in real time.

    python bench/scheduler.py            # full run (about 2 minutes)
    python bench/scheduler.py --quick    # the CI smoke (under a minute)

APScheduler's jobs are written straight into its table (one real job's pickled state, copied
with new ids and times): its add_job takes over a millisecond per job, 2 minutes for 100,000,
which is set-up, not what we measure. APScheduler is a benchmark-only dependency.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()  # children measure start-up from here, before any library import

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import resource  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections import deque  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- set-up (parent) ----------------------------------------------------------------------


def build_haven_db(path: Path, count: int, now: datetime) -> None:
    from bot.core.models import Platform
    from bot.core.scheduling.schedules import NewSchedule
    from bot.storage.database import Database
    from bot.storage.migrate import migrate
    from bot.storage.schedule_store import SqlScheduleStore

    async def go() -> None:
        db = await Database.open(path)
        try:
            await migrate(db)
            async with db.write() as conn:
                await conn.execute(
                    "INSERT INTO communities (id, platform) VALUES ('discord:1', 'discord')"
                )
            store = SqlScheduleStore(db)
            start = int(now.timestamp())
            batch: list[NewSchedule] = []
            for index in range(count):
                minute = index % 1440
                batch.append(
                    NewSchedule(
                        community_id="discord:1",
                        platform=Platform.DISCORD,
                        channel_id=str(10**17 + index),
                        channel_label=f"#c{index}",
                        topic="general",
                        message_key=None,
                        when_text=f"daily {minute // 60:02d}:{minute % 60:02d}",
                        timezone="UTC",
                        one_shot=False,
                        # Spread over the next day: nothing is due at start-up.
                        next_run_at=start + 3600 + (index * 86400) // count,
                        grace_seconds=3600,
                        created_by="bench",
                        created_at=start,
                    )
                )
                if len(batch) == 10_000:
                    await store.insert_many(batch)
                    batch = []
            if batch:
                await store.insert_many(batch)
        finally:
            await db.close()

    asyncio.run(go())


def build_apscheduler_db(path: Path, count: int, now: datetime) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{path}"
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone=UTC
    )
    scheduler.start(paused=True)
    scheduler.add_job(
        "time:time", "cron", hour=9, minute=0, id="seed", next_run_time=now + timedelta(hours=1)
    )
    scheduler.shutdown(wait=False)
    with sqlite3.connect(path) as conn:
        (blob,) = conn.execute(
            "SELECT job_state FROM apscheduler_jobs WHERE id = 'seed'"
        ).fetchone()
        state = pickle.loads(blob)
        rows = []
        start = now.timestamp()
        for index in range(count):
            when = start + 3600 + (index * 86400) / count
            state["id"] = f"job-{index}"
            state["next_run_time"] = datetime.fromtimestamp(when, UTC)
            rows.append((state["id"], when, pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))
        conn.execute("DELETE FROM apscheduler_jobs")
        conn.executemany(
            "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (?, ?, ?)", rows
        )


# ---- children -----------------------------------------------------------------------------


def child_haven(db_path: str, idle_passes: int) -> dict[str, float]:
    from bot.core.cards import Card
    from bot.core.clock import SystemClock
    from bot.scheduler import PostScheduler
    from bot.storage.database import Database
    from bot.storage.migrate import migrate
    from bot.storage.schedule_store import SqlScheduleStore

    class Cards:
        async def post_card(self, community_id: str, topic: str | None, key: str | None) -> Card:
            return Card(title="x")

    async def go() -> dict[str, float]:
        db = await Database.open(Path(db_path))
        await migrate(db)  # what `haven run` does at start-up (nothing to apply here)
        store = SqlScheduleStore(db)
        scheduler = PostScheduler(store, {}, Cards(), SystemClock(), f"bench-{os.getpid()}")
        task = asyncio.create_task(scheduler.run())
        # Polling keeps the probe outside the scheduler's code.
        while scheduler.stats.passes == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.0002)
        first_pass = time.perf_counter() - _T0
        memory = rss_mib()
        # Idle passes: woken (as when a moderator changes something), nothing due.
        started = time.perf_counter()
        for _ in range(idle_passes):
            before = scheduler.stats.passes
            scheduler.wake()
            while scheduler.stats.passes == before:  # noqa: ASYNC110
                await asyncio.sleep(0)
        idle = (time.perf_counter() - started) / idle_passes
        samples = []
        for _ in range(300):
            began = time.perf_counter()
            await store.next_due_at()
            samples.append(time.perf_counter() - began)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db.close()
        return {
            "first_pass_s": first_pass,
            "rss_mib": memory,
            "idle_pass_ms": idle * 1000,
            "due_query_ms": statistics.median(samples) * 1000,
        }

    return asyncio.run(go())


def child_apscheduler(db_path: str, idle_passes: int) -> dict[str, float]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    first: list[float] = []

    class Probe(AsyncIOScheduler):  # type: ignore[misc]
        def _process_jobs(self) -> Any:
            result = super()._process_jobs()
            if not first:
                first.append(time.perf_counter() - _T0)
            return result

    async def go() -> dict[str, float]:
        store = SQLAlchemyJobStore(url=f"sqlite:///{db_path}")
        scheduler = Probe(jobstores={"default": store}, timezone=UTC)
        scheduler.start()
        while not first:  # noqa: ASYNC110
            await asyncio.sleep(0.0002)
        memory = rss_mib()
        started = time.perf_counter()
        for _ in range(idle_passes):
            scheduler._process_jobs()
        idle = (time.perf_counter() - started) / idle_passes
        samples = []
        for _ in range(300):
            began = time.perf_counter()
            store.get_next_run_time()
            samples.append(time.perf_counter() - began)
        scheduler.shutdown(wait=False)
        return {
            "first_pass_s": first[0],
            "rss_mib": memory,
            "idle_pass_ms": idle * 1000,
            "due_query_ms": statistics.median(samples) * 1000,
        }

    return asyncio.run(go())


# ---- the burst ----------------------------------------------------------------------------


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        if seconds > 0:
            self.current += timedelta(microseconds=math.ceil(seconds * 1_000_000))
        await asyncio.sleep(0)


class LimitedPublisher:
    """Answers 429 above `per_second` posts in any second or `per_channel` per 5 s."""

    def __init__(self, clock: Any, per_second: int, per_channel: int = 5) -> None:
        from bot.core.models import Platform

        self.platform = Platform.DISCORD
        self._clock = clock
        self._per_second = per_second
        self._per_channel = per_channel
        self._recent: deque[float] = deque()
        self._channels: dict[str, deque[float]] = {}
        self.times: list[float] = []
        self.rejected = 0

    async def publish(
        self, channel_id: str, card: Any, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        from bot.core.scheduling.publishing import TransientPublishError

        now = self._clock.now().timestamp()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        channel = self._channels.setdefault(channel_id, deque())
        while channel and channel[0] <= now - 5.0:
            channel.popleft()
        if len(self._recent) >= self._per_second or len(channel) >= self._per_channel:
            self.rejected += 1
            raise TransientPublishError("429 Too Many Requests", retry_after=1.0)
        self._recent.append(now)
        channel.append(now)
        self.times.append(now)
        return str(len(self.times))


def run_burst(count: int, *, simulated: bool, budget: float, limit: int) -> dict[str, float]:
    from bot.core.cards import Card
    from bot.core.clock import SystemClock
    from bot.core.models import Platform
    from bot.core.scheduling.pacing import PacingPolicy
    from bot.core.scheduling.schedules import NewSchedule
    from bot.scheduler import PostScheduler
    from bot.storage.database import Database
    from bot.storage.migrate import migrate
    from bot.storage.schedule_store import SqlScheduleStore

    class Cards:
        async def post_card(self, community_id: str, topic: str | None, key: str | None) -> Card:
            return Card(title="x")

    async def go(path: Path) -> dict[str, float]:
        db = await Database.open(path)
        await migrate(db)
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform) VALUES ('discord:1', 'discord')"
            )
        clock: Any = (
            SimClock(datetime(2026, 3, 1, 8, 59, 59, tzinfo=UTC)) if simulated else (SystemClock())
        )
        due = math.ceil(clock.now().timestamp()) + (1 if simulated else 2)
        store = SqlScheduleStore(db)
        await store.insert_many(
            [
                NewSchedule(
                    "discord:1",
                    Platform.DISCORD,
                    f"c{index}",
                    "",
                    "general",
                    None,
                    "daily 09:00",
                    "UTC",
                    False,
                    due,
                    3600,
                    "bench",
                    due - 86400,
                )
                for index in range(count)
            ]
        )
        publisher = LimitedPublisher(clock, limit)
        options: dict[str, Any] = {}
        if simulated:
            options = {"sleep": clock.sleep, "lease_seconds": 86400.0, "heartbeat_seconds": 3600.0}
        elif budget != 40.0:
            policy = PacingPolicy(global_rate=budget, global_burst=5, channel_rate=0.8)
            options = {"pacing": {Platform.DISCORD: policy}}
        scheduler = PostScheduler(
            store, {Platform.DISCORD: publisher}, Cards(), clock, "bench", **options
        )
        cpu = time.process_time()
        wall = time.perf_counter()
        task = asyncio.create_task(scheduler.run())
        while len(publisher.times) + publisher.rejected < count and not task.done():
            await asyncio.sleep(0.001 if simulated else 0.01)
            if time.perf_counter() - wall > 600:
                break
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db.close()
        times = sorted(publisher.times)
        span = times[-1] - times[0] if len(times) > 1 else float("nan")
        rate = (len(times) - 1) / span if span else float("nan")
        return {
            "posted": len(times),
            "rejected_429": publisher.rejected,
            "rate": rate,
            "ratio": rate / budget,
            "span_s": span,
            "cpu_s": cpu,
            "wall_s": wall,
        }

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(go(Path(tmp) / "burst.db"))


# ---- the parent ---------------------------------------------------------------------------


def spawn(kind: str, db: Path, idle_passes: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db), "--idle", str(idle_passes)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def median_of(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(result[key] for result in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--schedules", type=int, default=100_000)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--child", choices=("haven", "apscheduler"))
    parser.add_argument("--db")
    parser.add_argument("--idle", type=int, default=200)
    args = parser.parse_args()
    if args.child:
        run = child_haven if args.child == "haven" else child_apscheduler
        print(json.dumps(run(args.db, args.idle)))
        return

    runs = args.runs or (3 if args.quick else 5)
    burst = 10_000
    now = datetime.now(UTC)
    print(f"Scheduler benchmark: {args.schedules:,} schedules, medians of {runs} fresh processes")
    with tempfile.TemporaryDirectory() as tmp:
        haven_db, aps_db = Path(tmp) / "haven.db", Path(tmp) / "aps.db"
        began = time.perf_counter()
        build_haven_db(haven_db, args.schedules, now)
        haven_build = time.perf_counter() - began
        began = time.perf_counter()
        build_apscheduler_db(aps_db, args.schedules, now)
        aps_build = time.perf_counter() - began
        print(
            f"  set-up: Haven bulk insert {haven_build:.1f} s; APScheduler table fill "
            f"{aps_build:.1f} s"
        )
        haven = [spawn("haven", haven_db, args.idle) for _ in range(runs)]
        aps = [spawn("apscheduler", aps_db, 50) for _ in range(runs)]

    rows = (
        ("start-up to first pass (s)", "first_pass_s", "{:.3f}"),
        ("resident memory after it (MiB)", "rss_mib", "{:.1f}"),
        ("idle pass, nothing due (ms)", "idle_pass_ms", "{:.3f}"),
        ("next-due query (ms)", "due_query_ms", "{:.3f}"),
    )
    print(f"\n  {'':34} {'Haven':>10} {'APScheduler':>12} {'Haven/APS':>10}")
    for label, key, fmt in rows:
        mine, theirs = median_of(haven, key), median_of(aps, key)
        print(
            f"  {label:34} {fmt.format(mine):>10} {fmt.format(theirs):>12} {mine / theirs:>10.2f}"
        )
    print(
        "  (Haven's idle pass is a woken loop turn: it re-reads the due time; APScheduler's "
        "is _process_jobs.)"
    )

    sim = run_burst(burst, simulated=True, budget=40.0, limit=50)
    print(
        f"\n  Burst: {burst:,} slots due at one instant, Discord budget 40/s, fake platform "
        "limit 50/s and 5 per 5 s per channel (simulated time)"
    )
    print(
        f"    posted {sim['posted']:,}, 429s {sim['rejected_429']}, achieved "
        f"{sim['rate']:.2f}/s = {sim['ratio']:.3f} of the allowed rate, drained in "
        f"{sim['span_s']:.0f} simulated s; scheduler CPU {sim['cpu_s']:.1f} s "
        f"({sim['posted'] / max(sim['cpu_s'], 1e-9):,.0f} posts per CPU second)"
    )
    real_count = 400 if args.quick else 1200
    real = run_burst(real_count, simulated=False, budget=40.0, limit=50)
    print(
        f"  Real clock: {real_count:,} slots, production pacing (40/s), fake limit 50/s: posted "
        f"{real['posted']:,}, 429s {real['rejected_429']}, achieved {real['rate']:.1f}/s = "
        f"{real['ratio']:.3f} of the allowed rate in {real['wall_s']:.1f} s wall, "
        f"{real['cpu_s']:.2f} s CPU"
    )
    ok = sim["rejected_429"] == 0 and sim["ratio"] >= 0.95 and real["rejected_429"] == 0
    print(f"\n  targets (ratio >= 0.95, zero 429s): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
