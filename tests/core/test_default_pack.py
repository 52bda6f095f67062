"""The shipped default pack: people in distress read it, so its safety rules are tested here.

Each rule comes from the research the pack was compiled from (its safety findings and its rules
for messages); each test says which finding it checks.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.app import open_services
from bot.core.content.packs import (
    SUPERSEDED_NUMBERS,
    ParsedPack,
    default_pack_path,
    load_default_pack,
    load_pack_file,
    pack_to_changes,
)
from bot.core.models import Actor, Platform, RequestContext, Resource, community_id_for
from bot.settings import Settings

SHIPPED_REGIONS = ("GB", "IE", "US", "CA", "AU", "NZ")
# The second audit's ten countries (2026-12-01).
NEW_REGIONS = ("DE", "FR", "ES", "IT", "NL", "BR", "MX", "IN", "PH", "PL")
TOPICS = (
    "general",
    "coming-out",
    "being-outed",
    "harassment",
    "crisis",
    "mental-health",
    "trans-and-gender",
    "family",
)
RESEARCH_DATE = date(2026, 11, 28)
AUDIT_DATE = date(2026, 12, 1)


@pytest.fixture(scope="module")
def pack() -> ParsedPack:
    return load_default_pack()


def _resource(pack: ParsedPack, key: str) -> Resource:
    return next(r for r in pack.resources if r.key == key)


def test_the_shipped_pack_parses_with_zero_errors_and_zero_warnings() -> None:
    parsed, problems = load_pack_file(default_pack_path(), today=date(2026, 12, 2))
    assert parsed is not None
    assert problems == []


def test_the_package_copy_is_the_config_copy() -> None:
    # bot/data/default.yaml is a link, so the installed package ships exactly this file.
    config = Path(__file__).resolve().parents[2] / "config" / "packs" / "default.yaml"
    assert default_pack_path().read_bytes() == config.read_bytes()


def test_load_default_pack_is_cached(pack: ParsedPack) -> None:
    assert load_default_pack() is pack
    assert pack.pack_id == "default"
    assert "not a crisis service" in pack.disclaimer


def test_enough_messages_for_every_topic(pack: ParsedPack) -> None:
    assert len(pack.messages) >= 12
    assert {t.slug for t in pack.topics} >= set(TOPICS)
    for topic in TOPICS:
        count = sum(1 for m in pack.messages if topic in m.topics and m.enabled)
        assert count >= 1, f"no message for {topic}"
    at_least_two = [t for t in TOPICS if sum(t in m.topics for m in pack.messages) >= 2]
    assert len(at_least_two) >= 6


def test_messages_are_short_and_keep_the_promised_tone(pack: ParsedPack) -> None:
    banned = ("it gets better", "you're not alone", "you are not alone", "stay strong")
    for message in pack.messages:
        assert len(message.text) <= 280, message.key
        lowered = message.text.lower().replace("’", "'")
        for phrase in banned:
            assert phrase not in lowered, (message.key, phrase)


@pytest.mark.parametrize("region", SHIPPED_REGIONS + NEW_REGIONS)
def test_each_region_has_a_visible_crisis_service_and_an_emergency_number(
    pack: ParsedPack, region: str
) -> None:
    crisis = [r for r in pack.resources if region in r.regions and r.crisis_service and r.visible]
    assert crisis, f"no visible crisis service for {region}"
    assert any(e.region == region for e in pack.emergency_numbers)


def test_emergency_numbers_and_their_review_status(pack: ParsedPack) -> None:
    numbers = {e.region: e for e in pack.emergency_numbers}
    assert (numbers["GB"].number, numbers["GB"].needs_review) == ("999", False)
    assert (numbers["AU"].number, numbers["AU"].needs_review) == ("000", False)
    assert (numbers["NZ"].number, numbers["NZ"].needs_review) == ("111", False)
    assert (numbers["US"].number, numbers["US"].needs_review) == ("911", False)
    # Confirmed in the second audit (§6.1.4): HSE's own page, and Canadian government pages.
    assert (numbers["IE"].number, numbers["IE"].needs_review) == ("112 or 999", False)
    assert (numbers["CA"].number, numbers["CA"].needs_review) == ("911", False)
    # 112 in the EU member states: the single European emergency number (the EU's own words,
    # as quoted in a stored news page); the others are well known but not re-checked in that
    # pass (§6.4), so hidden until a moderator confirms them.
    european = {"DE", "FR", "ES", "IT", "NL", "PL"}
    for region in NEW_REGIONS:
        if region in european:
            assert (numbers[region].number, numbers[region].needs_review) == ("112", False)
        else:
            assert numbers[region].needs_review, region


def test_no_superseded_number_appears_anywhere_in_the_file() -> None:
    text = default_pack_path().read_text("utf-8")
    digits_only = re.sub(r"[^0-9]", "", text)
    assert len(SUPERSEDED_NUMBERS) >= 6  # the checker's own list, with §6.3's Galop lines
    for number, _why in SUPERSEDED_NUMBERS:
        assert number not in text
        assert re.sub(r"[^0-9]", "", number) not in digits_only
    # 988's LGBTQ+ youth option ended in 2025; the pack must not offer it either way.
    assert "press 3" not in text.lower()
    assert "1-800-273-8255" not in text


def test_trans_lifeline_is_not_always_open(pack: ParsedPack) -> None:
    lifelines = [r for r in pack.resources if "Trans Lifeline" in r.title]
    assert len(lifelines) == 2  # the US and the Canadian line
    for resource in lifelines:
        assert not resource.always_open
        assert "24/7" not in resource.hours
        assert "10am to 6pm Pacific" in resource.hours
        # §6.3: "peer support, weekdays only" rather than "not a crisis line".
        assert "Peer support, weekdays only" in resource.description
        assert resource.opening_hours == "Mo-Fr 10:00-18:00"
        assert resource.timezone == "America/Los_Angeles"


def test_qlife_is_not_a_crisis_service_and_points_to_one(pack: ParsedPack) -> None:
    qlife = _resource(pack, "au-qlife")
    assert not qlife.crisis_service
    assert "13 11 14" in qlife.description


def test_mind_infoline_is_not_a_crisis_line(pack: ParsedPack) -> None:
    mind = _resource(pack, "gb-mind-infoline")
    assert not mind.crisis_service
    assert "Not a crisis line" in mind.description


def test_a_visible_directory_for_people_in_other_countries(pack: ParsedPack) -> None:
    directories = [r for r in pack.resources if r.is_global and r.visible and "crisis" in r.topics]
    assert [r.key for r in directories] == ["global-find-a-helpline"]


def test_every_resource_has_a_source_and_a_research_date(pack: ParsedPack) -> None:
    assert len(pack.resources) >= 45
    for resource in pack.resources:
        assert resource.source_url.startswith("https://"), resource.key
        assert resource.last_verified in (RESEARCH_DATE, AUDIT_DATE), resource.key


def test_every_shipped_resource_has_an_explicit_rank(pack: ParsedPack) -> None:
    for resource in pack.resources:
        assert resource.rank < 100, resource.key


def test_age_limited_services_carry_their_audience(pack: ParsedPack) -> None:
    childline = _resource(pack, "gb-childline")
    assert (childline.audience, childline.age_min, childline.age_max) == ("young-people", None, 18)
    kids = _resource(pack, "au-kids-helpline")
    assert (kids.age_min, kids.age_max) == (5, 25) and kids.always_open and kids.crisis_service
    assert _resource(pack, "us-trevor-project").age_max == 24
    # Ranked after the all-ages 24/7 lines of their country.
    assert childline.rank > _resource(pack, "gb-samaritans").rank
    assert childline.rank > _resource(pack, "gb-shout").rank


def test_pieta_is_listed_for_ireland(pack: ParsedPack) -> None:
    pieta = _resource(pack, "ie-pieta")
    assert pieta.visible and pieta.crisis_service and pieta.always_open
    assert [c.display for c in pieta.contacts] == ["1800 247 247", "Text HELP to 51444"]


def test_messages_follow_the_second_audits_wording(pack: ParsedPack) -> None:
    text = {m.key: m.text for m in pack.messages}
    assert "a mod," not in text["crisis-talk-today"]
    assert "someone you trust, or a crisis line" in text["crisis-talk-today"]
    assert "may be able to help" in text["harassment-help-here"]
    assert "call a crisis line or your local emergency number" in text["crisis-thoughts-of-suicide"]
    by_key = {m.key: m for m in pack.messages}
    assert "family" not in by_key["coming-out-hard-reaction"].topics
    assert by_key["family-someone-came-out"].audience == "parents-and-families"


def test_unconfirmed_entries_are_hidden_and_explained(pack: ParsedPack) -> None:
    needs_review = {r.key for r in pack.resources if r.needs_review}
    # Only third-party (C) evidence for what a person would act on.
    assert {"us-lgbt-national-hotline", "nz-outline", "global-iasp"} <= needs_review
    for key in needs_review:
        assert pack.note_for(key), f"{key} needs notes_for_mods saying what to confirm"


def test_third_party_only_numbers_are_left_out_of_verified_entries(pack: ParsedPack) -> None:
    # Switchboard's and LGBT Ireland's numbers were seen only in third-party code: the entries
    # stay visible for their verified web links, without a phone contact.
    for key in ("gb-switchboard", "ie-lgbt-ireland"):
        resource = _resource(pack, key)
        assert resource.visible
        assert not any(c.kind == "phone" for c in resource.contacts)
        assert "confirm" in pack.note_for(key)


def test_shout_text_contact_reads_exactly_as_published(pack: ParsedPack) -> None:
    shout = _resource(pack, "gb-shout")
    assert [c.display for c in shout.contacts] == ["Text SHOUT to 85258"]
    assert shout.crisis_service and shout.always_open


def test_phone_numbers_have_e164_short_codes_included(pack: ParsedPack) -> None:
    expected = {
        ("gb-samaritans", "116 123"): "+44116123",
        ("gb-galop", "0800 999 5428"): "+448009995428",
        ("au-lifeline", "13 11 14"): "+61131114",
        ("us-trevor-project", "1-866-488-7386"): "+18664887386",
        ("ie-samaritans", "116 123"): "+353116123",
    }
    for (key, display), e164 in expected.items():
        contact = next(c for c in _resource(pack, key).contacts if c.display == display)
        assert contact.e164 == e164
    # Short codes (988, 1737) are read by libphonenumber like every number, so they link too;
    # tests/core/test_phones.py checks every shipped number's tel: link.
    for resource in pack.resources:
        for contact in resource.contacts:
            if contact.kind == "phone":
                assert contact.e164 is not None, (resource.key, contact.display)


def test_pack_to_changes_carries_everything(pack: ParsedPack) -> None:
    changes = pack_to_changes(pack)
    assert changes.topics == pack.topics
    assert changes.upsert_messages == pack.messages
    assert changes.upsert_resources == pack.resources
    assert changes.emergency_numbers == pack.emergency_numbers


async def test_every_topic_without_a_region_offers_a_helpline_directory(
    pack: ParsedPack, tmp_path: Path
) -> None:
    # With no country known, an answer of guides or directories of groups alone (ILGA World
    # for coming-out) gives nobody to talk to: every topic offers a directory of helplines.
    helpline_directories = {
        r.title for r in pack.resources if r.is_global and r.visible and "crisis" in r.topics
    }
    assert helpline_directories == {"Find A Helpline"}
    async with open_services(Settings(database_path=tmp_path / "haven.db")) as services:
        ctx = RequestContext(
            community_id=community_id_for(Platform.CONSOLE, "no-region"),
            platform=Platform.CONSOLE,
            actor=Actor(id="asker"),
        )
        for topic in TOPICS:
            card = await services.router.support(ctx, topic, None)
            assert card.region is None and card.topic == topic
            shown = {r.title for r in card.resources}
            assert shown & helpline_directories, (topic, shown)
            # The answer when storage fails follows the same rule.
            fallback = await services.support.fallback_card(topic)
            assert {r.title for r in fallback.resources} & helpline_directories, topic
