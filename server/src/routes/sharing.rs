//! `/api/v1/shared…`: information departments share with the brigade (licences, filings,
//! confirmations, …), by API and CSV import, and what of it concerns a report.

use actix_web::{web, HttpResponse};
use griddispatch_protocol::{ErrorBody, Role};
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::sharing::{self, SharedInput, SharedItem, SharedMatch};
use crate::state::AppState;
use crate::store::{audit, departments, workflow as store};
use crate::workflow::queries;

/// Largest CSV import, in bytes.
pub const MAX_CSV_BYTES: usize = 8 * 1024 * 1024;

/// For which department (administrators name it; a liaison shares for their own).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForDepartment {
    /// The department (administrators only; a liaison's own is used otherwise).
    pub department_id: Option<String>,
}

/// Filters of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SharedQuery {
    /// One department.
    pub department_id: Option<String>,
    /// One kind.
    pub kind: Option<String>,
    /// Text in the title, party, credit code or number.
    pub q: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// What an import stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Rows stored.
    pub imported: usize,
    /// The department they were stored for.
    pub department_id: String,
}

/// The department an actor shares for.
fn department_for(
    conn: &mut DbConn,
    actor: &Actor,
    asked: Option<&str>,
) -> Result<String, AppError> {
    if actor.has(Role::DepartmentLiaison) {
        if let Some(own) = departments::department_of(conn, &actor.user_id)? {
            if asked.is_some_and(|a| a != own) {
                return Err(AppError::forbidden(
                    "out_of_scope",
                    "联络员只能为本部门报送 (a liaison shares for their own department only)",
                ));
            }
            return Ok(own);
        }
    }
    if !actor.has(Role::Admin) {
        return Err(AppError::forbidden(
            "forbidden",
            "需要部门联络员（已关联部门）或管理员角色 (needs a liaison of a department, or an administrator)",
        ));
    }
    let id = asked.ok_or_else(|| {
        AppError::unprocessable(
            "department_required",
            "请用 department_id 指明报送部门 (name the department with department_id)",
        )
    })?;
    departments::find(conn, id)?.map(|d| d.id).ok_or_else(|| {
        AppError::unprocessable("unknown_department", "没有这个部门 (no such department)")
    })
}

fn problems_error(problems: Vec<sharing::Problem>) -> AppError {
    let n = problems.len();
    AppError::detailed(
        422,
        "invalid_shared_item",
        format!("有 {n} 处需要修改，未保存任何内容 ({n} problems; nothing was stored)"),
        "problems",
        serde_json::to_value(&problems).unwrap_or_default(),
    )
}

fn store_items(
    conn: &mut DbConn,
    actor_id: &str,
    department_id: &str,
    items: &[SharedInput],
    source: &str,
) -> Result<Vec<SharedItem>, AppError> {
    let now = db::now();
    Ok(crate::db::write_transaction(conn, |conn| {
        audit::record_action(
            conn,
            actor_id,
            "share_information",
            &serde_json::json!({"department_id": department_id, "source": source, "count": items.len(),
                "kinds": items.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>()}),
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            now,
        )?;
        sharing::insert_all(conn, department_id, items, source, actor_id, now)
    })?)
}

/// Share one item (a licence, filing, confirmation, regulation, …).
#[utoipa::path(post, path = "/api/v1/shared", tag = "integration", security(("bearer" = [])),
    params(ForDepartment), request_body = SharedInput,
    responses((status = 201, body = SharedItem),
        (status = 422, description = "invalid_shared_item: `error.problems` lists each field to fix; department_required, unknown_department", body = ErrorBody)))]
pub async fn share(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ForDepartment>,
    body: super::input::Json<SharedInput>,
) -> Result<HttpResponse, AppError> {
    let item = sharing::check(&body.into_inner(), None).map_err(problems_error)?;
    let asked = q.into_inner().department_id;
    let stored = state
        .db(move |conn| {
            let dept = department_for(conn, &actor, asked.as_deref())?;
            store_items(conn, &actor.user_id, &dept, &[item], "api")
        })
        .await?;
    Ok(HttpResponse::Created().json(&stored[0]))
}

