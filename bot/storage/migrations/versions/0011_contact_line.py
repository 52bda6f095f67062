"""The contact line: requests to the moderators, their threads, blocks and the audit.

Revision ID: 0011
Revises: 0010

Nothing here can name an anonymous sender: `sender_id`/`sender_name` are filled only for a
request sent "as myself", the person's key is stored as a hash, blocks as keyed tags whose
key is not in the database, and the only date of a request is the day it closed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0011"
down_revision = "0010"
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
        "contact_settings",
        sa.Column(
            "community_id",
            sa.Text,
            sa.ForeignKey("communities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("inbox_channel_id", sa.Text),
        sa.Column("struggling_enabled", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_number", sa.Integer, nullable=False, server_default=sa.text("1")),
    )
    op.create_table(
        "contact_requests",
        _community(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("token_hash", sa.Text),
        sa.Column("sender_id", sa.Text),
        sa.Column("sender_name", sa.Text),
        sa.Column("inbox_channel_id", sa.Text),
        sa.Column("inbox_message_id", sa.Text),
        sa.Column("closed_on", sa.Text),
        sa.PrimaryKeyConstraint("community_id", "number"),
    )
    op.create_index("contact_requests_token", "contact_requests", ["token_hash"], unique=True)
    op.create_table(
        "contact_lines",
        _community(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("from_person", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("moderator_name", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("community_id", "number", "seq"),
    )
    op.create_table(
        "contact_blocks",
        _community(),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column("until", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("community_id", "tag"),
    )
    op.create_table(
        "contact_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _community(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False, server_default=""),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("contact_audit_by_community", "contact_audit", ["community_id", "id"])


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
