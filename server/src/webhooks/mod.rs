//! Events for other systems (docs/integration.md): signed webhooks with retries and a delivery
//! log, and the pull feed of the same events.
//!
//! An event is a record of the command log that concerns a report, task or case: its `seq` is
//! the command's sequence number, which is commit order (commands claim it serially), so a
//! cursor over `seq` never skips an event. The delivery job turns each subscription's new
//! events into deliveries (`cursor_seq` moves with a conditional update), then sends the due
//! ones, each under a lease taken by a conditional update — several instances may run the job
//! at once and none sends a delivery another holds. A receiver acknowledges with any 2xx; a
//! failure is retried with exponential back-off until `max_attempts`, then the delivery is
//! `failed` and an administrator may send it again.

use std::sync::OnceLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::WebhookConfig;
use crate::db::DbConn;
use crate::schema::{audit_log, webhook_attempts, webhook_deliveries, webhook_subscriptions};
use crate::store::audit::AuditRecord;
use crate::workflow::queries::Visibility;

pub mod admin;

/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "X-GridDispatch-Signature";
/// The event kind header (a command name).
pub const EVENT_HEADER: &str = "X-GridDispatch-Event";
/// The delivery id header (the same on every attempt of one delivery).
pub const DELIVERY_HEADER: &str = "X-GridDispatch-Delivery";
/// How far a signature's time may be from the receiver's clock, in seconds (advice for
/// receivers; [`verify`] takes it as a parameter).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// Events turned into deliveries per subscription and round.
const FAN_OUT_BATCH: i64 = 500;
/// Deliveries sent per round.
const SEND_BATCH: i64 = 50;
/// Longest error text kept per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// One event, as the feed answers it and as a webhook's body carries it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The command's sequence number: ascending, gap-free over the command log.
    pub seq: i64,
    /// The command's name (`create_report`, `dispatch_report`, `decide_penalty`, …).
    pub kind: String,
    /// When it was applied (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Report concerned.
    pub report_id: Option<String>,
    /// Task concerned.
    pub task_id: Option<String>,
    /// Case concerned.
    pub case_id: Option<String>,
    /// The report, task and case after the command (complainants' contacts removed unless the
    /// reader may see them); null for an action that changes none of them (an administrator's).
    #[schema(value_type = Option<Object>)]
    pub data: serde_json::Value,
}

impl Event {
    /// A record of the command log as `vis` may read it.
    pub fn of(rec: AuditRecord, vis: &Visibility) -> Self {
        let mut data = serde_json::from_str(&rec.after).unwrap_or(serde_json::Value::Null);
        vis.redact(&mut data);
        Event {
            seq: rec.seq,
            kind: rec.command,
            at: rec.at.and_utc(),
            report_id: rec.report_id,
            task_id: rec.task_id,
            case_id: rec.case_id,
            data,
        }
    }
}

/// The event kinds: every command name (from the command schema, so new commands join).
pub fn kinds() -> &'static [String] {
    static KINDS: OnceLock<Vec<String>> = OnceLock::new();
    KINDS.get_or_init(|| {
        use utoipa::OpenApi;
        let doc = crate::openapi::ApiDoc::openapi();
        let schema = doc
            .components
            .as_ref()
            .and_then(|c| c.schemas.get("Command"))
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or_default();
        let mut out = Vec::new();
        collect_type_enums(&schema, &mut out);
        out.sort();
        out.dedup();
        out
    })
}

fn collect_type_enums(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(e) = map
                .get("properties")
                .and_then(|p| p.get("type"))
                .and_then(|t| t.get("enum"))
                .and_then(|e| e.as_array())
            {
                out.extend(e.iter().filter_map(|x| x.as_str().map(str::to_owned)));
            }
            for child in map.values() {
                collect_type_enums(child, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|c| collect_type_enums(c, out)),
        _ => {}
    }
}

/// Events after `seq`, oldest first: records that concern a report, task or case.
pub fn events_after(
    conn: &mut DbConn,
    seq: i64,
    limit: i64,
    kinds: &[String],
) -> QueryResult<Vec<AuditRecord>> {
    let mut q = audit_log::table
        .filter(audit_log::seq.gt(seq))
        .filter(
            audit_log::report_id
                .is_not_null()
                .or(audit_log::task_id.is_not_null())
                .or(audit_log::case_id.is_not_null()),
        )
        .into_boxed();
    if !kinds.is_empty() {
        q = q.filter(audit_log::command.eq_any(kinds.to_vec()));
    }
    q.order(audit_log::seq.asc())
        .limit(limit)
        .select(AuditRecord::as_select())
        .load(conn)
}

