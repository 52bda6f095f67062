"""A verb added to the core's table becomes a Discord slash command with no other edit."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord.client import HavenBot
from bot.services import Services
from tests.adapters.discord.conftest import start_client, stop_client
from tests.adapters.extra_verb import NAME_LIMIT, greeting_table
from tests.fakes.fake_discord import EPHEMERAL, SUB_COMMAND_GROUP, FakeDiscord

MANAGE_GUILD = 1 << 5


async def test_a_new_verb_is_a_slash_command_with_the_tables_limits(
    fake: FakeDiscord, services: Services, guild: dict[str, Any]
) -> None:
    services.router.add_table(greeting_table())
    bot = HavenBot(services, guild_ready_timeout=0.05, publish_timeout=1.0)
    task = await start_client(bot)
    try:
        admin = fake.find_command("support-admin")
        groups = {o["name"]: o for o in admin["options"] if o["type"] == SUB_COMMAND_GROUP}
        [wave] = groups["greeting"]["options"]
        assert wave["name"] == "wave" and wave["description"] == "say hello to someone"
        [name] = wave["options"]
        assert name["name"] == "name" and name["required"] is True
        assert name["max_length"] == NAME_LIMIT

        handle = await fake.dispatch_command(
            "support-admin greeting wave",
            {"name": "Sam"},
            guild=guild,
            member_permissions=MANAGE_GUILD,
        )
        data = (await handle.response())["data"]
        assert data["flags"] & EPHEMERAL
        assert data["embeds"][0]["title"].endswith("Hello Sam")
    finally:
        await stop_client(bot, task)
