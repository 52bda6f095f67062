"""The right line first, as a person sees it: the shipped pack through the console's own
rendering, at a fixed clock (03:00 and 14:00 Europe/London).

Findings of the second content audit (2026-12-01): Childline (for under-19s) came first, or
was the only round-the-clock line, for every GB topic; Samaritans and Shout never appeared for
coming-out, harassment or gender; a closed line could come before an open 24/7 line at night.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.console import console_context, render_card
from bot.app import open_services
from bot.core.cards import Card
from bot.services import Services
from bot.settings import Settings
from tests.conftest import FixedClock

# 03:00 in London on 1 December (GMT, so 03:00 UTC); 14:00 the same day.
NIGHT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
AFTERNOON = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
ALL_AGES_24_7 = ("Samaritans", "Shout 85258")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[tuple[Services, FixedClock]]:
    clock = FixedClock(NIGHT)
    async with open_services(Settings(database_path=tmp_path / "haven.db"), clock=clock) as found:
        yield found, clock


async def ask(services: Services, line: str) -> tuple[Card, str]:
    card = await services.router.run_text(console_context(), line)
    return card, render_card(card)


def titles(card: Card) -> list[str]:
    return [r.title for r in card.resources]


def badges(card: Card, title: str) -> tuple[str, ...]:
    return next(r.badges for r in card.resources if r.title == title)


@pytest.mark.parametrize("topic", ["coming-out", "harassment", "trans-and-gender", "being-outed"])
@pytest.mark.parametrize("moment", [NIGHT, AFTERNOON])
async def test_gb_topics_show_samaritans_or_shout_and_childline_only_after_them(
    services: tuple[Services, FixedClock], topic: str, moment: datetime
) -> None:
    found, clock = services
    clock.current = moment
    card, shown = await ask(found, f"/support {topic} GB")
    names = titles(card)
    first_all_ages = min(names.index(n) for n in ALL_AGES_24_7 if n in names)
    assert any(n in names for n in ALL_AGES_24_7), (topic, names)
    if "Childline" in names:
        assert names.index("Childline") > first_all_ages, names
        assert "for people under 19" in badges(card, "Childline")
    assert "Samaritans" in shown or "Shout" in shown


async def test_gb_mental_health_at_night_lists_childline_labelled_after_all_ages_lines(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, shown = await ask(found, "/support mental-health GB")
    names = titles(card)
    assert names[:2] == ["Samaritans", "Shout 85258"], names
    assert names.index("Childline") > 1
    assert "• Childline — childline.org.uk  [24/7, for people under 19]" in shown


async def test_gb_crisis_emergency_number_then_all_ages_24_7_lines_then_the_rest(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, _shown = await ask(found, "/support crisis GB")
    assert card.body.startswith("If you are in immediate danger, call 999 now.")
    assert titles(card)[:3] == ["Samaritans", "Shout 85258", "Childline"]


async def test_at_3am_in_london_closed_lines_come_after_open_24_7_lines_with_their_opening_time(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, shown = await ask(found, "/support coming-out GB")
    names = titles(card)
    # Switchboard (10:00-22:00) is closed at 03:00: Samaritans (24/7) comes first.
    assert names.index("Samaritans") < names.index("Switchboard LGBT+")
    assert "opens 10:00 (your time)" in badges(card, "Switchboard LGBT+")
    assert "opens 10:00 (your time)" in shown
    assert "24/7" in badges(card, "Samaritans")


async def test_in_the_afternoon_the_topics_own_open_line_comes_first_and_says_open_now(
    services: tuple[Services, FixedClock],
) -> None:
    found, clock = services
    clock.current = AFTERNOON
    card, _ = await ask(found, "/support coming-out GB")
    assert titles(card)[0] == "Switchboard LGBT+"
    assert "open now" in badges(card, "Switchboard LGBT+")


async def test_opening_times_are_shown_in_the_persons_own_time_zone(
    services: tuple[Services, FixedClock],
) -> None:
    # Trans Lifeline opens 10:00 Pacific on weekdays: 13:00 in New York, where a US person's
    # time is read from (03:00 UTC on Tuesday is 22:00 Monday in New York, after closing).
    found, _ = services
    card, _ = await ask(found, "/support trans-and-gender US")
    assert "opens Tue 13:00 (your time)" in badges(card, "Trans Lifeline")
    names = titles(card)
    assert names.index("Trans Lifeline") > names.index("988 Suicide & Crisis Lifeline")


async def test_a_community_time_zone_is_the_persons_time_for_its_own_country(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    ctx = console_context()
    await found.router.run_text(ctx, "/support-admin settings region US")
    await found.router.run_text(ctx, "/support-admin settings timezone America/Los_Angeles")
    card = await found.router.run_text(ctx, "/support trans-and-gender")
    # 19:00 on Monday in Los Angeles: Trans Lifeline opens at 10:00 there on Tuesday.
    assert "opens Tue 10:00 (your time)" in badges(card, "Trans Lifeline")


async def test_us_crisis_keeps_the_under_25_line_after_the_all_ages_lines_and_labelled(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, _ = await ask(found, "/support crisis US")
    names = titles(card)
    assert names[:2] == ["988 Suicide & Crisis Lifeline", "Crisis Text Line"]
    assert "for people under 25" in badges(card, "The Trevor Project")


async def test_au_kids_helpline_is_labelled_with_its_ages_and_follows_lifeline(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, _ = await ask(found, "/support crisis AU")
    names = titles(card)
    assert names[0] == "Lifeline Australia"
    assert "for ages 5 to 25" in badges(card, "Kids Helpline")


async def test_ie_crisis_shows_its_emergency_numbers_and_pieta(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, _ = await ask(found, "/support crisis IE")
    assert card.body.startswith("If you are in immediate danger, call 112 or 999 now.")
    assert "Pieta" in titles(card)
    ca, _ = await ask(found, "/support crisis CA")
    assert ca.body.startswith("If you are in immediate danger, call 911 now.")


@pytest.mark.parametrize("topic", ["general", "coming-out", "family", "trans-and-gender", "crisis"])
async def test_with_no_region_every_topic_offers_find_a_helpline_and_promises_no_listener(
    services: tuple[Services, FixedClock], topic: str
) -> None:
    found, _ = services
    card, _ = await ask(found, f"/support {topic}")
    assert "Find A Helpline" in titles(card)
    assert "the people below are there to listen" not in card.body


async def test_family_never_shows_a_parent_the_message_written_to_the_person_who_came_out(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    seen: set[str] = set()
    bodies: dict[str, str] = {}
    for _ in range(12):
        card, _ = await ask(found, "/support family GB")
        assert card.message_key is not None
        seen.add(card.message_key)
        bodies[card.message_key] = card.body
    assert "coming-out-hard-reaction" not in seen
    assert "family-someone-came-out" in seen
    # The message written to family members says so.
    assert bodies["family-someone-came-out"].startswith("For parents and families: ")


NEW_COUNTRIES = {
    "DE": ("Germany", "TelefonSeelsorge"),
    "FR": ("France", "3114"),
    "ES": ("Spain", "Línea 024"),
    "IT": ("Italy", "Telefono Amico Italia"),
    "NL": ("the Netherlands", "113 Zelfmoordpreventie"),
    "BR": ("Brasil", "CVV – Centro de Valorização da Vida"),
    "MX": ("México", "Línea de la Vida"),
    "IN": ("India", "Tele-MANAS"),
    "PH": ("Philippines", "NCMH Crisis Hotline"),
    "PL": ("Polska", "Centrum Wsparcia"),
}


EUROPEAN_UNION = {"DE", "FR", "ES", "IT", "NL", "PL"}


@pytest.mark.parametrize("code", sorted(NEW_COUNTRIES))
async def test_each_new_country_answers_crisis_with_a_verified_crisis_line(
    services: tuple[Services, FixedClock], code: str
) -> None:
    found, _ = services
    name, line = NEW_COUNTRIES[code]
    card, shown = await ask(found, f'/support crisis "{name}"')
    assert card.region == code, card.body
    assert titles(card)[0] == line
    first = card.resources[0]
    assert first.last_verified == "checked 2026-12-01"
    if code in EUROPEAN_UNION:
        # 112, the single European emergency number, leads the crisis answer.
        assert card.body.startswith("If you are in immediate danger, call 112 now.")
    else:
        # Its emergency number was not re-checked, so none is printed as if verified.
        assert "call your local emergency number" in card.body
    assert line in shown


async def test_italy_at_3am_says_when_its_crisis_line_opens(
    services: tuple[Services, FixedClock],
) -> None:
    found, _ = services
    card, _ = await ask(found, "/support crisis IT")
    assert "opens 10:00 (your time)" in badges(card, "Telefono Amico Italia")


def test_the_built_in_fallback_sentence_promises_no_listener() -> None:
    # It may stand above directories alone (no country known), which are not helplines.
    from bot.core.support import FALLBACK_MESSAGE

    assert "listen" not in FALLBACK_MESSAGE.text
    assert "links below" in FALLBACK_MESSAGE.text


def test_an_existing_communitys_copy_after_revision_0007_already_puts_all_ages_lines_first() -> (
    None
):
    # What 0007 leaves an older copy of the pack: no ranks (100), no structured hours, and
    # only Childline's and Trevor's ages filled in. Samaritans is then the GB safety net and
    # Childline, labelled, follows the all-ages 24/7 lines.
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    from bot.core.content.library_index import LibraryIndex
    from bot.core.content.packs import load_default_pack
    from bot.core.models import Audience
    from bot.core.ports import Library
    from bot.core.support_selection import pick_resources

    pack = load_default_pack()
    old = tuple(
        replace(
            r,
            rank=100,
            opening_hours="",
            timezone="",
            audience=Audience.YOUNG_PEOPLE if r.key == "gb-childline" else Audience.EVERYONE,
            age_min=None,
            age_max=18 if r.key == "gb-childline" else None,
        )
        for r in pack.resources
        if r.regions[0] in ("GB", "IE", "US", "CA", "AU", "NZ", "global")
    )
    index = LibraryIndex.build(Library(pack.topics, pack.messages, old, pack.emergency_numbers))
    london = ZoneInfo("Europe/London")
    for topic in ("coming-out", "harassment", "trans-and-gender"):
        shown, _ = pick_resources(index, topic, "GB", NIGHT, london)
        assert "Samaritans" in [r.title for r in shown], topic
    crisis, _ = pick_resources(index, "crisis", "GB", NIGHT, london)
    assert [r.title for r in crisis][:3] == ["Samaritans", "Shout 85258", "Childline"]
