"""Haven's first schema: communities, their content library, the audit trail, aggregate state.

Revision ID: 0001
Revises:
Privacy by design: no table has a column for who asked for support or when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _community() -> sa.Column[str]:
    return sa.Column(
        "community_id",
        sa.Text,
        sa.ForeignKey("communities.id", ondelete="CASCADE"),
        nullable=False,
    )


def _int(name: str, default: int) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text(str(default)))


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("default_region", sa.Text),
        sa.Column("default_locale", sa.Text, nullable=False, server_default="en"),
        sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
        sa.Column("moderator_role_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("moderator_user_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("log_channel_id", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("removed_at", sa.Text),
        sa.Column("removed_reason", sa.Text),
        _int("version", 1),
    )
    op.create_table(
        "topics",
        _community(),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _int("position", 0),
        sa.PrimaryKeyConstraint("community_id", "slug"),
    )
    op.create_table(
        "messages",
        _community(),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False, server_default="en"),
        _int("enabled", 1),
        _int("version", 1),
        sa.PrimaryKeyConstraint("community_id", "key"),
    )
    op.create_table(
        "resources",
        _community(),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("contacts", sa.Text, nullable=False, server_default="[]"),
        sa.Column("regions", sa.Text, nullable=False, server_default="[]"),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        _int("crisis_service", 0),
        _int("always_open", 0),
        sa.Column("hours", sa.Text, nullable=False, server_default=""),
        sa.Column("source_url", sa.Text, nullable=False, server_default=""),
        sa.Column("last_verified", sa.Text),
        _int("needs_review", 0),
        sa.Column("notes_for_mods", sa.Text, nullable=False, server_default=""),
        _int("enabled", 1),
        _int("version", 1),
        sa.PrimaryKeyConstraint("community_id", "key"),
    )
    op.create_table(
        "emergency_numbers",
        _community(),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        _int("needs_review", 0),
        sa.PrimaryKeyConstraint("community_id", "region"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _community(),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False, server_default=""),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("item_kind", sa.Text, nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("before_json", sa.Text),
        sa.Column("after_json", sa.Text),
        sa.Column("at", sa.Text, nullable=False),
        _int("undone", 0),
        sqlite_autoincrement=True,
    )
    op.create_index("audit_log_item", "audit_log", ["community_id", "item_kind", "item_key", "id"])
    op.create_table(
        "rotation_state",
        _community(),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("shown_keys", sa.Text, nullable=False, server_default="[]"),
        sa.PrimaryKeyConstraint("community_id", "topic"),
    )
    op.create_table(
        "usage_daily",
        _community(),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        _int("count", 0),
        sa.PrimaryKeyConstraint("community_id", "topic", "day"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    # A deliberate refusal, not a missing piece: going back means restoring the backup taken
    # before the upgrade (see docs/operations.md), never undoing a schema by hand.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
