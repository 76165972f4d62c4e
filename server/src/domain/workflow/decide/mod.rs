//! Every command's rules: may this actor do this, to this object, from this state, now?
//! Returns the new state of what changes. `decide` only dispatches; the rules live by the
//! aggregate they decide: [`report`] (intake and triage), [`task`] (dispatched work, on-site
//! handling, re-check, deadlines), [`case`] (the general procedure).

mod assistance;
mod case;
mod report;
mod task;
mod transfer;

pub use assistance::AssistanceDue;
pub use transfer::{DepartmentFact, TransferDue};

use chrono::NaiveDateTime;
use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::model::{self, Case, CellRef, Report, Task};
use super::rules::DomainError;

/// Who is acting, as the database says now (roles, certificate, cells, squads).
#[derive(Debug, Clone, Default)]
pub struct ActorCtx {
    /// User id.
    pub user_id: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Holds a valid enforcement certificate today.
    pub certified: bool,
    /// Village codes the user serves as grid member or leader (memberships of areas and towns
    /// already expanded to their villages).
    pub villages: Vec<String>,
    /// Squads the user belongs to.
    pub squads: Vec<String>,
    /// The server itself (deadline job), not a person.
    pub is_system: bool,
}

impl ActorCtx {
    fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn require(&self, role: Role, what: &str) -> Result<(), DomainError> {
        if self.has(role) {
            Ok(())
        } else {
            let name = role.as_str();
            let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            Err(DomainError::forbidden(format!(
                "只有{}可以{what} (only {article} {name} may do this)",
                role.label_zh(),
            )))
        }
    }

    fn covers(&self, village: Option<&str>) -> bool {
        village.is_some_and(|v| self.villages.iter().any(|c| c == v))
    }

    fn in_squad(&self, squad: &str) -> bool {
        self.squads.iter().any(|s| s == squad)
    }
}

/// Where a report's position falls.
#[derive(Debug, Clone, PartialEq)]
pub enum Located {
    /// Inside a village cell.
    Inside(CellRef),
    /// Outside the grid: the nearest cell and the distance to it.
    Outside {
        /// Nearest village.
        nearest: String,
        /// Metres.
        distance_m: f64,
    },
    /// No grid has been imported yet.
    NoGrid,
    /// Not a position on Earth (NaN, out of range).
    InvalidPoint,
}

/// What a category allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryRules {
    /// 简易程序 may apply.
    pub simple_procedure_allowed: bool,
    /// Handling may lead to a penalty: two certified officers are required.
    pub penalty_possible: bool,
}

/// What the command handler knows about a proposed officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerFact {
    /// User id.
    pub user_id: String,
    /// Holds the officer role.
    pub is_officer: bool,
    /// Certificate valid now.
    pub certified: bool,
    /// Member of the task's squad.
    pub in_squad: bool,
    /// Account enabled.
    pub active: bool,
    /// Holds the legal reviewer role (may host a hearing).
    pub is_legal_reviewer: bool,
}

impl OfficerFact {
    /// An active officer with a valid enforcement certificate (seed 002 第十二条; the
    /// certificate shown in every investigation, art. 55): who may handle a task or a case.
    fn may_enforce(&self) -> Result<(), DomainError> {
        let id = &self.user_id;
        if !self.is_officer || !self.active {
            return Err(DomainError::rule(
                "not_an_officer",
                format!("{id} 不是在岗执法人员 (not an active officer)"),
            ));
        }
        if !self.certified {
            return Err(DomainError::rule(
                "certificate_required",
                format!("{id} 没有有效执法证 (no valid enforcement certificate)"),
            ));
        }
        Ok(())
    }
}

