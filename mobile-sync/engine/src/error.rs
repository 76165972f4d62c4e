//! One error type for the engine: what went wrong, whether waiting and trying again can help,
//! and a stable code for programs (`gridsync status --json`, the phone app).

/// What an engine call can fail with. Messages are for people, Chinese first.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The local SQLite store failed.
    #[error("本地存储出错 (local store error): {0}")]
    Store(#[from] rusqlite::Error),
    /// Reading or writing a local file failed.
    #[error("文件读写出错 (file error): {0}")]
    Io(#[from] std::io::Error),
    /// The server could not be reached, or the connection broke (try again later).
    #[error("无法连接服务器 (network error): {0}")]
    Network(String),
    /// The server answered 5xx, 503 or 423: temporary (try again later).
    #[error("服务器暂时不可用 (server unavailable, HTTP {status}): {message}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// What the server said.
        message: String,
    },
    /// No user is signed in on this store.
    #[error("尚未登录，请先执行 gridsync login (not signed in)")]
    NotSignedIn,
    /// The server refused the refresh token (device revoked, user disabled, token reused):
    /// sign in again; the queue is kept and sent after the same user signs in.
    #[error("登录已失效，请重新登录，未发送的操作已保留 (signed out, queue kept): {0}")]
    SignedOut(String),
    /// The server no longer speaks this client's protocol version: update the app.
    #[error("客户端版本过旧，请升级 gridsync，未发送的操作已保留 (unsupported protocol, please update; queue kept): {0}")]
    UnsupportedProtocol(String),
    /// The server refused the request for a reason that retrying will not change.
    #[error("{message} ({code})")]
    Server {
        /// HTTP status.
        status: u16,
        /// Stable error code (`invalid_credentials`, `forbidden`, …).
        code: String,
        /// The server's message.
        message: String,
    },
    /// The caller passed something unusable (a bad file, a server-only command, …).
    #[error("{0}")]
    Invalid(String),
    /// The server answered something this client does not understand.
    #[error("服务器应答异常 (unexpected server answer): {0}")]
    Protocol(String),
}

impl Error {
    /// Waiting and trying again may help (network trouble, an overloaded or restarting server).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Network(_) | Error::Unavailable { .. })
    }

    /// A stable machine code.
    pub fn code(&self) -> &str {
        match self {
            Error::Store(_) => "local_store",
            Error::Io(_) => "local_io",
            Error::Network(_) => "network",
            Error::Unavailable { .. } => "unavailable",
            Error::NotSignedIn => "not_signed_in",
            Error::SignedOut(_) => "signed_out",
            Error::UnsupportedProtocol(_) => "unsupported_protocol",
            Error::Server { code, .. } => code,
            Error::Invalid(_) => "invalid",
            Error::Protocol(_) => "protocol",
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // Keep the whole chain: "error sending request" alone says nothing.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        Error::Network(text)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Protocol(e.to_string())
    }
}

/// Engine result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
