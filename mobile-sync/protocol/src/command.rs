//! Commands: every change of a report, task or case is one of these, whether it comes from
//! the console (REST), a phone (sync push) or the command line. Intent, never row diffs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a lead came from (线索来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportSource {
    /// 网格巡查: a grid member's patrol (photo or video required).
    GridPatrol,
    /// 日常监管: a department's daily supervision.
    Department,
    /// 12345 热线 hotline.
    Hotline,
    /// 群众举报投诉 public complaint.
    PublicComplaint,
    /// 上级交办 referred by a higher level.
    HigherLevel,
}

/// A position as the device reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub crs: Option<String>,
}

/// A complainant's contact, kept private (dispatchers only; never published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Name as given.
    pub name: Option<String>,
    /// Phone number as given.
    pub phone: Option<String>,
}

/// The party of a penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// 公民 a natural person (simple procedure: fine ≤ 200 元).
    Person,
    /// 法人或其他组织 an organisation (simple procedure: fine ≤ 3000 元).
    Organization,
}

/// A simple-procedure penalty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Penalty {
    /// 警告.
    Warning,
    /// 罚款, in fen (分): 200 元 = 20000.
    Fine {
        /// Amount in fen.
        amount_fen: i64,
    },
}

/// How an officer handled a task on site (处置结果).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// 经核查未发现违法: with the reply to the complainant.
    NoViolation {
        /// Reply text.
        reply: String,
    },
    /// 当场制止/责令改正: corrected on the spot (before/after photos).
    Rectified {
        /// What was done.
        note: String,
    },
    /// 简易程序当场处罚 (行政处罚法 art. 51).
    SimplePenalty {
        /// Person or organisation.
        party_kind: PartyKind,
        /// The party's name.
        party_name: String,
        /// Warning or fine.
        penalty: Penalty,
        /// Facts found (违法事实).
        facts: String,
        /// Legal basis (法律依据).
        legal_basis: String,
    },
    /// 需立案: the business unit's finding goes into a case proposal.
    CaseNeeded {
        /// 违法行为认定意见: the finding.
        finding: String,
        /// Which unit gave the finding (相关业务口).
        issuing_unit: String,
        /// Suspected provision violated.
        suspected_provision: String,
    },
    /// 移送: to a department, or to police when a crime is suspected.
    Transfer {
        /// Receiving department.
        department: String,
        /// Why.
        reason: String,
        /// A crime is suspected (行刑衔接).
        #[serde(default)]
        crime_suspected: bool,
    },
}

