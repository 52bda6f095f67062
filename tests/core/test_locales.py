"""The one locale-matching rule: exact tag, then language, then a sibling variant, never English
for a language Haven has."""

from __future__ import annotations

from bot.core.locales import best_locale, language_of, normalise_tag, request_locale


def test_tags_are_spelled_one_way() -> None:
    assert normalise_tag("es_es") == "es-ES"
    assert normalise_tag("PT-br") == "pt-BR"
    assert normalise_tag("zh-hant-tw") == "zh-Hant-TW"
    assert language_of("en-GB") == "en"


def test_exact_then_language_then_variant() -> None:
    available = ["en", "es", "pt-BR", "fr"]
    assert best_locale("pt-BR", available) == "pt-BR"
    assert best_locale("es-ES", available) == "es"
    assert best_locale("es-419", available) == "es"
    assert best_locale("pt-PT", available) == "pt-BR"
    assert best_locale("fr-CA", available) == "fr"
    assert best_locale("ja", available) is None
    assert best_locale(None, available) is None
    assert best_locale("  ", available) is None


def test_a_request_falls_back_to_the_community_then_english() -> None:
    assert request_locale("es-ES", "fr") == "es"
    assert request_locale(None, "de") == "de"
    assert request_locale("ja", "pt-BR") == "pt-BR"
    assert request_locale("ja", None) == "en"
    assert request_locale(None, None) == "en"
