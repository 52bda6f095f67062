"""`/support` answers in the person's language where the pack has it, and never mixes two.

Through the real stack (open_services: migrations, the shipped layer installed from the default
pack, the library read back from SQLite), so the translations make the whole trip a person's
answer makes. The platform end-to-end tests (Discord's interaction locale, Slack's user locale,
`haven console --locale`) are the lead's, once the locale reaches RequestContext.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import open_services
from bot.core.cards import Card
from bot.core.content.packs import load_default_pack
from bot.core.models import Actor, Platform, RequestContext, community_id_for
from bot.services import Services
from bot.settings import Settings
from bot.storage.repositories import SqlCommunityRepository

COMMUNITY = community_id_for(Platform.DISCORD, "4242")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(Settings(database_path=tmp_path / "haven.db")) as opened:
        await opened.communities.ensure(Platform.DISCORD, "4242", "A server")
        yield opened


async def set_community(services: Services, **changes: object) -> None:
    repository = SqlCommunityRepository(services.db)  # type: ignore[arg-type]
    before = await repository.get(COMMUNITY)
    assert before is not None
    await repository.save(before, replace(before, **changes), None)  # type: ignore[arg-type]
    services.support.invalidate(COMMUNITY)


def asker(locale: str | None) -> RequestContext:
    return RequestContext(
        community_id=COMMUNITY, platform=Platform.DISCORD, actor=Actor(id="asker"), locale=locale
    )


def words(card: Card) -> str:
    """Every content text of a support card: the body and each resource's words."""
    parts = [card.body]
    for resource in card.resources:
        parts += [resource.title, resource.description, resource.hours]
        parts += [contact.display for contact in resource.contacts]
    return "\n".join(parts)


async def crisis(services: Services, locale: str | None, region: str) -> Card:
    return await services.support.reply(asker(locale), "crisis", region)


def message_of(card: Card) -> tuple[str, str]:
    """(key, text in the card's language) of the message the card shows."""
    pack = load_default_pack()
    message = next(m for m in pack.messages if m.key == card.message_key)
    translation = message.translation(card.locale)
    return message.key, translation.text if translation else message.text


async def test_spanish_in_spain_gets_a_spanish_crisis_answer_with_024(services: Services) -> None:
    card = await crisis(services, "es-ES", "ES")
    assert card.locale == "es"
    key, text = message_of(card)
    assert key.startswith("crisis-") and text in card.body
    assert "024" in words(card)
    line = next(r for r in card.resources if r.title == "Línea 024")
    assert line.description.startswith("La línea gratuita de España")
    assert line.hours == "24/7, gratuita"
    # Every resource shown has its Spanish words (Spain's lines and the directories).
    english = {r.description for r in load_default_pack().resources}
    assert not {r.description for r in card.resources} & english


async def test_112_leads_the_spanish_crisis_answer(services: Services) -> None:
    card = await crisis(services, "es-ES", "ES")
    assert card.locale == "es"
    assert card.body.startswith("Si estás en peligro inmediato, llama ahora al 112.")
    assert "024" in words(card)


async def test_brazilian_portuguese_gets_cvv_188(services: Services) -> None:
    card = await crisis(services, "pt-BR", "BR")
    assert card.locale == "pt-BR"
    _, text = message_of(card)
    assert text in card.body
    cvv = next(r for r in card.resources if r.title.startswith("CVV"))
    assert "ligue 188" in cvv.description
    assert cvv.hours == "24 horas, gratuito"


async def test_german_gets_telefonseelsorge_in_german(services: Services) -> None:
    card = await crisis(services, "de", "DE")
    assert card.locale == "de"
    _, text = message_of(card)
    assert text in card.body
    line = next(r for r in card.resources if r.title == "TelefonSeelsorge")
    assert line.description.startswith("Kostenlose, anonyme Gespräche")
    assert [c.display for c in line.contacts] == ["0800 111 0 111", "0800 111 0 222"]


