//! The grid: versions, cells, cell members, squads and the cells they are responsible for.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{cell_members, cells, grid_versions, squad_cells, squads, users};

/// Advisory-lock key serialising grid imports on PostgreSQL ("GRIDIMPT" in ASCII).
const IMPORT_LOCK_KEY: i64 = 0x4752_4944_494D_5054;

/// A row of `grid_versions`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grid_versions)]
pub struct VersionRow {
    /// 1, 2, 3 … in import order.
    pub version: i64,
    /// When it was imported.
    pub imported_at: NaiveDateTime,
    /// User id of the importing admin (`None` from the command line).
    pub imported_by: Option<String>,
    /// File name or other label of the source.
    pub source: String,
    /// Towns in this version.
    pub town_count: i32,
    /// Cells of all levels.
    pub cell_count: i32,
    /// The version lookups use now.
    pub is_current: bool,
}

/// A row of `cells`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cells)]
pub struct CellRow {
    /// Grid version.
    pub version: i64,
    /// Cell code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// `town`, `area` or `village`.
    pub level: String,
    /// Parent code (`None` for a town).
    pub parent_code: Option<String>,
    /// GeoJSON geometry text, WGS-84.
    pub geometry: String,
    /// Bounding box: west.
    pub min_lon: f64,
    /// Bounding box: south.
    pub min_lat: f64,
    /// Bounding box: east.
    pub max_lon: f64,
    /// Bounding box: north.
    pub max_lat: f64,
}

/// A member of a cell with their account.
#[derive(Debug, Clone, Queryable)]
pub struct MemberRow {
    /// Cell code.
    pub cell_code: String,
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// `grid_leader` or `grid_member`.
    pub role: String,
    /// When assigned.
    pub assigned_at: NaiveDateTime,
}

/// A row of `squads`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = squads)]
pub struct SquadRow {
    /// Id (UUIDv7 text).
    pub id: String,
    /// Short unique code, e.g. `squad1`.
    pub code: String,
    /// Name, e.g. `一中队`.
    pub name: String,
    /// Enforcement domain, e.g. `自然资源和城市管理`.
    pub domain: String,
    /// Created.
    pub created_at: NaiveDateTime,
}

