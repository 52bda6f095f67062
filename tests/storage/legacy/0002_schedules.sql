-- Scheduled posts: schedules, the slots they produced (the durable record of every run), and
-- the lease row that lets exactly one process run the scheduler on this database.

CREATE TABLE schedules (
    id INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    channel_label TEXT NOT NULL DEFAULT '',
    topic TEXT,
    message_key TEXT,
    when_text TEXT NOT NULL,             -- the canonical `when` (bot/core/scheduling/recurrence.py)
    timezone TEXT NOT NULL,              -- IANA name
    one_shot INTEGER NOT NULL DEFAULT 0,
    next_run_at INTEGER,                 -- epoch seconds UTC of the next slot; NULL when finished
    grace_seconds INTEGER NOT NULL,      -- a slot may be posted at most this long after its instant
    paused INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT,
    created_by TEXT NOT NULL,            -- the moderator's platform id (moderators are audited)
    created_at INTEGER NOT NULL,         -- epoch seconds when a moderator added it
    last_outcome TEXT,
    last_outcome_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1
);
-- The scheduler's only hot query, "what is due next", reads this index and nothing else.
CREATE INDEX schedules_due ON schedules (next_run_at)
    WHERE paused = 0 AND next_run_at IS NOT NULL;
CREATE INDEX schedules_by_community ON schedules (community_id, id);

-- One row per slot. The primary key is the slot key: claiming inserts it, so a slot can be
-- claimed, and therefore posted, at most once.
CREATE TABLE schedule_slots (
    schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    slot_at INTEGER NOT NULL,            -- epoch seconds UTC of the slot's instant
    status TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'missed', 'failed')),
    reason TEXT,                         -- why it was missed or failed
    lease_owner TEXT,                    -- the scheduler process that claimed it
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, slot_at)
) WITHOUT ROWID;
CREATE INDEX schedule_slots_claimed ON schedule_slots (lease_until) WHERE status = 'claimed';

-- At most one scheduler per database: the holder renews `expires_at` with a heartbeat; another
-- process may take the row over only once it has expired.
CREATE TABLE scheduler_lease (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,            -- epoch seconds
    heartbeat REAL NOT NULL              -- epoch seconds of the last renewal
);
