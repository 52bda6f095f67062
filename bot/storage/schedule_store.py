"""All schedule SQL: schedules, their slots, and the scheduler lease (tables.py), on either engine.

The rules (what is due, what is missed, when to retry) live in bot/core/scheduling/schedules.py;
this module only reads and writes rows, in transactions shaped so the guarantees hold:
- a slot is claimed by inserting its UNIQUE key (schedule id, slot instant) in the same
  transaction that advances the schedule, so no slot is claimed twice, by this process or any;
- an outcome is only written over a row that is still `claimed`, so a slot's final state is
  written once;
- the lease is taken with one conditional upsert (`ON CONFLICT ... DO UPDATE ... WHERE` the
  row is ours or expired), so two processes can never both believe they hold it, on SQLite
  (one writer) or PostgreSQL (the row lock the upsert takes);
- on PostgreSQL, due schedules are read `FOR UPDATE SKIP LOCKED`: a second claimer skips
  rows the first is claiming instead of waiting for them.
Batches use executemany and a handful of statements per transaction, whatever the batch size
(each aiosqlite statement is a round trip to its worker thread: ~100 µs, against ~7 µs for
plain sqlite3; each asyncpg statement a round trip to the server).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

from bot.core.models import Platform
from bot.core.ports import NewAuditEntry
from bot.core.scheduling.schedules import (
    UNKNOWN_SENTENCE,
    ClaimedSlot,
    LeaseState,
    NewSchedule,
    Schedule,
    SlotOutcome,
    SlotPlan,
    SlotRecord,
    SlotStatus,
)
from bot.storage.database import Row, SqlDatabase
from bot.storage.repositories import insert_audit

log = logging.getLogger(__name__)

# The records the scheduler exchanges with this store live in the core; named here too.
__all__ = ["ClaimedSlot", "LeaseState", "SlotOutcome", "SqlScheduleStore"]

_COLUMNS = (
    "id, community_id, platform, channel_id, channel_label, topic, message_key, when_text,"
    " timezone, one_shot, next_run_at, grace_seconds, paused, paused_reason, created_by,"
    " created_at, last_outcome, last_outcome_at, version"
)


def _platform_filter(
    platforms: Collection[Platform] | None, column: str
) -> tuple[str, tuple[list[str], ...]]:
    """An `AND column IN (...)` clause (and its parameter) limiting rows to these platforms;
    nothing when None (every platform)."""
    if platforms is None:
        return "", ()
    return f" AND {column} IN ?", (sorted(platform.value for platform in platforms),)


def _outcome_label(status: SlotStatus) -> str:
    """A schedule's `last_outcome` as `schedule list` shows it: the status, and for a slot that
    may or may not be in the channel, that sentence (a bare "unknown" would read as a bug)."""
    if status is SlotStatus.UNKNOWN:
        return f"{status.value} ({UNKNOWN_SENTENCE})"
    return status.value


def _schedule(row: Row) -> Schedule:
    return Schedule(
        id=row["id"],
        community_id=row["community_id"],
        platform=Platform(row["platform"]),
        channel_id=row["channel_id"],
        channel_label=row["channel_label"],
        topic=row["topic"],
        message_key=row["message_key"],
        when_text=row["when_text"],
        timezone=row["timezone"],
        one_shot=bool(row["one_shot"]),
        next_run_at=row["next_run_at"],
        grace_seconds=row["grace_seconds"],
        paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_outcome=row["last_outcome"],
        last_outcome_at=row["last_outcome_at"],
        version=row["version"],
    )


def _slot(row: Row) -> SlotRecord:
    return SlotRecord(
        schedule_id=row["schedule_id"],
        slot_at=row["slot_at"],
        status=SlotStatus(row["status"]),
        reason=row["reason"],
        attempts=row["attempts"],
        message_id=row["message_id"],
        updated_at=row["updated_at"],
    )


class SqlScheduleStore:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    # ---- moderator side (ScheduleRepository) -----------------------------------------

    async def insert(self, new: NewSchedule, audit: Callable[[int], NewAuditEntry]) -> Schedule:
        async with self._db.write() as conn:
            inserted = await conn.execute(
                "INSERT INTO schedules (community_id, platform, channel_id, channel_label, topic,"
                " message_key, when_text, timezone, one_shot, next_run_at, grace_seconds,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (
                    new.community_id,
                    new.platform.value,
                    new.channel_id,
                    new.channel_label,
                    new.topic,
                    new.message_key,
                    new.when_text,
                    new.timezone,
                    int(new.one_shot),
                    new.next_run_at,
                    new.grace_seconds,
                    new.created_by,
                    new.created_at,
                ),
            )
            row = inserted.first()
            schedule_id = int(row[0]) if row else 0
            # The schedule and the record of who added it commit together.
            await insert_audit(conn, new.community_id, audit(schedule_id))
            rows = await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)
            )
        return _schedule(next(iter(rows)))

    async def insert_many(self, news: Sequence[NewSchedule]) -> None:
        """Bulk load without audit entries: benchmarks and tests only."""
        async with self._db.write() as conn:
            await conn.executemany(
                "INSERT INTO schedules (community_id, platform, channel_id, channel_label, topic,"
                " message_key, when_text, timezone, one_shot, next_run_at, grace_seconds,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        n.community_id,
                        n.platform.value,
                        n.channel_id,
                        n.channel_label,
                        n.topic,
                        n.message_key,
                        n.when_text,
                        n.timezone,
                        int(n.one_shot),
                        n.next_run_at,
                        n.grace_seconds,
                        n.created_by,
                        n.created_at,
                    )
                    for n in news
                ],
            )

    async def get(self, schedule_id: int) -> Schedule | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)
        )
        return _schedule(row) if row else None

    async def list_for_community(self, community_id: str) -> list[Schedule]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM schedules WHERE community_id = ? ORDER BY id",
            (community_id,),
        )
        return [_schedule(row) for row in rows]

    async def count_for_community(self, community_id: str) -> int:
        row = await self._db.fetch_one(
            "SELECT count(*) FROM schedules WHERE community_id = ?", (community_id,)
        )
        return int(row[0]) if row else 0

    async def update_state(
        self,
        schedule_id: int,
        community_id: str,
        *,
        paused: bool,
        paused_reason: str | None,
        next_run_at: int | None,
        audit: NewAuditEntry,
    ) -> Schedule | None:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE schedules SET paused = ?, paused_reason = ?, next_run_at = ?,"
                " version = version + 1 WHERE id = ? AND community_id = ?",
                (int(paused), paused_reason, next_run_at, schedule_id, community_id),
            )
            if cursor.rowcount != 1:
                return None
            await insert_audit(conn, community_id, audit)
            rows = await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)
            )
        return _schedule(next(iter(rows)))

    async def update_definition(self, edited: Schedule, audit: NewAuditEntry) -> Schedule | None:
        """Write what `edited` posts, where and when, and its next run, with its audit entry in
        the same transaction. Only while the row still has `edited.version` (nobody paused,
        resumed or edited it since it was read): None otherwise, and nothing is written. The
        paused state, the history and the creator are left as they are."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE schedules SET channel_id = ?, channel_label = ?, topic = ?,"
                " message_key = ?, when_text = ?, timezone = ?, one_shot = ?, next_run_at = ?,"
                " grace_seconds = ?, version = version + 1"
                " WHERE id = ? AND community_id = ? AND version = ?",
                (
                    edited.channel_id,
                    edited.channel_label,
                    edited.topic,
                    edited.message_key,
                    edited.when_text,
                    edited.timezone,
                    int(edited.one_shot),
                    edited.next_run_at,
                    edited.grace_seconds,
                    edited.id,
                    edited.community_id,
                    edited.version,
                ),
            )
            if cursor.rowcount != 1:
                return None
            await insert_audit(conn, edited.community_id, audit)
            rows = await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (edited.id,)
            )
        return _schedule(next(iter(rows)))

    async def delete(self, schedule_id: int, community_id: str, audit: NewAuditEntry) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "DELETE FROM schedules WHERE id = ? AND community_id = ?",
                (schedule_id, community_id),
            )
            if cursor.rowcount != 1:
                return False
            await insert_audit(conn, community_id, audit)
        return True

    async def pause_all_for_community(self, community_id: str, reason: str) -> int:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE schedules SET paused = 1, paused_reason = ?, version = version + 1"
                " WHERE community_id = ? AND paused = 0",
                (reason, community_id),
            )
            return int(cursor.rowcount)

    async def history(
        self, community_id: str, schedule_id: int | None, limit: int
    ) -> list[SlotRecord]:
        if schedule_id is not None:
            rows = await self._db.fetch_all(
                "SELECT sl.* FROM schedule_slots sl JOIN schedules s ON s.id = sl.schedule_id"
                " WHERE s.community_id = ? AND sl.schedule_id = ?"
                " ORDER BY sl.slot_at DESC LIMIT ?",
                (community_id, schedule_id, limit),
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT sl.* FROM schedule_slots sl JOIN schedules s ON s.id = sl.schedule_id"
                " WHERE s.community_id = ? ORDER BY sl.slot_at DESC, sl.schedule_id LIMIT ?",
                (community_id, limit),
            )
        return [_slot(row) for row in rows]

    async def has_sent_slot(self, schedule_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM schedule_slots WHERE schedule_id = ? AND status = 'sent' LIMIT 1",
            (schedule_id,),
        )
        return row is not None

    async def slots(self, schedule_id: int) -> list[SlotRecord]:
        """Every slot of one schedule, oldest first (tests and diagnostics)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM schedule_slots WHERE schedule_id = ? ORDER BY slot_at",
            (schedule_id,),
        )
        return [_slot(row) for row in rows]

    # ---- scheduler side -------------------------------------------------------------

    async def next_due_at(self, platforms: Collection[Platform] | None = None) -> int | None:
        """The earliest next run of any active schedule (one lookup in the partial index),
        of these platforms only when given."""
        where, params = _platform_filter(platforms, "platform")
        row = await self._db.fetch_one(
            "SELECT min(next_run_at) FROM schedules WHERE paused = 0 AND next_run_at IS NOT NULL"
            + where,
            params,
        )
        return None if row is None or row[0] is None else int(row[0])

    async def community_platforms(self) -> set[Platform]:
        """The platforms of the active communities this database serves."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT platform FROM communities WHERE status = 'active'"
        )
        found: set[Platform] = set()
        for row in rows:
            try:
                found.add(Platform(row[0]))
            except ValueError:
                continue  # a platform this version does not know: not ours to post for
        return found

    async def active_ids(self, schedule_ids: Collection[int]) -> set[int]:
        """Which of these schedules still exist and are not paused."""
        rows = await self._db.fetch_all(
            "SELECT id FROM schedules WHERE paused = 0 AND id IN ?", (sorted(schedule_ids),)
        )
        return {int(row[0]) for row in rows}

    async def log_channel_for(self, community_id: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT log_channel_id FROM communities WHERE id = ?", (community_id,)
        )
        return None if row is None else row[0]

    async def claim_due(
        self,
        now: int,
        limit: int,
        skip: Collection[int],
        plan: Callable[[Schedule], SlotPlan],
        owner: str,
        lease_until: int,
        platforms: Collection[Platform] | None = None,
    ) -> list[ClaimedSlot]:
        """Claim up to `limit` due slots in ONE transaction: record missed slots, insert each
        claimed slot's unique key, advance every schedule to its next slot.

        Guarantee (a slot is claimed at most once): the insert of the slot key and the advance
        of `next_run_at` commit together; a key that already exists is never claimed again, so
        even a schedule moved back in time cannot post the same slot twice.
        """
        claimed: list[ClaimedSlot] = []
        where, platform_params = _platform_filter(platforms, "platform")
        async with self._db.write() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM schedules"
                " WHERE paused = 0 AND next_run_at IS NOT NULL AND next_run_at <= ?"
                " AND id NOT IN ?" + where + " ORDER BY next_run_at LIMIT ?" + self._db.skip_locked,
                (now, sorted(skip), *platform_params, limit),
            )
            schedules = [_schedule(row) for row in rows]
            if not schedules:
                return []
            plans = [(schedule, plan(schedule)) for schedule in schedules]
            wanted = {(s.id, p.claim) for s, p in plans if p.claim is not None}
            existing: set[tuple[int, int]] = set()
            if wanted:
                # Both lists bound as IN lists (portable), the pairs picked out here.
                found = await conn.execute_fetchall(
                    "SELECT schedule_id, slot_at FROM schedule_slots"
                    " WHERE schedule_id IN ? AND slot_at IN ?",
                    (sorted({i for i, _ in wanted}), sorted({t for _, t in wanted})),
                )
                existing = {(int(r[0]), int(r[1])) for r in found} & wanted
            missed_rows: list[tuple[object, ...]] = []
            claim_rows: list[tuple[object, ...]] = []
            updates: list[tuple[object, ...]] = []
            for schedule, slot_plan in plans:
                for slot_at, reason in slot_plan.missed:
                    missed_rows.append((schedule.id, slot_at, reason, now))
                outcome = schedule.last_outcome
                outcome_at = schedule.last_outcome_at
                if slot_plan.missed:
                    outcome, outcome_at = SlotStatus.MISSED.value, now
                if slot_plan.claim is not None:
                    if (schedule.id, slot_plan.claim) in existing:
                        log.warning(
                            "Schedule %s slot %s already has a record; not posting it again",
                            schedule.id,
                            slot_plan.claim,
                        )
                    else:
                        claim_rows.append((schedule.id, slot_plan.claim, owner, lease_until, now))
                        claimed.append(ClaimedSlot(schedule, slot_plan.claim, 1))
                updates.append(
                    (
                        slot_plan.next_run_at,
                        outcome,
                        outcome_at,
                        int(slot_plan.pause_reason is not None),
                        slot_plan.pause_reason,
                        schedule.id,
                    )
                )
            if missed_rows:
                await conn.executemany(
                    "INSERT INTO schedule_slots (schedule_id, slot_at, status, reason, updated_at)"
                    " VALUES (?, ?, 'missed', ?, ?) ON CONFLICT DO NOTHING",
                    missed_rows,
                )
            if claim_rows:
                await conn.executemany(
                    "INSERT INTO schedule_slots (schedule_id, slot_at, status, lease_owner,"
                    " lease_until, attempts, updated_at) VALUES (?, ?, 'claimed', ?, ?, 1, ?)",
                    claim_rows,
                )
            await conn.executemany(
                "UPDATE schedules SET next_run_at = ?, last_outcome = ?, last_outcome_at = ?,"
                " paused = CASE WHEN ? = 1 THEN 1 ELSE paused END,"
                " paused_reason = coalesce(?, paused_reason)"
                " WHERE id = ?",
                updates,
            )
        return claimed

    async def recover_claimed(
        self,
        now: int,
        owner: str,
        lease_until: int,
        retry: Callable[[Schedule, int, int], tuple[SlotStatus, str] | None],
        keep: Collection[tuple[int, int]] = (),
        platforms: Collection[Platform] | None = None,
    ) -> list[ClaimedSlot]:
        """Slots left `claimed` by a process that stopped (or by this one before it lost the
        lease). `retry(schedule, slot_at, claimed_at)` returns None to retry the slot (same
        key) or the status (missed or unknown) it ends with and why. `claimed_at` is when the
        slot was first claimed, the earliest moment a post of it may exist: a retry leaves it
        unchanged, so a second crash still measures from the first attempt. Slots in `keep`
        are this process's own, still being posted."""
        retried: list[ClaimedSlot] = []
        where, platform_params = _platform_filter(platforms, "s.platform")
        async with self._db.write() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT sl.slot_at AS slot_at, sl.attempts AS attempts,"
                " sl.updated_at AS claimed_at,"
                f" {', '.join('s.' + c.strip() for c in _COLUMNS.split(','))}"
                " FROM schedule_slots sl JOIN schedules s ON s.id = sl.schedule_id"
                " WHERE sl.status = 'claimed'" + where + self._db.for_update,
                platform_params,
            )
            retry_rows: list[tuple[object, ...]] = []
            ended_rows: list[tuple[object, ...]] = []
            ended: list[tuple[SlotStatus, int]] = []
            for row in rows:
                schedule = _schedule(row)
                slot_at = int(row["slot_at"])
                if (schedule.id, slot_at) in keep:
                    continue
                verdict = retry(schedule, slot_at, int(row["claimed_at"]))
                if verdict is None:
                    attempts = int(row["attempts"]) + 1
                    retry_rows.append((owner, lease_until, attempts, schedule.id, slot_at))
                    retried.append(
                        ClaimedSlot(schedule, slot_at, attempts, claimed_at=int(row["claimed_at"]))
                    )
                else:
                    status, reason = verdict
                    ended.append((status, schedule.id))
                    ended_rows.append((status.value, reason, now, schedule.id, slot_at))
            if retry_rows:
                # updated_at stays the first claim's time (see the docstring).
                await conn.executemany(
                    "UPDATE schedule_slots SET lease_owner = ?, lease_until = ?, attempts = ?"
                    " WHERE schedule_id = ? AND slot_at = ? AND status = 'claimed'",
                    retry_rows,
                )
            if ended_rows:
                await conn.executemany(
                    "UPDATE schedule_slots SET status = ?, reason = ?, updated_at = ?"
                    " WHERE schedule_id = ? AND slot_at = ? AND status = 'claimed'",
                    ended_rows,
                )
                await conn.executemany(
                    "UPDATE schedules SET last_outcome = ?, last_outcome_at = ? WHERE id = ?",
                    [(_outcome_label(status), now, schedule_id) for status, schedule_id in ended],
                )
        return retried

    async def record_outcomes(self, outcomes: Sequence[SlotOutcome], now: int) -> None:
        """Write final slot states in one transaction. Only a `claimed` row changes, so a
        slot's outcome is written once even if two writers raced."""
        if not outcomes:
            return
        async with self._db.write() as conn:
            await conn.executemany(
                "UPDATE schedule_slots SET status = ?, reason = ?, message_id = ?, attempts = ?,"
                " updated_at = ? WHERE schedule_id = ? AND slot_at = ? AND status = 'claimed'",
                [
                    (
                        o.status.value,
                        o.reason,
                        o.message_id,
                        o.attempts,
                        now,
                        o.schedule_id,
                        o.slot_at,
                    )
                    for o in outcomes
                ],
            )
            # The schedule reflects an outcome only if that outcome was the one written.
            written = (
                " AND EXISTS (SELECT 1 FROM schedule_slots WHERE schedule_id = ? AND slot_at = ?"
                " AND status = ? AND updated_at = ?)"
            )
            await conn.executemany(
                "UPDATE schedules SET last_outcome = ?, last_outcome_at = ? WHERE id = ?" + written,
                [
                    (
                        _outcome_label(o.status),
                        now,
                        o.schedule_id,
                        o.schedule_id,
                        o.slot_at,
                        o.status.value,
                        now,
                    )
                    for o in outcomes
                ],
            )
            pauses = [
                (o.pause_reason, o.schedule_id, o.schedule_id, o.slot_at, o.status.value, now)
                for o in outcomes
                if o.pause_reason
            ]
            if pauses:
                # Never deleted on failure: paused with the reason, to be fixed and resumed.
                await conn.executemany(
                    "UPDATE schedules SET paused = 1, paused_reason = ?, version = version + 1"
                    " WHERE id = ?" + written,
                    pauses,
                )

    # ---- the lease ------------------------------------------------------------------

    async def acquire_lease(
        self, name: str, owner: str, now: float, ttl: float, *, renew_only: bool = False
    ) -> LeaseState:
        """One lease row: `acquire_leases` with one name."""
        return await self.acquire_leases((name,), owner, now, ttl, renew_only=renew_only)

    async def acquire_leases(
        self,
        names: Sequence[str],
        owner: str,
        now: float,
        ttl: float,
        *,
        renew_only: bool = False,
        also_free: Sequence[str] = (),
    ) -> LeaseState:
        """Take or renew every row in `names` in one transaction: all of them, or none.

        A row is taken when free, expired, or already ours. With `renew_only`, rows are only
        extended if still ours: a holder that lost one must start over (and recover its slots)
        instead. `also_free`: rows that must not be held live by another owner; once the call
        wins, it holds them too, under the shared owner GUARD_OWNER (every new process may
        renew them), so a process that knows only those rows (an older Haven's single lease)
        sees them held and waits. One conditional statement per row, in name order, decides, so two
        processes racing on PostgreSQL cannot both win a row (the second waits for the first's
        row lock, then sees the row renewed and changes nothing) and cannot deadlock.
        """
        try:
            async with self._db.write() as conn:
                for blocker in sorted(also_free):
                    row = await conn.fetch_one(
                        "SELECT owner, expires_at, heartbeat FROM scheduler_lease"
                        " WHERE name = ? AND owner NOT IN (?, ?) AND expires_at > ?",
                        (blocker, owner, GUARD_OWNER, now),
                    )
                    if row is not None:
                        raise _LeaseRefused(_lease_state(row))
                for name in sorted(names):
                    if renew_only:
                        # Renewing never creates the row: a lease that vanished was lost.
                        won = await conn.execute(
                            "UPDATE scheduler_lease SET expires_at = ?, heartbeat = ?"
                            " WHERE name = ? AND owner = ? RETURNING owner",
                            (now + ttl, now, name, owner),
                        )
                    else:
                        won = await conn.execute(
                            "INSERT INTO scheduler_lease (name, owner, expires_at, heartbeat)"
                            " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                            " owner = excluded.owner, expires_at = excluded.expires_at,"
                            " heartbeat = excluded.heartbeat"
                            " WHERE scheduler_lease.owner = excluded.owner"
                            " OR scheduler_lease.expires_at <= ? RETURNING owner",
                            (name, owner, now + ttl, now, now),
                        )
                    if not won.rows:
                        row = await conn.fetch_one(
                            "SELECT owner, expires_at, heartbeat FROM scheduler_lease"
                            " WHERE name = ?",
                            (name,),
                        )
                        # Raising rolls back the rows this call already took: all or none.
                        raise _LeaseRefused(
                            LeaseState(False, None, None, None)
                            if row is None
                            else _lease_state(row)
                        )
                for guarded in sorted(also_free):
                    await conn.execute(
                        "INSERT INTO scheduler_lease (name, owner, expires_at, heartbeat)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                        " owner = excluded.owner, expires_at = excluded.expires_at,"
                        " heartbeat = excluded.heartbeat",
                        (guarded, GUARD_OWNER, now + ttl, now),
                    )
        except _LeaseRefused as refused:
            return refused.state
        return LeaseState(True, owner, now + ttl, now)

    async def release_lease(self, name: str, owner: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM scheduler_lease WHERE name = ? AND owner = ?", (name, owner)
            )


# Who holds an older Haven's lease row on behalf of every process that uses per-platform
# leases (see `acquire_leases`).
GUARD_OWNER = "haven:per-platform-leases"


class _LeaseRefused(Exception):
    """Inside `acquire_leases`: a row is not ours; leaving the transaction rolls it back."""

    def __init__(self, state: LeaseState) -> None:
        super().__init__(state.owner)
        self.state = state


def _lease_state(row: Row) -> LeaseState:
    return LeaseState(False, str(row["owner"]), float(row["expires_at"]), float(row["heartbeat"]))
