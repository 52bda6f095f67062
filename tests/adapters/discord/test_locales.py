"""/support in the person's language on Discord: the real client against the emulator.

The interaction's `locale` (the person's client language) chooses Haven's words, else the
community's default, else English; the command's localisations reach Discord and its hash.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.commands import (
    TREE_HASH_KEY,
    payload_hash,
    sync_if_changed,
    tree_payload,
)
from bot.adapters.discord.localisations import CommandTranslator
from bot.core.models import Actor, Platform, RequestContext
from tests.adapters.discord.conftest import LogGuard, component
from tests.answers_in_four_languages import CASES, IDS, LanguageCase, assert_answer_in
from tests.fakes.fake_discord import FakeDiscord


async def _support(
    fake: FakeDiscord, guild: dict[str, Any], locale: str, topic: str, region: str
) -> dict[str, Any]:
    handle = await fake.dispatch_command(
        "support", {"topic": topic, "region": region}, guild=guild, locale=locale
    )
    data: dict[str, Any] = (await handle.response())["data"]
    return data


async def test_spanish_client_gets_spanish_headings_and_buttons(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    data = await _support(fake, guild, "es-ES", "crisis", "ES")
    (embed,) = data["embeds"]
    assert embed["title"] == "Crisis ahora mismo"
    assert "Solo tú puedes ver esto." in embed["footer"]["text"]
    assert "Haven no es un servicio de crisis." in embed["footer"]["text"]
    assert embed["description"].startswith("Si estás en peligro inmediato")
    # Spain's own lines, badged in Spanish.
    assert any("024" in field["value"] for field in embed["fields"])
    assert any("Llamar: " in field["value"] for field in embed["fields"])
    assert "Only you" not in str(embed) and "Call: " not in str(embed)
    assert component(data, ids.TOPIC_SELECT)["placeholder"] == "Otro tema…"
    topic_labels = [o["label"] for o in component(data, ids.TOPIC_SELECT)["options"]]
    assert "Salir del armario" in topic_labels and "Apoyo general" in topic_labels
    assert component(data, ids.DM_COPY)["label"] == "Envíame una copia por MD"
    report = component(data, ids.REPORT_SELECT)
    assert report["placeholder"] == "Avisar de un problema con un recurso…"
    assert any(o["label"].endswith("Este número no funcionó") for o in report["options"])


async def test_brazilian_client_gets_portuguese(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    data = await _support(fake, guild, "pt-BR", "crisis", "BR")
    (embed,) = data["embeds"]
    assert embed["title"] == "Crise agora"
    assert "Só você pode ver isto." in embed["footer"]["text"]
    assert any("188" in field["value"] for field in embed["fields"])  # CVV
    assert component(data, ids.DM_COPY)["label"] == "Me mande uma cópia por DM"
    assert component(data, ids.TOPIC_SELECT)["placeholder"] == "Outro tema…"


async def test_a_language_haven_lacks_gets_the_community_default_then_english(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    english = await _support(fake, guild, "ja", "coming-out", "GB")
    assert english["embeds"][0]["title"] == "Coming out"
    assert "Only you can see this." in english["embeds"][0]["footer"]["text"]

    # A moderator sets the server's language to French: Japanese clients now get French.
    community_id = f"discord:{guild['id']}"
    moderator = RequestContext(
        community_id, Platform.DISCORD, Actor("mod", "Mod", has_admin_permission=True)
    )
    await haven.services.communities.update_settings(moderator, "locale", default_locale="fr")
    french = await _support(fake, guild, "ja", "coming-out", "GB")
    assert french["embeds"][0]["title"] == "Faire son coming out"
    assert "Toi seul·e peux voir ce message." in french["embeds"][0]["footer"]["text"]
    # The person's own language still comes first when Haven has it.
    german = await _support(fake, guild, "de", "coming-out", "GB")
    assert german["embeds"][0]["title"] == "Coming-out"
    assert "Nur du kannst das sehen." in german["embeds"][0]["footer"]["text"]


async def test_topic_and_country_typed_in_spanish(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    data = await _support(fake, guild, "es-ES", "salir-del-armario", "España")
    assert data["embeds"][0]["title"] == "Salir del armario"
    assert component(data, ids.DM_COPY)["custom_id"].startswith("haven:dm:coming-out:ES:")

    unknown = await _support(fake, guild, "es-ES", "nada-que-ver", "ES")
    (embed,) = unknown["embeds"]
    assert embed["title"] == "Eso no ha funcionado"
    assert "No conozco el tema «nada-que-ver»." in embed["description"]
    assert "O escribe solo /support" in embed["footer"]["text"]


async def test_autocomplete_speaks_the_persons_language(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    topics = await fake.dispatch_autocomplete(
        "support", {"topic": "salir"}, "topic", guild=guild, locale="es-ES"
    )
    choices = (await topics.response())["data"]["choices"]
    assert choices[0] == {"name": "Salir del armario", "value": "coming-out"}
    regions = await fake.dispatch_autocomplete(
        "support", {"region": "alem"}, "region", guild=guild, locale="es-ES"
    )
    found = (await regions.response())["data"]["choices"]
    assert {"name": "Alemania (DE)", "value": "DE"} in found


async def test_the_command_is_localised_for_every_shipped_language(
    fake: FakeDiscord, haven: HavenBot
) -> None:
    support = fake.find_command("support")
    descriptions = support["description_localizations"]
    assert descriptions["es-ES"].startswith("Recibe en privado")
    assert descriptions["es-419"] == descriptions["es-ES"]
    assert descriptions["pt-BR"].startswith("Receba em particular")
    assert descriptions["fr"].startswith("Reçois en privé")
    assert descriptions["de"].startswith("Erhalte privat")
    assert "en-US" not in descriptions and "ja" not in descriptions
    # The command keeps its one name: answers and the README say /support everywhere.
    assert support["name_localizations"] == {}
    options = {o["name"]: o for o in support["options"]}
    assert options["topic"]["name_localizations"]["es-ES"] == "tema"
    assert options["region"]["name_localizations"]["de"] == "land"
    assert options["region"]["description_localizations"]["fr"].startswith("Ton pays")
    # So is the other command a person asking for help uses, choices included.
    contact = fake.find_command("support-contact")
    assert contact["name_localizations"] == {}
    assert contact["description_localizations"]["es-ES"].startswith("Escribe en privado")
    assert contact["description_localizations"]["pt-BR"].startswith("Escreva em particular")
    (send_as,) = contact["options"]
    assert send_as["name"] == "as" and send_as["name_localizations"]["de"] == "als"
    assert send_as["description_localizations"]["fr"].startswith("Anonyme")
    names = {c["value"]: c["name_localizations"] for c in send_as["choices"]}
    assert names["anonymous"]["es-ES"].startswith("anónimo:")
    assert names["myself"]["de"].startswith("mit meinem Namen:")
    # Moderator commands stay English.
    admin = fake.find_command("support-admin")
    assert not admin.get("description_localizations")


class _RetranslatedDescription(CommandTranslator):
    """The shipped translator with one Spanish description changed (a translator's edit)."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        found = await super().translate(string, locale, context)
        described = context.location is app_commands.TranslationContextLocation.command_description
        if found and described and locale is discord.Locale.spain_spanish:
            return found + " (revisado)"
        return found


async def test_a_changed_translation_changes_the_hash_and_syncs_again(
    fake: FakeDiscord, haven: HavenBot
) -> None:
    tree = haven.tree
    payload = await tree_payload(tree)
    stored = await haven.services.meta.get(TREE_HASH_KEY)
    assert stored == payload_hash(payload, tree.client.application_id)
    support = next(c for c in payload if c["name"] == "support")
    assert support["description_localizations"]["es-ES"].startswith("Recibe en privado")
    # Without localisations the payload hashes differently: they are part of what is hashed.
    plain = [command.to_dict(tree) for command in tree.get_commands()]
    assert payload_hash(plain, tree.client.application_id) != stored

    puts = len(fake.requests_to("PUT", r"/applications/\d+/commands$"))
    assert not await sync_if_changed(tree, haven.services.meta)
    await tree.set_translator(_RetranslatedDescription())
    assert await sync_if_changed(tree, haven.services.meta)
    assert len(fake.requests_to("PUT", r"/applications/\d+/commands$")) == puts + 1
    synced = fake.find_command("support")["description_localizations"]["es-ES"]
    assert synced.endswith("(revisado)")


async def test_requests_in_several_languages_leave_no_trace(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any], log_guard: LogGuard
) -> None:
    asker = fake.make_user("sam-locale-4412", "876543210876543210")
    # Regional tags that neither a catalog nor a pack names: finding one means it was kept.
    for locale in ("es-419", "pt-PT", "fr-CA", "de-CH"):
        handle = await fake.dispatch_command(
            "support", {"topic": "crisis", "region": "GB"}, guild=guild, user=asker, locale=locale
        )
        await handle.response()
        assert handle.message is not None
        menu = component(handle.message, ids.TOPIC_SELECT)
        picked = await fake.dispatch_component(
            handle.message, menu["custom_id"], values=["family"], guild=guild, user=asker,
            locale=locale,
        )  # fmt: skip
        switched = (await picked.response())["data"]["embeds"][0]["title"]
        assert switched in ("Familia", "Família", "Famille", "Familie")
    await haven.services.support.flush()
    path = haven.services.settings.database_path
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    assert stored
    logged = log_guard.text()
    for secret in ("es-419", "pt-PT", "fr-CA", "de-CH", asker["id"], "sam-locale-4412"):
        assert secret.encode() not in stored, secret
        assert secret not in logged, secret


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_crisis_answers_in_the_four_shipped_languages(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any], case: LanguageCase
) -> None:
    data = await _support(fake, guild, case.locale, "crisis", case.region)
    assert data["flags"] & 64  # ephemeral: only the person sees it
    (embed,) = data["embeds"]
    shown = "\n".join(
        [embed.get("title", ""), embed.get("description", ""), embed["footer"]["text"]]
        + [f"{field['name']}\n{field['value']}" for field in embed["fields"]]
    )
    assert_answer_in(shown, case)
