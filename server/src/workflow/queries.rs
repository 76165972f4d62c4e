//! Reads for the console and integrations: who may see what, lists with filters and
//! pagination, one report's full history, statistics.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use griddispatch_protocol::Role;
use serde::{Deserialize, Serialize};

use super::scope;
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::workflow::{Case, Report, Task};
use crate::schema::{cases, reports, tasks};
use crate::store::audit::{self, AuditRecord};
use crate::store::workflow as store;

/// Roles that see everything in the town.
const TOWN_WIDE: [Role; 5] = [
    Role::Dispatcher,
    Role::DutyChief,
    Role::Approver,
    Role::LegalReviewer,
    Role::Admin,
];

/// What a reader may see.
#[derive(Debug, Clone)]
pub struct Visibility {
    all: bool,
    user_id: String,
    villages: Vec<String>,
    squads: Vec<String>,
    /// The department a liaison acts for: it sees the matters transferred to it.
    department: Option<String>,
    /// May see complainants' contacts.
    pub sees_contacts: bool,
}

impl Visibility {
    /// Work out a reader's visibility.
    pub fn of(conn: &mut DbConn, actor: &Actor, grid_version: i64) -> QueryResult<Self> {
        Ok(Self {
            all: TOWN_WIDE.iter().any(|r| actor.has(*r)),
            user_id: actor.user_id.clone(),
            villages: scope::villages_of(conn, &actor.user_id, grid_version)?,
            squads: scope::squads_of(conn, &actor.user_id)?,
            department: if actor.has(Role::DepartmentLiaison) {
                crate::store::departments::department_of(conn, &actor.user_id)?
            } else {
                None
            },
            sees_contacts: actor.has(Role::Dispatcher) || actor.has(Role::DutyChief),
        })
    }

    /// Another system (a webhook receiver): sees every report, task and case it is sent, never a
    /// complainant's contact.
    pub fn outside_system() -> Self {
        Self {
            all: true,
            user_id: String::new(),
            villages: vec![],
            squads: vec![],
            department: None,
            sees_contacts: false,
        }
    }

    /// Whether a change-log row is visible.
    pub fn sees_village(
        &self,
        village: Option<&str>,
        squad: Option<&str>,
        reporter: Option<&str>,
    ) -> bool {
        self.all
            || reporter == Some(self.user_id.as_str())
            || village.is_some_and(|v| self.villages.iter().any(|x| x == v))
            || squad.is_some_and(|s| self.squads.iter().any(|x| x == s))
    }

    /// Sees everything in the town.
    pub fn is_town_wide(&self) -> bool {
        self.all
    }

    /// The reader.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Villages served.
    pub fn villages(&self) -> &[String] {
        &self.villages
    }

    /// Squads belonged to.
    pub fn squads(&self) -> &[String] {
        &self.squads
    }

    /// The one place where output is cut to its reader: serialise `item` and remove every
    /// private field this reader may not see, at any depth — in the report itself, in a command
    /// kept in the record, in the states before and after. REST answers, command answers, the
    /// record, sync pushes and pulls all go through here.
    pub fn serve<T: Serialize>(&self, item: &T) -> serde_json::Value {
        let mut v = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
        self.redact(&mut v);
        v
    }

    /// Remove the private fields this reader may not see from a JSON value, at any depth.
    pub fn redact(&self, v: &mut serde_json::Value) {
        if self.sees_contacts {
            return;
        }
        redact_fields(v, &PRIVATE_FIELDS);
    }

