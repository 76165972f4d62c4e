//! tus 1.0 resumable uploads at `/files/` (core + creation, creation-with-upload,
//! termination, checksum, expiration), authenticated with the bearer token.
//!
//! Written here rather than taken from a crate: no maintained Rust tus server exists for
//! actix-web, and the protocol is small. What must hold, and is tested:
//! - an offset is acknowledged only after its bytes are on disk (`sync_data`) and recorded;
//! - one upload is written by one request at a time (a database lease, so it holds across
//!   instances sharing the upload directory);
//! - a chunk whose `Upload-Checksum` does not match is discarded (460);
//! - an upload cut mid-chunk keeps the bytes that arrived, so the client resumes there;
//! - a user only ever sees their own uploads (others' are 404).

mod body;
pub mod complete;
pub mod copies;
mod headers;
pub mod jobs;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::http::header::{self, HttpDate};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use griddispatch_media::storage::Storage;
use griddispatch_media::{Limits, MediaKind, Sha256Digest};
use sha2::Digest;

use crate::auth::Actor;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::uploads::{self, state as upload_state, UploadRow};
pub use body::RunningHashes;
use body::{BodyEnd, BodyWriter};
pub use complete::{attachment_view, complete_upload};
pub use headers::{clean_filename, EvidenceMeta};
use headers::{ChecksumAlgorithm, TUS_CHECKSUMS, TUS_EXTENSIONS, TUS_VERSION};

/// Everything the upload endpoint and evidence processing need.
#[derive(Debug, Clone)]
pub struct MediaContext {
    /// Where originals and derived copies go.
    pub storage: Arc<dyn Storage>,
    /// Size and decoding limits.
    pub limits: Limits,
    /// Where unfinished uploads are written.
    pub upload_dir: PathBuf,
    /// How long an unfinished upload lives after its last byte.
    pub upload_ttl: Duration,
    /// Reported-vs-EXIF distance that flags a photo.
    pub position_mismatch_m: f64,
    /// Whole-file SHA-256 of uploads being received, kept between their PATCHes.
    pub running: RunningHashes,
    /// Wakes a photo-copy worker when a photo was recorded.
    pub copies_wake: Arc<tokio::sync::Notify>,
    /// Photos decoded at once in this process (`photo_copies.workers`, at least 1): bounds
    /// the memory the copies take, whoever runs them.
    pub copy_slots: Arc<tokio::sync::Semaphore>,
}

impl MediaContext {
    /// The largest upload any type allows.
    pub fn max_size(&self) -> u64 {
        [MediaKind::Image, MediaKind::Video, MediaKind::Audio]
            .into_iter()
            .map(|k| self.limits.max_bytes(k))
            .max()
            .unwrap_or(0)
    }

    fn path(&self, upload_id: &str) -> PathBuf {
        self.upload_dir.join(upload_id)
    }
}

/// How long one PATCH may hold an upload; a crashed request frees it after this.
const LEASE: i64 = 15 * 60;
/// A request body that sends nothing for this long counts as cut: a phone that lost its network
/// leaves a half-open connection that never ends by itself, and would hold the upload (423 to
/// the resuming client) for the whole lease.
const BODY_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// Register `/files/` and `/files/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/files")
            .wrap(
                actix_cors::Cors::default()
                    .allow_any_origin()
                    .allowed_methods(["GET", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"])
                    .allowed_headers([
                        "authorization",
                        "content-type",
                        "tus-resumable",
                        "upload-length",
                        "upload-offset",
                        "upload-metadata",
                        "upload-checksum",
                        "upload-defer-length",
                        "upload-concat",
                        "x-http-method-override",
                        "x-requested-with",
                    ])
                    .expose_headers([
                        "location",
                        "tus-resumable",
                        "tus-version",
                        "tus-extension",
                        "tus-max-size",
                        "tus-checksum-algorithm",
                        "upload-offset",
                        "upload-length",
                        "upload-metadata",
                        "upload-expires",
                        "x-request-id",
                    ])
                    .max_age(86_400),
            )
            .wrap(actix_web::middleware::DefaultHeaders::new().add(("Tus-Resumable", TUS_VERSION)))
            .service(
                web::resource("/")
                    .route(web::method(actix_web::http::Method::OPTIONS).to(options))
                    .post(create),
            )
            .service(
                web::resource("/{id}")
                    .route(web::method(actix_web::http::Method::OPTIONS).to(options))
                    .route(web::head().to(head))
                    .route(web::patch().to(patch))
                    .route(web::delete().to(terminate)),
            ),
    );
}

