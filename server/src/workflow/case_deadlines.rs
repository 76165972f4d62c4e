//! The case clocks' job: the decision limit (90 days from filing), service (7 days), publication
//! (7 working days) and payment (15 days) — a yellow warning at 80 % and a red escalation at
//! 100 % of each, raised once per clock and level through the command path (audited) and told
//! to the case's investigators (yellow) and the approvers (red).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use griddispatch_protocol::command::Command;

use super::deadlines::{alone, light};
use super::{execute, CommandError, Env, Issuer};
use crate::db::DbConn;
use crate::domain::calendar::{Measure, WorkCalendar};
use crate::domain::workflow::{running_clocks, Case, CaseStatus, RunningClock};
use crate::schema::{cases, notifications, user_roles};
use crate::store::workflow as store;

/// Advisory-lock key: only one instance sweeps the case clocks at a time ("GDCASECL").
const LOCK_KEY: i64 = 0x4744_4341_5345_434c;

/// The level a running clock has reached at `now`, if any (the task clocks' thresholds).
pub fn level(
    calendar: &WorkCalendar,
    c: &RunningClock,
    now: NaiveDateTime,
) -> Option<&'static str> {
    let measure = if c.working_time {
        Measure::Working
    } else {
        Measure::Natural
    };
    light(calendar, measure, c.from, c.due, now)
}

fn label(clock: &str) -> &'static str {
    match clock {
        "decision" => "作出处罚决定 (decision)",
        "service" => "送达决定书 (service)",
        "publication" => "公示 (publication)",
        "police_answer" => "公安机关答复移送 (police's answer)",
        "hand_over_approval" => "审批移送公安机关 (approval of the hand-over to police)",
        "preservation" => "先行登记保存处理 (kept evidence)",
        "court_application" => "申请人民法院强制执行 (application to the court)",
        _ => "缴纳罚款 (payment)",
    }
}

/// One pass over the open cases; returns how many warnings were raised.
pub fn sweep(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    alone(conn, LOCK_KEY, |conn| sweep_locked(conn, env))
}

fn sweep_locked(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    let open = [
        CaseStatus::Filed,
        CaseStatus::Investigating,
        CaseStatus::Notified,
        CaseStatus::Hearing,
        CaseStatus::LegalReview,
        CaseStatus::Decided,
        CaseStatus::Served,
        CaseStatus::Published,
        CaseStatus::HandedOver,
    ]
    .map(CaseStatus::as_str);
    let ids: Vec<String> = cases::table
        .filter(cases::status.eq_any(open))
        .select(cases::id)
        .load(conn)?;
    let system = Issuer {
        user_id: "system".into(),
        is_system: true,
        occurred_at: None,
    };
    let mut raised = 0;
    for id in ids {
        let Some(case) = store::case(conn, &id)? else {
            continue;
        };
        for clock in running_clocks(&case, &env.case_rules) {
            let Some(level) = level(env.calendar, &clock, env.now) else {
                continue;
            };
            let flagged = |lv: &str| {
                case.procedure
                    .flags
                    .iter()
                    .any(|f| f.clock == clock.clock && f.level == lv && f.at >= clock.from)
            };
            // A red clock that was never yellow gets only the red.
            if flagged(level) || (level == "yellow" && flagged("red")) {
                continue;
            }
            let cmd = Command::FlagCaseDeadline {
                case_id: id.clone(),
                clock: clock.clock.into(),
                level: level.into(),
            };
            match execute(conn, env, &system, &cmd, None) {
                Ok(_) => {}
                // Another instance or an earlier pass got there first.
                Err(CommandError::Domain(_)) => continue,
                Err(e) => return Err(e),
            }
            raised += 1;
            notify(conn, env, &case, clock.clock, level)?;
        }
    }
    Ok(raised)
}

fn notify(
    conn: &mut DbConn,
    env: &Env<'_>,
    case: &Case,
    clock: &str,
    level: &str,
) -> QueryResult<()> {
    let mut to: Vec<String> = case.procedure.investigators.clone();
    // Police's answer is police's clock: its liaisons hear of it too.
    if let Some(dept) = case
        .procedure
        .hand_over
        .as_ref()
        .and_then(|h| h.police_department_id.as_deref())
        .filter(|_| clock == "police_answer")
    {
        to.extend(crate::store::departments::liaison_ids(conn, dept)?);
    }
    // The approval of a hand-over is the approver's clock: they hear of it from the yellow on.
    if level == "red" || clock == "hand_over_approval" {
        let approvers: Vec<String> = user_roles::table
            .filter(user_roles::role.eq("approver"))
            .select(user_roles::user_id)
            .load(conn)?;
        to.extend(approvers);
    }
    to.sort();
    to.dedup();
    let number = case.number.clone().unwrap_or_else(|| case.id.clone());
    let message = if level == "red" {
        format!(
            "督办：案件 {number} 已超过{}时限 (case overdue)",
            label(clock)
        )
    } else {
        format!(
            "预警：案件 {number} 的{}时限已用去 80% (case clock at 80%)",
            label(clock)
        )
    };
    for user in to {
        diesel::insert_into(notifications::table)
            .values((
                notifications::id.eq(uuid::Uuid::now_v7().to_string()),
                notifications::user_id.eq(user),
                notifications::kind.eq(if level == "red" {
                    "case_overdue"
                } else {
                    "case_deadline_warning"
                }),
                notifications::task_id.eq(Some(case.task_id.clone())),
                notifications::message.eq(&message),
                notifications::created_at.eq(env.now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
