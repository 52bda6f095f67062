"""The `schedule` group of `/support-admin`: options in, Cards out (ScheduleService works)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.cards import Card, CardTone, PageRef
from bot.core.errors import ValidationFailed
from bot.core.models import RequestContext, paginate
from bot.core.scheduling.recurrence import ACCEPTED_FORMS, describe_run
from bot.core.scheduling.schedules import (
    Schedule,
    ScheduleService,
    SlotRecord,
    SlotStatus,
    from_epoch,
)

_OPTIONS: dict[str, tuple[str, ...]] = {
    "add": ("channel", "when", "topic", "message", "timezone"),
    "list": ("page",),
    "pause": ("id",),
    "resume": ("id",),
    "remove": ("id",),
    "test": ("id",),
    "history": ("id",),
}

_USAGE = {
    "add": 'schedule add channel:#welcome when:"daily 09:00" topic:coming-out '
    "[message:key] [timezone:Europe/London]  — post a topic's message and resources on a "
    "schedule",
    "list": "schedule list [page:2]  — every schedule: next run, last outcome, paused and why",
    "pause": "schedule pause id:3  — stop posting until resumed",
    "resume": "schedule resume id:3  — start again from the next run",
    "remove": "schedule remove id:3  — delete the schedule",
    "test": "schedule test id:3  — post once now (not counted in its history)",
    "history": "schedule history [id:3]  — recent runs: sent, missed or failed, with why",
}


def _check_options(verb: str, options: Mapping[str, str]) -> None:
    allowed = _OPTIONS[verb]
    unknown = [name for name in options if name not in allowed]
    if unknown:
        listed = ", ".join(allowed) if allowed else "none"
        raise ValidationFailed(
            [
                f"{name}: is not an option of schedule {verb} (options: {listed})."
                for name in unknown
            ],
            f"Usage: /support-admin {_USAGE[verb]}",
        )


def _schedule_id(options: Mapping[str, str], verb: str, *, required: bool = True) -> int | None:
    raw = options.get("id", "").strip().lstrip("#")
    if not raw:
        if not required:
            return None
        raise ValidationFailed(
            [f"id: schedule {verb} needs the schedule's id."],
            "`/support-admin schedule list` shows the ids. Example: "
            f"/support-admin schedule {verb} id:3",
        )
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationFailed(
            [f"id: '{raw[:20]}' is not a schedule id (a number like 3)."],
            "`/support-admin schedule list` shows the ids.",
        )
    return int(raw)


def _page(options: Mapping[str, str]) -> int:
    raw = options.get("page", "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationFailed([f"page: '{raw[:20]}' is not a page number."], "Use page:2, ...")
    return int(raw)


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
    name = "schedule"
    verbs = ("add", "list", "pause", "resume", "remove", "test", "history")

    def __init__(self, service: ScheduleService) -> None:
        self._service = service

    def help_lines(self) -> tuple[str, ...]:
        return tuple(_USAGE[verb] for verb in self.verbs)

    async def handle(self, ctx: RequestContext, verb: str, options: Mapping[str, str]) -> Card:
        if verb not in _OPTIONS:
            raise ValidationFailed([f"schedule {verb}: not a schedule command."])
        _check_options(verb, options)
        if verb == "add":
            return await self._add(ctx, options)
        if verb == "list":
            return self._list_card(await self._service.list(ctx), _page(options))
        if verb == "history":
            return await self._history(ctx, _schedule_id(options, verb, required=False))
        schedule_id = _schedule_id(options, verb)
        assert schedule_id is not None
        if verb == "pause":
            schedule = await self._service.pause(ctx, schedule_id)
            return Card(
                title=f"Schedule {schedule_id} paused",
                body=f"It will not post in {schedule.channel_label} until you resume it.",
                tone=CardTone.SUCCESS,
                footer=f"Resume: /support-admin schedule resume id:{schedule_id}",
            )
        if verb == "resume":
            resumed = await self._service.resume(ctx, schedule_id)
            if resumed.posts_now:
                body = "Its time has passed, so it posts now."
            elif resumed.next_run is not None:
                body = "Next run: " + describe_run(resumed.next_run, resumed.schedule.timezone)
            else:
                body = "It has no further runs."
            return Card(title=f"Schedule {schedule_id} resumed", body=body, tone=CardTone.SUCCESS)
        if verb == "remove":
            schedule = await self._service.remove(ctx, schedule_id)
            return Card(
                title=f"Schedule {schedule_id} removed",
                body=f"It will no longer post {schedule.describe_target()} in "
                f"{schedule.channel_label}.",
                tone=CardTone.SUCCESS,
            )
        test = await self._service.test(ctx, schedule_id)
        return Card(
            title=f"Test post sent to {test.schedule.channel_label}",
            body="It is not part of the schedule's history, and the next run is unchanged.",
            tone=CardTone.SUCCESS,
        )

    async def _add(self, ctx: RequestContext, options: Mapping[str, str]) -> Card:
        missing = [name for name in ("channel", "when") if not options.get(name, "").strip()]
        if missing:
            raise ValidationFailed(
                [f"{name}: is required for schedule add." for name in missing],
                f"Usage: /support-admin {_USAGE['add']}\nAccepted when forms: "
                + "; ".join(ACCEPTED_FORMS),
            )
        added = await self._service.add(
            ctx,
            channel=options["channel"],
            when=options["when"],
            topic=options.get("topic"),
            message=options.get("message"),
            timezone=options.get("timezone"),
        )
        schedule = added.schedule
        runs = tuple(f"• {describe_run(run, schedule.timezone)}" for run in added.next_runs)
        heading = "Runs once:" if schedule.one_shot else "Next runs:"
        footer = " ".join(
            (
                *added.notes,
                f"Try it now: /support-admin schedule test id:{schedule.id} · pause: "
                f"/support-admin schedule pause id:{schedule.id}",
            )
        )
        return Card(
            title=f"Schedule {schedule.id} added",
            tone=CardTone.SUCCESS,
            fields=(
                ("Posts", schedule.describe_target()),
                ("Channel", schedule.channel_label),
                ("When", _when_label(schedule)),
            ),
            lines=(heading, *runs),
            footer=footer,
        )

    def _list_card(self, schedules: tuple[Schedule, ...], page: int) -> Card:
        if not schedules:
            return Card(
                title="Schedules",
                body="No scheduled posts yet.",
                footer=f"Add one: /support-admin {_USAGE['add']}",
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

    async def _history(self, ctx: RequestContext, schedule_id: int | None) -> Card:
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
