//! `/api/v1/webhooks` (subscriptions and their delivery log, administrators) and `/api/v1/feed`
//! (the same events, pulled with a cursor) — docs/integration.md.

use actix_web::{web, HttpResponse};
use griddispatch_protocol::{ErrorBody, Role};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::webhooks::{self, DeliveryRow, DeliveryView, Event, SubscriptionView};

/// Longest receiver URL.
const MAX_URL_CHARS: usize = 2_000;
/// Most events one feed page answers.
const MAX_FEED_PAGE: i64 = 500;

/// A new subscription.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// What it is for (e.g. `市场监管局执法系统`).
    pub name: String,
    /// Where events are POSTed (`http` or `https`).
    pub url: String,
    /// Command names to send (`create_report`, `decide_penalty`, …); empty or absent: all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// The HMAC key (16–200 characters); absent: the server makes one.
    #[serde(default)]
    pub secret: Option<String>,
    /// The department this receiver belongs to: its acknowledgement of a `decide_case` event
    /// delivers the decision notice of a case that concerns the department.
    #[serde(default)]
    pub department_id: Option<String>,
}

/// A created subscription with its secret (shown this once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    /// The subscription.
    pub subscription: SubscriptionView,
    /// The HMAC key: keep it in the receiver; it is not shown again.
    pub secret: String,
}

/// Stop or resume a subscription.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    /// Sending.
    pub active: bool,
}

/// Filter of the delivery log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<i64>,
}

/// A page of the feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `next_after` of the previous page; absent or 0: from the start.
    pub after: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
    /// Command names, comma-delimited; absent: all.
    pub kinds: Option<String>,
}

/// Events after the cursor, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    /// The events.
    pub events: Vec<Event>,
    /// Send it back as `after` for the next page (unchanged when there was nothing new).
    pub next_after: i64,
}

fn check_kinds(kinds: &[String]) -> Result<(), AppError> {
    let known = webhooks::kinds();
    if let Some(bad) = kinds.iter().find(|k| !known.contains(k)) {
        return Err(AppError::unprocessable(
            "unknown_kind",
            format!(
                "未知事件类型 `{}`，须为指令名称，如 create_report (unknown kind; kinds are command names)",
                bad.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(())
}

fn check_url(url: &str, allow_local: bool) -> Result<(), AppError> {
    let bad = || {
        AppError::unprocessable(
            "invalid_url",
            "url 须为 http 或 https 地址，最多 2000 个字符 (url must be an http or https URL of at most 2000 characters)",
        )
    };
    if url.chars().count() > MAX_URL_CHARS {
        return Err(bad());
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad());
    }
    if webhooks::literal_not_allowed(url, allow_local) {
        return Err(AppError::unprocessable(
            "receiver_not_allowed",
            "接收地址不能是本机或链路本地地址 (the receiver may not be this machine or a link-local address; see [webhooks] allow_local_receivers)",
        ));
    }
    Ok(())
}

/// Subscribe a receiver to events.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "integration", security(("bearer" = [])),
    request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook),
        (status = 422, description = "name_required, invalid_url, receiver_not_allowed, unknown_kind, weak_secret, unknown_department, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn create_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<NewWebhook>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let b = body.into_inner();
    let name = b.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::unprocessable(
            "name_required",
            "name 须为 1–100 个字符 (name must be 1–100 characters)",
        ));
    }
    check_url(&b.url, state.config.webhooks.allow_local_receivers)?;
    check_kinds(&b.kinds)?;
    let secret = match b.secret {
        Some(s) if !(16..=200).contains(&s.chars().count()) => {
            return Err(AppError::unprocessable(
                "weak_secret",
                "secret 须为 16–200 个字符 (secret must be 16–200 characters)",
            ))
        }
        Some(s) => s,
        None => {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        }
    };
    let new = webhooks::admin::NewSubscription {
        name,
        url: b.url,
        secret: secret.clone(),
        kinds: b.kinds,
        department_id: b.department_id,
    };
    let view = state
        .db(move |conn| webhooks::admin::subscribe(conn, &actor.user_id, new, db::now()))
        .await?;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        subscription: view,
        secret,
    }))
}

