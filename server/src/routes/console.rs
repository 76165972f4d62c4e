//! The dispatch console, embedded in the binary so that no build step is needed to run it.

use actix_web::HttpResponse;

const INDEX_HTML: &str = include_str!("../console/index.html");

/// `GET /`.
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX_HTML)
}
