//! What an administrator does with subscriptions — subscribe, pause or resume, send a failed
//! delivery again — each checked and recorded in the full-process record in one transaction
//! (the check inside it, so two administrators at once cannot both pass it).

use chrono::NaiveDateTime;
use serde_json::json;

use super::{DeliveryRow, SubscriptionRow, SubscriptionView};
use crate::db::DbConn;
use crate::error::AppError;
use crate::store::audit;

/// A subscription as an administrator asked for it, already checked at the edge.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// Name.
    pub name: String,
    /// Receiver URL.
    pub url: String,
    /// Signing key.
    pub secret: String,
    /// Command names sent (empty: all).
    pub kinds: Vec<String>,
    /// The department the receiver belongs to.
    pub department_id: Option<String>,
}

fn no_subscription() -> AppError {
    AppError::NotFound("没有这个订阅 (no such subscription)".into())
}

fn no_delivery() -> AppError {
    AppError::NotFound("没有这次投递 (no such delivery)".into())
}

/// Subscribe a receiver, recorded as `create_webhook`. Its cursor is the record's own entry:
/// events from here on are sent.
pub fn subscribe(
    conn: &mut DbConn,
    admin: &str,
    new: NewSubscription,
    now: NaiveDateTime,
) -> Result<SubscriptionView, AppError> {
    let row = crate::db::write_transaction(conn, |conn| {
        if let Some(d) = &new.department_id {
            if crate::store::departments::find(conn, d)?.is_none() {
                return Err(AppError::unprocessable(
                    "unknown_department",
                    "没有这个部门 (no such department)",
                ));
            }
        }
        let id = uuid::Uuid::now_v7().to_string();
        let seq = audit::record_action(
            conn,
            admin,
            "create_webhook",
            &json!({"id": id, "name": new.name, "url": new.url, "kinds": new.kinds}),
            &serde_json::Value::Null,
            &json!({"active": true}),
            now,
        )?;
        let row = SubscriptionRow {
            id,
            kinds: serde_json::to_string(&new.kinds).unwrap_or_else(|_| "[]".into()),
            name: new.name,
            url: new.url,
            secret: new.secret,
            department_id: new.department_id,
            active: true,
            cursor_seq: seq,
            created_by: admin.to_owned(),
            created_at: now,
            updated_at: now,
        };
        super::insert(conn, &row)?;
        Ok(row)
    })?;
    Ok(super::view(conn, row)?)
}

/// Pause or resume a subscription, recorded as `set_webhook_active`.
pub fn set_active(
    conn: &mut DbConn,
    admin: &str,
    id: &str,
    active: bool,
    now: NaiveDateTime,
) -> Result<SubscriptionView, AppError> {
    let row = crate::db::write_transaction(conn, |conn| {
        let before = super::find(conn, id)?.ok_or_else(no_subscription)?;
        audit::record_action(
            conn,
            admin,
            "set_webhook_active",
            &json!({"id": id}),
            &json!({"active": before.active}),
            &json!({"active": active}),
            now,
        )?;
        super::set_active(conn, id, active, now)?;
        super::find(conn, id)?.ok_or_else(no_subscription)
    })?;
    Ok(super::view(conn, row)?)
}

/// Send a failed delivery again, its attempts started over; recorded as
/// `retry_webhook_delivery`. Only a failed one (`not_failed`).
pub fn retry(
    conn: &mut DbConn,
    admin: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<DeliveryRow, AppError> {
    crate::db::write_transaction(conn, |conn| {
        let d = super::delivery(conn, id)?.ok_or_else(no_delivery)?;
        if d.status != "failed" {
            return Err(AppError::conflict(
                "not_failed",
                format!(
                    "该投递状态为 {}，只有失败的投递可以重发 (only a failed delivery is sent again)",
                    d.status
                ),
            ));
        }
        audit::record_action(
            conn,
            admin,
            "retry_webhook_delivery",
            &json!({"delivery_id": id}),
            &json!({"status": "failed"}),
            &json!({"status": "pending"}),
            now,
        )?;
        super::retry(conn, id, now)?;
        super::delivery(conn, id)?.ok_or_else(no_delivery)
    })
}
