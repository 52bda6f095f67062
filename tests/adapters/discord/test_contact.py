"""The contact line on Discord: the real discord.py client against the emulator, from
`/support-contact` to the moderators' inbox and back to the person's DM; with DMs closed;
and across a restart of Haven on the same database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.contact import DiscordContact
from bot.adapters.discord.context import community_id_for_guild
from bot.core.scheduling.publishing import PermanentPublishError
from bot.services import Services
from tests.adapters.discord.conftest import (
    MANAGE_GUILD,
    LogGuard,
    components,
    eventually,
    start_client,
    stop_client,
)
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord, InteractionHandle

SENDER_ID = "912345678912345678"
SENDER_NAME = "robin-contact-5521"


def _button(message: dict[str, Any], prefix: str) -> dict[str, Any]:
    for found in components(message):
        if found.get("custom_id", "").startswith(prefix):
            return found
    raise AssertionError(f"no {prefix} button in {components(message)}")


def _embed_text(message: dict[str, Any]) -> str:
    embed = message["embeds"][0]
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


async def _set_inbox(fake: FakeDiscord, guild: dict[str, Any], name: str = "resources") -> str:
    channel = fake.channel_id(guild, name)
    handle = await fake.dispatch_command(
        "support-admin settings contact-inbox",
        {"channel": channel},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    body = await handle.response()
    assert body["data"]["embeds"][0]["title"] == "Moderator inbox saved", body
    return channel


async def _send_request(
    fake: FakeDiscord,
    guild: dict[str, Any],
    user: dict[str, Any],
    text: str,
    kind: str = "anonymous",
) -> InteractionHandle:
    opened = await fake.dispatch_command("support-contact", {"as": kind}, guild=guild, user=user)
    body = await opened.response()
    assert body["type"] == 9, body  # a modal
    submitted = await fake.submit_modal(opened, {"text": text}, guild=guild, user=user)
    await submitted.response()  # deferred, private
    await submitted.followup()
    return submitted


async def _moderator_press(
    fake: FakeDiscord, guild: dict[str, Any], message: dict[str, Any], prefix: str
) -> InteractionHandle:
    pressed = await fake.dispatch_component(
        message, _button(message, prefix)["custom_id"], guild=guild, member_permissions=MANAGE_GUILD
    )
    return pressed


async def test_anonymous_request_reply_answer_close_and_delete(
    fake: FakeDiscord, haven: HavenBot, services: Services, guild: dict[str, Any]
) -> None:
    inbox = await _set_inbox(fake, guild)
    sender = fake.make_user(SENDER_NAME, SENDER_ID)
    submitted = await _send_request(fake, guild, sender, "Someone keeps messaging me")
    first = await submitted.followup()
    assert first["flags"] & EPHEMERAL and "Request #1 sent" in _embed_text(first)

    # The inbox: "Request #1", the text, nobody named, three buttons.
    (posted,) = fake.messages[inbox]
    text = _embed_text(posted)
    assert "Request #1" in text and "Someone keeps messaging me" in text
    assert "Anonymous" in text and SENDER_ID not in str(posted) and SENDER_NAME not in str(posted)
    labels = [c["label"] for c in components(posted) if c.get("custom_id")]
    assert labels == ["Reply", "Close", "Block sender"]

    # The person's DM: the request's buttons, carrying the key.
    (dm,) = fake.dm_messages(SENDER_ID)
    assert "Your request #1 reached the moderators" in _embed_text(dm)
    read = _button(dm, "haven:contact:open:")
    key = read["custom_id"].rsplit(":", 1)[1]
    assert len(key) >= 22

    # A moderator replies with the Reply button's form.
    pressed = await _moderator_press(fake, guild, posted, "haven:cmod:reply:")
    assert (await pressed.response())["type"] == 9
    replied = await fake.submit_modal(
        pressed, {"text": "We hear you. Who is it?"}, guild=guild, member_permissions=MANAGE_GUILD
    )
    answer = await replied.response()
    assert answer["data"]["flags"] & EPHEMERAL
    assert "Reply sent to request #1" in answer["data"]["embeds"][0]["title"]
    await eventually(lambda: len(fake.dm_messages(SENDER_ID)) == 2)
    assert "We hear you" in _embed_text(fake.dm_messages(SENDER_ID)[1])
    assert "We hear you" in _embed_text(fake.messages[inbox][0])  # the inbox was edited

    # The person answers back from their DM (no server in a DM interaction).
    answer_button = _button(dm, "haven:contact:answer:")
    opened = await fake.dispatch_component(dm, answer_button["custom_id"], user=sender)
    assert (await opened.response())["type"] == 9
    back = await fake.submit_modal(opened, {"text": "A member called X"}, user=sender)
    view = await back.response()
    assert "You: A member called X" in _embed_text(
        view["data"] | {"embeds": view["data"]["embeds"]}
    )
    assert "Sender: A member called X" in _embed_text(fake.messages[inbox][0])

    # A moderator closes it: the inbox shows it closed, without buttons.
    closing = await _moderator_press(fake, guild, fake.messages[inbox][0], "haven:cmod:close:")
    closed = await closing.response()
    assert closed["data"]["flags"] & EPHEMERAL
    assert closed["data"]["embeds"][0]["title"] == "Request #1 closed"
    assert "Status: Closed" in _embed_text(fake.messages[inbox][0])
    assert not [c for c in components(fake.messages[inbox][0]) if c.get("custom_id")]

    # The person deletes it: the inbox says so, the text is gone everywhere Haven keeps it.
    delete = _button(dm, "haven:contact:delete:")
    asked = await fake.dispatch_component(dm, delete["custom_id"], user=sender)
    confirm = await asked.response()
    assert confirm["data"]["embeds"][0]["title"] == "Delete request #1 for good?"
    assert "Someone keeps" in _embed_text(fake.messages[inbox][0])  # asked first
    question = {"components": confirm["data"]["components"]}
    erase = _button(question, "haven:contact:erase:")
    deleted = await fake.dispatch_component(question, erase["custom_id"], user=sender)
    body = await deleted.response()
    assert body["data"]["embeds"][0]["title"] == "Request #1 deleted"
    assert "Deleted by the sender" in _embed_text(fake.messages[inbox][0])
    assert "Someone keeps" not in _embed_text(fake.messages[inbox][0])
    rows = await services.db.fetch_all("SELECT text FROM contact_requests")
    assert [r["text"] for r in rows] == [""]


async def test_the_support_answer_offers_talk_to_a_moderator(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    await _set_inbox(fake, guild)
    answer = await fake.dispatch_command("support", {"topic": "general"}, guild=guild)
    await answer.response()
    assert answer.message is not None
    talk = _button(answer.message, "haven:contact:start")
    assert talk["label"] == "Talk to a moderator"
    pressed = await fake.dispatch_component(answer.message, talk["custom_id"], guild=guild)
    body = await pressed.response()
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL  # the /support answer stays
    choose = {"components": body["data"]["components"], "channel_id": answer.message["channel_id"]}
    labels = [c["label"] for c in components(choose)]
    assert labels[:2] == ["Write anonymously", "Write as myself"]
    write = await fake.dispatch_component(
        choose, _button(choose, "haven:contact:anonymous")["custom_id"], guild=guild
    )
    assert (await write.response())["type"] == 9


async def test_dms_closed_shows_the_key_once_privately(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    inbox = await _set_inbox(fake, guild)
    sender = fake.make_user(SENDER_NAME, SENDER_ID)
    fake.dms_closed.add(SENDER_ID)
    submitted = await _send_request(fake, guild, sender, "hello")
    assert len(fake.messages[inbox]) == 1
    said = await submitted.followup(1)
    assert said["flags"] & EPHEMERAL and "DMs are closed" in said["content"]
    keep = await submitted.followup(2)
    assert keep["flags"] & EPHEMERAL and "Your key" in _embed_text(keep)
    assert _button(keep, "haven:contact:open:")


async def test_block_and_a_restart_in_the_middle(
    fake: FakeDiscord, services: Services, guild: dict[str, Any], tmp_path: Path
) -> None:
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=1.0)
    task = await start_client(bot)
    try:
        inbox = await _set_inbox(fake, guild)
        sender = fake.make_user(SENDER_NAME, SENDER_ID)
        await _send_request(fake, guild, sender, "first")
        first = fake.messages[inbox][0]
        blocking = await _moderator_press(fake, guild, first, "haven:cmod:block:")
        blocked = await blocking.response()
        assert "is blocked until" in blocked["data"]["embeds"][0]["title"]
        # Told before any form opens: nobody types a text only to be refused.
        again = await fake.dispatch_command(
            "support-contact", {"as": "anonymous"}, guild=guild, user=sender
        )
        said = await again.response()
        assert said["type"] == 4 and "paused requests from you" in _embed_text(said["data"])
        assert len(fake.messages[inbox]) == 1
        # Someone else writes; then Haven restarts.
        other = fake.make_user("other-person", "933333333333333333")
        await _send_request(fake, guild, other, "please help")
        second = fake.messages[inbox][1]
    finally:
        await stop_client(bot, task)

    from bot.app import open_services

    async with open_services(services.settings) as reopened:
        bot = HavenBot(reopened, guild_ready_timeout=0.05, publish_timeout=1.0)
        task = await start_client(bot)
        try:
            # Nobody can tell who sent #2 any more: no block, and the reply waits for them.
            blocking = await _moderator_press(fake, guild, second, "haven:cmod:block:")
            body = await blocking.response()
            assert "Nobody can tell who sent request #2" in body["data"]["embeds"][0]["description"]
            pressed = await _moderator_press(fake, guild, second, "haven:cmod:reply:")
            await pressed.response()
            replied = await fake.submit_modal(
                pressed, {"text": "Are you safe?"}, guild=guild, member_permissions=MANAGE_GUILD
            )
            told = await replied.response()
            assert "next open their request" in told["data"]["embeds"][0]["description"]
            assert len(fake.dm_messages("933333333333333333")) == 1  # only the key's DM
            # The person's DM button from before the restart still works.
            (dm,) = fake.dm_messages("933333333333333333")
            read = await fake.dispatch_component(
                dm, _button(dm, "haven:contact:open:")["custom_id"], user=other
            )
            view = await read.response()
            assert "Moderator: Are you safe?" in _embed_text(view["data"])
        finally:
            await stop_client(bot, task)


async def test_a_known_user_id_is_nowhere_haven_keeps_or_posts(
    fake: FakeDiscord,
    haven: HavenBot,
    services: Services,
    guild: dict[str, Any],
    log_guard: LogGuard,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in ("bot", "cogs"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    inbox = await _set_inbox(fake, guild)
    sender = fake.make_user(SENDER_NAME, SENDER_ID)
    await _send_request(fake, guild, sender, "a private thing")
    (dm,) = fake.dm_messages(SENDER_ID)
    pressed = await _moderator_press(fake, guild, fake.messages[inbox][0], "haven:cmod:reply:")
    await pressed.response()
    replied = await fake.submit_modal(
        pressed, {"text": "reply"}, guild=guild, member_permissions=MANAGE_GUILD
    )
    await replied.response()
    opened = await fake.dispatch_component(
        dm, _button(dm, "haven:contact:answer:")["custom_id"], user=sender
    )
    await opened.response()
    back = await fake.submit_modal(opened, {"text": "answer back"}, user=sender)
    await back.response()
    blocking = await _moderator_press(fake, guild, fake.messages[inbox][0], "haven:cmod:block:")
    await blocking.response()
    await services.support.flush()

    for message in fake.messages[inbox]:
        assert SENDER_ID not in str(message) and SENDER_NAME not in str(message)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("haven.db*") if p.is_file())
    # Nor when it was sent: the inbox message's id (a snowflake holds its time) is sealed.
    assert fake.messages[inbox][0]["id"].encode() not in stored
    assert SENDER_ID.encode() not in stored and SENDER_NAME.encode() not in stored
    assert SENDER_ID not in log_guard.text() and SENDER_NAME not in log_guard.text()
    assert "a private thing" not in log_guard.text() and "answer back" not in log_guard.text()


async def test_im_struggling_is_one_click_with_crisis_lines_at_once(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    inbox = await _set_inbox(fake, guild)
    on = await fake.dispatch_command(
        "support-admin settings contact-struggling",
        {"allow": "yes"},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    await on.response()
    sender = fake.make_user(SENDER_NAME, SENDER_ID)
    opened = await fake.dispatch_command("support-contact", guild=guild, user=sender)
    body = await opened.response()
    choose = {"components": body["data"]["components"]}
    struggling = _button(choose, "haven:contact:struggling")
    assert struggling["label"] == "I'm struggling right now"
    pressed = await fake.dispatch_component(
        choose, struggling["custom_id"], guild=guild, user=sender
    )
    await pressed.response()  # deferred
    shown = await pressed.followup()
    assert shown["flags"] & EPHEMERAL
    # The crisis answer, at once, whatever the moderators do next.
    assert "immediate danger" in shown["embeds"][0]["description"]
    assert any("findahelpline.com" in f["value"] for f in shown["embeds"][0]["fields"])
    assert "Your request #1" in _embed_text(fake.dm_messages(SENDER_ID)[0])
    (alert,) = fake.messages[inbox]
    assert "someone asked for a check-in" in _embed_text(alert)
    assert SENDER_ID not in str(alert)


async def test_the_inbox_must_be_a_channel_haven_can_post_in_this_server(
    fake: FakeDiscord, services: Services, guild: dict[str, Any]
) -> None:
    readonly = fake.make_guild("Read only", bot_permissions=(1 << 10) | (1 << 11))
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=1.0)
    task = await start_client(bot)
    try:
        refused = await fake.dispatch_command(
            "support-admin settings contact-inbox",
            {"channel": fake.channel_id(readonly)},
            guild=readonly,
            member_permissions=MANAGE_GUILD,
        )
        body = (await refused.response())["data"]["embeds"][0]
        assert "cannot use" in body["description"] and "Embed Links" in body["description"]
        # Another server's channel id is refused by the port itself (Discord's channel
        # picker offers only this server's channels; the check does not rely on it).
        with pytest.raises(PermanentPublishError, match="not a text channel of this server"):
            await DiscordContact(bot).check_inbox(
                community_id_for_guild(int(readonly["id"])), fake.channel_id(guild)
            )
        assert not fake.requests_to("POST", r"/channels/\d+/messages")
    finally:
        await stop_client(bot, task)


async def test_the_inbox_cannot_be_a_channel_everyone_can_read(
    fake: FakeDiscord, haven: HavenBot
) -> None:
    guild = await fake.add_guild(
        "Open server", channels=("general", "mods"), public_channels=("general",)
    )
    await eventually(lambda: haven.get_guild(int(guild["id"])) is not None)
    refused = await fake.dispatch_command(
        "support-admin settings contact-inbox",
        {"channel": fake.channel_id(guild, "general")},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    body = (await refused.response())["data"]["embeds"][0]
    assert "everyone in the server can read that channel" in body["description"]
    assert "Nothing was changed." in str(body)
    saved = await fake.dispatch_command(
        "support-admin settings contact-inbox",
        {"channel": fake.channel_id(guild, "mods")},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    assert (await saved.response())["data"]["embeds"][0]["title"] == "Moderator inbox saved"


async def test_a_member_pressing_inbox_buttons_is_refused(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    inbox = await _set_inbox(fake, guild)
    sender = fake.make_user(SENDER_NAME, SENDER_ID)
    await _send_request(fake, guild, sender, "hello")
    posted = fake.messages[inbox][0]
    member = fake.make_user("curious-member", "944444444444444444")
    for prefix in ("haven:cmod:close:", "haven:cmod:block:", "haven:cmod:reply:"):
        pressed = await fake.dispatch_component(
            posted, _button(posted, prefix)["custom_id"], guild=guild, user=member
        )
        body = await pressed.response()
        assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL, prefix
        assert body["data"]["embeds"][0]["title"] == "Not permitted", prefix
    assert fake.edits == [] and "Status: Open" in _embed_text(fake.messages[inbox][0])


async def test_a_spanish_client_gets_the_form_and_answers_in_spanish(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    inbox = await _set_inbox(fake, guild)
    sender = fake.make_user(SENDER_NAME, SENDER_ID)
    opened = await fake.dispatch_command(
        "support-contact", {"as": "anonymous"}, guild=guild, user=sender, locale="es-ES"
    )
    body = await opened.response()
    assert body["type"] == 9, body  # a modal
    modal = body["data"]
    assert modal["title"] == "Escribir a moderación de forma anónima"
    (label,) = modal["components"]
    assert label["label"] == "Lo que quieres decir"
    assert label["description"] == "No sabrán quién lo escribió."
    submitted = await fake.submit_modal(
        opened, {"text": "Me escriben sin parar"}, guild=guild, user=sender, locale="es-ES"
    )
    await submitted.response()
    shown = await submitted.followup()
    assert "Solicitud n.º 1 enviada" in _embed_text(shown)
    (dm,) = fake.dm_messages(SENDER_ID)
    assert "Tu solicitud n.º 1 llegó al equipo de moderación" in _embed_text(dm)
    labels = [c["label"] for c in components(dm) if c.get("custom_id")]
    assert labels == ["Leer respuestas", "Responder", "Cerrar", "Borrar"]
    # The moderators' inbox stays English.
    (posted,) = fake.messages[inbox]
    assert "Request #1" in _embed_text(posted)
    # Answer opens its form in Spanish too.
    answer = await fake.dispatch_component(
        dm, _button(dm, "haven:contact:answer:")["custom_id"], user=sender, locale="es-ES"
    )
    assert (await answer.response())["data"]["title"] == "Responder a moderación"
