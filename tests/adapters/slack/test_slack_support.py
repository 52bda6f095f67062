"""/support over real signed HTTP (and Socket Mode) through the real Bolt app and Haven's core."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.adapters.slack.app import SlackRuntime
from bot.adapters.slack.render import (
    ACTION_DM_COPY,
    ACTION_REGION,
    ACTION_TOPIC,
    iter_texts,
    read_state_value,
    state_value,
)
from tests.adapters.slack.conftest import APP_TOKEN, SignedSender, texts_of
from tests.fakes.fake_slack import FakeSlack

ASKER = "U0ASKER"


def _element(payload: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in payload.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                found: dict[str, Any] = element
                return found
    raise AssertionError(f"no {action_id} element in the answer")


@pytest.mark.parametrize(
    ("channel_id", "channel_name"),
    [
        ("C0PUBLIC", "general"),  # a public channel
        ("C0SECRET", "privategroup"),  # a private channel Haven was never invited to
        ("D0SOMEONE", "directmessage"),  # a DM between two people, Haven not in it
    ],
)
async def test_support_is_answered_in_the_ack_privately_everywhere(
    slack: SignedSender, fake: FakeSlack, channel_id: str, channel_name: str
) -> None:
    url = fake.new_response_url()
    reply = await slack.command(
        "/support",
        "coming-out GB",
        channel_id=channel_id,
        channel_name=channel_name,
        response_url=url,
    )
    assert reply.status == 200
    answer = reply.json
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Coming out"},
    }
    assert "Only you can see this." in texts_of(answer)
    assert any(block.get("accessory", {}).get("url") for block in answer["blocks"])
    # The answer needs no Web API call at all: no auth.test, no chat.postEphemeral (which
    # fails where Haven is not a member), no lookup about the person who asked.
    assert fake.calls_besides_locale() == []
    assert fake.response_posts == []


async def test_support_help_and_unknown_topic(slack: SignedSender, fake: FakeSlack) -> None:
    help_reply = (await slack.command("/support", "help")).json
    assert help_reply["response_type"] == "ephemeral"
    assert "How /support works" in help_reply["text"]
    assert "/support [topic] [region]" in texts_of(help_reply)

    unknown = (await slack.command("/support", "coming-in")).json
    assert unknown["response_type"] == "ephemeral"
    texts = texts_of(unknown)
    assert "coming-in" in texts
    assert "`coming-out`" in texts  # the valid choices, closest first
    assert fake.calls_besides_locale() == []


async def test_support_without_region_offers_countries_and_topics(slack: SignedSender) -> None:
    answer = (await slack.command("/support", "")).json
    regions = _element(answer, ACTION_REGION)
    codes = [read_state_value(option["value"])[1] for option in regions["options"]]
    assert "GB" in codes and "US" in codes
    topics = _element(answer, ACTION_TOPIC)
    assert [read_state_value(o["value"])[0] for o in topics["options"]][:2] == [
        "coming-out",
        "being-outed",
    ]


async def test_topic_and_region_menus_replace_the_answer_in_place(
    slack: SignedSender, fake: FakeSlack
) -> None:
    url = fake.new_response_url()
    reply = await slack.interactive(
        fake.block_action(ACTION_TOPIC, selected=state_value("crisis", "GB"), response_url=url)
    )
    assert reply.status == 200
    [switched] = await fake.wait_for_posts(url)
    assert switched["replace_original"] is True
    assert switched["response_type"] == "ephemeral"
    assert switched["blocks"][0]["text"]["text"] == "Crisis right now"
    assert "999" in texts_of(switched)  # the region was kept: GB's emergency number

    url2 = fake.new_response_url()
    await slack.interactive(
        fake.block_action(ACTION_REGION, selected=state_value("crisis", "US"), response_url=url2)
    )
    [by_region] = await fake.wait_for_posts(url2)
    assert "988" in texts_of(by_region)


async def test_send_me_a_copy_by_dm(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    fake.add_user(ASKER)
    answer = (await slack.command("/support", "coming-out GB", user_id=ASKER)).json
    button = _element(answer, ACTION_DM_COPY)
    topic, region, key = read_state_value(button["value"])
    assert (topic, region) == ("coming-out", "GB") and key

    url = fake.new_response_url()
    await slack.interactive(
        fake.block_action(ACTION_DM_COPY, button["value"], user_id=ASKER, response_url=url)
    )
    [confirmation] = await fake.wait_for_posts(url)
    assert confirmation["response_type"] == "ephemeral"
    assert confirmation["replace_original"] is False
    assert "direct messages" in confirmation["text"]
    [opened] = fake.calls_to("conversations.open")
    assert opened.args["users"] == ASKER
    [posted] = fake.calls_to("chat.postMessage")
    assert posted.args["channel"] == "D" + ASKER
    # Exactly the message the person was shown, not a new pick from the rotation.
    shown = next(
        b["text"]["text"] for b in answer["blocks"] if b["type"] == "section" and "text" in b
    )
    copied = "\n".join(text for _, text in iter_texts(posted.blocks))
    assert shown in copied
    await runtime.listeners.drain()


async def test_dm_copy_failure_is_a_private_sentence(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    fake.add_user(ASKER)
    fake.fail("chat.postMessage", "messages_tab_disabled")
    url = fake.new_response_url()
    value = state_value("general", None, "general-reaching-out")
    await slack.interactive(fake.block_action(ACTION_DM_COPY, value, response_url=url))
    [failure] = await fake.wait_for_posts(url)
    assert failure["response_type"] == "ephemeral"
    assert "couldn't send you a direct message" in failure["text"]
    assert "messages_tab_disabled" in failure["text"]
    await runtime.listeners.drain()


async def test_bad_signature_and_stale_timestamp_are_refused_with_nothing_processed(
    slack: SignedSender, fake: FakeSlack
) -> None:
    url = fake.new_response_url()
    body = "&".join(
        f"{k}={v}" for k, v in fake.slash_command("/support", "crisis", response_url=url).items()
    )
    forged = await slack.post(body, signature=slack.sign(body, str(int(time.time())), "wrong"))
    assert forged.status == 401
    stale_ts = int(time.time()) - 600
    stale = await slack.post(body, timestamp=stale_ts, signature=slack.sign(body, str(stale_ts)))
    assert stale.status == 401
    tampered = await slack.post(
        body.replace("crisis", "coming-out"), signature=slack.sign(body, str(int(time.time())))
    )
    assert tampered.status == 401
    assert fake.calls_besides_locale() == []
    assert fake.response_posts == []


async def test_support_over_socket_mode(runtime: SlackRuntime, fake: FakeSlack) -> None:
    handler = AsyncSocketModeHandler(runtime.app, app_token=APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake.wait_for_socket()
        ack = await fake.send_envelope(
            "slash_commands", fake.slash_command("/support", "harassment IE")
        )
        payload = ack["payload"]
        assert payload["response_type"] == "ephemeral"
        assert payload["blocks"][0]["text"]["text"] == "Harassment and hate"
        # A menu pick over the socket: acknowledged at once, answered via the response_url.
        url = fake.new_response_url()
        picked = await fake.send_envelope(
            "interactive",
            fake.block_action(ACTION_TOPIC, selected=state_value("family", "IE"), response_url=url),
        )
        assert picked["envelope_id"]
        [switched] = await fake.wait_for_posts(url)
        assert switched["blocks"][0]["text"]["text"] == "Family"
        assert [c.method for c in fake.calls_besides_locale()] == ["apps.connections.open"]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.listeners.drain()


async def test_a_forged_menu_value_cannot_smuggle_a_link_into_the_answer(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    url = fake.new_response_url()
    forged = state_value("x<https://evil.example>", "GB", "key")
    await slack.interactive(fake.block_action(ACTION_DM_COPY, forged, response_url=url))
    [answer] = await fake.wait_for_posts(url)
    assert answer["response_type"] == "ephemeral"
    assert "<https://evil.example>" not in str(answer)
    assert "&lt;https://evil.example&gt;" in texts_of(answer) + answer["text"]
    assert fake.calls_to("chat.postMessage") == []  # no copy of an answer that failed
    await runtime.listeners.drain()
