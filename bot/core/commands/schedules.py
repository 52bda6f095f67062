"""The `schedule` group of `/support-admin`: options in, Cards out (ScheduleService works)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.core.cards import Card, CardTone, Choice, PageRef
from bot.core.commands.content import PAGE, VERSION
from bot.core.commands.verbs import (
    Arguments,
    Completion,
    Form,
    Handler,
    Option,
    OptionKind,
    PublicPosts,
    Verb,
    VerbTable,
)
from bot.core.content.validation import MAX_KEY_LENGTH
from bot.core.models import RequestContext, paginate
from bot.core.scheduling.recurrence import describe_run
from bot.core.scheduling.schedules import (
    CLEAR,
    AddedSchedule,
    EditedSchedule,
    Schedule,
    ScheduleService,
    SlotRecord,
    SlotStatus,
    from_epoch,
)

SCHEDULE_ID = Option(
    "id",
    "Which schedule (schedule list shows the ids)",
    OptionKind.NUMBER,
    required=True,
    max_length=12,
    placeholder="3",
)

CHANNEL = Option(
    "channel", "Where to post", OptionKind.CHANNEL, required=True, placeholder="#welcome"
)
WHEN = Option(
    "when",
    'e.g. "daily 09:00", "weekly mon 18:00", "once 2026-12-24 18:00"',
    required=True,
    max_length=200,
    placeholder='"daily 09:00"',
)
TOPIC = Option(
    "topic",
    "What to post",
    max_length=64,
    completion=Completion.TOPIC,
    aliases=("topics",),
    placeholder="coming-out",
)
MESSAGE = Option(
    "message",
    "A message key to post instead of the rotation",
    max_length=MAX_KEY_LENGTH,
    completion=Completion.MESSAGE_KEY,
)
TIMEZONE = Option(
    "timezone",
    "Time zone (default: the community's)",
    max_length=64,
    completion=Completion.TIMEZONE,
    placeholder="Europe/London",
)
# `remove` changes nothing without it: its first answer shows what would go and a button
# whose line adds `confirm:yes`. Typed in the console or Slack it works too; not offered on
# Discord's slash command or in help, so the button is the way there.
CONFIRM = Option(
    "confirm",
    "yes: really remove it",
    OptionKind.YES_NO,
    max_length=5,
    placeholder="yes",
    hidden=True,
)

# `schedule test` posts in the channel at once, for everyone there to see. Two in a row lets a
# moderator test, fix and test again; after that one every 30 seconds keeps a loop or a stuck
# key to two posts a minute, well under where Discord (5 per 5 s per channel) or Slack (about
# 1 per second) start refusing, so the moderator meets this sentence, not a platform error.
TEST_POSTS = PublicPosts(burst=2, every_seconds=30)


def _when_label(schedule: Schedule) -> str:
    # The `every` origin is stored to keep slots stable; it is noise in a list.
    when = (
        schedule.when_text.split(" from ")[0]
        if schedule.when_text.startswith("every")
        else (schedule.when_text)
    )
    if when.endswith(" UTC"):  # a one-shot given in UTC (or by `in`): the zone is in the text
        return when
    return f"{when} ({schedule.timezone})"


def _run_label(epoch_seconds: int, schedule: Schedule) -> str:
    return describe_run(from_epoch(epoch_seconds), schedule.timezone)


def _status_label(slot: SlotRecord) -> str:
    if slot.status is SlotStatus.SENT:
        return "sent" + (f" after {slot.attempts} attempts" if slot.attempts > 1 else "")
    if slot.status is SlotStatus.CLAIMED:
        return "being posted"
    return f"{slot.status.value}: {slot.reason or 'no reason recorded'}"


class ScheduleCommands:
    def __init__(self, service: ScheduleService) -> None:
        self._service = service

        def by_id(
            name: str,
            summary: str,
            handler: Handler,
            *,
            required: bool = True,
            confirm: bool = False,
            posts_publicly: PublicPosts | None = None,
        ) -> Verb:
            option = SCHEDULE_ID if required else replace(SCHEDULE_ID, required=False)
            return Verb(
                name,
                summary,
                handler,
                options=(option, CONFIRM, VERSION) if confirm else (option,),
                positional=("id",),
                example=f"schedule {name} id:3",
                posts_publicly=posts_publicly,
            )

        self.table = VerbTable(
            "schedule",
            "Scheduled posts",
            (
                Verb(
                    "add",
                    "post a topic's message and resources on a schedule",
                    self._add,
                    options=(CHANNEL, WHEN, TOPIC, MESSAGE, TIMEZONE),
                    form=Form(
                        "Schedule a post",
                        ("channel", "when", "topic", "message", "timezone"),
                        ("channel", "when"),
                    ),
                    prefill=self._add_form,
                    example='schedule add channel:#welcome when:"weekly mon 18:00" '
                    "topic:coming-out timezone:Europe/London",
                ),
                Verb(
                    "edit",
                    "change a schedule's channel, time, topic, message or time zone",
                    self._edit,
                    options=(
                        SCHEDULE_ID,
                        replace(CHANNEL, required=False),
                        replace(WHEN, required=False),
                        replace(TOPIC, description=f"What to post ({CLEAR}: only the message)"),
                        replace(
                            MESSAGE,
                            description=f"A message key to post instead ({CLEAR}: the rotation)",
                        ),
                        replace(TIMEZONE, description="Time zone (default: the schedule's own)"),
                    ),
                    positional=("id",),
                    example='schedule edit id:3 when:"daily 10:00"',
                ),
                Verb(
                    "list",
                    "every schedule: next run, last outcome, paused and why",
                    self._list,
                    options=(PAGE,),
                ),
                by_id("pause", "stop posting until resumed", self._pause),
                by_id("resume", "start again from the next run", self._resume),
                by_id(
                    "remove", "delete the schedule (asks to confirm)", self._remove, confirm=True
                ),
                by_id(
                    "test",
                    "post once now (not counted in its history)",
                    self._test,
                    posts_publicly=TEST_POSTS,
                ),
                by_id(
                    "history",
                    "recent runs: sent, missed or failed, with why",
                    self._history,
                    required=False,
                ),
            ),
        )

    async def _add_form(
        self, ctx: RequestContext, args: Arguments
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The form starts in the community's time zone."""
        zone = args.get("timezone") or (args.community.timezone if args.community else "UTC")
        return {"timezone": zone}, {}

    async def _list(self, ctx: RequestContext, args: Arguments) -> Card:
        return self._list_card(await self._service.list(ctx), args.number("page") or 1)

    async def _pause(self, ctx: RequestContext, args: Arguments) -> Card:
        schedule_id = _id(args)
        schedule = await self._service.pause(ctx, schedule_id)
        return Card(
            title=f"Schedule {schedule_id} paused",
            body=f"It will not post in {schedule.channel_label} until you resume it.",
            tone=CardTone.SUCCESS,
            footer=f"Resume: /support-admin schedule resume id:{schedule_id}",
        )

    async def _resume(self, ctx: RequestContext, args: Arguments) -> Card:
        schedule_id = _id(args)
        resumed = await self._service.resume(ctx, schedule_id)
        if resumed.posts_now:
            body = "Its time has passed, so it posts now."
        elif resumed.next_run is not None:
            body = "Next run: " + describe_run(resumed.next_run, resumed.schedule.timezone)
        else:
            body = "It has no further runs."
        return Card(title=f"Schedule {schedule_id} resumed", body=body, tone=CardTone.SUCCESS)

    async def _remove(self, ctx: RequestContext, args: Arguments) -> Card:
        schedule_id = _id(args)
        if args.get("confirm") != "yes":
            return _remove_preview(await self._service.get(ctx, schedule_id))
        schedule = await self._service.remove(ctx, schedule_id, args.number("version"))
        return Card(
            title=f"Schedule {schedule_id} removed",
            body=f"It will no longer post {schedule.describe_target()} in "
            f"{schedule.channel_label}.",
            tone=CardTone.SUCCESS,
        )

    async def _test(self, ctx: RequestContext, args: Arguments) -> Card:
        test = await self._service.test(ctx, _id(args))
        return Card(
            title=f"Test post sent to {test.schedule.channel_label}",
            body="It is not part of the schedule's history, and the next run is unchanged.",
            tone=CardTone.SUCCESS,
        )

    async def _add(self, ctx: RequestContext, args: Arguments) -> Card:
        added = await self._service.add(
            ctx,
            channel=args.text("channel"),
            when=args.text("when"),
            topic=args.get("topic"),
            message=args.get("message"),
            timezone=args.get("timezone"),
        )
        schedule = added.schedule
        footer = (
            f"Try it now: /support-admin schedule test id:{schedule.id} · pause: "
            f"/support-admin schedule pause id:{schedule.id}"
        )
        return _schedule_card(
            f"Schedule {schedule.id} added", CardTone.SUCCESS, "", added, (*added.notes, footer)
        )

    async def _edit(self, ctx: RequestContext, args: Arguments) -> Card:
        edited = await self._service.edit(
            ctx,
            _id(args),
            channel=args.get("channel"),
            when=args.get("when"),
            topic=args.get("topic"),
            message=args.get("message"),
            timezone=args.get("timezone"),
        )
        schedule = edited.schedule
        if edited.changed:
            title, tone = f"Schedule {schedule.id} changed", CardTone.SUCCESS
            body = "Changed: " + "; ".join(_changes(edited.before, schedule)) + "."
        else:
            title, tone = f"Schedule {schedule.id} unchanged", CardTone.INFO
            body = "It already reads like that; nothing was changed."
        if schedule.paused:
            body += (
                f" It is still paused ({schedule.paused_reason or 'no reason recorded'}): it "
                "will not post until you resume it."
            )
            next_step = f"Resume: /support-admin schedule resume id:{schedule.id}"
        else:
            next_step = f"Try it now: /support-admin schedule test id:{schedule.id}"
        return _schedule_card(title, tone, body, edited, (*edited.notes, next_step))

    def _list_card(self, schedules: tuple[Schedule, ...], page: int) -> Card:
        if not schedules:
            return Card(
                title="Schedules",
                body="No scheduled posts yet.",
                footer="Add one: /support-admin " + self.table.verbs[0].usage("schedule"),
            )
        # A page past the end (a stale Next button after removals) shows the last page.
        shown = paginate(schedules, page, clamp=True)
        lines: list[str] = []
        for schedule in shown.items:
            lines.append(
                f"#{schedule.id} · {_when_label(schedule)} · {schedule.describe_target()} → "
                f"{schedule.channel_label}"
            )
            if schedule.paused:
                lines.append(f"    paused: {schedule.paused_reason or 'no reason recorded'}")
            elif schedule.next_run_at is not None:
                lines.append(f"    next: {_run_label(schedule.next_run_at, schedule)}")
            else:
                lines.append("    finished: no further runs")
            if schedule.last_outcome and schedule.last_outcome_at is not None:
                lines.append(
                    f"    last: {schedule.last_outcome}, "
                    f"{_run_label(schedule.last_outcome_at, schedule)}"
                )
        return Card(
            title=f"Schedules ({len(schedules)})",
            lines=tuple(lines),
            page=PageRef(
                page=shown.page,
                page_count=shown.page_count,
                command="/support-admin schedule list",
            ),
            footer="`schedule history id:N` shows each run and why one was missed or failed.",
        )

    async def _history(self, ctx: RequestContext, args: Arguments) -> Card:
        schedule_id = args.number("id")
        history = await self._service.history(ctx, schedule_id)
        title = f"History of schedule {schedule_id}" if schedule_id else "Recent scheduled posts"
        if not history.slots:
            return Card(title=title, body="No runs yet.")
        lines: list[str] = []
        for slot in history.slots:
            schedule = history.schedules.get(slot.schedule_id)
            zone = schedule.timezone if schedule else "UTC"
            prefix = "" if schedule_id else f"#{slot.schedule_id} · "
            lines.append(
                f"{prefix}{describe_run(from_epoch(slot.slot_at), zone)} · {_status_label(slot)}"
            )
        return Card(title=title, lines=tuple(lines), footer="Newest first.")


