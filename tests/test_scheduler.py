"""PostScheduler end to end on simulated time: real SQLite, real migrations, recording publishers.

Each test states one guarantee of issue 3 and fails if the engine broke it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.ports import Publisher
from bot.core.scheduling.pacing import PacingPolicy
from bot.core.scheduling.publishing import (
    PermanentPublishError,
    PlatformPausedError,
    PublishError,
    TransientPublishError,
)
from bot.core.scheduling.recurrence import parse_when
from bot.core.scheduling.schedules import (
    NewSchedule,
    SlotPlan,
    SlotStatus,
    default_grace_seconds,
    epoch,
    from_epoch,
)
from bot.scheduler import PostScheduler, lease_name_for
from bot.storage.database import Database
from bot.storage.schedule_store import GUARD_OWNER, SqlScheduleStore
from tests.conftest import reopen
from tests.test_scheduler_helpers import (
    RecordingPublisher,
    SimClock,
    StubCards,
    add_community,
    audit_for,
    insert_schedule,
    run_scheduler_until,
    wait_idle,
)

DISCORD = "discord:1"
SLACK = "slack:T1"
CONSOLE = "console:local"
DAY = 86400


@pytest.fixture
async def store(db: Database) -> SqlScheduleStore:
    await add_community(db, DISCORD, Platform.DISCORD, log_channel_id="modlog")
    await add_community(db, SLACK, Platform.SLACK)
    await add_community(db, CONSOLE, Platform.CONSOLE)
    return SqlScheduleStore(db)


def make_scheduler(
    store: SqlScheduleStore,
    publishers: dict[Platform, Publisher],
    clock: SimClock,
    cards: StubCards | None = None,
    **overrides: Any,
) -> PostScheduler:
    # Long lease and idle cap: simulated weeks pass in a few hundred loop turns.
    options: dict[str, Any] = {
        "sleep": clock.sleep,
        "lease_seconds": 10 * DAY,
        "heartbeat_seconds": 5 * DAY,
        "idle_seconds": DAY,
        "standby_retry_seconds": 5.0,
    }
    options.update(overrides)
    return PostScheduler(store, publishers, cards or StubCards(), clock, "owner-a", **options)


def key(schedule_id: int, slot_at: int) -> str:
    """The idempotency key as documented (first 25 characters of base32(SHA-256("id|slot"))),
    written out here so a change to the scheduler's key is caught, not mirrored."""
    digest = hashlib.sha256(f"{schedule_id}|{slot_at}".encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:25]


def wall_slots(
    zone: str,
    at: Iterable[tuple[int, int]],
    on_day: Callable[[date], bool],
    after: datetime,
    until: datetime,
) -> list[int]:
    """Independent expectation for wall-clock forms: each local date the predicate accepts, at
    each (hour, minute), converted by zoneinfo with fold=0 (the first of a repeated time), kept
    when after < instant <= until. Nonexistent times are not handled here: the test spells
    those out."""
    slots: list[int] = []
    day = (after - timedelta(days=2)).date()
    while day <= (until + timedelta(days=2)).date():
        if on_day(day):
            for hour, minute in at:
                local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
                instant = local.astimezone(UTC)
                if after < instant <= until:
                    slots.append(int(instant.timestamp()))
        day += timedelta(days=1)
    return sorted(slots)


