//! The [`Engine`]: one data directory, one local store, one HTTP client. Every call is
//! synchronous; a phone app calls it from a background thread.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use griddispatch_protocol::auth::{LoginRequest, RefreshRequest, TokenResponse, UserView};
use griddispatch_protocol::command::{Command, Position};
use griddispatch_protocol::sync::SyncInfo;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::{error_of, Req};
use crate::store::{
    key, CommandState, LocalEntity, QueuedCommand, Session, Store, Upload, UploadState,
};

/// Folder of captured files inside the data directory.
pub const FILES_DIR: &str = "files";

/// Tunables; the defaults follow `docs/sync-protocol.md`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Commands per push (the server takes at most 500).
    pub push_batch: usize,
    /// Changes per pull page.
    pub pull_limit: u32,
    /// Bytes per pull page.
    pub pull_max_bytes: u64,
    /// Bytes per tus PATCH.
    pub chunk_size: usize,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one ordinary request (a wait gets its own timeout plus this).
    pub request_timeout: Duration,
    /// How long one `/sync/v1/wait` stays open in [`Engine::run`].
    pub wait_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            push_batch: 100,
            pull_limit: 500,
            pull_max_bytes: 1 << 20,
            chunk_size: 1 << 20,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            wait_timeout: Duration::from_secs(25),
        }
    }
}

/// The account this store belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// Server base URL.
    pub server_url: String,
    /// Account name.
    pub username: String,
    /// User id.
    pub user_id: String,
    /// Name shown to others.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Holds valid tokens (false: the server signed this device out; sign in again).
    pub signed_in: bool,
    /// Why the server signed this device out.
    pub signed_out_reason: Option<String>,
}

/// What the phone has and has not sent.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// This store's device id.
    pub device_id: String,
    /// The account, if any.
    pub account: Option<Account>,
    /// Commands of this user not yet acknowledged.
    pub queued_commands: usize,
    /// Commands of other users of this store, waiting for them to sign in again.
    pub queued_other_users: usize,
    /// Files not yet uploaded.
    pub pending_uploads: usize,
    /// Files refused for good.
    pub failed_uploads: Vec<Upload>,
    /// Files kept here, not uploaded, because only rejected commands name them (counted in
    /// `pending_uploads` too: they wait for a command that uses them).
    pub held_uploads: Vec<Upload>,
    /// Commands the server refused (newest first, at most 50).
    pub rejected_commands: Vec<QueuedCommand>,
    /// Last fully successful sync.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Last sync failure (cleared by a success).
    pub last_error: Option<String>,
    /// Local copies: reports, tasks, cases.
    pub reports: usize,
    /// Tasks held locally.
    pub tasks: usize,
    /// Cases held locally.
    pub cases: usize,
}

/// A squad as `GET /api/v1/squads` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Squad {
    /// Id (what commands take).
    pub id: String,
    /// Short code, e.g. `squad1`.
    pub code: String,
    /// Name.
    pub name: String,
}

/// The phone engine: owns its SQLite file and HTTP client; no global state.
#[derive(Debug)]
pub struct Engine {
    pub(crate) dir: PathBuf,
    store: Mutex<Store>,
    /// Held for the length of a sync.
    pub(crate) syncing: Mutex<()>,
    pub(crate) http: reqwest::blocking::Client,
    pub(crate) config: EngineConfig,
}

fn normalise_server(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::Invalid(format!(
            "服务器地址须以 http:// 或 https:// 开头 (server URL must start with http:// or https://): {url}"
        )));
    }
    Ok(url.to_owned())
}

