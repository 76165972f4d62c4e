//! `/api/v1/commands` (the one way to change reports, tasks and cases) and the reads around
//! them: reports, tasks, cases, routing, categories, calendar, statistics, live events.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use griddispatch_protocol::command::{Command, Position};
use griddispatch_protocol::{ErrorBody, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Actor;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{audit, workflow as store};
use crate::workflow::queries::{self, ListQuery, Visibility};
use crate::workflow::{execute, Applied, Issuer};

/// A command as posted by the console or an integration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommandRequest {
    /// The command.
    pub command: Command,
    /// Where the actor is (kept in the audit record).
    #[serde(default)]
    pub actor_position: Option<Position>,
}

/// An applied command and the new state of what it changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommandResponse {
    /// Sequence number, type and ids.
    #[schema(value_type = Object)]
    pub applied: Applied,
    /// Report after the command, as the actor may see it.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Task after the command.
    #[schema(value_type = Option<Object>)]
    pub task: Option<serde_json::Value>,
    /// Case after the command.
    #[schema(value_type = Option<Object>)]
    pub case: Option<serde_json::Value>,
}

/// Run a command for a person, through the one command path.
pub async fn run_command(
    state: &AppState,
    actor: &Actor,
    cmd: Command,
    position: Option<Position>,
) -> Result<CommandResponse, AppError> {
    // `flag_deadline` is refused by the rules for anyone but the server itself.
    let issuer = Issuer {
        user_id: actor.user_id.clone(),
        is_system: false,
        occurred_at: None,
    };
    let reader = actor.clone();
    state
        .with_command_env(move |conn, env| {
            let applied = execute(conn, env, &issuer, &cmd, position.as_ref())?;
            // The answer is output like any other: cut to what the actor may read.
            let vis = Visibility::of(conn, &reader, env.grid_version)?;
            Ok(CommandResponse {
                report: applied
                    .report_id
                    .as_deref()
                    .map(|id| store::report(conn, id))
                    .transpose()?
                    .flatten()
                    .map(|r| vis.serve(&r)),
                task: applied
                    .task_id
                    .as_deref()
                    .map(|id| store::task(conn, id))
                    .transpose()?
                    .flatten()
                    .map(|t| vis.serve(&t)),
                case: applied
                    .case_id
                    .as_deref()
                    .map(|id| store::case(conn, id))
                    .transpose()?
                    .flatten()
                    .map(|c| vis.serve(&c)),
                applied,
            })
        })
        .await
}

/// Apply a command: create or triage a report, handle a task, decide a case.
#[utoipa::path(post, path = "/api/v1/commands", tag = "workflow", security(("bearer" = [])), request_body = CommandRequest,
    responses((status = 200, body = CommandResponse),
        (status = 403, description = "forbidden, out_of_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "invalid_state", body = ErrorBody),
        (status = 422, description = "a rule: certificate_required, two_officers_required, penalty_over_limit, handler_cannot_recheck, outside_grid, …", body = ErrorBody)))]
pub async fn post_command(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<CommandRequest>,
) -> Result<web::Json<CommandResponse>, AppError> {
    let body = body.into_inner();
    let response = run_command(&state, &actor, body.command, body.actor_position).await?;
    state.changes.notify_waiters();
    Ok(web::Json(response))
}

/// An entity id from the path: ids are UUIDs, anything else is the caller's mistake.
fn entity_id(path: web::Path<String>) -> Result<String, AppError> {
    let id = path.into_inner();
    uuid::Uuid::parse_str(&id).map_err(|_| {
        AppError::unprocessable(
            "invalid_id",
            format!(
                "`{}` 不是有效编号，编号为 UUID (not an id; ids are UUIDs)",
                id.chars().take(64).collect::<String>()
            ),
        )
    })?;
    Ok(id)
}

pub(super) async fn visibility(state: &AppState, actor: &Actor) -> Result<Visibility, AppError> {
    let version = state.grid.load().as_ref().map_or(0, |g| g.version);
    let a = actor.clone();
    state
        .db(move |conn| Ok(Visibility::of(conn, &a, version)?))
        .await
}

