"""/support-admin through the real client: forms, permissions, pages, packs, settings."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.context import community_id_for_guild
from bot.core.models import Actor, ItemKind, Platform, RequestContext
from tests.adapters.discord.conftest import MANAGE_GUILD
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord, InteractionHandle


def card_of(body: dict[str, Any]) -> dict[str, Any]:
    data = body["data"]
    assert data["flags"] & EPHEMERAL, "every answer to a moderator is private"
    return data["embeds"][0]  # type: ignore[no-any-return]


def field(embed: dict[str, Any], name: str) -> str:
    return next(f["value"] for f in embed.get("fields", []) if f["name"] == name)


def moderator_ctx(guild: dict[str, Any]) -> RequestContext:
    return RequestContext(
        community_id=community_id_for_guild(int(guild["id"])),
        platform=Platform.DISCORD,
        actor=Actor("1", "test", has_admin_permission=True),
    )


async def admin(
    fake: FakeDiscord,
    guild: dict[str, Any],
    path: str,
    options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> InteractionHandle:
    kwargs.setdefault("member_permissions", MANAGE_GUILD)
    return await fake.dispatch_command(
        f"support-admin {path}", options or {}, guild=guild, **kwargs
    )


async def test_message_add_opens_a_form_and_saves_it(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    opened = await admin(fake, guild, "message add", {"topics": "coming-out"})
    body = await opened.response()
    assert body["type"] == 9, "without text, a form opens"
    modal = body["data"]
    assert modal["components"][0]["type"] == 18  # a label around the text input
    text_input = modal["components"][0]["component"]
    assert text_input["custom_id"] == "text" and text_input["style"] == 2  # paragraph
    topics_input = modal["components"][1]["component"]
    assert topics_input["value"] == "coming-out", "the given option is prefilled"

    submitted = await fake.submit_modal(
        opened,
        {"text": "You are welcome here, exactly as you are."},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    embed = card_of(await submitted.response())
    assert embed["title"] == "Message added"
    key = field(embed, "Key")
    stored = await haven.services.curation.get(moderator_ctx(guild), ItemKind.MESSAGE, key)
    assert stored.text == "You are welcome here, exactly as you are."
    assert stored.topics == ("coming-out",)


async def test_message_add_inline_text_needs_no_form(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    handle = await admin(
        fake, guild, "message add", {"text": "@everyone you matter", "topics": "general"}
    )
    embed = card_of(await handle.response())
    assert embed["title"] == "Message added"
    # Mentions in moderator text are made inert before they can ever be shown.
    assert "@everyone" not in embed["description"]


async def test_non_moderator_is_refused_even_if_discord_lets_them_run_it(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    """A server admin can override default_member_permissions; the core still refuses."""
    before = await haven.services.support.library(community_id_for_guild(int(guild["id"])))
    for path, options in (
        ("message add", {"text": "spam", "topics": "general"}),
        ("message add", {}),  # would open a form for a moderator
        ("settings moderator-roles", {"roles": "none"}),
    ):
        handle = await admin(fake, guild, path, options, member_permissions=0)
        body = await handle.response()
        assert body["type"] == 4, f"{path}: refused with a message, no form"
        embed = card_of(body)
        assert embed["title"] == "Not permitted"
        assert "Manage Server" in embed.get("footer", {}).get("text", "")
    haven.services.support.invalidate(community_id_for_guild(int(guild["id"])))
    after = await haven.services.support.library(community_id_for_guild(int(guild["id"])))
    assert len(after.messages) == len(before.messages), "nothing was written"


async def test_moderator_role_grants_access_without_manage_server(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    role = fake.role_id(guild, "moderators")
    configured = await admin(fake, guild, "settings moderator-roles", {"roles": f"<@&{role}>"})
    assert field(card_of(await configured.response()), "Moderator roles") == f"@moderators ({role})"

    helper = await admin(
        fake,
        guild,
        "message add",
        {"text": "Take the time you need.", "topics": "general"},
        member_permissions=0,
        roles=[role],
    )
    assert card_of(await helper.response())["title"] == "Message added"

    stranger = await admin(
        fake, guild, "message add", {"text": "x", "topics": "general"}, member_permissions=0
    )
    assert card_of(await stranger.response())["title"] == "Not permitted"


async def test_edit_form_is_prefilled_and_detects_a_concurrent_edit(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    opened = await admin(fake, guild, "message edit", {"key": "coming-out-own-pace"})
    modal = (await opened.response())["data"]
    prefilled = modal["components"][0]["component"]["value"]
    assert prefilled.startswith("There's no single big reveal")

    # Someone else edits the same message while the form is open.
    other = await admin(
        fake, guild, "message edit", {"key": "coming-out-own-pace", "text": "Changed meanwhile."}
    )
    assert card_of(await other.response())["title"] == "Message updated"

    submitted = await fake.submit_modal(
        opened, {"text": "My edit."}, guild=guild, member_permissions=MANAGE_GUILD
    )
    embed = card_of(await submitted.response())
    assert embed["title"] == "Changed since you opened it"
    stored = await haven.services.curation.get(
        moderator_ctx(guild), ItemKind.MESSAGE, "coming-out-own-pace"
    )
    assert stored.text == "Changed meanwhile."


async def test_resource_add_without_url_opens_a_form(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    opened = await admin(
        fake,
        guild,
        "resource add",
        {"title": "Local Line", "phone": "0800 123 4567", "crisis": False},
    )
    modal = (await opened.response())["data"]
    assert [c["component"]["custom_id"] for c in modal["components"]] == [
        "title",
        "url",
        "topics",
        "regions",
        "description",
    ]
    submitted = await fake.submit_modal(
        opened,
        {
            "title": "Local Line",
            "url": "https://local-line.example.org",
            "topics": "general",
            "regions": "GB",
        },
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    embed = card_of(await submitted.response())
    assert embed["title"] == "Resource added"
    # Options given with the command but not in the form were carried through it.
    assert "0800 123 4567" in field(embed, "Contacts")
    assert field(embed, "Crisis service") == "no"


async def test_lists_are_paged_with_buttons(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    first = await admin(fake, guild, "message list")
    body = await first.response()
    embed = card_of(body)
    assert "Page 1 of" in embed["footer"]["text"]
    assert first.message is not None
    buttons = {c["label"]: c for row in first.message["components"] for c in row["components"]}
    assert buttons["◀ Previous"]["disabled"] is True
    following = await fake.dispatch_component(
        first.message,
        buttons["Next ▶"]["custom_id"],
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    page_two = await following.response()
    assert page_two["type"] == 7  # the list is replaced in place
    assert "Page 2 of" in page_two["data"]["embeds"][0]["footer"]["text"]

    # The button re-runs the command through the router: a non-moderator cannot page through.
    stranger = await fake.dispatch_component(
        first.message, buttons["Next ▶"]["custom_id"], guild=guild, member_permissions=0
    )
    assert (await stranger.response())["data"]["embeds"][0]["title"] == "Not permitted"


async def test_pack_export_and_import_with_confirmation(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    exported = await admin(fake, guild, "pack export", {"format": "yaml"})
    card_of(await exported.response())
    (content,) = exported.callback_files.values()
    assert list(exported.callback_files) == ["haven-pack.yaml"]
    text = content.decode()
    edited = text.replace("There's no single big reveal", "No big reveal is owed", 1)
    assert edited != text

    moderator = fake.make_user("pack-moderator")
    preview = await admin(
        fake,
        guild,
        "pack import",
        {"file": fake.attachment("haven-pack.yaml", edited)},
        user=moderator,
    )
    embed = card_of(await preview.response())
    assert embed["title"] == "Pack import preview"
    assert preview.message is not None
    apply_button = next(
        c
        for row in preview.message["components"]
        for c in row["components"]
        if c.get("label") == "Apply"
    )
    # The moderator who read the preview is the one who applies it.
    applied = await fake.dispatch_component(
        preview.message,
        apply_button["custom_id"],
        guild=guild,
        user=moderator,
        member_permissions=MANAGE_GUILD,
    )
    result = await applied.response()
    assert result["type"] == 7
    stored = await haven.services.curation.get(
        moderator_ctx(guild), ItemKind.MESSAGE, "coming-out-own-pace"
    )
    assert stored.text.startswith("No big reveal is owed")


async def test_settings_show_and_help(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    region = await admin(fake, guild, "settings region", {"region": "GB"})
    assert "GB" in field(card_of(await region.response()), "Default region")
    shown = await admin(fake, guild, "settings show")
    assert "GB" in field(card_of(await shown.response()), "Default region")
    helped = await admin(fake, guild, "help")
    assert "/support-admin message add" in card_of(await helped.response())["description"]

    # The default region now answers /support without one.
    support = await fake.dispatch_command("support", {"topic": "crisis"}, guild=guild)
    assert "call 999" in (await support.response())["data"]["embeds"][0]["description"]


async def test_unknown_custom_id_still_gets_an_answer(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    message = {"channel_id": fake.channel_id(guild), "components": [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "old", "custom_id": "haven:retired-kind:1"}
    ]}]}  # fmt: skip
    handle = await fake.dispatch_component(message, "haven:retired-kind:1", guild=guild)
    body = await handle.response()
    assert body["data"]["flags"] & EPHEMERAL
    assert "expired" in body["data"]["content"]


def test_long_command_lines_go_through_the_store() -> None:
    store = ids.ShortLivedStore()
    line = "/support-admin resource list topic:" + "x" * 120
    custom_id = ids.run_id(line, store)
    assert len(custom_id) <= 100
    parsed = ids.parse_id(custom_id)
    assert parsed is not None and ids.resolve_run(parsed, store) == line
    form = ids.form_id("resource", "add", {"phone": "1" * 80, "hours": "24/7"}, store)
    parsed_form = ids.parse_id(form)
    assert parsed_form is not None
    assert ids.resolve_form(parsed_form, store) == (
        "resource",
        "add",
        {"phone": "1" * 80, "hours": "24/7"},
    )


async def test_admin_autocomplete(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    keys = await fake.dispatch_autocomplete(
        "support-admin message show",
        {"key": "own-pace"},
        "key",
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    choices = (await keys.response())["data"]["choices"]
    assert [c["value"] for c in choices] == ["coming-out-own-pace"]
    assert all(len(c["name"]) <= 100 for c in choices)

    # Keys are offered to moderators only.
    hidden = await fake.dispatch_autocomplete(
        "support-admin message show", {"key": ""}, "key", guild=guild, member_permissions=0
    )
    assert (await hidden.response())["data"]["choices"] == []

    topics = await fake.dispatch_autocomplete(
        "support-admin message add",
        {"topics": "coming-out, cri"},
        "topics",
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    values = [c["value"] for c in (await topics.response())["data"]["choices"]]
    assert values == ["coming-out, crisis"]

    zones = await fake.dispatch_autocomplete(
        "support-admin settings timezone",
        {"timezone": "london"},
        "timezone",
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    zone_values = [c["value"] for c in (await zones.response())["data"]["choices"]]
    assert "Europe/London" in zone_values and len(zone_values) <= 25
