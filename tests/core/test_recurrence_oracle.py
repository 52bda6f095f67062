"""Oracle test: a simulated year of every `when` form in 25 IANA zones against brute force.

For each zone and form, `Recurrence.next_after` is iterated from 2026-01-01 to 2027-01-01 and
the slots it yields are compared with an independent oracle: no duplicates, no missing slots,
no extra slots.

The oracle never converts a local time to UTC (the direction the implementation works in). It
walks UTC forward and asks zoneinfo what the wall clock reads (UTC -> local only), then applies
the policy's own definition literally: the slot for local wall time T is the first instant at
which the wall clock reads T or later. Using the running maximum M(u) of the wall clock up to
instant u, that is the first u with M(u) >= T, found by bisection over the walk. A gap puts all
of its wall times on the transition instant; a fold never reaches a new maximum in its repeated
hour, so it cannot fire twice.

The walk samples UTC every hour, and every minute inside any hour whose UTC offset changes, so
the wall clock is exact to the minute (every offset in the window is a whole number of minutes,
which the test asserts). Which wall times are targets is decided by plain predicates written
here (weekday sets, day 31, hour % 4), not by croniter or the module.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.scheduling.recurrence import Recurrence, parse_when, restore_when

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)

ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Dublin",  # "negative DST" in tzdata: winter is the daylight-saving period
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",  # -03:30 / -02:30
    "America/Havana",  # transitions at midnight
    "America/Santiago",  # southern hemisphere, midnight transitions
    "America/Sao_Paulo",  # DST abolished 2019
    "America/Asuncion",  # permanent -03 since 2024
    "Australia/Sydney",
    "Australia/Adelaide",  # +09:30 / +10:30
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Australia/Eucla",  # +08:45, no DST
    "Pacific/Auckland",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # DST abolished 2021
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Tokyo",
    "Asia/Tehran",  # DST abolished 2022
    "Europe/Istanbul",  # DST abolished 2016
    "Africa/Cairo",  # DST reinstated 2023
    "Africa/Casablanca",  # goes BACK an hour for Ramadan
)


def minute_of(moment: datetime) -> int:
    """Minutes since the Unix epoch of an aware instant."""
    seconds = int(moment.timestamp())
    assert seconds % 60 == 0
    return seconds // 60


def wall_minute(day: date, hour: int, minute: int) -> int:
    """A naive local wall time as minutes since 1970-01-01 00:00 on the same wall clock."""
    return (day - EPOCH_DATE).days * 1440 + hour * 60 + minute


def as_instant(utc_minute: int) -> datetime:
    return datetime.fromtimestamp(utc_minute * 60, UTC)


class WallClock:
    """What the wall clock of one zone reads, walked forward in UTC."""

    @staticmethod
    @functools.cache
    def of(zone: str) -> WallClock:
        return WallClock(zone)

    def __init__(self, zone: str) -> None:
        tz = ZoneInfo(zone)

        def offset_minutes(utc_minute: int) -> int:
            offset = datetime.fromtimestamp(utc_minute * 60, tz).utcoffset()
            assert offset is not None
            seconds = int(offset.total_seconds())
            assert seconds % 60 == 0, f"{zone}: offset {offset} is not whole minutes"
            return seconds // 60

        first = minute_of(START - timedelta(days=3))
        last = minute_of(END + timedelta(days=3))
        # Hourly samples, refined to every minute of any hour whose offset changes. No zone
        # changes its offset twice within an hour, so between equal-offset samples the wall
        # clock runs linearly.
        coarse = list(range(first, last + 1, 60))
        offsets = [offset_minutes(u) for u in coarse]
        utc: list[int] = []
        offs: list[int] = []
        for k, (u, off) in enumerate(zip(coarse, offsets, strict=True)):
            if k and offsets[k - 1] != off:
                for fine in range(coarse[k - 1] + 1, u):
                    utc.append(fine)
                    offs.append(offset_minutes(fine))
            utc.append(u)
            offs.append(off)
        self.utc = utc
        self.offsets = offs
        self.wall = [u + off for u, off in zip(utc, offs, strict=True)]
        self.running_max = list(itertools.accumulate(self.wall, max))

    def slot_for(self, target: int) -> int:
        """First UTC minute at which the wall clock reads `target` or later."""
        i = bisect.bisect_left(self.running_max, target)
        assert 0 < i < len(self.utc), "target outside the walked window"
        if self.offsets[i - 1] == self.offsets[i]:
            # Same offset at both samples: the clock ran linearly between them.
            return self.utc[i - 1] + (target - self.wall[i - 1])
        # Minute-adjacent samples around a transition: the clock jumped at utc[i].
        return self.utc[i]

    def gaps(self) -> list[tuple[int, int]]:
        """(first, last) skipped wall minutes of each spring-forward gap."""
        return [
            (self.wall[i - 1] + 1, self.wall[i] - 1)
            for i in range(1, len(self.wall))
            if self.wall[i] - self.wall[i - 1] > self.utc[i] - self.utc[i - 1]
        ]

    def folds(self) -> list[tuple[int, int]]:
        """(first, last) repeated wall minutes of each fall-back fold."""
        return [
            (self.wall[i], self.wall[i - 1])
            for i in range(1, len(self.wall))
            if self.wall[i] - self.wall[i - 1] < self.utc[i] - self.utc[i - 1]
        ]


def local_days() -> Iterable[date]:
    day = date(2025, 12, 30)
    while day <= date(2027, 1, 2):
        yield day
        day += timedelta(days=1)


def wall_targets(on_day: Callable[[date], bool], at_time: Callable[[int, int], bool]) -> list[int]:
    """Every wall minute of the window whose date passes `on_day` and whose (hour, minute)
    passes `at_time` (each of the 1440 minutes of a day is tried)."""
    times = [(h, m) for h in range(24) for m in range(60) if at_time(h, m)]
    return [wall_minute(day, h, m) for day in local_days() if on_day(day) for h, m in times]


def daily_targets(hour: int, minute: int, weekdays: Iterable[int] = range(7)) -> list[int]:
    allowed = set(weekdays)
    return [wall_minute(d, hour, minute) for d in local_days() if d.weekday() in allowed]


def oracle_slots(clock: WallClock, targets: Iterable[int]) -> list[int]:
    lo, hi = minute_of(START), minute_of(END)
    return sorted({s for s in (clock.slot_for(t) for t in targets) if lo < s <= hi})


def iterate(recurrence: Recurrence) -> list[int]:
    """Slots from next_after, START (exclusive) to END (inclusive), as UTC minutes."""
    found: list[int] = []
    current = START
    while True:
        slot = recurrence.next_after(current)
        if slot is None or slot > END:
            return found
        assert slot > current, f"{recurrence.text}: next_after went backwards at {current}"
        assert slot.tzinfo is UTC
        found.append(minute_of(slot))
        current = slot


def compare(recurrence: Recurrence, expected: list[int]) -> None:
    got = iterate(recurrence)
    duplicates = len(got) - len(set(got))
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    where = f"{recurrence.text} in {recurrence.timezone}"
    assert duplicates == 0, f"{where}: {duplicates} duplicate slots"
    assert not missing, f"{where}: missing {[as_instant(m).isoformat() for m in missing[:5]]}"
    assert not extra, f"{where}: extra {[as_instant(m).isoformat() for m in extra[:5]]}"
    assert got == expected


def hhmm(wall: int) -> tuple[int, int, str]:
    hour, minute = divmod(wall % 1440, 60)
    return hour, minute, f"{hour:02d}:{minute:02d}"


@dataclass(frozen=True)
class Case:
    when: str
    targets: list[int]


def every_day(day: date) -> bool:
    return True


@functools.cache
def fixed_cases() -> tuple[Case, ...]:
    """Cases that are the same in every zone (their targets are wall times, zone-free)."""
    return (
        Case("daily 02:30", daily_targets(2, 30)),
        Case("daily 01:30", daily_targets(1, 30)),
        Case("daily 00:00", daily_targets(0, 0)),
        Case("weekdays 09:00", daily_targets(9, 0, range(5))),
        Case("weekly mon,thu 18:00", daily_targets(18, 0, (0, 3))),
        Case(
            "monthly 31 01:30",
            wall_targets(lambda d: d.day == 31, lambda h, m: (h, m) == (1, 30)),
        ),
        Case("monthly 1 00:30", wall_targets(lambda d: d.day == 1, lambda h, m: (h, m) == (0, 30))),
        Case(
            "monthly last 23:45",
            wall_targets(
                lambda d: (d + timedelta(days=1)).day == 1, lambda h, m: (h, m) == (23, 45)
            ),
        ),
        Case("30 2 * * *", wall_targets(every_day, lambda h, m: (h, m) == (2, 30))),
        # cron weekday 1-5 is Monday..Friday (date.weekday() 0..4).
        Case(
            "0 */4 * * 1-5",
            wall_targets(lambda d: d.weekday() < 5, lambda h, m: m == 0 and h % 4 == 0),
        ),
        # Dense around the hours where most zones change clocks; cron 0 = Sunday, 5 = Friday.
        Case(
            "*/30 0-3 * * 0,5",
            wall_targets(lambda d: d.weekday() in (6, 4), lambda h, m: m % 30 == 0 and h <= 3),
        ),
        Case("once 2026-06-15 12:00", [wall_minute(date(2026, 6, 15), 12, 0)]),
    )


def cases_for(clock: WallClock) -> list[Case]:
    cases = list(fixed_cases())
    # The zone's own gap and fold times (Lord Howe 02:15, Chatham 02:45, Santiago 00:30 ...),
    # on the weekday and date they happen.
    for first, last in clock.gaps() + clock.folds():
        middle = (first + last) // 2
        hour, minute, text = hhmm(middle)
        day = EPOCH_DATE + timedelta(days=middle // 1440)
        if not START.date() <= day < END.date():
            continue
        weekday = day.weekday()
        other = (weekday + 3) % 7
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        cases += [
            Case(f"daily {text}", daily_targets(hour, minute)),
            Case(
                f"weekly {names[min(weekday, other)]},{names[max(weekday, other)]} {text}",
                daily_targets(hour, minute, (weekday, other)),
            ),
            Case(f"once {day.isoformat()} {text}", [middle]),
            Case(f"{minute} {hour} * * *", daily_targets(hour, minute)),
        ]
    return cases


NOW = START - timedelta(days=1)


@pytest.mark.parametrize("zone", ZONES)
def test_wall_time_forms_match_the_oracle_for_a_year(zone: str) -> None:
    clock = WallClock.of(zone)
    cases = cases_for(clock)
    for case in cases:
        recurrence = parse_when(case.when, zone, NOW)
        compare(recurrence, oracle_slots(clock, case.targets))
        # What is stored and re-read gives exactly the same slots.
        assert restore_when(recurrence.text, zone).next_runs(START, 3) == recurrence.next_runs(
            START, 3
        )


def test_zones_with_dst_really_exercise_gaps_and_folds() -> None:
    """Guard against a vacuous oracle: the DST zones do have gaps and folds in 2026, the
    abolished-DST zones do not."""
    for zone in (
        "Europe/London",
        "America/New_York",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/Santiago",
        "Africa/Cairo",
        "Africa/Casablanca",
        "Europe/Dublin",
    ):
        clock = WallClock.of(zone)
        assert clock.gaps() and clock.folds(), zone
    for zone in (
        "UTC",
        "Asia/Tokyo",
        "America/Sao_Paulo",
        "Asia/Tehran",
        "Europe/Istanbul",
        "Australia/Eucla",
        "Pacific/Apia",
    ):
        clock = WallClock.of(zone)
        in_window = [g for g in clock.gaps() + clock.folds() if 29_000_000 < g[0]]
        assert not in_window, zone
    # Lord Howe's gap is 30 minutes long; New York's spring-forward runs 02:30 at 03:00 EDT.
    lord_howe = WallClock.of("Australia/Lord_Howe")
    assert {last - first + 1 for first, last in lord_howe.gaps()} == {30}
    new_york = WallClock.of("America/New_York")
    slot = new_york.slot_for(wall_minute(date(2026, 3, 8), 2, 30))
    assert as_instant(slot) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ZONES)
def test_every_interval_is_fixed_elapsed_time_for_a_year(zone: str) -> None:
    clock = WallClock.of(zone)
    lo, hi = minute_of(START), minute_of(END)
    for spec, minutes in (("6h", 360), ("15m", 15), ("2h30m", 150)):
        recurrence = parse_when(f"every {spec} from 2025-12-31 00:00", zone, NOW)
        # The origin is the first instant the wall clock reads 2025-12-31 00:00 (the policy),
        # then every slot is origin + k * interval in UTC, whatever the clocks do.
        origin = clock.slot_for(wall_minute(date(2025, 12, 31), 0, 0))
        first_k = (lo - origin) // minutes + 1
        expected = list(range(origin + first_k * minutes, hi + 1, minutes))
        compare(recurrence, expected)


@pytest.mark.parametrize("zone", ZONES)
def test_in_is_one_absolute_instant_even_inside_a_fold(zone: str) -> None:
    clock = WallClock.of(zone)
    # Moments to parse at: ordinary ones, plus the second pass through each fold, where a
    # local wall time would be ambiguous if `in` were stored as one.
    nows = [datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)]
    for i in range(1, len(clock.wall)):
        if clock.wall[i] < clock.wall[i - 1]:
            nows.append(as_instant(clock.utc[i] + 10))
    for now in nows:
        for spec, seconds in (("30s", 30), ("10m", 600), ("2h", 7200), ("1h30m", 5400)):
            recurrence = parse_when(f"in {spec}", zone, now)
            expected = now + timedelta(seconds=seconds)
            if expected.microsecond:  # rounded up to the whole second, never early
                expected = expected.replace(microsecond=0) + timedelta(seconds=1)
            assert recurrence.one_shot
            assert recurrence.next_runs(now - timedelta(days=1), 5) == [expected]
            assert recurrence.next_after(expected) is None
            # Walking seconds just around the slot: it is the only one.
            around = [recurrence.next_after(expected - timedelta(seconds=s)) for s in range(1, 90)]
            assert set(around) == {expected}
            restored = restore_when(recurrence.text, zone)
            assert restored.next_after(now) == expected
