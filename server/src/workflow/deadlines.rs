//! The deadline job: yellow warning at 80 % of a task's clock, red escalation (督办) at 100 %,
//! each raised once per clock, through the command path (so each is audited) and told to the
//! people who must act: the squad (yellow); the duty chiefs and the cell's grid leaders (red).
//! Two clocks per task: acknowledgement (签收, 1 working hour, while dispatched) and handling
//! (the category's time, in working or natural time as the category states it).

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use griddispatch_protocol::command::{Command, DeadlineClock};

use super::{execute, CommandError, Env, Issuer};
use crate::db::DbConn;
use crate::domain::calendar::{Measure, WorkCalendar, RED_AT_PERCENT, YELLOW_AT_PERCENT};
use crate::domain::workflow::{Task, TaskStatus};
use crate::schema::{tasks, user_roles};
use crate::store::workflow as store;

/// Share of the handling time at which the yellow warning is raised (the calendar's threshold).
pub const YELLOW_SHARE: f64 = YELLOW_AT_PERCENT as f64 / 100.0;
/// Advisory-lock key: only one instance sweeps at a time ("GDDEADLN").
const LOCK_KEY: i64 = 0x4744_4445_4144_4c4e;

/// Seconds between `from` and `to` in the clock's measure.
fn seconds(
    calendar: &WorkCalendar,
    measure: Measure,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> i64 {
    match measure {
        Measure::Working => calendar.working_seconds_between(from, to),
        Measure::Natural => (to - from).num_seconds(),
    }
}

/// The traffic light of a clock from `start` to `due` at `now`: integers, so 80 % is exactly
/// yellow.
pub(super) fn light(
    calendar: &WorkCalendar,
    measure: Measure,
    start: NaiveDateTime,
    due: NaiveDateTime,
    now: NaiveDateTime,
) -> Option<&'static str> {
    if now >= due {
        return Some("red");
    }
    let allowed = i128::from(seconds(calendar, measure, start, due).max(0));
    let used = i128::from(seconds(calendar, measure, start, now).max(0));
    if allowed == 0 {
        return None;
    }
    if used * 100 >= allowed * i128::from(RED_AT_PERCENT) {
        Some("red")
    } else if used * 100 >= allowed * i128::from(YELLOW_AT_PERCENT) {
        Some("yellow")
    } else {
        None
    }
}

/// Which level a task's handling clock has reached at `now`, if any; measured in the task's
/// own measure (natural time for `24h`-style categories).
pub fn level(calendar: &WorkCalendar, task: &Task, now: NaiveDateTime) -> Option<&'static str> {
    if !task.status.clock_running() {
        return None;
    }
    light(
        calendar,
        task.handling_measure,
        task.dispatched_at,
        task.due_at,
        now,
    )
}

/// Which level a task's acknowledgement clock (签收) has reached at `now`: it runs only while
/// the task waits for the squad leader.
pub fn ack_level(calendar: &WorkCalendar, task: &Task, now: NaiveDateTime) -> Option<&'static str> {
    if task.status != TaskStatus::Dispatched {
        return None;
    }
    light(
        calendar,
        Measure::Working,
        task.dispatched_at,
        task.ack_due_at,
        now,
    )
}

/// The next flag a clock owes at `now`, if any (each level is raised once).
fn owed(
    level: Option<&'static str>,
    warned: Option<NaiveDateTime>,
    escalated: Option<NaiveDateTime>,
) -> Option<&'static str> {
    match level? {
        "red" if escalated.is_none() => Some("red"),
        "yellow" if warned.is_none() => Some("yellow"),
        _ => None,
    }
}

fn recipients(
    conn: &mut DbConn,
    task: &Task,
    report_cell: Option<(String, String, String)>,
    level: &str,
) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = if level == "red" {
        let mut chiefs: Vec<String> = user_roles::table
            .filter(user_roles::role.eq("duty_chief"))
            .select(user_roles::user_id)
            .load(conn)?;
        if let Some(cell) = report_cell {
            chiefs.extend(super::notify::grid_leaders(conn, cell)?);
        }
        chiefs
    } else {
        super::scope::squad_leaders(conn, &task.squad_id)?
    };
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// One pass over the running tasks; returns how many warnings were raised.
pub fn sweep(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    alone(conn, LOCK_KEY, |conn| sweep_locked(conn, env))
}

/// Run a sweep as the only instance doing it: on PostgreSQL under the advisory lock `key`
/// (another instance holding it means this pass does nothing); SQLite is one process.
pub(super) fn alone(
    conn: &mut DbConn,
    key: i64,
    sweep: impl FnOnce(&mut DbConn) -> Result<usize, CommandError>,
) -> Result<usize, CommandError> {
    let pg = matches!(conn, DbConn::Pg(_));
    if pg {
        #[derive(QueryableByName)]
        struct Got {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            got: bool,
        }
        let got: Got = diesel::sql_query(format!("SELECT pg_try_advisory_lock({key}) AS got"))
            .get_result(conn)?;
        if !got.got {
            return Ok(0);
        }
    }
    let result = sweep(conn);
    if pg {
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({key})"))?;
    }
    result
}

