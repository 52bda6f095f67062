"""/support in the person's Slack language: users.info (include_locale) through the real Bolt
app, held in memory only, never written to the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services import Services
from tests.adapters.slack.conftest import SignedSender, texts_of
from tests.answers_in_four_languages import CASES, IDS, LanguageCase, assert_answer_in
from tests.fakes.fake_slack import FakeSlack

FRENCH = "U0FRENCH"
SPANISH = "U0SPANISH"


async def test_a_french_users_answer_is_in_french(slack: SignedSender, fake: FakeSlack) -> None:
    fake.add_user(FRENCH, name="Camille", locale="fr-FR")
    reply = await slack.command("/support", "crisis FR", user_id=FRENCH)
    assert reply.status == 200
    answer = reply.json
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == "En crise maintenant"
    shown = texts_of(answer)
    assert "Si tu es en danger immédiat" in shown
    assert "Toi seul·e peux voir ce message." in shown
    assert "M'envoyer une copie en MP" in shown
    assert "Autres sujets" in shown
    assert "Only you can see this" not in shown
    [asked] = [c for c in fake.calls_to("users.info") if c.args.get("user") == FRENCH]
    assert asked.args["include_locale"] == "1"


async def test_the_locale_is_looked_up_once_in_a_while_not_per_answer(
    slack: SignedSender, fake: FakeSlack
) -> None:
    fake.add_user(SPANISH, name="Alex", locale="es-ES")
    for text in ("crisis ES", "coming-out ES", "general"):
        reply = await slack.command("/support", text, user_id=SPANISH)
        assert reply.json["blocks"][0]["text"]["text"] in (
            "Crisis ahora mismo",
            "Salir del armario",
            "Apoyo general",
        )
    assert fake.locale_lookups == 1


async def test_an_unknown_slack_language_gets_the_workspace_default(
    slack: SignedSender, fake: FakeSlack
) -> None:
    fake.add_user("U0JAPANESE", name="Yu", locale="ja-JP")
    reply = await slack.command("/support", "crisis GB", user_id="U0JAPANESE")
    assert reply.json["blocks"][0]["text"]["text"] == "Crisis right now"
    assert "Only you can see this." in texts_of(reply.json)


async def test_locales_are_never_written_to_the_database(
    slack: SignedSender, fake: FakeSlack, services: Services, tmp_path: Path
) -> None:
    # Regional tags no pack or catalog names, so finding one would mean it was stored.
    people = {"U0LOCALEPT": "pt-PT", "U0LOCALEDE": "de-AT", "U0LOCALEFR": "fr-CA"}
    for user, locale in people.items():
        fake.add_user(user, locale=locale)
        reply = await slack.command("/support", "coming-out GB", user_id=user)
        assert reply.status == 200
    await services.support.flush()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("haven.db*"))
    assert stored, "the database files were read"
    for user, locale in people.items():
        assert user.encode() not in stored
        assert locale.encode() not in stored


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_crisis_answers_in_the_four_shipped_languages(
    slack: SignedSender, fake: FakeSlack, case: LanguageCase
) -> None:
    user = f"U0{case.region}PERSON"
    fake.add_user(user, name="Sam", locale=case.locale)
    reply = await slack.command("/support", f"crisis {case.region}", user_id=user)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert_answer_in(texts_of(reply.json), case)
