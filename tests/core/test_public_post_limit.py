"""A moderator command that posts publicly is limited per moderator and community; `/support`
never is. Through the text grammar and the real router, over real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import open_services
from bot.core.cards import Card, CardTone
from bot.core.commands.schedules import ScheduleCommands
from bot.core.models import Actor, Platform, RequestContext, community_id_for
from bot.core.ports import Publisher
from bot.core.scheduling.publishing import PermanentPublishError
from bot.core.scheduling.schedules import ScheduleService
from bot.settings import Settings
from bot.storage.repositories import SqlCommunityRepository
from bot.storage.schedule_store import SqlScheduleStore
from tests.conftest import FixedClock
from tests.core.conftest import MEMBER, MODERATOR, Stack
from tests.test_scheduler_helpers import RecordingPublisher, SimClock

OTHER_MOD = Actor(id="mod-2", display_name="Mod Two", has_admin_permission=True)
GUILD = community_id_for(Platform.DISCORD, "1234")
ADD = '/support-admin schedule add channel:#welcome when:"daily 09:00" topic:coming-out'
TEST = "/support-admin schedule test id:1"


@pytest.fixture
async def posts(stack: Stack) -> AsyncIterator[RecordingPublisher]:
    """The stack with the schedule group; what the console 'channel' received."""
    console = RecordingPublisher(Platform.CONSOLE, SimClock(stack.clock.now()))
    discord = RecordingPublisher(Platform.DISCORD, SimClock(stack.clock.now()))
    publishers: dict[Platform, Publisher] = {Platform.CONSOLE: console, Platform.DISCORD: discord}
    service = ScheduleService(
        SqlScheduleStore(stack.db),
        SqlCommunityRepository(stack.db),
        stack.support,
        publishers,
        stack.clock,
        wake=lambda: None,
    )
    stack.router.add_table(ScheduleCommands(service).table)
    added = await stack.router.run_text(stack.ctx(), ADD)
    assert added.tone is CardTone.SUCCESS, added.plain_text()
    yield console


async def run(stack: Stack, line: str, actor: Actor = MODERATOR) -> Card:
    return await stack.router.run_text(stack.ctx(actor), line)


async def test_twelve_test_posts_in_a_row_post_twice_and_the_rest_say_when(
    stack: Stack, posts: RecordingPublisher
) -> None:
    cards = [await run(stack, TEST) for _ in range(12)]
    assert len(posts.posts) == 2
    assert [c.title for c in cards[:2]] == ["Test post sent to #welcome"] * 2
    for card in cards[2:]:
        assert card.tone is CardTone.ERROR and card.title == "Not yet"
        assert "Try again in 30 seconds." in card.body
        assert "2 in a row, then one every 30 seconds" in card.body
        assert card.footer == "Nothing was posted."
    # Refusals do not push the time further away: 30 s later one post is free again.
    stack.clock.current += timedelta(seconds=29)
    waiting = await run(stack, TEST)
    assert "Try again in 1 second." in waiting.body and len(posts.posts) == 2
    stack.clock.current += timedelta(seconds=1)
    assert (await run(stack, TEST)).tone is CardTone.SUCCESS
    assert (await run(stack, TEST)).title == "Not yet"
    assert len(posts.posts) == 3


async def test_a_full_allowance_comes_back_after_a_quiet_minute(
    stack: Stack, posts: RecordingPublisher
) -> None:
    for _ in range(3):
        await run(stack, TEST)
    stack.clock.current += timedelta(minutes=5)
    cards = [await run(stack, TEST) for _ in range(3)]
    assert [c.tone for c in cards] == [CardTone.SUCCESS, CardTone.SUCCESS, CardTone.ERROR]
    assert len(posts.posts) == 4


async def test_each_moderator_and_each_community_has_its_own_allowance(
    stack: Stack, posts: RecordingPublisher
) -> None:
    for _ in range(3):
        await run(stack, TEST)
    assert len(posts.posts) == 2
    # Another moderator of the same community is not held up by the first one's posts.
    assert (await run(stack, TEST, OTHER_MOD)).tone is CardTone.SUCCESS
    assert len(posts.posts) == 3
    # The same moderator in another community: the refusal there is about the schedule, not
    # the allowance used here.
    await stack.communities.ensure(Platform.DISCORD, "1234", "Guild")
    elsewhere = await stack.router.run_text(
        RequestContext(GUILD, Platform.DISCORD, MODERATOR), TEST
    )
    assert "no schedule 1 here" in elsewhere.body


async def test_a_test_post_that_posted_nothing_does_not_use_the_allowance(
    stack: Stack, posts: RecordingPublisher
) -> None:
    posts.fail("welcome", *[PermanentPublishError("channel archived")] * 3)
    for _ in range(3):
        failed = await run(stack, TEST)
        assert "channel archived" in failed.body
    unknown = await run(stack, "/support-admin schedule test id:99")
    assert "no schedule 99" in unknown.body.lower()
    cards = [await run(stack, TEST) for _ in range(2)]
    assert [c.tone for c in cards] == [CardTone.SUCCESS, CardTone.SUCCESS]


async def test_a_member_is_refused_by_the_gate_not_by_the_allowance(
    stack: Stack, posts: RecordingPublisher
) -> None:
    for _ in range(3):
        card = await run(stack, TEST, MEMBER)
        assert card.title == "Not permitted"
    assert posts.posts == []
    assert (await run(stack, TEST)).tone is CardTone.SUCCESS


async def test_fifty_quick_support_requests_all_answer_and_leave_nothing_about_the_asker(
    stack: Stack, posts: RecordingPublisher
) -> None:
    asker = Actor(id="asker-5150", display_name="Someone Asking")
    cards = [await run(stack, "/support crisis GB", asker) for _ in range(50)]
    assert all(c.tone is CardTone.SUPPORT and c.topic == "crisis" for c in cards)
    await stack.support.flush()
    for table in ("audit_log", "usage_daily", "rotation_state", "communities"):
        for row in await stack.db.fetch_all(f"SELECT * FROM {table}"):
            assert "asker-5150" not in repr(tuple(row)) and "Someone" not in repr(tuple(row))


async def test_schedule_test_is_the_verb_declared_as_posting_publicly(tmp_path: Path) -> None:
    # Of every verb Haven ships, only `schedule test` posts at once (resume of an overdue
    # one-off posts once at most; add and edit post through the paced scheduler).
    settings = Settings(database_path=tmp_path / "haven.db")
    async with open_services(settings, clock=FixedClock()) as services:
        public = {
            (table.name, verb.name): verb.posts_publicly
            for table in services.router.tables.values()
            for verb in table.verbs
            if verb.posts_publicly is not None
        }
    assert list(public) == [("schedule", "test")]
    limit = public[("schedule", "test")]
    assert limit is not None and (limit.burst, limit.every_seconds) == (2, 30)


async def test_test_posts_sent_at_the_same_moment_cannot_all_pass(
    stack: Stack, posts: RecordingPublisher
) -> None:
    # A forged client sending twelve at once: the check and the reservation are one step.
    cards = await asyncio.gather(*(run(stack, TEST) for _ in range(12)))
    assert len(posts.posts) == 2
    assert sorted(c.title for c in cards).count("Not yet") == 10


async def test_help_says_the_limit_before_anyone_meets_it(
    stack: Stack, posts: RecordingPublisher
) -> None:
    group_help = await run(stack, "/support-admin schedule")
    [line] = [line for line in group_help.lines if " schedule test " in line]
    assert line.endswith("(2 in a row, then one every 30 seconds)")
    others = [line for line in group_help.lines if " schedule test " not in line]
    assert others and not any("in a row" in line for line in others)


async def test_a_test_post_that_may_have_posted_says_so_and_keeps_the_allowance_spent(
    stack: Stack, posts: RecordingPublisher
) -> None:
    from bot.core.scheduling.publishing import TransientPublishError

    posts.fail("welcome", TransientPublishError("HTTP 502", may_have_posted=True))
    unsure = await run(stack, TEST)
    assert unsure.tone is CardTone.ERROR
    assert "may or may not have gone through" in unsure.body
    assert "Nothing was posted" not in unsure.plain_text()
    assert (await run(stack, TEST)).tone is CardTone.SUCCESS
    # The uncertain one counted: a third call within 30 s is refused, not posted.
    assert (await run(stack, TEST)).title == "Not yet"
