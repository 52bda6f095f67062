"""PostScheduler: the one loop that posts scheduled cards — lease, claim, send, record, next slot.

How a slot travels (the guarantees are in bot/core/scheduling/schedules.py; each is enforced
where marked):
1. Lease. Only the process holding the `scheduler_lease` row runs this loop. It renews the row
   every `heartbeat_seconds`; another process takes over only after `lease_seconds` without a
   renewal (kill -9 of the holder: a standby takes over within lease + standby retry, 25 s by
   default). A holder that cannot renew stops posting before its lease can have expired.
2. Claim. Due schedules are claimed in one transaction (schedule_store.claim_due): the slot key
   is inserted, missed slots are recorded, `next_run_at` advances. Only then is anything posted.
3. Send. Claimed posts wait in per-channel queues, paced per platform
   (bot/core/scheduling/pacing.py), so thousands due at once drain below the platform limits
   and a slow channel delays no other.
   Every attempt of a slot sends the same idempotency key.
4. Record. Outcomes are written in batches; a slot ends sent, missed, failed or unknown with
   why. Transient failures are retried with backoff while the slot's grace lasts; permanent ones
   pause the schedule (never delete it) and tell the community's moderator log channel. A
   failure after which the post may exist (5xx, timeout) is retried with the same key only
   inside the platform's nonce window; past it the slot is `unknown`, never re-sent blindly.
   A platform that refuses everything for a while (global 429, Cloudflare ban) pauses every
   scheduled post to it, with a long and growing back-off, one notice per affected community,
   and resumes by itself.
5. Sleep until the earliest of: the next due slot, the next paced post, the next heartbeat, a
   cap; `wake()` (called when moderators change schedules) cuts the sleep short.

A crash anywhere leaves at worst `claimed` rows; the next holder retries them with the same key
within their grace, or records them missed (recover_claimed). Every exit that Python sees
(cancel, SIGTERM through cancel, an error) releases the lease, so the next process starts at
once instead of waiting out `lease_seconds`.

Scope. The lease is one row per platform (`lease_name_for`), and a scheduler serves a set of
platforms (`serve`) by holding all of their rows at once, taken together or not at all. `haven
run` serves the platforms it runs (a Slack-only process and two Discord shard processes lead
Slack and Discord separately, and a process never leads a platform it cannot post to); the
console serves only its own, so a console session never takes the scheduler from `haven run`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import heapq
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.core.cards import Card, CardTone
from bot.core.errors import HavenError, StorageError, StorageUnavailable
from bot.core.models import Platform
from bot.core.ports import NO_METRICS, CardSource, Clock, Metrics, Publisher, SchedulerStore
from bot.core.scheduling.pacing import ChannelPacer, PacingPolicy, default_pacers
from bot.core.scheduling.publishing import (
    NONCE_WINDOW_SECONDS,
    PermanentPublishError,
    PlatformPausedError,
    TransientPublishError,
    retry_window,
)
from bot.core.scheduling.schedules import (
    UNKNOWN_SENTENCE,
    ClaimedSlot,
    Schedule,
    SlotOutcome,
    SlotPlan,
    SlotStatus,
    describe_duration,
    idempotency_key,
    plan_slots,
    recurrence_for,
)

log = logging.getLogger(__name__)

# The one lease of Haven versions before per-platform leases (it covered Discord and Slack).
# A new scheduler does not lead while an older process holds it live, and while leading holds it
# too (under a shared owner), so an older process on standby never takes over beside it: a
# rolling upgrade never has two processes posting for the same platform.
LEGACY_LEASE_NAME = "post-scheduler"


def lease_name_for(platform: Platform) -> str:
    """The lease row of one platform's schedules: whoever holds it posts them."""
    return f"{LEGACY_LEASE_NAME}:{platform.value}"


def lease_names_for(platforms: Collection[Platform]) -> tuple[str, ...]:
    return tuple(sorted(lease_name_for(platform) for platform in platforms))


# The console's own lease: it posts only console schedules, so it never competes with (or waits
# for) the process that posts for Discord and Slack on the same database.
CONSOLE_LEASE_NAME = lease_name_for(Platform.CONSOLE)
# What the legacy lease covered.
LEGACY_LEASE_PLATFORMS = frozenset({Platform.DISCORD, Platform.SLACK})
# Retry delays for transient failures without a retry-after, attempt 2, 3, ... (capped).
DEFAULT_BACKOFF: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
# Outcomes are written in batches: at most this many, or this long after the first. Until
# then a slot stays `claimed`, which a restart retries with the same key.
FLUSH_BATCH = 50
FLUSH_DELAY_SECONDS = 0.2
# Back-off after a platform refused every request (a global 429 or a Cloudflare ban), for the
# first, second, ... such answer in a row (capped): minutes, growing, never a hot retry. A
# Cloudflare ban follows too many invalid requests, and more requests prolong it.
PLATFORM_BACKOFF: tuple[float, ...] = (120.0, 300.0, 600.0, 1200.0, 1800.0)

