//! `/api/v1/auth/*` and `/api/v1/me*`.

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};
use griddispatch_protocol::auth::{
    DeviceView, LoginRequest, MeView, MyCell, RefreshRequest, TokenResponse,
};
use griddispatch_protocol::ErrorBody;
use serde_json::json;

use crate::accounts;
use crate::auth::{password, service, Actor};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::users;

/// Sign in with username and password on a device.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "invalid_credentials", body = ErrorBody),
    (status = 403, description = "account_disabled", body = ErrorBody),
    (status = 429, description = "too_many_attempts", body = ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: super::input::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let client = client_address(&req, &state.config.trusted_proxies);
    let body = body.into_inner();
    let password = body.password.clone();
    let pending = state
        .db(move |conn| service::begin_login(conn, &body, client, db::now()))
        .await?;
    // The password check runs without a database connection, queued behind at most one
    // check per core (auth::password): a burst of sign-ins neither holds the pool nor
    // multiplies the hash's working memory.
    let matches =
        password::verify_queued(password, pending.password_hash().map(str::to_owned)).await?;
    let st = state.clone();
    let tokens = state
        .db(move |conn| {
            service::finish_login(conn, &st.keys, &st.config, pending, matches, db::now())
        })
        .await?;
    Ok(web::Json(tokens))
}

/// The address sign-ins are counted by: the peer, or — only when the peer is a configured
/// trusted proxy — the right-most `X-Forwarded-For` entry that is not itself a trusted proxy
/// (entries further left are whatever the client chose to send).
fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted_proxies.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            // Not an address (a proxy sent garbage): count by the proxy itself.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// Exchange a refresh token for new tokens (the old refresh token stops working; within
/// `refresh_grace_secs` of its replacement it answers again with the same new refresh token).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "invalid_refresh_token, refresh_token_reused, refresh_token_expired, session_revoked", body = ErrorBody)))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: super::input::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let st = state.clone();
    let tokens = state
        .db(move |conn| {
            let grace = chrono::Duration::seconds(st.config.refresh_grace_secs);
            service::refresh(conn, &st.keys, &body.refresh_token, grace, db::now())
        })
        .await?;
    Ok(web::Json(tokens))
}

/// Sign out this device.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "signed out"),
    (status = 401, description = "invalid_refresh_token", body = ErrorBody)))]
pub async fn logout(
    state: web::Data<AppState>,
    body: super::input::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    state
        .db(move |conn| service::logout(conn, &body.refresh_token, db::now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = MeView),
    (status = 401, description = "missing_token, invalid_token, token_expired, session_revoked", body = ErrorBody)))]
pub async fn me(state: web::Data<AppState>, actor: Actor) -> Result<web::Json<MeView>, AppError> {
    let version = state.grid.load_full().map(|g| g.version);
    let view = state
        .db(move |conn| {
            let now = db::now();
            let user = users::find(conn, &actor.user_id)?
                .ok_or_else(|| AppError::NotFound("user not found".into()))?;
            let cells = match version {
                Some(v) => crate::store::grid::cells_of_member(conn, &actor.user_id, v)?
                    .into_iter()
                    .map(|(code, name, level, role)| MyCell {
                        code,
                        name,
                        level,
                        role,
                    })
                    .collect(),
                None => vec![],
            };
            let department = match crate::store::departments::department_of(conn, &actor.user_id)? {
                Some(id) => crate::store::departments::find(conn, &id)?.map(|d| {
                    griddispatch_protocol::auth::MyDepartment {
                        id: d.id,
                        name: d.name,
                        kind: d.kind,
                    }
                }),
                None => None,
            };
            Ok(MeView {
                user: accounts::view(user, actor.roles, now),
                cells,
                department,
            })
        })
        .await?;
    Ok(web::Json(view))
}

/// Devices the signed-in user is signed in on.
#[utoipa::path(get, path = "/api/v1/me/devices", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Vec<DeviceView>)))]
pub async fn my_devices(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<Vec<DeviceView>>, AppError> {
    let list = state
        .db(move |conn| Ok(accounts::devices(conn, &actor.user_id, db::now())?))
        .await?;
    Ok(web::Json(list))
}

/// Revoke one of the signed-in user's devices (a lost phone): its refresh token and every
/// access token issued to it stop working.
#[utoipa::path(post, path = "/api/v1/me/devices/{device_id}/revoke", tag = "auth", security(("bearer" = [])),
    params(("device_id" = String, Path, description = "the device to sign out")),
    responses((status = 200, description = "number of sessions ended")))]
pub async fn revoke_my_device(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let device_id = path.into_inner();
    let n = state
        .db(move |conn| {
            Ok(accounts::revoke_device(
                conn,
                &actor.user_id,
                &device_id,
                db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "revoked_sessions": n })))
}
