"""Time-zone names: turn what a moderator types into a canonical IANA name, or suggest one.

`parse_timezone("europe/london")` -> "Europe/London"; "London", "new york", "UTC", "GMT" and
"Z" work too. An unknown name raises UnknownChoice with the closest zones first, so the answer
can say "did you mean Europe/London?". Everything here is pure: the zone list comes from
zoneinfo (the system database, or the tzdata package where there is none).
"""

from __future__ import annotations

import difflib
import functools
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import UnknownChoice

log = logging.getLogger(__name__)

# Short names people type for UTC. "GMT" maps to UTC rather than Europe/London on purpose:
# someone who writes GMT wants no daylight saving; London observes BST in summer.
_UTC_ALIASES = frozenset({"utc", "gmt", "z", "zulu", "etc/utc", "etc/gmt", "universal"})


@functools.cache
def _zone_index() -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    """(lower-case name -> name, lower-case city -> name, all names sorted)."""
    names = tuple(sorted(n for n in available_timezones() if n != "localtime"))
    by_lower = {n.lower(): n for n in names}
    # A city ("london", "new york", "sao paulo") names a zone when exactly one canonical
    # Area/City zone ends with it; legacy links ("US/Eastern", "GB") are not cities.
    cities: dict[str, list[str]] = {}
    for name in names:
        area, _, city = name.rpartition("/")
        if not area or area in {"Etc", "SystemV", "US", "Canada", "Mexico", "Brazil", "Chile"}:
            continue
        key = city.lower().replace("_", " ")
        cities.setdefault(key, []).append(name)
    by_city = {key: found[0] for key, found in cities.items() if len(found) == 1}
    return by_lower, by_city, names


def _lookup(name: str) -> str | None:
    by_lower, by_city, _ = _zone_index()
    key = " ".join(name.strip().lower().split())
    if key in _UTC_ALIASES:
        return "UTC"
    if key in by_lower:
        return by_lower[key]
    underscored = key.replace(" ", "_")
    if underscored in by_lower:
        return by_lower[underscored]
    city = key.replace("_", " ")
    return by_city.get(city)


def closest_timezones(name: str, limit: int = 8) -> list[str]:
    """Zones whose name or city looks like `name`, closest first."""
    by_lower, by_city, _ = _zone_index()
    key = " ".join(name.strip().lower().split())
    scored: dict[str, float] = {}
    for candidate, zone in (
        *((k, v) for k, v in by_lower.items()),
        *((k, v) for k, v in by_city.items()),
    ):
        ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
        if ratio >= 0.5 and ratio > scored.get(zone, 0.0):
            scored[zone] = ratio
        # "york" or "kolkata" typed alone: a city or name that contains it is a good guess.
        if len(key) >= 3 and key in candidate:
            scored[zone] = max(scored.get(zone, 0.0), 0.8)
    ranked = sorted(scored, key=lambda zone: (-scored[zone], zone))
    return ranked[:limit]


def parse_timezone(name: str) -> str:
    """Canonical IANA name (case-insensitive; UTC/GMT/Z and unique city names accepted) or
    UnknownChoice with the closest zones first."""
    found = _lookup(name)
    if found is not None:
        try:
            ZoneInfo(found)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unloadable
            found = None
        else:
            return found
    choices = closest_timezones(name)
    shown = name.strip() or "(empty)"
    if choices:
        hint = (
            f"Did you mean {choices[0]}? Closest: {', '.join(choices[:5])}. "
            "Use an IANA name like Europe/London, America/New_York or Asia/Kolkata."
        )
    else:
        hint = "Use an IANA name like Europe/London, America/New_York, Asia/Kolkata or UTC."
    raise UnknownChoice("time zone", shown, choices, hint=hint)


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a name parse_timezone accepts."""
    return ZoneInfo(parse_timezone(name))