async def test_every_slot_is_posted_exactly_once_over_simulated_weeks(
    store: SqlScheduleStore,
) -> None:
    """Six weeks across the US and EU spring-forward and the Sydney fall-back, nine forms in
    eight zones: every slot posted exactly once, at its instant, and recorded sent."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 4, 12, tzinfo=UTC)
    clock = SimClock(start)
    forms = [
        ("daily 09:00", "Europe/London"),
        ("daily 02:30", "America/New_York"),  # 2026-03-08 02:30 does not exist
        ("daily 02:30", "Australia/Sydney"),  # 2026-04-05 02:30 happens twice
        ("weekdays 08:15", "Asia/Kathmandu"),  # +05:45
        ("weekly mon,thu 18:00", "Asia/Kolkata"),  # +05:30
        ("monthly 31 12:00", "Pacific/Chatham"),  # +13:45/+12:45, DST ends 2026-04-05
        ("every 6h", "UTC"),
        ("0 */4 * * 1-5", "America/Sao_Paulo"),
        ("once 2026-03-29 02:30", "Europe/Berlin"),  # in the hour Berlin skips: runs 03:00
    ]
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    until = end - timedelta(hours=2)

    def daily(day: date) -> bool:
        return True

    def weekdays(day: date) -> bool:
        return day.weekday() < 5

    new_york = wall_slots("America/New_York", [(2, 30)], daily, start, until)
    # 2026-03-08 02:30 does not exist in New York: it runs when the clocks jump, 03:00 EDT.
    new_york[new_york.index(epoch(datetime(2026, 3, 8, 7, 30, tzinfo=UTC)))] = epoch(
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    )
    six_hours = 6 * 3600
    wanted = [
        wall_slots("Europe/London", [(9, 0)], daily, start, until),
        new_york,
        wall_slots("Australia/Sydney", [(2, 30)], daily, start, until),
        wall_slots("Asia/Kathmandu", [(8, 15)], weekdays, start, until),
        wall_slots("Asia/Kolkata", [(18, 0)], lambda d: d.weekday() in (0, 3), start, until),
        wall_slots("Pacific/Chatham", [(12, 0)], lambda d: d.day == 31, start, until),
        list(range(epoch(start) + six_hours, epoch(until) + 1, six_hours)),
        wall_slots("America/Sao_Paulo", [(h, 0) for h in range(0, 24, 4)], weekdays, start, until),
        [epoch(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))],  # Berlin 02:30 -> 03:00 CEST
    ]
    # Counts worked out by hand for the six weeks: a check on the expectation itself.
    assert [len(slots) for slots in wanted] == [42, 42, 42, 30, 12, 1, 167, 180, 1]
    expected: dict[str, tuple[int, int]] = {}
    for index, ((when, zone), slots) in enumerate(zip(forms, wanted, strict=True)):
        schedule = await insert_schedule(
            store, DISCORD, Platform.DISCORD, f"chan{index}", when, zone, created=start
        )
        for slot in slots:
            expected[key(schedule.id, slot)] = (schedule.id, slot)

    scheduler = make_scheduler(store, {Platform.DISCORD: publisher}, clock)
    await run_scheduler_until(scheduler, clock, end)

    keys = publisher.keys()
    assert len(keys) == len(set(keys)), "a slot was posted twice"
    posted = {key for key in keys if key in expected}
    assert posted == set(expected), f"missing slots: {sorted(set(expected) - posted)[:5]}"
    for post in publisher.posts:
        if post.key in expected:
            _, slot = expected[post.key]
            # Posted at its instant (simulated time has no latency), never before it.
            assert slot <= post.at < slot + 1
    for schedule_id in {schedule_id for schedule_id, _ in expected.values()}:
        statuses = {s.slot_at: s.status for s in await store.slots(schedule_id)}
        wanted = [slot for sid, slot in expected.values() if sid == schedule_id]
        assert all(statuses.get(slot) is SlotStatus.SENT for slot in wanted)
    # The DST cases, spelled out: the gap runs once at 03:00 EDT, the fold once at its first pass.
    times = {datetime.fromtimestamp(p.at, UTC) for p in publisher.posts}
    assert datetime(2026, 3, 8, 7, 0, tzinfo=UTC) in times  # NY 02:30 -> 03:00 EDT
    assert datetime(2026, 4, 4, 15, 30, tzinfo=UTC) in times  # Sydney 02:30 AEDT (first pass)
    assert datetime(2026, 4, 4, 16, 30, tzinfo=UTC) not in times  # ...not again at AEST
    assert datetime(2026, 3, 29, 1, 0, tzinfo=UTC) in times  # Berlin 02:30 -> 03:00 CEST


async def test_fall_back_fold_posts_once_at_the_first_occurrence(
    store: SqlScheduleStore,
) -> None:
    start = datetime(2026, 10, 30, tzinfo=UTC)
    clock = SimClock(start)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    await insert_schedule(
        store, DISCORD, Platform.DISCORD, "c", "daily 01:30", "America/New_York", created=start
    )
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 11, 3, 12, tzinfo=UTC),
    )
    assert [datetime.fromtimestamp(p.at, UTC) for p in publisher.posts] == [
        datetime(2026, 10, 30, 5, 30, tzinfo=UTC),
        datetime(2026, 10, 31, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT; 01:30 EST an hour later: no
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
        datetime(2026, 11, 3, 6, 30, tzinfo=UTC),
    ]


async def test_after_downtime_one_catch_up_within_grace_and_the_rest_missed(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    soon = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "daily 09:00", "UTC", created=created
    )
    late = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "b", "daily 02:00", "UTC", created=created
    )
    # Haven was down from before the first slot until 09:20 on the third day.
    clock = SimClock(datetime(2026, 3, 3, 9, 20, tzinfo=UTC))
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 3, 3, 9, 21, tzinfo=UTC),
    )
    # Exactly one catch-up post: today's 09:00 (20 minutes late, inside the 1 h grace).
    today = epoch(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    assert publisher.keys() == [key(soon.id, today)]
    slots = {s.slot_at: s for s in await store.slots(soon.id)}
    assert slots[today].status is SlotStatus.SENT
    for day in (1, 2):
        missed = slots[epoch(datetime(2026, 3, day, 9, 0, tzinfo=UTC))]
        assert missed.status is SlotStatus.MISSED
        assert "not running" in (missed.reason or "")
    # The 02:00 schedule is 7 h 20 late: never posted at the wrong hour, every slot missed.
    late_slots = await store.slots(late.id)
    assert [s.status for s in late_slots] == [SlotStatus.MISSED] * 2  # 2 and 3 March
    refreshed = await store.get(late.id)
    assert refreshed is not None and refreshed.next_run_at == epoch(
        datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    )


async def test_a_year_offline_writes_a_bounded_number_of_missed_rows(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2025, 3, 1, tzinfo=UTC)
    schedule = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "every 15m", "UTC", created=created
    )
    clock = SimClock(datetime(2026, 3, 1, 0, 3, tzinfo=UTC))
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 0, 4, tzinfo=UTC),
    )
    slots = await store.slots(schedule.id)
    # 35,000 missed slots are summed up, not written one by one; the 00:00 slot is posted.
    assert len(slots) <= 30
    assert slots[-1].status is SlotStatus.SENT
    assert slots[-1].slot_at == epoch(datetime(2026, 3, 1, tzinfo=UTC))
    assert any("Every later slot" in (s.reason or "") for s in slots)
    assert len(publisher.posts) == 1


async def test_a_slot_claimed_before_a_crash_is_retried_with_the_same_key_within_grace(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    within = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "daily 09:00", "UTC", created=created
    )
    beyond = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "b", "daily 06:00", "UTC", created=created.replace(hour=5)
    )
    # A previous process claimed both slots, posted the first, then died before recording.
    dead_clock = SimClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    publisher = RecordingPublisher(Platform.DISCORD, dead_clock)
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    six = epoch(datetime(2026, 3, 1, 6, 0, tzinfo=UTC))

    def plan(schedule: Any) -> SlotPlan:
        slot = nine if schedule.id == within.id else six
        return SlotPlan(claim=slot, missed=(), next_run_at=slot + DAY)

    claimed = await store.claim_due(nine, 10, set(), plan, "dead-owner", nine + 20)
    assert len(claimed) == 2
    first_id = await publisher.publish("a", Card(title="posted"), key(within.id, nine))

    # Restart 3 minutes later: inside the 09:00 slot's 1 h grace and the platform's 5-minute
    # nonce window, outside the 06:00 slot's grace.
    clock = SimClock(datetime(2026, 3, 1, 9, 3, tzinfo=UTC))
    publisher.clock = clock
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 9, 4, tzinfo=UTC),
    )
    # Retried with the same key: the platform returned the first message, nothing new.
    assert [post.key for post in publisher.posts] == [key(within.id, nine)]
    retried = [call for call in publisher.calls if call[1] == key(within.id, nine)]
    assert len(retried) == 2
    slot = {s.slot_at: s for s in await store.slots(within.id)}[nine]
    assert slot.status is SlotStatus.SENT and slot.message_id == first_id and slot.attempts == 2
    # Past the grace: recorded missed, and not retried (it may have been posted once).
    old = {s.slot_at: s for s in await store.slots(beyond.id)}[six]
    assert old.status is SlotStatus.MISSED and "may have been posted once" in (old.reason or "")
    assert not [call for call in publisher.calls if call[0] == "b"]


async def test_a_slot_claimed_before_a_crash_is_not_resent_past_the_nonce_window(
    store: SqlScheduleStore,
) -> None:
    """Back after 10 minutes, inside the grace but past the window in which the platform
    still matches the key: the first attempt may have posted, and a retry could post a second
    copy, so the slot is recorded unknown and nothing is sent."""
    schedule, nine, publisher = await _after_a_crash(
        store, Platform.DISCORD, "a", back_at=9 * 60 + 10, until=9 * 60 + 11
    )
    assert publisher.calls == []
    slot = {s.slot_at: s for s in await store.slots(schedule.id)}[nine]
    assert slot.status is SlotStatus.UNKNOWN
    assert "may or may not" in (slot.reason or "") and "5 minutes" in (slot.reason or "")


async def test_a_recovered_slot_held_back_past_the_nonce_window_is_not_sent(
    store: SqlScheduleStore,
) -> None:
    """Recovered 3 minutes after its claim (inside the window), then told to wait 200 s by a
    429: the retry would come 6 min 20 s after the claim, when Discord may no longer match the
    key, so the slot ends unknown instead of risking a second copy."""
    schedule, nine, publisher = await _after_a_crash(
        store,
        Platform.DISCORD,
        "a",
        back_at=9 * 60 + 3,
        until=9 * 60 + 10,
        fail=TransientPublishError("429 Too Many Requests", retry_after=200.0),
    )
    assert len(publisher.calls) == 1 and publisher.posts == []
    slot = {s.slot_at: s for s in await store.slots(schedule.id)}[nine]
    assert slot.status is SlotStatus.UNKNOWN


async def test_a_slack_slot_recovered_after_a_crash_is_never_posted_again(
    store: SqlScheduleStore,
) -> None:
    """Slack takes no key that would stop a second copy: a slot the dead leader may have
    posted is recorded unknown at once, even a minute later."""
    schedule, nine, publisher = await _after_a_crash(
        store, Platform.SLACK, "C1", back_at=9 * 60 + 1, until=9 * 60 + 2
    )
    assert publisher.calls == []
    slot = {s.slot_at: s for s in await store.slots(schedule.id)}[nine]
    assert slot.status is SlotStatus.UNKNOWN and "no key" in (slot.reason or "")


async def test_a_slack_post_that_may_exist_is_not_retried(store: SqlScheduleStore) -> None:
    """A 5xx or a timeout after Slack may have stored the message: no retry, unknown."""
    start = datetime(2026, 3, 1, 8, 59, tzinfo=UTC)
    schedule = await insert_schedule(
        store, SLACK, Platform.SLACK, "C1", "daily 09:00", "UTC", created=start
    )
    clock = SimClock(start)
    publisher = RecordingPublisher(Platform.SLACK, clock)
    publisher.fail("C1", TransientPublishError("Slack answered 503", may_have_posted=True))
    await run_scheduler_until(
        make_scheduler(store, {Platform.SLACK: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )
    assert len(publisher.calls) == 1 and publisher.posts == []
    (slot,) = await store.slots(schedule.id)
    assert slot.status is SlotStatus.UNKNOWN


async def test_second_scheduler_on_the_same_database_runs_nothing_and_says_why(
    store: SqlScheduleStore, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    start = datetime(2026, 3, 1, 8, 59, tzinfo=UTC)
    clock = SimClock(start)
    await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "daily 09:00", "UTC", created=start
    )
    other_db = await reopen(db)  # a second connection pair, as another process
    try:
        pub_a = RecordingPublisher(Platform.DISCORD, clock)
        pub_b = RecordingPublisher(Platform.DISCORD, clock)
        options = {"lease_seconds": 20.0, "heartbeat_seconds": 5.0, "idle_seconds": 60.0}
        first = make_scheduler(store, {Platform.DISCORD: pub_a}, clock, **options)
        second = PostScheduler(
            SqlScheduleStore(other_db),
            {Platform.DISCORD: pub_b},
            StubCards(),
            clock,
            "owner-b",
            sleep=clock.sleep,
            standby_retry_seconds=5.0,
            **options,
        )
        task_a = asyncio.create_task(first.run())
        await wait_idle(first, clock, task_a)
        task_b = asyncio.create_task(second.run())
        await wait_idle(second, clock, task_b)
        assert first.is_holder and not second.is_holder
        standby = [r for r in caplog.records if "Another Haven process" in r.getMessage()]
        assert len(standby) == 1 and standby[0].levelno == logging.WARNING
        for tick in range(1, 181):
            await clock.tick_to(start + timedelta(seconds=tick), first, second)
        assert len(pub_a.posts) == 1 and pub_b.posts == []
        # The holder dies without a word (kill -9: no release, no more heartbeats).
        task_a.cancel()
        await asyncio.gather(task_a, return_exceptions=True)
        await store.acquire_lease(
            lease_name_for(Platform.DISCORD), "owner-a-dead", clock.now().timestamp(), 20.0
        )
        died = clock.now()
        step = 0
        while not second.is_holder and step < 60:
            step += 1
            await clock.tick_to(died + timedelta(seconds=step), second)
        # Taken over after the lease ran out, within lease + one standby retry (25 s).
        assert second.is_holder
        assert timedelta(seconds=20) <= clock.now() - died <= timedelta(seconds=25)
        # Only one standby warning, however long it waited.
        standby = [r for r in caplog.records if "Another Haven process" in r.getMessage()]
        assert len(standby) == 1
        task_b.cancel()
        await asyncio.gather(task_b, return_exceptions=True)
    finally:
        await other_db.close()


async def test_changes_take_effect_at_once_without_waiting_for_the_idle_sleep(
    store: SqlScheduleStore,
) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    clock = SimClock(start)
    publisher = RecordingPublisher(Platform.CONSOLE, clock)
    scheduler = make_scheduler(store, {Platform.CONSOLE: publisher}, clock, idle_seconds=3600.0)
    task = asyncio.create_task(scheduler.run())
    try:
        await wait_idle(scheduler, clock, task)
        assert clock.waiting_until() == [start + timedelta(hours=1)]
        schedule = await insert_schedule(
            store,
            CONSOLE,
            Platform.CONSOLE,
            "welcome",
            "once 2026-03-01 12:00:30 UTC",
            "UTC",
            created=start,
        )
        scheduler.wake()
        await wait_idle(scheduler, clock, task)
        # Woken: it now waits for the new slot, not for the end of the hour.
        assert clock.waiting_until()[0] == start + timedelta(seconds=30)
        await clock.tick_to(start + timedelta(seconds=30), scheduler)
        assert [p.key for p in publisher.posts] == [key(schedule.id, epoch(start) + 30)]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# ---- failures -----------------------------------------------------------------------------


async def test_a_429_waits_its_retry_after_on_that_channel_only(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    throttled = await insert_schedule(
        store, SLACK, Platform.SLACK, "C1", "daily 09:00", "UTC", created=created
    )
    other = await insert_schedule(
        store, SLACK, Platform.SLACK, "C2", "daily 09:00", "UTC", created=created
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.SLACK, clock)
    publisher.fail("C1", TransientPublishError("ratelimited", retry_after=7.0))
    await run_scheduler_until(
        make_scheduler(store, {Platform.SLACK: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 9, 5, tzinfo=UTC),
    )
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    at = {post.channel_id: post.at for post in publisher.posts}
    assert at["C2"] < nine + 1  # the other channel was not held up by the 429
    assert abs(at["C1"] - (nine + 7)) < 0.01  # retried exactly after retry-after
    sent = {s.slot_at: s for s in await store.slots(throttled.id)}[nine]
    assert sent.status is SlotStatus.SENT and sent.attempts == 2
    assert (await store.slots(other.id))[0].attempts == 1


async def test_server_errors_back_off_and_then_post_once(store: SqlScheduleStore) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    schedule = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "daily 09:00", "UTC", created=created
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    publisher.fail(
        "a",
        TransientPublishError("502 Bad Gateway"),
        TransientPublishError("timed out"),
        TransientPublishError("500"),
    )
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock, backoff=(2.0, 5.0, 15.0)),
        clock,
        datetime(2026, 3, 1, 9, 5, tzinfo=UTC),
    )
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    assert [call[2] - nine for call in publisher.calls] == [0, 2, 7, 22]
    assert len(publisher.posts) == 1
    slot = (await store.slots(schedule.id))[0]
    assert slot.status is SlotStatus.SENT and slot.attempts == 4


async def test_transient_failures_past_the_grace_fail_the_slot_but_keep_the_schedule(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    schedule = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "every 1h", "UTC", created=created
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    publisher.fail("a", *[TransientPublishError("503 Service Unavailable")] * 10)
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock, backoff=(60.0, 300.0, 600.0)),
        clock,
        datetime(2026, 3, 1, 11, 30, tzinfo=UTC),
    )
    slots = await store.slots(schedule.id)
    first = slots[0]
    assert first.status is SlotStatus.FAILED
    assert "grace ran out" in (first.reason or "") and "503" in (first.reason or "")
    refreshed = await store.get(schedule.id)
    assert refreshed is not None and not refreshed.paused
    # Later slots post normally once the platform recovers.
    assert SlotStatus.SENT in [s.status for s in slots[1:]]


@pytest.mark.parametrize(
    "reason",
    [
        "Unknown Channel (Discord 10003)",
        "Missing Access (Discord 50001)",
        "Missing Permissions (Discord 50013)",
        "Haven was removed from the server",
    ],
)
async def test_permanent_failure_pauses_tells_moderators_and_stops_calling(
    store: SqlScheduleStore, reason: str
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    schedule = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "gone", "every 1h", "UTC", created=created
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    publisher.fail("gone", PermanentPublishError(reason))
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
    )
    # One call to the broken channel, then none: the invalid-request budget is protected.
    assert [call[0] for call in publisher.calls].count("gone") == 1
    refreshed = await store.get(schedule.id)
    assert refreshed is not None, "never deleted because of a failure"
    assert refreshed.paused and refreshed.paused_reason == reason
    slots = await store.slots(schedule.id)
    assert [s.status for s in slots] == [SlotStatus.FAILED]
    assert slots[0].reason == reason
    # The moderator log channel heard about it, with how to resume.
    notices = [post for post in publisher.posts if post.channel_id == "modlog"]
    assert len(notices) == 1
    assert reason in notices[0].card.body and f"resume id:{schedule.id}" in notices[0].card.body


async def test_one_shot_that_fails_permanently_is_paused_not_lost(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    schedule = await insert_schedule(
        store, SLACK, Platform.SLACK, "C9", "once 2026-03-01 09:00 UTC", "UTC", created=created
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.SLACK, clock)
    publisher.fail("C9", PermanentPublishError("not_in_channel"))
    await run_scheduler_until(
        make_scheduler(store, {Platform.SLACK: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
    )
    refreshed = await store.get(schedule.id)
    assert refreshed is not None and refreshed.paused
    assert refreshed.paused_reason == "not_in_channel"


async def test_a_post_that_cannot_be_built_pauses_the_schedule(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    schedule = await insert_schedule(
        store,
        DISCORD,
        Platform.DISCORD,
        "a",
        "daily 09:00",
        "UTC",
        created=created,
        topic="removed-topic",
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    await run_scheduler_until(
        make_scheduler(
            store, {Platform.DISCORD: publisher}, clock, StubCards(missing_topics={"removed-topic"})
        ),
        clock,
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    )
    refreshed = await store.get(schedule.id)
    assert refreshed is not None and refreshed.paused
    assert "removed-topic" in (refreshed.paused_reason or "")
    assert [p for p in publisher.posts if p.channel_id == "a"] == []


async def test_a_platform_not_connected_yet_is_retried_until_its_publisher_registers(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 59, tzinfo=UTC)
    clock = SimClock(created)
    schedule = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "daily 09:00", "UTC", created=created
    )
    publishers: dict[Platform, Publisher] = {}
    scheduler = make_scheduler(store, publishers, clock, backoff=(30.0,))
    task = asyncio.create_task(scheduler.run())
    try:
        await wait_idle(scheduler, clock, task)
        await clock.tick_to(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), scheduler)
        publisher = RecordingPublisher(Platform.DISCORD, clock)
        publishers[Platform.DISCORD] = publisher  # the adapter connected
        await clock.tick_to(datetime(2026, 3, 1, 9, 0, 30, tzinfo=UTC), scheduler)
        assert len(publisher.posts) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    slot = (await store.slots(schedule.id))[0]
    assert slot.status is SlotStatus.SENT and slot.attempts == 2


async def test_pausing_drops_queued_posts_at_once(store: SqlScheduleStore) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    clock = SimClock(datetime(2026, 3, 1, 8, 59, 59, tzinfo=UTC))
    schedules = [
        await insert_schedule(
            store, SLACK, Platform.SLACK, "C1", "daily 09:00", "UTC", created=created
        )
        for _ in range(4)
    ]
    publisher = RecordingPublisher(Platform.SLACK, clock, channel_min_spacing=1.0)
    scheduler = make_scheduler(store, {Platform.SLACK: publisher}, clock)
    task = asyncio.create_task(scheduler.run())
    try:
        await wait_idle(scheduler, clock, task)
        nine = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        await clock.tick_to(nine, scheduler)
        assert len(publisher.posts) == 1 and scheduler.pending == 3  # one per second
        last = schedules[-1]
        await store.update_state(
            last.id,
            SLACK,
            paused=True,
            paused_reason="paused by Mod",
            next_run_at=last.next_run_at,
            audit=audit_for(last.id),
        )
        scheduler.wake()
        await wait_idle(scheduler, clock, task)
        for second in range(1, 5):
            await clock.tick_to(nine + timedelta(seconds=second), scheduler)
        posted = {post.key for post in publisher.posts}
        assert key(last.id, epoch(nine)) not in posted
        assert len(publisher.posts) == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    dropped = (await store.slots(last.id))[0]
    assert dropped.status is SlotStatus.MISSED and "paused" in (dropped.reason or "")


# ---- pacing -------------------------------------------------------------------------------


async def _bulk(
    store: SqlScheduleStore,
    community: str,
    platform: Platform,
    channels: list[str],
    when: str,
    created: datetime,
) -> None:
    recurrence = parse_when(when, "UTC", created)
    first = recurrence.next_after(created)
    assert first is not None
    await store.insert_many(
        [
            NewSchedule(
                community,
                platform,
                channel,
                f"#{channel}",
                "general",
                None,
                recurrence.text,
                "UTC",
                recurrence.one_shot,
                epoch(first),
                default_grace_seconds(recurrence),
                "mod",
                int(created.timestamp()),
            )
            for channel in channels
        ]
    )


async def test_two_thousand_discord_posts_due_at_once_drain_without_a_429(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    # 1,600 channels with one post each and 40 busy channels with ten each.
    channels = [f"c{i}" for i in range(1600)] + [f"busy{i % 40}" for i in range(400)]
    await _bulk(store, DISCORD, Platform.DISCORD, channels, "daily 09:00", created)
    clock = SimClock(created)
    # Discord's limits: 50 requests/s for the bot, about 5 messages per 5 s per channel.
    publisher = RecordingPublisher(
        Platform.DISCORD, clock, global_per_second=50, channel_per_window=(5, 5.0)
    )
    scheduler = make_scheduler(store, {Platform.DISCORD: publisher}, clock)
    await run_scheduler_until(scheduler, clock, datetime(2026, 3, 1, 9, 2, tzinfo=UTC))
    assert publisher.rejected_429 == 0
    assert len(publisher.posts) == 2000 and len(set(publisher.keys())) == 2000
    times = sorted(post.at for post in publisher.posts)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 0.95 * 40 <= rate <= 40.5  # the whole budget used, never more
    assert scheduler.stats.sent == 2000


async def test_slack_posts_one_per_second_per_channel_and_other_channels_flow(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    await _bulk(
        store,
        SLACK,
        Platform.SLACK,
        ["Cbusy"] * 30 + [f"C{i}" for i in range(30)],
        "daily 09:00",
        created,
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.SLACK, clock, channel_min_spacing=1.0)
    await run_scheduler_until(
        make_scheduler(store, {Platform.SLACK: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 9, 1, tzinfo=UTC),
    )
    assert publisher.rejected_429 == 0 and len(publisher.posts) == 60
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    busy = sorted(p.at for p in publisher.posts if p.channel_id == "Cbusy")
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(busy))
    # The 30 quiet channels are done within 1.5 s (the 20/s workspace budget), not after Cbusy.
    quiet = [p.at for p in publisher.posts if p.channel_id != "Cbusy"]
    assert max(quiet) - nine <= 1.6


async def test_without_pacing_the_same_burst_gets_429s(store: SqlScheduleStore) -> None:
    """Control for the pacing tests: the fake really enforces the limits."""
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    await _bulk(store, SLACK, Platform.SLACK, ["Cbusy"] * 10, "daily 09:00", created)
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.SLACK, clock, channel_min_spacing=1.0)
    await run_scheduler_until(
        make_scheduler(
            store, {Platform.SLACK: publisher}, clock, pacing={Platform.SLACK: PacingPolicy()}
        ),
        clock,
        datetime(2026, 3, 1, 9, 1, tzinfo=UTC),
    )
    assert publisher.rejected_429 > 0


async def test_posts_the_rate_limit_cannot_fit_in_the_grace_are_missed_not_late(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 50, tzinfo=UTC)
    # 600 posts to one Slack channel every 15 minutes: 600 s of posting, a 450 s grace.
    await _bulk(store, SLACK, Platform.SLACK, ["Cone"] * 600, "every 15m", created)
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.SLACK, clock, channel_min_spacing=1.0)
    scheduler = make_scheduler(store, {Platform.SLACK: publisher}, clock)
    await run_scheduler_until(scheduler, clock, datetime(2026, 3, 1, 9, 8, tzinfo=UTC))
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    first_slot = [p for p in publisher.posts if p.at < nine + 900]
    assert publisher.rejected_429 == 0
    assert all(p.at <= nine + 450 for p in first_slot)  # never past the grace
    assert 440 <= len(first_slot) <= 452
    assert scheduler.stats.missed >= 148
    history = await store.history(SLACK, None, 1000)
    reasons = {s.reason for s in history if s.status is SlotStatus.MISSED}
    assert any("rate limit left no room" in (r or "") for r in reasons)


def test_from_epoch_round_trips() -> None:
    assert epoch(from_epoch(1_772_355_600)) == 1_772_355_600


async def test_console_publisher_prints_once_per_key_with_the_channel() -> None:
    from bot.adapters.console_publisher import ConsolePublisher

    printed: list[str] = []
    publisher = ConsolePublisher(printed.append)
    card = Card(title="Support resources: Coming out", body="Your pace is the right pace.")
    first = await publisher.publish("welcome", card, "KEY1")
    again = await publisher.publish("welcome", card, "KEY1")
    assert first == again and len(printed) == 1
    assert "── Scheduled post to #welcome" in printed[0]
    assert "Support resources: Coming out\nYour pace is the right pace." in printed[0]
    assert (await publisher.check_channel("#welcome")).label == "#welcome"
    with pytest.raises(PermanentPublishError):
        await publisher.check_channel("not a channel")


# ---- the lease on exit ----------------------------------------------------------------------


async def test_a_cancel_anywhere_releases_the_lease_and_leaves_no_open_transaction(
    store: SqlScheduleStore, db: Database
) -> None:
    """A session that ends while the scheduler starts (taking the lease, recovering, claiming,
    recording) cancels it at an arbitrary await. Wherever that lands, the lease is released
    and the database connection is usable (a cancel cut between BEGIN and COMMIT used to
    leave it inside a transaction, so the release failed and the lease stayed for 20 s)."""
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for index in range(20):
        await insert_schedule(
            store, CONSOLE, Platform.CONSOLE, f"c{index}", "every 15m", "UTC", created=start
        )
    for steps in range(0, 120, 3):
        clock = SimClock(start + timedelta(minutes=15 * (steps + 1)))
        publisher = RecordingPublisher(Platform.CONSOLE, clock)
        scheduler = make_scheduler(store, {Platform.CONSOLE: publisher}, clock)
        task = asyncio.create_task(scheduler.run())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # The guard against older Havens is left to expire (another process may share it).
        rows = await db.fetch_all(
            "SELECT owner FROM scheduler_lease WHERE owner <> ?", (GUARD_OWNER,)
        )
        assert rows == [], f"lease left behind after a cancel {steps} loop steps in"
        # The writer is not stuck in a transaction: another process's take-over works.
        taken = await store.acquire_lease(
            lease_name_for(Platform.DISCORD), "next", clock.now().timestamp(), 20.0
        )
        assert taken.acquired
        await store.release_lease(lease_name_for(Platform.DISCORD), "next")


# ---- a platform that refuses everything ----------------------------------------------------


async def test_a_platform_wide_refusal_holds_every_channel_backs_off_longer_and_tells_once(
    store: SqlScheduleStore, db: Database
) -> None:
    await add_community(db, "discord:2", Platform.DISCORD, log_channel_id="modlog2")
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    first = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "daily 09:00", "UTC", created=created
    )
    later = await insert_schedule(
        store,
        "discord:2",
        Platform.DISCORD,
        "b",
        "once 2026-03-01 09:00:30 UTC",
        "UTC",
        created=created,
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    # The platform refuses everything at 09:00 and again at the first tries after the back-off.
    refusal = PlatformPausedError("Discord's global rate limit", retry_after=1.0)
    publisher.fail("a", refusal, refusal)
    publisher.fail("b", refusal)
    scheduler = make_scheduler(store, {Platform.DISCORD: publisher}, clock)
    await run_scheduler_until(scheduler, clock, datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    calls = sorted((at - nine, channel) for channel, _, at in publisher.calls)
    # 2 minutes after the first refusal, then 5 more after the second (never the 1 s the
    # platform said); "b", due at 09:00:30, waited for the pause although it had not been
    # refused yet; the moderators heard once the platform took posts again.
    assert calls == [
        (0, "a"),
        (120, "a"),
        (120, "b"),
        (420, "a"),
        (420, "b"),
        (420, "modlog"),
        (420, "modlog2"),
    ]
    # One notice per affected community for the whole episode, saying it resumed by itself.
    notices = [p for p in publisher.posts if p.channel_id.startswith("modlog")]
    assert len(notices) == 2 and all("resumed" in p.card.body for p in notices)
    assert (await store.slots(first.id))[0].status is SlotStatus.SENT
    assert (await store.slots(later.id))[0].status is SlotStatus.SENT
    assert scheduler.stats.platform_pauses == 2


async def test_refusals_outlasting_the_grace_fail_the_slot_with_why_and_later_slots_post(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    # every 1h: a 30 minute grace.
    schedule = await insert_schedule(
        store, DISCORD, Platform.DISCORD, "a", "every 1h", "UTC", created=created
    )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    publisher.fail("a", *[PlatformPausedError("Discord's network blocked Haven")] * 4)
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 10, 5, tzinfo=UTC),
    )
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    # Back-off 2, 5, 10 minutes; the next (20 minutes, to 09:37) is past the 09:30 grace.
    assert [at - nine for channel, _, at in publisher.calls if channel == "a"] == [
        0,
        120,
        420,
        1020,
        3600,
    ]
    first, second = await store.slots(schedule.id)
    assert first.status is SlotStatus.FAILED and first.attempts == 4
    assert "Discord's network blocked Haven" in (first.reason or "")
    assert second.status is SlotStatus.SENT
    # The moderators heard once, when a post went through again at 10:00: not at 09:37, when
    # the pause ran out with nothing waiting (that would announce a recovery nobody saw).
    notices = [call for call in publisher.calls if call[0] == "modlog"]
    assert [at - nine for _, _, at in notices] == [3600]


async def test_a_post_in_flight_when_the_refusal_came_does_not_end_the_pause(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for channel in ("a", "b"):
        await insert_schedule(
            store, DISCORD, Platform.DISCORD, channel, "daily 09:00", "UTC", created=created
        )
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    # "a" and "b" go out together at 09:00; "a" comes back refused, "b" went through (it
    # reached the platform first). That says nothing about the platform after the refusal.
    publisher.fail("a", PlatformPausedError("Discord's global rate limit"))
    await run_scheduler_until(
        make_scheduler(store, {Platform.DISCORD: publisher}, clock),
        clock,
        datetime(2026, 3, 1, 9, 10, tzinfo=UTC),
    )
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    calls = sorted((at - nine, channel) for channel, _, at in publisher.calls)
    assert calls == [(0, "a"), (0, "b"), (120, "a"), (120, "modlog")]


async def test_a_pause_that_runs_out_with_nothing_waiting_keeps_its_back_off(
    store: SqlScheduleStore,
) -> None:
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    await insert_schedule(store, DISCORD, Platform.DISCORD, "a", "every 1h", "UTC", created=created)
    clock = SimClock(created)
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    # Refused past the 30-minute grace at 09:00, then refused again at 10:00: the second
    # refusal is the next strike of the same ban (a longer wait), and nobody was told that
    # posting resumed in between.
    publisher.fail("a", *[PlatformPausedError("Discord's network blocked Haven")] * 5)
    scheduler = make_scheduler(store, {Platform.DISCORD: publisher}, clock)
    await run_scheduler_until(scheduler, clock, datetime(2026, 3, 1, 10, 5, tzinfo=UTC))
    assert not [call for call in publisher.calls if call[0] == "modlog"]
    assert scheduler.stats.platform_pauses == 5


async def test_a_slack_only_and_a_discord_only_process_each_lead_their_own_platform(
    store: SqlScheduleStore, db: Database
) -> None:
    """Three `haven run` processes (two Discord shard slices, one Slack-only): each platform's
    schedules are posted by a process that can post them, never by one that cannot."""
    clock = SimClock(datetime(2026, 3, 1, 8, 59, tzinfo=UTC))
    other_db = await reopen(db)
    try:
        discord_pub = RecordingPublisher(Platform.DISCORD, clock)
        slack_pub = RecordingPublisher(Platform.SLACK, clock)
        discord_only = make_scheduler(store, {Platform.DISCORD: discord_pub}, clock)
        discord_only.serve(frozenset({Platform.DISCORD}))
        slack_only = PostScheduler(
            SqlScheduleStore(other_db),
            {Platform.SLACK: slack_pub},
            StubCards(),
            clock,
            "slack-only",
            sleep=clock.sleep,
            standby_retry_seconds=5.0,
        )
        slack_only.serve(frozenset({Platform.SLACK}))
        both = PostScheduler(
            SqlScheduleStore(other_db),
            {},
            StubCards(),
            clock,
            "both",
            sleep=clock.sleep,
            standby_retry_seconds=5.0,
        )
        both.serve(frozenset({Platform.DISCORD, Platform.SLACK}))
        tasks = [asyncio.create_task(s.run()) for s in (discord_only, slack_only, both)]
        try:
            for scheduler, task in zip((discord_only, slack_only, both), tasks, strict=True):
                await wait_idle(scheduler, clock, task)
            assert discord_only.is_holder and slack_only.is_holder
            # The process serving both waits: half of what it would lead is held elsewhere.
            assert not both.is_holder
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await other_db.close()


async def _after_a_crash(
    store: SqlScheduleStore,
    platform: Platform,
    channel: str,
    *,
    back_at: int,
    until: int,
    fail: PublishError | None = None,
) -> tuple[Any, int, RecordingPublisher]:
    """A daily 09:00 slot claimed by a process that died at once; a new scheduler comes back
    at `back_at` (minutes after midnight) and runs until `until`, its first post answered
    with `fail` if given."""
    community = DISCORD if platform is Platform.DISCORD else SLACK
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    schedule = await insert_schedule(
        store, community, platform, channel, "daily 09:00", "UTC", created=created
    )
    nine = epoch(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))

    def plan(_schedule: Any) -> SlotPlan:
        return SlotPlan(claim=nine, missed=(), next_run_at=nine + DAY)

    assert len(await store.claim_due(nine, 10, set(), plan, "dead-owner", nine + 20)) == 1
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    clock = SimClock(midnight + timedelta(minutes=back_at))
    publisher = RecordingPublisher(platform, clock)
    if fail is not None:
        publisher.fail(channel, fail)
    await run_scheduler_until(
        make_scheduler(store, {platform: publisher}, clock),
        clock,
        midnight + timedelta(minutes=until),
    )
    return schedule, nine, publisher
