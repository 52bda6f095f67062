"""Pack parsing and checking: each bad input gives a problem with its place and a clear message;
export round-trips; diff_pack says what an import would change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.content import validation
from bot.core.content.packs import (
    PackFormat,
    PackProblem,
    ParsedPack,
    diff_pack,
    errors_in,
    export_pack,
    load_default_pack,
    load_pack_file,
    pack_to_changes,
    parse_pack,
)
from bot.core.models import Contact, ContactKind, EmergencyNumber, Resource, SupportMessage
from bot.core.ports import Library
from tests.conftest import sample_library

TODAY = date(2026, 11, 29)


def minimal() -> dict[str, Any]:
    """A small valid pack as data; tests break one thing at a time."""
    return {
        "schema_version": 1,
        "pack": {
            "id": "test",
            "locale": "en",
            "version": "1.0",
            "last_reviewed": "2026-11-28",
            "disclaimer": "Not a crisis service. In danger, call your local emergency number.",
        },
        "topics": [
            {"slug": "general", "label": "General", "description": "Anything."},
            {"slug": "crisis", "label": "Crisis", "description": "Right now."},
        ],
        "emergency_numbers": [
            {"region": "GB", "number": "999", "status": "verified"},
            {"region": "AU", "number": "000", "status": "verified"},
        ],
        "messages": [
            {"key": "general-1", "topics": ["general"], "locale": "en", "text": "You matter."},
            {"key": "crisis-1", "topics": ["crisis"], "text": "Please talk to someone today."},
        ],
        "resources": [
            {
                "key": "gb-line",
                "title": "GB Line",
                "url": "https://line.example.org.uk",
                "description": "A listening line.",
                "regions": ["GB"],
                "topics": ["crisis", "general"],
                "crisis_service": True,
                "always_open": True,
                "hours": "24/7",
                "contacts": [
                    {"kind": "phone", "display": "0800 0119 100", "e164": "+448000119100"},
                    {"kind": "text", "display": "Text SHOUT to 85258"},
                    {"kind": "email", "display": "jo@example.org"},
                ],
                "source_url": "https://line.example.org.uk/contact",
                "last_verified": "2026-11-28",
                "status": "verified",
                "notes_for_mods": "Checked on the organisation's own page.",
            },
            {
                "key": "global-directory",
                "title": "Directory",
                "url": "https://directory.example.org",
                "regions": ["global"],
                "topics": ["general"],
                "source_url": "https://directory.example.org/about",
                "last_verified": "2026-11-28",
                "status": "needs_review",
            },
        ],
    }


def as_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def check(data: dict[str, Any]) -> tuple[ParsedPack | None, list[PackProblem]]:
    return parse_pack(as_yaml(data), "pack.yaml", today=TODAY)


def only_error(data: dict[str, Any]) -> PackProblem:
    pack, problems = check(data)
    assert pack is None
    errors = errors_in(problems)
    assert len(errors) == 1, [str(p) for p in problems]
    return errors[0]


# --- the good case --------------------------------------------------------------------------


def test_minimal_pack_parses_into_domain_values() -> None:
    pack, problems = check(minimal())
    assert problems == []
    assert pack is not None
    assert (pack.pack_id, pack.version, pack.locale) == ("test", "1.0", "en")
    assert pack.last_reviewed == date(2026, 11, 28)
    assert [t.slug for t in pack.topics] == ["general", "crisis"]
    assert pack.messages[1] == SupportMessage(
        "crisis-1", "Please talk to someone today.", ("crisis",), locale="en"
    )
    line = pack.resources[0]
    assert line.contacts == (
        Contact(ContactKind.PHONE, "0800 0119 100", "+448000119100"),
        Contact(ContactKind.TEXT, "Text SHOUT to 85258"),
        Contact(ContactKind.EMAIL, "jo@example.org"),
    )
    assert line.last_verified == date(2026, 11, 28)
    assert line.crisis_service and line.always_open and line.visible
    assert pack.resources[1].needs_review and not pack.resources[1].visible
    assert pack.resources[1].is_global
    assert pack.emergency_numbers == (
        EmergencyNumber("GB", "999"),
        EmergencyNumber("AU", "000"),
    )
    assert pack.note_for("gb-line") == "Checked on the organisation's own page."
    assert pack.covered_regions() == {"GB"}


def test_json_pack_reads_the_same_as_yaml() -> None:
    from_json, problems = parse_pack(json.dumps(minimal()), "pack.json", today=TODAY)
    assert problems == []
    from_yaml, _ = check(minimal())
    assert from_json == from_yaml


def test_norway_stays_norway() -> None:
    # YAML 1.1 reads a bare NO as false; packs only take true/false as booleans.
    text = as_yaml(minimal()).replace("- GB\n", "- NO\n", 1)
    # A British number in a Norwegian resource needs its country code (the phone rule).
    text = text.replace("display: 0800 0119 100", "display: +44 800 0119 100", 1)
    pack, problems = parse_pack(text, today=TODAY)
    assert pack is not None, [str(p) for p in problems]
    assert pack.resources[0].regions == ("NO",)


# --- duplicates -----------------------------------------------------------------------------


def test_duplicate_message_key() -> None:
    data = minimal()
    data["messages"][1]["key"] = "general-1"
    problem = only_error(data)
    assert problem.place == "messages[1].key"
    assert "duplicate message key 'general-1'" in problem.message
    assert "messages[0]" in problem.message


def test_duplicate_resource_key_and_topic_slug_are_all_reported() -> None:
    data = minimal()
    data["resources"][1]["key"] = "gb-line"
    data["topics"][1]["slug"] = "general"
    data["messages"][1]["topics"] = ["general"]
    pack, problems = check(data)
    assert pack is None
    places = {p.place: p.message for p in errors_in(problems)}
    assert "duplicate resource key 'gb-line'" in places["resources[1].key"]
    assert "duplicate topic 'general'" in places["topics[1].slug"]


def test_duplicate_emergency_region() -> None:
    data = minimal()
    data["emergency_numbers"][1]["region"] = "GB"
    problem = only_error(data)
    assert problem.place == "emergency_numbers[1].region"
    assert "duplicate" in problem.message


def test_duplicate_yaml_mapping_keys_are_refused_with_path_and_lines() -> None:
    text = """\
