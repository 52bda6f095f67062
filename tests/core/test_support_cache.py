"""SupportService's cache against changes that land while a load is in flight: the change feed
can drop a community's library while that library is being read, and the old read must not be
kept as if it were current."""

from __future__ import annotations

import asyncio

from bot.core.models import LOCAL_COMMUNITY_ID
from bot.core.ports import Library
from bot.core.support import SupportService
from bot.storage.database import Database
from bot.storage.repositories import (
    SqlCommunityRepository,
    SqlContentRepository,
    SqlStateRepository,
)
from tests.conftest import FixedClock, sample_library
from tests.core.conftest import Stack


class GatedContent(SqlContentRepository):
    """Reads the real library, then waits for the test before handing it back."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.gate = asyncio.Event()
        self.read = asyncio.Event()
        self.loads = 0

    async def load_library(self, community_id: str) -> Library:
        library = await super().load_library(community_id)
        self.loads += 1
        self.read.set()
        await self.gate.wait()
        return library


async def test_a_load_overtaken_by_an_invalidation_is_not_kept(
    stack: Stack, db: Database, clock: FixedClock
) -> None:
    content = GatedContent(db)
    support = SupportService(
        content, SqlCommunityRepository(db), SqlStateRepository(db), clock, sample_library
    )
    loading = asyncio.create_task(support.index(LOCAL_COMMUNITY_ID))
    await content.read.wait()
    # Another process disables a message now; the feed drops what is cached (nothing yet).
    await stack.router.run_text(stack.ctx(), "/support-admin message disable general-1")
    support.invalidate(LOCAL_COMMUNITY_ID)
    content.gate.set()
    stale = await loading
    assert "general-1" in stale.message_by_key  # the read in flight answered once
    fresh = await support.index(LOCAL_COMMUNITY_ID)
    assert content.loads == 2 and "general-1" not in fresh.message_by_key
    assert await support.index(LOCAL_COMMUNITY_ID) is fresh  # and that one is kept


async def test_the_cache_keeps_only_the_most_recently_used_communities(
    stack: Stack, db: Database, clock: FixedClock
) -> None:
    """A hosted Haven answers thousands of communities: what one process keeps in memory is
    bounded, and a community that fell out is read again, not lost."""
    content = CountingContent(db)
    support = SupportService(
        content,
        SqlCommunityRepository(db),
        SqlStateRepository(db),
        clock,
        sample_library,
        cache_size=2,
    )
    for community in ("console:a", "console:b", "console:c"):
        await support.index(community)
    assert not support.is_cached("console:a")
    assert support.is_cached("console:b") and support.is_cached("console:c")
    before = content.loads
    await support.index(LOCAL_COMMUNITY_ID)
    await support.index(LOCAL_COMMUNITY_ID)
    assert content.loads == before + 1  # read once, then served from memory


class CountingContent(SqlContentRepository):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.loads = 0

    async def load_library(self, community_id: str) -> Library:
        self.loads += 1
        return await super().load_library(community_id)
