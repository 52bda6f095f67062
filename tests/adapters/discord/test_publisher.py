"""DiscordPublisher: scheduled posts with a nonce, no pings, and each failure class."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.publisher import nonce_for
from bot.app import open_services
from bot.core.cards import Card, CardResource, CardTone
from bot.core.models import Platform
from bot.core.scheduling.pacing import PacingPolicy
from bot.core.scheduling.publishing import (
    PermanentPublishError,
    PlatformPausedError,
    TransientPublishError,
)
from bot.core.scheduling.schedules import SlotStatus
from bot.scheduler import PostScheduler
from bot.services import Services
from bot.settings import Secret, Settings
from bot.storage.schedule_store import SqlScheduleStore
from tests.adapters.discord.conftest import MANAGE_GUILD, eventually, start_client, stop_client
from tests.conftest import FixedClock
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord
from tests.test_scheduler_helpers import SimClock, drive_until, insert_schedule

CARD = Card(
    title="Support resources: Coming out",
    body="@everyone you are not alone <@&123>",
    tone=CardTone.SUPPORT,
    resources=(CardResource("Switchboard", "https://switchboard.lgbt", "switchboard.lgbt"),),
)
MESSAGES = r"^/channels/\d+/messages$"


async def test_post_has_nonce_no_mentions_and_is_idempotent(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    channel = fake.channel_id(guild)
    first = await haven.publisher.publish(channel, CARD, "SLOTKEY0000000000000000001")
    again = await haven.publisher.publish(channel, CARD, "SLOTKEY0000000000000000001")
    assert first == again
    assert len(fake.messages[channel]) == 1
    body = fake.requests_to("POST", MESSAGES)[0].json
    # 26 characters do not fit Discord's 25: the nonce is the key's SHA-256 in base32, cut to
    # 25 (worked out by hand, not with nonce_for).
    assert body["nonce"] == "GJVSJQBDNNLQZOYAOXEIOUPSH"
    assert nonce_for("SHORTKEY") == "SHORTKEY"
    assert body["enforce_nonce"] is True
    assert body["allowed_mentions"] == {"parse": []}
    assert body["embeds"][0]["title"] == CARD.title
    # Public posts carry link buttons only: nothing that runs a command.
    assert all(c["style"] == 5 for row in body["components"] for c in row["components"])


async def test_a_5xx_after_the_message_was_created_does_not_double_post(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    """discord.py retries a 500 on its own; the nonce makes the retry return the first post."""
    channel = fake.channel_id(guild)
    fake.fail("POST", MESSAGES, 500, after_processing=True)
    haven.publisher.timeout = 5.0
    message_id = await haven.publisher.publish(channel, CARD, "retry-key")
    assert [r.status for r in fake.requests_to("POST", MESSAGES)] == [500, 200]
    assert [m["id"] for m in fake.messages[channel]] == [message_id]


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (404, 10003, True),  # unknown channel
        (403, 50001, True),  # missing access
        (403, 50013, True),  # missing permissions
        (403, 0, True),
        (400, 50035, True),  # invalid form body: resending cannot help
        (502, 0, False),
    ],
)
async def test_failure_classes(
    fake: FakeDiscord,
    haven: HavenBot,
    guild: dict[str, Any],
    status: int,
    code: int,
    permanent: bool,
) -> None:
    haven.publisher.timeout = 0.5  # discord.py would retry a 502 for 25 s
    fake.fail("POST", MESSAGES, status, code, times=-1)
    expected = PermanentPublishError if permanent else TransientPublishError
    with pytest.raises(expected) as raised:
        await haven.publisher.publish(fake.channel_id(guild), CARD, f"k-{status}-{code}")
    assert raised.value.reason


async def test_rate_limit_is_transient_with_retry_after(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    fake.rate_limit("POST", MESSAGES, retry_after=120.0)
    with pytest.raises(TransientPublishError) as raised:
        await haven.publisher.publish(fake.channel_id(guild), CARD, "rl")
    assert raised.value.retry_after == 120.0
    assert not isinstance(raised.value, PlatformPausedError)  # this channel's limit only
    # A Cloudflare-style 429 (no Via header) holds the whole platform, never a hot retry loop.
    fake.rate_limit("POST", MESSAGES, retry_after=5.0, via=False)
    with pytest.raises(PlatformPausedError) as banned:
        await haven.publisher.publish(fake.channel_id(guild), CARD, "cf")
    assert banned.value.retry_after == 5.0
    # A rate-limit proxy relaying a route's own limit, without Via: still this channel only.
    fake.rate_limit("POST", MESSAGES, retry_after=3.0, via=False, scope="user")
    with pytest.raises(TransientPublishError) as relayed:
        await haven.publisher.publish(fake.channel_id(guild), CARD, "proxy")
    assert not isinstance(relayed.value, PlatformPausedError)


async def test_timeout_is_transient(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    haven.publisher.timeout = 0.2
    fake.slow("POST", MESSAGES, delay=1.0)
    with pytest.raises(TransientPublishError):
        await haven.publisher.publish(fake.channel_id(guild), CARD, "slow")


async def test_channel_check(fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]) -> None:
    info = await haven.publisher.check_channel(fake.channel_id(guild))
    assert info.label == "#general"
    with pytest.raises(PermanentPublishError, match="channel"):
        await haven.publisher.check_channel("1234567890123")
    assert not fake.requests_to("POST", MESSAGES), "checking never posts"


async def test_channel_check_names_the_missing_permission(
    fake: FakeDiscord, services: Services
) -> None:
    readonly = fake.make_guild("Read only", bot_permissions=(1 << 10) | (1 << 11))
    bot = HavenBot(services, guild_ready_timeout=0.05)
    task = await start_client(bot)
    try:
        with pytest.raises(PermanentPublishError, match="Embed Links"):
            await bot.publisher.check_channel(fake.channel_id(readonly))
    finally:
        await stop_client(bot, task)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def timed_services(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Services]:
    settings = Settings(database_path=tmp_path / "haven.db", discord_token=Secret("fake-token"))
    async with open_services(settings, clock=clock) as opened:
        yield opened


async def test_scheduled_post_through_the_scheduler(
    fake: FakeDiscord, timed_services: Services, clock: FixedClock
) -> None:
    guild = fake.make_guild("Scheduled")
    bot = HavenBot(timed_services, guild_ready_timeout=0.05)
    task = await start_client(bot)
    scheduler = asyncio.create_task(timed_services.scheduler.run())
    try:
        channel = fake.channel_id(guild, "resources")
        added = await fake.dispatch_command(
            "support-admin schedule add",
            {"channel": channel, "when": "in 2h", "topic": "coming-out"},
            guild=guild,
            member_permissions=MANAGE_GUILD,
        )
        data = (await added.response())["data"]
        assert data["flags"] & EPHEMERAL
        assert "#resources" in str(data["embeds"][0])
        (schedule,) = await timed_services.schedules.list(_moderator(guild))
        after = fake.mark()
        clock.current += timedelta(hours=2, seconds=1)
        timed_services.scheduler.wake()
        posted = await fake.wait_for("POST", rf"^/channels/{channel}/messages$", after=after)
        # Schedule 1's slot at 2026-11-29 14:00 UTC (epoch 1795960800): the first 25
        # characters of base32(SHA-256("1|1795960800")), worked out by hand.
        assert (schedule.id, schedule.next_run_at) == (1, 1795960800)
        assert posted.json["nonce"] == "GGV563DY4SP5I2ETLRPJGJ63C"
        assert posted.json["enforce_nonce"] is True
        assert posted.json["allowed_mentions"] == {"parse": []}
        assert posted.json["embeds"][0]["title"] == "Support resources: Coming out"
    finally:
        scheduler.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)
        await stop_client(bot, task)


def _moderator(guild: dict[str, Any]) -> Any:
    from bot.adapters.discord.context import community_id_for_guild
    from bot.core.models import Actor, Platform, RequestContext

    return RequestContext(
        community_id_for_guild(int(guild["id"])),
        Platform.DISCORD,
        Actor("1", "mod", has_admin_permission=True),
    )


# ---- the real publisher under the scheduler, on simulated time ------------------------------
#
# The scheduler runs on a SimClock moved only while it is idle (tests/test_scheduler_helpers.py);
# posts go through the real discord.py client to the emulator and take real (loopback) time,
# during which the scheduler is busy and the clock stands still.

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _community(services: Services, guild: dict[str, Any], log_channel: str) -> str:
    community = await services.communities.ensure(Platform.DISCORD, guild["id"], guild["name"])
    async with services.db.write() as conn:
        await conn.execute(
            "UPDATE communities SET log_channel_id = ? WHERE id = ?", (log_channel, community.id)
        )
    return community.id


def _scheduler(services: Services, bot: HavenBot, clock: SimClock, **options: Any) -> PostScheduler:
    return PostScheduler(
        SqlScheduleStore(services.db),
        {Platform.DISCORD: bot.publisher},
        services.support,  # the real card service: the real default pack's cards
        clock,
        "test-owner",
        sleep=clock.sleep,
        lease_seconds=86400.0,
        heartbeat_seconds=43200.0,
        idle_seconds=3600.0,
        **options,
    )


@pytest.mark.parametrize(
    ("global_", "reason"),
    [(True, "global rate limit"), (False, "without a Via header")],
    ids=["global-429", "429-without-via"],
)
async def test_a_platform_wide_429_holds_every_channel_then_all_post_and_moderators_hear_once(
    fake: FakeDiscord, services: Services, global_: bool, reason: str
) -> None:
    guilds = [
        fake.make_guild(name, channels=("general", "c1", "c2", "c3", "modlog"))
        for name in ("One", "Two")
    ]
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=5.0)
    task = await start_client(bot)
    clock = SimClock(NINE - timedelta(seconds=1))
    store = SqlScheduleStore(services.db)
    channels: list[str] = []
    for guild in guilds:
        community = await _community(services, guild, fake.channel_id(guild, "modlog"))
        for name in ("c1", "c2", "c3"):
            channels.append(fake.channel_id(guild, name))
            await insert_schedule(
                store,
                community,
                Platform.DISCORD,
                channels[-1],
                "daily 09:00",
                "UTC",
                created=NINE - timedelta(hours=1),
                topic="coming-out",
            )
    # One post a second, so "the others kept posting into the ban" would show as requests.
    scheduler = _scheduler(
        services,
        bot,
        clock,
        pacing={Platform.DISCORD: PacingPolicy(global_rate=1.0, global_burst=1)},
    )
    fake.rate_limit("POST", MESSAGES, retry_after=3.0, via=False, global_=global_)
    running = asyncio.create_task(scheduler.run())
    try:
        await drive_until(scheduler, clock, NINE, running)
        answers = [r.status for r in fake.requests_to("POST", MESSAGES)]
        assert answers == [429]
        # Nothing more goes to Discord for two minutes: every channel waits, not just the one.
        assert clock.waiting_until()[0] == NINE + timedelta(minutes=2)
        await drive_until(
            scheduler, clock, NINE + timedelta(minutes=2) - timedelta(seconds=1), running
        )
        assert [r.status for r in fake.requests_to("POST", MESSAGES)] == [429]
        # Interactive answers do not wait for the scheduler's pause.
        asked = await fake.dispatch_command("support", {}, guild=guilds[0])
        assert (await asked.response())["data"]["flags"] & EPHEMERAL
        await drive_until(scheduler, clock, NINE + timedelta(minutes=3), running)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await stop_client(bot, task)
    # Then it resumed by itself: each channel has exactly its one post...
    for channel in channels:
        assert len(fake.messages[channel]) == 1, channel
    assert [r.status for r in fake.requests_to("POST", MESSAGES)].count(429) == 1
    # ...and each community's moderators heard once, saying why.
    for guild in guilds:
        notices = fake.messages[fake.channel_id(guild, "modlog")]
        assert len(notices) == 1
        assert reason in str(notices[0]["embeds"]) and "resumed" in str(notices[0]["embeds"])
    assert scheduler.stats.platform_pauses == 1 and scheduler.stats.sent == 6


async def test_a_global_429_discord_py_waits_out_holds_the_other_posts_without_a_request(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    """A global 429 with Via: discord.py sleeps holding its client-wide lock; another post
    meanwhile is refused as platform-wide at once instead of queueing behind the lock."""
    haven.publisher.timeout = 10.0
    fake.rate_limit("POST", MESSAGES, retry_after=0.5, global_=True)
    first = asyncio.create_task(
        haven.publisher.publish(fake.channel_id(guild, "general"), CARD, "first-key")
    )
    await eventually(haven.publisher.global_limit_held)
    before = len(fake.requests_to("POST", MESSAGES))
    with pytest.raises(PlatformPausedError):
        await haven.publisher.publish(fake.channel_id(guild, "resources"), CARD, "second-key")
    assert len(fake.requests_to("POST", MESSAGES)) == before
    assert await first  # the first post goes through once discord.py's wait ends


async def test_a_5xx_after_creating_is_retried_with_the_nonce_then_recorded_unknown(
    fake: FakeDiscord, services: Services
) -> None:
    """Discord creates the message and answers 500, every time: retries carry the same nonce
    (so the channel never gets a second copy) while the nonce window lasts; after it the slot
    is `unknown`, with the sentence moderators see, and it is never sent again."""
    guild = fake.make_guild("Flaky", channels=("posts", "modlog"))
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=5.0)
    task = await start_client(bot)
    # discord.py would retry the 500 itself (its first retry after 1 s, then 3, 5, 7); below
    # that, each of the scheduler's attempts is one request.
    bot.publisher.timeout = 0.8
    clock = SimClock(NINE - timedelta(seconds=1))
    store = SqlScheduleStore(services.db)
    community = await _community(services, guild, fake.channel_id(guild, "modlog"))
    channel = fake.channel_id(guild, "posts")
    schedule = await insert_schedule(
        store,
        community,
        Platform.DISCORD,
        channel,
        "daily 09:00",
        "UTC",
        created=NINE - timedelta(hours=1),
    )
    fake.fail("POST", MESSAGES, 500, times=-1, after_processing=True)
    scheduler = _scheduler(services, bot, clock, backoff=(60.0, 120.0, 240.0))
    running = asyncio.create_task(scheduler.run())
    try:
        await drive_until(scheduler, clock, NINE + timedelta(minutes=30), running)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await stop_client(bot, task)
    attempts = fake.requests_to("POST", MESSAGES)
    assert len(attempts) == 3
    assert len({r.json["nonce"] for r in attempts}) == 1
    assert len(fake.messages[channel]) == 1  # created once, never a blind second copy
    (slot,) = await store.slots(schedule.id)
    # 09:00, 09:01, 09:03; the next would be 09:07, past 09:05 (five minutes from the first).
    assert slot.status is SlotStatus.UNKNOWN and slot.attempts == 3
    assert "may or may not have posted" in (slot.reason or "")
    refreshed = await store.get(schedule.id)
    assert refreshed is not None and not refreshed.paused
    assert refreshed.last_outcome == "unknown (may or may not have posted)"


async def test_a_5xx_after_creating_then_success_inside_the_window_is_one_post(
    fake: FakeDiscord, services: Services
) -> None:
    guild = fake.make_guild("Once", channels=("posts",))
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=5.0)
    task = await start_client(bot)
    bot.publisher.timeout = 0.8
    clock = SimClock(NINE - timedelta(seconds=1))
    store = SqlScheduleStore(services.db)
    community = await _community(services, guild, "")
    channel = fake.channel_id(guild, "posts")
    schedule = await insert_schedule(
        store,
        community,
        Platform.DISCORD,
        channel,
        "daily 09:00",
        "UTC",
        created=NINE - timedelta(hours=1),
    )
    fake.fail("POST", MESSAGES, 500, times=1, after_processing=True)
    scheduler = _scheduler(services, bot, clock, backoff=(60.0,))
    running = asyncio.create_task(scheduler.run())
    try:
        await drive_until(scheduler, clock, NINE + timedelta(minutes=5), running)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await stop_client(bot, task)
    assert [r.status for r in fake.requests_to("POST", MESSAGES)] == [500, 200]
    (message,) = fake.messages[channel]
    (slot,) = await store.slots(schedule.id)
    assert slot.status is SlotStatus.SENT and slot.attempts == 2
    assert slot.message_id == message["id"]  # the retry got back the first message
