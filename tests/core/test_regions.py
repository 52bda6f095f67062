"""Regions: what people type becomes an ISO code, names read well, and typos get suggestions."""

from __future__ import annotations

import pytest

from bot.core.content.regions import (
    REGION_NAMES,
    closest_regions,
    is_region_code,
    normalise_region,
    region_name,
    search_regions,
)
from bot.core.errors import UnknownChoice, ValidationFailed
from tests.core.conftest import Stack


def test_table_covers_iso_3166_1() -> None:
    # 249 ISO 3166-1 entries plus Kosovo's widely used XK.
    assert len(REGION_NAMES) == 250
    assert all(len(code) == 2 and code.isupper() for code in REGION_NAMES)
    for code in ("GB", "IE", "US", "CA", "AU", "NZ", "NO", "XK"):
        assert is_region_code(code)
    assert not is_region_code("UK")
    assert not is_region_code("gb")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("UK", "GB"),
        ("uk", "GB"),
        ("U.K.", "GB"),
        ("England", "GB"),
        ("scotland", "GB"),
        ("Wales", "GB"),
        ("Northern Ireland", "GB"),
        ("Britain", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom", "GB"),
        ("gb", "GB"),
        ("GBR", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("united states", "US"),
        ("Aotearoa", "NZ"),
        ("new zealand", "NZ"),
        ("Eire", "IE"),
        ("Éire", "IE"),
        ("IRELAND", "IE"),
        ("Canada", "CA"),
        ("australia", "AU"),
        ("The Netherlands", "NL"),
        ("Holland", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("cote d’ivoire", "CI"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Korea, Republic of", "KR"),
        ("  Germany  ", "DE"),
        ("no", "NO"),  # Norway: a code, not a "no"
        ("🇳🇿", "NZ"),
    ],
)
def test_normalise_region_accepts_what_people_type(typed: str, code: str) -> None:
    assert normalise_region(typed) == code


def test_region_names() -> None:
    assert region_name("GB") == "United Kingdom"
    assert region_name("gb") == "United Kingdom"
    assert region_name("NZ") == "New Zealand"
    assert region_name("IE") == "Ireland"
    assert region_name("KR") == "South Korea"
    assert region_name("global") == "Worldwide"
    # Display never fails: an unknown code comes back as it was.
    assert region_name("ZZ") == "ZZ"


def test_unknown_region_offers_the_closest_first() -> None:
    with pytest.raises(UnknownChoice) as raised:
        normalise_region("Englnd")
    error = raised.value
    assert isinstance(error, ValidationFailed)
    assert error.what == "Region"
    assert error.given == "Englnd"
    assert error.choices[0] == "GB"
    assert "Region 'Englnd' is not one I know." in error.message
    assert "GB (United Kingdom)" in error.hint


def test_typo_in_a_country_name() -> None:
    with pytest.raises(UnknownChoice) as raised:
        normalise_region("Gremany")
    assert raised.value.choices[0] == "DE"


def test_ambiguous_name_lists_both() -> None:
    with pytest.raises(UnknownChoice) as raised:
        normalise_region("Korea")
    assert set(raised.value.choices[:2]) == {"KR", "KP"}


def test_nothing_close_still_says_what_to_type() -> None:
    with pytest.raises(UnknownChoice) as raised:
        normalise_region("zz")
    assert raised.value.choices == ()
    assert "two-letter code" in raised.value.hint


def test_closest_regions_prefers_names_over_aliases() -> None:
    found = closest_regions("united")
    assert found.index("GB") < found.index("MX")  # "United Mexican States" is only an alias
    assert closest_regions("ire")[0] == "IE"
    assert closest_regions("") == []
    assert len(closest_regions("a", limit=3)) == 3


def test_search_regions_puts_covered_regions_first() -> None:
    results = search_regions("ir", covered={"IE"})
    assert results[0] == ("IE", "Ireland")
    codes = [code for code, _ in results]
    assert "IR" in codes and "IQ" in codes


def test_search_regions_with_no_prefix_lists_covered_then_all() -> None:
    results = search_regions("", limit=25, covered={"NZ", "GB"})
    assert [code for code, _ in results[:2]] == ["NZ", "GB"]  # by name: New Zealand, United...
    assert len(results) == 25


async def test_region_choices_without_a_community_put_the_shipped_packs_regions_first(
    stack: Stack,
) -> None:
    covered = stack.support.default_index().covered_regions
    assert covered and len(covered) < 25  # the sample library covers a few countries
    codes = [choice.value for choice in stack.support.region_choices("")[: len(covered)]]
    assert sorted(codes) == sorted(covered)


def test_search_regions_matches_codes_aliases_and_words() -> None:
    assert search_regions("us", covered=())[0] == ("US", "United States")
    assert ("GB", "United Kingdom") in search_regions("eng", covered=())
    assert ("NZ", "New Zealand") in search_regions("zeal", covered=())
    assert search_regions("qqq", covered=()) == []


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Alemania", "DE"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Alemanha", "DE"),
        ("ALEMANIA", "DE"),
        ("españa", "ES"),
        ("Espana", "ES"),
        ("Espagne", "ES"),
        ("Spanien", "ES"),
        ("Reino Unido", "GB"),
        ("Royaume-Uni", "GB"),
        ("Vereinigtes Königreich", "GB"),
        ("vereinigtes konigreich", "GB"),
        ("Estados Unidos", "US"),
        ("États-Unis", "US"),
        ("etats unis", "US"),
        ("Brasil", "BR"),
        ("Brésil", "BR"),
        ("México", "MX"),
        ("Mexique", "MX"),
        ("Suíça", "CH"),
        ("Nouvelle-Zélande", "NZ"),
        ("St. Lucia", "LC"),
        ("Saint Lucia", "LC"),
        ("Trinidad and Tobago", "TT"),
        ("Kosovo", "XK"),
    ],
)
def test_country_names_in_every_shipped_language(typed: str, code: str) -> None:
    assert normalise_region(typed) == code


