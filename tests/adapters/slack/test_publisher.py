"""The real SlackPublisher under the real scheduler, with the real card service, on the emulator.

The scheduler runs on simulated time moved only while it is idle (see drive_until in
tests/test_scheduler_helpers.py); the publisher reads the same simulated time for its own
per-channel spacing, so no test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.adapters.slack.publisher import SlackPublisher, make_publisher_client
from bot.core.models import Platform
from bot.core.scheduling.schedules import SlotStatus
from bot.scheduler import PostScheduler
from bot.services import Services
from bot.storage.schedule_store import SqlScheduleStore
from tests.adapters.slack.conftest import TEAM_ID
from tests.fakes.fake_slack import FakeSlack
from tests.test_scheduler_helpers import SimClock, drive_until, insert_schedule

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_429_on_one_channel_holds_only_that_channel_and_every_slot_posts_once(
    fake: FakeSlack, services: Services
) -> None:
    for channel in ("C1", "C2", "C3"):
        fake.add_channel(channel, channel.lower())
    community = await services.communities.ensure(Platform.SLACK, TEAM_ID, "Workspace")
    clock = SimClock(NINE - timedelta(seconds=1))
    publisher = SlackPublisher(
        make_publisher_client("xoxb-pub", fake.api_url),
        monotonic=lambda: clock.now().timestamp(),
        sleep=asyncio.sleep,
    )
    store = SqlScheduleStore(services.db)
    schedules = {
        channel: await insert_schedule(
            store,
            community.id,
            Platform.SLACK,
            channel,
            "daily 09:00",
            "UTC",
            created=NINE - timedelta(hours=1),
            topic="coming-out",
        )
        for channel in ("C1", "C2", "C3")
    }
    fake.fail(
        "chat.postMessage", status=429, retry_after=7, match=lambda args: args["channel"] == "C1"
    )
    scheduler = PostScheduler(
        store,
        {Platform.SLACK: publisher},
        services.support,  # the real card service and the default pack
        clock,
        "test-owner",
        sleep=clock.sleep,
        lease_seconds=86400.0,
        heartbeat_seconds=43200.0,
        idle_seconds=3600.0,
    )
    running = asyncio.create_task(scheduler.run())
    try:
        await drive_until(scheduler, clock, NINE + timedelta(seconds=6), running)
        # Until the Retry-After ends, C1 waits and the other channels have posted.
        early = sorted(c.args["channel"] for c in fake.calls_to("chat.postMessage"))
        assert early == ["C1", "C2", "C3"]
        assert clock.waiting_until()[0] == NINE + timedelta(seconds=7)
        await drive_until(scheduler, clock, NINE + timedelta(minutes=1), running)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    calls = fake.calls_to("chat.postMessage")
    assert [c.args["channel"] for c in calls].count("C1") == 2
    assert len(calls) == 4
    assert all("Coming out" in c.args["text"] for c in calls)  # the real pack's card
    for channel, schedule in schedules.items():
        (slot,) = await store.slots(schedule.id)
        assert slot.status is SlotStatus.SENT
        assert slot.attempts == (2 if channel == "C1" else 1)
