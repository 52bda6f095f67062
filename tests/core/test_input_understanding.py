"""What people naturally type: emoji in text, over-long input, time zones as people say them,
topic aliases and typos, and one labelled "did you mean" per answer."""

from __future__ import annotations

import difflib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.adapters.console import render_card
from bot.app import default_library
from bot.core.cards import CardTone
from bot.core.commands.router import error_card
from bot.core.content.regions import closest_regions, normalise_region, search_regions
from bot.core.content.validation import check_text, check_url, clean_text
from bot.core.errors import UnknownChoice, ValidationFailed
from bot.core.models import Platform
from bot.core.scheduling.schedules import ScheduleService
from bot.core.scheduling.timezones import (
    ResolvedZone,
    closest_timezones,
    parse_timezone,
    resolve_timezone,
    stored_timezone,
)
from bot.core.support import SupportService
from bot.storage.repositories import SqlCommunityRepository, SqlStateRepository
from bot.storage.schedule_store import SqlScheduleStore
from tests.core.conftest import Stack
from tests.test_scheduler_helpers import RecordingPublisher, SimClock

# ---------------------------------------------------------------------------------------------
# Unicode in text.

PRIDE_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈
TRANS_FLAG = "\U0001f3f3\ufe0f\u200d\u26a7\ufe0f"  # 🏳️‍⚧️
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
SKIN_TONE = "\U0001f44d\U0001f3fd"  # 👍🏽
KEYCAP = "#\ufe0f\u20e3"  # #️⃣
CURLY_HAIR = "\U0001f9d1\U0001f3fd\u200d\U0001f9b1"  # 🧑🏽‍🦱: skin tone, then a joiner
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
PERSIAN = "می\u200cخواهم"  # "I want": the non-joiner is part of the spelling


@pytest.mark.parametrize(
    "text",
    [
        f"Pride {PRIDE_FLAG} night",
        f"{TRANS_FLAG} Trans peer support",
        f"Family {FAMILY} time",
        f"Thanks {SKIN_TONE}",
        f"Press {KEYCAP} to continue",
        f"Hair day {CURLY_HAIR}",
        f"{SCOTLAND} LGBT Youth Scotland",
        PERSIAN,
        f"{PRIDE_FLAG}{TRANS_FLAG}{FAMILY}",
    ],
)
def test_emoji_sequences_are_accepted_in_any_text(text: str) -> None:
    assert check_text("title", text, max_length=80) == []
    assert clean_text("text", text, max_length=300, allow_newlines=True) == text


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Samar\u200bitans", "U+200B ZERO WIDTH SPACE"),
        ("evil\u202etxt.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("x\u061cy", "U+061C ARABIC LETTER MARK"),
        ("\ufeffHello", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("word\u2060joiner", "U+2060 WORD JOINER"),
        ("Samar\u200ditans", "U+200D ZERO WIDTH JOINER"),  # a joiner between letters
        (f"hi\u200d{PRIDE_FLAG}", "U+200D ZERO WIDTH JOINER"),  # a letter before it
        (f"{PRIDE_FLAG}\u200d", "U+200D ZERO WIDTH JOINER"),  # nothing after it
        ("Line\U000e0041\U000e0042", "U+E0041 TAG LATIN CAPITAL LETTER A"),  # hidden tag text
    ],
)
def test_lone_invisible_characters_are_refused_by_code_point(text: str, named: str) -> None:
    [problem] = check_text("title", text, max_length=80)
    assert problem.startswith("title: ")
    assert named in problem


def test_a_stray_joiner_is_explained() -> None:
    [problem] = check_text("title", "Samar\u200ditans", max_length=80)
    assert "fine only inside an emoji" in problem


