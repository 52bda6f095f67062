"""Moderators add, replace, confirm and remove translations: checked, audited, undoable; an
edit of the source text makes its translations outdated (kept, not shown) until confirmed."""

from __future__ import annotations

from dataclasses import replace

from bot.core.cards import CardTone
from bot.core.models import ItemKind, SupportMessage
from tests.core.conftest import Stack


async def test_a_moderator_translates_a_message_and_a_spanish_asker_sees_it(stack: Stack) -> None:
    ctx = stack.ctx()
    card = await stack.router.run_text(
        ctx, "/support-admin message translate coming-out-1 es Tu ritmo es el ritmo correcto."
    )
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert "Tu ritmo es el ritmo correcto." in dict(card.fields)["Translation es"]

    stored = await stack.curation.get(ctx, ItemKind.MESSAGE, "coming-out-1")
    assert isinstance(stored, SupportMessage)
    assert stored.translation("es") is not None
    assert stored.translation("es").text == "Tu ritmo es el ritmo correcto."  # type: ignore[union-attr]

    answer = await stack.support.reply(
        replace(ctx, locale="es-ES"), "coming-out", message_key="coming-out-1"
    )
    assert answer.body.startswith("Tu ritmo es el ritmo correcto.")
    assert "Your pace" not in answer.body
    assert answer.locale == "es"
    english = await stack.support.reply(ctx, "coming-out", message_key="coming-out-1")
    assert english.body.startswith("Your pace is the right pace.")
    assert english.locale == "en"

    # Audited with who did it, before and after; undo takes it away again.
    history = await stack.router.admin(ctx, "message", "history", {"key": "coming-out-1"})
    assert history.lines[0].split(" ")[3] == "translate"
    assert "by Mod One" in history.lines[0]
    # One line per language changed, by its words.
    assert history.lines[1] == "    translations.es: (none) → Tu ritmo es el ritmo correcto."
    entries = await stack.curation.history(ctx, ItemKind.MESSAGE, "coming-out-1")
    assert entries[0].before is not None and entries[0].before["translations"] == {}
    assert entries[0].after is not None
    assert entries[0].after["translations"]["es"]["text"] == "Tu ritmo es el ritmo correcto."  # type: ignore[index]

    undone = await stack.router.admin(ctx, "message", "undo", {"key": "coming-out-1"})
    assert undone.tone is CardTone.SUCCESS
    back = await stack.support.reply(
        replace(ctx, locale="es-ES"), "coming-out", message_key="coming-out-1"
    )
    assert back.body.startswith("Your pace is the right pace.")
    assert back.locale == "en"


async def test_bad_translations_are_refused_with_a_clear_answer(stack: Stack) -> None:
    ctx = stack.ctx()
    cases = {
        "/support-admin message translate coming-out-1 xx_yy_zz Hola": "not a language tag",
        "/support-admin message translate coming-out-1 en Hello": "language the text is written",
        "/support-admin message translate coming-out-1 it Ciao": "Haven answers in en, es",
        "/support-admin message translate coming-out-1 es " + "a" * 1501: "the limit is 1500",
        "/support-admin message translate coming-out-1 es Llama al 024": "has 024",
        "/support-admin message translate coming-out-1 es confirm:yes": "has no es translation",
        "/support-admin message translate coming-out-1 es": "one of them",
    }
    for line, expected in cases.items():
        card = await stack.router.run_text(ctx, line)
        assert card.tone is CardTone.ERROR, line
        assert expected in card.plain_text(), (line, card.plain_text())
    stored = await stack.curation.get(ctx, ItemKind.MESSAGE, "coming-out-1")
    assert stored.translations == ()


