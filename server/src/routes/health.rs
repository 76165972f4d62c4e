//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "process is up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers; 503 otherwise (load balancers stop sending traffic).
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "database reachable"),
    (status = 503, description = "database unreachable", body = griddispatch_protocol::ErrorBody)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pool = state.pool.clone();
    let backend = state.database.backend_name();
    web::block(move || {
        let mut conn = pool
            .get_timeout(std::time::Duration::from_secs(3))
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        conn.batch_execute("SELECT 1")
            .map_err(|e| AppError::Unavailable(e.to_string()))
    })
    .await??;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": backend})))
}
