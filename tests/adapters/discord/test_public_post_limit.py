"""`schedule test` on Discord, through the real client against the emulator: two test posts in
the channel, then a private "not yet" with when to try again, and nothing more is posted."""

from __future__ import annotations

import re
from typing import Any

from bot.adapters.discord.client import HavenBot
from tests.adapters.discord.test_admin import admin, card_of
from tests.fakes.fake_discord import FakeDiscord


async def test_twelve_test_posts_post_twice_and_the_rest_are_refused_privately(
    fake: FakeDiscord, haven: HavenBot, guild: dict[str, Any]
) -> None:
    channel = fake.channel_id(guild, "resources")
    moderator = fake.make_user("moderator")
    added = await admin(
        fake, guild, "schedule add", {"channel": channel, "when": "daily 09:00", "topic": "crisis"}
    )
    assert card_of(await added.response())["title"] == "Schedule 1 added"
    cards = []
    for _ in range(12):
        handle = await admin(fake, guild, "schedule test", {"id": 1}, user=moderator)
        cards.append(card_of(await handle.response()))  # card_of checks it is ephemeral
    assert [c["title"] for c in cards[:2]] == ["Test post sent to #resources"] * 2
    for refused in cards[2:]:
        assert refused["title"] == "Not yet"
        # The real clock runs here: about 30 s, whatever the machine's speed.
        assert re.search(r"Try again in \d+ seconds?\.$", refused["description"]), refused
    assert len(fake.requests_to("POST", rf"^/channels/{channel}/messages$")) == 2
    # Another moderator is not held up by the first one's posts.
    other = await admin(fake, guild, "schedule test", {"id": 1}, user=fake.make_user("other"))
    assert card_of(await other.response())["title"] == "Test post sent to #resources"
