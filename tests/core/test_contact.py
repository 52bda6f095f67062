"""The moderator contact line through the real core and storage, on both engines: requests,
replies, answering back, closing, deleting, blocking, the cooldown, the retention purge, the
check-in alert, the permission gate and bad input; and a restart in the middle."""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.cards import Card, CardTone
from bot.core.commands.router import CONTACT_BUTTON, CommandRouter
from bot.core.commands.settings import SettingsCommands
from bot.core.contact.commands import ContactCommands
from bot.core.contact.service import ContactService
from bot.core.models import Actor, Platform, RequestContext
from bot.core.scheduling.publishing import PermanentPublishError
from bot.core.support_selection import CRISIS_TOPIC
from bot.logging import HAVEN_LOGGERS, PLATFORM_LOGGERS, configure_logging
from bot.settings import load_settings
from bot.storage.contact_key import NEEDS_KEY
from bot.storage.contact_store import SqlContactStore
from bot.storage.repositories import SqlCommunityRepository
from tests.conftest import stored_bytes
from tests.core.conftest import MEMBER, MODERATOR, Stack

SENDER = Actor(id="sender-31337-unique", display_name="Sender Person")
OTHER = Actor(id="other-4444", display_name="Someone Else")
KEY = b"k" * 32


@dataclass
class Inbox:
    """The console's part recorded: what went to the inbox and what the person was told."""

    platform: Platform = Platform.CONSOLE
    posted: list[tuple[str, Card]] = field(default_factory=list)
    edits: dict[str, Card] = field(default_factory=dict)
    told: list[tuple[str, Card]] = field(default_factory=list)
    refuse_channel: bool = False
    failing: bool = False
    dms_closed: bool = False

    async def check_inbox(self, community_id: str, channel_id: str) -> str:
        if self.refuse_channel:
            raise PermanentPublishError("Haven is missing the Send Messages permission there")
        return f"#{channel_id}"

    async def post_inbox(self, community_id: str, channel_id: str, card: Card) -> str:
        if self.failing:
            raise OSError("unreachable")
        self.posted.append((channel_id, card))
        return f"m{len(self.posted)}"

    async def edit_inbox(
        self, community_id: str, channel_id: str, message_id: str, card: Card
    ) -> None:
        self.edits[message_id] = card

    async def tell_person(self, community_id: str, user_id: str, card: Card) -> bool:
        if self.dms_closed:
            return False
        self.told.append((user_id, card))
        return True

    def latest(self, message_id: str = "m1") -> Card:
        return self.edits.get(message_id) or self.posted[int(message_id[1:]) - 1][1]


@dataclass
class Line:
    stack: Stack
    inbox: Inbox
    router: CommandRouter
    service: ContactService

    async def say(self, line: str, actor: Actor = SENDER) -> Card:
        return await self.router.run_text(self.stack.ctx(actor), line)

    async def mod(self, line: str, actor: Actor = MODERATOR) -> Card:
        card = await self.router.run_text(self.stack.ctx(actor), line)
        return card

    async def send(
        self,
        text: str = "I am being harassed in DMs",
        kind: str = "anonymous",
        actor: Actor = SENDER,
    ) -> str:
        answer = await self.router.contact(self.stack.ctx(actor), f"/support-contact {kind} {text}")
        assert answer.keep is not None, answer.shown
        return dict(answer.keep.fields)["Your key"]


def build(stack: Stack, inbox: Inbox, *, key: bytes | None = KEY, unavailable: str = "") -> Line:
    async def crisis(ctx: RequestContext) -> Card:
        return await stack.support.reply(ctx, CRISIS_TOPIC, None)

    communities = SqlCommunityRepository(stack.db)
    service = ContactService(
        SqlContactStore(stack.db),
        communities,
        {Platform.CONSOLE: inbox},
        stack.clock,
        crisis,
        block_key=key,
        cooldown=timedelta(minutes=10),
        unavailable=unavailable,
    )
    contact = ContactCommands(service)
    router = CommandRouter(
        stack.support,
        stack.communities,
        [
            SettingsCommands(
                stack.communities, {}, contact.settings_verbs, contact.settings_fields
            ).table,
            contact.table,
        ],
        clock=stack.clock,
        refusals=communities,
        contact=contact,
    )
    return Line(stack, inbox, router, service)


