"""The contact line in the person's language: their answers, key card, errors and form words
follow the request's locale (else the community's default); the moderators' side stays
English; and no locale is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.cards import CardTone
from bot.core.contact.rules import TEXT_MAX
from bot.core.models import Actor, RequestContext
from tests.core.conftest import MEMBER, MODERATOR, Stack
from tests.core.test_contact import SENDER, Inbox, Line, build
from tests.core.test_support_locales import translate_every_message


@pytest.fixture
async def line(stack: Stack) -> Line:
    made = build(stack, Inbox())
    card = await made.mod("/support-admin settings contact-inbox channel:#mod-inbox")
    assert card.tone is CardTone.SUCCESS, card
    return made


def _in(line: Line, locale: str | None, actor: Actor = SENDER) -> RequestContext:
    return replace(line.stack.ctx(actor), locale=locale)


async def test_an_anonymous_request_in_spanish_is_answered_in_spanish(line: Line) -> None:
    answer = await line.router.contact(
        _in(line, "es-ES"), "/support-contact anonymous Me están acosando por mensaje privado"
    )
    assert answer.shown.title == "Solicitud n.º 1 enviada"
    assert answer.shown.body == (
        "Solo tú puedes ver esto. El equipo de moderación no sabrá quién la escribió."
    )
    assert answer.shown.locale == "es"
    keep = answer.keep
    assert keep is not None and keep.locale == "es"
    assert keep.title == "Tu solicitud n.º 1 llegó al equipo de moderación"
    assert keep.body.startswith("El equipo de moderación no sabe quién la envió")
    key = dict(keep.fields)["Tu clave"]
    assert [a.label for a in keep.actions] == ["Leer respuestas", "Responder", "Cerrar", "Borrar"]
    assert keep.actions[0].value == f"/support-contact open {key}"
    assert keep.footer == "Sin botones: /support-contact open <key> con la clave de arriba."
    # The moderators' inbox stays English.
    ((_, inbox),) = line.inbox.posted
    assert inbox.title == "Request #1" and inbox.locale == "en"
    assert [a.label for a in inbox.actions] == ["Reply", "Close", "Block sender"]
    # Reading, the delete confirmation and deleting are Spanish too.
    view = await line.router.contact(_in(line, "es"), f"/support-contact open {key}")
    assert view.shown.title == "Tu solicitud n.º 1" and view.shown.locale == "es"
    confirm = await line.router.contact(_in(line, "es"), f"/support-contact delete {key}")
    assert confirm.shown.title == "¿Borrar para siempre la solicitud n.º 1?"
    assert [a.label for a in confirm.shown.actions] == ["Borrar para siempre", "Conservarla"]
    gone = await line.router.contact(_in(line, "es"), f"/support-contact erase {key}")
    assert gone.shown.title == "Solicitud n.º 1 borrada"
    # Nothing stored says which language the person asked in.
    for table in ("contact_requests", "contact_settings", "contact_audit"):
        rows = await line.stack.db.fetch_all(f"SELECT * FROM {table}")
        assert not {"es", "es-ES"} & {v for r in rows for v in tuple(r)}, table


async def test_the_same_request_in_english_is_answered_in_english(line: Line) -> None:
    answer = await line.router.contact(_in(line, "en-GB"), "/support-contact anonymous hello")
    assert answer.shown.title == "Request #1 sent" and answer.shown.locale == "en"
    assert answer.keep is not None and answer.keep.title == "Your request #1 reached the moderators"
    assert [a.label for a in answer.keep.actions] == ["Read replies", "Answer", "Close", "Delete"]


async def test_a_persons_errors_are_in_their_language(line: Line) -> None:
    long = await line.router.contact(
        _in(line, "fr"), "/support-contact anonymous " + "a" * (TEXT_MAX + 5)
    )
    assert long.shown.tone is CardTone.ERROR and long.shown.locale == "fr"
    assert long.shown.body == (
        f"text: fait {TEXT_MAX + 5} caractères ; la limite est {TEXT_MAX} (raccourcis-le de 5)."
    )
    await line.router.contact(_in(line, "de"), "/support-contact anonymous erste Nachricht")
    soon = await line.router.contact(_in(line, "de"), "/support-contact anonymous noch eine")
    assert soon.shown.title == "Das hat nicht geklappt"
    assert soon.shown.body == (
        "Du hast gerade eine Anfrage gesendet. In etwa 10 Minuten kannst du eine weitere senden."
    )
    missing = await line.router.contact(_in(line, "pt-BR"), "/support-contact open no-such-key")
    assert missing.shown.body.startswith("Esse pedido não está mais aqui")
    # The form's precheck (before any text is typed) speaks the same language.
    refused = await line.router.contact_precheck(_in(line, "de"), "anonymous")
    assert refused is not None and refused.body.startswith("Du hast gerade eine Anfrage")


async def test_no_inbox_is_explained_in_spanish(stack: Stack) -> None:
    made = build(stack, Inbox())
    card = await made.router.contact(
        replace(stack.ctx(SENDER), locale="es"), "/support-contact anonymous hola"
    )
    assert card.shown.tone is CardTone.ERROR
    assert card.shown.title == "Eso no ha funcionado"
    assert (
        card.shown.body
        == "Esta comunidad aún no ha configurado una bandeja para el equipo de moderación."
    )


async def test_the_reply_dm_uses_the_communitys_language_and_moderators_stay_english(
    line: Line,
) -> None:
    await line.stack.communities.update_settings(line.stack.ctx(), "locale", default_locale="es")
    # The person asked in French; the DM comes later, with no request: the community's language.
    answer = await line.router.contact(_in(line, "fr"), "/support-contact anonymous bonjour")
    assert answer.shown.title == "Demande n° 1 envoyée"
    # A person with no client locale gets the community's default.
    line.stack.clock.current += timedelta(minutes=11)
    other = await line.router.contact(_in(line, None), "/support-contact anonymous hola")
    assert other.shown.title == "Solicitud n.º 2 enviada"
    reply = await line.router.run_text(
        _in(line, "es", MODERATOR), "/support-admin contact reply number:1 Estamos aquí"
    )
    assert reply.title == "Reply sent to request #1"
    ((_, dm),) = line.inbox.told
    assert dm.title == "Alguien del equipo de moderación respondió a tu solicitud n.º 1"
    assert dm.locale == "es"
    listed = await line.router.run_text(_in(line, "es", MODERATOR), "/support-admin contact list")
    assert listed.title == "Open requests to the moderators"


async def test_the_support_button_and_the_struggling_answer_follow_the_person(line: Line) -> None:
    # The button follows the card's one language: English while the message is untranslated.
    untranslated = await line.router.support(_in(line, "pt-BR", MEMBER), "general", None)
    assert untranslated.locale == "en"
    assert "Talk to a moderator" in [a.label for a in untranslated.actions]
    await translate_every_message(line.stack)
    card = await line.router.support(_in(line, "pt-BR", MEMBER), "general", None)
    assert card.locale == "pt-BR"
    assert ("Falar com a moderação", "/support-contact") in [
        (a.label, a.value) for a in card.actions
    ]
    english = await line.router.support(_in(line, None, MEMBER), "general", None)
    assert ("Talk to a moderator", "/support-contact") in [
        (a.label, a.value) for a in english.actions
    ]
    choose = await line.router.contact(_in(line, "de"), "/support-contact")
    assert choose.shown.title == "Mit der Moderation reden"
    assert [a.label for a in choose.shown.actions] == [
        "Anonym schreiben",
        "Mit meinem Namen schreiben",
    ]
    await line.mod("/support-admin settings contact-struggling yes")
    struggling = await line.router.contact(_in(line, "es"), "/support-contact struggling")
    assert struggling.shown.locale == "es" and struggling.shown.resources
    assert struggling.keep is not None
    assert struggling.keep.title == "Tu solicitud n.º 1 llegó al equipo de moderación"
    again = await line.router.contact(_in(line, "es"), "/support-contact struggling")
    assert again.shown.resources and again.keep is None
    assert again.shown.footer.startswith("Enviaste una solicitud hace un momento.")
