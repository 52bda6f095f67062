"""slack-sdk's own SQLAlchemy installation and state stores against the schema migration 0006
built (never their create_tables), on both engines: saved, the newest bot found per team,
deleted on revocation; install links issued and consumed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore

from bot.settings import Settings
from bot.storage.copy import copy_database
from bot.storage.database import Database, SqlDatabase
from bot.storage.migrate import migrate
from bot.storage.postgres import PostgresDatabase
from bot.storage.slack_installations import INSTALLER_NOT_KEPT, open_slack_installations
from tests.conftest import empty_database

CLIENT_ID = "1111.2222"


def _settings(db: SqlDatabase) -> Settings:
    if isinstance(db, Database):
        return Settings(database_path=db.path)
    assert isinstance(db, PostgresDatabase)
    return Settings(database_url=db.url)


def _installation(team: str, token: str, at: datetime) -> Installation:
    return Installation(
        app_id="AHAVEN",
        enterprise_id=None,
        team_id=team,
        team_name=f"Team {team}",
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id=f"U{team}BOT",
        bot_scopes="commands,chat:write",
        user_id=f"U{team}INSTALLER",
        installed_at=at.timestamp(),
    )


async def test_installations_are_kept_per_team_newest_first(db: SqlDatabase) -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    async with open_slack_installations(_settings(db), CLIENT_ID) as stores:
        store = stores.installations
        await store.async_save(_installation("TA", "xoxb-a-1", now))
        await store.async_save(_installation("TB", "xoxb-b-1", now))
        await store.async_save(_installation("TA", "xoxb-a-2", now + timedelta(minutes=5)))
        bot_a = await store.async_find_bot(enterprise_id=None, team_id="TA")
        bot_b = await store.async_find_bot(enterprise_id=None, team_id="TB")
        assert bot_a is not None and bot_a.bot_token == "xoxb-a-2"
        assert bot_b is not None and bot_b.bot_token == "xoxb-b-1"
        assert bot_a.installed_at == (now + timedelta(minutes=5)).timestamp()

        await store.async_delete_bot(enterprise_id=None, team_id="TB")
        assert await store.async_find_bot(enterprise_id=None, team_id="TB") is None
        await store.async_delete_all(enterprise_id=None, team_id="TA")
        assert await store.async_find_bot(enterprise_id=None, team_id="TA") is None
        assert await store.async_find_installation(enterprise_id=None, team_id="TA") is None
    # Haven's own handle sees the same rows (one database for every process).
    rows = await db.fetch_all("SELECT team_id FROM slack_installations ORDER BY id")
    assert [r[0] for r in rows] == ["TB"]


async def test_install_links_are_good_once(db: SqlDatabase) -> None:
    async with open_slack_installations(_settings(db), CLIENT_ID) as stores:
        state = await stores.states.async_issue()
        assert await stores.states.async_consume(state)
        assert not await stores.states.async_consume(state)
        assert not await stores.states.async_consume("never-issued")


async def test_db_copy_takes_the_installations_and_new_ones_get_new_ids(
    tmp_path: Path, postgres_url: str
) -> None:
    source = await Database.open(tmp_path / "haven.db")
    target = await PostgresDatabase.open(postgres_url)
    try:
        await migrate(source)
        now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
        async with open_slack_installations(_settings(source), CLIENT_ID) as stores:
            await stores.installations.async_save(_installation("TA", "xoxb-a-1", now))
            await stores.states.async_issue()
        report = await copy_database(source, target)
        assert report.counts["slack_installations"] == 1 and report.counts["slack_bots"] == 1
        assert report.counts["slack_oauth_states"] == 1
        async with open_slack_installations(_settings(target), CLIENT_ID) as stores:
            bot = await stores.installations.async_find_bot(enterprise_id=None, team_id="TA")
            assert bot is not None and bot.bot_token == "xoxb-a-1"
            # The serial ids continue after the copied rows (no duplicate key).
            await stores.installations.async_save(_installation("TB", "xoxb-b-1", now))
            await stores.states.async_issue()
    finally:
        await source.close()
        await target.close()


async def test_installers_are_not_kept_from_now_on_nor_from_before(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with empty_database(engine, request, tmp_path) as database:
        await migrate(database, up_to=9)  # as an earlier Haven left it: the installer kept
        before = _installation("TOLD", "xoxb-old", datetime(2026, 11, 1, tzinfo=UTC))
        async with open_slack_installations(_settings(database), CLIENT_ID) as stores:
            # The library's own store, as earlier Havens used it.
            await AsyncSQLAlchemyInstallationStore.async_save(stores.installations, before)
        await migrate(database)
        async with open_slack_installations(_settings(database), CLIENT_ID) as stores:
            await stores.installations.async_save(
                _installation("TNEW", "xoxb-new", datetime(2026, 12, 1, tzinfo=UTC))
            )
            found = await stores.installations.async_find_bot(enterprise_id=None, team_id="TOLD")
            assert found is not None and found.bot_token == "xoxb-old"  # the bot still works
        rows = await database.fetch_all(
            "SELECT team_id, user_id, user_token FROM slack_installations ORDER BY team_id"
        )
        assert [tuple(row) for row in rows] == [
            ("TNEW", INSTALLER_NOT_KEPT, None),
            ("TOLD", INSTALLER_NOT_KEPT, None),
        ]
