"""What moderators may see of how `/support` is used: counts per topic per week from the
stored aggregates (community, topic, day), and the resources people reported.

The one small-number rule is here: a bucket under SMALL_BUCKET is "fewer than 5", and its
exact count never leaves this module (a page gets None and a fixed bar width), because in a
small community one or two uses of a topic could point at a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.content.reports import ReportedResource, ReportService
from bot.core.models import RequestContext, Topic
from bot.core.permissions import moderator_community
from bot.core.ports import Clock, CommunityLookup, StateRepository

SMALL_BUCKET = 5
FEWER_THAN = f"fewer than {SMALL_BUCKET}"
WEEKS = 12
# Bar widths are classes in steps of 5% (no inline styles under the dashboard's CSP).
BAR_STEPS = 20
# A bucket under SMALL_BUCKET always draws this many steps, whatever its exact count.
SMALL_BAR = 1


@dataclass(frozen=True, slots=True)
class Bucket:
    week: date  # the Monday the week starts on
    # None when under SMALL_BUCKET (zero included): shown as FEWER_THAN, never the number.
    count: int | None
    bar: int  # 0..BAR_STEPS

    @property
    def label(self) -> str:
        return FEWER_THAN if self.count is None else str(self.count)


@dataclass(frozen=True, slots=True)
class TopicUsage:
    slug: str
    label: str
    weeks: tuple[Bucket, ...]
    # No total: a total beside the shown weeks would give away the hidden ones by subtraction.
    # The order of topics uses only what is shown, for the same reason.

    @property
    def shown_sum(self) -> int:
        return sum(bucket.count or 0 for bucket in self.weeks)


@dataclass(frozen=True, slots=True)
class Usage:
    weeks: tuple[date, ...]
    topics: tuple[TopicUsage, ...]
    reported: tuple[ReportedResource, ...]


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def shown(count: int) -> int | None:
    """The count a moderator may see: None under SMALL_BUCKET."""
    return count if count >= SMALL_BUCKET else None


def _bar(count: int, largest: int) -> int:
    if count < SMALL_BUCKET:
        return SMALL_BAR
    return max(SMALL_BAR + 1, round(count / largest * BAR_STEPS))


def weekly(
    counts: Mapping[tuple[str, date], int],
    topics: Sequence[Topic],
    today: date,
    weeks: int = WEEKS,
) -> tuple[tuple[date, ...], tuple[TopicUsage, ...]]:
    """Counts per topic for the last `weeks` weeks (Monday to Sunday, this week last); only
    topics used in that time are listed."""
    last = week_of(today)
    starts = tuple(last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1))
    first = starts[0]
    per: dict[str, dict[date, int]] = {}
    for (slug, day), n in counts.items():
        if first <= day <= today:
            per.setdefault(slug, {}).setdefault(week_of(day), 0)
            per[slug][week_of(day)] += n
    # Scale bars to the largest bucket that may be shown, so a hidden one cannot be inferred.
    largest = max((n for weeks_ in per.values() for n in weeks_.values()), default=0)
    labels = {topic.slug: topic.label for topic in topics}
    listed: list[TopicUsage] = []
    for slug, by_week in per.items():
        buckets = tuple(
            Bucket(week, shown(by_week.get(week, 0)), _bar(by_week.get(week, 0), largest))
            for week in starts
        )
        listed.append(TopicUsage(slug, labels.get(slug, slug), buckets))
    listed.sort(key=lambda t: (-t.shown_sum, t.label, t.slug))
    return starts, tuple(listed)


class UsageService:
    """The usage page's facts, for moderators of the community only."""

    def __init__(
        self,
        state: StateRepository,
        communities: CommunityLookup,
        reports: ReportService,
        topics: Callable[[str], Sequence[Topic]],
        clock: Clock,
    ) -> None:
        self._state = state
        self._communities = communities
        self._reports = reports
        self._topics = topics
        self._clock = clock

    async def usage(self, ctx: RequestContext, weeks: int = WEEKS) -> Usage:
        await moderator_community(self._communities, ctx)
        counts = await self._state.usage(ctx.community_id)
        starts, topics = weekly(
            counts, self._topics(ctx.community_id), self._clock.now().date(), weeks
        )
        reported = await self._reports.reported(ctx.community_id)
        return Usage(starts, topics, tuple(reported))
