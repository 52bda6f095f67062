-- A slot may end `unknown`: the platform failed after it may have created the post (a 5xx or
-- a timeout) and the window in which a retry with the same key is safe ran out, so Haven does
-- not know whether the post is in the channel and never sends it again blindly.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same columns,
-- rows and index. Nothing references schedule_slots, so dropping the old table is safe.

CREATE TABLE schedule_slots_new (
    schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    slot_at INTEGER NOT NULL,            -- epoch seconds UTC of the slot's instant
    status TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'missed', 'failed', 'unknown')),
    reason TEXT,                         -- why it was missed, failed or is unknown
    lease_owner TEXT,                    -- the scheduler process that claimed it
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (schedule_id, slot_at)
) WITHOUT ROWID;
INSERT INTO schedule_slots_new
    (schedule_id, slot_at, status, reason, lease_owner, lease_until, attempts, message_id,
     updated_at)
SELECT schedule_id, slot_at, status, reason, lease_owner, lease_until, attempts, message_id,
       updated_at
FROM schedule_slots;
DROP TABLE schedule_slots;
ALTER TABLE schedule_slots_new RENAME TO schedule_slots;
CREATE INDEX schedule_slots_claimed ON schedule_slots (lease_until) WHERE status = 'claimed';
