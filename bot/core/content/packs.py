"""Content packs: read and check a YAML or JSON pack, turn it into library changes, export, diff.

A pack is how Haven ships its default messages and helplines, and how moderators move a library
between communities. People in distress act on what a pack says, so the checker is strict: every
problem is reported at once, with the place it is (`resources[3].url`, line 120) and a sentence
that says how to fix it, and any error makes the whole pack unusable. Warnings (a resource not
checked for a year) do not block a pack. Field checks reuse bot.core.content.validation, so a
pack is held to exactly the limits a moderator's command is.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.core.content import phones, translations, validation
from bot.core.content.audience import AGES_HINT, ages_text, parse_ages
from bot.core.content.hours import HoursError, parse_opening_hours
from bot.core.content.regions import is_region_code, normalise_region, region_name
from bot.core.content.staleness import STALE_AFTER_MONTHS, months_before
from bot.core.errors import UnknownChoice, ValidationFailed
from bot.core.models import (
    DEFAULT_RANK,
    GLOBAL_REGION,
    MAX_RANK,
    Audience,
    Contact,
    ContactKind,
    EmergencyNumber,
    Resource,
    SupportMessage,
    Topic,
)
from bot.core.ports import Library, LibraryChanges
from bot.core.scheduling.timezones import parse_timezone

log = logging.getLogger(__name__)

SUPPORTED_SCHEMA_VERSIONS = (1,)
# A real pack is tens of kilobytes; the cap keeps a hostile upload from costing memory or time.
MAX_PACK_BYTES = 2_000_000
# Shown in front of every reply; it must stay short enough to sit above the message.
MAX_DISCLAIMER_LENGTH = validation.MAX_DESCRIPTION_LENGTH
MAX_NOTES_LENGTH = validation.MAX_MESSAGE_LENGTH

Severity = Literal["error", "warning"]
PackFormat = Literal["yaml", "json"]

_STATUS_VERIFIED = "verified"
_STATUS_NEEDS_REVIEW = "needs_review"
_STATUSES = (_STATUS_VERIFIED, _STATUS_NEEDS_REVIEW)
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_EMERGENCY_RE = re.compile(r"^[0-9]{2,6}( (or|/) [0-9]{2,6})*$")

_TOP_LEVEL_KEYS = ("schema_version", "pack", "topics", "emergency_numbers", "messages", "resources")
_PACK_KEYS = ("id", "locale", "version", "last_reviewed", "disclaimer", "translated_by")
_TOPIC_KEYS = ("slug", "label", "description")
_EMERGENCY_KEYS = ("region", "number", "status")
_MESSAGE_KEYS = ("key", "topics", "locale", "text", "audience", "enabled", "translations")
_RESOURCE_KEYS = (
    "key",
    "title",
    "url",
    "description",
    "regions",
    "topics",
    "crisis_service",
    "always_open",
    "hours",
    "opening_hours",
    "timezone",
    "rank",
    "audience",
    "ages",
    "contacts",
    "source_url",
    "last_verified",
    "status",
    "notes_for_mods",
    "enabled",
    "translations",
)
_CONTACT_KEYS = ("kind", "display", "e164")

# Numbers that were replaced and must never reach anyone, with what replaced them. The checker
# refuses them in any contact, description or note, in any spacing (digits are compared).
SUPERSEDED_NUMBERS: tuple[tuple[str, str], ...] = (
    ("0300 330 0630", "Switchboard LGBT+ moved to a free 0800 number in March 2023"),
    ("0330 330 0630", "a misprint of Switchboard's old number; it moved to 0800 in 2023"),
    ("1890 929 539", "LGBT Ireland's old number; it is now an 1800 number"),
    ("020 7704 2040", "Galop's old hate-crime line; use its national helpline"),
    ("0800 130 3335", "Galop's old conversion-therapy line; use its national helpline"),
    ("1-800-273-8255", "the US Lifeline's old number; it is 988 since July 2022"),
)
_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{4,}\d")


def superseded_in(text: str) -> list[tuple[str, str]]:
    """Every superseded number written in `text`, whatever its spacing."""
    runs = {re.sub(r"\D", "", found) for found in _PHONE_LIKE.findall(text)}
    # Without the trunk 0 the national digits also match the E.164 form (+44 300 ...).
    return [
        (number, why)
        for number, why in SUPERSEDED_NUMBERS
        if any(re.sub(r"\D", "", number).lstrip("0") in run for run in runs)
    ]


@dataclass(frozen=True, slots=True)
class PackProblem:
    """One thing wrong with a pack. `place` is a path into the pack (`resources[3].url`);
    `line` and `column` (1-based) are given where the file format can tell them."""

    place: str
    message: str
    severity: Severity = "error"
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.place
        if self.line is not None:
            where = f"{where} (line {self.line})" if where else f"line {self.line}"
        return (
            f"{self.severity}: {where}: {self.message}"
            if where
            else (f"{self.severity}: {self.message}")
        )


@dataclass(frozen=True, slots=True)
class ParsedPack:
    """A pack that passed every check, as domain values ready to import."""

    pack_id: str
    version: str
    locale: str
    disclaimer: str
    topics: tuple[Topic, ...]
    messages: tuple[SupportMessage, ...]
    resources: tuple[Resource, ...]
    emergency_numbers: tuple[EmergencyNumber, ...]
    last_reviewed: date | None = None
    # (resource key, note) for moderators: why an entry needs review, what to re-check.
    notes_for_mods: tuple[tuple[str, str], ...] = ()

    def note_for(self, resource_key: str) -> str:
        return dict(self.notes_for_mods).get(resource_key, "")

    def covered_regions(self) -> frozenset[str]:
        """Country codes that have at least one visible resource (not `global`)."""
        return frozenset(
            region
            for resource in self.resources
            if resource.visible
            for region in resource.regions
            if region != GLOBAL_REGION
        )


def errors_in(problems: Iterable[PackProblem]) -> list[PackProblem]:
    return [p for p in problems if p.severity == "error"]


# --- Reading YAML and JSON -------------------------------------------------------------------


class _PackLoader(yaml.SafeLoader):
    """SafeLoader with three changes that matter for packs.

    - Duplicate keys in one mapping are refused: PyYAML would silently keep the last one, so a
      second `url:` pasted under a helpline would replace the first without anyone noticing.
    - Only `true`/`false` are booleans. YAML 1.1 also reads yes/no/on/off as booleans, which
      turns Norway's region code `NO` into False.
    - An impossible date (`2026-13-45`) stays text so the checker can say what is wrong, where
      PyYAML would raise a bare ValueError.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found duplicate key '{key_node.value}'",
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)

    def construct_date_or_text(self, node: yaml.ScalarNode) -> object:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_PackLoader.add_constructor("tag:yaml.org,2002:timestamp", _PackLoader.construct_date_or_text)