@pytest.mark.parametrize(
    "text",
    [
        b"caf\xe9 night".decode("utf-8", errors="surrogateescape"),  # Latin-1 bytes
        b"caf\xe9 night".decode("utf-8", errors="replace"),  # U+FFFD
    ],
)
def test_text_that_was_not_utf8_gets_one_clear_sentence(text: str) -> None:
    problems = check_text("title", text, max_length=80)
    assert problems == ["title: is not valid UTF-8 text; retype or paste it again."]
    with pytest.raises(ValidationFailed) as raised:
        clean_text("title", text, max_length=80)
    assert "control" not in raised.value.message
    assert check_url("url", "https://example.org/" + text) == [
        "url: is not valid UTF-8 text; retype or paste it again."
    ]


# ---------------------------------------------------------------------------------------------
# Over-long input is refused before any fuzzy matching.

HUGE = "Europe/Londonx" * 71_429  # a million characters, close enough to tempt difflib
# Longer than any name a person types, far shorter than HUGE.
FUZZY_LIMIT = 1_000


class _BoundedMatcher(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """difflib's matcher, failing the test when handed the over-long text: fuzzy matching
    1 MB takes minutes, so the refusal must come before any of it."""

    def set_seq1(self, a: Any) -> None:
        assert len(a) <= FUZZY_LIMIT, f"difflib was given {len(a)} characters"
        super().set_seq1(a)

    def set_seq2(self, b: Any) -> None:
        assert len(b) <= FUZZY_LIMIT, f"difflib was given {len(b)} characters"
        super().set_seq2(b)


@pytest.fixture(autouse=True)
def _no_fuzzy_matching_of_huge_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every module calls difflib.SequenceMatcher / get_close_matches through the module, and
    # get_close_matches builds its matcher from the same name.
    monkeypatch.setattr(difflib, "SequenceMatcher", _BoundedMatcher)


def quickly(call: Callable[[], Any]) -> tuple[Any, ValidationFailed | None]:
    """Run `call`: it must refuse or answer without fuzzy matching the text (checked by the
    fixture above) and within a second of this process's own CPU time, which other busy
    processes on the machine do not inflate as they do the wall clock."""
    started = time.process_time()
    try:
        result, error = call(), None
    except ValidationFailed as raised:  # UnknownChoice is a ValidationFailed
        result, error = None, raised
    assert time.process_time() - started < 1.0
    return result, error


def test_a_million_character_time_zone_is_refused_at_once() -> None:
    assert len(HUGE) >= 1_000_000
    _, error = quickly(lambda: parse_timezone(HUGE))
    assert isinstance(error, ValidationFailed)
    assert error.message == (
        f"time zone: is {len(HUGE)} characters; a time zone name is at most 64."
    )
    assert quickly(lambda: closest_timezones(HUGE)) == ([], None)


def test_a_million_character_region_is_refused_at_once() -> None:
    _, error = quickly(lambda: normalise_region(HUGE))
    assert isinstance(error, UnknownChoice)
    assert error.message == f"region: is {len(HUGE)} characters; a region name is at most 64."
    assert quickly(lambda: closest_regions(HUGE)) == ([], None)
    assert quickly(lambda: search_regions(HUGE)) == ([], None)


async def test_a_million_character_topic_is_refused_at_once(stack: Stack) -> None:
    index = await stack.support.index(stack.ctx().community_id)
    _, error = quickly(lambda: stack.support.resolve_topic(index, HUGE))
    assert isinstance(error, UnknownChoice)
    assert error.message == f"topic: is {len(HUGE)} characters; a topic name is at most 64."
    assert quickly(lambda: stack.support.topic_choices(stack.ctx().community_id, HUGE)) == (
        [],
        None,
    )
    card = await stack.router.support(stack.ctx(), HUGE, None)
    assert card.tone is CardTone.ERROR
    assert "a topic name is at most 64" in card.body


def test_names_at_the_limit_still_get_suggestions() -> None:
    assert closest_timezones("Europe/Londn")[0] == "Europe/London"
    assert closest_regions("Germny")[0] == "DE"


# ---------------------------------------------------------------------------------------------
# Time zones as people say them.


@pytest.mark.parametrize("typed", ["GMT", "gmt", "BST", "UK", "London", "Britain", "england"])
def test_british_names_give_europe_london_and_say_it_follows_summer_time(typed: str) -> None:
    resolved = resolve_timezone(typed)
    assert resolved.name == "Europe/London"
    assert resolved.note is not None
    assert "Europe/London" in resolved.note and "summer time (BST)" in resolved.note
    assert parse_timezone(typed) == "Europe/London"


def test_gmt_note_says_how_to_get_gmt_all_year() -> None:
    assert resolve_timezone("GMT") == ResolvedZone(
        "Europe/London",
        "GMT is taken as Europe/London, which follows summer time (BST) from March to October. "
        "For GMT all year, use UTC.",
    )


@pytest.mark.parametrize(
    ("typed", "zone", "summer"),
    [
        ("EST", "America/New_York", "EDT"),
        ("EDT", "America/New_York", "EDT"),
        ("ET", "America/New_York", "EDT"),
        ("CST", "America/Chicago", "CDT"),
        ("cdt", "America/Chicago", "CDT"),
        ("CT", "America/Chicago", "CDT"),
        ("MST", "America/Denver", "MDT"),
        ("MT", "America/Denver", "MDT"),
        ("PST", "America/Los_Angeles", "PDT"),
        ("PDT", "America/Los_Angeles", "PDT"),
        ("PT", "America/Los_Angeles", "PDT"),
        ("CET", "Europe/Paris", "CEST"),
        ("CEST", "Europe/Paris", "CEST"),
    ],
)
def test_common_abbreviations_give_the_city_zone_with_a_note(
    typed: str, zone: str, summer: str
) -> None:
    resolved = resolve_timezone(typed)
    assert resolved.name == zone
    assert resolved.note is not None
    assert resolved.note.startswith(f"{typed.upper()} is taken as {zone}")
    assert f"({summer})" in resolved.note


def test_exact_names_need_no_note() -> None:
    assert resolve_timezone("Europe/London") == ResolvedZone("Europe/London")
    assert resolve_timezone("america/new_york") == ResolvedZone("America/New_York")
    assert resolve_timezone("UTC") == ResolvedZone("UTC")


def test_a_stored_zone_is_kept_exactly() -> None:
    # Stored names were canonical when accepted: a stored fixed EST stays EST.
    assert stored_timezone("EST") == "EST"
    assert stored_timezone("Europe/London") == "Europe/London"


def test_ist_is_ambiguous_and_asks() -> None:
    with pytest.raises(UnknownChoice) as raised:
        resolve_timezone("IST")
    error = raised.value
    assert error.message == "time zone 'IST' is used for India, Ireland and Israel."
    assert error.choices == ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")
    assert error.hint.startswith("Which did you mean?")
    assert "Did you mean Asia/Kolkata" not in error.hint  # no one of them is closer


@pytest.mark.parametrize("typed", ["UTC+3", "utc+3", "GMT+3", "+3", "UTC +03:00", "+0300"])
def test_a_fixed_offset_is_explained_not_mapped(typed: str) -> None:
    with pytest.raises(UnknownChoice) as raised:
        resolve_timezone(typed)
    error = raised.value
    assert error.message == f"time zone '{typed}' is a fixed offset (UTC+3), not a place."
    assert error.choices[0] == "Europe/Moscow"
    assert "Asia/Riyadh" in error.choices
    assert error.hint.startswith("Did you mean Europe/Moscow?")
    assert "does not follow summer time" in error.hint
    assert "its IANA name is Etc/GMT-3 (the sign is inverted in Etc/ names)" in error.hint
    assert "Etc/GMT+3" not in error.hint


def test_a_negative_offset_names_the_inverted_etc_zone() -> None:
    with pytest.raises(UnknownChoice) as raised:
        resolve_timezone("GMT-5")
    assert "America/New_York" in raised.value.choices
    assert "Etc/GMT+5" in raised.value.hint and "Etc/GMT-5" not in raised.value.hint


def test_a_half_hour_offset_has_no_etc_zone() -> None:
    with pytest.raises(UnknownChoice) as raised:
        resolve_timezone("UTC+05:30")
    assert raised.value.choices[0] == "Asia/Kolkata"
    assert "no fixed-offset IANA name for UTC+5:30" in raised.value.hint
    assert "Etc/" not in raised.value.hint


def test_offsets_zero_and_out_of_range() -> None:
    assert resolve_timezone("UTC+0").name == "UTC"
    with pytest.raises(UnknownChoice) as raised:
        resolve_timezone("UTC+15")
    assert "not a real UTC offset" in raised.value.message


def test_autocomplete_understands_what_people_say() -> None:
    assert closest_timezones("BST")[0] == "Europe/London"
    assert closest_timezones("PST")[0] == "America/Los_Angeles"
    assert closest_timezones("UTC+3")[0] == "Europe/Moscow"
    assert closest_timezones("IST")[:3] == ["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"]


@pytest.fixture
async def schedule_service(stack: Stack) -> AsyncIterator[ScheduleService]:
    yield ScheduleService(
        SqlScheduleStore(stack.db),
        SqlCommunityRepository(stack.db),
        stack.support,
        {Platform.CONSOLE: RecordingPublisher(Platform.CONSOLE, SimClock(stack.clock.now()))},
        stack.clock,
        wake=lambda: None,
    )


async def test_schedule_add_with_bst_or_gmt_says_it_follows_summer_time(
    stack: Stack, schedule_service: ScheduleService
) -> None:
    added = await schedule_service.add(
        stack.ctx(), channel="#welcome", when="daily 09:00", topic="coming-out", timezone="BST"
    )
    assert added.schedule.timezone == "Europe/London"
    assert added.notes[0].startswith("BST is taken as Europe/London, which follows summer time")
    added = await schedule_service.add(
        stack.ctx(), channel="#welcome", when="daily 10:00", topic="crisis", timezone="gmt"
    )
    assert added.schedule.timezone == "Europe/London"
    assert "For GMT all year, use UTC." in added.notes[0]


async def test_schedule_add_with_a_fixed_offset_is_refused_with_city_zones(
    stack: Stack, schedule_service: ScheduleService
) -> None:
    with pytest.raises(UnknownChoice) as raised:
        await schedule_service.add(
            stack.ctx(), channel="#welcome", when="daily 10:00", topic="crisis", timezone="UTC+3"
        )
    card = error_card(raised.value)
    assert card.tone is CardTone.ERROR
    assert card.choices[0].value == "Europe/Moscow"
    assert "Etc/GMT-3" in card.footer
    assert await schedule_service.list(stack.ctx()) == ()


async def test_schedule_add_without_a_zone_has_no_zone_note(
    stack: Stack, schedule_service: ScheduleService
) -> None:
    added = await schedule_service.add(
        stack.ctx(), channel="#welcome", when="daily 09:00", topic="coming-out"
    )
    assert added.schedule.timezone == "UTC"
    assert not any("is taken as" in note for note in added.notes)


# ---------------------------------------------------------------------------------------------
# Topics: aliases and typos.


@pytest.fixture
def shipped(stack: Stack) -> SupportService:
    """A SupportService whose default library is the shipped pack (all eight topics)."""
    return SupportService(
        stack.content,
        SqlCommunityRepository(stack.db),
        SqlStateRepository(stack.db),
        stack.clock,
        default_library,
    )


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("comming-out", "coming-out"),
        ("Coming Out", "coming-out"),
        ("trans", "trans-and-gender"),
        ("gender", "trans-and-gender"),
        ("non-binary", "trans-and-gender"),
        ("lgbt", "general"),
        ("LGBTQ+", "general"),
        ("outed", "being-outed"),
        ("being oted", "being-outed"),
        ("bullying", "harassment"),
        ("harrassment", "harassment"),
        ("harass", "harassment"),
        ("suicide", "crisis"),
        ("suicidal", "crisis"),
        ("emergency", "crisis"),
        ("depression", "mental-health"),
        ("anxiety", "mental-health"),
        ("parents", "family"),
        ("famly", "family"),
    ],
)
def test_topic_aliases_and_close_typos_resolve(
    shipped: SupportService, typed: str, slug: str
) -> None:
    assert shipped.resolve_topic(shipped.default_index(), typed).slug == slug


