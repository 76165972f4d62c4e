//! `/api/v1/users*`: account administration (admin only).

use actix_web::{web, HttpRequest, HttpResponse};
use griddispatch_protocol::auth::{
    Certificate, NewUserRequest, SetPasswordRequest, SetRolesRequest, UserView,
};
use griddispatch_protocol::{ErrorBody, Role};
use serde_json::json;

use crate::accounts;
use crate::auth::Actor;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// All accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = Vec<UserView>),
    (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn list_users(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<Vec<UserView>>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let list = state
        .db(|conn| Ok(accounts::list(conn, db::now())?))
        .await?;
    Ok(web::Json(list))
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUserRequest,
    responses(
    (status = 201, body = UserView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 409, description = "username_taken", body = ErrorBody),
    (status = 422, description = "invalid_username, weak_password, no_roles, …", body = ErrorBody)))]
pub async fn create_user(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<NewUserRequest>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let admin = actor.user_id.clone();
    let user = state
        .db(move |conn| Ok(accounts::create(conn, &admin, &body, db::now())?))
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Give an account a new set of roles (effective on its next request); recorded in the
/// full-process record. The last enabled administrator keeps the admin role.
#[utoipa::path(put, path = "/api/v1/users/{id}/roles", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id or username")), request_body = SetRolesRequest,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "last_admin", body = ErrorBody),
        (status = 422, description = "no_roles, invalid_json", body = ErrorBody)))]
pub async fn put_roles(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<SetRolesRequest>,
) -> Result<web::Json<UserView>, AppError> {
    admin_change(&state, &actor, path.into_inner(), move |conn, admin, id| {
        accounts::set_roles(conn, admin, id, &body.roles, db::now())
    })
    .await
}

/// Set a new password for a user who lost theirs; the account is signed out on every device.
/// Recorded in the full-process record (never the password).
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id or username")), request_body = SetPasswordRequest,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "weak_password, invalid_json", body = ErrorBody)))]
pub async fn reset_password(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<SetPasswordRequest>,
) -> Result<web::Json<UserView>, AppError> {
    admin_change(&state, &actor, path.into_inner(), move |conn, admin, id| {
        accounts::reset_password(conn, admin, id, &body.password, db::now())
    })
    .await
}

/// An administrator's change of account `id`: admins only, done as `actor`, the account after.
async fn admin_change(
    state: &AppState,
    actor: &Actor,
    id: String,
    change: impl FnOnce(&mut db::DbConn, &str, &str) -> Result<UserView, accounts::AccountError>
        + Send
        + 'static,
) -> Result<web::Json<UserView>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let admin = actor.user_id.clone();
    let user = state.db(move |conn| Ok(change(conn, &admin, &id)?)).await?;
    Ok(web::Json(user))
}

/// Disable (`…/disable`) or re-enable (`…/enable`) an account. Disabling signs it out everywhere.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id or username")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_user_disabled(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<UserView>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let disable = req.path().ends_with("/disable");
    let id = path.into_inner();
    let admin = actor.user_id.clone();
    if disable && (id == actor.user_id || id == actor.username) {
        return Err(AppError::conflict(
            "cannot_disable_self",
            "不能停用自己的账号 (you cannot disable your own account)",
        ));
    }
    let user = state
        .db(move |conn| {
            Ok(accounts::set_disabled(
                conn,
                &admin,
                &id,
                disable,
                db::now(),
            )?)
        })
        .await?;
    Ok(web::Json(user))
}

/// Renew or change an account's enforcement certificate (PUT, body `{number, valid_until}`) or
/// withdraw it (DELETE); recorded in the full-process record.
#[utoipa::path(put, path = "/api/v1/users/{id}/certificate", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id or username")), request_body = Certificate,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_certificate(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<Certificate>,
) -> Result<web::Json<UserView>, AppError> {
    change_certificate(&state, &actor, path.into_inner(), Some(body.into_inner())).await
}

/// Withdraw an account's enforcement certificate.
#[utoipa::path(delete, path = "/api/v1/users/{id}/certificate", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id or username")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_certificate(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<UserView>, AppError> {
    change_certificate(&state, &actor, path.into_inner(), None).await
}

/// Renew, change (`Some`) or withdraw (`None`) a certificate, as the admin `actor`.
async fn change_certificate(
    state: &AppState,
    actor: &Actor,
    id: String,
    cert: Option<Certificate>,
) -> Result<web::Json<UserView>, AppError> {
    admin_change(state, actor, id, move |conn, admin, id| {
        accounts::set_certificate(conn, admin, id, cert.as_ref(), db::now())
    })
    .await
}

/// Check the audit chain (执法全过程记录): every record's hash, every link, no gaps, the head
/// (admin). The same walk as `griddispatch audit verify`.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "`{checked, intact, problems: [{seq, problem}]}`"),
        (status = 403, body = ErrorBody)))]
pub async fn verify_audit(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (checked, problems) = state
        .db(|conn| Ok(crate::store::audit::verify(conn)?))
        .await?;
    let problems: Vec<_> = problems
        .into_iter()
        .map(|p| json!({"seq": p.seq, "problem": p.problem}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "checked": checked,
        "intact": problems.is_empty(),
        "problems": problems,
    })))
}

/// Revoke another user's device (admin; e.g. a phone reported lost to the command center).
#[utoipa::path(post, path = "/api/v1/users/{id}/devices/{device_id}/revoke", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id or username"), ("device_id" = String, Path, description = "device")),
    responses((status = 200, description = "number of sessions ended"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_user_device(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (id, device_id) = path.into_inner();
    let n = state
        .db(move |conn| {
            let user = accounts::find(conn, &id)?;
            Ok(accounts::revoke_device(
                conn,
                &user.id,
                &device_id,
                db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "revoked_sessions": n })))
}
