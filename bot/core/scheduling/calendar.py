"""The calendar of upcoming scheduled posts: which schedule posts on which local day and at
which local time, for the next CALENDAR_DAYS days in the community's time zone.

Occurrences come only from each schedule's own recurrence (`recurrence_for`, the rule the
scheduler posts by), starting at its stored next run, so the calendar shows what will be
posted, not a second reading of `when`. Days are the community's local days: a post at 23:30
UTC is on the next day in Europe/London in summer and on the same day in winter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.scheduling.recurrence import zone_abbreviation
from bot.core.scheduling.schedules import Schedule, epoch, from_epoch, recurrence_for
from bot.core.scheduling.timezones import stored_timezone

CALENDAR_DAYS = 30
# A schedule may post every 15 minutes (recurrence.MIN_INTERVAL): 2,880 posts in 30 days.
# More than this many posts in the calendar are summed up, so one page stays readable.
MAX_OCCURRENCES = 1500


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One post to come: when (UTC and the community's local time) and which schedule."""

    at: datetime
    local: datetime
    schedule: Schedule

    @property
    def zone_label(self) -> str:
        """The local time's abbreviation (BST, GMT, CET, or UTC+05:45 for zones without one)."""
        return zone_abbreviation(self.local)


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    occurrences: tuple[Occurrence, ...]


@dataclass(frozen=True, slots=True)
class Calendar:
    timezone: str
    days: tuple[CalendarDay, ...]
    # Posts beyond MAX_OCCURRENCES, not listed (their schedules are still on the page).
    left_out: int


def window(now: datetime, timezone: str, days: int = CALENDAR_DAYS) -> tuple[datetime, datetime]:
    """From now to the end of the last local day: today and the next days - 1 days."""
    tz = ZoneInfo(stored_timezone(timezone))
    today = now.astimezone(tz).date()
    end_day = today + timedelta(days=days)
    # Midnight of the day after the window, resolved in the zone (a DST day is 23 or 25 h).
    end = datetime.combine(end_day, time(0), tzinfo=tz)
    return now, end


def occurrences(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """The schedule's slots in [start, end), from its stored next run; none when paused."""
    if schedule.paused or schedule.next_run_at is None:
        return []
    found: list[datetime] = []
    slot: int | None = schedule.next_run_at
    recurrence = None if schedule.one_shot else recurrence_for(schedule)
    limit = epoch(end)
    while slot is not None and slot < limit and len(found) <= MAX_OCCURRENCES:
        if slot >= int(start.timestamp()):
            found.append(from_epoch(slot))
        if recurrence is None:
            break
        following = recurrence.next_after(from_epoch(slot))
        slot = epoch(following) if following is not None else None
    return found


def build_calendar(
    schedules: Iterable[Schedule], now: datetime, timezone: str, days: int = CALENDAR_DAYS
) -> Calendar:
    """Every day of the window (empty ones too, so the calendar has no gaps), each with its
    posts in local time order."""
    zone_name = stored_timezone(timezone)
    tz = ZoneInfo(zone_name)
    start, end = window(now, zone_name, days)
    every: list[Occurrence] = []
    for schedule in schedules:
        for at in occurrences(schedule, start, end):
            every.append(Occurrence(at, at.astimezone(tz), schedule))
    every.sort(key=lambda o: (o.at, o.schedule.id))
    left_out = max(0, len(every) - MAX_OCCURRENCES)
    every = every[:MAX_OCCURRENCES]
    by_day: dict[date, list[Occurrence]] = {}
    for occurrence in every:
        by_day.setdefault(occurrence.local.date(), []).append(occurrence)
    today = start.astimezone(tz).date()
    listed = tuple(
        CalendarDay(day, tuple(by_day.get(day, ())))
        for day in (today + timedelta(days=n) for n in range(days))
    )
    return Calendar(zone_name, listed, left_out)
