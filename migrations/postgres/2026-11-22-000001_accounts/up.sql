-- Accounts, roles, device sessions, login throttling and server settings.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    cert_number      TEXT,
    cert_valid_until DATE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    CHECK ((cert_number IS NULL) = (cert_valid_until IS NULL))
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('grid_member', 'grid_leader', 'dispatcher', 'duty_chief',
        'squad_leader', 'officer', 'legal_reviewer', 'approver', 'department_liaison', 'admin')),
    PRIMARY KEY (user_id, role)
);

-- One row per signed-in device; the refresh token is stored only as a SHA-256 hash.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id      TEXT NOT NULL,
    refresh_hash   TEXT NOT NULL UNIQUE,
    previous_hash  TEXT,
    created_at     TIMESTAMP NOT NULL,
    last_used_at   TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    revoked_at     TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_device ON sessions (user_id, device_id);

-- Failed sign-ins per key (`user:<name>` or `ip:<addr>`), shared by every instance.
CREATE TABLE login_attempts (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    first_failure_at TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP
);
