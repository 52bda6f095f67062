"""/support through the real discord.py client against the emulator: sync payload, the private
answer, autocomplete, the topic and region menus, DM copies, DMs with the bot."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.commands import TREE_HASH_KEY
from bot.adapters.discord.render import DM_BUTTON_LABEL
from bot.services import Services
from cogs.support import DM_CLOSED, DM_SENT
from tests.adapters.discord.conftest import component, components, start_client, stop_client
from tests.fakes.fake_discord import (
    CHANNEL,
    EPHEMERAL,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    FakeDiscord,
    command_size,
)


async def test_command_sync_payload(fake: FakeDiscord, haven: HavenBot) -> None:
    support = fake.find_command("support")
    assert [o["name"] for o in support["options"]] == ["topic", "region"]
    assert all(o["autocomplete"] and not o["required"] for o in support["options"])
    assert support["contexts"] == [0, 1]  # servers and the bot's DM
    assert support["integration_types"] == [0]
    assert support.get("default_member_permissions") is None

    admin = fake.find_command("support-admin")
    assert admin["default_member_permissions"] == str(1 << 5)  # Manage Server
    assert admin["contexts"] == [0]  # servers only
    assert admin["integration_types"] == [0]
    groups = {o["name"]: o for o in admin["options"] if o["type"] == SUB_COMMAND_GROUP}
    assert set(groups) == {"message", "resource", "schedule", "settings", "pack", "dashboard"}
    verbs = {g: [o["name"] for o in groups[g]["options"]] for g in groups}
    # `/support-admin dashboard` elsewhere; Discord's groups need a subcommand.
    assert verbs["dashboard"] == ["open"]
    assert verbs["message"] == [
        "add", "edit", "list", "show", "remove", "history", "undo", "enable", "disable",
        "updates",
    ]  # fmt: skip
    # Haven's updates to items a community edited: one verb-table entry, here a subcommand.
    updates = next(o for o in groups["resource"]["options"] if o["name"] == "updates")
    assert [o["name"] for o in updates["options"]] == ["take", "keep"]
    assert verbs["schedule"] == [
        "add", "edit", "list", "pause", "resume", "remove", "test", "history"
    ]  # fmt: skip
    # remove asks first; its confirmation is the answer's button, not a slash option.
    schedule_remove = next(o for o in groups["schedule"]["options"] if o["name"] == "remove")
    assert [o["name"] for o in schedule_remove["options"]] == ["id"]
    assert verbs["settings"] == [
        "show", "region", "timezone", "moderator-roles", "moderator-users", "log-channel"
    ]  # fmt: skip
    assert verbs["pack"] == ["export", "import"]
    assert [o["name"] for o in admin["options"] if o["type"] == SUB_COMMAND] == ["help"]

    add = next(o for o in groups["message"]["options"] if o["name"] == "add")
    assert [(o["name"], o.get("required", False)) for o in add["options"]] == [
        ("text", False),
        ("topics", False),
        ("locale", False),
        ("audience", False),
    ]
    # The resource group has `stale`, and add/edit take rank, audience, ages, open, timezone.
    assert "stale" in verbs["resource"]
    resource_add = next(o for o in groups["resource"]["options"] if o["name"] == "add")
    options = {o["name"]: o for o in resource_add["options"]}
    assert {"rank", "audience", "ages", "open", "timezone"} <= set(options)
    assert [c["value"] for c in options["audience"]["choices"]] == [
        "everyone", "young-people", "parents-and-families", "allies"
    ]  # fmt: skip
    schedule_add = next(o for o in groups["schedule"]["options"] if o["name"] == "add")
    channel = schedule_add["options"][0]
    assert channel["name"] == "channel" and channel["type"] == CHANNEL and channel["required"]
    timezone = next(o for o in schedule_add["options"] if o["name"] == "timezone")
    assert timezone["autocomplete"] is True
    assert command_size(admin) < 8000  # Discord's combined limit (the emulator enforces it)
    assert await haven.services.meta.get(TREE_HASH_KEY) is not None


async def test_support_answer_is_private_with_local_resources(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    handle = await fake.dispatch_command(
        "support", {"topic": "coming-out", "region": "GB"}, guild=guild
    )
    body = await handle.response()
    assert body["type"] == 4
    data = body["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"] == {"parse": []}
    (embed,) = data["embeds"]
    assert embed["title"] == "Coming out"
    assert "999" in embed["footer"]["text"]  # the UK emergency number for region GB
    assert "Only you can see this" in embed["footer"]["text"]
    fields = embed["fields"]
    assert fields, "resources are listed"
    for field in fields:
        # Every resource shows its link's domain as the link text.
        assert "🔗 [" in field["value"]
    assert any("switchboard.lgbt" in f["value"] for f in fields)
    assert any("Call: " in f["value"] for f in fields), "contacts are shown"

    links = [c for c in components(data) if c.get("style") == 5]
    assert links and all(len(c["label"]) <= 80 and len(c["url"]) <= 512 for c in links)
    topic_menu = component(data, ids.TOPIC_SELECT)
    assert "coming-out" not in [o["value"] for o in topic_menu["options"]]
    assert "crisis" in [o["value"] for o in topic_menu["options"]]
    dm_button = component(data, ids.DM_COPY)
    assert dm_button["label"] == DM_BUTTON_LABEL
    assert dm_button["custom_id"].startswith("haven:dm:coming-out:GB:")


async def test_autocomplete_is_answered_from_memory(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    topics = await fake.dispatch_autocomplete("support", {"topic": "cr"}, "topic", guild=guild)
    body = await topics.response()
    assert body["type"] == 8
    assert [c["value"] for c in body["data"]["choices"]] == ["crisis"]

    regions = await fake.dispatch_autocomplete("support", {"region": ""}, "region", guild=guild)
    choices = (await regions.response())["data"]["choices"]
    assert 0 < len(choices) <= 25
    ireland = await fake.dispatch_autocomplete("support", {"region": "irel"}, "region", guild=guild)
    assert "IE" in [c["value"] for c in (await ireland.response())["data"]["choices"]]


async def test_topic_menu_replaces_the_answer_in_place(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    first = await fake.dispatch_command(
        "support", {"topic": "coming-out", "region": "GB"}, guild=guild
    )
    await first.response()
    assert first.message is not None
    menu = component(first.message, ids.TOPIC_SELECT)
    chosen = await fake.dispatch_component(
        first.message, menu["custom_id"], values=["crisis"], guild=guild
    )
    body = await chosen.response()
    assert body["type"] == 7  # UPDATE_MESSAGE: the private answer changes, nothing new is posted
    (embed,) = body["data"]["embeds"]
    assert embed["title"] == "Crisis right now"
    assert embed["description"].startswith("If you are in immediate danger, call 999")


async def test_region_menu_when_no_region_is_known(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    first = await fake.dispatch_command("support", {"topic": "coming-out"}, guild=guild)
    data = (await first.response())["data"]
    assert "Tell me your country" in data["embeds"][0]["description"]
    menu = component(data, ids.REGION_SELECT)
    assert 0 < len(menu["options"]) <= 25
    assert first.message is not None
    chosen = await fake.dispatch_component(
        first.message, menu["custom_id"], values=["GB"], guild=guild
    )
    embed = (await chosen.response())["data"]["embeds"][0]
    assert embed["title"] == "Coming out"
    assert "999" in embed["footer"]["text"]


async def test_dm_copy_is_the_same_answer(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    user = fake.make_user("asker")
    first = await fake.dispatch_command(
        "support", {"topic": "harassment", "region": "GB"}, guild=guild, user=user
    )
    original = (await first.response())["data"]["embeds"][0]
    assert first.message is not None
    button = component(first.message, ids.DM_COPY)
    pressed = await fake.dispatch_component(
        first.message, button["custom_id"], guild=guild, user=user
    )
    assert (await pressed.response())["type"] == 5  # deferred, ephemeral
    assert (await pressed.followup())["content"] == DM_SENT
    assert (await pressed.followup())["flags"] & EPHEMERAL
    (dm,) = fake.dm_messages(user["id"])
    copy = dm["embeds"][0]
    assert copy["description"] == original["description"]
    assert [f["name"] for f in copy["fields"]] == [f["name"] for f in original["fields"]]
    # The DM copy has links only: no buttons that would run commands from the DM.
    assert all(c.get("style") == 5 for c in components(dm))

    fake.dms_closed.add(user["id"])
    again = await fake.dispatch_component(
        first.message, button["custom_id"], guild=guild, user=user
    )
    await again.response()
    assert (await again.followup())["content"] == DM_CLOSED
    assert len(fake.dm_messages(user["id"])) == 1


async def test_support_in_a_dm_with_the_bot(fake: FakeDiscord, haven: HavenBot) -> None:
    handle = await fake.dispatch_command("support", {"topic": "crisis", "region": "IE"})
    data = (await handle.response())["data"]
    assert data["flags"] & EPHEMERAL
    assert data["embeds"][0]["title"] == "Crisis right now"


async def test_unknown_topic_gets_choices(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    handle = await fake.dispatch_command("support", {"topic": "coming in"}, guild=guild)
    data = (await handle.response())["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    closest = next(f for f in embed["fields"] if f["name"] == "Closest topics")
    assert "coming-out" in closest["value"]


async def test_slow_answer_is_deferred_then_followed_up(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:

    from bot.adapters.discord import responding

    monkeypatch.setattr(responding, "DEFER_AFTER", 0.01)
    real = haven.services.router.support

    async def slow(*args: Any, **kwargs: Any) -> Any:
        # Still working when the defer goes out: the work ends only once Discord has the
        # deferral, however slowly a busy machine runs the timer.
        await fake.wait_for("POST", r"^/interactions/\d+/[^/]+/callback$", timeout=10)
        return await real(*args, **kwargs)

    monkeypatch.setattr(haven.services.router, "support", slow)
    handle = await fake.dispatch_command("support", {"topic": "crisis"}, guild=guild)
    body = await handle.response()
    assert body == {"type": 5, "data": {"flags": EPHEMERAL}}
    followup = await handle.followup()
    assert followup["flags"] & EPHEMERAL
    assert followup["embeds"][0]["title"] == "Crisis right now"


async def test_a_failing_handler_still_answers(
    fake: FakeDiscord,
    haven: HavenBot,
    guild: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    log_guard: Any,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(haven.services.router, "support", broken)
    log_guard.expect_error(r"^Answering /support failed \(RuntimeError\)")
    user = fake.make_user("unlucky")
    handle = await fake.dispatch_command("support", {}, guild=guild, user=user)
    data = (await handle.response())["data"]
    assert data["flags"] & EPHEMERAL
    assert data["embeds"][0]["title"] == "Something went wrong on our side"
    assert user["id"] not in log_guard.text()
    assert handle.token not in log_guard.text()


async def test_tree_synced_only_when_it_changed(
    fake: FakeDiscord, services: Services, guild: dict[str, Any]
) -> None:
    # Three starts in a row: Discord's 5 s between IDENTIFYs, shortened on both sides.
    fake.identify_interval = 0.2
    for expected_puts in (1, 1):
        bot = HavenBot(services, guild_ready_timeout=0.05, identify_interval=0.2)
        task = await start_client(bot)
        await stop_client(bot, task)
        assert len(fake.requests_to("PUT", r"/applications/\d+/commands$")) == expected_puts

    # A changed tree (here: a stored hash from another version) syncs again.
    await services.meta.set(TREE_HASH_KEY, "0:old")
    bot = HavenBot(services, guild_ready_timeout=0.05, identify_interval=0.2)
    task = await start_client(bot)
    await stop_client(bot, task)
    assert len(fake.requests_to("PUT", r"/applications/\d+/commands$")) == 2


async def test_an_exception_outside_the_work_is_answered_by_the_tree(
    fake: FakeDiscord,
    haven: HavenBot,
    guild: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    log_guard: Any,
) -> None:
    import sys

    def broken(interaction: Any) -> Any:
        raise RuntimeError("context exploded")

    # The module the bot loaded as an extension (load_extension imports it afresh).
    monkeypatch.setattr(sys.modules["cogs.support"], "request_context", broken)
    log_guard.expect_error(r"^/support failed \(RuntimeError\)")
    handle = await fake.dispatch_command("support", {"topic": "crisis"}, guild=guild)
    data = (await handle.response())["data"]
    assert data["flags"] & EPHEMERAL
    assert data["embeds"][0]["title"] == "Something went wrong on our side"
