"""`haven invite` text and `haven discord sync` against the emulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.adapters.discord.cli_support import (
    PERMISSIONS,
    invite_text,
    permission_integer,
    sync_command_tree,
)
from bot.adapters.discord.commands import TREE_HASH_KEY
from bot.services import Services
from tests.fakes.fake_discord import BOT_PERMISSIONS, FakeDiscord


def test_invite_has_both_scopes_and_minimal_permissions() -> None:
    text = invite_text("123456789012345678")
    url = next(line.strip() for line in text.splitlines() if line.strip().startswith("https://"))
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"] == ["bot applications.commands"]
    # View Channel (1 << 10), Send Messages (1 << 11), Embed Links (1 << 14), Send Messages in
    # Threads (1 << 38); nothing else. Written out, not taken from the code that builds the URL.
    assert query["permissions"] == ["274877926400"]
    assert permission_integer() == 274877926400 == BOT_PERMISSIONS
    for name, _, why in PERMISSIONS:
        assert f"  - {name}: {why}" in text
    assert "APPLICATION_ID" in invite_text(None)


async def test_sync_on_demand_global_and_guild(
    fake: FakeDiscord, services: Services, guild: dict[str, Any]
) -> None:
    said = await sync_command_tree(services, None)
    assert "Synced 3 slash commands globally" in said
    assert {c["name"] for c in fake.global_commands} == {
        "support",
        "support-admin",
        "support-contact",
    }
    assert await services.meta.get(TREE_HASH_KEY) is not None
    assert not fake.connected, "syncing needs REST only, never a gateway session"

    said = await sync_command_tree(services, int(guild["id"]))
    assert f"server {guild['id']}" in said
    assert {c["name"] for c in fake.guild_commands[guild["id"]]} == {
        "support",
        "support-admin",
        "support-contact",
    }
