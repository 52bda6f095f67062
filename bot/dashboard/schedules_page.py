"""The schedules page: a calendar of the next 30 days of posts in the community's time zone
(bot/core/scheduling/calendar.py), every schedule with its recent runs (sent, missed, failed,
unknown, with why), and the add, pause, resume and test forms, each running that
`/support-admin schedule` command so the checks, wording and audit entry are the chat's."""

from __future__ import annotations

from aiohttp import web

from bot.core.commands.verbs import Verb
from bot.core.scheduling.calendar import build_calendar
from bot.core.scheduling.recurrence import describe_run
from bot.core.scheduling.schedules import UNKNOWN_SENTENCE, SlotStatus, from_epoch
from bot.dashboard.library import Field, field_of
from bot.dashboard.site import Dashboard, Handler, form_fields, moderator

GROUP = "schedule"
ACTIONS = ("pause", "resume", "test")


def _add_verb(dashboard: Dashboard) -> Verb:
    verb = dashboard.services.router.tables[GROUP].verb("add")
    assert verb is not None, "schedule add is declared in the schedule verb table"
    return verb


def _add_form(dashboard: Dashboard, timezone: str) -> tuple[Field, ...]:
    # Every option of `schedule add`, the channel as text (#name or the platform's mention).
    return tuple(
        field_of(option, timezone if option.name == "timezone" else "")
        for option in _add_verb(dashboard).shown_options
    )


def status_text(status: SlotStatus, reason: str | None) -> str:
    if status is SlotStatus.SENT:
        return "sent"
    if status is SlotStatus.CLAIMED:
        return "being posted"
    if status is SlotStatus.UNKNOWN:
        return f"unknown: {UNKNOWN_SENTENCE} ({reason or 'no reason recorded'})"
    return f"{status.value}: {reason or 'no reason recorded'}"


def run_label(slot_at: int, timezone: str) -> str:
    """As the chat's `schedule history` words a run: local time and UTC."""
    return describe_run(from_epoch(slot_at), timezone)


def index(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        services = dashboard.services
        schedules = await services.schedules.list(ctx)
        community = await services.communities.get(ctx.community_id)
        zone = community.timezone if community else "UTC"
        calendar = build_calendar(schedules, services.clock.now(), zone)
        histories = {s.id: (await services.schedules.history(ctx, s.id)).slots for s in schedules}
        return dashboard.page(
            request,
            "schedules.html",
            calendar=calendar,
            schedules=schedules,
            histories=histories,
            status_text=status_text,
            run_label=run_label,
            add_form=_add_form(dashboard, zone),
        )

    return handler


def add(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        verb = _add_verb(dashboard)
        names = {option.name: option.name for option in verb.options}
        # Blank fields are left out, as a command leaves out the options nobody typed.
        options = {k: v for k, v in (await form_fields(request, names)).items() if v.strip()}
        card = await dashboard.services.router.admin(ctx, GROUP, "add", options)
        return dashboard.card_page(request, card, back="/schedules")

    return handler


def action(dashboard: Dashboard) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx = moderator(request)
        schedule_id = int(request.match_info["id"])
        verb = request.match_info["verb"]
        # Another community's id (or none) is a 404 from the core before anything runs.
        await dashboard.services.schedules.get(ctx, schedule_id)
        card = await dashboard.services.router.admin(ctx, GROUP, verb, {"id": str(schedule_id)})
        return dashboard.card_page(request, card, back="/schedules")

    return handler
