"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    # A deliberate refusal, not a missing piece: going back means restoring the backup taken
    # before the upgrade (see docs/operations.md), never undoing a schema by hand.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
