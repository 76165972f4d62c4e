-- Departments the brigade works with (functional departments, resident agencies, police,
-- procuratorate, court, expert bodies) and the liaison accounts that act for them.
CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('functional', 'resident', 'police',
        'procuratorate', 'court', 'expert')),
    domain      TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- A liaison account acts for exactly one department.
CREATE TABLE department_liaisons (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    department_id TEXT NOT NULL REFERENCES departments (id) ON DELETE CASCADE
);
CREATE INDEX department_liaisons_department ON department_liaisons (department_id);