async def test_a_resource_translation_must_keep_its_numbers(stack: Stack) -> None:
    ctx = stack.ctx()
    await stack.router.admin(
        ctx, "resource", "edit", {"key": "gb-crisisline", "description": "Call 116 123 any time."}
    )
    refused = await stack.router.admin(
        ctx,
        "resource",
        "translate",
        {"key": "gb-crisisline", "locale": "fr", "description": "Appelez à tout moment."},
    )
    assert refused.tone is CardTone.ERROR
    assert "description: is missing 116123" in refused.plain_text()
    done = await stack.router.admin(
        ctx,
        "resource",
        "translate",
        {
            "key": "gb-crisisline",
            "locale": "fr",
            "description": "Appelez le 116 123 à tout moment. @everyone",
            "hours": "24 h/24",
        },
    )
    assert done.tone is CardTone.SUCCESS, done.plain_text()
    french = await stack.support.reply(
        replace(ctx, locale="fr"), "crisis", "GB", message_key="crisis-1"
    )
    # The message has no French translation, so the whole card stays English.
    assert french.locale == "en"
    assert french.resources[0].description == "Call 116 123 any time."

    await stack.router.run_text(
        ctx, "/support-admin message translate crisis-1 fr Parlez à quelqu'un aujourd'hui."
    )
    french = await stack.support.reply(
        replace(ctx, locale="fr-CA"), "crisis", "GB", message_key="crisis-1"
    )
    assert french.locale == "fr"
    assert french.body.endswith("Parlez à quelqu'un aujourd'hui.")
    line = next(r for r in french.resources if r.title == "GB Crisis Line")
    # Mentions in a translation are made inert like any text.
    assert line.description == "Appelez le 116 123 à tout moment. @\u2060everyone"
    assert line.hours == "24 h/24"

    removed = await stack.router.admin(
        ctx, "resource", "translate", {"key": "gb-crisisline", "locale": "fr", "clear": "yes"}
    )
    assert removed.tone is CardTone.SUCCESS
    assert "Translation fr" not in dict(removed.fields)
    history = await stack.curation.history(ctx, ItemKind.RESOURCE, "gb-crisisline")
    assert [e.action for e in history[:2]] == ["translate.remove", "translate"]


async def test_editing_the_source_makes_translations_outdated_until_confirmed(
    stack: Stack,
) -> None:
    ctx = stack.ctx()
    await stack.router.run_text(
        ctx, "/support-admin message translate coming-out-2 de Du entscheidest, wer es erfährt."
    )
    edited = await stack.router.admin(
        ctx, "message", "edit", {"key": "coming-out-2", "text": "You decide who knows, and when."}
    )
    assert "may no longer say the same" in edited.footer
    assert "outdated" in dict(edited.fields)["Translation de"]
    german = replace(ctx, locale="de")
    answer = await stack.support.reply(german, "coming-out", message_key="coming-out-2")
    # Not shown while outdated: the person reads the current English, the whole card English.
    assert answer.body.startswith("You decide who knows, and when.")
    assert answer.locale == "en"

    confirmed = await stack.router.run_text(
        ctx, "/support-admin message translate coming-out-2 de confirm:yes"
    )
    assert confirmed.tone is CardTone.SUCCESS, confirmed.plain_text()
    assert confirmed.footer == ""
    answer = await stack.support.reply(german, "coming-out", message_key="coming-out-2")
    assert answer.body.startswith("Du entscheidest, wer es erfährt.")
    assert answer.locale == "de"
    history = await stack.curation.history(ctx, ItemKind.MESSAGE, "coming-out-2")
    assert [e.action for e in history[:3]] == ["translate.confirm", "edit", "translate"]


async def test_a_member_cannot_translate(stack: Stack) -> None:
    from tests.core.conftest import MEMBER

    card = await stack.router.run_text(
        stack.ctx(MEMBER), "/support-admin message translate coming-out-1 es Hola"
    )
    assert card.tone is CardTone.ERROR
    stored = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    assert stored.translations == ()


async def test_an_imported_pack_translation_is_shown_with_its_mentions_made_inert(
    stack: Stack,
) -> None:
    from bot.core.content.packs import parse_pack
    from tests.core.test_packs import TODAY, as_yaml, minimal

    data = minimal()
    data["messages"][1]["translations"] = {"es": "Habla hoy con alguien. @everyone <@&42>"}
    data["resources"][0]["translations"] = {
        "es": {"description": "Una línea de escucha. @here", "hours": "24/7"}
    }
    pack, problems = parse_pack(as_yaml(data), "pack.yaml", today=TODAY)
    assert pack is not None, [str(p) for p in problems]
    ctx = stack.ctx()
    summary = await stack.curation.import_pack(ctx, pack)
    assert summary.added + summary.changed >= 2
    card = await stack.support.reply(
        replace(ctx, locale="es"), "crisis", "GB", message_key="crisis-1"
    )
    assert card.locale == "es"
    assert "Habla hoy con alguien. @\u2060everyone <\u2060@&42>" in card.body
    line = next(r for r in card.resources if r.title == "GB Line")
    assert line.description == "Una línea de escucha. @\u2060here"
    # The import is audited per item, and undo takes the translation away again.
    await stack.router.admin(ctx, "message", "undo", {"key": "crisis-1"})
    again = await stack.support.reply(
        replace(ctx, locale="es"), "crisis", "GB", message_key="crisis-1"
    )
    assert again.locale == "en"
