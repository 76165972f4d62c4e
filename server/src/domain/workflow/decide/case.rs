//! 案件: the rules of a case under the general procedure (行政处罚法 2021, chapter V; seeds 002
//! 第十二条, 003 三(二)(三)) — filing, investigation by two certified officers, notice, statement
//! and hearing, legal review before any decision, collective discussion of major cases, the
//! decision within 90 days of filing, service, payment at the bank, publication, archive, and
//! hand-over to police when a crime is suspected.

use chrono::{Duration, NaiveDateTime, Timelike};
use griddispatch_protocol::case::{
    CaseDecision, CaseRecordKind, PaymentChannel, PaymentPlanKind, Sanction, SanctionKind,
    ServiceMethod,
};
use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::super::model::CaseStatus;
use super::super::procedure::{
    Archive, CaseRecord, CourtApplication, Decision, Discussion, Extension, HandOver,
    HandOverProposal, Hearing, Instalment, Notice, Payment, PaymentPlan, Procedure, Reminder,
    Review, Service, Statement,
};
use super::super::rules::DomainError;
use super::{check_attachments, misrouted, need, required, state_err, Change, Facts, OfficerFact};

pub(super) fn decide(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
    let a = &f.actor;
    let rules = &f.case_rules;
    let mut c = need(&f.case, "案件")?.clone();
    let p = &mut c.procedure;
    match cmd {
        Command::FileCase { .. } | Command::DeclineCase { .. } => {
            a.require(Role::Approver, "决定是否立案")?;
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
                p.filed_at = Some(now);
                p.decision_due_at = Some(now + Duration::days(rules.decision_days));
                c.status = CaseStatus::Filed;
            }
        }
        Command::StartInvestigation { officer_ids, .. } => {
            if !(a.has(Role::Approver) || a.has(Role::SquadLeader)) {
                return Err(DomainError::forbidden(
                    "只有镇政府负责人或中队长可以指派调查人员 (only an approver or a squad leader assigns investigators)",
                ));
            }
            expect(
                c.status,
                &[CaseStatus::Filed, CaseStatus::Investigating],
                "指派调查人员",
            )?;
            let ids = two_certified_officers(officer_ids, &f.officers, "调查取证")?;
            p.investigators = ids;
            c.status = CaseStatus::Investigating;
        }
        Command::AddCaseRecord {
            record_id,
            kind,
            officer_ids,
            certificates_shown,
            content,
            attachment_ids,
            ..
        } => {
            investigator(f, &p.investigators, "制作调查笔录")?;
            expect(c.status, &[CaseStatus::Investigating], "制作调查笔录")?;
            if uuid::Uuid::parse_str(record_id).is_err() {
                return Err(DomainError::rule(
                    "invalid_id",
                    "record_id 须为 UUID (record_id must be a UUID)",
                ));
            }
            if p.records.iter().any(|r| &r.id == record_id) {
                return Err(DomainError::state("该笔录已存在 (this record exists)"));
            }
            let ids = two_certified_officers(officer_ids, &f.officers, "制作笔录")?;
            if let Some(stranger) = ids.iter().find(|id| !p.investigators.contains(id)) {
                return Err(DomainError::rule(
                    "not_an_investigator",
                    format!("{stranger} 不是本案调查人员 (not one of the case's investigators)"),
                ));
            }
            if !ids.contains(&a.user_id) {
                return Err(DomainError::out_of_scope(
                    "笔录须由在场的调查人员录入 (the record is entered by an officer who was there)",
                ));
            }
            if !certificates_shown {
                return Err(DomainError::rule(
                    "certificate_not_shown",
                    "调查时须向当事人出示执法证件 (officers must show their certificates to the party, art. 55)",
                ));
            }
            check_attachments(f, attachment_ids)?;
            p.records.push(CaseRecord {
                id: record_id.clone(),
                kind: *kind,
                officer_ids: ids,
                content: required(content, "content_required", "笔录内容")?,
                attachment_ids: attachment_ids.clone(),
                decide_by: if *kind == CaseRecordKind::EvidencePreservation {
                    Some(f.preservation_due_at.ok_or_else(|| {
                        DomainError::rule(
                            "no_deadline",
                            "未能计算先行登记保存的处理期限 (no deadline for the preservation)",
                        )
                    })?)
                } else {
                    None
                },
                preservation: None,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::DecidePreservation {
            record_id,
            measure,
            note,
            ..
        } => {
            a.require(Role::Approver, "先行登记保存处理决定")?;
            if !c.status.before_decision() || c.status == CaseStatus::Proposed {
                return Err(state_err("案件", c.status.as_str(), "先行登记保存处理决定"));
            }
            let note = required(note, "note_required", "处理决定的理由")?;
            let r = p
                .records
                .iter_mut()
                .find(|r| &r.id == record_id)
                .ok_or_else(|| {
                    DomainError::not_found("没有这份笔录 (no such record in this case)")
                })?;
            if r.kind != CaseRecordKind::EvidencePreservation {
                return Err(DomainError::rule(
                    "not_a_preservation",
                    "这份笔录不是先行登记保存 (this record is not an evidence preservation)",
                ));
            }
            if r.preservation.is_some() {
                return Err(DomainError::state(
                    "已作出处理决定 (the kept evidence was decided already)",
                ));
            }
            r.preservation = Some(super::super::procedure::PreservationDecision {
                measure: *measure,
                note,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::NotifyParty {
            party,
            facts,
            legal_basis,
            sanctions,
            ..
        } => {
            investigator(f, &p.investigators, "告知当事人")?;
            expect(c.status, &[CaseStatus::Investigating], "告知当事人")?;
            if p.records.is_empty() {
                return Err(DomainError::rule(
                    "investigation_required",
                    "告知前须有调查笔录 (an investigation record must exist before the notice)",
                ));
            }
            required(&party.name, "party_required", "当事人名称")?;
            check_sanctions(sanctions)?;
            let hearing_right = rules.hearing_right(party.kind, sanctions);
            p.notice = Some(Notice {
                party: party.clone(),
                facts: required(facts, "facts_required", "违法事实")?,
                legal_basis: required(legal_basis, "legal_basis_required", "法律依据")?,
                sanctions: sanctions.clone(),
                hearing_right,
                hearing_request_until: due(f.case_due.hearing_request_until, "听证申请")?,
                statement_until: due(f.case_due.statement_until, "陈述申辩")?,
                by: a.user_id.clone(),
                at: now,
            });
            c.status = CaseStatus::Notified;
        }
        Command::RecordStatement {
            content, waived, ..
        } => {
            investigator(f, &p.investigators, "记录陈述申辩")?;
            expect(
                c.status,
                &[CaseStatus::Notified, CaseStatus::Hearing],
                "记录陈述申辩",
            )?;
            p.statements.push(Statement {
                content: required(content, "content_required", "陈述申辩内容")?,
                waived: *waived,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::RequestHearing { .. } => {
            investigator(f, &p.investigators, "登记听证申请")?;
            expect(c.status, &[CaseStatus::Notified], "登记听证申请")?;
            let notice = p
                .notice
                .as_ref()
                .ok_or_else(|| DomainError::state("尚未告知 (no notice yet)"))?;
            if !notice.hearing_right {
                return Err(DomainError::rule(
                    "hearing_not_available",
                    "拟作出的处罚不属于听证范围 (the intended penalty gives no right to a hearing, art. 63)",
                ));
            }
            if now > notice.hearing_request_until {
                return Err(DomainError::rule(
                    "hearing_request_late",
                    format!(
                        "听证申请须在告知后 {} 个工作日内提出，已于 {} 截止 (a hearing must be asked for within {} working days of the notice)",
                        rules.hearing_request_working_days, notice.hearing_request_until, rules.hearing_request_working_days
                    ),
                ));
            }
            p.hearing = Some(Hearing {
                requested_at: now,
                host_id: None,
                hearing_at: None,
                noticed_at: None,
                public: true,
                not_public_reason: None,
                record: None,
                attachment_ids: vec![],
                held_at: None,
            });
            c.status = CaseStatus::Hearing;
        }
        Command::ScheduleHearing {
            host_id,
            hearing_at,
            public,
            not_public_reason,
            ..
        } => {
            if !(a.has(Role::Approver) || a.has(Role::LegalReviewer)) {
                return Err(DomainError::forbidden(
                    "只有镇政府负责人或法制审核员可以安排听证 (only an approver or a legal reviewer schedules a hearing)",
                ));
            }
            expect(c.status, &[CaseStatus::Hearing], "安排听证")?;
            if p.investigators.contains(host_id) {
                return Err(DomainError::rule(
                    "host_investigated",
                    "听证主持人不能是本案调查人员 (the host may not have investigated the case, art. 64)",
                ));
            }
            let host = f
                .host
                .as_ref()
                .filter(|h| &h.user_id == host_id && h.active);
            let qualified =
                host.is_some_and(|h| h.is_legal_reviewer || (h.is_officer && h.certified));
            if !qualified {
                return Err(DomainError::rule(
                    "host_not_qualified",
                    "听证主持人须为法制审核员或持有效执法证的人员 (the host must be a legal reviewer or a certified officer)",
                ));
            }
            // Stored instants carry microseconds (both databases keep no more).
            let hearing_at = hearing_at.naive_utc();
            let hearing_at = hearing_at
                .with_nanosecond(hearing_at.nanosecond() / 1000 * 1000)
                .unwrap_or(hearing_at);
            let earliest = due(f.case_due.hearing_earliest_at, "听证通知")?;
            if hearing_at < earliest {
                return Err(DomainError::rule(
                    "hearing_notice_too_short",
                    format!(
                        "听证通知须在举行听证 {} 个工作日前送达，最早 {earliest} 举行 (the hearing must be at least {} working days after its notice)",
                        rules.hearing_notice_working_days, rules.hearing_notice_working_days
                    ),
                ));
            }
            let reason = not_public_reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            if !public && reason.is_none() {
                return Err(DomainError::rule(
                    "reason_required",
                    "不公开举行听证须说明理由（国家秘密、商业秘密或个人隐私）(say why the hearing is not public)",
                ));
            }
            let h = p
                .hearing
                .as_mut()
                .ok_or_else(|| DomainError::state("没有听证申请 (no hearing asked for)"))?;
            if h.held_at.is_some() {
                return Err(DomainError::state("听证已举行 (the hearing was held)"));
            }
            h.host_id = Some(host_id.clone());
            h.hearing_at = Some(hearing_at);
            h.noticed_at = Some(now);
            h.public = *public;
            h.not_public_reason = reason.map(str::to_owned);
        }
        Command::RecordHearing {
            record,
            attachment_ids,
            ..
        } => {
            expect(c.status, &[CaseStatus::Hearing], "记录听证")?;
            let h = p
                .hearing
                .as_mut()
                .ok_or_else(|| DomainError::state("没有听证申请 (no hearing asked for)"))?;
            if h.host_id.as_deref() != Some(a.user_id.as_str()) {
                return Err(DomainError::out_of_scope(
                    "听证笔录由主持人制作 (the host records the hearing)",
                ));
            }
            if h.held_at.is_some() {
                return Err(DomainError::state("听证已记录 (the hearing is recorded)"));
            }
            if h.hearing_at.is_some_and(|t| now < t) {
                return Err(DomainError::rule(
                    "hearing_not_yet",
                    "听证尚未到举行时间 (the hearing has not taken place yet)",
                ));
            }
            check_attachments(f, attachment_ids)?;
            h.record = Some(required(record, "record_required", "听证笔录")?);
            h.attachment_ids = attachment_ids.clone();
            h.held_at = Some(now);
        }
        Command::SubmitForReview { .. } => {
            investigator(f, &p.investigators, "提请法制审核")?;
            expect(
                c.status,
                &[CaseStatus::Notified, CaseStatus::Hearing],
                "提请法制审核",
            )?;
            let notice = p
                .notice
                .as_ref()
                .ok_or_else(|| DomainError::state("尚未告知 (no notice yet)"))?;
            if p.hearing_pending() {
                return Err(DomainError::rule(
                    "hearing_pending",
                    "当事人申请的听证尚未举行 (the hearing the party asked for has not been held)",
                ));
            }
            let waived = p.statements.iter().any(|s| s.waived);
            let period_end = if notice.hearing_right && p.hearing.is_none() {
                notice.hearing_request_until.max(notice.statement_until)
            } else {
                notice.statement_until
            };
            if !waived && now < period_end {
                return Err(DomainError::rule(
                    "statement_period_open",
                    format!("当事人陈述申辩（听证申请）期限至 {period_end} 未满 (the party's period to state, defend or ask for a hearing runs until {period_end})"),
                ));
            }
            super::check_case_evidence_proves(f)?;
            c.status = CaseStatus::LegalReview;
        }
        Command::ReviewCase {
            passed, opinion, ..
        } => {
            a.require(Role::LegalReviewer, "法制审核")?;
            expect(c.status, &[CaseStatus::LegalReview], "法制审核")?;
            if p.investigators.contains(&a.user_id) {
                return Err(DomainError::rule(
                    "reviewer_investigated",
                    "法制审核人员不能审核本人调查的案件 (a reviewer may not review a case they investigated)",
                ));
            }
            if p.review_passed() {
                return Err(DomainError::state("已通过法制审核 (already passed)"));
            }
            p.reviews.push(Review {
                by: a.user_id.clone(),
                passed: *passed,
                opinion: required(opinion, "opinion_required", "审核意见")?,
                at: now,
            });
            if !passed {
                // 退回补充调查: the case goes back to its investigators with the opinion.
                c.status = CaseStatus::Investigating;
            }
        }
        Command::RecordDiscussion {
            participants,
            minutes,
            conclusion,
            ..
        } => {
            a.require(Role::Approver, "记录集体讨论")?;
            expect(c.status, &[CaseStatus::LegalReview], "记录集体讨论")?;
            let people: Vec<String> = participants
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if people.len() < 3 {
                return Err(DomainError::rule(
                    "participants_required",
                    "集体讨论至少须有 3 名参加人员 (a collective discussion needs at least 3 participants)",
                ));
            }
            p.discussion = Some(Discussion {
                participants: people,
                minutes: required(minutes, "minutes_required", "讨论记录")?,
                conclusion: required(conclusion, "conclusion_required", "讨论结论")?,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::ExtendCaseDeadline { days, reason, .. } => {
            a.require(Role::Approver, "延长办案期限")?;
            if !c.status.before_decision() {
                return Err(state_err("案件", c.status.as_str(), "延长办案期限"));
            }
            if *days == 0 || *days > rules.max_extension_days {
                return Err(DomainError::rule(
                    "invalid_extension",
                    format!(
                        "延长天数须为 1–{} 天 (1 to {} days)",
                        rules.max_extension_days, rules.max_extension_days
                    ),
                ));
            }
            let due = p
                .decision_due_at
                .ok_or_else(|| DomainError::state("案件尚未立案 (not filed)"))?;
            p.decision_due_at = Some(due + Duration::days(i64::from(*days)));
            p.extensions.push(Extension {
                days: *days,
                reason: required(reason, "reason_required", "延期理由")?,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::DecideCase { decision, .. } => {
            a.require(Role::Approver, "作出处罚决定")?;
            if c.status == CaseStatus::HandedOver {
                return Err(DomainError::rule(
                    "handed_to_police",
                    "案件已移送公安机关，不得以罚代刑 (the case went to police; no penalty instead of prosecution)",
                ));
            }
            if p.pending_hand_over().is_some() {
                return Err(DomainError::rule(
                    "hand_over_pending",
                    "移送公安机关的申请待审批，不得以罚代刑：先批准或不批准移送 (a hand-over to police awaits approval; approve or refuse it first)",
                ));
            }
            expect(c.status, &[CaseStatus::LegalReview], "作出决定")?;
            if !p.review_passed() {
                return Err(DomainError::rule(
                    "legal_review_required",
                    "未经法制审核或审核未通过的，不得作出决定 (no decision without a passed legal review, art. 58)",
                ));
            }
            let notice = p
                .notice
                .as_ref()
                .ok_or_else(|| DomainError::state("尚未告知 (no notice yet)"))?;
            if p.records
                .iter()
                .any(|r| r.kind == CaseRecordKind::EvidencePreservation && r.preservation.is_none())
            {
                return Err(DomainError::rule(
                    "preservation_undecided",
                    "先行登记保存的证据尚未作出处理决定，须先作出 (decide what becomes of the kept evidence first, art. 56)",
                ));
            }
            let major = notice.hearing_right || p.hearing.is_some();
            if major && p.discussion.is_none() {
                return Err(DomainError::rule(
                    "collective_discussion_required",
                    "重大案件须经集体讨论决定 (a major case is decided after a collective discussion, art. 57)",
                ));
            }
            if let Some(due) = p.decision_due_at {
                if now > due {
                    return Err(DomainError::rule(
                        "case_deadline_passed",
                        format!("已超过办案期限 {due}（立案之日起 {} 日），须先经批准延长 (past the decision limit; extend it first, art. 60)", rules.decision_days),
                    ));
                }
            }
            if let CaseDecision::Penalty {
                sanctions,
                facts,
                legal_basis,
                discretion,
                statements_answer,
            } = decision
            {
                check_sanctions(sanctions)?;
                for field in [
                    (facts, "facts_required", "违法事实"),
                    (legal_basis, "legal_basis_required", "法律依据"),
                    (discretion, "discretion_required", "适用的裁量基准"),
                    (
                        statements_answer,
                        "statements_answer_required",
                        "对陈述申辩的采纳情况",
                    ),
                ] {
                    required(field.0, field.1, field.2)?;
                }
                not_heavier(sanctions, &notice.sanctions)?;
            } else if let CaseDecision::NoPenalty {
                facts,
                legal_basis,
                reason,
            } = decision
            {
                required(facts, "facts_required", "违法事实")?;
                required(legal_basis, "legal_basis_required", "法律依据")?;
                required(reason, "reason_required", "不予处罚理由")?;
            }
            let penalty = matches!(decision, CaseDecision::Penalty { .. });
            p.decision = Some(Decision {
                number: f
                    .number
                    .clone()
                    .ok_or_else(|| DomainError::rule("no_number", "no decision number"))?,
                decision: decision.clone(),
                by: a.user_id.clone(),
                at: now,
                serve_by: due(f.case_due.serve_by, "送达")?,
                publish_by: if penalty { f.publish_due_at } else { None },
            });
            c.status = CaseStatus::Decided;
        }
        Command::ServeDecision {
            method,
            consent_to_electronic,
            receipt_attachment_id,
            ..
        } => {
            investigator(f, &p.investigators, "送达决定书")?;
            expect(c.status, &[CaseStatus::Decided], "送达")?;
            if *method == ServiceMethod::Electronic && !consent_to_electronic {
                return Err(DomainError::rule(
                    "consent_required",
                    "电子送达须经当事人同意 (electronic service needs the party's consent, art. 61)",
                ));
            }
            if let Some(id) = receipt_attachment_id {
                check_attachments(f, std::slice::from_ref(id))?;
            }
            let serve_by = p.decision.as_ref().map_or(now, |d| d.serve_by);
            p.service = Some(Service {
                method: *method,
                receipt_attachment_id: receipt_attachment_id.clone(),
                late: now > serve_by,
                by: a.user_id.clone(),
                at: now,
            });
            c.status = CaseStatus::Served;
        }
        Command::RecordPayment {
            amount_fen,
            channel,
            reference,
            ..
        } => {
            officer_or_approver(f, &p.investigators, "登记缴款")?;
            expect(
                c.status,
                &[CaseStatus::Served, CaseStatus::Published],
                "登记缴款",
            )?;
            if *channel == PaymentChannel::Officer {
                return Err(DomainError::rule(
                    "payment_to_officer",
                    "罚缴分离：罚款须到指定银行或通过电子支付缴纳，执法人员不得收缴 (fines are paid at the bank, never to officers, art. 67)",
                ));
            }
            let fine = p.fine_fen();
            if fine == 0 {
                return Err(DomainError::rule(
                    "no_fine",
                    "本决定没有罚款 (this decision has no fine)",
                ));
            }
            if p.payment.is_some() {
                return Err(DomainError::state("罚款已缴纳 (the fine is paid)"));
            }
            let reference = required(reference, "reference_required", "银行缴款凭证号")?;
            let paid = |amount_fen: i64, surcharge_fen: i64| Payment {
                amount_fen,
                surcharge_fen,
                channel: *channel,
                reference: reference.clone(),
                by: a.user_id.clone(),
                at: now,
            };
            if let Some(plan) = p.payment_plan.as_mut().filter(|pl| pl.in_force()) {
                // An approved deferral or instalment plan: the next part, with a surcharge only
                // once its own day has passed.
                let Some(part) = plan.instalments.iter_mut().find(|i| i.paid.is_none()) else {
                    return Err(DomainError::state("罚款已缴纳 (the fine is paid)"));
                };
                let due = rules.instalment_due(part, now);
                if *amount_fen != due {
                    return Err(DomainError::rule(
                        "amount_mismatch",
                        format!("本期（{} 到期）应缴 {} 元（本期 {} 元，加处罚款 {} 元），登记金额 {} 元 (amount due for this instalment differs)", part.due_on, yuan(due), yuan(part.amount_fen), yuan(due - part.amount_fen), yuan(*amount_fen)),
                    ));
                }
                part.paid = Some(paid(due, due - part.amount_fen));
                if plan.instalments.iter().all(|i| i.paid.is_some()) {
                    let total: i64 = plan
                        .instalments
                        .iter()
                        .filter_map(|i| i.paid.as_ref())
                        .map(|x| x.amount_fen)
                        .sum();
                    let surcharge: i64 = plan
                        .instalments
                        .iter()
                        .filter_map(|i| i.paid.as_ref())
                        .map(|x| x.surcharge_fen)
                        .sum();
                    p.payment = Some(paid(total, surcharge));
                }
            } else {
                let served = p.service.as_ref().map_or(now, |s| s.at);
                let due = rules.amount_due(fine, served, now);
                if *amount_fen != due {
                    return Err(DomainError::rule(
                        "amount_mismatch",
                        format!("应缴 {} 元（罚款 {} 元，加处罚款 {} 元），登记金额 {} 元 (amount due differs)", yuan(due), yuan(fine), yuan(due - fine), yuan(*amount_fen)),
                    ));
                }
                p.payment = Some(paid(due, due - fine));
            }
        }
        Command::RequestPaymentPlan {
            kind,
            instalments,
            reason,
            ..
        } => {
            officer_or_approver(f, &p.investigators, "登记延期、分期缴纳申请")?;
            unpaid_fine(c.status, p, "申请延期、分期缴纳")?;
            if p.payment_plan
                .as_ref()
                .is_some_and(|pl| pl.approved.is_none())
            {
                return Err(DomainError::state(
                    "已有待批准的延期、分期缴纳申请 (an application is waiting for the approver)",
                ));
            }
            if p.payment_plan.as_ref().is_some_and(|pl| pl.in_force()) {
                return Err(DomainError::state(
                    "已批准延期、分期缴纳 (a deferral or instalment plan is in force)",
                ));
            }
            let reason = required(reason, "reason_required", "申请理由")?;
            let parts = match kind {
                PaymentPlanKind::Deferral => instalments.len() == 1,
                PaymentPlanKind::Instalments => instalments.len() >= 2,
            };
            if !parts {
                return Err(DomainError::rule(
                    "invalid_payment_plan",
                    "延期缴纳为一期，分期缴纳至少两期 (a deferral has one part, instalments two or more)",
                ));
            }
            let today = crate::domain::time::china_date(now);
            let mut last: Option<chrono::NaiveDate> = None;
            for part in instalments {
                if part.amount_fen <= 0 {
                    return Err(DomainError::rule(
                        "invalid_payment_plan",
                        "每期金额须大于 0（分）(each part needs a positive amount in fen)",
                    ));
                }
                if part.due_on <= today || last.is_some_and(|l| part.due_on <= l) {
                    return Err(DomainError::rule(
                        "invalid_payment_plan",
                        "各期缴纳日期须晚于今天并依次递增 (the parts' days must be after today and in order)",
                    ));
                }
                last = Some(part.due_on);
            }
            let total: i64 = instalments.iter().map(|i| i.amount_fen).sum();
            if total != p.fine_fen() {
                return Err(DomainError::rule(
                    "invalid_payment_plan",
                    format!(
                        "各期合计 {} 元，与罚款 {} 元不符 (the parts must add up to the fine)",
                        yuan(total),
                        yuan(p.fine_fen())
                    ),
                ));
            }
            if let Some(old) = p.payment_plan.take() {
                p.refused_plans.push(old);
            }
            p.payment_plan = Some(PaymentPlan {
                kind: *kind,
                instalments: instalments
                    .iter()
                    .map(|i| Instalment {
                        due_on: i.due_on,
                        amount_fen: i.amount_fen,
                        paid: None,
                    })
                    .collect(),
                reason,
                requested_by: a.user_id.clone(),
                requested_at: now,
                approved: None,
                note: None,
                decided_by: None,
                decided_at: None,
            });
        }
        Command::DecidePaymentPlan { approved, note, .. } => {
            a.require(Role::Approver, "批准延期、分期缴纳")?;
            unpaid_fine(c.status, p, "批准延期、分期缴纳")?;
            let plan = p
                .payment_plan
                .as_mut()
                .filter(|pl| pl.approved.is_none())
                .ok_or_else(|| {
                    DomainError::state(
                        "没有待批准的延期、分期缴纳申请 (no application waiting for a decision)",
                    )
                })?;
            let note = required(note, "note_required", "审批意见")?;
            if *approved
                && plan
                    .instalments
                    .first()
                    .is_some_and(|i| i.due_on <= crate::domain::time::china_date(now))
            {
                return Err(DomainError::rule(
                    "invalid_payment_plan",
                    "申请的第一期缴纳日期已过，须重新申请 (the first part's day has passed; apply again)",
                ));
            }
            plan.approved = Some(*approved);
            plan.note = Some(note);
            plan.decided_by = Some(a.user_id.clone());
            plan.decided_at = Some(now);
        }
        Command::RemindParty { .. } => {
            officer_or_approver(f, &p.investigators, "催告")?;
            unpaid_fine(c.status, p, "催告")?;
            if p.reminder.is_some() {
                return Err(DomainError::state(
                    "已经催告 (the party was reminded already)",
                ));
            }
            let owed = owed_now(p, rules, now);
            let overdue = match p.payment_plan.as_ref().filter(|pl| pl.in_force()) {
                Some(plan) => plan.next_unpaid().is_some_and(|i| now > i.due_end()),
                None => p
                    .service
                    .as_ref()
                    .is_some_and(|s| now > s.at + Duration::days(rules.payment_days)),
            };
            if !overdue {
                return Err(DomainError::rule(
                    "not_overdue",
                    format!("缴款期限未届满，不能催告 (the fine is not overdue: the party has {} days after service, or until the approved day)", rules.payment_days),
                ));
            }
            p.reminder = Some(Reminder {
                number: f
                    .number
                    .clone()
                    .ok_or_else(|| DomainError::rule("no_number", "no reminder number"))?,
                amount_fen: owed,
                pay_by: due(f.case_due.reminder_pay_by, "催告")?,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::ApplyToCourt { court, note, .. } => {
            a.require(Role::Approver, "申请人民法院强制执行")?;
            unpaid_fine(c.status, p, "申请人民法院强制执行")?;
            let court = required(court, "court_required", "人民法院名称")?;
            let note = required(note, "note_required", "申请说明")?;
            let reminder = p.reminder.as_ref().ok_or_else(|| {
                DomainError::rule(
                    "reminder_required",
                    "申请人民法院强制执行前须先催告当事人 (remind the party before applying to the court, Administrative Compulsion Law art. 54)",
                )
            })?;
            if now <= reminder.pay_by {
                return Err(DomainError::rule(
                    "reminder_period_open",
                    format!("催告书送达后 {} 个工作日（至 {}）未满 (the reminder's {} working days run until {})", rules.reminder_working_days, reminder.pay_by, rules.reminder_working_days, reminder.pay_by),
                ));
            }
            let served = p.service.as_ref().map_or(now, |s| s.at);
            let (from, until) = rules.court_window(served);
            if now < from {
                return Err(DomainError::rule(
                    "review_periods_open",
                    format!("申请行政复议或提起行政诉讼的期限至 {from} 届满，届满后方可申请强制执行 (the review and litigation periods run until {from}; apply after, Administrative Compulsion Law art. 53)"),
                ));
            }
            if now > until {
                return Err(DomainError::rule(
                    "court_application_late",
                    format!("已超过申请强制执行期限 {until}（复议、诉讼期限届满之日起 {} 个月）(past the {}-month limit to apply to the court, Administrative Compulsion Law art. 53)", rules.court_application_months, rules.court_application_months),
                ));
            }
            let amount_fen = owed_now(p, rules, now);
            p.court_application = Some(CourtApplication {
                court,
                note,
                amount_fen,
                by: a.user_id.clone(),
                at: now,
            });
        }
        Command::PublishDecision { .. } => {
            a.require(Role::Approver, "公示处罚决定")?;
            expect(c.status, &[CaseStatus::Served], "公示")?;
            if !matches!(
                p.decision.as_ref().map(|d| &d.decision),
                Some(CaseDecision::Penalty { .. })
            ) {
                return Err(DomainError::rule(
                    "nothing_to_publish",
                    "不予处罚决定不公示 (only penalty decisions are published)",
                ));
            }
            p.published_at = Some(now);
            c.status = CaseStatus::Published;
        }
        Command::ArchiveCase { closing_report, .. } => {
            if !(a.has(Role::Approver) || a.has(Role::LegalReviewer)) {
                return Err(DomainError::forbidden(
                    "只有镇政府负责人或法制审核员可以结案归档 (only an approver or a legal reviewer archives a case)",
                ));
            }
            let penalty = matches!(
                p.decision.as_ref().map(|d| &d.decision),
                Some(CaseDecision::Penalty { .. })
            );
            let from = if penalty {
                CaseStatus::Published
            } else {
                CaseStatus::Served
            };
            expect(c.status, &[from], "结案归档")?;
            let outcome = if p.payment.is_some() {
                "paid"
            } else if p.fine_fen() == 0 {
                "nothing_to_pay"
            } else if p.court_application.is_some() {
                "applied_to_court"
            } else {
                return Err(DomainError::rule(
                    "unpaid_fine",
                    "罚款尚未缴纳，不能结案（可催告或申请法院强制执行）(the fine is unpaid: remind the party or apply to the court first)",
                ));
            };
            p.archive = Some(Archive {
                closing_report: required(closing_report, "closing_report_required", "结案报告")?,
                outcome: outcome.to_owned(),
                by: a.user_id.clone(),
                at: now,
            });
            c.status = CaseStatus::Archived;
        }
        Command::ProposeHandOver { reason, .. } => {
            let investigator = a.has(Role::Officer) && p.investigators.contains(&a.user_id);
            if !(investigator || a.has(Role::SquadLeader)) {
                return Err(DomainError::forbidden(
                    "只有本案调查人员或中队长可以申请移送公安机关 (only the case's officers or a squad leader propose a hand-over to police)",
                ));
            }
            if !c.status.before_decision() {
                return Err(state_err("案件", c.status.as_str(), "申请移送公安机关"));
            }
            if p.pending_hand_over().is_some() {
                return Err(DomainError::state(
                    "已有待审批的移送申请 (a hand-over proposal is already waiting)",
                ));
            }
            p.hand_over_proposals.push(HandOverProposal {
                reason: required(reason, "reason_required", "涉嫌犯罪的理由")?,
                by: a.user_id.clone(),
                at: now,
                approved: None,
                refusal_reason: None,
                decided_by: None,
                decided_at: None,
            });
        }
        Command::RefuseHandOver { reason, .. } => {
            a.require(Role::Approver, "审批移送")?;
            if !c.status.before_decision() || p.pending_hand_over().is_none() {
                return Err(DomainError::state(
                    "没有待审批的移送申请 (no hand-over proposal is waiting)",
                ));
            }
            let reason = required(reason, "reason_required", "不批准移送的理由")?;
            if let Some(h) = p.hand_over_proposals.last_mut() {
                h.approved = Some(false);
                h.refusal_reason = Some(reason);
                h.decided_by = Some(a.user_id.clone());
                h.decided_at = Some(now);
            }
        }
        Command::HandOverToPolice { reason, .. } => {
            a.require(Role::Approver, "移送公安机关")?;
            if !c.status.before_decision() {
                return Err(state_err("案件", c.status.as_str(), "移送公安机关"));
            }
            let reason = required(reason, "reason_required", "涉嫌犯罪的理由")?;
            // The approver is the 正职负责人: approving a pending proposal, or handing over
            // directly — then recorded as proposed and approved at once.
            if p.pending_hand_over().is_none() {
                p.hand_over_proposals.push(HandOverProposal {
                    reason: reason.clone(),
                    by: a.user_id.clone(),
                    at: now,
                    approved: None,
                    refusal_reason: None,
                    decided_by: None,
                    decided_at: None,
                });
            }
            let kind = |d: &Option<super::DepartmentFact>, want: &str, what: &str| match d {
                Some(d) if d.kind == want && d.active => Ok((d.id.clone(), d.name.clone())),
                Some(d) => Err(DomainError::rule(
                    "invalid_department_kind",
                    format!(
                        "「{}」不是在用的{what} (not an active {want} department)",
                        d.name
                    ),
                )),
                None => Err(DomainError::not_found(format!(
                    "{what}不存在 (no such {want} department)"
                ))),
            };
            let (police_id, police_name) = kind(&f.department, "police", "公安机关")?;
            let (proc_id, proc_name) = kind(&f.copy_department, "procuratorate", "人民检察院")?;
            if let Some(h) = p.hand_over_proposals.last_mut() {
                h.approved = Some(true);
                h.decided_by = Some(a.user_id.clone());
                h.decided_at = Some(now);
            }
            p.hand_over = Some(HandOver {
                reason,
                police_department_id: Some(police_id),
                police_name: Some(police_name),
                procuratorate_department_id: Some(proc_id),
                procuratorate_name: Some(proc_name),
                replies: vec![],
                returned_at: None,
                from_status: c.status.as_str().to_owned(),
                by: a.user_id.clone(),
                at: now,
            });
            c.status = CaseStatus::HandedOver;
        }
        Command::AnswerHandOver { decision, note, .. } => {
            use griddispatch_protocol::agency::HandOverAnswer;
            if !a.has(Role::DepartmentLiaison) {
                return Err(DomainError::forbidden(
                    "只有接收案件的公安机关联络员可以答复移送 (only the receiving police department's liaison answers)",
                ));
            }
            let h = p
                .hand_over
                .as_mut()
                .filter(|_| c.status == CaseStatus::HandedOver)
                .ok_or_else(|| state_err("案件", c.status.as_str(), "答复移送"))?;
            if f.actor_department.is_none() || h.police_department_id != f.actor_department {
                return Err(DomainError::out_of_scope(
                    "该案件不是移送给本公安机关的 (this case was not handed to your police department)",
                ));
            }
            if h.replies.last().map(|r| r.decision) == Some(*decision) {
                return Err(state_err("案件", "handed_over", "答复移送"));
            }
            h.replies.push(super::super::procedure::HandOverReply {
                decision: *decision,
                note: required(note, "note_required", "答复说明")?,
                by: a.user_id.clone(),
                at: now,
            });
            if *decision != HandOverAnswer::Filed {
                // Back to the brigade for administrative handling: the procedure resumes where
                // it stood, and a penalty decision may follow again.
                h.returned_at = Some(now);
                c.status = CaseStatus::ALL
                    .into_iter()
                    .find(|s| s.as_str() == h.from_status)
                    .unwrap_or(CaseStatus::Investigating);
            }
        }
        Command::FlagCaseDeadline { clock, level, .. } => {
            if !a.is_system {
                return Err(DomainError::forbidden("预警和督办由系统根据时限自动发出 (deadline warnings are raised by the server only)"));
            }
            if !matches!(level.as_str(), "yellow" | "red") {
                return Err(DomainError::rule(
                    "invalid_level",
                    "level 须为 yellow 或 red (level must be yellow or red)",
                ));
            }
            let running = super::super::procedure::running_clocks(&c, rules);
            let Some(started) = running.iter().find(|r| r.clock == clock).map(|r| r.from) else {
                return Err(DomainError::state(format!(
                    "时限 {clock} 未在计时 (clock {clock} is not running)"
                )));
            };
            let p = &mut c.procedure;
            // Raised since this clock started (a clock such as `preservation` runs again for
            // the next record).
            if p.flags
                .iter()
                .any(|fl| &fl.clock == clock && &fl.level == level && fl.at >= started)
            {
                return Err(DomainError::state("已发出过该级别预警 (already raised)"));
            }
            p.flags.push(super::super::procedure::ClockFlag {
                clock: clock.clone(),
                level: level.clone(),
                at: now,
            });
        }
        other => return Err(misrouted(other)),
    }
    Ok(Change {
        case: Some(c),
        ..Change::default()
    })
}

/// A due time the command handler computed on the calendar (art. 85).
fn due(at: Option<NaiveDateTime>, what: &str) -> Result<NaiveDateTime, DomainError> {
    at.ok_or_else(|| {
        DomainError::rule(
            "no_deadline",
            format!("未能计算{what}期限 (no deadline could be computed on the calendar)"),
        )
    })
}

/// One of the case's certified officers, or an approver.
fn officer_or_approver(
    f: &Facts,
    investigators: &[String],
    action: &str,
) -> Result<(), DomainError> {
    let a = &f.actor;
    let investigator = a.has(Role::Officer) && investigators.contains(&a.user_id);
    if !(a.has(Role::Approver) || investigator) {
        return Err(DomainError::forbidden(format!(
            "只有本案调查人员或镇政府负责人可以{action} (only the case's officers or an approver may {})",
            super::english(action)
        )));
    }
    Ok(())
}

/// The decision was served, has a fine, and it is neither paid nor before the court.
fn unpaid_fine(status: CaseStatus, p: &Procedure, action: &str) -> Result<(), DomainError> {
    expect(status, &[CaseStatus::Served, CaseStatus::Published], action)?;
    if p.fine_fen() == 0 {
        return Err(DomainError::rule(
            "no_fine",
            "本决定没有罚款 (this decision has no fine)",
        ));
    }
    if p.payment.is_some() {
        return Err(DomainError::state("罚款已缴纳 (the fine is paid)"));
    }
    if p.court_application.is_some() {
        return Err(DomainError::state(
            "已申请人民法院强制执行 (the court was applied to)",
        ));
    }
    Ok(())
}

/// What the party owes on `now`: the fine (or the unpaid parts of an approved plan) with the
/// surcharge run so far.
fn owed_now(p: &Procedure, rules: &super::super::CaseRules, now: NaiveDateTime) -> i64 {
    match p.payment_plan.as_ref().filter(|pl| pl.in_force()) {
        Some(plan) => plan
            .instalments
            .iter()
            .filter(|i| i.paid.is_none())
            .map(|i| rules.instalment_due(i, now))
            .sum(),
        None => {
            let served = p.service.as_ref().map_or(now, |s| s.at);
            rules.amount_due(p.fine_fen(), served, now)
        }
    }
}

fn expect(status: CaseStatus, states: &[CaseStatus], action: &str) -> Result<(), DomainError> {
    if states.contains(&status) {
        Ok(())
    } else {
        Err(state_err("案件", status.as_str(), action))
    }
}

/// The actor is a certified officer investigating this case.
fn investigator(f: &Facts, investigators: &[String], action: &str) -> Result<(), DomainError> {
    f.actor.require(Role::Officer, action)?;
    if !investigators.contains(&f.actor.user_id) {
        return Err(DomainError::out_of_scope(
            "您不是本案调查人员 (you are not investigating this case)",
        ));
    }
    if !f.actor.certified {
        return Err(DomainError::rule(
            "certificate_required",
            "没有有效执法证，不能办理案件 (a valid enforcement certificate is required)",
        ));
    }
    Ok(())
}

/// At least two distinct officers, each holding a valid certificate (art. 42, 55; seed 003).
fn two_certified_officers(
    ids: &[String],
    facts: &[OfficerFact],
    what: &str,
) -> Result<Vec<String>, DomainError> {
    let mut distinct: Vec<String> = Vec::new();
    for id in ids {
        if !distinct.contains(id) {
            distinct.push(id.clone());
        }
    }
    if distinct.len() < 2 {
        return Err(DomainError::rule(
            "two_officers_required",
            format!("{what}须由两名以上执法人员进行 (at least two officers, art. 42)"),
        ));
    }
    for id in &distinct {
        let Some(o) = facts.iter().find(|o| &o.user_id == id) else {
            return Err(DomainError::rule(
                "not_an_officer",
                format!("{id} 不是在岗执法人员 (not an active officer)"),
            ));
        };
        o.may_enforce()?;
    }
    Ok(distinct)
}

fn check_sanctions(sanctions: &[Sanction]) -> Result<(), DomainError> {
    if sanctions.is_empty() {
        return Err(DomainError::rule(
            "sanction_required",
            "须写明处罚种类 (name at least one sanction)",
        ));
    }
    for s in sanctions {
        let needs_amount = matches!(s.kind, SanctionKind::Fine | SanctionKind::Confiscation);
        match (needs_amount, s.amount_fen) {
            (true, Some(a)) if a > 0 => {}
            (true, _) => {
                return Err(DomainError::rule("invalid_amount", "罚款、没收须写明金额（分）且大于 0 (a fine or confiscation needs a positive amount in fen)"))
            }
            (false, Some(_)) => {
                return Err(DomainError::rule("invalid_amount", "该处罚种类没有金额 (this sanction has no amount)"))
            }
            (false, None) => {}
        }
    }
    Ok(())
}

/// The decision may not be heavier than the notice (art. 45: never heavier because the party
/// defended; a heavier one needs a new notice): every sanction was notified, no amount higher.
fn not_heavier(decided: &[Sanction], notified: &[Sanction]) -> Result<(), DomainError> {
    for s in decided {
        let ceiling = notified
            .iter()
            .filter(|n| n.kind == s.kind)
            .map(|n| n.amount_fen.unwrap_or(0))
            .max();
        let heavier = match ceiling {
            None => true,
            Some(max) => s.amount_fen.unwrap_or(0) > max,
        };
        if heavier {
            return Err(DomainError::rule(
                "heavier_than_notified",
                "决定的处罚重于告知的处罚：不得因当事人陈述申辩加重处罚；确需加重的须重新告知 (the decision is heavier than the notice; notify the party again, art. 45)",
            ));
        }
    }
    Ok(())
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}
