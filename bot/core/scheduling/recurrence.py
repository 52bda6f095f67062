"""Schedule recurrence: the `when` grammar, the next slots of a schedule, and our DST policy.

Forms (case and extra spaces do not matter; `9:00` means 09:00; surrounding quotes are dropped):

    daily 18:00                  every day at a local wall time
    weekdays 09:00               Monday to Friday
    weekly mon,thu 18:00         any set of weekdays (mon or monday; ranges like mon-fri)
    monthly 1 09:00              a day of the month, 1-31; a month without that day is SKIPPED
                                 (like cron: `monthly 31` runs in the seven 31-day months only);
    monthly last 18:00           the last day of every month
    every 6h                     a fixed elapsed interval (15m, 90m, 2h30m, 1d ...), at least 15m
    0 9 * * 1-5                  a five-field cron expression (minute hour day month weekday)
    once 2026-12-24 18:00        one run at a local wall time (a time in the past is refused)
    in 2h                        one run at now + 30s / 10m / 2h (fixed at parse time)

Slots are computed from the LOCAL WALL TIME in the schedule's IANA zone, with this DST policy
(one definition for all wall-time forms: daily, weekdays, weekly, monthly, cron, once):

    The slot for a local wall time T is the first instant at which the local clock reads T or
    later.

What that means in practice:
  * Spring-forward gap: a wall time that does not exist that day runs at the first valid
    instant after it, which is the moment of the transition. New York 2026-03-08 02:30 (clocks
    jump 02:00 EST -> 03:00 EDT) runs at 03:00 EDT = 07:00 UTC. Lord Howe's 30-minute gap
    (02:00 -> 02:30) moves 02:15 to 02:30. Every wall time inside one gap lands on the same
    instant, so a cron like `*/15 2 * * *` runs ONCE at the transition, never four times.
  * Fall-back fold: a wall time that occurs twice runs once, at its first occurrence (fold=0).
    New York 2026-11-01 01:30 runs at 01:30 EDT = 05:30 UTC, not again at 01:30 EST.
  * `every` intervals are fixed elapsed time, counted in UTC from an origin: by default the
    local midnight of the day the schedule is created (resolved with the rule above), written
    into the canonical text as `every 6h from 2026-03-01 00:00` so re-reading it gives the same
    slots. They never double or skip across DST; their local clock time shifts by the DST
    change instead.
  * The 15-minute minimum is checked on the wall clock (cron's minute and hour fields). Right
    before a spring-forward gap two cron slots can therefore be closer in elapsed time, once:
    `5,20,35,50 * * * *` in New York runs at 01:50 EST and then 03:00 EDT, ten minutes later.
  * `in` is an absolute instant (now + duration, rounded up to the whole second), stored as
    `once YYYY-MM-DD HH:MM:SS UTC`. `once ... UTC` (or a trailing Z) means a UTC wall time.

`parse_when(text, zone, now)` checks input from people; `restore_when(text, zone)` re-reads a
canonical `Recurrence.text` from storage without the "in the past" check. Everything here is
pure: no clock, no I/O.
"""

from __future__ import annotations

import bisect
import calendar
import difflib
import functools
import itertools
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.core.errors import ValidationFailed
from bot.core.scheduling.timezones import parse_timezone, stored_timezone

__all__ = [
    "ACCEPTED_FORMS",
    "MIN_INTERVAL",
    "Recurrence",
    "describe_run",
    "parse_timezone",
    "parse_when",
    "restore_when",
    "zone_abbreviation",
]

log = logging.getLogger(__name__)

ACCEPTED_FORMS: tuple[str, ...] = (
    "daily 18:00",
    "weekdays 09:00",
    "weekly mon,thu 18:00",
    "monthly 1 09:00",
    "monthly last 18:00",
    "every 6h",
    "0 9 * * 1-5",
    "once 2026-12-24 18:00",
    "in 2h",
)

# Posting more often than every 15 minutes would spam a support channel and burn the
# platform's per-channel budget (Discord ~5 messages/5 s, Slack ~1/s) for no reader benefit.
MIN_INTERVAL: Final = timedelta(minutes=15)
# `every` and `in` beyond a year are almost certainly typos (and would overflow nothing useful).
MAX_DURATION: Final = timedelta(days=366)