@pytest.fixture
async def line(stack: Stack) -> Line:
    made = build(stack, Inbox())
    card = await made.mod("/support-admin settings contact-inbox channel:#mod-inbox")
    assert card.tone is CardTone.SUCCESS, card
    return made


async def test_an_anonymous_request_reaches_the_inbox_naming_nobody(line: Line) -> None:
    answer = await line.router.contact(
        line.stack.ctx(SENDER), "/support-contact anonymous I am being harassed in DMs"
    )
    assert answer.shown.title == "Request #1 sent"
    assert answer.keep is not None and answer.keep.title.startswith("Your request #1")
    key = dict(answer.keep.fields)["Your key"]
    assert len(key) >= 22
    assert [a.value for a in answer.keep.actions][:2] == [
        f"/support-contact open {key}",
        f"/support-contact answer {key}",
    ]
    ((channel, card),) = line.inbox.posted
    assert channel == "mod-inbox" and card.title == "Request #1"
    assert card.body == "I am being harassed in DMs"
    assert dict(card.fields)["From"].startswith("Anonymous")
    assert [a.label for a in card.actions] == ["Reply", "Close", "Block sender"]
    assert SENDER.id not in card.plain_text() and SENDER.display_name not in card.plain_text()
    rows = await line.stack.db.fetch_all("SELECT * FROM contact_requests")
    assert SENDER.id not in repr([tuple(r) for r in rows])
    assert key not in repr([tuple(r) for r in rows])  # only its hash
    # Numbers count per community.
    line.stack.clock.current += timedelta(minutes=11)
    assert (
        await line.router.contact(line.stack.ctx(SENDER), "/support-contact anonymous again")
    ).shown.title == "Request #2 sent"


async def test_reply_answer_back_and_close(line: Line) -> None:
    key = await line.send()
    reply = await line.mod("/support-admin contact reply 1 Thank you for telling us. Who is it?")
    assert reply.title == "Reply sent to request #1"
    assert "private message" in reply.body
    ((told_to, notice),) = line.inbox.told
    assert told_to == SENDER.id and "Who is it?" in notice.body
    assert "Moderator Mod One: Thank you" in line.inbox.latest().plain_text()

    view = await line.say(f"/support-contact open {key}")
    assert view.lines == ("Moderator: Thank you for telling us. Who is it?",)
    back = await line.say(f"/support-contact answer {key} Someone called X, since Monday")
    assert back.lines[-1] == "You: Someone called X, since Monday"
    assert "Sender: Someone called X" in line.inbox.latest().plain_text()

    closed = await line.mod("/support-admin contact close 1")
    assert closed.title == "Request #1 closed"
    assert dict(line.inbox.latest().fields)["Status"] == "Closed"
    assert line.inbox.latest().actions == ()
    assert line.inbox.told[-1][1].title.endswith("closed by a moderator")
    # Still readable by the person; no more answers.
    assert (await line.say(f"/support-contact open {key}")).title == "Your request #1 (closed)"
    refused = await line.say(f"/support-contact answer {key} one more")
    assert refused.tone is CardTone.ERROR and "closed" in refused.body
    # Audited: who did what, never the sender.
    audit = await line.mod("/support-admin contact audit")
    assert any("reply #1" in x for x in audit.lines) and any("close #1" in x for x in audit.lines)
    rows = await line.stack.db.fetch_all("SELECT * FROM contact_audit")
    assert SENDER.id not in repr([tuple(r) for r in rows])


