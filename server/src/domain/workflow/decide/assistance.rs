//! 执法协助 (seed 000 三(二)(五)): the brigade asks a department or an expert body in writing
//! for a finding, an opinion, a test or an appraisal; the department answers in writing within
//! 5 working days, or announces before the deadline that it needs longer — at most 10 days in
//! all; the answer's documents join the evidence of the report and of its case.

use chrono::NaiveDateTime;
use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::{check_attachments, misrouted, need, required, Change, Facts};
use crate::domain::workflow::model::{
    Assistance, AssistanceExtension, AssistanceFlag, AssistanceStatus,
};
use crate::domain::workflow::rules::{DomainError, ErrorKind};

/// Due time of a new request's answer clock (computed by the handler on the calendar) and the
/// letter number reserved for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AssistanceDue {
    /// Answer due (5 working days from now).
    pub answer: Option<NaiveDateTime>,
}

fn conflict(code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError {
        kind: ErrorKind::InvalidState,
        code,
        message: message.into(),
    }
}

/// The brigade asks, in its name (书面函告): dispatcher, duty chief, approver.
fn brigade(f: &Facts) -> Result<(), DomainError> {
    if [Role::Dispatcher, Role::DutyChief, Role::Approver]
        .iter()
        .any(|r| f.actor.roles.contains(r))
    {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "只有执法队（调度员、值班长、审批负责人）可以以执法队名义函请协助 (only the brigade — dispatcher, duty chief, approver — asks for assistance, in the brigade's name)",
        ))
    }
}

/// The addressed department's liaison, for this request.
fn addressed(f: &Facts, a: &Assistance) -> Result<(), DomainError> {
    if !f.actor.roles.contains(&Role::DepartmentLiaison) {
        return Err(DomainError::forbidden(
            "只有被请求部门的联络员可以答复协助请求 (only the addressed department's liaison answers an assistance request)",
        ));
    }
    if f.actor_department.as_deref() != Some(a.department_id.as_str()) {
        return Err(DomainError::out_of_scope(
            "该协助请求不是发给本部门的 (this assistance request was not addressed to your department)",
        ));
    }
    Ok(())
}