@pytest.mark.parametrize(
    ("typed", "first", "also"),
    [
        ("gen", "trans-and-gender", "general"),  # general, or gender?
        ("out", "coming-out", "being-outed"),
    ],
)
def test_ambiguous_topics_are_asked_with_the_closest_first(
    shipped: SupportService, typed: str, first: str, also: str
) -> None:
    with pytest.raises(UnknownChoice) as raised:
        shipped.resolve_topic(shipped.default_index(), typed)
    assert raised.value.choices[:2] == (first, also)
    assert raised.value.hint.startswith(f"Did you mean {first}?")


def test_far_topics_list_every_topic_alphabetically_without_a_guess(
    shipped: SupportService,
) -> None:
    with pytest.raises(UnknownChoice) as raised:
        shipped.resolve_topic(shipped.default_index(), "zzzz")
    error = raised.value
    slugs = sorted(topic.slug for topic in shipped.default_index().topics)
    assert error.choices == tuple(slugs)  # nothing is closer: ties are alphabetical
    assert "Did you mean" not in error.hint


def test_topic_autocomplete_knows_aliases_and_typos(shipped: SupportService) -> None:
    values = [choice.value for choice in shipped.topic_choices("nobody", "suic")]
    assert values == ["crisis"]
    assert shipped.topic_choices("nobody", "comming")[0].value == "coming-out"
    assert len(shipped.topic_choices("nobody", "")) == 8