/// Import a CSV file (UTF-8; columns kind, title, number, party_name, credit_code, address,
/// lat, lon, valid_from, valid_until, content): every row checked first, nothing stored
/// unless all are right.
#[utoipa::path(post, path = "/api/v1/shared/import", tag = "integration", security(("bearer" = [])),
    params(ForDepartment),
    request_body(content = String, content_type = "text/csv", description = "the CSV file"),
    responses((status = 201, body = Imported),
        (status = 422, description = "invalid_shared_item: `error.problems` lists each row and column to fix; department_required, unknown_department", body = ErrorBody)))]
pub async fn import_shared(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<ForDepartment>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let items = sharing::parse_csv(&body).map_err(problems_error)?;
    let asked = q.into_inner().department_id;
    let stored = state
        .db(move |conn| {
            let dept = department_for(conn, &actor, asked.as_deref())?;
            let n = store_items(conn, &actor.user_id, &dept, &items, "csv")?.len();
            Ok(Imported {
                imported: n,
                department_id: dept,
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(stored))
}

/// Shared information: town-wide roles see all of it, a liaison their department's.
#[utoipa::path(get, path = "/api/v1/shared", tag = "integration", security(("bearer" = [])),
    params(SharedQuery),
    responses((status = 200, body = [SharedItem]),
        (status = 422, description = "invalid_query: an unknown kind", body = ErrorBody)))]
pub async fn list_shared(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<SharedQuery>,
) -> Result<web::Json<Vec<SharedItem>>, AppError> {
    let vis = super::workflow::visibility(&state, &actor).await?;
    let q = q.into_inner();
    if q.kind
        .as_deref()
        .is_some_and(|k| !sharing::KINDS.contains(&k))
    {
        return Err(AppError::unprocessable(
            "invalid_query",
            format!("kind 须为 {} (unknown kind)", sharing::KINDS.join("、")),
        ));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = state
        .db(move |conn| {
            let dept = if vis.is_town_wide() {
                q.department_id.clone()
            } else if actor.has(Role::DepartmentLiaison) {
                let own = departments::department_of(conn, &actor.user_id)?;
                match (own, q.department_id.as_deref()) {
                    (Some(own), None) => Some(own),
                    (Some(own), Some(a)) if a == own => Some(own),
                    _ => {
                        return Err(AppError::forbidden(
                            "out_of_scope",
                            "联络员只能查看本部门报送的信息 (a liaison sees their own department's only)",
                        ))
                    }
                }
            } else {
                return Err(AppError::forbidden(
                    "forbidden",
                    "需要指挥中心、值班长、审批、法制审核、管理员或部门联络员角色 (needs a town-wide role or a liaison)",
                ));
            };
            Ok(sharing::list(
                conn,
                dept.as_deref(),
                q.kind.as_deref(),
                q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()),
                limit,
            )?)
        })
        .await?;
    Ok(web::Json(list))
}

/// What departments shared about a report's place or its case's party.
#[utoipa::path(get, path = "/api/v1/reports/{id}/shared", tag = "integration", security(("bearer" = [])),
    params(("id" = String, Path, description = "report id")),
    responses((status = 200, body = [SharedMatch])))]
pub async fn report_shared(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<Vec<SharedMatch>>, AppError> {
    let vis = super::workflow::visibility(&state, &actor).await?;
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::unprocessable(
            "invalid_id",
            "编号须为 UUID (the id must be a UUID)",
        ));
    }
    let radius = state.config.sharing.match_radius_m;
    let list = state
        .db(move |conn| {
            let detail = queries::report_detail(conn, &vis, &id)?
                .ok_or_else(|| AppError::NotFound("没有这条线索 (no such report)".into()))?;
            let report = store::report(conn, &id)?
                .ok_or_else(|| AppError::NotFound("没有这条线索 (no such report)".into()))?;
            let case = match detail
                .case
                .as_ref()
                .and_then(|c| c.get("id"))
                .and_then(|v| v.as_str())
            {
                Some(cid) => store::case(conn, cid)?,
                None => None,
            };
            Ok(sharing::matches(conn, &report, case.as_ref(), radius)?)
        })
        .await?;
    Ok(web::Json(list))
}

