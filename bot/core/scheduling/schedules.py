"""Scheduled posts: the schedule model, the slot rules, and ScheduleService for moderators.

A schedule posts a topic's card (or one message) to a channel at the instants its `when`
describes (bot/core/scheduling/recurrence.py owns the grammar and the DST policy). Each
instant is a *slot*, identified by (schedule id, slot instant in epoch seconds). The rules that
make posting safe live here, beside the model, and are enforced by bot/scheduler.py and
bot/storage/schedule_store.py:

- A slot is posted at most once and always ends `sent`, `missed` (with why) or `failed` (with
  why): the slot key is UNIQUE in the database and claimed in one transaction before any post.
- A slot is only posted within its misfire *grace* after its instant: by default the smaller of
  1 hour and half the schedule's period, 1 hour for one-shots. After downtime at most one
  catch-up post per schedule (the latest slot still within the grace); older slots are recorded
  `missed`. So a daily 09:00 post never goes out at 3 am after an outage.
- Every post of a slot carries the same idempotency key, derived from the slot key, so a retry
  after a crash or a timeout cannot duplicate it on platforms that honour the key (Discord nonce).
- A schedule is never deleted because of a failure: a permanent failure pauses it with the
  reason, so a moderator can fix the cause and resume it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from bot.core.errors import Conflict, HavenError, MayHavePosted, NotFound, ValidationFailed
from bot.core.mentions import parse_channel
from bot.core.models import (
    Community,
    CommunityStatus,
    ItemKind,
    Platform,
    RequestContext,
)
from bot.core.permissions import moderator_community
from bot.core.ports import (
    CardSource,
    Clock,
    CommunityLookup,
    NewAuditEntry,
    Publisher,
    ScheduleRepository,
)
from bot.core.scheduling.publishing import (
    ChannelInfo,
    PermanentPublishError,
    PublishError,
    TransientPublishError,
    channel_checker,
)
from bot.core.scheduling.recurrence import Recurrence, parse_when, restore_when
from bot.core.scheduling.timezones import resolve_timezone, stored_timezone

log = logging.getLogger(__name__)

# One-shots: an hour late is still useful ("the meeting starts at 18:00"), later is not.
ONE_SHOT_GRACE_SECONDS = 3600
MAX_GRACE_SECONDS = 3600
MIN_GRACE_SECONDS = 60
# After long downtime each missed slot is recorded on its own up to this many per schedule; the
# rest are summed up in one row, so a year offline cannot write millions of rows.
MAX_MISSED_ROWS = 24
MAX_SCHEDULES_PER_COMMUNITY = 100
HISTORY_LIMIT = 20
IDEMPOTENCY_KEY_LENGTH = 25  # Discord's nonce is at most 25 characters


class SlotStatus(enum.StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    MISSED = "missed"
    FAILED = "failed"
    # The platform failed in a way that may have come after it created the post (a 5xx or a
    # timeout), and the window in which a retry with the same key is safe ran out: the post
    # may or may not be in the channel, and it is never sent again blindly.
    UNKNOWN = "unknown"


# How `schedule history` and `schedule list` describe a slot recorded UNKNOWN.
UNKNOWN_SENTENCE = "may or may not have posted"


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    community_id: str
    platform: Platform
    channel_id: str
    channel_label: str
    topic: str | None
    message_key: str | None
    when_text: str
    timezone: str
    one_shot: bool
    # Epoch seconds (UTC) of the next slot to claim; None when a one-shot is done.
    next_run_at: int | None
    grace_seconds: int
    paused: bool
    paused_reason: str | None
    created_by: str
    created_at: int
    last_outcome: str | None = None
    last_outcome_at: int | None = None
    version: int = 1

    def describe_target(self) -> str:
        if self.message_key and self.topic:
            return f"message {self.message_key} (topic {self.topic})"
        if self.message_key:
            return f"message {self.message_key}"
        return f"topic {self.topic}"


@dataclass(frozen=True, slots=True)
class NewSchedule:
    community_id: str
    platform: Platform
    channel_id: str
    channel_label: str
    topic: str | None
    message_key: str | None
    when_text: str
    timezone: str
    one_shot: bool
    next_run_at: int
    grace_seconds: int
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class SlotRecord:
    schedule_id: int
    slot_at: int
    status: SlotStatus
    reason: str | None
    attempts: int
    message_id: str | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """What to do with a due schedule, decided in the claim transaction (see `plan_slots`)."""

    claim: int | None
    missed: tuple[tuple[int, str], ...]
    next_run_at: int | None
    pause_reason: str | None = None


# ---- rules ------------------------------------------------------------------------------


def idempotency_key(schedule_id: int, slot_at: int) -> str:
    """The key every attempt at one slot carries (Discord: the message nonce).

    Derived only from the slot key, so a retry after a crash or timeout, in this process or the
    next, sends the same key and the platform returns the first message instead of a second.
    """
    digest = hashlib.sha256(f"{schedule_id}|{slot_at}".encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:IDEMPOTENCY_KEY_LENGTH]


def default_grace_seconds(recurrence: Recurrence) -> int:
    """min(1 h, period / 2), at least a minute; 1 h for one-shots."""
    if recurrence.one_shot:
        return ONE_SHOT_GRACE_SECONDS
    period = recurrence.nominal_period()
    if period is None:
        return ONE_SHOT_GRACE_SECONDS
    half = int(period.total_seconds() // 2)
    return max(MIN_GRACE_SECONDS, min(MAX_GRACE_SECONDS, half))


def epoch(instant: datetime) -> int:
    """Whole epoch seconds, rounded up: a slot is never posted before its instant."""
    return math.ceil(instant.timestamp())


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def describe_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        text = f"{minutes} minute{'s' if minutes != 1 else ''}"
        return text + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} hour{'s' if hours != 1 else ''}"
    return text + (f" {minutes} min" if minutes else "")


@lru_cache(maxsize=4096)
def _recurrence(when_text: str, timezone: str) -> Recurrence:
    return restore_when(when_text, timezone)


def recurrence_for(schedule: Schedule) -> Recurrence:
    """The schedule's recurrence, re-read from its stored canonical text (which pins anything
    that depended on the moment it was added, e.g. the origin of `every 6h`)."""
    return _recurrence(schedule.when_text, schedule.timezone)


def plan_slots(schedule: Schedule, now: int, recurrence: Recurrence | None) -> SlotPlan:
    """Decide what a due schedule does at `now`: the catch-up and misfire rules.

    Guarantee (after downtime at most one catch-up post, only within the grace): of the slots
    at or before `now`, only the latest is posted, and only if it is at most `grace` old. Every
    other slot is recorded `missed` with why, never silently dropped. The next slot is the first
    one after `now`, so nothing is posted early and nothing twice.
    """
    due = schedule.next_run_at
    assert due is not None and due <= now
    grace = schedule.grace_seconds
    window_start = now - grace
    late = describe_duration(grace)
    if schedule.one_shot or recurrence is None:
        if due >= window_start:
            return SlotPlan(claim=due, missed=(), next_run_at=None)
        reason = (
            f"Haven was not running at the time and came back more than {late} later "
            "(this schedule's grace), so it was not posted late."
        )
        return SlotPlan(claim=None, missed=((due, reason),), next_run_at=None)

    missed: list[tuple[int, str]] = []
    offline = (
        f"Haven was not running at the time and came back more than {late} later "
        "(this schedule's grace), so it was not posted late."
    )
    slot: int | None = due
    # Slots older than the grace: missed. Record a bounded number one by one.
    while slot is not None and slot < window_start and len(missed) < MAX_MISSED_ROWS:
        missed.append((slot, offline))
        slot = _next(recurrence, slot)
    if slot is not None and slot < window_start:
        # Too many to list: one row stands for this slot and every later one before the grace.
        summary = (
            f"{offline} Every later slot until {from_epoch(window_start):%Y-%m-%d %H:%M} UTC "
            "was missed too."
        )
        missed.append((slot, summary))
        slot = _next(recurrence, window_start - 1)
    # Slots within the grace: post only the latest (coalesce), record the rest as missed.
    in_grace: list[int] = []
    while slot is not None and slot <= now:
        in_grace.append(slot)
        slot = _next(recurrence, slot)
    claim = in_grace[-1] if in_grace else None
    for older in in_grace[:-1]:
        missed.append(
            (older, "Coalesced after downtime: only the latest slot was posted, not a burst.")
        )
    return SlotPlan(claim=claim, missed=tuple(missed), next_run_at=slot)


def _next(recurrence: Recurrence, after: int) -> int | None:
    instant = recurrence.next_after(from_epoch(after))
    if instant is None:
        return None
    value = epoch(instant)
    # Guard against a recurrence that does not advance (it would loop forever).
    return value if value > after else after + 1


# ---- channels ---------------------------------------------------------------------------

# ---- the service ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddedSchedule:
    schedule: Schedule
    next_runs: tuple[datetime, ...]
    # Something the moderator should know (e.g. the channel could not be checked).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EditedSchedule:
    before: Schedule
    schedule: Schedule
    next_runs: tuple[datetime, ...]
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.schedule.version != self.before.version


@dataclass(frozen=True, slots=True)
class _CheckedPost:
    """What a schedule posts, where and when, checked as `schedule add` checks it."""

    community_id: str
    channel_id: str
    channel_label: str
    topic: str | None
    message_key: str | None
    recurrence: Recurrence
    next_runs: tuple[datetime, ...]
    notes: tuple[str, ...]


# What `schedule edit` can change, and the value that clears a topic or a message.
EDITABLE = ("channel", "when", "topic", "message", "timezone")
CLEAR = "none"


@dataclass(frozen=True, slots=True)
class ResumedSchedule:
    schedule: Schedule
    next_run: datetime | None
    posts_now: bool = False


@dataclass(frozen=True, slots=True)
class SentTestPost:
    schedule: Schedule
    message_id: str


@dataclass(frozen=True, slots=True)
class ScheduleHistory:
    schedules: Mapping[int, Schedule]
    slots: tuple[SlotRecord, ...]
    schedule_id: int | None = None


def _audit_dict(schedule: Schedule) -> dict[str, object]:
    return {
        "channel": schedule.channel_label,
        "channel_id": schedule.channel_id,
        "topic": schedule.topic,
        "message": schedule.message_key,
        "when": schedule.when_text,
        "timezone": schedule.timezone,
        "paused": schedule.paused,
        "paused_reason": schedule.paused_reason,
    }


class ScheduleService:
    """What moderators can do with schedules. Permission is checked on every call; every
    change is one transaction with its audit entry, then the scheduler is woken so the change
    takes effect at once."""

    def __init__(
        self,
        store: ScheduleRepository,
        communities: CommunityLookup,
        cards: CardSource,
        publishers: Mapping[Platform, Publisher],
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self._store = store
        self._communities = communities
        self._cards = cards
        # A live mapping: adapters register their publisher after start-up.
        self._publishers = publishers
        self._clock = clock
        self._wake = wake

    # -- helpers --

    async def _moderated_community(self, ctx: RequestContext) -> Community:
        return await moderator_community(self._communities, ctx)

    async def _own_schedule(self, ctx: RequestContext, schedule_id: int) -> Schedule:
        schedule = await self._store.get(schedule_id)
        # Another community's schedule is reported exactly like a missing one (no probing).
        if schedule is None or schedule.community_id != ctx.community_id:
            raise NotFound(
                f"There is no schedule {schedule_id} here.",
                "`/support-admin schedule list` shows this community's schedules and their ids.",
            )
        return schedule

    def _audit(
        self,
        ctx: RequestContext,
        action: str,
        key: str,
        before: Schedule | None,
        after: Schedule | None,
    ) -> NewAuditEntry:
        return NewAuditEntry(
            actor_id=ctx.actor.id,
            actor_name=ctx.actor.display_name,
            action=action,
            item_kind=ItemKind.SCHEDULE,
            item_key=key,
            before=_audit_dict(before) if before else None,
            after=_audit_dict(after) if after else None,
        )

    def _now(self) -> datetime:
        # Whole seconds: slots and `created_at` are stored in epoch seconds, and re-parsing a
        # `when` at `created_at` must give exactly the recurrence the moderator was shown.
        return self._clock.now().astimezone(UTC).replace(microsecond=0)

    async def _check_channel(
        self, platform: Platform, community_id: str, channel_id: str, label: str
    ) -> tuple[str, tuple[str, ...]]:
        """Refuse a channel the bot cannot post in (nothing is stored); returns the label."""
        publisher = self._publishers.get(platform)
        if publisher is None:
            return label, (
                f"I could not check the channel now: Haven's {platform.value} connection is not "
                "running. If it cannot post there, the schedule will pause and say why.",
            )
        checker = channel_checker(publisher)
        if checker is None:
            return label, ()
        try:
            info: ChannelInfo = await checker.check_channel(channel_id, community_id=community_id)
        except PermanentPublishError as error:
            raise ValidationFailed(
                [f"channel: Haven cannot post in {label}: {error.reason}"],
                "Invite Haven to the channel or give it permission to send messages and embed "
                "links there, then try again. Nothing was saved.",
            ) from error
        except TransientPublishError as error:
            raise HavenError(
                f"I could not check {label} just now ({error.reason}).",
                "Please try again in a minute. Nothing was saved.",
            ) from error
        return (info.label or label), ()

    # -- moderator actions --

    async def add(
        self,
        ctx: RequestContext,
        *,
        channel: str,
        when: str,
        topic: str | None = None,
        message: str | None = None,
        timezone: str | None = None,
    ) -> AddedSchedule:
        community = await self._moderated_community(ctx)
        if await self._store.count_for_community(community.id) >= MAX_SCHEDULES_PER_COMMUNITY:
            raise ValidationFailed(
                [f"This community already has {MAX_SCHEDULES_PER_COMMUNITY} schedules."],
                "Remove one you no longer need first.",
            )
        now = self._now()
        checked = await self._checked_post(
            ctx,
            community,
            now,
            channel=channel,
            when=when,
            topic=topic,
            message=message,
            timezone=timezone,
        )
        recurrence, next_runs = checked.recurrence, checked.next_runs
        new = NewSchedule(
            community_id=community.id,
            platform=ctx.platform,
            channel_id=checked.channel_id,
            channel_label=checked.channel_label,
            topic=checked.topic,
            message_key=checked.message_key,
            when_text=recurrence.text,
            timezone=recurrence.timezone,
            one_shot=recurrence.one_shot,
            next_run_at=epoch(next_runs[0]),
            grace_seconds=default_grace_seconds(recurrence),
            created_by=ctx.actor.id,
            created_at=int(now.timestamp()),
        )
        # Allowed (two posts may be wanted), but said: it is usually a double submission.
        duplicates = await self._duplicate_notes(ctx.platform, checked)
        schedule = await self._store.insert(
            new, lambda new_id: self._audit(ctx, "add", str(new_id), None, _preview(new, new_id))
        )
        log.info("Schedule %s added in %s", schedule.id, community.id)
        self._wake()
        return AddedSchedule(schedule, next_runs, (*checked.notes, *duplicates))

    async def _checked_post(
        self,
        ctx: RequestContext,
        community: Community,
        now: datetime,
        *,
        channel: str | None,
        when: str,
        topic: str | None,
        message: str | None,
        timezone: str | None,
        editing: Schedule | None = None,
    ) -> _CheckedPost:
        """What `schedule add` checks, for add and edit alike: what to post, the channel (through
        the publisher when it is running), the zone and the `when`. Nothing is stored.

        `editing` is the schedule an edit changes: its channel is kept (and not checked again)
        when no `channel` is given, and its zone when no `timezone` is."""
        if community.status is not CommunityStatus.ACTIVE:
            raise ValidationFailed(["Haven was removed from this community; it cannot post."])
        topic = (topic or "").strip() or None
        message = (message or "").strip() or None
        if topic is None and message is None:
            example = (
                f"Example: /support-admin schedule edit id:{editing.id} topic:coming-out"
                if editing is not None
                else 'Example: /support-admin schedule add channel:#welcome when:"daily 09:00" '
                "topic:coming-out"
            )
            raise ValidationFailed(
                [
                    "topic: say what to post: a topic (its rotating message and resources) or a "
                    "message key."
                ],
                example,
            )
        if editing is not None and channel is None:
            channel_id, label = editing.channel_id, editing.channel_label
        else:
            channel_id, label = parse_channel(channel or "", ctx.platform)
        # What the moderator typed is read as people say it (BST -> Europe/London, with a note
        # that it follows summer time); the community's stored zone is kept exactly.
        zone_notes: tuple[str, ...] = ()
        if timezone and timezone.strip():
            resolved = resolve_timezone(timezone)
            zone = resolved.name
            zone_notes = (resolved.note,) if resolved.note else ()
        else:
            zone = stored_timezone(editing.timezone if editing else community.timezone)
        recurrence = parse_when(when, zone, now)
        next_runs = tuple(recurrence.next_runs(now, 3))
        if not next_runs:
            raise ValidationFailed([f"when: '{when}' has no run after now."])
        # Check what will be posted now: an unknown topic or message is refused here, with
        # choices, instead of failing at 09:00 tomorrow (no message rotation is spent on it).
        resolved_topic = await self._cards.resolve_post(community.id, topic, message)
        notes: tuple[str, ...] = ()
        if editing is None or channel is not None:
            label, notes = await self._check_channel(
                ctx.platform, ctx.community_id, channel_id, label
            )
        return _CheckedPost(
            community_id=community.id,
            channel_id=channel_id,
            channel_label=label,
            topic=resolved_topic if topic is not None else None,
            message_key=message,
            recurrence=recurrence,
            next_runs=next_runs,
            notes=(*zone_notes, *notes),
        )

    async def _duplicate_notes(
        self, platform: Platform, checked: _CheckedPost, *, besides: int | None = None
    ) -> tuple[str, ...]:
        """A note for each other schedule of the community that posts the same thing in the
        same channel at the same times."""
        notes: list[str] = []
        for other in await self._store.list_for_community(checked.community_id):
            if other.id == besides or not _posts_the_same(other, platform, checked):
                continue
            remove = f"`/support-admin schedule remove id:{other.id}`"
            if other.paused:
                notes.append(
                    f"Schedule {other.id} (paused now) posts the same thing in the same channel "
                    f"at the same times; remove one with {remove}."
                )
            else:
                notes.append(
                    f"Schedule {other.id} already posts the same thing in the same channel at "
                    f"the same times; remove one with {remove}."
                )
        return tuple(notes)

    async def list(self, ctx: RequestContext) -> tuple[Schedule, ...]:
        await self._moderated_community(ctx)
        return tuple(await self._store.list_for_community(ctx.community_id))

    async def pause(self, ctx: RequestContext, schedule_id: int) -> Schedule:
        await self._moderated_community(ctx)
        before = await self._own_schedule(ctx, schedule_id)
        if before.paused:
            return before
        reason = f"paused by {ctx.actor.display_name or 'a moderator'}"
        after = await self._store.update_state(
            schedule_id,
            ctx.community_id,
            paused=True,
            paused_reason=reason,
            next_run_at=before.next_run_at,
            audit=self._audit(
                ctx,
                "pause",
                str(schedule_id),
                before,
                replace(before, paused=True, paused_reason=reason),
            ),
        )
        if after is None:
            raise NotFound(f"There is no schedule {schedule_id} here.")
        self._wake()
        return after

    async def resume(self, ctx: RequestContext, schedule_id: int) -> ResumedSchedule:
        await self._moderated_community(ctx)
        before = await self._own_schedule(ctx, schedule_id)
        now = self._now()
        now_epoch = int(now.timestamp())
        posts_now = False
        if before.one_shot:
            if await self._store.has_sent_slot(schedule_id):
                raise ValidationFailed(
                    [f"Schedule {schedule_id} was a one-off post and it has already been sent."],
                    "Add a new schedule to post it again.",
                )
            if before.next_run_at is not None and before.next_run_at > now_epoch:
                next_run_at: int | None = before.next_run_at
            else:
                # Its time has passed while paused (or it failed): resuming means "post now".
                next_run_at = now_epoch
                posts_now = True
        else:
            following = recurrence_for(before).next_after(now)
            next_run_at = epoch(following) if following is not None else None
        after = await self._store.update_state(
            schedule_id,
            ctx.community_id,
            paused=False,
            paused_reason=None,
            next_run_at=next_run_at,
            audit=self._audit(
                ctx,
                "resume",
                str(schedule_id),
                before,
                replace(before, paused=False, paused_reason=None),
            ),
        )
        if after is None:
            raise NotFound(f"There is no schedule {schedule_id} here.")
        self._wake()
        return ResumedSchedule(
            after, from_epoch(next_run_at) if next_run_at is not None else None, posts_now
        )

    async def get(self, ctx: RequestContext, schedule_id: int) -> Schedule:
        """One schedule of this community (what `schedule remove` shows before it removes)."""
        await self._moderated_community(ctx)
        return await self._own_schedule(ctx, schedule_id)

    async def edit(
        self,
        ctx: RequestContext,
        schedule_id: int,
        *,
        channel: str | None = None,
        when: str | None = None,
        topic: str | None = None,
        message: str | None = None,
        timezone: str | None = None,
    ) -> EditedSchedule:
        """Change what a schedule posts, where or when, checked exactly as `add` checks it, in
        one transaction with its audit entry (before and after). What is not given is kept;
        topic or message `none` clears it. The next run is recomputed from now; a paused
        schedule stays paused."""
        community = await self._moderated_community(ctx)
        typed = {
            "channel": channel,
            "when": when,
            "topic": topic,
            "message": message,
            "timezone": timezone,
        }
        given = {name: value.strip() for name, value in typed.items() if value and value.strip()}
        if not given:
            raise ValidationFailed(
                [f"Say what to change in schedule {schedule_id}: {', '.join(EDITABLE)}."],
                f'Example: /support-admin schedule edit id:{schedule_id} when:"daily 10:00" '
                f"(topic:{CLEAR} or message:{CLEAR} clears that one).",
            )
        before = await self._own_schedule(ctx, schedule_id)
        if before.one_shot and await self._store.has_sent_slot(schedule_id):
            raise ValidationFailed(
                [f"Schedule {schedule_id} was a one-off post and it has already been sent."],
                "Add a new schedule to post it again.",
            )

        def kept(name: str, current: str | None) -> str | None:
            if name not in given:
                return current
            return None if given[name].lower() == CLEAR else given[name]

        now = self._now()
        checked = await self._checked_post(
            ctx,
            community,
            now,
            channel=given.get("channel"),
            when=given.get("when", before.when_text),
            topic=kept("topic", before.topic),
            message=kept("message", before.message_key),
            timezone=given.get("timezone"),
            editing=before,
        )
        recurrence = checked.recurrence
        edited = replace(
            before,
            channel_id=checked.channel_id,
            channel_label=checked.channel_label,
            topic=checked.topic,
            message_key=checked.message_key,
            when_text=recurrence.text,
            timezone=recurrence.timezone,
            one_shot=recurrence.one_shot,
            next_run_at=epoch(checked.next_runs[0]),
            grace_seconds=default_grace_seconds(recurrence),
        )
        duplicates = await self._duplicate_notes(ctx.platform, checked, besides=schedule_id)
        if _audit_dict(edited) == _audit_dict(before):
            # Nothing to write (and nothing to audit): the schedule already reads so.
            return EditedSchedule(before, before, checked.next_runs, (*checked.notes, *duplicates))
        after = await self._store.update_definition(
            edited, self._audit(ctx, "edit", str(schedule_id), before, edited)
        )
        if after is None:
            if await self._store.get(schedule_id) is None:
                raise NotFound(f"There is no schedule {schedule_id} here.")
            raise Conflict(
                f"Schedule {schedule_id} changed while this edit was being checked.",
                "Nothing was changed. Look at it again with `/support-admin schedule list` "
                "and repeat the edit.",
            )
        log.info("Schedule %s edited in %s", schedule_id, community.id)
        self._wake()
        return EditedSchedule(before, after, checked.next_runs, (*checked.notes, *duplicates))

    async def remove(
        self, ctx: RequestContext, schedule_id: int, expected_version: int | None = None
    ) -> Schedule:
        """Delete the schedule; with `expected_version` (from the confirm button), only if
        nobody changed it since the moderator saw what they were removing."""
        await self._moderated_community(ctx)
        before = await self._own_schedule(ctx, schedule_id)
        if expected_version is not None and before.version != expected_version:
            raise Conflict(
                f"Schedule {schedule_id} was changed after you asked to remove it; nothing was "
                "removed.",
                f"Look at it again: /support-admin schedule remove id:{schedule_id}",
            )
        removed = await self._store.delete(
            schedule_id,
            ctx.community_id,
            self._audit(ctx, "remove", str(schedule_id), before, None),
        )
        if not removed:
            raise NotFound(f"There is no schedule {schedule_id} here.")
        self._wake()
        return before

    async def test(self, ctx: RequestContext, schedule_id: int) -> SentTestPost:
        """Post once now, outside the slot history (no slot row, no effect on the next run)."""
        await self._moderated_community(ctx)
        schedule = await self._own_schedule(ctx, schedule_id)
        publisher = self._publishers.get(schedule.platform)
        if publisher is None:
            raise HavenError(
                f"Haven's {schedule.platform.value} connection is not running, so I cannot post.",
                "Check the bot's logs; nothing was posted.",
            )
        card = await self._cards.post_card(
            schedule.community_id, schedule.topic, schedule.message_key
        )
        # Each test is its own post: a fresh key, unrelated to any slot's.
        key = "test" + secrets.token_hex(10)
        try:
            message_id = await publisher.publish(
                schedule.channel_id, card, key, community_id=schedule.community_id
            )
        except TransientPublishError as error:
            if error.may_have_posted:
                raise MayHavePosted(
                    f"The test post to {schedule.channel_label} may or may not have gone "
                    f"through ({error.reason}).",
                    "Look in the channel before trying again; the schedule is unchanged.",
                ) from error
            raise _test_failed(schedule, error) from error
        except PublishError as error:
            raise _test_failed(schedule, error) from error
        log.info("Test post for schedule %s in %s", schedule.id, schedule.community_id)
        return SentTestPost(schedule, message_id)

    async def history(
        self, ctx: RequestContext, schedule_id: int | None = None, limit: int = HISTORY_LIMIT
    ) -> ScheduleHistory:
        await self._moderated_community(ctx)
        if schedule_id is not None:
            schedule = await self._own_schedule(ctx, schedule_id)
            schedules = {schedule.id: schedule}
        else:
            schedules = {s.id: s for s in await self._store.list_for_community(ctx.community_id)}
        slots = await self._store.history(ctx.community_id, schedule_id, limit)
        return ScheduleHistory(schedules, tuple(slots), schedule_id)

    async def resume_after_return(self, community_id: str, reason: str) -> int:
        """The bot is back within the grace period: resume the recurring schedules its removal
        paused (same reason), from their next run after now. One-shots and schedules paused
        for any other reason stay paused for a moderator to decide."""
        resumed = 0
        now = self._now()
        for schedule in await self._store.list_for_community(community_id):
            if not schedule.paused or schedule.one_shot or schedule.paused_reason != reason:
                continue
            following = recurrence_for(schedule).next_after(now)
            await self._store.update_state(
                schedule.id,
                community_id,
                paused=False,
                paused_reason=None,
                next_run_at=epoch(following) if following is not None else None,
                audit=NewAuditEntry(
                    actor_id="haven",
                    actor_name="Haven",
                    action="resume",
                    item_kind=ItemKind.SCHEDULE,
                    item_key=str(schedule.id),
                    before={"paused": True, "paused_reason": reason},
                    after={"paused": False, "why": "Haven came back within the grace period"},
                ),
            )
            resumed += 1
        if resumed:
            log.info("Resumed %d schedules of %s after its return", resumed, community_id)
            self._wake()
        return resumed

    async def pause_all_for_community(self, community_id: str, reason: str) -> int:
        """The bot was removed: pause every schedule of the community so no post is attempted
        (it would fail and cost the invalid-request budget). Wired as a removal hook."""
        count = await self._store.pause_all_for_community(community_id, reason)
        if count:
            log.info("Paused %d schedules of %s: %s", count, community_id, reason)
            self._wake()
        return count


def _posts_the_same(schedule: Schedule, platform: Platform, checked: _CheckedPost) -> bool:
    """Same channel, same topic and message, same zone, and the same slots (the same canonical
    `when`, or `every` intervals that line up whatever day each was added)."""
    if (
        schedule.platform,
        schedule.channel_id,
        schedule.topic,
        schedule.message_key,
        schedule.timezone,
    ) != (
        platform,
        checked.channel_id,
        checked.topic,
        checked.message_key,
        checked.recurrence.timezone,
    ):
        return False
    if schedule.when_text == checked.recurrence.text:
        return True
    try:
        existing = recurrence_for(schedule)
    except HavenError:
        return False
    return _same_slots(existing, checked.recurrence)


def _same_slots(a: Recurrence, b: Recurrence) -> bool:
    if a.kind != b.kind or a.origin is None or b.origin is None:
        return False
    if a.kind == "once":
        return a.origin == b.origin
    if a.kind == "every" and a.interval is not None and a.interval == b.interval:
        return (a.origin - b.origin) % a.interval == timedelta(0)
    return False


def _preview(new: NewSchedule, schedule_id: int) -> Schedule:
    return Schedule(
        id=schedule_id,
        community_id=new.community_id,
        platform=new.platform,
        channel_id=new.channel_id,
        channel_label=new.channel_label,
        topic=new.topic,
        message_key=new.message_key,
        when_text=new.when_text,
        timezone=new.timezone,
        one_shot=new.one_shot,
        next_run_at=new.next_run_at,
        grace_seconds=new.grace_seconds,
        paused=False,
        paused_reason=None,
        created_by=new.created_by,
        created_at=new.created_at,
    )


__all__ = [
    "CLEAR",
    "EDITABLE",
    "UNKNOWN_SENTENCE",
    "AddedSchedule",
    "ClaimedSlot",
    "EditedSchedule",
    "LeaseState",
    "NewSchedule",
    "ResumedSchedule",
    "Schedule",
    "ScheduleHistory",
    "ScheduleService",
    "SentTestPost",
    "SlotOutcome",
    "SlotPlan",
    "SlotRecord",
    "SlotStatus",
    "default_grace_seconds",
    "describe_duration",
    "epoch",
    "idempotency_key",
    "parse_channel",
    "plan_slots",
    "recurrence_for",
]


# ---- what the scheduler and its store exchange (ports.SchedulerStore) ----------------


@dataclass(frozen=True, slots=True)
class ClaimedSlot:
    """A slot this process claimed and must now post (or record why not)."""

    schedule: Schedule
    slot_at: int
    attempts: int
    # For a slot recovered after a crash: when it was first claimed, the earliest moment a
    # post of it may exist (the window of its key counts from then).
    claimed_at: int | None = None


@dataclass(frozen=True, slots=True)
class SlotOutcome:
    """The final state of a claimed slot, written by `record_outcomes`."""

    schedule_id: int
    slot_at: int
    status: SlotStatus
    reason: str | None = None
    message_id: str | None = None
    attempts: int = 1
    # A permanent failure pauses the schedule with this reason (never deletes it).
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class LeaseState:
    acquired: bool
    owner: str | None
    expires_at: float | None
    heartbeat: float | None


def _test_failed(schedule: Schedule, error: PublishError) -> HavenError:
    return HavenError(
        f"The test post to {schedule.channel_label} failed: {error.reason}",
        "Nothing was posted and the schedule is unchanged.",
    )
