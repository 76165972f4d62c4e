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
use crate::store::photo_jobs;
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
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody),
        (status = 409, description = "`copies_pending`: the photo's copies are still being made", body = ErrorBody),
        (status = 422, description = "`copies_failed`: the photo does not decode; no copies", body = ErrorBody)))]
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
    let key = match (key, row.derive_state.as_deref()) {
        (Some(key), _) => key,
        (None, Some(photo_jobs::state::PENDING)) => {
            return Err(AppError::conflict(
                "copies_pending",
                "处理中：此照片的副本尚在生成，请稍后再取 (processing: this photo's copies are still being made; fetch it again shortly)",
            ))
        }
        (None, Some(photo_jobs::state::FAILED)) => {
            return Err(AppError::detailed(
                422,
                "copies_failed",
                "此照片无法解码，未生成副本；原件已保存 (this photo does not decode, so it has no copies; the original is kept)",
                "reason",
                row.derive_error.clone().unwrap_or_default().into(),
            ))
        }
        (None, _) => {
            return Err(AppError::NotFound(
                "此证据没有该副本 (no such copy of this attachment)".into(),
            ))
        }
    };
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

/// What the evidence proves, and what a recording says.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProvesRequest {
    /// 证明对象: what this item shows, 1–500 characters (its maker only). A change is
    /// recorded with the statement it replaces.
    pub proves: Option<String>,
    /// 录音文字记录: what a recording says, 1–20 000 characters (audio only; its maker or an
    /// officer). A change is recorded with the text it replaces.
    pub transcript: Option<String>,
}

/// Say what an evidence item proves (its maker) and/or what a recording says (its maker or an
/// officer); each change goes into the full-process record (`set_proves`, `set_transcript`)
/// with the value it replaces.
#[utoipa::path(patch, path = "/api/v1/attachments/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "attachment id")), request_body = ProvesRequest,
    responses((status = 200, body = AttachmentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_proves, invalid_transcript, not_audio, invalid_field", body = ErrorBody)))]
pub async fn set_proves(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<ProvesRequest>,
) -> Result<web::Json<AttachmentView>, AppError> {
    let proves = body.proves.as_deref().map(str::trim).map(str::to_owned);
    let transcript = body.transcript.as_deref().map(str::trim).map(str::to_owned);
    if proves.is_none() && transcript.is_none() {
        return Err(AppError::unprocessable(
            "invalid_field",
            "须给出 proves 或 transcript (give proves or transcript)",
        ));
    }
    if proves
        .as_deref()
        .is_some_and(|p| p.is_empty() || p.chars().count() > 500)
    {
        return Err(AppError::unprocessable(
            "invalid_proves",
            "证明对象须为 1–500 字 (proves must be 1–500 characters)",
        ));
    }
    if transcript
        .as_deref()
        .is_some_and(|t| t.is_empty() || t.chars().count() > 20_000)
    {
        return Err(AppError::unprocessable(
            "invalid_transcript",
            "录音文字记录须为 1–20000 字 (the transcript must be 1–20000 characters)",
        ));
    }
    let row = load_visible(&state, &actor, path.into_inner()).await?;
    let maker = row.owner_id == actor.user_id;
    if proves.is_some() && !maker {
        return Err(AppError::forbidden(
            "forbidden",
            "只有制作人可填写证明对象 (only the evidence's maker may set what it proves)",
        ));
    }
    if transcript.is_some() {
        if !maker
            && actor
                .require_any(&[Role::Officer, Role::SquadLeader])
                .is_err()
        {
            return Err(AppError::forbidden(
                "forbidden",
                "只有制作人或执法人员可填写录音文字记录 (only the recording's maker or an officer may set its transcript)",
            ));
        }
        if row.kind != "audio" {
            return Err(AppError::unprocessable(
                "not_audio",
                "只有录音可填写文字记录 (only a recording has a transcript)",
            ));
        }
    }
    let id = row.id.clone();
    let user = actor.user_id.clone();
    let row = state
        .db(move |conn| {
            // Evidence metadata is part of the full-process record: each statement (and each
            // change of it) is appended to the chain with what it replaced.
            crate::db::write_transaction(conn, |conn| {
                let now = crate::db::now();
                if let Some(proves) = &proves {
                    crate::store::audit::record_action(
                        conn,
                        &user,
                        "set_proves",
                        &serde_json::json!({"attachment_id": id, "proves": proves}),
                        &serde_json::json!({"proves": row.proves}),
                        &serde_json::json!({"proves": proves}),
                        now,
                    )?;
                    attachments::set_proves(conn, &id, proves)?;
                }
                if let Some(text) = &transcript {
                    crate::store::audit::record_action(
                        conn,
                        &user,
                        "set_transcript",
                        &serde_json::json!({"attachment_id": id, "transcript": text}),
                        &serde_json::json!({"transcript": row.transcript}),
                        &serde_json::json!({"transcript": text}),
                        now,
                    )?;
                    attachments::set_transcript(conn, &id, text)?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            attachments::find(conn, &id)?.ok_or_else(|| AppError::NotFound("gone".into()))
        })
        .await?;
    Ok(web::Json(attachment_view(row)))
}