async def test_the_person_closes_or_deletes_their_request(line: Line) -> None:
    key = await line.send("first")
    assert (await line.say(f"/support-contact close {key}")).title == "Request #1 closed"
    line.stack.clock.current += timedelta(minutes=11)
    second = await line.send("please forget this")
    await line.say(f"/support-contact answer {second} and this")
    asked = await line.say(f"/support-contact delete {second}")
    assert asked.title == "Delete request #2 for good?"
    assert [a.value for a in asked.actions] == [
        f"/support-contact erase {second}",
        f"/support-contact open {second}",
    ]
    assert "please forget this" in line.inbox.latest("m2").body  # nothing deleted yet
    deleted = await line.say(f"/support-contact erase {second}")
    assert deleted.title == "Request #2 deleted"
    inbox = line.inbox.latest("m2")
    assert "Deleted by the sender" in inbox.body and inbox.actions == ()
    assert "forget" not in inbox.plain_text()
    row = await line.stack.db.fetch_one(
        "SELECT text, token_hash, status FROM contact_requests WHERE number = 2"
    )
    assert row is not None and tuple(row) == ("", None, "deleted")
    assert await line.stack.db.fetch_all("SELECT * FROM contact_lines WHERE number = 2") == []
    gone = await line.say(f"/support-contact open {second}")
    assert gone.tone is CardTone.ERROR and "no longer here" in gone.body
    # A moderator cannot act on it either.
    refused = await line.mod("/support-admin contact reply 2 hello?")
    assert refused.tone is CardTone.ERROR and "no request #2" in refused.body


async def test_as_myself_shows_the_sender(line: Line) -> None:
    await line.send("please act on the harassment", kind="myself")
    card = line.inbox.posted[0][1]
    assert dict(card.fields)["From"] == f"Sender Person (id {SENDER.id})"
    assert [a.label for a in card.actions] == ["Reply", "Close"]  # no block: they are known
    refused = await line.mod("/support-admin contact block 1")
    assert refused.tone is CardTone.ERROR and "as themselves" in refused.body


async def test_block_stops_new_requests_without_naming_anyone(line: Line) -> None:
    await line.send()
    blocked = await line.mod("/support-admin contact block 1")
    assert blocked.tone is CardTone.SUCCESS, blocked
    (row,) = await line.stack.db.fetch_all("SELECT tag, until FROM contact_blocks")
    assert SENDER.id not in row["tag"] and len(row["tag"]) == 64
    line.stack.clock.current += timedelta(minutes=11)
    again = await line.say("/support-contact anonymous hello again")
    assert again.tone is CardTone.ERROR and "paused requests from you" in again.body
    assert len(line.inbox.posted) == 1
    # Someone else is not blocked.
    other = await line.say("/support-contact anonymous I need help", actor=OTHER)
    assert other.tone is CardTone.SUCCESS
    # Blocks end, and the purge removes them.
    line.stack.clock.current += timedelta(days=31)
    later = await line.say("/support-contact anonymous after a month")
    assert later.tone is CardTone.SUCCESS, later
    await line.service.purge_expired()
    assert await line.stack.db.fetch_all("SELECT * FROM contact_blocks") == []


async def test_cooldown_per_person_without_an_identity(line: Line) -> None:
    await line.send()
    soon = await line.say("/support-contact anonymous one more")
    assert soon.tone is CardTone.ERROR and "about 10 minutes" in soon.body
    assert (await line.say("/support-contact anonymous mine", actor=OTHER)).tone is CardTone.SUCCESS
    line.stack.clock.current += timedelta(minutes=10, seconds=1)
    assert (await line.say("/support-contact anonymous now")).tone is CardTone.SUCCESS
    # The inbox failing gives the person their turn back (nothing was sent).
    line.inbox.failing = True
    line.stack.clock.current += timedelta(minutes=11)
    failed = await line.say("/support-contact anonymous lost")
    assert failed.tone is CardTone.ERROR and "nothing was kept" in failed.body
    line.inbox.failing = False
    assert (await line.say("/support-contact anonymous retry")).tone is CardTone.SUCCESS