    /// A record as this reader may see it: its JSON as objects, private fields removed.
    pub fn record(&self, rec: AuditRecord) -> RecordView {
        let parse = |s: String| {
            let mut v = serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s));
            self.redact(&mut v);
            v
        };
        RecordView {
            seq: rec.seq,
            at: rec.at.and_utc(),
            actor_id: rec.actor_id,
            actor_lat: rec.actor_lat,
            actor_lon: rec.actor_lon,
            command: rec.command,
            report_id: rec.report_id,
            task_id: rec.task_id,
            case_id: rec.case_id,
            payload: parse(rec.payload),
            before: parse(rec.before),
            after: parse(rec.after),
            prev_hash: rec.prev_hash,
            hash: rec.hash,
        }
    }

    /// Records as this reader may see them.
    pub fn records(&self, recs: Vec<AuditRecord>) -> Vec<RecordView> {
        recs.into_iter().map(|r| self.record(r)).collect()
    }

    /// Whether a report (with its current task) is visible; tasks and cases are visible with
    /// their report.
    pub fn report(&self, r: &Report, task: Option<&Task>) -> bool {
        self.all
            || r.reporter_id == self.user_id
            || r.cell
                .as_ref()
                .is_some_and(|c| self.villages.contains(&c.village))
            || task.is_some_and(|t| self.squads.contains(&t.squad_id))
            || r.transfer
                .as_ref()
                .is_some_and(|t| self.department.as_deref() == Some(t.department_id.as_str()))
            || r.transfer_in
                .as_ref()
                .is_some_and(|t| self.department.as_deref() == Some(t.department_id.as_str()))
    }

    /// Whether the case was handed over to the reader's department: the police it went to and
    /// the procuratorate with the copy see it.
    pub fn hand_over(&self, c: &Case) -> bool {
        let Some(mine) = self.department.as_deref() else {
            return false;
        };
        c.procedure.hand_over.as_ref().is_some_and(|h| {
            h.police_department_id.as_deref() == Some(mine)
                || h.procuratorate_department_id.as_deref() == Some(mine)
        })
    }

    /// The department whose transfers this reader sees (a liaison's).
    pub fn department(&self) -> Option<&str> {
        self.department.as_deref()
    }
}

/// Whether a change-log row is the reader's: by its scope (village, squad, own report), or — for
/// a department's liaison — by the matter itself: a report transferred to the department, or a
/// case handed over to it (the row carries no department, so the matter is read).
pub fn sees_change(
    conn: &mut DbConn,
    vis: &Visibility,
    row: &crate::store::audit::ChangeRow,
) -> QueryResult<bool> {
    if vis.sees_village(
        row.village_code.as_deref(),
        row.squad_id.as_deref(),
        row.reporter_id.as_deref(),
    ) {
        return Ok(true);
    }
    if vis.department().is_none() {
        return Ok(false);
    }
    let report_id = match row.entity_type.as_str() {
        "report" => Some(row.entity_id.clone()),
        "task" => store::task(conn, &row.entity_id)?.map(|t| t.report_id),
        "case" => match store::case(conn, &row.entity_id)? {
            Some(c) if vis.hand_over(&c) => return Ok(true),
            Some(c) => Some(c.report_id),
            None => None,
        },
        _ => None,
    };
    Ok(match report_id {
        Some(id) => store::report(conn, &id)?.is_some_and(|r| vis.report(&r, None)),
        None => false,
    })
}

/// Fields that only dispatchers and duty chiefs may read: a complainant's name and phone
/// number (`contact`, in reports and in the commands that carry them).
const PRIVATE_FIELDS: [&str; 1] = ["contact"];

fn redact_fields(v: &mut serde_json::Value, fields: &[&str]) {
    match v {
        serde_json::Value::Object(map) => {
            for f in fields {
                map.remove(*f);
            }
            for child in map.values_mut() {
                redact_fields(child, fields);
            }
        }
        serde_json::Value::Array(items) => {
            for child in items {
                redact_fields(child, fields);
            }
        }
        _ => {}
    }
}

