-- Joint meetings (联席会议): a meeting with its member units, the topics they submit, the
-- minutes the chair issues and each decided item (议定事项) with its owner, deadline and
-- standard, and the progress its owner reports.
CREATE TABLE meetings (
    id                  TEXT PRIMARY KEY,
    title               TEXT NOT NULL,
    scheduled_at        TIMESTAMP NOT NULL,
    place               TEXT NOT NULL DEFAULT '',
    chair_department_id TEXT REFERENCES departments (id),
    minutes             TEXT,
    minutes_issued_at   TIMESTAMP,
    minutes_issued_by   TEXT,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL
);
CREATE INDEX meetings_scheduled ON meetings (scheduled_at);

CREATE TABLE meeting_members (
    meeting_id    TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    department_id TEXT NOT NULL REFERENCES departments (id),
    PRIMARY KEY (meeting_id, department_id)
);

CREATE TABLE meeting_topics (
    id            TEXT PRIMARY KEY,
    meeting_id    TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    department_id TEXT REFERENCES departments (id),
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    submitted_by  TEXT NOT NULL,
    submitted_at  TIMESTAMP NOT NULL
);
CREATE INDEX meeting_topics_meeting ON meeting_topics (meeting_id);

CREATE TABLE meeting_items (
    id                  TEXT PRIMARY KEY,
    meeting_id          TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    title               TEXT NOT NULL,
    owner_department_id TEXT NOT NULL REFERENCES departments (id),
    owner_person        TEXT NOT NULL,
    due_at              TIMESTAMP NOT NULL,
    standard            TEXT NOT NULL,
    result              TEXT,
    closed_at           TIMESTAMP,
    closed_by           TEXT,
    flagged_at          TIMESTAMP,
    created_at          TIMESTAMP NOT NULL
);
CREATE INDEX meeting_items_meeting ON meeting_items (meeting_id);
CREATE INDEX meeting_items_open ON meeting_items (closed_at, due_at);

CREATE TABLE meeting_item_progress (
    id          TEXT PRIMARY KEY,
    item_id     TEXT NOT NULL REFERENCES meeting_items (id) ON DELETE CASCADE,
    note        TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_at TIMESTAMP NOT NULL
);
CREATE INDEX meeting_item_progress_item ON meeting_item_progress (item_id);
