//! The rules' reference data an admin keeps: event categories and the official calendar. Each
//! change is appended to the full-process record.

use actix_web::{web, HttpResponse};
use griddispatch_protocol::{ErrorBody, Role};
use serde_json::json;

use crate::auth::Actor;
use crate::db;
use crate::domain::calendar::HolidayYear;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::categories::{self, CategoryRow};

/// Event categories.
#[utoipa::path(get, path = "/api/v1/categories", tag = "workflow", security(("bearer" = [])),
    responses((status = 200, body = Vec<CategoryRow>)))]
pub async fn list_categories(
    state: web::Data<AppState>,
    _actor: Actor,
) -> Result<HttpResponse, AppError> {
    let list = state.db(|conn| Ok(categories::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Create or change a category (admin).
#[utoipa::path(put, path = "/api/v1/categories/{code}", tag = "workflow", security(("bearer" = [])),
    params(("code" = String, Path, description = "four-digit code")), request_body = CategoryRow,
    responses((status = 200, body = CategoryRow), (status = 422, body = ErrorBody)))]
pub async fn put_category(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<CategoryRow>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let mut row = body.into_inner();
    row.code = path.into_inner();
    if let Some(problem) = crate::reference::category_problem(&row) {
        return Err(AppError::unprocessable("invalid_category", problem));
    }
    let saved = row.clone();
    let admin = actor.user_id.clone();
    state
        // An admin's change of the rules' inputs is in the full-process record too.
        .db(move |conn| {
            Ok(crate::reference::put_category(
                conn,
                &admin,
                &row,
                db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// Every category as a file (admin): a JSON array that `POST /api/v1/categories/import`
/// and `griddispatch categories import` read back.
#[utoipa::path(get, path = "/api/v1/categories/export", tag = "workflow", security(("bearer" = [])),
    responses((status = 200, description = "JSON array of categories, as an attachment `categories.json`", body = Vec<CategoryRow>),
        (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn export_categories(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let list = state.db(|conn| Ok(categories::list(conn)?)).await?;
    let text =
        serde_json::to_string_pretty(&list).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"categories.json\"",
        ))
        .body(text))
}

/// Import a category file (admin): a JSON array as the export writes it. Every row is checked
/// first; one bad row refuses the whole file (`invalid_category_file`, each problem in
/// `error.problems`) and nothing is stored. Codes in the file are created or replaced, codes
/// not in it are kept; one record `import_categories` holds what changed.
#[utoipa::path(post, path = "/api/v1/categories/import", tag = "workflow", security(("bearer" = [])),
    request_body(content = Vec<CategoryRow>, content_type = "application/json", description = "the categories file"),
    responses((status = 200, body = crate::reference::CategoryImport),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 422, description = "invalid_category_file: `error.problems` lists each bad row (row, code, message)", body = ErrorBody)))]
pub async fn import_categories(
    state: web::Data<AppState>,
    actor: Actor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        AppError::unprocessable(
            "invalid_category_file",
            "文件不是 UTF-8 文本 (the file is not UTF-8 text)",
        )
    })?;
    let rows = crate::reference::parse_category_file(text).map_err(category_file_error)?;
    let admin = actor.user_id.clone();
    let summary = state
        .db(move |conn| {
            Ok(crate::reference::import_categories(
                conn,
                &admin,
                &rows,
                db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// The refusal of a bad category file, every problem listed.
pub fn category_file_error(problems: Vec<crate::reference::CategoryFileProblem>) -> AppError {
    let message = format!(
        "类别文件有 {} 处问题，未导入任何类别，见 problems (the category file has {} problem(s); nothing was imported; see `problems`)",
        problems.len(),
        problems.len()
    );
    AppError::detailed(
        422,
        "invalid_category_file",
        message,
        "problems",
        serde_json::to_value(&problems).unwrap_or_default(),
    )
}

/// A year's calendar exceptions (holiday-cn format).
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "workflow", security(("bearer" = [])),
    params(("year" = i32, Path, description = "year")), responses((status = 200, description = "holiday-cn JSON")))]
pub async fn get_calendar(
    state: web::Data<AppState>,
    _actor: Actor,
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let year = path.into_inner();
    let years = state
        .db(|conn| Ok(crate::store::calendar::years(conn)?))
        .await?;
    let y = years.into_iter().find(|y| y.year == year).ok_or_else(|| {
        AppError::NotFound(format!("没有 {year} 年的日历 (no calendar for {year})"))
    })?;
    Ok(HttpResponse::Ok().json(y))
}

/// Load a year's official calendar (admin), in the public `holiday-cn` JSON format.
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "workflow", security(("bearer" = [])),
    params(("year" = i32, Path, description = "year")), responses((status = 200, description = "stored"), (status = 422, body = ErrorBody)))]
pub async fn put_calendar(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<i32>,
    body: super::input::Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let year = path.into_inner();
    let parsed = HolidayYear::parse(&body.to_string())
        .map_err(|e| AppError::unprocessable("invalid_calendar", e.to_string()))?;
    if parsed.year != year {
        return Err(AppError::unprocessable(
            "invalid_calendar",
            format!(
                "文件年份 {} 与地址 {year} 不符 (year mismatch)",
                parsed.year
            ),
        ));
    }
    let st = state.clone();
    let days = parsed.days.len();
    let admin = actor.user_id.clone();
    state
        .db(move |conn| {
            crate::reference::put_calendar(conn, &admin, &parsed, db::now())?;
            let cal = crate::store::calendar::load(conn)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            st.calendar.store(std::sync::Arc::new(cal));
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"year": year, "days": days})))
}
