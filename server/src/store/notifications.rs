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
