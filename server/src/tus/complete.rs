//! What happens when the last byte arrives: check the file, store the original immutably and
//! write the evidence record. A photo's derived copies are made afterwards (`super::copies`).

use chrono::DateTime;
use griddispatch_media::storage::ObjectKey;
use griddispatch_media::{
    check_position, check_prehashed_blocking, Declared, GeoPoint, MediaDetails, MediaKind,
    MediaType, Processed, Sha256Digest,
};
use serde::Serialize;

use super::headers::EvidenceMeta;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::attachments::{self, AttachmentRow};
use crate::store::photo_jobs;
use crate::store::uploads::{self, state as upload_state, UploadRow};

/// Check and record a fully received upload. On a refused file the upload becomes
/// `rejected`, its bytes are removed, and the error says why.
///
/// `sha256` is the hash of the whole file when the PATCHes computed it as they wrote it
/// (`None`: the file is hashed here). The upload file itself becomes the stored original on the
/// local backend (hard link, no copy), so it must not be written after this is called.
pub async fn complete_upload(
    state: &AppState,
    upload: &UploadRow,
    sha256: Option<Sha256Digest>,
) -> Result<AttachmentRow, AppError> {
    state.media.running.forget(&upload.id);
    let meta: EvidenceMeta =
        serde_json::from_str(&upload.metadata).map_err(|e| AppError::Internal(e.to_string()))?;
    let path = state.media.upload_dir.join(&upload.id);
    let declared = Declared {
        content_type: meta.content_type.clone(),
        sha256: Some(meta.sha256.clone()),
    };
    let limits = state.media.limits.clone();
    // The cheap checks only (type, size, hash, structure, header dimensions, EXIF): the
    // photo's pixels are decoded by the copy workers after this answers.
    let processed = match check_prehashed_blocking(path.clone(), declared, limits, sha256).await {
        Ok(p) => p,
        Err(err) => {
            if err.http_status() < 500 {
                reject(state, upload, err.code()).await?;
            }
            return Err(err.into());
        }
    };
    if meta.phase.as_deref() == Some("after") {
        check_after_photo(state, upload, &meta, &processed).await?;
    }
    let row = store_and_record(state, upload, &meta, &processed).await?;
    let _ = tokio::fs::remove_file(&path).await;
    if row.derive_state.is_some() {
        super::copies::wake(state);
    }
    Ok(row)
}

/// An `after` photo of a task already handled must have been taken after the officers
/// arrived (the earlier of the file's own time and the phone's counts); else the upload is
/// refused `after_photo_before_arrival` and its bytes removed. When the photo arrives before
/// the handling command, the command checks it instead.
async fn check_after_photo(
    state: &AppState,
    upload: &UploadRow,
    meta: &EvidenceMeta,
    processed: &Processed,
) -> Result<(), AppError> {
    let own = match &processed.details {
        MediaDetails::Image(img) => img.exif.captured_at.as_ref().map(|c| match c.utc() {
            Some(t) => t.naive_utc(),
            None => c.local,
        }),
        MediaDetails::Video(v) => v.created_at.map(|t| t.naive_utc()),
        MediaDetails::Audio(_) => None,
    };
    let taken = match (own, meta.captured_at) {
        (Some(a), Some(b)) => a.min(b),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Ok(()),
    };
    let id = meta.attachment_id.clone();
    let arrived = state
        .db(move |conn| Ok(crate::workflow::scope::arrival_for_evidence(conn, &id)?))
        .await?;
    match arrived {
        Some(arrived) if taken < arrived => {
            reject(state, upload, AFTER_PHOTO_BEFORE_ARRIVAL).await?;
            Err(after_photo_before_arrival(&meta.attachment_id))
        }
        _ => Ok(()),
    }
}

/// The code of an `after` photo taken before the officers arrived.
pub const AFTER_PHOTO_BEFORE_ARRIVAL: &str = "after_photo_before_arrival";

/// The refusal of an `after` photo taken before the officers arrived.
pub fn after_photo_before_arrival(id: &str) -> AppError {
    AppError::unprocessable(
        AFTER_PHOTO_BEFORE_ARRIVAL,
        format!("整改后照片 {id} 的拍摄时间早于执法人员到场 (the after photo {id} was taken before the officers arrived)"),
    )
}