fn sweep_locked(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    let running: Vec<&str> = TaskStatus::ALL
        .iter()
        .filter(|s| s.clock_running())
        .map(|s| s.as_str())
        .collect();
    let ids: Vec<String> = tasks::table
        .filter(tasks::status.eq_any(running))
        .filter(tasks::escalated_at.is_null())
        .select(tasks::id)
        .load(conn)?;
    let system = Issuer {
        user_id: "system".into(),
        is_system: true,
        occurred_at: None,
    };
    let mut raised = 0;
    for id in ids {
        let Some(task) = store::task(conn, &id)? else {
            continue;
        };
        let flags = [
            (
                DeadlineClock::Acknowledgement,
                owed(
                    ack_level(env.calendar, &task, env.now),
                    task.ack_warned_at,
                    task.ack_escalated_at,
                ),
            ),
            (
                DeadlineClock::Handling,
                owed(
                    level(env.calendar, &task, env.now),
                    task.warned_at,
                    task.escalated_at,
                ),
            ),
        ];
        for (clock, level) in flags {
            let Some(level) = level else {
                continue;
            };
            if flag(conn, env, &system, &task, clock, level)? {
                raised += 1;
            }
        }
    }
    // Certificates about to expire are watched by the same minute job.
    super::notify::warn_expiring_certificates(conn, env.now)?;
    Ok(raised)
}

/// Raise one flag and tell its recipients; false if another pass got there first.
fn flag(
    conn: &mut DbConn,
    env: &Env<'_>,
    system: &Issuer,
    task: &Task,
    clock: DeadlineClock,
    level: &'static str,
) -> Result<bool, CommandError> {
    let id = &task.id;
    let cmd = Command::FlagDeadline {
        task_id: id.clone(),
        level: level.into(),
        clock,
    };
    match execute(conn, env, system, &cmd, None) {
        Ok(_) => {}
        // Another instance or an earlier pass got there first.
        Err(CommandError::Domain(_)) => return Ok(false),
        Err(e) => return Err(e),
    }
    let cell = store::report(conn, &task.report_id)?
        .and_then(|r| r.cell)
        .map(|c| (c.village, c.area, c.town));
    let (kind, message) = match (clock, level) {
        (DeadlineClock::Handling, "red") => (
            "overdue",
            format!("督办：任务 {id} 已超过处置时限 (task overdue: escalated)"),
        ),
        (DeadlineClock::Handling, _) => (
            "deadline_warning",
            format!("预警：任务 {id} 已用去 80% 处置时限 (task at 80% of its handling time)"),
        ),
        (DeadlineClock::Acknowledgement, "red") => (
            "ack_overdue",
            format!("督办：任务 {id} 超过 1 个工作小时未签收 (task not accepted within 1 working hour: escalated)"),
        ),
        (DeadlineClock::Acknowledgement, _) => (
            "ack_warning",
            format!("预警：任务 {id} 已用去 80% 签收时限 (task at 80% of its acknowledgement time)"),
        ),
    };
    for user in recipients(conn, task, cell, level)? {
        super::notify::send(conn, &user, kind, Some(id), &message, env.now)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
    use serde_json::json;

    use super::*;

    /// A China wall-clock time as the UTC instant the server stores.
    fn cst(m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
            - TimeDelta::hours(8)
    }

    fn task(
        status: &str,
        dispatched: NaiveDateTime,
        ack_due: NaiveDateTime,
        due: NaiveDateTime,
        measure: &str,
    ) -> Task {
        let t = |x: NaiveDateTime| x.and_utc().to_rfc3339();
        serde_json::from_value(json!({
            "id": "t", "report_id": "r", "squad_id": "s", "category_code": "0101",
            "status": status, "officer_ids": [], "outcome_attachment_ids": [],
            "dispatched_at": t(dispatched), "ack_due_at": t(ack_due), "due_at": t(due),
            "handling_measure": measure,
            "rework_count": 0, "return_count": 0, "extension_count": 0,
        }))
        .unwrap()
    }

    #[test]
    fn a_natural_time_clock_is_measured_in_natural_time() {
        let cal = WorkCalendar::official().unwrap();
        // 24 h from Thursday noon: due Friday noon.
        let start = cst(12, 3, 12, 0);
        let due = start + TimeDelta::hours(24);
        let at = cst(12, 4, 8, 0); // 20 of 24 natural hours used: 83 %
        let natural = task("accepted", start, start, due, "natural");
        assert_eq!(level(&cal, &natural, at), Some("yellow"));
        assert_eq!(level(&cal, &natural, cst(12, 4, 3, 0)), None, "15 h: 62 %");
        // The same times counted in office hours are far below 80 %: the measure matters.
        let working = task("accepted", start, start, due, "working");
        assert_eq!(level(&cal, &working, at), None);
        assert_eq!(level(&cal, &natural, due), Some("red"));
    }

    #[test]
    fn the_acknowledgement_clock_warns_at_80_percent_and_escalates_at_one_working_hour() {
        let cal = WorkCalendar::official().unwrap();
        let start = cst(12, 3, 9, 0);
        let ack_due = cal.add_working(
            start,
            crate::domain::calendar::WorkingDuration::WorkingHours(1),
        );
        let due = cst(12, 24, 17, 0);
        let waiting = task("dispatched", start, ack_due, due, "working");
        assert_eq!(
            ack_level(&cal, &waiting, start + TimeDelta::minutes(40)),
            None
        );
        assert_eq!(
            ack_level(&cal, &waiting, ack_due - TimeDelta::minutes(10)),
            Some("yellow")
        );
        assert_eq!(ack_level(&cal, &waiting, ack_due), Some("red"));
        // Accepted: the acknowledgement clock has stopped.
        let accepted = task("accepted", start, ack_due, due, "working");
        assert_eq!(
            ack_level(&cal, &accepted, ack_due + TimeDelta::hours(1)),
            None
        );
    }
}
