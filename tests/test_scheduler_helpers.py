"""Test doubles for the scheduler tests: a simulated clock with its sleep, a recording publisher
that enforces platform limits and can fail on demand, and a stub card source.

No tests here; the scheduler, schedule and crash tests import these.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.cards import Card
from bot.core.errors import NotFound
from bot.core.models import Community, CommunityStatus, ItemKind, Platform
from bot.core.ports import NewAuditEntry
from bot.core.scheduling.publishing import (
    ChannelInfo,
    PermanentPublishError,
    PublishError,
    TransientPublishError,
)
from bot.core.scheduling.recurrence import parse_when
from bot.core.scheduling.schedules import NewSchedule, Schedule, default_grace_seconds, epoch
from bot.storage.database import Database
from bot.storage.schedule_store import SqlScheduleStore

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


class SimClock:
    """Simulated time that moves only when a test moves it. Sleepers wait until `tick_to` (or
    `run_scheduler_until`) moves the clock to or past their wake-up, so a test sees exactly
    what the scheduler is waiting for (`waiting_until`) and nothing races real time."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        # Round up to the next microsecond, as a real clock would have moved on by then.
        wake_at = self.current + timedelta(microseconds=math.ceil(max(seconds, 0) * 1_000_000))
        entry = (wake_at, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await entry[1]
        finally:
            self._waiters.remove(entry)

    def waiting_until(self) -> list[datetime]:
        return sorted(when for when, future in self._waiters if not future.done())

    def move_to(self, when: datetime) -> None:
        """Set the time and wake every sleeper due by then (they run at the next await)."""
        self.current = when
        for wake_at, future in list(self._waiters):
            if wake_at <= when and not future.done():
                future.set_result(None)

    async def tick_to(self, when: datetime, *schedulers: object) -> None:
        """Move the time, then wait until each scheduler given has done everything due by
        then and sleeps again (see `wait_idle`)."""
        self.move_to(when)
        for scheduler in schedulers:
            await wait_idle(scheduler, self)


# Only a stuck scheduler waits this long (real seconds): the test then fails saying so. No
# result depends on how fast the machine is.
IDLE_TIMEOUT = 60.0


async def wait_idle(
    scheduler: object, clock: SimClock, task: asyncio.Task[None] | None = None
) -> None:
    """Wait until the scheduler has nothing to do before its next wake-up on `clock`: it sleeps
    (PostScheduler.idle: no post or notice in flight, no wake pending) and its sleep is on the
    clock. Polls the event loop; real time only bounds a scheduler that is stuck."""
    from bot.scheduler import PostScheduler

    assert isinstance(scheduler, PostScheduler)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + IDLE_TIMEOUT
    while not (scheduler.idle and clock.waiting_until()):
        if task is not None and task.done():
            task.result()
            raise AssertionError("the scheduler stopped")
        if loop.time() > give_up:
            raise AssertionError(f"the scheduler was still busy after {IDLE_TIMEOUT:.0f} s")
        await asyncio.sleep(0.0005)


@dataclass
class Post:
    channel_id: str
    key: str
    at: float
    card: Card
    message_id: str


@dataclass
class RecordingPublisher:
    """A publisher for one platform that records every post, honours the idempotency key like
    Discord's nonce (a repeated key returns the first message), and answers 429 when a post
    would break the limits it is given. `script[channel]` lists errors to raise, in order."""

    platform: Platform
    clock: SimClock
    global_per_second: int | None = None
    channel_min_spacing: float | None = None
    channel_per_window: tuple[int, float] | None = None
    script: dict[str, deque[PublishError]] = field(default_factory=dict)
    unpostable: set[str] = field(default_factory=set)
    posts: list[Post] = field(default_factory=list)
    calls: list[tuple[str, str, float]] = field(default_factory=list)
    rejected_429: int = 0
    _by_key: dict[str, str] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _by_channel: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def fail(self, channel_id: str, *errors: PublishError) -> None:
        self.script.setdefault(channel_id, deque()).extend(errors)

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        now = self.clock.now().timestamp()
        self.calls.append((channel_id, idempotency_key, now))
        known = self._by_key.get(idempotency_key)
        if known is not None:
            return known
        queued = self.script.get(channel_id)
        if queued:
            raise queued.popleft()
        if self._over_limit(channel_id, now):
            self.rejected_429 += 1
            raise TransientPublishError("429 Too Many Requests", retry_after=1.0)
        message_id = f"m{len(self.posts) + 1}"
        self.posts.append(Post(channel_id, idempotency_key, now, card, message_id))
        self._by_key[idempotency_key] = message_id
        self._recent.append(now)
        self._by_channel[channel_id].append(now)
        return message_id

    def _over_limit(self, channel_id: str, now: float) -> bool:
        if self.global_per_second is not None:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.global_per_second:
                return True
        history = self._by_channel[channel_id]
        if self.channel_min_spacing is not None and history:
            if now - history[-1] < self.channel_min_spacing - 1e-9:
                return True
        if self.channel_per_window is not None:
            count, window = self.channel_per_window
            recent = [t for t in history if t > now - window]
            if len(recent) >= count:
                return True
        return False

    async def check_channel(self, channel_id: str, *, community_id: str = "") -> ChannelInfo:
        if channel_id in self.unpostable:
            raise PermanentPublishError("Haven is not a member of this channel")
        return ChannelInfo(channel_id, f"#{channel_id}")

    def keys(self) -> list[str]:
        return [post.key for post in self.posts]


class StubCards:
    """Builds a tiny card per post; `missing_topics` raise like a removed topic would."""

    def __init__(self, missing_topics: Iterable[str] = ()) -> None:
        self.missing_topics = set(missing_topics)

    async def post_card(
        self, community_id: str, topic: str | None, message_key: str | None
    ) -> Card:
        if topic in self.missing_topics:
            raise NotFound(f"The topic '{topic}' no longer exists.")
        return Card(
            title=f"{topic or message_key}",
            body="You are not alone.",
            topic=topic,
            message_key=message_key,
        )


async def add_community(
    db: Database,
    community_id: str,
    platform: Platform,
    *,
    timezone: str = "UTC",
    log_channel_id: str | None = None,
) -> Community:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO communities (id, platform, timezone, log_channel_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (community_id, platform.value, timezone, log_channel_id),
        )
    return Community(
        id=community_id,
        platform=platform,
        timezone=timezone,
        log_channel_id=log_channel_id,
        status=CommunityStatus.ACTIVE,
    )


def audit_for(schedule_id: int) -> NewAuditEntry:
    return NewAuditEntry("mod", "Mod", "add", ItemKind.SCHEDULE, str(schedule_id), None, None)


async def insert_schedule(
    store: SqlScheduleStore,
    community_id: str,
    platform: Platform,
    channel_id: str,
    when_text: str,
    timezone: str,
    *,
    created: datetime,
    topic: str = "general",
) -> Schedule:
    """A schedule written directly (no moderator checks), as `schedule add` would store it."""
    recurrence = parse_when(when_text, timezone, created)
    first = recurrence.next_after(created)
    assert first is not None
    new = NewSchedule(
        community_id=community_id,
        platform=platform,
        channel_id=channel_id,
        channel_label=f"#{channel_id}",
        topic=topic,
        message_key=None,
        when_text=recurrence.text,
        timezone=recurrence.timezone,
        one_shot=recurrence.one_shot,
        next_run_at=epoch(first),
        grace_seconds=default_grace_seconds(recurrence),
        created_by="mod",
        created_at=int(created.timestamp()),
    )
    return await store.insert(new, audit_for)


async def drive_until(
    scheduler: object, clock: SimClock, end: datetime, task: asyncio.Task[None]
) -> None:
    """Move simulated time up to `end` the deterministic way: wait until the running
    scheduler is idle, move the clock to its next wake-up, repeat; stop with the clock at `end`
    and the scheduler idle (everything due by then attempted)."""
    while True:
        await wait_idle(scheduler, clock, task)
        soonest = clock.waiting_until()[0]
        if soonest > end:
            break
        clock.move_to(soonest)
    clock.current = max(clock.current, end)


async def run_scheduler_until(scheduler: object, clock: SimClock, end: datetime) -> None:
    """Run `scheduler.run()` on simulated time up to `end` (see `drive_until`), then stop it,
    which writes the outcomes it holds. Every post due by `end` has been attempted, however
    slow the machine."""
    task = asyncio.create_task(scheduler.run())  # type: ignore[attr-defined]
    try:
        await drive_until(scheduler, clock, end, task)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
