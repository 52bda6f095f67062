"""The SQLite side of forgetting: rows found by the id or name, rewritten by the rule, and old
values erased from the file even where SQLite would leave them in free space."""

from __future__ import annotations

import sqlite3

import pytest

from bot.core.models import ItemKind
from bot.core.ports import DashboardGrant, LinkState, NewAuditEntry
from bot.privacy import Forgetting, forget_audit, forget_person, new_marker, report_lines
from bot.storage.dashboard_store import SqlDashboardStore
from bot.storage.database import Database
from bot.storage.privacy_store import SqlPrivacyStore
from bot.storage.repositories import insert_audit

PERSON = "U0PERSON77"
NAME = "Alex Example-Longname"


def _files(database: Database) -> bytes:
    folder = database.path.parent
    return b"".join(
        p.read_bytes() for p in folder.iterdir() if p.name.startswith(database.path.name)
    )


async def _seed(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO communities (id, platform, moderator_user_ids) VALUES (?, ?, ?)",
            ("slack:T1", "slack", f'["{PERSON}", "U0OTHER"]'),
        )
        await insert_audit(
            conn,
            "slack:T1",
            NewAuditEntry(PERSON, NAME, "add", ItemKind.MESSAGE, "m1", None, {"text": "Hi"}),
        )
        await insert_audit(
            conn,
            "slack:T1",
            NewAuditEntry(
                "U0OTHER",
                "Other",
                "settings.moderator-users",
                ItemKind.SETTINGS,
                "moderator-users",
                None,
                # Listed by id, named in a field that names people, and an id that merely
                # starts with theirs (which must not be touched).
                {
                    "moderator_user_ids": [PERSON, "U0OTHER"],
                    "paused_reason": f"paused by {NAME}",
                    "also": f"{PERSON}X",
                },
            ),
        )


async def test_names_of_and_forget_rewrite_every_reference(db: Database) -> None:
    await _seed(db)
    store = SqlPrivacyStore(db)
    assert await store.names_of(PERSON) == (NAME,)
    forgetting = Forgetting(PERSON, (NAME,), "forgotten-00000000")
    counts = await store.forget(forgetting, forget_audit(forgetting.marker))
    assert counts["slack:T1"].audit_entries == 2
    assert counts["slack:T1"].moderator_users == 1
    rows = await db.fetch_all("SELECT actor_id, actor_name, after_json FROM audit_log ORDER BY id")
    assert (rows[0]["actor_id"], rows[0]["actor_name"]) == ("forgotten-00000000",) * 2
    assert rows[1]["actor_id"] == "U0OTHER"
    assert '"moderator_user_ids": ["forgotten-00000000", "U0OTHER"]' in rows[1]["after_json"]
    assert "paused by forgotten-00000000" in rows[1]["after_json"]
    # Not a word on its own: another id that merely starts with it stays.
    assert f"{PERSON}X" in rows[1]["after_json"]
    assert rows[2]["actor_id"] == "cli" and PERSON not in rows[2]["after_json"]
    community = await db.fetch_one("SELECT moderator_user_ids, version FROM communities")
    assert community is not None
    assert (community[0], community[1]) == ('["U0OTHER"]', 2)


async def test_nothing_found_changes_nothing(db: Database) -> None:
    await _seed(db)
    report = await forget_person(SqlPrivacyStore(db), "U0NOBODY")
    assert not report.changed
    assert report_lines(report) == [
        "Nothing refers to that person in this database: nothing was changed."
    ]
    rows = await db.fetch_all("SELECT count(*) FROM audit_log")
    assert rows[0][0] == 2


