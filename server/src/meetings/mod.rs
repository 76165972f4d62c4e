//! Joint meetings (联席会议, seed 001 附件 工作规则 and seed 004 一(四)): held monthly by
//! default; member units' liaisons and the brigade's staff submit topics from 10 days before the
//! meeting until a cut-off; the chair issues the minutes after the meeting, each decided item
//! (议定事项) with its owner unit and person, deadline and standard; the owner unit's liaison
//! reports progress; an item is closed with its result; overdue items are flagged once and listed
//! on the next meeting's agenda. Every change is recorded in the full-process record.

use chrono::{Datelike, Months, NaiveDateTime};
use griddispatch_protocol::Role;
use serde_json::json;

use crate::config::MeetingsConfig;
use crate::db::DbConn;
use crate::error::AppError;
use crate::store::meetings::{self as store, ItemRow, MeetingRow, ProgressRow, TopicRow};
use crate::store::{audit, departments};

mod changes;
pub use changes::{cancel, decide_topic, reschedule, CancelInput, TopicDecisionInput};

/// Roles that act for the brigade in meetings (the office schedules, the chair issues minutes).
pub const OFFICE: [Role; 2] = [Role::Admin, Role::Approver];
/// Roles of the brigade's staff who may submit topics in its name.
pub const STAFF: [Role; 5] = [
    Role::Admin,
    Role::Approver,
    Role::DutyChief,
    Role::Dispatcher,
    Role::LegalReviewer,
];

/// A meeting as scheduled.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingInput {
    /// Title, 1–100 characters.
    pub title: String,
    /// When it is held (RFC 3339).
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: NaiveDateTime,
    /// Where, up to 200 characters.
    #[serde(default)]
    pub place: String,
    /// The chairing department (a member); absent: the brigade chairs.
    #[serde(default)]
    pub chair_department_id: Option<String>,
    /// Member units (department ids), 1–100.
    pub members: Vec<String>,
}

/// A topic (议题) submitted for a meeting.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicInput {
    /// Title, 1–200 characters.
    pub title: String,
    /// What is to be discussed, up to 5000 characters.
    #[serde(default)]
    pub description: String,
}

/// A decided item in the minutes; every field is required.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// What is to be done (工作任务).
    #[serde(default)]
    pub title: Option<String>,
    /// Owner unit (责任单位): a member department.
    #[serde(default)]
    pub owner_department_id: Option<String>,
    /// Owner person (责任人).
    #[serde(default)]
    pub owner_person: Option<String>,
    /// Deadline (完成时限, RFC 3339), after the meeting.
    #[serde(default)]
    pub due_at: Option<String>,
    /// Standard (标准要求).
    #[serde(default)]
    pub standard: Option<String>,
}

/// The minutes (会议纪要) of a held meeting.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesInput {
    /// The minutes' text, 1–20000 characters.
    pub minutes: String,
    /// Decided items (议定事项), up to 100.
    #[serde(default)]
    pub items: Vec<ItemInput>,
}

/// A progress report (落实情况) or the result that closes an item.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// Text, 1–5000 characters.
    pub note: String,
}

/// A decided item as shown.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// Id.
    pub id: String,
    /// Meeting whose minutes decided it.
    pub meeting_id: String,
    /// Order in the minutes.
    pub position: i32,
    /// What is to be done.
    pub title: String,
    /// Owner unit.
    pub owner_department_id: String,
    /// Owner unit's name.
    pub owner_department: String,
    /// Owner person.
    pub owner_person: String,
    /// Deadline.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: NaiveDateTime,
    /// Standard.
    pub standard: String,
    /// `open`, `overdue` or `closed`.
    pub status: String,
    /// Flagged overdue at.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub flagged_at: Option<NaiveDateTime>,
    /// Result, once closed.
    pub result: Option<String>,
    /// Closed at.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
    /// Progress reports, oldest first.
    pub progress: Vec<ProgressRow>,
}

