"""The moderator contact line on Slack, end to end: the real Bolt AsyncApp over signed HTTP
against the Slack emulator, real services on a real SQLite file.

A person opens the form, sends an anonymous request, gets their key in a DM from Haven; the
request arrives in a private inbox channel; a moderator replies with the Reply form; the person
reads and answers back from their DM's buttons; closing, deleting, blocking; and a restart in
the middle (a new app on the same database). Privacy: the sender's id is in nothing Haven sent
to the inbox, in no database file and in no log line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import SlackRuntime, assemble, http_app, run_slack
from bot.adapters.slack.contact import SlackContact
from bot.adapters.slack.contact_modals import ANSWER_CALLBACK, CONTACT_CALLBACK
from bot.adapters.slack.modals import CALLBACK_ID
from bot.adapters.slack.render import iter_texts
from bot.adapters.slack.workspaces import InstalledWorkspaces
from bot.app import open_services
from bot.core.cards import Card
from bot.core.scheduling.publishing import PermanentPublishError
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, SIGNING_SECRET, SignedSender, slack_settings
from tests.adapters.slack.test_slack_privacy import haven_logging
from tests.adapters.slack.test_slack_workspaces import _Store, _token
from tests.conftest import FixedClock
from tests.fakes.fake_slack import FakeSlack

PERSON = "U0PRIVATE42"
INBOX = "G0MODINBOX"
INBOX_REF = f"<#{INBOX}|mod-inbox>"
TEXT = "Someone in #general keeps messaging me"
DM = "D" + PERSON  # the emulator names a DM after its person


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(text for _, text in iter_texts(blocks))


def buttons(blocks: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """label -> (action_id, value) of every button in the blocks."""
    found: dict[str, tuple[str, str]] = {}
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["text"]["text"]] = (element["action_id"], element.get("value", ""))
    return found


class Scene:
    """One Haven serving Slack (it can be restarted on the same database) and the people."""

    def __init__(self, fake: FakeSlack, tmp_path: Path, clock: FixedClock) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.clock = clock
        self.slack: SignedSender
        self.services: Services
        self.runtime: SlackRuntime

    @asynccontextmanager
    async def haven(self) -> AsyncIterator[Scene]:
        async with open_services(slack_settings(self.tmp_path, self.fake), clock=self.clock) as s:
            runtime = assemble(s)
            s.register_publisher(runtime.publisher)
            s.register_directory(runtime.directory)
            s.register_contact(runtime.contact)
            self.runtime = runtime
            runner = web.AppRunner(http_app(runtime.app), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            server = site._server
            assert server is not None
            port = server.sockets[0].getsockname()[1]
            self.services = s
            try:
                async with aiohttp.ClientSession() as session:
                    self.slack = SignedSender(
                        f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, self.fake, session
                    )
                    yield self
                    await runtime.listeners.drain()
            finally:
                await runtime.listeners.aclose()
                await runner.cleanup()

    # ---- what people do ----------------------------------------------------------------------

    async def set_inbox(self) -> None:
        reply = await self.slack.command(
            "/support-admin", f"settings contact-inbox channel:{INBOX_REF}", user_id=ADMIN
        )
        assert "Moderator inbox saved" in reply.text, reply.text

    async def send(self, text: str = TEXT, kind: str = "anonymous", user: str = PERSON) -> Any:
        """Open the form with /support-contact and submit it; the submission's answer."""
        before = len(self.fake.views)
        reply = await self.slack.command("/support-contact", "", user_id=user)
        assert reply.status == 200 and reply.text == "", reply.text
        assert len(self.fake.views) == before + 1, "no form opened"
        view = self.fake.views[-1]
        assert view["callback_id"] == CONTACT_CALLBACK
        values: dict[str, dict[str, Any]] = {
            "text": {"value": {"type": "plain_text_input", "value": text}},
            "kind": {"value": {"type": "radio_buttons", "selected_option": {"value": kind}}},
        }
        submitted = await self.slack.interactive(
            self.fake.view_submission(
                CONTACT_CALLBACK,
                values,
                private_metadata=view["private_metadata"],
                user_id=user,
                blocks=view["blocks"],
            )
        )
        assert submitted.status == 200
        return submitted.json

    def inbox(self) -> list[dict[str, Any]]:
        return self.fake.messages_in(INBOX)

    def dms(self) -> list[dict[str, Any]]:
        return self.fake.messages_in(DM)

    def key_message(self) -> dict[str, Any]:
        """The newest DM holding a request's key (its buttons)."""
        return [m for m in self.dms() if "Read replies" in buttons(m["blocks"])][-1]

    async def click(
        self, message: dict[str, Any], label: str, user: str, channel: str
    ) -> list[dict[str, Any]]:
        """Click a button on a posted message (or on an ephemeral answer, as it was posted to
        the response_url); the private follow-ups it brought."""
        action_id, value = buttons(message["blocks"])[label]
        url = self.fake.new_response_url()
        payload = self.fake.block_action(
            action_id,
            value,
            user_id=user,
            channel_id=channel,
            response_url=url,
            # An ephemeral answer has no ts: Slack sends the click without the message.
            message_ts=message.get("ts"),
        )
        reply = await self.slack.interactive(payload)
        assert reply.status == 200
        await self.drain()
        return self.fake.posts_to(url)

    async def drain(self) -> None:
        await self.runtime.listeners.drain()

    async def moderator_reply(self, text: str) -> dict[str, Any]:
        """Reply on the newest inbox message through its Reply form; the form's result."""
        posts = await self.click(self.inbox()[-1], "Reply", ADMIN, INBOX)
        assert posts == [], posts  # a form, not a message
        view = self.fake.views[-1]
        assert view["callback_id"] == CALLBACK_ID
        submitted = await self.slack.interactive(
            self.fake.view_submission(
                CALLBACK_ID,
                {"text": {"value": {"type": "plain_text_input", "value": text}}},
                private_metadata=view["private_metadata"],
                user_id=ADMIN,
                blocks=view["blocks"],
            )
        )
        await self.drain()
        result: dict[str, Any] = submitted.json
        return result

    async def person_answers(self, text: str) -> dict[str, Any]:
        posts = await self.click(self.key_message(), "Answer", PERSON, DM)
        assert posts == [], posts
        view = self.fake.views[-1]
        assert view["callback_id"] == ANSWER_CALLBACK
        submitted = await self.slack.interactive(
            self.fake.view_submission(
                ANSWER_CALLBACK,
                {"text": {"value": {"type": "plain_text_input", "value": text}}},
                private_metadata=view["private_metadata"],
                user_id=PERSON,
                blocks=view["blocks"],
            )
        )
        result: dict[str, Any] = submitted.json
        return result