/// One entry of the full-process record (执法全过程记录) as a reader sees it: the command and
/// the states before and after as JSON objects, private fields removed. The hash covers the
/// record as stored (`GET /api/v1/audit/verify` checks the chain).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordView {
    /// Command sequence number.
    pub seq: i64,
    /// Server time (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who (`system` for the deadline job).
    pub actor_id: String,
    /// Where the actor was, if known.
    pub actor_lat: Option<f64>,
    /// Where the actor was, if known.
    pub actor_lon: Option<f64>,
    /// Command name.
    pub command: String,
    /// Report concerned.
    pub report_id: Option<String>,
    /// Task concerned.
    pub task_id: Option<String>,
    /// Case concerned.
    pub case_id: Option<String>,
    /// The command as received.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// State before (null when created, or for an action with no state of its own).
    #[schema(value_type = Option<Object>)]
    pub before: serde_json::Value,
    /// State after (null for an action with no state of its own, e.g. an export).
    #[schema(value_type = Option<Object>)]
    pub after: serde_json::Value,
    /// Hash of the previous record.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// Filters of `GET /api/v1/reports` and `GET /api/v1/tasks`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// State, e.g. `reported`, `dispatched`.
    pub status: Option<String>,
    /// Village cell code.
    pub cell: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Squad id.
    pub squad: Option<String>,
    /// Only overdue tasks (for reports: those whose task is overdue).
    pub overdue: Option<bool>,
    /// Tasks only: those the deadline job has warned about (yellow) that are not overdue yet.
    pub warned: Option<bool>,
    /// Reports only: where the lead came from (`grid_patrol`, `hotline`, …).
    pub source: Option<String>,
    /// Reports only: `newest` (default), `oldest` (waiting longest first) or `urgent` (the
    /// earliest due time of its task, or its arrival when not dispatched yet, first).
    pub sort: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat` (WGS-84).
    pub bbox: Option<String>,
    /// Text in the description.
    pub q: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Items per page (≤ 200, default 50).
    pub per_page: Option<i64>,
}

impl ListQuery {
    fn paging(&self) -> (i64, i64) {
        // Pages past the millionth are empty anyway; the bound keeps the offset from overflowing.
        let per = self.per_page.unwrap_or(50).clamp(1, 200);
        let page = self.page.unwrap_or(1).clamp(1, 1_000_000);
        (per, (page - 1) * per)
    }

    /// Check the filters of a report list (`for_tasks` false) or a task list: a status that
    /// does not exist, or text past the limits, is the caller's mistake, not an empty page.
    pub fn check(&self, for_tasks: bool) -> Result<(), String> {
        if let Some(st) = &self.status {
            let v = serde_json::Value::String(st.clone());
            let known = if for_tasks {
                serde_json::from_value::<crate::domain::workflow::TaskStatus>(v).is_ok()
            } else {
                serde_json::from_value::<crate::domain::workflow::ReportStatus>(v).is_ok()
            };
            if !known {
                let kind = if for_tasks { "任务" } else { "线索" };
                return Err(format!(
                    "status `{st}` 不是{kind}状态 (unknown status; see docs/api.md for the list)"
                ));
            }
        }
        for (name, v) in [
            ("cell", &self.cell),
            ("category", &self.category),
            ("squad", &self.squad),
        ] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 64) {
                return Err(format!(
                    "{name} 过长，最多 64 个字符 (longer than 64 characters)"
                ));
            }
        }
        if self.q.as_ref().is_some_and(|v| v.chars().count() > 200) {
            return Err("q 过长，最多 200 个字符 (search text longer than 200 characters)".into());
        }
        self.bbox().map(|_| ())
    }

    /// Parse the bounding box.
    pub fn bbox(&self) -> Result<Option<[f64; 4]>, String> {
        let Some(b) = &self.bbox else { return Ok(None) };
        let v: Vec<f64> = b
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| "bbox 须为 4 个数字 (bbox needs 4 numbers)".to_owned())?;
        match v.as_slice() {
            [a, b, c, d] if a <= c && b <= d => Ok(Some([*a, *b, *c, *d])),
            _ => Err("bbox 须为 min_lon,min_lat,max_lon,max_lat (bbox must be min_lon,min_lat,max_lon,max_lat)".into()),
        }
    }
}

/// A page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Matching items in all pages.
    pub total: i64,
    /// This page.
    pub page: i64,
    /// Page size.
    pub per_page: i64,
}

impl<T> Page<T> {
    fn of(items: Vec<T>, total: i64, per: i64, offset: i64) -> Self {
        Page {
            items,
            total,
            page: offset / per + 1,
            per_page: per,
        }
    }
}

/// A report as the console shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// The report (contact removed for readers who may not see it).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Its current task.
    #[schema(value_type = Option<Object>)]
    pub task: Option<serde_json::Value>,
}

/// A report as this reader may see it (private fields removed unless allowed).
pub fn view(r: &Report, task: Option<&Task>, vis: &Visibility) -> ReportView {
    ReportView {
        report: vis.serve(r),
        task: task.map(|t| vis.serve(t)),
    }
}

/// Task states in which the handling clock runs (an overdue task is one of these past its due time).
const RUNNING: [&str; 5] = [
    "dispatched",
    "return_requested",
    "accepted",
    "on_site",
    "rework",
];

/// The reports a reader may see that match the list filters, as a query to page or to narrow.
type ReportQuery = reports::BoxedQuery<'static, <DbConn as diesel::Connection>::Backend>;

/// Reports the reader may see that match `q` (every filter but paging and order).
fn report_query(
    conn: &mut DbConn,
    vis: &Visibility,
    q: &ListQuery,
    now: NaiveDateTime,
) -> QueryResult<impl Fn() -> ReportQuery> {
    let bbox = q.bbox().ok().flatten();
    let squad_reports: Vec<String> = if vis.all || vis.squads.is_empty() {
        vec![]
    } else {
        tasks::table
            .filter(tasks::squad_id.eq_any(vis.squads.clone()))
            .select(tasks::report_id)
            .load(conn)?
    };
    let (q, vis) = (q.clone(), vis.clone());
    Ok(move || {
        let mut s = reports::table.into_boxed();
        if let Some(v) = &q.status {
            s = s.filter(reports::status.eq(v.clone()));
        }
        if let Some(v) = &q.cell {
            s = s.filter(
                reports::village_code
                    .eq(v.clone())
                    .or(reports::area_code.eq(v.clone())),
            );
        }
        if let Some(v) = &q.category {
            s = s.filter(reports::category_code.eq(v.clone()));
        }
        if let Some(v) = &q.source {
            s = s.filter(reports::source.eq(v.clone()));
        }
        if q.overdue == Some(true) {
            s = s.filter(
                reports::id.eq_any(
                    tasks::table
                        .filter(tasks::due_at.lt(now))
                        .filter(tasks::status.eq_any(RUNNING))
                        .select(tasks::report_id),
                ),
            );
        }
        if let Some(text) = &q.q {
            s = s.filter(reports::description.like(format!("%{}%", text.replace(['%', '_'], ""))));
        }
        if let Some([a, b, c, d]) = bbox {
            s = s
                .filter(reports::lon.between(a, c))
                .filter(reports::lat.between(b, d));
        }
        if !vis.all {
            // Scope in SQL so that paging counts only what the reader may see.
            s = s.filter(
                reports::reporter_id
                    .eq(vis.user_id.clone())
                    .or(reports::village_code.eq_any(vis.villages.clone()))
                    .or(reports::id.eq_any(squad_reports.clone()))
                    .or(reports::id.eq_any({
                        use crate::schema::reports_transfer::reports as rt;
                        rt::table
                            .filter(rt::transfer_department_id.eq(vis.department.clone()))
                            .select(rt::id)
                    })),
            );
        }
        if let Some(squad) = &q.squad {
            s = s.filter(
                reports::id.eq_any(
                    tasks::table
                        .filter(tasks::squad_id.eq(squad.clone()))
                        .select(tasks::report_id),
                ),
            );
        }
        s
    })
}

/// List reports.
pub fn list_reports(
    conn: &mut DbConn,
    vis: &Visibility,
    q: &ListQuery,
    now: NaiveDateTime,
) -> QueryResult<Page<ReportView>> {
    let build = report_query(conn, vis, q, now)?;
    let total: i64 = build().count().get_result(conn)?;
    let (per, offset) = q.paging();
    let ordered = match q.sort.as_deref() {
        Some("oldest") => build().order(reports::created_at.asc()),
        // Most pressing first: a report's task is due at its due time, a report not yet
        // dispatched has waited since it arrived (portable SQL: both backends).
        Some("urgent") => build().order((
            diesel::dsl::sql::<diesel::sql_types::Timestamp>(
                "COALESCE((SELECT t.due_at FROM tasks t WHERE t.id = reports.task_id), reports.created_at)",
            )
            .asc(),
            reports::created_at.asc(),
        )),
        _ => build().order(reports::created_at.desc()),
    };
    let rows: Vec<String> = ordered
        .limit(per)
        .offset(offset)
        .select(reports::data)
        .load(conn)?;
    let mut items = Vec::new();
    for data in rows {
        let r: Report = serde_json::from_str(&data)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        let task = match &r.task_id {
            Some(t) => store::task(conn, t)?,
            None => None,
        };
        items.push(view(&r, task.as_ref(), vis));
    }
    Ok(Page::of(items, total, per, offset))
}

/// Filters of `GET /api/v1/map/pins`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PinQuery {
    /// Only reports not finished yet (`reported`, `needs_info`, `accepted`); default true.
    pub open_only: Option<bool>,
    /// `min_lon,min_lat,max_lon,max_lat` (WGS-84): only what the map shows.
    pub bbox: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Village or area cell code.
    pub cell: Option<String>,
    /// Squad id.
    pub squad: Option<String>,
}

impl PinQuery {
    /// The same filters as a report list.
    pub fn as_list(&self) -> ListQuery {
        ListQuery {
            bbox: self.bbox.clone(),
            category: self.category.clone(),
            cell: self.cell.clone(),
            squad: self.squad.clone(),
            ..ListQuery::default()
        }
    }
}

/// One report on the map: just what a pin shows; a click fetches the rest.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pin {
    /// Report id.
    pub id: String,
    /// Latitude (WGS-84).
    pub lat: f64,
    /// Longitude (WGS-84).
    pub lon: f64,
    /// Report state.
    pub status: String,
    /// Category code.
    pub category_code: String,
    /// Its task's deadline light: `normal`, `yellow` (warned), `red` (overdue), `escalated`
    /// (overdue and escalated); `normal` without a running task.
    pub level: &'static str,
}

/// The pins of a map view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pins {
    /// Placed reports matching the filters (may exceed `pins.len()`, see `truncated`).
    pub total: i64,
    /// At most [`MAX_PINS`], the newest first.
    pub pins: Vec<Pin>,
    /// More matched than one answer carries: zoom in (narrow `bbox`) to see them all.
    pub truncated: bool,
}

/// Most pins in one answer (about 60 bytes each compressed, a few MB of JSON at most).
pub const MAX_PINS: i64 = 50_000;

/// Placed reports for the map in one answer: every filter of the report list, scoped to the
/// reader, with each one's deadline light judged here (the console no longer pages through
/// full report views to draw pins).
pub fn map_pins(
    conn: &mut DbConn,
    vis: &Visibility,
    q: &PinQuery,
    now: NaiveDateTime,
) -> QueryResult<Pins> {
    const OPEN: [&str; 3] = ["reported", "needs_info", "accepted"];
    let build = report_query(conn, vis, &q.as_list(), now)?;
    let open_only = q.open_only.unwrap_or(true);
    let placed = || {
        let s = build().filter(reports::lat.is_not_null().and(reports::lon.is_not_null()));
        if open_only {
            s.filter(reports::status.eq_any(OPEN))
        } else {
            s
        }
    };
    let total: i64 = placed().count().get_result(conn)?;
    type Row = (
        String,
        Option<f64>,
        Option<f64>,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = placed()
        .order(reports::created_at.desc())
        .limit(MAX_PINS)
        .select((
            reports::id,
            reports::lat,
            reports::lon,
            reports::status,
            reports::category_code,
            reports::task_id,
        ))
        .load(conn)?;
    // The tasks' clocks, a few thousand ids a query (bind limits of both backends).
    let ids: Vec<String> = rows.iter().filter_map(|r| r.5.clone()).collect();
    let mut light = std::collections::HashMap::new();
    for chunk in ids.chunks(5000) {
        type Clock = (
            String,
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        );
        let clocks: Vec<Clock> = tasks::table
            .filter(tasks::id.eq_any(chunk))
            .select((
                tasks::id,
                tasks::status,
                tasks::due_at,
                tasks::warned_at,
                tasks::escalated_at,
            ))
            .load(conn)?;
        for (id, status, due, warned, escalated) in clocks {
            let level = if !RUNNING.contains(&status.as_str()) {
                "normal"
            } else if due < now {
                if escalated.is_some() {
                    "escalated"
                } else {
                    "red"
                }
            } else if warned.is_some() {
                "yellow"
            } else {
                "normal"
            };
            light.insert(id, level);
        }
    }
    let pins: Vec<Pin> = rows
        .into_iter()
        .filter_map(|(id, lat, lon, status, category_code, task)| {
            Some(Pin {
                id,
                lat: lat?,
                lon: lon?,
                status,
                category_code,
                level: task
                    .and_then(|t| light.get(&t).copied())
                    .unwrap_or("normal"),
            })
        })
        .collect();
    Ok(Pins {
        total,
        truncated: total > pins.len() as i64,
        pins,
    })
}

/// List tasks.
pub fn list_tasks(
    conn: &mut DbConn,
    vis: &Visibility,
    q: &ListQuery,
    now: NaiveDateTime,
) -> QueryResult<Page<serde_json::Value>> {
    let build = || {
        let mut s = tasks::table.into_boxed();
        if let Some(v) = &q.status {
            s = s.filter(tasks::status.eq(v.clone()));
        }
        if let Some(v) = &q.cell {
            s = s.filter(tasks::village_code.eq(v.clone()));
        }
        if let Some(v) = &q.category {
            s = s.filter(tasks::category_code.eq(v.clone()));
        }
        if let Some(v) = &q.squad {
            s = s.filter(tasks::squad_id.eq(v.clone()));
        }
        if q.overdue == Some(true) {
            s = s
                .filter(tasks::due_at.lt(now))
                .filter(tasks::status.eq_any(RUNNING));
        }
        if q.warned == Some(true) {
            s = s
                .filter(tasks::warned_at.is_not_null())
                .filter(tasks::due_at.ge(now))
                .filter(tasks::status.eq_any(RUNNING));
        }
        if !vis.all {
            s = s.filter(
                tasks::squad_id
                    .eq_any(vis.squads.clone())
                    .or(tasks::village_code.eq_any(vis.villages.clone())),
            );
        }
        s
    };
    let total: i64 = build().count().get_result(conn)?;
    let (per, offset) = q.paging();
    let rows: Vec<String> = build()
        .order(tasks::due_at.asc())
        .limit(per)
        .offset(offset)
        .select(tasks::data)
        .load(conn)?;
    let items = rows
        .iter()
        .map(|d| serde_json::from_str::<Task>(d).map(|t| vis.serve(&t)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(Page::of(items, total, per, offset))
}

/// Everything about one report: itself, its task, its case, and the full record in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportDetail {
    /// Report and task.
    #[serde(flatten)]
    pub view: ReportView,
    /// Case proposed from it.
    #[schema(value_type = Option<Object>)]
    pub case: Option<serde_json::Value>,
    /// 执法全过程记录, oldest first.
    pub history: Vec<RecordView>,
    /// Evidence of the report and its handling that has arrived.
    pub attachments: Vec<crate::tus::complete::AttachmentView>,
    /// Evidence named by the report or task whose upload has not arrived yet.
    pub pending_attachment_ids: Vec<String>,
    /// Names of the people the report, task and record mention (reporter, officers, actors),
    /// by user id, so that screens show who did what.
    pub people: std::collections::BTreeMap<String, String>,
}

/// One report, if the reader may see it.
pub fn report_detail(
    conn: &mut DbConn,
    vis: &Visibility,
    id: &str,
) -> QueryResult<Option<ReportDetail>> {
    let Some(r) = store::report(conn, id)? else {
        return Ok(None);
    };
    let task = match &r.task_id {
        Some(t) => store::task(conn, t)?,
        None => None,
    };
    if !vis.report(&r, task.as_ref()) {
        return Ok(None);
    }
    let case_id: Option<String> = cases::table
        .filter(cases::report_id.eq(id))
        .select(cases::id)
        .first(conn)
        .optional()?;
    let case = match &case_id {
        Some(c) => store::case(conn, c)?,
        None => None,
    };
    let history = audit::history(conn, Some(id), None, None)?;
    let mut ids: Vec<String> = r.attachment_ids.clone();
    if let Some(t) = &task {
        ids.extend(t.outcome_attachment_ids.iter().cloned());
    }
    ids.dedup();
    let mut attachments = Vec::new();
    let mut pending_attachment_ids = Vec::new();
    for a in ids {
        match crate::store::attachments::find(conn, &a)? {
            Some(row) => attachments.push(crate::tus::attachment_view(row)),
            None => pending_attachment_ids.push(a),
        }
    }
    let mut ids: Vec<String> = history.iter().map(|h| h.actor_id.clone()).collect();
    ids.push(r.reporter_id.clone());
    if let Some(t) = &task {
        ids.extend(t.officer_ids.iter().cloned());
        ids.extend(t.handled_by.iter().cloned());
        ids.extend(t.last_recheck.iter().map(|c| c.by.clone()));
    }
    ids.sort();
    ids.dedup();
    let people = crate::store::users::display_names(conn, &ids)?;
    Ok(Some(ReportDetail {
        view: view(&r, task.as_ref(), vis),
        case: case.as_ref().map(|c| vis.serve(c)),
        history: vis.records(history),
        attachments,
        pending_attachment_ids,
        people,
    }))
}

/// A task or case with its record, as its reader may see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskDetail {
    /// The task.
    #[schema(value_type = Object)]
    pub task: serde_json::Value,
    /// 执法全过程记录, oldest first.
    pub history: Vec<RecordView>,
}

/// A case with its record, as its reader may see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    /// The case.
    #[schema(value_type = Object)]
    pub case: serde_json::Value,
    /// 执法全过程记录, oldest first.
    pub history: Vec<RecordView>,
}

/// Cases, newest proposal first, for the town-wide roles (the approver's queue of proposals).
pub fn list_cases(
    conn: &mut DbConn,
    vis: &Visibility,
    status: Option<&str>,
    q: &ListQuery,
) -> QueryResult<Page<serde_json::Value>> {
    let build = || {
        let mut s = cases::table.into_boxed();
        if let Some(v) = status {
            s = s.filter(cases::status.eq(v.to_owned()));
        }
        s
    };
    if !vis.all {
        // Officers and squad leaders: the cases of their squads' tasks and those they
        // investigate (a town holds hundreds of cases a year, so this filters in memory).
        let rows: Vec<String> = build()
            .order(cases::updated_at.desc())
            .select(cases::data)
            .load(conn)?;
        let mut mine = Vec::new();
        for d in rows {
            let c: Case = serde_json::from_str(&d)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            let investigates = c.procedure.investigators.contains(&vis.user_id);
            let squad = store::task(conn, &c.task_id)?.map(|t| t.squad_id);
            if investigates || squad.is_some_and(|s| vis.squads.contains(&s)) || vis.hand_over(&c) {
                mine.push(vis.serve(&c));
            }
        }
        let (per, offset) = q.paging();
        let total = i64::try_from(mine.len()).unwrap_or(i64::MAX);
        let items = mine
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(per).unwrap_or(0))
            .collect();
        return Ok(Page::of(items, total, per, offset));
    }
    let total: i64 = build().count().get_result(conn)?;
    let (per, offset) = q.paging();
    let rows: Vec<String> = build()
        .order(cases::updated_at.desc())
        .limit(per)
        .offset(offset)
        .select(cases::data)
        .load(conn)?;
    let items = rows
        .iter()
        .map(|d| serde_json::from_str::<Case>(d).map(|c| vis.serve(&c)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(Page::of(items, total, per, offset))
}

/// One task, if visible.
pub fn task_detail(
    conn: &mut DbConn,
    vis: &Visibility,
    id: &str,
) -> QueryResult<Option<TaskDetail>> {
    let Some(t) = store::task(conn, id)? else {
        return Ok(None);
    };
    let Some(r) = store::report(conn, &t.report_id)? else {
        return Ok(None);
    };
    if !vis.report(&r, Some(&t)) {
        return Ok(None);
    }
    let history = audit::history(conn, None, Some(id), None)?;
    Ok(Some(TaskDetail {
        task: vis.serve(&t),
        history: vis.records(history),
    }))
}

/// A case as stored, if the reader may see it (for outputs built from it, e.g. documents).
pub fn visible_case(conn: &mut DbConn, vis: &Visibility, id: &str) -> QueryResult<Option<Case>> {
    let Some(c) = store::case(conn, id)? else {
        return Ok(None);
    };
    let Some(r) = store::report(conn, &c.report_id)? else {
        return Ok(None);
    };
    let t = store::task(conn, &c.task_id)?;
    Ok((vis.report(&r, t.as_ref()) || vis.hand_over(&c)).then_some(c))
}

/// One case, if visible.
pub fn case_detail(
    conn: &mut DbConn,
    vis: &Visibility,
    id: &str,
) -> QueryResult<Option<CaseDetail>> {
    let Some(c) = visible_case(conn, vis, id)? else {
        return Ok(None);
    };
    let history = audit::history(conn, None, None, Some(id))?;
    Ok(Some(CaseDetail {
        case: vis.serve(&c),
        history: vis.records(history),
    }))
}

/// The reports transferred out that the reader may see: a liaison only those sent to its
/// department (scoped in SQL), the brigade's town-wide roles all.
pub fn visible_transfers(conn: &mut DbConn, vis: &Visibility) -> QueryResult<Vec<Report>> {
    use crate::schema::reports_transfer::reports as rt;
    let mut q = rt::table
        .filter(rt::transfer_department_id.is_not_null())
        .select(rt::id)
        .into_boxed();
    if !vis.is_town_wide() {
        // Scoped in SQL: a liaison loads only its department's transfers.
        q = q.filter(rt::transfer_department_id.eq(vis.department().map(str::to_owned)));
    }
    let ids: Vec<String> = q.load(conn)?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = store::report(conn, &id)? {
            if vis.report(&r, None) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The assistance requests the reader may see, with their reports: a liaison only those
/// addressed to its department (scoped in SQL), the brigade's town-wide roles all, others those
/// on the reports they see. `report_id` narrows to one report.
pub fn visible_assistance(
    conn: &mut DbConn,
    vis: &Visibility,
    report_id: Option<&str>,
) -> QueryResult<Vec<(Report, crate::domain::workflow::Assistance)>> {
    use crate::schema::assistance_requests as ar;
    let mut q = ar::table
        .select((ar::id, ar::report_id))
        .order(ar::requested_at.asc())
        .into_boxed();
    if let Some(r) = report_id {
        q = q.filter(ar::report_id.eq(r.to_owned()));
    }
    let liaison = !vis.is_town_wide() && vis.department().is_some();
    if liaison {
        q = q.filter(ar::department_id.eq(vis.department().map(str::to_owned).unwrap_or_default()));
    }
    let rows: Vec<(String, String)> = q.load(conn)?;
    let mut out = Vec::new();
    for (id, rid) in rows {
        let Some(r) = store::report(conn, &rid)? else {
            continue;
        };
        if !liaison && !vis.is_town_wide() {
            let task = match &r.task_id {
                Some(t) => store::task(conn, t)?,
                None => None,
            };
            if !vis.report(&r, task.as_ref()) {
                continue;
            }
        }
        if let Some(a) = r.assistance.iter().find(|a| a.id == id).cloned() {
            out.push((r, a));
        }
    }
    Ok(out)
}
