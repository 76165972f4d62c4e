//! Notifications (`GET /api/v1/me/notifications`): who is told when a deadline flag is
//! raised.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::DbConn;
use crate::schema::notifications;

#[derive(QueryableByName)]
struct UserId {
    #[diesel(sql_type = Text)]
    user_id: String,
}

/// Store one notification for `user`.
pub fn send(
    conn: &mut DbConn,
    user: &str,
    kind: &str,
    task_id: &str,
    message: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(uuid::Uuid::now_v7().to_string()),
            notifications::user_id.eq(user),
            notifications::kind.eq(kind),
            notifications::task_id.eq(Some(task_id)),
            notifications::message.eq(message),
            notifications::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Grid leaders of a village, its area or its town (`(village, area, town)`).
pub fn grid_leaders(conn: &mut DbConn, cell: (String, String, String)) -> QueryResult<Vec<String>> {
    let (v, a, t) = cell;
    let leaders: Vec<UserId> = diesel::sql_query(
        "SELECT user_id FROM cell_members WHERE role = 'grid_leader' AND cell_code IN ($1, $2, $3)",
    )
    .bind::<Text, _>(v)
    .bind::<Text, _>(a)
    .bind::<Text, _>(t)
    .load(conn)?;
    Ok(leaders.into_iter().map(|u| u.user_id).collect())
}
