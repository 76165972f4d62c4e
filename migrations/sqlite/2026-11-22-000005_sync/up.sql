-- Offline-first sync (docs/sync-protocol.md): the scope an entity left, indexes for scoped
-- pulls and retention, per-(user, device) command sequences and their receipts.

ALTER TABLE change_log ADD COLUMN prev_village_code TEXT;
ALTER TABLE change_log ADD COLUMN prev_squad_id TEXT;
CREATE INDEX change_log_village ON change_log (village_code, seq);
CREATE INDEX change_log_squad ON change_log (squad_id, seq);
CREATE INDEX change_log_reporter ON change_log (reporter_id, seq);
CREATE INDEX change_log_at ON change_log (at);

-- The next device_seq expected from each (user, device).
CREATE TABLE sync_devices (
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    next_seq   BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- One receipt per pushed command that was applied or rejected; written in the transaction
-- that applied it (or alone, for a rejection). A replay answers from here.
CREATE TABLE sync_receipts (
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    device_seq  BIGINT NOT NULL,
    status      TEXT NOT NULL,
    command_seq BIGINT,
    code        TEXT,
    message     TEXT,
    command     TEXT NOT NULL,
    -- SHA-256 of the command as received: the same device_seq with another command is refused.
    command_hash TEXT NOT NULL,
    entities    TEXT NOT NULL,
    occurred_at TIMESTAMP,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, device_id, device_seq)
);