/// Every subscription, with its pending and failed deliveries counted.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "integration", security(("bearer" = [])),
    responses((status = 200, body = [SubscriptionView])))]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<Vec<SubscriptionView>>, AppError> {
    actor.require_any(&[Role::Admin])?;
    Ok(web::Json(state.db(|conn| Ok(webhooks::list(conn)?)).await?))
}

fn sub_id(id: &str) -> Result<(), AppError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| AppError::unprocessable("invalid_id", "编号须为 UUID (the id must be a UUID)"))
}

/// Stop or resume sending (the log is kept; a resumed subscription sends what happened
/// meanwhile).
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "integration", security(("bearer" = [])),
    params(("id" = String, Path, description = "subscription id")),
    request_body = WebhookPatch,
    responses((status = 200, body = SubscriptionView)))]
pub async fn patch_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<WebhookPatch>,
) -> Result<web::Json<SubscriptionView>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let id = path.into_inner();
    sub_id(&id)?;
    let active = body.into_inner().active;
    let view = state
        .db(move |conn| webhooks::admin::set_active(conn, &actor.user_id, &id, active, db::now()))
        .await?;
    Ok(web::Json(view))
}

/// The delivery log of a subscription: each delivery with its attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "integration", security(("bearer" = [])),
    params(("id" = String, Path, description = "subscription id"), DeliveryQuery),
    responses((status = 200, body = [DeliveryView])))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    q: web::Query<DeliveryQuery>,
) -> Result<web::Json<Vec<DeliveryView>>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let id = path.into_inner();
    sub_id(&id)?;
    let q = q.into_inner();
    if let Some(s) = &q.status {
        if !matches!(s.as_str(), "pending" | "delivered" | "failed") {
            return Err(AppError::unprocessable(
                "invalid_query",
                "status 须为 pending、delivered 或 failed (status must be pending, delivered or failed)",
            ));
        }
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let list = state
        .db(move |conn| {
            webhooks::find(conn, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个订阅 (no such subscription)".into()))?;
            Ok(webhooks::deliveries(conn, &id, q.status.as_deref(), limit)?)
        })
        .await?;
    Ok(web::Json(list))
}

/// Send a failed delivery again (its attempts start over).
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/retry", tag = "integration", security(("bearer" = [])),
    params(("id" = String, Path, description = "delivery id")),
    responses((status = 200, body = DeliveryRow),
        (status = 409, description = "not_failed: only a failed delivery is sent again", body = ErrorBody)))]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<DeliveryRow>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let id = path.into_inner();
    sub_id(&id)?;
    let row = state
        .db(move |conn| webhooks::admin::retry(conn, &actor.user_id, &id, db::now()))
        .await?;
    Ok(web::Json(row))
}

/// The pull feed: events after a cursor, oldest first, for systems that cannot receive
/// webhooks. Town-wide readers only; contacts as the reader may see them.
#[utoipa::path(get, path = "/api/v1/feed", tag = "integration", security(("bearer" = [])),
    params(FeedQuery),
    responses((status = 200, body = FeedPage),
        (status = 422, description = "invalid_query, unknown_kind", body = ErrorBody)))]
pub async fn feed(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<FeedQuery>,
) -> Result<web::Json<FeedPage>, AppError> {
    let vis = super::workflow::visibility(&state, &actor).await?;
    if !vis.is_town_wide() {
        return Err(AppError::forbidden(
            "forbidden",
            "事件流仅限指挥中心、值班长、审批、法制审核和管理员 (the feed is for town-wide roles)",
        ));
    }
    let q = q.into_inner();
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(AppError::unprocessable(
            "invalid_query",
            "after 须为非负整数 (after must be a non-negative integer)",
        ));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_FEED_PAGE);
    let kinds: Vec<String> = q
        .kinds
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    check_kinds(&kinds)?;
    let page = state
        .db(move |conn| {
            let recs = webhooks::events_after(conn, after, limit, &kinds)?;
            let events: Vec<Event> = recs.into_iter().map(|r| Event::of(r, &vis)).collect();
            let next_after = events.last().map_or(after, |e| e.seq);
            Ok(FeedPage { events, next_after })
        })
        .await?;
    Ok(web::Json(page))
}
