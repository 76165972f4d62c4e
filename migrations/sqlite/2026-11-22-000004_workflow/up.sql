-- The closed loop: categories, squad members, reports, tasks, cases; the command log head,
-- the hash-chained audit record, the change log; counters for document numbers; calendar.

CREATE TABLE categories (
    code              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    domain            TEXT NOT NULL,
    handling          TEXT NOT NULL,
    simple_procedure  BOOLEAN NOT NULL,
    penalty_possible  BOOLEAN NOT NULL,
    legal_basis       TEXT NOT NULL,
    active            BOOLEAN NOT NULL DEFAULT 1
);

CREATE TABLE squad_members (
    squad_id TEXT NOT NULL,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (squad_id, user_id)
);

-- Filterable columns plus the whole aggregate as JSON (`data`), the source of truth.
CREATE TABLE reports (
    id            TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    source        TEXT NOT NULL,
    reporter_id   TEXT NOT NULL,
    category_code TEXT NOT NULL,
    village_code  TEXT,
    area_code     TEXT,
    lat           DOUBLE,
    lon           DOUBLE,
    description   TEXT NOT NULL,
    task_id       TEXT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    data          TEXT NOT NULL
);
CREATE INDEX reports_status ON reports (status, created_at);
CREATE INDEX reports_village ON reports (village_code);

CREATE TABLE tasks (
    id             TEXT PRIMARY KEY,
    report_id      TEXT NOT NULL REFERENCES reports (id),
    squad_id       TEXT NOT NULL,
    status         TEXT NOT NULL,
    village_code   TEXT,
    category_code  TEXT NOT NULL,
    dispatched_at  TIMESTAMP NOT NULL,
    ack_due_at     TIMESTAMP NOT NULL,
    due_at         TIMESTAMP NOT NULL,
    warned_at      TIMESTAMP,
    escalated_at   TIMESTAMP,
    updated_at     TIMESTAMP NOT NULL,
    data           TEXT NOT NULL
);
CREATE INDEX tasks_squad ON tasks (squad_id, status);
CREATE INDEX tasks_due ON tasks (status, due_at);

CREATE TABLE cases (
    id         TEXT PRIMARY KEY,
    number     TEXT UNIQUE,
    status     TEXT NOT NULL,
    task_id    TEXT NOT NULL REFERENCES tasks (id),
    report_id  TEXT NOT NULL REFERENCES reports (id),
    updated_at TIMESTAMP NOT NULL,
    data       TEXT NOT NULL
);

-- One row: the sequence of applied commands and the hash of the last audit record. Every
-- command's transaction starts by updating it, which serialises commands and makes `seq`
-- follow commit order on both backends.
CREATE TABLE command_log_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO command_log_head (id, seq, last_hash) VALUES (1, 0, 'genesis');

-- 执法全过程记录: append-only, each record hashes the previous one.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_lat   DOUBLE,
    actor_lon   DOUBLE,
    command     TEXT NOT NULL,
    report_id   TEXT,
    task_id     TEXT,
    case_id     TEXT,
    payload     TEXT NOT NULL,
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_report ON audit_log (report_id);
CREATE INDEX audit_task ON audit_log (task_id);
CREATE INDEX audit_case ON audit_log (case_id);

-- What changed, in commit order, for live views and phone sync.
CREATE TABLE change_log (
    seq          BIGINT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    village_code TEXT,
    squad_id     TEXT,
    reporter_id  TEXT,
    at           TIMESTAMP NOT NULL,
    PRIMARY KEY (seq, entity_type, entity_id)
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Official calendar exceptions (holiday-cn format): holidays and adjusted working days.
CREATE TABLE calendar_days (
    day        DATE PRIMARY KEY,
    year       INTEGER NOT NULL,
    name       TEXT NOT NULL,
    is_off_day BOOLEAN NOT NULL
);

-- Yellow/red deadline warnings for the people who must act.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    task_id    TEXT,
    message    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
