//! `/sync/v1/…`: the phones' protocol (`docs/sync-protocol.md`).

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use griddispatch_protocol::sync::{
    PullResponse, PushRequest, PushResponse, SyncInfo, WaitResponse, DEFAULT_PULL_BYTES,
    DEFAULT_PULL_LIMIT, MAX_PULL_BYTES, MAX_PULL_LIMIT, MAX_PUSH_COMMANDS, MIN_PROTOCOL_VERSION,
    PROTOCOL_HEADER, PROTOCOL_VERSION,
};
use griddispatch_protocol::ErrorBody;
use serde::Deserialize;

use super::workflow::visibility;
use crate::auth::Actor;
use crate::error::AppError;
use crate::state::AppState;
use crate::sync;
use crate::workflow::Issuer;

/// Largest push body.
pub const MAX_PUSH_BYTES: usize = 8 << 20;

/// Refuse a request without an accepted protocol version.
fn negotiate(req: &HttpRequest) -> Result<(), AppError> {
    let Some(v) = req.headers().get(PROTOCOL_HEADER) else {
        return Err(AppError::bad_request(
            "protocol_required",
            format!("缺少 {PROTOCOL_HEADER} 请求头 (send the header {PROTOCOL_HEADER}: {PROTOCOL_VERSION})"),
        ));
    };
    let v: u32 = v
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            AppError::bad_request(
                "protocol_required",
                format!("{PROTOCOL_HEADER} 须为数字 ({PROTOCOL_HEADER} must be a number)"),
            )
        })?;
    if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&v) {
        return Err(AppError::status(
            426,
            "unsupported_protocol",
            format!(
                "客户端版本过旧或过新，请升级应用；未发送的记录会保留 (sync protocol {v} is not supported; this server speaks {MIN_PROTOCOL_VERSION}–{PROTOCOL_VERSION}: update the app — queued work is kept)"
            ),
        ));
    }
    Ok(())
}

fn ok<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// What the server speaks (no sign-in needed).
#[utoipa::path(get, path = "/sync/v1/info", tag = "sync",
    responses((status = 200, body = SyncInfo)))]
pub async fn info(state: web::Data<AppState>) -> HttpResponse {
    ok(&SyncInfo {
        protocol_versions: (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).collect(),
        server_time: chrono::Utc::now(),
        max_push_commands: MAX_PUSH_COMMANDS as u32,
        max_pull_limit: MAX_PULL_LIMIT,
        max_pull_bytes: MAX_PULL_BYTES,
        retention_days: state.config.sync_retention_days,
        tus_endpoint: "/files/".into(),
    })
}

/// Push queued commands: each is applied exactly once, in `device_seq` order; a rejected one
/// is acknowledged and does not block the ones behind it.
#[utoipa::path(post, path = "/sync/v1/push", tag = "sync", security(("bearer" = [])),
    request_body = PushRequest,
    params(("GridSync-Protocol" = u32, Header, description = "protocol version (1)")),
    responses((status = 200, body = PushResponse),
        (status = 400, description = "protocol_required, device_mismatch, invalid_json", body = ErrorBody),
        (status = 422, description = "invalid_field: wrong types, a repeated or non-positive device_seq", body = ErrorBody),
        (status = 413, description = "too_many_commands", body = ErrorBody),
        (status = 426, description = "unsupported_protocol", body = ErrorBody),
        (status = 503, description = "service_unavailable: nothing handled, retry", body = ErrorBody)))]
pub async fn push(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: web::Json<PushRequest>,
) -> Result<HttpResponse, AppError> {
    negotiate(&req)?;
    let mut body = body.into_inner();
    if body.device_id != actor.device_id {
        return Err(AppError::bad_request(
            "device_mismatch",
            "device_id 与登录设备不符 (device_id differs from the device this token was issued to)",
        ));
    }
    if body.commands.len() > MAX_PUSH_COMMANDS {
        return Err(AppError::status(
            413,
            "too_many_commands",
            format!(
                "每次最多 {MAX_PUSH_COMMANDS} 条 (at most {MAX_PUSH_COMMANDS} commands per push)"
            ),
        ));
    }
    body.commands.sort_by_key(|c| c.device_seq);
    if body.commands.iter().any(|c| c.device_seq < 1) {
        return Err(AppError::unprocessable(
            "invalid_field",
            "device_seq 从 1 开始 (device_seq starts at 1)",
        ));
    }
    if body
        .commands
        .windows(2)
        .any(|w| w[0].device_seq == w[1].device_seq)
    {
        return Err(AppError::unprocessable(
            "invalid_field",
            "同一 device_seq 出现两次 (a device_seq appears twice in the batch)",
        ));
    }
    let vis = visibility(&state, &actor).await?;
    let user_id = actor.user_id.clone();
    let device_id = actor.device_id.clone();
    let outcome = state
        .with_command_env(move |conn, env| {
            let who = sync::Pusher {
                issuer: Issuer {
                    user_id,
                    is_system: false,
                    occurred_at: None,
                },
                device_id: &device_id,
                vis: &vis,
            };
            Ok(sync::push(conn, env, &who, &body.commands)?)
        })
        .await?;
    if outcome.applied_any {
        state.changes.notify_waiters();
    }
    if outcome.results.is_empty() {
        if let Some(f) = outcome.failure {
            return Err(AppError::Unavailable(format!(
                "暂时无法处理，请稍后重试 (nothing was applied; retry later: {f})"
            )));
        }
    }
    Ok(ok(&PushResponse {
        results: outcome.results,
        next_device_seq: outcome.next_device_seq,
    }))
}

