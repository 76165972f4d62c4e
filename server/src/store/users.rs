//! Users and their roles.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use griddispatch_protocol::Role;

use crate::db::DbConn;
use crate::schema::{squad_members, user_roles, users};

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Id (UUIDv7 text).
    pub id: String,
    /// Normalised username.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// argon2 PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot sign in or use tokens.
    pub disabled: bool,
    /// Enforcement certificate number.
    pub cert_number: Option<String>,
    /// Last valid day of the certificate.
    pub cert_valid_until: Option<NaiveDate>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// Values for a new user.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    /// Id.
    pub id: &'a str,
    /// Normalised username.
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// argon2 hash.
    pub password_hash: &'a str,
    /// Initially disabled?
    pub disabled: bool,
    /// Certificate number.
    pub cert_number: Option<&'a str>,
    /// Certificate validity.
    pub cert_valid_until: Option<NaiveDate>,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub updated_at: NaiveDateTime,
}

/// A user with their roles.
#[derive(Debug, Clone)]
pub struct UserWithRoles {
    /// The row.
    pub user: UserRow,
    /// Roles, sorted.
    pub roles: Vec<Role>,
}

/// Insert a user and their roles (call inside a transaction).
pub fn insert(conn: &mut DbConn, new: &NewUserRow<'_>, roles: &[Role]) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    // Batch inserts do not compile through MultiConnection; a handful of rows one by one is fine.
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(new.id),
                user_roles::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Find by normalised username.
pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Find by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Roles of one user, sorted. Unknown role names (impossible given the CHECK constraint)
/// are skipped rather than trusted.
pub fn roles_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<Role>> {
    let names: Vec<String> = user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role)
        .load(conn)?;
    let mut roles: Vec<Role> = names.iter().filter_map(|n| n.parse().ok()).collect();
    roles.sort();
    Ok(roles)
}

/// Every user with roles, ordered by username.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<UserWithRoles>> {
    let rows: Vec<UserRow> = users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    let pairs: Vec<(String, String)> = user_roles::table
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|user| {
            let mut roles: Vec<Role> = pairs
                .iter()
                .filter(|(uid, _)| *uid == user.id)
                .filter_map(|(_, r)| r.parse().ok())
                .collect();
            roles.sort();
            UserWithRoles { user, roles }
        })
        .collect())
}

/// Display names of the given user ids (unknown ids are left out).
pub fn display_names(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Members of a squad with their roles, ordered by display name.
pub fn squad_members(conn: &mut DbConn, squad_id: &str) -> QueryResult<Vec<UserWithRoles>> {
    let member_ids: Vec<String> = squad_members::table
        .filter(squad_members::squad_id.eq(squad_id))
        .select(squad_members::user_id)
        .load(conn)?;
    let rows: Vec<UserRow> = users::table
        .filter(users::id.eq_any(&member_ids))
        .order((users::display_name.asc(), users::username.asc()))
        .select(UserRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|u| u.id.as_str()).collect();
    let pairs: Vec<(String, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|user| {
            let mut roles: Vec<Role> = pairs
                .iter()
                .filter(|(uid, _)| *uid == user.id)
                .filter_map(|(_, r)| r.parse().ok())
                .collect();
            roles.sort();
            UserWithRoles { user, roles }
        })
        .collect())
}

/// Set or clear an account's enforcement certificate; returns whether a row changed.
pub fn set_certificate(
    conn: &mut DbConn,
    id: &str,
    number: Option<&str>,
    valid_until: Option<chrono::NaiveDate>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set((
            users::cert_number.eq(number),
            users::cert_valid_until.eq(valid_until),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Enable or disable an account; returns whether a row changed.
pub fn set_disabled(
    conn: &mut DbConn,
    id: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replace an account's roles (call inside a transaction).
pub fn set_roles(
    conn: &mut DbConn,
    id: &str,
    roles: &[Role],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id))).execute(conn)?;
    for role in roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(id),
                user_roles::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    diesel::update(users::table.find(id))
        .set(users::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Replace an account's password hash.
pub fn set_password_hash(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// How many enabled accounts hold `role`.
pub fn count_enabled_with_role(conn: &mut DbConn, role: Role) -> QueryResult<i64> {
    users::table
        .inner_join(user_roles::table.on(user_roles::user_id.eq(users::id)))
        .filter(user_roles::role.eq(role.as_str()))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}
