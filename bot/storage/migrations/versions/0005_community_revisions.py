"""The change feed's ledger: which community changed, at which database-wide revision.

Revision ID: 0005
Revises: 0004

Every write to a community's content or settings bumps its row in the same transaction
(bot/storage/changes.py), so other processes on the same database reload only what changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_revisions",
        sa.Column("community_id", sa.Text, primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.create_index("community_revisions_by_revision", "community_revisions", ["revision"])


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
