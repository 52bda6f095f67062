"""Discord IDENTIFY buckets: one row per bucket, the turn of whichever process identifies next.

Revision ID: 0004
Revises: 0003

Discord lets the shards of one bucket (`shard_id % max_concurrency`) IDENTIFY once per 5 s; a
process takes a bucket's row with one conditional upsert and holds it for those seconds, so
several processes starting together take turns (bot/storage/identify_gate.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identify_buckets",
        sa.Column("bucket", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("held_until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
