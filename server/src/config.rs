//! Server configuration: defaults, then a TOML file, then `GRIDDISPATCH_*` environment variables.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::db::{DatabaseUrl, DbError};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where evidence originals and derived copies are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StorageConfig {
    /// A local directory (default `<data_dir>/media`).
    Local {
        /// Directory; default `<data_dir>/media`.
        #[serde(default)]
        path: Option<PathBuf>,
    },
    /// S3-compatible object storage (AWS S3, MinIO, Aliyun OSS, Tencent COS, …).
    S3(griddispatch_media::storage::S3Config),
}

/// Everything `griddispatch serve` needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `postgres://…` for PostgreSQL; a file path or `sqlite://path` for SQLite.
    /// Default: `griddispatch.db` in the data directory.
    pub database_url: Option<String>,
    /// Address to listen on.
    pub bind: String,
    /// Where SQLite, media and other local files live.
    pub data_dir: PathBuf,
    /// HS256 secret for access tokens. When unset, one is generated once and kept in the
    /// database so that every instance sharing the database agrees on it.
    pub jwt_secret: Option<String>,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// tracing filter, e.g. `info` or `griddispatch=debug,actix_web=info`.
    pub log_filter: String,
    /// Access-token lifetime in seconds.
    pub access_token_ttl_secs: i64,
    /// Refresh-token lifetime in days.
    pub refresh_token_ttl_days: i64,
    /// Seconds after a refresh during which the replaced refresh token may be presented once
    /// more and gets the same answer (a phone whose answer was lost); 0 turns the grace off.
    pub refresh_grace_secs: i64,
    /// Maximum pooled database connections.
    pub pool_size: u32,
    /// Largest JSON request body accepted, in bytes.
    pub max_json_bytes: usize,
    /// Failed sign-ins for one account from one client address before that account is locked
    /// for that address (other addresses are not affected).
    pub login_max_failures: i32,
    /// Failed sign-ins from one client address, over all accounts, before the address is
    /// locked (one address guessing many accounts).
    pub login_max_failures_per_ip: i32,
    /// Failed sign-ins for one account from all addresses before the account is locked for
    /// every device it has never signed in on (many addresses guessing one account); its
    /// owner's known devices keep signing in.
    pub login_max_failures_per_account: i32,
    /// Addresses of reverse proxies whose `X-Forwarded-For` header is believed; requests from
    /// anywhere else are counted by their own peer address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a lock after too many failures lasts, in seconds.
    pub login_lock_secs: i64,
    /// Evidence storage backend.
    pub storage: StorageConfig,
    /// Size, dimension and decoding limits for evidence files.
    pub media_limits: griddispatch_media::Limits,
    /// Hours an unfinished upload is kept after its last byte arrived.
    pub upload_ttl_hours: i64,
    /// Distance between the reported position and the photo's own GPS above which the
    /// evidence is flagged, in metres.
    pub position_mismatch_m: f64,
    /// Days the sync change log is kept; phones with older cursors get a reset.
    pub sync_retention_days: u32,
    /// Run the background jobs (upload upkeep, deadline warnings, grid refresh). Tests turn
    /// them off to drive the jobs by hand.
    pub background_jobs: bool,
    /// The case procedure's time limits and hearing thresholds (`[case_rules]`; national law
    /// by default, local thresholds where a province sets them).
    pub case_rules: crate::domain::workflow::CaseRules,
    /// When two reports are duplicates (`[merge_rules]`: `max_distance_m`, default 200;
    /// `max_hours`, default 72).
    pub merge_rules: crate::domain::workflow::MergeRules,
    /// The console's map tiles, a Leaflet URL template (`{z}/{x}/{y}`, optional `{s}`); none:
    /// the grid is drawn on a plain background (works without internet).
    pub map_tile_url: Option<String>,
    /// Subdomains that replace `{s}` in `map_tile_url`, e.g. `01234567` for Tianditu.
    pub map_tile_subdomains: Option<String>,
    /// Attribution shown on the map for the tiles.
    pub map_tile_attribution: Option<String>,
    /// Open311 GeoReport v2 intake for hotline platforms and civic apps (`[open311]`,
    /// docs/integration.md).
    pub open311: Open311Config,
    /// Signed webhooks: how often the delivery job looks for work and how it backs off
    /// (`[webhooks]`, docs/integration.md).
    pub webhooks: WebhookConfig,
    /// Information shared by departments (`[sharing]`, docs/integration.md).
    pub sharing: SharingConfig,
    /// Joint meetings: how often they are held and when topics are collected (`[meetings]`,
    /// docs/integration.md).
    pub meetings: MeetingsConfig,
    /// Photos' display copies and thumbnails, made after the upload is acknowledged
    /// (`[photo_copies]`, docs/operations.md).
    pub photo_copies: PhotoCopiesConfig,
}

