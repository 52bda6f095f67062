"""Reports on resources: counts per community, resource key, kind and day, and the notices sent.

Revision ID: 0009
Revises: 0008

`resource_reports` holds only aggregates (no reporter, no time finer than the day);
`resource_report_notices` remembers which resource and kind the log channel was told about,
so it is told once (bot/core/content/reports.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0009"
down_revision = "0008"
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
        "resource_reports",
        _community(),
        sa.Column("resource_key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("community_id", "resource_key", "kind", "day"),
    )
    op.create_table(
        "resource_report_notices",
        _community(),
        sa.Column("resource_key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("community_id", "resource_key", "kind"),
    )


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
