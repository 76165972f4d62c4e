//! The local SQLite store: one file in the data directory holding the session, the user's view
//! of reports, tasks and cases with the pull cursor, the outbox of commands and the upload
//! queue. Every change that must survive a crash is one transaction.

mod outbox;
mod uploads;
mod view;

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub use outbox::{CommandState, QueuedCommand};
pub use uploads::{NewUpload, Upload, UploadState};
pub use view::LocalEntity;

use crate::error::Result;

/// Name of the store file inside the data directory.
pub const STORE_FILE: &str = "gridsync.db";

const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = r"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The signed-in (or signed-out but remembered) account; at most one row.
CREATE TABLE session (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    server_url          TEXT NOT NULL,
    username            TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    roles               TEXT NOT NULL,
    access_token        TEXT,
    access_expires_at   TEXT,
    refresh_token       TEXT,
    refresh_expires_at  TEXT,
    signed_out_reason   TEXT
);
-- The user's view: current state of the reports, tasks and cases the server lets them see.
CREATE TABLE entities (
    entity_type    TEXT NOT NULL,
    id             TEXT NOT NULL,
    data           TEXT NOT NULL,
    status         TEXT,
    category_code  TEXT,
    summary        TEXT,
    report_id      TEXT,
    updated_at     TEXT,
    stored_at      TEXT NOT NULL,
    PRIMARY KEY (entity_type, id)
);
-- Next device_seq per user on this device (never reused, never goes back).
CREATE TABLE seq_counter (
    user_id   TEXT PRIMARY KEY,
    next_seq  INTEGER NOT NULL
);
CREATE TABLE outbox (
    user_id       TEXT NOT NULL,
    device_seq    INTEGER NOT NULL,
    command       TEXT NOT NULL,
    command_type  TEXT NOT NULL,
    subject_id    TEXT,
    position      TEXT,
    occurred_at   TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'applied', 'rejected')),
    code          TEXT,
    message       TEXT,
    command_seq   INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    acked_at      TEXT,
    PRIMARY KEY (user_id, device_seq)
);
CREATE INDEX outbox_status ON outbox (user_id, status, device_seq);
CREATE TABLE uploads (
    attachment_id  TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    local_path     TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    captured_at    TEXT NOT NULL,
    lat            REAL,
    lon            REAL,
    crs            TEXT,
    upload_url     TEXT,
    offset         INTEGER NOT NULL DEFAULT 0,
    state          TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'done', 'failed')),
    code           TEXT,
    message        TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    done_at        TEXT
);
";

/// Meta keys.
pub(crate) mod key {
    /// This store's device id (a UUID made once).
    pub const DEVICE_ID: &str = "device_id";
    /// Pull cursor of the current view.
    pub const CURSOR: &str = "cursor";
    /// `user_id@server_url` the view and cursor belong to.
    pub const VIEW_OWNER: &str = "view_owner";
    /// Last fully successful sync (RFC 3339).
    pub const LAST_SYNC_AT: &str = "last_sync_at";
    /// Last sync failure, for `status`.
    pub const LAST_ERROR: &str = "last_error";
    /// Newest server sequence seen.
    pub const SERVER_SEQ: &str = "server_seq";
    /// `GET /sync/v1/info` as last read.
    pub const SERVER_INFO: &str = "server_info";
    /// `GET /api/v1/squads` as last read (resolving squad codes offline).
    pub const SQUADS: &str = "squads";
}

/// The signed-in account with its tokens.
#[derive(Debug, Clone)]
pub struct Session {
    /// Server base URL, no trailing slash.
    pub server_url: String,
    /// Account name.
    pub username: String,
    /// User id.
    pub user_id: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Bearer token (absent when signed out).
    pub access_token: Option<String>,
    /// When the access token expires.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// Refresh token (absent when signed out).
    pub refresh_token: Option<String>,
    /// When the refresh token expires.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Why the server signed this device out, if it did.
    pub signed_out_reason: Option<String>,
}

