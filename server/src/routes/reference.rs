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
    if row.code.len() != 4 || !row.code.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::unprocessable(
            "invalid_category",
            "类别编码须为 4 位数字：大类 2 位 + 小类 2 位 (code must be 4 digits)",
        ));
    }
    if row.name.trim().is_empty() || row.domain.trim().is_empty() {
        return Err(AppError::unprocessable(
            "invalid_category",
            "名称和执法领域不能为空 (name and domain are required)",
        ));
    }
    row.handling
        .parse::<crate::domain::calendar::WorkingDuration>()
        .map_err(|e| {
            AppError::unprocessable(
                "invalid_category",
                format!("处置时限格式错误 (handling): {e}"),
            )
        })?;
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