/// A meeting as shown: its agenda (topics and the overdue items of earlier meetings), minutes
/// and decided items.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: NaiveDateTime,
    /// Where.
    pub place: String,
    /// Chairing department; null: the brigade.
    pub chair_department_id: Option<String>,
    /// Member units (department ids).
    pub members: Vec<String>,
    /// Topics are accepted from.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub topics_open_at: NaiveDateTime,
    /// Topics are accepted until.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub topics_close_at: NaiveDateTime,
    /// Submitted topics.
    pub topics: Vec<TopicRow>,
    /// Items of earlier meetings due before this one and not closed by then (通报).
    pub overdue_items: Vec<ItemView>,
    /// The minutes, once issued.
    pub minutes: Option<String>,
    /// Issued at.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub minutes_issued_at: Option<NaiveDateTime>,
    /// Decided items.
    pub items: Vec<ItemView>,
    /// Names of the member and chairing departments by id (a liaison cannot list the other
    /// departments, but sees with whom it meets).
    pub department_names: std::collections::BTreeMap<String, String>,
    /// Cancelled at (the meeting will not be held).
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<NaiveDateTime>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
}

/// The proposed date of the next meeting.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct NextDate {
    /// Proposed time: the latest meeting's plus the configured interval (monthly), or a month
    /// from now when there is none.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: NaiveDateTime,
}

/// `at` plus `months` calendar months (the last day of a shorter month when the day is past it).
pub fn add_months(at: NaiveDateTime, months: u32) -> NaiveDateTime {
    at.checked_add_months(Months::new(months))
        .unwrap_or(at + chrono::Duration::days(30 * i64::from(months)))
}

/// The next meeting's proposed time: `interval_months` after the latest, moved past `now`.
pub fn propose_next(
    latest: Option<NaiveDateTime>,
    now: NaiveDateTime,
    cfg: &MeetingsConfig,
) -> NaiveDateTime {
    let mut at = match latest {
        Some(t) => add_months(t, cfg.interval_months),
        None => add_months(now, cfg.interval_months),
    };
    while at <= now {
        at = add_months(at, cfg.interval_months);
    }
    at
}

fn not_found() -> AppError {
    AppError::NotFound("会议不存在 (no such meeting)".into())
}

fn item_not_found() -> AppError {
    AppError::NotFound("议定事项不存在 (no such decided item)".into())
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable("invalid_meeting", message)
}

fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(invalid(format!(
            "{field} 需 {min}–{max} 个字 ({field}: {min} to {max} characters)"
        )));
    }
    Ok(v.to_owned())
}

fn is_office(roles: &[Role]) -> bool {
    roles.iter().any(|r| OFFICE.contains(r))
}

fn is_staff(roles: &[Role]) -> bool {
    roles.iter().any(|r| STAFF.contains(r))
}

/// Whether the actor acts for the chair: the brigade's office, or the chairing department's
/// liaison.
fn is_chair(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    m: &MeetingRow,
) -> Result<bool, AppError> {
    if is_office(roles) {
        return Ok(true);
    }
    Ok(match &m.chair_department_id {
        Some(c) => departments::department_of(conn, actor)?.as_deref() == Some(c.as_str()),
        None => false,
    })
}

fn minutes_issued() -> AppError {
    AppError::conflict(
        "minutes_issued",
        "本次会议纪要已签发 (the minutes of this meeting are already issued)",
    )
}

fn not_cancelled(m: &MeetingRow) -> Result<(), AppError> {
    if m.cancelled_at.is_some() {
        return Err(AppError::conflict(
            "meeting_cancelled",
            format!(
                "会议已取消：{} (the meeting was cancelled)",
                m.cancel_reason.as_deref().unwrap_or("")
            ),
        ));
    }
    Ok(())
}

