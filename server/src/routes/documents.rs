//! 执法文书: a case's enforcement documents as PDF, made from the case as it stands.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::workflow::visibility;
use crate::auth::Actor;
use crate::documents::{case_documents, render, DocumentKind};
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow::queries;

/// One document of a case.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentEntry {
    /// Name in the URL (`decision`, `notice`, `record-1`, …).
    pub name: String,
    /// Kind.
    pub kind: DocumentKind,
    /// 文书名称.
    pub title: String,
    /// 文号.
    pub number: Option<String>,
}

type Built = Vec<(String, DocumentKind, crate::documents::DocSpec)>;

async fn build(state: &AppState, actor: &Actor, id: String) -> Result<Built, AppError> {
    uuid::Uuid::parse_str(&id).map_err(|_| {
        AppError::unprocessable("invalid_id", "案件编号须为 UUID (a case id is a UUID)")
    })?;
    let vis = visibility(state, actor).await?;
    let rules = state.config.case_rules;
    state
        .db(move |conn| {
            let c = queries::visible_case(conn, &vis, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个案件 (no such case)".into()))?;
            let authority = crate::workflow::publication::authority(conn, &c)?;
            let mut people = std::collections::HashMap::new();
            let mut ids: Vec<String> = c.procedure.investigators.clone();
            ids.extend(
                c.procedure
                    .records
                    .iter()
                    .flat_map(|r| r.officer_ids.clone()),
            );
            ids.extend(c.procedure.reviews.iter().map(|r| r.by.clone()));
            ids.extend(c.procedure.service.iter().map(|s| s.by.clone()));
            ids.extend(c.procedure.hearing.iter().filter_map(|h| h.host_id.clone()));
            ids.push(c.proposed_by.clone());
            ids.extend(c.decided_by.clone());
            for uid in ids {
                if let Some(u) = crate::store::users::find(conn, &uid)? {
                    people.insert(uid, u.display_name);
                }
            }
            let name = |uid: &str| people.get(uid).cloned().unwrap_or_else(|| uid.to_owned());
            Ok(case_documents(&c, &rules, &authority, &name))
        })
        .await
}

/// The documents a case has now (each exists once its step was taken).
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id")),
    responses((status = 200, body = Vec<DocumentEntry>), (status = 404, description = "not_found")))]
pub async fn list_documents(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let docs = build(&state, &actor, path.into_inner()).await?;
    let list: Vec<DocumentEntry> = docs
        .into_iter()
        .map(|(name, kind, d)| DocumentEntry {
            name,
            kind,
            title: d.title,
            number: d.number,
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// One document as PDF (Chinese, A4). `X-Content-SHA256` names the bytes: the same case data
/// always gives the same file.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents/{name}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id"), ("name" = String, Path, description = "document name from the list")),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"), (status = 404, description = "not_found")))]
pub async fn get_document(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let docs = build(&state, &actor, id).await?;
    let (_, _, spec) = docs
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "本案没有文书 `{name}`（相应步骤尚未办理）(no such document for this case yet)"
            ))
        })?;
    let title = spec.title.clone();
    let pdf = web::block(move || render(&spec))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let sha = hex::encode(Sha256::digest(&pdf));
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("X-Content-SHA256", sha))
        .insert_header((
            "Content-Disposition",
            format!(
                "inline; filename=\"{name}.pdf\"; filename*=UTF-8''{}.pdf",
                urlencode(&title)
            ),
        ))
        .body(pdf))
}

/// Percent-encoding for the RFC 5987 file name (Chinese titles).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
