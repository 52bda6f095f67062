"""Support selection: which resources a `/support` answer shows, and in what order.

The one place the ordering rule lives (Discord, Slack, the console, scheduled posts and the
fallback answer all come here):

- `crisis`: the region's emergency number (in the answer's first line), then all-ages 24/7
  crisis lines, then the rest;
- any other topic: the topic's services with one all-ages 24/7 crisis line as a safety net;
- within that: services known to be closed now come last, so at 3 a.m. a closed line never
  comes before an open 24/7 line (hours not known count as open: a line is moved down only on
  what its hours say, never on a guess); then all-ages before age-limited ones (a
  children's line never displaces an all-ages line); then the topic's own services before the
  safety net; then the pack author's `rank`; then the title;
- no country known, or none listed for it: directories only, always with a helpline directory.

The person's time comes from the clock and the region (or the community's time zone): it is
used for this answer only and never stored.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import UnknownLocaleError
from babel.dates import format_date

from bot.core.content.hours import HoursError, parse_opening_hours
from bot.core.content.library_index import LibraryIndex
from bot.core.content.regions import region_timezone
from bot.core.i18n import ENGLISH, Words
from bot.core.models import Community, Resource

CRISIS_TOPIC = "crisis"
MAX_RESOURCES = 5


class OpenNow(enum.Enum):
    """Whether a service is open at the person's moment."""

    OPEN = "open"
    UNKNOWN = "unknown"  # no machine-readable hours
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class OpenState:
    now: OpenNow
    # When a closed service opens next, in the person's time zone.
    opens_at: datetime | None = None

    def label(self, person_now: datetime, words: Words = ENGLISH) -> str:
        """ "open now", "opens 13:00 (your time)", "opens Mon 13:00 (your time)", or "",
        in the reader's language (the weekday too: Babel's CLDR abbreviations)."""
        if self.now is OpenNow.OPEN:
            return words.gettext("open now")
        if self.now is OpenNow.UNKNOWN:
            return ""
        if self.opens_at is None:
            return words.gettext("closed now")
        when = f"{self.opens_at:%H:%M}"
        if self.opens_at.date() != person_now.date():
            return words.gettext("opens {day} {time} (your time)").format(
                day=weekday_abbreviation(self.opens_at, words), time=when
            )
        return words.gettext("opens {time} (your time)").format(time=when)


def weekday_abbreviation(moment: datetime, words: Words) -> str:
    """ "Mon", "lun", "Mo." for the catalog's language (CLDR via Babel)."""
    try:
        return format_date(moment, "EEE", locale=words.babel_locale)
    except (ValueError, UnknownLocaleError):
        return f"{moment:%a}"


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def person_zone(region: str | None, community: Community | None) -> ZoneInfo:
    """The person's time zone for this answer: the community's own where it is set and the
    region is the community's (or none was named), else the country's main zone."""
    own: ZoneInfo | None = None
    home: str | None = None
    if community is not None and community.timezone != "UTC":
        own, home = _zone(community.timezone), community.default_region
    if own is not None and (region is None or region == home):
        return own
    return _zone(region_timezone(region) if region else None) or own or ZoneInfo("UTC")


def open_state(resource: Resource, now: datetime, zone: ZoneInfo) -> OpenState:
    """Open now, closed (with the next opening in `zone`), or unknown when no hours are given.
    Hours are read in the resource's own time zone; none given means the person's local time
    (QLife's "3pm to midnight, local time")."""
    if resource.always_open:
        return OpenState(OpenNow.OPEN)
    if not resource.opening_hours:
        return OpenState(OpenNow.UNKNOWN)
    try:
        hours = parse_opening_hours(resource.opening_hours)
    except HoursError:
        return OpenState(OpenNow.UNKNOWN)
    own_zone = _zone(resource.timezone) or zone
    local = now.astimezone(own_zone)
    if hours.is_open(local):
        return OpenState(OpenNow.OPEN)
    opens = hours.next_opening(local)
    return OpenState(OpenNow.CLOSED, opens.astimezone(zone) if opens else None)


