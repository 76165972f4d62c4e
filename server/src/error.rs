//! The HTTP edge's one error type: every failure becomes a status and a stable code.
//!
//! Codes are listed in docs/api.md; clients may branch on them, so they never change meaning.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use griddispatch_protocol::{ErrorBody, ErrorDetail};

use crate::db::DbError;

/// A failure answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed (bad JSON, bad query string, bad path).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// What to fix.
        message: String,
    },
    /// 401: no valid credentials.
    #[error("{message}")]
    Unauthorized {
        /// Stable code.
        code: &'static str,
        /// What to do.
        message: String,
    },
    /// 403: authenticated, but not allowed.
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Why not.
        message: String,
    },
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with the current state.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What conflicts.
        message: String,
    },
    /// 413.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid values.
    #[error("{message}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// Which value and why.
        message: String,
    },
    /// 429: too many attempts; retry after the given seconds.
    #[error("{message}")]
    TooManyRequests {
        /// What happened.
        message: String,
        /// Seconds until the lock lifts.
        retry_after_secs: i64,
    },
    /// 503: a dependency (the database) is unavailable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Any other status with its own code (tus: 410, 412, 423, 460; media errors).
    #[error("{message}")]
    Status {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// What happened and what to do.
        message: String,
    },
    /// Any status with one extra field in the error object, e.g. the `problems` of
    /// `invalid_grid` (clients that only read `code` and `message` are unaffected).
    #[error("{message}")]
    Detailed {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// What happened.
        message: String,
        /// Name of the extra field.
        field: &'static str,
        /// Its value.
        value: Box<serde_json::Value>,
    },
    /// 500: a bug or an unexpected failure. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// 401 with a code.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    /// 403 with a code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    /// 422 with a code.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// Any status with a code.
    pub fn status(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self::Status {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
        }
    }

    /// A status with a code and one extra field in the error object.
    pub fn detailed(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        field: &'static str,
        value: serde_json::Value,
    ) -> Self {
        Self::Detailed {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
            field,
            value: Box::new(value),
        }
    }

    /// The stable code sent to the client.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Status { code, .. }
            | Self::Detailed { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::TooManyRequests { .. } => "too_many_attempts",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The message sent to the client; 5xx never carry internals.
    fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => {
                "服务器内部错误，请稍后重试 Internal server error; the incident has been logged"
                    .into()
            }
            Self::Unavailable(_) => {
                "服务暂不可用，请稍后重试 Service temporarily unavailable; try again shortly".into()
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Status { status, .. } | Self::Detailed { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            tracing::error!(error = %self, code = self.code(), "request failed");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if let Self::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            resp.insert_header(("Retry-After", retry_after_secs.max(&1).to_string()));
        }
        if let Self::Unauthorized { .. } = self {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Self::Detailed { field, value, .. } = self {
            let mut detail = serde_json::Map::new();
            detail.insert("code".into(), self.code().into());
            detail.insert("message".into(), self.public_message().into());
            detail.insert((*field).into(), (**value).clone());
            return resp.json(serde_json::json!({ "error": detail }));
        }
        resp.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
            },
        })
    }
}

impl From<griddispatch_media::MediaError> for AppError {
    fn from(err: griddispatch_media::MediaError) -> Self {
        let status = err.http_status();
        if status == 503 {
            return Self::Unavailable(format!("{}: {err}", err.code()));
        }
        if status >= 500 {
            return Self::Internal(format!("{}: {err}", err.code()));
        }
        Self::status(status, err.code(), format!("{} ({err})", err.message()))
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Pool(e) => Self::Unavailable(e.to_string()),
            DbError::Connect(e) => Self::Unavailable(e.to_string()),
            e @ DbError::OpenSqlite { .. } => Self::Unavailable(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Self::Internal(err.to_string())
    }
}
