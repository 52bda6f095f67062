"""Moderator curation: every change audited, undoable, validated; conflicts and permission."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.cards import CardTone
from bot.core.content.curation import MessageDraft
from bot.core.errors import Conflict
from bot.core.models import Actor, ItemKind
from tests.core.conftest import MEMBER, MODERATOR, Stack

OTHER_MOD = Actor(id="mod-2", display_name="Mod Two", has_admin_permission=True)


async def snapshot(stack: Stack) -> list[tuple[object, ...]]:
    """Every content and audit row, to prove a refused command changed nothing."""
    rows = []
    for table in ("messages", "resources", "audit_log", "communities"):
        rows += [tuple(r) for r in await stack.db.fetch_all(f"SELECT * FROM {table}")]
    return rows


async def test_message_add_edit_undo_remove_with_history(stack: Stack) -> None:
    ctx = stack.ctx()
    added = await stack.router.admin(
        ctx, "message", "add", {"topics": "coming-out", "text": "Take your time."}
    )
    assert added.tone is CardTone.SUCCESS
    key = dict(added.fields)["Key"]
    assert key.startswith("coming-out-")

    edited = await stack.router.admin(ctx, "message", "edit", {"key": key, "text": "Take it slow."})
    assert edited.body == "Take it slow."
    undone = await stack.router.admin(ctx, "message", "undo", {"key": key})
    assert undone.tone is CardTone.SUCCESS
    shown = await stack.router.admin(ctx, "message", "show", {"key": key})
    assert shown.body == "Take your time."

    removed = await stack.router.admin(ctx, "message", "remove", {"key": key})
    assert removed.tone is CardTone.SUCCESS
    missing = await stack.router.admin(ctx, "message", "show", {"key": key})
    assert missing.tone is CardTone.ERROR
    restored = await stack.router.admin(ctx, "message", "undo", {"key": key})
    assert restored.tone is CardTone.SUCCESS
    assert (await stack.router.admin(ctx, "message", "show", {"key": key})).tone is CardTone.INFO

    history = await stack.router.admin(ctx, "message", "history", {"key": key})
    changes = [line for line in history.lines if not line.startswith(" ")]
    # "2026-... HH:MM <zone> <action> by <who>": in the community's time zone.
    actions = [line.split(" ")[3] for line in changes]
    assert actions == ["undo", "remove", "undo", "edit", "add"]
    assert all("by Mod One" in line for line in changes)
    assert "(undone)" in changes[1] and "(undone)" in changes[3]
    # Each change shows what it changed, before and after.
    assert "    text: Take your time. → Take it slow." in history.lines


async def test_resource_add_edit_undo_remove(stack: Stack) -> None:
    ctx = stack.ctx()
    card = await stack.router.admin(
        ctx,
        "resource",
        "add",
        {
            "title": "Local Group",
            "url": "https://local.example.org",
            "topics": "coming-out",
            "regions": "uk",
            "phone": "+44 20 7946 0000",
            "crisis": "no",
        },
    )
    assert card.tone is CardTone.SUCCESS, card.body
    fields = dict(card.fields)
    assert fields["Key"] == "gb-local-group"
    assert fields["Regions"] == "GB"
    resource = await stack.curation.get(ctx, ItemKind.RESOURCE, "gb-local-group")
    assert resource.contacts[0].e164 == "+442079460000"

    await stack.router.admin(
        ctx, "resource", "edit", {"key": "gb-local-group", "hours": "Evenings"}
    )
    support = await stack.router.support(ctx, "coming-out", "GB")
    assert "Local Group" in [r.title for r in support.resources]
    await stack.router.admin(ctx, "resource", "undo", {"key": "gb-local-group"})
    assert (await stack.curation.get(ctx, ItemKind.RESOURCE, "gb-local-group")).hours == ""
    await stack.router.admin(ctx, "resource", "remove", {"key": "gb-local-group"})
    support = await stack.router.support(ctx, "coming-out", "GB")
    assert "Local Group" not in [r.title for r in support.resources]


async def test_enabling_a_resource_that_needs_review_confirms_it(stack: Stack) -> None:
    ctx = stack.ctx()
    assert "GB Unreviewed" not in [
        r.title for r in (await stack.router.support(ctx, "coming-out", "GB")).resources
    ]
    await stack.router.admin(ctx, "resource", "enable", {"key": "gb-unreviewed"})
    card = await stack.router.support(ctx, "coming-out", "GB")
    assert "GB Unreviewed" in [r.title for r in card.resources]


async def test_second_editor_gets_changed_since_you_opened_it(stack: Stack) -> None:
    first, second = stack.ctx(MODERATOR), stack.ctx(OTHER_MOD)
    opened = await stack.curation.get(first, ItemKind.MESSAGE, "coming-out-1")
    opened_too = await stack.curation.get(second, ItemKind.MESSAGE, "coming-out-1")
    await stack.router.admin(
        first,
        "message",
        "edit",
        {"key": "coming-out-1", "text": "A", "version": str(opened.version)},
    )
    before = await snapshot(stack)
    card = await stack.router.admin(
        second,
        "message",
        "edit",
        {"key": "coming-out-1", "text": "B", "version": str(opened_too.version)},
    )
    assert card.tone is CardTone.ERROR
    assert card.title == "Changed since you opened it"
    assert await snapshot(stack) == before
    assert (await stack.curation.get(first, ItemKind.MESSAGE, "coming-out-1")).text == "A"


async def test_stale_write_is_refused_by_storage_too(stack: Stack) -> None:
    ctx = stack.ctx()
    stale = await stack.content.get_item(ctx.community_id, ItemKind.MESSAGE, "coming-out-1")
    assert stale is not None
    await stack.curation.edit_message(ctx, "coming-out-1", MessageDraft(text="new"), None)
    before = await snapshot(stack)
    with pytest.raises(Conflict):
        await stack.content.write_items(
            ctx.community_id, [stack.curation._write_of(ctx, "edit", stale, stale)]
        )
    # Refused whole: neither the item nor its audit entry was written.
    assert await snapshot(stack) == before
    assert (await stack.curation.get(ctx, ItemKind.MESSAGE, "coming-out-1")).text == "new"


async def test_non_moderator_is_refused_and_nothing_changes(stack: Stack) -> None:
    before = await snapshot(stack)
    for group, verb, options in (
        ("message", "add", {"text": "hi", "topics": "general"}),
        ("message", "remove", {"key": "coming-out-1"}),
        ("resource", "remove", {"key": "gb-crisisline"}),
        ("settings", "region", {"region": "GB"}),
        ("message", "list", {}),
    ):
        card = await stack.router.admin(stack.ctx(MEMBER), group, verb, options)
        assert card.tone is CardTone.ERROR
        assert card.title == "Not permitted"
    # Only the refusals themselves are written: who tried which command, nothing typed.
    after = await snapshot(stack)
    added = [row for row in after if row not in before]
    assert [row for row in before if row not in after] == []
    assert [(r[2], r[4], r[5], r[6], r[7], r[8]) for r in added] == [
        ("member-7", "refused", "refusal", command, None, None)
        for command in (
            "message add",
            "message remove",
            "resource remove",
            "settings region",
            "message list",
        )
    ]


async def test_moderator_role_grants_access(stack: Stack) -> None:
    await stack.router.admin(stack.ctx(), "settings", "moderator-roles", {"roles": "@Helpers"})
    helper = Actor(id="helper-1", display_name="Helper", role_ids=("helpers",))
    card = await stack.router.admin(stack.ctx(helper), "message", "list", {})
    assert card.tone is CardTone.INFO
    assert card.title.startswith("Messages")


async def test_list_is_paged_with_keys_and_text(stack: Stack) -> None:
    ctx = stack.ctx()
    for i in range(12):
        await stack.router.admin(
            ctx, "message", "add", {"topics": "general", "text": f"Message number {i}"}
        )
    page1 = await stack.router.admin(ctx, "message", "list", {})
    assert page1.page is not None and page1.page.page_count == 2
    assert len(page1.lines) == 10
    assert page1.lines[0].startswith("coming-out-1 [coming-out] Your pace")
    page2 = await stack.router.run_text(ctx, page1.page.command + " page:2")
    assert len(page2.lines) == 8
    bad = await stack.router.admin(ctx, "message", "list", {"page": "9"})
    assert bad.tone is CardTone.ERROR and "2 page(s)" in bad.body


BAD_INPUTS = [
    ({"title": "X", "url": "javascript:alert(1)", "topics": "crisis", "regions": "GB"}, "https://"),
    (
        {"title": "X", "url": "http://plain.example.org", "topics": "crisis", "regions": "GB"},
        "https://",
    ),
    (
        {"title": "X", "url": "https://trusted.org@evil.com/", "topics": "crisis", "regions": "GB"},
        "user name",
    ),
    (
        {"title": "X", "url": "https://a.org/" + "x" * 600, "topics": "crisis", "regions": "GB"},
        "limit is 512",
    ),
    (
        {"title": "X" * 81, "url": "https://a.org", "topics": "crisis", "regions": "GB"},
        "limit is 80",
    ),
    (
        {"title": "Bad\u202eTitle", "url": "https://a.org", "topics": "crisis", "regions": "GB"},
        "U+202E",
    ),
    (
        {"title": "X", "url": "https://a.org", "topics": "nope", "regions": "GB"},
        "'nope' is not a topic",
    ),
    ({"title": "X", "url": "https://a.org", "topics": "crisis", "regions": "Atlantis"}, "Atlantis"),
    ({"title": "X", "url": "https://a.org", "topics": "crisis"}, "regions: is required"),
    (
        {
            "title": "X",
            "url": "https://a.org",
            "topics": "crisis",
            "regions": "GB",
            "crisis": "maybe",
        },
        "yes or no",
    ),
]


async def test_bad_resource_input_gets_a_clear_answer_and_changes_nothing(stack: Stack) -> None:
    before = await snapshot(stack)
    for options, expected in BAD_INPUTS:
        card = await stack.router.admin(stack.ctx(), "resource", "add", options)
        assert card.tone is CardTone.ERROR, options
        assert expected in card.body + card.footer, (expected, card.body)
    assert await snapshot(stack) == before


async def test_bad_message_input_gets_a_clear_answer_and_changes_nothing(stack: Stack) -> None:
    before = await snapshot(stack)
    cases = [
        ({"topics": "general", "text": "x" * 1501}, "limit is 1500"),
        ({"topics": "general", "text": "bell\x07here"}, "control"),
        ({"topics": "general"}, "text: is required"),
        ({"topics": "general", "text": "ok", "colour": "red"}, "colour: is not an option"),
    ]
    for options, expected in cases:
        card = await stack.router.admin(stack.ctx(), "message", "add", options)
        assert card.tone is CardTone.ERROR
        assert expected in card.body + card.footer, (expected, card.body)
    assert await snapshot(stack) == before


async def test_undo_refuses_when_item_changed_since(stack: Stack) -> None:
    ctx = stack.ctx()
    await stack.router.admin(ctx, "message", "edit", {"key": "crisis-1", "text": "one"})
    await stack.router.admin(ctx, "message", "undo", {"key": "crisis-1"})
    card = await stack.router.admin(ctx, "message", "undo", {"key": "crisis-1"})
    assert card.tone is CardTone.ERROR
    entries = await stack.curation.history(ctx, ItemKind.MESSAGE, "crisis-1")
    assert [e.action for e in entries] == ["undo", "edit"]


async def test_two_editors_racing_on_a_resource_one_wins_and_the_other_is_told(
    stack: Stack,
) -> None:
    # The other stale-edit tests are sequential and on messages: here two moderators submit
    # edits of one resource, opened at the same version, at the same moment.
    first, second = stack.ctx(MODERATOR), stack.ctx(OTHER_MOD)
    opened = await stack.curation.get(first, ItemKind.RESOURCE, "gb-crisisline")
    version = str(opened.version)
    before = await stack.db.fetch_all("SELECT id FROM audit_log")
    cards = await asyncio.gather(
        stack.router.admin(
            first,
            "resource",
            "edit",
            {"key": "gb-crisisline", "hours": "Nights", "version": version},
        ),
        stack.router.admin(
            second,
            "resource",
            "edit",
            {"key": "gb-crisisline", "hours": "Days", "version": version},
        ),
    )
    tones = sorted(card.tone.name for card in cards)
    assert tones == sorted([CardTone.SUCCESS.name, CardTone.ERROR.name]), [c.title for c in cards]
    winner = 0 if cards[0].tone is CardTone.SUCCESS else 1
    loser = cards[1 - winner]
    assert loser.title == "Changed since you opened it"
    stored = await stack.curation.get(first, ItemKind.RESOURCE, "gb-crisisline")
    assert stored.hours == ("Nights", "Days")[winner]
    assert stored.version == opened.version + 1
    # One audit entry, by the winner: the refused edit left no trace of a change.
    rows = await stack.db.fetch_all(
        "SELECT actor_id, action FROM audit_log WHERE id > ? ORDER BY id",
        (max((r["id"] for r in before), default=0),),
    )
    assert [(r["actor_id"], r["action"]) for r in rows] == [(("mod-1", "mod-2")[winner], "edit")]