async fn reject(state: &AppState, upload: &UploadRow, code: &'static str) -> Result<(), AppError> {
    let id = upload.id.clone();
    let now = db::now();
    state
        .db(move |conn| {
            Ok(uploads::finish(
                conn,
                &id,
                upload_state::REJECTED,
                Some(code),
                now,
            )?)
        })
        .await?;
    let _ = tokio::fs::remove_file(state.media.upload_dir.join(&upload.id)).await;
    tracing::info!(upload = %upload.id, code, "upload refused");
    Ok(())
}

fn kind_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "photo",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
    }
}

async fn store_and_record(
    state: &AppState,
    upload: &UploadRow,
    meta: &EvidenceMeta,
    processed: &Processed,
) -> Result<AttachmentRow, AppError> {
    let storage = &state.media.storage;
    let original = ObjectKey::original(&processed.sha256);
    // The upload file is already durable and hashed: the local backend links it as the
    // original instead of copying it. Identical bytes stored before (the same photo in two
    // reports) are not written again.
    storage
        .put_local_file(
            &original,
            &state.media.upload_dir.join(&upload.id),
            processed.sha256,
        )
        .await?;
    let mut derive_state = None;
    let (mut width, mut height, mut duration_ms) = (None, None, None);
    let (mut exif_gps, mut exif_time, mut exif_model) = (None, None, None);
    match &processed.details {
        MediaDetails::Image(img) => {
            width = img.width;
            height = img.height;
            exif_gps = img.exif.gps;
            exif_time = img.exif.captured_at.as_ref().map(|c| match c.utc() {
                Some(t) => t.naive_utc(),
                None => c.local,
            });
            exif_model = img.exif.model.clone();
            // Decoded later by the copy workers (HEIF is not decoded at all).
            if matches!(
                processed.media_type,
                MediaType::Jpeg | MediaType::Png | MediaType::Webp
            ) {
                derive_state = Some(photo_jobs::state::PENDING.to_owned());
            }
        }
        MediaDetails::Video(v) => {
            width = v.width;
            height = v.height;
            duration_ms = v.duration_ms;
            exif_time = v.created_at.map(|t: DateTime<chrono::Utc>| t.naive_utc());
        }
        MediaDetails::Audio(a) => duration_ms = a.duration_ms,
    }
    let reported = meta
        .lat
        .zip(meta.lon)
        .and_then(|(lat, lon)| GeoPoint::new(lat, lon));
    let gap = check_position(reported, exif_gps, state.media.position_mismatch_m);
    let details =
        serde_json::to_string(&processed.details).map_err(|e| AppError::Internal(e.to_string()))?;
    let sha_hex = processed.sha256.to_hex();
    let row = AttachmentRow {
        id: meta.attachment_id.clone(),
        owner_id: upload.owner_id.clone(),
        kind: kind_name(processed.media_type.kind()).to_owned(),
        media_type: processed.media_type.mime().to_owned(),
        size: i64::try_from(processed.size).unwrap_or(i64::MAX),
        sha256: sha_hex,
        filename: meta.filename.clone(),
        device_model: meta.device_model.clone().or(exif_model),
        captured_at: meta.captured_at,
        exif_captured_at: exif_time.map(db::truncate_micros),
        received_at: db::now(),
        reported_lat: meta.lat,
        reported_lon: meta.lon,
        exif_lat: exif_gps.map(|p| p.lat()),
        exif_lon: exif_gps.map(|p| p.lon()),
        position_gap_m: gap.map(|g| g.distance_m),
        position_mismatch: gap.is_some_and(|g| g.exceeds_threshold),
        width: width.and_then(|w| i32::try_from(w).ok()),
        height: height.and_then(|h| i32::try_from(h).ok()),
        duration_ms: duration_ms.and_then(|d| i64::try_from(d).ok()),
        phash: None,
        similar_to: None,
        proves: None,
        original_key: original.as_str().to_owned(),
        thumbnail_key: None,
        display_key: None,
        details,
        phase: meta.phase.clone(),
        transcript: None,
        derive_state,
        derive_error: None,
    };
    let upload_id = upload.id.clone();
    state
        .db(move |conn| {
            let mut row = row;
            // The same file in an earlier report is flagged now; a near-identical picture once
            // its perceptual hash exists (`store::photo_jobs::finish_done`).
            row.similar_to = attachments::same_bytes(conn, &row.sha256, &row.id)?;
            crate::db::write_transaction(conn, |conn| {
                if !uploads::finish(
                    conn,
                    &upload_id,
                    upload_state::COMPLETED,
                    None,
                    row.received_at,
                )? {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                attachments::insert(conn, &row)?;
                if row.derive_state.is_some() {
                    photo_jobs::enqueue(conn, &row.id, row.received_at)?;
                }
                Ok(())
            })
            .map_err(|e| match e {
                diesel::result::Error::RollbackTransaction => AppError::conflict(
                    "upload_finished",
                    "该上传已结束 (this upload already finished)",
                ),
                other => other.into(),
            })?;
            Ok(row)
        })
        .await
}

/// The API view of an evidence record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Id chosen by the phone.
    pub id: String,
    /// Uploader (制作人).
    pub owner_id: String,
    /// `photo`, `video`, `audio` (制作方法).
    pub kind: String,
    /// MIME type from the bytes.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the original.
    pub sha256: String,
    /// Client file name.
    pub filename: Option<String>,
    /// Device model.
    pub device_model: Option<String>,
    /// Device time of capture (制作时间, as the phone said).
    pub captured_at: Option<String>,
    /// Capture time from the file's own metadata.
    pub exif_captured_at: Option<String>,
    /// Server receipt time.
    pub received_at: String,
    /// Reported position (WGS-84) `[lat, lon]`.
    pub reported_position: Option<[f64; 2]>,
    /// Position in the photo's EXIF `[lat, lon]`.
    pub exif_position: Option<[f64; 2]>,
    /// Distance between them, metres.
    pub position_gap_m: Option<f64>,
    /// The photo was probably not taken where it was reported.
    pub position_mismatch: bool,
    /// Pixels.
    pub width: Option<i32>,
    /// Pixels.
    pub height: Option<i32>,
    /// Video/audio length.
    pub duration_ms: Option<i64>,
    /// Perceptual hash (photos).
    pub phash: Option<String>,
    /// An earlier attachment with the same or a near-identical picture: possible re-use.
    pub similar_to: Option<String>,
    /// What it proves (证明对象).
    pub proves: Option<String>,
    /// `before` (整改前) or `after` (整改后): the side of a rectification it shows, as the
    /// phone labelled it at upload; `null` for other evidence.
    pub phase: Option<String>,
    /// What a recording says (录音文字记录), audio only.
    pub transcript: Option<String>,
    /// Which copies can be downloaded now.
    pub variants: Vec<String>,
    /// A photo's display copy and thumbnail: `pending` (still being made — show a
    /// placeholder, 处理中), `done`, or `failed` (the photo does not decode; `copies_error`
    /// says why, the original is kept); `null` when there are none to make (video, audio,
    /// HEIF).
    pub copies: Option<String>,
    /// Why the copies could not be made (a stable code such as `corrupt_file`), with
    /// `copies: "failed"`.
    pub copies_error: Option<String>,
}

