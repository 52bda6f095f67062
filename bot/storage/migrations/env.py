"""Alembic's environment for Haven: always run from bot/storage/migrate.py on a connection it
hands over (in `config.attributes["connection"]`), inside a transaction migrate.py began."""

from __future__ import annotations

from alembic import context

from bot.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
