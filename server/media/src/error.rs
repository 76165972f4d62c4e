//! One error enum for the media layer; the server maps [`MediaError::code`] to its JSON errors.

use crate::sniff::{MediaKind, MediaType};

/// Everything that can go wrong while checking, processing or storing a media file.
///
/// `Display` carries details for logs; clients get [`MediaError::code`] and
/// [`MediaError::message`], which never contain internals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The bytes are not one of the accepted types (see `docs/media.md`).
    #[error("unsupported media type (detected: {})", detected.unwrap_or("unknown"))]
    UnsupportedType {
        /// A short name of what the bytes look like, when recognised (e.g. "pdf").
        detected: Option<&'static str>,
    },
    /// The content type the client declared disagrees with the bytes.
    #[error("declared type {declared:?} does not match detected {detected}")]
    TypeMismatch {
        /// The content type as declared by the client.
        declared: String,
        /// The type found from the bytes.
        detected: MediaType,
    },
    /// The SHA-256 the phone computed differs from the server's.
    #[error("sha-256 mismatch: expected {expected}, got {actual}")]
    HashMismatch {
        /// Hex digest the phone sent.
        expected: String,
        /// Hex digest of the bytes received.
        actual: String,
    },
    /// The expected checksum given by the client is not 64 hex digits.
    #[error("malformed expected sha-256: {0:?}")]
    InvalidChecksum(String),
    /// The file is larger than the limit for its kind.
    #[error("{kind} file of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Which limit applied.
        kind: MediaKind,
        /// Size of the file.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The image's declared dimensions exceed the limits (decompression-bomb guard).
    #[error("image {width}x{height} exceeds limits: {reason}")]
    ImageTooLarge {
        /// Declared width in pixels.
        width: u64,
        /// Declared height in pixels.
        height: u64,
        /// Which limit was hit.
        reason: &'static str,
    },
    /// The file is truncated, malformed or fails to decode.
    #[error("corrupt file: {0}")]
    CorruptFile(String),
    /// The file carries a second payload (data after the end of the image/container).
    #[error("polyglot or trailing data: {0}")]
    Polyglot(String),
    /// A storage key is malformed or tries to escape its namespace.
    #[error("invalid storage key: {0}")]
    InvalidKey(String),
    /// An immutable original already exists under this key with different bytes.
    #[error("object already exists with different content: {0}")]
    AlreadyExists(String),
    /// No object under this key.
    #[error("object not found: {0}")]
    NotFound(String),
    /// Backend configuration is unusable.
    #[error("invalid storage configuration: {0}")]
    InvalidConfig(String),
    /// The storage backend failed (network, permissions, disk full).
    #[error("storage error: {0}")]
    Storage(String),
    /// Local I/O failed while reading the upload.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl MediaError {
    /// Stable snake_case code for clients and metrics; never renamed once shipped.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedType { .. } => "unsupported_type",
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::HashMismatch { .. } => "hash_mismatch",
            Self::InvalidChecksum(_) => "invalid_checksum",
            Self::TooLarge { .. } => "too_large",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::CorruptFile(_) => "corrupt_file",
            Self::Polyglot(_) => "polyglot",
            Self::InvalidKey(_) => "invalid_key",
            Self::AlreadyExists(_) => "already_exists",
            Self::NotFound(_) => "not_found",
            Self::InvalidConfig(_) => "invalid_config",
            Self::Storage(_) => "storage_error",
            Self::Io(_) => "io_error",
        }
    }

    /// HTTP status the server should answer with (see the table in `docs/media.md`).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UnsupportedType { .. } | Self::TypeMismatch { .. } => 415,
            Self::TooLarge { .. } | Self::ImageTooLarge { .. } => 413,
            Self::HashMismatch { .. } | Self::CorruptFile(_) | Self::Polyglot(_) => 422,
            Self::InvalidChecksum(_) | Self::InvalidKey(_) => 400,
            Self::AlreadyExists(_) => 409,
            Self::NotFound(_) => 404,
            Self::Storage(_) => 503,
            Self::InvalidConfig(_) | Self::Io(_) => 500,
        }
    }

    /// Human message, Chinese first then English; safe to show to the uploader.
    pub fn message(&self) -> &'static str {
        match self {
            Self::UnsupportedType { .. } => {
                "不支持的文件类型，仅接受照片（JPEG/PNG/WebP/HEIC）、视频（MP4/MOV）和录音（M4A/AAC/AMR） / Unsupported file type"
            }
            Self::TypeMismatch { .. } => "文件内容与声明的类型不符 / File content does not match the declared type",
            Self::HashMismatch { .. } => "文件校验值不符，上传可能已损坏，请重新上传 / Checksum mismatch, please upload again",
            Self::InvalidChecksum(_) => "校验值格式错误，应为 64 位十六进制 SHA-256 / Malformed SHA-256 checksum",
            Self::TooLarge { .. } => "文件超过大小限制 / File exceeds the size limit",
            Self::ImageTooLarge { .. } => "图片尺寸超过限制 / Image dimensions exceed the limit",
            Self::CorruptFile(_) => "文件已损坏或不完整 / File is corrupt or incomplete",
            Self::Polyglot(_) => "文件包含多余或可疑的数据 / File contains unexpected extra data",
            Self::InvalidKey(_) => "存储路径无效 / Invalid storage key",
            Self::AlreadyExists(_) => "原始证据已存在且内容不同，不可覆盖 / An original with different content already exists",
            Self::NotFound(_) => "文件不存在 / File not found",
            Self::InvalidConfig(_) => "存储配置错误 / Storage misconfigured",
            Self::Storage(_) => "存储服务暂时不可用，请稍后重试 / Storage temporarily unavailable",
            Self::Io(_) => "服务器读写文件失败 / Server file I/O failed",
        }
    }

    /// Shorthand for a [`MediaError::CorruptFile`] with a reason.
    pub(crate) fn corrupt(reason: impl Into<String>) -> Self {
        Self::CorruptFile(reason.into())
    }
}

impl From<object_store::Error> for MediaError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => Self::NotFound(path),
            object_store::Error::AlreadyExists { path, .. } => Self::AlreadyExists(path),
            other => Self::Storage(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case_and_messages_chinese_first() {
        let all = [
            MediaError::UnsupportedType { detected: None },
            MediaError::HashMismatch {
                expected: "a".into(),
                actual: "b".into(),
            },
            MediaError::CorruptFile("x".into()),
            MediaError::InvalidKey("x".into()),
            MediaError::AlreadyExists("x".into()),
            MediaError::Storage("x".into()),
        ];
        for e in &all {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            let first = e.message().chars().next().unwrap_or(' ');
            assert!(
                !first.is_ascii(),
                "message must start in Chinese: {}",
                e.message()
            );
            assert!(e.http_status() >= 400);
        }
        assert_eq!(all[0].code(), "unsupported_type");
        assert_eq!(all[0].http_status(), 415);
    }
}