impl Session {
    /// `user_id@server` — what a view and cursor belong to.
    pub fn owner(&self) -> String {
        format!("{}@{}", self.user_id, self.server_url)
    }
}

/// Format a time for the store (RFC 3339, UTC, microseconds).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Read a stored time.
pub(crate) fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The store (one SQLite connection).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Open or create the store file in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)?;
        let conn = Connection::open(dir.join(STORE_FILE))?;
        // Several processes (`gridsync sync --watch` next to `gridsync report`) share the file.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory store (tests).
    #[cfg(test)]
    pub fn memory() -> Result<Store> {
        let mut store = Store {
            conn: Connection::open_in_memory()?,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version < 1 {
            tx.execute_batch(SCHEMA)?;
        }
        if version < 2 {
            // Version 2: a photo's side of a rectification (`before` / `after`), sent as the
            // upload's `phase` metadata.
            tx.execute_batch("ALTER TABLE uploads ADD COLUMN phase TEXT;")?;
        }
        if version < SCHEMA_VERSION {
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A write transaction taken at once, so that two processes never interleave.
    pub(crate) fn write(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// A meta value.
    pub fn meta(&self, k: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
            .optional()?)
    }

    /// Set (or with `None`, remove) a meta value.
    pub fn set_meta(&self, k: &str, v: Option<&str>) -> Result<()> {
        set_meta(&self.conn, k, v)
    }

    /// This store's device id, made on first use.
    pub fn device_id(&mut self) -> Result<String> {
        let tx = self.write()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [key::DEVICE_ID],
                |r| r.get(0),
            )
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                set_meta(&tx, key::DEVICE_ID, Some(&id))?;
                id
            }
        };
        tx.commit()?;
        Ok(id)
    }

    /// The remembered account, signed in or not.
    pub fn session(&self) -> Result<Option<Session>> {
        read_session_in(&self.conn)
    }

    /// Store a fresh sign-in. When the view belonged to another user or server it is dropped,
    /// with its cursor (the outbox and uploads stay, owned by their users).
    pub fn save_login(&mut self, s: &Session) -> Result<()> {
        let tx = self.write()?;
        let owner: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [key::VIEW_OWNER],
                |r| r.get(0),
            )
            .optional()?;
        if owner.as_deref() != Some(s.owner().as_str()) {
            view::clear(&tx)?;
            set_meta(&tx, key::CURSOR, None)?;
            set_meta(&tx, key::LAST_SYNC_AT, None)?;
            set_meta(&tx, key::VIEW_OWNER, Some(&s.owner()))?;
        }
        tx.execute("DELETE FROM session", [])?;
        tx.execute(
            "INSERT INTO session (id, server_url, username, user_id, display_name, roles,
                access_token, access_expires_at, refresh_token, refresh_expires_at, signed_out_reason)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)",
            params![
                s.server_url,
                s.username,
                s.user_id,
                s.display_name,
                serde_json::to_string(&s.roles).unwrap_or_else(|_| "[]".into()),
                s.access_token,
                s.access_expires_at.map(ts),
                s.refresh_token,
                s.refresh_expires_at.map(ts),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forget the account and the view (a shared phone must not show the last user's data);
    /// the outbox and uploads are kept for that user's next sign-in.
    pub fn forget_session(&mut self) -> Result<()> {
        let tx = self.write()?;
        tx.execute("DELETE FROM session", [])?;
        view::clear(&tx)?;
        for k in [key::CURSOR, key::VIEW_OWNER, key::LAST_SYNC_AT, key::SQUADS] {
            set_meta(&tx, k, None)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The server refused the refresh token: keep who it was, drop the tokens.
    pub fn mark_signed_out(&self, reason: &str) -> Result<()> {
        mark_signed_out_in(&self.conn, reason)
    }

    /// Replace the tokens if the refresh token is still `expected_refresh`.
    pub fn save_tokens(
        &self,
        expected_refresh: &str,
        access: &str,
        access_expires_at: DateTime<Utc>,
        refresh: &str,
        refresh_expires_at: DateTime<Utc>,
    ) -> Result<bool> {
        save_tokens_in(
            &self.conn,
            expected_refresh,
            access,
            access_expires_at,
            refresh,
            refresh_expires_at,
        )
    }

    /// The underlying connection (crate-internal helpers).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

pub(crate) fn set_meta(conn: &Connection, k: &str, v: Option<&str>) -> Result<()> {
    match v {
        Some(v) => conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![k, v],
        )?,
        None => conn.execute("DELETE FROM meta WHERE key = ?1", [k])?,
    };
    Ok(())
}

/// Drop the tokens, keep who it was and why.
pub(crate) fn mark_signed_out_in(conn: &Connection, reason: &str) -> Result<()> {
    conn.execute(
        "UPDATE session SET access_token = NULL, access_expires_at = NULL,
            refresh_token = NULL, refresh_expires_at = NULL, signed_out_reason = ?1",
        [reason],
    )?;
    Ok(())
}

/// Replace the tokens if the refresh token is still `expected` (another process may have
/// refreshed meanwhile); returns whether they were replaced.
pub(crate) fn save_tokens_in(
    conn: &Connection,
    expected_refresh: &str,
    access: &str,
    access_expires_at: DateTime<Utc>,
    refresh: &str,
    refresh_expires_at: DateTime<Utc>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE session SET access_token = ?1, access_expires_at = ?2, refresh_token = ?3,
            refresh_expires_at = ?4, signed_out_reason = NULL
         WHERE refresh_token = ?5",
        params![
            access,
            ts(access_expires_at),
            refresh,
            ts(refresh_expires_at),
            expected_refresh
        ],
    )?;
    Ok(n == 1)
}

pub(crate) fn read_session_in(conn: &Connection) -> Result<Option<Session>> {
    Ok(conn
        .query_row(
            "SELECT server_url, username, user_id, display_name, roles, access_token,
                access_expires_at, refresh_token, refresh_expires_at, signed_out_reason
             FROM session WHERE id = 1",
            [],
            |r| {
                let roles: String = r.get(4)?;
                Ok(Session {
                    server_url: r.get(0)?,
                    username: r.get(1)?,
                    user_id: r.get(2)?,
                    display_name: r.get(3)?,
                    roles: serde_json::from_str(&roles).unwrap_or_default(),
                    access_token: r.get(5)?,
                    access_expires_at: parse_ts(r.get(6)?),
                    refresh_token: r.get(7)?,
                    refresh_expires_at: parse_ts(r.get(8)?),
                    signed_out_reason: r.get(9)?,
                })
            },
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn session(user: &str) -> Session {
        Session {
            server_url: "http://server".into(),
            username: user.into(),
            user_id: format!("id-{user}"),
            display_name: user.into(),
            roles: vec!["grid_member".into()],
            access_token: Some("a".into()),
            access_expires_at: Some(Utc::now()),
            refresh_token: Some("r".into()),
            refresh_expires_at: Some(Utc::now()),
            signed_out_reason: None,
        }
    }

    #[test]
    fn device_id_is_made_once_per_store() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path()).unwrap().device_id().unwrap();
        let again = Store::open(dir.path()).unwrap().device_id().unwrap();
        assert_eq!(first, again);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(
            Store::open(other.path()).unwrap().device_id().unwrap(),
            first
        );
    }

    #[test]
    fn tokens_are_replaced_only_from_the_refresh_token_they_were_issued_for() {
        let mut s = Store::memory().unwrap();
        s.save_login(&session("gm")).unwrap();
        let t = Utc::now();
        assert!(s.save_tokens("r", "a2", t, "r2", t).unwrap());
        // Another process refreshed with the same old token: it must not overwrite.
        assert!(!s.save_tokens("r", "a3", t, "r3", t).unwrap());
        let now = s.session().unwrap().unwrap();
        assert_eq!(now.access_token.as_deref(), Some("a2"));
        assert_eq!(now.refresh_token.as_deref(), Some("r2"));
    }
}
