"""Scheduled posts: schedules, the slots they produced, and the scheduler lease row.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _int(name: str, default: int) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text(str(default)))


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "community_id",
            sa.Text,
            sa.ForeignKey("communities.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("channel_label", sa.Text, nullable=False, server_default=""),
        sa.Column("topic", sa.Text),
        sa.Column("message_key", sa.Text),
        sa.Column("when_text", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        _int("one_shot", 0),
        sa.Column("next_run_at", sa.BigInteger),
        sa.Column("grace_seconds", sa.Integer, nullable=False),
        _int("paused", 0),
        sa.Column("paused_reason", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_outcome", sa.Text),
        sa.Column("last_outcome_at", sa.BigInteger),
        _int("version", 1),
    )
    due = sa.text("paused = 0 AND next_run_at IS NOT NULL")
    op.create_index(
        "schedules_due", "schedules", ["next_run_at"], sqlite_where=due, postgresql_where=due
    )
    op.create_index("schedules_by_community", "schedules", ["community_id", "id"])
    op.create_table(
        "schedule_slots",
        sa.Column(
            "schedule_id",
            sa.Integer,
            sa.ForeignKey("schedules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("slot_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", sa.BigInteger),
        _int("attempts", 0),
        sa.Column("message_id", sa.Text),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "slot_at"),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'missed', 'failed')", name="schedule_slots_status"
        ),
        sqlite_with_rowid=False,
    )
    claimed = sa.text("status = 'claimed'")
    op.create_index(
        "schedule_slots_claimed",
        "schedule_slots",
        ["lease_until"],
        sqlite_where=claimed,
        postgresql_where=claimed,
    )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("heartbeat", sa.Float, nullable=False),
    )


def downgrade() -> None:
    # A deliberate refusal, not a missing piece: going back means restoring the backup taken
    # before the upgrade (see docs/operations.md), never undoing a schema by hand.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