ChannelKey = tuple[Platform, str]
Sleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")


@dataclass(eq=False)
class _Job:
    schedule: Schedule
    slot_at: int
    attempts: int
    key: str
    not_before: float
    last_error: str | None = None
    # When the first attempt began after which the post may exist (a 5xx or a timeout): a
    # retry with the same key is safe only inside the nonce window counted from here.
    maybe_posted_at: float | None = None
    # Claimed by a process that stopped mid-post: it may have posted it once already.
    recovered: bool = False

    @property
    def deadline(self) -> int:
        return self.slot_at + self.schedule.grace_seconds

    @property
    def channel(self) -> ChannelKey:
        return (self.schedule.platform, self.schedule.channel_id)


@dataclass
class _PlatformPause:
    """A platform refusing every request: nothing scheduled goes to it before `until`."""

    until: float
    reason: str
    # Consecutive refusals since the last post that went through (the back-off grows with it).
    strikes: int = 1
    # Communities whose posts waited, told once when the episode ends (a post went through
    # again): telling them on the platform during it would be one more refused request.
    affected: set[str] | None = None
    told: set[str] | None = None


@dataclass
class SchedulerStats:
    """Counters since start (for status output, tests and the benchmark)."""

    sent: int = 0
    failed: int = 0
    missed: int = 0
    retries: int = 0
    claimed: int = 0
    lease_taken: int = 0
    unknown: int = 0
    platform_pauses: int = 0
    # Loop passes while holding the lease (each ends in a sleep until the next thing to do).
    passes: int = 0


def _platform_list(platforms: Collection[Platform]) -> str:
    return " and ".join(sorted(platform.value.capitalize() for platform in platforms))


def _storage_trouble(message: str, error: BaseException) -> None:
    """Log a failed store call the loop will retry. A refusal the database already reported to
    the operator (its file was deleted or replaced) is not repeated every second; anything
    else is a warning with its traceback."""
    if isinstance(error, StorageUnavailable):
        log.debug(message, type(error).__name__)
    else:
        log.warning(message, error, exc_info=True)