fn tus_error(status: u16, code: &'static str, message: impl Into<String>) -> AppError {
    AppError::status(status, code, message)
}

/// Every request but OPTIONS must speak our version (412 otherwise).
fn check_version(req: &HttpRequest) -> Result<(), AppError> {
    match req.headers().get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        other => Err(tus_error(
            412,
            "tus_version_unsupported",
            format!(
                "不支持的 tus 版本 {} ，本服务器支持 {TUS_VERSION} (unsupported Tus-Resumable; this server speaks {TUS_VERSION})",
                other.unwrap_or("(missing)")
            ),
        )),
    }
}

fn header_u64(req: &HttpRequest, name: &str) -> Result<Option<u64>, AppError> {
    req.headers()
        .get(name)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    AppError::bad_request(
                        "invalid_header",
                        format!("{name} 须为非负整数 ({name} must be a non-negative integer)"),
                    )
                })
        })
        .transpose()
}

fn expires_header(t: NaiveDateTime) -> String {
    let st: SystemTime = t.and_utc().into();
    HttpDate::from(st).to_string()
}

fn location(id: &str) -> String {
    format!("/files/{id}")
}

/// `OPTIONS`: what this server supports.
#[utoipa::path(options, path = "/files/", tag = "evidence",
    responses((status = 204, description = "tus capabilities", headers(
        ("Tus-Version" = String, description = "1.0.0"),
        ("Tus-Extension" = String, description = "creation, creation-with-upload, termination, checksum, expiration"),
        ("Tus-Checksum-Algorithm" = String, description = "sha1, sha256"),
        ("Tus-Max-Size" = u64, description = "largest upload in bytes")))))]
pub async fn options(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Tus-Version", TUS_VERSION))
        .insert_header(("Tus-Extension", TUS_EXTENSIONS))
        .insert_header(("Tus-Checksum-Algorithm", TUS_CHECKSUMS))
        .insert_header(("Tus-Max-Size", state.media.max_size().to_string()))
        .finish()
}

async fn load_own(state: &AppState, id: String, actor: &Actor) -> Result<UploadRow, AppError> {
    let user = actor.user_id.clone();
    state
        .db(move |conn| {
            uploads::find(conn, &id)?
                .filter(|u| u.owner_id == user)
                .ok_or_else(|| AppError::NotFound("没有这个上传 (no such upload)".into()))
        })
        .await
}

fn gone(upload: &UploadRow) -> AppError {
    let why = match upload.state.as_str() {
        upload_state::EXPIRED => "上传已过期，请重新上传 (the upload expired; start again)",
        upload_state::TERMINATED => "上传已删除 (the upload was deleted)",
        _ => "文件未通过检查，已被拒收 (the file was refused; see the error of the last chunk)",
    };
    tus_error(410, "upload_gone", why)
}

