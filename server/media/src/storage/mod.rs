//! Storage of originals and derived copies behind one async trait, with two backends:
//! a local directory ([`LocalStorage`], the default) and S3-compatible object storage
//! ([`S3Storage`], via `object_store`).
//!
//! Immutability rule (both backends): a key under `originals/` is write-once. Putting to an
//! existing original succeeds without writing when the bytes are identical (same SHA-256) —
//! so a retried upload or a crash between storing and recording is harmless — and fails with
//! [`MediaError::AlreadyExists`] when they differ. Other keys (derived copies) are replaced
//! atomically, because they can always be regenerated from the original.

mod local;
mod s3;

use std::fmt;
use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWriteExt};

pub use self::local::LocalStorage;
pub use self::s3::{S3Config, S3Storage};
use crate::error::MediaError;
use crate::hash::{Hasher, Sha256Digest};

/// Prefix of write-once keys.
const ORIGINALS: &str = "originals/";
/// Longest accepted key, in bytes (S3 allows 1024).
const MAX_KEY_LEN: usize = 1024;
/// Longest path segment, in bytes (common filesystem limit).
const MAX_SEGMENT_LEN: usize = 255;
/// Read size when streaming into a backend.
pub(crate) const COPY_CHUNK: usize = 256 * 1024;

/// A stream of object bytes, as returned by [`Storage::get_stream`].
pub type ByteStream = BoxStream<'static, Result<Bytes, MediaError>>;

/// A validated storage key: `/`-separated segments of `[A-Za-z0-9._-]`, none empty or starting
/// with `.`, so `..`, absolute paths, NUL, backslashes and hidden names cannot be expressed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates a key.
    pub fn parse(key: &str) -> Result<Self, MediaError> {
        let bad = |why: &str| {
            Err(MediaError::InvalidKey(format!(
                "{why}: {:?}",
                truncate(key)
            )))
        };
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return bad("empty or too long");
        }
        for seg in key.split('/') {
            if seg.is_empty() {
                return bad("empty segment (leading, trailing or double slash)");
            }
            if seg.len() > MAX_SEGMENT_LEN {
                return bad("segment too long");
            }
            if seg.starts_with('.') {
                return bad("segment starts with a dot");
            }
            if !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return bad("character outside [A-Za-z0-9._-]");
            }
        }
        Ok(Self(key.to_owned()))
    }

    /// Content-addressed key of an original: `originals/ab/cd/<sha256>`; write-once.
    pub fn original(sha256: &Sha256Digest) -> Self {
        let h = sha256.to_hex();
        // Two fan-out levels keep directories small on the local backend.
        Self(format!("{ORIGINALS}{}/{}/{h}", &h[0..2], &h[2..4]))
    }

    /// Key of a derived copy of an original, e.g. `derived/ab/cd/<sha256>/thumb.jpg`.
    pub fn derived(sha256: &Sha256Digest, variant: DerivedVariant) -> Self {
        let h = sha256.to_hex();
        Self(format!(
            "derived/{}/{}/{h}/{}",
            &h[0..2],
            &h[2..4],
            variant.file_name()
        ))
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this key is a write-once original.
    pub fn is_immutable(&self) -> bool {
        self.0.starts_with(ORIGINALS)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectKey({})", self.0)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Which derived copy a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DerivedVariant {
    /// Small JPEG for lists.
    Thumbnail,
    /// Metadata-free JPEG for viewing and publication.
    Display,
}

impl DerivedVariant {
    fn file_name(self) -> &'static str {
        match self {
            Self::Thumbnail => "thumb.jpg",
            Self::Display => "display.jpg",
        }
    }
}

/// Result of a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    /// Size of the stored object, in bytes.
    pub size: u64,
    /// SHA-256 of the bytes written (computed while streaming).
    pub sha256: Sha256Digest,
    /// True when an identical original was already stored and nothing was written.
    pub already_present: bool,
}

/// Size of a stored object (from [`Storage::head`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size in bytes.
    pub size: u64,
}

