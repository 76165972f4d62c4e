//! The aggregates of the closed loop: report (上报线索), task (派遣任务), case (案件).
//! Plain data; their transitions live in `decide`.

use chrono::NaiveDateTime;
use griddispatch_protocol::command::{Contact, Outcome, ReportSource};
use serde::{Deserialize, Serialize};

use crate::domain::calendar::Measure;

/// The village cell a report was filed under, and the grid version of that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRef {
    /// Village cell code.
    pub village: String,
    /// Its area.
    pub area: String,
    /// Its town.
    pub town: String,
    /// Grid version the lookup used.
    pub version: i64,
}

/// Report states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// 待受理: waiting for triage.
    Reported,
    /// 待补充: the dispatcher asked the reporter for more.
    NeedsInfo,
    /// 已受理: a task is out.
    Accepted,
    /// 不予受理.
    Rejected,
    /// 已合并 into another report.
    Merged,
    /// 已移送 to a department.
    Transferred,
    /// 已结案 after a passed re-check.
    Closed,
}

impl ReportStatus {
    /// Every state (for property tests and filters).
    pub const ALL: [ReportStatus; 7] = [
        Self::Reported,
        Self::NeedsInfo,
        Self::Accepted,
        Self::Rejected,
        Self::Merged,
        Self::Transferred,
        Self::Closed,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::NeedsInfo => "needs_info",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Merged => "merged",
            Self::Transferred => "transferred",
            Self::Closed => "closed",
        }
    }

    /// Still being worked on.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Reported | Self::NeedsInfo | Self::Accepted)
    }
}

/// A reporter's addition after a request for information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplement {
    /// Text.
    pub note: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
}

/// 上报线索.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Id (client-made UUID).
    pub id: String,
    /// Where it came from.
    pub source: ReportSource,
    /// Who filed it (grid member, liaison or dispatcher).
    pub reporter_id: String,
    /// Complainant contact, private.
    pub contact: Option<Contact>,
    /// Category code.
    pub category_code: String,
    /// What was seen.
    pub description: String,
    /// WGS-84 latitude.
    pub lat: Option<f64>,
    /// WGS-84 longitude.
    pub lon: Option<f64>,
    /// Cell it falls in (None while a hotline report has only an address).
    pub cell: Option<CellRef>,
    /// Address as the caller gave it.
    #[serde(default)]
    pub address: Option<String>,
    /// Evidence ids.
    pub attachment_ids: Vec<String>,
    /// State.
    pub status: ReportStatus,
    /// Question asked, rejection or transfer reason.
    pub note: Option<String>,
    /// Merged into.
    pub merged_into: Option<String>,
    /// Transferred to.
    pub transferred_to: Option<String>,
    /// Current task.
    pub task_id: Option<String>,
    /// Reporter's additions.
    pub supplements: Vec<Supplement>,
    /// Device time of the observation.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub occurred_at: Option<NaiveDateTime>,
    /// Server receipt.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub updated_at: NaiveDateTime,
    /// Closed, rejected, merged or transferred at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub finished_at: Option<NaiveDateTime>,
    /// The transfer out (移送) of this matter, once decided: one matter, one transfer.
    #[serde(default)]
    pub transfer: Option<Transfer>,
    /// Assistance requests (执法协助) sent about this matter or its case, oldest first.
    #[serde(default)]
    pub assistance: Vec<Assistance>,
    /// The transfer in (移送执法队) that brought this matter from a department, if any.
    #[serde(default)]
    pub transfer_in: Option<TransferIn>,
}

/// Task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// 已派遣, waiting for the squad leader.
    Dispatched,
    /// 回退待批: the squad asked to return it.
    ReturnRequested,
    /// 已回退: approved; the dispatcher re-dispatches.
    Returned,
    /// 已签收, officers assigned.
    Accepted,
    /// 已到场.
    OnSite,
    /// 已处置.
    Handled,
    /// 中队已结案, waiting for re-check.
    Closed,
    /// 核查通过.
    Verified,
    /// 返工: re-check failed, back to the squad.
    Rework,
}

impl TaskStatus {
    /// Every state.
    pub const ALL: [TaskStatus; 9] = [
        Self::Dispatched,
        Self::ReturnRequested,
        Self::Returned,
        Self::Accepted,
        Self::OnSite,
        Self::Handled,
        Self::Closed,
        Self::Verified,
        Self::Rework,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dispatched => "dispatched",
            Self::ReturnRequested => "return_requested",
            Self::Returned => "returned",
            Self::Accepted => "accepted",
            Self::OnSite => "on_site",
            Self::Handled => "handled",
            Self::Closed => "closed",
            Self::Verified => "verified",
            Self::Rework => "rework",
        }
    }

    /// The handling clock is running (the squad owes work).
    pub fn clock_running(self) -> bool {
        matches!(
            self,
            Self::Dispatched | Self::ReturnRequested | Self::Accepted | Self::OnSite | Self::Rework
        )
    }
}

