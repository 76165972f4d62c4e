//! 派遣任务: the rules of a task — acceptance with certified officers, returns, re-dispatch,
//! arrival on site, handling with its outcome, closure, re-check, extensions, deadline flags.

use chrono::NaiveDateTime;
use griddispatch_protocol::command::{Command, DeadlineClock, Outcome, Penalty};
use griddispatch_protocol::Role;

use super::super::model::{
    Case, CaseStatus, Escalation, PendingRequest, Recheck, Task, TaskStatus,
};
use super::super::rules::{simple_fine_limit, DomainError, Fen, ARRIVAL_TOLERANCE_M};
use super::{
    check_after_photos, check_attachments, misrouted, need, required, state_err, Change, Facts,
};
use crate::domain::calendar::Measure;

pub(super) fn decide(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
    let a = &f.actor;
    match cmd {
        Command::AcceptTask { officer_ids, .. } => {
            a.require(Role::SquadLeader, "签收任务")?;
            let mut t = own_squad_task(f)?;
            if t.status != TaskStatus::Dispatched {
                return Err(state_err("任务", t.status.as_str(), "签收"));
            }
            let mut ids = officer_ids.clone();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                return Err(DomainError::rule(
                    "officers_required",
                    "须指派执法人员 (assign at least one officer)",
                ));
            }
            for id in &ids {
                let o = f
                    .officers
                    .iter()
                    .find(|o| &o.user_id == id)
                    .ok_or_else(|| {
                        DomainError::not_found(format!("用户 {id} 不存在 (no such user)"))
                    })?;
                o.may_enforce()?;
                if !o.in_squad {
                    return Err(DomainError::rule(
                        "not_squad_officer",
                        format!("{id} 不属于本中队 (not a member of this squad)"),
                    ));
                }
            }
            let rules = f.category.ok_or_else(|| {
                DomainError::rule("unknown_category", "未知事件类别 (unknown category)")
            })?;
            if rules.penalty_possible && ids.len() < 2 {
                return Err(DomainError::rule("two_officers_required", "可能涉及处罚的任务须指派至少两名持证执法人员 (a task that may lead to a penalty needs at least two certified officers)"));
            }
            t.officer_ids = ids;
            t.status = TaskStatus::Accepted;
            t.accepted_at = Some(now);
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::RequestReturn { reason, .. } => {
            a.require(Role::SquadLeader, "申请回退")?;
            let mut t = own_squad_task(f)?;
            if t.status != TaskStatus::Dispatched {
                return Err(state_err("任务", t.status.as_str(), "回退"));
            }
            t.pending_return = Some(PendingRequest {
                reason: required(reason, "reason_required", "回退理由")?,
                by: a.user_id.clone(),
                at: now,
                extra_hours: None,
            });
            t.status = TaskStatus::ReturnRequested;
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::DecideReturn { approve, .. } => {
            a.require(Role::DutyChief, "审批回退")?;
            let mut t = need(&f.task, "任务")?.clone();
            if t.status != TaskStatus::ReturnRequested {
                return Err(state_err("任务", t.status.as_str(), "审批回退"));
            }
            t.pending_return = None;
            if *approve {
                t.status = TaskStatus::Returned;
                t.return_count += 1;
            } else {
                t.status = TaskStatus::Dispatched;
            }
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::RedispatchTask { squad_id, .. } => {
            a.require(Role::Dispatcher, "重新派遣")?;
            let mut t = need(&f.task, "任务")?.clone();
            if t.status != TaskStatus::Returned {
                return Err(state_err("任务", t.status.as_str(), "重新派遣"));
            }
            if !f.squad_exists {
                return Err(DomainError::not_found(format!(
                    "中队 {squad_id} 不存在 (no such squad)"
                )));
            }
            let squad_id = f.squad_id.as_ref().unwrap_or(squad_id);
            // A return was approved because this squad is the wrong one (DOMAIN.md §4).
            if *squad_id == t.squad_id {
                return Err(DomainError::rule(
                    "same_squad",
                    "回退的任务须改派其他中队 (a returned task must go to another squad)",
                ));
            }
            let (due_at, ack_due_at) = f.due_at.zip(f.ack_due_at).ok_or_else(|| {
                DomainError::rule("no_deadline", "未能计算时限 (no deadline computed)")
            })?;
            t.squad_id = squad_id.clone();
            t.status = TaskStatus::Dispatched;
            t.officer_ids.clear();
            t.dispatched_at = now;
            t.due_at = due_at;
            t.ack_due_at = ack_due_at;
            t.handling_measure = f.handling_measure.unwrap_or(Measure::Working);
            t.accepted_at = None;
            // The new squad's clocks start afresh.
            t.warned_at = None;
            t.escalated_at = None;
            t.ack_warned_at = None;
            t.ack_escalated_at = None;
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::ArriveOnSite { .. } => {
            let mut t = assigned_officer_task(f, "到场")?;
            if !matches!(t.status, TaskStatus::Accepted | TaskStatus::Rework) {
                return Err(state_err("任务", t.status.as_str(), "到场"));
            }
            let d = f.arrival_distance_m.ok_or_else(|| {
                DomainError::rule(
                    "position_required",
                    "须提供到场位置 (arrival position required)",
                )
            })?;
            if d > ARRIVAL_TOLERANCE_M {
                return Err(DomainError::rule("arrival_too_far", format!("到场位置距事发网格约 {d:.0} 米，超出允许的 {ARRIVAL_TOLERANCE_M:.0} 米 (arrival is {d:.0} m from the cell)")));
            }
            t.status = TaskStatus::OnSite;
            // Offline, the officers arrived when the phone says, not when it found a signal:
            // an after photo taken on site before the sync is after their arrival. Never later
            // than now, never before the task was dispatched.
            t.arrived_at = Some(
                f.occurred_at
                    .map_or(now, |at| at.min(now).max(t.dispatched_at)),
            );
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::HandleTask {
            outcome,
            attachment_ids,
            case_id,
            ..
        } => {
            let mut t = assigned_officer_task(f, "处置")?;
            if t.status != TaskStatus::OnSite {
                return Err(state_err("任务", t.status.as_str(), "处置"));
            }
            check_attachments(f, attachment_ids)?;
            check_after_photos(f, t.arrived_at)?;
            let rules = f.category.ok_or_else(|| {
                DomainError::rule("unknown_category", "未知事件类别 (unknown category)")
            })?;
            let mut case = None;
            match outcome {
                Outcome::NoViolation { reply } => {
                    required(reply, "reply_required", "答复内容")?;
                }
                Outcome::Rectified { note } => {
                    required(note, "note_required", "整改情况")?;
                    if attachment_ids.len() < 2 {
                        return Err(DomainError::rule("attachments_required", "当场整改须附整改前后照片 (rectification needs before and after photos)"));
                    }
                }
                Outcome::SimplePenalty {
                    party_kind,
                    party_name,
                    penalty,
                    facts,
                    legal_basis,
                } => {
                    if !rules.simple_procedure_allowed {
                        return Err(DomainError::rule("simple_procedure_not_allowed", "该类别不适用简易程序 (the simple procedure does not apply to this category)"));
                    }
                    required(party_name, "party_required", "当事人")?;
                    required(facts, "facts_required", "违法事实")?;
                    required(legal_basis, "legal_basis_required", "法律依据")?;
                    if let Penalty::Fine { amount_fen } = penalty {
                        let limit = simple_fine_limit(*party_kind);
                        if *amount_fen <= 0 {
                            return Err(DomainError::rule(
                                "invalid_amount",
                                "罚款金额须大于零 (the fine must be positive)",
                            ));
                        }
                        if Fen(*amount_fen) > limit {
                            return Err(DomainError::rule("penalty_over_limit", format!("简易程序罚款不得超过 {limit}，应按一般程序立案 (simple-procedure fines are limited to {limit}; file a case instead)")));
                        }
                    }
                    if attachment_ids.is_empty() {
                        return Err(DomainError::rule(
                            "attachments_required",
                            "当场处罚须附现场证据 (a penalty needs evidence)",
                        ));
                    }
                    t.decision_number = Some(f.number.clone().ok_or_else(|| {
                        DomainError::rule("no_number", "未能生成决定书编号 (no decision number)")
                    })?);
                }
                Outcome::CaseNeeded {
                    finding,
                    issuing_unit,
                    suspected_provision,
                } => {
                    if attachment_ids.is_empty() {
                        return Err(DomainError::rule(
                            "attachments_required",
                            "立案建议须附证据 (a case proposal needs evidence)",
                        ));
                    }
                    let id = case_id.clone().ok_or_else(|| {
                        DomainError::rule(
                            "case_id_required",
                            "须提供 case_id (give a case_id for the proposal)",
                        )
                    })?;
                    if uuid::Uuid::parse_str(&id).is_err() {
                        return Err(DomainError::rule(
                            "invalid_id",
                            "case_id 须为 UUID (case_id must be a UUID)",
                        ));
                    }
                    if f.id_taken {
                        return Err(DomainError::state(
                            "该编号的案件已存在 (a case with this id exists)",
                        ));
                    }
                    let mut evidence = attachment_ids.clone();
                    if let Some(r) = &f.report {
                        evidence.extend(r.attachment_ids.iter().cloned());
                    }
                    case = Some(Case {
                        id: id.clone(),
                        number: None,
                        task_id: t.id.clone(),
                        report_id: t.report_id.clone(),
                        status: CaseStatus::Proposed,
                        finding: required(finding, "finding_required", "违法行为认定意见")?,
                        issuing_unit: required(issuing_unit, "issuing_unit_required", "认定单位")?,
                        suspected_provision: required(
                            suspected_provision,
                            "provision_required",
                            "涉嫌违反的条款",
                        )?,
                        evidence_ids: evidence,
                        proposed_by: a.user_id.clone(),
                        proposed_at: now,
                        decided_by: None,
                        decided_at: None,
                        decline_reason: None,
                        procedure: Default::default(),
                    });
                    t.case_id = Some(id);
                }
                Outcome::Transfer {
                    department, reason, ..
                } => {
                    required(department, "department_required", "接收部门")?;
                    required(reason, "reason_required", "移送理由")?;
                }
            }
            t.outcome = Some(outcome.clone());
            t.outcome_attachment_ids = attachment_ids.clone();
            t.handled_by = Some(a.user_id.clone());
            t.status = TaskStatus::Handled;
            t.handled_at = Some(now);
            Ok(Change {
                task: Some(t),
                case,
                report: None,
            })
        }
        Command::CloseTask { .. } => {
            a.require(Role::SquadLeader, "结束任务")?;
            let mut t = own_squad_task(f)?;
            if t.status != TaskStatus::Handled {
                return Err(state_err("任务", t.status.as_str(), "结束"));
            }
            t.status = TaskStatus::Closed;
            t.closed_at = Some(now);
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::RecheckTask {
            passed,
            note,
            attachment_ids,
            ..
        } => {
            a.require(Role::GridMember, "核查")?;
            let mut t = need(&f.task, "任务")?.clone();
            if !a.covers(t.cell_village.as_deref()) {
                return Err(DomainError::out_of_scope(
                    "只能核查本人网格内的事项 (you may re-check only items in your cells)",
                ));
            }
            if t.handled_by.as_deref() == Some(a.user_id.as_str())
                || t.officer_ids.contains(&a.user_id)
            {
                return Err(DomainError::rule(
                    "handler_cannot_recheck",
                    "处置人不能核查自己处置的事项 (the handler may not re-check their own work)",
                ));
            }
            if t.status != TaskStatus::Closed {
                return Err(state_err("任务", t.status.as_str(), "核查"));
            }
            check_attachments(f, attachment_ids)?;
            let note = note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            if !passed && note.is_none() {
                return Err(DomainError::rule(
                    "note_required",
                    "核查不通过须说明原因 (a failed re-check needs a reason)",
                ));
            }
            t.last_recheck = Some(Recheck {
                by: a.user_id.clone(),
                passed: *passed,
                note,
                at: now,
            });
            if *passed {
                t.status = TaskStatus::Verified;
                t.verified_at = Some(now);
            } else {
                t.status = TaskStatus::Rework;
                t.rework_count += 1;
                t.handled_at = None;
                t.closed_at = None;
            }
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::RequestExtension {
            extra_hours,
            reason,
            ..
        } => {
            a.require(Role::SquadLeader, "申请延期")?;
            let mut t = own_squad_task(f)?;
            if !t.status.clock_running() || t.status == TaskStatus::ReturnRequested {
                return Err(state_err("任务", t.status.as_str(), "申请延期"));
            }
            if t.pending_extension.is_some() {
                return Err(DomainError::state(
                    "已有待审批的延期申请 (an extension request is already pending)",
                ));
            }
            if *extra_hours == 0 || *extra_hours > 24 * 30 {
                return Err(DomainError::rule(
                    "invalid_extension",
                    "延期须为 1–720 个工作小时 (extension must be 1–720 working hours)",
                ));
            }
            t.pending_extension = Some(PendingRequest {
                reason: required(reason, "reason_required", "延期理由")?,
                by: a.user_id.clone(),
                at: now,
                extra_hours: Some(*extra_hours),
            });
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::DecideExtension { approve, .. } => {
            a.require(Role::DutyChief, "审批延期")?;
            let mut t = need(&f.task, "任务")?.clone();
            if t.pending_extension.is_none() {
                return Err(DomainError::state(
                    "没有待审批的延期申请 (no pending extension request)",
                ));
            }
            t.pending_extension = None;
            if *approve {
                t.due_at = f.due_at.ok_or_else(|| {
                    DomainError::rule("no_deadline", "未能计算时限 (no deadline computed)")
                })?;
                t.extension_count += 1;
                // Warnings restart against the new due time.
                t.warned_at = None;
                t.escalated_at = None;
            }
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::FlagDeadline { level, clock, .. } => {
            if !a.is_system {
                return Err(DomainError::forbidden("预警和督办由系统根据时限自动发出 (deadline warnings are raised by the server only)"));
            }
            let mut t = need(&f.task, "任务")?.clone();
            let running = match clock {
                DeadlineClock::Handling => t.status.clock_running(),
                // The acknowledgement clock stops when the squad leader accepts or asks to
                // return the task.
                DeadlineClock::Acknowledgement => t.status == TaskStatus::Dispatched,
            };
            if !running {
                return Err(state_err("任务", t.status.as_str(), "预警"));
            }
            let (warned, escalated) = match clock {
                DeadlineClock::Handling => (&mut t.warned_at, &mut t.escalated_at),
                DeadlineClock::Acknowledgement => (&mut t.ack_warned_at, &mut t.ack_escalated_at),
            };
            match level.as_str() {
                "yellow" if warned.is_none() => *warned = Some(now),
                "red" if escalated.is_none() => {
                    warned.get_or_insert(now);
                    *escalated = Some(now);
                }
                "yellow" | "red" => {
                    return Err(DomainError::state("已发出过该级别预警 (already raised)"))
                }
                _ => {
                    return Err(DomainError::rule(
                        "invalid_level",
                        "level 须为 yellow 或 red (level must be yellow or red)",
                    ))
                }
            }
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        Command::EscalateTask { reason, .. } => {
            a.require(Role::DutyChief, "督办")?;
            let mut t = need(&f.task, "任务")?.clone();
            if !t.status.clock_running() {
                return Err(state_err("任务", t.status.as_str(), "督办"));
            }
            t.escalations.push(Escalation {
                by: a.user_id.clone(),
                reason: required(reason, "reason_required", "督办理由")?,
                at: now,
            });
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
        other => Err(misrouted(other)),
    }
}

/// The task, if it belongs to a squad the actor is in.
fn own_squad_task(f: &Facts) -> Result<Task, DomainError> {
    let t = need(&f.task, "任务")?;
    if !f.actor.in_squad(&t.squad_id) {
        return Err(DomainError::out_of_scope(
            "只能办理本中队的任务 (only your squad's tasks)",
        ));
    }
    Ok(t.clone())
}

/// The task, if the actor is a certified officer assigned to it.
fn assigned_officer_task(f: &Facts, action: &str) -> Result<Task, DomainError> {
    f.actor.require(Role::Officer, action)?;
    let t = need(&f.task, "任务")?;
    if !t.officer_ids.contains(&f.actor.user_id) {
        return Err(DomainError::out_of_scope(
            "您未被指派此任务 (you are not assigned to this task)",
        ));
    }
    if !f.actor.certified {
        return Err(DomainError::rule(
            "certificate_required",
            "没有有效执法证，不能处置 (a valid enforcement certificate is required)",
        ));
    }
    Ok(t.clone())
}
