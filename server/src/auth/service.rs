//! Sign-in, token refresh, sign-out and device revocation.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use griddispatch_protocol::auth::{LoginRequest, TokenResponse};

use super::account_disabled;
use super::tokens::{self, TokenKeys};
use crate::config::Config;
use crate::db::DbConn;
use crate::domain::account::Username;
use crate::error::AppError;
use crate::store::{sessions, throttle, users};

fn invalid_credentials() -> AppError {
    AppError::unauthorized(
        "invalid_credentials",
        "用户名或密码错误 (wrong username or password)",
    )
}

fn invalid_refresh() -> AppError {
    AppError::unauthorized(
        "invalid_refresh_token",
        "刷新令牌无效，请重新登录 (invalid refresh token; sign in again)",
    )
}

fn too_many(secs: i64) -> AppError {
    AppError::TooManyRequests {
        message: format!(
            "登录失败次数过多，请 {} 分钟后再试 (too many failed sign-ins; try again in {secs} s)",
            (secs + 59) / 60
        ),
        retry_after_secs: secs,
    }
}

fn check_device_id(device_id: &str) -> Result<&str, AppError> {
    let d = device_id.trim();
    if d.is_empty() || d.len() > 128 || d.chars().any(char::is_control) {
        return Err(AppError::unprocessable(
            "invalid_device_id",
            "device_id 须为 1–128 个可见字符 (device_id must be 1–128 printable characters)",
        ));
    }
    Ok(d)
}

/// The throttling counters one sign-in attempt touches (see `docs/operations.md`).
#[derive(Debug)]
struct ThrottleKeys {
    /// This account from this client address: the owner elsewhere is not affected.
    account_at_address: String,
    /// This client address over all accounts (one address guessing many accounts).
    address: Option<String>,
    /// This account from everywhere (many addresses guessing one account).
    account: String,
}

/// A sign-in whose password is still to be checked (the check runs outside the database
/// closure, bounded by [`super::password::verify_queued`]).
#[derive(Debug)]
pub struct PendingLogin {
    user: Option<users::UserRow>,
    device_id: String,
    keys: ThrottleKeys,
}

impl PendingLogin {
    /// The stored hash to check the password against; `None` for an unknown account (check
    /// against a dummy so that the answer takes as long).
    pub fn password_hash(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.password_hash.as_str())
    }
}

/// First half of a sign-in: refuse locked attempts and look the account up.
///
/// Locks: the account from this client address (`login_max_failures`), the client address
/// over all accounts (`login_max_failures_per_ip`), and the account over all addresses
/// (`login_max_failures_per_account`), which spares devices the account signed in on before.
pub fn begin_login(
    conn: &mut DbConn,
    req: &LoginRequest,
    client: Option<IpAddr>,
    now: NaiveDateTime,
) -> Result<PendingLogin, AppError> {
    let device_id = check_device_id(&req.device_id)?.to_owned();
    // An impossible username cannot exist; answer like a wrong password.
    let username = Username::parse(&req.username).ok();
    let name = username
        .as_ref()
        .map_or(req.username.trim(), |u| u.as_str());
    let address = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let keys = ThrottleKeys {
        account_at_address: format!("user:{name}@{address}"),
        address: client.map(|ip| format!("ip:{ip}")),
        account: format!("user:{name}"),
    };
    for key in std::iter::once(&keys.account_at_address).chain(keys.address.as_ref()) {
        if let Some(secs) = throttle::locked_for(conn, key, now)? {
            return Err(too_many(secs));
        }
    }
    let user = match &username {
        Some(u) => users::find_by_username(conn, u.as_str())?,
        None => None,
    };
    if let Some(secs) = throttle::locked_for(conn, &keys.account, now)? {
        let known = match &user {
            Some(u) => sessions::device_known(conn, &u.id, &device_id)?,
            None => false,
        };
        if !known {
            return Err(too_many(secs));
        }
    }
    Ok(PendingLogin {
        user,
        device_id,
        keys,
    })
}

/// Second half of a sign-in: count a failure, or open the device's session.
pub fn finish_login(
    conn: &mut DbConn,
    keys: &TokenKeys,
    config: &Config,
    pending: PendingLogin,
    password_matches: bool,
    now: NaiveDateTime,
) -> Result<TokenResponse, AppError> {
    let PendingLogin {
        user,
        device_id,
        keys: counters,
    } = pending;
    let user = match (user, password_matches) {
        (Some(u), true) => u,
        _ => {
            let lock = Duration::seconds(config.login_lock_secs);
            let policy = |max_failures| throttle::Policy { max_failures, lock };
            throttle::record_failure(
                conn,
                &counters.account_at_address,
                now,
                policy(config.login_max_failures),
            )?;
            if let Some(k) = &counters.address {
                throttle::record_failure(conn, k, now, policy(config.login_max_failures_per_ip))?;
            }
            throttle::record_failure(
                conn,
                &counters.account,
                now,
                policy(config.login_max_failures_per_account),
            )?;
            return Err(invalid_credentials());
        }
    };
    if user.disabled {
        return Err(account_disabled());
    }
    // The owner's success forgets only their own address's failures: strangers' failures
    // elsewhere still count towards the account-wide limit.
    throttle::clear(conn, &counters.account_at_address)?;

    let session_id = uuid::Uuid::now_v7().to_string();
    let refresh = tokens::new_refresh_token(&session_id);
    let expires_at = now + keys.refresh_ttl;
    let device_id = device_id.as_str();
    crate::db::write_transaction(conn, |conn| {
        sessions::revoke_device(conn, &user.id, device_id, "replaced_by_new_sign_in", now)?;
        sessions::insert(
            conn,
            &sessions::NewSession {
                id: &session_id,
                user_id: &user.id,
                device_id,
                refresh_hash: &tokens::hash_refresh_token(&refresh),
                created_at: now,
                last_used_at: now,
                expires_at,
            },
        )
    })?;
    token_response(keys, &user.id, &session_id, refresh, expires_at, now)
}

