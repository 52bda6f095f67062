"""Resources get a rank, an audience (with an age range) and machine-readable opening hours;
messages get an audience.

Revision ID: 0007
Revises: 0005

Existing rows keep working with the defaults: rank 100 (unranked: ordered after the pack's
ranked entries, then by title), audience everyone, no age range, no structured hours (open-now
then follows `always_open`, and other hours count as unknown). Two facts are filled in for rows
that communities copied from the shipped pack, because leaving them out is what put a
children's line first for adults: Childline serves people under 19 and The Trevor Project
people under 25, and the message for family members who were just told is written to them.
Only rows still at the default audience are touched, so nothing a moderator set is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_AGE_LIMITED = (("gb-childline", 18), ("us-trevor-project", 24))
_FAMILY_MESSAGES = ("family-someone-came-out",)


def upgrade() -> None:
    with op.batch_alter_table("resources") as table:
        table.add_column(
            sa.Column("rank", sa.Integer, nullable=False, server_default=sa.text("100"))
        )
        table.add_column(sa.Column("audience", sa.Text, nullable=False, server_default="everyone"))
        table.add_column(sa.Column("age_min", sa.Integer))
        table.add_column(sa.Column("age_max", sa.Integer))
        table.add_column(sa.Column("opening_hours", sa.Text, nullable=False, server_default=""))
        table.add_column(sa.Column("timezone", sa.Text, nullable=False, server_default=""))
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("audience", sa.Text, nullable=False, server_default="everyone"))
    for key, age_max in _AGE_LIMITED:
        op.execute(
            sa.text(
                "UPDATE resources SET audience = 'young-people', age_max = :age_max"
                " WHERE key = :key AND audience = 'everyone' AND age_max IS NULL"
            ).bindparams(key=key, age_max=age_max)
        )
    for key in _FAMILY_MESSAGES:
        op.execute(
            sa.text(
                "UPDATE messages SET audience = 'parents-and-families'"
                " WHERE key = :key AND audience = 'everyone'"
            ).bindparams(key=key)
        )


def downgrade() -> None:
    # A deliberate refusal, not a missing piece: going back means restoring the backup taken
    # before the upgrade (see docs/operations.md), never undoing a schema by hand.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
