"""Opening hours a machine can read: a small grammar in the style of OpenStreetMap's.

Why our own: the OSM parsers on PyPI are either compiled (opening-hours-py, a Rust build), or
paused alpha releases under the AGPL with heavy dependencies (osm-opening-hours-humanized), or
need a newer Python (opening-hours-osm). Helplines need only a small part of the syntax:

    24/7
    Mo-Fr 13:00-20:30
    Mo-Th 10:00-20:30; Fr 10:00-16:30
    Mo-Su 18:00-02:00          (closes after midnight, on the next day)
    Sa,Su 12:00-17:00,19:00-21:00
    18:30-22:00                (no days: every day)
    Su off

Rules are separated by `;`. A later rule replaces what an earlier one said for the days it
names (as in OSM), so `Mo-Su 10:00-22:00; Su off` closes on Sundays. A close time at or before
the open time runs into the next day; `24:00` is midnight at the end of the day. Public
holidays (`PH`) and months are not read: a pack says those in its `hours` text instead.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAY_NAMES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MINUTES_PER_DAY = 24 * 60
ALWAYS = "24/7"
MAX_HOURS_TEXT = 200
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_HINT = 'Write hours like "24/7", "Mo-Fr 13:00-20:30" or "Mo-Th 10:00-20:30; Fr 10:00-16:30".'

Interval = tuple[int, int]  # minutes from the start of the day; the end may pass midnight


class HoursError(ValueError):
    """Opening hours that cannot be read; the message says what is wrong and how to write it."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem} {_HINT}")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """The hours of one service in its own time zone: seven days of opening intervals."""

    text: str
    always: bool
    week: tuple[tuple[Interval, ...], ...]  # Monday first

    def is_open(self, local: datetime) -> bool:
        """Open at this wall-clock time (in the service's own zone)?"""
        if self.always:
            return True
        minute = local.hour * 60 + local.minute
        today = local.weekday()
        if any(start <= minute < end for start, end in self.week[today]):
            return True
        # Yesterday's intervals that run past midnight.
        yesterday = self.week[(today - 1) % 7]
        return any(minute < end - MINUTES_PER_DAY for _start, end in yesterday)

    def next_opening(self, local: datetime) -> datetime | None:
        """The next time it opens after `local` (same zone), within a week; None if never."""
        if self.always:
            return None
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for start, _end in self.week[day.weekday()]:
                candidate = datetime.combine(
                    day, time(start // 60, start % 60), tzinfo=local.tzinfo
                )
                if candidate > local:
                    return candidate
        return None


def _minutes(text: str, *, closing: bool) -> int:
    match = _TIME.match(text)
    if not match:
        raise HoursError(f"'{text}' is not a time like 09:00.")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and (minutes or not closing):
        raise HoursError(f"'{text}': only a closing time can be 24:00.")
    return hours * 60 + minutes


def _days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        # What moderators naturally type: "mo-fr" and "MO-FR" mean Mo-Fr.
        ends = [end.strip().capitalize() for end in part.split("-")]
        if len(ends) > 2 or not all(end in DAY_NAMES for end in ends):
            raise HoursError(
                f"'{part}' is not a day or day range; days are {', '.join(DAY_NAMES)}."
            )
        first = DAY_NAMES.index(ends[0])
        last = DAY_NAMES.index(ends[-1])
        # Fr-Mo wraps over the weekend.
        span = (last - first) % 7
        days.extend((first + step) % 7 for step in range(span + 1))
    return days


def _intervals(text: str) -> tuple[Interval, ...]:
    found: list[Interval] = []
    for part in text.split(","):
        ends = part.split("-")
        if len(ends) != 2:
            raise HoursError(f"'{part}' is not a time range like 13:00-20:30.")
        start = _minutes(ends[0], closing=False)
        end = _minutes(ends[1], closing=True)
        if end <= start:
            end += MINUTES_PER_DAY  # 18:00-02:00 closes on the next day
        found.append((start, end))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=1024)
def parse_opening_hours(text: str) -> WeeklyHours:
    """Read opening hours; raises HoursError naming the part that cannot be read."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise HoursError("The opening hours are empty.")
    if len(cleaned) > MAX_HOURS_TEXT:
        raise HoursError(f"The opening hours are longer than {MAX_HOURS_TEXT} characters.")
    if cleaned.lower() in ("24/7", "mo-su 00:00-24:00"):
        return WeeklyHours(ALWAYS, True, ((),) * 7)
    week: list[tuple[Interval, ...]] = [() for _ in DAY_NAMES]
    for raw_rule in cleaned.split(";"):
        rule = raw_rule.strip()
        if not rule:
            continue
        if rule.upper().startswith("PH"):
            raise HoursError("Public holidays (PH) are not read here; say them in the hours text.")
        words = rule.replace(", ", ",").split(" ")
        if words[0][:1].isdigit():
            days, rest = list(range(7)), words
        else:
            days, rest = _days(words[0]), words[1:]
        if len(rest) != 1:
            raise HoursError(f"'{rule}' should be days then times, like Mo-Fr 13:00-20:30.")
        intervals = () if rest[0].lower() in ("off", "closed") else _intervals(rest[0])
        for day in days:
            week[day] = intervals
    result = tuple(week)
    if all(day == ((0, MINUTES_PER_DAY),) for day in result):
        return WeeklyHours(ALWAYS, True, ((),) * 7)
    return WeeklyHours(cleaned, False, result)