/// One command. `type` names it; ids of new objects are made by the client (UUIDv7) so that
/// commands can be created offline and replayed safely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// 上报: file a report.
    CreateReport {
        /// New report id (UUID, client-made).
        report_id: String,
        /// Where it came from.
        source: ReportSource,
        /// Event category code (e.g. `0101`).
        category_code: String,
        /// What was seen.
        description: String,
        /// Where.
        position: Option<Position>,
        /// Evidence attachment ids (uploaded before or after).
        #[serde(default)]
        attachment_ids: Vec<String>,
        /// Complainant's contact (hotline/complaints).
        #[serde(default)]
        contact: Option<Contact>,
        /// Device time of the observation.
        #[serde(default)]
        occurred_at: Option<DateTime<Utc>>,
    },
    /// 要求补充: ask the reporter for more information.
    RequestInfo {
        /// Report.
        report_id: String,
        /// What is missing.
        question: String,
    },
    /// 补充: the reporter adds information.
    SupplementReport {
        /// Report.
        report_id: String,
        /// Added text.
        note: String,
        /// Added evidence.
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 不予受理: reject with a reason.
    RejectReport {
        /// Report.
        report_id: String,
        /// Why (required).
        reason: String,
    },
    /// 合并: a duplicate of an open report.
    MergeReport {
        /// Duplicate.
        report_id: String,
        /// The open report it joins.
        into_report_id: String,
    },
    /// 移送: not within the town's powers; goes to a department.
    TransferReport {
        /// Report.
        report_id: String,
        /// Receiving department.
        department: String,
        /// Why.
        reason: String,
    },
    /// 受理并派遣: accept and dispatch a task to a squad.
    DispatchReport {
        /// Report.
        report_id: String,
        /// New task id (client-made).
        task_id: String,
        /// Squad.
        squad_id: String,
    },
    /// 签收: the squad leader accepts and assigns officers.
    AcceptTask {
        /// Task.
        task_id: String,
        /// Officers (user ids).
        officer_ids: Vec<String>,
    },
    /// 回退: the squad leader asks to return a task (wrong squad); a duty chief decides.
    RequestReturn {
        /// Task.
        task_id: String,
        /// Why.
        reason: String,
    },
    /// The duty chief decides a return request.
    DecideReturn {
        /// Task.
        task_id: String,
        /// Approve?
        approve: bool,
        /// Note.
        #[serde(default)]
        note: Option<String>,
    },
    /// 重新派遣 a returned task to another squad.
    RedispatchTask {
        /// Task.
        task_id: String,
        /// New squad.
        squad_id: String,
    },
    /// 到场: an assigned officer arrives.
    ArriveOnSite {
        /// Task.
        task_id: String,
        /// Where the officer is.
        position: Position,
    },
    /// 处置: record the outcome with evidence.
    HandleTask {
        /// Task.
        task_id: String,
        /// Outcome.
        outcome: Outcome,
        /// Evidence attachment ids.
        #[serde(default)]
        attachment_ids: Vec<String>,
        /// New case id when the outcome is `case_needed` (client-made).
        #[serde(default)]
        case_id: Option<String>,
    },
    /// 结案(中队): the squad leader closes the task.
    CloseTask {
        /// Task.
        task_id: String,
    },
    /// 核查: a grid member of the cell re-checks the handled task.
    RecheckTask {
        /// Task.
        task_id: String,
        /// Passed?
        passed: bool,
        /// Note (required when failed).
        #[serde(default)]
        note: Option<String>,
        /// Evidence.
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 延期申请: the squad leader asks for more working hours.
    RequestExtension {
        /// Task.
        task_id: String,
        /// Extra working hours.
        extra_hours: u32,
        /// Why.
        reason: String,
    },
    /// The duty chief decides an extension.
    DecideExtension {
        /// Task.
        task_id: String,
        /// Approve?
        approve: bool,
    },
    /// 结案: the dispatcher closes a report after a passed re-check.
    CloseReport {
        /// Report.
        report_id: String,
    },
    /// 立案: the approver files a proposed case.
    FileCase {
        /// Case.
        case_id: String,
    },
    /// 不予立案: the approver declines a proposed case.
    DeclineCase {
        /// Case.
        case_id: String,
        /// Why.
        reason: String,
    },
    /// 预警/督办: issued by the server's deadline job only (refused from clients): a yellow
    /// warning at 80 % of the handling time, a red escalation at 100 %.
    FlagDeadline {
        /// Task.
        task_id: String,
        /// `yellow` or `red`.
        level: String,
    },
}

impl Command {
    /// The command's `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateReport { .. } => "create_report",
            Command::RequestInfo { .. } => "request_info",
            Command::SupplementReport { .. } => "supplement_report",
            Command::RejectReport { .. } => "reject_report",
            Command::MergeReport { .. } => "merge_report",
            Command::TransferReport { .. } => "transfer_report",
            Command::DispatchReport { .. } => "dispatch_report",
            Command::AcceptTask { .. } => "accept_task",
            Command::RequestReturn { .. } => "request_return",
            Command::DecideReturn { .. } => "decide_return",
            Command::RedispatchTask { .. } => "redispatch_task",
            Command::ArriveOnSite { .. } => "arrive_on_site",
            Command::HandleTask { .. } => "handle_task",
            Command::CloseTask { .. } => "close_task",
            Command::RecheckTask { .. } => "recheck_task",
            Command::RequestExtension { .. } => "request_extension",
            Command::DecideExtension { .. } => "decide_extension",
            Command::CloseReport { .. } => "close_report",
            Command::FileCase { .. } => "file_case",
            Command::DeclineCase { .. } => "decline_case",
            Command::FlagDeadline { .. } => "flag_deadline",
        }
    }
}
