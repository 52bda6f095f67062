"""The counts the core's Metrics port receives where things happen: scheduled posts by outcome
(the real scheduler on simulated time), library reloads (SupportService's cache), and errors by
exception type (tests/adapters/discord/test_error_counts.py, through the real client)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.app import open_services
from bot.core.models import Actor, Platform, RequestContext
from bot.core.scheduling.publishing import PermanentPublishError
from bot.metrics import PrometheusMetrics
from bot.scheduler import PostScheduler
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.schedule_store import SqlScheduleStore
from tests.test_scheduler_helpers import (
    START,
    RecordingPublisher,
    SimClock,
    StubCards,
    add_community,
    insert_schedule,
    run_scheduler_until,
)

DAY = 86400


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_scheduled_posts_are_counted_by_outcome(db: Database) -> None:
    metrics = PrometheusMetrics()
    await add_community(db, "discord:1", Platform.DISCORD)
    store = SqlScheduleStore(db)
    clock = SimClock()
    publisher = RecordingPublisher(Platform.DISCORD, clock)
    publisher.fail("gone", PermanentPublishError("Haven is not in this channel"))
    await insert_schedule(
        store, "discord:1", Platform.DISCORD, "c1", "daily 09:00", "UTC", created=START
    )
    await insert_schedule(
        store, "discord:1", Platform.DISCORD, "gone", "daily 10:00", "UTC", created=START
    )
    scheduler = PostScheduler(
        store,
        {Platform.DISCORD: publisher},
        StubCards(),
        clock,
        "owner-a",
        sleep=clock.sleep,
        lease_seconds=10 * DAY,
        heartbeat_seconds=5 * DAY,
        idle_seconds=DAY,
        metrics=metrics,
    )
    await run_scheduler_until(scheduler, clock, START + timedelta(days=3, hours=1))

    assert value(metrics, "haven_scheduled_posts_total", outcome="sent") == 3
    assert value(metrics, "haven_scheduled_posts_total", outcome="failed") == 1  # then paused
    assert value(metrics, "haven_scheduled_posts_total", outcome="sent") == scheduler.stats.sent


async def test_library_loads_are_counted_as_cache_reloads(tmp_path: Path) -> None:
    metrics = PrometheusMetrics()
    async with open_services(Settings(database_path=tmp_path / "h.db"), metrics=metrics) as s:
        await s.communities.ensure(Platform.CONSOLE, "local", "Local console")
        ctx = RequestContext("console:local", Platform.CONSOLE, Actor("me", "Me", True))
        await s.support.reply(ctx, "crisis")
        await s.support.reply(ctx, "general")
        assert value(metrics, "haven_cache_reloads_total") == 1  # the second was from memory
        s.support.invalidate("console:local")
        await s.support.reply(ctx, "crisis")
        assert value(metrics, "haven_cache_reloads_total") == 2
