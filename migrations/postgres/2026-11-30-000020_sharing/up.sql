-- Sharing with other systems (docs/integration.md): requests filed through the Open311
-- intake, webhook subscriptions and their delivery log.

-- A report filed through Open311 GeoReport v2: its service_request_id is the report id.
CREATE TABLE open311_requests (
    report_id  TEXT PRIMARY KEY NOT NULL,
    client     TEXT NOT NULL,
    account_id TEXT,
    device_id  TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX open311_requests_created ON open311_requests (created_at);

-- Where events are sent. `kinds` is a JSON array of command names (empty: every event);
-- `cursor_seq` is the last record of the command log already turned into deliveries.
CREATE TABLE webhook_subscriptions (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    kinds         TEXT NOT NULL,
    department_id TEXT,
    active        BOOLEAN NOT NULL,
    cursor_seq    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- One event for one subscription: pending until the receiver answers 2xx (delivered) or the
-- attempts run out (failed). A lease keeps two instances from sending it at once.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    UNIQUE (subscription_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    http_status INTEGER,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- Information a department shares with the brigade (seed 000 三(三)): licences, filings,
-- confirmations, regulations, discretion standards, inspection records, briefings. Shown on a
-- report when it concerns the same party or place.
CREATE TABLE shared_items (
    id            TEXT PRIMARY KEY NOT NULL,
    department_id TEXT NOT NULL,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    number        TEXT,
    party_name    TEXT,
    credit_code   TEXT,
    address       TEXT,
    lat           DOUBLE PRECISION,
    lon           DOUBLE PRECISION,
    valid_from    TEXT,
    valid_until   TEXT,
    content       TEXT NOT NULL,
    source        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX shared_items_department ON shared_items (department_id, created_at);
CREATE INDEX shared_items_party ON shared_items (party_name);
CREATE INDEX shared_items_credit ON shared_items (credit_code);

-- The brigade's decision on a case goes to each department it concerns within
-- `[sharing] decision_notice_days` (seed 000: 5 days): delivered when a webhook of that
-- department acknowledged the decision, or its liaison confirmed receipt.
CREATE TABLE decision_notices (
    id            TEXT PRIMARY KEY NOT NULL,
    case_id       TEXT NOT NULL,
    department_id TEXT NOT NULL,
    decided_at    TIMESTAMP NOT NULL,
    due_at        TIMESTAMP NOT NULL,
    delivered_at  TIMESTAMP,
    delivered_via TEXT,
    flagged_at    TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (case_id, department_id)
);
CREATE INDEX decision_notices_open ON decision_notices (delivered_at, due_at);
