"""ScheduleService and the `schedule` command group, through the real text grammar, over real
SQLite and the real SupportService (sample library)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.cards import Card, CardTone
from bot.core.commands.schedules import ScheduleCommands
from bot.core.errors import PermissionDenied
from bot.core.models import (
    DIRECT_MESSAGE_COMMUNITY,
    Actor,
    Platform,
    RequestContext,
    community_id_for,
)
from bot.core.ports import NewAuditEntry, Publisher
from bot.core.scheduling.publishing import PermanentPublishError
from bot.core.scheduling.schedules import Schedule, ScheduleService, SlotPlan, SlotStatus, epoch
from bot.scheduler import PostScheduler
from bot.storage.repositories import SqlCommunityRepository
from bot.storage.schedule_store import SlotOutcome, SqlScheduleStore
from tests.core.conftest import MEMBER, MODERATOR, Stack
from tests.test_scheduler_helpers import RecordingPublisher, SimClock, run_scheduler_until

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the stack's FixedClock
GUILD = community_id_for(Platform.DISCORD, "1234")


@dataclass
class Schedules:
    stack: Stack
    store: SqlScheduleStore
    service: ScheduleService
    console: RecordingPublisher
    discord: RecordingPublisher
    publishers: dict[Platform, Publisher]
    wakes: list[int] = field(default_factory=list)

    async def run(self, line: str, ctx: RequestContext | None = None) -> Card:
        return await self.stack.router.run_text(ctx or self.stack.ctx(), line)

    async def count(self) -> int:
        row = await self.stack.db.fetch_one("SELECT count(*) FROM schedules")
        return int(row[0]) if row else 0


@pytest.fixture
async def schedules(stack: Stack) -> AsyncIterator[Schedules]:
    store = SqlScheduleStore(stack.db)
    sim = SimClock(NOW)
    console = RecordingPublisher(Platform.CONSOLE, sim)
    discord = RecordingPublisher(Platform.DISCORD, sim)
    publishers: dict[Platform, Publisher] = {Platform.CONSOLE: console, Platform.DISCORD: discord}
    wakes: list[int] = []
    service = ScheduleService(
        store,
        SqlCommunityRepository(stack.db),
        stack.support,
        publishers,
        stack.clock,
        wake=lambda: wakes.append(1),
    )
    stack.router.add_table(ScheduleCommands(service).table)
    stack.communities.add_removal_hook(service.pause_all_for_community)
    stack.communities.add_return_hook(service.resume_after_return)
    await stack.communities.ensure(Platform.DISCORD, "1234", "Guild")
    yield Schedules(stack, store, service, console, discord, publishers, wakes)


ADD = '/support-admin schedule add channel:#welcome when:"daily 09:00" topic:coming-out'


async def test_add_answers_with_the_next_three_runs_in_local_time_and_utc(
    schedules: Schedules, stack: Stack
) -> None:
    card = await schedules.run(ADD + " timezone:America/New_York")
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert card.title == "Schedule 1 added"
    assert card.lines == (
        "Next runs:",
        "• Sun 2026-11-29 09:00 EST (14:00 UTC)",
        "• Mon 2026-11-30 09:00 EST (14:00 UTC)",
        "• Tue 2026-12-01 09:00 EST (14:00 UTC)",
    )
    assert ("Channel", "#welcome") in card.fields
    assert ("When", "daily 09:00 (America/New_York)") in card.fields
    stored = await schedules.store.get(1)
    assert stored is not None
    assert (stored.channel_id, stored.topic, stored.timezone) == (
        "welcome",
        "coming-out",
        "America/New_York",
    )
    assert stored.next_run_at == epoch(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))
    assert stored.grace_seconds == 3600 and stored.created_by == MODERATOR.id
    assert schedules.wakes == [1]  # the scheduler looks again at once
    audit = await stack.db.fetch_all(
        "SELECT action, item_kind, item_key, actor_id FROM audit_log WHERE item_kind='schedule'"
    )
    assert [tuple(r) for r in audit] == [("add", "schedule", "1", MODERATOR.id)]


async def test_add_defaults_to_the_community_time_zone_and_shows_a_one_shot(
    schedules: Schedules,
) -> None:
    await schedules.run("/support-admin settings timezone timezone:Asia/Kolkata")
    card = await schedules.run(
        '/support-admin schedule add channel:#welcome when:"in 30s" topic:crisis'
    )
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert card.lines == ("Runs once:", "• Sun 2026-11-29 17:30:30 IST (12:00:30 UTC)")
    stored = await schedules.store.get(1)
    assert stored is not None and stored.one_shot and stored.timezone == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ('when:"dialy 09:00" topic:coming-out', "Did you mean daily 09:00?"),
        ('when:"every 10m" topic:coming-out', "the shortest interval is every 15m"),
        ('when:"once 2020-01-01 10:00" topic:coming-out', "is in the past"),
        ('when:"daily 25:00" topic:coming-out', "hours are 00-23"),
        ('when:"0 9 * *" topic:coming-out', "five fields"),
        ('when:"daily 09:00" topic:coming-out timezone:Europe/Londn', "Europe/London"),
        ('when:"daily 09:00" topic:coming-in', "coming-out"),
        ('when:"daily 09:00" message:no-such-message', "no enabled message 'no-such-message'"),
        ('when:"daily 09:00"', "say what to post"),
        ("topic:coming-out", "when: is required"),
        ('when:"daily 09:00" topic:coming-out colour:blue', "colour: is not an option"),
    ],
)
async def test_bad_add_input_is_answered_clearly_and_nothing_is_stored(
    schedules: Schedules, options: str, expected: str
) -> None:
    card = await schedules.run(f"/support-admin schedule add channel:#welcome {options}")
    assert card.tone is CardTone.ERROR
    assert expected in card.plain_text() + " ".join(c.value for c in card.choices)
    assert await schedules.count() == 0
    assert schedules.wakes == []


async def test_every_bad_when_lists_the_accepted_forms(schedules: Schedules) -> None:
    card = await schedules.run(
        '/support-admin schedule add channel:#welcome when:"fortnightly" topic:coming-out'
    )
    assert card.tone is CardTone.ERROR
    assert "Accepted forms: daily 18:00; weekdays 09:00" in card.footer
    assert "in 2h" in card.footer


async def test_a_channel_the_bot_cannot_post_in_is_refused(schedules: Schedules) -> None:
    schedules.console.unpostable.add("private")
    card = await schedules.run(
        '/support-admin schedule add channel:#private when:"daily 09:00" topic:coming-out'
    )
    assert card.tone is CardTone.ERROR
    assert "Haven cannot post in #private: Haven is not a member of this channel" in card.body
    assert "Nothing was saved" in card.footer
    assert await schedules.count() == 0


@pytest.mark.parametrize("channel", ["welcome!", "<#123>", "#", "#a b"])
async def test_a_channel_that_is_not_a_console_channel_is_refused(
    schedules: Schedules, channel: str
) -> None:
    card = await schedules.run(
        f'/support-admin schedule add channel:"{channel}" when:"daily 09:00" topic:crisis'
    )
    assert card.tone is CardTone.ERROR and "channel" in card.body
    assert await schedules.count() == 0


async def test_discord_and_slack_channel_references_are_read(schedules: Schedules) -> None:
    from bot.core.scheduling.schedules import parse_channel

    assert parse_channel("<#112233445566778899>", Platform.DISCORD) == (
        "112233445566778899",
        "<#112233445566778899>",
    )
    assert parse_channel("112233445566778899", Platform.DISCORD)[0] == "112233445566778899"
    assert parse_channel("<#C0123ABCD|welcome>", Platform.SLACK) == ("C0123ABCD", "#welcome")
    assert parse_channel("C0123ABCD", Platform.SLACK) == ("C0123ABCD", "C0123ABCD")
    assert parse_channel("#Welcome", Platform.CONSOLE) == ("welcome", "#welcome")
    ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    card = await schedules.run(
        "/support-admin schedule add channel:<#112233445566778899> "
        'when:"weekly mon,thu 18:00" topic:crisis timezone:Europe/London',
        ctx,
    )
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert ("Channel", "#112233445566778899") in card.fields  # the publisher's own label


async def test_members_cannot_schedule_and_direct_messages_are_refused(
    schedules: Schedules, stack: Stack
) -> None:
    card = await schedules.run(ADD, stack.ctx(actor=MEMBER))
    assert card.tone is CardTone.ERROR and card.title == "Not permitted"
    # The service checks too, whatever called it.
    with pytest.raises(PermissionDenied):
        await schedules.service.add(
            stack.ctx(actor=MEMBER), channel="#welcome", when="daily 09:00", topic="crisis"
        )
    # The one gate: a Discord DM belongs to no server (a Slack DM belongs to its workspace).
    dm = RequestContext(
        DIRECT_MESSAGE_COMMUNITY, Platform.DISCORD, MODERATOR, in_direct_message=True
    )
    with pytest.raises(PermissionDenied, match="not in direct messages"):
        await schedules.service.list(dm)
    assert await schedules.count() == 0


async def test_list_pause_resume_remove(schedules: Schedules) -> None:
    await schedules.run(ADD)
    await schedules.run(
        '/support-admin schedule add channel:#crisis when:"every 6h" topic:crisis timezone:UTC'
    )
    card = await schedules.run("/support-admin schedule pause id:2")
    assert card.title == "Schedule 2 paused"
    listing = await schedules.run("/support-admin schedule list")
    assert listing.title == "Schedules (2)"
    text = "\n".join(listing.lines)
    assert "#1 · daily 09:00 (UTC) · topic coming-out → #welcome" in text
    assert "next: Sun 2026-11-29 13:00 UTC" not in text
    assert "    next: Mon 2026-11-30 09:00 UTC" in text
    assert "#2 · every 6h (UTC) · topic crisis → #crisis" in text
    assert "    paused: paused by Mod One" in text
    resumed = await schedules.run("/support-admin schedule resume 2")  # positional id
    assert (
        resumed.title == "Schedule 2 resumed" and "Next run: Sun 2026-11-29 18:00" in resumed.body
    )
    removed = await schedules.run("/support-admin schedule remove id:1 confirm:yes")
    assert removed.title == "Schedule 1 removed"
    assert await schedules.store.get(1) is None
    assert len(schedules.wakes) == 5  # add, add, pause, resume, remove: each took effect at once
    missing = await schedules.run("/support-admin schedule pause id:1")
    assert missing.tone is CardTone.ERROR and "no schedule 1 here" in missing.body
    bad = await schedules.run("/support-admin schedule pause id:abc")
    assert bad.tone is CardTone.ERROR and "is not a number" in bad.body


async def test_another_communitys_schedule_is_invisible(schedules: Schedules, stack: Stack) -> None:
    guild_ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    added = await schedules.run(
        '/support-admin schedule add channel:<#112233445566778899> when:"daily 09:00" topic:crisis',
        guild_ctx,
    )
    assert added.tone is CardTone.SUCCESS
    for verb in ("pause", "resume", "remove", "test", "history"):
        card = await schedules.run(f"/support-admin schedule {verb} id:1")
        assert card.tone is CardTone.ERROR and "no schedule 1 here" in card.body, verb
    listing = await schedules.run("/support-admin schedule list")
    assert listing.body == "No scheduled posts yet."
    stored = await schedules.store.get(1)
    assert stored is not None and not stored.paused


async def test_test_posts_once_now_outside_the_history(schedules: Schedules) -> None:
    await schedules.run(ADD)
    before = await schedules.store.get(1)
    card = await schedules.run("/support-admin schedule test id:1")
    assert card.title == "Test post sent to #welcome"
    assert [post.channel_id for post in schedules.console.posts] == ["welcome"]
    assert schedules.console.posts[0].card.topic == "coming-out"
    assert await schedules.store.slots(1) == []
    assert await schedules.store.get(1) == before
    schedules.console.fail("welcome", PermanentPublishError("channel archived"))
    failed = await schedules.run("/support-admin schedule test id:1")
    assert failed.tone is CardTone.ERROR and "channel archived" in failed.body


async def test_scheduled_posts_use_the_real_support_cards_and_history_says_why(
    schedules: Schedules, stack: Stack
) -> None:
    """Integration: SupportService.post_card builds what the scheduler posts."""
    await schedules.run(
        '/support-admin schedule add channel:#welcome when:"every 1h" topic:coming-out'
    )
    await schedules.run('/support-admin schedule add channel:#gone when:"every 1h" topic:crisis')
    schedules.console.fail("gone", PermanentPublishError("the channel was deleted"))
    sim = schedules.console.clock
    scheduler = PostScheduler(
        schedules.store,
        schedules.publishers,
        stack.support,
        sim,
        "owner",
        sleep=sim.sleep,
        lease_seconds=86400,
        heartbeat_seconds=3600,
        idle_seconds=3600,
    )
    await run_scheduler_until(scheduler, sim, NOW + timedelta(hours=2, minutes=30))
    welcome = [post for post in schedules.console.posts if post.channel_id == "welcome"]
    assert len(welcome) == 2
    card = welcome[0].card
    assert card.topic == "coming-out"
    assert card.body.startswith(("Your pace", "You decide", "Nobody is owed"))
    assert "Helpline Directory" in [resource.title for resource in card.resources]
    history = await schedules.run("/support-admin schedule history")
    text = "\n".join(history.lines)
    assert "#1 · Sun 2026-11-29 13:00 UTC · sent" in text
    assert "#2 · Sun 2026-11-29 13:00 UTC · failed: the channel was deleted" in text
    one = await schedules.run("/support-admin schedule history id:2")
    assert one.lines == ("Sun 2026-11-29 13:00 UTC · failed: the channel was deleted",)
    listing = "\n".join((await schedules.run("/support-admin schedule list")).lines)
    assert "paused: the channel was deleted" in listing
    assert "last: sent, Sun 2026-11-29 14:00 UTC" in listing
    statuses = [s.status for s in await schedules.store.slots(1)]
    assert statuses == [SlotStatus.SENT, SlotStatus.SENT]


async def test_a_one_shot_resumed_after_its_time_posts_now(schedules: Schedules) -> None:
    await schedules.run(
        '/support-admin schedule add channel:#welcome when:"in 10m" topic:coming-out'
    )
    await schedules.run("/support-admin schedule pause id:1")
    schedules.stack.clock.current = NOW + timedelta(hours=3)
    card = await schedules.run("/support-admin schedule resume id:1")
    assert card.body == "Its time has passed, so it posts now."
    stored = await schedules.store.get(1)
    assert stored is not None and stored.next_run_at == epoch(NOW + timedelta(hours=3))


async def test_removing_haven_pauses_every_schedule_of_the_community(
    schedules: Schedules, stack: Stack
) -> None:
    guild_ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    for _ in range(2):
        await schedules.run(
            '/support-admin schedule add channel:112233445566778899 when:"daily 09:00" '
            "topic:crisis",
            guild_ctx,
        )
    await schedules.run(ADD)  # the console's own schedule is untouched
    await stack.communities.mark_removed(GUILD, "Haven was removed from the server")
    paused = [s for s in await schedules.store.list_for_community(GUILD) if s.paused]
    assert len(paused) == 2
    assert {s.paused_reason for s in paused} == {"Haven was removed from the server"}
    console = await schedules.store.get(3)
    assert console is not None and not console.paused


async def test_return_within_grace_resumes_what_removal_paused(
    schedules: Schedules, stack: Stack
) -> None:
    guild_ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    add = '/support-admin schedule add channel:112233445566778899 when:"{when}" topic:crisis'
    await schedules.run(add.format(when="daily 09:00"), guild_ctx)
    await schedules.run(add.format(when="weekly mon 18:00"), guild_ctx)
    await schedules.run("/support-admin schedule pause id:2", guild_ctx)  # a moderator's pause
    await stack.communities.mark_removed(GUILD, "Haven was removed from the server")
    stack.clock.current += timedelta(days=3)
    await stack.communities.ensure(Platform.DISCORD, "1234", "Guild")
    daily, weekly = await schedules.store.list_for_community(GUILD)
    assert not daily.paused and daily.next_run_at is not None
    assert daily.next_run_at > int(stack.clock.current.timestamp())
    assert weekly.paused, "a moderator's own pause is theirs to undo"


async def test_help_lists_every_schedule_verb(schedules: Schedules) -> None:
    card = await schedules.run("/support-admin help")
    text = "\n".join(card.lines)
    for verb in ("add", "list", "pause", "resume", "remove", "test", "history"):
        assert f"/support-admin schedule {verb}" in text


async def test_service_rejects_a_removed_community(schedules: Schedules, stack: Stack) -> None:
    await stack.communities.mark_removed(GUILD)
    moderator = Actor(id="m", display_name="M", has_admin_permission=True)
    with pytest.raises(Exception, match="removed"):
        await schedules.service.add(
            RequestContext(GUILD, Platform.DISCORD, moderator),
            channel="112233445566778899",
            when="daily 09:00",
            topic="crisis",
        )
    await asyncio.sleep(0)


async def test_a_long_list_is_paged(schedules: Schedules) -> None:
    for _ in range(12):
        await schedules.run(ADD)
    first = await schedules.run("/support-admin schedule list")
    assert first.page is not None and (first.page.page, first.page.page_count) == (1, 2)
    assert first.page.command == "/support-admin schedule list"
    second = await schedules.run(first.page.command + " page:2")
    assert [line for line in second.lines if line.startswith("#")] == [
        "#11 · daily 09:00 (UTC) · topic coming-out → #welcome",
        "#12 · daily 09:00 (UTC) · topic coming-out → #welcome",
    ]


async def test_a_specific_message_can_be_scheduled(schedules: Schedules) -> None:
    card = await schedules.run(
        '/support-admin schedule add channel:#welcome when:"daily 09:00" message:coming-out-2'
    )
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert ("Posts", "message coming-out-2") in card.fields
    stored = await schedules.store.get(1)
    assert stored is not None and stored.message_key == "coming-out-2" and stored.topic is None
    await schedules.run("/support-admin schedule test id:1")
    posted = schedules.console.posts[0].card
    assert posted.message_key == "coming-out-2"
    assert posted.body.startswith("You decide who knows.")


async def test_add_without_the_platform_connected_says_it_could_not_check(
    schedules: Schedules,
) -> None:
    del schedules.publishers[Platform.DISCORD]
    ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    card = await schedules.run(
        '/support-admin schedule add channel:112233445566778899 when:"daily 09:00" topic:crisis',
        ctx,
    )
    assert card.tone is CardTone.SUCCESS
    assert "could not check the channel now" in card.footer


# ---- edit, remove with confirmation, identical schedules --------------------------------


async def audit_rows(
    stack: Stack, action: str
) -> list[tuple[dict[str, object], dict[str, object]]]:
    import json

    rows = await stack.db.fetch_all(
        "SELECT before_json, after_json FROM audit_log WHERE item_kind = 'schedule'"
        " AND action = ? ORDER BY id",
        (action,),
    )
    return [(json.loads(r["before_json"]), json.loads(r["after_json"])) for r in rows]


async def test_edit_changes_when_and_topic_in_place_with_before_and_after_audited(
    schedules: Schedules, stack: Stack
) -> None:
    await schedules.run(ADD)
    card = await schedules.run(
        '/support-admin schedule edit id:1 when:"daily 10:00" topic:crisis timezone:Europe/Paris'
    )
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert card.title == "Schedule 1 changed"
    assert "when daily 09:00 (UTC) → daily 10:00 (Europe/Paris)" in card.body
    assert "posts topic coming-out → topic crisis" in card.body
    assert ("When", "daily 10:00 (Europe/Paris)") in card.fields
    assert card.lines == (  # recomputed from now (12:00 UTC = 13:00 in Paris)
        "Next runs:",
        "• Mon 2026-11-30 10:00 CET (09:00 UTC)",
        "• Tue 2026-12-01 10:00 CET (09:00 UTC)",
        "• Wed 2026-12-02 10:00 CET (09:00 UTC)",
    )
    stored = await schedules.store.get(1)
    assert stored is not None
    assert (stored.when_text, stored.timezone, stored.topic, stored.channel_id) == (
        "daily 10:00",
        "Europe/Paris",
        "crisis",
        "welcome",  # not given: kept
    )
    assert stored.next_run_at == epoch(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert stored.version == 2 and stored.created_by == MODERATOR.id
    [(before, after)] = await audit_rows(stack, "edit")
    assert (before["when"], before["topic"], before["timezone"]) == (
        "daily 09:00",
        "coming-out",
        "UTC",
    )
    assert (after["when"], after["topic"], after["timezone"]) == (
        "daily 10:00",
        "crisis",
        "Europe/Paris",
    )
    assert schedules.wakes == [1, 1]  # add, edit: the scheduler looks again at once


async def test_edit_keeps_a_paused_schedule_paused_and_says_so(schedules: Schedules) -> None:
    await schedules.run(ADD)
    await schedules.run("/support-admin schedule pause id:1")
    card = await schedules.run("/support-admin schedule edit 1 channel:#general")
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert "channel #welcome → #general" in card.body
    assert "still paused (paused by Mod One)" in card.body
    assert card.lines[0] == "Next runs, if resumed now:"
    assert "schedule resume id:1" in card.footer
    stored = await schedules.store.get(1)
    assert stored is not None and stored.paused and stored.channel_id == "general"


async def test_edit_checks_the_channel_like_add(schedules: Schedules) -> None:
    await schedules.run(ADD)
    schedules.console.unpostable.add("private")
    card = await schedules.run("/support-admin schedule edit id:1 channel:#private")
    assert card.tone is CardTone.ERROR
    assert "Haven cannot post in #private" in card.body
    stored = await schedules.store.get(1)
    assert stored is not None and stored.channel_id == "welcome"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ('when:"dialy 10:00"', "Did you mean daily 10:00?"),
        ('when:"once 2020-01-01 10:00"', "is in the past"),
        ("timezone:Europe/Londn", "Europe/London"),
        ("topic:coming-in", "coming-out"),
        ("message:no-such-message", "no enabled message 'no-such-message'"),
        ("topic:none", "say what to post"),
        ('channel:"#a b"', "channel"),
        ("colour:blue", "colour: is not an option"),
        ("", "Say what to change in schedule 1: channel, when, topic, message, timezone."),
    ],
)
async def test_a_bad_edit_changes_nothing(
    schedules: Schedules, stack: Stack, options: str, expected: str
) -> None:
    await schedules.run(ADD)
    before = await schedules.store.get(1)
    card = await schedules.run(f"/support-admin schedule edit id:1 {options}")
    assert card.tone is CardTone.ERROR
    assert expected in card.plain_text() + " ".join(c.value for c in card.choices)
    assert await schedules.store.get(1) == before
    assert await audit_rows(stack, "edit") == []
    assert schedules.wakes == [1]


async def test_edit_of_another_communitys_schedule_is_refused(schedules: Schedules) -> None:
    guild_ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    await schedules.run(
        '/support-admin schedule add channel:<#112233445566778899> when:"daily 09:00" topic:crisis',
        guild_ctx,
    )
    before = await schedules.store.get(1)
    card = await schedules.run('/support-admin schedule edit id:1 when:"daily 10:00"')
    assert card.tone is CardTone.ERROR and "no schedule 1 here" in card.body
    assert await schedules.store.get(1) == before
    member = await schedules.run(
        '/support-admin schedule edit id:1 when:"daily 10:00"',
        RequestContext(GUILD, Platform.DISCORD, MEMBER),
    )
    assert member.title == "Not permitted"
    assert await schedules.store.get(1) == before


async def test_edit_can_switch_between_a_message_and_the_rotation(schedules: Schedules) -> None:
    await schedules.run(
        '/support-admin schedule add channel:#welcome when:"daily 09:00" message:coming-out-2'
    )
    card = await schedules.run("/support-admin schedule edit id:1 topic:crisis message:none")
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert ("Posts", "topic crisis") in card.fields
    stored = await schedules.store.get(1)
    assert stored is not None and (stored.topic, stored.message_key) == ("crisis", None)


async def test_an_edit_that_changes_nothing_writes_nothing(
    schedules: Schedules, stack: Stack
) -> None:
    await schedules.run(ADD)
    before = await schedules.store.get(1)
    card = await schedules.run("/support-admin schedule edit id:1 topic:coming-out")
    assert card.title == "Schedule 1 unchanged" and card.tone is CardTone.INFO
    assert await schedules.store.get(1) == before
    assert await audit_rows(stack, "edit") == []


async def test_a_sent_one_shot_cannot_be_edited_into_a_second_post(schedules: Schedules) -> None:
    await schedules.run(
        '/support-admin schedule add channel:#welcome when:"in 10m" topic:coming-out'
    )
    await schedules.store.claim_due(
        epoch(NOW + timedelta(minutes=10)),
        10,
        set(),
        lambda s: SlotPlan(claim=s.next_run_at, missed=(), next_run_at=None),
        "owner",
        epoch(NOW + timedelta(minutes=11)),
    )
    slot = (await schedules.store.slots(1))[0]
    await schedules.store.record_outcomes(
        [SlotOutcome(1, slot.slot_at, SlotStatus.SENT, message_id="m1")], slot.slot_at
    )
    card = await schedules.run('/support-admin schedule edit id:1 when:"in 1h"')
    assert card.tone is CardTone.ERROR and "already been sent" in card.body


async def test_remove_asks_first_and_its_button_removes(schedules: Schedules, stack: Stack) -> None:
    await schedules.run(ADD)
    preview = await schedules.run("/support-admin schedule remove id:1")
    assert preview.tone is not CardTone.ERROR, preview.plain_text()
    assert preview.title == "Remove schedule 1?"
    assert "Nothing has been removed yet" in preview.body
    assert "topic coming-out in #welcome, daily 09:00 (UTC)" in preview.body
    assert ("Next run", "Mon 2026-11-30 09:00 UTC") in preview.fields
    [button] = preview.actions
    assert button.label == "Remove schedule 1"
    assert button.value == "/support-admin schedule remove id:1 confirm:yes version:1"
    assert await schedules.store.get(1) is not None
    assert await audit_rows(stack, "remove") == []
    assert schedules.wakes == [1]  # the preview changed nothing
    declined = await schedules.run("/support-admin schedule remove id:1 confirm:no")
    assert declined.title == "Remove schedule 1?"
    assert await schedules.store.get(1) is not None
    removed = await schedules.run(button.value)  # what every platform's button runs
    assert removed.title == "Schedule 1 removed" and removed.tone is CardTone.SUCCESS
    assert await schedules.store.get(1) is None
    rows = await stack.db.fetch_all(
        "SELECT before_json, after_json FROM audit_log WHERE action = 'remove'"
    )
    assert len(rows) == 1 and rows[0]["after_json"] is None
    again = await schedules.run(button.value)  # a second press: it is gone, said plainly
    assert again.tone is CardTone.ERROR and "no schedule 1 here" in again.body


async def test_confirm_is_for_typing_and_buttons_not_for_help(schedules: Schedules) -> None:
    card = await schedules.run("/support-admin schedule help")
    text = "\n".join(card.lines)
    assert "schedule remove id:3  —" in text and "confirm:" not in text
    assert "schedule edit id:3 [channel:#welcome]" in text
    bad = await schedules.run("/support-admin schedule remove id:1 confirm:maybe")
    assert bad.tone is CardTone.ERROR and "answer yes or no" in bad.body


async def test_another_communitys_schedule_cannot_be_removed_even_confirmed(
    schedules: Schedules,
) -> None:
    guild_ctx = RequestContext(GUILD, Platform.DISCORD, MODERATOR)
    await schedules.run(
        '/support-admin schedule add channel:<#112233445566778899> when:"daily 09:00" topic:crisis',
        guild_ctx,
    )
    card = await schedules.run("/support-admin schedule remove id:1 confirm:yes")
    assert card.tone is CardTone.ERROR and "no schedule 1 here" in card.body
    assert await schedules.store.get(1) is not None


async def test_an_identical_schedule_is_added_with_a_warning(schedules: Schedules) -> None:
    first = await schedules.run(ADD)
    assert "already posts the same thing" not in first.footer
    second = await schedules.run(
        '/support-admin schedule add channel:#Welcome when:"Daily 9:00" topic:Coming-Out'
    )
    assert second.tone is CardTone.SUCCESS and second.title == "Schedule 2 added"
    assert (
        "Schedule 1 already posts the same thing in the same channel at the same times; "
        "remove one with `/support-admin schedule remove id:1`." in second.footer
    )
    assert await schedules.count() == 2
    # Different in any one respect: no warning.
    for other in (
        '/support-admin schedule add channel:#general when:"daily 09:00" topic:coming-out',
        '/support-admin schedule add channel:#welcome when:"daily 09:30" topic:coming-out',
        '/support-admin schedule add channel:#welcome when:"daily 09:00" topic:crisis',
        ADD + " timezone:Europe/London",
        ADD + " message:coming-out-2",
    ):
        card = await schedules.run(other)
        assert card.tone is CardTone.SUCCESS, card.plain_text()
        assert "posts the same thing" not in card.footer, other


async def test_every_intervals_that_line_up_are_the_same_times(schedules: Schedules) -> None:
    every = '/support-admin schedule add channel:#crisis when:"every 6h" topic:crisis'
    await schedules.run(every)
    schedules.stack.clock.current = NOW + timedelta(days=1)  # a different origin, same slots
    card = await schedules.run(every)
    assert "Schedule 1 already posts the same thing" in card.footer
    shifted = await schedules.run(
        '/support-admin schedule add channel:#crisis when:"every 6h from 01:00" topic:crisis'
    )
    assert "posts the same thing" not in shifted.footer


async def test_an_edit_that_makes_a_duplicate_says_so(schedules: Schedules) -> None:
    await schedules.run(ADD)
    await schedules.run(
        '/support-admin schedule add channel:#welcome when:"daily 10:00" topic:coming-out'
    )
    await schedules.run("/support-admin schedule pause id:1")
    card = await schedules.run('/support-admin schedule edit id:2 when:"daily 09:00"')
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert "Schedule 1 (paused now) posts the same thing" in card.footer
    assert "Schedule 2 " not in card.footer


async def test_an_edit_racing_another_change_overwrites_nothing(
    schedules: Schedules, monkeypatch: pytest.MonkeyPatch
) -> None:
    await schedules.run(ADD)
    store = schedules.store
    real = store.update_definition

    async def paused_meanwhile(edited: Schedule, audit: NewAuditEntry) -> Schedule | None:
        # Another moderator pauses it between the edit's read and its write.
        await store.update_state(
            1, edited.community_id, paused=True, paused_reason="x", next_run_at=None, audit=audit
        )
        return await real(edited, audit)

    monkeypatch.setattr(store, "update_definition", paused_meanwhile)
    card = await schedules.run('/support-admin schedule edit id:1 when:"daily 10:00"')
    assert card.tone is CardTone.ERROR and card.title == "Changed since you opened it"
    stored = await store.get(1)
    assert stored is not None and stored.when_text == "daily 09:00" and stored.paused


async def test_a_remove_button_pressed_after_an_edit_removes_nothing(schedules: Schedules) -> None:
    await schedules.run(ADD)
    [button] = (await schedules.run("/support-admin schedule remove id:1")).actions
    edited = await schedules.run('/support-admin schedule edit id:1 when:"daily 10:00"')
    assert edited.tone is CardTone.SUCCESS, edited.plain_text()
    stale = await schedules.run(button.value)
    assert stale.tone is CardTone.ERROR and "changed after you asked to remove it" in stale.body
    assert await schedules.store.get(1) is not None