/// A request waiting for the duty chief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// Why.
    pub reason: String,
    /// Who asked.
    pub by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
    /// Extra working hours (extensions).
    pub extra_hours: Option<u32>,
}

/// A re-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recheck {
    /// Grid member.
    pub by: String,
    /// Passed?
    pub passed: bool,
    /// Note.
    pub note: Option<String>,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
}

/// A 督办 by hand: the duty chief pressed the squad on a running task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// Duty chief.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
}

fn working_measure() -> Measure {
    Measure::Working
}

/// 派遣任务.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Id.
    pub id: String,
    /// Its report.
    pub report_id: String,
    /// Responsible squad.
    pub squad_id: String,
    /// Village cell (copied from the report for scope checks).
    pub cell_village: Option<String>,
    /// Category (copied from the report).
    pub category_code: String,
    /// State.
    pub status: TaskStatus,
    /// Assigned officers.
    pub officer_ids: Vec<String>,
    /// The officer who recorded the outcome.
    pub handled_by: Option<String>,
    /// Outcome.
    pub outcome: Option<Outcome>,
    /// Evidence of the handling.
    pub outcome_attachment_ids: Vec<String>,
    /// Number of a simple-procedure decision.
    pub decision_number: Option<String>,
    /// Case proposed from a `case_needed` outcome.
    pub case_id: Option<String>,
    /// Dispatched at.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub dispatched_at: NaiveDateTime,
    /// Acknowledgement due (签收时限).
    #[serde(with = "crate::domain::time::rfc3339")]
    pub ack_due_at: NaiveDateTime,
    /// Handling due (处置时限).
    #[serde(with = "crate::domain::time::rfc3339")]
    pub due_at: NaiveDateTime,
    /// How the handling clock counts: working time (`4wh`, `1wd`) or natural time (`24h`,
    /// `90d`), from the category at dispatch. Tasks stored before this was kept count working.
    #[serde(default = "working_measure")]
    pub handling_measure: Measure,
    /// Accepted at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub accepted_at: Option<NaiveDateTime>,
    /// Arrived at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub arrived_at: Option<NaiveDateTime>,
    /// Handled at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub handled_at: Option<NaiveDateTime>,
    /// Closed by the squad at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub closed_at: Option<NaiveDateTime>,
    /// Re-check passed at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub verified_at: Option<NaiveDateTime>,
    /// Pending return request.
    pub pending_return: Option<PendingRequest>,
    /// Pending extension request.
    pub pending_extension: Option<PendingRequest>,
    /// Failed re-checks.
    pub rework_count: u32,
    /// Approved returns.
    pub return_count: u32,
    /// Approved extensions.
    pub extension_count: u32,
    /// Last re-check.
    pub last_recheck: Option<Recheck>,
    /// Yellow warning (80 % of the handling time) raised at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub warned_at: Option<NaiveDateTime>,
    /// Red escalation (督办, deadline passed) raised at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub escalated_at: Option<NaiveDateTime>,
    /// Yellow warning of the acknowledgement clock (签收, 80 % of 1 working hour) raised at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub ack_warned_at: Option<NaiveDateTime>,
    /// Red escalation of the acknowledgement clock (not accepted in time) raised at.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub ack_escalated_at: Option<NaiveDateTime>,
    /// Escalations by hand (督办 by the duty chief), oldest first.
    #[serde(default)]
    pub escalations: Vec<Escalation>,
}

/// Case states of the general procedure (DOMAIN.md §4, 行政处罚法 chapter V).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 立案建议.
    Proposed,
    /// 已立案.
    Filed,
    /// 不予立案.
    Declined,
    /// 调查取证.
    Investigating,
    /// 已告知.
    Notified,
    /// 听证.
    Hearing,
    /// 法制审核.
    LegalReview,
    /// 已决定.
    Decided,
    /// 已送达.
    Served,
    /// 已公示.
    Published,
    /// 已归档.
    Archived,
    /// 已移送公安 (suspected crime).
    HandedOver,
    /// 已移送 to the department competent for it (one case, one transfer): closed here.
    Transferred,
}

