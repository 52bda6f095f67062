"""The contact line's SQL: requests, threads, blocks, settings and the moderators' audit.

`inbox_message_id` arrives sealed by the core (a platform message id tells when it was
posted). Not a content change: nothing here goes through `community_write`, so a request never makes
another process drop its caches (bot/storage/changes.py). Nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.ports import (
    ContactAuditEntry,
    ContactLine,
    ContactRow,
    ContactSettings,
)
from bot.storage.database import Database, Row, SqlDatabase, Tx

_COLUMNS = (
    "community_id, number, kind, status, text, token_hash, sender_id, sender_name,"
    " inbox_channel_id, inbox_message_id, closed_on"
)


def _row(row: Row) -> ContactRow:
    closed = row["closed_on"]
    return ContactRow(
        community_id=row["community_id"],
        number=int(row["number"]),
        kind=row["kind"],
        status=row["status"],
        text=row["text"],
        token_hash=row["token_hash"],
        sender_id=row["sender_id"],
        sender_name=row["sender_name"],
        inbox_channel_id=row["inbox_channel_id"],
        inbox_message_id=row["inbox_message_id"],
        closed_on=date.fromisoformat(closed) if closed else None,
    )


async def _audit(conn: Tx, community_id: str, entry: ContactAuditEntry) -> None:
    await conn.execute(
        "INSERT INTO contact_audit (community_id, number, actor_id, actor_name, action, day)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            community_id,
            entry.number,
            entry.actor_id,
            entry.actor_name,
            entry.action,
            entry.day.isoformat(),
        ),
    )


class SqlContactStore:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def settings(self, community_id: str) -> ContactSettings:
        row = await self._db.fetch_one(
            "SELECT inbox_channel_id, struggling_enabled FROM contact_settings"
            " WHERE community_id = ?",
            (community_id,),
        )
        if row is None:
            return ContactSettings()
        return ContactSettings(row["inbox_channel_id"], bool(row["struggling_enabled"]))

    async def save_settings(
        self, community_id: str, settings: ContactSettings, audit: ContactAuditEntry
    ) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO contact_settings (community_id, inbox_channel_id,"
                " struggling_enabled) VALUES (?, ?, ?)"
                " ON CONFLICT (community_id) DO UPDATE SET"
                " inbox_channel_id = excluded.inbox_channel_id,"
                " struggling_enabled = excluded.struggling_enabled",
                (community_id, settings.inbox_channel_id, int(settings.struggling_enabled)),
            )
            await _audit(conn, community_id, audit)

    async def create(
        self,
        community_id: str,
        kind: str,
        text: str,
        token_hash: str,
        sender_id: str | None,
        sender_name: str | None,
        inbox_channel_id: str,
    ) -> int:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO contact_settings (community_id) VALUES (?)"
                " ON CONFLICT (community_id) DO NOTHING",
                (community_id,),
            )
            # The UPDATE holds the settings row until commit (PostgreSQL; SQLite has one
            # writer), so two requests never get the same number.
            taken = await conn.fetch_one(
                "UPDATE contact_settings SET next_number = next_number + 1"
                " WHERE community_id = ? RETURNING next_number - 1 AS number",
                (community_id,),
            )
            assert taken is not None
            number = int(taken["number"])
            await conn.execute(
                "INSERT INTO contact_requests (community_id, number, kind, status, text,"
                " token_hash, sender_id, sender_name, inbox_channel_id)"
                " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                (
                    community_id,
                    number,
                    kind,
                    text,
                    token_hash,
                    sender_id,
                    sender_name,
                    inbox_channel_id,
                ),
            )
        return number

    async def set_inbox_message(self, community_id: str, number: int, message_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE contact_requests SET inbox_message_id = ?"
                " WHERE community_id = ? AND number = ?",
                (message_id, community_id, number),
            )

    async def by_token(self, token_hash: str) -> ContactRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM contact_requests WHERE token_hash = ?", (token_hash,)
        )
        return _row(row) if row is not None else None

    async def get(self, community_id: str, number: int) -> ContactRow | None:
        # From the writer: a request is read back right after it is written.
        rows = await self._db.writer_fetch_all(
            f"SELECT {_COLUMNS} FROM contact_requests WHERE community_id = ? AND number = ?",
            (community_id, number),
        )
        return _row(rows[0]) if rows else None

    async def thread(self, community_id: str, number: int) -> Sequence[ContactLine]:
        rows = await self._db.writer_fetch_all(
            "SELECT seq, from_person, text, moderator_name FROM contact_lines"
            " WHERE community_id = ? AND number = ? ORDER BY seq",
            (community_id, number),
        )
        return [
            ContactLine(int(r["seq"]), bool(r["from_person"]), r["text"], r["moderator_name"])
            for r in rows
        ]

    async def add_line(
        self,
        community_id: str,
        number: int,
        line: ContactLine,
        audit: ContactAuditEntry | None,
    ) -> int:
        async with self._db.write() as conn:
            # The request's row held until commit (PostgreSQL): two lines added at once
            # never take the same seq. SQLite has one writer.
            await conn.execute(
                "SELECT number FROM contact_requests WHERE community_id = ? AND number = ?"
                + self._db.for_update,
                (community_id, number),
            )
            row = await conn.fetch_one(
                "SELECT COALESCE(MAX(seq), 0) AS last FROM contact_lines"
                " WHERE community_id = ? AND number = ?",
                (community_id, number),
            )
            seq = (int(row["last"]) if row else 0) + 1
            await conn.execute(
                "INSERT INTO contact_lines (community_id, number, seq, from_person, text,"
                " moderator_name) VALUES (?, ?, ?, ?, ?, ?)",
                (community_id, number, seq, int(line.from_person), line.text, line.moderator_name),
            )
            if audit is not None:
                await _audit(conn, community_id, audit)
        return seq

    async def close(
        self, community_id: str, number: int, day: date, audit: ContactAuditEntry | None
    ) -> bool:
        async with self._db.write() as conn:
            outcome = await conn.execute(
                "UPDATE contact_requests SET status = 'closed', closed_on = ?"
                " WHERE community_id = ? AND number = ? AND status = 'open'",
                (day.isoformat(), community_id, number),
            )
            if outcome.rowcount == 1 and audit is not None:
                await _audit(conn, community_id, audit)
        return outcome.rowcount == 1

    async def erase(self, community_id: str, number: int, day: date) -> bool:
        async with self._db.write() as conn:
            outcome = await conn.execute(
                "UPDATE contact_requests SET status = 'deleted', text = '', token_hash = NULL,"
                " sender_id = NULL, sender_name = NULL,"
                " closed_on = COALESCE(closed_on, ?)"
                " WHERE community_id = ? AND number = ? AND status <> 'deleted'",
                (day.isoformat(), community_id, number),
            )
            await conn.execute(
                "DELETE FROM contact_lines WHERE community_id = ? AND number = ?",
                (community_id, number),
            )
        await self._forget_old_pages()
        return outcome.rowcount == 1

    async def _forget_old_pages(self) -> None:
        """SQLite keeps the pages a change replaced in the WAL until a checkpoint: run one
        now, so deleted text leaves the -wal file too (secure_delete zeroes the database
        file's pages). Busy (a reader's old snapshot) is fine: the WalKeeper retries when
        quiet. PostgreSQL keeps dead rows until VACUUM (see ARCHITECTURE.md)."""
        if isinstance(self._db, Database):
            await self._db.checkpoint()

    async def open_requests(self, community_id: str) -> Sequence[ContactRow]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM contact_requests"
            " WHERE community_id = ? AND status = 'open' ORDER BY number",
            (community_id,),
        )
        return [_row(r) for r in rows]

    async def block(
        self, community_id: str, tag: str, until: date, audit: ContactAuditEntry
    ) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO contact_blocks (community_id, tag, until) VALUES (?, ?, ?)"
                " ON CONFLICT (community_id, tag) DO UPDATE SET until = excluded.until",
                (community_id, tag, until.isoformat()),
            )
            await _audit(conn, community_id, audit)

    async def is_blocked(self, community_id: str, tag: str, today: date) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 AS blocked FROM contact_blocks"
            " WHERE community_id = ? AND tag = ? AND until >= ?",
            (community_id, tag, today.isoformat()),
        )
        return row is not None

    async def audit(self, community_id: str, limit: int) -> Sequence[ContactAuditEntry]:
        rows = await self._db.fetch_all(
            "SELECT number, actor_id, actor_name, action, day FROM contact_audit"
            " WHERE community_id = ? ORDER BY id DESC LIMIT ?",
            (community_id, limit),
        )
        return [
            ContactAuditEntry(
                int(r["number"]),
                r["actor_id"],
                r["actor_name"],
                r["action"],
                date.fromisoformat(r["day"]),
            )
            for r in rows
        ]

    async def purge(self, closed_by: date, today: date) -> int:
        cutoff = closed_by.isoformat()
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM contact_lines WHERE EXISTS (SELECT 1 FROM contact_requests r"
                " WHERE r.community_id = contact_lines.community_id"
                " AND r.number = contact_lines.number"
                " AND r.status <> 'open' AND r.closed_on <= ?)",
                (cutoff,),
            )
            gone = await conn.execute(
                "DELETE FROM contact_requests WHERE status <> 'open' AND closed_on <= ?",
                (cutoff,),
            )
            await conn.execute("DELETE FROM contact_blocks WHERE until < ?", (today.isoformat(),))
        if gone.rowcount:
            # As after a deletion by the person: purged text leaves the -wal file too.
            await self._forget_old_pages()
        return gone.rowcount
