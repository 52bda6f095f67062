"""Moderator roles and people on Discord, through the real client against the emulator: what
`settings moderator-roles` / `moderator-users` accept and refuse, and the gate from both sides."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.context import community_id_for_guild
from tests.adapters.discord.conftest import MANAGE_GUILD, eventually
from tests.adapters.discord.test_admin import admin, card_of, field
from tests.fakes.fake_discord import FakeDiscord


@pytest.fixture
def guild(fake: FakeDiscord) -> dict[str, Any]:
    return fake.make_guild("Peer support", roles=("moderators", "Helpers", "Members"))


async def stored(haven: HavenBot, guild: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    community = await haven.services.communities.get(community_id_for_guild(int(guild["id"])))
    assert community is not None
    return community.moderator_role_ids, community.moderator_user_ids


async def set_roles(fake: FakeDiscord, guild: dict[str, Any], roles: str) -> dict[str, Any]:
    handle = await admin(fake, guild, "settings moderator-roles", {"roles": roles})
    return card_of(await handle.response())


async def set_users(fake: FakeDiscord, guild: dict[str, Any], users: str) -> dict[str, Any]:
    handle = await admin(fake, guild, "settings moderator-users", {"users": users})
    return card_of(await handle.response())


@pytest.mark.parametrize("typed", ["@Helpers", "helpers", "id", "<@&id>"])
async def test_a_role_by_name_plain_id_or_mention(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any], typed: str
) -> None:
    helpers = fake.role_id(guild, "Helpers")
    embed = await set_roles(fake, guild, typed.replace("id", helpers))
    assert embed["title"] == "Settings saved", embed
    assert field(embed, "Moderator roles") == f"@Helpers ({helpers})"
    assert await stored(haven, guild) == ((helpers,), ())
    footer = embed["footer"]["text"]
    assert "Server Settings → Integrations → Haven" in footer
    assert "Manage Server" in footer


async def test_a_role_created_after_haven_connected_is_found_by_its_name(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    night = await fake.add_role(guild, "Night Shift")
    cached = haven.get_guild(int(guild["id"]))
    assert cached is not None
    await eventually(lambda: cached.get_role(int(night)) is not None)
    embed = await set_roles(fake, guild, "@Night Shift, @Helpers")
    assert embed["title"] == "Settings saved", embed
    assert await stored(haven, guild) == ((night, fake.role_id(guild, "Helpers")), ())


async def test_a_role_that_is_not_in_this_server_is_refused(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    other = fake.make_guild("Elsewhere", roles=("Helpers",))
    for typed, problem in (
        ("@Nobody", "roles: '@Nobody' is not a role in this server."),
        (
            other["roles"][1]["id"],
            f"roles: '{other['roles'][1]['id']}' is not a role in this server.",
        ),
    ):
        embed = await set_roles(fake, guild, typed)
        assert embed["title"] == "That didn't work"
        assert embed["description"] == problem
    assert await stored(haven, guild) == ((), ())


async def test_people_by_mention_or_id_and_a_name_gets_the_hint(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    alex = fake.make_user("alex")
    fake.add_member(guild, alex, nick="Alex K")
    stranger = fake.make_user("stranger")  # a Discord user, not in this server

    by_name = await set_users(fake, guild, "alex")
    assert (
        "users: 'alex' is a name: mention them (@name) or paste their id"
        in (by_name["description"])
    )
    not_here = await set_users(fake, guild, stranger["id"])
    assert not_here["description"] == f"users: '{stranger['id']}' is not a member of this server."
    assert await stored(haven, guild) == ((), ())

    embed = await set_users(fake, guild, f"<@{alex['id']}>")
    assert embed["title"] == "Settings saved", embed
    assert field(embed, "Moderator users") == f"Alex K ({alex['id']})"
    assert await stored(haven, guild) == ((), (alex["id"],))
    [fetched, *_] = fake.requests_to("GET", rf"/guilds/{guild['id']}/members/{alex['id']}")
    assert fetched.status == 200


async def test_when_discord_cannot_be_asked_nothing_is_saved(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    alex = fake.make_user("alex")
    fake.add_member(guild, alex)
    fake.fail("GET", r"/guilds/\d+/members/\d+", 403, 50001, "Missing Access")
    embed = await set_users(fake, guild, alex["id"])
    assert embed["description"] == "Haven could not check members with Discord just now."
    assert await stored(haven, guild) == ((), ())


async def test_the_gate_from_both_sides(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    helpers, members = fake.role_id(guild, "Helpers"), fake.role_id(guild, "Members")
    listed = fake.make_user("listed")
    fake.add_member(guild, listed, [members])
    await set_roles(fake, guild, "@Helpers")
    await set_users(fake, guild, listed["id"])

    async def message_list(user: dict[str, Any], roles: list[str]) -> dict[str, Any]:
        handle = await admin(
            fake, guild, "message list", user=user, roles=roles, member_permissions=0
        )
        return card_of(await handle.response())

    # Holding a role, just not a moderator role, is not enough.
    refused = await message_list(fake.make_user("member"), [members])
    assert refused["title"] == "Not permitted"
    assert refused["description"].startswith("Only moderators")
    helper = await message_list(fake.make_user("helper"), [members, helpers])
    assert helper["title"].startswith("Messages"), helper
    assert (await message_list(listed, [members]))["title"].startswith("Messages")

    # Manage Server still lets a server manager in without any moderator role.
    manager = await admin(fake, guild, "message list", member_permissions=MANAGE_GUILD)
    assert card_of(await manager.response())["title"].startswith("Messages")