class PostScheduler:
    def __init__(
        self,
        store: SchedulerStore,
        publishers: Mapping[Platform, Publisher],
        cards: CardSource,
        clock: Clock,
        owner: str,
        *,
        sleep: Sleep = asyncio.sleep,
        lease_seconds: float = 20.0,
        heartbeat_seconds: float = 5.0,
        standby_retry_seconds: float = 5.0,
        idle_seconds: float = 60.0,
        max_pending: int = 1000,
        publish_timeout: float = 30.0,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        pacing: Mapping[Platform, PacingPolicy] | None = None,
        metrics: Metrics = NO_METRICS,
        platform_backoff: Sequence[float] = PLATFORM_BACKOFF,
        nonce_window_seconds: float = NONCE_WINDOW_SECONDS,
    ) -> None:
        if heartbeat_seconds >= lease_seconds:
            raise ValueError("the heartbeat must be shorter than the lease")
        self._store = store
        # A live mapping: adapters register their publisher after start-up.
        self._publishers = publishers
        self._cards = cards
        self._clock = clock
        self.owner = owner
        self._sleep = sleep
        self._lease_seconds = lease_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._standby_retry = standby_retry_seconds
        self._idle_seconds = idle_seconds
        self._max_pending = max_pending
        self._claim_batch = max(1, min(50, max_pending // 10))
        self._publish_timeout = publish_timeout
        self._backoff = tuple(backoff) or DEFAULT_BACKOFF
        self._pacers: dict[Platform, ChannelPacer] = default_pacers(pacing)
        self._metrics = metrics
        self._platform_backoff = tuple(platform_backoff) or PLATFORM_BACKOFF
        self._nonce_window = nonce_window_seconds
        self._pauses: dict[Platform, _PlatformPause] = {}
        # Every platform until `serve` says otherwise (`haven run` and the console always do).
        self._platforms: frozenset[Platform] = frozenset(Platform)
        self._lease_names = lease_names_for(self._platforms)
        self._rescoped = False
        # True while the loop sleeps (see `idle`); `_parked_wakeable` when wake() ends it.
        self._parked = False
        self._parked_wakeable = False
        # Store calls the loop started: an exit waits for them to finish before releasing the
        # lease, so a cancel never cuts a write transaction in half.
        self._io: set[asyncio.Future[object]] = set()
        self._wake_event = asyncio.Event()
        self._changed = False
        self.is_holder = False
        self.stats = SchedulerStats()
        self._lease_expires = 0.0
        self._next_heartbeat = 0.0
        self._reset_state()

    def _reset_state(self) -> None:
        self._queues: dict[ChannelKey, deque[_Job]] = {}
        # Per platform, channels with queued posts by when they may go next: a platform's
        # global budget is checked once per post, not once per waiting channel.
        self._ready: dict[Platform, list[tuple[float, int, ChannelKey]]] = {}
        self._in_ready: set[ChannelKey] = set()
        self._busy: set[ChannelKey] = set()
        self._jobs: dict[int, _Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[SlotOutcome] = []
        self._outcomes_since = 0.0
        self._next_due: int | None = None
        self._due_stale = True
        self._seq = 0

    # ---- public --------------------------------------------------------------------

    def serve(self, platforms: frozenset[Platform]) -> None:
        """Post only these platforms' schedules, under their leases. Takes effect at once: a
        holder of other leases steps down (releasing them) and takes these."""
        if not platforms:
            raise ValueError("a scheduler serves at least one platform")
        if platforms == self._platforms:
            return
        self._platforms = platforms
        self._lease_names = lease_names_for(platforms)
        self._rescoped = True
        self._wake_event.set()

    @property
    def lease_names(self) -> tuple[str, ...]:
        return self._lease_names

    @property
    def platforms(self) -> frozenset[Platform]:
        return self._platforms

    async def community_platforms(self) -> set[Platform]:
        """The platforms of the communities this database serves (for the console's warning)."""
        return await self._store.community_platforms()

    @property
    def idle(self) -> bool:
        """True when the scheduler has nothing to do until its clock reaches its next wake-up
        or it is woken: it is asleep, no post or notice is in flight, and no wake is pending.
        Tests on simulated time advance the clock only then, so they never race the loop."""
        if not self._parked or self._tasks:
            return False
        return not (self._parked_wakeable and self._wake_event.is_set())

    def wake(self) -> None:
        """Schedules changed: look again now instead of at the end of the current sleep."""
        self._changed = True
        self._wake_event.set()

    @property
    def pending(self) -> int:
        """Claimed slots not yet finished (queued or being posted)."""
        return len(self._jobs)

    async def run(self) -> None:
        """Run until cancelled. Holds the lease while alive; when another process holds it,
        says so once and keeps trying quietly, to take over if that process stops. However it
        ends, it releases the lease it holds (another process need not wait for it to expire)."""
        standby_announced = False
        held: set[str] = set()
        try:
            while True:
                self._rescoped = False
                lease_names = self._lease_names
                try:
                    now = self._now()
                    lease = await self._call(
                        self._store.acquire_leases(
                            lease_names,
                            self.owner,
                            now,
                            self._lease_seconds,
                            also_free=self._legacy_blockers(),
                        )
                    )
                except Exception as error:  # storage trouble: log calmly, try again later
                    _storage_trouble("Scheduler could not read its lease (%s); retrying", error)
                    await self._park(self._standby_retry)
                    continue
                if lease.acquired:
                    held.update(lease_names)
                    standby_announced = False
                    self.stats.lease_taken += 1
                    log.info(
                        "This process runs the scheduler for %s (lease owner %s)",
                        _platform_list(self._platforms),
                        self.owner,
                    )
                    try:
                        await self._run_as_holder(now)
                    except (StorageError, OSError) as error:
                        # Storage trouble while taking over: claimed slots stay claimed.
                        log.warning("Scheduler storage error (%s); starting over", error)
                        await self._park(self._standby_retry)
                    except Exception:
                        # A bug, not a bad post (those never raise here): start over calmly.
                        log.exception("Scheduler loop failed; restarting it")
                        await self._park(self._standby_retry)
                    finally:
                        await self._stop_holding()
                    if self._lease_names != lease_names:
                        # Serving another scope now (`serve`): these leases are not ours to keep.
                        for name in lease_names:
                            await self._release(name)
                        held.difference_update(lease_names)
                    continue
                if not standby_announced:
                    standby_announced = True
                    age = now - (lease.heartbeat or now)
                    left = (lease.expires_at or now) - now
                    log.warning(
                        "Another Haven process (%s) runs the scheduler for %s on this database "
                        "(last heartbeat %.0f s ago, lease ends in %.0f s). This process posts "
                        "no scheduled messages and will take over if that process stops.",
                        lease.owner,
                        _platform_list(self._platforms),
                        age,
                        max(left, 0.0),
                    )
                else:
                    log.debug("Scheduler lease still held by %s", lease.owner)
                await self._park(self._standby_retry)
        finally:
            # Cancel, an error, or SIGTERM turned into a cancel: first let a store call the
            # cancel interrupted finish (a write cut between BEGIN and COMMIT would leave the
            # connection in a transaction and make the release below fail), then release.
            if self._io:
                await asyncio.wait(set(self._io))
            await self._stop_holding()
            for name in sorted(held | set(self._lease_names)):
                await self._release(name)

    def _legacy_blockers(self) -> tuple[str, ...]:
        """The old single lease blocks only the platforms it covered (Discord and Slack)."""
        return (LEGACY_LEASE_NAME,) if self._platforms & LEGACY_LEASE_PLATFORMS else ()

    async def _call(self, awaitable: Awaitable[_T]) -> _T:
        """Await a store call that a cancel of this loop cannot cut short: the call runs to its
        end on its own and `run` waits for it before releasing the lease."""
        future: asyncio.Future[_T] = asyncio.ensure_future(awaitable)
        self._io.add(future)  # type: ignore[arg-type]
        future.add_done_callback(self._io.discard)
        return await asyncio.shield(future)

    async def _release(self, name: str) -> None:
        release = asyncio.ensure_future(self._store.release_lease(name, self.owner))
        try:
            # Shielded: a second cancel while releasing still lets the release finish.
            await asyncio.shield(release)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning(
                "Could not release the scheduler lease %s (%s); another process takes over "
                "when it expires",
                name,
                error,
            )

    async def _park(self, delay: float) -> None:
        """Sleep with nothing to do (standby, or after an error): `idle` while asleep."""
        self._parked = True
        try:
            await self._sleep(delay)
        finally:
            self._parked = False

    # ---- the holder's loop -----------------------------------------------------------

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def _run_as_holder(self, now: float) -> None:
        self.is_holder = True
        self._lease_expires = now + self._lease_seconds
        self._next_heartbeat = now + self._heartbeat_seconds
        await self._recover(now)
        while True:
            self._wake_event.clear()
            if self._rescoped:
                return  # `serve` changed what this process posts: start over under it
            now = self._now()
            if not await self._keep_lease(now):
                return
            try:
                if self._outcomes and (
                    len(self._outcomes) >= FLUSH_BATCH
                    or now >= self._outcomes_since + FLUSH_DELAY_SECONDS
                    or not self._jobs
                ):
                    await self._flush_outcomes(now)
                if self._changed:
                    self._changed = False
                    self._due_stale = True
                    await self._drop_inactive()
                next_due = await self._claim(now)
            except Exception as error:
                # Storage trouble (busy, disk): nothing is lost, claimed slots stay claimed.
                _storage_trouble("Scheduler pass failed (%s); retrying in 1 s", error)
                await self._wait(1.0)
                continue
            self._dispatch(now)
            wake_at = min(now + self._idle_seconds, self._next_heartbeat)
            ready_at = self._next_dispatch(now)
            if ready_at is not None:
                wake_at = min(wake_at, ready_at)
            if next_due is not None:
                wake_at = min(wake_at, float(next_due))
            if self._outcomes:
                wake_at = min(wake_at, self._outcomes_since + FLUSH_DELAY_SECONDS)
            self.stats.passes += 1
            await self._wait(wake_at - now)

    async def _keep_lease(self, now: float) -> bool:
        """Renew on the heartbeat. Returns False when this process must stop posting."""
        if now < self._next_heartbeat:
            return True
        try:
            lease = await self._call(
                self._store.acquire_leases(
                    self._lease_names,
                    self.owner,
                    now,
                    self._lease_seconds,
                    renew_only=True,
                    also_free=self._legacy_blockers(),
                )
            )
        except Exception as error:
            # Guarantee (one scheduler per database): if we cannot prove we still hold the
            # lease before it could have expired, we stop posting; a standby may take over.
            if now + self._heartbeat_seconds < self._lease_expires:
                _storage_trouble("Scheduler heartbeat failed (%s); retrying", error)
                self._next_heartbeat = now + 1.0
                return True
            log.warning("Scheduler heartbeat failed (%s); stepping down", error)
            return False
        if not lease.acquired:
            log.warning(
                "Scheduler lease was taken over by %s (this process stalled longer than the "
                "lease); stepping down",
                lease.owner,
            )
            return False
        self._lease_expires = now + self._lease_seconds
        self._next_heartbeat = now + self._heartbeat_seconds
        self._due_stale = True  # another process may have added or changed schedules
        return True

    async def _wait(self, delay: float) -> None:
        if self._wake_event.is_set():
            return
        if delay <= 0:
            await asyncio.sleep(0)
            return
        # Clocks tick in microseconds: a sub-millisecond wait could leave "now" unchanged and
        # the loop spinning on a post that is due a hair later.
        delay = max(delay, 0.001)
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake_event.wait())
        self._parked = self._parked_wakeable = True
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._parked = self._parked_wakeable = False
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _stop_holding(self) -> None:
        """Stop posting: cancel in-flight posts, write what is known, forget the rest (the
        slots stay `claimed` in the database and the next holder recovers them)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._outcomes:
            with contextlib.suppress(Exception):
                await self._call(self._store.record_outcomes(self._outcomes, int(self._now())))
        self._reset_state()
        self.is_holder = False

    # ---- recover, claim -------------------------------------------------------------

    async def _recover(self, now: float) -> None:
        """Slots another holder (or a crash of this one) left `claimed`.

        Guarantee (a crash between claim and send is retried within the grace, never twice):
        the retry reuses the slot's idempotency key, but only while the platform still honours
        it: the post may have been made at any moment since the slot was first claimed, so
        past the key's window from that moment (at once on Slack, which takes no key) the slot
        is recorded unknown (it may be in the channel), and past the grace missed with why.
        """
        now_i = int(now)

        def retry(
            schedule: Schedule, slot_at: int, claimed_at: int
        ) -> tuple[SlotStatus, str] | None:
            if schedule.paused:
                return (
                    SlotStatus.MISSED,
                    "The schedule was paused before this slot could be posted.",
                )
            if now_i > slot_at + schedule.grace_seconds:
                return SlotStatus.MISSED, (
                    "Haven stopped while posting this slot and was not back within "
                    f"{describe_duration(schedule.grace_seconds)} (the grace); it may have been "
                    "posted once, so it was not sent again."
                )
            window = retry_window(schedule.platform, self._nonce_window)
            if window <= 0:
                return SlotStatus.UNKNOWN, (
                    f"It {UNKNOWN_SENTENCE}: Haven stopped while posting it, and this platform "
                    "takes no key that would stop a second copy, so Haven did not send it "
                    "again. Check the channel."
                )
            if now_i > claimed_at + window:
                return SlotStatus.UNKNOWN, (
                    f"It {UNKNOWN_SENTENCE}: Haven stopped while posting it and was back only "
                    f"after {describe_duration(int(window))}, past which a retry could post it "
                    "twice, so Haven did not send it again. Check the channel."
                )
            return None

        recovered = await self._call(
            self._store.recover_claimed(
                now_i, self.owner, int(self._lease_expires), retry, platforms=self._platforms
            )
        )
        for claimed in recovered:
            log.info(
                "Retrying schedule %s slot %s after a restart (attempt %d, same key)",
                claimed.schedule.id,
                claimed.slot_at,
                claimed.attempts,
            )
            self._enqueue(claimed, now, recovered=True)

    async def _claim(self, now: float) -> int | None:
        """Claim due slots while there is room; returns when to look again (None: only when
        woken, e.g. by a post finishing)."""
        now_i = int(now)
        capacity = self._max_pending - len(self._jobs)
        if capacity < self._claim_batch and self._jobs:
            # Claim in batches while a backlog drains (one transaction per batch, not per
            # post); a post finishing wakes us to look again.
            return None
        # The earliest due time is cached: only this loop advances schedules, and moderators'
        # changes arrive through wake(). It is read again after a claim, on a wake, on every
        # heartbeat (changes made by another process), and once it is due.
        if self._due_stale or (self._next_due is not None and self._next_due <= now_i):
            self._next_due = await self._store.next_due_at(self._platforms)
            self._due_stale = False
        next_due = self._next_due
        if next_due is None or next_due > now_i:
            return next_due

        def plan(schedule: Schedule) -> SlotPlan:
            try:
                recurrence = None if schedule.one_shot else recurrence_for(schedule)
            except HavenError as error:
                return SlotPlan(
                    claim=None,
                    missed=(),
                    next_run_at=schedule.next_run_at,
                    pause_reason=f"Its `when` ({schedule.when_text}) can no longer be read: "
                    f"{error}",
                )
            return plan_slots(schedule, now_i, recurrence)

        claimed = await self._call(
            self._store.claim_due(
                now_i,
                capacity,
                set(self._jobs),
                plan,
                self.owner,
                int(self._lease_expires),
                platforms=self._platforms,
            )
        )
        for slot in claimed:
            self._enqueue(slot, now)
        self.stats.claimed += len(claimed)
        self._next_due = await self._store.next_due_at(self._platforms)
        if self._next_due is not None and self._next_due <= now_i:
            # Still due: more than fitted (we look again when there is room), or schedules
            # whose previous slot is still being posted (we look again when it finishes).
            return None
        return self._next_due

    def _enqueue(self, claimed: ClaimedSlot, now: float, *, recovered: bool = False) -> None:
        schedule = claimed.schedule
        job = _Job(
            schedule=schedule,
            slot_at=claimed.slot_at,
            attempts=claimed.attempts,
            key=idempotency_key(schedule.id, claimed.slot_at),
            not_before=float(claimed.slot_at),
            recovered=recovered,
            # A recovered slot may have been posted by the process that claimed it.
            maybe_posted_at=float(claimed.claimed_at) if claimed.claimed_at is not None else None,
        )
        self._jobs[schedule.id] = job
        self._queues.setdefault(job.channel, deque()).append(job)
        pause = self._pauses.get(schedule.platform)
        if pause is not None and now < pause.until and pause.affected is not None:
            pause.affected.add(schedule.community_id)  # this post waits for the pause too
        self._schedule_channel(job.channel, now)

    async def _drop_inactive(self) -> None:
        """A moderator paused or removed schedules: drop their queued posts at once (a post
        already being sent finishes)."""
        queued = [job for queue in self._queues.values() for job in queue]
        if not queued:
            return
        active = await self._store.active_ids([job.schedule.id for job in queued])
        for job in queued:
            if job.schedule.id in active:
                continue
            self._queues[job.channel].remove(job)
            self._finish(
                job,
                SlotStatus.MISSED,
                "The schedule was paused or removed before this slot was posted.",
            )

    # ---- send -----------------------------------------------------------------------

    def _schedule_channel(self, key: ChannelKey, now: float) -> None:
        if key in self._busy or key in self._in_ready:
            return
        queue = self._queues.get(key)
        if not queue:
            self._queues.pop(key, None)
            return
        self._push(key, max(now, queue[0].not_before))

    def _push(self, key: ChannelKey, at: float) -> None:
        self._seq += 1
        heapq.heappush(self._ready.setdefault(key[0], []), (at, self._seq, key))
        self._in_ready.add(key)

    def _next_dispatch(self, now: float) -> float | None:
        """When the next queued post may go, on any platform."""
        soonest: float | None = None
        for platform, heap in self._ready.items():
            if not heap:
                continue
            at = heap[0][0]
            pacer = self._pacers.get(platform)
            if pacer is not None:
                at = max(at, pacer.global_earliest(now))
            soonest = at if soonest is None else min(soonest, at)
        return soonest

    def _dispatch(self, now: float) -> None:
        """Start every post whose channel and platform budget allow it now."""
        # A pause whose time is up stays until a post goes through (see `_post`): only then
        # does the platform take requests again, are moderators told it resumed, and does a
        # later refusal back off from the start. Ending it because nothing happened to wait
        # would announce a recovery nobody saw, and reset the back-off during a ban.
        for platform, heap in self._ready.items():
            pacer = self._pacers.get(platform)
            while heap and heap[0][0] <= now:
                if pacer is not None and pacer.global_earliest(now) > now:
                    break  # the platform's budget is spent for now; every channel waits
                _, _, key = heapq.heappop(heap)
                self._in_ready.discard(key)
                if key in self._busy:
                    continue
                queue = self._queues.get(key)
                if not queue:
                    self._queues.pop(key, None)
                    continue
                job = queue[0]
                if self._past_key_window(job, now):
                    # Pacing or a platform pause held it until a retry could post it twice.
                    queue.popleft()
                    self._finish_unknown(job)
                    self._schedule_channel(key, now)
                    continue
                at = max(job.not_before, pacer.earliest(key[1], now) if pacer else now)
                if at > job.deadline:
                    queue.popleft()
                    self._expire(job)
                    self._schedule_channel(key, now)
                    continue
                if at > now:
                    self._push(key, at)
                    continue
                if pacer is not None:
                    pacer.take(key[1], now)
                queue.popleft()
                self._busy.add(key)
                task = asyncio.create_task(self._post(job), name=f"post-{job.schedule.id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _expire(self, job: _Job) -> None:
        grace = describe_duration(job.schedule.grace_seconds)
        if job.maybe_posted_at is not None:
            self._finish_unknown(job)
        elif job.last_error is not None:
            self._finish(
                job,
                SlotStatus.FAILED,
                f"Still failing after {job.attempts} attempts when the {grace} grace ran out; "
                f"last error: {job.last_error}",
            )
        elif job.recovered:
            # Never retried here, but the process that claimed it may have posted it.
            self._finish(
                job,
                SlotStatus.MISSED,
                "Haven stopped while posting this slot and could not retry it within the "
                f"{grace} grace; it may have been posted once, so it was not sent again.",
            )
        else:
            self._finish(
                job,
                SlotStatus.MISSED,
                f"The platform's rate limit left no room to post it within the {grace} grace.",
            )

    async def _post(self, job: _Job) -> None:
        schedule = job.schedule
        started = self._now()
        try:
            publisher = self._publishers.get(schedule.platform)
            if publisher is None:
                raise TransientPublishError(
                    f"Haven's {schedule.platform.value} connection is not running"
                )
            card = await self._cards.post_card(
                schedule.community_id, schedule.topic, schedule.message_key
            )
            message_id = await asyncio.wait_for(
                publisher.publish(
                    schedule.channel_id, card, job.key, community_id=schedule.community_id
                ),
                self._publish_timeout,
            )
        except PlatformPausedError as error:
            self._pause_platform(job, error)
        except TransientPublishError as error:
            self._retry_or_fail(
                job,
                error.reason,
                error.retry_after,
                maybe_posted_at=started if error.may_have_posted else None,
            )
        except TimeoutError:
            # The platform may have created the post and not answered yet.
            self._retry_or_fail(
                job,
                f"no answer within {self._publish_timeout:.0f} s",
                None,
                maybe_posted_at=started,
            )
        except PermanentPublishError as error:
            self._fail_permanently(job, error.reason)
        except HavenError as error:
            # The post itself cannot be built (e.g. its topic or message was removed).
            self._fail_permanently(job, f"The post could not be built: {error}")
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("Unexpected error posting schedule %s", schedule.id)
            self._retry_or_fail(job, f"unexpected error ({type(error).__name__})", None)
        else:
            self._finish(job, SlotStatus.SENT, None, message_id)
            pause = self._pauses.get(schedule.platform)
            if pause is not None and started >= pause.until:
                # A post sent after the pause went through: the platform takes requests again,
                # so the moderators hear it resumed, and a later refusal backs off from the
                # start. (A post already in flight when the refusal came proves nothing.)
                del self._pauses[schedule.platform]
                self._tell_about_pause(schedule.platform, pause)
        finally:
            self._busy.discard(job.channel)
            self._schedule_channel(job.channel, self._now())
            self._wake_event.set()

    def _retry_or_fail(
        self,
        job: _Job,
        reason: str,
        retry_after: float | None,
        *,
        maybe_posted_at: float | None = None,
    ) -> None:
        """Guarantee (transient failures are retried inside the grace, without delaying
        other channels): the job goes back to the front of its own channel's queue only.

        Guarantee (never a blind resend): once an attempt may have created the post, a retry
        goes only while the platform still honours the key (the nonce window, counted from
        that attempt); past it the slot is recorded unknown."""
        now = self._now()
        delay = (
            retry_after
            if retry_after is not None
            else self._backoff[min(job.attempts - 1, len(self._backoff) - 1)]
        )
        job.last_error = reason
        if maybe_posted_at is not None and job.maybe_posted_at is None:
            job.maybe_posted_at = maybe_posted_at
        retry_at = now + max(delay, 0.0)
        if self._past_key_window(job, retry_at):
            self._finish_unknown(job)
            return
        if retry_at > job.deadline:
            self._expire(job)
            return
        job.attempts += 1
        self.stats.retries += 1
        if retry_after is not None:
            # The platform asked us to wait on this channel (429): hold every post to it.
            pacer = self._pacers.get(job.schedule.platform)
            if pacer is not None:
                pacer.hold_channel(job.schedule.channel_id, retry_at)
        job.not_before = retry_at
        self._queues.setdefault(job.channel, deque()).appendleft(job)
        log.warning(
            "Schedule %s: post failed (%s); retry %d in %.0f s",
            job.schedule.id,
            reason,
            job.attempts,
            delay,
        )

    def _past_key_window(self, job: _Job, at: float) -> bool:
        """Whether an attempt at `at` could post a second copy of a post that may exist."""
        if job.maybe_posted_at is None:
            return False
        return at > job.maybe_posted_at + retry_window(job.schedule.platform, self._nonce_window)

    def _finish_unknown(self, job: _Job) -> None:
        window = retry_window(job.schedule.platform, self._nonce_window)
        if window <= 0:
            self._finish(
                job,
                SlotStatus.UNKNOWN,
                f"It {UNKNOWN_SENTENCE}: the platform failed after it may have created the post "
                f"(last error: {job.last_error or 'Haven stopped while posting it'}), and it "
                "takes no key that would stop a second copy, so Haven did not send it again. "
                "Check the channel.",
            )
            return
        window_text = describe_duration(int(window))
        self._finish(
            job,
            SlotStatus.UNKNOWN,
            f"It {UNKNOWN_SENTENCE}: the platform failed after it may have created the post "
            f"(last error: {job.last_error}), and past {window_text} from that attempt a retry "
            "could post it twice, so Haven did not send it again. Check the channel.",
        )

    def _pause_platform(self, job: _Job, error: PlatformPausedError) -> None:
        """Guarantee (a platform that refuses everything gets no more scheduled requests until
        the back-off ends): every post to the platform waits, not only this channel's. The
        refused post was not created (a 429 never creates one), so it simply waits too."""
        now = self._now()
        platform = job.schedule.platform
        pause = self._pauses.get(platform)
        if pause is None or now >= pause.until:
            # A new refusal (posts already in flight when it began count as the same one).
            strikes = 1 if pause is None else pause.strikes + 1
            backoff = self._platform_backoff[min(strikes - 1, len(self._platform_backoff) - 1)]
            delay = max(error.retry_after or 0.0, backoff)
            pause = _PlatformPause(
                until=now + delay,
                reason=error.reason,
                strikes=strikes,
                affected=pause.affected if pause is not None else set(),
                told=pause.told if pause is not None else set(),
            )
            self._pauses[platform] = pause
            pacer = self._pacers.get(platform)
            if pacer is not None:
                pacer.hold_all(pause.until)
            self.stats.platform_pauses += 1
            log.warning(
                "%s refuses every request from Haven (%s): all scheduled posts to it wait "
                "%s (refusal %d in a row)",
                platform.value,
                error.reason,
                describe_duration(int(delay)),
                strikes,
            )
        assert pause.affected is not None
        pause.affected.add(job.schedule.community_id)
        for other in self._jobs.values():
            if other.schedule.platform is platform:
                pause.affected.add(other.schedule.community_id)
        job.last_error = error.reason
        if pause.until > job.deadline:
            self._expire(job)
            return
        job.attempts += 1
        self.stats.retries += 1
        job.not_before = pause.until
        self._queues.setdefault(job.channel, deque()).appendleft(job)

    def _tell_about_pause(self, platform: Platform, pause: _PlatformPause) -> None:
        """Once per affected community and pause: what happened and that posts resumed."""
        told = pause.told if pause.told is not None else set()
        pause.told = told
        for community_id in sorted((pause.affected or set()) - told):
            told.add(community_id)
            name = platform.value.capitalize()
            card = Card(
                title="Scheduled posts were held back",
                body=(
                    f"{name} refused every request from Haven for a while ({pause.reason}), "
                    "so Haven held back all scheduled posts instead of adding to the problem, "
                    "and has now resumed them by itself. A post that could not wait within "
                    "its grace is listed in `/support-admin schedule history`."
                ),
                tone=CardTone.INFO,
            )
            key = _notice_key(f"pause|{community_id}|{pause.until:.0f}")
            task = asyncio.create_task(self._send_notice(platform, community_id, card, key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _fail_permanently(self, job: _Job, reason: str) -> None:
        """Guarantee (permanent failures pause, never delete, and stop calling the platform):
        the schedule is paused with the reason in the same write as the slot's outcome."""
        schedule = job.schedule
        log.warning("Schedule %s paused: %s", schedule.id, reason)
        self._finish(job, SlotStatus.FAILED, reason, pause_reason=reason)
        task = asyncio.create_task(self._notify_moderators(schedule, job.slot_at, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_moderators(self, schedule: Schedule, slot_at: int, reason: str) -> None:
        card = Card(
            title=f"Scheduled post {schedule.id} is paused",
            body=(
                f"Haven could not post {schedule.describe_target()} in "
                f"{schedule.channel_label} ({schedule.when_text}, {schedule.timezone}): "
                f"{reason}\nFix the cause, then run "
                f"`/support-admin schedule resume id:{schedule.id}`."
            ),
            tone=CardTone.ERROR,
        )
        key = idempotency_key(schedule.id, -slot_at)
        await self._send_notice(schedule.platform, schedule.community_id, card, key)

    async def _send_notice(
        self, platform: Platform, community_id: str, card: Card, key: str
    ) -> None:
        """Post a notice to the community's moderator log channel, if it has one."""
        try:
            channel = await self._store.log_channel_for(community_id)
            publisher = self._publishers.get(platform)
            if not channel or publisher is None:
                return
            await asyncio.wait_for(
                publisher.publish(channel, card, key, community_id=community_id),
                self._publish_timeout,
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning(
                "Could not tell the moderators of %s: %s (%s)", community_id, card.title, error
            )

    def _finish(
        self,
        job: _Job,
        status: SlotStatus,
        reason: str | None,
        message_id: str | None = None,
        *,
        pause_reason: str | None = None,
    ) -> None:
        if self._jobs.get(job.schedule.id) is job:
            del self._jobs[job.schedule.id]
        if not self._outcomes:
            self._outcomes_since = self._now()
        self._outcomes.append(
            SlotOutcome(
                schedule_id=job.schedule.id,
                slot_at=job.slot_at,
                status=status,
                reason=reason,
                message_id=message_id,
                attempts=job.attempts,
                pause_reason=pause_reason,
            )
        )
        self._metrics.scheduled_post(status.value)
        if status is SlotStatus.SENT:
            self.stats.sent += 1
        elif status is SlotStatus.FAILED:
            self.stats.failed += 1
        elif status is SlotStatus.UNKNOWN:
            self.stats.unknown += 1
        else:
            self.stats.missed += 1
        self._wake_event.set()

    async def _flush_outcomes(self, now: float) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            await self._call(self._store.record_outcomes(batch, int(now)))
        except Exception as error:
            # Kept and written on the next pass; until then the slots stay `claimed`, which a
            # restart would retry with the same key (never a duplicate).
            log.warning("Could not record %d scheduled post outcomes (%s)", len(batch), error)
            self._outcomes[:0] = batch
            await self._park(1.0)


def _notice_key(text: str) -> str:
    """An idempotency key for a moderator notice (unique per notice, stable across retries)."""
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:25]
