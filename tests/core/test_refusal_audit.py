"""A refused moderator attempt is audited: who tried which command and when, never what they
typed, and a flood of refusals cannot grow the audit log without bound."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import permissions
from bot.core.cards import Card, CardTone
from bot.core.models import (
    DIRECT_MESSAGE_COMMUNITY,
    Actor,
    Platform,
    RequestContext,
)
from bot.storage.database import Database
from bot.storage.repositories import SqlCommunityRepository
from tests.core.conftest import MEMBER, MODERATOR, Stack

SECRET = "secret words"


async def run(stack: Stack, line: str, actor: Actor = MEMBER) -> Card:
    return await stack.router.run_text(stack.ctx(actor), line)


async def refusals(db: Database) -> list[tuple[object, ...]]:
    rows = await db.fetch_all(
        "SELECT actor_id, actor_name, action, item_key, before_json, after_json, at"
        " FROM audit_log WHERE item_kind = 'refusal' ORDER BY id"
    )
    return [tuple(row) for row in rows]


async def every_stored_value(db: Database) -> str:
    """Every value of every table, as text, to search for what a person typed."""
    values: list[str] = []
    for table in await db.table_names():
        for row in await db.fetch_all(f"SELECT * FROM {table}"):
            values += [str(value) for value in tuple(row)]
    return "\n".join(values)


async def test_a_member_adding_a_message_is_audited_by_name_and_command_without_the_words(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    card = await run(stack, f"/support-admin message add {SECRET}")
    assert card.tone is CardTone.ERROR and card.title == "Not permitted"
    assert await refusals(stack.db) == [
        (
            "member-7",
            "",  # the id is kept for accountability; a name would only add personal data
            "refused",
            "message add",
            None,
            None,
            "2026-11-29T12:00:00+00:00",
        )
    ]
    assert SECRET not in await every_stored_value(stack.db)
    # Nor in the file's bytes (the database and its write-ahead log), nor in the log.
    for path in tmp_path.glob("haven.db*"):
        assert b"secret" not in path.read_bytes(), path.name
    assert "secret" not in caplog.text
    library = await stack.support.library(stack.ctx().community_id)
    assert all(SECRET not in message.text for message in library.messages)


@pytest.mark.parametrize(
    ("line", "recorded"),
    [
        ("/support-admin message add topics:crisis text:hello there", "message add"),
        ("/support-admin resource edit gb-crisisline title:Mine", "resource edit"),
        ("/support-admin settings region GB", "settings region"),
    ],
)
async def test_what_is_recorded_is_a_declared_command_never_typed_text(
    stack: Stack, line: str, recorded: str
) -> None:
    assert (await run(stack, line)).title == "Not permitted"
    [(actor, _, action, command, *_)] = await refusals(stack.db)
    assert (actor, action, command) == ("member-7", "refused", recorded)
    stored = await every_stored_value(stack.db)
    assert "secret" not in stored and "hello there" not in stored and "Mine" not in stored


@pytest.mark.parametrize(
    "line",
    [
        # Often someone meaning /support: their id must not be kept with a time.
        "/support-admin i think my family found out, please help",
        "/support-admin message secretverb words",
        "/support-admin",
    ],
)
async def test_a_line_that_names_no_declared_command_is_refused_and_not_recorded(
    stack: Stack, line: str
) -> None:
    card = await run(stack, line)
    assert card.title == "Not permitted"
    assert "Type /support" in card.footer
    assert await refusals(stack.db) == []


async def test_forms_and_platform_options_are_audited_the_same_way(stack: Stack) -> None:
    # A forged or old Discord client sends options; a form is asked for before it opens.
    ctx = stack.ctx(MEMBER)
    card = await stack.router.admin(ctx, "message", "add", {"text": SECRET, "topics": "general"})
    assert card.title == "Not permitted"
    await stack.router.form(ctx, "resource", "add", {"title": SECRET})
    assert [r[3] for r in await refusals(stack.db)] == ["message add", "resource add"]
    assert SECRET not in await every_stored_value(stack.db)


async def test_a_flood_leaves_one_entry_per_person_and_command_a_minute(stack: Stack) -> None:
    for _ in range(50):
        await run(stack, f"/support-admin message add {SECRET}")
    await run(stack, "/support-admin message remove coming-out-1")
    other = Actor(id="member-8", display_name="Member Eight")
    await run(stack, f"/support-admin message add {SECRET}", other)
    assert [(r[0], r[3]) for r in await refusals(stack.db)] == [
        ("member-7", "message add"),
        ("member-7", "message remove"),
        ("member-8", "message add"),
    ]
    stack.clock.current += timedelta(seconds=59)
    await run(stack, f"/support-admin message add {SECRET}")
    assert len(await refusals(stack.db)) == 3
    stack.clock.current += timedelta(seconds=1)
    await run(stack, f"/support-admin message add {SECRET}")
    assert [r[6] for r in await refusals(stack.db)][-1] == "2026-11-29T12:01:00+00:00"
    assert len(await refusals(stack.db)) == 4


async def test_only_the_newest_refusals_are_kept_and_moderators_entries_never_go(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(permissions, "REFUSALS_KEPT", 5)
    added = await run(stack, "/support-admin message add You matter", MODERATOR)
    assert added.tone is CardTone.SUCCESS
    for n in range(12):
        await run(stack, "/support-admin message list", Actor(id=f"member-{n}"))
    assert [r[0] for r in await refusals(stack.db)] == [f"member-{n}" for n in range(7, 12)]
    moderators = await stack.db.fetch_all(
        "SELECT actor_id FROM audit_log WHERE item_kind != 'refusal'"
    )
    assert [row["actor_id"] for row in moderators] == [MODERATOR.id]


async def test_a_moderator_and_a_direct_message_leave_no_refusal(stack: Stack) -> None:
    await run(stack, "/support-admin message list", MODERATOR)
    dm = RequestContext(DIRECT_MESSAGE_COMMUNITY, Platform.DISCORD, MEMBER)
    card = await stack.router.run_text(dm, f"/support-admin message add {SECRET}")
    assert card.title == "Not permitted"
    assert await refusals(stack.db) == []


async def test_the_refusal_stands_when_it_cannot_be_written(
    stack: Stack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]

    async def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(SqlCommunityRepository, "record_refusal", broken)
    card = await run(stack, f"/support-admin message add {SECRET}")
    assert card.title == "Not permitted"
    assert "Auditing a refused /support-admin call failed" in caplog.text
    assert "secret" not in caplog.text
