//! The transfer clocks' job (移送时限): sending (5 working days after the decision, 24 h when
//! urgent), the receiver's answer (3 days) and its outcome (3 days after accepting) — a yellow
//! warning at 80 % and a red escalation at 100 % of each, raised once per clock and level
//! through the command path (audited). Sending is the brigade's clock: its dispatchers hear of
//! it (duty chiefs and approvers of a red); answer and outcome are the receiver's: its liaisons
//! hear of it, and of a red the brigade's duty chiefs too, who take it up.
//!
//! The same job keeps the assistance requests' answer clocks (执法协助, 5 working days).

use diesel::prelude::*;
use griddispatch_protocol::command::Command;

use super::deadlines::{alone, light};
use super::{execute, CommandError, Env, Issuer};
use crate::db::DbConn;
use crate::domain::calendar::Measure;
use crate::domain::workflow::{Report, Transfer};
use crate::schema::reports_transfer::reports as rt;
use crate::schema::{notifications, user_roles};
use crate::store::workflow as store;

/// Advisory-lock key: only one instance sweeps the transfer clocks at a time ("GDTRANSF").
const LOCK_KEY: i64 = 0x4744_5452_414e_5346;

fn label(clock: &str) -> &'static str {
    match clock {
        "send" => "移送 (sending)",
        "answer" => "接收答复 (answer)",
        _ => "反馈处理结果 (outcome)",
    }
}

/// One pass over the transfers with a running clock; returns how many flags were raised.
pub fn sweep(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    alone(conn, LOCK_KEY, |conn| sweep_locked(conn, env))
}

fn sweep_locked(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    Ok(sweep_transfers(conn, env)? + sweep_assistance(conn, env)?)
}

/// The assistance requests' answer clocks (执法协助: 5 working days, plus the extensions
/// announced): yellow at 80 %, red at 100 %, once per level and deadline. The addressed
/// department's liaisons hear of both; of a red, the brigade member who asked and the duty
/// chiefs too.
fn sweep_assistance(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    use crate::schema::assistance_requests as ar;
    let open: Vec<(String, String)> = ar::table
        .filter(ar::status.eq("requested"))
        .select((ar::id, ar::report_id))
        .load(conn)?;
    let system = Issuer {
        user_id: "system".into(),
        is_system: true,
        occurred_at: None,
    };
    let mut raised = 0;
    for (request_id, report_id) in open {
        let Some(report) = store::report(conn, &report_id)? else {
            continue;
        };
        let Some(a) = report.assistance.iter().find(|a| a.id == request_id) else {
            continue;
        };
        let Some(level) = light(
            env.calendar,
            Measure::Working,
            a.requested_at,
            a.due,
            env.now,
        ) else {
            continue;
        };
        let flagged = |lv: &str| a.flags.iter().any(|f| f.due == a.due && f.level == lv);
        if flagged(level) || (level == "yellow" && flagged("red")) {
            continue;
        }
        let cmd = Command::FlagAssistanceDeadline {
            report_id: report_id.clone(),
            request_id: request_id.clone(),
            level: level.into(),
        };
        match execute(conn, env, &system, &cmd, None) {
            Ok(_) => {}
            Err(CommandError::Domain(_)) => continue,
            Err(e) => return Err(e),
        }
        raised += 1;
        let red = level == "red";
        let mut to = crate::store::departments::liaison_ids(conn, &a.department_id)?;
        if red {
            to.push(a.requested_by.clone());
            to.extend(holders(conn, "duty_chief")?);
        }
        to.sort();
        to.dedup();
        let what = format!(
            "{}（{}）的协助请求{}",
            a.department_name,
            a.kind.label_zh(),
            a.letter_number
        );
        let message = if red {
            format!("督办：{what}已超过答复期限 (assistance answer overdue)")
        } else {
            format!("预警：{what}的答复期限已用去 80% (assistance clock at 80%)")
        };
        for user in to {
            diesel::insert_into(notifications::table)
                .values((
                    notifications::id.eq(uuid::Uuid::now_v7().to_string()),
                    notifications::user_id.eq(user),
                    notifications::kind.eq(if red {
                        "assistance_overdue"
                    } else {
                        "assistance_deadline_warning"
                    }),
                    notifications::task_id.eq(report.task_id.clone()),
                    notifications::message.eq(&message),
                    notifications::created_at.eq(env.now),
                ))
                .execute(conn)?;
        }
    }
    Ok(raised)
}