/// `POST /files/`: create an upload, optionally with its first bytes.
#[utoipa::path(post, path = "/files/", tag = "evidence", security(("bearer" = [])),
    params(("Tus-Resumable" = String, Header, description = "tus protocol version: 1.0.0"),
        ("Upload-Length" = u64, Header, description = "total size in bytes"),
        ("Upload-Metadata" = String, Header, description = "tus metadata: attachment_id, sha256, filename, filetype, captured_at, lat, lon, crs, …; see docs/media.md")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "optional first bytes (creation-with-upload)"),
    responses((status = 201, description = "created; Location names the upload, Upload-Offset how much arrived", headers(("Location" = String), ("Upload-Offset" = u64), ("Upload-Expires" = String))),
        (status = 400, description = "invalid_header, invalid_metadata", body = griddispatch_protocol::ErrorBody),
        (status = 409, description = "attachment_id_taken", body = griddispatch_protocol::ErrorBody),
        (status = 412, description = "tus_version_unsupported", body = griddispatch_protocol::ErrorBody),
        (status = 413, description = "larger than Tus-Max-Size", body = griddispatch_protocol::ErrorBody),
        (status = 415, description = "unsupported_type", body = griddispatch_protocol::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    check_version(&req)?;
    if req.headers().contains_key("upload-defer-length") {
        return Err(AppError::bad_request(
            "defer_length_unsupported",
            "不支持 Upload-Defer-Length，请提供 Upload-Length (give Upload-Length)",
        ));
    }
    let length = header_u64(&req, "upload-length")?.ok_or_else(|| {
        AppError::bad_request(
            "missing_upload_length",
            "缺少 Upload-Length (Upload-Length is required)",
        )
    })?;
    let max = state.media.max_size();
    if length > max {
        return Err(AppError::PayloadTooLarge(format!(
            "文件超过上限 {max} 字节 (larger than the {max}-byte limit)"
        )));
    }
    let raw = headers::parse_metadata(
        req.headers()
            .get("upload-metadata")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    )?;
    let meta = EvidenceMeta::from_map(raw)?;
    let length_i =
        i64::try_from(length).map_err(|_| AppError::PayloadTooLarge("too large".into()))?;

    let now = db::now();
    let ttl = state.media.upload_ttl;
    let owner = actor.user_id.clone();
    let meta_json = serde_json::to_string(&meta).map_err(|e| AppError::Internal(e.to_string()))?;
    let new_id = uuid::Uuid::new_v4().simple().to_string();
    let attachment_id = meta.attachment_id.clone();
    let (upload, created) = state
        .db(move |conn| {
            if let Some(existing) = uploads::find_by_attachment(conn, &attachment_id)? {
                if existing.owner_id != owner {
                    return Err(AppError::conflict("attachment_id_taken", "该 attachment_id 已被他人使用 (attachment_id belongs to another user's upload)"));
                }
                let ended = existing.state == upload_state::EXPIRED
                    || existing.state == upload_state::TERMINATED;
                // A phone offline past the expiry (or one that deleted its upload) starts the
                // same evidence again: the ended upload holds no evidence, so it is forgotten.
                if !(ended && uploads::forget_ended(conn, &existing.id, &existing.state)?) {
                    if existing.length != length_i {
                        return Err(AppError::conflict("upload_conflict", "同一 attachment_id 的文件长度不同 (this attachment_id was created with another Upload-Length)"));
                    }
                    return Ok((existing, false));
                }
            }
            let row = uploads::NewUpload {
                id: &new_id,
                attachment_id: &attachment_id,
                owner_id: &owner,
                length: length_i,
                offset: 0,
                metadata: &meta_json,
                state: upload_state::RECEIVING,
                created_at: now,
                updated_at: now,
                expires_at: now + ttl,
            };
            match uploads::insert(conn, &row) {
                Ok(()) => {}
                // Two creates with one attachment id raced: answer with the winner's upload.
                Err(e) if db::is_unique_violation(&e) => {
                    let winner = uploads::find_by_attachment(conn, &attachment_id)?
                        .filter(|u| u.owner_id == owner)
                        .ok_or_else(|| AppError::conflict("attachment_id_taken", "attachment_id taken"))?;
                    return Ok((winner, false));
                }
                Err(e) => return Err(e.into()),
            }
            let created = uploads::find(conn, &new_id)?.ok_or_else(|| AppError::Internal("upload vanished".into()))?;
            Ok((created, true))
        })
        .await?;
    if created {
        tokio::fs::create_dir_all(&state.media.upload_dir)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        tokio::fs::File::create(state.media.path(&upload.id))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }

    let mut resp = HttpResponse::Created();
    resp.insert_header((header::LOCATION, location(&upload.id)));
    let with_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == OFFSET_OCTET_STREAM.as_bytes());
    if created && with_body && upload.state == upload_state::RECEIVING {
        // creation-with-upload: the first chunk rides on the POST.
        let outcome = write_chunk(&state, &req, upload, 0, payload).await?;
        resp.insert_header(("Upload-Offset", outcome.offset.to_string()));
        resp.insert_header(("Upload-Expires", expires_header(outcome.expires_at)));
        return Ok(resp.finish());
    }
    if upload.state == upload_state::RECEIVING {
        resp.insert_header(("Upload-Expires", expires_header(upload.expires_at)));
    }
    resp.insert_header(("Upload-Offset", upload.offset.to_string()));
    Ok(resp.finish())
}