/// Decide an assistance command.
pub(super) fn decide(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
    let mut r = need(&f.report, "线索")?.clone();
    let mut case = None;
    match cmd {
        Command::RequestAssistance {
            request_id,
            case_id,
            kind,
            question,
            attachment_ids,
            ..
        } => {
            brigade(f)?;
            if uuid::Uuid::parse_str(request_id).is_err() {
                return Err(DomainError::rule(
                    "invalid_id",
                    "协助请求编号须为 UUID (a request id is a UUID)",
                ));
            }
            if f.id_taken || r.assistance.iter().any(|a| &a.id == request_id) {
                return Err(DomainError::state(
                    "该编号已被使用 (an object with this id exists)",
                ));
            }
            if let Some(cid) = case_id {
                let c = need(&f.case, "案件")?;
                if &c.id != cid || c.report_id != r.id {
                    return Err(DomainError::rule(
                        "case_mismatch",
                        "该案件不是由这条线索立案的 (the case does not come from this report)",
                    ));
                }
            } else if !r.status.is_open() {
                // Without a case, only a matter still being worked on: not one rejected,
                // merged, transferred or closed.
                return Err(super::state_err("线索", r.status.as_str(), "请求协助"));
            }
            check_attachments(f, attachment_ids)?;
            let dept = f
                .department
                .as_ref()
                .ok_or_else(|| DomainError::not_found("被请求部门不存在 (no such department)"))?;
            if !dept.active {
                return Err(DomainError::rule(
                    "department_inactive",
                    format!("部门「{}」已停用 (the department is inactive)", dept.name),
                ));
            }
            let question = required(question, "question_required", "协助事项")?;
            let due = f.assistance_due.answer.ok_or_else(|| {
                DomainError::rule("no_deadline", "无法计算答复时限 (no answer deadline)")
            })?;
            let letter_number = f.number.clone().ok_or_else(|| {
                DomainError::rule("no_number", "无法编制协助函文号 (no letter number)")
            })?;
            r.assistance.push(Assistance {
                id: request_id.clone(),
                case_id: case_id.clone(),
                department_id: dept.id.clone(),
                department_name: dept.name.clone(),
                kind: *kind,
                question,
                attachment_ids: attachment_ids.clone(),
                letter_number,
                status: AssistanceStatus::Requested,
                requested_by: f.actor.user_id.clone(),
                requested_at: now,
                first_due: due,
                due,
                extensions: vec![],
                answer: None,
                answer_attachment_ids: vec![],
                answered_by: None,
                answered_at: None,
                flags: vec![],
            });
            for id in attachment_ids {
                if !r.attachment_ids.contains(id) {
                    r.attachment_ids.push(id.clone());
                }
            }
        }
        Command::ExtendAssistance {
            request_id,
            days,
            reason,
            ..
        } => {
            let max = f.case_rules.assistance_max_extension_days;
            let a = request_mut(&mut r, request_id)?;
            addressed(f, a)?;
            if a.status != AssistanceStatus::Requested {
                return Err(conflict(
                    "invalid_state",
                    "该协助请求已答复，不能延期 (the request is answered; cannot extend it)",
                ));
            }
            if now >= a.due {
                return Err(conflict(
                    "assistance_deadline_passed",
                    "答复期限已过，延期须在期限届满前告知 (the deadline has passed: an extension is announced before it)",
                ));
            }
            if *days == 0 {
                return Err(DomainError::rule(
                    "invalid_days",
                    "延长天数须大于 0 (days must be at least 1)",
                ));
            }
            let total = a.extended_days().saturating_add(*days);
            if total > max {
                return Err(DomainError::rule(
                    "assistance_extension_too_long",
                    format!(
                        "延期累计不得超过 {max} 日，已延 {} 日 (extensions may add at most {max} days in all; {} already added)",
                        a.extended_days(),
                        a.extended_days()
                    ),
                ));
            }
            let reason = required(reason, "reason_required", "延期理由")?;
            let due = a.due + chrono::Duration::days(i64::from(*days));
            a.extensions.push(AssistanceExtension {
                days: *days,
                reason,
                by: f.actor.user_id.clone(),
                at: now,
                due,
            });
            a.due = due;
        }
        Command::AnswerAssistance {
            request_id,
            answer,
            attachment_ids,
            ..
        } => {
            check_attachments(f, attachment_ids)?;
            let a = request_mut(&mut r, request_id)?;
            addressed(f, a)?;
            if a.status != AssistanceStatus::Requested {
                return Err(conflict(
                    "invalid_state",
                    "该协助请求已答复 (the request is answered already)",
                ));
            }
            a.answer = Some(required(answer, "answer_required", "答复意见")?);
            a.answer_attachment_ids = attachment_ids.clone();
            a.answered_by = Some(f.actor.user_id.clone());
            a.answered_at = Some(now);
            a.status = AssistanceStatus::Answered;
            let case_id = a.case_id.clone();
            // The written answer and its documents are evidence of the matter (作为实施行政处罚
            // 的依据): the report's, and the case's when it serves one.
            for id in attachment_ids {
                if !r.attachment_ids.contains(id) {
                    r.attachment_ids.push(id.clone());
                }
            }
            if case_id.is_some() && !attachment_ids.is_empty() {
                let mut c = need(&f.case, "案件")?.clone();
                for id in attachment_ids {
                    if !c.evidence_ids.contains(id) {
                        c.evidence_ids.push(id.clone());
                    }
                }
                case = Some(c);
            }
        }
        Command::FlagAssistanceDeadline {
            request_id, level, ..
        } => {
            if !f.actor.is_system {
                return Err(DomainError::forbidden(
                    "协助时限预警由系统发出 (only the server flags assistance clocks)",
                ));
            }
            if level != "yellow" && level != "red" {
                return Err(DomainError::rule(
                    "invalid_level",
                    "level 须为 yellow 或 red (level must be yellow or red)",
                ));
            }
            let a = request_mut(&mut r, request_id)?;
            if a.status != AssistanceStatus::Requested {
                return Err(conflict(
                    "invalid_state",
                    "协助请求已答复 (the request is answered)",
                ));
            }
            let due = a.due;
            if a.flags.iter().any(|x| &x.level == level && x.due == due) {
                return Err(conflict("invalid_state", "已预警 (already flagged)"));
            }
            a.flags.push(AssistanceFlag {
                level: level.clone(),
                due,
                at: now,
            });
        }
        other => return Err(misrouted(other)),
    }
    r.updated_at = now;
    Ok(Change {
        report: Some(r),
        case,
        ..Change::default()
    })
}

fn request_mut<'a>(
    r: &'a mut crate::domain::workflow::Report,
    id: &str,
) -> Result<&'a mut Assistance, DomainError> {
    r.assistance
        .iter_mut()
        .find(|a| a.id == id)
        .ok_or_else(|| DomainError::not_found("没有这个协助请求 (no such assistance request)"))
}
