"""Where Slack installations live when Haven is installed in many workspaces: slack-sdk's own
SQLAlchemy installation and OAuth state stores, on an async engine over the same database as
everything else (HAVEN_DATABASE_URL), so every process sees every installation.

The stores get their own small engine (not the storage handle's connections): on SQLite the
handle's two connections are reserved for Haven's one writer and one reader, and the stores
run their own short transactions. Their tables are made by migration 0006, never by the
stores' `create_tables()`; this module only opens and closes the engine.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.settings import Settings
from bot.storage.database import BUSY_TIMEOUT_MS
from bot.storage.engine import uses_postgres
from bot.storage.postgres import asyncpg_url

# Installs and token look-ups are rare next to Haven's own queries: a couple of connections.
POOL_SIZE = 2
POOL_OVERFLOW = 3
# Slack's own default: an install link is good for ten minutes.
STATE_EXPIRATION_SECONDS = 600


# What the installer's user id is stored as. slack-sdk's table needs a value; Haven never needs
# to know who installed it (it asks for no user scopes and looks tokens up by workspace only).
INSTALLER_NOT_KEPT = "installer-not-kept"


class WorkspaceInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's installation store, keeping the workspace and its bot token but not the person
    who installed Haven: their user id would be personal data Haven has no use for and that
    `haven privacy forget` would otherwise have to find in a library's table."""

    async def async_save(self, installation: Installation) -> None:
        kept = copy.copy(installation)
        kept.user_id = INSTALLER_NOT_KEPT
        kept.user_token = None
        kept.user_refresh_token = None
        kept.user_token_expires_at = None
        kept.user_scopes = None
        await super().async_save(kept)


@dataclass(frozen=True)
class SlackInstallationStores:
    installations: AsyncSQLAlchemyInstallationStore
    states: AsyncSQLAlchemyOAuthStateStore


def _engine(settings: Settings) -> AsyncEngine:
    if uses_postgres(settings):
        assert settings.database_url is not None
        return create_async_engine(
            asyncpg_url(settings.database_url),
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_pre_ping=True,
        )
    path = settings.database_path.expanduser()
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")

    # Wait for Haven's writer instead of failing at once with "database is locked".
    @event.listens_for(engine.sync_engine, "connect")
    def _configure(connection: Any, record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


@asynccontextmanager
async def open_slack_installations(
    settings: Settings, client_id: str
) -> AsyncIterator[SlackInstallationStores]:
    """The installation and state stores for the app `client_id`, open until the block ends.
    The database must already be migrated (the composition root migrates first)."""
    engine = _engine(settings)
    try:
        yield SlackInstallationStores(
            installations=WorkspaceInstallationStore(client_id=client_id, engine=engine),
            states=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine
            ),
        )
    finally:
        await engine.dispose()