def test_region_names_in_the_readers_language() -> None:
    assert region_name("DE", "es") == "Alemania"
    assert region_name("DE", "es-MX") == "Alemania"
    assert region_name("GB", "pt-BR") == "Reino Unido"
    assert region_name("US", "fr") == "États-Unis"
    assert region_name("ES", "de") == "Spanien"
    assert region_name("DE", "ja") == "Germany"  # a language Haven lacks: English
    assert region_name("global", "es") == "En todo el mundo"
    assert region_name("ZZ", "fr") == "ZZ"


def test_typos_in_another_language_still_get_suggestions() -> None:
    with pytest.raises(UnknownChoice) as raised:
        normalise_region("Alemaña")
    assert raised.value.choices[0] == "DE"
    with pytest.raises(UnknownChoice) as raised:
        normalise_region("Allemange")
    assert raised.value.choices[0] == "DE"


@pytest.mark.parametrize("typed", ["Inglaterra", "Angleterre", "Écosse", "Schottland", "Gales"])
def test_the_uks_nations_in_other_languages(typed: str) -> None:
    assert normalise_region(typed) == "GB"


def test_search_regions_names_places_in_the_readers_language() -> None:
    assert search_regions("alem", covered=(), locale="es")[0] == ("DE", "Alemania")
    assert search_regions("deut", covered=(), locale="de")[0] == ("DE", "Deutschland")
    assert ("DE", "Germany") in search_regions("deut", covered=())  # found, named in English
    assert search_regions("", covered={"BR"}, locale="pt-BR")[0] == ("BR", "Brasil")


def test_the_name_index_is_built_once() -> None:
    from bot.core.content import regions

    normalise_region("Alemania")
    first = regions._lookup()
    normalise_region("Allemagne")
    assert regions._lookup() is first