/// Everything a decision may look at, loaded by the command handler.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// When the phone says this command's action happened (offline work pushed later); none:
    /// now.
    pub occurred_at: Option<NaiveDateTime>,
    /// The actor.
    pub actor: ActorCtx,
    /// Now (UTC).
    pub now: Option<NaiveDateTime>,
    /// The report the command names (or the task's report).
    pub report: Option<Report>,
    /// The task the command names (or the report's task).
    pub task: Option<Task>,
    /// The case the command names.
    pub case: Option<Case>,
    /// A merge target.
    pub merge_target: Option<Report>,
    /// Distance between a report and its merge target, metres (None: a position is missing).
    pub merge_distance_m: Option<f64>,
    /// The duplicate criteria (configuration).
    pub merge_rules: super::MergeRules,
    /// The category's rules (of a new report, or of the task's report).
    pub category: Option<CategoryRules>,
    /// Where a new report falls.
    pub located: Option<Located>,
    /// The named squad exists.
    pub squad_exists: bool,
    /// The named squad's id, when the command named it by its code (`SQ1`) or its id alike.
    pub squad_id: Option<String>,
    /// Facts about proposed officers.
    pub officers: Vec<OfficerFact>,
    /// Distance of an arrival from the task's cell, metres (0 inside).
    pub arrival_distance_m: Option<f64>,
    /// Handling due time computed on the working-day calendar (dispatch, extension).
    pub due_at: Option<NaiveDateTime>,
    /// Acknowledgement due time.
    pub ack_due_at: Option<NaiveDateTime>,
    /// How the category's handling clock counts (dispatch, re-dispatch); working if unknown.
    pub handling_measure: Option<crate::domain::calendar::Measure>,
    /// A number reserved for a decision or a case.
    pub number: Option<String>,
    /// Attachments named by the command that belong to someone else.
    pub foreign_attachments: Vec<String>,
    /// The attachments named by the command that are uploaded already, with their labels.
    pub evidence: Vec<EvidenceFact>,
    /// The id named for a new object is already used.
    pub id_taken: bool,
    /// A new report's position converted to WGS-84 `(lat, lon)`.
    pub position_wgs84: Option<(f64, f64)>,
    /// The procedure's figures (configuration).
    pub case_rules: super::CaseRules,
    /// A hearing host named by the command.
    pub host: Option<OfficerFact>,
    /// Publication due for a decision made now (7 working days on the calendar).
    pub publish_due_at: Option<NaiveDateTime>,
    /// A 先行登记保存 record made now must be decided by (7 working days on the calendar).
    pub preservation_due_at: Option<NaiveDateTime>,
    /// The procedure's periods counted from now in working days (art. 85).
    pub case_due: super::CaseDue,
    /// The department a transfer command names.
    pub department: Option<DepartmentFact>,
    /// A second department a command names (the procuratorate of a crime hand-over).
    pub copy_department: Option<DepartmentFact>,
    /// The department the actor is a liaison of.
    pub actor_department: Option<String>,
    /// A transfer's clocks counted from now.
    pub transfer_due: TransferDue,
    /// A new assistance request's answer clock counted from now.
    pub assistance_due: AssistanceDue,
}

/// An uploaded attachment a command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFact {
    /// Id.
    pub id: String,
    /// `before` or `after` (a rectification's photos), as labelled at upload.
    pub phase: Option<String>,
    /// When it was taken (the earlier of the file's own time and the phone's; receipt time
    /// when neither is known).
    pub taken_at: NaiveDateTime,
    /// It says what it proves (证明对象).
    pub proves: bool,
}

/// Every evidence item of a case file: the proposal's, the investigation records' and the
/// hearing's.
pub fn case_evidence_ids(c: &Case) -> Vec<String> {
    let mut ids = c.evidence_ids.clone();
    for r in &c.procedure.records {
        ids.extend(r.attachment_ids.iter().cloned());
    }
    if let Some(h) = &c.procedure.hearing {
        ids.extend(h.attachment_ids.iter().cloned());
    }
    ids.sort();
    ids.dedup();
    ids
}

/// Seed 003: evidence in a case file says what it proves. Before legal review every item of
/// the file that has been uploaded must carry its 证明对象 (`evidence_proves_required`).
fn check_case_evidence_proves(f: &Facts) -> Result<(), DomainError> {
    let missing: Vec<&str> = f
        .evidence
        .iter()
        .filter(|e| !e.proves)
        .map(|e| e.id.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(DomainError::rule(
        "evidence_proves_required",
        format!(
            "以下证据未填写证明对象：{} (these evidence items do not say what they prove: {})",
            missing.join("、"),
            missing.join(", ")
        ),
    ))
}

/// An `after` photo must show the scene after the officers arrived: one taken before their
/// arrival is refused `after_photo_before_arrival`.
fn check_after_photos(f: &Facts, arrived_at: Option<NaiveDateTime>) -> Result<(), DomainError> {
    let Some(arrived) = arrived_at else {
        return Ok(());
    };
    if let Some(e) = f
        .evidence
        .iter()
        .find(|e| e.phase.as_deref() == Some("after") && e.taken_at < arrived)
    {
        return Err(DomainError::rule(
            "after_photo_before_arrival",
            format!("整改后照片 {} 的拍摄时间早于执法人员到场 (the after photo {} was taken before the officers arrived)", e.id, e.id),
        ));
    }
    Ok(())
}

/// What a command changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// New state of the report, if it changed.
    pub report: Option<Report>,
    /// New state of the task, if it changed.
    pub task: Option<Task>,
    /// New state of the case, if it changed.
    pub case: Option<Case>,
}