@pytest.mark.sqlite_only  # SQLite's free pages and secure_delete
async def test_erase_freed_space_removes_values_sqlite_left_in_free_pages(db: Database) -> None:
    secret = "Only-Here Longname-For-The-Free-Page-Test"
    await _seed(db)
    async with db.write() as conn:
        await insert_audit(
            conn,
            "slack:T1",
            NewAuditEntry("U0X", secret, "add", ItemKind.MESSAGE, "m2", None, None),
        )
        for n in range(10):  # rows after it, so its old cell is not at the page's open end
            entry = NewAuditEntry("U0Y", "Y", "add", ItemKind.MESSAGE, f"k{n}", None, None)
            await insert_audit(conn, "slack:T1", entry)
    # A build of SQLite without secure delete leaves a moved value's old bytes in the page.
    raw = sqlite3.connect(db.path, isolation_level=None)
    try:
        raw.execute("PRAGMA secure_delete = OFF")
        # Growing the row moves it; the old cell's bytes stay where they were.
        raw.execute("UPDATE audit_log SET actor_name = hex(randomblob(300)) WHERE actor_id = 'U0X'")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    assert await db.fetch_all("SELECT id FROM audit_log WHERE actor_name = ?", (secret,)) == []
    assert secret.encode() in _files(db)  # still in the file's free space

    assert await SqlPrivacyStore(db).erase_freed_space()

    assert secret.encode() not in _files(db)


def test_the_marker_is_random_so_it_cannot_be_recomputed_from_an_id() -> None:
    markers = {new_marker() for _ in range(50)}
    assert len(markers) == 50
    assert all(m.startswith("forgotten-") and len(m) == len("forgotten-") + 8 for m in markers)


async def test_a_name_with_quotes_and_accents_is_found_inside_audit_data(db: Database) -> None:
    name = 'Zoë "Zed" Ångström'
    async with db.write() as conn:
        await conn.execute("INSERT INTO communities (id, platform) VALUES ('slack:T2', 'slack')")
        await insert_audit(
            conn,
            "slack:T2",
            NewAuditEntry("U0OTHER", "Other", "edit", ItemKind.MESSAGE, "m", None, {"by": name}),
        )
    forgetting = Forgetting("U0ZOE", (name,), "forgotten-11111111")
    counts = await SqlPrivacyStore(db).forget(forgetting, forget_audit(forgetting.marker))
    assert counts["slack:T2"].audit_entries == 1
    row = await db.fetch_one("SELECT after_json FROM audit_log WHERE item_key = 'm'")
    assert row is not None and row[0] == '{"by": "forgotten-11111111"}'


def test_library_text_that_contains_the_name_is_content_and_stays() -> None:
    forgetting = Forgetting("111", ("Hope",), "forgotten-00000000")
    before = {"key": "general-hope", "text": "Hope is real, and so are you.", "version": 1}
    assert forgetting.data(before) == before
    # Fields that name people are rewritten, and a value that is the id or the name.
    schedule = {"paused_reason": "paused by Hope", "created_by": "111", "topic": "general"}
    assert forgetting.data(schedule) == {
        "paused_reason": "paused by forgotten-00000000",
        "created_by": "forgotten-00000000",
        "topic": "general",
    }
    assert forgetting.data({"moderator_user_ids": ["111", "222"]}) == {
        "moderator_user_ids": ["forgotten-00000000", "222"]
    }


async def test_erase_freed_space_rewrites_the_tables_on_either_engine(db: Database) -> None:
    await _seed(db)
    store = SqlPrivacyStore(db)
    forgetting = Forgetting(PERSON, (NAME,), "forgotten-22222222")
    await store.forget(forgetting, forget_audit(forgetting.marker))
    assert await store.erase_freed_space() is True
    # The data is as forgetting left it, and the database takes writes again.
    assert await store.names_of(PERSON) == ()
    rows = await db.fetch_all("SELECT count(*) FROM audit_log WHERE actor_id = ?", (PERSON,))
    assert rows[0][0] == 0


async def test_forgetting_a_moderator_ends_their_dashboard_links_and_sessions(
    db: Database,
) -> None:
    await _seed(db)
    store = SqlDashboardStore(db)
    for who in (PERSON, "U0OTHER"):
        await store.add_link(f"link-{who}", DashboardGrant("slack:T1", who), 2_000_000_000, 0)
        await store.add_session(f"session-{who}", DashboardGrant("slack:T1", who), 2_000_000_000)
    forgetting = Forgetting(PERSON, (NAME,), "forgotten-00000000")
    await SqlPrivacyStore(db).forget(forgetting, forget_audit(forgetting.marker))
    assert await store.session(f"session-{PERSON}", 0) is None
    assert await store.take_link(f"link-{PERSON}", 0) == (LinkState.UNKNOWN, None)
    assert await store.session("session-U0OTHER", 0) == DashboardGrant("slack:T1", "U0OTHER")
