//! Every command's rules in one place: may this actor do this, to this object, from this
//! state, now? Returns the new state of what changes.

use chrono::NaiveDateTime;
use griddispatch_protocol::command::{Command, Outcome, Penalty, ReportSource};
use griddispatch_protocol::Role;

use super::model::{
    Case, CaseStatus, CellRef, PendingRequest, Recheck, Report, ReportStatus, Supplement, Task,
    TaskStatus,
};
use super::rules::{simple_fine_limit, DomainError, Fen, ARRIVAL_TOLERANCE_M};

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
            Err(DomainError::forbidden(format!(
                "只有{}可以{what} (only a {} may do this)",
                role.label_zh(),
                role.as_str()
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
}

/// Everything a decision may look at, loaded by the command handler.
#[derive(Debug, Clone, Default)]
pub struct Facts {
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
    /// The category's rules (of a new report, or of the task's report).
    pub category: Option<CategoryRules>,
    /// Where a new report falls.
    pub located: Option<Located>,
    /// The named squad exists.
    pub squad_exists: bool,
    /// Facts about proposed officers.
    pub officers: Vec<OfficerFact>,
    /// Distance of an arrival from the task's cell, metres (0 inside).
    pub arrival_distance_m: Option<f64>,
    /// Handling due time computed on the working-day calendar (dispatch, extension).
    pub due_at: Option<NaiveDateTime>,
    /// Acknowledgement due time.
    pub ack_due_at: Option<NaiveDateTime>,
    /// A number reserved for a decision or a case.
    pub number: Option<String>,
    /// Attachments named by the command that belong to someone else.
    pub foreign_attachments: Vec<String>,
    /// The id named for a new object is already used.
    pub id_taken: bool,
    /// A new report's position converted to WGS-84 `(lat, lon)`.
    pub position_wgs84: Option<(f64, f64)>,
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
    v.as_ref()
        .ok_or_else(|| DomainError::not_found(format!("{what}不存在 ({what} not found)")))
}

fn state_err(what: &str, status: &str, action: &str) -> DomainError {
    DomainError::state(format!(
        "{what}当前状态为 {status}，不能{action} ({what} is {status}; cannot {action})"
    ))
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
        .ok_or_else(|| DomainError::rule("no_clock", "no time given"))?;
    let a = &f.actor;
    match cmd {
        Command::CreateReport {
            report_id,
            source,
            category_code,
            description,
            position,
            attachment_ids,
            contact,
            occurred_at,
        } => {
            match source {
                ReportSource::GridPatrol => a.require(Role::GridMember, "上报巡查线索")?,
                ReportSource::Department => {
                    a.require(Role::DepartmentLiaison, "报送日常监管线索")?
                }
                ReportSource::Hotline
                | ReportSource::PublicComplaint
                | ReportSource::HigherLevel => {
                    a.require(Role::Dispatcher, "录入热线、举报和交办线索")?
                }
            }
            if uuid::Uuid::parse_str(report_id).is_err() {
                return Err(DomainError::rule(
                    "invalid_id",
                    "report_id 须为 UUID (report_id must be a UUID)",
                ));
            }
            if f.id_taken {
                return Err(DomainError::state(
                    "该编号的线索已存在 (a report with this id exists)",
                ));
            }
            let description = required(description, "description_required", "情况描述")?;
            if f.category.is_none() {
                return Err(DomainError::rule(
                    "unknown_category",
                    format!("未知事件类别 `{category_code}` (unknown category)"),
                ));
            }
            check_attachments(f, attachment_ids)?;
            if *source == ReportSource::GridPatrol && attachment_ids.is_empty() {
                return Err(DomainError::rule("attachments_required", "网格巡查上报须附至少一张照片或一段视频 (a patrol report needs at least one photo or video)"));
            }
            let position = position.as_ref().ok_or_else(|| {
                DomainError::rule(
                    "position_required",
                    "须提供位置 (a position is required to locate the cell)",
                )
            })?;
            let cell = match &f.located {
                Some(Located::Inside(cell)) => cell.clone(),
                Some(Located::Outside { nearest, distance_m }) => {
                    return Err(DomainError::rule(
                        "outside_grid",
                        format!("位置不在本镇网格内，最近的网格 {nearest} 相距约 {distance_m:.0} 米 (outside the grid; nearest cell {nearest}, {distance_m:.0} m away)"),
                    ))
                }
                Some(Located::InvalidPoint) => {
                    return Err(DomainError::rule("invalid_position", "经纬度无效 (latitude/longitude out of range)"))
                }
                Some(Located::NoGrid) | None => {
                    return Err(DomainError::rule("no_grid", "尚未导入网格 (no grid has been imported)"))
                }
            };
            if *source == ReportSource::GridPatrol && !a.covers(Some(&cell.village)) {
                return Err(DomainError::out_of_scope(format!(
                    "该位置属于网格 {}，不在您负责的网格内 (not one of your cells)",
                    cell.village
                )));
            }
            let (lat, lon) = f.position_wgs84.unwrap_or((position.lat, position.lon));
            let report = Report {
                id: report_id.clone(),
                source: *source,
                reporter_id: a.user_id.clone(),
                contact: contact.clone().filter(|_| {
                    !matches!(source, ReportSource::GridPatrol | ReportSource::Department)
                }),
                category_code: category_code.clone(),
                description,
                lat: Some(lat),
                lon: Some(lon),
                cell: Some(cell),
                attachment_ids: attachment_ids.clone(),
                status: ReportStatus::Reported,
                note: None,
                merged_into: None,
                transferred_to: None,
                task_id: None,
                supplements: vec![],
                occurred_at: occurred_at.map(|t| t.naive_utc()),
                created_at: now,
                updated_at: now,
                finished_at: None,
            };
            Ok(Change {
                report: Some(report),
                ..Change::default()
            })
        }
        Command::RequestInfo { question, .. } => {
            a.require(Role::Dispatcher, "要求补充材料")?;
            let mut r = need(&f.report, "线索")?.clone();
            if r.status != ReportStatus::Reported {
                return Err(state_err("线索", r.status.as_str(), "要求补充"));
            }
            r.note = Some(required(question, "question_required", "需补充的内容")?);
            r.status = ReportStatus::NeedsInfo;
            r.updated_at = now;
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        Command::SupplementReport {
            note,
            attachment_ids,
            ..
        } => {
            let mut r = need(&f.report, "线索")?.clone();
            if r.reporter_id != a.user_id {
                return Err(DomainError::out_of_scope(
                    "只有上报人可以补充 (only the reporter may supplement)",
                ));
            }
            if r.status != ReportStatus::NeedsInfo {
                return Err(state_err("线索", r.status.as_str(), "补充"));
            }
            check_attachments(f, attachment_ids)?;
            let note = required(note, "note_required", "补充说明")?;
            r.supplements.push(Supplement { note, at: now });
            r.attachment_ids.extend(attachment_ids.iter().cloned());
            r.status = ReportStatus::Reported;
            r.updated_at = now;
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        Command::RejectReport { reason, .. } => {
            a.require(Role::Dispatcher, "不予受理")?;
            let mut r = triage(f, "不予受理")?;
            r.note = Some(required(reason, "reason_required", "不予受理理由")?);
            finish(&mut r, ReportStatus::Rejected, now);
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        Command::MergeReport {
            report_id,
            into_report_id,
        } => {
            a.require(Role::Dispatcher, "合并线索")?;
            let mut r = triage(f, "合并")?;
            if report_id == into_report_id {
                return Err(DomainError::rule(
                    "merge_into_self",
                    "不能合并到自身 (cannot merge a report into itself)",
                ));
            }
            let target = need(&f.merge_target, "合并目标线索")?;
            if !target.status.is_open() {
                return Err(DomainError::state(format!(
                    "目标线索状态为 {}，只能合并到未办结的线索 (the target must be open)",
                    target.status.as_str()
                )));
            }
            r.merged_into = Some(into_report_id.clone());
            finish(&mut r, ReportStatus::Merged, now);
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        Command::TransferReport {
            department, reason, ..
        } => {
            a.require(Role::Dispatcher, "移送线索")?;
            let mut r = triage(f, "移送")?;
            r.transferred_to = Some(required(department, "department_required", "接收部门")?);
            r.note = Some(required(reason, "reason_required", "移送理由")?);
            finish(&mut r, ReportStatus::Transferred, now);
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        Command::DispatchReport {
            task_id, squad_id, ..
        } => {
            a.require(Role::Dispatcher, "派遣任务")?;
            let mut r = triage(f, "派遣")?;
            if uuid::Uuid::parse_str(task_id).is_err() {
                return Err(DomainError::rule(
                    "invalid_id",
                    "task_id 须为 UUID (task_id must be a UUID)",
                ));
            }
            if f.id_taken {
                return Err(DomainError::state(
                    "该编号的任务已存在 (a task with this id exists)",
                ));
            }
            if !f.squad_exists {
                return Err(DomainError::not_found(format!(
                    "中队 {squad_id} 不存在 (no such squad)"
                )));
            }
            let (due_at, ack_due_at) = f
                .due_at
                .zip(f.ack_due_at)
                .ok_or_else(|| DomainError::rule("no_deadline", "no deadline computed"))?;
            let task = Task {
                id: task_id.clone(),
                report_id: r.id.clone(),
                squad_id: squad_id.clone(),
                cell_village: r.cell.as_ref().map(|c| c.village.clone()),
                category_code: r.category_code.clone(),
                status: TaskStatus::Dispatched,
                officer_ids: vec![],
                handled_by: None,
                outcome: None,
                outcome_attachment_ids: vec![],
                decision_number: None,
                case_id: None,
                dispatched_at: now,
                ack_due_at,
                due_at,
                accepted_at: None,
                arrived_at: None,
                handled_at: None,
                closed_at: None,
                verified_at: None,
                pending_return: None,
                pending_extension: None,
                rework_count: 0,
                return_count: 0,
                extension_count: 0,
                last_recheck: None,
                warned_at: None,
                escalated_at: None,
            };
            r.status = ReportStatus::Accepted;
            r.task_id = Some(task_id.clone());
            r.updated_at = now;
            Ok(Change {
                report: Some(r),
                task: Some(task),
                case: None,
            })
        }
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
                if !o.is_officer || !o.active {
                    return Err(DomainError::rule(
                        "not_an_officer",
                        format!("{id} 不是在岗执法人员 (not an active officer)"),
                    ));
                }
                if !o.certified {
                    return Err(DomainError::rule(
                        "certificate_required",
                        format!(
                            "{id} 没有有效执法证，不能处置任务 (no valid enforcement certificate)"
                        ),
                    ));
                }
                if !o.in_squad {
                    return Err(DomainError::rule(
                        "not_squad_officer",
                        format!("{id} 不属于本中队 (not a member of this squad)"),
                    ));
                }
            }
            let rules = f
                .category
                .ok_or_else(|| DomainError::rule("unknown_category", "unknown category"))?;
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
            let (due_at, ack_due_at) = f
                .due_at
                .zip(f.ack_due_at)
                .ok_or_else(|| DomainError::rule("no_deadline", "no deadline computed"))?;
            t.squad_id = squad_id.clone();
            t.status = TaskStatus::Dispatched;
            t.officer_ids.clear();
            t.dispatched_at = now;
            t.due_at = due_at;
            t.ack_due_at = ack_due_at;
            t.accepted_at = None;
            // The new squad's clock starts afresh.
            t.warned_at = None;
            t.escalated_at = None;
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
            t.arrived_at = Some(now);
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
            let rules = f
                .category
                .ok_or_else(|| DomainError::rule("unknown_category", "unknown category"))?;
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
                    t.decision_number = Some(
                        f.number
                            .clone()
                            .ok_or_else(|| DomainError::rule("no_number", "no decision number"))?,
                    );
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
                t.due_at = f
                    .due_at
                    .ok_or_else(|| DomainError::rule("no_deadline", "no deadline computed"))?;
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
        Command::CloseReport { .. } => {
            a.require(Role::Dispatcher, "结案")?;
            let mut r = need(&f.report, "线索")?.clone();
            if r.status != ReportStatus::Accepted {
                return Err(state_err("线索", r.status.as_str(), "结案"));
            }
            let t = need(&f.task, "任务")?;
            if t.status != TaskStatus::Verified {
                return Err(DomainError::state(format!(
                    "任务状态为 {}，须核查通过后才能结案 (the task must pass re-check first)",
                    t.status.as_str()
                )));
            }
            finish(&mut r, ReportStatus::Closed, now);
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        Command::FlagDeadline { level, .. } => {
            if !a.is_system {
                return Err(DomainError::forbidden("预警和督办由系统根据时限自动发出 (deadline warnings are raised by the server only)"));
            }
            let mut t = need(&f.task, "任务")?.clone();
            if !t.status.clock_running() {
                return Err(state_err("任务", t.status.as_str(), "预警"));
            }
            match level.as_str() {
                "yellow" if t.warned_at.is_none() => t.warned_at = Some(now),
                "red" if t.escalated_at.is_none() => {
                    t.warned_at.get_or_insert(now);
                    t.escalated_at = Some(now);
                }
                "yellow" | "red" => {
                    return Err(DomainError::state("已发出过该级别预警 (already raised)"))
                }
                _ => {
                    return Err(DomainError::rule(
                        "invalid_level",
                        "level 须为 yellow 或 red",
                    ))
                }
            }
            Ok(Change {
                task: Some(t),
                ..Change::default()
            })
        }
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
    }
}

/// A report open for triage.
fn triage(f: &Facts, action: &str) -> Result<Report, DomainError> {
    let r = need(&f.report, "线索")?;
    if !matches!(r.status, ReportStatus::Reported | ReportStatus::NeedsInfo) {
        return Err(state_err("线索", r.status.as_str(), action));
    }
    Ok(r.clone())
}

fn finish(r: &mut Report, status: ReportStatus, now: NaiveDateTime) {
    r.status = status;
    r.updated_at = now;
    r.finished_at = Some(now);
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