/// Filter of the decision notices.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// One department (town-wide readers; a liaison sees their own).
    pub department_id: Option<String>,
    /// Only those not yet delivered.
    pub undelivered: Option<bool>,
}

/// The brigade's decisions owed to departments (处罚决定抄告), each with its due time: a
/// liaison reads those of their department, town-wide roles all of them.
#[utoipa::path(get, path = "/api/v1/decision-notices", tag = "integration", security(("bearer" = [])),
    params(NoticeQuery),
    responses((status = 200, body = [crate::decision_notices::NoticeView])))]
pub async fn list_notices(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<NoticeQuery>,
) -> Result<web::Json<Vec<crate::decision_notices::NoticeView>>, AppError> {
    let vis = super::workflow::visibility(&state, &actor).await?;
    let q = q.into_inner();
    let list = state
        .db(move |conn| {
            let dept = if vis.is_town_wide() {
                q.department_id.clone()
            } else if actor.has(Role::DepartmentLiaison) {
                match departments::department_of(conn, &actor.user_id)? {
                    Some(own) if q.department_id.as_deref().is_none_or(|a| a == own) => Some(own),
                    _ => {
                        return Err(AppError::forbidden(
                            "out_of_scope",
                            "联络员只能查看本部门的抄告 (a liaison sees their own department's only)",
                        ))
                    }
                }
            } else {
                return Err(AppError::forbidden(
                    "forbidden",
                    "需要指挥中心、值班长、审批、法制审核、管理员或部门联络员角色 (needs a town-wide role or a liaison)",
                ));
            };
            Ok(crate::decision_notices::list(
                conn,
                dept.as_deref(),
                q.undelivered.unwrap_or(false),
                db::now(),
            )?)
        })
        .await?;
    Ok(web::Json(list))
}

/// The department's liaison confirms the decision reached them.
#[utoipa::path(post, path = "/api/v1/decision-notices/{id}/ack", tag = "integration", security(("bearer" = [])),
    params(("id" = String, Path, description = "notice id")),
    responses((status = 200, body = crate::decision_notices::NoticeRow),
        (status = 409, description = "already_delivered", body = ErrorBody)))]
pub async fn ack_notice(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<crate::decision_notices::NoticeRow>, AppError> {
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::unprocessable(
            "invalid_id",
            "编号须为 UUID (the id must be a UUID)",
        ));
    }
    let row = state
        .db(move |conn| {
            let not_found = || AppError::NotFound("没有这条抄告 (no such notice)".into());
            let n = crate::decision_notices::find(conn, &id)?.ok_or_else(not_found)?;
            let own = departments::department_of(conn, &actor.user_id)?;
            if !actor.has(Role::DepartmentLiaison) || own.as_deref() != Some(&n.department_id) {
                return Err(AppError::forbidden(
                    "out_of_scope",
                    "只有该部门的联络员可以确认签收 (only the department's liaison confirms receipt)",
                ));
            }
            if n.delivered_at.is_some() {
                return Err(AppError::conflict(
                    "already_delivered",
                    "该决定已送达 (the decision was delivered already)",
                ));
            }
            let now = db::now();
            crate::db::write_transaction(conn, |conn| {
                audit::record_action(
                    conn,
                    &actor.user_id,
                    "acknowledge_decision_notice",
                    &serde_json::json!({"notice_id": id, "case_id": n.case_id, "department_id": n.department_id}),
                    &serde_json::json!({"delivered_at": null}),
                    &serde_json::json!({"delivered_via": "liaison"}),
                    now,
                )?;
                crate::decision_notices::acknowledge(conn, &id, now)
            })?;
            crate::decision_notices::find(conn, &id)?.ok_or_else(not_found)
        })
        .await?;
    Ok(web::Json(row))
}
