//! Photos' display copies, thumbnails and perceptual hashes, made after the upload was
//! acknowledged, from the persisted queue `photo_jobs` (docs/architecture.md, "Photo copies").
//!
//! A photo is recorded `pending` with a job in the same transaction; workers started with the
//! server (`[photo_copies] workers`) take jobs with a lease, decode the stored original and
//! store the copies, then record them and remove the job in one transaction — only if they
//! still hold the lease, so a job runs to a result once even when a stalled worker's lease ran
//! out and another took it. A photo that does not decode is marked `failed` with the decoder's
//! code; its original stays as it was received. Passing failures (storage, I/O) are retried
//! with a growing wait, `max_attempts` times.

use std::time::Duration;

use chrono::NaiveDateTime;
use futures_util::TryStreamExt;
use griddispatch_media::storage::{DerivedVariant, ObjectKey};
use griddispatch_media::{derive_image, MediaError, MediaType, Sha256Digest};

use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::attachments;
use crate::store::photo_jobs::{self, Made, PhotoJob};

/// Job runners per decoding slot: while one runner decodes, the others read originals, store
/// copies (each stored copy waits for the disk twice) and record results, so the slots are
/// not idle behind I/O. Memory stays bounded by the slots (`workers`): only a runner holding
/// one has a photo's pixels.
const RUNNERS_PER_SLOT: usize = 4;

/// Start the configured workers (none with `photo_copies.workers = 0`).
pub fn spawn(state: AppState) {
    let cfg = state.config.photo_copies;
    for n in 0..cfg.workers * RUNNERS_PER_SLOT {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let owner = format!("{}-{n}", uuid::Uuid::new_v4().simple());
            let every = Duration::from_secs(cfg.poll_secs.max(1));
            loop {
                match run_due(&state, &owner, db::now(), 1).await {
                    // Did one: look for the next at once.
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "photo copies: the queue failed"),
                }
                let wake = state.media.copies_wake.notified();
                let _ = actix_web::rt::time::timeout(every, wake).await;
            }
        });
    }
}

/// Wake a worker: a photo was just recorded.
pub fn wake(state: &AppState) {
    state.media.copies_wake.notify_one();
}

/// Claim up to `limit` due jobs as `owner` (at `now`) and run them; returns how many were
/// claimed. Tests call it to drive the queue by hand (with the workers off).
pub async fn run_due(
    state: &AppState,
    owner: &str,
    now: NaiveDateTime,
    limit: i64,
) -> Result<usize, AppError> {
    let lease = chrono::Duration::seconds(state.config.photo_copies.lease_secs.max(1));
    let o = owner.to_owned();
    let jobs = state
        .db(move |conn| Ok(photo_jobs::claim(conn, &o, now, now + lease, limit)?))
        .await?;
    let claimed = jobs.len();
    for job in jobs {
        run_job(state, owner, &job).await?;
    }
    Ok(claimed)
}

/// Make one photo's copies and record the outcome under `owner`'s lease.
async fn run_job(state: &AppState, owner: &str, job: &PhotoJob) -> Result<(), AppError> {
    let id = job.attachment_id.clone();
    let (i, o) = (id.clone(), owner.to_owned());
    let row = state
        .db(move |conn| Ok(attachments::find(conn, &i)?))
        .await?;
    let Some(row) = row else {
        state
            .db(move |conn| Ok(photo_jobs::finish_failed(conn, &id, &o, "not_found")?))
            .await?;
        return Ok(());
    };
    let outcome = make(state, &row).await;
    let (i, o) = (row.id.clone(), owner.to_owned());
    match outcome {
        Ok(made) => {
            let recorded = state
                .db(move |conn| Ok(photo_jobs::finish_done(conn, &i, &o, &made)?))
                .await?;
            if !recorded {
                tracing::info!(attachment = %job.attachment_id, "photo copies: lease lost, another worker records them");
            }
        }
        Err(e)
            if e.http_status() < 500 || job.attempts >= state.config.photo_copies.max_attempts =>
        {
            let code = e.code();
            tracing::info!(attachment = %job.attachment_id, code, error = %e, "photo copies: cannot be made");
            state
                .db(move |conn| Ok(photo_jobs::finish_failed(conn, &i, &o, code)?))
                .await?;
        }
        Err(e) => {
            let wait = 5i64 << job.attempts.clamp(0, 10);
            let retry_at = db::now() + chrono::Duration::seconds(wait);
            let error = e.to_string();
            tracing::warn!(attachment = %job.attachment_id, error = %error, "photo copies: will retry");
            state
                .db(move |conn| Ok(photo_jobs::release(conn, &i, &o, retry_at, &error)?))
                .await?;
        }
    }
    Ok(())
}

/// Read the original and decode it (one of `copy_slots` at a time, original and pixels
/// dropped before the slot is given back), then store its copies.
async fn make(state: &AppState, row: &attachments::AttachmentRow) -> Result<Made, MediaError> {
    let media_type = MediaType::from_mime(&row.media_type)
        .ok_or_else(|| MediaError::CorruptFile(format!("unknown type {}", row.media_type)))?;
    let sha = Sha256Digest::parse_hex(&row.sha256)?;
    let limits = state.media.limits.clone();
    let slot = state
        .media
        .copy_slots
        .acquire()
        .await
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
    let key = ObjectKey::parse(&row.original_key)?;
    let max = limits.max_image_bytes;
    let data: Vec<u8> = state
        .media
        .storage
        .get_stream(&key)
        .await?
        .try_fold(Vec::new(), |mut acc, chunk| async move {
            if (acc.len() + chunk.len()) as u64 > max {
                return Err(MediaError::CorruptFile(
                    "stored original larger than allowed".into(),
                ));
            }
            acc.extend_from_slice(&chunk);
            Ok(acc)
        })
        .await?;
    let derived = in_background_thread(move || derive_image(&data, media_type, &limits)).await??;
    // Only the two small JPEGs are left: the next photo may be decoded while they are stored.
    drop(slot);
    let Some(photo) = derived else {
        return Ok(Made::default());
    };
    let storage = &state.media.storage;
    let mut made = Made {
        phash: Some(photo.perceptual_hash.to_string()),
        ..Made::default()
    };
    for (variant, copy) in [
        (DerivedVariant::Thumbnail, &photo.images.thumbnail),
        (DerivedVariant::Display, &photo.images.display),
    ] {
        let key = ObjectKey::derived(&sha, variant);
        storage.put_stream(&key, &mut copy.jpeg.as_slice()).await?;
        match variant {
            DerivedVariant::Thumbnail => made.thumbnail_key = Some(key.as_str().to_owned()),
            _ => made.display_key = Some(key.as_str().to_owned()),
        }
    }
    Ok(made)
}

/// Runs `f` on a thread of its own at a lower CPU priority (nice +10 on Linux): the copies are
/// background work, and acknowledging uploads must not wait behind them for a core. (Not on
/// the blocking pool: a thread's priority cannot be raised again, and the pool also runs the
/// database calls of every request.)
async fn in_background_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, MediaError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("photo-copies".into())
        .spawn(move || {
            lower_priority();
            let _ = tx.send(f());
        })
        .map_err(MediaError::Io)?;
    rx.await
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), 10) {
        tracing::debug!(error = %e, "photo copies: cannot lower the thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}
