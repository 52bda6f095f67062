"""Property tests: whatever anyone types after /support or /support-admin, or whatever value a
button comes back with, the request is answered (200, a body, ephemeral) and no listener crashes
(the autouse guard fails the test on any ERROR log record)."""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.adapters.slack.app import SlackRuntime
from bot.adapters.slack.render import ACTION_DM_COPY, ACTION_REGION, ACTION_TOPIC
from tests.adapters.slack.conftest import ADMIN, MEMBER, SignedSender
from tests.fakes.fake_slack import FakeSlack

# Pieces of the real grammar, so examples reach deep paths, mixed with arbitrary text.
WORDS = st.sampled_from(
    [
        "help",
        "coming-out",
        "crisis",
        "GB",
        "us",
        "message",
        "resource",
        "schedule",
        "settings",
        "pack",
        "add",
        "edit",
        "list",
        "show",
        "remove",
        "undo",
        "history",
        "test",
        "export",
        "import",
        "apply",
        "region",
        "timezone",
        "moderator-roles",
        "text:",
        "topics:",
        "key:",
        "page:",
        "id:",
        'when:"daily 09:00"',
        "url:https://example.org",
        "channel:<#C0PUBLIC|general>",
        "roles:<!subteam^S1|@x>",
        "<!channel>",
        "<@U123|a>",
        '"',
        ":",
        "&amp;",
        "\n",
        "🙂",
    ]
)
COMMAND_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8).map(" ".join),
)
# Numbers each example, so what an example checks on the shared emulator is its own.
_EXAMPLES = itertools.count(1)
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_answered(status: int, text: str) -> None:
    assert status == 200
    body = json.loads(text)
    assert body["response_type"] == "ephemeral"
    assert body["text"]
    assert len(body["blocks"]) <= 50


@FAST
@given(text=COMMAND_TEXT)
async def test_any_support_text_is_answered(slack: SignedSender, text: str) -> None:
    reply = await slack.command("/support", text)
    _assert_answered(reply.status, reply.text)


@FAST
@given(text=COMMAND_TEXT, admin=st.booleans())
# Random text rarely is a bare form verb: these reach the form branch on every run, a member's
# after a moderator's on the same emulator (so a form left from an earlier example cannot pass).
@example(text="message add", admin=True)
@example(text="message add", admin=False)
@example(text="schedule add", admin=True)
@example(text="resource add title:X", admin=True)
async def test_any_admin_text_is_answered(
    slack: SignedSender, fake: FakeSlack, text: str, admin: bool
) -> None:
    fake.add_channel("C0PUBLIC", "general")
    # The emulator lives across examples and keeps every call: only this example's count, found
    # by its own trigger id (each views.open must carry the trigger of the command it answers).
    trigger = f"trig-example-{next(_EXAMPLES)}"
    user = ADMIN if admin else MEMBER
    reply = await slack.command("/support-admin", text, user_id=user, trigger_id=trigger)
    assert reply.status == 200
    opened = [call for call in fake.calls_to("views.open") if call.args["trigger_id"] == trigger]
    if reply.text == "":
        # A bare "message add"-style command opened a form instead of answering in text.
        assert len(opened) == 1
        assert admin, "a member never gets a moderator's form"
        return
    _assert_answered(reply.status, reply.text)
    assert opened == [], "an answer in text opens no form as well"


@FAST
@given(
    action=st.sampled_from([ACTION_TOPIC, ACTION_REGION, ACTION_DM_COPY, "haven_run_0"]),
    value=st.one_of(st.text(max_size=80), COMMAND_TEXT.map(lambda t: "/support-admin " + t)),
)
async def test_any_button_value_is_acknowledged(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, action: str, value: str
) -> None:
    fake.add_user("U0ASKER")
    url = fake.new_response_url()
    if action in (ACTION_TOPIC, ACTION_REGION):
        payload = fake.block_action(action, selected=value[:150], response_url=url)
    else:
        payload = fake.block_action(action, value, user_id=ADMIN, response_url=url)
    reply = await slack.interactive(payload)
    assert reply.status == 200
    await runtime.listeners.drain()
    # Whatever the value, the person hears back privately (or gets their DM copy).
    answers = fake.posts_to(url)
    assert answers
    assert all(answer.get("response_type") == "ephemeral" for answer in answers)