/// Build the API view.
pub fn attachment_view(a: AttachmentRow) -> AttachmentView {
    let fmt = |t: chrono::NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    let mut variants = vec!["original".to_owned()];
    if a.thumbnail_key.is_some() {
        variants.push("thumbnail".into());
    }
    if a.display_key.is_some() {
        variants.push("display".into());
    }
    AttachmentView {
        id: a.id,
        owner_id: a.owner_id,
        kind: a.kind,
        media_type: a.media_type,
        size: a.size,
        sha256: a.sha256,
        filename: a.filename,
        device_model: a.device_model,
        captured_at: a.captured_at.map(fmt),
        exif_captured_at: a.exif_captured_at.map(fmt),
        received_at: fmt(a.received_at),
        reported_position: a.reported_lat.zip(a.reported_lon).map(|(la, lo)| [la, lo]),
        exif_position: a.exif_lat.zip(a.exif_lon).map(|(la, lo)| [la, lo]),
        position_gap_m: a.position_gap_m,
        position_mismatch: a.position_mismatch,
        width: a.width,
        height: a.height,
        duration_ms: a.duration_ms,
        phash: a.phash,
        similar_to: a.similar_to,
        proves: a.proves,
        phase: a.phase,
        transcript: a.transcript,
        variants,
        // Photos recorded before the queue have no state but their copies.
        copies: a
            .derive_state
            .or_else(|| a.thumbnail_key.as_ref().map(|_| "done".to_owned())),
        copies_error: a.derive_error,
    }
}
