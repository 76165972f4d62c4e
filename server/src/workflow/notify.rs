//! Notifications (`GET /api/v1/me/notifications`): who is told when a deadline flag or a
//! 督办 by hand is raised. Written in the command's transaction or right after the flag.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;
use griddispatch_protocol::command::Command;

use crate::db::DbConn;
use crate::domain::workflow::{Change, Facts};
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

/// Tell the people concerned by an applied command, if it is one that tells anyone: a 督办 by
/// hand goes to the task's squad leaders and the cell's grid leaders.
pub fn after_command(
    conn: &mut DbConn,
    cmd: &Command,
    change: &Change,
    facts: &Facts,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Command::EscalateTask { reason, .. } = cmd else {
        return Ok(());
    };
    let Some(task) = &change.task else {
        return Ok(());
    };
    let mut users = super::scope::squad_leaders(conn, &task.squad_id)?;
    if let Some(c) = facts.report.as_ref().and_then(|r| r.cell.clone()) {
        users.extend(grid_leaders(conn, (c.village, c.area, c.town))?);
    }
    users.sort();
    users.dedup();
    let message = format!(
        "督办：值班长督办任务 {}：{reason} (escalated by the duty chief)",
        task.id
    );
    for user in users {
        send(conn, &user, "escalated", &task.id, &message, now)?;
    }
    Ok(())
}
