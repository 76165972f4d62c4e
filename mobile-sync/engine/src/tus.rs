//! Evidence uploads with tus 1.0 (`docs/media.md`): create with the phone's attachment id
//! and SHA-256, PATCH in chunks with `Upload-Checksum`, resume from `HEAD` after a cut or a
//! restart. An upload that expired or was deleted on the server is created again under the
//! same attachment id (the server starts it afresh); a file the server refuses (hash mismatch,
//! unsupported) is marked failed and never retried. Written here rather than taken from a
//! crate: no maintained Rust tus client exists, and the part used is four requests.

use std::io::{Read, Seek, SeekFrom};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::blocking::Response;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::capture::sha256_file;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::http::{error_of, Req};
use crate::store::{key, Upload};
use crate::sync::SyncReport;

const TUS_VERSION: &str = "1.0.0";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
/// Chunk checksum failures in a row before giving up until the next sync.
const MAX_CHECKSUM_RETRIES: u32 = 3;

/// How one upload ended, when it did not simply succeed.
enum Failure {
    /// Refused for good: `(code, message)`.
    Refused(String, String),
    /// Try again later.
    Later(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            // 4xx other than the ones the upload loop handles itself: the server will not
            // take these bytes (hash mismatch, unsupported type, upload gone, …).
            Error::Server { code, message, .. } => Failure::Refused(code, message),
            other => Failure::Later(other),
        }
    }
}

/// What `HEAD` said.
enum Head {
    Offset(u64),
    /// Unknown here (another server, or never created): create it again.
    Missing,
}

