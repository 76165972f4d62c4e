//! Local directory backend: one file per key under a root directory.
//!
//! Writes go to `<root>/.tmp/<uuid>` (same filesystem), are fsynced, then published: originals
//! with `link(2)`, which fails if the target exists — an atomic "create if absent" that
//! `rename(2)` cannot give — and other keys with `rename(2)`, which atomically replaces. The
//! parent directory is fsynced so the new name survives a power cut. Keys cannot name `.tmp`
//! (segments may not start with a dot).
//!
//! [`Storage::put_local_file`] (a completed upload, already written, synced and hashed by the
//! caller) skips the temporary copy: the file is made read-only, synced, and hard-linked as the
//! original — the upload's own bytes become the original, written once. Only when the link is
//! impossible (another filesystem: `EXDEV`, or one without hard links) is it copied as above.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{
    check_copied, resolve_existing, ByteStream, ObjectInfo, ObjectKey, PutOutcome, Storage,
    COPY_CHUNK,
};
use crate::error::MediaError;
use crate::hash::{Hasher, Sha256Digest};

/// Media kept in a directory on local disk (single-machine deployments).
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// Opens (creating if needed) a storage root.
    pub async fn new(root: impl Into<PathBuf>) -> Result<Self, MediaError> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join(".tmp"))
            .await
            .map_err(|e| {
                MediaError::InvalidConfig(format!("storage root {}: {e}", root.display()))
            })?;
        Ok(Self { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Filesystem path of a key; safe because [`ObjectKey`] admits only plain segments.
    fn path_of(&self, key: &ObjectKey) -> PathBuf {
        key.as_str()
            .split('/')
            .fold(self.root.clone(), |p, seg| p.join(seg))
    }

    async fn write_temp(
        &self,
        tmp: &Path,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<(Hasher, u64), MediaError> {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .await?;
        let mut hasher = Hasher::default();
        let mut buf = vec![0u8; COPY_CHUNK];
        let mut size = 0u64;
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).await?;
            size += n as u64;
        }
        file.sync_all().await?;
        Ok((hasher, size))
    }

    async fn publish(&self, tmp: &Path, key: &ObjectKey) -> Result<bool, MediaError> {
        let target = self.path_of(key);
        let parent = target
            .parent()
            .ok_or_else(|| MediaError::InvalidKey(key.to_string()))?;
        tokio::fs::create_dir_all(parent).await?;
        if key.is_immutable() {
            // Read-only on disk too: defence in depth against an operator's accidental edit.
            let mut perms = tokio::fs::metadata(tmp).await?.permissions();
            perms.set_readonly(true);
            tokio::fs::set_permissions(tmp, perms).await?;
            match tokio::fs::hard_link(tmp, &target).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
                Err(e) => return Err(e.into()),
            }
            tokio::fs::remove_file(tmp).await?;
        } else {
            tokio::fs::rename(tmp, &target).await?;
        }
        sync_dir(parent).await?;
        Ok(true)
    }
}

#[async_trait]
impl Storage for LocalStorage {
    async fn put_stream(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<PutOutcome, MediaError> {
        let tmp = self
            .root
            .join(".tmp")
            .join(uuid::Uuid::new_v4().to_string());
        let result = async {
            let (hasher, size) = self.write_temp(&tmp, reader).await?;
            let (sha256, _) = hasher.finish();
            if self.publish(&tmp, key).await? {
                Ok(PutOutcome {
                    size,
                    sha256,
                    already_present: false,
                })
            } else {
                resolve_existing(self, key, sha256, size).await
            }
        }
        .await;
        // The temp file is gone after a successful publish; otherwise clean it up.
        match tokio::fs::remove_file(&tmp).await {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                tracing::warn!(path = %tmp.display(), error = %e, "could not remove temp file");
            }
            _ => {}
        }
        result
    }

    async fn put_local_file(
        &self,
        key: &ObjectKey,
        path: &Path,
        sha256: Sha256Digest,
    ) -> Result<PutOutcome, MediaError> {
        if key.is_immutable() {
            let (source, target) = (path.to_owned(), self.path_of(key));
            let linked = tokio::task::spawn_blocking(move || link_original(&source, &target))
                .await
                .map_err(|e| MediaError::Io(std::io::Error::other(e)))??;
            match linked {
                Linked::New(size) => {
                    return Ok(PutOutcome {
                        size,
                        sha256,
                        already_present: false,
                    })
                }
                Linked::Exists(size) => return resolve_existing(self, key, sha256, size).await,
                Linked::Impossible(e) => {
                    tracing::info!(key = %key, error = %e, "cannot hard-link the original; copying it");
                }
            }
        }
        // Replaceable keys are renamed over their target: the caller's file is not ours to move.
        let outcome = self.put_file(key, path).await?;
        check_copied(key, &outcome, sha256)?;
        Ok(outcome)
    }

    async fn get_stream(&self, key: &ObjectKey) -> Result<ByteStream, MediaError> {
        let file = tokio::fs::File::open(self.path_of(key))
            .await
            .map_err(|e| not_found(e, key))?;
        Ok(Box::pin(
            ReaderStream::with_capacity(file, COPY_CHUNK).map_err(MediaError::Io),
        ))
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, MediaError> {
        let meta = tokio::fs::metadata(self.path_of(key))
            .await
            .map_err(|e| not_found(e, key))?;
        if !meta.is_file() {
            return Err(MediaError::NotFound(key.to_string()));
        }
        Ok(ObjectInfo { size: meta.len() })
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), MediaError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

fn not_found(e: std::io::Error, key: &ObjectKey) -> MediaError {
    if e.kind() == ErrorKind::NotFound {
        MediaError::NotFound(key.to_string())
    } else {
        MediaError::Io(e)
    }
}

/// What [`link_original`] did.
enum Linked {
    /// The file is now also the original; its size.
    New(u64),
    /// An original already has this key; the file's size.
    Exists(u64),
    /// No link could be made (another filesystem, no hard links there): copy instead.
    Impossible(std::io::Error),
}

/// Publishes `source` as the write-once original `target` without copying it: read-only, synced
/// (its bytes normally are already; the new mode is not), then `link(2)` — atomic
/// create-if-absent — and the directory synced. Blocking.
fn link_original(source: &Path, target: &Path) -> Result<Linked, MediaError> {
    let parent = target
        .parent()
        .ok_or_else(|| MediaError::InvalidKey(target.display().to_string()))?;
    std::fs::create_dir_all(parent)?;
    let file = std::fs::File::open(source)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(MediaError::Io(std::io::Error::other(format!(
            "{} is not a regular file",
            source.display()
        ))));
    }
    // Read-only on disk too: defence in depth against an operator's accidental edit.
    let mut perms = meta.permissions();
    perms.set_readonly(true);
    file.set_permissions(perms)?;
    file.sync_all()?;
    match std::fs::hard_link(source, target) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(Linked::Exists(meta.len())),
        Err(e) => return Ok(Linked::Impossible(e)),
    }
    std::fs::File::open(parent)?.sync_all()?;
    Ok(Linked::New(meta.len()))
}

/// Makes a directory entry durable (a rename or link is only on disk once its directory is).
async fn sync_dir(dir: &Path) -> Result<(), MediaError> {
    tokio::fs::File::open(dir).await?.sync_all().await?;
    Ok(())
}
