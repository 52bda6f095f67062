-- Haven's first schema: communities, their content library, the audit trail, aggregate state.
-- Privacy by design: no table has a column for who asked for support or when.

CREATE TABLE communities (
    id TEXT PRIMARY KEY,                 -- "discord:<guild id>", "slack:<team id>", "console:local"
    platform TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    default_region TEXT,
    default_locale TEXT NOT NULL DEFAULT 'en',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    moderator_role_ids TEXT NOT NULL DEFAULT '[]',
    moderator_user_ids TEXT NOT NULL DEFAULT '[]',
    log_channel_id TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    removed_at TEXT,                     -- when the bot was removed; purge after the grace period
    removed_reason TEXT,                 -- why (schedules paused for it resume on return)
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE topics (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, slug)
);

CREATE TABLE messages (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    text TEXT NOT NULL,
    topics TEXT NOT NULL,                -- JSON array of topic slugs
    locale TEXT NOT NULL DEFAULT 'en',
    enabled INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (community_id, key)
);

CREATE TABLE resources (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contacts TEXT NOT NULL DEFAULT '[]', -- JSON array of {kind, display, e164}
    regions TEXT NOT NULL DEFAULT '[]',
    topics TEXT NOT NULL DEFAULT '[]',
    crisis_service INTEGER NOT NULL DEFAULT 0,
    always_open INTEGER NOT NULL DEFAULT 0,
    hours TEXT NOT NULL DEFAULT '',
    source_url TEXT NOT NULL DEFAULT '',
    last_verified TEXT,
    needs_review INTEGER NOT NULL DEFAULT 0,
    notes_for_mods TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (community_id, key)
);

CREATE TABLE emergency_numbers (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    region TEXT NOT NULL,
    number TEXT NOT NULL,
    needs_review INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, region)
);

-- Moderator accountability: who changed what, with the item before and after.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    item_key TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    at TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_log_item ON audit_log (community_id, item_kind, item_key, id);

-- Message rotation per community and topic (never per person): keys shown this round.
CREATE TABLE rotation_state (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    shown_keys TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (community_id, topic)
);

-- Usage as an aggregate per community, topic and day only.
CREATE TABLE usage_daily (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, topic, day)
);

-- Small process-wide facts, e.g. the hash of the last synced Discord command tree.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
