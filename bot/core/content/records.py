"""Plain-dict forms of the content models: for the audit trail (before/after) and undo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from bot.core.models import (
    DEFAULT_RANK,
    Audience,
    Contact,
    ContactKind,
    ItemKind,
    LibraryItem,
    MessageTranslation,
    Resource,
    ResourceTranslation,
    SupportMessage,
)


def message_translations_to_dict(
    pairs: tuple[tuple[str, MessageTranslation], ...],
) -> dict[str, dict[str, object]]:
    """{locale: {text, translated_by?, outdated?}}: the audit's, the database's and a JSON
    pack's form (only what differs from the defaults, so rows stay small)."""
    result: dict[str, dict[str, object]] = {}
    for locale, translation in pairs:
        entry: dict[str, object] = {"text": translation.text}
        if translation.translated_by:
            entry["translated_by"] = translation.translated_by
        if translation.outdated:
            entry["outdated"] = True
        result[locale] = entry
    return result


def message_translations_from(data: object) -> tuple[tuple[str, MessageTranslation], ...]:
    if not isinstance(data, Mapping):
        return ()
    return tuple(
        (
            str(locale),
            MessageTranslation(
                text=str(entry.get("text", "")),
                translated_by=str(entry.get("translated_by", "")),
                outdated=bool(entry.get("outdated", False)),
            ),
        )
        for locale, entry in data.items()
        if isinstance(entry, Mapping)
    )


def resource_translations_to_dict(
    pairs: tuple[tuple[str, ResourceTranslation], ...],
) -> dict[str, dict[str, object]]:
    """{locale: {description, title?, hours?, translated_by?, outdated?}}."""
    result: dict[str, dict[str, object]] = {}
    for locale, translation in pairs:
        entry: dict[str, object] = {"description": translation.description}
        for name in ("title", "hours", "translated_by"):
            if value := getattr(translation, name):
                entry[name] = value
        if translation.outdated:
            entry["outdated"] = True
        result[locale] = entry
    return result


def resource_translations_from(data: object) -> tuple[tuple[str, ResourceTranslation], ...]:
    if not isinstance(data, Mapping):
        return ()
    return tuple(
        (
            str(locale),
            ResourceTranslation(
                description=str(entry.get("description", "")),
                title=str(entry.get("title", "")),
                hours=str(entry.get("hours", "")),
                translated_by=str(entry.get("translated_by", "")),
                outdated=bool(entry.get("outdated", False)),
            ),
        )
        for locale, entry in data.items()
        if isinstance(entry, Mapping)
    )


def message_to_dict(message: SupportMessage) -> dict[str, object]:
    return {
        "key": message.key,
        "text": message.text,
        "topics": list(message.topics),
        "locale": message.locale,
        "audience": message.audience.value,
        "enabled": message.enabled,
        "version": message.version,
        "translations": message_translations_to_dict(message.translations),
    }


def message_from_dict(data: Mapping[str, Any]) -> SupportMessage:
    return SupportMessage(
        key=str(data["key"]),
        text=str(data["text"]),
        topics=tuple(str(t) for t in data.get("topics", ())),
        locale=str(data.get("locale", "en")),
        enabled=bool(data.get("enabled", True)),
        version=int(data.get("version", 1)),
        audience=Audience(str(data.get("audience", Audience.EVERYONE.value))),
        # Audit entries written before translations existed read back with none.
        translations=message_translations_from(data.get("translations")),
    )


def contact_to_dict(contact: Contact) -> dict[str, object]:
    data: dict[str, object] = {"kind": contact.kind.value, "display": contact.display}
    if contact.e164:
        data["e164"] = contact.e164
    return data


def contact_from_dict(data: Mapping[str, Any]) -> Contact:
    e164 = data.get("e164")
    return Contact(
        kind=ContactKind(str(data["kind"])),
        display=str(data["display"]),
        e164=str(e164) if e164 else None,
    )


def resource_to_dict(resource: Resource) -> dict[str, object]:
    return {
        "key": resource.key,
        "title": resource.title,
        "url": resource.url,
        "description": resource.description,
        "contacts": [contact_to_dict(c) for c in resource.contacts],
        "regions": list(resource.regions),
        "topics": list(resource.topics),
        "crisis_service": resource.crisis_service,
        "always_open": resource.always_open,
        "hours": resource.hours,
        "source_url": resource.source_url,
        "last_verified": resource.last_verified.isoformat() if resource.last_verified else None,
        "needs_review": resource.needs_review,
        "notes_for_mods": resource.notes_for_mods,
        "enabled": resource.enabled,
        "version": resource.version,
        "rank": resource.rank,
        "audience": resource.audience.value,
        "age_min": resource.age_min,
        "age_max": resource.age_max,
        "opening_hours": resource.opening_hours,
        "timezone": resource.timezone,
        "translations": resource_translations_to_dict(resource.translations),
    }


def resource_from_dict(data: Mapping[str, Any]) -> Resource:
    verified = data.get("last_verified")
    return Resource(
        key=str(data["key"]),
        title=str(data["title"]),
        url=str(data["url"]),
        description=str(data.get("description", "")),
        contacts=tuple(contact_from_dict(c) for c in data.get("contacts", ())),
        regions=tuple(str(r) for r in data.get("regions", ())),
        topics=tuple(str(t) for t in data.get("topics", ())),
        crisis_service=bool(data.get("crisis_service", False)),
        always_open=bool(data.get("always_open", False)),
        hours=str(data.get("hours", "")),
        source_url=str(data.get("source_url", "")),
        last_verified=date.fromisoformat(str(verified)) if verified else None,
        needs_review=bool(data.get("needs_review", False)),
        notes_for_mods=str(data.get("notes_for_mods", "")),
        enabled=bool(data.get("enabled", True)),
        version=int(data.get("version", 1)),
        # Audit entries written before these fields existed read back with their defaults.
        rank=int(data.get("rank", DEFAULT_RANK)),
        audience=Audience(str(data.get("audience", Audience.EVERYONE.value))),
        age_min=_age(data.get("age_min")),
        age_max=_age(data.get("age_max")),
        opening_hours=str(data.get("opening_hours", "")),
        timezone=str(data.get("timezone", "")),
        translations=resource_translations_from(data.get("translations")),
    )


def _age(value: object) -> int | None:
    return None if value is None else int(str(value))


def item_kind(item: LibraryItem) -> ItemKind:
    return ItemKind.MESSAGE if isinstance(item, SupportMessage) else ItemKind.RESOURCE


def item_to_dict(item: LibraryItem) -> dict[str, object]:
    """The audit trail's form of a message or resource."""
    return message_to_dict(item) if isinstance(item, SupportMessage) else resource_to_dict(item)


def item_from_dict(kind: ItemKind, data: Mapping[str, Any]) -> LibraryItem:
    return message_from_dict(data) if kind is ItemKind.MESSAGE else resource_from_dict(data)


def same_content(a: LibraryItem, b: LibraryItem) -> bool:
    """The same item whatever its version: the one test of "did anything change" (a pack
    import's unchanged items, a release's changed ones, an own copy equal to Haven's)."""
    return replace(a, version=0) == replace(b, version=0)