_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES: Final = {
    **{name: i for i, name in enumerate(_WEEKDAYS)},
    **{name.lower(): i for i, name in enumerate(calendar.day_name)},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
    "sats": 5,
}
_KEYWORDS: Final = ("daily", "weekdays", "weekly", "monthly", "every", "once", "in")
_MONTH_NAMES: Final = tuple(calendar.month_name)

_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?(am|pm)?$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_JOINED_RE = re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2})t(\d{1,2}:\d{2}(?::\d{2})?)(z)?\b")
_DURATION_PART_RE = re.compile(r"(\d+)\s*([a-z]+)")
_CRON_FIELD_RE = re.compile(r"^[0-9a-z*/,\-?#l]+$")
_UNITS: Final = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_QUOTES: Final = "\"'`“”‘’«»"


# ---------------------------------------------------------------------------------------------
# Wall time <-> instant, the DST policy in one place.


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    """The naive local wall-clock reading at an instant."""
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def resolve_wall_time(wall: datetime, tz: ZoneInfo) -> datetime:
    """The slot (aware UTC) for a naive local wall time: the first instant at which the local
    clock reads `wall` or later. Existing times map to their first occurrence (fold=0); a time
    in a spring-forward gap maps to the transition instant."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    exact = [u for u in (first, second) if _wall(u, tz) == wall]
    if exact:
        return min(exact)
    # A gap: PEP 495 maps the two folds with the offsets before and after the transition, so
    # the transition lies between them. Find the first whole second whose wall time is >= wall.
    lo, hi = sorted((first, second))
    if lo == hi or not (_wall(lo, tz) < wall <= _wall(hi, tz)):  # pragma: no cover - defensive
        lo, hi = first - timedelta(days=2), first + timedelta(days=2)
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
    # Invariant: wall(lo_s) < wall <= wall(hi_s).
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _wall(datetime.fromtimestamp(mid, UTC), tz) >= wall:
            hi_s = mid
        else:
            lo_s = mid
    return datetime.fromtimestamp(hi_s, UTC)


# ---------------------------------------------------------------------------------------------
# The value.


class _CronMatcher:
    """A cron expression matched on naive local wall times.

    croniter parses and validates the expression. Plain fields (numbers, ranges, steps, names,
    `*`) are then matched here from croniter's expanded sets, because croniter's own get_next
    costs ~0.2 ms per call; expressions with croniter's extensions (L, W, #) keep using
    croniter's get_next, under a lock because a croniter instance has a cursor."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._iter = croniter(expression, datetime(2000, 1, 1))
        self._lock = threading.Lock()
        minutes, hours, days, months, weekdays = self._iter.expanded
        plain = all(
            value == "*" or isinstance(value, int)
            for field_ in self._iter.expanded
            for value in field_
        )
        self._plain = (
            plain and not self._iter.nth_weekday_of_month and not self._iter.nearest_weekday
        )
        self._times = sorted(
            time(h, m)
            for h in (range(24) if hours == ["*"] else hours)
            for m in (range(60) if minutes == ["*"] else minutes)
        )
        self._days = None if days == ["*"] else frozenset(days)
        self._months = None if months == ["*"] else frozenset(months)
        # cron counts weekdays from Sunday = 0; croniter has already folded 7 into 0.
        self._weekdays = None if weekdays == ["*"] else frozenset(weekdays)

    def _day_matches(self, day: date) -> bool:
        if self._months is not None and day.month not in self._months:
            return False
        by_date = self._days is None or day.day in self._days
        by_weekday = self._weekdays is None or (day.weekday() + 1) % 7 in self._weekdays
        if self._days is not None and self._weekdays is not None:
            # Both restricted: cron (and croniter's default day_or) runs on either.
            return by_date or by_weekday
        return by_date and by_weekday

    def after(self, wall: datetime, count: int) -> list[datetime]:
        """The next `count` matching wall times strictly after `wall`, from croniter."""
        with self._lock:
            self._iter.set_current(wall, force=True)
            return [self._iter.get_next(datetime) for _ in range(count)]

    def walls_after(self, wall: datetime) -> Iterator[datetime]:
        """Matching wall times strictly after `wall`, in order, forever."""
        if not self._plain:
            current, batch_size = wall, 1  # usually one is enough; more only inside a fold
            while True:
                batch = self.after(current, batch_size)
                yield from batch
                current, batch_size = batch[-1], 8
        day = wall.date()
        start = bisect.bisect_right(self._times, wall.time())
        # parse_when has checked with croniter that the expression matches at all; a
        # Gregorian calendar repeats within 400 years, so this bound is never reached.
        for _ in range(400 * 366):
            if self._day_matches(day):
                for at in self._times[start:]:
                    yield datetime.combine(day, at)
            day += timedelta(days=1)
            start = 0
        raise AssertionError(f"cron {self.expression!r} has no match")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When a schedule runs. Build it with parse_when or restore_when, never by hand."""

    text: str  # canonical form, e.g. "weekly mon,thu 18:00", "once 2026-12-24 18:00"
    timezone: str  # IANA name
    one_shot: bool
    # daily | weekdays | weekly | monthly | every | cron | once
    kind: str
    # Wall time of day for daily, weekdays, weekly and monthly.
    at: time | None = None
    # Weekday numbers (Monday = 0) for weekdays and weekly.
    weekdays: frozenset[int] = frozenset()
    # Day of the month 1-31 for monthly, or -1 for the last day.
    day_of_month: int | None = None
    # every: the fixed interval and its origin; once: `origin` is the single slot (aware UTC).
    interval: timedelta | None = None
    origin: datetime | None = None
    # Wall time of the once form (None when it was given in UTC or by `in`).
    once_wall: datetime | None = None
    period: timedelta | None = None
    _cron: _CronMatcher | None = field(default=None, compare=False, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cron(self) -> str | None:
        return self._cron.expression if self._cron is not None else None

    def next_after(self, instant: datetime) -> datetime | None:
        """The first slot strictly after `instant` (aware, any tz), as an aware UTC datetime;
        None when a one-shot's single slot is not after `instant`."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("next_after needs an aware datetime")
        instant = instant.astimezone(UTC)
        if self.kind == "once":
            assert self.origin is not None
            return self.origin if self.origin > instant else None
        if self.kind == "every":
            assert self.origin is not None and self.interval is not None
            steps = (instant - self.origin) // self.interval + 1
            return self.origin + steps * self.interval
        tz = self.tz
        # Any wall time T <= wall(instant) has a slot <= instant (the clock already read T or
        # later at `instant`), so only later wall times can give the answer. Inside a fold the
        # first few of them may still resolve to the earlier pass; those are skipped.
        for wall in self._walls_after(_wall(instant, tz)):
            slot = resolve_wall_time(wall, tz)
            if slot > instant:
                return slot
        raise AssertionError("unreachable: wall-time forms are infinite")  # pragma: no cover

    def next_runs(self, after: datetime, count: int) -> list[datetime]:
        """Up to `count` slots strictly after `after`, in order."""
        runs: list[datetime] = []
        current = after
        while len(runs) < count:
            slot = self.next_after(current)
            if slot is None:
                break
            runs.append(slot)
            current = slot
        return runs

    def nominal_period(self) -> timedelta | None:
        """Typical gap between slots (1 day for daily, 7 days / n for weekly with n days, the
        interval for every, ~30 days monthly, estimated from the next few slots for cron); None
        for one-shots. The scheduler's default misfire grace is min(1 h, period / 2); for
        one-shots it is 1 h."""
        return self.period

    def _walls_after(self, wall: datetime) -> Iterator[datetime]:
        """Matching local wall times strictly after `wall`, in order, forever."""
        if self._cron is not None:
            yield from self._cron.walls_after(wall)
            return
        assert self.at is not None
        if self.kind == "monthly":
            assert self.day_of_month is not None
            year, month = wall.year, wall.month
            while True:
                last = calendar.monthrange(year, month)[1]
                day = last if self.day_of_month == -1 else self.day_of_month
                if day <= last:  # a month without that day is skipped, like cron
                    candidate = datetime.combine(date(year, month, day), self.at)
                    if candidate > wall:
                        yield candidate
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        day_ = wall.date()
        while True:
            if self.kind == "daily" or day_.weekday() in self.weekdays:
                candidate = datetime.combine(day_, self.at)
                if candidate > wall:
                    yield candidate
            day_ += timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# Parsing.


