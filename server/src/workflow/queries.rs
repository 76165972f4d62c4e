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
            sees_contacts: actor.has(Role::Dispatcher) || actor.has(Role::DutyChief),
        })
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

    /// Whether a report (with its current task) is visible; tasks and cases are visible with
    /// their report.
    pub fn report(&self, r: &Report, task: Option<&Task>) -> bool {
        self.all
            || r.reporter_id == self.user_id
            || r.cell
                .as_ref()
                .is_some_and(|c| self.villages.contains(&c.village))
            || task.is_some_and(|t| self.squads.contains(&t.squad_id))
    }
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
        let per = self.per_page.unwrap_or(50).clamp(1, 200);
        let page = self.page.unwrap_or(1).max(1);
        (per, (page - 1) * per)
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

/// A report as the console shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    /// The report (contact removed for readers who may not see it).
    #[schema(value_type = Object)]
    pub report: Report,
    /// Its current task.
    #[schema(value_type = Option<Object>)]
    pub task: Option<Task>,
}

/// A report as this reader may see it (contacts removed unless allowed).
pub fn view(mut r: Report, task: Option<Task>, vis: &Visibility) -> ReportView {
    if !vis.sees_contacts {
        r.contact = None;
    }
    ReportView { report: r, task }
}

/// Task states in which the handling clock runs (an overdue task is one of these past its due time).
const RUNNING: [&str; 5] = [
    "dispatched",
    "return_requested",
    "accepted",
    "on_site",
    "rework",
];

/// List reports.
pub fn list_reports(
    conn: &mut DbConn,
    vis: &Visibility,
    q: &ListQuery,
    now: NaiveDateTime,
) -> QueryResult<Page<ReportView>> {
    let bbox = q.bbox().ok().flatten();
    let squad_reports: Vec<String> = if vis.all || vis.squads.is_empty() {
        vec![]
    } else {
        tasks::table
            .filter(tasks::squad_id.eq_any(vis.squads.clone()))
            .select(tasks::report_id)
            .load(conn)?
    };
    let build = || {
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
                    .or(reports::id.eq_any(squad_reports.clone())),
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
    };
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
        items.push(view(r, task, vis));
    }
    Ok(Page {
        items,
        total,
        page: offset / per + 1,
        per_page: per,
    })
}

/// List tasks.
pub fn list_tasks(
    conn: &mut DbConn,
    vis: &Visibility,
    q: &ListQuery,
    now: NaiveDateTime,
) -> QueryResult<Page<Task>> {
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
        .map(|d| serde_json::from_str(d))
        .collect::<Result<Vec<Task>, _>>()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(Page {
        items,
        total,
        page: offset / per + 1,
        per_page: per,
    })
}

/// Everything about one report: itself, its task, its case, and the full record in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportDetail {
    /// Report and task.
    #[serde(flatten)]
    pub view: ReportView,
    /// Case proposed from it.
    #[schema(value_type = Option<Object>)]
    pub case: Option<Case>,
    /// 执法全过程记录, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<AuditRecord>,
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
        view: view(r, task, vis),
        case,
        history,
        attachments,
        pending_attachment_ids,
        people,
    }))
}

/// Cases, newest proposal first, for the town-wide roles (the approver's queue of proposals).
pub fn list_cases(
    conn: &mut DbConn,
    status: Option<&str>,
    q: &ListQuery,
) -> QueryResult<Page<Case>> {
    let build = || {
        let mut s = cases::table.into_boxed();
        if let Some(v) = status {
            s = s.filter(cases::status.eq(v.to_owned()));
        }
        s
    };
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
        .map(|d| serde_json::from_str(d))
        .collect::<Result<Vec<Case>, _>>()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(Page {
        items,
        total,
        page: offset / per + 1,
        per_page: per,
    })
}

/// How near and how recent an open report must be to be offered as a duplicate.
pub const DUPLICATE_RADIUS_M: f64 = 500.0;
/// Days back a duplicate may have arrived.
pub const DUPLICATE_DAYS: i64 = 30;

/// An open report that may be the same event as another.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuplicateCandidate {
    /// The report and its task.
    #[serde(flatten)]
    pub view: ReportView,
    /// Metres between the two positions.
    pub distance_m: f64,
}

/// Open reports of the same category within [`DUPLICATE_RADIUS_M`] that arrived in the last
/// [`DUPLICATE_DAYS`] days, nearest first (at most 20); `None` if the report does not exist.
pub fn duplicate_candidates(
    conn: &mut DbConn,
    vis: &Visibility,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Vec<DuplicateCandidate>>> {
    let Some(r) = store::report(conn, id)? else {
        return Ok(None);
    };
    let (Some(lat), Some(lon)) = (r.lat, r.lon) else {
        return Ok(Some(vec![]));
    };
    let Some(here) = griddispatch_media::GeoPoint::new(lat, lon) else {
        return Ok(Some(vec![]));
    };
    // A box a little larger than the circle, then the exact distance.
    let dlat = DUPLICATE_RADIUS_M / 111_000.0 * 1.1;
    let dlon = dlat / lat.to_radians().cos().abs().max(0.01);
    let rows: Vec<String> = reports::table
        .filter(reports::category_code.eq(&r.category_code))
        .filter(reports::id.ne(id))
        .filter(reports::status.eq_any(["reported", "needs_info", "accepted"]))
        .filter(reports::created_at.ge(now - chrono::Duration::days(DUPLICATE_DAYS)))
        .filter(reports::lat.between(lat - dlat, lat + dlat))
        .filter(reports::lon.between(lon - dlon, lon + dlon))
        .select(reports::data)
        .load(conn)?;
    let mut out = Vec::new();
    for data in rows {
        let other: Report = serde_json::from_str(&data)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        let Some(there) = other
            .lat
            .zip(other.lon)
            .and_then(|(a, b)| griddispatch_media::GeoPoint::new(a, b))
        else {
            continue;
        };
        let distance_m = here.distance_m(&there);
        if distance_m > DUPLICATE_RADIUS_M {
            continue;
        }
        let task = match &other.task_id {
            Some(t) => store::task(conn, t)?,
            None => None,
        };
        if !vis.report(&other, task.as_ref()) {
            continue;
        }
        out.push(DuplicateCandidate {
            view: view(other, task, vis),
            distance_m,
        });
    }
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    out.truncate(20);
    Ok(Some(out))
}

/// One task, if visible.
pub fn task_detail(
    conn: &mut DbConn,
    vis: &Visibility,
    id: &str,
) -> QueryResult<Option<(Task, Vec<AuditRecord>)>> {
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
    Ok(Some((t, history)))
}

/// One case, if visible.
pub fn case_detail(
    conn: &mut DbConn,
    vis: &Visibility,
    id: &str,
) -> QueryResult<Option<(Case, Vec<AuditRecord>)>> {
    let Some(c) = store::case(conn, id)? else {
        return Ok(None);
    };
    let Some(r) = store::report(conn, &c.report_id)? else {
        return Ok(None);
    };
    let t = store::task(conn, &c.task_id)?;
    if !vis.report(&r, t.as_ref()) {
        return Ok(None);
    }
    let history = audit::history(conn, None, None, Some(id))?;
    Ok(Some((c, history)))
}
