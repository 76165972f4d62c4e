//! `/api/v1/attachments/*`: evidence records and their files.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use griddispatch_media::storage::ObjectKey;
use griddispatch_protocol::{ErrorBody, Role};
use serde::Deserialize;

use crate::auth::Actor;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::attachments::{self, AttachmentRow};
use crate::tus::attachment_view;
pub use crate::tus::complete::AttachmentView;

/// Roles that may see any evidence until reports and cases scope it (the workflow issue).
const STAFF: [Role; 8] = [
    Role::Dispatcher,
    Role::DutyChief,
    Role::SquadLeader,
    Role::Officer,
    Role::LegalReviewer,
    Role::Approver,
    Role::GridLeader,
    Role::Admin,
];

async fn load_visible(
    state: &AppState,
    actor: &Actor,
    id: String,
) -> Result<AttachmentRow, AppError> {
    let version = state.grid.load_full().map_or(0, |g| g.version);
    let grid_member = actor.require_any(&[Role::GridMember]).is_ok();
    let user_id = actor.user_id.clone();
    let (row, in_my_cells) = state
        .db(move |conn| {
            let row = attachments::find(conn, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个证据 (no such attachment)".into()))?;
            // A grid member re-checks the tasks of their cells: they see the officers'
            // before/after photos and the reports' evidence there.
            let in_my_cells = grid_member && {
                let villages = crate::workflow::scope::villages_of(conn, &user_id, version)?;
                crate::workflow::scope::evidence_in_villages(conn, &row.id, &villages)?
            };
            Ok((row, in_my_cells))
        })
        .await?;
    if row.owner_id != actor.user_id && !in_my_cells && actor.require_any(&STAFF).is_err() {
        // Not yours and not staff: indistinguishable from absent.
        return Err(AppError::NotFound(
            "没有这个证据 (no such attachment)".into(),
        ));
    }
    Ok(row)
}

/// One evidence record.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "attachment id")),
    responses((status = 200, body = AttachmentView), (status = 404, body = ErrorBody)))]
pub async fn get_attachment(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<AttachmentView>, AppError> {
    Ok(web::Json(attachment_view(
        load_visible(&state, &actor, path.into_inner()).await?,
    )))
}

/// Which file to download.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ContentQuery {
    /// `original` (default), `thumbnail` or `display` (no location metadata).
    pub variant: Option<String>,
}

/// Download the original or a derived copy.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/content", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "attachment id"), ContentQuery),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
pub async fn get_content(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    query: web::Query<ContentQuery>,
) -> Result<HttpResponse, AppError> {
    let row = load_visible(&state, &actor, path.into_inner()).await?;
    let (key, mime, disposition) = match query.variant.as_deref().unwrap_or("original") {
        "original" => (
            Some(row.original_key.clone()),
            row.media_type.clone(),
            "attachment",
        ),
        "thumbnail" => (row.thumbnail_key.clone(), "image/jpeg".to_owned(), "inline"),
        "display" => (row.display_key.clone(), "image/jpeg".to_owned(), "inline"),
        other => {
            return Err(AppError::bad_request(
                "invalid_query",
                format!("variant 须为 original、thumbnail 或 display，而不是 `{other}`"),
            ))
        }
    };
    let key = key.ok_or_else(|| {
        AppError::NotFound("此证据没有该副本 (no such copy of this attachment)".into())
    })?;
    let key = ObjectKey::parse(&key)?;
    let size = state.media.storage.head(&key).await?.size;
    let stream = state.media.storage.get_stream(&key).await?;
    let filename = row.filename.unwrap_or_else(|| row.id.clone());
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_LENGTH, size.to_string()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "{disposition}; filename*=UTF-8''{}",
                super::documents::urlencode(&filename)
            ),
        ))
        .streaming(stream))
}

/// What the evidence proves.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProvesRequest {
    /// 证明对象: what this item shows, 1–500 characters.
    pub proves: String,
}

/// Say what an evidence item proves (its maker only).
#[utoipa::path(patch, path = "/api/v1/attachments/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "attachment id")), request_body = ProvesRequest,
    responses((status = 200, body = AttachmentView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_proves(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<ProvesRequest>,
) -> Result<web::Json<AttachmentView>, AppError> {
    let proves = body.proves.trim().to_owned();
    if proves.is_empty() || proves.chars().count() > 500 {
        return Err(AppError::unprocessable(
            "invalid_proves",
            "证明对象须为 1–500 字 (proves must be 1–500 characters)",
        ));
    }
    let row = load_visible(&state, &actor, path.into_inner()).await?;
    if row.owner_id != actor.user_id {
        return Err(AppError::forbidden(
            "forbidden",
            "只有制作人可填写证明对象 (only the evidence's maker may set what it proves)",
        ));
    }
    let id = row.id.clone();
    let before = serde_json::json!({"proves": row.proves});
    let maker = actor.user_id.clone();
    let row = state
        .db(move |conn| {
            // Evidence metadata is part of the full-process record: each statement (and each
            // change of it) is appended to the chain with what it replaced.
            crate::db::write_transaction(conn, |conn| {
                let after = serde_json::json!({"proves": proves});
                crate::store::audit::record_action(
                    conn,
                    &maker,
                    "set_proves",
                    &serde_json::json!({"attachment_id": id, "proves": proves}),
                    &before,
                    &after,
                    crate::db::now(),
                )?;
                attachments::set_proves(conn, &id, &proves)
            })?;
            attachments::find(conn, &id)?.ok_or_else(|| AppError::NotFound("gone".into()))
        })
        .await?;
    Ok(web::Json(attachment_view(row)))
}
