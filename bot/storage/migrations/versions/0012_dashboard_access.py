"""The moderator dashboard's sign-in links and sessions, stored only as hashes.

Revision ID: 0012
Revises: 0011

`dashboard_links`: a one-time sign-in link's SHA-256, the moderator and community it is bound
to, when it expires and whether it was used. `dashboard_sessions`: a signed-in browser's
cookie's SHA-256, the same two ids, and when it expires. Neither the link nor the cookie
itself is ever stored, and nothing here says anything about people who asked for support
(bot/core/dashboard.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _community() -> sa.Column[str]:
    return sa.Column(
        "community_id",
        sa.Text,
        sa.ForeignKey("communities.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "dashboard_links",
        sa.Column("token_hash", sa.Text, primary_key=True),
        _community(),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("used", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("session_hash", sa.Text, primary_key=True),
        _community(),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
