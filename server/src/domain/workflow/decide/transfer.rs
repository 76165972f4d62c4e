//! 移送: the brigade transfers a matter to the department competent for it (seed 000 三(二)):
//! one matter one transfer, in the brigade's name, sent within 5 working days (24 h when
//! urgent) with its packet; the receiver accepts, or refuses with its reason, within 3 days and
//! reports its outcome within 3 days of deciding; it may not pass the matter on — a refused
//! transfer is disputed before the legal office, then the government.

use chrono::NaiveDateTime;
use griddispatch_protocol::agency::{DisputeLevel, TransferSender};
use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::{check_attachments, misrouted, need, required, Change, Facts};
use crate::domain::workflow::model::{
    ReportStatus, Transfer, TransferDispute, TransferFlag, TransferIn, TransferInStatus,
    TransferPacket, TransferStatus,
};
use crate::domain::workflow::rules::{DomainError, ErrorKind};

/// What the handler knows of the department a command names or the actor acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentFact {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind (`functional`, `police`, …).
    pub kind: String,
    /// Offered for new transfers.
    pub active: bool,
}

/// Due times of a transfer's clocks counted from now (computed by the handler on the calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransferDue {
    /// Sending due (5 working days, or 24 h when urgent).
    pub send: Option<NaiveDateTime>,
    /// Answer due (3 days).
    pub answer: Option<NaiveDateTime>,
    /// Outcome due (3 days).
    pub outcome: Option<NaiveDateTime>,
}

fn conflict(code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError {
        kind: ErrorKind::InvalidState,
        code,
        message: message.into(),
    }
}

/// The brigade's roles: who decides and sends a transfer in the brigade's name.
fn brigade(f: &Facts) -> Result<(), DomainError> {
    let a = &f.actor;
    if [Role::Dispatcher, Role::DutyChief, Role::Approver]
        .iter()
        .any(|r| a.roles.contains(r))
    {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "只有执法队（调度员、值班长、审批负责人）可以以执法队名义移送 (only the brigade — dispatcher, duty chief, approver — transfers, in the brigade's name)",
        ))
    }
}

/// The receiving department's liaison, for this transfer.
fn receiver(f: &Facts, t: &Transfer) -> Result<(), DomainError> {
    if !f.actor.roles.contains(&Role::DepartmentLiaison) {
        return Err(DomainError::forbidden(
            "只有接收部门的联络员可以答复移送 (only the receiving department's liaison answers a transfer)",
        ));
    }
    if f.actor_department.as_deref() != Some(t.department_id.as_str()) {
        return Err(DomainError::out_of_scope(
            "该移送不是发给本部门的 (this transfer was not sent to your department)",
        ));
    }
    Ok(())
}

fn status_err(t: &Transfer, action: &str, english: &str) -> DomainError {
    let s = t.status.as_str();
    conflict(
        "invalid_state",
        format!("移送当前状态为 {s}，不能{action} (the transfer is {s}; cannot {english})"),
    )
}

/// 移送执法队: a department's liaison transfers a matter to the brigade. The report is made by
/// the intake rules of a department's report (role, category, position or address,
/// attachments); the packet and the brigade's answer clock come with it.
fn transfer_in(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
    let Command::TransferIn {
        report_id,
        category_code,
        description,
        position,
        address,
        reason,
        finding,
        evidence_list,
        attachment_ids,
    } = cmd
    else {
        return Err(misrouted(cmd));
    };
    if !f.actor.roles.contains(&Role::DepartmentLiaison) {
        return Err(DomainError::forbidden(
            "只有部门联络员可以向执法队移送 (only a department's liaison transfers a matter to the brigade)",
        ));
    }
    let dept = f.department.as_ref().ok_or_else(|| {
        DomainError::forbidden("该账号未关联部门 (this liaison account acts for no department)")
    })?;
    let reason = required(reason, "reason_required", "移送理由")?;
    let finding = required(finding, "finding_required", "违法事实认定")?;
    let evidence_list = required(evidence_list, "evidence_list_required", "证据清单")?;
    let create = Command::CreateReport {
        report_id: report_id.clone(),
        source: griddispatch_protocol::command::ReportSource::Department,
        category_code: category_code.clone(),
        description: description.clone(),
        position: position.clone(),
        attachment_ids: attachment_ids.clone(),
        contact: None,
        occurred_at: None,
        address: address.clone(),
    };
    let mut change = super::report::decide(&create, f, now)?;
    let answer_due = f
        .transfer_due
        .answer
        .ok_or_else(|| DomainError::rule("no_deadline", "无法计算答复时限 (no answer deadline)"))?;
    if let Some(r) = change.report.as_mut() {
        r.transfer_in = Some(TransferIn {
            department_id: dept.id.clone(),
            department_name: dept.name.clone(),
            sent_by: f.actor.user_id.clone(),
            sent_at: now,
            reason,
            finding,
            evidence_list,
            attachment_ids: attachment_ids.clone(),
            status: TransferInStatus::Sent,
            answer_due,
            answered_by: None,
            answered_at: None,
            refusal_reason: None,
            flags: vec![],
        });
    }
    Ok(change)
}

