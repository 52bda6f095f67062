"""DiscordPublisher: scheduled posts with a nonce, no pings, and each failure class."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.publisher import nonce_for
from bot.app import open_services
from bot.core.cards import Card, CardResource, CardTone
from bot.core.scheduling.publishing import PermanentPublishError, TransientPublishError
from bot.core.scheduling.schedules import idempotency_key
from bot.services import Services
from bot.settings import Secret, Settings
from tests.adapters.discord.conftest import MANAGE_GUILD, start_client, stop_client
from tests.conftest import FixedClock
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord

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
    assert body["nonce"] == nonce_for("SLOTKEY0000000000000000001")
    assert len(body["nonce"]) <= 25
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
    # A Cloudflare-style 429 (no Via header) is transient too, never a hot retry loop.
    fake.rate_limit("POST", MESSAGES, retry_after=5.0, via=False)
    with pytest.raises(TransientPublishError):
        await haven.publisher.publish(fake.channel_id(guild), CARD, "cf")


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
        assert posted.json["nonce"] == idempotency_key(schedule.id, schedule.next_run_at or 0)
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
