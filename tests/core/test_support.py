"""SupportService rules: rotation, regions, crisis ordering, privacy of usage counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.cards import CardTone
from bot.core.models import Actor
from tests.conftest import stored_bytes
from tests.core.conftest import MEMBER, Stack

ASKER = Actor(id="asker-424242", display_name="Asker")


def titles(card: object) -> list[str]:
    return [r.title for r in card.resources]  # type: ignore[attr-defined]


async def test_gb_coming_out_shows_gb_services_then_directory(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(ASKER), "coming-out", "GB")
    assert card.tone is CardTone.SUPPORT
    assert card.title == "Coming out"
    assert card.region == "GB"
    assert titles(card)[0] == "GB Peer Line"
    assert titles(card)[-1] == "Helpline Directory"
    assert "US Crisis Line" not in titles(card)
    assert "GB Unreviewed" not in titles(card), "needs_review resources stay hidden"
    assert "999" in card.footer
    assert card.resources[0].domain == "peer.example.org.uk"


async def test_uk_alias_and_lowercase_region_are_accepted(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "coming-out", "uk")
    assert card.region == "GB"


async def test_no_region_shows_no_country_numbers(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "crisis", None)
    assert titles(card) == ["Helpline Directory"]
    assert "local emergency number" in card.body
    assert "999" not in card.plain_text() and "911" not in card.plain_text()
    assert {c.value for c in card.region_choices} == {"GB", "US", "AU"}


async def test_an_answer_without_local_services_offers_a_helpline_directory(
    stack: Stack,
) -> None:
    # A community's own library: its helpline directory is listed for crisis only, and a
    # directory of groups for coming-out. Without local services, coming-out still gets both.
    ctx = stack.ctx()
    edited = await stack.router.admin(
        ctx, "resource", "edit", {"key": "global-directory", "topics": "crisis"}
    )
    assert edited.tone is CardTone.SUCCESS, edited.body
    added = await stack.router.admin(
        ctx,
        "resource",
        "add",
        {
            "title": "Groups Directory",
            "url": "https://groups.example.org",
            "topics": "coming-out",
            "regions": "global",
        },
    )
    assert added.tone is CardTone.SUCCESS, added.body
    for region in (None, "DE"):
        card = await stack.router.support(ctx, "coming-out", region)
        assert titles(card) == ["Groups Directory", "Helpline Directory"], region
    # Where the country has its own services, they come first as before.
    card = await stack.router.support(ctx, "coming-out", "GB")
    assert titles(card)[0] == "GB Peer Line"
    assert "Groups Directory" in titles(card)


async def test_community_default_region_is_used(stack: Stack) -> None:
    await stack.router.admin(stack.ctx(), "settings", "region", {"region": "US"})
    card = await stack.router.support(stack.ctx(), "coming-out", None)
    assert card.region == "US"
    assert "US Youth Line" in titles(card)


async def test_crisis_puts_emergency_number_and_24_7_lines_first(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "crisis", "GB")
    assert card.body.startswith("If you are in immediate danger, call 999")
    assert titles(card)[0] == "GB Crisis Line"
    assert "24/7" in card.resources[0].badges
    peer = next(r for r in card.resources if r.title == "GB Peer Line")
    assert "not a crisis line" in peer.badges


async def test_peer_line_is_never_offered_alone_for_crisis(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "crisis", "AU")
    assert "AU Peer Line" not in titles(card)
    assert titles(card) == ["Helpline Directory"]
    assert "call 000" in card.body


async def test_messages_rotate_without_repeats_until_pool_used(stack: Stack) -> None:
    seen = [
        (await stack.router.support(stack.ctx(), "coming-out", "GB")).message_key for _ in range(3)
    ]
    assert sorted(seen) == ["coming-out-1", "coming-out-2", "coming-out-3"]
    fourth = (await stack.router.support(stack.ctx(), "coming-out", "GB")).message_key
    assert fourth in seen


async def test_rotation_survives_a_restart(stack: Stack) -> None:
    first = (await stack.router.support(stack.ctx(), "coming-out", "GB")).message_key
    second = (await stack.router.support(stack.ctx(), "coming-out", "GB")).message_key
    await stack.support.flush()
    restarted = await stack.reopen_support()
    third = (await restarted.reply(stack.ctx(), "coming-out", "GB")).message_key
    assert third not in (first, second)


async def test_copy_by_message_key_is_identical_and_not_counted(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "coming-out", "GB")
    copy = await stack.router.support(stack.ctx(), "coming-out", "GB", card.message_key)
    assert copy.body == card.body
    await stack.support.flush()
    usage = await stack.support._state.usage(stack.ctx().community_id)
    assert sum(usage.values()) == 1


async def test_unknown_topic_answers_with_closest_choices(stack: Stack) -> None:
    # A clear typo ("comming-out") now resolves; this one is too far to guess.
    card = await stack.router.support(stack.ctx(), "coming-in", None)
    assert card.tone is CardTone.ERROR
    assert "coming-in" in card.body
    assert card.choices[0].value == "coming-out"


async def test_unknown_region_answers_with_choices(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "general", "Atlantis")
    assert card.tone is CardTone.ERROR
    assert "Atlantis" in card.body
    assert card.choices


async def test_usage_is_aggregate_and_nothing_identifies_the_asker(
    stack: Stack, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for topic in ("coming-out", "crisis", "coming-out"):
        await stack.router.support(stack.ctx(ASKER), topic, "GB")
    await stack.support.flush()
    usage = await stack.support._state.usage(stack.ctx().community_id)
    assert {topic: n for (topic, _day), n in usage.items()} == {"coming-out": 2, "crisis": 1}
    audit = await stack.db.fetch_all("SELECT actor_id FROM audit_log")
    assert all(row["actor_id"] != ASKER.id for row in audit)
    await stack.db.close()
    # Every file the engine writes: SQLite's database and WAL, or PostgreSQL's data directory.
    raw = await stored_bytes(stack.db, request, tmp_path)
    assert stack.ctx().community_id.encode() in raw  # the scan does see what is stored
    assert ASKER.id.encode() not in raw


async def test_members_can_ask_for_support(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(MEMBER), None, "GB")
    assert card.tone is CardTone.SUPPORT
    assert card.topic == "general"


async def test_mentions_in_content_are_inert(stack: Stack) -> None:
    await stack.router.admin(
        stack.ctx(),
        "message",
        "add",
        {"text": "Hi @everyone and <@&123> <!channel>", "topics": "harassment"},
    )
    await stack.router.admin(stack.ctx(), "message", "disable", {"key": "harassment-1"})
    card = await stack.router.support(stack.ctx(), "harassment", "GB")
    assert "@everyone" not in card.body
    assert "<@&" not in card.body and "<!channel>" not in card.body
    assert "everyone" in card.body


async def test_channel_post_card_points_to_private_support(stack: Stack) -> None:
    community_id = stack.ctx().community_id
    unknown = await stack.support.post_card(community_id, "coming-out", None)
    assert unknown.region_choices == ()
    assert "type /support coming-out with your country" in unknown.body
    assert "Only you can see this" not in unknown.footer
    await stack.router.admin(stack.ctx(), "settings", "region", {"region": "GB"})
    local = await stack.support.post_card(community_id, "coming-out", None)
    assert local.region == "GB"
    assert "GB Peer Line" in titles(local)
    by_key = await stack.support.post_card(community_id, None, "crisis-1")
    assert by_key.topic == "crisis" and by_key.message_key == "crisis-1"
