//! A small blocking tus 1.0 client and the API calls around it, for tests and the benchmark.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::media::sha256_hex;

/// Sign in and return the access token.
pub fn login(base: &str, username: &str, password: &str) -> String {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password, "device_id": "e2e"}))
        .send()
        .expect("login request");
    assert_eq!(resp.status(), 200, "login {username}");
    let body: Value = resp.json().expect("login JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// `key base64(value)` pairs for `Upload-Metadata`.
pub fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// One user's tus client.
#[derive(Clone)]
pub struct TusClient {
    /// `http://host:port` of the server.
    pub base: String,
    /// Bearer token.
    pub token: String,
    http: reqwest::blocking::Client,
}

impl TusClient {
    /// A client for `base` with `token`.
    pub fn new(base: &str, token: &str) -> TusClient {
        TusClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .expect("HTTP client"),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
    }

    /// The same client with another whole-request timeout.
    pub fn with_timeout(&self, timeout: Duration) -> TusClient {
        TusClient {
            http: reqwest::blocking::Client::builder()
                .timeout(timeout)
                .build()
                .expect("HTTP client"),
            ..self.clone()
        }
    }

    /// `POST /files/` for `data` (its SHA-256 in the metadata); the upload's path.
    pub fn create(
        &self,
        data: &[u8],
        attachment_id: &str,
        filename: &str,
        content_type: &str,
    ) -> Result<String, String> {
        self.create_hashed(
            data,
            &sha256_hex(data),
            attachment_id,
            filename,
            content_type,
        )
    }

    /// [`TusClient::create`] with the SHA-256 of `data` computed beforehand (as a phone does
    /// when it finishes recording), so that timing the upload does not time the client hashing.
    pub fn create_hashed(
        &self,
        data: &[u8],
        sha256: &str,
        attachment_id: &str,
        filename: &str,
        content_type: &str,
    ) -> Result<String, String> {
        let meta = metadata(&[
            ("attachment_id", attachment_id),
            ("sha256", sha256),
            ("filename", filename),
            ("filetype", content_type),
        ]);
        let resp = self
            .req(reqwest::Method::POST, "/files/")
            .header("Upload-Length", data.len().to_string())
            .header("Upload-Metadata", meta)
            .send()
            .map_err(|e| format!("create: {e}"))?;
        if resp.status() != 201 {
            return Err(format!(
                "create: HTTP {} {}",
                resp.status(),
                resp.text().unwrap_or_default()
            ));
        }
        Ok(resp.headers()["location"]
            .to_str()
            .map_err(|e| e.to_string())?
            .to_owned())
    }

    /// `PATCH location` with `body` at `offset`.
    pub fn patch(
        &self,
        location: &str,
        offset: usize,
        body: &[u8],
    ) -> reqwest::Result<reqwest::blocking::Response> {
        self.patch_bytes(location, offset, Bytes::copy_from_slice(body))
    }

    /// [`TusClient::patch`] with a body that is sent without copying it first.
    pub fn patch_bytes(
        &self,
        location: &str,
        offset: usize,
        body: Bytes,
    ) -> reqwest::Result<reqwest::blocking::Response> {
        self.req(reqwest::Method::PATCH, location)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string())
            .body(body)
            .send()
    }

    /// `HEAD location`: the server's `Upload-Offset`.
    pub fn offset(&self, location: &str) -> usize {
        let resp = self
            .req(reqwest::Method::HEAD, location)
            .send()
            .expect("HEAD");
        assert_eq!(resp.status(), 200, "HEAD {location}");
        resp.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Upload `data` in `chunk`-byte PATCHes as attachment `attachment_id`; `Ok` once the last
    /// PATCH answered 204 (the file passed its checks and became evidence), with how long each
    /// PATCH took (the last one includes the server's checks and storing the original).
    pub fn upload(
        &self,
        data: &[u8],
        attachment_id: &str,
        filename: &str,
        content_type: &str,
        chunk: usize,
    ) -> Result<Vec<Duration>, String> {
        let sha256 = sha256_hex(data);
        let data = Bytes::copy_from_slice(data);
        self.upload_hashed(&data, &sha256, attachment_id, filename, content_type, chunk)
    }

    /// [`TusClient::upload`] with the SHA-256 of `data` computed beforehand, as a phone does
    /// when the recording ends. The PATCH bodies are slices of `data`, sent without copying,
    /// as a client streaming from a file does (the benchmark times this).
    pub fn upload_hashed(
        &self,
        data: &Bytes,
        sha256: &str,
        attachment_id: &str,
        filename: &str,
        content_type: &str,
        chunk: usize,
    ) -> Result<Vec<Duration>, String> {
        let location = self.create_hashed(data, sha256, attachment_id, filename, content_type)?;
        let mut offset = 0;
        let mut took = Vec::new();
        while offset < data.len() {
            let end = (offset + chunk).min(data.len());
            let start = std::time::Instant::now();
            let resp = self
                .patch_bytes(&location, offset, data.slice(offset..end))
                .map_err(|e| format!("PATCH at {offset}: {e}"))?;
            if resp.status() != 204 {
                return Err(format!(
                    "PATCH at {offset}: HTTP {} {}",
                    resp.status(),
                    resp.text().unwrap_or_default()
                ));
            }
            took.push(start.elapsed());
            offset = end;
        }
        Ok(took)
    }

    /// `GET /api/v1/attachments/{id}`.
    pub fn attachment(&self, id: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}/api/v1/attachments/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .expect("attachment request");
        assert_eq!(resp.status(), 200, "attachment {id}");
        resp.json().expect("attachment JSON")
    }

    /// The stored original of attachment `id`.
    pub fn original(&self, id: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!(
                "{}/api/v1/attachments/{id}/content?variant=original",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .expect("content request");
        assert_eq!(resp.status(), 200, "original of {id}");
        resp.bytes().expect("content body").to_vec()
    }

    /// Assert that attachment `id` holds exactly `data`.
    pub fn assert_stored(&self, id: &str, data: &[u8]) {
        let view = self.attachment(id);
        assert_eq!(view["sha256"], sha256_hex(data), "{view}");
        assert_eq!(view["size"], data.len(), "{view}");
        assert!(
            self.original(id) == data,
            "the original of {id} differs from the uploaded bytes"
        );
    }
}