/// The signature header's value for `body` at `t` (unix seconds).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Check a signature header as a receiver does: the HMAC (in constant time) and the time
/// within `tolerance_secs` of `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > tolerance_secs {
        return false;
    }
    sigs.iter().any(|sig| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(sig).is_ok()
    })
}

/// The wait before attempt `attempts + 1`, after `attempts` failures.
pub fn backoff(cfg: &WebhookConfig, attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let secs = cfg
        .backoff_initial_secs
        .saturating_mul(1i64 << exp)
        .min(cfg.backoff_max_secs.max(cfg.backoff_initial_secs));
    chrono::Duration::seconds(secs)
}

/// A row of `webhook_subscriptions`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscriptions)]
pub struct SubscriptionRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// HMAC key.
    pub secret: String,
    /// JSON array of kinds; empty: all.
    pub kinds: String,
    /// Department concerned (events about it only, once departments exist).
    pub department_id: Option<String>,
    /// Sending.
    pub active: bool,
    /// Last event turned into deliveries.
    pub cursor_seq: i64,
    /// Admin who made it.
    pub created_by: String,
    /// Made at.
    pub created_at: NaiveDateTime,
    /// Changed at.
    pub updated_at: NaiveDateTime,
}

/// A subscription as the admin API shows it (the secret never again after creation).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Receiver URL.
    pub url: String,
    /// Kinds sent (empty: every event).
    pub kinds: Vec<String>,
    /// Department concerned.
    pub department_id: Option<String>,
    /// Sending.
    pub active: bool,
    /// Events up to this seq are turned into deliveries.
    pub cursor_seq: i64,
    /// Made at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Deliveries waiting or being retried.
    pub pending: i64,
    /// Deliveries given up.
    pub failed: i64,
}

impl SubscriptionRow {
    /// Its kinds.
    pub fn kind_list(&self) -> Vec<String> {
        serde_json::from_str(&self.kinds).unwrap_or_default()
    }
}

/// A delivery in the log.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// Id (the `X-GridDispatch-Delivery` header).
    pub id: String,
    /// Subscription.
    pub subscription_id: String,
    /// Event's seq.
    pub event_seq: i64,
    /// Event's kind.
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts since it was queued or last retried.
    pub attempts: i32,
    /// Next attempt (pending).
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: NaiveDateTime,
    /// Instance holding it.
    #[serde(skip)]
    pub lease_owner: Option<String>,
    /// Lease end.
    #[serde(skip)]
    pub lease_until: Option<NaiveDateTime>,
    /// Last HTTP status.
    pub last_status: Option<i32>,
    /// Last error.
    pub last_error: Option<String>,
    /// Made at.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// Acknowledged at.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<NaiveDateTime>,
}

/// One attempt.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    /// Delivery.
    pub delivery_id: String,
    /// 1, 2, …
    pub attempt: i32,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// The receiver's status, if it answered.
    pub http_status: Option<i32>,
    /// What failed (connection, timeout, non-2xx).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// A delivery with its attempts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The delivery.
    #[serde(flatten)]
    pub delivery: DeliveryRow,
    /// Its attempts, first first.
    pub attempt_log: Vec<AttemptRow>,
}

/// All subscriptions with their counts.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<SubscriptionView>> {
    let rows: Vec<SubscriptionRow> = webhook_subscriptions::table
        .order(webhook_subscriptions::created_at.asc())
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// One subscription.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SubscriptionRow>> {
    webhook_subscriptions::table
        .find(id)
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// A subscription as shown.
pub fn view(conn: &mut DbConn, r: SubscriptionRow) -> QueryResult<SubscriptionView> {
    let count = |conn: &mut DbConn, status: &str| -> QueryResult<i64> {
        webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(&r.id))
            .filter(webhook_deliveries::status.eq(status))
            .count()
            .get_result(conn)
    };
    let pending = count(conn, "pending")?;
    let failed = count(conn, "failed")?;
    Ok(SubscriptionView {
        kinds: r.kind_list(),
        id: r.id,
        name: r.name,
        url: r.url,
        department_id: r.department_id,
        active: r.active,
        cursor_seq: r.cursor_seq,
        created_at: r.created_at.and_utc(),
        pending,
        failed,
    })
}