/// `[photo_copies]`: the queue that makes photos' display copies, thumbnails and perceptual
/// hashes after the upload was acknowledged.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoCopiesConfig {
    /// Photos decoded at once in this instance (each decoding holds one photo: its file, up to
    /// `media_limits.max_image_bytes`, and its pixels, ~9 MB for a 12-megapixel JPEG decoded
    /// at half scale); this is what bounds the memory a burst of large photos may take. Four
    /// job runners share each of these slots, so storing and recording copies overlap with
    /// decoding.
    /// 0: no worker in this instance (another instance makes the copies; photos stay
    /// `pending` until one does).
    pub workers: usize,
    /// Seconds a worker holds a job; a job whose worker crashed is taken again after this.
    pub lease_secs: i64,
    /// Attempts after a passing failure (storage, I/O) before the photo is marked `failed`.
    pub max_attempts: i32,
    /// Seconds between looks for work nobody woke the workers for (jobs of other instances,
    /// retries, expired leases).
    pub poll_secs: u64,
}

impl Default for PhotoCopiesConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            lease_secs: 300,
            max_attempts: 5,
            poll_secs: 5,
        }
    }
}

/// `[meetings]`: the joint meeting's rhythm and its topic window (seed 004 工作规则).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
pub struct MeetingsConfig {
    /// Months between two meetings, for the proposed next date (seed 004: monthly, 1).
    pub interval_months: u32,
    /// Topics are collected from this many days before the meeting (seed 004: 10).
    pub topics_open_days: i64,
    /// Topics close this many days before the meeting, so the chair can review them and send
    /// them to the member units (default 3).
    pub topics_cutoff_days: i64,
}

impl Default for MeetingsConfig {
    fn default() -> Self {
        Self {
            interval_months: 1,
            topics_open_days: 10,
            topics_cutoff_days: 3,
        }
    }
}

/// `[sharing]`: when shared information concerns a report's place.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
pub struct SharingConfig {
    /// An item with a position within this many metres of a report's is shown on it.
    pub match_radius_m: f64,
    /// Days within which a decision reaches each department it concerns (seed 000: 5).
    pub decision_notice_days: i64,
}

impl Default for SharingConfig {
    fn default() -> Self {
        Self {
            match_radius_m: 100.0,
            decision_notice_days: 5,
        }
    }
}

/// `[open311]`: who may file requests, and what the answers name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Open311Config {
    /// When set, a request naming another `jurisdiction_id` is refused.
    #[serde(default)]
    pub jurisdiction_id: Option<String>,
    /// `agency_responsible` of the answers (e.g. the brigade's name).
    #[serde(default)]
    pub agency: Option<String>,
    /// The platforms and apps that may file requests, each with its own API key.
    #[serde(default)]
    pub clients: Vec<Open311Client>,
}

/// One platform client of the Open311 intake (`[[open311.clients]]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Open311Client {
    /// Short name kept with each request it files (e.g. `12345`).
    pub name: String,
    /// SHA-256 of its API key, hex (`printf %s KEY | sha256sum`): the key itself is never
    /// kept in the configuration.
    pub api_key_sha256: String,
    /// Username of the account its reports are filed under: an intake account with the
    /// dispatcher role, so the reports enter triage like a call taken at the center.
    pub account: String,
    /// `hotline` (12345 and other hotline platforms, default) or `public_complaint` (civic
    /// apps).
    #[serde(default = "default_open311_source")]
    pub source: griddispatch_protocol::command::ReportSource,
}

fn default_open311_source() -> griddispatch_protocol::command::ReportSource {
    griddispatch_protocol::command::ReportSource::Hotline
}

/// `[webhooks]`: the delivery job's pace and its back-off.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// Run the delivery job (with `background_jobs`). Off: subscriptions and the feed work,
    /// nothing is sent (a test bench that must not reach out).
    pub enabled: bool,
    /// Seconds between the job's rounds.
    pub poll_secs: u64,
    /// Seconds a receiver has to answer one delivery.
    pub timeout_secs: u64,
    /// Wait after the first failure, in seconds; doubled after each further failure.
    pub backoff_initial_secs: i64,
    /// Longest wait between two attempts, in seconds.
    pub backoff_max_secs: i64,
    /// Attempts after which a delivery is given up (`failed`; an admin may retry it).
    pub max_attempts: i32,
    /// Let receivers be on this machine or link-local (e.g. a bridge on 127.0.0.1). Off: only
    /// other hosts, private networks included — so a subscription cannot make the server call
    /// its own services or a cloud's metadata address (169.254.169.254).
    pub allow_local_receivers: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_secs: 5,
            timeout_secs: 10,
            backoff_initial_secs: 30,
            backoff_max_secs: 6 * 3600,
            max_attempts: 12,
            allow_local_receivers: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("griddispatch-data"),
            jwt_secret: None,
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            refresh_grace_secs: 60,
            pool_size: 8,
            max_json_bytes: 1024 * 1024,
            login_max_failures: 5,
            login_max_failures_per_ip: 30,
            login_max_failures_per_account: 100,
            trusted_proxies: Vec::new(),
            login_lock_secs: 15 * 60,
            storage: StorageConfig::Local { path: None },
            media_limits: griddispatch_media::Limits::default(),
            upload_ttl_hours: 24,
            position_mismatch_m: griddispatch_media::DEFAULT_GEO_THRESHOLD_M,
            sync_retention_days: 30,
            background_jobs: true,
            case_rules: crate::domain::workflow::CaseRules::default(),
            merge_rules: crate::domain::workflow::MergeRules::default(),
            map_tile_url: None,
            map_tile_subdomains: None,
            map_tile_attribution: None,
            open311: Open311Config::default(),
            webhooks: WebhookConfig::default(),
            sharing: SharingConfig::default(),
            meetings: MeetingsConfig::default(),
            photo_copies: PhotoCopiesConfig::default(),
        }
    }
}

/// Configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an environment variable does not parse.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Value(String),
    /// The database URL is unusable.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl Config {
    /// Defaults, then `file` (if given; it must exist), then `GRIDDISPATCH_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Value(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Only the known keys are read, so GRIDDISPATCH_TEST_PG and the like are ignored.
        let config: Config = figment
            // `__` separates nesting: GRIDDISPATCH_STORAGE__BACKEND=s3.
            .merge(Env::prefixed("GRIDDISPATCH_").split("__"))
            .extract()
            .map_err(Box::new)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.access_token_ttl_secs < 30 {
            return Err(ConfigError::Value(
                "access_token_ttl_secs must be at least 30".into(),
            ));
        }
        if self.refresh_token_ttl_days < 1 {
            return Err(ConfigError::Value(
                "refresh_token_ttl_days must be at least 1".into(),
            ));
        }
        if self.login_max_failures < 1
            || self.login_max_failures_per_ip < 1
            || self.login_max_failures_per_account < 1
        {
            return Err(ConfigError::Value(
                "login_max_failures, login_max_failures_per_ip and \
                 login_max_failures_per_account must be at least 1"
                    .into(),
            ));
        }
        if !(0..=600).contains(&self.refresh_grace_secs) {
            return Err(ConfigError::Value(
                "refresh_grace_secs must be between 0 and 600".into(),
            ));
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                return Err(ConfigError::Value(
                    "jwt_secret must be at least 32 characters".into(),
                ));
            }
        }
        if self.upload_ttl_hours < 1 {
            return Err(ConfigError::Value(
                "upload_ttl_hours must be at least 1".into(),
            ));
        }
        for c in &self.open311.clients {
            if c.api_key_sha256.len() != 64 || hex::decode(&c.api_key_sha256).is_err() {
                return Err(ConfigError::Value(format!(
                    "open311.clients `{}`: api_key_sha256 must be 64 hex digits",
                    c.name
                )));
            }
        }
        let w = &self.webhooks;
        if w.poll_secs < 1 || w.timeout_secs < 1 || w.backoff_initial_secs < 1 || w.max_attempts < 1
        {
            return Err(ConfigError::Value(
                "webhooks: poll_secs, timeout_secs, backoff_initial_secs and max_attempts must be at least 1".into(),
            ));
        }
        if !(self.sharing.match_radius_m.is_finite()
            && (0.0..=10_000.0).contains(&self.sharing.match_radius_m))
        {
            return Err(ConfigError::Value(
                "sharing.match_radius_m must be between 0 and 10000".into(),
            ));
        }
        if !(1..=60).contains(&self.sharing.decision_notice_days) {
            return Err(ConfigError::Value(
                "sharing.decision_notice_days must be between 1 and 60".into(),
            ));
        }
        let m = &self.meetings;
        if !(1..=12).contains(&m.interval_months)
            || !(1..=60).contains(&m.topics_open_days)
            || !(0..m.topics_open_days).contains(&m.topics_cutoff_days)
        {
            return Err(ConfigError::Value(
                "meetings: interval_months must be 1..=12, topics_open_days 1..=60 and topics_cutoff_days 0..topics_open_days".into(),
            ));
        }
        self.database()?;
        Ok(())
    }

    /// Directory for evidence when stored locally.
    pub fn media_dir(&self) -> PathBuf {
        match &self.storage {
            StorageConfig::Local { path: Some(p) } => p.clone(),
            _ => self.data_dir.join("media"),
        }
    }

    /// Directory for unfinished uploads (must be shared by instances behind one balancer).
    pub fn upload_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }

    /// The database to use (SQLite in the data directory unless configured).
    pub fn database(&self) -> Result<DatabaseUrl, DbError> {
        match &self.database_url {
            Some(url) => DatabaseUrl::parse(url),
            None => Ok(DatabaseUrl::Sqlite(self.data_dir.join("griddispatch.db"))),
        }
    }
}
