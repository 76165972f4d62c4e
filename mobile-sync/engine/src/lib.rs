//! The phone engine of GridDispatch (offline-first sync, `docs/sync-protocol.md`).
//!
//! An [`Engine`] owns one data directory: a SQLite store with the signed-in account, the
//! user's view of reports, tasks and cases, the **outbox** of commands and the **upload
//! queue** of captured evidence. Work is recorded locally first ([`Engine::enqueue`],
//! [`Engine::capture`]) and reaches the server on [`Engine::sync`]: push the outbox with
//! per-device sequence numbers (exactly once), upload files with tus (resumable), pull changes
//! after a cursor. No global state; every call is synchronous and meant for a background
//! thread (the `gridsync` CLI is one user, a UniFFI-wrapped phone app another).
//!
//! ```no_run
//! use griddispatch_sync::Engine;
//! use griddispatch_protocol::command::{Command, Position, ReportSource};
//!
//! # fn main() -> Result<(), griddispatch_sync::Error> {
//! let engine = Engine::open("/data/gridsync")?;
//! engine.login("https://town.example", "gm_201", "secret")?;
//! let here = Position { lat: 35.05, lon: 112.49, crs: None };
//! let photo = engine.capture("/sdcard/DCIM/IMG_0001.jpg", None, Some(here.clone()))?;
//! engine.enqueue(
//!     Command::CreateReport {
//!         report_id: uuid::Uuid::now_v7().to_string(),
//!         source: ReportSource::GridPatrol,
//!         category_code: "0101".into(),
//!         description: "村口垃圾堆放".into(),
//!         position: Some(here.clone()),
//!         attachment_ids: vec![photo],
//!         contact: None,
//!         occurred_at: Some(chrono::Utc::now()),
//!         address: None,
//!     },
//!     Some(here),
//! )?;
//! let report = engine.sync()?; // whenever the network allows
//! println!("{} applied, {} rejected", report.applied, report.rejected.len());
//! # Ok(()) }
//! ```

pub mod backoff;
mod capture;
mod engine;
mod error;
mod http;
pub mod store;
mod sync;
#[cfg(test)]
mod tests;
mod tus;

pub use capture::guess_content_type;
pub use engine::{Account, Engine, EngineConfig, Squad, Status, FILES_DIR};
pub use error::{Error, Result};
pub use store::{CommandState, LocalEntity, QueuedCommand, Upload, UploadState, STORE_FILE};
pub use sync::{Rejection, RunEnd, SyncReport};
