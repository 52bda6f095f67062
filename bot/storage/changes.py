"""The change rule: every write to a community's content or settings is announced, in its own
transaction, to every process on the same database.

`announce(conn, community_id)` is the rule, written once; the repositories reach it through
`community_write(db, community_id)`, the write transaction for a community's library or
settings, so a CLI writer (`haven pack import`, `haven db ...`, the console) announces exactly
as the bot does and no caller can forget. Two things happen in the transaction:

- the community's row in `community_revisions` takes the next database-wide revision, so a
  reader that remembers the newest revision it saw learns exactly which communities changed
  since (SQLite's feed reads it; the scheduler's and the usage flush's writes leave it alone,
  so they never make another process drop its caches);
- on PostgreSQL, `NOTIFY haven_changes, '<community id>'`, which the server delivers only if
  the transaction commits.

The receivers are in bot/storage/feeds.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.storage.database import SqlDatabase, Tx

CHANNEL = "haven_changes"


async def announce(conn: Tx, community_id: str) -> None:
    """Record, on an open write transaction, that `community_id`'s content or settings changed.

    Run as the transaction's last statement, so the revision row is locked (on PostgreSQL)
    only for the commit. Revisions only grow: a purged community keeps its row. On SQLite
    the one writer makes MAX + 1 strictly increasing in commit order; PostgreSQL's feed
    does not read revisions (NOTIFY tells it), so two concurrent writers sharing a number
    there does no harm."""
    # `WHERE true`: SQLite reads ON CONFLICT after a bare SELECT as part of a join.
    await conn.execute(
        "INSERT INTO community_revisions (community_id, revision)"
        " SELECT CAST(? AS TEXT), COALESCE(MAX(revision), 0) + 1 FROM community_revisions"
        " WHERE true"
        " ON CONFLICT (community_id) DO UPDATE SET revision = excluded.revision",
        (community_id,),
    )
    if conn.dialect == "postgresql":
        await conn.execute(
            "SELECT pg_notify(CAST(? AS TEXT), CAST(? AS TEXT))", (CHANNEL, community_id)
        )


@asynccontextmanager
async def community_write(db: SqlDatabase, community_id: str) -> AsyncIterator[Tx]:
    """A write transaction that changes `community_id`'s library or settings, announced on
    commit. If the body raises, nothing is written and nothing is announced."""
    async with db.write() as conn:
        yield conn
        await announce(conn, community_id)
