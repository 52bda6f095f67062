"""Time-zone names: turn what a moderator types into a canonical IANA name, or explain.

`resolve_timezone(text)` -> ResolvedZone(name, note): "europe/london" -> Europe/London; "London",
"new york", "UTC" and "Z" work too, and so do the names people say: GMT, BST, UK, England ->
Europe/London; EST/ET -> America/New_York, CST/CT -> America/Chicago, MST/MT -> America/Denver,
PST/PT -> America/Los_Angeles, CET/CEST -> Europe/Paris. Those come with a `note` that says which
zone was chosen and that it follows summer time, so an answer can tell the moderator.

Refused with an explanation (UnknownChoice):
- a fixed offset (UTC+3, GMT-5, +05:30): it does not follow summer time, so Haven suggests city
  zones at that offset and names the Etc/GMT-3 form for those who really want a fixed offset
  (Etc/ names invert the sign: UTC+3 is Etc/GMT-3, never Etc/GMT+3);
- IST and AST, which mean different places: the answer asks which;
- an unknown name: the closest zones first ("did you mean Europe/London?");
- anything over 64 characters, at once, before any fuzzy matching.

`parse_timezone(text) -> str` is resolve_timezone without the note. `stored_timezone(name)` re-reads
a name Haven stored (exact IANA names are kept as they are: a stored "EST" stays EST).
Everything here is pure: the zone list comes from zoneinfo (the system database, or the tzdata
package where there is none).
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import UnknownChoice

log = logging.getLogger(__name__)

# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia); 64 leaves room.
MAX_TIMEZONE_LENGTH = 64
_WHAT = "time zone"
_IANA_HINT = "Use an IANA name like Europe/London, America/New_York, Asia/Kolkata or UTC."

# Short names people type for UTC. GMT is not one of them: people who write GMT mostly mean
# the time in the UK, so it is taken as Europe/London, with a note that says so.
_UTC_ALIASES = frozenset({"utc", "z", "zulu", "etc/utc", "etc/gmt", "universal", "uct"})


@dataclass(frozen=True, slots=True)
class ResolvedZone:
    """A canonical IANA zone `name`, and a `note` for the person when Haven interpreted what
    they typed (GMT -> Europe/London, which follows summer time); None when it was exact."""

    name: str
    note: str | None = None


# ---- names people say ----------------------------------------------------------------------

_LONDON = "Europe/London"
_NEW_YORK = "America/New_York"
_CHICAGO = "America/Chicago"
_DENVER = "America/Denver"
_LOS_ANGELES = "America/Los_Angeles"
_PARIS = "Europe/Paris"

# What each zone does in summer, for the note.
_SUMMER = {
    _LONDON: "which follows summer time (BST) from March to October",
    _NEW_YORK: "which follows daylight saving time (EDT) from March to November",
    _CHICAGO: "which follows daylight saving time (CDT) from March to November",
    _DENVER: "which follows daylight saving time (MDT) from March to November",
    _LOS_ANGELES: "which follows daylight saving time (PDT) from March to November",
    "America/Anchorage": "which follows daylight saving time (AKDT) from March to November",
    "Pacific/Honolulu": "which stays on HST all year",
    _PARIS: "which follows summer time (CEST) from March to October",
}


def _all_year(offset: str, etc_name: str) -> str:
    return f" For {offset} all year, use {etc_name} (the sign is inverted in Etc/ names)."


# Typed name (lower case, single spaces) -> (zone, what to add after the summer-time sentence).
_SAID: dict[str, tuple[str, str]] = {
    "gmt": (_LONDON, " For GMT all year, use UTC."),
    "bst": (_LONDON, " (For Bangladesh Standard Time, use Asia/Dhaka.)"),
    "uk": (_LONDON, ""),
    "u.k.": (_LONDON, ""),
    "gb": (_LONDON, ""),
    "london": (_LONDON, ""),
    "britain": (_LONDON, ""),
    "great britain": (_LONDON, ""),
    "united kingdom": (_LONDON, ""),
    "england": (_LONDON, ""),
    "scotland": (_LONDON, ""),
    "wales": (_LONDON, ""),
    "northern ireland": (_LONDON, ""),
    "uk time": (_LONDON, ""),
    "british time": (_LONDON, ""),
    "est": (_NEW_YORK, _all_year("UTC-5", "Etc/GMT+5")),
    "edt": (_NEW_YORK, ""),
    "et": (_NEW_YORK, ""),
    "eastern": (_NEW_YORK, ""),
    "eastern time": (_NEW_YORK, ""),
    "us eastern": (_NEW_YORK, ""),
    "cst": (_CHICAGO, " (For China Standard Time, use Asia/Shanghai.)"),
    "cdt": (_CHICAGO, ""),
    "ct": (_CHICAGO, ""),
    "central time": (_CHICAGO, ""),
    "us central": (_CHICAGO, ""),
    "mst": (_DENVER, " Arizona stays on MST all year: use America/Phoenix there."),
    "mdt": (_DENVER, ""),
    "mt": (_DENVER, " Arizona stays on MST all year: use America/Phoenix there."),
    "mountain time": (_DENVER, ""),
    "us mountain": (_DENVER, ""),
    "pst": (_LOS_ANGELES, _all_year("UTC-8", "Etc/GMT+8")),
    "pdt": (_LOS_ANGELES, ""),
    "pt": (_LOS_ANGELES, ""),
    "pacific time": (_LOS_ANGELES, ""),
    "us pacific": (_LOS_ANGELES, ""),
    "akst": ("America/Anchorage", ""),
    "akdt": ("America/Anchorage", ""),
    "hst": ("Pacific/Honolulu", ""),
    "hawaii": ("Pacific/Honolulu", ""),
    "cet": (_PARIS, " Any city on CET, like Europe/Berlin, gives the same times."),
    "cest": (_PARIS, " Any city on CET, like Europe/Berlin, gives the same times."),
    "central european time": (_PARIS, ""),
}

# Abbreviations that name different places: ask. Choices in the order of the places' names.
_AMBIGUOUS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "ist": (
        "is used for India, Ireland and Israel",
        (("India", "Asia/Kolkata"), ("Ireland", "Europe/Dublin"), ("Israel", "Asia/Jerusalem")),
    ),
    "ast": (
        "is used for Arabia (Saudi Arabia, the Gulf) and Atlantic time (Canada, the Caribbean)",
        (("Arabia", "Asia/Riyadh"), ("Atlantic", "America/Halifax")),
    ),
}


def _display(key: str, typed: str) -> str:
    """How the typed name is quoted in the note: abbreviations in capitals, names as words."""
    if len(key) <= 4 and key.replace(".", "").isalpha():
        return key.upper()
    return " ".join(word[:1].upper() + word[1:] for word in typed.split())


def _said(key: str, typed: str) -> ResolvedZone | None:
    found = _SAID.get(key)
    if found is None:
        return None
    name, extra = found
    note = f"{_display(key, typed)} is taken as {name}, {_SUMMER[name]}.{extra}"
    return ResolvedZone(name, note)


# ---- fixed offsets -------------------------------------------------------------------------

_OFFSET_RE = re.compile(r"^(?:(?:utc|gmt|z)\s*)?([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?$")

# Well-known city zones, offered first for an offset (any other zone at that offset follows,
# alphabetically). Only the order is curated: offsets come from zoneinfo.
_WELL_KNOWN = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Africa/Lagos",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Kyiv",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Asia/Jerusalem",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Riyadh",
    "Africa/Nairobi",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Kabul",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Australia/Perth",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Pacific/Auckland",
    "Pacific/Fiji",
    "Pacific/Tongatapu",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Bogota",
    "America/Lima",
    "America/Halifax",
    "America/Caracas",
    "America/Santiago",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Atlantic/Azores",
    "Atlantic/Cape_Verde",
)
_NOT_PLACES = frozenset({"Etc", "SystemV", "US", "Canada", "Mexico", "Brazil", "Chile"})


@functools.cache
def _links() -> frozenset[str]:
    """Names that are only links to another zone (Asia/Calcutta, Africa/Asmera), read from the
    database's tzdata.zi: offered offsets list canonical zones only. Empty if it is missing."""
    sources: list[Path] = [Path(folder) / "tzdata.zi" for folder in TZPATH]
    try:
        package = importlib.resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi")
        sources.insert(0, Path(str(package)))
    except ModuleNotFoundError:  # pragma: no cover - tzdata is a dependency
        pass
    for source in sources:
        try:
            text = source.read_text(encoding="utf-8")
        except OSError:
            continue
        return frozenset(line.split()[2] for line in text.splitlines() if line.startswith("L "))
    return frozenset()  # pragma: no cover - no database text anywhere


