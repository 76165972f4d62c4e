//! Authentication (who is calling) and the `Actor` every command is checked against.
//!
//! The access token only says which session is calling; roles, certificate and whether the
//! account and device are still allowed are read from the database on every request, so a
//! revoked phone or a disabled account stops working at once.

pub mod password;
pub mod service;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::NaiveDateTime;
use griddispatch_protocol::auth::Certificate;
use griddispatch_protocol::Role;

use crate::db::{self, DbConn};
use crate::domain::account::certificate_valid;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{sessions, users};
use tokens::TokenError;

/// The authenticated caller, as the database says now.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles held now.
    pub roles: Vec<Role>,
    /// Enforcement certificate, if any.
    pub certificate: Option<Certificate>,
    /// Whether the certificate is valid at the time of the request.
    pub certificate_valid: bool,
    /// The session (device sign-in) the request came through.
    pub session_id: String,
    /// The device of that session.
    pub device_id: String,
}

impl Actor {
    /// Holds this role.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Refuse with 403 unless the actor holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        let names: Vec<String> = roles
            .iter()
            .map(|r| format!("{}({})", r.label_zh(), r.as_str()))
            .collect();
        Err(AppError::forbidden(
            "forbidden",
            format!(
                "无权执行此操作，需要角色：{} (this action needs one of the roles: {})",
                names.join("、"),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    /// Load the actor for an access token's session, checking that the session is live and
    /// the account enabled.
    pub fn load(
        conn: &mut DbConn,
        user_id: &str,
        session_id: &str,
        now: NaiveDateTime,
    ) -> Result<Actor, AppError> {
        let session = sessions::find(conn, session_id)?
            .filter(|s| s.user_id == user_id)
            .ok_or_else(|| AppError::unauthorized("invalid_token", "令牌无效 (invalid token)"))?;
        if !session.is_active(now) {
            return Err(AppError::unauthorized(
                "session_revoked",
                "此设备已退出登录或被注销，请重新登录 (this device was signed out or revoked; sign in again)",
            ));
        }
        let user = users::find(conn, user_id)?
            .ok_or_else(|| AppError::unauthorized("invalid_token", "令牌无效 (invalid token)"))?;
        if user.disabled {
            return Err(account_disabled());
        }
        let roles = users::roles_of(conn, user_id)?;
        let certificate = match (user.cert_number, user.cert_valid_until) {
            (Some(number), Some(valid_until)) => Some(Certificate {
                number,
                valid_until,
            }),
            _ => None,
        };
        Ok(Actor {
            certificate_valid: certificate_valid(user.cert_valid_until, now),
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            roles,
            certificate,
            session_id: session.id,
            device_id: session.device_id,
        })
    }
}

/// 403 for a disabled account.
pub fn account_disabled() -> AppError {
    AppError::forbidden(
        "account_disabled",
        "账号已停用，请联系管理员 (this account is disabled; contact an administrator)",
    )
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        AppError::unauthorized(
            "missing_token",
            "请先登录：缺少 Authorization: Bearer 令牌 (sign in first: missing bearer token)",
        )
    })?;
    let value = header
        .to_str()
        .map_err(|_| AppError::unauthorized("invalid_token", "令牌无效 (invalid token)"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::unauthorized(
                "invalid_token",
                "Authorization 头须为 `Bearer <令牌>` (expected `Authorization: Bearer <token>`)",
            )
        })?;
    Ok(token.to_owned())
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| AppError::Internal("application state missing".into()))?;
            let claims = state.keys.verify(&token?).map_err(|e| match e {
                TokenError::Expired => AppError::unauthorized(
                    "token_expired",
                    "登录已过期，请刷新令牌 (access token expired; refresh it)",
                ),
                TokenError::Invalid => {
                    AppError::unauthorized("invalid_token", "令牌无效 (invalid token)")
                }
            })?;
            // Through `AppState::db`: a crowd of requests queues for the pool's connections
            // on the runtime instead of parking a blocking thread each.
            state
                .db(move |conn| Actor::load(conn, &claims.sub, &claims.sid, db::now()))
                .await
        })
    }
}