/// Finish an upload whose bytes all arrived but whose evidence was not made; 423 while another
/// request (the cut one, still processing) holds it.
async fn finish_stranded(state: &AppState, upload: &UploadRow) -> Result<(), AppError> {
    let token = uuid::Uuid::new_v4().to_string();
    let now = db::now();
    let (i, t) = (upload.id.clone(), token.clone());
    let locked = state
        .db(move |conn| {
            Ok(uploads::try_lock(
                conn,
                &i,
                &t,
                now,
                now + Duration::seconds(LEASE),
            )?)
        })
        .await?;
    if !locked {
        return Err(tus_error(
            423,
            "upload_locked",
            "该上传正在处理，请稍后重试 (the upload is being finished; retry shortly)",
        ));
    }
    let done = complete_upload(state, upload, None).await;
    let (i, t) = (upload.id.clone(), token);
    let _ = state
        .db(move |conn| Ok(uploads::unlock(conn, &i, &t)?))
        .await;
    done.map(|_| ())
}

/// `HEAD /files/{id}`: how far the upload got.
#[utoipa::path(head, path = "/files/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "upload id"), ("Tus-Resumable" = String, Header, description = "tus protocol version: 1.0.0")),
    responses((status = 200, description = "Upload-Offset and Upload-Length", headers(("Upload-Offset" = u64), ("Upload-Length" = u64))),
        (status = 404, description = "not_found"), (status = 410, description = "upload_gone"), (status = 412, description = "tus_version_unsupported"),
        (status = 423, description = "upload_locked: the last bytes' request is still being finished")))]
pub async fn head(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    check_version(&req)?;
    let id = path.into_inner();
    let mut upload = load_own(&state, id.clone(), &actor).await?;
    if upload.state == upload_state::RECEIVING && upload.offset == upload.length {
        // Every byte arrived but the request that brought the last ones was cut before the
        // evidence was made (a phone losing signal at the last moment): finish it now, rather
        // than leave the report without its photo until the upkeep job comes by.
        let finished = finish_stranded(&state, &upload).await;
        upload = load_own(&state, id, &actor).await?;
        // A file the checks refused is rejected now (410 below); anything else is said.
        if let (Err(e), upload_state::RECEIVING) = (finished, upload.state.as_str()) {
            return Err(e);
        }
    }
    match upload.state.as_str() {
        upload_state::RECEIVING | upload_state::COMPLETED => {}
        _ => return Err(gone(&upload)),
    }
    let meta: EvidenceMeta =
        serde_json::from_str(&upload.metadata).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut resp: HttpResponseBuilder = HttpResponse::Ok();
    resp.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Upload-Offset", upload.offset.to_string()))
        .insert_header(("Upload-Length", upload.length.to_string()))
        .insert_header(("Upload-Metadata", headers::encode_metadata(&meta.raw)));
    if upload.state == upload_state::RECEIVING {
        resp.insert_header(("Upload-Expires", expires_header(upload.expires_at)));
    }
    Ok(resp.finish())
}

/// `PATCH /files/{id}`: append bytes at `Upload-Offset`.
#[utoipa::path(patch, path = "/files/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "upload id"), ("Tus-Resumable" = String, Header, description = "tus protocol version: 1.0.0"),
        ("Upload-Offset" = u64, Header, description = "where these bytes go"),
        ("Upload-Checksum" = Option<String>, Header, description = "sha1|sha256 and the base64 digest of this chunk")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "stored; Upload-Offset is the new offset", headers(("Upload-Offset" = u64))),
        (status = 404, description = "not_found", body = griddispatch_protocol::ErrorBody),
        (status = 409, description = "offset_mismatch, upload_conflict, evidence_immutable", body = griddispatch_protocol::ErrorBody),
        (status = 410, description = "upload_gone", body = griddispatch_protocol::ErrorBody),
        (status = 412, description = "tus_version_unsupported", body = griddispatch_protocol::ErrorBody),
        (status = 415, description = "Content-Type must be application/offset+octet-stream", body = griddispatch_protocol::ErrorBody),
        (status = 423, description = "upload_locked", body = griddispatch_protocol::ErrorBody),
        (status = 460, description = "checksum_mismatch", body = griddispatch_protocol::ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    check_version(&req)?;
    let is_octets = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == OFFSET_OCTET_STREAM.as_bytes());
    if !is_octets {
        return Err(AppError::UnsupportedMediaType(format!(
            "PATCH 须使用 Content-Type: {OFFSET_OCTET_STREAM} (PATCH needs Content-Type: {OFFSET_OCTET_STREAM})"
        )));
    }
    let offset = header_u64(&req, "upload-offset")?.ok_or_else(|| {
        AppError::bad_request(
            "missing_upload_offset",
            "缺少 Upload-Offset (Upload-Offset is required)",
        )
    })?;
    let upload = load_own(&state, path.into_inner(), &actor).await?;
    let outcome = write_chunk(&state, &req, upload, offset, payload).await?;
    let mut resp = HttpResponse::NoContent();
    resp.insert_header(("Upload-Offset", outcome.offset.to_string()));
    if !outcome.completed {
        resp.insert_header(("Upload-Expires", expires_header(outcome.expires_at)));
    }
    Ok(resp.finish())
}

