"""A spent response_url (a sixth use, or 30 minutes on): the follow-up goes by
chat.postEphemeral to the same person in the same channel only where Haven is a member;
otherwise it is dropped with a metric and a log line without user data. Never public.

Through the real Bolt app over signed HTTP, against the emulator, which enforces both limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.slack.app import SlackRuntime
from bot.app import open_services
from bot.metrics import PrometheusMetrics
from bot.services import Services
from tests.adapters.slack.conftest import SignedSender, slack_settings
from tests.conftest import FixedClock
from tests.fakes.fake_slack import RESPONSE_URL_USES, FakeSlack

ASKER = "U0ASKER"


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
async def services(
    tmp_path: Path, fake: FakeSlack, metrics: PrometheusMetrics
) -> AsyncIterator[Services]:
    """The conftest's services, counted (the `runtime` and `slack` fixtures build on this)."""
    settings = slack_settings(tmp_path, fake)
    async with open_services(settings, clock=FixedClock(), metrics=metrics) as built:
        yield built


def count(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def switch_topic(slack: SignedSender, fake: FakeSlack, url: str, channel: str) -> None:
    """Pick another topic on a /support answer: the answer is replaced via the response_url."""
    await slack.interactive(
        fake.block_action(
            "haven_topic", selected="crisis|GB|", response_url=url, channel_id=channel
        )
    )


async def test_a_sixth_use_goes_by_chat_post_ephemeral_where_haven_is_a_member(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, metrics: PrometheusMetrics
) -> None:
    fake.add_channel("C0JOINED", "peer-support", is_member=True)
    url = fake.new_response_url()
    for _ in range(RESPONSE_URL_USES + 1):
        await switch_topic(slack, fake, url, "C0JOINED")
        await runtime.listeners.drain()

    assert len(fake.posts_to(url)) == RESPONSE_URL_USES + 1  # the sixth was refused
    [ephemeral] = fake.calls_to("chat.postEphemeral")
    assert ephemeral.args["channel"] == "C0JOINED" and ephemeral.args["user"] == ASKER
    assert "crisis" in str(ephemeral.args["blocks"]).lower()
    assert fake.calls_to("chat.postMessage") == []  # never public
    assert count(metrics, "haven_followup_fallbacks_total", platform="slack") == 1
    assert count(metrics, "haven_followups_dropped_total", platform="slack", reason="refused") == 0


async def test_after_thirty_minutes_the_same_fallback_applies(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, metrics: PrometheusMetrics
) -> None:
    fake.add_channel("C0JOINED", "peer-support", is_member=True)
    url = fake.new_response_url()
    fake.advance(30 * 60 + 1)
    await switch_topic(slack, fake, url, "C0JOINED")
    await runtime.listeners.drain()

    assert len(fake.posts_to(url)) == 1  # tried first, refused as expired
    assert len(fake.calls_to("chat.postEphemeral")) == 1
    assert count(metrics, "haven_followup_fallbacks_total", platform="slack") == 1


async def test_within_the_limits_no_fallback_is_used(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, metrics: PrometheusMetrics
) -> None:
    fake.add_channel("C0JOINED", "peer-support", is_member=True)
    url = fake.new_response_url()
    fake.advance(29 * 60)
    for _ in range(RESPONSE_URL_USES):
        await switch_topic(slack, fake, url, "C0JOINED")
    await runtime.listeners.drain()

    assert fake.calls_to("chat.postEphemeral") == fake.calls_to("conversations.info") == []
    assert count(metrics, "haven_followup_fallbacks_total", platform="slack") == 0


@pytest.mark.parametrize(
    ("channel", "joined", "reason"),
    [
        ("C0NOTIN", False, "not_in_channel"),  # a public channel Haven was never invited to
        ("G0HIDDEN", None, "channel_not_found"),  # a private channel Haven cannot see
    ],
)
async def test_where_haven_is_not_a_member_it_is_dropped_with_a_metric(
    slack: SignedSender,
    fake: FakeSlack,
    runtime: SlackRuntime,
    metrics: PrometheusMetrics,
    caplog: pytest.LogCaptureFixture,
    channel: str,
    joined: bool | None,
    reason: str,
) -> None:
    if joined is not None:
        fake.add_channel(channel, "elsewhere", is_member=joined)
    url = fake.new_response_url()
    fake.advance(31 * 60)
    with caplog.at_level(logging.INFO):
        await switch_topic(slack, fake, url, channel)
        await runtime.listeners.drain()

    assert [c.args["channel"] for c in fake.calls_to("conversations.info")] == [channel]
    assert fake.calls_to("chat.postEphemeral") == fake.calls_to("chat.postMessage") == []
    assert count(metrics, "haven_followups_dropped_total", platform="slack", reason=reason) == 1
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped, "the drop was not logged"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ASKER not in logged and channel not in logged


async def test_in_havens_own_dm_the_fallback_works_and_in_another_dm_it_is_dropped(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, metrics: PrometheusMetrics
) -> None:
    fake.add_user(ASKER)
    own = fake.channels.setdefault(
        f"D{ASKER}", {"id": f"D{ASKER}", "is_im": True, "user": ASKER, "is_member": True}
    )
    first, second = fake.new_response_url(), fake.new_response_url()
    fake.advance(31 * 60)
    await switch_topic(slack, fake, first, own["id"])
    await runtime.listeners.drain()
    await switch_topic(slack, fake, second, "D0SOMEONEELSE")
    await runtime.listeners.drain()

    # No conversations.info for DMs (Haven has no im:read): Slack's own refusal decides.
    assert fake.calls_to("conversations.info") == []
    calls = fake.calls_to("chat.postEphemeral")
    assert [c.args["channel"] for c in calls] == [own["id"], "D0SOMEONEELSE"]
    assert count(metrics, "haven_followup_fallbacks_total", platform="slack") == 1
    assert (
        count(
            metrics, "haven_followups_dropped_total", platform="slack", reason="channel_not_found"
        )
        == 1
    )
    assert fake.calls_to("chat.postMessage") == []