fn required(text: &str, code: &'static str, what: &str) -> Result<String, DomainError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DomainError::rule(
            code,
            format!("{what}不能为空 ({what} is required)"),
        ));
    }
    if t.chars().count() > 4000 {
        return Err(DomainError::rule(
            code,
            format!("{what}过长，最多 4000 字 (too long)"),
        ));
    }
    Ok(t.to_owned())
}

fn need<'a, T>(v: &'a Option<T>, what: &str) -> Result<&'a T, DomainError> {
    v.as_ref().ok_or_else(|| {
        DomainError::not_found(format!(
            "{what}不存在 ({} not found)",
            capitalised(english(what))
        ))
    })
}

fn state_err(what: &str, status: &str, action: &str) -> DomainError {
    DomainError::state(format!(
        "{what}当前状态为 {status}，不能{action} ({} is {status}; cannot {})",
        capitalised(english(what)),
        english(action)
    ))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The English half of a message names objects and actions in English: the rules name them
/// in Chinese once, for the Chinese half.
fn english(term: &str) -> &str {
    match term {
        "任务" => "the task",
        "线索" => "the report",
        "案件" => "the case",
        "合并目标线索" => "the report to merge into",
        "到场" => "record an arrival",
        "回退" => "ask to return it",
        "处置" => "record the handling",
        "审批回退" => "decide the return",
        "核查" => "re-check it",
        "申请延期" => "ask for an extension",
        "督办" => "escalate it",
        "签收" => "accept it",
        "结束" | "结案" => "close it",
        "重新派遣" => "re-dispatch it",
        "预警" => "flag its deadline",
        "决定是否立案" => "decide whether to file it",
        "延长办案期限" => "extend its time limit",
        "移送公安机关" => "hand it over to the police",
        "答复移送" => "answer the hand-over",
        "补充" => "supplement it",
        "要求补充" => "ask for more information",
        "不予受理" => "reject it",
        "作出决定" => "decide it",
        "公示" => "publish the decision",
        "制作调查笔录" => "add an investigation record",
        "合并" => "merge it",
        "告知当事人" => "notify the party",
        "安排听证" => "schedule a hearing",
        "法制审核" => "review it",
        "派遣" => "dispatch it",
        "登记听证申请" => "record a hearing request",
        "移送" => "transfer it",
        "请求协助" => "ask for assistance on it",
        "结案归档" => "archive it",
        "记录听证" => "record the hearing",
        "记录集体讨论" => "record the collective discussion",
        "设置位置" => "set its position",
        "送达" => "serve the decision",
        "指派调查人员" => "assign investigators",
        "提请法制审核" => "submit it for legal review",
        "登记缴款" => "record a payment",
        "记录陈述申辩" => "record the party's statement",
        "登记延期、分期缴纳申请" => {
            "record an application to defer or pay in instalments"
        }
        "申请延期、分期缴纳" => "apply to defer or pay in instalments",
        "批准延期、分期缴纳" => "decide on a deferral or instalments",
        "催告" => "remind the party",
        "申请人民法院强制执行" => "apply to the court for enforcement",
        _ => "do this",
    }
}

fn check_ids(ids: &[String]) -> Result<(), DomainError> {
    for id in ids {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(DomainError::rule(
                "invalid_id",
                format!("附件编号须为 UUID: `{id}` (attachment ids must be UUIDs)"),
            ));
        }
    }
    Ok(())
}

