"""The opening-hours grammar (content/hours.py) and the open-now rule (support_selection)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.content.hours import HoursError, parse_opening_hours
from bot.core.models import Resource
from bot.core.support_selection import OpenNow, open_state

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = LONDON) -> datetime:
    # December 2026: the 7th is a Monday.
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def test_24_7_in_its_forms() -> None:
    for text in ("24/7", "Mo-Su 00:00-24:00", "00:00-24:00"):
        hours = parse_opening_hours(text)
        assert hours.always and hours.text == "24/7"
        assert hours.is_open(at(7, 3))


def test_weekday_range() -> None:
    hours = parse_opening_hours("Mo-Fr 13:00-20:30")
    assert not hours.is_open(at(7, 12, 59))
    assert hours.is_open(at(7, 13))
    assert hours.is_open(at(11, 20, 29))  # Friday
    assert not hours.is_open(at(11, 20, 30))
    assert not hours.is_open(at(12, 14))  # Saturday
    assert hours.next_opening(at(12, 14)) == at(14, 13)  # Monday


def test_day_names_in_any_case() -> None:
    assert parse_opening_hours("mo-fr 13:00-20:30").is_open(at(7, 13))
    assert not parse_opening_hours("MO-FR 13:00-20:30").is_open(at(12, 14))  # Saturday


def test_several_rules_and_several_ranges() -> None:
    hours = parse_opening_hours("Mo-Th 10:00-20:30; Fr 10:00-16:30; Sa,Su 12:00-14:00,19:00-21:00")
    assert hours.is_open(at(10, 20))  # Thursday
    assert not hours.is_open(at(11, 17))  # Friday after 16:30
    assert hours.is_open(at(12, 13)) and not hours.is_open(at(12, 15))
    assert hours.next_opening(at(12, 15)) == at(12, 19)


def test_a_later_rule_replaces_an_earlier_one_for_its_days() -> None:
    hours = parse_opening_hours("Mo-Su 10:00-22:00; Su off")
    assert hours.is_open(at(12, 11)) and not hours.is_open(at(13, 11))


def test_hours_across_midnight_belong_to_the_day_they_open() -> None:
    hours = parse_opening_hours("Fr 18:00-02:00")
    assert hours.is_open(at(11, 23))  # Friday night
    assert hours.is_open(at(12, 1, 59))  # early Saturday
    assert not hours.is_open(at(12, 2))
    assert not hours.is_open(at(11, 1))  # early Friday belongs to Thursday


def test_days_may_wrap_over_the_weekend_and_times_may_close_at_midnight() -> None:
    hours = parse_opening_hours("Fr-Mo 15:00-24:00")
    assert hours.is_open(at(13, 23, 59)) and hours.is_open(at(14, 15))
    assert not hours.is_open(at(15, 16))  # Tuesday


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("Mo-Fr", "days then times"),
        ("Mon-Fri 09:00-17:00", "'Mon-Fri' is not a day"),
        ("Mo-Fr 9-17", "'9' is not a time"),
        ("Mo 25:00-26:00", "'25:00' is not a time"),
        ("Mo 24:00-02:00", "only a closing time can be 24:00"),
        ("PH off", "Public holidays"),
        ("Mo 10:00", "is not a time range"),
    ],
)
def test_what_cannot_be_read_is_said_with_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(HoursError) as raised:
        parse_opening_hours(text)
    assert says in str(raised.value)
    assert "Mo-Fr 13:00-20:30" in str(raised.value)


def _line(**fields: object) -> Resource:
    return Resource(key="x", title="X", url="https://x.org", regions=("GB",), **fields)  # type: ignore[arg-type]


def test_open_state_reads_the_hours_in_the_resources_zone_and_answers_in_the_persons() -> None:
    line = _line(opening_hours="Mo-Fr 10:00-18:00", timezone="America/Los_Angeles")
    new_york = ZoneInfo("America/New_York")
    monday_night = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 19:00 Monday in Los Angeles
    state = open_state(line, monday_night, new_york)
    assert state.now is OpenNow.CLOSED
    assert state.label(monday_night.astimezone(new_york)) == "opens Tue 13:00 (your time)"
    afternoon = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # 12:00 Tuesday in Los Angeles
    assert open_state(line, afternoon, new_york).label(afternoon) == "open now"


def test_hours_without_a_zone_are_the_persons_local_time_and_unknown_hours_say_nothing() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    qlife = _line(opening_hours="Mo-Su 15:00-24:00")
    now = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)  # 17:00 in Sydney
    assert open_state(qlife, now, sydney).now is OpenNow.OPEN
    unknown = open_state(_line(), now, sydney)
    assert unknown.now is OpenNow.UNKNOWN and unknown.label(now) == ""
    assert open_state(_line(always_open=True), now, sydney).now is OpenNow.OPEN


def test_the_day_the_clocks_change_is_read_on_the_wall_clock() -> None:
    # 29 March 2026: London moves from GMT to BST at 01:00 UTC. 09:30 BST is 08:30 UTC.
    line = _line(opening_hours="Su 09:00-10:00", timezone="Europe/London")
    assert open_state(line, datetime(2026, 3, 29, 8, 30, tzinfo=UTC), LONDON).now is OpenNow.OPEN
    assert open_state(line, datetime(2026, 3, 29, 9, 30, tzinfo=UTC), LONDON).now is (
        OpenNow.CLOSED
    )