fn window(m: &MeetingRow, cfg: &MeetingsConfig) -> (NaiveDateTime, NaiveDateTime) {
    (
        m.scheduled_at - chrono::Duration::days(cfg.topics_open_days),
        m.scheduled_at - chrono::Duration::days(cfg.topics_cutoff_days),
    )
}

/// The meeting, when the viewer may see it: staff see every meeting, a liaison those its
/// department sits in.
fn visible(
    conn: &mut DbConn,
    viewer: &str,
    roles: &[Role],
    id: &str,
) -> Result<MeetingRow, AppError> {
    let m = store::find(conn, id)?.ok_or_else(not_found)?;
    if is_staff(roles) {
        return Ok(m);
    }
    let dept = departments::department_of(conn, viewer)?;
    match dept {
        Some(d) if store::meetings_of(conn, &d)?.contains(&m.id) => Ok(m),
        _ => Err(not_found()),
    }
}

fn item_view(conn: &mut DbConn, row: ItemRow, now: NaiveDateTime) -> Result<ItemView, AppError> {
    let owner_department = departments::find(conn, &row.owner_department_id)?
        .map(|d| d.name)
        .unwrap_or_default();
    let progress = store::progress(conn, &row.id)?;
    let status = if row.closed_at.is_some() {
        "closed"
    } else if row.due_at < now {
        "overdue"
    } else {
        "open"
    };
    Ok(ItemView {
        status: status.to_owned(),
        id: row.id,
        meeting_id: row.meeting_id,
        position: row.position,
        title: row.title,
        owner_department_id: row.owner_department_id,
        owner_department,
        owner_person: row.owner_person,
        due_at: row.due_at,
        standard: row.standard,
        flagged_at: row.flagged_at,
        result: row.result,
        closed_at: row.closed_at,
        progress,
    })
}

