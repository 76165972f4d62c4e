//! Resumable uploads in progress (tus). The bytes live in the upload directory; this table
//! holds how many of them are durable, who owns them, and a short lease so that two PATCHes
//! (possibly on two instances) never write one upload at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::uploads;

/// Upload states.
pub mod state {
    /// Bytes are arriving.
    pub const RECEIVING: &str = "receiving";
    /// All bytes arrived and the evidence record exists.
    pub const COMPLETED: &str = "completed";
    /// All bytes arrived but the file was refused (type, hash, corruption …).
    pub const REJECTED: &str = "rejected";
    /// Deleted by its owner (tus termination).
    pub const TERMINATED: &str = "terminated";
    /// Not finished in time; its bytes were removed.
    pub const EXPIRED: &str = "expired";
}

/// A row of `uploads`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = uploads)]
pub struct UploadRow {
    /// Upload id (also the file name in the upload directory).
    pub id: String,
    /// The attachment id the phone chose.
    pub attachment_id: String,
    /// Uploader.
    pub owner_id: String,
    /// Declared total length.
    pub length: i64,
    /// Durable bytes so far.
    #[diesel(column_name = offset_)]
    pub offset: i64,
    /// `Upload-Metadata`, decoded, as JSON text.
    pub metadata: String,
    /// See [`state`].
    pub state: String,
    /// Why it was rejected.
    pub error_code: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Unfinished uploads are removed after this.
    pub expires_at: NaiveDateTime,
    /// Holder of the write lease.
    pub lock_token: Option<String>,
    /// When the lease lapses.
    pub locked_until: Option<NaiveDateTime>,
}

/// Values for a new upload.
#[derive(Debug, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUpload<'a> {
    /// Id.
    pub id: &'a str,
    /// Attachment id.
    pub attachment_id: &'a str,
    /// Uploader.
    pub owner_id: &'a str,
    /// Total length.
    pub length: i64,
    /// Always 0.
    #[diesel(column_name = offset_)]
    pub offset: i64,
    /// Metadata JSON.
    pub metadata: &'a str,
    /// `receiving`.
    pub state: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub updated_at: NaiveDateTime,
    /// Now + TTL.
    pub expires_at: NaiveDateTime,
}

/// Insert.
pub fn insert(conn: &mut DbConn, new: &NewUpload<'_>) -> QueryResult<()> {
    crate::db::write(conn, |conn| {
        diesel::insert_into(uploads::table)
            .values(new)
            .execute(conn)
            .map(|_| ())
    })
}

/// By id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UploadRow>> {
    uploads::table
        .find(id)
        .select(UploadRow::as_select())
        .first(conn)
        .optional()
}

/// By the phone's attachment id.
pub fn find_by_attachment(
    conn: &mut DbConn,
    attachment_id: &str,
) -> QueryResult<Option<UploadRow>> {
    uploads::table
        .filter(uploads::attachment_id.eq(attachment_id))
        .select(UploadRow::as_select())
        .first(conn)
        .optional()
}

/// Forget an upload that ended without evidence (expired or terminated) so that its
/// attachment id can be uploaded afresh; false when its state changed meanwhile.
pub fn forget_ended(conn: &mut DbConn, id: &str, state_was: &str) -> QueryResult<bool> {
    let n = crate::db::write(conn, |conn| {
        diesel::delete(
            uploads::table
                .filter(uploads::id.eq(id))
                .filter(uploads::state.eq(state_was))
                .filter(uploads::state.eq_any([state::EXPIRED, state::TERMINATED])),
        )
        .execute(conn)
    })?;
    Ok(n == 1)
}

/// Take the write lease if nobody holds a live one.
pub fn try_lock(
    conn: &mut DbConn,
    id: &str,
    token: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = crate::db::write(conn, |conn| {
        diesel::update(
            uploads::table.filter(uploads::id.eq(id)).filter(
                uploads::locked_until
                    .is_null()
                    .or(uploads::locked_until.lt(now)),
            ),
        )
        .set((
            uploads::lock_token.eq(Some(token)),
            uploads::locked_until.eq(Some(until)),
        ))
        .execute(conn)
    })?;
    Ok(n == 1)
}

/// Release the lease (only the holder can).
pub fn unlock(conn: &mut DbConn, id: &str, token: &str) -> QueryResult<()> {
    crate::db::write(conn, |conn| {
        diesel::update(
            uploads::table
                .filter(uploads::id.eq(id))
                .filter(uploads::lock_token.eq(token)),
        )
        .set((
            uploads::lock_token.eq(None::<String>),
            uploads::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|_| ())
    })
}

/// Record durable bytes (the lease holder only) and push the expiry out; with `release`,
/// give the lease up in the same statement (a PATCH that did not finish the upload).
pub fn advance(
    conn: &mut DbConn,
    id: &str,
    token: &str,
    offset: i64,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    release: bool,
) -> QueryResult<bool> {
    let target = uploads::table
        .filter(uploads::id.eq(id))
        .filter(uploads::lock_token.eq(token));
    let fields = (
        uploads::offset_.eq(offset),
        uploads::updated_at.eq(now),
        uploads::expires_at.eq(expires_at),
    );
    let n = crate::db::write(conn, |conn| {
        if release {
            diesel::update(target)
                .set((
                    fields,
                    uploads::lock_token.eq(None::<String>),
                    uploads::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)
        } else {
            diesel::update(target).set(fields).execute(conn)
        }
    })?;
    Ok(n == 1)
}

/// Move from `receiving` to another state; false if it was not receiving any more.
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    new_state: &str,
    error_code: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = crate::db::write(conn, |conn| {
        diesel::update(
            uploads::table
                .filter(uploads::id.eq(id))
                .filter(uploads::state.eq(state::RECEIVING)),
        )
        .set((
            uploads::state.eq(new_state),
            uploads::error_code.eq(error_code),
            uploads::updated_at.eq(now),
            uploads::lock_token.eq(None::<String>),
            uploads::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
    })?;
    Ok(n == 1)
}

/// Unfinished uploads whose time is up.
pub fn expired(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    uploads::table
        .filter(uploads::state.eq(state::RECEIVING))
        .filter(uploads::expires_at.lt(now))
        .select(uploads::id)
        .limit(limit)
        .load(conn)
}

/// Uploads with every byte received but no outcome yet (the server stopped mid-processing).
pub fn stranded(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<UploadRow>> {
    uploads::table
        .filter(uploads::state.eq(state::RECEIVING))
        .filter(uploads::offset_.eq(uploads::length))
        .filter(
            uploads::locked_until
                .is_null()
                .or(uploads::locked_until.lt(now)),
        )
        .select(UploadRow::as_select())
        .limit(limit)
        .load(conn)
}
