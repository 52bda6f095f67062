"""Translations of messages and resources: their checks, and how a pack writes them.

A translation is held to the limits of the text it translates (validation.py: length,
characters), and to two rules of its own, because people act on what it says:
- it keeps every number of its source exactly (a phone number, a short code, "130 countries"),
  and adds none: a translator may reword, never renumber;
- no superseded number may appear in it (the pack checker's list).
Mentions are made inert where every text is, when a card is built.

In a pack (schema_version 1, additive): a message's `translations` maps a locale tag to its
text, or to `{text, translated_by, outdated}`; a resource's maps a tag to `{description,
title, hours, translated_by, outdated}` (title and hours optional: the source's are shown).
`pack.translated_by` maps a tag to the mark of every translation in it that names none
("machine draft (AI), needs native review"), so reviewers see who wrote what.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.core.content import validation
from bot.core.locales import SHIPPED_LOCALES, normalise_tag
from bot.core.models import MessageTranslation, Resource, ResourceTranslation, SupportMessage

if TYPE_CHECKING:
    from bot.core.content.packs import _Checker

MAX_TRANSLATED_BY_LENGTH = 100
# A locale tag as BCP 47 writes it after normalise_tag: `es`, `pt-BR`, `zh-Hant`, `es-419`.
_TAG_RE = re.compile(r"^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}|[A-Z][a-z]{3}))?$")
_NUMBER_RUN = re.compile(r"\+?\d(?:[\d().-]|\s(?=\d))*\d|\d")
_MESSAGE_TRANSLATION_KEYS = ("text", "translated_by", "outdated")
_RESOURCE_TRANSLATION_KEYS = ("description", "title", "hours", "translated_by", "outdated")

# Who wrote a translation a moderator typed: the audit entry names the moderator.
MODERATOR_MARK = "a moderator of this community"


def read_tag(field: str, value: str, source_locale: str) -> tuple[str, list[str]]:
    """The normalised tag (`pt_br` -> `pt-BR`) and the problems with it."""
    tag = normalise_tag(value) if value.strip() else ""
    if not _TAG_RE.match(tag):
        return tag, [
            f"{field}: '{value.strip()[:20]}' is not a language tag; write one like es, fr, "
            f"de or pt-BR (Haven answers in {', '.join(SHIPPED_LOCALES)})."
        ]
    if tag == normalise_tag(source_locale):
        return tag, [
            f"{field}: {tag} is the language the text is written in; a translation is "
            "into another language."
        ]
    return tag, []


def unshown_warning(tag: str) -> str | None:
    """A sentence when no request is ever answered in `tag`'s language (kept, not shown)."""
    if any(tag.split("-")[0] == shipped.split("-")[0] for shipped in SHIPPED_LOCALES):
        return None
    return (
        f"Haven answers in {', '.join(SHIPPED_LOCALES)}; this {tag} translation is kept "
        "but not shown yet."
    )


def numbers_in(text: str) -> set[str]:
    """The numbers of a text as digits (`0800 111 0 111` -> `08001110111`), three or more
    digits long: phone numbers, short codes and counts, not "24/7" or "under 27"."""
    runs = (re.sub(r"\D", "", found) for found in _NUMBER_RUN.findall(text))
    return {run for run in runs if len(run) >= 3}


def number_problems(field: str, source: str, translated: str) -> list[str]:
    """`field: ...` when the translation lost, changed or added a number of its source."""
    have, want = numbers_in(translated), numbers_in(source)
    if have == want:
        return []
    parts = []
    if missing := sorted(want - have):
        parts.append(f"is missing {', '.join(missing)}")
    if extra := sorted(have - want):
        parts.append(f"has {', '.join(extra)}, which the source does not")
    return [f"{field}: {' and '.join(parts)}; keep every number exactly as the source writes it."]


