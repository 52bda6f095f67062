"""Slack installations keep no installer: the user id (and any user token) of whoever installed
Haven in a workspace is replaced by a marker.

Revision ID: 0013
Revises: 0012

slack-sdk's table requires a `user_id`; Haven never uses it (it asks for no user scopes and
looks tokens up by workspace), so from now on bot/storage/slack_installations.py stores
`installer-not-kept` there, and this revision clears what earlier installs stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The same marker as bot/storage/slack_installations.INSTALLER_NOT_KEPT (a revision is frozen
# in time, so it does not import the code that may later change).
_MARKER = "installer-not-kept"


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE slack_installations SET user_id = :marker, user_token = NULL,"
            " user_refresh_token = NULL, user_scopes = NULL, user_token_expires_at = NULL"
        ).bindparams(marker=_MARKER)
    )


def downgrade() -> None:
    # As every revision: going back means restoring the backup taken before the upgrade.
    raise CommandError("Haven migrates forward only; restore the backup taken before.")
