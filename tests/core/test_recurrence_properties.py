"""Property tests for recurrence: slots strictly increase, none is skipped, the DST rule holds
for any wall time, and the fast cron matcher agrees with croniter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from bot.core.scheduling.recurrence import _CronMatcher, parse_when, resolve_wall_time

ZONES = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Africa/Casablanca",
    "Asia/Kathmandu",
    "Europe/Dublin",
)
WHENS = (
    "daily 02:30",
    "daily 01:30",
    "daily 00:00",
    "weekdays 09:00",
    "weekly sun,wed 02:15",
    "monthly 31 01:30",
    "monthly last 23:59",
    "every 15m from 2024-01-01 00:00",
    "every 2h30m from 2024-01-01 02:30",
    "30 2 * * *",
    "*/30 0-3 * * 0",
    "0 9 L * *",
)
NOW = datetime(2024, 1, 1, tzinfo=UTC)

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
common = settings(max_examples=150, deadline=None)


@common
@given(zone=st.sampled_from(ZONES), when=st.sampled_from(WHENS), start=instants, data=st.data())
def test_next_after_is_increasing_and_skips_nothing(
    zone: str, when: str, start: datetime, data: st.DataObject
) -> None:
    r = parse_when(when, zone, NOW)
    first = r.next_after(start)
    assert first is not None and first > start and first.tzinfo is UTC
    second = r.next_after(first)
    assert second is not None and second > first
    # `first` is itself a slot, and any instant between `start` and it leads to it: no slot
    # hides in between.
    assert r.next_after(first - timedelta(microseconds=1)) == first
    gap = (first - start).total_seconds()
    fraction = data.draw(st.floats(min_value=0, max_value=1, exclude_max=True))
    probe = start + timedelta(seconds=gap * fraction)
    if probe < first:
        assert r.next_after(probe) == first


@common
@given(
    zone=st.sampled_from(ZONES),
    wall=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    other=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
)
def test_the_slot_of_a_wall_time_is_the_first_instant_the_clock_reads_it(
    zone: str, wall: datetime, other: datetime
) -> None:
    tz = ZoneInfo(zone)
    wall = wall.replace(second=0, microsecond=0)
    slot = resolve_wall_time(wall, tz)

    def reading(instant: datetime) -> datetime:
        return instant.astimezone(tz).replace(tzinfo=None)

    assert reading(slot) >= wall
    assert reading(slot - timedelta(seconds=1)) < wall
    # Monotone: a later wall time never gets an earlier slot (checked on every example, with
    # the two wall times in order, rather than only when `other` happened to be the later).
    earlier, later = sorted((wall, other.replace(second=0, microsecond=0)))
    assert resolve_wall_time(later, tz) >= resolve_wall_time(earlier, tz)


minute_field = st.one_of(
    st.just("*"),
    st.integers(0, 59).map(str),
    st.sampled_from(["*/15", "*/20", "0,30", "5-10/5", "0,15,30,45", "10,40"]),
)
hour_field = st.one_of(
    st.just("*"),
    st.integers(0, 23).map(str),
    st.sampled_from(["*/4", "9-17", "0,12", "1-3", "22-23", "*/7"]),
)
day_field = st.one_of(
    st.just("*"), st.integers(1, 31).map(str), st.sampled_from(["1,15", "*/10", "28-31", "13"])
)
month_field = st.one_of(st.just("*"), st.sampled_from(["1", "2", "jan-mar", "*/2", "2,11", "12"]))
weekday_field = st.one_of(
    st.just("*"), st.sampled_from(["0", "1-5", "mon,fri", "6", "sat-sun", "7", "5"])
)


@settings(max_examples=200, deadline=None)
@given(
    fields=st.tuples(minute_field, hour_field, day_field, month_field, weekday_field),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_fast_cron_matching_agrees_with_croniter(
    fields: tuple[str, str, str, str, str], start: datetime
) -> None:
    expression = " ".join(fields)
    matcher = _CronMatcher(expression)
    assert matcher._plain
    reference = croniter(expression, start)
    try:
        expected = [reference.get_next(datetime) for _ in range(6)]
    except ValueError:  # croniter found no date (e.g. 31 in February only)
        reject()  # not a passing example: Hypothesis draws another, and says if most are
    walls = matcher.walls_after(start)
    assert [next(walls) for _ in range(6)] == expected