def _is_all_ages_crisis_line(resource: Resource) -> bool:
    return resource.crisis_service and resource.always_open and not resource.age_limited


def order_resources(
    resources: Sequence[Resource],
    topic: str,
    states: dict[str, OpenState],
    topical: frozenset[str],
) -> list[Resource]:
    """The ordering rule (see the module docstring), over resources already chosen."""

    def key(resource: Resource) -> tuple[int, int, bool, bool, int, str]:
        tier = 0 if topic != CRISIS_TOPIC or _is_all_ages_crisis_line(resource) else 1
        state = states.get(resource.key, OpenState(OpenNow.UNKNOWN)).now
        return (
            tier,
            int(state is OpenNow.CLOSED),
            resource.age_limited,
            resource.key not in topical,
            resource.rank,
            resource.title.casefold(),
        )

    return sorted(resources, key=key)


def with_helpline_directory(
    index: LibraryIndex, directories: tuple[Resource, ...]
) -> tuple[Resource, ...]:
    """The directories an answer without local services shows, with a helpline directory.

    A helpline directory is a worldwide resource the library offers for `crisis`: the way to
    find a line to call in any country. A directory of groups or a guide (ILGA World for
    coming-out) is not someone to talk to, so when none of the topic's directories is a
    helpline directory, the library's first one takes the last place.
    """
    shown = directories[:MAX_RESOURCES]
    if any(CRISIS_TOPIC in d.topics for d in shown):
        return shown
    helplines = index.directories_by_topic.get(CRISIS_TOPIC, ())
    if not helplines:
        return shown
    return (*shown[: MAX_RESOURCES - 1], helplines[0])


def pick_resources(
    index: LibraryIndex,
    topic: str,
    region: str | None,
    now: datetime,
    zone: ZoneInfo,
) -> tuple[tuple[Resource, ...], dict[str, OpenState]]:
    """The resources of one answer, in order, and whether each is open at `now`."""
    directories = index.directories_by_topic.get(topic, ())
    if not directories and topic != CRISIS_TOPIC:
        # An unrelated directory is still a way to find local groups; not for a crisis.
        directories = index.directories
    if region is None:
        # No country known: never present one country's numbers as universal.
        return with_helpline_directory(index, directories), {}
    topical = index.local.get((region, topic), ())
    crisis_lines = index.crisis_lines.get(region, ())
    candidates: list[Resource] = []
    safety: Resource | None = None
    if topic == CRISIS_TOPIC:
        # With no crisis line at all, peer lines are never offered alone: directories take
        # their place.
        if crisis_lines:
            candidates = [*crisis_lines, *(r for r in topical if not r.crisis_service)]
    else:
        candidates = list(topical)
        safety = next((r for r in crisis_lines if _is_all_ages_crisis_line(r)), None) or next(
            (r for r in crisis_lines if r.always_open), None
        )
        if safety is not None and all(r.key != safety.key for r in candidates):
            candidates.append(safety)
    if not candidates:
        # Nothing listed for this country: directories alone, as with no country known.
        return with_helpline_directory(index, directories), {}
    states = {r.key: open_state(r, now, zone) for r in candidates}
    ordered = order_resources(candidates, topic, states, frozenset(r.key for r in topical))
    # The region's own services first (room kept for one directory), then directories.
    result = ordered[: MAX_RESOURCES - 1]
    if safety is not None and safety not in result:
        # The safety net always keeps its place.
        result = order_resources(
            [*result[:-1], safety], topic, states, frozenset(r.key for r in topical)
        )
    keys = {r.key for r in result}
    result += [d for d in directories[:MAX_RESOURCES] if d.key not in keys]
    return tuple(result[:MAX_RESOURCES]), states
