"""The dashboard's links and sessions on both engines: a link is taken once even when two
tabs open it at the same moment, expired rows say why and are pruned, sessions expire."""

from __future__ import annotations

import asyncio

from bot.core.ports import DashboardGrant, LinkState
from bot.storage.dashboard_store import SqlDashboardStore
from bot.storage.database import SqlDatabase

GRANT = DashboardGrant("console:local", "console")


async def _community(db: SqlDatabase) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO communities (id, platform) VALUES (?, ?)", ("console:local", "console")
        )


async def test_a_link_is_taken_once_by_concurrent_opens(db: SqlDatabase) -> None:
    await _community(db)
    store = SqlDashboardStore(db)
    await store.add_link("h", GRANT, expires_at=200, now=100)
    other = SqlDashboardStore(db)
    results = await asyncio.gather(*(s.take_link("h", 150) for s in (store, other, store)))
    assert sorted(state.value for state, _ in results) == ["taken", "used", "used"]
    assert [grant for state, grant in results if state is LinkState.TAKEN] == [GRANT]


async def test_expired_links_say_so_and_old_rows_are_pruned(db: SqlDatabase) -> None:
    await _community(db)
    store = SqlDashboardStore(db)
    await store.add_link("old", GRANT, expires_at=200, now=100)
    await store.add_session("s", GRANT, expires_at=300)
    assert await store.take_link("old", 201) == (LinkState.EXPIRED, None)
    assert await store.session("s", 300) == GRANT
    assert await store.session("s", 301) is None
    await store.add_link("new", GRANT, expires_at=1000, now=400)
    assert await store.take_link("old", 401) == (LinkState.UNKNOWN, None)
    rows = await db.fetch_all("SELECT session_hash FROM dashboard_sessions", ())
    assert rows == []