/// A place to keep media objects. Every method streams; nothing holds a whole object in memory.
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug {
    /// Stores everything `reader` yields under `key` (write-once for originals, see module docs).
    async fn put_stream(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<PutOutcome, MediaError>;

    /// Stores a local file under `key`.
    async fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<PutOutcome, MediaError> {
        let mut file = tokio::fs::File::open(path).await?;
        self.put_stream(key, &mut file).await
    }

    /// Stores a local file whose SHA-256 the caller has already computed (a received and
    /// checked upload), avoiding a copy and a second hash where the backend can.
    ///
    /// The local backend publishes an original by hard-linking `path` itself (same filesystem;
    /// it copies otherwise), making the file read-only first: after this returns the caller may
    /// remove `path`, but must never write to it again, since it may be the stored original.
    /// This default copies like [`Storage::put_file`] (S3 streams it up) and fails if the bytes
    /// streamed do not hash to `sha256`.
    async fn put_local_file(
        &self,
        key: &ObjectKey,
        path: &Path,
        sha256: Sha256Digest,
    ) -> Result<PutOutcome, MediaError> {
        let outcome = self.put_file(key, path).await?;
        check_copied(key, &outcome, sha256)?;
        Ok(outcome)
    }

    /// Opens an object as a stream of bytes; [`MediaError::NotFound`] if absent.
    async fn get_stream(&self, key: &ObjectKey) -> Result<ByteStream, MediaError>;

    /// Copies an object into a local file (created or truncated); returns its size.
    async fn get_to_file(&self, key: &ObjectKey, path: &Path) -> Result<u64, MediaError> {
        let mut stream = self.get_stream(key).await?;
        let mut file = tokio::fs::File::create(path).await?;
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            total += chunk.len() as u64;
        }
        file.sync_all().await?;
        Ok(total)
    }

    /// Size of an object; [`MediaError::NotFound`] if absent.
    async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, MediaError>;

    /// Whether an object exists.
    async fn exists(&self, key: &ObjectKey) -> Result<bool, MediaError> {
        match self.head(key).await {
            Ok(_) => Ok(true),
            Err(MediaError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object; deleting a missing object succeeds (idempotent). Whether an
    /// original may be deleted at all is the caller's policy (retention), not the backend's.
    async fn delete(&self, key: &ObjectKey) -> Result<(), MediaError>;
}

/// SHA-256 of a stored object, streamed (used to tell an identical re-put from a conflict).
pub(crate) async fn hash_object<S: Storage + ?Sized>(
    store: &S,
    key: &ObjectKey,
) -> Result<Sha256Digest, MediaError> {
    let mut stream = store.get_stream(key).await?;
    let mut hasher = Hasher::default();
    while let Some(chunk) = stream.next().await {
        hasher.update(&chunk?);
    }
    Ok(hasher.finish().0)
}

/// A copy made by [`Storage::put_local_file`] must hash to what the caller said it would.
pub(crate) fn check_copied(
    key: &ObjectKey,
    outcome: &PutOutcome,
    expected: Sha256Digest,
) -> Result<(), MediaError> {
    if outcome.sha256 == expected {
        Ok(())
    } else {
        Err(MediaError::Io(std::io::Error::other(format!(
            "{key}: the file changed while it was stored (SHA-256 {} instead of {expected})",
            outcome.sha256
        ))))
    }
}

/// Decides the outcome of a write-once put that found an object already there.
pub(crate) async fn resolve_existing<S: Storage + ?Sized>(
    store: &S,
    key: &ObjectKey,
    sha256: Sha256Digest,
    size: u64,
) -> Result<PutOutcome, MediaError> {
    if hash_object(store, key).await? == sha256 {
        Ok(PutOutcome {
            size,
            sha256,
            already_present: true,
        })
    } else {
        Err(MediaError::AlreadyExists(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_tricks_are_invalid_keys() {
        for k in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            ".tmp/x",
            "a/.hidden",
            "C:/x",
            "a b",
            "证据/1.jpg",
            "a/%2e%2e/b",
        ] {
            assert_eq!(
                ObjectKey::parse(k).unwrap_err().code(),
                "invalid_key",
                "{k:?}"
            );
        }
        assert!(ObjectKey::parse(&"a".repeat(1025)).is_err());
        assert!(ObjectKey::parse("originals/ab/cd/file-1_2.jpg").is_ok());
    }

    #[test]
    fn originals_are_content_addressed_and_immutable() {
        let sha = Sha256Digest::of(b"x");
        let k = ObjectKey::original(&sha);
        assert!(k.is_immutable());
        assert_eq!(ObjectKey::parse(k.as_str()).unwrap(), k);
        assert!(k.as_str().ends_with(&sha.to_hex()));
        let d = ObjectKey::derived(&sha, DerivedVariant::Thumbnail);
        assert!(!d.is_immutable());
        assert!(ObjectKey::parse(d.as_str()).is_ok());
    }
}