# Rebuild the implicit resolvers without YAML 1.1's yes/no/on/off booleans.
_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PackLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _child(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _walk_nodes(
    root: yaml.Node,
) -> tuple[dict[str, tuple[int, int]], list[PackProblem]]:
    """Line and column of every path in the document, and every duplicate mapping key.

    Walking the composed nodes (before building Python values) lets every duplicate be
    reported with its path and both line numbers, not just the first one PyYAML meets."""
    positions: dict[str, tuple[int, int]] = {"": (1, 1)}
    duplicates: list[PackProblem] = []
    visited: set[int] = set()  # aliases can repeat a node (or loop); walk each once
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                child = _child(path, key)
                if key in first_seen:
                    duplicates.append(
                        PackProblem(
                            child,
                            f"duplicate key '{key}': it is also on line {first_seen[key]}; "
                            "keep one of them.",
                            line=line,
                            column=key_node.start_mark.column + 1,
                        )
                    )
                    continue
                first_seen[key] = line
                positions.setdefault(child, (line, key_node.start_mark.column + 1))
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{path}[{index}]"
                positions.setdefault(child, (item.start_mark.line + 1, item.start_mark.column + 1))
                stack.append((item, child))
    duplicates.sort(key=lambda p: (p.line or 0, p.column or 0))
    return positions, duplicates


def _load_yaml(text: str) -> tuple[object, dict[str, tuple[int, int]], list[PackProblem]]:
    loader: _PackLoader | None = None
    try:
        loader = _PackLoader(text)  # the reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        positions, duplicates = _walk_nodes(node)
        if duplicates:
            return None, positions, duplicates
        return loader.construct_document(node), positions, []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return (
            None,
            {},
            [
                PackProblem(
                    "",
                    f"Not valid YAML: {what or 'syntax error'}. Check the indentation and "
                    "quotes on this line and the one before it.",
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ],
        )
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        return (
            None,
            {},
            [
                PackProblem(
                    "",
                    f"Not valid YAML: character U+{exc.character:04X} is not allowed in a pack; "
                    "remove it.",
                    line=line,
                )
            ],
        )
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return None, {}, [PackProblem("", f"Not valid YAML: {exc}.")]
    finally:
        if loader is not None:
            loader.dispose()


def _load_json(text: str) -> tuple[object, list[PackProblem]]:
    repeated: list[tuple[dict[str, object], str]] = []

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        result: dict[str, object] = {}
        for key, value in pairs:
            if key in result:
                repeated.append((result, key))
            result[key] = value
        return result

    def no_constants(name: str) -> object:
        raise ValueError(f"{name} is not allowed in a pack")

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        return None, [
            PackProblem("", f"Not valid JSON: {exc.msg}.", line=exc.lineno, column=exc.colno)
        ]
    except (ValueError, RecursionError) as exc:
        return None, [PackProblem("", f"Not valid JSON: {exc}.")]
    if not repeated:
        return data, []
    # The hook cannot know where an object sits; find each one's path in the finished tree.
    paths: dict[int, str] = {}
    stack: list[tuple[object, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            paths[id(value)] = path
            stack.extend((item, _child(path, key)) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return None, [
        PackProblem(
            _child(paths.get(id(obj), ""), key),
            f"duplicate key '{key}' in the same object; keep one of them.",
        )
        for obj, key in repeated
    ]


# --- Checking ---------------------------------------------------------------------------------


# Hours that say "around the clock". Anything else beside always_open: true is suspicious:
# lists that still called Trans Lifeline 24/7 years after it cut its hours are the reason.
_ROUND_THE_CLOCK = re.compile(
    r"24\s*/\s*7|24 hours|any time|anytime|day or night|around the clock|round the clock", re.I
)


class _Checker:
    """Walks the loaded data, collecting every problem with its place and line."""

    def __init__(self, positions: Mapping[str, tuple[int, int]], today: date) -> None:
        self.positions = positions
        self.today = today
        self.problems: list[PackProblem] = []

    # Reporting

    def _position(self, place: str) -> tuple[int | None, int | None]:
        # A missing field has no line of its own: use the nearest enclosing item.
        candidate = place
        while candidate:
            if candidate in self.positions:
                return self.positions[candidate]
            cut = max(candidate.rfind("."), candidate.rfind("["))
            candidate = candidate[:cut] if cut > 0 else ""
        return (None, None)

    def error(self, place: str, message: str) -> None:
        line, column = self._position(place)
        self.problems.append(PackProblem(place, message, "error", line, column))

    def warn(self, place: str, message: str) -> None:
        line, column = self._position(place)
        self.problems.append(PackProblem(place, message, "warning", line, column))

    def add_all(self, place: str, sentences: Iterable[str]) -> None:
        """Problems from validation come as `field: sentence`; keep the sentence."""
        for sentence in sentences:
            self.error(place, sentence.removeprefix(f"{place}: "))

    # Shapes

    def mapping(
        self, value: object, place: str, allowed: Sequence[str]
    ) -> Mapping[str, object] | None:
        if not isinstance(value, dict):
            what = "must" if place else "The pack must"
            self.error(place, f"{what} be a mapping of fields ({', '.join(allowed[:4])}, ...).")
            return None
        for key in value:
            if str(key) not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                self.error(
                    _child(place, key),
                    f"is not a field Haven knows here.{hint} Fields: {', '.join(allowed)}.",
                )
        return value

    def items(self, data: Mapping[str, object], key: str, place: str) -> Iterator[tuple[int, str]]:
        """Indexes and places of a list field; a missing list is empty."""
        value = data.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            self.error(place, "must be a list (each entry starting with '- ').")
            return
        for index in range(len(value)):
            yield index, f"{place}[{index}]"

    def text(
        self,
        data: Mapping[str, object],
        key: str,
        place: str,
        *,
        max_length: int,
        required: bool = True,
        allow_newlines: bool = False,
    ) -> str:
        value = data.get(key)
        place = _child(place, key)
        if value is None:
            if required:
                self.error(place, "is missing.")
            return ""
        if not isinstance(value, str):
            shown = "yes/no" if isinstance(value, bool) else type(value).__name__
            self.error(
                place,
                f'must be text, not {shown}; put it in quotes ("..."), '
                'which also keeps leading zeros like "000".',
            )
            return ""
        self.add_all(
            place,
            validation.check_text(
                place,
                value,
                max_length=max_length,
                required=required,
                allow_newlines=allow_newlines,
            ),
        )
        return value.strip()

    def flag(self, data: Mapping[str, object], key: str, place: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error(_child(place, key), "must be true or false.")
            return default
        return value

    def day(self, data: Mapping[str, object], key: str, place: str) -> date | None:
        value = data.get(key)
        place = _child(place, key)
        if value is None:
            return None
        if isinstance(value, datetime):
            self.error(place, "must be a date like 2026-11-28, without a time.")
            return None
        if isinstance(value, date):
            parsed = value
        else:
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                    raise ValueError(value)
                parsed = date.fromisoformat(str(value))
            except ValueError:
                self.error(place, f"'{value}' is not a date; write it like 2026-11-28.")
                return None
        if parsed > self.today:
            self.warn(place, f"{parsed.isoformat()} is in the future; is the year right?")
        return parsed

    def key(self, data: Mapping[str, object], name: str, place: str) -> str:
        value = self.text(data, name, place, max_length=validation.MAX_KEY_LENGTH)
        if value:
            self.add_all(_child(place, name), validation.check_key(_child(place, name), value))
        return value

    def url(self, data: Mapping[str, object], name: str, place: str, *, required: bool) -> str:
        value = data.get(name)
        place = _child(place, name)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.error(
                place,
                "is missing; give the https:// address."
                if value is None
                else "must be text (an https:// address).",
            )
            return ""
        self.add_all(place, validation.check_url(place, value))
        return value.strip()

    def string_list(self, data: Mapping[str, object], key: str, place: str) -> list[str]:
        value = data.get(key)
        place = _child(place, key)
        if value is None:
            self.error(place, "is missing; give a list like [general].")
            return []
        if isinstance(value, str):
            value = [value]  # `topics: crisis` is a natural way to write a list of one
        if not isinstance(value, list) or not value:
            self.error(place, "must be a non-empty list, like [general].")
            return []
        result: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                shown = "yes/no" if isinstance(item, bool) else type(item).__name__
                self.error(f"{place}[{index}]", f"must be text, not {shown}.")
                continue
            result.append(item.strip())
        return result

    def status(self, data: Mapping[str, object], place: str, *, required: bool) -> bool:
        """True when the entry needs review."""
        value = data.get("status")
        place = _child(place, "status")
        if value is None:
            if required:
                self.error(place, "is missing; write verified or needs_review.")
            return not required
        if value not in _STATUSES:
            self.error(place, f"'{value}' must be verified or needs_review.")
            return True
        return value == _STATUS_NEEDS_REVIEW

    def region(self, value: str, place: str, *, allow_global: bool) -> bool:
        if is_region_code(value) or (allow_global and value == GLOBAL_REGION):
            return True
        try:
            suggestion = normalise_region(value)
        except UnknownChoice as exc:
            shown = ", ".join(f"{c} ({region_name(c)})" for c in exc.choices[:3])
            close = f" Closest: {shown}." if shown else ""
            self.error(
                place,
                f"'{value}' is not an ISO 3166-1 country code.{close} "
                "Use two capital letters, like GB or NZ"
                + (", or global for worldwide resources." if allow_global else "."),
            )
            return False
        self.error(
            place,
            f"'{value}' is not an ISO 3166-1 code; write {suggestion} ({region_name(suggestion)}).",
        )
        return False


def _check_contact(
    checker: _Checker, value: object, place: str, regions: Sequence[str]
) -> Contact | None:
    data = checker.mapping(value, place, _CONTACT_KEYS)
    if data is None:
        return None
    kind_value = data.get("kind")
    kinds = ", ".join(kind.value for kind in ContactKind)
    kind: ContactKind | None = None
    if kind_value is None:
        checker.error(_child(place, "kind"), f"is missing; use one of {kinds}.")
    else:
        try:
            kind = ContactKind(str(kind_value))
        except ValueError:
            checker.error(_child(place, "kind"), f"'{kind_value}' must be one of {kinds}.")
    display = checker.text(data, "display", place, max_length=validation.MAX_CONTACT_LENGTH)
    e164_value = data.get("e164")
    given: str | None = None
    e164_place = _child(place, "e164")
    if e164_value not in (None, ""):
        if not isinstance(e164_value, str):
            checker.error(e164_place, 'must be text in quotes, like "+448000119100".')
        elif kind in (ContactKind.CHAT, ContactKind.EMAIL):
            checker.error(e164_place, f"only phone and text contacts have a number, not {kind}.")
        else:
            problems = validation.check_e164(e164_place, e164_value)
            checker.add_all(e164_place, problems)
            if not problems:
                given = e164_value
    if kind is None or not display:
        return None
    e164 = _contact_number(checker, kind, display, given, regions, place)
    return Contact(kind=kind, display=display, e164=e164)


def _contact_number(
    checker: _Checker,
    kind: ContactKind,
    display: str,
    given: str | None,
    regions: Sequence[str],
    place: str,
) -> str | None:
    """The number behind a phone or text contact, by the one phone rule (phones.py): read from
    the display in the resource's region and, where the pack also gives `e164`, the two must
    agree digit for digit. A phone's number is filled in when the pack leaves it out."""
    e164_place = _child(place, "e164")
    if kind is ContactKind.PHONE:
        try:
            phone = phones.read_phone(display, regions)
        except phones.PhoneRefused as refused:
            checker.error(_child(place, "display"), str(refused))
            return None
        if phone is None:
            # A worldwide resource's national number is shown as text; a given e164 is only
            # checked for being a real number.
            return _checked_e164(checker, given, e164_place)
        if given is None:
            return phone.e164
        checked = _checked_e164(checker, given, e164_place)
        if checked is not None and checked != phone.e164:
            checker.error(
                e164_place,
                f"'{given}' does not match the number shown ('{display}', which is "
                f"{phone.e164}); check every digit.",
            )
        return phone.e164 if checked == phone.e164 else None
    # A text contact's display is often words around a short code ("Text SHOUT to 85258"): only
    # a given number is checked, against the display where the display reads as one.
    checked = _checked_e164(checker, given, e164_place)
    if checked is None:
        return None
    try:
        shown = phones.read_phone(display, regions)
    except phones.PhoneRefused:
        shown = None
    if shown is not None and shown.e164 != checked:
        checker.error(
            e164_place,
            f"'{given}' does not match the number shown ('{display}', which is {shown.e164}); "
            "check every digit.",
        )
        return None
    return checked


def _checked_e164(checker: _Checker, given: str | None, e164_place: str) -> str | None:
    if given is None:
        return None
    try:
        return phones.read_e164(given).e164
    except phones.PhoneRefused as refused:
        checker.error(e164_place, str(refused))
        return None


def _check(
    data: object, positions: Mapping[str, tuple[int, int]], today: date
) -> tuple[ParsedPack | None, list[PackProblem]]:
    checker = _Checker(positions, today)
    root = checker.mapping(data, "", _TOP_LEVEL_KEYS) if data is not None else None
    if data is None:
        checker.error("", "The pack is empty; a pack starts with `schema_version: 1`.")
    if root is None:
        return None, checker.problems

    supported = ", ".join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)
    schema = root.get("schema_version")
    if schema is None:
        checker.error("schema_version", f"is missing; this Haven reads schema_version {supported}.")
        return None, checker.problems
    if isinstance(schema, str) and schema.strip().isdecimal():
        checker.error("schema_version", f"must be a number without quotes, like {supported}.")
        return None, checker.problems
    if isinstance(schema, bool) or schema not in SUPPORTED_SCHEMA_VERSIONS:
        checker.error(
            "schema_version",
            f"{schema!r} is not supported; this Haven reads schema_version {supported}. "
            "Export the pack again from a matching Haven, or upgrade Haven.",
        )
        return None, checker.problems

    # pack: id, version, locale, disclaimer, last_reviewed
    pack_id = version = disclaimer = ""
    locale = "en"
    last_reviewed: date | None = None
    marks: dict[str, str] = {}
    header = root.get("pack")
    if header is None:
        checker.error("pack", "is missing; give id, version, locale and disclaimer.")
    elif (meta := checker.mapping(header, "pack", _PACK_KEYS)) is not None:
        pack_id = checker.key(meta, "id", "pack")
        version = checker.text(meta, "version", "pack", max_length=validation.MAX_KEY_LENGTH)
        locale = checker.text(meta, "locale", "pack", max_length=16) or "en"
        if not _LOCALE_RE.match(locale):
            checker.error("pack.locale", f"'{locale}' is not a language code like en or en-GB.")
        disclaimer = checker.text(
            meta, "disclaimer", "pack", max_length=MAX_DISCLAIMER_LENGTH, allow_newlines=True
        )
        last_reviewed = checker.day(meta, "last_reviewed", "pack")
        marks = translations.read_marks(checker, meta.get("translated_by"), "pack.translated_by")

    topics, slugs = _check_topics(checker, root)
    emergency = _check_emergency(checker, root)
    messages = _check_messages(checker, root, slugs, locale, marks)
    resources, notes = _check_resources(checker, root, slugs, locale, marks)

    if errors_in(checker.problems):
        return None, checker.problems
    return (
        ParsedPack(
            pack_id=pack_id,
            version=version,
            locale=locale,
            disclaimer=disclaimer,
            topics=tuple(topics),
            messages=tuple(messages),
            resources=tuple(resources),
            emergency_numbers=tuple(emergency),
            last_reviewed=last_reviewed,
            notes_for_mods=tuple(notes),
        ),
        checker.problems,
    )


def _check_unique(
    checker: _Checker, seen: dict[str, str], value: str, place: str, what: str
) -> None:
    if not value:
        return
    if value in seen:
        checker.error(place, f"duplicate {what} '{value}': {seen[value]} has it already.")
    else:
        seen[value] = place.rsplit(".", 1)[0]


def _check_topic_refs(
    checker: _Checker, refs: Iterable[str], place: str, slugs: set[str]
) -> tuple[str, ...]:
    result: list[str] = []
    for index, slug in enumerate(refs):
        if slug not in slugs:
            known = ", ".join(sorted(slugs)) or "none defined"
            checker.error(
                f"{place}[{index}]",
                f"unknown topic '{slug}'; add it under topics: or use one of {known}.",
            )
        elif slug not in result:
            result.append(slug)
    return tuple(result)


def _check_topics(checker: _Checker, root: Mapping[str, object]) -> tuple[list[Topic], set[str]]:
    """The topics, and every slug declared (even on a topic with other errors, so one missing
    label does not turn every message that uses the topic into an error too)."""
    if "topics" not in root:
        checker.error("topics", "is missing; list at least one topic (slug, label, description).")
        return [], set()
    topics: list[Topic] = []
    seen: dict[str, str] = {}
    for index, place in checker.items(root, "topics", "topics"):
        entry = checker.mapping(_item(root, "topics", index), place, _TOPIC_KEYS)
        if entry is None:
            continue
        slug = checker.key(entry, "slug", place)
        _check_unique(checker, seen, slug, _child(place, "slug"), "topic")
        label = checker.text(entry, "label", place, max_length=validation.MAX_TITLE_LENGTH)
        description = checker.text(
            entry,
            "description",
            place,
            max_length=validation.MAX_DESCRIPTION_LENGTH,
            required=False,
        )
        if slug and label:
            topics.append(Topic(slug=slug, label=label, description=description))
    return topics, set(seen)


def _check_emergency(checker: _Checker, root: Mapping[str, object]) -> list[EmergencyNumber]:
    numbers: list[EmergencyNumber] = []
    seen: dict[str, str] = {}
    for index, place in checker.items(root, "emergency_numbers", "emergency_numbers"):
        entry = checker.mapping(_item(root, "emergency_numbers", index), place, _EMERGENCY_KEYS)
        if entry is None:
            continue
        region = checker.text(entry, "region", place, max_length=16)
        if region and not checker.region(region, _child(place, "region"), allow_global=False):
            region = ""
        _check_unique(checker, seen, region, _child(place, "region"), "emergency region")
        number = checker.text(entry, "number", place, max_length=30)
        if number and not _EMERGENCY_RE.match(number):
            checker.error(
                _child(place, "number"),
                f'\'{number}\' must be the digits people dial, like "999" or "112 or 999".',
            )
            number = ""
        needs_review = checker.status(entry, place, required=True)
        if region and number:
            numbers.append(EmergencyNumber(region, number, needs_review=needs_review))
    return numbers


def _check_messages(
    checker: _Checker,
    root: Mapping[str, object],
    slugs: set[str],
    pack_locale: str,
    marks: Mapping[str, str],
) -> list[SupportMessage]:
    messages: list[SupportMessage] = []
    seen: dict[str, str] = {}
    for index, place in checker.items(root, "messages", "messages"):
        entry = checker.mapping(_item(root, "messages", index), place, _MESSAGE_KEYS)
        if entry is None:
            continue
        key = checker.key(entry, "key", place)
        _check_unique(checker, seen, key, _child(place, "key"), "message key")
        text = checker.text(
            entry, "text", place, max_length=validation.MAX_MESSAGE_LENGTH, allow_newlines=True
        )
        topics = _check_topic_refs(
            checker, checker.string_list(entry, "topics", place), _child(place, "topics"), slugs
        )
        locale = checker.text(entry, "locale", place, max_length=16, required=False)
        if locale and not _LOCALE_RE.match(locale):
            checker.error(_child(place, "locale"), f"'{locale}' is not a language code like en.")
        enabled = checker.flag(entry, "enabled", place, True)
        audience = _check_audience(checker, entry, place)
        message = SupportMessage(
            key=key,
            text=text,
            topics=topics,
            locale=locale or pack_locale,
            enabled=enabled,
            audience=audience,
        )
        found = translations.read_message_translations(
            checker, entry.get("translations"), _child(place, "translations"), message, marks
        )
        if key and text and topics:
            messages.append(replace(message, translations=found))
    return messages


def _check_resources(
    checker: _Checker,
    root: Mapping[str, object],
    slugs: set[str],
    pack_locale: str,
    marks: Mapping[str, str],
) -> tuple[list[Resource], list[tuple[str, str]]]:
    resources: list[Resource] = []
    notes: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    stale_before = months_before(checker.today, STALE_AFTER_MONTHS)
    for index, place in checker.items(root, "resources", "resources"):
        entry = checker.mapping(_item(root, "resources", index), place, _RESOURCE_KEYS)
        if entry is None:
            continue
        key = checker.key(entry, "key", place)
        _check_unique(checker, seen, key, _child(place, "key"), "resource key")
        title = checker.text(entry, "title", place, max_length=validation.MAX_TITLE_LENGTH)
        url = checker.url(entry, "url", place, required=True)
        description = checker.text(
            entry,
            "description",
            place,
            max_length=validation.MAX_DESCRIPTION_LENGTH,
            required=False,
            allow_newlines=True,
        )
        hours = checker.text(
            entry, "hours", place, max_length=validation.MAX_HOURS_LENGTH, required=False
        )
        regions: list[str] = []
        region_place = _child(place, "regions")
        for region_index, region in enumerate(checker.string_list(entry, "regions", place)):
            if checker.region(region, f"{region_place}[{region_index}]", allow_global=True):
                if region not in regions:
                    regions.append(region)
        topics = _check_topic_refs(
            checker, checker.string_list(entry, "topics", place), _child(place, "topics"), slugs
        )
        contacts: list[Contact] = []
        for contact_index, contact_place in checker.items(
            entry, "contacts", _child(place, "contacts")
        ):
            contact = _check_contact(
                checker, _item(entry, "contacts", contact_index), contact_place, regions
            )
            if contact is not None:
                contacts.append(contact)
        source_url = checker.url(entry, "source_url", place, required=False)
        if "source_url" not in entry:
            checker.warn(
                _child(place, "source_url"),
                "is missing; give the page where this number and these hours were checked.",
            )
        last_verified = checker.day(entry, "last_verified", place)
        if "last_verified" not in entry:
            checker.warn(
                _child(place, "last_verified"),
                "is missing; give the date a person last checked this resource.",
            )
        elif last_verified is not None and last_verified < stale_before:
            checker.warn(
                _child(place, "last_verified"),
                f"{last_verified.isoformat()} is more than {STALE_AFTER_MONTHS} months ago; "
                "check the number, hours and link on the organisation's own site.",
            )
        needs_review = checker.status(entry, place, required=True)
        note = checker.text(
            entry,
            "notes_for_mods",
            place,
            max_length=MAX_NOTES_LENGTH,
            required=False,
            allow_newlines=True,
        )
        if note and key:
            notes.append((key, note))
        crisis_service = checker.flag(entry, "crisis_service", place, False)
        always_open = checker.flag(entry, "always_open", place, False)
        if always_open and hours and not _ROUND_THE_CLOCK.search(hours):
            checker.warn(
                _child(place, "always_open"),
                f"is true but the hours ('{hours}') do not say 24/7; check the source and "
                "set always_open: false unless it says the service never closes.",
            )
        elif not always_open and _ROUND_THE_CLOCK.search(hours):
            checker.warn(
                _child(place, "always_open"),
                f"is false but the hours ('{hours}') say 24/7; if the source says so, set "
                "always_open: true.",
            )
        enabled = checker.flag(entry, "enabled", place, True)
        audience = _check_audience(checker, entry, place)
        age_min, age_max = _check_ages(checker, entry, place, audience)
        rank = _check_rank(checker, entry, place)
        opening_hours = _check_opening_hours(checker, entry, place, always_open)
        timezone = _check_timezone(checker, entry, place)
        for number, why in superseded_in(
            " ; ".join(
                [description, note or "", *(f"{c.display} ; {c.e164 or ''}" for c in contacts)]
            )
        ):
            checker.error(
                place,
                f"contains the superseded number {number} ({why}); remove it.",
            )
        resource = Resource(
            key=key,
            title=title,
            url=url,
            description=description,
            contacts=tuple(contacts),
            regions=tuple(regions),
            topics=topics,
            crisis_service=crisis_service,
            always_open=always_open,
            hours=hours,
            source_url=source_url,
            last_verified=last_verified,
            needs_review=needs_review,
            notes_for_mods=note or "",
            enabled=enabled,
            rank=rank,
            audience=audience,
            age_min=age_min,
            age_max=age_max,
            opening_hours=opening_hours,
            timezone=timezone,
        )
        found = translations.read_resource_translations(
            checker,
            entry.get("translations"),
            _child(place, "translations"),
            resource,
            marks,
            pack_locale,
        )
        if key and title and url and regions and topics:
            resources.append(replace(resource, translations=found))
    return resources, notes


def _check_audience(checker: _Checker, entry: Mapping[str, object], place: str) -> Audience:
    value = entry.get("audience")
    if value is None:
        return Audience.EVERYONE
    try:
        return Audience(str(value))
    except ValueError:
        checker.error(
            _child(place, "audience"),
            f"'{value}' must be one of {', '.join(a.value for a in Audience)}.",
        )
        return Audience.EVERYONE


def _check_ages(
    checker: _Checker, entry: Mapping[str, object], place: str, audience: Audience
) -> tuple[int | None, int | None]:
    value = entry.get("ages")
    if value is None:
        return None, None
    where = _child(place, "ages")
    if not isinstance(value, str):
        checker.error(where, f"must be text in quotes. {AGES_HINT}")
        return None, None
    try:
        ages = parse_ages(where, value)
    except ValidationFailed:
        checker.error(where, f"'{value}' is not an age range. {AGES_HINT}")
        return None, None
    if ages != (None, None) and audience is not Audience.YOUNG_PEOPLE:
        checker.error(where, "is only for audience: young-people; set the audience too.")
    return ages


def _check_rank(checker: _Checker, entry: Mapping[str, object], place: str) -> int:
    value = entry.get("rank")
    if value is None:
        return DEFAULT_RANK
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RANK:
        checker.error(
            _child(place, "rank"),
            f"'{value}' must be a whole number from 1 to {MAX_RANK}; lower comes first.",
        )
        return DEFAULT_RANK
    return value


def _check_opening_hours(
    checker: _Checker, entry: Mapping[str, object], place: str, always_open: bool
) -> str:
    value = entry.get("opening_hours")
    where = _child(place, "opening_hours")
    if value is None:
        return ""
    if not isinstance(value, str):
        checker.error(where, 'must be text in quotes, like "Mo-Fr 13:00-20:30".')
        return ""
    try:
        hours = parse_opening_hours(value)
    except HoursError as error:
        checker.error(where, str(error))
        return ""
    if hours.always != always_open:
        checker.error(
            where,
            f"says {'24/7' if hours.always else 'not 24/7'} but always_open is "
            f"{'true' if always_open else 'false'}; make them agree.",
        )
    return hours.text


def is_iana_zone(name: str) -> bool:
    """Exactly an IANA zone name (a pack is written by hand once; no guessing here)."""
    try:
        return parse_timezone(name) == name
    except ValidationFailed:
        return False


def _check_timezone(checker: _Checker, entry: Mapping[str, object], place: str) -> str:
    value = entry.get("timezone")
    if value is None or value == "":
        return ""
    where = _child(place, "timezone")
    if not isinstance(value, str) or not is_iana_zone(value):
        checker.error(where, f"'{value}' is not an IANA time zone like Europe/London.")
        return ""
    return value


def _item(data: Mapping[str, object], key: str, index: int) -> object:
    value = data[key]
    assert isinstance(value, list)
    return value[index]


# --- Public API -------------------------------------------------------------------------------


def pack_format_for(filename: str) -> PackFormat:
    return "json" if filename.lower().endswith(".json") else "yaml"


def parse_pack(
    text: str, filename: str = "pack.yaml", today: date | None = None
) -> tuple[ParsedPack | None, list[PackProblem]]:
    """Check a pack and build it. Returns (pack, problems): the pack is None when any problem
    is an error; warnings come back beside a usable pack. Never raises for bad input.

    JSON is chosen by a `.json` filename, YAML otherwise (the two share one structure)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_PACK_BYTES:
        return None, [
            PackProblem("", f"is larger than {MAX_PACK_BYTES // 1_000_000} MB; split it up.")
        ]
    positions: Mapping[str, tuple[int, int]] = {}
    if pack_format_for(filename) == "json":
        data, problems = _load_json(text)
    else:
        data, positions, problems = _load_yaml(text)
    if problems:
        return None, problems
    return _check(data, positions, today or date.today())


def load_pack_file(
    path: Path, today: date | None = None
) -> tuple[ParsedPack | None, list[PackProblem]]:
    """parse_pack for a file: an unreadable or undecodable file is a problem, not a traceback."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [PackProblem(str(path), f"cannot be read: {exc.strerror or exc}.")]
    if len(raw) > MAX_PACK_BYTES:
        return None, [
            PackProblem(str(path), f"is larger than {MAX_PACK_BYTES // 1_000_000} MB; split it up.")
        ]
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            PackProblem(str(path), "is not UTF-8 text; save it as UTF-8 and try again.", line=line)
        ]
    return parse_pack(text, filename=path.name, today=today)


def default_pack_path() -> Path:
    """The pack Haven ships (bot/data/default.yaml, a link to config/packs/default.yaml)."""
    return Path(__file__).resolve().parents[2] / "data" / "default.yaml"


@functools.cache
def load_default_pack() -> ParsedPack:
    """The shipped pack, parsed once. Raises ValidationFailed listing every error if it is
    broken: that is a release bug, and start-up must stop rather than seed bad helplines."""
    path = default_pack_path()
    pack, problems = load_pack_file(path)
    if pack is None:
        raise ValidationFailed(
            [str(p) for p in errors_in(problems)] or [f"{path}: could not be loaded."],
            hint=f"The shipped content pack is broken; run `haven pack check {path}`.",
        )
    for problem in problems:
        log.warning("default pack: %s", problem)
    return pack


def pack_to_changes(pack: ParsedPack) -> LibraryChanges:
    """The library change that imports a pack: every topic, message, resource and emergency
    number, upserted by key (so importing twice changes nothing)."""
    return LibraryChanges(
        topics=pack.topics,
        upsert_messages=pack.messages,
        upsert_resources=pack.resources,
        emergency_numbers=pack.emergency_numbers,
    )


def _status(needs_review: bool) -> str:
    return _STATUS_NEEDS_REVIEW if needs_review else _STATUS_VERIFIED


def _resource_data(
    resource: Resource, dates: Callable[[date], object], marks: Mapping[str, str]
) -> dict[str, object]:
    data: dict[str, object] = {
        "key": resource.key,
        "title": resource.title,
        "url": resource.url,
    }
    if resource.description:
        data["description"] = resource.description
    data["regions"] = list(resource.regions)
    data["topics"] = list(resource.topics)
    data["crisis_service"] = resource.crisis_service
    data["always_open"] = resource.always_open
    if resource.hours:
        data["hours"] = resource.hours
    if resource.opening_hours:
        data["opening_hours"] = resource.opening_hours
    if resource.timezone:
        data["timezone"] = resource.timezone
    if resource.rank != DEFAULT_RANK:
        data["rank"] = resource.rank
    if resource.audience is not Audience.EVERYONE:
        data["audience"] = resource.audience.value
    if ages := ages_text(resource.age_min, resource.age_max):
        data["ages"] = ages
    if resource.contacts:
        contacts: list[dict[str, object]] = []
        for contact in resource.contacts:
            item: dict[str, object] = {"kind": contact.kind.value, "display": contact.display}
            if contact.e164:
                item["e164"] = contact.e164
            contacts.append(item)
        data["contacts"] = contacts
    if resource.source_url:
        data["source_url"] = resource.source_url
    if resource.last_verified:
        data["last_verified"] = dates(resource.last_verified)
    data["status"] = _status(resource.needs_review)
    if resource.notes_for_mods:
        data["notes_for_mods"] = resource.notes_for_mods
    if not resource.enabled:
        data["enabled"] = False
    if resource.translations:
        data["translations"] = translations.resource_translations_data(resource, marks)
    return data


def export_pack(
    library: Library,
    *,
    pack_id: str,
    fmt: PackFormat,
    version: str | None = None,
    locale: str = "en",
    disclaimer: str | None = None,
) -> str:
    """A community's library as a pack file, in the same format parse_pack reads.

    `version` defaults to today's date; `disclaimer` to the default pack's. Item versions (edit
    counters) are not exported: a pack carries content, and importing it bumps them anyway."""
    dates: Callable[[date], object] = (
        (lambda day: day.isoformat()) if fmt == "json" else (lambda day: day)
    )
    marks = translations.common_marks(library.messages, library.resources)
    header: dict[str, object] = {
        "id": pack_id,
        "locale": locale,
        "version": version or date.today().isoformat(),
        "disclaimer": disclaimer if disclaimer is not None else load_default_pack().disclaimer,
    }
    if marks:
        header["translated_by"] = dict(sorted(marks.items()))
    data: dict[str, object] = {
        "schema_version": SUPPORTED_SCHEMA_VERSIONS[-1],
        "pack": header,
        "topics": [
            {"slug": t.slug, "label": t.label, "description": t.description} for t in library.topics
        ],
        "emergency_numbers": [
            {"region": e.region, "number": e.number, "status": _status(e.needs_review)}
            for e in library.emergency_numbers
        ],
        "messages": [
            {
                "key": m.key,
                "topics": list(m.topics),
                "locale": m.locale,
                "text": m.text,
                **({} if m.audience is Audience.EVERYONE else {"audience": m.audience.value}),
                **({} if m.enabled else {"enabled": False}),
                **(
                    {"translations": translations.message_translations_data(m, marks)}
                    if m.translations
                    else {}
                ),
            }
            for m in library.messages
        ],
        "resources": [_resource_data(r, dates, marks) for r in library.resources],
    }
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    body = yaml.dump(
        data,
        Dumper=_PackDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return (
        f"# Haven content pack '{pack_id}'. Check it with `haven pack check FILE` before "
        "importing.\n" + body
    )


class _PackDumper(yaml.SafeDumper):
    """Writes every value out in full: PyYAML would otherwise turn a date object shared by
    several resources into `&id001` anchors and `*id001` aliases, unreadable to moderators."""

    def ignore_aliases(self, data: object) -> bool:
        return True


# --- Diff -------------------------------------------------------------------------------------

ChangeKind = Literal["added", "changed", "unchanged"]
# How a field is named to a moderator where the model's name would confuse.
_FIELD_NAMES = {
    "needs_review": "status",
    "crisis_service": "crisis service",
    "opening_hours": "opening hours",
    "age_min": "ages",
    "age_max": "ages",
}


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One item of a pack compared with the library: `item` is message, resource, topic or
    emergency number; `fields` names what differs when `change` is changed."""

    item: str
    key: str
    change: ChangeKind
    label: str = ""
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PackDiff:
    """What importing a pack would do to a library. Items only in the library are kept (an
    import never deletes), and are counted in `kept`."""

    entries: tuple[DiffEntry, ...]
    kept: Mapping[str, int] = field(default_factory=dict)

    def keys(self, item: str, change: ChangeKind) -> tuple[str, ...]:
        return tuple(e.key for e in self.entries if e.item == item and e.change == change)

    @property
    def has_changes(self) -> bool:
        return any(e.change != "unchanged" for e in self.entries)

    def summary_lines(self) -> list[str]:
        lines: list[str] = []
        for entry in self.entries:
            label = f" ({entry.label})" if entry.label else ""
            if entry.change == "added":
                lines.append(f"+ {entry.item} {entry.key}{label}")
        for entry in self.entries:
            if entry.change == "changed":
                lines.append(f"~ {entry.item} {entry.key}: {', '.join(entry.fields)} changed")
        counts: dict[str, int] = {}
        for entry in self.entries:
            if entry.change == "unchanged":
                counts[entry.item] = counts.get(entry.item, 0) + 1
        if counts:
            lines.append("= " + _count_phrase(counts) + " unchanged")
        if any(self.kept.values()):
            lines.append(
                "= " + _count_phrase(dict(self.kept)) + " only in this library, kept as they are"
            )
        if not self.has_changes:
            lines.insert(0, "No changes: the library already matches this pack.")
        return lines


def _count_phrase(counts: Mapping[str, int]) -> str:
    parts = [f"{n} {item}{'' if n == 1 else 's'}" for item, n in counts.items() if n]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_IGNORED_FIELDS = frozenset({"key", "version"})


def _changed_fields(before: object, after: object) -> tuple[str, ...]:
    names: list[str] = []
    for f in fields(after):  # type: ignore[arg-type]
        if f.name in _IGNORED_FIELDS:
            continue
        name = _FIELD_NAMES.get(f.name, f.name)
        if getattr(before, f.name) != getattr(after, f.name) and name not in names:
            names.append(name)
    return tuple(names)


def _preview(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def diff_pack(current: Library, incoming: ParsedPack) -> PackDiff:
    """Added, changed and unchanged items, by key and content (never by version number)."""
    entries: list[DiffEntry] = []

    def compare(
        item: str,
        existing: Mapping[str, object],
        new_items: Iterable[tuple[str, object, str]],
    ) -> int:
        seen: set[str] = set()
        for key, value, label in new_items:
            seen.add(key)
            old = existing.get(key)
            if old is None:
                entries.append(DiffEntry(item, key, "added", label))
                continue
            changed = _changed_fields(old, value)
            entries.append(
                DiffEntry(item, key, "changed" if changed else "unchanged", label, changed)
            )
        return len(set(existing) - seen)

    kept = {
        "topic": compare(
            "topic",
            {t.slug: t for t in current.topics},
            ((t.slug, t, t.label) for t in incoming.topics),
        ),
        "emergency number": compare(
            "emergency number",
            {e.region: e for e in current.emergency_numbers},
            ((e.region, e, e.number) for e in incoming.emergency_numbers),
        ),
        "message": compare(
            "message",
            {m.key: m for m in current.messages},
            ((m.key, m, _preview(m.text)) for m in incoming.messages),
        ),
        "resource": compare(
            "resource",
            {r.key: r for r in current.resources},
            ((r.key, r, r.title) for r in incoming.resources),
        ),
    }
    return PackDiff(entries=tuple(entries), kept=kept)