/// Start an import inside a transaction: serialise with other imports, retire the current
/// version and return the next version number.
///
/// The `UPDATE` is the first statement so that SQLite takes its write lock before reading the
/// highest version; PostgreSQL additionally takes a transaction advisory lock so that two first
/// imports (no current row to lock yet) cannot pick the same number.
pub fn begin_import(conn: &mut DbConn) -> QueryResult<i64> {
    if let DbConn::Pg(pg) = conn {
        pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({IMPORT_LOCK_KEY})"))?;
    }
    diesel::update(grid_versions::table.filter(grid_versions::is_current.eq(true)))
        .set(grid_versions::is_current.eq(false))
        .execute(conn)?;
    let max: Option<i64> = grid_versions::table
        .select(diesel::dsl::max(grid_versions::version))
        .first(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

/// Insert a version row.
pub fn insert_version(conn: &mut DbConn, row: &VersionRow) -> QueryResult<()> {
    diesel::insert_into(grid_versions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Set a version's town and cell counts (a streamed import knows them only at the end).
pub fn set_version_counts(
    conn: &mut DbConn,
    version: i64,
    town_count: i32,
    cell_count: i32,
) -> QueryResult<()> {
    diesel::update(grid_versions::table.filter(grid_versions::version.eq(version)))
        .set((
            grid_versions::town_count.eq(town_count),
            grid_versions::cell_count.eq(cell_count),
        ))
        .execute(conn)
        .map(drop)
}

/// Insert one cell. Batch inserts do not compile through MultiConnection; one by one inside the
/// import transaction is fast enough (docs/benchmarks.md).
pub fn insert_cell(conn: &mut DbConn, row: &CellRow) -> QueryResult<()> {
    diesel::insert_into(cells::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The current version, if any grid was imported.
pub fn current_version(conn: &mut DbConn) -> QueryResult<Option<VersionRow>> {
    grid_versions::table
        .filter(grid_versions::is_current.eq(true))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}

/// One version.
pub fn find_version(conn: &mut DbConn, version: i64) -> QueryResult<Option<VersionRow>> {
    grid_versions::table
        .find(version)
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}

/// Every version, newest first.
pub fn versions(conn: &mut DbConn) -> QueryResult<Vec<VersionRow>> {
    grid_versions::table
        .order(grid_versions::version.desc())
        .select(VersionRow::as_select())
        .load(conn)
}

/// Cells of a version, optionally of one level and/or one parent, by code.
pub fn cells_of(
    conn: &mut DbConn,
    version: i64,
    level: Option<&str>,
    parent: Option<&str>,
) -> QueryResult<Vec<CellRow>> {
    let mut query = cells::table
        .filter(cells::version.eq(version))
        .select(CellRow::as_select())
        .order(cells::code.asc())
        .into_boxed();
    if let Some(level) = level {
        query = query.filter(cells::level.eq(level.to_owned()));
    }
    if let Some(parent) = parent {
        query = query.filter(cells::parent_code.eq(parent.to_owned()));
    }
    query.load(conn)
}

/// One cell of a version.
pub fn find_cell(conn: &mut DbConn, version: i64, code: &str) -> QueryResult<Option<CellRow>> {
    cells::table
        .find((version, code))
        .select(CellRow::as_select())
        .first(conn)
        .optional()
}

/// Put a user on a cell with a role, replacing an earlier role on the same cell.
pub fn set_member(
    conn: &mut DbConn,
    cell_code: &str,
    user_id: &str,
    role: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    // Delete-then-insert is the portable upsert; callers run it in a transaction.
    remove_member(conn, cell_code, user_id)?;
    diesel::insert_into(cell_members::table)
        .values((
            cell_members::cell_code.eq(cell_code),
            cell_members::user_id.eq(user_id),
            cell_members::role.eq(role),
            cell_members::assigned_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Take a user off a cell; returns whether they were on it.
pub fn remove_member(conn: &mut DbConn, cell_code: &str, user_id: &str) -> QueryResult<bool> {
    let n = diesel::delete(
        cell_members::table
            .filter(cell_members::cell_code.eq(cell_code))
            .filter(cell_members::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// Members of a cell with their accounts, leaders first, then by username.
pub fn members_of(conn: &mut DbConn, cell_code: &str) -> QueryResult<Vec<MemberRow>> {
    cell_members::table
        .inner_join(users::table)
        .filter(cell_members::cell_code.eq(cell_code))
        .order((cell_members::role.asc(), users::username.asc()))
        .select((
            cell_members::cell_code,
            cell_members::user_id,
            users::username,
            users::display_name,
            cell_members::role,
            cell_members::assigned_at,
        ))
        .load(conn)
}

/// The cells of grid `version` a user is a member or leader of: `(code, name, level, role)`,
/// by code.
pub fn cells_of_member(
    conn: &mut DbConn,
    user_id: &str,
    version: i64,
) -> QueryResult<Vec<(String, String, String, String)>> {
    cell_members::table
        .inner_join(
            cells::table.on(cells::code
                .eq(cell_members::cell_code)
                .and(cells::version.eq(version))),
        )
        .filter(cell_members::user_id.eq(user_id))
        .order(cells::code.asc())
        .select((cells::code, cells::name, cells::level, cell_members::role))
        .load(conn)
}

/// Insert a squad.
pub fn insert_squad(conn: &mut DbConn, row: &SquadRow) -> QueryResult<()> {
    diesel::insert_into(squads::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Find a squad by id or code.
pub fn find_squad(conn: &mut DbConn, id_or_code: &str) -> QueryResult<Option<SquadRow>> {
    squads::table
        .filter(squads::id.eq(id_or_code).or(squads::code.eq(id_or_code)))
        .select(SquadRow::as_select())
        .first(conn)
        .optional()
}

/// Every squad, by code.
pub fn list_squads(conn: &mut DbConn) -> QueryResult<Vec<SquadRow>> {
    squads::table
        .order(squads::code.asc())
        .select(SquadRow::as_select())
        .load(conn)
}

/// Cell codes a squad is responsible for, sorted.
pub fn squad_cell_codes(conn: &mut DbConn, squad_id: &str) -> QueryResult<Vec<String>> {
    squad_cells::table
        .filter(squad_cells::squad_id.eq(squad_id))
        .order(squad_cells::cell_code.asc())
        .select(squad_cells::cell_code)
        .load(conn)
}

/// Every (squad id, cell code) pair.
pub fn all_squad_cells(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    squad_cells::table
        .order((squad_cells::squad_id.asc(), squad_cells::cell_code.asc()))
        .select((squad_cells::squad_id, squad_cells::cell_code))
        .load(conn)
}

/// Squads responsible for a cell, by code.
pub fn squads_of_cell(conn: &mut DbConn, cell_code: &str) -> QueryResult<Vec<SquadRow>> {
    squads::table
        .inner_join(squad_cells::table)
        .filter(squad_cells::cell_code.eq(cell_code))
        .order(squads::code.asc())
        .select(SquadRow::as_select())
        .load(conn)
}

/// Make a squad responsible for a cell (idempotent); returns whether it was new.
pub fn add_squad_cell(conn: &mut DbConn, squad_id: &str, cell_code: &str) -> QueryResult<bool> {
    let exists = squad_cells::table
        .find((squad_id, cell_code))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(squad_cells::table)
        .values((
            squad_cells::squad_id.eq(squad_id),
            squad_cells::cell_code.eq(cell_code),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Remove a squad's responsibility for a cell; returns whether it had it.
pub fn remove_squad_cell(conn: &mut DbConn, squad_id: &str, cell_code: &str) -> QueryResult<bool> {
    let n = diesel::delete(squad_cells::table.find((squad_id, cell_code))).execute(conn)?;
    Ok(n > 0)
}