async def test_french_gets_3114_in_french(services: Services) -> None:
    card = await crisis(services, "fr", "FR")
    assert card.locale == "fr"
    _, text = message_of(card)
    assert text in card.body
    line = next(r for r in card.resources if r.title == "3114")
    assert line.description.startswith("Le numéro national de prévention du suicide")
    assert [c.display for c in line.contacts] == ["3114"]


async def test_canadian_french_gets_the_french_names_of_canadas_lines(services: Services) -> None:
    card = await crisis(services, "fr-CA", "CA")
    assert card.locale == "fr"
    titles = {r.title for r in card.resources}
    assert "9-8-8 : Ligne d'aide en cas de crise de suicide" in titles
    assert "Jeunesse, J'écoute" in titles


async def test_a_language_haven_does_not_ship_gets_english(services: Services) -> None:
    card = await crisis(services, "ja", "ES")
    assert card.locale == "en"
    _, text = message_of(card)
    assert text in card.body
    line = next(r for r in card.resources if r.title == "Línea 024")
    assert line.description.startswith("Spain's free line")


async def test_the_community_default_answers_when_the_person_sends_no_locale(
    services: Services,
) -> None:
    await set_community(services, default_locale="pt-BR")
    assert (await crisis(services, None, "BR")).locale == "pt-BR"
    # The person's own language wins over the community's.
    assert (await crisis(services, "en-GB", "BR")).locale == "en"


async def test_a_message_without_the_translation_gives_an_all_english_card(
    services: Services,
) -> None:
    ctx = replace(asker(None), actor=Actor(id="mod", has_admin_permission=True))
    added = await services.router.admin(
        ctx, "message", "add", {"topics": "crisis", "text": "We are glad you asked."}
    )
    key = dict(added.fields)["Key"]
    card = await services.support.reply(asker("es-ES"), "crisis", "ES", message_key=key)
    assert card.locale == "en"
    assert "We are glad you asked." in card.body
    line = next(r for r in card.resources if r.title == "Línea 024")
    # The resource has Spanish words, but the card is English: no mixing.
    assert line.description.startswith("Spain's free line")
    assert line.hours == "24/7, free"


async def test_rotation_is_shared_across_languages(services: Services) -> None:
    # A translation is the same message: the topic's round goes on whatever language asks.
    crisis_keys = {m.key for m in load_default_pack().messages if "crisis" in m.topics}
    assert len(crisis_keys) == 2
    spanish = await crisis(services, "es", "ES")
    english = await crisis(services, "en", "ES")
    assert (spanish.locale, english.locale) == ("es", "en")
    assert {spanish.message_key, english.message_key} == crisis_keys


async def test_a_scheduled_post_follows_the_community_language(services: Services) -> None:
    await set_community(services, default_locale="de", default_region="DE")
    card = await services.support.post_card(COMMUNITY, "crisis", None)
    assert card.locale == "de"
    assert any(r.title == "TelefonSeelsorge" for r in card.resources)


async def test_the_answer_when_storage_fails_follows_the_same_rule(services: Services) -> None:
    card = await services.support.fallback_card("crisis", "ES", locale="es-MX")
    assert card.locale == "es"
    _, text = message_of(card)
    assert text in card.body
    assert any(r.description.startswith("La línea gratuita") for r in card.resources)
    assert (await services.support.fallback_card("crisis", "ES")).locale == "en"


async def test_no_request_locale_is_kept_anywhere(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # Regional tags no content uses, so any trace of them could only come from a request.
    asked = {"es-MX": "es", "fr-CA": "fr", "pt-PT": "pt-BR", "de-AT": "de"}
    caplog.set_level(logging.DEBUG)
    for locale, shown in asked.items():
        card = await services.support.reply(asker(locale), "crisis", "ES")
        assert card.locale == shown
    await services.support.flush()
    assert not any(tag in record.getMessage() for record in caplog.records for tag in asked)
    tables = [
        row[0]
        for row in await services.db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    ]
    for table in tables:
        for row in await services.db.fetch_all(f"SELECT * FROM {table}"):
            text = " ".join(str(value) for value in row)
            assert not any(tag in text for tag in asked), (table, text[:200])
