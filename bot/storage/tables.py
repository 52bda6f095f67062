"""Haven's tables, defined once for both engines (the schema the Alembic revisions build).

Privacy by design: no table has a column for who asked for support or when.

Types are chosen so the same SQL text runs on SQLite and PostgreSQL: flags are INTEGER 0/1
(statements compare `paused = 0`), lists are JSON text, dates ISO text, instants epoch seconds
(BIGINT: past 2038 on PostgreSQL, plain INTEGER affinity on SQLite). A test compares this
module with the schema the revisions produce, so the two cannot drift apart.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

metadata = MetaData()

SLOT_STATUSES = ("claimed", "sent", "missed", "failed", "unknown")


def _community() -> Column[str]:
    return Column(
        "community_id", Text, ForeignKey("communities.id", ondelete="CASCADE"), nullable=False
    )


def _flag(name: str, default: int) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default=text(str(default)))


def _json_list(name: str) -> Column[str]:
    return Column(name, Text, nullable=False, server_default="[]")


communities = Table(
    "communities",
    metadata,
    # "discord:<guild id>", "slack:<team id>", "console:local"
    Column("id", Text, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("default_region", Text),
    Column("default_locale", Text, nullable=False, server_default="en"),
    Column("timezone", Text, nullable=False, server_default="UTC"),
    _json_list("moderator_role_ids"),
    _json_list("moderator_user_ids"),
    Column("log_channel_id", Text),
    Column("status", Text, nullable=False, server_default="active"),
    # When the bot was removed (purge after the grace period), and why (schedules paused for
    # it resume on return).
    Column("removed_at", Text),
    Column("removed_reason", Text),
    Column("version", Integer, nullable=False, server_default=text("1")),
)

topics = Table(
    "topics",
    metadata,
    _community(),
    Column("slug", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("position", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("community_id", "slug"),
)

messages = Table(
    "messages",
    metadata,
    _community(),
    Column("key", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("topics", Text, nullable=False),  # JSON array of topic slugs
    Column("locale", Text, nullable=False, server_default="en"),
    _flag("enabled", 1),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # Whom the text speaks to (models.Audience); revision 0007.
    Column("audience", Text, nullable=False, server_default="everyone"),
    # JSON {locale: {text, translated_by, outdated}}; revision 0010.
    Column("translations", Text, nullable=False, server_default="{}"),
    PrimaryKeyConstraint("community_id", "key"),
)

resources = Table(
    "resources",
    metadata,
    _community(),
    Column("key", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    _json_list("contacts"),  # JSON array of {kind, display, e164}
    _json_list("regions"),
    _json_list("topics"),
    _flag("crisis_service", 0),
    _flag("always_open", 0),
    Column("hours", Text, nullable=False, server_default=""),
    Column("source_url", Text, nullable=False, server_default=""),
    Column("last_verified", Text),
    _flag("needs_review", 0),
    Column("notes_for_mods", Text, nullable=False, server_default=""),
    _flag("enabled", 1),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # Revision 0007: the pack author's order, who it serves, and machine-readable hours.
    Column("rank", Integer, nullable=False, server_default=text("100")),
    Column("audience", Text, nullable=False, server_default="everyone"),
    Column("age_min", Integer),
    Column("age_max", Integer),
    Column("opening_hours", Text, nullable=False, server_default=""),
    Column("timezone", Text, nullable=False, server_default=""),
    # JSON {locale: {description, title, hours, translated_by, outdated}}; revision 0010.
    Column("translations", Text, nullable=False, server_default="{}"),
    PrimaryKeyConstraint("community_id", "key"),
)

emergency_numbers = Table(
    "emergency_numbers",
    metadata,
    _community(),
    Column("region", Text, nullable=False),
    Column("number", Text, nullable=False),
    _flag("needs_review", 0),
    PrimaryKeyConstraint("community_id", "region"),
)

# Moderator accountability: who changed what, with the item before and after.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _community(),
    Column("actor_id", Text, nullable=False),
    Column("actor_name", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False),
    Column("item_kind", Text, nullable=False),
    Column("item_key", Text, nullable=False),
    Column("before_json", Text),
    Column("after_json", Text),
    Column("at", Text, nullable=False),
    _flag("undone", 0),
    Index("audit_log_item", "community_id", "item_kind", "item_key", "id"),
    # Ids are never reused on SQLite either: an undo names the entry it reverts by id.
    sqlite_autoincrement=True,
)

# Message rotation per community and topic (never per person): keys shown this round.
rotation_state = Table(
    "rotation_state",
    metadata,
    _community(),
    Column("topic", Text, nullable=False),
    _json_list("shown_keys"),
    PrimaryKeyConstraint("community_id", "topic"),
)

# Usage as an aggregate per community, topic and day only.
usage_daily = Table(
    "usage_daily",
    metadata,
    _community(),
    Column("topic", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("count", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("community_id", "topic", "day"),
)

# Reports on resources by the people shown them: a count per community, resource key, kind
# and day only (no reporter, no finer time; bot/core/content/reports.py).
resource_reports = Table(
    "resource_reports",
    metadata,
    _community(),
    Column("resource_key", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("count", Integer, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("community_id", "resource_key", "kind", "day"),
)

# The resource and kind pairs whose reports the log channel was told about (once each).
resource_report_notices = Table(
    "resource_report_notices",
    metadata,
    _community(),
    Column("resource_key", Text, nullable=False),
    Column("kind", Text, nullable=False),
    PrimaryKeyConstraint("community_id", "resource_key", "kind"),
)

# The moderator dashboard (bot/core/dashboard.py): one-time sign-in links and browser
# sessions, each only as the SHA-256 of its secret, bound to one moderator and community.
dashboard_links = Table(
    "dashboard_links",
    metadata,
    Column("token_hash", Text, primary_key=True),
    _community(),
    Column("actor_id", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    _flag("used", 0),
)

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("session_hash", Text, primary_key=True),
    _community(),
    Column("actor_id", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# The contact line (bot/core/contact/): a request to the moderators holds nothing about an
# anonymous sender; only "as myself" fills sender_id/sender_name. token_hash is SHA-256 of the
# key only the person holds; closed_on, a day, is the only date (for the retention purge).
contact_settings = Table(
    "contact_settings",
    metadata,
    Column(
        "community_id",
        Text,
        ForeignKey("communities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("inbox_channel_id", Text),
    _flag("struggling_enabled", 0),
    Column("next_number", Integer, nullable=False, server_default=text("1")),
)

contact_requests = Table(
    "contact_requests",
    metadata,
    _community(),
    Column("number", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("token_hash", Text),
    Column("sender_id", Text),
    Column("sender_name", Text),
    Column("inbox_channel_id", Text),
    Column("inbox_message_id", Text),
    Column("closed_on", Text),
    PrimaryKeyConstraint("community_id", "number"),
    Index("contact_requests_token", "token_hash", unique=True),
)

# A request's thread in order; a moderator's line keeps their display name, a person's nothing.
contact_lines = Table(
    "contact_lines",
    metadata,
    _community(),
    Column("number", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    _flag("from_person", 0),
    Column("text", Text, nullable=False),
    Column("moderator_name", Text, nullable=False, server_default=""),
    PrimaryKeyConstraint("community_id", "number", "seq"),
)

# Blocked senders as HMAC(contact key, community + user): the key is never in the database.
contact_blocks = Table(
    "contact_blocks",
    metadata,
    _community(),
    Column("tag", Text, nullable=False),
    Column("until", Text, nullable=False),
    PrimaryKeyConstraint("community_id", "tag"),
)

# What moderators did with requests: who, what, which request, which day; never the sender.
contact_audit = Table(
    "contact_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _community(),
    Column("number", Integer, nullable=False),
    Column("actor_id", Text, nullable=False),
    Column("actor_name", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False),
    Column("day", Text, nullable=False),
    Index("contact_audit_by_community", "community_id", "id"),
    sqlite_autoincrement=True,
)

# Small process-wide facts, e.g. the hash of the last synced Discord command tree.
meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    _community(),
    Column("platform", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("channel_label", Text, nullable=False, server_default=""),
    Column("topic", Text),
    Column("message_key", Text),
    Column("when_text", Text, nullable=False),  # the canonical `when` (core/scheduling)
    Column("timezone", Text, nullable=False),  # IANA name
    _flag("one_shot", 0),
    Column("next_run_at", BigInteger),  # epoch seconds of the next slot; NULL when finished
    Column("grace_seconds", Integer, nullable=False),
    _flag("paused", 0),
    Column("paused_reason", Text),
    Column("created_by", Text, nullable=False),  # the moderator's platform id (audited)
    Column("created_at", BigInteger, nullable=False),
    Column("last_outcome", Text),
    Column("last_outcome_at", BigInteger),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # The scheduler's only hot query, "what is due next", reads this index and nothing else.
    Index(
        "schedules_due",
        "next_run_at",
        sqlite_where=text("paused = 0 AND next_run_at IS NOT NULL"),
        postgresql_where=text("paused = 0 AND next_run_at IS NOT NULL"),
    ),
    Index("schedules_by_community", "community_id", "id"),
)

# One row per slot. The primary key is the slot key: claiming inserts it, so a slot can be
# claimed, and therefore posted, at most once.
schedule_slots = Table(
    "schedule_slots",
    metadata,
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("slot_at", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text),  # why it was missed, failed or is unknown
    Column("lease_owner", Text),  # the scheduler process that claimed it
    Column("lease_until", BigInteger),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("message_id", Text),
    Column("updated_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("schedule_id", "slot_at"),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in SLOT_STATUSES) + ")",
        name="schedule_slots_status",
    ),
    Index(
        "schedule_slots_claimed",
        "lease_until",
        sqlite_where=text("status = 'claimed'"),
        postgresql_where=text("status = 'claimed'"),
    ),
    sqlite_with_rowid=False,
)

# At most one scheduler per database and scope: the holder renews `expires_at` with a
# heartbeat; another process may take the row over only once it has expired.
scheduler_lease = Table(
    "scheduler_lease",
    metadata,
    Column("name", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("expires_at", Float, nullable=False),  # epoch seconds
    Column("heartbeat", Float, nullable=False),  # epoch seconds of the last renewal
)

# Discord's IDENTIFY rule across processes: a bucket's row says which process identifies now
# and until when no other shard of the bucket may (bot/storage/identify_gate.py).
identify_buckets = Table(
    "identify_buckets",
    metadata,
    Column("bucket", Integer, primary_key=True, autoincrement=False),
    Column("owner", Text, nullable=False),
    Column("held_until", Float, nullable=False),  # epoch seconds
)

# The change feed's ledger (bot/storage/changes.py): one row per community whose content or
# settings ever changed, with the database-wide revision of its newest change. Bumped in the
# same transaction as the change, so another process that reads revisions newer than the last
# it saw learns exactly which communities to reload. No foreign key: a purged community keeps
# its row (the purge is a change too), so the newest revision never goes backwards.
community_revisions = Table(
    "community_revisions",
    metadata,
    Column("community_id", Text, primary_key=True),
    Column("revision", BigInteger, nullable=False),
    Index("community_revisions_by_revision", "revision"),
)

# Slack for many workspaces: the tables of slack-sdk's SQLAlchemy installation and OAuth state
# stores, taken from the stores' own metadata builders so that what the stores query is what
# migration 0006 created (the schema test compares them).
slack_installations = AsyncSQLAlchemyInstallationStore.build_installations_table(
    metadata, AsyncSQLAlchemyInstallationStore.default_installations_table_name
)
slack_bots = AsyncSQLAlchemyInstallationStore.build_bots_table(
    metadata, AsyncSQLAlchemyInstallationStore.default_bots_table_name
)
slack_oauth_states = AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(
    metadata, AsyncSQLAlchemyOAuthStateStore.default_table_name
)

# Platform events already taken on, by the platform's own event id (Slack's event_id), shared
# by every process: a redelivery of a handled event is acknowledged and ignored. `done` is 0
# while the first delivery is being handled (see bot/storage/event_ledger.py); rows are
# pruned after a day, long past Slack's last retry.
handled_events = Table(
    "handled_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("claimed_at", BigInteger, nullable=False),  # epoch seconds
    _flag("done", 0),
    Index("handled_events_claimed_at", "claimed_at"),
)

# ---- content in layers (revision 0008) ------------------------------------------------------
# The shipped layer: the default pack of this Haven version, stored once for every community.
# Each shipped table has exactly the columns of the community table it mirrors (built from it
# here, so a column added to `resources` is one line, not two), with `community_id` always
# SHIPPED_LAYER and no foreign key. Same shape, so one statement and one row reader serve both.
SHIPPED_LAYER = "haven:shipped"


def _shipped_copy(table: Table) -> Table:
    columns = [
        Column(
            column.name,
            column.type,
            nullable=column.nullable,
            server_default=column.server_default.arg  # type: ignore[attr-defined]
            if column.server_default is not None
            else None,
        )
        for column in table.columns
    ]
    return Table(
        f"shipped_{table.name}",
        metadata,
        *columns,
        PrimaryKeyConstraint(*(column.name for column in table.primary_key.columns)),
    )


shipped_topics = _shipped_copy(topics)
shipped_messages = _shipped_copy(messages)
shipped_resources = _shipped_copy(resources)
shipped_emergency_numbers = _shipped_copy(emergency_numbers)

# A community's own layer beside its own copies (rows of messages/resources): what it did to a
# shipped item. `state` is 'edited' (its own copy is in messages/resources; `based_on` is the
# shipped version it started from, NULL when it predates layers), 'hidden' (no copy: the
# shipped item, not shown) or 'inherited' (no copy: the shipped item as it is, at the
# community's own `version`, so undo and "changed since you opened it" keep working after a
# moderator reverted to Haven's version); either may carry the moderators' confirmation
# (`confirmed_on`). An item with no row here is inherited as shipped,
# or is the community's own addition when no shipped item has its key.
library_layer = Table(
    "library_layer",
    metadata,
    _community(),
    Column("item_kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("based_on", Integer),
    # A moderator confirmed the shipped resource as it is (no longer needs review, verified
    # on this ISO date); dropped when Haven ships a new version of it.
    Column("confirmed_on", Text),
    PrimaryKeyConstraint("community_id", "item_kind", "key"),
    CheckConstraint("state IN ('edited', 'hidden', 'inherited')", name="library_layer_state"),
)

# A shipped item changed or retired while the community kept its own copy: the moderators
# decide (keep theirs or take Haven's). `after_json` NULL: Haven retired the item.
layer_reviews = Table(
    "layer_reviews",
    metadata,
    _community(),
    Column("item_kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("release", Text, nullable=False),
    Column("before_json", Text, nullable=False),
    Column("after_json", Text),
    PrimaryKeyConstraint("community_id", "item_kind", "key"),
)

# What a release changed, to tell each community's log channel once: queued by the upgrade,
# marked sent by whichever process delivered it.
layer_notices = Table(
    "layer_notices",
    metadata,
    _community(),
    Column("release", Text, nullable=False),
    Column("summary", Text, nullable=False),
    _flag("sent", 0),
    PrimaryKeyConstraint("community_id", "release"),
)