@pytest.fixture
async def scene(fake: FakeSlack, tmp_path: Path) -> Scene:
    fake.add_user(PERSON, name="Private Person")
    fake.add_channel(INBOX, "mod-inbox", is_private=True)
    fake.add_channel("C0PUBLIC", "general")
    return Scene(fake, tmp_path, FixedClock())


def view_text(answer: dict[str, Any]) -> str:
    assert answer.get("response_action") == "update", answer
    return texts(answer["view"]["blocks"])


# ---- the whole conversation --------------------------------------------------------------------


async def test_an_anonymous_request_a_reply_an_answer_back_and_closing(scene: Scene) -> None:
    fake = scene.fake
    async with scene.haven():
        await scene.set_inbox()
        answer = await scene.send()
        shown = view_text(answer)
        assert "Request #1 sent" in shown and "direct message" in shown
        assert "Your key" not in shown  # the key went to the DM, not the modal

        [request] = scene.inbox()
        inbox = texts(request["blocks"])
        assert "Request #1" in inbox and TEXT in inbox
        assert "Anonymous" in inbox
        assert set(buttons(request["blocks"])) == {"Reply", "Close", "Block sender"}
        assert all(a.startswith("haven_inbox_") for a, _ in buttons(request["blocks"]).values())

        keep = scene.key_message()
        assert set(buttons(keep["blocks"])) == {"Read replies", "Answer", "Close", "Delete"}
        assert all(a.startswith("haven_contact_") for a, _ in buttons(keep["blocks"]).values())

        result = await scene.moderator_reply("We hear you. Who is it?")
        assert "Reply sent to request #1" in view_text(result)
        assert "told in a private message" in view_text(result)
        # The inbox message was redrawn in place with the reply; still one message.
        [request] = scene.inbox()
        assert "Moderator Ada Admin: We hear you. Who is it?" in texts(request["blocks"])
        # The person was told in their DM.
        assert any("We hear you. Who is it?" in texts(m["blocks"]) for m in scene.dms())

        posts = await scene.click(scene.key_message(), "Read replies", PERSON, DM)
        [post] = posts
        assert post["response_type"] == "ephemeral" and post["replace_original"] is False
        assert "Moderator: We hear you. Who is it?" in texts(post["blocks"])

        answered = await scene.person_answers("A member called X")
        assert "Sent to the moderators" in view_text(answered)
        [request] = scene.inbox()
        assert "Sender: A member called X" in texts(request["blocks"])

        posts = await scene.click(scene.key_message(), "Close", PERSON, DM)
        assert "Request #1 closed" in texts(posts[0]["blocks"])
        [request] = scene.inbox()
        assert "Closed" in texts(request["blocks"])
        assert buttons(request["blocks"]) == {}  # nothing left to do on a closed request
        # The DM that holds the key is never replaced.
        assert scene.key_message()["ts"] == keep["ts"]
    assert fake.calls_to("chat.postEphemeral") == []


