//! `/api/v1/me/notifications*`: deadline warnings and escalations for their recipient, and the
//! bell's mark-as-read.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Actor;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// Notifications for the signed-in user (deadline warnings, escalations).
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "workflow", security(("bearer" = [])),
    responses((status = 200, description = "newest first")))]
pub async fn my_notifications(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, AppError> {
    let uid = actor.user_id.clone();
    let rows = state
        .db(move |conn| Ok(crate::store::notifications::for_user(conn, &uid, 200)?))
        .await?
        .into_iter()
        .map(|n| {
            json!({"id": n.id, "kind": n.kind, "task_id": n.task_id, "message": n.message,
            "created_at": n.created_at.and_utc(), "read_at": n.read_at.map(|t| t.and_utc())})
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(rows))
}

/// Which notifications to mark read.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct MarkReadRequest {
    /// Notification ids; absent: all of the user's unread notifications.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
}

/// Mark the signed-in user's notifications read (the bell's mark-as-read).
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "workflow", security(("bearer" = [])),
    request_body = MarkReadRequest, responses((status = 200, description = "`{marked}`: how many changed")))]
pub async fn mark_notifications_read(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<MarkReadRequest>,
) -> Result<HttpResponse, AppError> {
    let uid = actor.user_id.clone();
    let ids = body.into_inner().ids;
    let marked = state
        .db(move |conn| {
            Ok(crate::store::notifications::mark_read(
                conn,
                &uid,
                ids.as_deref(),
                db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "marked": marked })))
}