def _minutes(instant: datetime, zone: ZoneInfo) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


@functools.cache
def _offsets(year: int) -> dict[str, tuple[int, int]]:
    """Place zone -> (standard, summer) offset in minutes for `year` (the same when a zone
    has no summer time)."""
    _, _, names = _zone_index()
    links = _links()
    winter, summer = datetime(year, 1, 15, tzinfo=UTC), datetime(year, 7, 15, tzinfo=UTC)
    table: dict[str, tuple[int, int]] = {}
    for name in names:
        area = name.partition("/")[0]
        if "/" not in name or area in _NOT_PLACES or name in links:
            continue
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unloadable
            continue
        first, second = _minutes(winter, zone), _minutes(summer, zone)
        table[name] = (min(first, second), max(first, second))
    return table


def _format_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zones_at_offset(minutes: int, limit: int = 8) -> list[str]:
    """City zones whose clocks are at UTC+`minutes` (standard time first, then those that are
    there in summer), well-known cities first, then alphabetical."""
    table = _offsets(datetime.now(UTC).year)
    rank = {name: position for position, name in enumerate(_WELL_KNOWN)}
    found = [
        (0 if standard == minutes else 1, rank.get(name, len(rank)), name)
        for name, (standard, summer) in table.items()
        if minutes in (standard, summer)
    ]
    return [name for _, _, name in sorted(found)[:limit]]


