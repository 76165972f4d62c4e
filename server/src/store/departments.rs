//! Departments the brigade works with (functional departments, resident agencies, police,
//! procuratorate, court, expert bodies) and their liaison accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{department_liaisons, departments, users};

/// A row of `departments`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    /// Id (UUID).
    pub id: String,
    /// Name, unique (e.g. 县市场监督管理局).
    pub name: String,
    /// `functional`, `resident`, `police`, `procuratorate`, `court` or `expert`.
    pub kind: String,
    /// Field of competence in words (e.g. 食品安全、价格).
    pub domain: String,
    /// Office phone.
    pub phone: String,
    /// Office address.
    pub address: String,
    /// Offered for new transfers and requests.
    pub active: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// A liaison account as listed with its department.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, serde::Serialize, utoipa::ToSchema)]
pub struct LiaisonRow {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
}

/// One department.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<DepartmentRow>> {
    departments::table
        .find(id)
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()
}

/// The department of this name, if any.
pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<DepartmentRow>> {
    departments::table
        .filter(departments::name.eq(name))
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()
}

/// All departments by name.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<DepartmentRow>> {
    departments::table
        .order(departments::name.asc())
        .select(DepartmentRow::as_select())
        .load(conn)
}

/// Insert a department.
pub fn insert(conn: &mut DbConn, row: &DepartmentRow) -> QueryResult<()> {
    diesel::insert_into(departments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Replace a department's fields.
pub fn update(conn: &mut DbConn, row: &DepartmentRow) -> QueryResult<()> {
    diesel::update(departments::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// The liaisons of a department, by username.
pub fn liaisons(conn: &mut DbConn, department_id: &str) -> QueryResult<Vec<LiaisonRow>> {
    department_liaisons::table
        .inner_join(users::table)
        .filter(department_liaisons::department_id.eq(department_id))
        .order(users::username.asc())
        .select((users::id, users::username, users::display_name))
        .load(conn)
}

/// Which department this account acts for, if any.
pub fn department_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<String>> {
    department_liaisons::table
        .find(user_id)
        .select(department_liaisons::department_id)
        .first(conn)
        .optional()
}

/// The user ids of a department's liaisons.
pub fn liaison_ids(conn: &mut DbConn, department_id: &str) -> QueryResult<Vec<String>> {
    department_liaisons::table
        .filter(department_liaisons::department_id.eq(department_id))
        .select(department_liaisons::user_id)
        .load(conn)
}

/// Replace a department's liaisons with `user_ids` (call inside a transaction).
pub fn set_liaisons(
    conn: &mut DbConn,
    department_id: &str,
    user_ids: &[String],
) -> QueryResult<()> {
    diesel::delete(
        department_liaisons::table.filter(department_liaisons::department_id.eq(department_id)),
    )
    .execute(conn)?;
    // Batch inserts do not compile through MultiConnection; a handful of rows one by one.
    for user_id in user_ids {
        diesel::insert_into(department_liaisons::table)
            .values((
                department_liaisons::user_id.eq(user_id),
                department_liaisons::department_id.eq(department_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}
