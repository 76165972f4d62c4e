//! 公示: the public page of published decisions and its read, no sign-in.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::domain::workflow::PublicDecision;
use crate::error::AppError;
use crate::state::AppState;

const PUBLIC_HTML: &str = include_str!("../public/index.html");

/// Paging of the public list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PublicQuery {
    /// Page, from 1.
    pub page: Option<i64>,
    /// Items per page (≤ 100, default 20).
    pub per_page: Option<i64>,
}

/// Published penalty decisions, newest first, as the public may see them: no complainant, no
/// identity or phone number, no address or position, persons' names masked.
#[utoipa::path(get, path = "/api/v1/public/decisions", tag = "public", params(PublicQuery),
    responses((status = 200, body = Vec<PublicDecision>)))]
pub async fn decisions(
    state: web::Data<AppState>,
    q: web::Query<PublicQuery>,
) -> Result<HttpResponse, AppError> {
    let (page, per) = (q.page.unwrap_or(1), q.per_page.unwrap_or(20));
    let list = state
        .db(move |conn| Ok(crate::workflow::publication::published(conn, page, per)?))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `GET /public/`: the page (static, embedded; it reads `/api/v1/public/decisions`).
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PUBLIC_HTML)
}
