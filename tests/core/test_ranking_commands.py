"""Moderators set rank, audience, ages and opening hours with `resource add/edit` (and a
message's audience), are told clearly what is wrong, and list stale resources with
`resource stale` — through the router's text grammar, as the console and Slack type it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.cards import CardTone
from bot.core.models import Audience, ItemKind, Resource
from tests.core.conftest import Stack


async def test_resource_add_takes_rank_audience_ages_open_and_timezone(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(),
        '/support-admin resource add title:"GB Youth Line" url:https://youth.example.org.uk '
        'topics:crisis regions:GB crisis:yes rank:50 audience:young-people ages:"under 19" '
        'open:"24/7"',
    )
    assert card.tone is CardTone.SUCCESS, card.body
    fields = dict(card.fields)
    assert fields["Rank"] == "50" and fields["Audience"] == "young-people (under 19)"
    assert fields["Open"] == "24/7"
    stored = await stack.content.get_item(
        stack.ctx().community_id, ItemKind.RESOURCE, "gb-gb-youth-line"
    )
    assert isinstance(stored, Resource)
    assert (stored.rank, stored.audience, stored.age_max, stored.always_open) == (
        50,
        Audience.YOUNG_PEOPLE,
        18,
        True,
    )
    # A person sees it labelled, after the all-ages 24/7 line.
    answer = await stack.router.support(stack.ctx(), "crisis", "GB")
    titles = [r.title for r in answer.resources]
    assert titles.index("GB Crisis Line") < titles.index("GB Youth Line")
    youth = next(r for r in answer.resources if r.title == "GB Youth Line")
    assert "for people under 19" in youth.badges


async def test_resource_edit_sets_hours_in_a_time_zone_and_open_now_follows(stack: Stack) -> None:
    ctx = stack.ctx()
    card = await stack.router.run_text(
        ctx,
        '/support-admin resource edit gb-peerline open:"Mo-Fr 10:00-22:00" timezone:London',
    )
    assert card.tone is CardTone.SUCCESS, card.body
    assert dict(card.fields)["Time zone"] == "Europe/London"
    stack.clock.current = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    stack.support.invalidate(ctx.community_id)
    answer = await stack.router.support(ctx, "coming-out", "GB")
    peer = next(r for r in answer.resources if r.title == "GB Peer Line")
    assert "opens 10:00 (your time)" in peer.badges
    # Closed at 3 a.m.: the open 24/7 crisis line comes first.
    assert answer.resources[0].title == "GB Crisis Line"


async def test_bad_values_are_each_explained_with_how_to_write_them(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(),
        '/support-admin resource edit gb-peerline open:"Mon-Fri 9-5" ages:teens timezone:Atlantis',
    )
    assert card.tone is CardTone.ERROR
    text = card.plain_text()
    assert "open: 'Mon-Fri' is not a day" in text and "Mo-Fr 13:00-20:30" in text
    assert "ages: 'teens' is not an age range" in text
    assert "timezone:" in text


async def test_ages_need_a_young_peoples_audience(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(), '/support-admin resource edit gb-peerline ages:"under 19"'
    )
    assert card.tone is CardTone.ERROR
    assert "audience:young-people" in card.plain_text()


async def test_an_unknown_audience_lists_the_audiences(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(), "/support-admin resource edit gb-peerline audience:teenagers"
    )
    assert card.tone is CardTone.ERROR
    assert "young-people" in card.plain_text() and "parents-and-families" in card.plain_text()


async def test_a_rank_out_of_range_is_refused(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(), "/support-admin resource edit gb-peerline rank:1000"
    )
    assert card.tone is CardTone.ERROR
    assert "999" in card.plain_text()


async def test_a_message_for_parents_is_labelled_in_the_answer(stack: Stack) -> None:
    ctx = stack.ctx()
    card = await stack.router.run_text(
        ctx,
        "/support-admin message add topics:harassment audience:parents-and-families "
        "You can back them up without fixing everything.",
    )
    assert card.tone is CardTone.SUCCESS, card.body
    assert dict(card.fields)["Audience"] == "parents-and-families"
    key = dict(card.fields)["Key"]
    answer = await stack.router.support(ctx, "harassment", "GB", key)
    assert answer.body.startswith("For parents and families: You can back them up")


async def test_resource_stale_lists_unchecked_and_year_old_resources_oldest_first(
    stack: Stack,
) -> None:
    ctx = stack.ctx()
    card = await stack.router.run_text(ctx, "/support-admin resource stale")
    assert card.tone is not CardTone.ERROR
    # The sample library was checked on 2026-11-01; only the unreviewed one never was.
    assert [line.split()[0] for line in card.lines] == ["gb-unreviewed"]
    assert "never checked" in card.lines[0]
    stack.clock.current = datetime(2028, 1, 1, tzinfo=UTC)
    later = await stack.router.run_text(ctx, "/support-admin resource stale")
    assert later.lines[0].startswith("gb-unreviewed")
    assert "(426 days ago)" in later.lines[1]
    assert later.title.startswith("Resources not checked in 12 months")
    assert later.page is not None and later.page.command == "/support-admin resource stale"


async def test_resource_stale_is_in_help(stack: Stack) -> None:
    card = await stack.router.run_text(stack.ctx(), "/support-admin help resource")
    assert "stale" in card.plain_text()