schema_version: 1
pack: {id: t, locale: en, version: "1", disclaimer: Not a crisis service.}
topics:
  - {slug: general, label: General}
resources:
  - key: gb-line
    title: GB Line
    url: https://line.example.org.uk
    url: https://evil.example.com
    regions: [GB]
    topics: [general]
    status: verified
    status: needs_review
"""
    pack, problems = parse_pack(text, today=TODAY)
    assert pack is None
    assert [(p.place, p.line) for p in problems] == [
        ("resources[0].url", 9),
        ("resources[0].status", 13),
    ]
    assert "duplicate key 'url'" in problems[0].message
    assert "line 8" in problems[0].message
    assert str(problems[0]).startswith("error: resources[0].url (line 9): duplicate key")


def test_duplicate_json_object_keys_are_refused_with_path() -> None:
    text = json.dumps(minimal())
    text = text.replace('"title": "GB Line"', '"title": "GB Line", "title": "Other"', 1)
    pack, problems = parse_pack(text, "pack.json", today=TODAY)
    assert pack is None
    assert [(p.place, p.severity) for p in problems] == [("resources[0].title", "error")]
    assert "duplicate key 'title'" in problems[0].message


# --- missing fields and schema --------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "index", "field", "place"),
    [
        ("messages", 0, "text", "messages[0].text"),
        ("messages", 1, "key", "messages[1].key"),
        ("resources", 0, "url", "resources[0].url"),
        ("resources", 0, "title", "resources[0].title"),
        ("resources", 1, "status", "resources[1].status"),
        ("resources", 0, "regions", "resources[0].regions"),
        ("topics", 0, "label", "topics[0].label"),
        ("emergency_numbers", 0, "number", "emergency_numbers[0].number"),
    ],
)
def test_missing_required_field(section: str, index: int, field: str, place: str) -> None:
    data = minimal()
    del data[section][index][field]
    problem = only_error(data)
    assert problem.place == place
    assert "is missing" in problem.message


def test_missing_pack_header_and_disclaimer() -> None:
    data = minimal()
    del data["pack"]["disclaimer"]
    assert only_error(data).place == "pack.disclaimer"
    data = minimal()
    del data["pack"]
    assert only_error(data).place == "pack"


def test_missing_source_and_date_are_warnings_not_errors() -> None:
    data = minimal()
    del data["resources"][0]["source_url"]
    del data["resources"][0]["last_verified"]
    pack, problems = check(data)
    assert pack is not None
    assert {(p.place, p.severity) for p in problems} == {
        ("resources[0].source_url", "warning"),
        ("resources[0].last_verified", "warning"),
    }


@pytest.mark.parametrize("version", [2, 0, "two"])
def test_wrong_schema_version_says_which_are_supported(version: object) -> None:
    data = minimal()
    data["schema_version"] = version
    problem = only_error(data)
    assert problem.place == "schema_version"
    assert "not supported" in problem.message
    assert "schema_version 1" in problem.message


def test_missing_schema_version() -> None:
    data = minimal()
    del data["schema_version"]
    problem = only_error(data)
    assert problem.place == "schema_version"
    assert "missing" in problem.message and "schema_version 1" in problem.message


def test_unknown_field_suggests_the_right_one() -> None:
    data = minimal()
    data["resources"][0]["crisis_servise"] = True
    problem = only_error(data)
    assert problem.place == "resources[0].crisis_servise"
    assert "Did you mean 'crisis_service'?" in problem.message


def test_a_pack_that_is_not_a_mapping() -> None:
    pack, problems = parse_pack("- just\n- a list\n", today=TODAY)
    assert pack is None
    assert "must be a mapping" in problems[0].message
    pack, problems = parse_pack("", today=TODAY)
    assert pack is None and "empty" in problems[0].message


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("javascript:alert(1)", "must start with https://"),
        ("http://line.example.org.uk", "must start with https:// (it uses http:)"),
        ("https://trusted.org@evil.example.com", "must not contain a user name"),
        ("https://example.org/" + "a" * 600, "links can be at most 512"),
        ("https://exa mple.org", "must not contain spaces"),
        ("https://localhost", "needs a host name"),
    ],
)
def test_bad_urls(url: str, says: str) -> None:
    data = minimal()
    data["resources"][0]["url"] = url
    problem = only_error(data)
    assert problem.place == "resources[0].url"
    assert says in problem.message
    # The same sentence a moderator's command gets, less the field name.
    assert validation.check_url("x", url)[0].removeprefix("x: ") == problem.message


def test_bad_source_url() -> None:
    data = minimal()
    data["resources"][0]["source_url"] = "ftp://example.org/page"
    problem = only_error(data)
    assert problem.place == "resources[0].source_url"
    assert "https://" in problem.message


# --- text ------------------------------------------------------------------------------------


def test_over_long_message_text() -> None:
    data = minimal()
    data["messages"][0]["text"] = "x" * (validation.MAX_MESSAGE_LENGTH + 5)
    problem = only_error(data)
    assert problem.place == "messages[0].text"
    assert f"the limit is {validation.MAX_MESSAGE_LENGTH}" in problem.message
    assert "shorten it by 5" in problem.message


def test_over_long_title() -> None:
    data = minimal()
    data["resources"][0]["title"] = "T" * (validation.MAX_TITLE_LENGTH + 1)
    problem = only_error(data)
    assert problem.place == "resources[0].title"
    assert f"the limit is {validation.MAX_TITLE_LENGTH}" in problem.message


@pytest.mark.parametrize("bad", ["\x07", "\u202e", "\u200b"])
def test_control_and_invisible_characters(bad: str) -> None:
    data = minimal()
    data["resources"][0]["title"] = f"GB{bad}Line"
    problem = only_error(data)
    assert problem.place == "resources[0].title"
    assert f"U+{ord(bad):04X}" in problem.message
    assert "control or invisible direction characters" in problem.message


def test_raw_control_character_in_the_file() -> None:
    text = as_yaml(minimal()).replace("GB Line", "GB\x01Line")
    pack, problems = parse_pack(text, today=TODAY)
    assert pack is None
    assert "U+0001" in problems[0].message
    assert problems[0].line is not None


def test_numbers_must_be_quoted_so_leading_zeros_survive() -> None:
    text = as_yaml(minimal()).replace("number: '000'", "number: 000")
    assert "number: 000\n" in text
    pack, problems = parse_pack(text, today=TODAY)
    assert pack is None
    (problem,) = errors_in(problems)
    assert problem.place == "emergency_numbers[1].number"
    assert "quotes" in problem.message


def test_bad_emergency_number() -> None:
    data = minimal()
    data["emergency_numbers"][0]["number"] = "call 999"
    problem = only_error(data)
    assert problem.place == "emergency_numbers[0].number"


def test_bad_key_and_boolean() -> None:
    data = minimal()
    data["messages"][0]["key"] = "General One"
    data["resources"][0]["crisis_service"] = "yes"
    pack, problems = check(data)
    assert pack is None
    places = {p.place: p.message for p in errors_in(problems)}
    assert "lowercase letters, digits and dashes" in places["messages[0].key"]
    assert places["resources[0].crisis_service"] == "must be true or false."


# --- references: topics, regions, contacts --------------------------------------------------


def test_unknown_topic() -> None:
    data = minimal()
    data["messages"][0]["topics"] = ["general", "coming-out"]
    problem = only_error(data)
    assert problem.place == "messages[0].topics[1]"
    assert "unknown topic 'coming-out'" in problem.message
    assert "crisis, general" in problem.message


@pytest.mark.parametrize(
    ("region", "says"),
    [
        ("UK", "write GB (United Kingdom)"),
        ("gb", "write GB"),
        ("Atlantis", "is not an ISO 3166-1 country code"),
    ],
)
def test_unknown_region(region: str, says: str) -> None:
    data = minimal()
    data["resources"][0]["regions"] = [region]
    problem = only_error(data)
    assert problem.place == "resources[0].regions[0]"
    assert says in problem.message


def test_global_is_not_an_emergency_region() -> None:
    data = minimal()
    data["emergency_numbers"][0]["region"] = "global"
    problem = only_error(data)
    assert problem.place == "emergency_numbers[0].region"


@pytest.mark.parametrize(
    ("e164", "says"),
    [
        ("448000119100", "not in E.164 form"),
        ("+44 800 0119 100", "not in E.164 form"),
        ("+448000119101", "does not match the number shown"),
    ],
)
def test_bad_e164(e164: str, says: str) -> None:
    data = minimal()
    data["resources"][0]["contacts"][0]["e164"] = e164
    problem = only_error(data)
    assert problem.place == "resources[0].contacts[0].e164"
    assert says in problem.message


def test_bad_contact_kind() -> None:
    data = minimal()
    data["resources"][0]["contacts"][1]["kind"] = "sms"
    problem = only_error(data)
    assert problem.place == "resources[0].contacts[1].kind"
    assert "phone, text, chat, email" in problem.message


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-13-45", "28/11/2026", "yesterday"])
def test_bad_date(value: str) -> None:
    data = minimal()
    data["resources"][0]["last_verified"] = value
    problem = only_error(data)
    assert problem.place == "resources[0].last_verified"
    assert "is not a date; write it like 2026-11-28" in problem.message


def test_impossible_unquoted_yaml_date_is_a_problem_not_a_crash() -> None:
    text = as_yaml(minimal()).replace("last_reviewed: '2026-11-28'", "last_reviewed: 2026-02-30")
    assert "2026-02-30" in text
    pack, problems = parse_pack(text, today=TODAY)
    assert pack is None
    assert [p.place for p in problems] == ["pack.last_reviewed"]


def test_staleness_warning_after_twelve_months() -> None:
    data = minimal()
    data["resources"][0]["last_verified"] = "2025-11-28"
    pack, problems = check(data)
    assert pack is not None  # a warning never blocks a pack
    (warning,) = problems
    assert warning.severity == "warning"
    assert warning.place == "resources[0].last_verified"
    assert "more than 12 months ago" in warning.message
    # Exactly twelve months is not yet stale.
    data["resources"][0]["last_verified"] = "2025-11-29"
    assert check(data)[1] == []


def test_staleness_is_relative_to_today() -> None:
    text = as_yaml(minimal())
    assert parse_pack(text, today=date(2027, 11, 28))[1] == []
    later = parse_pack(text, today=date(2027, 11, 29))[1]
    assert [p.place for p in later] == ["resources[0].last_verified", "resources[1].last_verified"]


def test_always_open_must_agree_with_the_hours() -> None:
    data = minimal()
    data["resources"][0]["hours"] = "Monday to Friday 10am to 6pm"
    pack, problems = check(data)
    assert pack is not None
    (warning,) = problems
    assert (warning.place, warning.severity) == ("resources[0].always_open", "warning")
    assert "do not say 24/7" in warning.message
    data["resources"][0]["hours"] = "24 hours a day"
    data["resources"][0]["always_open"] = False
    (warning,) = check(data)[1]
    assert "say 24/7" in warning.message


def test_future_date_is_a_warning() -> None:
    data = minimal()
    data["resources"][0]["last_verified"] = "2062-11-28"
    pack, problems = check(data)
    assert pack is not None
    assert "in the future" in problems[0].message


# --- syntax and files -----------------------------------------------------------------------


def test_invalid_yaml_gives_line_and_column() -> None:
    text = as_yaml(minimal()).splitlines()
    text[5] = "  version: [unclosed"
    pack, problems = parse_pack("\n".join(text), today=TODAY)
    assert pack is None
    (problem,) = problems
    assert problem.message.startswith("Not valid YAML")
    assert problem.line is not None and problem.line >= 6
    assert problem.column is not None
    assert str(problem).startswith(f"error: line {problem.line}: Not valid YAML")


def test_bad_indentation_names_the_line() -> None:
    text = "schema_version: 1\npack:\n  id: t\n version: x\n"
    pack, problems = parse_pack(text, today=TODAY)
    assert pack is None
    assert problems[0].line == 4


def test_invalid_json_gives_line_and_column() -> None:
    text = json.dumps(minimal(), indent=2).replace('"id": "test",', '"id": "test"', 1)
    pack, problems = parse_pack(text, "pack.json", today=TODAY)
    assert pack is None
    (problem,) = problems
    assert problem.message.startswith("Not valid JSON")
    assert problem.line == 5


def test_problems_carry_yaml_line_numbers() -> None:
    data = minimal()
    data["resources"][0]["url"] = "http://line.example.org.uk"
    text = as_yaml(data)
    problem = only_error(data)
    expected = 1 + next(i for i, line in enumerate(text.splitlines()) if "url: http:" in line)
    assert problem.line == expected


def test_load_pack_file_reports_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    pack, problems = load_pack_file(missing)
    assert pack is None and "cannot be read" in problems[0].message
    binary = tmp_path / "pack.yaml"
    binary.write_bytes(b"schema_version: 1\n\xff\xfe\n")
    pack, problems = load_pack_file(binary)
    assert pack is None
    assert "not UTF-8" in problems[0].message and problems[0].line == 2


def test_load_pack_file_reads_json_by_suffix(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(minimal()), "utf-8")
    pack, problems = load_pack_file(path, today=TODAY)
    assert pack is not None and problems == []


def test_alias_bombs_are_cheap() -> None:
    # Nested aliases expand exponentially if walked naively; the checker must stay fast.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 12):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 10)}]")
    pack, problems = parse_pack("\n".join(lines) + "\n", today=TODAY)
    assert pack is None
    assert any("not a field Haven knows" in p.message for p in problems)


# --- export, round trip, changes ------------------------------------------------------------


def _rich_library() -> Library:
    library = sample_library()
    extra = Resource(
        key="gb-everything",
        title="Everything Line",
        url="https://everything.example.org.uk/path?q=1",
        description="Line one: with a colon.\nLine two.",
        contacts=(
            Contact(ContactKind.PHONE, "0800 0119 100", "+448000119100"),
            Contact(ContactKind.TEXT, "Text SHOUT to 85258"),
            Contact(ContactKind.CHAT, "Chat at everything.example.org.uk"),
            Contact(ContactKind.EMAIL, "help@example.org"),
        ),
        regions=("GB", "NO", "IE"),
        topics=("crisis", "harassment"),
        crisis_service=True,
        always_open=False,
        hours="Mon–Fri 10am–4:30pm",
        source_url="https://everything.example.org.uk/about",
        last_verified=date(2026, 10, 1),
        needs_review=True,
        enabled=False,
    )
    quiet = SupportMessage("quiet-1", 'Says "yes": and no.', ("general", "crisis"), enabled=False)
    return replace(
        library,
        messages=(*library.messages, quiet),
        resources=(*library.resources, extra),
        emergency_numbers=(*library.emergency_numbers, EmergencyNumber("IE", "112 or 999", True)),
    )


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_round_trips_with_the_same_content(fmt: PackFormat) -> None:
    library = _rich_library()
    text = export_pack(library, pack_id="discord-123", fmt=fmt, version="2026.11.29")
    pack, problems = parse_pack(text, f"export.{fmt}", today=TODAY)
    assert pack is not None, [str(p) for p in problems]
    # Moderator-made resources may lack a source or date: those are warnings, never errors.
    assert errors_in(problems) == []
    expected = {
        f"resources[{index}].{name}"
        for index, resource in enumerate(library.resources)
        for name, missing in (
            ("source_url", not resource.source_url),
            ("last_verified", resource.last_verified is None),
        )
        if missing
    }
    assert expected  # the sample library has such resources
    assert {p.place for p in problems} == expected
    assert {p.severity for p in problems} == {"warning"}
    assert pack.pack_id == "discord-123"
    assert pack.version == "2026.11.29"
    assert pack.disclaimer == load_default_pack().disclaimer
    assert pack.topics == library.topics
    assert pack.messages == library.messages
    assert pack.resources == library.resources
    assert pack.emergency_numbers == library.emergency_numbers
    # And importing the export changes nothing.
    assert not diff_pack(library, pack).has_changes


def test_default_pack_round_trips_through_export() -> None:
    default = load_default_pack()
    changes = pack_to_changes(default)
    library = Library(
        changes.topics, changes.upsert_messages, changes.upsert_resources, changes.emergency_numbers
    )
    text = export_pack(library, pack_id="default", fmt="yaml", version=default.version)
    # The day after the second audit (2026-12-01), whose entries carry its date.
    again, problems = parse_pack(text, today=date(2026, 12, 2))
    assert again is not None and problems == []
    assert replace(again, notes_for_mods=(), last_reviewed=None) == replace(
        default, notes_for_mods=(), last_reviewed=None
    )


def test_yaml_export_is_readable() -> None:
    text = export_pack(sample_library(), pack_id="p", fmt="yaml", version="1")
    assert text.startswith("# Haven content pack 'p'")
    assert "last_verified: 2026-11-01\n" in text
    assert "status: needs_review" in text


# --- diff -----------------------------------------------------------------------------------


def test_diff_pack_lists_added_changed_and_unchanged() -> None:
    library = sample_library()
    text = export_pack(library, pack_id="p", fmt="yaml", version="1")
    pack, _ = parse_pack(text, today=TODAY)
    assert pack is not None
    first = pack.messages[1]
    crisis_line = pack.resources[0]
    incoming = replace(
        pack,
        messages=(
            pack.messages[0],
            replace(first, text="Your pace is yours."),
            *pack.messages[2:],
            SupportMessage("new-1", "A brand new message for everyone here.", ("general",)),
        ),
        resources=(
            replace(crisis_line, url="https://new.example.org.uk", hours="9 to 5", version=7),
            *pack.resources[1:],
            Resource("gb-galop", "Galop", "https://galop.org.uk", regions=("GB",)),
        ),
    )
    diff = diff_pack(library, incoming)
    assert diff.keys("message", "added") == ("new-1",)
    assert diff.keys("message", "changed") == ("coming-out-1",)
    assert "general-1" in diff.keys("message", "unchanged")
    assert diff.keys("resource", "added") == ("gb-galop",)
    assert diff.keys("resource", "changed") == ("gb-crisisline",)
    assert diff.has_changes
    lines = diff.summary_lines()
    assert "+ resource gb-galop (Galop)" in lines
    assert "+ message new-1 (A brand new message for everyone here.)" in lines
    assert "~ message coming-out-1: text changed" in lines
    # Content is compared, never version numbers.
    assert "~ resource gb-crisisline: url, hours changed" in lines
    assert "= 4 topics, 3 emergency numbers, 5 messages and 6 resources unchanged" in lines


def test_diff_pack_names_status_changes_and_counts_kept_items() -> None:
    library = sample_library()
    pack, _ = parse_pack(export_pack(library, pack_id="p", fmt="json"), "p.json", today=TODAY)
    assert pack is not None
    confirmed = replace(pack.resources[5], needs_review=False)
    smaller = replace(pack, messages=pack.messages[:2], resources=(confirmed,))
    lines = diff_pack(library, smaller).summary_lines()
    assert "~ resource gb-unreviewed: status changed" in lines
    assert "= 4 messages and 6 resources only in this library, kept as they are" in lines


def test_diff_of_identical_library_says_no_changes() -> None:
    library = sample_library()
    pack, _ = parse_pack(export_pack(library, pack_id="p", fmt="yaml"), today=TODAY)
    assert pack is not None
    lines = diff_pack(library, pack).summary_lines()
    assert lines[0] == "No changes: the library already matches this pack."


def test_diff_against_an_empty_library_adds_everything() -> None:
    pack = load_default_pack()
    diff = diff_pack(Library((), (), (), ()), pack)
    assert len(diff.keys("message", "added")) == len(pack.messages)
    assert len(diff.keys("resource", "added")) == len(pack.resources)
    assert "+ resource gb-samaritans (Samaritans)" in diff.summary_lines()


def test_minimal_is_not_shared_between_tests() -> None:
    # Guard for the helpers above: tests mutate what minimal() returns, at every depth, so each
    # call must build a new pack; a shared dict would let one test's change leak into the next.
    changed = minimal()
    changed["pack"]["id"] = "changed"
    changed["topics"].pop()
    changed["messages"][0]["topics"].append("crisis")
    changed["resources"][0]["contacts"][0]["display"] = "changed"
    del changed["schema_version"]
    fresh = minimal()
    assert fresh["schema_version"] == 1
    assert fresh["pack"]["id"] == "test"
    assert [t["slug"] for t in fresh["topics"]] == ["general", "crisis"]
    assert fresh["messages"][0]["topics"] == ["general"]
    assert fresh["resources"][0]["contacts"][0]["display"] == "0800 0119 100"
    # And the fresh copy is still a valid pack: every "break one thing" test starts from it.
    assert check(fresh)[1] == []


def test_a_broken_shipped_pack_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.content import packs
    from bot.core.errors import ValidationFailed

    broken = tmp_path / "default.yaml"
    broken.write_text(as_yaml(minimal()).replace("https://line", "http://line", 1), "utf-8")
    monkeypatch.setattr(packs, "default_pack_path", lambda: broken)
    packs.load_default_pack.cache_clear()
    try:
        with pytest.raises(ValidationFailed) as raised:
            packs.load_default_pack()
        assert "resources[0].url" in raised.value.problems[0]
        assert "haven pack check" in raised.value.hint
    finally:
        monkeypatch.undo()
        packs.load_default_pack.cache_clear()
    assert packs.load_default_pack().pack_id == "default"
