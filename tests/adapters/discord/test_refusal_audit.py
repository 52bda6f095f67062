"""A member reaching a moderator command on Discord (the server overrode Haven's command
permissions, or a forged or old client): refused in private, audited by who and which command,
with none of the options they typed. Through the real client against the emulator."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.context import community_id_for_guild
from tests.adapters.discord.test_admin import admin, card_of
from tests.fakes.fake_discord import FakeDiscord

SECRET = "secret words"


async def test_a_member_adding_a_message_is_refused_and_audited_without_the_words(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    member = fake.make_user("curious")
    handle = await admin(
        fake,
        guild,
        "message add",
        {"text": SECRET, "topics": "general"},
        user=member,
        member_permissions=0,
    )
    refused = card_of(await handle.response())
    assert refused["title"] == "Not permitted"
    db = haven.services.db
    rows = await db.fetch_all(
        "SELECT community_id, actor_id, actor_name, action, item_key, before_json, after_json"
        " FROM audit_log WHERE item_kind = 'refusal'"
    )
    assert [tuple(r) for r in rows] == [
        (
            community_id_for_guild(int(guild["id"])),
            member["id"],
            "",
            "refused",
            "message add",
            None,
            None,
        )
    ]
    for table in await db.table_names():
        for row in await db.fetch_all(f"SELECT * FROM {table}"):
            assert SECRET not in repr(tuple(row)), table
