"""A slot may end `unknown`: the platform failed after it may have created the post.

Revision ID: 0003
Revises: 0002

The window in which a retry with the same key is safe ran out, so Haven does not know whether
the post is in the channel and never sends it again blindly. PostgreSQL changes the CHECK
constraint in place; SQLite cannot, so there the table is rebuilt with the same columns, rows
and index (nothing references schedule_slots, so dropping the old table is safe). A database
made by Haven's earlier numbered migrations has an unnamed constraint, which the rebuild also
replaces.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES = "status IN ('claimed', 'sent', 'missed', 'failed', 'unknown')"
COLUMNS = (
    "schedule_id, slot_at, status, reason, lease_owner, lease_until, attempts, message_id,"
    " updated_at"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("schedule_slots_status", "schedule_slots", type_="check")
        op.create_check_constraint("schedule_slots_status", "schedule_slots", STATUSES)
        return
    op.create_table(
        "schedule_slots_new",
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
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("message_id", sa.Text),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "slot_at"),
        sa.CheckConstraint(STATUSES, name="schedule_slots_status"),
        sqlite_with_rowid=False,
    )
    op.execute(f"INSERT INTO schedule_slots_new ({COLUMNS}) SELECT {COLUMNS} FROM schedule_slots")
    op.drop_table("schedule_slots")
    op.rename_table("schedule_slots_new", "schedule_slots")
    claimed = sa.text("status = 'claimed'")
    op.create_index(
        "schedule_slots_claimed",
        "schedule_slots",
        ["lease_until"],
        sqlite_where=claimed,
        postgresql_where=claimed,
    )


def downgrade() -> None:
    # A deliberate refusal, not a missing piece: going back means restoring the backup taken
    # before the upgrade (see docs/operations.md), never undoing a schema by hand.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
