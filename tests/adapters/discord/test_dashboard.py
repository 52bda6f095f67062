"""`/support-admin dashboard open` through the real client, and the dashboard's per-request
check of a moderator through Discord itself (GET /guilds/{g}/members/{u}): a member who loses
the moderator role cannot sign in with a link given before."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.context import community_id_for_guild
from bot.core.dashboard import SignInRefused
from bot.core.errors import PermissionDenied
from tests.adapters.discord.test_admin import admin, card_of
from tests.adapters.discord.test_moderators import set_roles
from tests.fakes.fake_discord import FakeDiscord

LINK = re.compile(r"https://haven\.example\.org/dashboard/login\?token=([\w-]+)")


async def test_without_a_public_url_the_command_says_how_to_set_it(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    embed = card_of(await (await admin(fake, guild, "dashboard open")).response())
    assert "HAVEN_PUBLIC_URL" in embed["footer"]["text"]


async def test_a_link_is_private_and_works_only_while_the_member_moderates(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    haven.services.dashboard.serve_locally_at("https://haven.example.org")
    helpers = await fake.add_role(guild, "Helpers")
    assert (await set_roles(fake, guild, helpers))["title"] == "Settings saved"
    kai = fake.make_user("kai")
    member = fake.add_member(guild, kai, [helpers])

    async def link() -> str:
        handle = await admin(
            fake, guild, "dashboard open", user=kai, roles=[helpers], member_permissions=0
        )
        found = LINK.search(card_of(await handle.response())["description"])  # ephemeral
        assert found
        return found[1]

    signed_in = await haven.services.dashboard.sign_in(await link())
    assert signed_in.ctx.actor.id == kai["id"] and signed_in.ctx.actor.role_ids == (helpers,)
    assert signed_in.ctx.community_id == community_id_for_guild(int(guild["id"]))

    second = await link()
    member["roles"] = []  # the role is taken away on Discord
    with pytest.raises(PermissionDenied, match="Only moderators"):
        await haven.services.dashboard.sign_in(second)
    assert fake.requests_to("GET", rf"/guilds/{guild['id']}/members/{kai['id']}")

    third = await link_of_someone_who_left(fake, haven, guild, kai, helpers, member)
    with pytest.raises(PermissionDenied, match="no longer a member"):
        await haven.services.dashboard.sign_in(third)
    with pytest.raises(SignInRefused, match="already used"):
        await haven.services.dashboard.sign_in(second)


async def link_of_someone_who_left(
    fake: FakeDiscord,
    haven: HavenBot,
    guild: dict[str, Any],
    user: dict[str, Any],
    role: str,
    member: dict[str, Any],
) -> str:
    member["roles"] = [role]
    handle = await admin(
        fake, guild, "dashboard open", user=user, roles=[role], member_permissions=0
    )
    found = LINK.search(card_of(await handle.response())["description"])
    assert found
    del fake.members[str(guild["id"])][user["id"]]
    return found[1]
