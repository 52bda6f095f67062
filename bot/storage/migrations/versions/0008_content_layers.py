"""Content in layers: the shipped pack stored once, each community keeping only its own layer.

Revision ID: 0008
Revises: 0007

Creates the shipped tables (the same columns as topics, messages, resources and
emergency_numbers), the own layer's `library_layer`, the review list `layer_reviews` and the
release notices `layer_notices`. The shipped tables are filled at start-up from the pack this
Haven ships (bot/storage/layers.py), not here, so there is one way to fill them.

Then every community's full copy of the default pack becomes its own layer. The text of a row
cannot tell a moderator's edit from Haven's own later changes (the copy was seeded from an older
pack, and 0007 filled its new columns with defaults), so the audit trail decides. The rule, for
each message and resource row of each community:

1. The item has moderator history (any audit_log entry for that community, kind and key other
   than a refusal: added, edited, enabled, disabled, imported, removed or undone): it is the
   community's own. If the shipped pack has that key, a `library_layer` row marks it 'edited'
   with `based_on` NULL (based on a release before layers); otherwise it is an own addition.
   A shipped key with moderator history but no row was removed by a moderator: it is
   recorded 'hidden', so the shipped item does not come back.
2. No moderator history and the shipped pack has the key: inherited. The row is deleted, so the
   community sees the shipped item, corrections included.
3. No moderator history and the shipped pack no longer has the key: Haven retired it. The row is
   deleted (a retired helpline nobody chose to keep is not kept).

Topics and emergency numbers change only through a pack import (audited as `pack.import`). A
community that never imported a pack keeps none of its rows (they were the seed); one that did
keeps the rows that differ from the shipped pack and drops the ones equal to it.

Each community's audit trail records the change (actor haven, `layers.migrate`, with how many
messages and resources stay its own).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _flag(name: str, default: int) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text(str(default)))


def _community() -> sa.Column[str]:
    return sa.Column(
        "community_id",
        sa.Text,
        sa.ForeignKey("communities.id", ondelete="CASCADE"),
        nullable=False,
    )


def _create_shipped_tables() -> None:
    op.create_table(
        "shipped_topics",
        sa.Column("community_id", sa.Text, nullable=False),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("position", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("community_id", "slug"),
    )
    op.create_table(
        "shipped_messages",
        sa.Column("community_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False, server_default="en"),
        _flag("enabled", 1),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("audience", sa.Text, nullable=False, server_default="everyone"),
        sa.PrimaryKeyConstraint("community_id", "key"),
    )
    op.create_table(
        "shipped_resources",
        sa.Column("community_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("contacts", sa.Text, nullable=False, server_default="[]"),
        sa.Column("regions", sa.Text, nullable=False, server_default="[]"),
        sa.Column("topics", sa.Text, nullable=False, server_default="[]"),
        _flag("crisis_service", 0),
        _flag("always_open", 0),
        sa.Column("hours", sa.Text, nullable=False, server_default=""),
        sa.Column("source_url", sa.Text, nullable=False, server_default=""),
        sa.Column("last_verified", sa.Text),
        _flag("needs_review", 0),
        sa.Column("notes_for_mods", sa.Text, nullable=False, server_default=""),
        _flag("enabled", 1),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("rank", sa.Integer, nullable=False, server_default=sa.text("100")),
        sa.Column("audience", sa.Text, nullable=False, server_default="everyone"),
        sa.Column("age_min", sa.Integer),
        sa.Column("age_max", sa.Integer),
        sa.Column("opening_hours", sa.Text, nullable=False, server_default=""),
        sa.Column("timezone", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("community_id", "key"),
    )
    op.create_table(
        "shipped_emergency_numbers",
        sa.Column("community_id", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        _flag("needs_review", 0),
        sa.PrimaryKeyConstraint("community_id", "region"),
    )


def _create_layer_tables() -> None:
    op.create_table(
        "library_layer",
        _community(),
        sa.Column("item_kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("based_on", sa.Integer),
        sa.Column("confirmed_on", sa.Text),
        sa.PrimaryKeyConstraint("community_id", "item_kind", "key"),
        sa.CheckConstraint(
            "state IN ('edited', 'hidden', 'inherited')", name="library_layer_state"
        ),
    )
    op.create_table(
        "layer_reviews",
        _community(),
        sa.Column("item_kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("release", sa.Text, nullable=False),
        sa.Column("before_json", sa.Text, nullable=False),
        sa.Column("after_json", sa.Text),
        sa.PrimaryKeyConstraint("community_id", "item_kind", "key"),
    )
    op.create_table(
        "layer_notices",
        _community(),
        sa.Column("release", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        _flag("sent", 0),
        sa.PrimaryKeyConstraint("community_id", "release"),
    )


# An audit entry for the item that a moderator (not a refusal, not Haven) wrote.
_HISTORY = (
    "EXISTS (SELECT 1 FROM audit_log a WHERE a.community_id = {t}.community_id"
    " AND a.item_kind = '{kind}' AND a.item_key = {t}.key AND a.action <> 'refused'"
    " AND a.actor_id <> 'haven')"
)


def _layer_items(table: str, kind: str, shipped_keys: list[str]) -> None:
    history = _HISTORY.format(t=table, kind=kind)
    keys: sa.BindParameter[list[str]] = sa.bindparam("keys", value=shipped_keys, expanding=True)
    # 1. own copies of shipped items: marked edited, based on a release before layers.
    op.execute(
        sa.text(
            "INSERT INTO library_layer (community_id, item_kind, key, state, version, based_on)"
            f" SELECT community_id, '{kind}', key, 'edited', version, CAST(NULL AS INTEGER)"
            f" FROM {table}"
            f" WHERE {history} AND key IN :keys"
        ).bindparams(keys)
    )
    # A shipped item a moderator removed (history, no row): it stays out of sight, hidden.
    op.execute(
        sa.text(
            "INSERT INTO library_layer (community_id, item_kind, key, state, version, based_on)"
            f" SELECT DISTINCT a.community_id, '{kind}', a.item_key, 'hidden', 1,"
            " CAST(NULL AS INTEGER)"
            f" FROM audit_log a WHERE a.item_kind = '{kind}' AND a.item_key IN :keys"
            " AND a.action <> 'refused' AND a.actor_id <> 'haven' AND NOT EXISTS"
            f" (SELECT 1 FROM {table} o WHERE o.community_id = a.community_id"
            " AND o.key = a.item_key)"
        ).bindparams(keys)
    )
    # 2 and 3. everything no moderator touched is the seed: inherited or retired.
    op.execute(sa.text(f"DELETE FROM {table} WHERE NOT {history}"))


def _layer_settings(table: str, match: str, rows: list[dict[str, object]]) -> None:
    imported = (
        f"EXISTS (SELECT 1 FROM audit_log a WHERE a.community_id = {table}.community_id"
        " AND a.action = 'pack.import')"
    )
    op.execute(sa.text(f"DELETE FROM {table} WHERE NOT {imported}"))
    for row in rows:
        op.execute(sa.text(f"DELETE FROM {table} WHERE {match}").bindparams(**row))


def _audit_the_change() -> None:
    """One audit entry per community (actor haven): how many of its items stay its own; the
    rest now follow Haven's shipped pack."""
    own = (
        "(SELECT count(*) FROM {t} WHERE {t}.community_id = c.id AND "
        + _HISTORY.format(t="{t}", kind="{kind}")
        + ")"
    )
    messages = own.format(t="messages", kind="message")
    resources = own.format(t="resources", kind="resource")
    op.execute(
        sa.text(
            "INSERT INTO audit_log (community_id, actor_id, actor_name, action, item_kind,"
            " item_key, after_json, at)"
            " SELECT c.id, 'haven', 'Haven', 'layers.migrate', 'settings', 'library',"
            f" '{{\"own_messages\": ' || CAST({messages} AS TEXT) ||"
            f" ', \"own_resources\": ' || CAST({resources} AS TEXT) || '}}',"
            " :at FROM communities c"
        ).bindparams(at=datetime.now(UTC).isoformat(timespec="seconds"))
    )


def upgrade() -> None:
    # Imported here, not at the top: Alembic loads every revision to walk the history.
    from bot.core.content.packs import load_default_pack

    _create_shipped_tables()
    _create_layer_tables()
    pack = load_default_pack()
    _audit_the_change()
    _layer_items("messages", "message", [m.key for m in pack.messages])
    _layer_items("resources", "resource", [r.key for r in pack.resources])
    _layer_settings(
        "topics",
        "slug = :slug AND label = :label AND description = :description",
        [{"slug": t.slug, "label": t.label, "description": t.description} for t in pack.topics],
    )
    _layer_settings(
        "emergency_numbers",
        "region = :region AND number = :number AND needs_review = :needs_review",
        [
            {"region": n.region, "number": n.number, "needs_review": int(n.needs_review)}
            for n in pack.emergency_numbers
        ],
    )


def downgrade() -> None:
    # Going back would need every community's full copy again: restore the backup taken
    # before this migration instead (`haven db backup`; SQLite takes one automatically).
    raise CommandError("Revision 0008 cannot be downgraded; restore the backup taken before it.")