class _WhenError(Exception):
    """One thing wrong with a `when`; `corrected` is the whole text with the likely fix."""

    def __init__(self, reason: str, corrected: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.corrected = corrected


def _normalise(text: str) -> str:
    cleaned = text.strip().strip(_QUOTES).strip().lower()
    cleaned = " ".join(cleaned.split())
    cleaned = re.sub(r"\s*,\s*", ",", cleaned)
    cleaned = _ISO_JOINED_RE.sub(lambda m: f"{m[1]} {m[2]}{' utc' if m[3] else ''}", cleaned)
    # "6:30 pm" -> "6:30pm" so a time is one token.
    cleaned = re.sub(r"(\d)\s+(am|pm)\b", r"\1\2", cleaned)
    return cleaned


def _hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _parse_time(token: str, form: str) -> time:
    match = _TIME_RE.match(token)
    if token in ("noon", "midday"):
        return time(12, 0)
    if token == "midnight":
        return time(0, 0)
    if not match or (match[2] is None and match[4] is None):
        raise _WhenError(
            f"'{token}' is not a time; write it as HH:MM on the 24-hour clock, e.g. {form} 09:00"
        )
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3] is not None:
        raise _WhenError(f"'{token}': give the time as HH:MM, without seconds")
    if match[4]:
        if not 1 <= hour <= 12:
            raise _WhenError(f"'{token}': with am/pm the hour is 1-12")
        hour = hour % 12 + (12 if match[4] == "pm" else 0)
    if hour == 24 and minute == 0:
        raise _WhenError(f"'{token}': hours are 00-23; midnight is 00:00")
    if hour > 23:
        raise _WhenError(f"'{token}': hours are 00-23")
    if minute > 59:
        raise _WhenError(f"'{token}': minutes are 00-59")
    return time(hour, minute)


