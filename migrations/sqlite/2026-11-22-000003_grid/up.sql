-- 网格 grid: versioned cell boundaries, the people attached to cells, squads and their cells.

-- One row per import; exactly one is current (partial unique index). Old versions are kept:
-- a report keeps the cell code and the version it was filed under.
CREATE TABLE grid_versions (
    version     BIGINT PRIMARY KEY,
    imported_at TIMESTAMP NOT NULL,
    imported_by TEXT,
    source      TEXT NOT NULL,
    town_count  INTEGER NOT NULL,
    cell_count  INTEGER NOT NULL,
    is_current  BOOLEAN NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX grid_versions_one_current ON grid_versions (is_current) WHERE is_current;

-- Cells of every version; boundaries as GeoJSON geometry text (WGS-84), plus the bounding box.
CREATE TABLE cells (
    version     BIGINT NOT NULL REFERENCES grid_versions (version) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('town', 'area', 'village')),
    parent_code TEXT,
    geometry    TEXT NOT NULL,
    min_lon     DOUBLE NOT NULL,
    min_lat     DOUBLE NOT NULL,
    max_lon     DOUBLE NOT NULL,
    max_lat     DOUBLE NOT NULL,
    PRIMARY KEY (version, code)
);
CREATE INDEX cells_parent ON cells (version, parent_code);
CREATE INDEX cells_level ON cells (version, level);

-- 网格长 / 网格员 per cell (any level). Keyed by code, not version: people stay with a cell
-- whose boundary is redrawn.
CREATE TABLE cell_members (
    cell_code   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('grid_leader', 'grid_member')),
    assigned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cell_code, user_id)
);
CREATE INDEX cell_members_user ON cell_members (user_id);

-- 执法中队 squads, split by domain and by area (分片).
CREATE TABLE squads (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    domain     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE squad_cells (
    squad_id  TEXT NOT NULL REFERENCES squads (id) ON DELETE CASCADE,
    cell_code TEXT NOT NULL,
    PRIMARY KEY (squad_id, cell_code)
);
CREATE INDEX squad_cells_cell ON squad_cells (cell_code);
