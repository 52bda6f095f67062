"""Community life: join seeds the default library, removal pauses and later purges, rejoin keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.cards import CardTone
from bot.core.models import CommunityStatus, Platform
from tests.core.conftest import DISCORD_GUILD, Stack


async def test_join_seeds_library_once(stack: Stack) -> None:
    community = await stack.communities.ensure(Platform.DISCORD, "1234", "Rainbow Server")
    assert community.id == DISCORD_GUILD
    library = await stack.content.load_library(DISCORD_GUILD)
    assert len(library.messages) == 6 and len(library.resources) == 7
    await stack.router.admin(
        stack.ctx(community_id=DISCORD_GUILD), "message", "remove", {"key": "general-1"}
    )
    await stack.communities.ensure(Platform.DISCORD, "1234", "Rainbow Server")
    assert len((await stack.content.load_library(DISCORD_GUILD)).messages) == 5


async def test_removal_pauses_then_purges_after_grace(stack: Stack) -> None:
    paused: list[tuple[str, str]] = []

    async def hook(community_id: str, reason: str) -> None:
        paused.append((community_id, reason))

    stack.communities.add_removal_hook(hook)
    await stack.communities.ensure(Platform.DISCORD, "1234")
    await stack.communities.mark_removed(DISCORD_GUILD)
    assert paused == [(DISCORD_GUILD, "Haven was removed")]
    removed = await stack.communities.get(DISCORD_GUILD)
    assert removed is not None and removed.status is CommunityStatus.REMOVED

    stack.clock.current += timedelta(days=29)
    assert await stack.communities.purge_expired() == []
    stack.clock.current += timedelta(days=2)
    assert await stack.communities.purge_expired() == [DISCORD_GUILD]
    assert await stack.communities.get(DISCORD_GUILD) is None
    rows = await stack.db.fetch_all(
        "SELECT count(*) AS n FROM messages WHERE community_id = ?", (DISCORD_GUILD,)
    )
    assert rows[0]["n"] == 0


async def test_rejoin_within_grace_keeps_everything(stack: Stack) -> None:
    await stack.communities.ensure(Platform.DISCORD, "1234")
    ctx = stack.ctx(community_id=DISCORD_GUILD)
    await stack.router.admin(ctx, "settings", "region", {"region": "IE"})
    await stack.communities.mark_removed(DISCORD_GUILD)
    stack.clock.current += timedelta(days=10)
    back = await stack.communities.ensure(Platform.DISCORD, "1234")
    assert back.status is CommunityStatus.ACTIVE
    assert back.default_region == "IE"
    stack.clock.current += timedelta(days=60)
    assert await stack.communities.purge_expired() == []


async def test_settings_changes_are_audited_and_validated(stack: Stack) -> None:
    ctx = stack.ctx()
    ok = await stack.router.admin(ctx, "settings", "timezone", {"timezone": "europe/london"})
    assert ok.tone is CardTone.SUCCESS
    assert ("Time zone for schedules", "Europe/London") in ok.fields
    bad = await stack.router.admin(ctx, "settings", "timezone", {"timezone": "Europe/Lundon"})
    assert bad.tone is CardTone.ERROR and "Europe/London" in bad.footer + bad.body
    rows = await stack.db.fetch_all(
        "SELECT actor_id, action, before_json, after_json FROM audit_log"
        " WHERE item_kind = 'settings'"
    )
    assert len(rows) == 1
    assert rows[0]["actor_id"] == "mod-1" and rows[0]["action"] == "settings.timezone"
    assert '"UTC"' in rows[0]["before_json"] and "Europe/London" in rows[0]["after_json"]


async def test_support_still_answers_when_storage_fails(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    stack.support.invalidate(stack.ctx().community_id)
    await stack.db.close()
    card = await stack.router.support(stack.ctx(), "crisis", "GB")
    assert card.tone is CardTone.SUPPORT
    assert card.topic == "crisis"
    # The built-in answer keeps the region asked for: its emergency number, not "local".
    assert card.region == "GB" and "call 999 now" in card.body
    assert any("built-in answer" in r.getMessage() for r in caplog.records)
