-- Assistance requests (执法协助): the request lives in its report (`reports.data`); this index
-- lets the addressed department's liaison find it (scoped in SQL) and the deadline job sweep
-- the open ones.
CREATE TABLE assistance_requests (
    id            TEXT PRIMARY KEY,
    report_id     TEXT NOT NULL REFERENCES reports (id),
    department_id TEXT NOT NULL REFERENCES departments (id),
    status        TEXT NOT NULL,
    due_at        TIMESTAMP NOT NULL,
    requested_at  TIMESTAMP NOT NULL
);
CREATE INDEX assistance_requests_department ON assistance_requests (department_id, status);
CREATE INDEX assistance_requests_report ON assistance_requests (report_id);
