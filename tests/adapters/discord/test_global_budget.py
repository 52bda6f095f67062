"""Discord's global REST budget (the emulator's 50/s, here 2/s) met by a burst of scheduled posts:
discord.py waits out the global 429 (it carries Via, so it is not read as a ban) and retries, the
scheduler holds the other posts meanwhile, and every slot is posted exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.adapters.discord.client import HavenBot
from bot.core.models import Platform
from bot.core.scheduling.pacing import PacingPolicy
from bot.core.scheduling.schedules import SlotStatus
from bot.services import Services
from bot.storage.schedule_store import SqlScheduleStore
from tests.adapters.discord.conftest import start_client, stop_client
from tests.adapters.discord.test_publisher import MESSAGES, NINE, _community, _scheduler
from tests.fakes.fake_discord import FakeDiscord
from tests.test_scheduler_helpers import SimClock, drive_until, insert_schedule


async def test_a_burst_over_the_global_budget_posts_each_slot_once(
    fake: FakeDiscord, services: Services
) -> None:
    guild = fake.make_guild("Burst", channels=("c1", "c2", "c3", "c4", "modlog"))
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=5.0)
    task = await start_client(bot)
    clock = SimClock(NINE - timedelta(seconds=1))
    store = SqlScheduleStore(services.db)
    community = await _community(services, guild, fake.channel_id(guild, "modlog"))
    channels = [fake.channel_id(guild, f"c{n}") for n in range(1, 5)]
    schedules = [
        await insert_schedule(
            store,
            community,
            Platform.DISCORD,
            channel,
            "daily 09:00",
            "UTC",
            created=NINE - timedelta(hours=1),
        )
        for channel in channels
    ]
    fake.global_rate_limit = 2
    # The scheduler's own pacing set far above the budget, so the budget is what refuses.
    scheduler = _scheduler(
        services,
        bot,
        clock,
        pacing={Platform.DISCORD: PacingPolicy(global_rate=100.0, global_burst=10)},
    )
    running = asyncio.create_task(scheduler.run())
    try:
        await drive_until(scheduler, clock, NINE + timedelta(minutes=10), running)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await stop_client(bot, task)
    posts = fake.requests_to("POST", MESSAGES)
    assert 429 in [r.status for r in posts], "the burst never met the budget"
    assert fake.global_refusals >= 1
    for channel in channels:
        assert len(fake.messages[channel]) == 1, channel
    for schedule in schedules:
        (slot,) = await store.slots(schedule.id)
        assert slot.status is SlotStatus.SENT
    # Every attempt of a slot carried its one nonce; no two slots shared one.
    nonces = {
        channel: {r.json["nonce"] for r in posts if r.path == f"/channels/{channel}/messages"}
        for channel in channels
    }
    assert all(len(n) == 1 for n in nonces.values())
    assert len(set.union(*nonces.values())) == len(channels)
    assert fake.busiest_second() <= 2
