"""The change rule in storage, on both engines: every repository write to a community's content
or settings bumps that community's revision in its own transaction (and NOTIFYs on
PostgreSQL); a write that rolls back announces nothing; writes that are not content changes
(usage, rotation, refusals, meta, the scheduler's lease) leave the revisions alone. And the
SQLite receiver, step by step: which communities another handle changed since the last look.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.errors import Conflict
from bot.core.models import Community, ItemKind, Platform, SupportMessage
from bot.core.ports import ItemWrite, LibraryChanges, NewAuditEntry, Refusal
from bot.storage.changes import CHANNEL, community_write
from bot.storage.database import Database, SqlDatabase
from bot.storage.feeds import PostgresChangeFeed, SqliteChangeFeed
from bot.storage.migrate import migrate
from bot.storage.postgres import PostgresDatabase, asyncpg_url
from bot.storage.repositories import (
    SqlCommunityRepository,
    SqlContentRepository,
    SqlMetaRepository,
    SqlStateRepository,
)
from bot.storage.schedule_store import SqlScheduleStore
from tests.conftest import reopen

COMMUNITY = "discord:1"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def revisions(db: SqlDatabase) -> dict[str, int]:
    rows = await db.fetch_all("SELECT community_id, revision FROM community_revisions")
    return {str(r["community_id"]): int(r["revision"]) for r in rows}


def audit(action: str = "add") -> NewAuditEntry:
    return NewAuditEntry("mod", "Mod", action, ItemKind.MESSAGE, "m1", None, None)


async def test_every_content_or_settings_write_takes_a_new_revision(db: SqlDatabase) -> None:
    communities = SqlCommunityRepository(db)
    content = SqlContentRepository(db)
    seen: list[int] = []

    async def bumped() -> None:
        now = (await revisions(db)).get(COMMUNITY)
        assert now is not None and (not seen or now > seen[-1]), (now, seen)
        seen.append(now)

    created = Community(id=COMMUNITY, platform=Platform.DISCORD, name="G")
    assert await communities.create_if_missing(created, LibraryChanges())
    await bumped()
    # Already there: nothing changed, nothing announced.
    assert not await communities.create_if_missing(created)
    assert (await revisions(db))[COMMUNITY] == seen[-1]
    stored = await communities.get(COMMUNITY)
    assert stored is not None
    await communities.save(stored, replace(stored, default_region="GB"), None)
    await bumped()
    message = SupportMessage("m1", "Hello.", ("general",))
    await content.write_items(COMMUNITY, [ItemWrite(ItemKind.MESSAGE, None, message, audit())])
    await bumped()
    await content.apply_library_changes(COMMUNITY, LibraryChanges(), None)
    await bumped()
    await communities.mark_removed(COMMUNITY, NOW, "left")
    await bumped()
    await communities.mark_active(COMMUNITY)
    await bumped()
    await communities.purge(COMMUNITY)
    await bumped()  # the row outlives the community: revisions never go backwards


async def test_a_write_that_fails_announces_nothing(db: SqlDatabase) -> None:
    communities = SqlCommunityRepository(db)
    content = SqlContentRepository(db)
    await communities.create_if_missing(Community(id=COMMUNITY, platform=Platform.DISCORD))
    before = await revisions(db)
    stale = SupportMessage("m1", "Hello.", ("general",), version=7)
    with pytest.raises(Conflict):
        # An edit from a version nobody stored: refused, rolled back with its announcement.
        await content.write_items(
            COMMUNITY, [ItemWrite(ItemKind.MESSAGE, stale, stale, audit("edit"))]
        )
    with pytest.raises(RuntimeError):
        async with community_write(db, COMMUNITY) as conn:
            await conn.execute("UPDATE communities SET name = 'x' WHERE id = ?", (COMMUNITY,))
            raise RuntimeError("the body failed")
    assert await revisions(db) == before


async def test_writes_that_change_no_content_leave_revisions_alone(db: SqlDatabase) -> None:
    communities = SqlCommunityRepository(db)
    await communities.create_if_missing(Community(id=COMMUNITY, platform=Platform.DISCORD))
    before = await revisions(db)
    state = SqlStateRepository(db)
    await state.add_usage({(COMMUNITY, "general", NOW.date()): 3})
    await state.save_rotation({(COMMUNITY, "general"): ("m1",)})
    await communities.record_refusal(COMMUNITY, Refusal("u1", "", "message add", NOW), 10)
    await SqlMetaRepository(db).set("k", "v")
    assert (await SqlScheduleStore(db).acquire_lease("run", "me", 1.0, 20.0)).acquired
    assert await revisions(db) == before


async def test_postgresql_notifies_on_commit_only(postgres_url: str) -> None:
    db = await PostgresDatabase.open(postgres_url)
    await migrate(db)
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener: Any = await asyncpg.connect(postgres_url)
    try:
        await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[3]))
        with pytest.raises(RuntimeError):
            async with community_write(db, "discord:rolled-back"):
                raise RuntimeError("no commit")
        async with community_write(db, COMMUNITY):
            pass
        assert await asyncio.wait_for(heard.get(), 2) == COMMUNITY
        assert heard.empty()
    finally:
        await listener.close()
        await db.close()


@pytest.mark.sqlite_only
async def test_the_sqlite_feed_tells_what_another_handle_changed(db: Database) -> None:
    other = await reopen(db)
    try:
        feed = SqliteChangeFeed(db)
        told: list[str | None] = []
        feed.subscribe(told.append)
        async with community_write(other, "discord:before"):
            pass
        await feed.start()  # what was there before it started is not news
        await feed.poll()
        assert told == []
        for community in ("discord:2", "discord:3", "discord:2"):
            async with community_write(other, community):
                pass
        await feed.poll()
        assert told == ["discord:3", "discord:2"]  # each once, by its newest revision
        await feed.poll()
        assert told == ["discord:3", "discord:2"]  # nothing new
        # Another handle's write that is not a content change: seen, but nothing to tell.
        await SqlMetaRepository(other).set("k", "v")
        await feed.poll()
        assert told == ["discord:3", "discord:2"]
        # This handle's own announcement comes back too (cheap: the listener drops nothing).
        await feed.changed("discord:4")
        await feed.poll()
        assert told[-1] == "discord:4"
    finally:
        await other.close()


async def test_an_unreachable_server_is_logged_once_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port nothing listens on: the feed keeps trying without a traceback or a crash.
    url = "postgresql://haven@127.0.0.1:1/nothing"
    db = PostgresDatabase(url, create_async_engine(asyncpg_url(url)))
    feed = PostgresChangeFeed(db, reconnect_seconds=(0.05,))
    await feed.start()
    task = asyncio.create_task(feed.run())
    await asyncio.sleep(0.5)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.close()
    warnings = [r for r in caplog.records if "Stopped hearing" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "127.0.0.1:1/nothing" in warnings[0].getMessage()