fn sweep_transfers(conn: &mut DbConn, env: &Env<'_>) -> Result<usize, CommandError> {
    let ids: Vec<String> = rt::table
        .filter(rt::transfer_department_id.is_not_null())
        .select(rt::id)
        .load(conn)?;
    let system = Issuer {
        user_id: "system".into(),
        is_system: true,
        occurred_at: None,
    };
    let mut raised = 0;
    for id in ids {
        let Some(report) = store::report(conn, &id)? else {
            continue;
        };
        if let Some(t) = report.transfer_in.as_ref() {
            raised += sweep_transfer_in(conn, env, &system, &report, t)?;
            continue;
        }
        let Some(t) = report.transfer.as_ref() else {
            continue;
        };
        let Some((clock, from, due)) = t.running_clock() else {
            continue;
        };
        // Sending counts working days (or 24 natural hours); the receiver's days are natural.
        let measure = if clock == "send" && !t.urgent {
            Measure::Working
        } else {
            Measure::Natural
        };
        let Some(level) = light(env.calendar, measure, from, due, env.now) else {
            continue;
        };
        let flagged = |lv: &str| t.flags.iter().any(|f| f.clock == clock && f.level == lv);
        if flagged(level) || (level == "yellow" && flagged("red")) {
            continue;
        }
        let cmd = Command::FlagTransferDeadline {
            report_id: id.clone(),
            clock: clock.into(),
            level: level.into(),
        };
        match execute(conn, env, &system, &cmd, None) {
            Ok(_) => {}
            Err(CommandError::Domain(_)) => continue,
            Err(e) => return Err(e),
        }
        raised += 1;
        notify(conn, env, &report, t, clock, level)?;
    }
    Ok(raised)
}

/// The brigade's answer clock of a transfer in (3 days): its dispatchers are told of the
/// yellow, its duty chiefs and approvers of the red, and the sending department's liaisons of
/// the red too.
fn sweep_transfer_in(
    conn: &mut DbConn,
    env: &Env<'_>,
    system: &Issuer,
    report: &Report,
    t: &crate::domain::workflow::TransferIn,
) -> Result<usize, CommandError> {
    if t.status != crate::domain::workflow::TransferInStatus::Sent {
        return Ok(0);
    }
    let Some(level) = light(
        env.calendar,
        Measure::Natural,
        t.sent_at,
        t.answer_due,
        env.now,
    ) else {
        return Ok(0);
    };
    let flagged = |lv: &str| t.flags.iter().any(|f| f.level == lv);
    if flagged(level) || (level == "yellow" && flagged("red")) {
        return Ok(0);
    }
    let cmd = Command::FlagTransferDeadline {
        report_id: report.id.clone(),
        clock: "in_answer".into(),
        level: level.into(),
    };
    match execute(conn, env, system, &cmd, None) {
        Ok(_) => {}
        Err(CommandError::Domain(_)) => return Ok(0),
        Err(e) => return Err(e),
    }
    let red = level == "red";
    let mut to = holders(conn, "dispatcher")?;
    if red {
        to.extend(holders(conn, "duty_chief")?);
        to.extend(holders(conn, "approver")?);
        to.extend(crate::store::departments::liaison_ids(
            conn,
            &t.department_id,
        )?);
    }
    to.sort();
    to.dedup();
    let what = format!("{}移送来的事项", t.department_name);
    let message = if red {
        format!("督办：{what}已超过接收答复时限 (transfer in: answer overdue)")
    } else {
        format!("预警：{what}的接收答复时限已用去 80% (transfer in: answer clock at 80%)")
    };
    for user in to {
        crate::workflow::notify::send(
            conn,
            &user,
            if red {
                "transfer_overdue"
            } else {
                "transfer_deadline_warning"
            },
            None,
            &message,
            env.now,
        )?;
    }
    Ok(1)
}

fn holders(conn: &mut DbConn, role: &str) -> QueryResult<Vec<String>> {
    user_roles::table
        .filter(user_roles::role.eq(role))
        .select(user_roles::user_id)
        .load(conn)
}

fn notify(
    conn: &mut DbConn,
    env: &Env<'_>,
    report: &Report,
    t: &Transfer,
    clock: &str,
    level: &str,
) -> QueryResult<()> {
    let red = level == "red";
    let mut to: Vec<String> = if clock == "send" {
        let mut v = holders(conn, "dispatcher")?;
        if red {
            v.extend(holders(conn, "approver")?);
        }
        v
    } else {
        crate::store::departments::liaison_ids(conn, &t.department_id)?
    };
    if red {
        to.extend(holders(conn, "duty_chief")?);
    }
    to.sort();
    to.dedup();
    let what = format!("移送至{}的事项", t.department_name);
    let message = if red {
        format!("督办：{what}已超过{}时限 (transfer overdue)", label(clock))
    } else {
        format!(
            "预警：{what}的{}时限已用去 80% (transfer clock at 80%)",
            label(clock)
        )
    };
    for user in to {
        diesel::insert_into(notifications::table)
            .values((
                notifications::id.eq(uuid::Uuid::now_v7().to_string()),
                notifications::user_id.eq(user),
                notifications::kind.eq(if red {
                    "transfer_overdue"
                } else {
                    "transfer_deadline_warning"
                }),
                notifications::task_id.eq(report.task_id.clone()),
                notifications::message.eq(&message),
                notifications::created_at.eq(env.now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
