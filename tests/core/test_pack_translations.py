"""Translations in packs: checked like the text they translate (place, limits, characters,
superseded numbers), numbers kept, who wrote them recorded; export writes them back; and the
shipped pack carries every one the issue asks for."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.core.content.packs import (
    PackFormat,
    default_pack_path,
    errors_in,
    export_pack,
    load_default_pack,
    parse_pack,
)
from bot.core.content.translations import numbers_in
from bot.core.locales import SHIPPED_LOCALES
from bot.core.models import MessageTranslation, ResourceTranslation
from bot.core.ports import Library
from tests.core.test_packs import TODAY, check, minimal, only_error

MARK = "Ana (native speaker)"


def translated() -> dict[str, Any]:
    data = minimal()
    data["pack"]["translated_by"] = {"es": "machine draft (AI), needs review", "fr": MARK}
    data["messages"][0]["translations"] = {
        "es": "Importas.",
        "pt_br": {"text": "Você importa.", "translated_by": "Bia (native speaker)"},
    }
    data["resources"][0]["translations"] = {
        "fr": {"description": "Une ligne d'écoute.", "hours": "24 h/24"},
        "es": {"title": "Línea GB", "description": "Una línea de escucha."},
    }
    return data


def test_translations_are_read_with_their_authors() -> None:
    pack, problems = check(translated())
    assert pack is not None, [str(p) for p in problems]
    assert problems == []
    message = pack.messages[0]
    # Tags are normalised (pt_br -> pt-BR); the pack-level mark fills in where none is given.
    assert message.translations == (
        ("es", MessageTranslation("Importas.", "machine draft (AI), needs review")),
        ("pt-BR", MessageTranslation("Você importa.", "Bia (native speaker)")),
    )
    assert pack.resources[0].translations == (
        (
            "es",
            ResourceTranslation(
                "Una línea de escucha.",
                title="Línea GB",
                translated_by="machine draft (AI), needs review",
            ),
        ),
        ("fr", ResourceTranslation("Une ligne d'écoute.", hours="24 h/24", translated_by=MARK)),
    )


@pytest.mark.parametrize(
    ("change", "place", "words"),
    [
        (
            lambda d: d["messages"][0]["translations"].update({"english please": "Hola"}),
            "messages[0].translations.english please",
            "is not a language tag",
        ),
        (
            lambda d: d["messages"][0]["translations"].update({"en": "Hello"}),
            "messages[0].translations.en",
            "the language the text is written in",
        ),
        (
            lambda d: d["messages"][0]["translations"].update(
                {"es-ES": "Importas mucho.", "es_es": "Importas muchísimo."}
            ),
            "messages[0].translations.es_es",
            "the same language as",
        ),
        (
            lambda d: d["messages"][0]["translations"].update({"fr": "x" * 1501}),
            "messages[0].translations.fr",
            "the limit is 1500",
        ),
        (
            lambda d: d["messages"][0]["translations"].update({"fr": "Tu comptes\u202e."}),
            "messages[0].translations.fr",
            "U+202E RIGHT-TO-LEFT OVERRIDE",
        ),
        (
            lambda d: d["messages"][0]["translations"].update({"de": 12}),
            "messages[0].translations.de",
            "must be the translated text",
        ),
        (
            lambda d: d["resources"][0]["translations"]["fr"].update(
                {"description": "Appelez le 0300 330 0630."}
            ),
            "resources[0].translations.fr.description",
            "superseded number 0300 330 0630",
        ),
        (
            lambda d: d["resources"][0]["translations"]["fr"].update(
                {"hours": "24 heures, 365 jours"}
            ),
            "resources[0].translations.fr.hours",
            "has 365, which the source does not",
        ),
        (
            lambda d: d["resources"][0]["translations"]["fr"].update({"colour": "bleu"}),
            "resources[0].translations.fr.colour",
            "is not a field Haven knows here",
        ),
        (
            lambda d: d["resources"][0]["translations"]["es"].pop("description"),
            "resources[0].translations.es.description",
            "is missing",
        ),
        (
            lambda d: d["pack"]["translated_by"].update({"de": ""}),
            "pack.translated_by.de",
            "must not be empty",
        ),
    ],
)
def test_a_bad_translation_is_an_error_at_its_place(change: Any, place: str, words: str) -> None:
    data = translated()
    change(data)
    pack, problems = check(data)
    assert pack is None
    (problem,) = [p for p in errors_in(problems) if words in p.message] or [None]
    assert problem is not None, [str(p) for p in problems]
    assert problem.place == place, str(problem)
    assert problem.line is not None  # YAML packs say which line, too


def test_a_translation_must_keep_the_numbers_of_its_source() -> None:
    data = translated()
    data["resources"][0]["description"] = "Call 0800 0119 100, or text SHOUT to 85258."
    data["resources"][0]["translations"]["fr"]["description"] = "Appelez le 0800 0119 100."
    data["resources"][0]["translations"]["es"]["description"] = (
        "Llama al 0800 0119 100 o envía SHOUT al 85258."
    )
    problem = only_error(data)
    assert problem.place == "resources[0].translations.fr.description"
    assert "is missing 85258" in problem.message


def test_a_language_haven_does_not_answer_in_is_kept_with_a_warning() -> None:
    data = translated()
    data["messages"][0]["translations"]["it"] = "Tu conti."
    pack, problems = check(data)
    assert pack is not None and errors_in(problems) == []
    (warning,) = problems
    assert warning.place == "messages[0].translations.it" and "not shown yet" in warning.message
    assert pack.messages[0].translation("it") == MessageTranslation("Tu conti.")


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_translations_round_trip_through_export(fmt: PackFormat) -> None:
    pack, _ = check(translated())
    assert pack is not None
    outdated = replace(
        pack.messages[1],
        translations=(("de", MessageTranslation("Bitte sprich heute mit jemandem.", "", True)),),
    )
    library = Library(
        pack.topics, (pack.messages[0], outdated), pack.resources, pack.emergency_numbers
    )
    text = export_pack(library, pack_id="p", fmt=fmt, version="1")
    again, problems = parse_pack(text, f"export.{fmt}", today=TODAY)
    assert again is not None and errors_in(problems) == [], [str(p) for p in problems]
    assert again.messages == library.messages
    assert again.resources == library.resources


def test_a_mark_shared_by_a_whole_language_is_written_once() -> None:
    pack, _ = check(translated())
    assert pack is not None
    text = export_pack(
        Library(pack.topics, pack.messages, pack.resources, pack.emergency_numbers),
        pack_id="p",
        fmt="yaml",
        version="1",
    )
    assert text.count("machine draft (AI), needs review") == 1
    assert text.count("Bia (native speaker)") == 1
    # A language whose translations name different authors keeps each one's own mark.
    second = replace(
        pack.messages[1],
        translations=(("pt-BR", MessageTranslation("Fale com alguém hoje.", "Caio")),),
    )
    text = export_pack(
        Library(pack.topics, (pack.messages[0], second), pack.resources, pack.emergency_numbers),
        pack_id="p",
        fmt="yaml",
        version="1",
    )
    assert "translated_by: Bia (native speaker)" in text and "translated_by: Caio" in text


# --- the shipped pack --------------------------------------------------------------------------

TRANSLATED = tuple(tag for tag in SHIPPED_LOCALES if tag != "en")
# Where each language is spoken, of the countries in the pack (the issue: ES and Latin America,
# FR BE CH CA, DE AT CH, BR); international directories are shown to everyone.
SPOKEN_IN = {"es": {"ES", "MX"}, "fr": {"FR", "CA"}, "de": {"DE"}, "pt-BR": {"BR"}}
BANNED = {
    "es": ("no estás solo", "no estás sola", "todo mejora", "sé fuerte"),
    "fr": ("tu n'es pas seul", "ça va s'arranger", "sois fort"),
    "de": ("du bist nicht allein", "es wird besser", "bleib stark"),
    "pt-BR": ("você não está sozinho", "vai melhorar", "seja forte"),
}


def test_every_shipped_message_is_in_every_shipped_language() -> None:
    for message in load_default_pack().messages:
        assert tuple(tag for tag, _ in message.translations) == tuple(sorted(TRANSLATED)), (
            message.key
        )
        for tag, translation in message.translations:
            assert not translation.outdated
            assert translation.translated_by.startswith("machine draft (AI"), (message.key, tag)
            # Translations run longer than English; they stay short enough to read at once.
            assert len(translation.text) <= 360, (message.key, tag)
            lowered = translation.text.lower().replace("’", "'")
            assert not any(phrase in lowered for phrase in BANNED[tag]), (message.key, tag)


def test_resources_are_translated_where_their_language_is_spoken() -> None:
    for resource in load_default_pack().resources:
        wanted = {
            tag
            for tag, regions in SPOKEN_IN.items()
            if resource.is_global or regions & set(resource.regions)
        }
        assert {tag for tag, _ in resource.translations} == wanted, resource.key
        for tag, translation in resource.translations:
            assert translation.description, (resource.key, tag)
            assert translation.translated_by.startswith("machine draft (AI"), (resource.key, tag)


def test_every_translated_resource_keeps_its_numbers() -> None:
    for resource in load_default_pack().resources:
        for tag, translation in resource.translations:
            assert numbers_in(translation.description) == numbers_in(resource.description), (
                resource.key,
                tag,
            )
            for name in ("title", "hours"):
                if value := getattr(translation, name):
                    assert numbers_in(value) == numbers_in(getattr(resource, name)), (
                        resource.key,
                        tag,
                        name,
                    )
    cvv = next(r for r in load_default_pack().resources if r.key == "br-cvv")
    assert "188" in cvv.translation("pt-BR").description  # type: ignore[union-attr]


def test_the_shipped_translations_pass_the_checker_alone() -> None:
    # The checker is what proves each text: break one shipped translation and it says where.
    text = default_pack_path().read_text(encoding="utf-8")
    broken = text.replace("24 horas por dia: ligue 188.", "24 horas por dia: ligue 180.", 1)
    assert broken != text
    pack, problems = parse_pack(broken, "default.yaml", today=TODAY)
    assert pack is None
    (problem,) = errors_in(problems)
    assert problem.place.endswith("translations.pt-BR.description")
    assert "is missing 188" in problem.message


def test_resources_of_a_pack_in_another_language_may_be_translated_into_english() -> None:
    # A resource's texts are in the pack's language: a Spanish pack's English translation is
    # a translation, its Spanish one is not.
    data = minimal()
    data["pack"]["locale"] = "es"
    data["resources"][0]["description"] = "Una línea de escucha."
    data["resources"][0]["translations"] = {"en": {"description": "A listening line."}}
    pack, problems = check(data)
    assert pack is not None and errors_in(problems) == [], [str(p) for p in problems]
    data["resources"][0]["translations"] = {"es": {"description": "Otra línea."}}
    problem = only_error(data)
    assert problem.place == "resources[0].translations.es"
    assert "the language the text is written in" in problem.message