def _closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def _parse_weekdays(spec: str, whole: str) -> frozenset[int]:
    days: set[int] = set()
    for part in [p for p in spec.split(",") if p]:
        ends = part.split("-")
        if len(ends) > 2:
            raise _WhenError(f"'{part}' is not a weekday or a range like mon-fri")
        numbers: list[int] = []
        for end in ends:
            if end not in _WEEKDAY_ALIASES:
                guess = _closest(end, list(_WEEKDAY_ALIASES))
                fixed = _WEEKDAYS[_WEEKDAY_ALIASES[guess]] if guess else None
                corrected = (
                    re.sub(rf"(?<![a-z]){re.escape(end)}(?![a-z])", fixed, whole, count=1)
                    if fixed
                    else None
                )
                raise _WhenError(
                    f"'{end}' is not a weekday (use {', '.join(_WEEKDAYS)})", corrected
                )
            numbers.append(_WEEKDAY_ALIASES[end])
        if len(numbers) == 2:
            start, stop = numbers
            span = (stop - start) % 7
            days.update((start + i) % 7 for i in range(span + 1))
        else:
            days.add(numbers[0])
    if not days:
        raise _WhenError("weekly needs at least one weekday, e.g. weekly mon,thu 18:00")
    return frozenset(days)


def _parse_duration(spec: str, form: str) -> timedelta:
    compact = spec.replace(" ", "")
    parts = _DURATION_PART_RE.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise _WhenError(
            f"'{spec}' is not a duration; write a whole number and a unit, e.g. {form} 6h, "
            f"{form} 15m, {form} 2h30m"
        )
    seconds = 0
    for number, unit in parts:
        if unit not in _UNITS:
            guess = _closest(unit, list(_UNITS))
            raise _WhenError(
                f"'{unit}' is not a unit; use s, m, h or d"
                + (f" (did you mean {guess}?)" if guess else "")
            )
        seconds += int(number) * _UNITS[unit]
    return timedelta(seconds=seconds)


