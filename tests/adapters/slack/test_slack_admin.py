"""/support-admin over signed HTTP: the text grammar, permission from Slack's facts, modals,
buttons that run command lines, and the export file."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack.app import SlackRuntime
from bot.adapters.slack.modals import ACTION_TIMEZONE, CALLBACK_ID
from bot.services import Services
from tests.adapters.slack.conftest import (
    ADMIN,
    MEMBER,
    SignedSender,
    community_id,
    field_of,
    texts_of,
)
from tests.fakes.fake_slack import TEAM_ID, FakeSlack


async def _message_keys(services: Services) -> set[str]:
    library = await services.support.library(community_id())
    return {message.key for message in library.messages}


def _values(**inputs: Any) -> dict[str, dict[str, Any]]:
    """view_submission state values: {block_id: {action_id: element state}}."""
    values: dict[str, dict[str, Any]] = {}
    for block_id, value in inputs.items():
        if isinstance(value, list):
            element = {
                "type": "multi_static_select",
                "selected_options": [{"value": v} for v in value],
            }
        elif isinstance(value, dict):
            element = value
        else:
            element = {"type": "plain_text_input", "value": value}
        values[block_id] = {"value": element}
    return values


async def test_moderator_adds_a_message_with_text_and_it_shows_escaped(
    slack: SignedSender, fake: FakeSlack
) -> None:
    hostile = "You belong here <!channel> & <https://evil.example|Safe>"
    added = await slack.command(
        "/support-admin", f"message add topics:coming-out text:{hostile}", user_id=ADMIN
    )
    assert added.status == 200
    answer = added.json
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"].endswith("Message added")
    key = field_of(answer, "Key")
    [lookup] = fake.calls_to("users.info")
    assert lookup.args["user"] == ADMIN

    shown = (await slack.command("/support-admin", f"message show {key}", user_id=ADMIN)).json
    assert shown["response_type"] == "ephemeral"
    assert "<!channel>" not in json.dumps(shown)
    assert "<https://evil.example|Safe>" not in json.dumps(shown)
    # The admin facts were cached: one users.info for both commands.
    assert len(fake.calls_to("users.info")) == 1


async def test_a_member_is_refused_and_nothing_is_written(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    await slack.command("/support", "")  # the workspace exists with the default pack
    before = await _message_keys(services)
    refused = await slack.command(
        "/support-admin", "message add topics:coming-out text:Hello", user_id=MEMBER
    )
    answer = refused.json
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == ":warning: Not permitted"
    assert await _message_keys(services) == before
    # A bare "add" would open a form: refused before any form is shown.
    bare = (await slack.command("/support-admin", "message add", user_id=MEMBER)).json
    assert "Not permitted" in bare["text"]
    assert fake.calls_to("views.open") == []


async def test_configured_user_group_and_user_ids_may_moderate(
    slack: SignedSender, fake: FakeSlack
) -> None:
    fake.add_user("U0HELPER", name="Hel Per")
    fake.add_usergroup("S0MODS", ["U0HELPER"])
    set_group = await slack.command(
        "/support-admin", "settings moderator-roles roles:<!subteam^S0MODS|@mods>", user_id=ADMIN
    )
    assert "S0MODS" in texts_of(set_group.json)
    helper = await slack.command("/support-admin", "message list", user_id="U0HELPER")
    assert helper.json["blocks"][0]["text"]["text"].startswith("Messages (")
    assert fake.calls_to("usergroups.users.list")[-1].args["usergroup"] == "S0MODS"

    still_refused = await slack.command("/support-admin", "message list", user_id=MEMBER)
    assert "Not permitted" in still_refused.json["text"]
    await slack.command(
        "/support-admin", f"settings moderator-users users:<@{MEMBER}|mo>", user_id=ADMIN
    )
    allowed = await slack.command("/support-admin", "message list", user_id=MEMBER)
    assert allowed.json["blocks"][0]["text"]["text"].startswith("Messages (")


async def test_admin_commands_work_in_a_dm_with_haven_for_moderators_only(
    slack: SignedSender,
) -> None:
    # A DM with the bot still belongs to the workspace: the most private place to moderate.
    reply = await slack.command(
        "/support-admin",
        "message list",
        user_id=ADMIN,
        channel_id="D0ADMIN",
        channel_name="directmessage",
    )
    assert reply.json["response_type"] == "ephemeral"
    assert reply.json["blocks"][0]["text"]["text"].startswith("Messages (")
    refused = await slack.command(
        "/support-admin",
        "message list",
        user_id=MEMBER,
        channel_id="D0MEMBER",
        channel_name="directmessage",
    )
    assert refused.json["response_type"] == "ephemeral"
    assert "Only moderators" in texts_of(refused.json)


async def test_message_add_modal_opens_and_its_submission_saves(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    opened = await slack.command("/support-admin", "message add", user_id=ADMIN)
    assert opened.status == 200 and opened.text == ""
    [call] = fake.calls_to("views.open")
    view = call.args["view"]
    assert call.args["trigger_id"].startswith("trig")
    assert view["callback_id"] == CALLBACK_ID
    assert [b["block_id"] for b in view["blocks"]] == ["text", "topics", "locale"]

    submission = fake.view_submission(
        CALLBACK_ID,
        _values(text="Take the time you need.", topics=["coming-out", "family"], locale=""),
        private_metadata=view["private_metadata"],
        user_id=ADMIN,
    )
    reply = await slack.interactive(submission)
    assert reply.status == 200
    result = reply.json
    assert result["response_action"] == "update"
    assert result["view"]["blocks"][0]["text"]["text"].endswith("Message added")
    key = field_of(result["view"], "Key")
    assert key in await _message_keys(services)


async def test_a_bad_resource_submission_keeps_the_form_open_with_errors(
    slack: SignedSender, fake: FakeSlack
) -> None:
    await slack.command("/support-admin", "resource add", user_id=ADMIN)
    [call] = fake.calls_to("views.open")
    view = call.args["view"]
    submission = fake.view_submission(
        CALLBACK_ID,
        _values(
            title="Helpful Line",
            url="javascript:alert(1)",
            topics=["crisis"],
            regions="GB",
            crisis={"type": "radio_buttons", "selected_option": {"value": "no"}},
        ),
        private_metadata=view["private_metadata"],
        user_id=ADMIN,
    )
    submission["view"]["blocks"] = view["blocks"]
    result = (await slack.interactive(submission)).json
    assert result["response_action"] == "errors"
    assert "https" in result["errors"]["url"]


async def test_edit_modal_is_prefilled_and_a_stale_edit_is_refused(
    slack: SignedSender, fake: FakeSlack
) -> None:
    added = await slack.command(
        "/support-admin", "message add topics:family text:First words", user_id=ADMIN
    )
    key = field_of(added.json, "Key")
    await slack.command("/support-admin", f"message edit {key}", user_id=ADMIN)
    [call] = fake.calls_to("views.open")
    view = call.args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "First words"
    assert json.loads(view["private_metadata"])["o"]["version"] == "1"

    # Someone else edits first, with the text form.
    await slack.command("/support-admin", f"message edit key:{key} text:Second", user_id=ADMIN)
    submission = fake.view_submission(
        CALLBACK_ID,
        _values(text="Third", topics=["family"]),
        private_metadata=view["private_metadata"],
        user_id=ADMIN,
    )
    submission["view"]["blocks"] = view["blocks"]
    result = (await slack.interactive(submission)).json
    assert result["response_action"] == "errors"
    assert "changed" in result["errors"]["text"].lower()
    shown = (await slack.command("/support-admin", f"message show {key}", user_id=ADMIN)).json
    assert "Second" in texts_of(shown)


async def test_schedule_modal_then_a_test_post_through_the_publisher(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    fake.add_channel("C0PUBLIC", "general")
    await slack.command("/support-admin", "schedule add", user_id=ADMIN)
    [call] = fake.calls_to("views.open")
    view = call.args["view"]
    channel_block = view["blocks"][0]
    assert channel_block["element"]["type"] == "conversations_select"

    suggestion = {
        "type": "block_suggestion",
        "action_id": ACTION_TIMEZONE,
        "block_id": "timezone",
        "value": "london",
        "team": {"id": TEAM_ID},
        "user": {"id": ADMIN, "team_id": TEAM_ID},
        "api_app_id": "AHAVEN",
        "view": view,
    }
    zones = (await slack.interactive(suggestion)).json["options"]
    assert zones[0]["value"] == "Europe/London"

    submission = fake.view_submission(
        CALLBACK_ID,
        _values(
            channel={"type": "conversations_select", "selected_conversation": "C0PUBLIC"},
            when="daily 09:00",
            topic={"type": "static_select", "selected_option": {"value": "coming-out"}},
            message="",
            timezone={"type": "external_select", "selected_option": {"value": "Europe/London"}},
        ),
        private_metadata=view["private_metadata"],
        user_id=ADMIN,
    )
    submission["view"]["blocks"] = view["blocks"]
    result = (await slack.interactive(submission)).json
    assert result["response_action"] == "update", result
    assert fake.calls_to("conversations.info")[-1].args["channel"] == "C0PUBLIC"

    listed = (await slack.command("/support-admin", "schedule list", user_id=ADMIN)).json
    assert "daily 09:00" in texts_of(listed)
    tested = await slack.command("/support-admin", "schedule test id:1", user_id=ADMIN)
    assert tested.json["response_type"] == "ephemeral"
    [post] = fake.calls_to("chat.postMessage")
    assert post.args["channel"] == "C0PUBLIC"
    assert post.blocks[0]["type"] == "header"
    assert "Coming out" in post.blocks[0]["text"]["text"]
    # A public post carries no menus or buttons that would need the asker's response_url.
    assert all(block["type"] != "actions" for block in post.blocks)
    assert post.args["text"]


async def test_a_channel_haven_is_not_in_is_refused_before_saving(
    slack: SignedSender, fake: FakeSlack
) -> None:
    fake.add_channel("C0QUIET", "quiet", is_member=False)
    reply = await slack.command(
        "/support-admin",
        'schedule add channel:<#C0QUIET|quiet> when:"daily 09:00" topic:coming-out',
        user_id=ADMIN,
    )
    assert "not a member of #quiet" in texts_of(reply.json)
    listed = (await slack.command("/support-admin", "schedule list", user_id=ADMIN)).json
    assert "quiet" not in texts_of(listed)


async def test_page_buttons_run_the_next_page(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    first = (await slack.command("/support-admin", "message list", user_id=ADMIN)).json
    buttons = [
        e for b in first["blocks"] if b["type"] == "actions" for e in b.get("elements") or []
    ]
    [next_button] = [b for b in buttons if b["action_id"] == "haven_page_next"]
    assert next_button["value"] == "/support-admin message list page:2"
    url = fake.new_response_url()
    await slack.interactive(
        fake.block_action("haven_page_next", next_button["value"], user_id=ADMIN, response_url=url)
    )
    [page_two] = await fake.wait_for_posts(url)
    assert page_two["replace_original"] is True
    assert "Page 2 of" in texts_of(page_two)
    await runtime.listeners.drain()


async def test_pack_export_sends_the_file_to_the_moderators_dm(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime
) -> None:
    reply = (await slack.command("/support-admin", "pack export", user_id=ADMIN)).json
    assert "direct message" in texts_of(reply)
    await runtime.listeners.drain()
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "D" + ADMIN
    [content] = fake.uploads.values()
    assert b"messages" in content
