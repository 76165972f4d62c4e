//! 移送: the transfers a reader may see (a liaison's inbox: those sent to its department) and a
//! sent transfer's letter as PDF. Transfers change only through `/api/v1/commands`.

use actix_web::{web, HttpResponse};
use griddispatch_protocol::ErrorBody;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::workflow::visibility;
use crate::auth::Actor;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::workflow as store;

/// One transfer as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferEntry {
    /// The report transferred.
    pub report_id: String,
    /// Category code.
    pub category_code: String,
    /// What was reported.
    pub description: String,
    /// Address, if given.
    pub address: Option<String>,
    /// The transfer: department, status, reason, packet, answer, outcome, disputes, flags
    /// and its due times (`send_due`, `answer_due`, `outcome_due`).
    #[schema(value_type = Object)]
    pub transfer: serde_json::Value,
    /// The clock running now (`send`, `answer`, `outcome`), if any.
    pub clock: Option<String>,
    /// Its due time (UTC).
    pub due: Option<chrono::DateTime<chrono::Utc>>,
}

/// Transfers out, the running clock's due time first: a liaison sees only those sent to its
/// department (its inbox), the brigade's town-wide roles all.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "agencies", security(("bearer" = [])),
    responses((status = 200, body = Vec<TransferEntry>)))]
pub async fn list_transfers(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, AppError> {
    let vis = visibility(&state, &actor).await?;
    let list = state
        .db(move |conn| {
            let mut list: Vec<TransferEntry> =
                crate::workflow::queries::visible_transfers(conn, &vis)?
                    .into_iter()
                    .filter_map(|r| {
                        let t = r.transfer.as_ref()?;
                        let running = t.running_clock();
                        Some(TransferEntry {
                            report_id: r.id.clone(),
                            category_code: r.category_code.clone(),
                            description: r.description.clone(),
                            address: r.address.clone(),
                            transfer: vis.serve(t),
                            clock: running.map(|c| c.0.to_owned()),
                            due: running.map(|c| c.2.and_utc()),
                        })
                    })
                    .collect();
            list.sort_by_key(|e| (e.due.is_none(), e.due));
            Ok(list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// 案件移送函 of a sent transfer, as PDF (in the brigade's name).
#[utoipa::path(get, path = "/api/v1/reports/{id}/transfer-letter", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "report id")),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
    (status = 404, description = "not_found: no such report, or not sent yet", body = ErrorBody),
    (status = 422, description = "invalid_id", body = ErrorBody)))]
pub async fn transfer_letter(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    uuid::Uuid::parse_str(&id).map_err(|_| {
        AppError::unprocessable("invalid_id", "线索编号须为 UUID (a report id is a UUID)")
    })?;
    let vis = visibility(&state, &actor).await?;
    let rules = state.config.case_rules;
    let spec = state
        .db(move |conn| {
            let r = store::report(conn, &id)?
                .filter(|r| vis.report(r, None))
                .ok_or_else(|| AppError::NotFound("没有这条线索 (no such report)".into()))?;
            let town = match &r.cell {
                Some(c) => crate::store::grid::find_cell(conn, c.version, &c.town)?
                    .map(|row| row.name),
                None => None,
            };
            let authority = format!("{}综合行政执法队", town.unwrap_or_else(|| "镇".into()));
            r.transfer
                .as_ref()
                .and_then(|t| crate::documents::transfer_letter(&r, t, &authority, &rules))
                .ok_or_else(|| {
                    AppError::NotFound(
                        "移送函在移送后生成，该线索尚未移送 (the letter exists once the transfer is sent)"
                            .into(),
                    )
                })
        })
        .await?;
    let pdf = web::block(move || crate::documents::render(&spec))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let sha = hex::encode(Sha256::digest(&pdf));
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("X-Content-SHA256", sha))
        .body(pdf))
}

/// One assistance request as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssistanceEntry {
    /// The report it concerns.
    pub report_id: String,
    /// Category code.
    pub category_code: String,
    /// What was reported.
    pub description: String,
    /// Address, if given.
    pub address: Option<String>,
    /// The request: id, case, department, kind, question, letter number, status, `due`,
    /// `first_due`, extensions, answer and its documents, flags.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// `yellow` or `red` when a clock flag was raised against the current deadline.
    pub light: Option<String>,
}

/// Query of the assistance list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AssistanceQuery {
    /// Only the requests on this report.
    pub report_id: Option<String>,
}

/// Assistance requests (执法协助), open ones by deadline first: a liaison sees only those
/// addressed to its department (its inbox), the brigade's town-wide roles all.
#[utoipa::path(get, path = "/api/v1/assistance", tag = "agencies", security(("bearer" = [])),
    params(AssistanceQuery),
    responses((status = 200, body = Vec<AssistanceEntry>)))]
pub async fn list_assistance(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<AssistanceQuery>,
) -> Result<HttpResponse, AppError> {
    let vis = visibility(&state, &actor).await?;
    let report_id = query.into_inner().report_id;
    let list = state
        .db(move |conn| {
            let mut rows =
                crate::workflow::queries::visible_assistance(conn, &vis, report_id.as_deref())?;
            rows.sort_by_key(|(_, a)| {
                (
                    a.status != crate::domain::workflow::AssistanceStatus::Requested,
                    a.due,
                )
            });
            Ok(rows
                .into_iter()
                .map(|(r, a)| {
                    let light = ["red", "yellow"]
                        .into_iter()
                        .find(|lv| a.flags.iter().any(|f| f.due == a.due && f.level == *lv))
                        .filter(|_| {
                            a.status == crate::domain::workflow::AssistanceStatus::Requested
                        })
                        .map(str::to_owned);
                    AssistanceEntry {
                        report_id: r.id.clone(),
                        category_code: r.category_code.clone(),
                        description: r.description.clone(),
                        address: r.address.clone(),
                        request: vis.serve(&a),
                        light,
                    }
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// 执法协助函 of an assistance request, as PDF (in the brigade's name): for the brigade and the
/// addressed department.
#[utoipa::path(get, path = "/api/v1/assistance/{id}/letter", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "assistance request id")),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
    (status = 404, description = "not_found: no such request, or not the reader's", body = ErrorBody),
    (status = 422, description = "invalid_id", body = ErrorBody)))]
pub async fn assistance_letter(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    uuid::Uuid::parse_str(&id).map_err(|_| {
        AppError::unprocessable(
            "invalid_id",
            "协助请求编号须为 UUID (a request id is a UUID)",
        )
    })?;
    let vis = visibility(&state, &actor).await?;
    let rules = state.config.case_rules;
    let spec = state
        .db(move |conn| {
            let (r, a) = crate::workflow::queries::visible_assistance(conn, &vis, None)?
                .into_iter()
                .find(|(_, a)| a.id == id)
                .ok_or_else(|| {
                    AppError::NotFound("没有这个协助请求 (no such assistance request)".into())
                })?;
            let town = match &r.cell {
                Some(c) => {
                    crate::store::grid::find_cell(conn, c.version, &c.town)?.map(|row| row.name)
                }
                None => None,
            };
            let authority = format!("{}综合行政执法队", town.unwrap_or_else(|| "镇".into()));
            Ok(crate::documents::assistance_letter(
                &r, &a, &authority, &rules,
            ))
        })
        .await?;
    let pdf = web::block(move || crate::documents::render(&spec))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let sha = hex::encode(Sha256::digest(&pdf));
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("X-Content-SHA256", sha))
        .body(pdf))
}
