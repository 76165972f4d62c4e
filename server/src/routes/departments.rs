//! `/api/v1/departments*`: the departments the brigade works with and their liaison accounts
//! (admin keeps them; every signed-in user may list them, a liaison sees only its own).

use actix_web::{web, HttpResponse};
use griddispatch_protocol::{ErrorBody, Role};

use crate::auth::Actor;
use crate::db;
use crate::departments::{self, DepartmentInput, DepartmentView};
use crate::error::AppError;
use crate::state::AppState;

/// Departments by name (a liaison sees only its own).
#[utoipa::path(get, path = "/api/v1/departments", tag = "agencies", security(("bearer" = [])),
    responses((status = 200, body = Vec<DepartmentView>)))]
pub async fn list_departments(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, AppError> {
    let list = state
        .db(move |conn| departments::list(conn, &actor.user_id, &actor.roles))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "department id")),
    responses((status = 200, body = DepartmentView), (status = 404, body = ErrorBody)))]
pub async fn get_department(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let dept = state
        .db(move |conn| departments::get(conn, &actor.user_id, &actor.roles, &id))
        .await?;
    Ok(HttpResponse::Ok().json(dept))
}

/// Create a department (admin).
#[utoipa::path(post, path = "/api/v1/departments", tag = "agencies", security(("bearer" = [])),
    request_body = DepartmentInput,
    responses((status = 201, body = DepartmentView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 409, description = "department_name_taken, liaison_taken", body = ErrorBody),
    (status = 422, description = "invalid_department, unknown_liaison, not_a_liaison, invalid_field", body = ErrorBody)))]
pub async fn create_department(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<DepartmentInput>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let input = body.into_inner();
    let dept = state
        .db(move |conn| departments::create(conn, &actor.user_id, &input, db::now()))
        .await?;
    Ok(HttpResponse::Created().json(dept))
}

/// Change a department: its fields and liaisons are replaced by the body (admin).
#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "department id")), request_body = DepartmentInput,
    responses((status = 200, body = DepartmentView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "department_name_taken, liaison_taken", body = ErrorBody),
    (status = 422, description = "invalid_department, unknown_liaison, not_a_liaison, invalid_field", body = ErrorBody)))]
pub async fn update_department(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<DepartmentInput>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let id = path.into_inner();
    let input = body.into_inner();
    let dept = state
        .db(move |conn| departments::update(conn, &actor.user_id, &id, &input, db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(dept))
}