def _offset_label(name: str) -> str:
    standard, summer = _offsets(datetime.now(UTC).year).get(name, (0, 0))
    label = f"{name}, {_format_offset(standard)}"
    return label + (f", summer {_format_offset(summer)}" if summer != standard else "")


def _parse_offset(key: str) -> int | None:
    """Minutes east of UTC for `UTC+3`, `gmt-5`, `+05:30`, `UTC +0530`; None if not an offset."""
    found = _OFFSET_RE.match(key)
    if not found:
        return None
    sign, hours, minutes = found.group(1), int(found.group(2)), int(found.group(3) or 0)
    total = hours * 60 + minutes
    if minutes >= 60:
        return 99 * 60  # out of range: refused below with the real range
    return -total if sign in "-−" else total


def _resolve_offset(typed: str, minutes: int) -> ResolvedZone:
    shown = _format_offset(minutes)
    if minutes == 0:
        return ResolvedZone(
            "UTC",
            f"{typed} is taken as UTC, which does not change for summer time. In the UK, use "
            "Europe/London to follow BST.",
        )
    if not -12 * 60 <= minutes <= 14 * 60:
        raise UnknownChoice(
            _WHAT,
            typed,
            (),
            "UTC offsets run from UTC-12 to UTC+14. " + _IANA_HINT,
            problem=f"time zone '{typed}' is not a real UTC offset.",
        )
    choices = zones_at_offset(minutes)
    advice = (
        f"A fixed offset does not follow summer time, so posts would move by an hour for "
        f"people whose clocks change. Use the zone of a city at {shown} instead."
    )
    hours, rest = divmod(abs(minutes), 60)
    if rest:
        advice += f" There is no fixed-offset IANA name for {shown}."
    else:
        # Etc/ names count the other way: UTC+3 is Etc/GMT-3.
        etc_name = f"Etc/GMT{'-' if minutes > 0 else '+'}{hours}"
        advice += (
            f" If you really want {shown} all year, its IANA name is {etc_name} "
            "(the sign is inverted in Etc/ names)."
        )
    raise UnknownChoice(
        _WHAT,
        typed,
        choices,
        advice,
        problem=f"time zone '{typed}' is a fixed offset ({shown}), not a place.",
        labels={name: _offset_label(name) for name in choices},
    )


# ---- the zone database -----------------------------------------------------------------------


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
        if not area or area in _NOT_PLACES:
            continue
        key = city.lower().replace("_", " ")
        cities.setdefault(key, []).append(name)
    by_city = {key: found[0] for key, found in cities.items() if len(found) == 1}
    return by_lower, by_city, names


def _key(name: str) -> str:
    return " ".join(name.strip().lower().split())