def _superseded(field: str, text: str) -> list[str]:
    from bot.core.content.packs import superseded_in  # packs imports this module

    return [
        f"{field}: contains the superseded number {number} ({why}); remove it."
        for number, why in superseded_in(text)
    ]


def check_translated_text(
    field: str, text: str, source: str, *, max_length: int, allow_newlines: bool
) -> list[str]:
    """Every problem with one translated text of `source`."""
    problems = validation.check_text(
        field, text, max_length=max_length, allow_newlines=allow_newlines
    )
    return problems + number_problems(field, source, text) + _superseded(field, text)


def check_message_translation(field: str, text: str, message: SupportMessage) -> list[str]:
    return check_translated_text(
        field,
        text,
        message.text,
        max_length=validation.MAX_MESSAGE_LENGTH,
        allow_newlines=True,
    )


def check_resource_translation(
    field: str, translation: ResourceTranslation, resource: Resource
) -> list[str]:
    problems = check_translated_text(
        f"{field}.description",
        translation.description,
        resource.description,
        max_length=validation.MAX_DESCRIPTION_LENGTH,
        allow_newlines=True,
    )
    for name, source, limit in (
        ("title", resource.title, validation.MAX_TITLE_LENGTH),
        ("hours", resource.hours, validation.MAX_HOURS_LENGTH),
    ):
        value = getattr(translation, name)
        if value:
            problems += check_translated_text(
                f"{field}.{name}", value, source, max_length=limit, allow_newlines=False
            )
    return problems


def check_mark(field: str, value: str) -> list[str]:
    return validation.check_text(field, value, max_length=MAX_TRANSLATED_BY_LENGTH)


# ---- reading a pack ------------------------------------------------------------------------


