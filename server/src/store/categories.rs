//! Event categories (CJ/T 214 style two-level codes): domain → squad, handling time, procedure.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::categories;

/// A row of `categories`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Queryable,
    Selectable,
    Insertable,
    AsChangeset,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    /// Four digits: major 2 + minor 2 (e.g. `0101`).
    pub code: String,
    /// Name (中文).
    pub name: String,
    /// Enforcement domain, matched against squads' domains for routing.
    pub domain: String,
    /// Handling time, e.g. `1wd`, `15wd`, `5wh` (see docs/workflow.md).
    pub handling: String,
    /// 简易程序 may apply.
    pub simple_procedure: bool,
    /// May lead to a penalty (two certified officers required).
    pub penalty_possible: bool,
    /// Legal basis text.
    pub legal_basis: String,
    /// Offered for new reports.
    pub active: bool,
}

/// One category.
pub fn find(conn: &mut DbConn, code: &str) -> QueryResult<Option<CategoryRow>> {
    categories::table
        .find(code)
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()
}

/// All categories by code.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<CategoryRow>> {
    categories::table
        .order(categories::code.asc())
        .select(CategoryRow::as_select())
        .load(conn)
}

/// Insert or replace a category.
pub fn put(conn: &mut DbConn, row: &CategoryRow) -> QueryResult<()> {
    let n = diesel::update(categories::table.find(&row.code))
        .set(row)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(categories::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Setting recording that the standard categories were installed (or that the database
/// already had its own): they are offered once, never put back after an admin changes them.
const STANDARD_SEEDED: &str = "standard_categories_seeded";

/// On a new database, install the standard category table (`standard`) once, so a fresh
/// installation takes reports; a database that already has categories keeps them. Returns
/// how many were installed. Run under the migration lock.
pub fn seed_standard(conn: &mut DbConn, standard: &[CategoryRow]) -> QueryResult<usize> {
    if crate::store::settings::get(conn, STANDARD_SEEDED)?.is_some() {
        return Ok(0);
    }
    let mut installed = 0;
    if list(conn)?.is_empty() {
        for c in standard {
            put(conn, c)?;
            installed += 1;
        }
    }
    crate::store::settings::get_or_insert_with(conn, STANDARD_SEEDED, || installed.to_string())?;
    Ok(installed)
}
