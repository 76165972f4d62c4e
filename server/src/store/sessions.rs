//! Device sessions holding rotating refresh tokens (stored only as SHA-256 hashes).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::sessions;

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    /// Session id; also the `sid` claim of access tokens.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// The client's device id.
    pub device_id: String,
    /// Hash of the current refresh token.
    pub refresh_hash: String,
    /// Hash of the token it replaced; presenting that one again means the token was stolen.
    pub previous_hash: Option<String>,
    /// Sign-in time.
    pub created_at: NaiveDateTime,
    /// Last refresh.
    pub last_used_at: NaiveDateTime,
    /// When the refresh token stops working.
    pub expires_at: NaiveDateTime,
    /// Set when signed out or revoked.
    pub revoked_at: Option<NaiveDateTime>,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
}

impl SessionRow {
    /// Usable for access and refresh at `now`.
    pub fn is_active(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Values for a new session.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    /// Id.
    pub id: &'a str,
    /// Owner.
    pub user_id: &'a str,
    /// Device.
    pub device_id: &'a str,
    /// Refresh-token hash.
    pub refresh_hash: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub last_used_at: NaiveDateTime,
    /// Expiry.
    pub expires_at: NaiveDateTime,
}

/// Insert a session.
pub fn insert(conn: &mut DbConn, new: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

/// Find a session by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Replace the refresh hash if it is still `old_hash`; false when another request rotated it
/// first (two refreshes with one token: only one wins).
pub fn rotate(
    conn: &mut DbConn,
    id: &str,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::refresh_hash.eq(old_hash))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::refresh_hash.eq(new_hash),
        sessions::previous_hash.eq(Some(old_hash)),
        sessions::last_used_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether the user has signed in on this device before (a device revoked as lost does not
/// count): such a device is spared the account-wide sign-in lock.
pub fn device_known(conn: &mut DbConn, user_id: &str, device_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::device_id.eq(device_id))
            .filter(
                sessions::revoked_reason
                    .is_null()
                    .or(sessions::revoked_reason.ne("device_revoked")),
            ),
    ))
    .get_result(conn)
}

/// Revoke one session (no-op when already revoked).
pub fn revoke(conn: &mut DbConn, id: &str, reason: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(now)),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)
}

/// Revoke every live session of a user on one device; returns how many.
pub fn revoke_device(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    revoke_where(conn, user_id, Some(device_id), reason, now)
}

/// Revoke every live session of a user (account disabled).
pub fn revoke_all(
    conn: &mut DbConn,
    user_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    revoke_where(conn, user_id, None, reason, now)
}

fn revoke_where(
    conn: &mut DbConn,
    user_id: &str,
    device_id: Option<&str>,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut q = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(d) = device_id {
        q = q.filter(sessions::device_id.eq(d));
    }
    q.set((
        sessions::revoked_at.eq(Some(now)),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)
}

/// Live sessions of a user, newest first.
pub fn active_for_user(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}
