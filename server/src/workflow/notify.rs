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
    task_id: Option<&str>,
    message: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(uuid::Uuid::now_v7().to_string()),
            notifications::user_id.eq(user),
            notifications::kind.eq(kind),
            notifications::task_id.eq(task_id),
            notifications::message.eq(message),
            notifications::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Days before a certificate's last valid day at which its holder and the administrators are
/// warned (seed 003: certificates are reviewed every two years).
pub const CERTIFICATE_WARNING_DAYS: i64 = 30;

/// Warn the holders of enforcement certificates that expire within
/// [`CERTIFICATE_WARNING_DAYS`] (China calendar), and the administrators, once per
/// certificate; returns how many certificates were warned about.
pub fn warn_expiring_certificates(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    use crate::schema::{user_roles, users};
    let today = crate::domain::time::china_date(now);
    let last = today + chrono::Duration::days(CERTIFICATE_WARNING_DAYS);
    let expiring: Vec<(String, String, Option<String>, Option<chrono::NaiveDate>)> = users::table
        .filter(users::disabled.eq(false))
        .filter(users::cert_valid_until.ge(today))
        .filter(users::cert_valid_until.le(last))
        .select((
            users::id,
            users::username,
            users::cert_number,
            users::cert_valid_until,
        ))
        .load(conn)?;
    let admins: Vec<String> = user_roles::table
        .filter(user_roles::role.eq("admin"))
        .select(user_roles::user_id)
        .load(conn)?;
    let mut warned = 0;
    for (id, username, number, until) in expiring {
        let Some(until) = until else { continue };
        // Once per certificate: a renewal moves the day, and with it the window.
        let window_start = (until - chrono::Duration::days(CERTIFICATE_WARNING_DAYS + 1))
            .and_time(chrono::NaiveTime::MIN);
        let already: i64 = notifications::table
            .filter(notifications::user_id.eq(&id))
            .filter(notifications::kind.eq("certificate_expiring"))
            .filter(notifications::created_at.ge(window_start))
            .count()
            .get_result(conn)?;
        if already > 0 {
            continue;
        }
        let number = number.unwrap_or_default();
        let message = format!(
            "执法证 {number}（{username}）将于 {until} 到期，请及时换证 (enforcement certificate {number} of {username} expires on {until}: renew it)"
        );
        let mut to = admins.clone();
        to.push(id.clone());
        to.sort();
        to.dedup();
        for user in to {
            send(conn, &user, "certificate_expiring", None, &message, now)?;
        }
        warned += 1;
    }
    Ok(warned)
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
/// hand goes to the task's squad leaders and the cell's grid leaders; an assistance request to
/// the addressed department's liaisons, its answer or extension to the brigade member who asked.
pub fn after_command(
    conn: &mut DbConn,
    cmd: &Command,
    change: &Change,
    facts: &Facts,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if let Some(r) = &change.report {
        let request = match cmd {
            Command::RequestAssistance { request_id, .. }
            | Command::ExtendAssistance { request_id, .. }
            | Command::AnswerAssistance { request_id, .. } => {
                r.assistance.iter().find(|a| &a.id == request_id)
            }
            _ => None,
        };
        if let Some(a) = request {
            let what = format!("协助函 {}（{}）", a.letter_number, a.kind.label_zh());
            let (to, kind, message) = match cmd {
                Command::RequestAssistance { .. } => (
                    crate::store::departments::liaison_ids(conn, &a.department_id)?,
                    "assistance_requested",
                    format!(
                        "收到{what}，请在期限内书面答复 (an assistance request awaits your answer)"
                    ),
                ),
                Command::ExtendAssistance { .. } => (
                    vec![a.requested_by.clone()],
                    "assistance_extended",
                    format!(
                        "{}告知{what}延期答复 (the department extended its answer)",
                        a.department_name
                    ),
                ),
                _ => (
                    vec![a.requested_by.clone()],
                    "assistance_answered",
                    format!(
                        "{}已答复{what} (the department answered)",
                        a.department_name
                    ),
                ),
            };
            for user in to {
                send(conn, &user, kind, r.task_id.as_deref(), &message, now)?;
            }
        }
    }
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
        send(conn, &user, "escalated", Some(&task.id), &message, now)?;
    }
    Ok(())
}