def read_marks(checker: _Checker, value: object, place: str) -> dict[str, str]:
    """`pack.translated_by`: {tag: mark}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        checker.error(place, 'must map a language to who wrote it, like es: "Ana (native)".')
        return {}
    marks: dict[str, str] = {}
    for raw, mark in value.items():
        where = f"{place}.{raw}"
        tag, problems = read_tag(where, str(raw), "und")
        checker.add_all(where, problems)
        if not isinstance(mark, str):
            checker.error(where, "must be text in quotes.")
            continue
        checker.add_all(where, check_mark(where, mark))
        marks[tag] = mark.strip()
    return marks


def _entries(
    checker: _Checker, value: object, place: str, source_locale: str
) -> Iterable[tuple[str, str, object]]:
    """(tag, place, value) of each entry of a `translations` mapping, tags checked."""
    if value is None:
        return
    if not isinstance(value, dict):
        checker.error(place, "must map a language tag to its translation, like es: ...")
        return
    seen: dict[str, str] = {}
    for raw, entry in value.items():
        where = f"{place}.{raw}"
        tag, problems = read_tag(where, str(raw), source_locale)
        checker.add_all(where, problems)
        if problems:
            continue
        if tag in seen:
            checker.error(where, f"is the same language as {seen[tag]}; keep one of them.")
            continue
        seen[tag] = where
        if warning := unshown_warning(tag):
            checker.warn(where, warning)
        yield tag, where, entry


def _mark(checker: _Checker, entry: Mapping[str, object], where: str, default: str) -> str:
    value = entry.get("translated_by")
    if value is None:
        return default
    if not isinstance(value, str):
        checker.error(f"{where}.translated_by", "must be text in quotes.")
        return default
    checker.add_all(f"{where}.translated_by", check_mark(f"{where}.translated_by", value))
    return value.strip()


def read_message_translations(
    checker: _Checker, value: object, place: str, message: SupportMessage, marks: Mapping[str, str]
) -> tuple[tuple[str, MessageTranslation], ...]:
    found: list[tuple[str, MessageTranslation]] = []
    for tag, where, entry in _entries(checker, value, place, message.locale):
        mark, outdated, text_place = marks.get(tag, ""), False, where
        if isinstance(entry, dict):
            mapping = checker.mapping(entry, where, _MESSAGE_TRANSLATION_KEYS)
            if mapping is None:
                continue
            mark = _mark(checker, mapping, where, mark)
            outdated = checker.flag(mapping, "outdated", where, False)
            entry, text_place = mapping.get("text"), f"{where}.text"
        if not isinstance(entry, str):
            checker.error(text_place, "must be the translated text, in quotes or after >-.")
            continue
        checker.add_all(text_place, check_message_translation(text_place, entry, message))
        found.append((tag, MessageTranslation(entry.strip(), mark, outdated)))
    return tuple(found)


def read_resource_translations(
    checker: _Checker,
    value: object,
    place: str,
    resource: Resource,
    marks: Mapping[str, str],
    source_locale: str,
) -> tuple[tuple[str, ResourceTranslation], ...]:
    """A resource's translations; its texts are in the pack's language (`source_locale`)."""
    found: list[tuple[str, ResourceTranslation]] = []
    for tag, where, entry in _entries(checker, value, place, source_locale):
        mapping = checker.mapping(entry, where, _RESOURCE_TRANSLATION_KEYS)
        if mapping is None:
            continue
        texts: dict[str, str] = {}
        for name in ("description", "title", "hours"):
            raw = mapping.get(name)
            if raw is not None and not isinstance(raw, str):
                checker.error(f"{where}.{name}", "must be text in quotes.")
            texts[name] = raw.strip() if isinstance(raw, str) else ""
        if "description" not in mapping:
            checker.error(f"{where}.description", "is missing; give the translated description.")
            continue
        translation = ResourceTranslation(
            description=texts["description"],
            title=texts["title"],
            hours=texts["hours"],
            translated_by=_mark(checker, mapping, where, marks.get(tag, "")),
            outdated=checker.flag(mapping, "outdated", where, False),
        )
        for problem in check_resource_translation(where, translation, resource):
            field, _, sentence = problem.partition(": ")
            checker.error(field, sentence)
        found.append((tag, translation))
    return tuple(found)


# ---- writing a pack ------------------------------------------------------------------------


def common_marks(
    messages: Sequence[SupportMessage], resources: Sequence[Resource]
) -> dict[str, str]:
    """Per tag, the one mark every translation in it carries (written once, as
    `pack.translated_by`); tags whose translations differ get none and keep theirs."""
    seen: dict[str, set[str]] = {}
    pairs: list[tuple[str, MessageTranslation | ResourceTranslation]] = [
        *(pair for message in messages for pair in message.translations),
        *(pair for resource in resources for pair in resource.translations),
    ]
    for tag, translation in pairs:
        seen.setdefault(tag, set()).add(translation.translated_by)
    return {
        tag: next(iter(found)) for tag, found in seen.items() if len(found) == 1 and "" not in found
    }


def message_translations_data(
    message: SupportMessage, marks: Mapping[str, str]
) -> dict[str, object]:
    data: dict[str, object] = {}
    for tag, translation in message.translations:
        own_mark = translation.translated_by != marks.get(tag, "")
        if not own_mark and not translation.outdated:
            data[tag] = translation.text
            continue
        entry: dict[str, object] = {"text": translation.text}
        if own_mark and translation.translated_by:
            entry["translated_by"] = translation.translated_by
        if translation.outdated:
            entry["outdated"] = True
        data[tag] = entry
    return data


def resource_translations_data(resource: Resource, marks: Mapping[str, str]) -> dict[str, object]:
    data: dict[str, object] = {}
    for tag, translation in resource.translations:
        entry: dict[str, object] = {}
        for name in ("title", "description", "hours"):
            if value := getattr(translation, name):
                entry[name] = value
        entry.setdefault("description", "")
        if translation.translated_by and translation.translated_by != marks.get(tag, ""):
            entry["translated_by"] = translation.translated_by
        if translation.outdated:
            entry["outdated"] = True
        data[tag] = entry
    return data
