-- Resumable uploads (tus) and the evidence records they become.
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    attachment_id TEXT NOT NULL UNIQUE,
    owner_id      TEXT NOT NULL REFERENCES users (id),
    length        BIGINT NOT NULL CHECK (length >= 0),
    "offset"      BIGINT NOT NULL CHECK ("offset" >= 0 AND "offset" <= length),
    metadata      TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('receiving', 'completed', 'rejected', 'terminated', 'expired')),
    error_code    TEXT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    lock_token    TEXT,
    locked_until  TIMESTAMP
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_expiry ON uploads (state, expires_at);

-- 证据 evidence: one row per accepted file; the original is immutable in storage.
CREATE TABLE attachments (
    id                TEXT PRIMARY KEY,
    owner_id          TEXT NOT NULL REFERENCES users (id),
    kind              TEXT NOT NULL CHECK (kind IN ('photo', 'video', 'audio')),
    media_type        TEXT NOT NULL,
    size              BIGINT NOT NULL,
    sha256            TEXT NOT NULL,
    filename          TEXT,
    device_model      TEXT,
    captured_at       TIMESTAMP,
    exif_captured_at  TIMESTAMP,
    received_at       TIMESTAMP NOT NULL,
    reported_lat      DOUBLE,
    reported_lon      DOUBLE,
    exif_lat          DOUBLE,
    exif_lon          DOUBLE,
    position_gap_m    DOUBLE,
    position_mismatch BOOLEAN NOT NULL DEFAULT 0,
    width             INTEGER,
    height            INTEGER,
    duration_ms       BIGINT,
    phash             TEXT,
    similar_to        TEXT,
    proves            TEXT,
    original_key      TEXT NOT NULL,
    thumbnail_key     TEXT,
    display_key       TEXT,
    details           TEXT NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner_id);
CREATE INDEX attachments_sha256 ON attachments (sha256);