impl CaseStatus {
    /// Every state (for property tests and filters).
    pub const ALL: [CaseStatus; 13] = [
        Self::Proposed,
        Self::Filed,
        Self::Declined,
        Self::Investigating,
        Self::Notified,
        Self::Hearing,
        Self::LegalReview,
        Self::Decided,
        Self::Served,
        Self::Published,
        Self::Archived,
        Self::HandedOver,
        Self::Transferred,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Filed => "filed",
            Self::Declined => "declined",
            Self::Investigating => "investigating",
            Self::Notified => "notified",
            Self::Hearing => "hearing",
            Self::LegalReview => "legal_review",
            Self::Decided => "decided",
            Self::Served => "served",
            Self::Published => "published",
            Self::Archived => "archived",
            Self::HandedOver => "handed_over",
            Self::Transferred => "transferred",
        }
    }

    /// Still being worked on: every state but declined, archived, handed over to police and
    /// transferred to a department. A report is not closed while its case is open.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Self::Declined | Self::Archived | Self::HandedOver | Self::Transferred
        )
    }

    /// Before a decision: the 90-day clock runs and a crime may still be handed over.
    pub fn before_decision(self) -> bool {
        matches!(
            self,
            Self::Filed | Self::Investigating | Self::Notified | Self::Hearing | Self::LegalReview
        )
    }
}

/// 案件 (general procedure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Id.
    pub id: String,
    /// 立案编号, once filed.
    pub number: Option<String>,
    /// The task it came from.
    pub task_id: String,
    /// The report it came from.
    pub report_id: String,
    /// State.
    pub status: CaseStatus,
    /// 违法行为认定意见.
    pub finding: String,
    /// Who gave the finding.
    pub issuing_unit: String,
    /// Suspected provision.
    pub suspected_provision: String,
    /// Evidence.
    pub evidence_ids: Vec<String>,
    /// Who proposed.
    pub proposed_by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub proposed_at: NaiveDateTime,
    /// Approver who decided.
    pub decided_by: Option<String>,
    /// When.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub decided_at: Option<NaiveDateTime>,
    /// Why declined.
    pub decline_reason: Option<String>,
    /// The procedure after filing.
    #[serde(default)]
    pub procedure: super::procedure::Procedure,
}

/// Transfer states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// 已决定移送: the packet is being prepared (sending clock).
    Decided,
    /// 已移送: waiting for the receiver's answer (answer clock).
    Sent,
    /// 已接收: the receiver handles it (outcome clock).
    Accepted,
    /// 已拒收 with a reason: the brigade may take it to the legal office.
    Refused,
    /// 争议处理中 (legal office, then government).
    Disputed,
    /// 已反馈结果.
    Concluded,
}

impl TransferStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decided => "decided",
            Self::Sent => "sent",
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::Disputed => "disputed",
            Self::Concluded => "concluded",
        }
    }
}

/// The packet sent with a transfer (移送材料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferPacket {
    /// Transfer letter number (移送函 文号).
    pub letter_number: String,
    /// The finding.
    pub finding: String,
    /// The evidence list.
    pub evidence_list: String,
    /// Expert conclusions, if any.
    pub expert_conclusions: Option<String>,
    /// Source material: the report's evidence and what was added for the packet.
    pub attachment_ids: Vec<String>,
}

/// A dispute step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDispute {
    /// Where.
    pub level: griddispatch_protocol::agency::DisputeLevel,
    /// The brigade's position.
    pub note: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
}

/// A raised clock flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferFlag {
    /// `send`, `answer` or `outcome`.
    pub clock: String,
    /// `yellow` or `red`.
    pub level: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
}

/// 移送: a matter sent by the brigade to the department competent for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    /// Receiving department.
    pub department_id: String,
    /// The filed case transferred with the report, if there was one (closed as `transferred`).
    #[serde(default)]
    pub case_id: Option<String>,
    /// Its name when decided.
    pub department_name: String,
    /// State.
    pub status: TransferStatus,
    /// Why it belongs there.
    pub reason: String,
    /// Urgent (24 h to send).
    pub urgent: bool,
    /// How an ongoing violation was stopped first (noted on the letter).
    pub violation_stopped: Option<String>,
    /// Who decided.
    pub decided_by: String,
    /// When decided.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub decided_at: NaiveDateTime,
    /// Sending due.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub send_due: NaiveDateTime,
    /// When sent.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub sent_at: Option<NaiveDateTime>,
    /// The packet, once sent.
    pub packet: Option<TransferPacket>,
    /// The receiver's answer due.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub answer_due: Option<NaiveDateTime>,
    /// When answered.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub answered_at: Option<NaiveDateTime>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// Why refused.
    pub refusal_reason: Option<String>,
    /// Outcome due (after acceptance).
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub outcome_due: Option<NaiveDateTime>,
    /// What the receiver did.
    pub outcome: Option<String>,
    /// When reported.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub outcome_at: Option<NaiveDateTime>,
    /// Dispute steps.
    pub disputes: Vec<TransferDispute>,
    /// Clock flags raised.
    pub flags: Vec<TransferFlag>,
}