async def test_retention_purges_closed_requests_after_the_period(line: Line) -> None:
    key = await line.send("kept while open")
    await line.mod("/support-admin contact reply 1 noted")
    line.stack.clock.current += timedelta(days=90)
    await line.service.purge_expired()
    assert (await line.say(f"/support-contact open {key}")).title == "Your request #1"
    await line.mod("/support-admin contact close 1")
    line.stack.clock.current += timedelta(days=29)
    assert await line.service.purge_expired() == 0
    line.stack.clock.current += timedelta(days=1)
    assert await line.service.purge_expired() == 1
    assert await line.stack.db.fetch_all("SELECT * FROM contact_requests") == []
    assert await line.stack.db.fetch_all("SELECT * FROM contact_lines") == []
    # Numbers are not reused after a purge.
    line.stack.clock.current += timedelta(minutes=11)
    assert (await line.say("/support-contact anonymous new")).title.startswith("Your request #2")


async def test_struggling_alert_shows_crisis_resources_at_once(line: Line) -> None:
    off = await line.say("/support-contact struggling")
    assert off.tone is CardTone.ERROR and "check-in" in off.body
    await line.mod("/support-admin settings contact-struggling yes")
    answer = await line.router.contact(line.stack.ctx(SENDER), "/support-contact struggling")
    assert answer.shown.tone is CardTone.SUPPORT and answer.shown.resources
    assert answer.keep is not None
    card = line.inbox.posted[-1][1]
    assert card.title == "Request #1: someone asked for a check-in"
    assert "(no text" in card.body
    # Too soon: still the crisis resources, with why no alert went.
    again = await line.router.contact(line.stack.ctx(SENDER), "/support-contact struggling")
    assert again.shown.resources and again.keep is None and "moment ago" in again.shown.footer


async def test_support_answers_offer_the_contact_button_only_with_an_inbox(
    stack: Stack,
) -> None:
    made = build(stack, Inbox())
    before = await made.router.support(stack.ctx(MEMBER), "general", None)
    assert CONTACT_BUTTON not in [a.label for a in before.actions]
    await made.mod("/support-admin settings contact-inbox channel:#mod-inbox")
    after = await made.router.support(stack.ctx(MEMBER), "general", None)
    assert ("Talk to a moderator", "/support-contact") in [
        (a.label, a.value) for a in after.actions
    ]


async def test_moderator_actions_go_through_the_gate(line: Line) -> None:
    await line.send()
    for command in (
        "/support-admin contact reply 1 hi",
        "/support-admin contact close 1",
        "/support-admin contact block 1",
        "/support-admin contact list",
        "/support-admin settings contact-inbox channel:#elsewhere",
    ):
        card = await line.mod(command, actor=MEMBER)
        assert card.title == "Not permitted", command
    assert line.inbox.edits == {} and line.inbox.told == []
    # Refusals are audited by command, never by what was typed.
    rows = await line.stack.db.fetch_all("SELECT action, item_key FROM audit_log")
    assert ("refused", "contact reply") in [tuple(r) for r in rows]
    assert "hi" not in repr([tuple(r) for r in rows]).replace("'", " ").split()


async def test_bad_input_is_explained(line: Line) -> None:
    empty = await line.say("/support-contact anonymous")
    assert empty.tone is CardTone.ERROR and "text: must not be empty" in empty.body
    long = await line.say("/support-contact anonymous " + "x" * 1501)
    assert "the limit is 1500" in long.body
    unknown = await line.say("/support-contact shout hello")
    assert "does not know 'shout'" in unknown.body
    nokey = await line.say("/support-contact open")
    assert "needs the key" in nokey.body
    wrong = await line.say("/support-contact open not-a-real-key")
    assert "no longer here" in wrong.body
    missing = await line.mod("/support-admin contact reply 99 hello")
    assert "no request #99" in missing.body
    line.inbox.refuse_channel = True
    refused = await line.mod("/support-admin settings contact-inbox channel:#public")
    assert refused.tone is CardTone.ERROR and "Send Messages" in refused.body


