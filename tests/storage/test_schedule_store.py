"""SqlScheduleStore on real SQLite with the real migrations: the transactions the scheduler's
guarantees rest on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.errors import IntegrityError
from bot.core.models import Platform
from bot.core.scheduling.schedules import NewSchedule, SlotPlan, SlotStatus
from bot.scheduler import LEGACY_LEASE_NAME, lease_name_for
from bot.storage.database import Database
from bot.storage.schedule_store import SlotOutcome, SqlScheduleStore
from tests.conftest import reopen
from tests.test_scheduler_helpers import add_community, audit_for

COMMUNITY = "discord:1"
OTHER = "discord:2"
T0 = 1_772_355_600  # 2026-03-01 09:00 UTC


def new(channel: str = "c1", next_run_at: int = T0, community: str = COMMUNITY) -> NewSchedule:
    return NewSchedule(
        community_id=community,
        platform=Platform.DISCORD,
        channel_id=channel,
        channel_label=f"<#{channel}>",
        topic="general",
        message_key=None,
        when_text="daily 09:00",
        timezone="UTC",
        one_shot=False,
        next_run_at=next_run_at,
        grace_seconds=3600,
        created_by="mod-1",
        created_at=T0 - 3600,
    )


@pytest.fixture
async def store(db: Database) -> SqlScheduleStore:
    await add_community(db, COMMUNITY, Platform.DISCORD, log_channel_id="modlog")
    await add_community(db, OTHER, Platform.DISCORD)
    return SqlScheduleStore(db)


def advance_daily(schedule: object) -> SlotPlan:
    slot = schedule.next_run_at  # type: ignore[attr-defined]
    return SlotPlan(claim=slot, missed=(), next_run_at=slot + 86400)


async def test_insert_writes_the_schedule_and_its_audit_entry_together(
    store: SqlScheduleStore, db: Database
) -> None:
    schedule = await store.insert(new(), audit_for)
    assert schedule.id > 0 and schedule.next_run_at == T0 and not schedule.paused
    rows = await db.fetch_all(
        "SELECT item_kind, item_key, actor_id FROM audit_log WHERE community_id = ?",
        (COMMUNITY,),
    )
    assert [tuple(row) for row in rows] == [("schedule", str(schedule.id), "mod")]


@pytest.mark.sqlite_only  # SQLite's planner; PostgreSQL's picks by table size
async def test_next_due_reads_the_partial_index(store: SqlScheduleStore, db: Database) -> None:
    await store.insert(new(next_run_at=T0 + 60), audit_for)
    await store.insert(new(next_run_at=T0), audit_for)
    assert await store.next_due_at() == T0
    plan = await db.fetch_all(
        "EXPLAIN QUERY PLAN SELECT min(next_run_at) FROM schedules"
        " WHERE paused = 0 AND next_run_at IS NOT NULL"
    )
    assert any("schedules_due" in str(tuple(row)) for row in plan)


async def test_claim_inserts_the_slot_key_and_advances_in_one_transaction(
    store: SqlScheduleStore,
) -> None:
    schedule = await store.insert(new(), audit_for)
    claimed = await store.claim_due(T0, 10, set(), advance_daily, "owner", T0 + 20)
    assert [(c.schedule.id, c.slot_at) for c in claimed] == [(schedule.id, T0)]
    slots = await store.slots(schedule.id)
    assert [(s.slot_at, s.status, s.attempts) for s in slots] == [(T0, SlotStatus.CLAIMED, 1)]
    after = await store.get(schedule.id)
    assert after is not None and after.next_run_at == T0 + 86400
    # Nothing is due any more: claiming again at the same instant claims nothing.
    assert await store.claim_due(T0, 10, set(), advance_daily, "owner", T0 + 20) == []


async def test_a_slot_key_that_exists_is_never_claimed_again(
    store: SqlScheduleStore, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    schedule = await store.insert(new(), audit_for)
    await store.claim_due(T0, 10, set(), advance_daily, "owner", T0 + 20)
    await store.record_outcomes(
        [SlotOutcome(schedule.id, T0, SlotStatus.SENT, message_id="m1")], T0
    )
    # Something moves the schedule back in time (a bug, a restored backup...).
    async with db.write() as conn:
        await conn.execute("UPDATE schedules SET next_run_at = ? WHERE id = ?", (T0, schedule.id))
    claimed = await store.claim_due(T0 + 5, 10, set(), advance_daily, "owner", T0 + 25)
    assert claimed == []
    slots = await store.slots(schedule.id)
    assert [(s.status, s.message_id) for s in slots] == [(SlotStatus.SENT, "m1")]
    assert "not posting it again" in caplog.text


async def test_a_failing_claim_writes_nothing(store: SqlScheduleStore) -> None:
    first = await store.insert(new("c1"), audit_for)
    await store.insert(new("c2"), audit_for)

    def explode(schedule: object) -> SlotPlan:
        if schedule.id != first.id:  # type: ignore[attr-defined]
            raise RuntimeError("planner bug")
        return advance_daily(schedule)

    with pytest.raises(RuntimeError, match=r"^planner bug$"):
        await store.claim_due(T0, 10, set(), explode, "owner", T0 + 20)
    assert await store.slots(first.id) == []
    unchanged = await store.get(first.id)
    assert unchanged is not None and unchanged.next_run_at == T0


async def test_claim_skips_schedules_still_being_posted_and_respects_the_limit(
    store: SqlScheduleStore,
) -> None:
    ids = [(await store.insert(new(f"c{i}"), audit_for)).id for i in range(5)]
    claimed = await store.claim_due(T0, 2, {ids[0]}, advance_daily, "owner", T0 + 20)
    assert [c.schedule.id for c in claimed] == ids[1:3]


async def test_missed_rows_and_pause_are_written_with_the_claim(
    store: SqlScheduleStore,
) -> None:
    schedule = await store.insert(new(), audit_for)

    def plan(_: object) -> SlotPlan:
        return SlotPlan(
            claim=T0, missed=((T0 - 86400, "Haven was not running"),), next_run_at=T0 + 86400
        )

    await store.claim_due(T0, 10, set(), plan, "owner", T0 + 20)
    slots = await store.slots(schedule.id)
    assert [(s.status, s.reason) for s in slots] == [
        (SlotStatus.MISSED, "Haven was not running"),
        (SlotStatus.CLAIMED, None),
    ]

    broken = await store.insert(new("c9"), audit_for)

    def unreadable(_: object) -> SlotPlan:
        return SlotPlan(claim=None, missed=(), next_run_at=T0, pause_reason="cannot read when")

    await store.claim_due(T0, 10, set(), unreadable, "owner", T0 + 20)
    paused = await store.get(broken.id)
    assert paused is not None and paused.paused and paused.paused_reason == "cannot read when"


async def test_outcomes_only_overwrite_claimed_slots_and_pause_never_deletes(
    store: SqlScheduleStore,
) -> None:
    schedule = await store.insert(new(), audit_for)
    await store.claim_due(T0, 10, set(), advance_daily, "owner", T0 + 20)
    failure = SlotOutcome(
        schedule.id, T0, SlotStatus.FAILED, reason="Unknown Channel", pause_reason="Unknown Channel"
    )
    await store.record_outcomes([failure], T0 + 1)
    # A late duplicate outcome for the same slot changes nothing.
    await store.record_outcomes([SlotOutcome(schedule.id, T0, SlotStatus.SENT, "x")], T0 + 2)
    slot = (await store.slots(schedule.id))[0]
    assert slot.status is SlotStatus.FAILED and slot.reason == "Unknown Channel"
    after = await store.get(schedule.id)
    assert after is not None and after.paused and after.paused_reason == "Unknown Channel"
    assert after.last_outcome == "failed"


async def test_recover_retries_within_grace_and_marks_the_rest_missed(
    store: SqlScheduleStore,
) -> None:
    keep = await store.insert(new("c1"), audit_for)
    lose = await store.insert(new("c2"), audit_for)
    await store.claim_due(T0, 10, set(), advance_daily, "dead", T0 + 20)

    seen_claimed_at: list[int] = []

    def retry(schedule: object, slot_at: int, claimed_at: int) -> tuple[SlotStatus, str] | None:
        seen_claimed_at.append(claimed_at)
        if schedule.id == keep.id:  # type: ignore[attr-defined]
            return None
        return SlotStatus.MISSED, "too late"

    retried = await store.recover_claimed(T0 + 600, "new-owner", T0 + 620, retry)
    assert [(c.schedule.id, c.attempts) for c in retried] == [(keep.id, 2)]
    assert seen_claimed_at == [T0, T0]
    kept = (await store.slots(keep.id))[0]
    assert kept.status is SlotStatus.CLAIMED and kept.attempts == 2
    lost = (await store.slots(lose.id))[0]
    assert lost.status is SlotStatus.MISSED and lost.reason == "too late"
    # A second crash: the retried slot still says when it was first claimed (the earliest
    # moment a post of it may exist), not when it was retried.
    seen_claimed_at.clear()
    await store.recover_claimed(T0 + 900, "third-owner", T0 + 920, retry)
    assert seen_claimed_at == [T0]


async def test_recover_can_end_a_slot_unknown(store: SqlScheduleStore) -> None:
    schedule = await store.insert(new("c1"), audit_for)
    await store.claim_due(T0, 10, set(), advance_daily, "dead", T0 + 20)

    def retry(_s: object, _slot: int, _claimed: int) -> tuple[SlotStatus, str] | None:
        return SlotStatus.UNKNOWN, "may be in the channel"

    assert await store.recover_claimed(T0 + 900, "new-owner", T0 + 920, retry) == []
    slot = (await store.slots(schedule.id))[0]
    assert slot.status is SlotStatus.UNKNOWN and slot.reason == "may be in the channel"
    after = await store.get(schedule.id)
    assert after is not None and (after.last_outcome or "").startswith("unknown")


async def test_lease_is_exclusive_until_it_expires(store: SqlScheduleStore) -> None:
    a = await store.acquire_lease(lease_name_for(Platform.DISCORD), "a", 100.0, 20.0)
    b = await store.acquire_lease(lease_name_for(Platform.DISCORD), "b", 110.0, 20.0)
    assert a.acquired and not b.acquired and b.owner == "a" and b.expires_at == 120.0
    # The holder renews; the other still cannot take it.
    assert (
        await store.acquire_lease(
            lease_name_for(Platform.DISCORD), "a", 115.0, 20.0, renew_only=True
        )
    ).acquired
    assert not (
        await store.acquire_lease(lease_name_for(Platform.DISCORD), "b", 130.0, 20.0)
    ).acquired
    # The holder stops renewing: after expiry the other takes it...
    assert (await store.acquire_lease(lease_name_for(Platform.DISCORD), "b", 135.0, 20.0)).acquired
    # ...and the old holder may not quietly renew it back.
    assert not (
        await store.acquire_lease(
            lease_name_for(Platform.DISCORD), "a", 136.0, 20.0, renew_only=True
        )
    ).acquired
    await store.release_lease(lease_name_for(Platform.DISCORD), "a")  # not the holder: no effect
    assert not (
        await store.acquire_lease(lease_name_for(Platform.DISCORD), "c", 137.0, 20.0)
    ).acquired
    await store.release_lease(lease_name_for(Platform.DISCORD), "b")
    assert (await store.acquire_lease(lease_name_for(Platform.DISCORD), "c", 137.0, 20.0)).acquired


async def test_leases_of_several_platforms_are_taken_all_or_none(
    store: SqlScheduleStore,
) -> None:
    discord, slack = lease_name_for(Platform.DISCORD), lease_name_for(Platform.SLACK)
    assert (await store.acquire_leases([discord], "discord-shards", 100.0, 20.0)).acquired
    # Another platform's lease is independent: a Slack-only process leads Slack meanwhile.
    assert (await store.acquire_leases([slack], "slack-only", 100.0, 20.0)).acquired
    await store.release_lease(slack, "slack-only")
    # A process serving both cannot lead while Discord is held elsewhere, and taking Slack
    # first must not leave it holding Slack alone (it could not post Discord's share).
    both = await store.acquire_leases([discord, slack], "both", 101.0, 20.0)
    assert not both.acquired and both.owner == "discord-shards"
    assert (await store.acquire_leases([slack], "slack-only", 102.0, 20.0)).acquired
    # Renewing checks every row: one lost row means the holder steps down.
    assert not (
        await store.acquire_leases([discord, slack], "slack-only", 103.0, 20.0, renew_only=True)
    ).acquired
    assert (
        await store.acquire_leases([slack], "slack-only", 103.0, 20.0, renew_only=True)
    ).acquired


async def test_an_older_havens_single_lease_blocks_the_platforms_it_covered(
    store: SqlScheduleStore,
) -> None:
    discord = lease_name_for(Platform.DISCORD)
    await store.acquire_lease(LEGACY_LEASE_NAME, "old-haven", 100.0, 20.0)
    blocked = await store.acquire_leases(
        [discord], "new-haven", 105.0, 20.0, also_free=[LEGACY_LEASE_NAME]
    )
    assert not blocked.acquired and blocked.owner == "old-haven"
    # The old process stopped (its lease expired): the new one leads at once...
    taken = await store.acquire_leases(
        [discord], "new-haven", 121.0, 20.0, also_free=[LEGACY_LEASE_NAME]
    )
    assert taken.acquired
    # ...and holds the old lease too, so an older standby does not start posting beside it,
    old_standby = await store.acquire_lease(LEGACY_LEASE_NAME, "old-standby", 125.0, 20.0)
    assert not old_standby.acquired
    # while another new process (Slack's leader) may share that guard.
    slack = await store.acquire_leases(
        [lease_name_for(Platform.SLACK)], "new-slack", 126.0, 20.0, also_free=[LEGACY_LEASE_NAME]
    )
    assert slack.acquired
    assert (
        await store.acquire_leases(
            [discord], "new-haven", 127.0, 20.0, renew_only=True, also_free=[LEGACY_LEASE_NAME]
        )
    ).acquired
    assert not (await store.acquire_lease(LEGACY_LEASE_NAME, "old-standby", 140.0, 20.0)).acquired


async def test_lease_on_two_connections_to_one_file_has_one_winner(
    store: SqlScheduleStore, db: Database
) -> None:
    import asyncio

    other = await reopen(db)
    try:
        stores = [store, SqlScheduleStore(other)]
        results = await asyncio.gather(
            *(
                s.acquire_lease(lease_name_for(Platform.DISCORD), f"p{i}", 100.0, 20.0)
                for i, s in enumerate(stores)
            )
        )
        assert sorted(r.acquired for r in results) == [False, True]
    finally:
        await other.close()


async def test_history_is_scoped_to_the_community_and_newest_first(
    store: SqlScheduleStore,
) -> None:
    mine = await store.insert(new("c1"), audit_for)
    theirs = await store.insert(new("c2", community=OTHER), audit_for)
    for day in range(3):
        at = T0 + day * 86400

        def plan(schedule: object, at: int = at) -> SlotPlan:
            return SlotPlan(claim=at, missed=(), next_run_at=at + 86400)

        await store.claim_due(at, 10, set(), plan, "owner", at + 20)
        await store.record_outcomes(
            [
                SlotOutcome(mine.id, at, SlotStatus.SENT, message_id=f"m{day}"),
                SlotOutcome(theirs.id, at, SlotStatus.SENT, message_id=f"t{day}"),
            ],
            at,
        )
    history = await store.history(COMMUNITY, None, 10)
    assert [s.slot_at for s in history] == [T0 + 2 * 86400, T0 + 86400, T0]
    assert {s.schedule_id for s in history} == {mine.id}
    assert await store.history(COMMUNITY, theirs.id, 10) == []
    assert await store.has_sent_slot(mine.id)


async def test_state_changes_are_scoped_and_deleting_a_community_cascades(
    store: SqlScheduleStore, db: Database
) -> None:
    schedule = await store.insert(new(), audit_for)
    assert (
        await store.update_state(
            schedule.id,
            OTHER,
            paused=True,
            paused_reason="x",
            next_run_at=None,
            audit=audit_for(schedule.id),
        )
        is None
    )
    assert not await store.delete(schedule.id, OTHER, audit_for(schedule.id))
    assert await store.pause_all_for_community(COMMUNITY, "Haven was removed") == 1
    paused = await store.get(schedule.id)
    assert paused is not None and paused.paused_reason == "Haven was removed"
    await store.claim_due(T0, 10, set(), advance_daily, "owner", T0)  # paused: nothing
    assert await store.slots(schedule.id) == []
    async with db.write() as conn:
        await conn.execute("DELETE FROM communities WHERE id = ?", (COMMUNITY,))
    assert await store.get(schedule.id) is None


async def test_slot_status_is_checked_by_the_database(db: Database) -> None:
    await add_community(db, COMMUNITY, Platform.DISCORD)
    store = SqlScheduleStore(db)
    schedule = await store.insert(new(), audit_for)
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO schedule_slots (schedule_id, slot_at, status, updated_at)"
                " VALUES (?, ?, 'posted', 0)",
                (schedule.id, T0),
            )


async def test_update_definition_writes_with_its_audit_only_over_the_version_read(
    store: SqlScheduleStore, db: Database
) -> None:
    schedule = await store.insert(new(), audit_for)
    await store.update_state(
        schedule.id,
        COMMUNITY,
        paused=True,
        paused_reason="paused by Mod",
        next_run_at=T0,
        audit=audit_for(schedule.id),
    )
    read = await store.get(schedule.id)
    assert read is not None and read.version == 2
    edited = replace(
        read,
        channel_id="c9",
        channel_label="<#c9>",
        topic=None,
        message_key="general-1",
        when_text="weekly mon 10:00",
        timezone="Europe/Paris",
        next_run_at=T0 + 86400,
        grace_seconds=1800,
        paused=False,  # never written by an edit
        created_by="someone-else",  # nor this
    )
    after = await store.update_definition(edited, audit_for(schedule.id))
    assert after is not None
    assert (after.channel_id, after.topic, after.message_key, after.when_text) == (
        "c9",
        None,
        "general-1",
        "weekly mon 10:00",
    )
    assert (after.timezone, after.next_run_at, after.grace_seconds, after.version) == (
        "Europe/Paris",
        T0 + 86400,
        1800,
        3,
    )
    assert after.paused and after.paused_reason == "paused by Mod"
    assert after.created_by == "mod-1"
    # Written from a stale read (the version moved on), or for another community: nothing.
    assert await store.update_definition(replace(edited, topic="x"), audit_for(1)) is None
    assert (
        await store.update_definition(
            replace(after, community_id=OTHER, topic="x"), audit_for(schedule.id)
        )
        is None
    )
    assert await store.get(schedule.id) == after
    count = await db.fetch_one(
        "SELECT count(*) FROM audit_log WHERE community_id = ?", (COMMUNITY,)
    )
    assert count is not None and count[0] == 3  # insert, pause, one edit
