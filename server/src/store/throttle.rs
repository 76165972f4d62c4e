//! Failed sign-in counters, shared by every instance through the database.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::login_attempts;

/// Counting policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed within the window before locking.
    pub max_failures: i32,
    /// The window and the lock's length.
    pub lock: Duration,
}

/// If the key is locked at `now`, the seconds left.
pub fn locked_for(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> QueryResult<Option<i64>> {
    let locked: Option<Option<NaiveDateTime>> = login_attempts::table
        .find(key)
        .select(login_attempts::locked_until)
        .first(conn)
        .optional()?;
    Ok(locked
        .flatten()
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1)))
}

/// Count one failure; lock the key when the policy's limit is reached within the window.
/// Update-then-insert instead of an upsert so the same code runs on both backends; a lost
/// insert race only drops one count, which is harmless for throttling.
pub fn record_failure(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    policy: Policy,
) -> QueryResult<()> {
    let row: Option<(i32, NaiveDateTime)> = login_attempts::table
        .find(key)
        .select((login_attempts::failures, login_attempts::first_failure_at))
        .first(conn)
        .optional()?;
    let (failures, first) = match row {
        Some((n, first)) if now - first <= policy.lock => (n + 1, first),
        _ => (1, now),
    };
    let locked_until = (failures >= policy.max_failures).then(|| now + policy.lock);
    let updated = diesel::update(login_attempts::table.find(key))
        .set((
            login_attempts::failures.eq(failures),
            login_attempts::first_failure_at.eq(first),
            login_attempts::locked_until.eq(locked_until),
        ))
        .execute(conn)?;
    if updated == 0 {
        let inserted = diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::key.eq(key),
                login_attempts::failures.eq(failures),
                login_attempts::first_failure_at.eq(first),
                login_attempts::locked_until.eq(locked_until),
            ))
            .execute(conn);
        match inserted {
            Err(e) if !crate::db::is_unique_violation(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Forget a key's failures (after a successful sign-in).
pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(login_attempts::table.find(key))
        .execute(conn)
        .map(|_| ())
}