struct ChunkOutcome {
    offset: i64,
    expires_at: NaiveDateTime,
    completed: bool,
}

/// Write one request body at `offset` under the upload's lease; complete the upload when the
/// last byte arrives.
async fn write_chunk(
    state: &AppState,
    req: &HttpRequest,
    upload: UploadRow,
    offset: u64,
    payload: web::Payload,
) -> Result<ChunkOutcome, AppError> {
    let now = db::now();
    match upload.state.as_str() {
        upload_state::RECEIVING if upload.expires_at <= now => {
            jobs::expire_one(state, &upload.id).await?;
            return Err(tus_error(
                410,
                "upload_gone",
                "上传已过期，请重新上传 (the upload expired; start again)",
            ));
        }
        upload_state::RECEIVING => {}
        upload_state::COMPLETED => {
            return Err(AppError::conflict(
                "offset_mismatch",
                format!(
                    "上传已完成，偏移应为 {} (upload already complete at offset {})",
                    upload.offset, upload.offset
                ),
            ));
        }
        _ => return Err(gone(&upload)),
    }
    let offset_i = i64::try_from(offset).unwrap_or(i64::MAX);
    if offset_i != upload.offset {
        return Err(AppError::conflict(
            "offset_mismatch",
            format!(
                "Upload-Offset 应为 {} 而不是 {offset} (expected Upload-Offset {})",
                upload.offset, upload.offset
            ),
        ));
    }
    let checksum = req
        .headers()
        .get("upload-checksum")
        .map(|v| headers::parse_checksum(v.to_str().unwrap_or_default()))
        .transpose()?;
    let declared_len = header_u64(req, "content-length")?;
    let remaining = u64::try_from(upload.length - upload.offset).unwrap_or(0);
    if declared_len.is_some_and(|n| n > remaining) {
        return Err(AppError::PayloadTooLarge(format!(
            "本次数据超出文件剩余长度 {remaining} 字节 (chunk longer than the {remaining} bytes left)"
        )));
    }

    let token = uuid::Uuid::new_v4().to_string();
    let id = upload.id.clone();
    let (t, i) = (token.clone(), id.clone());
    let locked = state
        .db(move |conn| {
            Ok(uploads::try_lock(
                conn,
                &i,
                &t,
                now,
                now + Duration::seconds(LEASE),
            )?)
        })
        .await?;
    if !locked {
        return Err(tus_error(423, "upload_locked", "该上传正被另一请求写入，请稍后重试 (another request is writing this upload; retry shortly)"));
    }
    let result = write_locked(state, &upload, offset, remaining, checksum, payload, &token).await;
    if result.is_err() {
        let (t, i) = (token.clone(), id.clone());
        // A PATCH that succeeded gave the lease up with its offset, or when the upload finished.
        let _ = state
            .db(move |conn| Ok(uploads::unlock(conn, &i, &t)?))
            .await;
    }
    result
}