def _lookup(key: str) -> str | None:
    by_lower, by_city, _ = _zone_index()
    if key in _UTC_ALIASES:
        return "UTC"
    if key in by_lower:
        return by_lower[key]
    underscored = key.replace(" ", "_")
    if underscored in by_lower:
        return by_lower[underscored]
    city = key.replace("_", " ")
    return by_city.get(city)


# Offered before anything is typed (autocomplete, Slack's zone menu): where most communities are.
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def suggest_timezones(typed: str, limit: int) -> list[str]:
    """Zones to offer while someone types: the common ones before anything is typed."""
    return closest_timezones(typed, limit) if typed.strip() else list(COMMON_TIMEZONES[:limit])


def closest_timezones(name: str, limit: int = 8) -> list[str]:
    """Zones whose name or city looks like `name`, closest first (ties alphabetical). What
    people say counts: "BST" gives Europe/London first, "UTC+3" the cities at UTC+3, "IST" the
    three zones it can mean. For autocomplete too: over-long text gives [] at once."""
    if len(name) > MAX_TIMEZONE_LENGTH and len(name.strip()) > MAX_TIMEZONE_LENGTH:
        return []
    by_lower, by_city, _ = _zone_index()
    key = _key(name)
    if not key or limit <= 0:
        return []
    first: list[str] = []
    if key in _SAID:
        first.append(_SAID[key][0])
    if key in _AMBIGUOUS:
        first.extend(zone for _, zone in _AMBIGUOUS[key][1])
    offset = _parse_offset(key)
    if offset is not None:
        first.extend(["UTC"] if offset == 0 else zones_at_offset(offset, limit))
    scored: dict[str, float] = {}
    for candidate, zone in (*by_lower.items(), *by_city.items()):
        ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
        if ratio >= 0.5 and ratio > scored.get(zone, 0.0):
            scored[zone] = ratio
        # "york" or "kolkata" typed alone: a city or name that contains it is a good guess.
        if len(key) >= 3 and key in candidate:
            scored[zone] = max(scored.get(zone, 0.0), 0.8)
    ranked = sorted(scored, key=lambda zone: (-scored[zone], zone))
    return list(dict.fromkeys([*first, *ranked]))[:limit]


def resolve_timezone(text: str) -> ResolvedZone:
    """The canonical IANA zone for what a person typed, with a note when Haven interpreted it.

    Raises UnknownChoice (a ValidationFailed) for a fixed offset, an ambiguous abbreviation, an
    unknown or an over-long name, with the closest zones first and a hint that says what to type.
    """
    typed = text.strip()
    if len(typed) > MAX_TIMEZONE_LENGTH:
        raise UnknownChoice.too_long(_WHAT, typed, MAX_TIMEZONE_LENGTH, _IANA_HINT)
    key = _key(typed)
    if key in _AMBIGUOUS:
        used_for, places = _AMBIGUOUS[key]
        raise UnknownChoice(
            _WHAT,
            typed,
            [zone for _, zone in places],
            "Which did you mean? "
            + "; ".join(f"{place}: {zone}" for place, zone in places)
            + ". Or type the city, like Kolkata or Dublin.",
            problem=f"time zone '{typed}' {used_for}.",
            labels={zone: f"{place} ({zone})" for place, zone in places},
            suggest=False,
        )
    said = _said(key, typed)
    if said is not None:
        return said
    offset = _parse_offset(key)
    if offset is not None:
        return _resolve_offset(typed, offset)
    found = _lookup(key)
    if found is not None:
        try:
            ZoneInfo(found)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unloadable
            pass
        else:
            return ResolvedZone(found)
    choices = closest_timezones(typed) if key else []
    raise UnknownChoice(
        _WHAT,
        typed or "(empty)",
        choices,
        "Use an IANA name like Europe/London, America/New_York or Asia/Kolkata."
        if choices
        else _IANA_HINT,
    )


def parse_timezone(name: str) -> str:
    """Canonical IANA name for what a person typed (see resolve_timezone), or UnknownChoice
    with the closest zones first."""
    return resolve_timezone(name).name


def stored_timezone(name: str) -> str:
    """A zone name Haven stored: kept exactly when zoneinfo knows it (a stored "EST" is the
    fixed EST zone it was when accepted, not America/New_York), else read as typed input."""
    if name in _zone_names():
        return name
    return parse_timezone(name)


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(_zone_index()[2])


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a name parse_timezone accepts."""
    return ZoneInfo(parse_timezone(name))
