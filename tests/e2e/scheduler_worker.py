"""A Haven scheduler in its own process, for the crash and lease tests (tests/e2e/).

It runs the real PostScheduler on a real database file with a publisher that appends every post
to a file and fsyncs it (so a kill -9 cannot lose a post that happened), on an accelerated clock
shared by every worker through environment variables, so simulated hours pass in seconds.

Environment:
  HAVEN_TEST_DB, HAVEN_TEST_OUT         database file, post log (JSON lines)
  HAVEN_TEST_OWNER                      lease owner name for this process
  HAVEN_TEST_REAL_ORIGIN, HAVEN_TEST_SIM_ORIGIN, HAVEN_TEST_SPEED
                                        simulated now = sim origin + real elapsed * speed
  HAVEN_TEST_LEASE, HAVEN_TEST_HEARTBEAT, HAVEN_TEST_RETRY   lease settings, simulated seconds
  HAVEN_TEST_CRASH                      e.g. "claim=0.05,before_send=0.05,after_send=0.05,
                                        record=0.05": chance of SIGKILL at each point
  HAVEN_TEST_SEED                       seed for the crash dice

The publisher honours the idempotency key like Discord's nonce (a key already in the log returns
the first message), and before every post it finds the slot the key belongs to (the test stores
each schedule's id as its topic) and checks its row: a post for a slot that is not `claimed`
(already sent, missed or failed) is logged as a violation — the scheduler must never do that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.scheduling.schedules import Schedule, SlotPlan
from bot.core.scheduling.schedules import idempotency_key as slot_key
from bot.scheduler import PostScheduler
from bot.storage.database import Database
from bot.storage.schedule_store import ClaimedSlot, SlotOutcome, SqlScheduleStore

log = logging.getLogger("scheduler_worker")


class AcceleratedClock:
    def __init__(self, real_origin: float, sim_origin: float, speed: float) -> None:
        self.real_origin = real_origin
        self.sim_origin = sim_origin
        self.speed = speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(
            self.sim_origin + (time.time() - self.real_origin) * self.speed, UTC
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


class Dice:
    def __init__(self, spec: str, seed: int) -> None:
        self.chances: dict[str, float] = {}
        for part in filter(None, spec.split(",")):
            name, _, value = part.partition("=")
            self.chances[name.strip()] = float(value)
        self.random = random.Random(seed)

    def maybe_die(self, point: str) -> None:
        if self.random.random() < self.chances.get(point, 0.0):
            sys.stderr.write(f"CRASH at {point}\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


class CrashingStore(SqlScheduleStore):
    """The real store; the dice may kill the process right after a claim or a record commits."""

    def __init__(self, db: Database, dice: Dice) -> None:
        super().__init__(db)
        self._dice = dice

    async def claim_due(  # type: ignore[override]
        self,
        now: int,
        limit: int,
        skip: Sequence[int] | set[int],
        plan: Callable[[Schedule], SlotPlan],
        owner: str,
        lease_until: int,
        platforms: Collection[Platform] | None = None,
    ) -> list[ClaimedSlot]:
        claimed = await super().claim_due(
            now, limit, skip, plan, owner, lease_until, platforms=platforms
        )
        if claimed:
            self._dice.maybe_die("claim")
        return claimed

    async def record_outcomes(self, outcomes: Sequence[SlotOutcome], now: int) -> None:
        await super().record_outcomes(outcomes, now)
        if outcomes:
            self._dice.maybe_die("record")


class FilePublisher:
    platform = Platform.CONSOLE

    def __init__(self, out: Path, db_path: Path, clock: AcceleratedClock, dice: Dice) -> None:
        self._out = out
        self._clock = clock
        self._dice = dice
        self._posted = 0
        self._check = sqlite3.connect(str(db_path), timeout=5.0)

    def _known(self, key: str) -> str | None:
        """The message a key already created, by any process: read from the shared log on
        every post, as Discord remembers a nonce whichever connection sent it first (a copy
        taken when this process started would miss what the other process posted since)."""
        if not self._out.exists():
            return None
        for line in self._out.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("new") and entry["key"] == key:
                return str(entry["message_id"])
        return None

    def _write(self, entry: dict[str, object]) -> None:
        with self._out.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        self._dice.maybe_die("before_send")
        at = self._clock.now().timestamp()
        assert card.topic is not None
        schedule_id = int(card.topic)
        rows = self._check.execute(
            "SELECT slot_at, status FROM schedule_slots WHERE schedule_id = ?", (schedule_id,)
        ).fetchall()
        slot = next((r for r in rows if slot_key(schedule_id, r[0]) == idempotency_key), None)
        entry: dict[str, object] = {
            "key": idempotency_key,
            "schedule_id": schedule_id,
            "slot_at": slot[0] if slot else None,
            "pid": os.getpid(),
            "at": at,
        }
        if slot is None or slot[1] != "claimed":
            entry["violation"] = f"posting a slot whose row is {slot[1] if slot else 'missing'}"
        known = self._known(idempotency_key)
        if known is not None:
            entry.update(new=False, message_id=known)
            self._write(entry)
            return known
        self._posted += 1
        message_id = f"{os.getpid()}-{self._posted}"
        entry.update(new=True, message_id=message_id)
        self._write(entry)
        self._dice.maybe_die("after_send")
        return message_id


async def run() -> None:
    env = os.environ
    db_path = Path(env["HAVEN_TEST_DB"])
    clock = AcceleratedClock(
        float(env["HAVEN_TEST_REAL_ORIGIN"]),
        float(env["HAVEN_TEST_SIM_ORIGIN"]),
        float(env.get("HAVEN_TEST_SPEED", "1")),
    )
    dice = Dice(env.get("HAVEN_TEST_CRASH", ""), int(env.get("HAVEN_TEST_SEED", os.getpid())))
    db = await Database.open(db_path)
    store = CrashingStore(db, dice)
    publisher = FilePublisher(Path(env["HAVEN_TEST_OUT"]), db_path, clock, dice)
    scheduler = PostScheduler(
        store,
        {Platform.CONSOLE: publisher},
        ScheduleCards(),
        clock,
        env["HAVEN_TEST_OWNER"],
        sleep=clock.sleep,
        lease_seconds=float(env.get("HAVEN_TEST_LEASE", "20")),
        heartbeat_seconds=float(env.get("HAVEN_TEST_HEARTBEAT", "5")),
        standby_retry_seconds=float(env.get("HAVEN_TEST_RETRY", "5")),
    )
    task = asyncio.create_task(scheduler.run())
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    print("READY", flush=True)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await db.close()
    print("STOPPED", flush=True)


class ScheduleCards:
    """A card naming its schedule (the test stores the schedule id as its topic)."""

    async def post_card(
        self, community_id: str, topic: str | None, message_key: str | None
    ) -> Card:
        return Card(title="scheduled post", topic=topic)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(created).3f {os.getpid()} %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    asyncio.run(run())


if __name__ == "__main__":
    main()