async fn write_locked(
    state: &AppState,
    upload: &UploadRow,
    offset: u64,
    remaining: u64,
    checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    mut payload: web::Payload,
    token: &str,
) -> Result<ChunkOutcome, AppError> {
    let io = |e: std::io::Error| AppError::Internal(format!("upload file: {e}"));
    let running = state.media.running.take(&upload.id, offset);
    let mut writer = BodyWriter::new(state.media.path(&upload.id), offset, checksum, running);
    let mut batch: Vec<Bytes> = Vec::new();
    let mut batch_len = 0usize;
    let mut received: u64 = 0;
    let mut cut = false;
    loop {
        let Ok(next) = tokio::time::timeout(BODY_IDLE, payload.next()).await else {
            tracing::info!(upload = %upload.id, "upload body stalled; treated as cut");
            cut = true;
            break;
        };
        let Some(chunk) = next else { break };
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(upload = %upload.id, error = %e, "upload body ended early");
                cut = true;
                break;
            }
        };
        if received + chunk.len() as u64 > remaining {
            writer.abandon().await.map_err(io)?;
            return Err(AppError::PayloadTooLarge(format!(
                "数据超出 Upload-Length (more bytes than Upload-Length; {remaining} were left)"
            )));
        }
        received += chunk.len() as u64;
        batch_len += chunk.len();
        batch.push(chunk);
        if batch_len >= body::BATCH {
            writer.write(std::mem::take(&mut batch)).await.map_err(io)?;
            batch_len = 0;
        }
    }
    let (written, whole) = match writer.finish(batch, cut).await.map_err(io)? {
        BodyEnd::Stored { written, whole } => (written, whole),
        BodyEnd::Discarded { cut: true } => {
            return Err(AppError::bad_request(
                "upload_incomplete",
                "数据未传完，已丢弃本段 (chunk cut off; discarded)",
            ))
        }
        BodyEnd::Discarded { cut: false } => {
            return Err(tus_error(460, "checksum_mismatch", "本段数据校验不符，已丢弃，请重传 (chunk checksum mismatch; the chunk was discarded, send it again)"));
        }
    };

    let new_offset = upload.offset + i64::try_from(written).unwrap_or(i64::MAX);
    let now = db::now();
    let expires_at = now + state.media.upload_ttl;
    let (i, t) = (upload.id.clone(), token.to_owned());
    // The upload stays leased through its completion; any other PATCH lets go here.
    let completes = new_offset == upload.length && !cut;
    let recorded = state
        .db(move |conn| {
            Ok(uploads::advance(
                conn, &i, &t, new_offset, now, expires_at, !completes,
            )?)
        })
        .await?;
    if !recorded {
        return Err(tus_error(
            423,
            "upload_locked",
            "上传租约已失效，请重试 (lost the upload lease; retry)",
        ));
    }
    if completes {
        let mut done = upload.clone();
        done.offset = new_offset;
        let sha256 = whole.map(|h| Sha256Digest::from_bytes(h.finalize().into()));
        complete_upload(state, &done, sha256).await?;
        return Ok(ChunkOutcome {
            offset: new_offset,
            expires_at,
            completed: true,
        });
    }
    if let Some(h) = whole {
        let at = offset + written;
        state.media.running.put(&upload.id, at, h);
    }
    Ok(ChunkOutcome {
        offset: new_offset,
        expires_at,
        completed: false,
    })
}

/// `DELETE /files/{id}`: termination. Finished evidence cannot be deleted.
#[utoipa::path(delete, path = "/files/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "upload id"), ("Tus-Resumable" = String, Header, description = "tus protocol version: 1.0.0")),
    responses((status = 204, description = "terminated"),
        (status = 404, description = "not_found", body = griddispatch_protocol::ErrorBody),
        (status = 409, description = "evidence_immutable", body = griddispatch_protocol::ErrorBody),
        (status = 412, description = "tus_version_unsupported", body = griddispatch_protocol::ErrorBody)))]
pub async fn terminate(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    check_version(&req)?;
    let upload = load_own(&state, path.into_inner(), &actor).await?;
    match upload.state.as_str() {
        upload_state::RECEIVING => {}
        upload_state::COMPLETED => {
            return Err(AppError::conflict(
                "evidence_immutable",
                "证据已入库，不可删除 (finished evidence cannot be deleted)",
            ))
        }
        _ => return Err(gone(&upload)),
    }
    let id = upload.id.clone();
    let token = uuid::Uuid::new_v4().to_string();
    let now = db::now();
    let finished = state
        .db(move |conn| {
            if !uploads::try_lock(conn, &id, &token, now, now + Duration::seconds(LEASE))? {
                return Err(AppError::status(
                    423,
                    "upload_locked",
                    "该上传正被写入，请稍后重试 (upload busy; retry)",
                ));
            }
            Ok(uploads::finish(
                conn,
                &id,
                upload_state::TERMINATED,
                None,
                now,
            )?)
        })
        .await?;
    if finished {
        state.media.running.forget(&upload.id);
        let _ = tokio::fs::remove_file(state.media.path(&upload.id)).await;
    }
    Ok(HttpResponse::NoContent().finish())
}
