//! 案件: the rules of a case under the general procedure — filing or declining a proposal.

use chrono::NaiveDateTime;
use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::super::model::CaseStatus;
use super::super::rules::DomainError;
use super::{misrouted, need, required, state_err, Change, Facts};

pub(super) fn decide(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
    let a = &f.actor;
    match cmd {
        Command::FileCase { .. } | Command::DeclineCase { .. } => {
            a.require(Role::Approver, "决定是否立案")?;
            let mut c = need(&f.case, "案件")?.clone();
            if c.status != CaseStatus::Proposed {
                return Err(state_err("案件", c.status.as_str(), "决定是否立案"));
            }
            c.decided_by = Some(a.user_id.clone());
            c.decided_at = Some(now);
            if let Command::DeclineCase { reason, .. } = cmd {
                c.decline_reason = Some(required(reason, "reason_required", "不予立案理由")?);
                c.status = CaseStatus::Declined;
            } else {
                c.number = Some(
                    f.number
                        .clone()
                        .ok_or_else(|| DomainError::rule("no_number", "no case number"))?,
                );
                c.status = CaseStatus::Filed;
            }
            Ok(Change {
                case: Some(c),
                ..Change::default()
            })
        }
        other => Err(misrouted(other)),
    }
}
