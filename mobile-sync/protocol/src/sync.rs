//! The offline-first sync protocol, version 1 (`/sync/v1/…`); `docs/sync-protocol.md` is the
//! specification. Phones push **commands** (intent) with a per-device sequence number and pull
//! **changes** (current state of reports, tasks and cases in their scope) after an opaque
//! cursor.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::command::{Command, Position};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Oldest protocol version the server still accepts.
pub const MIN_PROTOCOL_VERSION: u32 = 1;
/// Request and response header carrying the protocol version.
pub const PROTOCOL_HEADER: &str = "GridSync-Protocol";

/// Most commands in one push.
pub const MAX_PUSH_COMMANDS: usize = 500;
/// Default and largest number of changes in one pull page.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
/// Largest `limit` a pull accepts.
pub const MAX_PULL_LIMIT: u32 = 2000;
/// Default and largest byte budget of one pull page (the serialised `changes`).
pub const DEFAULT_PULL_BYTES: u64 = 1 << 20;
/// Largest `max_bytes` a pull accepts.
pub const MAX_PULL_BYTES: u64 = 8 << 20;

/// `GET /sync/v1/info` (no sign-in needed): what the server speaks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncInfo {
    /// Protocol versions the server accepts, oldest first.
    pub protocol_versions: Vec<u32>,
    /// Server time (for display only; never used for ordering).
    pub server_time: DateTime<Utc>,
    /// Most commands per push.
    pub max_push_commands: u32,
    /// Largest pull page in changes.
    pub max_pull_limit: u32,
    /// Largest pull page in bytes.
    pub max_pull_bytes: u64,
    /// How long the change log is kept; an older cursor gets a reset.
    pub retention_days: u32,
    /// Where evidence is uploaded (tus 1.0).
    pub tus_endpoint: String,
}

/// One queued command as the phone sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushCommand {
    /// Per-(user, device) sequence number: 1, 2, 3, … in the order the user acted; never
    /// reused, never skipped.
    pub device_seq: i64,
    /// The command.
    pub command: Command,
    /// Where the device was when the user acted (kept in the audit record).
    #[serde(default)]
    pub position: Option<Position>,
    /// Device clock when the user acted; kept as "occurred at", never used for ordering.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
}

/// `POST /sync/v1/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// Must equal the device the access token was issued to.
    pub device_id: String,
    /// Commands, any order (the server sorts by `device_seq`); at most `MAX_PUSH_COMMANDS`.
    pub commands: Vec<PushCommand>,
}

/// What became of one pushed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// Applied now, in the same transaction as the receipt.
    Applied,
    /// Seen before: `original` and the stored fields say what happened then.
    Duplicate,
    /// Refused by the rules (acknowledged: do not send again; show the user `code`/`message`).
    Rejected,
    /// Not looked at: an earlier `device_seq` is missing. Send again from `next_device_seq`.
    Deferred,
}

/// A report, task or case as the server holds it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entity {
    /// `report`, `task` or `case`.
    pub entity_type: String,
    /// Id.
    pub id: String,
    /// The aggregate itself: the `report`, `task` or `case` object of the REST reads.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// The result of one pushed command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    /// Which command.
    pub device_seq: i64,
    /// What happened now.
    pub status: PushStatus,
    /// For `duplicate`: what happened the first time (`applied` or `rejected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<PushStatus>,
    /// Server command sequence (commit order) when applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_seq: Option<i64>,
    /// Stable error code when rejected (e.g. `invalid_state`, `out_of_scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Why, in words for the user (Chinese first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Current server state of what the command concerns (empty when it does not exist or
    /// the user may not see it).
    #[serde(default)]
    pub entities: Vec<Entity>,
}

/// `POST /sync/v1/push` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// One per pushed command, in `device_seq` order. A command missing here was not looked
    /// at (the server stopped early, e.g. on a database failure): send it again.
    pub results: Vec<PushResult>,
    /// The `device_seq` the server expects next.
    pub next_device_seq: i64,
}

/// What a pulled change asks of the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// Store `data` as the entity's current state (replace what is there).
    Upsert,
    /// Remove the entity: it left the user's scope.
    Purge,
}

/// One change in a pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Upsert or purge.
    pub op: ChangeOp,
    /// `report`, `task` or `case`.
    pub entity_type: String,
    /// Id.
    pub id: String,
    /// Command sequence of the change (0 for back-fill and scope purges).
    pub seq: i64,
    /// Current state (upserts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
}

/// `GET /sync/v1/pull` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// The phone must drop its local view of reports, tasks and cases (not its outbox or
    /// uploads) before applying `changes`: its cursor was older than the retention window or
    /// did not belong to this server.
    pub reset: bool,
    /// Changes, to be applied in order.
    pub changes: Vec<Change>,
    /// Where to continue; store it only after applying `changes`.
    pub cursor: String,
    /// More is waiting: pull again at once.
    pub has_more: bool,
    /// Newest command sequence on the server (progress display).
    pub server_seq: i64,
}

/// `GET /sync/v1/wait` response (long-poll).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitResponse {
    /// Something in the user's scope changed after the cursor: pull now.
    pub changed: bool,
    /// Newest command sequence on the server.
    pub server_seq: i64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn push_request_reads_the_documented_shape() {
        let body = r#"{"device_id":"d1","commands":[{"device_seq":1,
            "command":{"type":"close_task","task_id":"t1"},
            "occurred_at":"2026-11-22T08:00:00Z"}]}"#;
        let r: PushRequest = serde_json::from_str(body).unwrap();
        assert_eq!(r.commands[0].device_seq, 1);
        assert_eq!(r.commands[0].command.name(), "close_task");
        assert!(r.commands[0].position.is_none());
    }

    #[test]
    fn statuses_are_snake_case_and_empty_fields_are_left_out() {
        let r = PushResult {
            device_seq: 3,
            status: PushStatus::Duplicate,
            original: Some(PushStatus::Rejected),
            command_seq: None,
            code: Some("invalid_state".into()),
            message: None,
            entities: vec![],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "duplicate");
        assert_eq!(v["original"], "rejected");
        assert!(v.get("command_seq").is_none());
        let c: Change =
            serde_json::from_str(r#"{"op":"purge","entity_type":"task","id":"t","seq":0}"#)
                .unwrap();
        assert_eq!(c.op, ChangeOp::Purge);
        assert!(c.data.is_none());
    }
}
