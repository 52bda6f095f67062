"""The calendar rule as pure code: every slot the scheduler would post in the next 30 local
days (the recurrence's own next runs from the stored next run), on the community's local day,
with the zone's abbreviation of that day; paused and finished schedules have none; a flood of
15-minute posts is cut at MAX_OCCURRENCES and counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.models import Platform
from bot.core.scheduling.calendar import MAX_OCCURRENCES, build_calendar
from bot.core.scheduling.recurrence import parse_when
from bot.core.scheduling.schedules import Schedule, epoch

# Europe/Berlin springs forward at 01:00 UTC on Sunday 28 March 2027.
NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


def schedule(when: str, zone: str = "UTC", schedule_id: int = 1, **changes: object) -> Schedule:
    recurrence = parse_when(when, zone, NOW)
    first = recurrence.next_after(NOW)
    assert first is not None
    values: dict[str, object] = dict(
        id=schedule_id,
        community_id="c",
        platform=Platform.DISCORD,
        channel_id="x",
        channel_label="#x",
        topic="t",
        message_key=None,
        when_text=recurrence.text,
        timezone=zone,
        one_shot=recurrence.one_shot,
        next_run_at=epoch(first),
        grace_seconds=3600,
        paused=False,
        paused_reason=None,
        created_by="m",
        created_at=epoch(NOW),
    )
    values.update(changes)
    return Schedule(**values)  # type: ignore[arg-type]


def test_thirty_local_days_with_every_slot_of_the_recurrence() -> None:
    daily = schedule("daily 08:00", "Europe/Berlin")
    calendar = build_calendar([daily], NOW, "Europe/Berlin")
    assert [d.day for d in calendar.days] == [
        date(2027, 3, 20) + timedelta(days=n) for n in range(30)
    ]
    shown = [o.at for d in calendar.days for o in d.occurrences]
    expected = parse_when("daily 08:00", "Europe/Berlin", NOW).next_runs(NOW, len(shown) + 1)
    # Today's 08:00 has passed (it is 13:00 in Berlin): 29 posts, the last on the 30th day.
    assert shown == expected[: len(shown)] and len(shown) == 29
    assert calendar.days[0].occurrences == () and calendar.days[-1].occurrences
    # 08:00 local on each day, CET before the change and CEST after.
    labels = {
        d.day: [(o.local.strftime("%H:%M"), o.zone_label) for o in d.occurrences]
        for d in calendar.days
    }
    assert labels[date(2027, 3, 27)] == [("08:00", "CET")]
    assert labels[date(2027, 3, 28)] == [("08:00", "CEST")]


def test_the_day_is_the_communitys_local_day() -> None:
    late = schedule("daily 23:30", "UTC")
    calendar = build_calendar([late], NOW, "Europe/Berlin")
    by_day = {d.day: [o.local.strftime("%H:%M") for o in d.occurrences] for d in calendar.days}
    # 23:30 UTC is 00:30 next day in winter, 01:30 next day in summer (Berlin).
    assert by_day[date(2027, 3, 20)] == []
    assert by_day[date(2027, 3, 21)] == ["00:30"]
    assert by_day[date(2027, 3, 29)] == ["01:30"]


def test_paused_finished_and_one_off_schedules() -> None:
    paused = schedule("daily 09:00", paused=True, paused_reason="x")
    finished = schedule("daily 09:00", schedule_id=2, next_run_at=None)
    once = schedule("once 2027-03-25 18:00", "Europe/Berlin", schedule_id=3)
    later = schedule("once 2027-06-01 18:00", "Europe/Berlin", schedule_id=4)
    calendar = build_calendar([paused, finished, once, later], NOW, "Europe/Berlin")
    shown = [(d.day, o.schedule.id) for d in calendar.days for o in d.occurrences]
    assert shown == [(date(2027, 3, 25), 3)]


def test_a_flood_of_posts_is_cut_and_counted() -> None:
    busy = schedule("every 15m")
    calendar = build_calendar([busy], NOW, "UTC")
    assert sum(len(d.occurrences) for d in calendar.days) == MAX_OCCURRENCES
    assert calendar.left_out > 0
