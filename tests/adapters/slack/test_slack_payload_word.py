"""A slash command whose body holds the letters `payload` is answered like any other.

Bolt 1.30 reads a form body as an interactive `payload=<JSON>` body whenever `"payload" in body`
(slack_bolt/request/internals.py, `parse_body`), so `/support my payload broke` became an empty
body and a 404 "unhandled request". Haven's HTTP app parses bodies itself (bot/adapters/slack/
app.py, `HavenBoltRequest`); Socket Mode hands Bolt the parsed envelope and never had the bug."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.request.internals import parse_body as bolt_parse_body

from bot.adapters.slack.app import SlackRuntime, parse_body
from bot.adapters.slack.render import ACTION_TOPIC, state_value
from bot.services import Services
from tests.adapters.slack.conftest import (
    ADMIN,
    APP_TOKEN,
    SignedSender,
    community_id,
    field_of,
    texts_of,
)
from tests.fakes.fake_slack import FakeSlack

FORM = "application/x-www-form-urlencoded"
PAYLOAD_TEXTS = (
    "payload",
    "my payload broke",
    "payload=1",
    "text:payload",
    'payload={"type":"block_actions"}',
    "the payloads & PAYLOAD",
)


def _assert_answered(answer: dict[str, Any]) -> None:
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"], answer
    assert "Something went wrong" not in answer["text"]


# ---- the body parser -------------------------------------------------------------------------


def test_bolt_still_misreads_a_command_body_containing_payload() -> None:
    """The upstream bug this module works around. When this fails, Bolt reads such bodies
    correctly and `HavenBoltRequest` can go (use `app.web_app` again)."""
    body = urlencode({"command": "/support", "text": "my payload broke", "team_id": "T1"})
    assert bolt_parse_body(body, FORM) == {}


@pytest.mark.parametrize("text", PAYLOAD_TEXTS)
def test_parse_body_reads_a_command_whatever_its_text(text: str) -> None:
    fields = {"command": "/support", "text": text, "team_id": "T1", "channel_name": "payload"}
    assert parse_body(urlencode(fields), FORM) == fields


def test_parse_body_reads_interactions_events_and_nothing_as_bolt_does() -> None:
    action = {"type": "block_actions", "actions": [{"value": "payload=1"}]}
    interactive = urlencode({"payload": json.dumps(action)})
    assert parse_body(interactive, FORM) == action == bolt_parse_body(interactive, FORM)
    event = json.dumps({"type": "event_callback", "event": {"text": "payload"}})
    assert parse_body(event, "application/json") == json.loads(event)
    assert parse_body("", FORM) == {} == bolt_parse_body("", FORM)
    assert parse_body("token=x&ssl_check=1", FORM) == {"token": "x", "ssl_check": "1"}


# ---- over signed HTTP --------------------------------------------------------------------------


@pytest.mark.parametrize("text", PAYLOAD_TEXTS)
async def test_support_with_payload_in_the_text_is_answered(slack: SignedSender, text: str) -> None:
    # The exact form body: `&` in the text arrives as `&amp;` (should_escape).
    reply = await slack.command("/support", text.replace("&", "&amp;"))
    assert reply.status == 200, reply.text
    _assert_answered(reply.json)


async def test_support_in_a_channel_named_payload_is_answered(slack: SignedSender) -> None:
    reply = await slack.command("/support", "coming-out GB", channel_name="payload-team")
    assert reply.status == 200, reply.text
    answer = reply.json
    _assert_answered(answer)
    assert answer["blocks"][0]["text"]["text"] == "Coming out"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("about the payload", "about the payload"),
        ("payload", "payload"),
        ("payload=1 &amp; payload=2", "payload=1 & payload=2"),
    ],
)
async def test_admin_command_with_payload_in_the_text_is_answered(
    slack: SignedSender, services: Services, text: str, stored: str
) -> None:
    reply = await slack.command(
        "/support-admin", f"message add topics:coming-out text:{text}", user_id=ADMIN
    )
    assert reply.status == 200, reply.text
    answer = reply.json
    _assert_answered(answer)
    assert answer["blocks"][0]["text"]["text"].endswith("Message added"), texts_of(answer)
    key = field_of(answer, "Key")
    library = await services.support.library(community_id())
    [message] = [message for message in library.messages if message.key == key]
    assert message.text == stored

    listed = await slack.command("/support-admin", "message list text:payload", user_id=ADMIN)
    assert listed.status == 200, listed.text
    _assert_answered(listed.json)


async def test_a_button_whose_value_mentions_payload_still_works(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    url = fake.new_response_url()
    picked = await slack.interactive(
        fake.block_action(ACTION_TOPIC, selected=state_value("family", "GB"), response_url=url)
    )
    assert picked.status == 200
    [switched] = await fake.wait_for_posts(url)
    assert switched["blocks"][0]["text"]["text"] == "Family"
    await runtime.listeners.drain()


# ---- over Socket Mode --------------------------------------------------------------------------


async def test_payload_in_the_text_over_socket_mode(runtime: SlackRuntime, fake: FakeSlack) -> None:
    handler = AsyncSocketModeHandler(runtime.app, app_token=APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake.wait_for_socket()
        for text in PAYLOAD_TEXTS:
            ack = await fake.send_envelope(
                "slash_commands", fake.slash_command("/support", text.replace("&", "&amp;"))
            )
            _assert_answered(ack["payload"])
        added = await fake.send_envelope(
            "slash_commands",
            fake.slash_command(
                "/support-admin",
                "message add topics:coming-out text:about the payload",
                user_id=ADMIN,
            ),
        )
        assert added["payload"]["blocks"][0]["text"]["text"].endswith("Message added")
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.listeners.drain()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),  # JSON, not an object
    ],
)
async def test_a_body_that_is_not_slacks_is_refused_without_a_crash(
    slack: SignedSender, body: str, content_type: str
) -> None:
    forged = await slack.post(body, signature="v0=" + "0" * 64, content_type=content_type)
    assert forged.status == 401
    # Correctly signed but unreadable: an empty body, which no listener takes, so Bolt's
    # "unhandled request" (404) answers; never a 500, and never a listener run on it.
    signed = await slack.post(body, content_type=content_type)
    assert (signed.status, signed.json) == (404, {"error": "unhandled request"})