/// Reports, newest first, filtered and paged; each reader sees only what they may.
#[utoipa::path(get, path = "/api/v1/reports", tag = "workflow", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "a page of reports")))]
pub async fn list_reports(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    q.check(false)
        .map_err(|m| AppError::unprocessable("invalid_query", m))?;
    let vis = visibility(&state, &actor).await?;
    let page = state
        .db(move |conn| Ok(queries::list_reports(conn, &vis, &q, db::now())?))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The map's pins in one answer: placed reports the reader may see, filtered like the report
/// list, each with its deadline light (`normal`, `yellow`, `red`, `escalated`).
#[utoipa::path(get, path = "/api/v1/map/pins", tag = "workflow", security(("bearer" = [])), params(queries::PinQuery),
    responses((status = 200, body = queries::Pins), (status = 422, description = "invalid_query", body = ErrorBody)))]
pub async fn map_pins(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<queries::PinQuery>,
) -> Result<HttpResponse, AppError> {
    q.as_list()
        .check(false)
        .map_err(|m| AppError::unprocessable("invalid_query", m))?;
    let vis = visibility(&state, &actor).await?;
    let pins = state
        .db(move |conn| Ok(queries::map_pins(conn, &vis, &q, db::now())?))
        .await?;
    Ok(HttpResponse::Ok().json(pins))
}

/// One report with its task, case and full record (执法全过程记录).
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "report id")),
    responses((status = 200, body = queries::ReportDetail), (status = 404, body = ErrorBody)))]