impl Engine {
    /// Open (or create) the engine's store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Engine> {
        Self::open_with(dir, EngineConfig::default())
    }

    /// Open with explicit tunables.
    pub fn open_with(dir: impl AsRef<Path>, config: EngineConfig) -> Result<Engine> {
        let dir = dir.as_ref().to_path_buf();
        let mut store = Store::open(&dir)?;
        store.device_id()?;
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("gridsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(Engine {
            dir,
            store: Mutex::new(store),
            syncing: Mutex::new(()),
            http,
            config,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store; a panic elsewhere cannot leave it half-written (every change is one SQLite
    /// transaction), so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sign in on `server_url` with this store's device id. Signing in as another user (or on
    /// another server) drops the local view; everybody's queued commands and files are kept.
    pub fn login(&self, server_url: &str, username: &str, password: &str) -> Result<Account> {
        let server = normalise_server(server_url)?;
        let device_id = self.lock().device_id()?;
        let body = serde_json::to_value(LoginRequest {
            username: username.trim().to_owned(),
            password: password.to_owned(),
            device_id,
        })?;
        let resp = self.call_anonymous(
            &server,
            &Req::new(Method::POST, "/api/v1/auth/login").json(body),
        )?;
        if !resp.status().is_success() {
            return Err(error_of(resp));
        }
        let tokens: TokenResponse = resp.json()?;
        let resp = self
            .http
            .get(format!("{server}/api/v1/me"))
            .bearer_auth(&tokens.access_token)
            .send()?;
        if !resp.status().is_success() {
            return Err(error_of(resp));
        }
        let me: UserView = resp.json()?;
        let session = Session {
            server_url: server.clone(),
            username: me.username.clone(),
            user_id: me.id.clone(),
            display_name: me.display_name.clone(),
            roles: me.roles.iter().map(ToString::to_string).collect(),
            access_token: Some(tokens.access_token),
            access_expires_at: Some(Utc::now() + chrono::Duration::seconds(tokens.expires_in)),
            refresh_token: Some(tokens.refresh_token),
            refresh_expires_at: Some(tokens.refresh_expires_at),
            signed_out_reason: None,
        };
        self.lock().save_login(&session)?;
        // Best effort: what the server speaks, and the squads (to name them offline).
        let _ = self.server_info();
        let _ = self.refresh_squads();
        Ok(account(&session))
    }

    /// Sign out: the server ends this device's session (if reachable), the local view is
    /// dropped; queued commands and files stay for this user's next sign-in.
    pub fn logout(&self) -> Result<()> {
        let session = self.lock().session()?;
        if let Some(Session {
            server_url,
            refresh_token: Some(refresh_token),
            ..
        }) = session
        {
            if let Ok(body) = serde_json::to_value(RefreshRequest { refresh_token }) {
                // Offline or refused: the local sign-out still happens.
                let _ = self.call_anonymous(
                    &server_url,
                    &Req::new(Method::POST, "/api/v1/auth/logout").json(body),
                );
            }
        }
        self.lock().forget_session()
    }

    /// The account, if any.
    pub fn account(&self) -> Result<Option<Account>> {
        Ok(self.lock().session()?.as_ref().map(account))
    }

    pub(crate) fn owner(&self) -> Result<String> {
        // A device the server signed out keeps working offline for the same user.
        Ok(self.lock().session()?.ok_or(Error::NotSignedIn)?.user_id)
    }

    /// Queue a command (persisted before this returns: show it as done only after).
    /// Returns its `device_seq`.
    pub fn enqueue(&self, command: Command, position: Option<Position>) -> Result<i64> {
        if matches!(command, Command::FlagDeadline { .. }) {
            return Err(Error::Invalid(
                "预警和督办由服务器发出 (flag_deadline is the server's own command)".into(),
            ));
        }
        let user = self.owner()?;
        self.lock()
            .enqueue(&user, &command, position.as_ref(), Utc::now())
    }

    /// What is queued, sent and refused.
    pub fn status(&self) -> Result<Status> {
        let store = self.lock();
        let session = store.session()?;
        let user = session
            .as_ref()
            .map(|s| s.user_id.clone())
            .unwrap_or_default();
        let (queued_commands, queued_other_users) = store.pending_counts(&user)?;
        let uploads = store.uploads(Some(&user))?;
        Ok(Status {
            device_id: store.meta(key::DEVICE_ID)?.unwrap_or_default(),
            account: session.as_ref().map(account),
            queued_commands,
            queued_other_users,
            pending_uploads: uploads
                .iter()
                .filter(|u| u.state == UploadState::Pending)
                .count(),
            failed_uploads: uploads
                .into_iter()
                .filter(|u| u.state == UploadState::Failed)
                .collect(),
            held_uploads: store.held_uploads(&user)?,
            rejected_commands: store.queued(&user, Some(CommandState::Rejected), 50)?,
            last_sync_at: crate::store::parse_ts(store.meta(key::LAST_SYNC_AT)?),
            last_error: store.meta(key::LAST_ERROR)?,
            reports: store.entity_count("report")?,
            tasks: store.entity_count("task")?,
            cases: store.entity_count("case")?,
        })
    }

    /// Local reports, newest first.
    pub fn reports(&self) -> Result<Vec<LocalEntity>> {
        self.lock().entities("report")
    }

    /// Local tasks.
    pub fn tasks(&self) -> Result<Vec<LocalEntity>> {
        self.lock().entities("task")
    }

    /// Local cases.
    pub fn cases(&self) -> Result<Vec<LocalEntity>> {
        self.lock().entities("case")
    }

    /// One local report, task or case.
    pub fn entity(&self, entity_type: &str, id: &str) -> Result<Option<LocalEntity>> {
        self.lock().entity(entity_type, id)
    }

    /// This user's outbox, newest first (`only`: one state).
    pub fn outbox(&self, only: Option<CommandState>, limit: usize) -> Result<Vec<QueuedCommand>> {
        let user = self.owner()?;
        self.lock().queued(&user, only, limit)
    }

    /// This user's upload queue, oldest first.
    pub fn uploads(&self) -> Result<Vec<Upload>> {
        let user = self.owner()?;
        self.lock().uploads(Some(&user))
    }

    /// `GET /sync/v1/info`, remembered for offline use.
    pub fn server_info(&self) -> Result<SyncInfo> {
        let server = self.lock().session()?.ok_or(Error::NotSignedIn)?.server_url;
        let resp = self.call_anonymous(&server, &Req::new(Method::GET, "/sync/v1/info"))?;
        if !resp.status().is_success() {
            return Err(error_of(resp));
        }
        let info: SyncInfo = resp.json()?;
        if !info
            .protocol_versions
            .contains(&griddispatch_protocol::sync::PROTOCOL_VERSION)
        {
            return Err(Error::UnsupportedProtocol(format!(
                "服务器支持的协议版本 {:?} (server speaks {:?})",
                info.protocol_versions, info.protocol_versions
            )));
        }
        let text = serde_json::to_string(&info)?;
        self.lock().set_meta(key::SERVER_INFO, Some(&text))?;
        Ok(info)
    }

    /// Fetch the squads (`GET /api/v1/squads`) and remember them.
    pub fn refresh_squads(&self) -> Result<Vec<Squad>> {
        let resp = self.call(&Req::new(Method::GET, "/api/v1/squads"))?;
        if !resp.status().is_success() {
            return Err(error_of(resp));
        }
        let squads: Vec<Squad> = resp.json()?;
        let text = serde_json::to_string(&squads)?;
        self.lock().set_meta(key::SQUADS, Some(&text))?;
        Ok(squads)
    }

    /// Squads as last fetched.
    pub fn squads(&self) -> Result<Vec<Squad>> {
        Ok(self
            .lock()
            .meta(key::SQUADS)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    /// A squad id from an id or a code, from the remembered list (fetched when unknown and
    /// online).
    pub fn resolve_squad(&self, id_or_code: &str) -> Result<String> {
        let find = |list: &[Squad]| {
            list.iter()
                .find(|s| s.id == id_or_code || s.code == id_or_code)
                .map(|s| s.id.clone())
        };
        if let Some(id) = find(&self.squads()?) {
            return Ok(id);
        }
        if uuid::Uuid::parse_str(id_or_code).is_ok() {
            return Ok(id_or_code.to_owned());
        }
        match self.refresh_squads() {
            Ok(list) => find(&list).ok_or_else(|| {
                Error::Invalid(format!("没有这个中队 (no such squad): {id_or_code}"))
            }),
            Err(e) if e.is_transient() => Err(Error::Invalid(format!(
                "离线时无法解析中队编号 {id_or_code}，请用中队 id (offline: cannot resolve the squad code; give the squad id)"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Remember the outcome of a sync attempt for `status`.
    pub(crate) fn record_sync(&self, error: Option<&Error>) -> Result<()> {
        let store = self.lock();
        match error {
            None => {
                store.set_meta(key::LAST_SYNC_AT, Some(&crate::store::ts(Utc::now())))?;
                store.set_meta(key::LAST_ERROR, None)
            }
            Some(e) => store.set_meta(key::LAST_ERROR, Some(&e.to_string())),
        }
    }

    /// Path of a captured file.
    pub(crate) fn file_path(&self, upload: &Upload) -> PathBuf {
        self.dir.join(&upload.local_path)
    }
}

fn account(s: &Session) -> Account {
    Account {
        server_url: s.server_url.clone(),
        username: s.username.clone(),
        user_id: s.user_id.clone(),
        display_name: s.display_name.clone(),
        roles: s.roles.clone(),
        signed_in: s.refresh_token.is_some(),
        signed_out_reason: s.signed_out_reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tests::offline_engine;

    #[test]
    fn enqueue_needs_an_account_and_refuses_server_only_commands() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let close = Command::CloseTask {
            task_id: "t".into(),
        };
        assert!(matches!(
            engine.enqueue(close.clone(), None),
            Err(Error::NotSignedIn)
        ));
        let engine = offline_engine(dir.path());
        assert_eq!(engine.enqueue(close.clone(), None).unwrap(), 1);
        let flag = Command::FlagDeadline {
            task_id: "t".into(),
            level: "red".into(),
            clock: Default::default(),
        };
        assert!(matches!(engine.enqueue(flag, None), Err(Error::Invalid(_))));
        assert_eq!(engine.enqueue(close, None).unwrap(), 2);
        assert_eq!(engine.status().unwrap().queued_commands, 2);
    }

    #[test]
    fn offline_sync_keeps_the_queue_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let engine = offline_engine(dir.path());
        engine
            .enqueue(
                Command::CloseTask {
                    task_id: "t".into(),
                },
                None,
            )
            .unwrap();
        let err = engine.sync().unwrap_err();
        assert!(err.is_transient(), "{err}");
        let status = engine.status().unwrap();
        assert_eq!(status.queued_commands, 1);
        assert!(status.last_sync_at.is_none());
        assert!(status.last_error.unwrap().contains("network"));
    }

    #[test]
    fn logout_keeps_the_queue_for_the_same_user() {
        let dir = tempfile::tempdir().unwrap();
        let engine = offline_engine(dir.path());
        engine
            .enqueue(
                Command::CloseTask {
                    task_id: "t".into(),
                },
                None,
            )
            .unwrap();
        engine.logout().unwrap();
        assert!(engine.account().unwrap().is_none());
        assert_eq!(engine.status().unwrap().queued_other_users, 1);
        let engine = offline_engine(dir.path());
        assert_eq!(engine.status().unwrap().queued_commands, 1);
    }
}
