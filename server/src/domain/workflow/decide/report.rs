//! 受理与分拨: the rules of a report — intake from every source, requests for more
//! information, rejection, merge, transfer, dispatch to a squad, closure after re-check.

use chrono::NaiveDateTime;
use griddispatch_protocol::command::{Command, ReportSource};
use griddispatch_protocol::Role;

use super::super::model::{Report, ReportStatus, Supplement, Task, TaskStatus};
use super::super::rules::DomainError;
use super::{check_attachments, misrouted, need, required, state_err, Change, Facts, Located};
use crate::domain::calendar::Measure;

pub(super) fn decide(cmd: &Command, f: &Facts, now: NaiveDateTime) -> Result<Change, DomainError> {
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
            address,
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
            let address = address
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned);
            // A caller gives an address; the dispatcher places it on the map before dispatch.
            let may_lack_position = *source != ReportSource::GridPatrol && address.is_some();
            let (cell, lat, lon) = match position {
                Some(position) => {
                    let cell = located_cell(f)?;
                    if *source == ReportSource::GridPatrol && !a.covers(Some(&cell.village)) {
                        return Err(DomainError::out_of_scope(format!(
                            "该位置属于网格 {}，不在您负责的网格内 (not one of your cells)",
                            cell.village
                        )));
                    }
                    let (lat, lon) = f.position_wgs84.unwrap_or((position.lat, position.lon));
                    (Some(cell), Some(lat), Some(lon))
                }
                None if may_lack_position => (None, None, None),
                None => {
                    return Err(DomainError::rule(
                        "position_required",
                        "须提供位置；热线等来源可只提供地址 (a position is required to locate the cell; hotline and other sources may give an address instead)",
                    ))
                }
            };
            let report = Report {
                id: report_id.clone(),
                source: *source,
                reporter_id: a.user_id.clone(),
                contact: contact.clone().filter(|_| {
                    !matches!(source, ReportSource::GridPatrol | ReportSource::Department)
                }),
                category_code: category_code.clone(),
                description,
                lat,
                lon,
                cell,
                address,
                attachment_ids: attachment_ids.clone(),
                status: ReportStatus::Reported,
                note: None,
                merged_into: None,
                transferred_to: None,
                task_id: None,
                supplements: vec![],
                transfer: None,
                assistance: vec![],
                transfer_in: None,
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
        Command::SetReportPosition { position, .. } => {
            a.require(Role::Dispatcher, "设置线索位置")?;
            let mut r = triage(f, "设置位置")?;
            let cell = located_cell(f)?;
            let (lat, lon) = f.position_wgs84.unwrap_or((position.lat, position.lon));
            r.lat = Some(lat);
            r.lon = Some(lon);
            r.cell = Some(cell);
            r.updated_at = now;
            Ok(Change {
                report: Some(r),
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
            is_duplicate(&r, target, f)?;
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
            if r.cell.is_none() {
                return Err(DomainError::rule(
                    "position_required",
                    "线索尚无位置，请先在地图上设置位置 (set the report's position before dispatch: set_report_position)",
                ));
            }
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
            let squad_id = f.squad_id.as_ref().unwrap_or(squad_id);
            let (due_at, ack_due_at) = f.due_at.zip(f.ack_due_at).ok_or_else(|| {
                DomainError::rule("no_deadline", "未能计算时限 (no deadline computed)")
            })?;
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
                handling_measure: f.handling_measure.unwrap_or(Measure::Working),
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
                ack_warned_at: None,
                ack_escalated_at: None,
                escalations: vec![],
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
            // A case proposed from the task carries the matter on: the report stays open
            // until the case ends (declined, archived or handed over to police).
            if t.case_id.is_some() {
                let case = need(&f.case, "案件")?;
                if case.status.is_open() {
                    return Err(DomainError::state(format!(
                        "案件状态为 {}，须案件办结（不予立案、归档或移送公安）后才能结案 (the report's case is still open)",
                        case.status.as_str()
                    )));
                }
            }
            finish(&mut r, ReportStatus::Closed, now);
            Ok(Change {
                report: Some(r),
                ..Change::default()
            })
        }
        other => Err(misrouted(other)),
    }
}

/// The village cell a position was located in, or why it cannot be used.
fn located_cell(f: &Facts) -> Result<super::super::model::CellRef, DomainError> {
    match &f.located {
        Some(Located::Inside(cell)) => Ok(cell.clone()),
        Some(Located::Outside { nearest, distance_m }) => Err(DomainError::rule(
            "outside_grid",
            format!("位置不在本镇网格内，最近的网格 {nearest} 相距约 {distance_m:.0} 米 (outside the grid; nearest cell {nearest}, {distance_m:.0} m away)"),
        )),
        Some(Located::InvalidPoint) => Err(DomainError::rule(
            "invalid_position",
            "经纬度无效 (latitude/longitude out of range)",
        )),
        Some(Located::NoGrid) | None => Err(DomainError::rule(
            "no_grid",
            "尚未导入网格 (no grid has been imported)",
        )),
    }
}

/// The merge criteria: same category, nearby, recent (DOMAIN.md §4).
fn is_duplicate(r: &Report, target: &Report, f: &Facts) -> Result<(), DomainError> {
    let rules = f.merge_rules;
    if r.category_code != target.category_code {
        return Err(DomainError::rule(
            "not_a_duplicate",
            format!(
                "事件类别不同（{} 与 {}），不能合并 (different categories: not a duplicate)",
                r.category_code, target.category_code
            ),
        ));
    }
    let far = f.merge_distance_m.is_none_or(|d| d > rules.max_distance_m);
    if far {
        let max = rules.max_distance_m;
        return Err(DomainError::rule(
            "not_a_duplicate",
            match f.merge_distance_m {
                Some(d) => format!("两处相距约 {d:.0} 米，超过 {max:.0} 米，不能合并 (the reports are {d:.0} m apart, more than {max:.0} m)"),
                None => "缺少位置，无法判断是否同一事件 (a position is missing: cannot tell they are the same)".to_owned(),
            },
        ));
    }
    let hours = (r.created_at - target.created_at).num_minutes().abs() as f64 / 60.0;
    if hours > rules.max_hours as f64 {
        let max = rules.max_hours;
        return Err(DomainError::rule(
            "not_a_duplicate",
            format!("两条线索相隔约 {hours:.0} 小时，超过 {max} 小时，不能合并 (the reports are {hours:.0} h apart, more than {max} h)"),
        ));
    }
    Ok(())
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