/// Decide a transfer command.
pub(super) fn decide(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
    if matches!(cmd, Command::TransferIn { .. }) {
        return transfer_in(cmd, f, now);
    }
    let mut r = need(&f.report, "线索")?.clone();
    match cmd {
        Command::AnswerTransferIn { accept, reason, .. } => {
            brigade(f)?;
            let t = r.transfer_in.as_mut().ok_or_else(|| {
                conflict(
                    "invalid_state",
                    "该线索不是部门移送来的 (this report was not transferred in)",
                )
            })?;
            if t.status != TransferInStatus::Sent {
                return Err(conflict(
                    "invalid_state",
                    "该移送已答复 (this transfer was answered already)",
                ));
            }
            if *accept {
                t.status = TransferInStatus::Accepted;
            } else {
                let why = reason.as_deref().unwrap_or("").trim();
                if why.is_empty() {
                    return Err(DomainError::rule(
                        "refusal_reason_required",
                        "拒绝接收须书面说明理由 (a refusal must give its reason)",
                    ));
                }
                let why = required(why, "refusal_reason_required", "拒收理由")?;
                t.refusal_reason = Some(why.clone());
                t.status = TransferInStatus::Refused;
                r.status = ReportStatus::Rejected;
                r.note = Some(why);
                r.finished_at = Some(now);
            }
            t.answered_at = Some(now);
            t.answered_by = Some(f.actor.user_id.clone());
            r.updated_at = now;
        }
        Command::DecideTransfer {
            reason,
            urgent,
            ongoing_violation,
            violation_stopped,
            sender,
            ..
        } => {
            brigade(f)?;
            if *sender != TransferSender::Brigade {
                return Err(DomainError::rule(
                    "brigade_name_required",
                    "移送须以综合行政执法队（执法主体）名义作出，中队等内设机构不得以自己名义移送 (a transfer is made in the brigade's name; a squad may not send in its own name)",
                ));
            }
            if r.transfer_in.is_some() {
                return Err(conflict(
                    "retransfer_forbidden",
                    "该事项由其他部门移送而来，不得再次移送；不属本队管辖的，应拒收并说明理由，有争议的提请法制机构 (a matter transferred in may not be transferred on: refuse it with the reason, and take a dispute to the legal office)",
                ));
            }
            if r.transfer.is_some() || r.status == ReportStatus::Transferred {
                return Err(conflict(
                    "already_transferred",
                    "该事项已移送过一次，一案一移送，不得再次移送 (this matter was transferred already: one matter, one transfer)",
                ));
            }
            if !r.status.is_open() {
                return Err(super::state_err("线索", r.status.as_str(), "移送"));
            }
            // A report whose case is filed goes with its case, while the case is filed or
            // under investigation (no notice given yet): the case closes as transferred.
            let mut case = f.case.clone();
            if let Some(c) = case.as_mut() {
                use crate::domain::workflow::model::CaseStatus;
                if !matches!(c.status, CaseStatus::Filed | CaseStatus::Investigating) {
                    return Err(conflict(
                        "case_not_transferable",
                        format!(
                            "案件状态为 {}，只有已立案或调查中的案件可以移送 (only a case filed or under investigation may be transferred; this one is {})",
                            c.status.as_str(),
                            c.status.as_str()
                        ),
                    ));
                }
                if c.procedure.pending_hand_over().is_some() {
                    return Err(conflict(
                        "hand_over_pending",
                        "移送公安机关的申请待审批，先批准或不批准 (a hand-over to police awaits approval; decide it first)",
                    ));
                }
                c.status = CaseStatus::Transferred;
            }
            let dept = f
                .department
                .as_ref()
                .ok_or_else(|| DomainError::not_found("接收部门不存在 (no such department)"))?;
            if !dept.active {
                return Err(DomainError::rule(
                    "department_inactive",
                    format!("部门「{}」已停用 (the department is inactive)", dept.name),
                ));
            }
            let reason = required(reason, "reason_required", "移送理由")?;
            let stopped = match violation_stopped.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => Some(required(s, "violation_not_stopped", "制止措施")?),
                _ if *ongoing_violation => {
                    return Err(DomainError::rule(
                        "violation_not_stopped",
                        "违法行为仍在继续，须先依法制止并写明制止措施，再移送 (an ongoing violation is stopped first; say how in violation_stopped)",
                    ))
                }
                _ => None,
            };
            let send_due = f.transfer_due.send.ok_or_else(|| {
                DomainError::rule("no_deadline", "无法计算移送时限 (no sending deadline)")
            })?;
            r.transfer = Some(Transfer {
                department_id: dept.id.clone(),
                case_id: case.as_ref().map(|c| c.id.clone()),
                department_name: dept.name.clone(),
                status: TransferStatus::Decided,
                reason: reason.clone(),
                urgent: *urgent,
                violation_stopped: stopped,
                decided_by: f.actor.user_id.clone(),
                decided_at: now,
                send_due,
                sent_at: None,
                packet: None,
                answer_due: None,
                answered_at: None,
                answered_by: None,
                refusal_reason: None,
                outcome_due: None,
                outcome: None,
                outcome_at: None,
                disputes: vec![],
                flags: vec![],
            });
            r.transferred_to = Some(dept.name.clone());
            r.note = Some(reason);
            r.status = ReportStatus::Transferred;
            r.updated_at = now;
            r.finished_at = Some(now);
            if let Some(c) = case {
                return Ok(Change {
                    report: Some(r),
                    case: Some(c),
                    ..Change::default()
                });
            }
        }
        Command::SendTransfer {
            finding,
            evidence_list,
            expert_conclusions,
            attachment_ids,
            ..
        } => {
            brigade(f)?;
            check_attachments(f, attachment_ids)?;
            let number = f.number.clone();
            let t = transfer_mut(&mut r)?;
            if t.status != TransferStatus::Decided {
                return Err(status_err(t, "移送", "send it"));
            }
            let finding = required(finding, "finding_required", "违法事实认定")?;
            let evidence_list = required(evidence_list, "evidence_list_required", "证据清单")?;
            let expert = expert_conclusions
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| required(s, "text_too_long", "专家意见"))
                .transpose()?;
            let letter_number = number.ok_or_else(|| {
                DomainError::rule("no_number", "无法编制移送函文号 (no letter number)")
            })?;
            t.status = TransferStatus::Sent;
            t.sent_at = Some(now);
            t.answer_due = f.transfer_due.answer;
            t.packet = Some(TransferPacket {
                letter_number,
                finding,
                evidence_list,
                expert_conclusions: expert,
                attachment_ids: attachment_ids.clone(),
            });
            for id in attachment_ids {
                if !r.attachment_ids.contains(id) {
                    r.attachment_ids.push(id.clone());
                }
            }
            r.updated_at = now;
        }
        Command::AnswerTransfer { accept, reason, .. } => {
            let t = transfer_mut(&mut r)?;
            receiver(f, t)?;
            if t.status != TransferStatus::Sent {
                return Err(status_err(t, "答复", "answer it"));
            }
            if *accept {
                t.status = TransferStatus::Accepted;
                t.outcome_due = f.transfer_due.outcome;
            } else {
                let why = reason.as_deref().unwrap_or("").trim();
                if why.is_empty() {
                    return Err(DomainError::rule(
                        "refusal_reason_required",
                        "拒绝接收须书面说明理由 (a refusal must give its reason)",
                    ));
                }
                t.refusal_reason = Some(required(why, "refusal_reason_required", "拒收理由")?);
                t.status = TransferStatus::Refused;
            }
            t.answered_at = Some(now);
            t.answered_by = Some(f.actor.user_id.clone());
            r.updated_at = now;
        }
        Command::ReportTransferOutcome { outcome, .. } => {
            let t = transfer_mut(&mut r)?;
            receiver(f, t)?;
            if t.status != TransferStatus::Accepted {
                return Err(status_err(t, "反馈处理结果", "report its outcome"));
            }
            t.outcome = Some(required(outcome, "outcome_required", "处理结果")?);
            t.outcome_at = Some(now);
            t.status = TransferStatus::Concluded;
            r.updated_at = now;
        }
        Command::DisputeTransfer { level, note, .. } => {
            brigade(f)?;
            let t = transfer_mut(&mut r)?;
            let next_ok = match (t.status, level) {
                (TransferStatus::Refused, DisputeLevel::LegalOffice) => true,
                (TransferStatus::Disputed, DisputeLevel::Government) => {
                    t.disputes.last().map(|d| d.level) == Some(DisputeLevel::LegalOffice)
                }
                _ => false,
            };
            if !next_ok {
                return Err(conflict(
                    "dispute_order",
                    "移送争议先提请法制机构，再报请本级人民政府；只有被拒收的移送可以提出争议 (a dispute over a refused transfer goes to the legal office first, then to the government)",
                ));
            }
            t.disputes.push(TransferDispute {
                level: *level,
                note: required(note, "note_required", "争议意见")?,
                at: now,
            });
            t.status = TransferStatus::Disputed;
            r.updated_at = now;
        }
        Command::FlagTransferDeadline { clock, level, .. } => {
            if !f.actor.is_system {
                return Err(DomainError::forbidden(
                    "移送时限预警由系统发出 (only the server flags transfer clocks)",
                ));
            }
            if level != "yellow" && level != "red" {
                return Err(DomainError::rule(
                    "invalid_level",
                    "level 须为 yellow 或 red (level must be yellow or red)",
                ));
            }
            if clock == "in_answer" {
                let t = r
                    .transfer_in
                    .as_mut()
                    .filter(|t| t.status == TransferInStatus::Sent)
                    .ok_or_else(|| {
                        conflict(
                            "invalid_state",
                            "移送答复时限未在计时 (the clock is not running)",
                        )
                    })?;
                if t.flags.iter().any(|x| &x.level == level) {
                    return Err(conflict("invalid_state", "已预警 (already flagged)"));
                }
                t.flags.push(TransferFlag {
                    clock: clock.clone(),
                    level: level.clone(),
                    at: now,
                });
                return Ok(Change {
                    report: Some(r),
                    ..Change::default()
                });
            }
            let t = transfer_mut(&mut r)?;
            if t.running_clock().map(|c| c.0) != Some(clock.as_str()) {
                return Err(conflict(
                    "invalid_state",
                    format!("移送时限 {clock} 未在计时 (the {clock} clock is not running)"),
                ));
            }
            if t.flags
                .iter()
                .any(|x| &x.clock == clock && &x.level == level)
            {
                return Err(conflict("invalid_state", "已预警 (already flagged)"));
            }
            t.flags.push(TransferFlag {
                clock: clock.clone(),
                level: level.clone(),
                at: now,
            });
        }
        other => return Err(misrouted(other)),
    }
    Ok(Change {
        report: Some(r),
        ..Change::default()
    })
}

fn transfer_mut(r: &mut crate::domain::workflow::Report) -> Result<&mut Transfer, DomainError> {
    r.transfer.as_mut().ok_or_else(|| {
        conflict(
            "invalid_state",
            "该线索没有移送 (this report has no transfer)",
        )
    })
}
