//! The upload queue: evidence captured on the phone (copied into the data directory and
//! hashed at capture), sent with tus independently of the commands that name it.

use chrono::{DateTime, Utc};
use griddispatch_protocol::command::Position;
use rusqlite::{params, Row};
use serde::Serialize;

use super::{parse_ts, ts, Store};
use crate::error::Result;

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Not (completely) uploaded yet.
    Pending,
    /// The server verified and stored it.
    Done,
    /// Refused for good (hash mismatch, unsupported file, expired upload): never retried.
    Failed,
}

impl UploadState {
    fn parse(s: &str) -> UploadState {
        match s {
            "done" => UploadState::Done,
            "failed" => UploadState::Failed,
            _ => UploadState::Pending,
        }
    }
}

/// A captured file to upload.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// UUIDv7 made on capture.
    pub attachment_id: String,
    /// Who captured it (uploads belong to their maker on the server).
    pub user_id: String,
    /// Original file name.
    pub file_name: String,
    /// Path of the copy, relative to the data directory.
    pub local_path: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the copy, lower-case hex, computed on capture.
    pub sha256: String,
    /// Device time of capture.
    pub captured_at: DateTime<Utc>,
    /// Where it was taken.
    pub position: Option<Position>,
    /// `before` or `after`: the side of a rectification a photo shows.
    pub phase: Option<String>,
}

/// An upload in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    /// Attachment id.
    pub attachment_id: String,
    /// Maker.
    pub user_id: String,
    /// Original file name.
    pub file_name: String,
    /// Copy, relative to the data directory.
    pub local_path: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex) computed on capture.
    pub sha256: String,
    /// Device time of capture.
    pub captured_at: Option<DateTime<Utc>>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// CRS of the position.
    pub crs: Option<String>,
    /// tus upload URL once created.
    pub upload_url: Option<String>,
    /// Bytes the server has acknowledged.
    pub offset: u64,
    /// Pending, done or failed.
    pub state: UploadState,
    /// Why it failed.
    pub code: Option<String>,
    /// The server's message.
    pub message: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// `before` or `after` (a rectification's photos), sent as `phase`.
    pub phase: Option<String>,
}

fn read(r: &Row<'_>) -> rusqlite::Result<Upload> {
    let state: String = r.get(14)?;
    Ok(Upload {
        attachment_id: r.get(0)?,
        user_id: r.get(1)?,
        file_name: r.get(2)?,
        local_path: r.get(3)?,
        content_type: r.get(4)?,
        size: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
        sha256: r.get(6)?,
        captured_at: parse_ts(r.get(7)?),
        lat: r.get(8)?,
        lon: r.get(9)?,
        crs: r.get(10)?,
        upload_url: r.get(11)?,
        offset: u64::try_from(r.get::<_, i64>(12)?).unwrap_or(0),
        attempts: r.get(13)?,
        state: UploadState::parse(&state),
        code: r.get(15)?,
        message: r.get(16)?,
        phase: r.get(17)?,
    })
}

const COLUMNS: &str = "attachment_id, user_id, file_name, local_path, content_type, size, sha256,
    captured_at, lat, lon, crs, upload_url, offset, attempts, state, code, message, phase";

impl Store {
    /// Queue a captured file.
    pub fn insert_upload(&mut self, u: &NewUpload) -> Result<()> {
        self.conn().execute(
            "INSERT INTO uploads (attachment_id, user_id, file_name, local_path, content_type,
                size, sha256, captured_at, lat, lon, crs, created_at, phase)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                u.attachment_id,
                u.user_id,
                u.file_name,
                u.local_path,
                u.content_type,
                i64::try_from(u.size).unwrap_or(i64::MAX),
                u.sha256,
                ts(u.captured_at),
                u.position.as_ref().map(|p| p.lat),
                u.position.as_ref().map(|p| p.lon),
                u.position.as_ref().and_then(|p| p.crs.clone()),
                ts(Utc::now()),
                u.phase,
            ],
        )?;
        Ok(())
    }

    /// Uploads, oldest first; of one user, or of all.
    pub fn uploads(&self, user_id: Option<&str>) -> Result<Vec<Upload>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM uploads WHERE (?1 IS NULL OR user_id = ?1)
             ORDER BY created_at, attachment_id"
        ))?;
        let rows = stmt.query_map([user_id], read)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Pending uploads of `user_id` to send, oldest first: every pending file except those
    /// held back because only rejected commands name them ([`Store::held_uploads`]).
    pub fn pending_uploads(&self, user_id: &str) -> Result<Vec<Upload>> {
        let mut out = Vec::new();
        for u in self.uploads(Some(user_id))? {
            if u.state == UploadState::Pending && !self.held(user_id, &u.attachment_id)? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Pending files of `user_id` that only commands the server rejected name (the photos of
    /// a refused report): they are kept here and not uploaded — the server would hold
    /// evidence of nothing. A later command naming them (the report made again) sends them.
    pub fn held_uploads(&self, user_id: &str) -> Result<Vec<Upload>> {
        let mut out = Vec::new();
        for u in self.uploads(Some(user_id))? {
            if u.state == UploadState::Pending && self.held(user_id, &u.attachment_id)? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Whether rejected commands name `attachment_id` and no pending or applied one does.
    fn held(&self, user_id: &str, attachment_id: &str) -> Result<bool> {
        // Attachment ids are UUIDs made here: no LIKE wildcards; the quotes make it a whole
        // JSON string.
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT status FROM outbox WHERE user_id = ?1 AND command LIKE ?2")?;
        let statuses = stmt
            .query_map(params![user_id, format!("%\"{attachment_id}\"%")], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(!statuses.is_empty() && statuses.iter().all(|s| s == "rejected"))
    }

    /// Remember the tus URL and the acknowledged offset.
    pub fn upload_progress(&self, attachment_id: &str, url: &str, offset: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET upload_url = ?1, offset = ?2 WHERE attachment_id = ?3",
            params![
                url,
                i64::try_from(offset).unwrap_or(i64::MAX),
                attachment_id
            ],
        )?;
        Ok(())
    }

    /// Count one more attempt.
    pub fn upload_attempt(&self, attachment_id: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET attempts = attempts + 1 WHERE attachment_id = ?1",
            [attachment_id],
        )?;
        Ok(())
    }

    /// The server has the file.
    pub fn upload_done(&self, attachment_id: &str, size: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET state = 'done', offset = ?1, code = NULL, message = NULL,
                done_at = ?2 WHERE attachment_id = ?3",
            params![
                i64::try_from(size).unwrap_or(i64::MAX),
                ts(Utc::now()),
                attachment_id
            ],
        )?;
        Ok(())
    }

    /// Refused for good.
    pub fn upload_failed(&self, attachment_id: &str, code: &str, message: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE uploads SET state = 'failed', code = ?1, message = ?2 WHERE attachment_id = ?3",
            params![code, message, attachment_id],
        )?;
        Ok(())
    }
}