async def test_a_moderator_closes_and_the_person_deletes(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        await scene.send()
        posts = await scene.click(scene.inbox()[-1], "Close", ADMIN, INBOX)
        [post] = posts
        assert post["response_type"] == "ephemeral" and post["replace_original"] is False
        assert "Request #1 closed" in texts(post["blocks"])
        assert "Closed" in texts(scene.inbox()[-1]["blocks"])
        assert any("closed by a moderator" in texts(m["blocks"]) for m in scene.dms())

        # Deleting cannot be undone: Haven asks once more, in a private message of its own.
        [asked] = await scene.click(scene.key_message(), "Delete", PERSON, DM)
        assert "for good?" in texts(asked["blocks"])
        assert asked["replace_original"] is False and asked["response_type"] == "ephemeral"
        assert "Deleted by the sender" not in texts(scene.inbox()[-1]["blocks"])
        posts = await scene.click(asked, "Delete for good", PERSON, DM)
        assert "Request #1 deleted" in texts(posts[0]["blocks"])
        inbox = texts(scene.inbox()[-1]["blocks"])
        assert "Deleted by the sender" in inbox and TEXT not in inbox
        posts = await scene.click(scene.key_message(), "Read replies", PERSON, DM)
        assert "no longer here" in texts(posts[0]["blocks"])
    stored = b"".join(p.read_bytes() for p in scene.tmp_path.glob("haven.db*"))
    assert TEXT.encode() not in stored


async def test_a_blocked_sender_cannot_write_again_and_nobody_learns_who(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        await scene.send()
        posts = await scene.click(scene.inbox()[-1], "Block sender", ADMIN, INBOX)
        shown = texts(posts[0]["blocks"])
        assert "sender of request #1 is blocked" in shown
        assert PERSON not in shown and "Private Person" not in shown
        scene.clock.current += timedelta(hours=1)  # past the cooldown
        views = len(scene.fake.views)
        # Refused before any form opens, and typed lines are refused too.
        reply = await scene.slack.command("/support-contact", "", user_id=PERSON)
        assert "paused requests from you" in texts(reply.json["blocks"])
        assert len(scene.fake.views) == views
        reply = await scene.slack.command("/support-contact", "anonymous Me again", user_id=PERSON)
        assert "paused requests from you" in texts(reply.json["blocks"])
        assert len(scene.inbox()) == 1  # nothing reached the moderators
        # Someone else still can.
        scene.fake.add_user("U0SOMEONE", name="Someone")
        answer = await scene.send("Hello", user="U0SOMEONE")
        assert "Request #2 sent" in view_text(answer)


async def test_a_restart_in_the_middle(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        await scene.send()
    dms_before = len(scene.dms())
    async with scene.haven():
        # The new Haven does not know who sent #1: the reply cannot be announced...
        result = await scene.moderator_reply("Are you still there?")
        assert "cannot tell them right now" in view_text(result)
        assert len(scene.dms()) == dms_before
        # ...but the person's key still opens it, with the reply, and they can answer back.
        posts = await scene.click(scene.key_message(), "Read replies", PERSON, DM)
        assert "Moderator: Are you still there?" in texts(posts[0]["blocks"])
        answered = await scene.person_answers("Yes, thank you")
        assert "Sent to the moderators" in view_text(answered)
        assert "Sender: Yes, thank you" in texts(scene.inbox()[-1]["blocks"])
        # Having shown their key, the person is reachable again until the next restart.
        result = await scene.moderator_reply("Good to hear")
        assert "told in a private message" in view_text(result)


async def test_a_long_thread_still_fits_the_one_inbox_message(scene: Scene) -> None:
    long = "word " * 297 + "end"  # with "reply N ", under the core's 1500 characters
    async with scene.haven():
        await scene.set_inbox()
        await scene.send(long)
        for round_ in range(9):
            result = await scene.moderator_reply(f"reply {round_} {long}")
            assert "Reply sent" in view_text(result)
        [request] = scene.inbox()
        shown = texts(request["blocks"])
        assert "reply 8 word" in shown  # the newest, the one to answer
        assert "reply 0 word" not in shown
        assert "earlier messages are not shown" in shown
        # Every redraw was accepted by Slack: none over its limits.
        assert len(scene.fake.calls_to("chat.update")) == 9
        # The person still reads the whole thread, over several private messages.
        posts = await scene.click(scene.key_message(), "Read replies", PERSON, DM)
        read = "\n".join(texts(post["blocks"]) for post in posts)
        assert all(f"reply {n} word" in read for n in range(9))


# ---- the entry points -----------------------------------------------------------------------


async def test_the_support_answer_offers_the_form_where_the_inbox_is_set(scene: Scene) -> None:
    async with scene.haven():
        reply = await scene.slack.command("/support", "", user_id=PERSON)
        assert "Talk to a moderator" not in buttons(reply.json["blocks"])
        await scene.set_inbox()
        reply = await scene.slack.command("/support", "", user_id=PERSON)
        action_id, value = buttons(reply.json["blocks"])["Talk to a moderator"]
        assert action_id.startswith("haven_contact_")
        url = scene.fake.new_response_url()
        clicked = await scene.slack.interactive(
            scene.fake.block_action(action_id, value, user_id=PERSON, response_url=url)
        )
        assert clicked.status == 200
        await scene.drain()
        assert scene.fake.views[-1]["callback_id"] == CONTACT_CALLBACK
        assert scene.fake.posts_to(url) == []  # the /support answer was left as it was


async def test_a_typed_request_answers_privately_and_sends_the_key_by_dm(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        reply = await scene.slack.command(
            "/support-contact", f"myself {TEXT}", user_id=PERSON, channel_id="C0PUBLIC"
        )
        assert reply.json["response_type"] == "ephemeral"
        assert "Request #1 sent" in texts(reply.json["blocks"])
        assert "Your key" in texts(scene.key_message()["blocks"])
        # As myself: the moderators see who wrote.
        assert f"(id {PERSON})" in texts(scene.inbox()[-1]["blocks"])
        assert "Block sender" not in buttons(scene.inbox()[-1]["blocks"])


async def test_a_check_in_shows_crisis_lines_and_alerts_the_inbox(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        await scene.send("first")  # the check-in is not offered yet: two choices
        assert len(scene.fake.views[-1]["blocks"][1]["element"]["options"]) == 2
        reply = await scene.slack.command(
            "/support-admin", "settings contact-struggling yes", user_id=ADMIN
        )
        assert "Check-in alerts on" in reply.text
        scene.clock.current += timedelta(hours=1)
        answer = await scene.send("", kind="struggling")
        options = scene.fake.views[-1]["blocks"][1]["element"]["options"]
        assert [o["value"] for o in options] == ["anonymous", "myself", "struggling"]
        assert scene.fake.views[-1]["blocks"][0]["optional"] is True
        shown = view_text(answer)
        assert "direct message" in shown and "Your key" not in shown
        assert "asked for a check-in" in texts(scene.inbox()[-1]["blocks"])
        # One click, from a button carrying the line: sent at once, the key by DM.
        scene.clock.current += timedelta(hours=1)
        url = scene.fake.new_response_url()
        await scene.slack.interactive(
            scene.fake.block_action(
                "haven_contact_2", "/support-contact struggling", user_id=PERSON, response_url=url
            )
        )
        await scene.drain()
        assert "Request #3" in texts(scene.inbox()[-1]["blocks"])
        assert "direct message" in texts(scene.fake.posts_to(url)[0]["blocks"])
        assert len([m for m in scene.dms() if "Read replies" in buttons(m["blocks"])]) == 3


async def test_the_key_is_shown_privately_when_no_dm_can_be_sent(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        scene.fake.fail("conversations.open", "cannot_dm_bot", times=5)
        answer = await scene.send()
        shown = view_text(answer)
        assert "Your key" in shown and "Keep this message" in shown
        assert scene.dms() == []


async def test_a_typed_request_follows_up_with_the_key_when_no_dm_can_be_sent(
    scene: Scene,
) -> None:
    async with scene.haven():
        await scene.set_inbox()
        scene.fake.fail("chat.postMessage", "cannot_dm_bot", match=lambda a: a["channel"] == DM)
        url = scene.fake.new_response_url()
        reply = await scene.slack.command(
            "/support-contact", f"anonymous {TEXT}", user_id=PERSON, response_url=url
        )
        assert "Request #1 sent" in texts(reply.json["blocks"])
        await scene.drain()
        [post] = scene.fake.posts_to(url)
        assert post["response_type"] == "ephemeral"
        assert "Your key" in texts(post["blocks"])
        assert "Read replies" in buttons(post["blocks"])


async def test_the_form_is_not_opened_before_an_inbox_is_set(scene: Scene) -> None:
    async with scene.haven():
        reply = await scene.slack.command("/support-contact", "", user_id=PERSON)
        assert "not set up a moderator inbox" in texts(reply.json["blocks"])
        assert scene.fake.views == []


async def test_an_empty_request_keeps_the_form_open_with_the_problem_under_the_text(
    scene: Scene,
) -> None:
    async with scene.haven():
        await scene.set_inbox()
        answer = await scene.send("   ")
        assert answer["response_action"] == "errors"
        assert "text" in answer["errors"]
        assert scene.inbox() == []


@pytest.mark.parametrize(
    ("channel", "problem"),
    [
        ({"is_private": False}, "public channel"),
        ({"is_private": True, "is_member": False}, "not a member"),
        ({"is_private": True, "is_archived": True}, "archived"),
    ],
)
async def test_the_inbox_must_be_a_private_channel_haven_is_in(
    scene: Scene, channel: dict[str, bool], problem: str
) -> None:
    scene.fake.add_channel("G0OTHER", "other", **channel)
    async with scene.haven():
        reply = await scene.slack.command(
            "/support-admin", "settings contact-inbox channel:<#G0OTHER|other>", user_id=ADMIN
        )
        assert problem in texts(reply.json["blocks"])
        assert "Nothing was changed" in texts(reply.json["blocks"])
        reply = await scene.slack.command("/support", "", user_id=PERSON)
        assert "Talk to a moderator" not in buttons(reply.json["blocks"])


async def test_a_member_cannot_use_the_inbox_buttons(scene: Scene) -> None:
    async with scene.haven():
        await scene.set_inbox()
        await scene.send()
        posts = await scene.click(scene.inbox()[-1], "Close", PERSON, INBOX)
        assert "Not permitted" in texts(posts[0]["blocks"])
        assert "Open" in texts(scene.inbox()[-1]["blocks"])


# ---- privacy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["WARNING", "INFO", "DEBUG"])
async def test_an_anonymous_senders_id_is_in_no_inbox_message_no_file_and_no_log(
    scene: Scene, level: str
) -> None:
    with haven_logging(level, platform_debug=False) as (stream, raw):
        async with scene.haven():
            await scene.set_inbox()
            await scene.send()
            await scene.moderator_reply("We hear you")
            await scene.person_answers("Thank you")
            await scene.click(scene.key_message(), "Read replies", PERSON, DM)
            # While Haven runs, the newest writes are in the -wal file.
            files = list(scene.tmp_path.glob("haven.db*"))
            assert any(path.name.endswith("-wal") for path in files)
            running = b"".join(path.read_bytes() for path in files)
    to_inbox = [
        call
        for call in scene.fake.calls
        if call.method in ("chat.postMessage", "chat.update") and call.args.get("channel") == INBOX
    ]
    assert len(to_inbox) >= 3
    sent = json.dumps([call.args for call in to_inbox])
    assert PERSON not in sent and "Private Person" not in sent
    assert PERSON not in json.dumps(scene.inbox())
    stored = running + b"".join(p.read_bytes() for p in scene.tmp_path.glob("haven.db*"))
    assert PERSON.encode() not in stored and b"Private Person" not in stored
    for logged in (stream.getvalue(), raw.text):
        assert PERSON not in logged
        assert TEXT not in logged and "Thank you" not in logged


# ---- Socket Mode, through run_slack ---------------------------------------------------------


async def test_over_socket_mode_run_slack_serves_the_contact_line(
    fake: FakeSlack, tmp_path: Path
) -> None:
    fake.add_user(PERSON, name="Private Person")
    fake.add_channel(INBOX, "mod-inbox", is_private=True)
    settings = slack_settings(tmp_path, fake, slack_mode="socket")
    async with open_services(settings, clock=FixedClock()) as services:
        task = asyncio.create_task(run_slack(services))
        try:
            await fake.wait_for_socket()
            saved = await fake.send_envelope(
                "slash_commands",
                fake.slash_command(
                    "/support-admin", f"settings contact-inbox channel:{INBOX_REF}", user_id=ADMIN
                ),
            )
            assert "Moderator inbox saved" in saved["payload"]["text"]
            await fake.send_envelope(
                "slash_commands", fake.slash_command("/support-contact", "", user_id=PERSON)
            )
            view = fake.views[-1]
            values = {
                "text": {"value": {"type": "plain_text_input", "value": TEXT}},
                "kind": {
                    "value": {"type": "radio_buttons", "selected_option": {"value": "anonymous"}}
                },
            }
            submitted = await fake.send_envelope(
                "interactive",
                fake.view_submission(
                    CONTACT_CALLBACK,
                    values,
                    private_metadata=view["private_metadata"],
                    user_id=PERSON,
                ),
            )
            assert submitted["payload"]["response_action"] == "update"
            assert "Request #1 sent" in texts(submitted["payload"]["view"]["blocks"])
            assert TEXT in texts(fake.messages_in(INBOX)[0]["blocks"])
            assert any("Your key" in texts(m["blocks"]) for m in fake.messages_in(DM))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# ---- many workspaces ------------------------------------------------------------------------


async def test_each_workspaces_inbox_and_dms_use_its_own_token(fake: FakeSlack) -> None:
    token_a, token_b = await _token(fake, "TA"), await _token(fake, "TB")
    fake.add_channel("GA", "mods-a", is_private=True, team_id="TA")
    fake.add_user("UB", team_id="TB")
    clients = InstalledWorkspaces(
        _Store({"TA": token_a, "TB": token_b}),
        lambda token: AsyncWebClient(token=token, base_url=fake.api_url),
    )
    contact = SlackContact(clients)
    card = Card(title="Request #1", body="hello")
    assert await contact.check_inbox("slack:TA", "GA") == "#mods-a"
    ts = await contact.post_inbox("slack:TA", "GA", card)
    await contact.edit_inbox("slack:TA", "GA", ts, Card(title="Request #1", body="closed"))
    assert [c.token for c in fake.calls_to("chat.update")] == [token_a]
    assert "closed" in texts(fake.messages_in("GA")[0]["blocks"])
    # Another workspace's token cannot see the first one's channel, nor is it used for it.
    with pytest.raises(PermanentPublishError, match="no such channel"):
        await contact.check_inbox("slack:TB", "GA")
    assert await contact.tell_person("slack:TB", "UB", card) is True
    assert fake.calls_to("conversations.open")[-1].token == token_b
    # A workspace Haven is not installed in: nothing delivered, and said so.
    assert await contact.tell_person("slack:TC", "UB", card) is False
    with pytest.raises(PermanentPublishError, match="not installed in this Slack workspace"):
        await contact.check_inbox("slack:TC", "GA")


async def test_a_person_whose_slack_is_in_portuguese_gets_the_form_and_answers_in_it(
    scene: Scene,
) -> None:
    scene.fake.add_user(PERSON, name="Private Person", locale="pt-BR")
    async with scene.haven():
        await scene.set_inbox()
        before = len(scene.fake.views)
        answer = await scene.send()
        form = scene.fake.views[before]
        assert form["title"]["text"] == "Falar com a moderação"
        assert form["submit"]["text"] == "Enviar"
        labels = [b["label"]["text"] for b in form["blocks"] if b["type"] == "input"]
        assert labels == [
            "O que você gostaria de contar para a equipe de moderação?",
            "A equipe de moderação pode saber quem você é?",
        ]
        shown = view_text(answer)
        assert "Pedido nº 1 enviado" in shown and "mensagem direta" in shown
        keep = [m for m in scene.dms() if "Ler respostas" in buttons(m["blocks"])][-1]
        assert set(buttons(keep["blocks"])) == {"Ler respostas", "Responder", "Encerrar", "Apagar"}
        # The moderators' inbox stays English.
        [request] = scene.inbox()
        assert set(buttons(request["blocks"])) == {"Reply", "Close", "Block sender"}
