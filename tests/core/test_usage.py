"""The usage rule as pure code: daily counts summed into Monday-to-Sunday weeks, a bucket under
5 (zero included) given to the page as None with the same bar as every other hidden one, bars
scaled to the largest bucket, old days and unused topics left out, and topics ordered by what
is shown only."""

from __future__ import annotations

from datetime import date

from bot.core.models import Topic
from bot.core.usage import BAR_STEPS, FEWER_THAN, SMALL_BAR, weekly

TODAY = date(2026, 11, 29)  # a Sunday: its week began on Monday 23 November
TOPICS = (Topic("a", "Topic A", ""), Topic("b", "Topic B", ""), Topic("c", "Topic C", ""))


def test_days_are_summed_into_weeks_and_small_buckets_are_hidden() -> None:
    counts = {
        ("a", date(2026, 11, 23)): 3,
        ("a", date(2026, 11, 29)): 7,  # same week: 10
        ("a", date(2026, 11, 22)): 4,  # the week before: hidden
        ("b", date(2026, 11, 16)): 1,
        ("b", date(2026, 11, 17)): 2,
        ("c", date(2025, 1, 1)): 500,  # long ago: not in these 12 weeks
    }
    weeks, topics = weekly(counts, TOPICS, TODAY)
    assert weeks[-1] == date(2026, 11, 23) and len(weeks) == 12
    assert all(week.weekday() == 0 for week in weeks)
    a, b = topics
    assert (a.label, [x.count for x in a.weeks[-2:]]) == ("Topic A", [None, 10])
    assert a.weeks[-1].bar == BAR_STEPS and a.weeks[-2].bar == SMALL_BAR
    assert a.shown_sum == 10  # the hidden week's 4 is not in anything shown
    # 3 uses in one week of b: hidden, with the same bar as a week of none.
    assert {x.label for x in b.weeks} == {FEWER_THAN}
    assert {x.bar for x in b.weeks} == {SMALL_BAR}


def test_topics_are_ordered_by_what_is_shown() -> None:
    counts = {("b", TODAY): 4, ("c", TODAY): 1, ("a", TODAY): 2}
    _, topics = weekly(counts, TOPICS, TODAY)
    # All hidden: alphabetical by label, whatever their exact counts.
    assert [t.slug for t in topics] == ["a", "b", "c"]
