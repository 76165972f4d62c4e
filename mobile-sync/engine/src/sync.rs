//! One sync (push the outbox → upload files → pull until done), the long-poll wait, and the
//! loop that repeats them with backoff (`docs/sync-protocol.md` §2–4, §6).

use std::time::{Duration, Instant};

use chrono::Utc;
use griddispatch_protocol::sync::{
    PullResponse, PushRequest, PushResponse, PushStatus, WaitResponse, MAX_PULL_BYTES,
    MAX_PULL_LIMIT, MAX_PUSH_COMMANDS,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;

use crate::backoff::Backoff;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::http::{error_of, Req};
use crate::store::Upload;

/// A command the server refused during this sync.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// Which command.
    pub device_seq: i64,
    /// Stable code (`invalid_state`, `out_of_scope`, …).
    pub code: Option<String>,
    /// Why, for the user (Chinese first).
    pub message: Option<String>,
}

/// What one [`Engine::sync`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Commands applied now.
    pub applied: usize,
    /// Commands the server had already handled (a resend after a lost answer).
    pub duplicates: usize,
    /// Commands refused now (acknowledged; the queue went on behind them).
    pub rejected: Vec<Rejection>,
    /// Files uploaded completely.
    pub uploaded: usize,
    /// Files refused for good now.
    pub upload_failed: Vec<Upload>,
    /// Files not uploaded because only rejected commands name them (a refused report's
    /// photos): kept on this device, listed here and in `status`.
    pub held: Vec<Upload>,
    /// A temporary upload problem: the rest is sent next time (commands and pull went on).
    pub upload_error: Option<String>,
    /// Changes applied to the local view.
    pub pulled: usize,
    /// The server asked for a fresh start of the local view.
    pub reset: bool,
}

impl SyncReport {
    /// Everything that could be sent was sent.
    pub fn complete(&self) -> bool {
        self.upload_error.is_none()
    }

    /// The server refused something for good now: a command rejected or a file refused. The
    /// rest went on, but a person has to look (`gridsync sync` exits 3).
    pub fn refused_any(&self) -> bool {
        !self.rejected.is_empty() || !self.upload_failed.is_empty()
    }
}

/// Why [`Engine::run`] stopped.
#[derive(Debug)]
pub enum RunEnd {
    /// `stop` said so.
    Stopped,
}

impl Engine {
    /// Sync now: refresh the token if needed, push the outbox in batches, upload pending
    /// files (resuming), pull until the server has nothing more. Temporary upload trouble is
    /// reported in [`SyncReport::upload_error`]; any other failure is an error and leaves
    /// the queue as it was (minus what the server acknowledged).
    pub fn sync(&self) -> Result<SyncReport> {
        let result = self.sync_once();
        let recorded = match &result {
            Ok(r) => match &r.upload_error {
                None => self.record_sync(None),
                Some(e) => self.record_sync(Some(&Error::Network(e.clone()))),
            },
            Err(e) => self.record_sync(Some(e)),
        };
        recorded?;
        result
    }

    fn sync_once(&self) -> Result<SyncReport> {
        // One sync at a time per engine (an app may call it from a timer and a button).
        let _one = self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let session = self.signed_in()?;
        let mut report = SyncReport::default();
        self.push(&session.user_id, &mut report)?;
        match self.upload_all(&session.user_id, &mut report) {
            Ok(()) => {}
            Err(e @ (Error::SignedOut(_) | Error::UnsupportedProtocol(_) | Error::NotSignedIn)) => {
                return Err(e)
            }
            Err(e) => report.upload_error = Some(e.to_string()),
        }
        self.pull(&mut report)?;
        Ok(report)
    }

    fn push(&self, user: &str, report: &mut SyncReport) -> Result<()> {
        let device_id = self.lock().device_id()?;
        let mut limit = self.config.push_batch.clamp(1, MAX_PUSH_COMMANDS);
        let mut start: Option<i64> = None;
        let mut stalls = 0;
        loop {
            let batch = self.lock().batch(user, start, limit)?;
            let Some(first) = batch.first() else {
                return Ok(());
            };
            if let Some(expected) = start {
                if first.device_seq != expected {
                    return Err(Error::Protocol(format!(
                        "服务器要求从第 {expected} 条操作重发，本机已没有该操作 (the server expects device_seq {expected}, which this device no longer holds)"
                    )));
                }
            }
            let sent: Vec<i64> = batch.iter().map(|c| c.device_seq).collect();
            let body = serde_json::to_value(PushRequest {
                device_id: device_id.clone(),
                commands: batch,
            })?;
            let resp = self.call(&Req::new(Method::POST, "/sync/v1/push").sync().json(body))?;
            if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && limit > 1 {
                // Too many commands or too many bytes: halve and send again.
                limit /= 2;
                continue;
            }
            if !resp.status().is_success() {
                return Err(error_of(resp));
            }
            let answer: PushResponse = resp.json()?;
            let ack = self.lock().apply_push(user, &sent, &answer, Utc::now())?;
            report.applied += ack.applied;
            report.duplicates += ack.duplicates;
            for r in &answer.results {
                let refused = r.status == PushStatus::Rejected
                    || (r.status == PushStatus::Duplicate
                        && r.original == Some(PushStatus::Rejected));
                if refused && sent.contains(&r.device_seq) {
                    report.rejected.push(Rejection {
                        device_seq: r.device_seq,
                        code: r.code.clone(),
                        message: r.message.clone(),
                    });
                }
            }
            start = ack.deferred.then_some(answer.next_device_seq);
            if ack.acknowledged() == 0 {
                stalls += 1;
                if stalls >= 3 {
                    return Err(Error::Protocol(format!(
                        "推送没有进展 (push makes no progress; the server expects device_seq {})",
                        answer.next_device_seq
                    )));
                }
            } else {
                stalls = 0;
            }
        }
    }

