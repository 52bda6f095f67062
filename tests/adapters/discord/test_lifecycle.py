"""Server join and removal, rejoin within the grace, and gateway reconnect/resume with Haven."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.adapters.discord.client import HavenBot
from bot.adapters.discord.context import community_id_for_guild
from bot.core.models import Actor, CommunityStatus, ItemKind, Platform, RequestContext
from tests.adapters.discord.conftest import MANAGE_GUILD, eventually, eventually_async
from tests.fakes.fake_discord import FakeDiscord


def community_id(guild: dict[str, Any]) -> str:
    return community_id_for_guild(int(guild["id"]))


async def test_join_remove_and_rejoin_keep_the_library(fake: FakeDiscord, haven: HavenBot) -> None:
    communities = haven.services.communities
    guild = await fake.add_guild("New server")

    async def is_status(wanted: CommunityStatus) -> bool:
        found = await communities.get(community_id(guild))
        return found is not None and found.status is wanted

    await eventually_async(lambda: is_status(CommunityStatus.ACTIVE))
    library = await haven.services.support.library(community_id(guild))
    assert library.messages, "a new server starts with the default pack"

    added = await fake.dispatch_command(
        "support-admin message add",
        {"text": "Our own words for our members.", "topics": "general"},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    fields = (await added.response())["data"]["embeds"][0]["fields"]
    key = next(f["value"] for f in fields if f["name"] == "Key")
    schedule = await fake.dispatch_command(
        "support-admin schedule add",
        {"channel": fake.channel_id(guild), "when": "daily 09:00", "topic": "general"},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    await schedule.response()

    await fake.remove_guild(guild["id"])
    await eventually_async(lambda: is_status(CommunityStatus.REMOVED))
    moderator = RequestContext(
        community_id(guild), Platform.DISCORD, Actor("1", "mod", has_admin_permission=True)
    )
    (paused,) = await haven.services.schedules.list(moderator)
    assert paused.paused, "removal pauses the server's schedules at once"

    await fake.rejoin_guild(guild)
    await eventually_async(lambda: is_status(CommunityStatus.ACTIVE))
    kept = await haven.services.curation.get(moderator, ItemKind.MESSAGE, key)
    assert kept.text == "Our own words for our members."


async def test_reconnect_resumes_and_keeps_serving(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    puts_before = len(fake.requests_to("PUT", r"/commands$"))
    resumed = asyncio.create_task(fake.wait_for_session("resume"))
    await asyncio.sleep(0)
    await fake.request_reconnect()
    await resumed
    assert fake.identify_count == 1, "a RECONNECT resumes; it never spends an IDENTIFY"
    assert fake.resume_urls == [fake.resume_gateway_url]
    handle = await fake.dispatch_command("support", {"topic": "crisis"}, guild=guild)
    assert (await handle.response())["data"]["embeds"][0]["title"] == "Crisis right now"
    # Nothing is re-initialised on resume: no second sync, one publisher.
    assert len(fake.requests_to("PUT", r"/commands$")) == puts_before

    resumed = asyncio.create_task(fake.wait_for_session("resume"))
    await asyncio.sleep(0)
    await fake.drop_connections()  # an abrupt close resumes too
    await resumed
    await eventually(lambda: fake.connected)
    handle = await fake.dispatch_command("support", {}, guild=guild)
    assert (await handle.response())["type"] == 4
    assert fake.identify_count == 1