async def test_support_command_understands_typos_and_aliases(stack: Stack) -> None:
    card = await stack.router.run_text(stack.ctx(), "/support comming-out UK")
    assert (card.tone, card.topic, card.region) == (CardTone.SUPPORT, "coming-out", "GB")
    card = await stack.router.run_text(stack.ctx(), "/support suicidal UK")
    assert (card.topic, card.region) == ("crisis", "GB")


# ---------------------------------------------------------------------------------------------
# "Did you mean": closest first, labelled, once.


async def test_unknown_topic_lists_the_choices_once(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "coming-in", None)
    assert card.tone is CardTone.ERROR
    assert card.choices[0].value == "coming-out"
    assert card.choices[0].label == "Coming out"
    assert card.footer.startswith("Did you mean coming-out?")
    shown = render_card(card)
    # The closest is named once in the hint and once in the list; the others only in the list.
    assert shown.count("coming-out") == 2, shown
    assert shown.count("harassment") == 1 and shown.count("crisis") == 1, shown
    assert "Try one of" not in shown


async def test_unknown_region_says_the_closest_once(stack: Stack) -> None:
    card = await stack.router.support(stack.ctx(), "general", "Germny")
    assert card.choices[0].value == "DE"
    assert card.choices[0].label == "Germany"
    assert "Did you mean DE (Germany)?" in card.footer
    assert render_card(card).count("GG") == 1


@pytest.mark.parametrize(
    ("raise_it", "heading", "first"),
    [
        (lambda: normalise_region("Germny"), "Closest regions", "DE"),
        (lambda: parse_timezone("Europe/Londn"), "Closest time zones", "Europe/London"),
    ],
)
def test_every_did_you_mean_is_labelled(
    raise_it: Callable[[], object], heading: str, first: str
) -> None:
    with pytest.raises(UnknownChoice) as raised:
        raise_it()
    error = raised.value
    assert error.heading == heading
    assert error.choices[0] == first
    assert str(error).count(f"{heading}: {first}") == 1
    assert error.hint.count("Did you mean") == 1


def test_labels_for_topics_and_commands() -> None:
    assert UnknownChoice("Topic", "x", ["crisis"]).heading == "Closest topics"
    assert UnknownChoice("Command", "/suport", ["/support"]).heading == "Closest commands"
    error = UnknownChoice("Command", "/suport", ["/support", "/support-admin"])
    assert error.hint == "Did you mean /support?"
    assert "/support-admin" not in error_card(error).footer  # the list is the card's choices
    assert [c.value for c in error_card(error).choices] == ["/support", "/support-admin"]