pub async fn get_report(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let vis = visibility(&state, &actor).await?;
    let id = entity_id(path)?;
    let detail = state
        .db(move |conn| {
            queries::report_detail(conn, &vis, &id)?
                .ok_or_else(|| AppError::NotFound("没有这条线索 (no such report)".into()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Tasks by due time, filtered and paged.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "workflow", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "a page of tasks")))]
pub async fn list_tasks(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    q.check(true)
        .map_err(|m| AppError::unprocessable("invalid_query", m))?;
    let vis = visibility(&state, &actor).await?;
    let page = state
        .db(move |conn| Ok(queries::list_tasks(conn, &vis, &q, db::now())?))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One task and its record.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "task id")), responses((status = 200, body = queries::TaskDetail), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let vis = visibility(&state, &actor).await?;
    let id = entity_id(path)?;
    let detail = state
        .db(move |conn| {
            queries::task_detail(conn, &vis, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个任务 (no such task)".into()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Cases (the approver's queue: `status=proposed`), newest first. Town-wide roles see every
/// case; squad leaders and officers the cases of their squads' tasks and those they investigate.
#[utoipa::path(get, path = "/api/v1/cases", tag = "workflow", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "a page of cases"), (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn list_cases(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[
        Role::Approver,
        Role::LegalReviewer,
        Role::Dispatcher,
        Role::DutyChief,
        Role::Admin,
        Role::SquadLeader,
        Role::Officer,
        // Police and the procuratorate: the cases handed over to them (queries::list_cases).
        Role::DepartmentLiaison,
    ])?;
    if let Some(st) = &q.status {
        serde_json::from_value::<crate::domain::workflow::CaseStatus>(json!(st)).map_err(|_| {
            AppError::unprocessable(
                "invalid_query",
                format!("status `{st}` 不是案件状态 (unknown case status; see docs/workflow.md)"),
            )
        })?;
    }
    let vis = visibility(&state, &actor).await?;
    let page = state
        .db(move |conn| Ok(queries::list_cases(conn, &vis, q.status.as_deref(), &q)?))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One case and its record.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id")), responses((status = 200, body = queries::CaseDetail), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let vis = visibility(&state, &actor).await?;
    let id = entity_id(path)?;
    let detail = state
        .db(move |conn| {
            queries::case_detail(conn, &vis, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个案件 (no such case)".into()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Suggested squads for a report: those responsible for its cell whose domain matches the
/// category, least loaded first. The dispatcher may choose another.
#[utoipa::path(get, path = "/api/v1/reports/{id}/routing", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "report id")), responses((status = 200, description = "squad suggestions")))]
pub async fn routing(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Dispatcher, Role::DutyChief])?;
    let id = entity_id(path)?;
    let suggestions = state
        .db(move |conn| {
            let r = store::report(conn, &id)?
                .ok_or_else(|| AppError::NotFound("没有这条线索 (no such report)".into()))?;
            Ok(crate::workflow::scope::suggest_squads(conn, &r)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(suggestions))
}

/// Duplicate candidates of a report: open reports of the same category within the merge
/// distance and time (`[merge_rules]`), nearest first, with distance and age.
#[utoipa::path(get, path = "/api/v1/reports/{id}/duplicates", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "report id")),
    responses((status = 200, body = Vec<crate::workflow::duplicates::DuplicateCandidate>)))]
pub async fn duplicates(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Dispatcher, Role::DutyChief])?;
    let id = entity_id(path)?;
    let rules = state.config.merge_rules;
    let list = state
        .db(move |conn| {
            let r = store::report(conn, &id)?
                .ok_or_else(|| AppError::NotFound("没有这条线索 (no such report)".into()))?;
            Ok(crate::workflow::duplicates::candidates(conn, &r, rules)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Statistics grouping.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// `cell` (village), `area` or `town` (roll-ups of the villages), `squad`, `category`, or
    /// `day` / `month` of receipt (China time).
    pub group_by: String,
    /// First day counted (`YYYY-MM-DD`, China time): reports received from that day on.
    pub from: Option<String>,
    /// Last day counted (`YYYY-MM-DD`, China time, inclusive).
    pub to: Option<String>,
}

/// The UTC instant a China calendar day starts, `days` after `date`.
fn china_day_start(date: &str, days: i64, name: &str) -> Result<chrono::NaiveDateTime, AppError> {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        AppError::bad_request(
            "invalid_query",
            format!("{name} 须为日期 YYYY-MM-DD ({name} must be a date YYYY-MM-DD)"),
        )
    })?;
    let start = (d + chrono::Duration::days(days)).and_time(chrono::NaiveTime::MIN);
    Ok(start - chrono::Duration::hours(8))
}

/// Statistics per village cell, area or town (roll-up), squad, category, or day or month of
/// receipt: received, closed, on-time, rework and extension
/// rates, median time to acknowledge and to handle; optionally over a period of days.
#[utoipa::path(get, path = "/api/v1/stats", tag = "workflow", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, description = "rows per group")))]
pub async fn stats(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<StatsQuery>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[
        Role::Dispatcher,
        Role::DutyChief,
        Role::Approver,
        Role::Admin,
        Role::GridLeader,
    ])?;
    let q = q.into_inner();
    let group = q.group_by;
    if !crate::workflow::stats::GROUPS.contains(&group.as_str()) {
        return Err(AppError::bad_request(
            "invalid_query",
            "group_by 须为 cell、area、town、squad、category、day 或 month (group_by must be cell, area, town, squad, category, day or month)",
        ));
    }
    let mut filter = crate::workflow::stats::StatsFilter {
        villages: None,
        from: q
            .from
            .as_deref()
            .map(|d| china_day_start(d, 0, "from"))
            .transpose()?,
        until: q
            .to
            .as_deref()
            .map(|d| china_day_start(d, 1, "to"))
            .transpose()?,
    };
    // A grid leader sees the figures of their own cells only; town-wide roles see the town.
    let town_wide = actor
        .require_any(&[
            Role::Dispatcher,
            Role::DutyChief,
            Role::Approver,
            Role::Admin,
        ])
        .is_ok();
    let version = state.grid.load_full().map_or(0, |g| g.version);
    let user_id = actor.user_id.clone();
    let rows = state
        .db(move |conn| {
            if !town_wide {
                filter.villages = Some(crate::workflow::scope::villages_of(
                    conn, &user_id, version,
                )?);
            }
            Ok(crate::workflow::stats::compute(conn, &group, &filter)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Where to resume the event stream.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Last sequence number seen (default: now).
    pub after: Option<i64>,
}

/// Live updates for the console as server-sent events: one `change` event per changed report,
/// task or case, in commit order (`id:` is the command sequence, so `Last-Event-ID` resumes).
#[utoipa::path(get, path = "/api/v1/events", tag = "workflow", security(("bearer" = [])), params(EventsQuery),
    responses((status = 200, description = "text/event-stream")))]
pub async fn events(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<EventsQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[
        Role::Dispatcher,
        Role::DutyChief,
        Role::Approver,
        Role::LegalReviewer,
        Role::Admin,
        Role::GridLeader,
        Role::SquadLeader,
        Role::DepartmentLiaison,
    ])?;
    let last_event: Option<i64> = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let start = match q.after.or(last_event) {
        Some(s) => s,
        None => state.db(|conn| Ok(audit::head_seq(conn)?)).await?,
    };
    let vis = visibility(&state, &actor).await?;
    let st = state.clone();
    let stream = futures_util::stream::unfold(
        (start, st, vis, true),
        |(mut after, st, vis, first)| async move {
            if !first {
                // Woken as soon as something commits after what was read (`AppState::head`),
                // at once if more is already there; a keep-alive after a quiet second.
                let mut heads = st.head.subscribe();
                if heads.borrow_and_update().seq <= after {
                    let _ = actix_web::rt::time::timeout(Duration::from_millis(1000), async {
                        while heads.changed().await.is_ok() {
                            if heads.borrow_and_update().seq > after {
                                break;
                            }
                        }
                    })
                    .await;
                }
                if st.head.borrow().seq <= after {
                    return Some((
                        Ok::<_, actix_web::Error>(web::Bytes::from_static(b": keep-alive\n\n")),
                        (after, st, vis, false),
                    ));
                }
            }
            let since = after;
            let v = vis.clone();
            let rows = st
                .db(move |conn: &mut DbConn| {
                    let mut seen = Vec::new();
                    for row in audit::changes_after(conn, since, 500)? {
                        let visible = queries::sees_change(conn, &v, &row)?;
                        seen.push((row, visible));
                    }
                    Ok(seen)
                })
                .await
                .unwrap_or_default();
            let mut out = String::new();
            for (row, visible) in rows {
                after = after.max(row.seq);
                if visible {
                    out.push_str(&format!(
                    "id: {}\nevent: change\ndata: {}\n\n",
                    row.seq,
                    json!({"seq": row.seq, "entity_type": row.entity_type, "entity_id": row.entity_id})
                ));
                }
            }
            if out.is_empty() {
                // A comment line keeps proxies from closing an idle stream.
                out.push_str(": keep-alive\n\n");
            }
            Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(out)),
                (after, st, vis, false),
            ))
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        // Never compressed: a compressor would hold events back until its buffer fills.
        .insert_header((actix_web::http::header::CONTENT_ENCODING, "identity"))
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

/// Add a user to a squad (admin). Squad leaders and officers act on their squads' tasks.
#[utoipa::path(put, path = "/api/v1/squads/{id}/members/{user}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "squad id or code"), ("user" = String, Path, description = "user id or username")),
    responses((status = 204, description = "member"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_squad_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (squad, user) = path.into_inner();
    let admin = actor.user_id.clone();
    state
        .db(move |conn| {
            Ok(crate::grid::add_squad_member(
                conn,
                &admin,
                &squad,
                &user,
                crate::db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a user from a squad (admin; idempotent).
#[utoipa::path(delete, path = "/api/v1/squads/{id}/members/{user}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "squad id or code"), ("user" = String, Path, description = "user id or username")),
    responses((status = 204, description = "removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_squad_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (squad, user) = path.into_inner();
    let admin = actor.user_id.clone();
    state
        .db(move |conn| {
            Ok(crate::grid::remove_squad_member(
                conn,
                &admin,
                &squad,
                &user,
                crate::db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
