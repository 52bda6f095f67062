"""The slot rules (catch-up, grace, idempotency keys) and the pacing limiters, as pure code."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Platform
from bot.core.scheduling.pacing import ChannelPacer, PacingPolicy, RateLimiter, default_policies
from bot.core.scheduling.recurrence import Recurrence, parse_when
from bot.core.scheduling.schedules import (
    MAX_MISSED_ROWS,
    Schedule,
    default_grace_seconds,
    describe_duration,
    epoch,
    idempotency_key,
    plan_slots,
)

CREATED = datetime(2026, 3, 1, tzinfo=UTC)


def schedule(when: str, next_run_at: int, *, zone: str = "UTC") -> tuple[Schedule, Recurrence]:
    recurrence = parse_when(when, zone, CREATED)
    return (
        Schedule(
            id=1,
            community_id="c",
            platform=Platform.DISCORD,
            channel_id="x",
            channel_label="#x",
            topic="t",
            message_key=None,
            when_text=recurrence.text,
            timezone=zone,
            one_shot=recurrence.one_shot,
            next_run_at=next_run_at,
            grace_seconds=default_grace_seconds(recurrence),
            paused=False,
            paused_reason=None,
            created_by="m",
            created_at=int(CREATED.timestamp()),
        ),
        recurrence,
    )


def at(day: int, hour: int, minute: int = 0) -> int:
    return epoch(datetime(2026, 3, day, hour, minute, tzinfo=UTC))


def test_default_grace_is_the_smaller_of_an_hour_and_half_the_period() -> None:
    def grace(when: str) -> int:
        return default_grace_seconds(parse_when(when, "UTC", CREATED))

    assert grace("daily 09:00") == 3600
    assert grace("every 1h") == 1800
    assert grace("every 15m") == 450
    assert grace("in 10m") == 3600
    assert grace("once 2026-12-24 18:00") == 3600


def test_on_time_slot_is_claimed_and_the_next_one_scheduled() -> None:
    item, recurrence = schedule("daily 09:00", at(1, 9))
    plan = plan_slots(item, at(1, 9), recurrence)
    assert (plan.claim, plan.missed, plan.next_run_at) == (at(1, 9), (), at(2, 9))


def test_after_downtime_only_the_latest_slot_within_grace_is_posted() -> None:
    item, recurrence = schedule("every 15m", at(1, 9))
    # Back at 11:05: slots 09:00 ... 11:00. Grace 7.5 min: only 11:00 may still go out.
    plan = plan_slots(item, at(1, 11, 5), recurrence)
    assert plan.claim == at(1, 11)
    assert [slot for slot, _ in plan.missed] == [at(1, 9) + 900 * i for i in range(8)]
    assert plan.next_run_at == at(1, 11, 15)


def test_two_slots_inside_the_grace_coalesce_into_one_post() -> None:
    item, recurrence = schedule("0 9,10 * * *", at(1, 9))
    plan = plan_slots(replace(item, grace_seconds=7200), at(1, 10, 30), recurrence)
    assert plan.claim == at(1, 10)
    assert [slot for slot, _ in plan.missed] == [at(1, 9)]
    assert "Coalesced" in plan.missed[0][1]


def test_a_late_one_shot_is_missed_and_finished() -> None:
    item, _ = schedule("once 2026-03-01 09:00", at(1, 9))
    on_time = plan_slots(item, at(1, 9, 59), None)
    assert on_time.claim == at(1, 9) and on_time.next_run_at is None
    late = plan_slots(item, at(1, 10, 1), None)
    assert late.claim is None and late.next_run_at is None
    assert "not running" in late.missed[0][1]


def test_long_downtime_records_a_bounded_number_of_rows() -> None:
    item, recurrence = schedule("every 15m", at(1, 0))
    later = epoch(datetime(2026, 9, 1, 0, 3, tzinfo=UTC))
    plan = plan_slots(item, later, recurrence)
    assert len(plan.missed) == MAX_MISSED_ROWS + 1
    assert "Every later slot" in plan.missed[-1][1]
    assert plan.claim == epoch(datetime(2026, 9, 1, 0, 0, tzinfo=UTC))


def test_idempotency_key_is_stable_short_and_per_slot() -> None:
    key = idempotency_key(12, 1_772_355_600)
    assert key == idempotency_key(12, 1_772_355_600)
    assert len(key) == 25 and key.isalnum() and key.upper() == key
    assert key != idempotency_key(12, 1_772_355_601)
    assert key != idempotency_key(13, 1_772_355_600)


def test_durations_read_naturally() -> None:
    assert describe_duration(450) == "7 minutes 30 s"
    assert describe_duration(3600) == "1 hour"
    assert describe_duration(5400) == "1 hour 30 min"
    assert describe_duration(1) == "1 second"


# ---- pacing -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    rate=st.sampled_from([0.8, 1.0, 20.0, 40.0]),
    burst=st.integers(min_value=1, max_value=5),
    gaps=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=150),
)
def test_a_limiter_never_lets_more_than_burst_plus_rate_times_window_through(
    rate: float, burst: int, gaps: list[float]
) -> None:
    limiter = RateLimiter(rate, burst)
    now = 0.0
    sent: list[float] = []
    for gap in gaps:
        now += gap
        when = limiter.earliest(now)
        assert when >= now
        limiter.take(when)
        sent.append(when)
        now = max(now, when)
    for window in (1.0, 5.0):
        for start in sent:
            inside = [t for t in sent if start <= t < start + window]
            assert len(inside) <= burst + rate * window + 1e-9


def test_platform_budgets_stay_below_the_platform_limits() -> None:
    policies = default_policies()
    discord = policies[Platform.DISCORD]
    assert discord.global_rate is not None and discord.global_rate + discord.global_burst <= 50
    assert discord.channel_rate is not None
    assert discord.channel_burst + discord.channel_rate * 5 <= 5  # ~5 per 5 s per channel
    slack = policies[Platform.SLACK]
    assert slack.channel_rate == 1.0 and slack.channel_burst == 1


def test_a_held_channel_waits_and_others_do_not() -> None:
    pacer = ChannelPacer(PacingPolicy(global_rate=100.0, channel_rate=1.0))
    pacer.take("a", 0.0)
    pacer.hold_channel("a", 7.0)
    assert pacer.earliest("a", 0.5) == 7.0
    assert pacer.earliest("b", 0.5) == 0.5


def test_idle_channel_limiters_are_forgotten() -> None:
    pacer = ChannelPacer(PacingPolicy(channel_rate=1.0))
    for index in range(5000):
        pacer.take(f"c{index}", float(index) * 2)
    assert len(pacer._channels) <= ChannelPacer._PRUNE_AT + 1
