-- Photos are acknowledged once the original is durable, hashed and recorded; their display
-- copy, thumbnail and perceptual hash are made afterwards by a job queue. `derive_state` says
-- where that is: `pending`, `done` or `failed` (with `derive_error`, a stable code); NULL for
-- evidence with nothing to make (video, audio, HEIF) and for photos recorded before this.
ALTER TABLE attachments ADD COLUMN derive_state TEXT;
ALTER TABLE attachments ADD COLUMN derive_error TEXT;

-- One row per photo whose copies are still to be made; removed when they are made or the
-- photo is marked failed. A worker claims a row with a lease (a conditional update), so each
-- job runs once across instances, and a crashed worker's job is taken again once its lease
-- has expired.
CREATE TABLE photo_jobs (
    attachment_id   TEXT PRIMARY KEY NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX photo_jobs_due ON photo_jobs (next_attempt_at);
