"""The dashboard's sign-in links and sessions (tables of revision 0012), only as hashes.

Not a content change: nothing here goes through `community_write`, so signing in never makes
another process drop its caches (bot/storage/changes.py).
"""

from __future__ import annotations

from bot.core.ports import DashboardGrant, LinkState
from bot.storage.database import SqlDatabase


class SqlDashboardStore:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def add_link(
        self, token_hash: str, grant: DashboardGrant, expires_at: int, now: int
    ) -> None:
        async with self._db.write() as conn:
            # Expired rows say nothing anyone needs: pruned whenever a link is made.
            await conn.execute("DELETE FROM dashboard_links WHERE expires_at < ?", (now,))
            await conn.execute("DELETE FROM dashboard_sessions WHERE expires_at < ?", (now,))
            await conn.execute(
                "INSERT INTO dashboard_links (token_hash, community_id, actor_id, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (token_hash, grant.community_id, grant.actor_id, expires_at),
            )

    async def take_link(self, token_hash: str, now: int) -> tuple[LinkState, DashboardGrant | None]:
        async with self._db.write() as conn:
            # The conditional update is the check: of two concurrent opens, one changes the
            # row (on PostgreSQL the second waits for the first's row lock, then sees used=1).
            taken = await conn.fetch_one(
                "UPDATE dashboard_links SET used = 1"
                " WHERE token_hash = ? AND used = 0 AND expires_at >= ?"
                " RETURNING community_id, actor_id",
                (token_hash, now),
            )
            if taken is not None:
                return LinkState.TAKEN, DashboardGrant(taken["community_id"], taken["actor_id"])
            row = await conn.fetch_one(
                "SELECT used FROM dashboard_links WHERE token_hash = ?", (token_hash,)
            )
        if row is None:
            return LinkState.UNKNOWN, None
        return (LinkState.USED if row["used"] else LinkState.EXPIRED), None

    async def release_link(self, token_hash: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE dashboard_links SET used = 0 WHERE token_hash = ?", (token_hash,)
            )

    async def add_session(self, session_hash: str, grant: DashboardGrant, expires_at: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO dashboard_sessions (session_hash, community_id, actor_id, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (session_hash, grant.community_id, grant.actor_id, expires_at),
            )

    async def session(self, session_hash: str, now: int) -> DashboardGrant | None:
        row = await self._db.fetch_one(
            "SELECT community_id, actor_id FROM dashboard_sessions"
            " WHERE session_hash = ? AND expires_at >= ?",
            (session_hash, now),
        )
        return DashboardGrant(row["community_id"], row["actor_id"]) if row else None

    async def drop_session(self, session_hash: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM dashboard_sessions WHERE session_hash = ?", (session_hash,)
            )