impl Transfer {
    /// The clock running now: (name, from, due).
    pub fn running_clock(&self) -> Option<(&'static str, NaiveDateTime, NaiveDateTime)> {
        match self.status {
            TransferStatus::Decided => Some(("send", self.decided_at, self.send_due)),
            TransferStatus::Sent => Some(("answer", self.sent_at?, self.answer_due?)),
            TransferStatus::Accepted => Some(("outcome", self.answered_at?, self.outcome_due?)),
            _ => None,
        }
    }
}

/// Assistance request states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistanceStatus {
    /// 已发函: waiting for the department's written answer (answer clock).
    Requested,
    /// 已答复.
    Answered,
}

impl AssistanceStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Answered => "answered",
        }
    }
}

/// An extension announced by the addressed department before the deadline (事先告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistanceExtension {
    /// Days added.
    pub days: u32,
    /// Why.
    pub reason: String,
    /// The liaison who announced it.
    pub by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
    /// The new deadline.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub due: NaiveDateTime,
}

/// A raised clock flag of an assistance request, for the deadline it was raised against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistanceFlag {
    /// `yellow` or `red`.
    pub level: String,
    /// The deadline then (an extension starts the clock's lights again).
    #[serde(with = "crate::domain::time::rfc3339")]
    pub due: NaiveDateTime,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub at: NaiveDateTime,
}

/// 执法协助: a written request to a department or an expert body for a finding, an opinion, a
/// test or an appraisal (seed 000 三(二)(五)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assistance {
    /// Id.
    pub id: String,
    /// The case it serves, if any.
    pub case_id: Option<String>,
    /// Addressed department.
    pub department_id: String,
    /// Its name when asked.
    pub department_name: String,
    /// What is asked for.
    pub kind: griddispatch_protocol::agency::AssistanceKind,
    /// The question.
    pub question: String,
    /// Material sent with the request.
    pub attachment_ids: Vec<String>,
    /// Request letter number (协助函 文号).
    pub letter_number: String,
    /// State.
    pub status: AssistanceStatus,
    /// Who asked (in the brigade's name).
    pub requested_by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub requested_at: NaiveDateTime,
    /// The deadline first set (5 working days).
    #[serde(with = "crate::domain::time::rfc3339")]
    pub first_due: NaiveDateTime,
    /// The deadline now (after extensions).
    #[serde(with = "crate::domain::time::rfc3339")]
    pub due: NaiveDateTime,
    /// Extensions announced.
    pub extensions: Vec<AssistanceExtension>,
    /// The written answer.
    pub answer: Option<String>,
    /// Its documents (joined to the evidence).
    pub answer_attachment_ids: Vec<String>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// When.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub answered_at: Option<NaiveDateTime>,
    /// Clock flags raised.
    pub flags: Vec<AssistanceFlag>,
}

impl Assistance {
    /// Days of extension announced so far.
    pub fn extended_days(&self) -> u32 {
        self.extensions.iter().map(|e| e.days).sum()
    }
}

/// The brigade's answer to a transfer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferInStatus {
    /// 待答复: the brigade's answer clock runs; no dispatch yet.
    Sent,
    /// 已接收: the report is in the normal loop.
    Accepted,
    /// 已拒收 with a reason: the report is rejected.
    Refused,
}

/// 移送执法队: a matter a department transferred to the brigade, with its packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferIn {
    /// Sending department.
    pub department_id: String,
    /// Its name then.
    pub department_name: String,
    /// The liaison who sent it.
    pub sent_by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub sent_at: NaiveDateTime,
    /// Why it belongs to the brigade.
    pub reason: String,
    /// The sender's finding.
    pub finding: String,
    /// The evidence list.
    pub evidence_list: String,
    /// The packet's documents (also the report's evidence).
    pub attachment_ids: Vec<String>,
    /// State.
    pub status: TransferInStatus,
    /// The brigade's answer due (3 days).
    #[serde(with = "crate::domain::time::rfc3339")]
    pub answer_due: NaiveDateTime,
    /// Who answered.
    pub answered_by: Option<String>,
    /// When.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub answered_at: Option<NaiveDateTime>,
    /// Why refused.
    pub refusal_reason: Option<String>,
    /// Clock flags raised (`in_answer`).
    pub flags: Vec<TransferFlag>,
}
