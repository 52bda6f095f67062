"""Messages and resources carry translations: a `translations` JSON column on both layers.

Revision ID: 0010
Revises: 0009

`messages`, `resources` and their shipped copies get `translations` (JSON text, `{}` when the
item has none): `{locale: {text, translated_by, outdated}}` for a message and
`{locale: {description, title, hours, translated_by, outdated}}` for a resource. Existing rows
have none, so every answer stays as it was until the shipped layer is replaced by a release
that carries them (bot/core/content/releases.py) or a moderator adds one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("messages", "resources", "shipped_messages", "shipped_resources")


def upgrade() -> None:
    for name in _TABLES:
        with op.batch_alter_table(name) as table:
            table.add_column(
                sa.Column("translations", sa.Text, nullable=False, server_default="{}")
            )


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