fn token_response(
    keys: &TokenKeys,
    user_id: &str,
    session_id: &str,
    refresh_token: String,
    refresh_expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<TokenResponse, AppError> {
    let access_token = keys
        .issue(user_id, session_id, now)
        .map_err(|e| AppError::Internal(format!("cannot sign token: {e}")))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: keys.access_ttl.num_seconds(),
        refresh_token,
        refresh_expires_at: refresh_expires_at.and_utc(),
    })
}

fn refresh_reused() -> AppError {
    AppError::unauthorized(
        "refresh_token_reused",
        "刷新令牌已被使用过，为安全起见已注销此设备，请重新登录 (refresh token reused; the session was revoked for safety)",
    )
}

/// Exchange a refresh token for new tokens. Each refresh token works once: presenting a
/// replaced one means it was copied, so the whole session is revoked — except the
/// immediately previous token within `grace` of its replacement, which answers again with the
/// same successor (the client's answer was lost on a bad network; nothing new is handed out).
pub fn refresh(
    conn: &mut DbConn,
    keys: &TokenKeys,
    refresh_token: &str,
    grace: Duration,
    now: NaiveDateTime,
) -> Result<TokenResponse, AppError> {
    let sid = tokens::refresh_token_session(refresh_token).ok_or_else(invalid_refresh)?;
    let session = sessions::find(conn, sid)?.ok_or_else(invalid_refresh)?;
    let presented = tokens::hash_refresh_token(refresh_token);
    if session.revoked_at.is_some() {
        return Err(AppError::unauthorized(
            "session_revoked",
            "此设备已退出登录或被注销，请重新登录 (this device was signed out or revoked; sign in again)",
        ));
    }
    let next = keys.successor(&session.id, refresh_token);
    let next_hash = tokens::hash_refresh_token(&next);
    // `last_used_at` is when the current token replaced the previous one.
    let is_current = session.refresh_hash == presented;
    let is_previous = session.previous_hash.as_deref() == Some(presented.as_str());
    let replay_in_grace =
        is_previous && now - session.last_used_at <= grace && session.refresh_hash == next_hash;
    if !is_current && !replay_in_grace {
        let replaced = is_previous
            || keys
                .chain_steps(&session.id, refresh_token, &session.refresh_hash)
                .is_some();
        if replaced {
            sessions::revoke(conn, &session.id, "refresh_token_reused", now)?;
            return Err(refresh_reused());
        }
        return Err(invalid_refresh());
    }
    if session.expires_at <= now {
        return Err(AppError::unauthorized(
            "refresh_token_expired",
            "登录已过期，请重新登录 (sign-in expired; sign in again)",
        ));
    }
    let user = users::find(conn, &session.user_id)?.ok_or_else(invalid_refresh)?;
    if user.disabled {
        return Err(account_disabled());
    }
    if is_current && !sessions::rotate(conn, &session.id, &presented, &next_hash, now)? {
        // Another request rotated this token a moment ago. The same token twice at once
        // (a client retrying) rotated to the same successor: answer it too. Anything else
        // (revoked meanwhile) is refused.
        let again = sessions::find(conn, &session.id)?.ok_or_else(invalid_refresh)?;
        if again.revoked_at.is_some() || again.refresh_hash != next_hash {
            return Err(invalid_refresh());
        }
    }
    token_response(keys, &user.id, &session.id, next, session.expires_at, now)
}

/// Sign out the session a refresh token belongs to. Signing out twice is not an error.
pub fn logout(conn: &mut DbConn, refresh_token: &str, now: NaiveDateTime) -> Result<(), AppError> {
    let sid = tokens::refresh_token_session(refresh_token).ok_or_else(invalid_refresh)?;
    let session = sessions::find(conn, sid)?.ok_or_else(invalid_refresh)?;
    let presented = tokens::hash_refresh_token(refresh_token);
    let known = session.refresh_hash == presented
        || session.previous_hash.as_deref() == Some(presented.as_str());
    if !known {
        return Err(invalid_refresh());
    }
    sessions::revoke(conn, &session.id, "logout", now)?;
    Ok(())
}