/// Pull parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PullQuery {
    /// The last cursor received (none on a fresh install).
    pub cursor: Option<String>,
    /// Changes per page, 1–2000 (default 500).
    pub limit: Option<u32>,
    /// Bytes per page, 1024–8388608 (default 1048576).
    pub max_bytes: Option<u64>,
}

/// Pull the changes in the user's scope after a cursor, in commit order.
#[utoipa::path(get, path = "/sync/v1/pull", tag = "sync", security(("bearer" = [])),
    params(PullQuery, ("GridSync-Protocol" = u32, Header, description = "protocol version (1)")),
    responses((status = 200, body = PullResponse),
        (status = 400, description = "invalid_cursor, invalid_query, protocol_required", body = ErrorBody),
        (status = 426, description = "unsupported_protocol", body = ErrorBody)))]
pub async fn pull(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    q: web::Query<PullQuery>,
) -> Result<HttpResponse, AppError> {
    negotiate(&req)?;
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    let max_bytes = q.max_bytes.unwrap_or(DEFAULT_PULL_BYTES);
    if !(1..=MAX_PULL_LIMIT).contains(&limit) || !(1024..=MAX_PULL_BYTES).contains(&max_bytes) {
        return Err(AppError::bad_request(
            "invalid_query",
            format!("limit 须在 1–{MAX_PULL_LIMIT}，max_bytes 须在 1024–{MAX_PULL_BYTES} (limit must be 1–{MAX_PULL_LIMIT}, max_bytes 1024–{MAX_PULL_BYTES})"),
        ));
    }
    let vis = visibility(&state, &actor).await?;
    let page = state
        .db(move |conn| sync::pull(conn, &vis, q.cursor.as_deref(), limit as usize, max_bytes))
        .await?;
    Ok(ok(&page))
}

/// Wait parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct WaitQuery {
    /// The last cursor received.
    pub cursor: Option<String>,
    /// Seconds to wait at most, 1–60 (default 25).
    pub timeout: Option<u64>,
}

/// Long-poll: answers when something in the user's scope changed after the cursor.
#[utoipa::path(get, path = "/sync/v1/wait", tag = "sync", security(("bearer" = [])),
    params(WaitQuery, ("GridSync-Protocol" = u32, Header, description = "protocol version (1)")),
    responses((status = 200, body = WaitResponse),
        (status = 400, description = "invalid_cursor, invalid_query", body = ErrorBody)))]
pub async fn wait(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    q: web::Query<WaitQuery>,
) -> Result<HttpResponse, AppError> {
    negotiate(&req)?;
    let q = q.into_inner();
    let timeout = q.timeout.unwrap_or(25);
    if !(1..=60).contains(&timeout) {
        return Err(AppError::bad_request(
            "invalid_query",
            "timeout 须在 1–60 秒 (timeout must be 1–60 seconds)",
        ));
    }
    let vis = visibility(&state, &actor).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    // The database is read again only when the change-log head moves past what the last
    // check saw and the move touched this phone's scope (`AppState::head`: local commits at
    // once, other instances' within a second), so a waiting phone costs no database work
    // while nothing of theirs changes.
    let keys = sync::scope_keys(&vis);
    let town_wide = vis.is_town_wide();
    let mut heads = state.head.subscribe();
    loop {
        // Marked seen before the check: a head published after it wakes the loop below.
        heads.borrow_and_update();
        let (v, c) = (vis.clone(), q.cursor.clone());
        let (changed, mut head) = state
            .db(move |conn| sync::changed_since(conn, &v, c.as_deref()))
            .await?;
        if changed || tokio::time::Instant::now() >= deadline {
            return Ok(ok(&WaitResponse {
                changed,
                server_seq: head,
            }));
        }
        loop {
            tokio::select! {
                // `AppState` holds the sender: `changed` fails only if it were dropped.
                Ok(()) = heads.changed() => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Ok(ok(&WaitResponse { changed: false, server_seq: head }));
                }
            }
            let news = heads.borrow_and_update();
            if news.seq <= head {
                continue;
            }
            // Everything after our check is in this move and its scopes are known: a row of
            // ours among them is a change after the cursor (the check found none up to
            // `head`), none means nothing for us — either way no query. Otherwise look.
            if let (true, Some(scopes)) = (news.from <= head, &news.scopes) {
                let ours = if town_wide {
                    !scopes.is_empty()
                } else {
                    keys.iter().any(|k| scopes.contains(k))
                };
                if ours {
                    return Ok(ok(&WaitResponse {
                        changed: true,
                        server_seq: news.seq,
                    }));
                }
                head = news.seq;
                continue;
            }
            break;
        }
    }
}
