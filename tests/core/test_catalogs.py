"""Haven's catalogs: every shipped language has every string, with the same placeholders,
and the committed template is what the code marks today."""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.adapters.discord.localisations import (
    OPTION_NAME_CONTEXT,
    OPTION_NAMES,
    REGION_DESCRIPTION,
    SUPPORT_DESCRIPTION,
    TOPIC_DESCRIPTION,
)
from bot.core.content.topics import SHIPPED_TOPIC_WORDS, fold_topic
from bot.core.i18n import catalog_dir, catalog_text, translator
from bot.core.locales import SHIPPED_LOCALES, SOURCE_LOCALE

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [locale for locale in SHIPPED_LOCALES if locale != SOURCE_LOCALE]
# Discord's rule for a command or option name (lowercase where the script has case).
DISCORD_NAME = re.compile(r"^[-_\w]{1,32}$")
Key = tuple[str | None, str]


def _fields(text: str) -> set[str]:
    """The brace placeholders of a message ("{number}")."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _template() -> dict[Key, str]:
    with (ROOT / "bot/locales/haven.pot").open(encoding="utf-8") as handle:
        catalog = read_po(handle)
    return {(m.context, str(m.id)): str(m.string) for m in catalog if m.id}


def _catalog(locale: str) -> dict[Key, tuple[str, bool]]:
    text = catalog_text(locale)
    assert text is not None, f"no catalog for {locale}"
    catalog = read_po(io.StringIO(text), locale=catalog_dir(locale))
    return {(m.context, str(m.id)): (str(m.string), m.fuzzy) for m in catalog if m.id}


def _marked_in_code() -> set[Key]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[Key] = set()
    for _, _, message, _, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_the_template_is_what_the_code_marks() -> None:
    marked = _marked_in_code()
    template = set(_template())
    assert marked - template == set(), "run pybabel extract (docs/translating.md)"
    assert template - marked == set(), "run pybabel extract (docs/translating.md)"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_catalog_has_every_string_with_the_same_placeholders(locale: str) -> None:
    catalog = _catalog(locale)
    template = _template()
    missing = [key for key in template if not catalog.get(key, ("", False))[0]]
    assert missing == [], f"{locale} lacks translations (pybabel update, then translate)"
    fuzzy = [key for key, (_, is_fuzzy) in catalog.items() if is_fuzzy]
    assert fuzzy == [], f"{locale} has unconfirmed (fuzzy) entries"
    assert set(catalog) <= set(template), f"{locale} has strings the code no longer uses"
    for (_, msgid), (msgstr, _) in catalog.items():
        assert _fields(msgstr) == _fields(msgid), f"{locale}: {msgid!r} -> {msgstr!r}"


def test_placeholders_are_compared() -> None:
    assert _fields("call {number} now") == {"number"}
    assert _fields("opens {day} {time}") != _fields("abre a las {time}")


@pytest.mark.parametrize("locale", TRANSLATED)
def test_each_catalog_is_read_and_used(locale: str) -> None:
    words = translator(locale)
    assert words.locale == locale
    assert words.gettext("Only you can see this.") != "Only you can see this."
    # A tag as platforms send it finds the same catalog.
    assert translator(locale.lower().replace("-", "_")).gettext("open now") == words.gettext(
        "open now"
    )


def test_english_and_unknown_languages_are_the_source_text() -> None:
    for locale in (None, "", "en", "en-GB", "ja", "zz-ZZ"):
        assert translator(locale).gettext("Only you can see this.") == "Only you can see this."


@pytest.mark.parametrize("locale", TRANSLATED)
def test_discord_words_fit_discords_rules(locale: str) -> None:
    words = translator(locale)
    for name in OPTION_NAMES:
        localised = words.pgettext(OPTION_NAME_CONTEXT, name)
        assert DISCORD_NAME.match(localised) and localised == localised.lower(), localised
    for description in (SUPPORT_DESCRIPTION, TOPIC_DESCRIPTION, REGION_DESCRIPTION):
        assert 1 <= len(words.gettext(description)) <= 100


def test_shipped_topic_words_are_the_default_packs() -> None:
    pack = yaml.safe_load((ROOT / "bot/data/default.yaml").read_text(encoding="utf-8"))
    words = [part for topic in pack["topics"] for part in (topic["label"], topic["description"])]
    assert list(SHIPPED_TOPIC_WORDS) == words


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translated_topic_labels_name_one_topic_each(locale: str) -> None:
    pack = yaml.safe_load((ROOT / "bot/data/default.yaml").read_text(encoding="utf-8"))
    words = translator(locale)
    names: dict[str, str] = {}
    for topic in pack["topics"]:
        for name in (topic["slug"], fold_topic(words.gettext(topic["label"]))):
            assert names.setdefault(name, topic["slug"]) == topic["slug"], name


def test_translations_say_who_wrote_them() -> None:
    for locale in TRANSLATED:
        text = catalog_text(locale) or ""
        assert "Written by:" in text and "native speakers" in text
