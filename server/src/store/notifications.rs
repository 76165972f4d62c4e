//! Notifications to people (deadline warnings, escalations).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::notifications;

/// One notification as shown to its recipient.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    /// Id.
    pub id: String,
    /// `deadline_warning`, `overdue` (handling clock), `ack_warning`, `ack_overdue`
    /// (acknowledgement clock) or `escalated` (督办 by the duty chief).
    pub kind: String,
    /// Task concerned.
    pub task_id: Option<String>,
    /// Text (Chinese first).
    pub message: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// When its recipient marked it read.
    pub read_at: Option<NaiveDateTime>,
}

/// A user's newest notifications.
pub fn for_user(conn: &mut DbConn, user_id: &str, limit: i64) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::created_at.desc())
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Mark a user's notifications read: those named in `ids`, or all when `ids` is `None`.
/// Returns how many changed (already-read ones keep their time).
pub fn mark_read(
    conn: &mut DbConn,
    user_id: &str,
    ids: Option<&[String]>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let unread = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null());
    match ids {
        Some(ids) => diesel::update(unread.filter(notifications::id.eq_any(ids)))
            .set(notifications::read_at.eq(now))
            .execute(conn),
        None => diesel::update(unread)
            .set(notifications::read_at.eq(now))
            .execute(conn),
    }
}