fn header_u64(resp: &Response, name: &str) -> Option<u64> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok())
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs.
fn metadata(u: &Upload) -> String {
    let mut pairs: Vec<(&str, String)> = vec![
        ("attachment_id", u.attachment_id.clone()),
        ("filename", u.file_name.clone()),
        ("content_type", u.content_type.clone()),
        ("sha256", u.sha256.clone()),
    ];
    if let Some(t) = u.captured_at {
        pairs.push(("captured_at", crate::store::ts(t)));
    }
    if let Some(p) = &u.phase {
        pairs.push(("phase", p.clone()));
    }
    if let (Some(lat), Some(lon)) = (u.lat, u.lon) {
        pairs.push(("lat", lat.to_string()));
        pairs.push(("lon", lon.to_string()));
        pairs.push(("crs", u.crs.clone().unwrap_or_else(|| "wgs84".into())));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

impl Engine {
    /// Upload every pending file of `user`, oldest first. A refused file is marked failed and
    /// the next one goes on; a temporary failure stops here (the rest resume next time).
    pub(crate) fn upload_all(&self, user: &str, report: &mut SyncReport) -> Result<()> {
        report.held = self.lock().held_uploads(user)?;
        let pending = self.lock().pending_uploads(user)?;
        for u in pending {
            self.lock().upload_attempt(&u.attachment_id)?;
            match self.upload_one(&u) {
                Ok(()) => {
                    self.lock().upload_done(&u.attachment_id, u.size)?;
                    // The server holds the verified original now.
                    let _ = std::fs::remove_file(self.file_path(&u));
                    report.uploaded += 1;
                }
                Err(Failure::Refused(code, message)) => {
                    self.lock()
                        .upload_failed(&u.attachment_id, &code, &message)?;
                    let mut failed = u.clone();
                    failed.state = crate::store::UploadState::Failed;
                    failed.code = Some(code);
                    failed.message = Some(message);
                    report.upload_failed.push(failed);
                }
                Err(Failure::Later(e)) => return Err(e),
            }
        }
        Ok(())
    }

    fn tus_endpoint(&self) -> String {
        self.lock()
            .meta(key::SERVER_INFO)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str::<griddispatch_protocol::sync::SyncInfo>(&t).ok())
            .map_or_else(|| "/files/".to_owned(), |i| i.tus_endpoint)
    }

    fn upload_one(&self, u: &Upload) -> Result<(), Failure> {
        let path = self.file_path(u);
        if !path.exists() {
            return Err(Failure::Refused(
                "local_file_missing".into(),
                "本地证据文件已丢失 (the captured file is gone)".into(),
            ));
        }
        let mut location = u.upload_url.clone();
        let mut offset = None;
        // An upload the server no longer takes: expired or deleted ones are started afresh by
        // creating again; a refused one comes back under the same location, refused for good.
        let mut gone = None;
        if let Some(l) = &location {
            match self.tus_head(l) {
                Ok(Head::Offset(o)) => offset = Some(o),
                Ok(Head::Missing) => location = None,
                Err(Failure::Refused(code, message)) if code == "upload_gone" => {
                    gone = Some((l.clone(), code, message));
                    location = None;
                }
                Err(e) => return Err(e),
            }
        }
        let location = match location {
            Some(l) => l,
            None => {
                // Before the first byte leaves, make sure the copy is what was captured.
                if sha256_file(&path).map_err(Failure::Later)? != u.sha256 {
                    return Err(Failure::Refused(
                        "local_file_changed".into(),
                        "证据文件在拍摄后被改动，无法上传 (the file changed after capture)".into(),
                    ));
                }
                let (l, o) = self.tus_create(u)?;
                if let Some((old, code, message)) = gone {
                    if old == l {
                        return Err(Failure::Refused(code, message));
                    }
                }
                offset = Some(o);
                l
            }
        };
        let mut offset = offset.unwrap_or(0);
        self.lock()
            .upload_progress(&u.attachment_id, &location, offset)
            .map_err(Failure::Later)?;
        let mut checksum_failures = 0;
        loop {
            if offset >= u.size {
                // Every byte arrived. Completed evidence exists; otherwise the completion step
                // failed on the server and an empty PATCH at the end runs it again.
                if self.attachment_exists(&u.attachment_id)? {
                    return Ok(());
                }
                self.tus_patch(&location, u.size, Vec::new())?;
                return Ok(());
            }
            let chunk = read_chunk(&path, offset, self.config.chunk_size, u.size)
                .map_err(Failure::Later)?;
            match self.tus_patch(&location, offset, chunk) {
                Ok(new_offset) => {
                    checksum_failures = 0;
                    offset = new_offset;
                    self.lock()
                        .upload_progress(&u.attachment_id, &location, offset)
                        .map_err(Failure::Later)?;
                    if offset >= u.size {
                        // The PATCH that delivered the last byte was answered only after the
                        // server verified and stored the file.
                        return Ok(());
                    }
                }
                Err(Failure::Refused(code, _)) if code == "offset_mismatch" => {
                    offset = match self.tus_head(&location)? {
                        Head::Offset(o) => o,
                        Head::Missing => {
                            return Err(Failure::Later(Error::Protocol(
                                "上传在续传时消失 (the upload vanished while resuming)".into(),
                            )))
                        }
                    };
                }
                // Expired (or deleted) between two PATCHes: the next sync creates it again.
                Err(Failure::Refused(code, message)) if code == "upload_gone" => {
                    return Err(Failure::Later(Error::Network(message)));
                }
                Err(Failure::Refused(code, message)) if code == "checksum_mismatch" => {
                    checksum_failures += 1;
                    if checksum_failures >= MAX_CHECKSUM_RETRIES {
                        return Err(Failure::Later(Error::Network(message)));
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }

    fn tus_create(&self, u: &Upload) -> Result<(String, u64), Failure> {
        let endpoint = self.tus_endpoint();
        let req = Req::new(Method::POST, &endpoint)
            .header("Tus-Resumable", TUS_VERSION)
            .header("Upload-Length", u.size.to_string())
            .header("Upload-Metadata", metadata(u))
            .bytes(Vec::new());
        let resp = self.call(&req)?;
        if resp.status() != StatusCode::CREATED && !resp.status().is_success() {
            return Err(error_of(resp).into());
        }
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| Failure::Later(Error::Protocol("tus: no Location".into())))?;
        // An upload created before with this attachment id comes back with its offset.
        let offset = header_u64(&resp, "upload-offset").unwrap_or(0);
        Ok((location, offset))
    }

    fn tus_head(&self, location: &str) -> Result<Head, Failure> {
        let req = Req::new(Method::HEAD, location).header("Tus-Resumable", TUS_VERSION);
        let resp = self.call(&req)?;
        match resp.status() {
            StatusCode::OK | StatusCode::NO_CONTENT => header_u64(&resp, "upload-offset")
                .map(Head::Offset)
                .ok_or_else(|| Failure::Later(Error::Protocol("tus: HEAD without Upload-Offset".into()))),
            StatusCode::NOT_FOUND => Ok(Head::Missing),
            // HEAD has no body: name the common refusal ourselves.
            StatusCode::GONE => Err(Failure::Refused(
                "upload_gone".into(),
                "服务器已不再接收此文件（过期、删除或未通过检查）(the upload expired, was deleted or was refused)".into(),
            )),
            _ => Err(error_of(resp).into()),
        }
    }

    /// PATCH `chunk` at `offset`; the new offset.
    fn tus_patch(&self, location: &str, offset: u64, chunk: Vec<u8>) -> Result<u64, Failure> {
        let digest = STANDARD.encode(Sha256::digest(&chunk));
        let len = chunk.len() as u64;
        let req = Req::new(Method::PATCH, location)
            .header("Tus-Resumable", TUS_VERSION)
            .header("Content-Type", OFFSET_OCTET_STREAM)
            .header("Upload-Offset", offset.to_string())
            .header("Upload-Checksum", format!("sha256 {digest}"))
            .bytes(chunk);
        let resp = self.call(&req)?;
        if !resp.status().is_success() {
            return Err(error_of(resp).into());
        }
        Ok(header_u64(&resp, "upload-offset").unwrap_or(offset + len))
    }

    /// Whether the server holds the finished evidence record.
    fn attachment_exists(&self, attachment_id: &str) -> Result<bool, Failure> {
        let path = format!("/api/v1/attachments/{attachment_id}");
        let resp = self.call(&Req::new(Method::GET, &path))?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(Failure::Later(error_of(resp))),
        }
    }
}

fn read_chunk(path: &std::path::Path, offset: u64, max: usize, size: u64) -> Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let want = usize::try_from((size - offset).min(max as u64)).unwrap_or(max);
    let mut buf = vec![0u8; want];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metadata_is_base64_pairs_the_server_can_read() {
        let u = Upload {
            attachment_id: "0193a1b2-0000-7000-8000-000000000001".into(),
            user_id: "u".into(),
            file_name: "现场 1.jpg".into(),
            local_path: "files/x".into(),
            content_type: "image/jpeg".into(),
            size: 10,
            sha256: "ab".repeat(32),
            captured_at: None,
            lat: Some(35.1),
            lon: Some(112.5),
            crs: None,
            upload_url: None,
            offset: 0,
            state: crate::store::UploadState::Pending,
            code: None,
            message: None,
            attempts: 0,
            phase: Some("after".into()),
        };
        let m = metadata(&u);
        let decoded: Vec<(String, String)> = m
            .split(',')
            .map(|p| {
                let (k, v) = p.split_once(' ').unwrap();
                (
                    k.to_owned(),
                    String::from_utf8(STANDARD.decode(v).unwrap()).unwrap(),
                )
            })
            .collect();
        assert!(decoded.contains(&("filename".into(), "现场 1.jpg".into())));
        assert!(decoded.contains(&("sha256".into(), "ab".repeat(32))));
        assert!(decoded.contains(&("crs".into(), "wgs84".into())));
        assert!(decoded.contains(&("phase".into(), "after".into())));
        assert!(!m.contains(' ') || m.split(',').all(|p| p.matches(' ').count() == 1));
    }
}
