"""run_slack in Socket Mode (the default) in-process, its start-up checks, and long answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.adapters.slack.app import SlackRuntime, SlackStartupError, run_slack
from bot.app import open_services
from bot.core.cards import Card
from bot.core.models import RequestContext
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, SignedSender, slack_settings
from tests.conftest import FixedClock
from tests.fakes.fake_slack import FakeSlack


async def test_run_slack_serves_socket_mode_until_cancelled(
    tmp_path: Path, fake: FakeSlack
) -> None:
    fake.add_channel("C0PUBLIC", "general")
    settings = slack_settings(tmp_path, fake, slack_mode="socket")
    async with open_services(settings, clock=FixedClock()) as services:
        task = asyncio.create_task(run_slack(services))
        try:
            await fake.wait_for_socket()
            ack = await fake.send_envelope(
                "slash_commands", fake.slash_command("/support", "crisis")
            )
            assert ack["payload"]["response_type"] == "ephemeral"
            assert ack["payload"]["blocks"][0]["text"]["text"] == "Crisis right now"
            # The publisher was registered: schedule add can check the channel through it.
            added = await fake.send_envelope(
                "slash_commands",
                fake.slash_command(
                    "/support-admin",
                    'schedule add channel:<#C0PUBLIC|general> when:"daily 09:00" topic:crisis',
                    user_id=ADMIN,
                ),
            )
            assert "Schedule" in added["payload"]["text"]
            assert fake.calls_to("conversations.info")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        await fake.wait_for(lambda: fake.socket_connections == 0, what="the socket to close")
        # One token check and one connection URL: nothing repeated at start-up.
        assert len(fake.calls_to("auth.test")) == 1
        assert len(fake.calls_to("apps.connections.open")) == 1


@pytest.mark.parametrize(
    ("method", "error", "says"),
    [
        ("auth.test", "invalid_auth", "SLACK_BOT_TOKEN"),
        ("apps.connections.open", "invalid_auth", "SLACK_APP_TOKEN"),
    ],
)
async def test_a_rejected_token_stops_start_up_with_a_sentence(
    tmp_path: Path, fake: FakeSlack, method: str, error: str, says: str
) -> None:
    fake.fail(method, error)
    settings = slack_settings(tmp_path, fake, slack_mode="socket")
    async with open_services(settings, clock=FixedClock()) as services:
        with pytest.raises(SlackStartupError, match=says):
            await asyncio.wait_for(run_slack(services), 10)
    assert fake.socket_connections == 0


async def test_a_long_answer_continues_through_the_response_url(
    slack: SignedSender,
    fake: FakeSlack,
    services: Services,
    runtime: SlackRuntime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    long_card = Card(title="Everything", lines=tuple(f"line {i} " + "x" * 90 for i in range(400)))

    async def open_or_run_text(ctx: RequestContext, line: str) -> Card:
        return long_card

    monkeypatch.setattr(services.router, "open_or_run_text", open_or_run_text)
    url = fake.new_response_url()
    reply = await slack.command(
        "/support-admin", "message history", user_id=ADMIN, response_url=url
    )
    first = reply.json
    assert first["response_type"] == "ephemeral"
    await runtime.listeners.drain()
    rest = fake.posts_to(url)
    assert rest, "the rest of the answer was not sent"
    assert all(post["response_type"] == "ephemeral" for post in rest)
    assert all(post["replace_original"] is False for post in rest)
    texts = [first, *rest]
    assert "line 399" in str(texts[-1]["blocks"])


async def test_a_used_up_response_url_is_dropped_quietly(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    fake.fail_response_url(status=404, error="used_url")
    url = fake.new_response_url()
    await slack.interactive(
        fake.block_action("haven_topic", selected="crisis|GB|", response_url=url)
    )
    await runtime.listeners.drain()
    # Tried once through the response_url, and never re-sent another (possibly public) way.
    assert len(fake.posts_to(url)) == 1
    assert fake.calls_to("chat.postMessage") == fake.calls_to("chat.postEphemeral") == []


async def test_workspace_owner_is_a_moderator_and_resource_edit_is_prefilled(
    slack: SignedSender, fake: FakeSlack
) -> None:
    fake.add_user("U0OWNER", is_owner=True)
    added = await slack.command(
        "/support-admin",
        'resource add title:"Quiet Line" url:https://quiet.example.org topics:family regions:GB '
        'phone:"0800 123 456" hours:"Weekdays 9-5"',
        user_id="U0OWNER",
    )
    assert added.json["blocks"][0]["text"]["text"].endswith("Resource added"), added.text
    await slack.command("/support-admin", "resource edit gb-quiet-line", user_id="U0OWNER")
    [call] = fake.calls_to("views.open")
    blocks = {block["block_id"]: block for block in call.args["view"]["blocks"]}
    assert blocks["title"]["element"]["initial_value"] == "Quiet Line"
    assert blocks["phone"]["element"]["initial_value"] == "0800 123 456"
    assert blocks["crisis"]["element"]["initial_option"]["value"] == "no"