/// Insert a subscription.
pub fn insert(conn: &mut DbConn, row: &SubscriptionRow) -> QueryResult<()> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Stop or resume sending.
pub fn set_active(
    conn: &mut DbConn,
    id: &str,
    active: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::active.eq(active),
            webhook_subscriptions::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A subscription's deliveries, newest first, with their attempts.
pub fn deliveries(
    conn: &mut DbConn,
    subscription_id: &str,
    status: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryView>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription_id))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s));
    }
    let rows: Vec<DeliveryRow> = q
        .order(webhook_deliveries::event_seq.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|d| {
            let attempt_log = webhook_attempts::table
                .filter(webhook_attempts::delivery_id.eq(&d.id))
                .order(webhook_attempts::attempt.asc())
                .select(AttemptRow::as_select())
                .load(conn)?;
            Ok(DeliveryView {
                delivery: d,
                attempt_log,
            })
        })
        .collect()
}

/// One delivery.
pub fn delivery(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// Send a failed delivery again from now on (its attempts start over).
pub fn retry(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .find(id)
            .filter(webhook_deliveries::status.eq("failed")),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::lease_owner.eq(None::<String>),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Turn each active subscription's new events into deliveries. Safe on several instances:
/// the cursor moves only from the value read, and a delivery is unique per (subscription,
/// event). Returns the deliveries made.
pub fn fan_out(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let subs: Vec<SubscriptionRow> = webhook_subscriptions::table
        .filter(webhook_subscriptions::active.eq(true))
        .select(SubscriptionRow::as_select())
        .load(conn)?;
    let mut made = 0;
    for s in subs {
        made += crate::db::write_transaction(conn, |conn| {
            let events = events_after(conn, s.cursor_seq, FAN_OUT_BATCH, &s.kind_list())?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok::<_, diesel::result::Error>(0);
            };
            let moved = diesel::update(
                webhook_subscriptions::table
                    .find(&s.id)
                    .filter(webhook_subscriptions::cursor_seq.eq(s.cursor_seq)),
            )
            .set(webhook_subscriptions::cursor_seq.eq(last))
            .execute(conn)?;
            if moved == 0 {
                // Another instance took these events.
                return Ok(0);
            }
            for e in &events {
                diesel::insert_into(webhook_deliveries::table)
                    .values((
                        webhook_deliveries::id.eq(uuid::Uuid::now_v7().to_string()),
                        webhook_deliveries::subscription_id.eq(&s.id),
                        webhook_deliveries::event_seq.eq(e.seq),
                        webhook_deliveries::kind.eq(&e.command),
                        webhook_deliveries::status.eq("pending"),
                        webhook_deliveries::attempts.eq(0),
                        webhook_deliveries::next_attempt_at.eq(now),
                        webhook_deliveries::created_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            Ok(events.len())
        })?;
    }
    Ok(made)
}

/// A claimed delivery, ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Delivery id.
    pub id: String,
    /// Where.
    pub url: String,
    /// Key.
    pub secret: String,
    /// Kind.
    pub kind: String,
    /// The body.
    pub body: Vec<u8>,
    /// Attempts before this one.
    pub attempts: i32,
}

/// Claim up to [`SEND_BATCH`] due deliveries for `owner` until `lease_until`.
pub fn claim_due(
    conn: &mut DbConn,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Vec<Outgoing>> {
    let due: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::lease_until
                .is_null()
                .or(webhook_deliveries::lease_until.lt(now)),
        )
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(SEND_BATCH)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    let outside = Visibility::outside_system();
    let mut out = Vec::new();
    for d in due {
        let claimed = diesel::update(
            webhook_deliveries::table
                .find(&d.id)
                .filter(webhook_deliveries::status.eq("pending"))
                .filter(
                    webhook_deliveries::lease_until
                        .is_null()
                        .or(webhook_deliveries::lease_until.lt(now)),
                ),
        )
        .set((
            webhook_deliveries::lease_owner.eq(owner),
            webhook_deliveries::lease_until.eq(lease_until),
        ))
        .execute(conn)?;
        if claimed == 0 {
            continue;
        }
        let Some(sub) = find(conn, &d.subscription_id)? else {
            continue;
        };
        let rec: Option<AuditRecord> = audit_log::table
            .find(d.event_seq)
            .select(AuditRecord::as_select())
            .first(conn)
            .optional()?;
        let Some(rec) = rec else { continue };
        let body = serde_json::to_vec(&Event::of(rec, &outside))
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        out.push(Outgoing {
            id: d.id,
            url: sub.url,
            secret: sub.secret,
            kind: d.kind,
            body,
            attempts: d.attempts,
        });
    }
    Ok(out)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The receiver's status.
    pub http_status: Option<u16>,
    /// What failed.
    pub error: Option<String>,
    /// Duration.
    pub duration_ms: i64,
}

impl Outcome {
    fn delivered(&self) -> bool {
        self.error.is_none() && self.http_status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Record an attempt, under the lease of `owner`: delivered, retried later, or failed.
pub fn finish(
    conn: &mut DbConn,
    cfg: &WebhookConfig,
    owner: &str,
    out: &Outgoing,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let attempt = out.attempts + 1;
        let error = outcome
            .error
            .as_deref()
            .map(|e| e.chars().take(MAX_ERROR_CHARS).collect::<String>());
        // The log numbers every attempt; `attempts` counts those since the last retry.
        let logged: i64 = webhook_attempts::table
            .filter(webhook_attempts::delivery_id.eq(&out.id))
            .count()
            .get_result(conn)?;
        diesel::insert_into(webhook_attempts::table)
            .values(&AttemptRow {
                delivery_id: out.id.clone(),
                attempt: i32::try_from(logged + 1).unwrap_or(i32::MAX),
                at: now,
                http_status: outcome.http_status.map(i32::from),
                error: error.clone(),
                duration_ms: outcome.duration_ms,
            })
            .execute(conn)?;
        let mine = webhook_deliveries::table
            .find(&out.id)
            .filter(webhook_deliveries::lease_owner.eq(owner));
        let status = i32::from(outcome.http_status.unwrap_or(0));
        let last_status = outcome.http_status.map(|_| status);
        if outcome.delivered() {
            diesel::update(mine)
                .set((
                    webhook_deliveries::status.eq("delivered"),
                    webhook_deliveries::attempts.eq(attempt),
                    webhook_deliveries::last_status.eq(last_status),
                    webhook_deliveries::last_error.eq(None::<String>),
                    webhook_deliveries::delivered_at.eq(Some(now)),
                    webhook_deliveries::lease_owner.eq(None::<String>),
                    webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        } else {
            let gave_up = attempt >= cfg.max_attempts;
            diesel::update(mine)
                .set((
                    webhook_deliveries::status.eq(if gave_up { "failed" } else { "pending" }),
                    webhook_deliveries::attempts.eq(attempt),
                    webhook_deliveries::next_attempt_at.eq(now + backoff(cfg, attempt)),
                    webhook_deliveries::last_status.eq(last_status),
                    webhook_deliveries::last_error.eq(error),
                    webhook_deliveries::lease_owner.eq(None::<String>),
                    webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Send one delivery.
pub async fn send(client: &reqwest::Client, out: &Outgoing, now_unix: i64) -> Outcome {
    let started = std::time::Instant::now();
    let result = client
        .post(&out.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, sign(&out.secret, now_unix, &out.body))
        .header(EVENT_HEADER, &out.kind)
        .header(DELIVERY_HEADER, &out.id)
        .body(out.body.clone())
        .send()
        .await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match result {
        Ok(resp) => {
            let status = resp.status().as_u16();
            Outcome {
                http_status: Some(status),
                error: (!resp.status().is_success()).then(|| format!("receiver answered {status}")),
                duration_ms,
            }
        }
        Err(e) => Outcome {
            http_status: None,
            error: Some(if e.is_timeout() {
                "timed out".to_owned()
            } else {
                // reqwest's own text hides why ("connection refused", an address not allowed):
                // the log says it.
                let mut text = format!("could not deliver: {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                text
            }),
            duration_ms,
        },
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Deliveries made from new events.
    pub queued: usize,
    /// Acknowledged.
    pub delivered: usize,
    /// Failed this time (to be retried or given up).
    pub failed: usize,
}

/// One round of the job: fan out, then send what is due.
pub async fn run_round(
    state: &crate::AppState,
    client: &reqwest::Client,
) -> Result<Round, crate::AppError> {
    let cfg = state.config.webhooks;
    let owner = instance_id().to_owned();
    let lease = i64::try_from(cfg.timeout_secs).unwrap_or(60) + 60;
    let o = owner.clone();
    let (queued, batch) = state
        .db(move |conn| {
            let now = crate::db::now();
            let queued = fan_out(conn, now)?;
            let batch = claim_due(conn, &o, now, now + chrono::Duration::seconds(lease))?;
            Ok((queued, batch))
        })
        .await?;
    let mut round = Round {
        queued,
        ..Round::default()
    };
    for out in batch {
        let outcome = if literal_not_allowed(&out.url, cfg.allow_local_receivers) {
            Outcome {
                http_status: None,
                error: Some(NOT_ALLOWED.to_owned()),
                duration_ms: 0,
            }
        } else {
            send(client, &out, chrono::Utc::now().timestamp()).await
        };
        if outcome.delivered() {
            round.delivered += 1;
        } else {
            round.failed += 1;
        }
        let o = owner.clone();
        state
            .db(move |conn| Ok(finish(conn, &cfg, &o, &out, &outcome, crate::db::now())?))
            .await?;
    }
    Ok(round)
}

/// This process's name in leases.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// Whether a receiver may be at `ip`: never this machine, an unspecified, link-local
/// (169.254.0.0/16 holds clouds' metadata services), multicast or broadcast address, unless
/// `allow_local`; other hosts, a county's private network included, always.
pub fn receiver_allowed(ip: std::net::IpAddr, allow_local: bool) -> bool {
    use std::net::IpAddr;
    if allow_local {
        return true;
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unicast_link_local()
                || v6.is_multicast())
        }
    }
}

/// The refusal for a receiver at an address it may not be at.
pub const NOT_ALLOWED: &str = "receiver address not allowed (this machine or link-local; see [webhooks] allow_local_receivers)";

/// Whether the URL names an IP address that may not receive (a name is checked when it is
/// resolved, by [`GuardedResolver`]).
pub fn literal_not_allowed(url: &str, allow_local: bool) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| !receiver_allowed(ip, allow_local))
}

/// Resolves receivers' names for the delivery client and drops the addresses a receiver may
/// not be at: the check happens on the address actually connected to, so a name that later
/// resolves to 127.0.0.1 (DNS rebinding) is refused too.
struct GuardedResolver {
    allow_local: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| receiver_allowed(a.ip(), allow_local))
                .collect();
            if addrs.is_empty() {
                let e = std::io::Error::new(std::io::ErrorKind::PermissionDenied, NOT_ALLOWED);
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client of the deliveries: the configured timeout, no redirects followed.
pub fn http_client(cfg: &WebhookConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(cfg.timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(GuardedResolver {
            allow_local: cfg.allow_local_receivers,
        }))
        .user_agent(concat!("GridDispatch-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Run the delivery job every `poll_secs` (switched off with `background_jobs = false`).
pub fn spawn(state: crate::AppState) {
    actix_web::rt::spawn(async move {
        let cfg = state.config.webhooks;
        let client = http_client(&cfg);
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(cfg.poll_secs));
        loop {
            tick.tick().await;
            match run_round(&state, &client).await {
                Ok(r) if r == Round::default() => {}
                Ok(r) => tracing::info!(
                    queued = r.queued,
                    delivered = r.delivered,
                    failed = r.failed,
                    "webhook round"
                ),
                Err(e) => tracing::warn!(error = %e, "webhook job failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_secret_only_and_only_in_time() {
        let body = br#"{"seq":1}"#;
        let h = sign("s3cret", 1_700_000_000, body);
        assert!(h.starts_with("t=1700000000,v1="), "{h}");
        assert!(verify("s3cret", &h, body, 1_700_000_100, 300));
        assert!(!verify("wrong", &h, body, 1_700_000_100, 300));
        assert!(!verify("s3cret", &h, br#"{"seq":2}"#, 1_700_000_100, 300));
        assert!(!verify("s3cret", &h, body, 1_700_001_000, 300), "too old");
        assert!(!verify("s3cret", "v1=00", body, 1_700_000_000, 300));
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let cfg = WebhookConfig {
            backoff_initial_secs: 30,
            backoff_max_secs: 300,
            ..WebhookConfig::default()
        };
        let secs: Vec<i64> = (1..=6).map(|a| backoff(&cfg, a).num_seconds()).collect();
        assert_eq!(secs, vec![30, 60, 120, 240, 300, 300]);
    }

    #[test]
    fn every_command_is_a_kind() {
        let k = kinds();
        for name in [
            "create_report",
            "dispatch_report",
            "reject_report",
            "flag_deadline",
        ] {
            assert!(k.iter().any(|x| x == name), "{name} in {k:?}");
        }
    }
}
