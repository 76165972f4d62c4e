//! Server-wide settings kept in the database (shared by every instance).

use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::settings;

/// Read a setting.
pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()
}

/// Return the stored value, or store `make()` if there is none. When two instances race,
/// the loser's insert fails on the primary key and it reads the winner's value.
pub fn get_or_insert_with(
    conn: &mut DbConn,
    key: &str,
    make: impl FnOnce() -> String,
) -> QueryResult<String> {
    if let Some(v) = get(conn, key)? {
        return Ok(v);
    }
    let value = make();
    let inserted = diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(&value)))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(value),
        Err(e) if crate::db::is_unique_violation(&e) => get(conn, key)?.ok_or(e),
        Err(e) => Err(e),
    }
}