fn check_attachments(f: &Facts, ids: &[String]) -> Result<(), DomainError> {
    check_ids(ids)?;
    if let Some(id) = f.foreign_attachments.first() {
        return Err(DomainError::out_of_scope(format!(
            "附件 {id} 不是本人制作的证据 (attachment {id} belongs to someone else)"
        )));
    }
    Ok(())
}

/// Decide a command. `facts.now` must be set.
pub fn decide(cmd: &Command, f: &Facts) -> Result<Change, DomainError> {
    let now = f
        .now
        .ok_or_else(|| DomainError::rule("no_clock", "未给出当前时间 (no time given)"))?;
    if let (
        Command::DispatchReport { .. }
        | Command::RejectReport { .. }
        | Command::MergeReport { .. }
        | Command::RequestInfo { .. }
        | Command::TransferReport { .. },
        Some(r),
    ) = (cmd, &f.report)
    {
        if r.transfer_in
            .as_ref()
            .is_some_and(|t| t.status == model::TransferInStatus::Sent)
        {
            return Err(DomainError {
                kind: super::rules::ErrorKind::InvalidState,
                code: "transfer_in_unanswered",
                message: "部门移送来的事项须先答复接收或拒收 (answer the department's transfer first: accept, or refuse with the reason)".into(),
            });
        }
    }
    match cmd {
        Command::CreateReport { .. }
        | Command::SetReportPosition { .. }
        | Command::RequestInfo { .. }
        | Command::SupplementReport { .. }
        | Command::RejectReport { .. }
        | Command::MergeReport { .. }
        | Command::TransferReport { .. }
        | Command::DispatchReport { .. }
        | Command::CloseReport { .. } => report::decide(cmd, f, now),
        Command::AcceptTask { .. }
        | Command::RequestReturn { .. }
        | Command::DecideReturn { .. }
        | Command::RedispatchTask { .. }
        | Command::ArriveOnSite { .. }
        | Command::HandleTask { .. }
        | Command::CloseTask { .. }
        | Command::RecheckTask { .. }
        | Command::RequestExtension { .. }
        | Command::DecideExtension { .. }
        | Command::FlagDeadline { .. }
        | Command::EscalateTask { .. } => task::decide(cmd, f, now),
        Command::FileCase { .. }
        | Command::DeclineCase { .. }
        | Command::StartInvestigation { .. }
        | Command::AddCaseRecord { .. }
        | Command::NotifyParty { .. }
        | Command::RecordStatement { .. }
        | Command::RequestHearing { .. }
        | Command::ScheduleHearing { .. }
        | Command::RecordHearing { .. }
        | Command::SubmitForReview { .. }
        | Command::ReviewCase { .. }
        | Command::RecordDiscussion { .. }
        | Command::ExtendCaseDeadline { .. }
        | Command::DecideCase { .. }
        | Command::ServeDecision { .. }
        | Command::RecordPayment { .. }
        | Command::RequestPaymentPlan { .. }
        | Command::DecidePaymentPlan { .. }
        | Command::RemindParty { .. }
        | Command::ApplyToCourt { .. }
        | Command::PublishDecision { .. }
        | Command::ArchiveCase { .. }
        | Command::HandOverToPolice { .. }
        | Command::ProposeHandOver { .. }
        | Command::RefuseHandOver { .. }
        | Command::DecidePreservation { .. }
        | Command::AnswerHandOver { .. }
        | Command::FlagCaseDeadline { .. } => case::decide(cmd, f, now),
        Command::DecideTransfer { .. }
        | Command::SendTransfer { .. }
        | Command::AnswerTransfer { .. }
        | Command::ReportTransferOutcome { .. }
        | Command::DisputeTransfer { .. }
        | Command::FlagTransferDeadline { .. }
        | Command::TransferIn { .. }
        | Command::AnswerTransferIn { .. } => transfer::decide(cmd, f, now),
        Command::RequestAssistance { .. }
        | Command::ExtendAssistance { .. }
        | Command::AnswerAssistance { .. }
        | Command::FlagAssistanceDeadline { .. } => assistance::decide(cmd, f, now),
    }
}

/// A command handed to the rules of another aggregate: `decide` routes every command to the
/// one module that decides it, so this never reaches a user.
fn misrouted(cmd: &Command) -> DomainError {
    DomainError::rule(
        "internal_routing",
        format!(
            "指令 {} 无对应规则 (no rule for this command here)",
            cmd.name()
        ),
    )
}