fn view(
    conn: &mut DbConn,
    m: MeetingRow,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<MeetingView, AppError> {
    let (open, close) = window(&m, cfg);
    let members = store::members(conn, &m.id)?;
    let mut department_names = std::collections::BTreeMap::new();
    for d in members.iter().chain(m.chair_department_id.iter()) {
        if let Some(dept) = departments::find(conn, d)? {
            department_names.insert(dept.id, dept.name);
        }
    }
    let topics = store::topics(conn, &m.id)?;
    let overdue = store::overdue_before(conn, &m.id, m.scheduled_at)?
        .into_iter()
        .map(|i| item_view(conn, i, now))
        .collect::<Result<Vec<_>, _>>()?;
    let items = store::items(conn, &m.id)?
        .into_iter()
        .map(|i| item_view(conn, i, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MeetingView {
        id: m.id,
        title: m.title,
        scheduled_at: m.scheduled_at,
        place: m.place,
        chair_department_id: m.chair_department_id,
        members,
        topics_open_at: open,
        topics_close_at: close,
        topics,
        overdue_items: overdue,
        minutes: m.minutes,
        minutes_issued_at: m.minutes_issued_at,
        items,
        department_names,
        cancelled_at: m.cancelled_at,
        cancel_reason: m.cancel_reason,
    })
}

/// Meetings the viewer may see, newest first.
pub fn list(
    conn: &mut DbConn,
    viewer: &str,
    roles: &[Role],
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<Vec<MeetingView>, AppError> {
    let rows = store::list(conn)?;
    let mine = if is_staff(roles) {
        None
    } else {
        match departments::department_of(conn, viewer)? {
            Some(d) => Some(store::meetings_of(conn, &d)?),
            None => Some(Vec::new()),
        }
    };
    rows.into_iter()
        .filter(|m| mine.as_ref().is_none_or(|ids| ids.contains(&m.id)))
        .map(|m| view(conn, m, cfg, now))
        .collect()
}

/// One meeting (404 when unknown or not the viewer's).
pub fn get(
    conn: &mut DbConn,
    viewer: &str,
    roles: &[Role],
    id: &str,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<MeetingView, AppError> {
    let m = visible(conn, viewer, roles, id)?;
    view(conn, m, cfg, now)
}

/// The proposed time of the next meeting.
pub fn next_date(
    conn: &mut DbConn,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<NextDate, AppError> {
    let latest = store::latest(conn)?.map(|m| m.scheduled_at);
    Ok(NextDate {
        scheduled_at: propose_next(latest, now, cfg),
    })
}

/// Schedule a meeting (the office), recorded as `schedule_meeting`.
pub fn create(
    conn: &mut DbConn,
    actor: &str,
    input: &MeetingInput,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<MeetingView, AppError> {
    let (title, place) = checked_input(input)?;
    crate::db::write_transaction(conn, |conn| {
        let members = checked_members(conn, input)?;
        let row = MeetingRow {
            id: uuid::Uuid::new_v4().to_string(),
            title,
            scheduled_at: input.scheduled_at,
            place,
            chair_department_id: input.chair_department_id.clone(),
            minutes: None,
            minutes_issued_at: None,
            minutes_issued_by: None,
            created_by: actor.to_owned(),
            created_at: now,
            cancelled_at: None,
            cancel_reason: None,
        };
        store::insert(conn, &row, &members)?;
        let after = view(conn, row, cfg, now)?;
        audit::record_action(
            conn,
            actor,
            "schedule_meeting",
            &json!({"title": input.title, "members": input.members}),
            &json!({"meeting": null}),
            &json!({"meeting": after}),
            now,
        )?;
        Ok(after)
    })
}

/// The title and place of a meeting as given, checked with its members' count and its year.
fn checked_input(input: &MeetingInput) -> Result<(String, String), AppError> {
    let title = text("title", &input.title, 1, 100)?;
    let place = text("place", &input.place, 0, 200)?;
    if input.members.is_empty() || input.members.len() > 100 {
        return Err(invalid(
            "成员单位需 1–100 个 (members: 1 to 100 departments)",
        ));
    }
    let year = input.scheduled_at.year();
    if !(2000..=2100).contains(&year) {
        return Err(invalid(
            "会议时间需在 2000–2100 年之间 (scheduled_at must be between 2000 and 2100)",
        ));
    }
    Ok((title, place))
}

/// The member units, each a department, once each; the chair among them.
fn checked_members(conn: &mut DbConn, input: &MeetingInput) -> Result<Vec<String>, AppError> {
    let mut members: Vec<String> = Vec::new();
    for d in &input.members {
        if departments::find(conn, d)?.is_none() {
            return Err(unknown_department(d));
        }
        if !members.contains(d) {
            members.push(d.clone());
        }
    }
    if let Some(chair) = &input.chair_department_id {
        if !members.contains(chair) {
            return Err(invalid(
                "主持单位须是成员单位之一；不填则由执法队主持 (the chair must be a member unit; leave it out for the brigade)",
            ));
        }
    }
    Ok(members)
}

fn unknown_department(id: &str) -> AppError {
    AppError::unprocessable(
        "unknown_department",
        format!("部门「{id}」不存在 (no such department: {id})"),
    )
}

/// Submit a topic, recorded as `submit_meeting_topic`. A member unit's liaison submits in its
/// unit's name, the brigade's staff in the brigade's; only inside the window.
pub fn submit_topic(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    meeting_id: &str,
    input: &TopicInput,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<TopicRow, AppError> {
    let title = text("title", &input.title, 1, 200)?;
    let description = text("description", &input.description, 0, 5000)?;
    crate::db::write_transaction(conn, |conn| {
        let m = store::find(conn, meeting_id)?.ok_or_else(not_found)?;
        not_cancelled(&m)?;
        let department = if is_staff(roles) {
            None
        } else {
            let d = departments::department_of(conn, actor)?;
            match d {
                Some(d) if store::meetings_of(conn, &d)?.contains(&m.id) => Some(d),
                _ => {
                    return Err(AppError::forbidden(
                        "not_a_member",
                        "只有成员单位的联络员或执法队工作人员可以提交议题 (only a member unit's liaison or the brigade's staff submit topics)",
                    ))
                }
            }
        };
        let (open, close) = window(&m, cfg);
        if now < open {
            return Err(AppError::unprocessable(
                "topics_not_open",
                format!(
                    "议题征集于会前 {} 日开始（{} 起）(topics are collected from {} days before the meeting)",
                    cfg.topics_open_days,
                    crate::domain::time::china_date(open),
                    cfg.topics_open_days
                ),
            ));
        }
        if now > close {
            return Err(AppError::unprocessable(
                "topics_closed",
                format!(
                    "议题征集已于会前 {} 日截止（{}）(topics closed {} days before the meeting)",
                    cfg.topics_cutoff_days,
                    crate::domain::time::china_date(close),
                    cfg.topics_cutoff_days
                ),
            ));
        }
        let row = TopicRow {
            id: uuid::Uuid::new_v4().to_string(),
            meeting_id: m.id.clone(),
            department_id: department,
            title,
            description,
            submitted_by: actor.to_owned(),
            submitted_at: now,
            decision: None,
            decision_note: None,
            decided_by: None,
            decided_at: None,
        };
        store::insert_topic(conn, &row)?;
        audit::record_action(
            conn,
            actor,
            "submit_meeting_topic",
            &json!({"meeting_id": m.id, "title": row.title}),
            &json!({"topic": null}),
            &json!({"topic": row}),
            now,
        )?;
        Ok(row)
    })
}

fn required(i: usize, field: &str, value: &Option<String>, max: usize) -> Result<String, AppError> {
    let v = value.as_deref().map(str::trim).unwrap_or("");
    if v.is_empty() {
        return Err(AppError::unprocessable(
            "item_incomplete",
            format!(
                "第 {i} 项议定事项缺少 {field}：每项须有工作任务、责任单位、责任人、完成时限和标准要求 (item {i} lacks {field}: each needs title, owner unit, owner person, deadline and standard)"
            ),
        ));
    }
    if v.chars().count() > max {
        return Err(invalid(format!(
            "第 {i} 项 {field} 最多 {max} 个字 (item {i}: {field} at most {max} characters)"
        )));
    }
    Ok(v.to_owned())
}

/// Issue the minutes of a held meeting (its chair), recorded as `issue_meeting_minutes`.
pub fn issue_minutes(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    meeting_id: &str,
    input: &MinutesInput,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<MeetingView, AppError> {
    let minutes = text("minutes", &input.minutes, 1, 20_000)?;
    if input.items.len() > 100 {
        return Err(invalid("议定事项最多 100 项 (at most 100 items)"));
    }
    crate::db::write_transaction(conn, |conn| {
        let m = store::find(conn, meeting_id)?.ok_or_else(not_found)?;
        not_cancelled(&m)?;
        if !is_chair(conn, actor, roles, &m)? {
            return Err(AppError::forbidden(
                "not_the_chair",
                "会议纪要由主持单位签发（执法队的管理员或审批领导，或主持部门的联络员）(only the chair issues the minutes)",
            ));
        }
        if m.minutes_issued_at.is_some() {
            return Err(minutes_issued());
        }
        if m.scheduled_at > now {
            return Err(AppError::conflict(
                "meeting_not_held",
                "会议尚未召开，会后再签发纪要 (the meeting has not been held yet; issue the minutes afterwards)",
            ));
        }
        let members = store::members(conn, &m.id)?;
        let mut rows = Vec::new();
        for (n, it) in input.items.iter().enumerate() {
            let i = n + 1;
            let title = required(i, "工作任务 title", &it.title, 500)?;
            let owner = required(
                i,
                "责任单位 owner_department_id",
                &it.owner_department_id,
                100,
            )?;
            let person = required(i, "责任人 owner_person", &it.owner_person, 100)?;
            let due = required(i, "完成时限 due_at", &it.due_at, 100)?;
            let standard = required(i, "标准要求 standard", &it.standard, 2000)?;
            if !members.contains(&owner) {
                return Err(AppError::unprocessable(
                    "invalid_item",
                    format!("第 {i} 项的责任单位不是本次会议的成员单位 (item {i}: the owner unit is not a member of the meeting)"),
                ));
            }
            let due_at = crate::domain::time::rfc3339::parse(&due).map_err(|e| {
                AppError::unprocessable(
                    "invalid_item",
                    format!("第 {i} 项完成时限不是 RFC 3339 时间 (item {i}: {e})"),
                )
            })?;
            if due_at <= m.scheduled_at || due_at.year() > 2100 {
                return Err(AppError::unprocessable(
                    "invalid_item",
                    format!("第 {i} 项完成时限须在会议之后 (item {i}: the deadline must be after the meeting)"),
                ));
            }
            rows.push(ItemRow {
                id: uuid::Uuid::new_v4().to_string(),
                meeting_id: m.id.clone(),
                position: i32::try_from(i).unwrap_or(i32::MAX),
                title,
                owner_department_id: owner,
                owner_person: person,
                due_at,
                standard,
                result: None,
                closed_at: None,
                closed_by: None,
                flagged_at: None,
                created_at: now,
            });
        }
        let before = view(conn, m.clone(), cfg, now)?;
        store::set_minutes(conn, &m.id, &minutes, actor, now)?;
        for r in &rows {
            store::insert_item(conn, r)?;
        }
        let m = store::find(conn, meeting_id)?.ok_or_else(not_found)?;
        let after = view(conn, m, cfg, now)?;
        audit::record_action(
            conn,
            actor,
            "issue_meeting_minutes",
            &json!({"meeting_id": meeting_id, "items": rows.len()}),
            &json!({"meeting": before}),
            &json!({"meeting": after}),
            now,
        )?;
        for r in &rows {
            let msg = format!(
                "联席会议「{}」议定事项：{}（{} 前完成）(a decided item of the joint meeting is yours)",
                after.title,
                r.title,
                crate::domain::time::china_date(r.due_at)
            );
            for user in departments::liaison_ids(conn, &r.owner_department_id)? {
                crate::workflow::notify::send(conn, &user, "meeting_item", None, &msg, now)?;
            }
        }
        Ok(after)
    })
}

fn owned_item(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    item_id: &str,
) -> Result<ItemRow, AppError> {
    let item = store::item(conn, item_id)?.ok_or_else(item_not_found)?;
    if is_office(roles) {
        return Ok(item);
    }
    let mine = departments::department_of(conn, actor)?;
    if mine.as_deref() == Some(item.owner_department_id.as_str()) {
        return Ok(item);
    }
    if is_staff(roles) || mine.is_some() {
        return Err(AppError::forbidden(
            "not_item_owner",
            "只有责任单位的联络员（或执法队管理员、审批领导）可以报告或办结此事项 (only the owner unit's liaison, or the brigade's office, acts on this item)",
        ));
    }
    Err(item_not_found())
}

/// Report progress on an item (its owner unit's liaison, or the office), recorded as
/// `report_meeting_item_progress`.
pub fn report_progress(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    item_id: &str,
    input: &NoteInput,
    now: NaiveDateTime,
) -> Result<ItemView, AppError> {
    let note = text("note", &input.note, 1, 5000)?;
    crate::db::write_transaction(conn, |conn| {
        let item = open_item(conn, actor, roles, item_id)?;
        let row = ProgressRow {
            id: uuid::Uuid::now_v7().to_string(),
            item_id: item.id.clone(),
            note,
            reported_by: actor.to_owned(),
            reported_at: now,
        };
        store::insert_progress(conn, &row)?;
        audit::record_action(
            conn,
            actor,
            "report_meeting_item_progress",
            &json!({"item_id": item.id, "note": row.note}),
            &json!({"progress": null}),
            &json!({"progress": row}),
            now,
        )?;
        item_view(conn, item, now)
    })
}

/// An item the actor acts on ([`owned_item`]) that is still open (`item_closed`).
fn open_item(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    item_id: &str,
) -> Result<ItemRow, AppError> {
    let item = owned_item(conn, actor, roles, item_id)?;
    if item.closed_at.is_some() {
        return Err(closed());
    }
    Ok(item)
}

fn closed() -> AppError {
    AppError::conflict(
        "item_closed",
        "此议定事项已办结 (the item is already closed)",
    )
}

/// Close an item with its result (the owner unit's liaison or the office), recorded as
/// `close_meeting_item`.
pub fn close_item(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    item_id: &str,
    input: &NoteInput,
    now: NaiveDateTime,
) -> Result<ItemView, AppError> {
    let result = text("note", &input.note, 1, 5000)?;
    crate::db::write_transaction(conn, |conn| {
        let item = open_item(conn, actor, roles, item_id)?;
        let before = item_view(conn, item.clone(), now)?;
        store::close(conn, &item.id, &result, actor, now)?;
        let row = store::item(conn, item_id)?.ok_or_else(item_not_found)?;
        let after = item_view(conn, row, now)?;
        audit::record_action(
            conn,
            actor,
            "close_meeting_item",
            &json!({"item_id": item_id, "result": result}),
            &json!({"item": before}),
            &json!({"item": after}),
            now,
        )?;
        Ok(after)
    })
}

/// Flag open items past their deadline, once each: the owner unit's liaisons and the office
/// are told. Returns how many were flagged.
pub fn sweep(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    let mut n = 0;
    for item in store::unflagged_overdue(conn, now)? {
        if store::flag(conn, &item.id, now)? == 0 {
            continue;
        }
        n += 1;
        let dept = departments::find(conn, &item.owner_department_id)?
            .map(|d| d.name)
            .unwrap_or_default();
        let msg = format!(
            "联席会议议定事项「{}」已超过完成时限（{}，责任单位 {dept}，责任人 {}），将在下次会议通报 (a decided item is overdue and will be reported at the next meeting)",
            item.title,
            crate::domain::time::china_date(item.due_at),
            item.owner_person
        );
        let mut to = departments::liaison_ids(conn, &item.owner_department_id)?;
        {
            use crate::schema::user_roles;
            use diesel::prelude::*;
            to.extend(
                user_roles::table
                    .filter(user_roles::role.eq_any(["admin", "approver"]))
                    .select(user_roles::user_id)
                    .load::<String>(conn)?,
            );
        }
        to.sort();
        to.dedup();
        for user in to {
            crate::workflow::notify::send(conn, &user, "meeting_item_overdue", None, &msg, now)?;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_next_meeting_is_a_month_after_the_latest_at_the_same_time() {
        let cfg = MeetingsConfig::default();
        let now = t("2026-11-30 06:00");
        assert_eq!(
            propose_next(Some(t("2026-12-15 01:30")), now, &cfg),
            t("2027-01-15 01:30")
        );
        // The 31st of January is followed by the last day of February.
        assert_eq!(
            propose_next(Some(t("2027-01-31 02:00")), now, &cfg),
            t("2027-02-28 02:00")
        );
        // A latest meeting long past: the first monthly date after today.
        assert_eq!(
            propose_next(Some(t("2026-09-10 02:00")), now, &cfg),
            t("2026-12-10 02:00")
        );
        assert_eq!(propose_next(None, now, &cfg), t("2026-12-30 06:00"));
        let quarterly = MeetingsConfig {
            interval_months: 3,
            ..cfg
        };
        assert_eq!(
            propose_next(Some(t("2026-12-15 01:30")), now, &quarterly),
            t("2027-03-15 01:30")
        );
    }
}
