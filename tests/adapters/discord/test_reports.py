"""Reporting a resource of a /support answer on Discord: the real discord.py client against the
emulator, from the answer's report menu to the moderators' log channel."""

from __future__ import annotations

from typing import Any

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.client import HavenBot
from bot.core.content.reports import THANKS
from bot.core.models import Platform
from bot.services import Services
from tests.adapters.discord.conftest import MANAGE_GUILD, component, components, eventually
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord


async def _log_channel(services: Services, fake: FakeDiscord, guild: dict[str, Any]) -> str:
    channel = fake.channel_id(guild, "resources")
    community = await services.communities.ensure(Platform.DISCORD, guild["id"], guild["name"])
    async with services.db.write() as conn:
        await conn.execute(
            "UPDATE communities SET log_channel_id = ? WHERE id = ?", (channel, community.id)
        )
    services.support.invalidate(community.id)
    return channel


async def test_a_report_from_the_answer_menu_is_counted_and_told_once(
    fake: FakeDiscord, haven: HavenBot, services: Services, guild: dict[str, Any]
) -> None:
    log_channel = await _log_channel(services, fake, guild)
    first = await fake.dispatch_command("support", {"topic": "crisis", "region": "GB"}, guild=guild)
    await first.response()
    assert first.message is not None
    menu = component(first.message, ids.REPORT_SELECT)
    # One menu for every resource's reports, within Discord's 5 rows and 25 options.
    assert len(first.message["components"]) <= 5
    assert all(len(row["components"]) <= 5 for row in first.message["components"])
    assert 0 < len(menu["options"]) <= 25
    values = [o["value"] for o in menu["options"]]
    assert "/support-report gb-samaritans number" in values
    labels = {o["value"]: o["label"] for o in menu["options"]}
    assert labels["/support-report gb-samaritans number"].endswith("This number didn't work")

    for n in range(4):
        user = fake.make_user(f"reporter{n}")
        chosen = await fake.dispatch_component(
            first.message,
            menu["custom_id"],
            values=["/support-report gb-samaritans number"],
            guild=guild,
            user=user,
        )
        body = await chosen.response()
        # A new private message: the answer itself stays as it was.
        assert body["type"] == 4
        assert body["data"]["flags"] & EPHEMERAL
        assert body["data"]["embeds"][0]["title"] == THANKS.title
        if n == 2:
            await eventually(lambda: len(fake.messages.get(log_channel, [])) == 1)

    # Told once when the third report came, not again for the fourth.
    (notice,) = fake.messages[log_channel]
    text = notice["embeds"][0]["description"]
    assert "gb-samaritans" in text and "This number didn't work" in text
    assert not any(c.get("custom_id", "").startswith("haven:") for c in components(notice))

    # The moderators see the count in `resource show`.
    show = await fake.dispatch_command(
        "support-admin resource show",
        {"key": "gb-samaritans"},
        guild=guild,
        member_permissions=MANAGE_GUILD,
    )
    fields = {f["name"]: f["value"] for f in (await show.response())["data"]["embeds"][0]["fields"]}
    assert fields["Reports: This number didn't work (last 30 days)"] == "4"
