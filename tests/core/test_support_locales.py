"""/support in the person's language: topics typed in any shipped language, the card's own
words in the request's locale, and the community's default when the person's is missing.

A card is in one language, the message's (bot/core/content/localised.py), so these tests first
give the sample library's messages translations, as a moderator would with `message translate`;
`test_an_untranslated_message_keeps_the_whole_card_in_english` is the other side of that rule.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app import default_library
from bot.core.cards import CardTone
from bot.core.content.topics import match_topic
from bot.core.errors import UnknownChoice
from bot.core.models import Topic
from bot.core.support import SupportService
from bot.storage.repositories import SqlCommunityRepository, SqlStateRepository
from tests.conftest import sample_library
from tests.core.conftest import MEMBER, Stack

LANGUAGES = ("es", "fr", "de", "pt-BR")


async def translate_every_message(stack: Stack) -> None:
    """Every sample message gets a (placeholder) translation in each shipped language."""
    for message in sample_library().messages:
        for tag in LANGUAGES:
            done = await stack.router.run_text(
                stack.ctx(), f"/support-admin message translate {message.key} {tag} [{tag}] Hola"
            )
            assert done.tone is CardTone.SUCCESS, done


# The default pack's labels (descriptions do not matter for matching).
TOPICS = (
    Topic("general", "General support", ""),
    Topic("coming-out", "Coming out", ""),
    Topic("crisis", "Crisis right now", ""),
    Topic("family", "Family", ""),
)


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("salir-del-armario", "coming-out"),
        ("Salir del armario", "coming-out"),
        ("sair do armário", "coming-out"),
        ("faire son coming out", "coming-out"),
        ("apoyo general", "general"),
        ("Allgemeine Unterstützung", "general"),
        ("crise agora", "crisis"),
        ("familia", "family"),
        ("Famille", "family"),
        ("salir-del-armaro", "coming-out"),  # a typo of the Spanish label
        ("coming-out", "coming-out"),  # the English slug always works
    ],
)
def test_a_topic_is_understood_in_any_shipped_language(typed: str, slug: str) -> None:
    assert match_topic(typed, TOPICS).slug == slug


def test_an_unknown_topic_is_still_refused() -> None:
    with pytest.raises(UnknownChoice):
        match_topic("nada-que-ver", TOPICS)


async def test_an_untranslated_message_keeps_the_whole_card_in_english(stack: Stack) -> None:
    card = await stack.router.support(replace(stack.ctx(MEMBER), locale="es-ES"), "coming-out")
    assert card.locale == "en"
    assert card.title == "Coming out" and "[es]" not in card.body


async def test_the_card_is_in_the_persons_language(stack: Stack) -> None:
    await translate_every_message(stack)
    ctx = replace(stack.ctx(MEMBER), locale="es-ES")
    card = await stack.router.support(ctx, "coming-out", "GB")
    assert card.locale == "es"
    assert card.footer.startswith("Solo tú puedes ver esto.")
    assert "(Reino Unido)" in card.footer
    labels = {choice.value: choice.label for choice in card.choices}
    assert labels["general"] == "Apoyo general"
    # A label the catalogs do not know (a library's own wording) stays as written.
    assert labels["crisis"] == "In crisis"
    text = card.plain_text()
    assert "Otros temas: " in text
    badges = {badge for resource in card.resources for badge in resource.badges}
    assert "24/7" in badges
    contact_labels = {c.label for r in card.resources for c in r.contacts}
    assert "Llamar" in contact_labels and contact_labels <= {"Llamar", "SMS", "Chat", "Correo", ""}


async def test_no_country_asks_for_one_in_the_persons_language(stack: Stack) -> None:
    await translate_every_message(stack)
    ctx = replace(stack.ctx(MEMBER), locale="fr")
    card = await stack.router.support(ctx, "crisis", None)
    assert card.body.startswith("Si tu es en danger immédiat, appelle maintenant")
    assert "Dis-moi ton pays pour voir les services près de chez toi." in card.body
    assert card.region_choices and all(
        choice.label.endswith(f"({choice.value})") for choice in card.region_choices
    )
    assert "Royaume-Uni (GB)" in {choice.label for choice in card.region_choices}


async def test_the_community_default_answers_when_the_person_has_none(stack: Stack) -> None:
    await translate_every_message(stack)
    await stack.communities.update_settings(stack.ctx(), "locale", default_locale="de")
    for locale in (None, "ja"):
        card = await stack.router.support(replace(stack.ctx(MEMBER), locale=locale), "general")
        assert card.locale == "de"
        assert card.title == "Allgemeine Unterstützung"
    english = await stack.router.support(replace(stack.ctx(MEMBER), locale="en-GB"), "general")
    assert english.title == "General support" and english.locale == "en"


async def test_a_unknown_country_is_refused_in_the_persons_language(stack: Stack) -> None:
    ctx = replace(stack.ctx(MEMBER), locale="pt-BR")
    card = await stack.router.support(ctx, "crisis", "Alemnha")
    assert card.tone is CardTone.ERROR
    assert card.title == "Isso não funcionou"
    assert card.body.startswith("Não conheço o país “Alemnha”. Você quis dizer Alemanha (DE)?")
    assert card.choices_label == "Países mais parecidos"
    assert card.choices[0].label == "Alemanha (DE)"
    # English keeps the shared wording.
    english = await stack.router.support(stack.ctx(MEMBER), "crisis", "Alemnha")
    assert "Region 'Alemnha' is not one I know." in english.body


async def test_the_fallback_answer_speaks_the_persons_language(stack: Stack) -> None:
    # The answer when storage fails is the shipped pack's, whose messages are all translated.
    support = SupportService(
        stack.content,
        SqlCommunityRepository(stack.db),
        SqlStateRepository(stack.db),
        stack.clock,
        default_library,
    )
    card = await support.fallback_card("crisis", "DE", None, locale="de-AT")
    assert card.locale == "de"
    assert card.footer.startswith("Nur du kannst das sehen.")
    assert "TelefonSeelsorge" in card.plain_text()


async def test_moderator_help_stays_english_whatever_the_locale(stack: Stack) -> None:
    ctx = replace(stack.ctx(), locale="es-ES")
    card = await stack.router.run_text(ctx, "/support-admin help")
    english = await stack.router.run_text(stack.ctx(), "/support-admin help")
    assert card == english  # the same English help, whatever the moderator's client language
    assert "/support-admin message add" in card.plain_text()
    member = replace(stack.ctx(MEMBER), locale="fr")
    refused = await stack.router.run_text(member, "/support-admin message list")
    assert refused.tone is CardTone.ERROR
    assert refused.title == "Not permitted"


async def test_moderators_set_the_communitys_language(stack: Stack) -> None:
    await translate_every_message(stack)
    saved = await stack.router.run_text(stack.ctx(), "/support-admin settings language es-MX")
    assert saved.tone is CardTone.SUCCESS
    assert ("Locale", "es") in saved.fields
    card = await stack.router.support(stack.ctx(MEMBER), "general")
    assert card.title == "Apoyo general"
    refused = await stack.router.run_text(stack.ctx(), "/support-admin settings language klingon")
    assert refused.tone is CardTone.ERROR
    assert "Language 'klingon' is not one I know." in refused.body
    assert [choice.value for choice in refused.choices] == ["en", "es", "fr", "de", "pt-BR"]


def test_opening_times_read_in_the_persons_language() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.core.i18n import translator
    from bot.core.support_selection import OpenNow, OpenState

    zone = ZoneInfo("Europe/Madrid")
    now = datetime(2026, 12, 4, 22, 0, tzinfo=zone)  # a Friday night
    later_today = OpenState(OpenNow.CLOSED, datetime(2026, 12, 4, 23, 30, tzinfo=zone))
    monday = OpenState(OpenNow.CLOSED, datetime(2026, 12, 7, 13, 0, tzinfo=zone))
    assert later_today.label(now, translator("es")) == "abre a las 23:30 (tu hora)"
    assert monday.label(now, translator("es")) == "abre el lun a las 13:00 (tu hora)"
    assert monday.label(now, translator("de")) == "öffnet Mo. um 13:00 Uhr (deine Zeit)"
    assert monday.label(now) == "opens Mon 13:00 (your time)"
    assert OpenState(OpenNow.OPEN).label(now, translator("pt-BR")) == "aberto agora"
