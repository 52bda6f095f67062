"""Translations through storage and releases, on SQLite and PostgreSQL: stored on both layers
exactly as written, and a release that changes only a translation updates the shipped layer
for every community that did not translate that item itself."""

from __future__ import annotations

from dataclasses import replace

from bot.app import open_services
from bot.core.content.curation import MessageDraft, TranslationDraft
from bot.core.content.packs import ParsedPack, load_default_pack
from bot.core.models import (
    ItemKind,
    MessageTranslation,
    Platform,
    RequestContext,
    ResourceTranslation,
    SupportMessage,
)
from bot.settings import Settings
from bot.storage.repositories import SqlContentRepository
from tests.layers.helpers import ctx

KEPT = "discord:1"  # takes Haven's translations as they come
OWN = "discord:2"  # writes its own Spanish for the message first
MESSAGE = "crisis-talk-today"
NEW_SPANISH = (
    "Si ahora todo pesa demasiado, habla hoy con alguien de confianza o con una línea de "
    "crisis. Si estás en peligro inmediato, llama al número de emergencias de tu zona."
)


def retranslated(pack: ParsedPack) -> ParsedPack:
    """The pack as a later Haven ships it: only the Spanish of one message changed."""
    messages = tuple(
        replace(
            m,
            translations=tuple(
                (tag, replace(t, text=NEW_SPANISH) if tag == "es" else t)
                for tag, t in m.translations
            ),
        )
        if m.key == MESSAGE
        else m
        for m in pack.messages
    )
    return replace(pack, version=f"{pack.version}.1", messages=messages)


def spanish_asker(community_id: str) -> RequestContext:
    return replace(ctx(community_id), locale="es-ES")


async def test_translations_are_stored_on_both_layers_as_written(settings: Settings) -> None:
    pack = load_default_pack()
    async with open_services(settings) as services:
        content = SqlContentRepository(services.db)  # type: ignore[arg-type]
        for message in pack.messages:
            assert await content.shipped_item(ItemKind.MESSAGE, message.key) == message
        for resource in pack.resources:
            stored = await content.shipped_item(ItemKind.RESOURCE, resource.key)
            assert stored is not None and stored.translations == resource.translations
        await services.communities.ensure(Platform.DISCORD, "2")
        await services.curation.translate(
            ctx(OWN),
            ItemKind.RESOURCE,
            "es-024",
            TranslationDraft("es", description="Línea gratuita, de día y de noche.", hours="24/7"),
        )
        own = await content.get_item(OWN, ItemKind.RESOURCE, "es-024")
        assert own is not None
        assert own.translation("es") == ResourceTranslation(
            description="Línea gratuita, de día y de noche.",
            hours="24/7",
            translated_by="a moderator of this community",
        )
        # Editing the source marks it outdated, and that is stored too.
        await services.curation.edit_message(
            ctx(OWN),
            MESSAGE,
            MessageDraft(text="Please talk to someone you trust today, or a crisis line."),
            None,
        )
        edited = await content.get_item(OWN, ItemKind.MESSAGE, MESSAGE)
        assert isinstance(edited, SupportMessage)
        assert all(t.outdated for _, t in edited.translations)
        assert {tag for tag, _ in edited.translations} == {"de", "es", "fr", "pt-BR"}


async def test_a_release_that_changes_only_a_translation_reaches_the_community(
    settings: Settings,
) -> None:
    async with open_services(settings) as services:
        for community_id in (KEPT, OWN):
            await services.communities.ensure(Platform.DISCORD, community_id.split(":")[1])
        await services.curation.translate(
            ctx(OWN),
            ItemKind.MESSAGE,
            MESSAGE,
            TranslationDraft("es", text="Nuestras propias palabras para este momento."),
        )
    async with open_services(settings, shipped_pack=retranslated(load_default_pack())) as services:
        card = await services.support.reply(
            spanish_asker(KEPT), "crisis", "ES", message_key=MESSAGE
        )
        assert card.locale == "es" and NEW_SPANISH in card.body
        history = await services.curation.history(ctx(KEPT), ItemKind.MESSAGE, MESSAGE)
        assert [(e.actor_id, e.action) for e in history] == [("haven", "shipped.change")]
        # The community with its own Spanish keeps it, and is asked to review Haven's.
        own = await services.support.reply(spanish_asker(OWN), "crisis", "ES", message_key=MESSAGE)
        assert "Nuestras propias palabras para este momento." in own.body
        (review,) = await services.curation.updates(ctx(OWN), ItemKind.MESSAGE)
        assert review.key == MESSAGE
        assert review.after is not None
        shipped = next(m for m in load_default_pack().messages if m.key == MESSAGE)
        mark = shipped.translation("es").translated_by  # type: ignore[union-attr]
        assert review.after.translation("es") == MessageTranslation(NEW_SPANISH, mark)
