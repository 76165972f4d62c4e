//! Commands: every change of a report, task or case is one of these, whether it comes from
//! the console (REST), a phone (sync push) or the command line. Intent, never row diffs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{
    CaseDecision, CaseRecordKind, InstalmentSpec, Party, PaymentChannel, PaymentPlanKind,
    PreservationMeasure, Sanction, ServiceMethod,
};

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
    /// E-mail address as given (Open311 intake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
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

/// Which clock of a task a deadline flag is about (DOMAIN.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineClock {
    /// 处置时限: the category's handling time (the default).
    #[default]
    Handling,
    /// 签收时限: 1 working hour from dispatch to the squad leader's acceptance.
    Acknowledgement,
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
        /// Address as a caller gives it (hotline, complaints, referrals, departments): such a
        /// report may come without a position; the dispatcher sets it with
        /// `set_report_position` before dispatch.
        #[serde(default)]
        address: Option<String>,
    },
    /// 定位: the dispatcher sets (or corrects) a report's position on the map before dispatch;
    /// the report is located to its cell again.
    SetReportPosition {
        /// Report.
        report_id: String,
        /// Where.
        position: Position,
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
    /// 调查取证: the approver or the squad leader puts at least two certified officers on a
    /// filed case.
    StartInvestigation {
        /// Case.
        case_id: String,
        /// Investigating officers (≥ 2, valid certificates).
        officer_ids: Vec<String>,
    },
    /// 询问笔录 / 现场检查笔录 / 先行登记保存: an investigation record made by at least two of the
    /// case's officers, who showed their certificates.
    AddCaseRecord {
        /// Case.
        case_id: String,
        /// Record id (UUID, made by the client).
        record_id: String,
        /// Kind.
        kind: CaseRecordKind,
        /// Officers present (≥ 2 of the case's investigators).
        officer_ids: Vec<String>,
        /// The officers showed their certificates to the party (art. 55).
        certificates_shown: bool,
        /// What was asked, seen or kept.
        content: String,
        /// Evidence.
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 行政处罚事先告知: the facts, reasons, basis and intended penalty, with the party's rights
    /// to state, defend and (where the penalty qualifies) ask for a hearing.
    NotifyParty {
        /// Case.
        case_id: String,
        /// The party.
        party: Party,
        /// Facts found.
        facts: String,
        /// Legal basis.
        legal_basis: String,
        /// Intended sanctions.
        sanctions: Vec<Sanction>,
    },
    /// 陈述申辩: the party's statement or defence (or that they waive it).
    RecordStatement {
        /// Case.
        case_id: String,
        /// What the party said.
        content: String,
        /// The party waives the rest of the statement period and the hearing.
        #[serde(default)]
        waived: bool,
    },
    /// 听证申请: the party asks for a hearing (within 5 days of the notice, art. 64).
    RequestHearing {
        /// Case.
        case_id: String,
    },
    /// 听证通知: host, time (≥ 7 days ahead), public or not.
    ScheduleHearing {
        /// Case.
        case_id: String,
        /// Host: a legal reviewer or certified officer who did not investigate the case.
        host_id: String,
        /// When.
        hearing_at: DateTime<Utc>,
        /// Held in public (unless secrets or privacy).
        public: bool,
        /// Why not public.
        #[serde(default)]
        not_public_reason: Option<String>,
    },
    /// 听证笔录: the host records the hearing.
    RecordHearing {
        /// Case.
        case_id: String,
        /// The record.
        record: String,
        /// Evidence produced.
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 提请法制审核: the investigators hand the case to the legal office.
    SubmitForReview {
        /// Case.
        case_id: String,
    },
    /// 法制审核: the legal office passes the case or sends it back with opinions.
    ReviewCase {
        /// Case.
        case_id: String,
        /// Passed.
        passed: bool,
        /// Opinion (法制审核意见).
        opinion: String,
    },
    /// 集体讨论: the record of a collective discussion of a major case (art. 57).
    RecordDiscussion {
        /// Case.
        case_id: String,
        /// Who took part (names).
        participants: Vec<String>,
        /// Minutes.
        minutes: String,
        /// Conclusion.
        conclusion: String,
    },
    /// 延长办案期限: the approver extends the 90-day limit (art. 60).
    ExtendCaseDeadline {
        /// Case.
        case_id: String,
        /// Extra days.
        days: u32,
        /// Why.
        reason: String,
    },
    /// 作出决定: penalty or no penalty.
    DecideCase {
        /// Case.
        case_id: String,
        /// The decision.
        decision: CaseDecision,
    },
    /// 送达: the decision reached the party.
    ServeDecision {
        /// Case.
        case_id: String,
        /// How.
        method: ServiceMethod,
        /// The party consented to electronic service.
        #[serde(default)]
        consent_to_electronic: bool,
        /// Proof of service (送达回证), an attachment.
        #[serde(default)]
        receipt_attachment_id: Option<String>,
    },
    /// 缴纳罚款: a payment at the bank (罚缴分离).
    RecordPayment {
        /// Case.
        case_id: String,
        /// Amount paid, fen.
        amount_fen: i64,
        /// Where.
        channel: PaymentChannel,
        /// Bank receipt number.
        reference: String,
    },
    /// 申请延期、分期缴纳罚款 (art. 66): the party's written application, recorded by one of
    /// the case's officers; it relieves nothing until the approver approves it.
    RequestPaymentPlan {
        /// Case.
        case_id: String,
        /// Deferral (one part) or instalments (two or more).
        kind: PaymentPlanKind,
        /// The parts, in date order, adding up to the fine.
        instalments: Vec<InstalmentSpec>,
        /// The party's reasons (经济困难).
        reason: String,
    },
    /// 批准/不批准延期、分期缴纳: the approver's answer to the pending application.
    DecidePaymentPlan {
        /// Case.
        case_id: String,
        /// Approved.
        approved: bool,
        /// Reasons (required).
        note: String,
    },
    /// 催告 (行政强制法 art. 35, 54): the fine is unpaid after its deadline; a numbered 催告书
    /// gives the party 10 working days to pay.
    RemindParty {
        /// Case.
        case_id: String,
    },
    /// 申请人民法院强制执行 (行政强制法 art. 53, 54): after a reminder whose period has run out,
    /// within 3 months of the end of the review and litigation periods.
    ApplyToCourt {
        /// Case.
        case_id: String,
        /// The people's court applied to.
        court: String,
        /// Particulars (the application's number at the court, materials sent).
        note: String,
    },
    /// 公示: the decision is published (within 7 working days).
    PublishDecision {
        /// Case.
        case_id: String,
    },
    /// 结案归档: the case is closed with its closing report.
    ArchiveCase {
        /// Case.
        case_id: String,
        /// 结案报告.
        closing_report: String,
    },
    /// 先行登记保存处理决定 (art. 56): what becomes of evidence kept by an evidence-preservation
    /// record, decided by the approver within 7 working days of the record.
    DecidePreservation {
        /// Case.
        case_id: String,
        /// The `evidence_preservation` record.
        record_id: String,
        /// What becomes of the evidence.
        measure: PreservationMeasure,
        /// The reasons and particulars (required).
        note: String,
    },
    /// 移送公安的审批申请 (国务院令 310 第八条): an investigator of the case or a squad leader
    /// proposes to hand the case to police, with why a crime is suspected; the approver
    /// (正职负责人) decides within 3 days — approves by `hand_over_to_police`, or refuses by
    /// `refuse_hand_over`. While it waits, no decision may be made on the case.
    ProposeHandOver {
        /// Case.
        case_id: String,
        /// Why a crime is suspected.
        reason: String,
    },
    /// 不批准移送: the approver refuses a pending hand-over proposal, with the reason; the case
    /// goes on under the administrative procedure.
    RefuseHandOver {
        /// Case.
        case_id: String,
        /// Why not (required).
        reason: String,
    },
    /// 移送公安: a suspected crime goes to police with a copy to the procuratorate (国务院令
    /// 310), approved and handed over by the approver; no penalty decision may follow
    /// (不得以罚代刑) unless police send the case back.
    HandOverToPolice {
        /// Case.
        case_id: String,
        /// Why a crime is suspected.
        reason: String,
        /// The police department (kind `police`) it goes to.
        police_department_id: String,
        /// The procuratorate (kind `procuratorate`) that gets the copy (抄送).
        procuratorate_department_id: String,
    },
    /// 公安答复: police's liaison answers a hand-over — filed as a criminal case, or not filed /
    /// sent back to the brigade for administrative handling (then a penalty may follow again).
    AnswerHandOver {
        /// Case.
        case_id: String,
        /// What police decided.
        decision: crate::agency::HandOverAnswer,
        /// Why / the decision's number.
        note: String,
    },
    /// 案件时限预警/督办: issued by the server's deadline job only — a yellow warning at 80 % of
    /// a case clock (`decision`, `service`, `publication`, `payment`), red at 100 %.
    FlagCaseDeadline {
        /// Case.
        case_id: String,
        /// Which clock.
        clock: String,
        /// `yellow` or `red`.
        level: String,
    },
    /// 预警/督办: issued by the server's deadline job only (refused from clients): a yellow
    /// warning at 80 % of the handling time, a red escalation at 100 %.
    FlagDeadline {
        /// Task.
        task_id: String,
        /// `yellow` or `red`.
        level: String,
        /// Which clock: handling (default) or acknowledgement.
        #[serde(default)]
        clock: DeadlineClock,
    },
    /// 督办: the duty chief escalates a running task by hand, with the reason; the squad's
    /// leaders and the cell's grid leaders are told.
    EscalateTask {
        /// Task.
        task_id: String,
        /// Why (required).
        reason: String,
    },
    /// 决定移送: the brigade decides to transfer a matter (a report, with its task's finding) to
    /// a department; starts the sending clock (5 working days, 24 h when urgent). One matter,
    /// one transfer.
    DecideTransfer {
        /// Report.
        report_id: String,
        /// Receiving department (id).
        department_id: String,
        /// Why it belongs to that department.
        reason: String,
        /// Urgent: to be sent within 24 hours.
        #[serde(default)]
        urgent: bool,
        /// The violation was still going on when found.
        #[serde(default)]
        ongoing_violation: bool,
        /// How it was stopped first (required when `ongoing_violation`).
        #[serde(default)]
        violation_stopped: Option<String>,
        /// In whose name: the brigade only.
        #[serde(default)]
        sender: crate::agency::TransferSender,
    },
    /// 移送: the packet goes out — the transfer letter is generated; the finding, the evidence
    /// list, expert conclusions and the source material's attachments go with it. Starts the
    /// receiver's answer clock.
    SendTransfer {
        /// Report.
        report_id: String,
        /// 违法事实认定 / the finding.
        finding: String,
        /// 证据清单 / the evidence list.
        evidence_list: String,
        /// 检验、鉴定或专家意见, if any.
        #[serde(default)]
        expert_conclusions: Option<String>,
        /// Source material: attachments added to the report's evidence for the packet.
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 接收/拒收: the receiving department's liaison answers; a refusal needs its reason. The
    /// receiver may not pass the matter on.
    AnswerTransfer {
        /// Report.
        report_id: String,
        /// Accept (true) or refuse (false).
        accept: bool,
        /// Why it is refused (required to refuse).
        #[serde(default)]
        reason: Option<String>,
    },
    /// 反馈处理结果: the receiving department reports what it did (within 3 days of deciding).
    ReportTransferOutcome {
        /// Report.
        report_id: String,
        /// What was decided and done.
        outcome: String,
    },
    /// 移送争议: a refused transfer is taken to the legal office, then to the government.
    DisputeTransfer {
        /// Report.
        report_id: String,
        /// Where.
        level: crate::agency::DisputeLevel,
        /// The brigade's position.
        note: String,
    },
    /// 移送时限预警/督办: issued by the server's deadline job only — yellow at 80 %, red at
    /// 100 % of a transfer clock (`send`, `answer`, `outcome`).
    FlagTransferDeadline {
        /// Report.
        report_id: String,
        /// Which clock.
        clock: String,
        /// `yellow` or `red`.
        level: String,
    },
    /// 移送执法队: a department's liaison transfers a matter to the brigade; it becomes a report
    /// with source `department` carrying the packet, and the brigade's answer clock (3 days)
    /// starts.
    TransferIn {
        /// New report id (UUID, client-made).
        report_id: String,
        /// Event category code.
        category_code: String,
        /// The matter.
        description: String,
        /// Where (or an address).
        #[serde(default)]
        position: Option<Position>,
        /// Address.
        #[serde(default)]
        address: Option<String>,
        /// Why it belongs to the brigade.
        reason: String,
        /// The sender's finding.
        finding: String,
        /// The evidence list.
        evidence_list: String,
        /// Documents and evidence uploaded by the liaison.
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 接收/拒收: the brigade answers a transfer in — accept (the report enters the normal
    /// loop) or refuse with its reason (the report is rejected). It may not pass it on.
    AnswerTransferIn {
        /// Report.
        report_id: String,
        /// Accept (true) or refuse (false).
        accept: bool,
        /// Why it is refused (required to refuse).
        #[serde(default)]
        reason: Option<String>,
    },
    /// 执法协助请求: the brigade asks a department or an expert body in writing for a finding,
    /// an opinion, a test or an appraisal on a report (or its case); the addressed department's
    /// liaison answers within 5 working days.
    RequestAssistance {
        /// Report.
        report_id: String,
        /// The new request's id (client-made UUID).
        request_id: String,
        /// The case it serves, if filed (its answer's documents join the case's evidence).
        #[serde(default)]
        case_id: Option<String>,
        /// Addressed department (id).
        department_id: String,
        /// What is asked for.
        kind: crate::agency::AssistanceKind,
        /// The question, as written in the request letter.
        question: String,
        /// Material sent with the request (attachments of the report's evidence).
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 延期告知: the addressed department's liaison announces, before the deadline, that the
    /// answer needs longer — at most 10 days in all.
    ExtendAssistance {
        /// Report.
        report_id: String,
        /// Request.
        request_id: String,
        /// Days added to the deadline.
        days: u32,
        /// Why (the finding, test or appraisal takes longer).
        reason: String,
    },
    /// 协助答复: the addressed department's liaison answers in writing; its documents join the
    /// report's (and the case's) evidence.
    AnswerAssistance {
        /// Report.
        report_id: String,
        /// Request.
        request_id: String,
        /// The finding, opinion or conclusion.
        answer: String,
        /// Documents (uploaded by the liaison).
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    /// 协助时限预警/督办: issued by the server's deadline job only — yellow at 80 %, red at
    /// 100 % of an assistance request's answer clock.
    FlagAssistanceDeadline {
        /// Report.
        report_id: String,
        /// Request.
        request_id: String,
        /// `yellow` or `red`.
        level: String,
    },
}

impl Command {
    /// The case a command of the general procedure acts on (filing and everything after it).
    pub fn case_id(&self) -> Option<&str> {
        match self {
            Command::FileCase { case_id }
            | Command::DeclineCase { case_id, .. }
            | Command::StartInvestigation { case_id, .. }
            | Command::AddCaseRecord { case_id, .. }
            | Command::NotifyParty { case_id, .. }
            | Command::RecordStatement { case_id, .. }
            | Command::RequestHearing { case_id }
            | Command::ScheduleHearing { case_id, .. }
            | Command::RecordHearing { case_id, .. }
            | Command::SubmitForReview { case_id }
            | Command::ReviewCase { case_id, .. }
            | Command::RecordDiscussion { case_id, .. }
            | Command::ExtendCaseDeadline { case_id, .. }
            | Command::DecideCase { case_id, .. }
            | Command::ServeDecision { case_id, .. }
            | Command::RecordPayment { case_id, .. }
            | Command::RequestPaymentPlan { case_id, .. }
            | Command::DecidePaymentPlan { case_id, .. }
            | Command::RemindParty { case_id }
            | Command::ApplyToCourt { case_id, .. }
            | Command::PublishDecision { case_id }
            | Command::ArchiveCase { case_id, .. }
            | Command::HandOverToPolice { case_id, .. }
            | Command::ProposeHandOver { case_id, .. }
            | Command::RefuseHandOver { case_id, .. }
            | Command::DecidePreservation { case_id, .. }
            | Command::AnswerHandOver { case_id, .. }
            | Command::FlagCaseDeadline { case_id, .. } => Some(case_id),
            _ => None,
        }
    }

    /// The report a transfer command acts on.
    pub fn transfer_report_id(&self) -> Option<&str> {
        match self {
            Command::DecideTransfer { report_id, .. }
            | Command::SendTransfer { report_id, .. }
            | Command::AnswerTransfer { report_id, .. }
            | Command::ReportTransferOutcome { report_id, .. }
            | Command::DisputeTransfer { report_id, .. }
            | Command::FlagTransferDeadline { report_id, .. }
            | Command::AnswerTransferIn { report_id, .. } => Some(report_id),
            _ => None,
        }
    }

    /// The report an assistance command acts on.
    pub fn assistance_report_id(&self) -> Option<&str> {
        match self {
            Command::RequestAssistance { report_id, .. }
            | Command::ExtendAssistance { report_id, .. }
            | Command::AnswerAssistance { report_id, .. }
            | Command::FlagAssistanceDeadline { report_id, .. } => Some(report_id),
            _ => None,
        }
    }

    /// The command's `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateReport { .. } => "create_report",
            Command::SetReportPosition { .. } => "set_report_position",
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
            Command::StartInvestigation { .. } => "start_investigation",
            Command::AddCaseRecord { .. } => "add_case_record",
            Command::NotifyParty { .. } => "notify_party",
            Command::RecordStatement { .. } => "record_statement",
            Command::RequestHearing { .. } => "request_hearing",
            Command::ScheduleHearing { .. } => "schedule_hearing",
            Command::RecordHearing { .. } => "record_hearing",
            Command::SubmitForReview { .. } => "submit_for_review",
            Command::ReviewCase { .. } => "review_case",
            Command::RecordDiscussion { .. } => "record_discussion",
            Command::ExtendCaseDeadline { .. } => "extend_case_deadline",
            Command::DecideCase { .. } => "decide_case",
            Command::ServeDecision { .. } => "serve_decision",
            Command::RecordPayment { .. } => "record_payment",
            Command::RequestPaymentPlan { .. } => "request_payment_plan",
            Command::DecidePaymentPlan { .. } => "decide_payment_plan",
            Command::RemindParty { .. } => "remind_party",
            Command::ApplyToCourt { .. } => "apply_to_court",
            Command::PublishDecision { .. } => "publish_decision",
            Command::ArchiveCase { .. } => "archive_case",
            Command::HandOverToPolice { .. } => "hand_over_to_police",
            Command::ProposeHandOver { .. } => "propose_hand_over",
            Command::RefuseHandOver { .. } => "refuse_hand_over",
            Command::DecidePreservation { .. } => "decide_preservation",
            Command::AnswerHandOver { .. } => "answer_hand_over",
            Command::FlagCaseDeadline { .. } => "flag_case_deadline",
            Command::FlagDeadline { .. } => "flag_deadline",
            Command::EscalateTask { .. } => "escalate_task",
            Command::DecideTransfer { .. } => "decide_transfer",
            Command::SendTransfer { .. } => "send_transfer",
            Command::AnswerTransfer { .. } => "answer_transfer",
            Command::ReportTransferOutcome { .. } => "report_transfer_outcome",
            Command::DisputeTransfer { .. } => "dispute_transfer",
            Command::FlagTransferDeadline { .. } => "flag_transfer_deadline",
            Command::TransferIn { .. } => "transfer_in",
            Command::AnswerTransferIn { .. } => "answer_transfer_in",
            Command::RequestAssistance { .. } => "request_assistance",
            Command::ExtendAssistance { .. } => "extend_assistance",
            Command::AnswerAssistance { .. } => "answer_assistance",
            Command::FlagAssistanceDeadline { .. } => "flag_assistance_deadline",
        }
    }
}