def _changes(before: Schedule, after: Schedule) -> list[str]:
    """`when daily 09:00 → daily 10:00` for each part an edit changed."""
    parts = (
        ("channel", before.channel_label, after.channel_label),
        ("when", _when_label(before), _when_label(after)),
        ("posts", before.describe_target(), after.describe_target()),
    )
    return [f"{name} {old} → {new}" for name, old, new in parts if old != new]


def _remove_preview(schedule: Schedule) -> Card:
    """What `schedule remove` would delete, and the button that does it. Nothing changes yet."""
    if schedule.paused:
        state = f"paused: {schedule.paused_reason or 'no reason recorded'}"
    elif schedule.next_run_at is not None:
        state = _run_label(schedule.next_run_at, schedule)
    else:
        state = "finished: no further runs"
    # The version goes with the button: an edit made after this preview refuses the removal.
    line = f"/support-admin schedule remove id:{schedule.id} confirm:yes version:{schedule.version}"
    return Card(
        title=f"Remove schedule {schedule.id}?",
        body=f"Nothing has been removed yet. Schedule {schedule.id} posts "
        f"{schedule.describe_target()} in {schedule.channel_label}, {_when_label(schedule)}.",
        fields=(
            ("Posts", schedule.describe_target()),
            ("Channel", schedule.channel_label),
            ("When", _when_label(schedule)),
            ("Next run", state),
        ),
        actions=(Choice(f"Remove schedule {schedule.id}", line),),
        footer=f"Or type: {line} · to stop it for now instead: "
        f"/support-admin schedule pause id:{schedule.id}",
    )


def _id(args: Arguments) -> int:
    schedule_id = args.number("id")
    assert schedule_id is not None  # required, checked against the verb's declaration
    return schedule_id


def _schedule_card(
    title: str,
    tone: CardTone,
    body: str,
    result: AddedSchedule | EditedSchedule,
    notes: Sequence[str],
) -> Card:
    """What a schedule posts, where and when, and its next runs (if resumed, when paused)."""
    schedule = result.schedule
    if schedule.paused:
        heading = (
            "Runs once, if resumed before then:"
            if schedule.one_shot
            else ("Next runs, if resumed now:")
        )
    else:
        heading = "Runs once:" if schedule.one_shot else "Next runs:"
    runs = tuple(f"• {describe_run(run, schedule.timezone)}" for run in result.next_runs)
    return Card(
        title=title,
        body=body,
        tone=tone,
        fields=(
            ("Posts", schedule.describe_target()),
            ("Channel", schedule.channel_label),
            ("When", _when_label(schedule)),
        ),
        lines=(heading, *runs),
        footer=" ".join(notes),
    )