async def test_no_inbox_says_how_to_set_one(stack: Stack) -> None:
    made = build(stack, Inbox())
    card = await made.say("/support-contact anonymous hello")
    assert "not set up a moderator inbox" in card.body
    assert "/support-admin settings contact-inbox" in card.footer


async def test_a_restart_keeps_the_key_working_and_forgets_the_sender(line: Line) -> None:
    key = await line.send()
    # A new process on the same database: nothing in memory.
    restarted = build(line.stack, line.inbox)
    reply = await restarted.mod("/support-admin contact reply 1 Are you safe?")
    assert "next open their request" in reply.body
    assert line.inbox.told == []  # nobody to tell: Haven does not know who it was
    block = await restarted.mod("/support-admin contact block 1")
    assert block.tone is CardTone.ERROR and "Nobody can tell who sent request #1" in block.body
    # The person's key still works, and presenting it lets Haven tell them again.
    view = await restarted.say(f"/support-contact open {key}")
    assert view.lines == ("Moderator: Are you safe?",)
    await restarted.mod("/support-admin contact reply 1 We are here.")
    assert line.inbox.told[-1][0] == SENDER.id


async def test_nothing_about_the_sender_is_stored(
    line: Line, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # An id and name of this test's own: the PostgreSQL server (one per test worker) also
    # holds other tests' databases, where an "as myself" request rightly stores its sender.
    tag = secrets.token_hex(6)
    sender = Actor(id=f"sender-{tag}", display_name=f"Sender {tag}")
    key = await line.send("a private thing", actor=sender)
    await line.mod("/support-admin contact reply 1 reply")
    await line.say(f"/support-contact answer {key} answer back", sender)
    await line.mod("/support-admin contact block 1")
    stored = await stored_bytes(line.stack.db, request, tmp_path)
    assert sender.id.encode() not in stored
    assert sender.display_name.encode() not in stored
    assert key.encode() not in stored


@pytest.mark.sqlite_only
async def test_deleted_text_leaves_the_sqlite_file_and_its_wal(line: Line, tmp_path: Path) -> None:
    key = await line.send("please forget this unique-9931")
    await line.say(f"/support-contact answer {key} and this unique-4417")
    before = b"".join(p.read_bytes() for p in tmp_path.glob("haven.db*"))
    assert b"unique-9931" in before and b"unique-4417" in before
    await line.say(f"/support-contact erase {key}")
    after = b"".join(p.read_bytes() for p in tmp_path.glob("haven.db*"))
    assert b"unique-9931" not in after and b"unique-4417" not in after


async def test_no_row_of_any_table_holds_the_sender(line: Line) -> None:
    key = await line.send("rows")
    await line.mod("/support-admin contact reply 1 r")
    await line.say(f"/support-contact answer {key} a")
    await line.mod("/support-admin contact block 1")
    for table in await line.stack.db.table_names():
        rows = await line.stack.db.fetch_all(f"SELECT * FROM {table}")
        dumped = repr([tuple(r) for r in rows])
        assert SENDER.id not in dumped and SENDER.display_name not in dumped, table
        assert key not in dumped, table


async def test_nothing_about_the_sender_is_logged_at_debug(
    line: Line, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Haven's own logging at DEBUG, as an operator would configure it (the platform
    and database libraries stay at WARNING: aiosqlite's DEBUG lines quote every parameter)."""
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    names = ("", *HAVEN_LOGGERS, *PLATFORM_LOGGERS)
    saved = {name: logging.getLogger(name).level for name in names}
    handlers = list(root.handlers)
    stream = io.StringIO()
    try:
        configure_logging(load_settings({"HAVEN_LOG_LEVEL": "DEBUG"}, env_file=None), stream)
        line.inbox.failing = True
        await line.say("/support-contact anonymous this fails unique-5150")
        line.inbox.failing = False
        key = await line.send("logged? unique-6160")
        line.inbox.dms_closed = True
        await line.mod("/support-admin contact reply 1 hello")
        await line.say(f"/support-contact answer {key} back unique-7170")
        await line.mod("/support-admin contact close 1")
        await line.say(f"/support-contact erase {key}")
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    text = stream.getvalue()
    assert "Could not post a request to a moderator inbox (OSError)" in text
    for secret in (
        SENDER.id,
        SENDER.display_name,
        key,
        "unique-5150",
        "unique-6160",
        "unique-7170",
    ):
        assert secret not in text


async def test_help_names_the_contact_lines(line: Line) -> None:
    card = await line.say("help")
    assert any(x.startswith("/support-contact anonymous <text>") for x in card.lines)
    first = await line.say("/support-contact")
    assert [a.value for a in first.actions] == [
        "/support-contact anonymous",
        "/support-contact myself",
    ]


async def test_a_thread_holds_at_most_forty_lines(line: Line) -> None:
    key = await line.send("long one")
    for n in range(20):
        await line.mod(f"/support-admin contact reply 1 r{n}")
        await line.say(f"/support-contact answer {key} a{n}")
    full = await line.say(f"/support-contact answer {key} one more")
    assert full.tone is CardTone.ERROR and "the most one request holds" in full.body
    assert "the most one request holds" in (await line.mod("/support-admin contact reply 1 x")).body
    # The inbox shows the newest lines and counts the rest.
    inbox = line.inbox.latest()
    assert inbox.lines[0] == "… 32 earlier messages" and inbox.lines[-1] == "Sender: a19"


async def test_without_a_key_on_postgresql_the_line_is_off_and_says_why(stack: Stack) -> None:
    made = build(stack, Inbox(), key=None, unavailable=NEEDS_KEY)
    await made.mod("/support-admin settings contact-inbox channel:#mod-inbox")
    card = await made.say("/support-contact anonymous hello")
    assert card.tone is CardTone.ERROR and "HAVEN_CONTACT_KEY" in card.footer
    answer = await made.router.support(stack.ctx(MEMBER), "general", None)
    assert CONTACT_BUTTON not in [a.label for a in answer.actions]


@pytest.mark.sqlite_only
async def test_purged_text_leaves_the_sqlite_file_and_its_wal(line: Line, tmp_path: Path) -> None:
    await line.send("purge this unique-5521")
    await line.mod("/support-admin contact reply 1 and this unique-6632")
    await line.mod("/support-admin contact close 1")
    before = b"".join(p.read_bytes() for p in tmp_path.glob("haven.db*"))
    assert b"unique-5521" in before and b"unique-6632" in before
    line.stack.clock.current += timedelta(days=31)
    assert await line.service.purge_expired() == 1
    after = b"".join(p.read_bytes() for p in tmp_path.glob("haven.db*"))
    assert b"unique-5521" not in after and b"unique-6632" not in after


async def test_settings_show_says_where_requests_go(line: Line) -> None:
    shown = dict((await line.mod("/support-admin settings show")).fields)
    assert shown["Check-ins"] == "off"
    await line.mod("/support-admin settings contact-struggling yes")
    shown = dict((await line.mod("/support-admin settings show")).fields)
    assert shown["Moderator inbox"] not in ("", "none (the contact line is off)")
    assert shown["Check-ins"] == "offered"
    await line.mod("/support-admin settings contact-inbox channel:none")
    shown = dict((await line.mod("/support-admin settings show")).fields)
    assert shown["Moderator inbox"] == "none (the contact line is off)"
