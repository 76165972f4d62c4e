//! Talking to the server: the bearer token, refresh-and-retry on 401 (`docs/sync-protocol.md`
//! §1.2), the protocol header, and turning error answers into [`Error`]s.

use std::time::Duration;

use chrono::Utc;
use griddispatch_protocol::auth::{RefreshRequest, TokenResponse};
use griddispatch_protocol::sync::{PROTOCOL_HEADER, PROTOCOL_VERSION};
use griddispatch_protocol::ErrorBody;
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::{Method, StatusCode};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::{Session, Store};

/// Refresh the access token when it has less than this left.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::seconds(10);

/// Longest a refresh may take (it holds the store's write lock).
const REFRESH_TIMEOUT: Duration = Duration::from_secs(15);

/// One request, rebuilt for a retry after a token refresh.
pub(crate) struct Req<'a> {
    pub method: Method,
    /// A path on the server (`/sync/v1/push`) or an absolute URL (a tus `Location`).
    pub target: &'a str,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub json: Option<serde_json::Value>,
    pub bytes: Option<Vec<u8>>,
    /// Send `GridSync-Protocol` (the `/sync/v1` endpoints).
    pub sync_protocol: bool,
    pub timeout: Option<Duration>,
}

impl<'a> Req<'a> {
    pub fn new(method: Method, target: &'a str) -> Self {
        Req {
            method,
            target,
            query: Vec::new(),
            headers: Vec::new(),
            json: None,
            bytes: None,
            sync_protocol: false,
            timeout: None,
        }
    }

    pub fn sync(mut self) -> Self {
        self.sync_protocol = true;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.json = Some(body);
        self
    }

    pub fn bytes(mut self, body: Vec<u8>) -> Self {
        self.bytes = Some(body);
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
}

/// `base` + `target` unless `target` is already absolute.
pub(crate) fn url(base: &str, target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        target.to_owned()
    } else {
        format!("{base}{target}")
    }
}

/// The error an answer carries: 5xx, 423 and 429 are temporary.
pub(crate) fn error_of(resp: Response) -> Error {
    let status = resp.status();
    let body: Option<ErrorBody> = resp.json().ok();
    let (code, message) = match body {
        Some(b) => (b.error.code, b.error.message),
        None => (
            format!("http_{}", status.as_u16()),
            status.canonical_reason().unwrap_or("error").to_owned(),
        ),
    };
    if status.is_server_error()
        || status == StatusCode::LOCKED
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        return Error::Unavailable {
            status: status.as_u16(),
            message: format!("{message} ({code})"),
        };
    }
    if status == StatusCode::UPGRADE_REQUIRED || code == "unsupported_protocol" {
        return Error::UnsupportedProtocol(message);
    }
    Error::Server {
        status: status.as_u16(),
        code,
        message,
    }
}

impl Engine {
    fn build(&self, base: &str, req: &Req<'_>, token: Option<&str>) -> RequestBuilder {
        let mut b = self
            .http
            .request(req.method.clone(), url(base, req.target))
            .query(&req.query);
        if let Some(t) = token {
            b = b.bearer_auth(t);
        }
        if req.sync_protocol {
            b = b.header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
        }
        for (k, v) in &req.headers {
            b = b.header(*k, v);
        }
        if let Some(j) = &req.json {
            b = b.json(j);
        }
        if let Some(bytes) = &req.bytes {
            b = b.body(bytes.clone());
        }
        if let Some(t) = req.timeout {
            b = b.timeout(t);
        }
        b
    }

    /// Send without a token (sign-in, `/sync/v1/info`).
    pub(crate) fn call_anonymous(&self, base: &str, req: &Req<'_>) -> Result<Response> {
        Ok(self.build(base, req, None).send()?)
    }

    /// Send as the signed-in user: refresh first if the access token is (nearly) expired; on
    /// 401 refresh and send the same request once more. 426 becomes
    /// [`Error::UnsupportedProtocol`]; other answers are returned as they are.
    pub(crate) fn call(&self, req: &Req<'_>) -> Result<Response> {
        let session = self.signed_in()?;
        let mut token = match (&session.access_token, session.access_expires_at) {
            (Some(t), Some(exp)) if exp - REFRESH_MARGIN > Utc::now() => t.clone(),
            (stale, _) => self.refresh(stale.as_deref())?,
        };
        let mut refreshed = false;
        loop {
            let resp = self.build(&session.server_url, req, Some(&token)).send()?;
            match resp.status() {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    refreshed = true;
                    token = self.refresh(Some(&token))?;
                }
                StatusCode::UNAUTHORIZED => {
                    // A token minted a moment ago is refused: the session is gone.
                    let err = error_of(resp);
                    self.lock().mark_signed_out(&err.to_string())?;
                    return Err(Error::SignedOut(err.to_string()));
                }
                StatusCode::UPGRADE_REQUIRED => return Err(error_of(resp)),
                _ => return Ok(resp),
            }
        }
    }

    /// The remembered session if it still holds tokens.
    pub(crate) fn signed_in(&self) -> Result<Session> {
        let session = self.lock().session()?.ok_or(Error::NotSignedIn)?;
        if session.refresh_token.is_none() {
            return Err(Error::SignedOut(
                session
                    .signed_out_reason
                    .clone()
                    .unwrap_or_else(|| "请重新登录 (sign in again)".into()),
            ));
        }
        Ok(session)
    }

    /// Exchange the refresh token for new tokens, unless someone else (another process on the
    /// same store) already replaced `stale`. Serialised across processes by holding the
    /// store's write lock on a second connection: the refresh token is single-use, and two
    /// processes presenting it would get the session revoked (`refresh_token_reused`).
    pub(crate) fn refresh(&self, stale: Option<&str>) -> Result<String> {
        let mut lockconn = Store::open(&self.dir)?;
        let tx = lockconn.write()?;
        // Read the tokens inside the lock.
        let session = crate::store::read_session_in(&tx)?.ok_or(Error::NotSignedIn)?;
        if let (Some(access), Some(exp)) = (&session.access_token, session.access_expires_at) {
            if Some(access.as_str()) != stale && exp - REFRESH_MARGIN > Utc::now() {
                return Ok(access.clone());
            }
        }
        let Some(refresh) = session.refresh_token.clone() else {
            return Err(Error::SignedOut(
                session
                    .signed_out_reason
                    .unwrap_or_else(|| "请重新登录 (sign in again)".into()),
            ));
        };
        let body = serde_json::to_value(RefreshRequest {
            refresh_token: refresh.clone(),
        })?;
        // Short: the store's write lock is held meanwhile.
        let req = Req::new(Method::POST, "/api/v1/auth/refresh")
            .json(body)
            .timeout(REFRESH_TIMEOUT);
        let resp = self.call_anonymous(&session.server_url, &req)?;
        let status = resp.status();
        if status.is_success() {
            let t: TokenResponse = resp.json()?;
            let now = Utc::now();
            crate::store::save_tokens_in(
                &tx,
                &refresh,
                &t.access_token,
                now + chrono::Duration::seconds(t.expires_in),
                &t.refresh_token,
                t.refresh_expires_at,
            )?;
            tx.commit()?;
            return Ok(t.access_token);
        }
        let err = error_of(resp);
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            crate::store::mark_signed_out_in(&tx, &err.to_string())?;
            tx.commit()?;
            return Err(Error::SignedOut(err.to_string()));
        }
        Err(err)
    }
}
