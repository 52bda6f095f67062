"""SlackPublisher against the emulator: posts, pacing, idempotency, and every failure class; and a
scheduled post through the real scheduler."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import SlackRuntime
from bot.adapters.slack.publisher import SlackPublisher, make_publisher_client
from bot.core.cards import Card, CardResource, CardTone
from bot.core.scheduling.publishing import PermanentPublishError, TransientPublishError
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, SignedSender
from tests.conftest import FixedClock
from tests.fakes.fake_slack import FakeSlack

CARD = Card(
    title="Support resources: Coming out",
    body="You decide who knows, and when.",
    tone=CardTone.SUPPORT,
    resources=(
        CardResource(title="Line", url="https://line.example.org", domain="line.example.org"),
    ),
    topic="coming-out",
)


class ManualTime:
    """A monotonic clock that only moves when the publisher sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def timing() -> ManualTime:
    return ManualTime()


@pytest.fixture
def publisher(fake: FakeSlack, timing: ManualTime) -> SlackPublisher:
    fake.add_channel("C1", "general")
    fake.add_channel("C2", "random")
    return SlackPublisher(
        make_publisher_client("xoxb-pub", fake.api_url),
        monotonic=timing.monotonic,
        sleep=timing.sleep,
    )


async def test_posts_blocks_with_a_text_fallback(
    publisher: SlackPublisher, fake: FakeSlack
) -> None:
    ts = await publisher.publish("C1", CARD, "sched-1-slot-1")
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["channel"] == "C1"
    assert call.args["text"].startswith("Support resources: Coming out")
    assert call.blocks[0]["text"]["text"] == "Support resources: Coming out"
    assert call.args["unfurl_links"] is False
    assert call.token == "xoxb-pub"
    assert float(ts) > 0  # the message ts Slack returned, kept as the post's id


async def test_the_same_key_never_posts_twice(publisher: SlackPublisher, fake: FakeSlack) -> None:
    first = await publisher.publish("C1", CARD, "k")
    second = await publisher.publish("C1", CARD, "k")
    assert first == second
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_at_most_one_post_per_second_per_channel(
    publisher: SlackPublisher, timing: ManualTime
) -> None:
    await publisher.publish("C1", CARD, "a")
    await publisher.publish("C2", CARD, "b")  # another channel: no wait
    assert timing.sleeps == []
    await publisher.publish("C1", CARD, "c")
    assert timing.sleeps == [1.0]


async def test_rate_limit_is_transient_with_retry_after_and_holds_that_channel(
    publisher: SlackPublisher, fake: FakeSlack, timing: ManualTime
) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(TransientPublishError) as raised:
        await publisher.publish("C1", CARD, "a")
    assert raised.value.retry_after == 7.0
    await publisher.publish("C2", CARD, "b")
    assert timing.sleeps == []  # other channels keep posting
    await publisher.publish("C1", CARD, "a")
    assert timing.sleeps == [7.0]
    assert len(fake.calls_to("chat.postMessage")) == 3


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "account_inactive",
    ],
)
async def test_permanent_failures(publisher: SlackPublisher, fake: FakeSlack, error: str) -> None:
    fake.fail("chat.postMessage", error)
    with pytest.raises(PermanentPublishError) as raised:
        await publisher.publish("C1", CARD, "a")
    assert error in raised.value.reason


@pytest.mark.parametrize(("error", "status"), [(None, 500), (None, 503), ("internal_error", 200)])
async def test_other_failures_are_transient_and_never_retried_by_the_sdk(
    publisher: SlackPublisher, fake: FakeSlack, error: str | None, status: int
) -> None:
    fake.fail("chat.postMessage", error, status=status)
    with pytest.raises(TransientPublishError):
        await publisher.publish("C1", CARD, "a")
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_an_unreachable_slack_is_transient() -> None:
    client = AsyncWebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/", retry_handlers=[])
    with pytest.raises(TransientPublishError) as raised:
        await SlackPublisher(client).publish("C1", CARD, "a")
    assert "could not be reached" in raised.value.reason


async def test_a_split_card_resumes_after_the_part_already_posted(
    publisher: SlackPublisher, fake: FakeSlack
) -> None:
    long_card = Card(title="Many", lines=tuple(f"line {i} " + "x" * 80 for i in range(300)))
    fake.fail("chat.postMessage", status=503, match=lambda args: "(continued)" in args["text"])
    with pytest.raises(TransientPublishError):
        await publisher.publish("C1", long_card, "long")
    posted_first = len(fake.calls_to("chat.postMessage"))
    assert posted_first == 2  # the first part went out, the second failed
    await publisher.publish("C1", long_card, "long")
    texts = [call.args["text"] for call in fake.calls_to("chat.postMessage")]
    # The retry started with the failed part: the first part was not posted again.
    assert texts[0].startswith("Many") and all(t == "Many (continued)" for t in texts[1:])


async def test_channel_check(publisher: SlackPublisher, fake: FakeSlack) -> None:
    fake.add_channel("C3", "quiet", is_member=False)
    fake.add_channel("C4", "old", is_archived=True)
    info = await publisher.check_channel("C1")
    assert info.label == "#general"
    with pytest.raises(PermanentPublishError, match="not a member of #quiet"):
        await publisher.check_channel("C3")
    with pytest.raises(PermanentPublishError, match="archived"):
        await publisher.check_channel("C4")
    with pytest.raises(PermanentPublishError, match="cannot see"):
        await publisher.check_channel("C404")
    fake.fail("conversations.info", status=502)
    with pytest.raises(TransientPublishError):
        await publisher.check_channel("C1")
    assert fake.calls_to("chat.postMessage") == []


async def test_a_scheduled_slot_is_posted_by_the_real_scheduler(
    slack: SignedSender, fake: FakeSlack, services: Services, runtime: SlackRuntime
) -> None:
    fake.add_channel("C0NEWS", "news")
    clock = services.clock
    assert isinstance(clock, FixedClock)
    due = (clock.current + timedelta(minutes=1)).strftime("%H:%M")
    added = await slack.command(
        "/support-admin",
        f'schedule add channel:<#C0NEWS|news> when:"daily {due}" topic:family timezone:UTC',
        user_id=ADMIN,
    )
    assert "\nChannel: #news\n" in added.json["text"], added.text
    clock.current += timedelta(minutes=1, seconds=1)
    task = asyncio.create_task(services.scheduler.run())
    try:
        services.scheduler.wake()
        [post] = await fake.wait_for_calls("chat.postMessage", within=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert post.args["channel"] == "C0NEWS"
    assert post.blocks[0]["text"]["text"] == "Support resources: Family"
