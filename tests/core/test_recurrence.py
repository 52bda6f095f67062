"""Unit tests for the `when` grammar, next slots, the DST policy and the error messages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import UnknownChoice, ValidationFailed
from bot.core.scheduling.recurrence import (
    ACCEPTED_FORMS,
    Recurrence,
    describe_run,
    parse_timezone,
    parse_when,
    restore_when,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a Sunday
NY = "America/New_York"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def runs(recurrence: Recurrence, after: datetime, count: int = 3) -> list[datetime]:
    return recurrence.next_runs(after, count)


def refusal(text: str, zone: str = "UTC", now: datetime = NOW) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_when(text, zone, now)
    return caught.value


# ---------------------------------------------------------------------------------------------
# Every form.


def test_daily_runs_every_day_at_the_local_wall_time() -> None:
    r = parse_when("daily 18:00", "Europe/London", NOW)
    assert (r.text, r.timezone, r.one_shot) == ("daily 18:00", "Europe/London", False)
    # Across the spring change London's 18:00 moves from 18:00Z to 17:00Z.
    assert runs(r, utc(2026, 3, 28, 12, 0)) == [
        utc(2026, 3, 28, 18, 0),
        utc(2026, 3, 29, 17, 0),
        utc(2026, 3, 30, 17, 0),
    ]
    assert r.nominal_period() == timedelta(days=1)


def test_daily_slot_at_the_instant_itself_is_not_after_it() -> None:
    r = parse_when("daily 18:00", "UTC", NOW)
    assert r.next_after(utc(2026, 3, 1, 18, 0)) == utc(2026, 3, 2, 18, 0)
    assert r.next_after(utc(2026, 3, 1, 17, 59, 59)) == utc(2026, 3, 1, 18, 0)


def test_weekdays_skip_the_weekend() -> None:
    r = parse_when("weekdays 09:00", "UTC", NOW)
    assert r.text == "weekdays 09:00"
    # Friday 2026-03-06, then Monday 2026-03-09.
    assert runs(r, utc(2026, 3, 6, 8, 0), 2) == [utc(2026, 3, 6, 9, 0), utc(2026, 3, 9, 9, 0)]
    assert r.nominal_period() == timedelta(days=7) / 5


@pytest.mark.parametrize(
    "text",
    [
        "weekly mon,thu 18:00",
        "weekly Thursday,MONDAY 18:00",
        "weekly mon, thu 18:00",
        "weekly mon thu 6pm",
        "weekly on mon,thurs at 18:00",
        "every mon,thu 18:00",
    ],
)
def test_weekly_accepts_names_in_any_case_and_order(text: str) -> None:
    r = parse_when(text, NY, NOW)
    assert r.text == "weekly mon,thu 18:00"
    assert runs(r, NOW) == [
        local(NY, 2026, 3, 2, 18, 0),
        local(NY, 2026, 3, 5, 18, 0),
        local(NY, 2026, 3, 9, 18, 0),
    ]
    assert r.nominal_period() == timedelta(days=3.5)


def test_weekly_ranges_wrap_around_the_week() -> None:
    assert parse_when("weekly fri-mon 10:00", "UTC", NOW).text == "weekly mon,fri,sat,sun 10:00"
    assert parse_when("weekly mon-fri 10:00", "UTC", NOW).weekdays == frozenset(range(5))


def test_monthly_skips_months_without_the_day() -> None:
    r = parse_when("monthly 31 09:00", "UTC", NOW)
    assert r.text == "monthly 31 09:00"
    # April, June and September have no 31st: skipped, like cron.
    assert runs(r, NOW, 4) == [
        utc(2026, 3, 31, 9, 0),
        utc(2026, 5, 31, 9, 0),
        utc(2026, 7, 31, 9, 0),
        utc(2026, 8, 31, 9, 0),
    ]
    feb29 = parse_when("monthly 29 09:00", "UTC", NOW)
    assert feb29.next_after(utc(2027, 2, 1)) == utc(2027, 3, 29, 9, 0)
    assert feb29.next_after(utc(2028, 2, 1)) == utc(2028, 2, 29, 9, 0)
    assert r.nominal_period() == timedelta(days=30)


def test_monthly_first_and_last() -> None:
    first = parse_when("monthly 1st 9:00", "UTC", NOW)
    assert first.text == "monthly 1 09:00"
    assert runs(first, NOW, 2) == [utc(2026, 4, 1, 9, 0), utc(2026, 5, 1, 9, 0)]
    last = parse_when("monthly last 18:00", "UTC", NOW)
    assert runs(last, utc(2026, 2, 1), 3) == [
        utc(2026, 2, 28, 18, 0),
        utc(2026, 3, 31, 18, 0),
        utc(2026, 4, 30, 18, 0),
    ]


@pytest.mark.parametrize(
    ("text", "canonical", "interval"),
    [
        ("every 6h", "every 6h", timedelta(hours=6)),
        ("every 15m", "every 15m", timedelta(minutes=15)),
        ("every 90m", "every 1h30m", timedelta(minutes=90)),
        ("every 2h30m", "every 2h30m", timedelta(minutes=150)),
        ("every 6 hours", "every 6h", timedelta(hours=6)),
        ("every 1d", "every 1d", timedelta(days=1)),
    ],
)
def test_every_is_a_fixed_interval(text: str, canonical: str, interval: timedelta) -> None:
    r = parse_when(text, "UTC", NOW)
    assert r.text == f"{canonical} from 2026-03-01 00:00"
    assert r.nominal_period() == interval
    slots = runs(r, NOW, 5)
    assert all(b - a == interval for a, b in itertools.pairwise(slots))


def test_every_counts_from_the_local_midnight_of_the_creation_day() -> None:
    # 12:00 UTC is 17:30 in Kolkata: the origin is 2026-03-01 00:00 IST, so 6h means
    # 00:00, 06:00, 12:00, 18:00 India time.
    r = parse_when("every 6h", "Asia/Kolkata", NOW)
    assert r.text == "every 6h from 2026-03-01 00:00"
    assert runs(r, NOW, 2) == [
        local("Asia/Kolkata", 2026, 3, 1, 18, 0),
        local("Asia/Kolkata", 2026, 3, 2, 0, 0),
    ]
    # Late evening in New York is already the next day in UTC; the local date counts.
    late = parse_when("every 6h", NY, utc(2026, 3, 2, 3, 0))
    assert late.text == "every 6h from 2026-03-01 00:00"


def test_every_with_an_explicit_origin() -> None:
    r = parse_when("every 12h from 09:00", "UTC", NOW)
    assert r.text == "every 12h from 2026-03-01 09:00"
    assert r.next_after(NOW) == utc(2026, 3, 1, 21, 0)
    dated = parse_when("every 1h30m from 2026-02-01 00:10", "UTC", NOW)
    assert dated.text == "every 1h30m from 2026-02-01 00:10"
    assert dated.next_after(utc(2026, 2, 1, 0, 0)) == utc(2026, 2, 1, 0, 10)


def test_every_keeps_elapsed_time_across_dst() -> None:
    r = parse_when("every 1h", NY, NOW)
    slots = runs(r, utc(2026, 3, 8, 4, 0), 6)
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(slots))
    walls = [s.astimezone(ZoneInfo(NY)).strftime("%H:%M") for s in slots]
    # 02:00 does not exist that night: the local clock reading skips it, no slot is lost.
    assert walls == ["00:00", "01:00", "03:00", "04:00", "05:00", "06:00"]
    fall = runs(r, utc(2026, 11, 1, 4, 0), 4)
    walls = [s.astimezone(ZoneInfo(NY)).strftime("%H:%M") for s in fall]
    assert walls == ["01:00", "01:00", "02:00", "03:00"]  # 01:00 EDT then 01:00 EST


def test_cron_expressions_match_local_wall_time() -> None:
    r = parse_when("0 9 * * 1-5", NY, NOW)
    assert (r.text, r.cron, r.one_shot) == ("0 9 * * 1-5", "0 9 * * 1-5", False)
    assert runs(r, NOW, 2) == [local(NY, 2026, 3, 2, 9, 0), local(NY, 2026, 3, 3, 9, 0)]
    assert r.nominal_period() == timedelta(days=1)
    assert parse_when("cron  0   */4 * * MON-FRI", "UTC", NOW).text == "0 */4 * * mon-fri"
    assert parse_when("0 */4 * * 1-5", "UTC", NOW).nominal_period() == timedelta(hours=4)


def test_cron_day_of_month_or_weekday() -> None:
    # Both restricted: cron runs on either (the 13th, and every Friday).
    r = parse_when("0 12 13 * 5", "UTC", NOW)
    days = [s.day for s in runs(r, NOW, 4)]
    assert days == [6, 13, 20, 27]


def test_cron_extensions_still_work_through_croniter() -> None:
    last_day = parse_when("0 9 L * *", "UTC", NOW)
    assert runs(last_day, NOW, 2) == [utc(2026, 3, 31, 9, 0), utc(2026, 4, 30, 9, 0)]
    third_friday = parse_when("0 9 * * 5#3", "UTC", NOW)
    assert runs(third_friday, NOW, 2) == [utc(2026, 3, 20, 9, 0), utc(2026, 4, 17, 9, 0)]


def test_once_runs_a_single_time_at_the_local_wall_time() -> None:
    r = parse_when("once 2026-12-24 18:00", "Europe/Berlin", NOW)
    assert (r.text, r.one_shot) == ("once 2026-12-24 18:00", True)
    assert r.next_after(NOW) == utc(2026, 12, 24, 17, 0)
    assert r.next_after(utc(2026, 12, 24, 17, 0)) is None
    assert runs(r, NOW, 5) == [utc(2026, 12, 24, 17, 0)]
    assert r.nominal_period() is None


def test_once_variants() -> None:
    assert parse_when("ONCE 2026-12-24T18:00", "UTC", NOW).text == "once 2026-12-24 18:00"
    in_utc = parse_when("once 2026-12-24 18:00 UTC", NY, NOW)
    assert (in_utc.text, in_utc.next_after(NOW)) == (
        "once 2026-12-24 18:00 UTC",
        utc(2026, 12, 24, 18, 0),
    )
    assert parse_when("once 2026-12-24T18:00Z", NY, NOW).next_after(NOW) == utc(2026, 12, 24, 18)
    # A time alone is the next such time: 18:00 today, 09:00 tomorrow (it is 12:00 UTC).
    assert parse_when("once 18:00", "UTC", NOW).text == "once 2026-03-01 18:00"
    assert parse_when("once 09:00", "UTC", NOW).text == "once 2026-03-02 09:00"
    assert parse_when("once tomorrow 18:00", "UTC", NOW).text == "once 2026-03-02 18:00"


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("in 30s", timedelta(seconds=30)),
        ("in 10m", timedelta(minutes=10)),
        ("in 2h", timedelta(hours=2)),
        ("in 1h30m", timedelta(minutes=90)),
        ("in 45 minutes", timedelta(minutes=45)),
        ("in 1 day", timedelta(days=1)),
    ],
)
def test_in_is_fixed_at_parse_time(text: str, delta: timedelta) -> None:
    r = parse_when(text, NY, NOW)
    assert r.one_shot
    assert r.next_after(NOW) == NOW + delta
    assert r.next_after(NOW + delta) is None
    # Stored as an absolute UTC instant, so it never depends on when it is read back.
    assert (
        r.text
        == f"once {(NOW + delta):%Y-%m-%d %H:%M}"
        + (f":{(NOW + delta).second:02d}" if delta.seconds % 60 else "")
        + " UTC"
    )
    assert restore_when(r.text, NY) == r


def test_in_rounds_up_to_the_whole_second() -> None:
    r = parse_when("in 30s", "UTC", NOW + timedelta(microseconds=250_000))
    assert r.next_after(NOW) == NOW + timedelta(seconds=31)
    assert r.text == "once 2026-03-01 12:00:31 UTC"


def test_forgiving_input() -> None:
    for text in (
        '"daily 9:00"',
        "  DAILY   09:00 ",
        "daily at 9am",
        "every day 9:00",
        "“daily 9:00”",
    ):
        assert parse_when(text, "UTC", NOW).text == "daily 09:00", text
    assert parse_when("daily 6:30 PM", "UTC", NOW).text == "daily 18:30"
    assert parse_when("daily 12am", "UTC", NOW).text == "daily 00:00"
    assert parse_when("daily noon", "UTC", NOW).text == "daily 12:00"
    assert parse_when("every weekday 8:05", "UTC", NOW).text == "weekdays 08:05"


def test_timezone_is_canonicalised() -> None:
    assert parse_when("daily 09:00", "europe/london", NOW).timezone == "Europe/London"
    assert parse_when("daily 09:00", "new york", NOW).timezone == NY


@pytest.mark.parametrize("example", ACCEPTED_FORMS)
def test_every_accepted_form_example_parses_and_restores(example: str) -> None:
    r = parse_when(example, NY, NOW)
    assert r.next_after(NOW) is not None
    assert restore_when(r.text, NY) == r
    assert restore_when(r.text, NY).next_runs(NOW, 3) == r.next_runs(NOW, 3)


def test_next_after_accepts_any_aware_datetime_and_refuses_naive() -> None:
    r = parse_when("daily 18:00", "UTC", NOW)
    tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert r.next_after(tokyo) == r.next_after(NOW) == utc(2026, 3, 1, 18, 0)
    assert r.next_after(NOW.astimezone(timezone(timedelta(hours=-7)))) == utc(2026, 3, 1, 18)
    slot = r.next_after(NOW)
    assert slot is not None and slot.tzinfo is UTC
    with pytest.raises(ValueError, match=r"^next_after needs an aware datetime$"):
        r.next_after(datetime(2026, 3, 1, 12, 0))
    with pytest.raises(ValueError, match=r"^parse_when needs an aware `now`$"):
        parse_when("daily 18:00", "UTC", datetime(2026, 3, 1, 12, 0))


# ---------------------------------------------------------------------------------------------
# The DST policy.


def test_gap_runs_at_the_first_valid_instant_after_it() -> None:
    # New York 2026-03-08: 02:00 EST -> 03:00 EDT. 02:30 does not exist; it runs at 03:00 EDT.
    r = parse_when("daily 02:30", NY, NOW)
    assert runs(r, utc(2026, 3, 7, 0, 0), 3) == [
        utc(2026, 3, 7, 7, 30),  # 02:30 EST
        utc(2026, 3, 8, 7, 0),  # 03:00 EDT: the transition itself
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT
    ]


def test_thirty_minute_gap_on_lord_howe() -> None:
    # Lord Howe 2026-10-04: 02:00 (+10:30) -> 02:30 (+11:00). 02:15 runs at 02:30 local.
    r = parse_when("daily 02:15", "Australia/Lord_Howe", NOW)
    slot = r.next_after(utc(2026, 10, 3, 0, 0))
    assert slot == local("Australia/Lord_Howe", 2026, 10, 4, 2, 30)
    assert slot == utc(2026, 10, 3, 15, 30)


def test_fold_runs_once_at_the_first_occurrence() -> None:
    # New York 2026-11-01: 01:xx happens at -04:00 and again at -05:00.
    r = parse_when("daily 01:30", NY, NOW)
    assert runs(r, utc(2026, 10, 31, 12, 0), 2) == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 2, 6, 30),  # the next day; never 01:30 EST (06:30Z on the 1st)
    ]
    assert r.next_after(utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 2, 6, 30)
    # Asked from inside the second pass, it still does not run again that night.
    assert r.next_after(utc(2026, 11, 1, 6, 15)) == utc(2026, 11, 2, 6, 30)


def test_cron_inside_a_gap_runs_once_at_the_transition() -> None:
    r = parse_when("*/15 2 * * *", NY, NOW)
    spring = [
        s for s in runs(r, utc(2026, 3, 8, 0, 0), 6) if s.date() == datetime(2026, 3, 8).date()
    ]
    assert spring == [utc(2026, 3, 8, 7, 0)]
    both = parse_when("0,30 2,3 * * *", NY, NOW)
    assert runs(both, utc(2026, 3, 8, 5, 0), 2) == [utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 30)]


def test_cron_in_a_fold_runs_each_wall_time_once() -> None:
    r = parse_when("*/30 1 * * *", NY, NOW)
    night = runs(r, utc(2026, 11, 1, 4, 0), 3)
    assert night == [utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 0)]


def test_once_in_a_gap_and_in_a_fold() -> None:
    gap = parse_when("once 2026-03-08 02:30", NY, NOW)
    assert gap.next_after(NOW) == utc(2026, 3, 8, 7, 0)
    fold = parse_when("once 2026-11-01 01:30", NY, NOW)
    assert fold.next_after(NOW) == utc(2026, 11, 1, 5, 30)


def test_midnight_transitions() -> None:
    # Santiago 2026-09-06: 24:00 -> 01:00, so 00:30 runs at 01:00 local.
    r = parse_when("daily 00:30", "America/Santiago", NOW)
    assert r.next_after(utc(2026, 9, 5, 12, 0)) == local("America/Santiago", 2026, 9, 6, 1, 0)


# ---------------------------------------------------------------------------------------------
# Refusals: each says what is accepted and, when there is one, the closest valid choice.


def assert_lists_forms(error: ValidationFailed) -> None:
    for example in ACCEPTED_FORMS:
        assert example in error.hint


def test_keyword_typo_suggests_the_corrected_when() -> None:
    error = refusal("dialy 9:00")
    assert "'dialy' is not a form I know" in error.message
    assert "Did you mean daily 09:00?" in error.hint
    assert_lists_forms(error)
    assert "Did you mean weekly mon,thu 18:00?" in refusal("wekly mon,thu 18:00").hint


def test_weekday_typo_suggests_the_weekday() -> None:
    error = refusal("weekly mon,thr 18:00")
    assert "'thr' is not a weekday" in error.message
    assert "mon, tue, wed, thu, fri, sat, sun" in error.message
    assert "Did you mean weekly mon,thu 18:00?" in error.hint
    # Two typos: both are fixed in the suggestion.
    assert "Did you mean weekly mon,thu 18:00?" in refusal("wekly mno,thr 18:00").hint


def test_interval_under_fifteen_minutes_is_refused() -> None:
    error = refusal("every 10m")
    assert "the shortest interval is every 15m" in error.message
    assert "Did you mean every 15m?" in error.hint
    assert "the shortest interval is every 15m" in refusal("* * * * *").message
    assert "the shortest interval is every 15m" in refusal("0,10 9 * * *").message
    # 45 and 0 of consecutive hours are 15 minutes apart: allowed; 50 and 0 are not.
    parse_when("0,45 * * * *", "UTC", NOW)
    assert "every 15m" in refusal("0,50 * * * *").message
    parse_when("0,50 9 * * *", "UTC", NOW)  # one hour only: 50 minutes apart


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily 25:00", "hours are 00-23"),
        ("25:00", "hours are 00-23"),
        ("daily 24:00", "hours are 00-23; midnight is 00:00"),
        ("daily 9:60", "minutes are 00-59"),
        ("daily 9", "write it as HH:MM on the 24-hour clock"),
        ("daily", "daily takes one time"),
        ("daily 13pm", "with am/pm the hour is 1-12"),
        ("weekly 18:00", "weekly takes weekdays and a time"),
        ("monthly 32 09:00", "days of the month are 1-31 (or 'last' for the last day)"),
        ("monthly 0 09:00", "days of the month are 1-31"),
        ("monthly 09:00", "monthly takes a day and a time"),
        ("once 2026-04-31 10:00", "April 2026 has 30 days"),
        ("once 2027-02-29 10:00", "February 2027 has 28 days"),
        ("once 2026-13-01 10:00", "months are 01-12"),
        ("once 24/12/2026 18:00", "write it as YYYY-MM-DD"),
        ("once", "once takes a date and a time"),
        ("every", "every takes an interval"),
        ("every 6x", "'x' is not a unit; use s, m, h or d"),
        ("every six hours", "is not a duration"),
        ("every 400d", "every is at most 366d"),
        ("in 0s", "at least 1s"),
        ("in 400d", "at most 366 days ahead"),
        ("in", "in takes a duration"),
        ("0 9 * * 1-5 2026", "a cron expression has five fields"),
        ("1 2 3", "a cron expression has five fields"),
        ("0 25 * * *", "is not a valid cron expression"),
        ("0 0 31 2 *", "never matches a real date"),
        ("", "it is empty"),
        ("'  '", "it is empty"),
        ("whenever", "is not a form I know"),
    ],
)
def test_malformed_forms_say_what_is_wrong_and_what_is_accepted(text: str, expected: str) -> None:
    error = refusal(text)
    assert expected in error.message
    assert error.message.startswith("when '")
    assert_lists_forms(error)
    # str() (what an adapter shows) carries both the problem and the accepted forms.
    assert expected in str(error) and ACCEPTED_FORMS[0] in str(error)


def test_bare_time_suggests_daily() -> None:
    assert "Did you mean daily 09:00?" in refusal("9:00").hint


def test_past_one_shot_is_refused() -> None:
    error = refusal("once 2020-01-01 10:00", NY)
    assert "is in the past" in error.message
    assert "it is now 2026-03-01 07:00 in America/New_York" in error.message
    assert "is in the past" in refusal("once 2026-03-01 12:00 UTC").message  # exactly now
    # restore_when re-reads a stored one-shot after it has run.
    assert restore_when("once 2020-01-01 10:00", NY).next_after(NOW) is None


def test_unknown_zone_is_refused_with_the_closest_zones_first() -> None:
    with pytest.raises(UnknownChoice) as caught:
        parse_when("daily 09:00", "Europe/Londn", NOW)
    assert caught.value.choices[0] == "Europe/London"
    assert "Did you mean Europe/London?" in caught.value.hint


# ---------------------------------------------------------------------------------------------
# Time zones and descriptions.


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("America/new_york", NY),
        ("new york", NY),
        ("London", "Europe/London"),
        ("Kolkata", "Asia/Kolkata"),
        ("utc", "UTC"),
        ("GMT", "Europe/London"),
        ("Z", "UTC"),
        ("Australia/Lord_Howe", "Australia/Lord_Howe"),
    ],
)
def test_parse_timezone_accepts_names_cities_and_aliases(given: str, canonical: str) -> None:
    assert parse_timezone(given) == canonical


@pytest.mark.parametrize(
    ("given", "first"),
    [("Europ/Londn", "Europe/London"), ("Kolkatta", "Asia/Kolkata"), ("Sydny", "Australia/Sydney")],
)
def test_parse_timezone_suggests_the_closest(given: str, first: str) -> None:
    with pytest.raises(UnknownChoice) as caught:
        parse_timezone(given)
    error = caught.value
    assert error.what == "time zone"
    assert error.choices[0] == first
    assert f"Did you mean {first}?" in str(error)


def test_parse_timezone_with_nothing_close() -> None:
    with pytest.raises(UnknownChoice) as caught:
        parse_timezone("qqqqqqqq")
    assert caught.value.choices == ()
    assert "IANA name like Europe/London" in caught.value.hint


def test_describe_run_shows_local_time_and_utc() -> None:
    moment = utc(2026, 12, 7, 18, 0)
    assert describe_run(moment, "Europe/London") == "Mon 2026-12-07 18:00 GMT (18:00 UTC)"
    assert describe_run(moment, "UTC") == "Mon 2026-12-07 18:00 UTC"
    assert describe_run(moment, NY) == "Mon 2026-12-07 13:00 EST (18:00 UTC)"
    # A different UTC date is spelled out; zones without letters get a numeric offset.
    assert (
        describe_run(moment, "Asia/Tokyo") == "Tue 2026-12-08 03:00 JST (Mon 2026-12-07 18:00 UTC)"
    )
    assert describe_run(moment, "Asia/Kathmandu") == "Mon 2026-12-07 23:45 UTC+05:45 (18:00 UTC)"
    assert describe_run(moment, "America/Sao_Paulo") == "Mon 2026-12-07 15:00 UTC-03 (18:00 UTC)"
    assert describe_run(utc(2026, 3, 1, 12, 0, 31), "UTC") == "Sun 2026-03-01 12:00:31 UTC"


def test_the_next_three_runs_read_well() -> None:
    r = parse_when("weekly mon,thu 18:00", "Europe/London", utc(2026, 12, 1))
    assert [describe_run(s, r.timezone) for s in r.next_runs(utc(2026, 12, 1), 3)] == [
        "Thu 2026-12-03 18:00 GMT (18:00 UTC)",
        "Mon 2026-12-07 18:00 GMT (18:00 UTC)",
        "Thu 2026-12-10 18:00 GMT (18:00 UTC)",
    ]


def test_documented_caveat_a_gap_can_bring_two_cron_slots_closer_once() -> None:
    r = parse_when("5,20,35,50 * * * *", NY, NOW)
    assert r.next_runs(utc(2026, 3, 8, 6, 45), 3) == [
        utc(2026, 3, 8, 6, 50),  # 01:50 EST
        utc(2026, 3, 8, 7, 0),  # 02:05 .. 02:50 do not exist: one run at 03:00 EDT
        utc(2026, 3, 8, 7, 5),  # 03:05 EDT
    ]