def _format_duration(duration: timedelta) -> str:
    total = int(duration.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return "".join(parts) or "0m"


def _parse_date(token: str) -> date:
    match = _DATE_RE.match(token)
    if not match:
        raise _WhenError(f"'{token}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-24")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12:
        raise _WhenError(f"'{token}': months are 01-12")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _WhenError(f"'{token}': {_MONTH_NAMES[month]} {year} has {last} days")
    return date(year, month, day)


def _format_instant_wall(value: datetime) -> str:
    seconds = f":{value.second:02d}" if value.second else ""
    return f"{value:%Y-%m-%d} {value.hour:02d}:{value.minute:02d}{seconds}"


def _looks_like_cron(tokens: list[str]) -> bool:
    """Cron-shaped: every token is a cron field and the first starts like a minute field."""
    return (
        bool(tokens)
        and tokens[0][:1] in "0123456789*"
        and all(_CRON_FIELD_RE.match(t) for t in tokens)
    )


def _cron_minute_gap_too_small(expanded: list[list[object]]) -> bool:
    """True when two matches can be less than MIN_INTERVAL apart on the wall clock."""
    minutes = sorted(range(60) if expanded[0] == ["*"] else {int(str(m)) for m in expanded[0]})
    hours = set(range(24) if expanded[1] == ["*"] else {int(str(h)) for h in expanded[1]})
    step = int(MIN_INTERVAL.total_seconds() // 60)
    if any(b - a < step for a, b in itertools.pairwise(minutes)):
        return True
    wrap = 60 - minutes[-1] + minutes[0]
    if wrap < step:
        # The last minute of one hour and the first of the next: only when both hours match.
        # 23 -> 0 crosses midnight; treated the same way (conservative).
        return any((h + 1) % 24 in hours for h in hours)
    return False


def _make(
    text: str,
    timezone: str,
    kind: str,
    *,
    one_shot: bool = False,
    at: time | None = None,
    weekdays: frozenset[int] = frozenset(),
    day_of_month: int | None = None,
    interval: timedelta | None = None,
    origin: datetime | None = None,
    once_wall: datetime | None = None,
    period: timedelta | None = None,
    cron: _CronMatcher | None = None,
) -> Recurrence:
    return Recurrence(
        text=text,
        timezone=timezone,
        one_shot=one_shot,
        kind=kind,
        at=at,
        weekdays=weekdays,
        day_of_month=day_of_month,
        interval=interval,
        origin=origin,
        once_wall=once_wall,
        period=period,
        _cron=cron,
    )


def _parse(text: str, timezone: str, now: datetime | None, *, check_past: bool) -> Recurrence:
    """Parse a normalised `when`; raise _WhenError. `now` is None when restoring."""
    tz = ZoneInfo(timezone)
    tokens = [t for t in text.split(" ") if t]
    # Filler words people naturally write: "daily at 9:00", "weekly on mon at 18:00".
    tokens = [t for t in tokens if t not in ("at", "on", "the")] if tokens else tokens
    if not tokens:
        raise _WhenError("it is empty")
    head, rest = tokens[0], tokens[1:]

    if head == "cron":
        return _parse_cron(rest, timezone, whole=text)
    if head not in _KEYWORDS and _looks_like_cron(tokens):
        return _parse_cron(tokens, timezone, whole=text)

    # Synonyms: "every day", "every weekday", "every monday" read as the named forms.
    if head == "every" and rest:
        if rest[0] in ("day", "days"):
            head, rest = "daily", rest[1:]
        elif rest[0] in ("weekday", "weekdays"):
            head, rest = "weekdays", rest[1:]
        elif rest[0].split(",")[0].split("-")[0] in _WEEKDAY_ALIASES:
            head = "weekly"
    if head == "everyday":
        head = "daily"

    if head in ("daily", "weekdays"):
        if len(rest) != 1:
            raise _WhenError(f"{head} takes one time, e.g. {head} 09:00")
        at = _parse_time(rest[0], head)
        days = frozenset(range(7)) if head == "daily" else frozenset(range(5))
        period = timedelta(days=1) if head == "daily" else timedelta(days=7) / 5
        return _make(f"{head} {_hhmm(at)}", timezone, head, at=at, weekdays=days, period=period)

    if head == "weekly":
        if len(rest) < 2:
            raise _WhenError("weekly takes weekdays and a time, e.g. weekly mon,thu 18:00")
        days = _parse_weekdays(",".join(rest[:-1]), text)
        at = _parse_time(rest[-1], "weekly mon")
        names = ",".join(_WEEKDAYS[d] for d in sorted(days))
        return _make(
            f"weekly {names} {_hhmm(at)}",
            timezone,
            "weekly",
            at=at,
            weekdays=days,
            period=timedelta(days=7) / len(days),
        )

    if head == "monthly":
        if len(rest) != 2:
            raise _WhenError("monthly takes a day and a time, e.g. monthly 1 09:00")
        day_token = re.sub(r"(?<=\d)(st|nd|rd|th)$", "", rest[0])
        if day_token == "last":
            day = -1
        elif day_token.isdecimal() and 1 <= int(day_token) <= 31:
            day = int(day_token)
        else:
            raise _WhenError(
                f"'{rest[0]}': days of the month are 1-31 (or 'last' for the last day)"
            )
        at = _parse_time(rest[1], f"monthly {day_token}")
        shown = "last" if day == -1 else str(day)
        return _make(
            f"monthly {shown} {_hhmm(at)}",
            timezone,
            "monthly",
            at=at,
            day_of_month=day,
            period=timedelta(days=30),
        )

    if head == "every":
        return _parse_every(rest, timezone, tz, now, whole=text)

    if head == "once":
        return _parse_once(rest, timezone, tz, now, check_past=check_past)

    if head == "in":
        if not rest:
            raise _WhenError("in takes a duration, e.g. in 30s, in 10m, in 2h")
        duration = _parse_duration(" ".join(rest), "in")
        if duration <= timedelta(0):
            raise _WhenError("in needs a duration of at least 1s")
        if duration > MAX_DURATION:
            raise _WhenError("in is at most 366 days ahead; use once YYYY-MM-DD HH:MM")
        if now is None:
            raise _WhenError("'in' needs the current time; store the canonical once form")
        at_utc = now.astimezone(UTC) + duration
        if at_utc.microsecond:  # round up: never earlier than asked
            at_utc = at_utc.replace(microsecond=0) + timedelta(seconds=1)
        return _make(
            f"once {_format_instant_wall(at_utc)} UTC",
            timezone,
            "once",
            one_shot=True,
            origin=at_utc,
        )

    # Not a form: maybe a bare time ("9:00"), or a typo of a keyword ("dialy 9:00").
    if _TIME_RE.match(head) and not rest:
        at = _parse_time(head, "daily")  # "25:00" alone: say what is wrong with the time first
        raise _WhenError(f"'{head}' needs a form in front", corrected=f"daily {_hhmm(at)}")
    guess = _closest(head, _KEYWORDS)
    corrected = " ".join([guess, *rest]) if guess else None
    raise _WhenError(f"'{head}' is not a form I know", corrected)


def _parse_cron(fields_: list[str], timezone: str, *, whole: str) -> Recurrence:
    if len(fields_) != 5:
        raise _WhenError(
            f"a cron expression has five fields (minute hour day-of-month month day-of-week), "
            f"e.g. 0 9 * * 1-5; this one has {len(fields_)}"
        )
    return _cron_recurrence(" ".join(fields_), timezone)


# The scheduler re-reads a schedule's recurrence from its stored text each time it advances;
# parsing a cron expression costs ~1 ms (croniter), so parsed ones are kept. A Recurrence is
# immutable, and errors are not cached (lru_cache only stores returned values).
@functools.lru_cache(maxsize=4096)
def _cron_recurrence(expression: str, timezone: str) -> Recurrence:
    try:
        matcher = _CronMatcher(expression)
    except (ValueError, KeyError, TypeError) as exc:  # croniter's errors derive from ValueError
        raise _WhenError(
            f"'{expression}' is not a valid cron expression ({exc}); fields are minute 0-59, "
            "hour 0-23, day 1-31, month 1-12, weekday 0-6 (0 = Sunday), e.g. 0 9 * * 1-5"
        ) from None
    if _cron_minute_gap_too_small(matcher._iter.expanded):
        raise _WhenError(
            f"'{expression}' runs more often than every 15 minutes: the shortest interval is "
            "every 15m (e.g. */15 * * * *)"
        )
    reference = datetime(2026, 1, 5)
    try:
        # croniter gives up after searching decades; our own matcher would search longer.
        matcher.after(reference, 1)
    except (ValueError, KeyError, TypeError):
        raise _WhenError(f"'{expression}' never matches a real date") from None
    sample = list(itertools.islice(matcher.walls_after(reference), 33))
    gaps = sorted(b - a for a, b in itertools.pairwise(sample))
    # The median of the next 32 gaps: "0 9 * * 1-5" is daily, "0 9,10 * * *" half a day.
    period = (gaps[len(gaps) // 2 - 1] + gaps[len(gaps) // 2]) / 2
    return _make(expression, timezone, "cron", period=period, cron=matcher)


def _parse_every(
    rest: list[str], timezone: str, tz: ZoneInfo, now: datetime | None, *, whole: str
) -> Recurrence:
    if not rest:
        raise _WhenError("every takes an interval, e.g. every 6h, every 15m, every 2h30m")
    if "from" in rest:
        split = rest.index("from")
        spec, origin_tokens = rest[:split], rest[split + 1 :]
    else:
        spec, origin_tokens = rest, []
    duration = _parse_duration(" ".join(spec), "every")
    if duration.total_seconds() % 60:
        raise _WhenError("every takes whole minutes, e.g. every 15m")
    if duration < MIN_INTERVAL:
        raise _WhenError(
            f"every {_format_duration(duration)} is too often: the shortest interval is every 15m",
            corrected="every 15m",
        )
    if duration > MAX_DURATION:
        raise _WhenError("every is at most 366d; use weekly or monthly for longer gaps")
    if len(origin_tokens) == 2:
        start_day = _parse_date(origin_tokens[0])
        start_at = _parse_time(origin_tokens[1], "every 6h from 2026-03-01")
    elif len(origin_tokens) == 1:
        if now is None:
            raise _WhenError("'every ... from HH:MM' needs the current time")
        start_day = _wall(now, tz).date()
        start_at = _parse_time(origin_tokens[0], "every 6h from")
    elif not origin_tokens and "from" not in rest:
        if now is None:
            raise _WhenError("'every' needs the current time; store the canonical 'from' form")
        # The local midnight of the creation day: "every 6h" then means 00/06/12/18 local.
        start_day, start_at = _wall(now, tz).date(), time(0, 0)
    else:
        raise _WhenError("every ... from takes a time or a date and time, e.g. from 09:00")
    origin_wall = datetime.combine(start_day, start_at)
    interval = _format_duration(duration)
    return _make(
        f"every {interval} from {_format_instant_wall(origin_wall)}",
        timezone,
        "every",
        interval=duration,
        origin=resolve_wall_time(origin_wall, tz),
        period=duration,
    )


def _parse_once(
    rest: list[str], timezone: str, tz: ZoneInfo, now: datetime | None, *, check_past: bool
) -> Recurrence:
    in_utc = bool(rest) and rest[-1] in ("utc", "z")
    if in_utc:
        rest = rest[:-1]
    if len(rest) == 2 and rest[0] not in ("today", "tomorrow"):
        day = _parse_date(rest[0])
        wall = _parse_once_time(rest[1], day)
    elif len(rest) in (1, 2):
        if now is None:
            raise _WhenError("once needs a date, e.g. once 2026-12-24 18:00")
        zone_now = now.astimezone(UTC if in_utc else tz)
        base = zone_now.replace(tzinfo=None).date()
        if rest[0] == "tomorrow":
            base += timedelta(days=1)
        wall = _parse_once_time(rest[-1], base)
        # "once 18:00" is the next 18:00: today if it is still ahead, else tomorrow.
        if len(rest) == 1 and wall <= zone_now.replace(tzinfo=None):
            wall += timedelta(days=1)
    else:
        raise _WhenError("once takes a date and a time, e.g. once 2026-12-24 18:00")
    instant = wall.replace(tzinfo=UTC) if in_utc else resolve_wall_time(wall, tz)
    if check_past and now is not None and instant <= now:
        local_now = _format_instant_wall(_wall(now, UTC if in_utc else tz).replace(microsecond=0))
        raise _WhenError(
            f"once {_format_instant_wall(wall)} is in the past (it is now {local_now}"
            f"{' UTC' if in_utc else ' in ' + timezone}); pick a later time or use in 10m"
        )
    suffix = " UTC" if in_utc else ""
    return _make(
        f"once {_format_instant_wall(wall)}{suffix}",
        timezone,
        "once",
        one_shot=True,
        origin=instant,
        once_wall=None if in_utc else wall,
    )


def _parse_once_time(token: str, day: date) -> datetime:
    # A stored `in` carries seconds (once 2026-12-24 18:00:30 UTC); people write HH:MM.
    match = re.match(r"^(\d{1,2}):(\d{2}):(\d{2})$", token)
    if match:
        at = _parse_time(f"{match[1]}:{match[2]}", "once 2026-12-24")
        second = int(match[3])
        if second > 59:
            raise _WhenError(f"'{token}': seconds are 00-59")
        return datetime.combine(day, at).replace(second=second)
    return datetime.combine(day, _parse_time(token, "once 2026-12-24"))


def _forms_hint() -> str:
    return "Accepted forms: " + "; ".join(ACCEPTED_FORMS) + "."


def _fail(original: str, error: _WhenError, suggestion: str | None) -> ValidationFailed:
    shown = original.strip() or "(empty)"
    hint = f"Did you mean {suggestion}? " if suggestion else ""
    return ValidationFailed([f"when '{shown}': {error.reason}."], hint=hint + _forms_hint())


def parse_when(text: str, timezone: str, now: datetime) -> Recurrence:
    """Raises bot.core.errors.ValidationFailed (or UnknownChoice) with a message that lists the
    accepted forms and, when there is one, the closest valid choice (e.g. 'dialy 9:00' ->
    'did you mean daily 09:00?'; 'every 10m' -> 'the shortest interval is every 15m';
    '25:00' -> hours are 00-23).

    `timezone` is kept as it is when it is an exact IANA name (ScheduleService.add resolves what
    the moderator typed, "BST" -> Europe/London, before calling this); anything else is read
    like typed input (timezones.stored_timezone)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_when needs an aware `now`")
    zone_name = stored_timezone(timezone)
    normalised = _normalise(text)
    try:
        return _parse(normalised, zone_name, now, check_past=True)
    except _WhenError as error:
        raise _fail(text, error, _suggest(error, zone_name, now)) from None


def _suggest(error: _WhenError, zone_name: str, now: datetime) -> str | None:
    """The canonical text of the nearest valid `when`, following up to three fixes."""
    current = error
    for _ in range(3):
        if current.corrected is None:
            return None
        try:
            fixed = _parse(current.corrected, zone_name, now, check_past=True)
            if fixed.kind == "every" and " from " not in current.corrected:
                # Show "every 15m", not the origin the canonical text adds.
                return fixed.text.split(" from ")[0]
            return fixed.text
        except _WhenError as again:
            if again.corrected is None:
                # The fix is right but something else is still wrong: offer the fixed words.
                return current.corrected
            current = again
    return None


def restore_when(text: str, timezone: str) -> Recurrence:
    """Re-read a stored canonical `Recurrence.text` (no "in the past" check, no clock).

    Use this when loading schedules; use parse_when for what people type."""
    zone_name = stored_timezone(timezone)
    try:
        return _parse(_normalise(text), zone_name, None, check_past=False)
    except _WhenError as error:
        raise _fail(text, error, None) from None


def zone_abbreviation(local: datetime) -> str:
    """GMT, BST, CET; "UTC+05:45" for zones without a letter abbreviation ("+0545", "-03")."""
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in "+-":
        hours, minutes = abbreviation[:3], abbreviation[3:]
        abbreviation = f"UTC{hours}:{minutes}" if minutes else f"UTC{hours}"
    return abbreviation


def describe_run(instant: datetime, timezone: str) -> str:
    """'Mon 2026-12-07 18:00 GMT (18:00 UTC)' style: local time and UTC, for the schedule add
    answer that shows the next three runs."""
    tz = ZoneInfo(stored_timezone(timezone))
    local = instant.astimezone(tz)
    utc = instant.astimezone(UTC)
    clock = "%H:%M:%S" if local.second else "%H:%M"
    abbreviation = zone_abbreviation(local)
    text = f"{local:%a %Y-%m-%d} {local.strftime(clock)} {abbreviation}".rstrip()
    if utc.utcoffset() == local.utcoffset() and abbreviation == "UTC":
        return text
    utc_part = (
        utc.strftime(clock) if utc.date() == local.date() else utc.strftime(f"%a %Y-%m-%d {clock}")
    )
    return f"{text} ({utc_part} UTC)"