    fn pull(&self, report: &mut SyncReport) -> Result<()> {
        let mut dropped_cursor = false;
        loop {
            let cursor = self.lock().cursor()?;
            let mut req = Req::new(Method::GET, "/sync/v1/pull")
                .sync()
                .query(
                    "limit",
                    self.config.pull_limit.clamp(1, MAX_PULL_LIMIT).to_string(),
                )
                .query(
                    "max_bytes",
                    self.config
                        .pull_max_bytes
                        .clamp(1024, MAX_PULL_BYTES)
                        .to_string(),
                );
            if let Some(c) = &cursor {
                req = req.query("cursor", c.clone());
            }
            let resp = self.call(&req)?;
            if !resp.status().is_success() {
                let err = error_of(resp);
                if matches!(&err, Error::Server { code, .. } if code == "invalid_cursor")
                    && !dropped_cursor
                {
                    // The server does not know this cursor: start the view afresh.
                    dropped_cursor = true;
                    self.lock().reset_view()?;
                    report.reset = true;
                    continue;
                }
                return Err(err);
            }
            let page: PullResponse = resp.json()?;
            match self
                .lock()
                .apply_pull_from(cursor.as_deref(), &page, Utc::now())?
            {
                Some(n) => {
                    report.pulled += n;
                    report.reset |= page.reset;
                }
                // Another process pulled meanwhile: go on from where it got.
                None => continue,
            }
            if !page.has_more {
                return Ok(());
            }
        }
    }

    /// Long-poll `/sync/v1/wait`: true as soon as something in this user's scope changed
    /// after the local cursor (or when there is no cursor yet), false after `timeout`.
    pub fn wait(&self, timeout: Duration) -> Result<bool> {
        let Some(cursor) = self.lock().cursor()? else {
            return Ok(true);
        };
        let secs = timeout.as_secs().clamp(1, 60);
        let req = Req::new(Method::GET, "/sync/v1/wait")
            .sync()
            .query("cursor", cursor)
            .query("timeout", secs.to_string())
            .timeout(Duration::from_secs(secs) + self.config.request_timeout);
        let resp = self.call(&req)?;
        if !resp.status().is_success() {
            return match error_of(resp) {
                // Let the next pull deal with it.
                Error::Server { code, .. } if code == "invalid_cursor" => Ok(true),
                e => Err(e),
            };
        }
        let w: WaitResponse = resp.json()?;
        Ok(w.changed)
    }

    /// Sync until `stop()` says so: after a success, wait (long-poll) for changes and sync
    /// again; after a network or server failure, back off (1 s doubling to 5 min, ±20 %).
    /// `on_sync` sees every attempt. Returns the error that retrying cannot fix (signed out,
    /// unsupported protocol, …).
    pub fn run(
        &self,
        stop: &dyn Fn() -> bool,
        on_sync: &mut dyn FnMut(&Result<SyncReport>),
    ) -> Result<RunEnd> {
        let mut backoff = Backoff::new();
        while !stop() {
            let result = self.sync();
            on_sync(&result);
            match result {
                Ok(report) if report.complete() => {
                    backoff.reset();
                    match self.wait(self.config.wait_timeout) {
                        Ok(_) => {}
                        Err(e) if e.is_transient() => sleep_until(backoff.next_delay(), stop),
                        Err(e) => return Err(e),
                    }
                }
                Ok(_) => sleep_until(backoff.next_delay(), stop),
                Err(e) if e.is_transient() => sleep_until(backoff.next_delay(), stop),
                Err(e) => return Err(e),
            }
        }
        Ok(RunEnd::Stopped)
    }
}

/// Sleep for `d`, waking early when `stop()` turns true.
fn sleep_until(d: Duration, stop: &dyn Fn() -> bool) {
    let end = Instant::now() + d;
    while !stop() {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(200)));
    }
}
