//! Receiving one request body into an upload file.
//!
//! The body's pieces (a few KiB each, as they come off the socket) are gathered into batches of
//! [`BATCH`] bytes. Each batch is hashed — the chunk's `Upload-Checksum` and the whole file's
//! running SHA-256 — and written with `std::fs` by one blocking task while the next batch is
//! being received: one hop to the blocking pool per batch instead of one `tokio::fs` call per
//! piece, at most two batches in memory per request, and no thread held while a slow phone
//! sends. After each batch the task asks the kernel to start writing it to disk
//! ([`start_writeback`]), so the disk works while the network is still delivering the body and
//! the one `fdatasync` that must finish before the new offset is acknowledged mostly waits for
//! the tail.
//!
//! The whole-file hashes live in [`RunningHashes`] between the PATCHes of one upload, so that
//! completion does not read the file again to hash it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::web::Bytes;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use super::headers::ChecksumAlgorithm;

/// Bytes gathered from the body before they are handed to the blocking pool.
pub(super) const BATCH: usize = 512 * 1024;
/// Uploads whose running hash is kept at most; past it the table is emptied (those uploads are
/// hashed at completion instead). ~200 bytes each.
const MAX_RUNNING: usize = 10_000;

/// Whole-file SHA-256 of the uploads being received, between their PATCHes: upload id → the
/// offset it covers and the hasher's state. In this process's memory only: after a restart, or
/// when one upload's PATCHes reach several instances, the entry is missing or at another offset
/// and the file is hashed at completion instead. Acknowledged bytes never change, so a state
/// that covers exactly the current offset is always right.
#[derive(Clone, Default)]
pub struct RunningHashes(Arc<Mutex<HashMap<String, (u64, Sha256)>>>);

impl std::fmt::Debug for RunningHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |m| m.len());
        write!(f, "RunningHashes({n} uploads)")
    }
}

impl RunningHashes {
    /// The hash of the first `offset` bytes of an upload, if known (a fresh one at 0); the
    /// entry leaves the table either way, and is put back after the bytes are recorded.
    pub(super) fn take(&self, id: &str, offset: u64) -> Option<Sha256> {
        let entry = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        match entry {
            Some((at, hasher)) if at == offset => Some(hasher),
            _ if offset == 0 => Some(Sha256::new()),
            _ => None,
        }
    }

    /// Keep the hash of the first `offset` (recorded) bytes for the next PATCH.
    pub(super) fn put(&self, id: &str, offset: u64, hasher: Sha256) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_RUNNING {
            map.clear();
        }
        map.insert(id.to_owned(), (offset, hasher));
    }

    /// Drop an upload's entry (finished, expired, terminated).
    pub fn forget(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

/// How a body ended.
pub(super) enum BodyEnd {
    /// Written and durable (`fdatasync`ed): the bytes it added, and the whole-file hash
    /// through them if it was being kept.
    Stored { written: u64, whole: Option<Sha256> },
    /// Its `Upload-Checksum` did not match, or it was cut with one: the file is back at the
    /// offset it started from.
    Discarded { cut: bool },
}

/// The blocking half: the upload file and the hashes of what was written to it.
struct Sink {
    path: PathBuf,
    /// Where this body starts.
    offset: u64,
    /// Opened at the first bytes (an empty body does not touch the file).
    file: Option<File>,
    checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    sha1: Sha1,
    sha256: Sha256,
    whole: Option<Sha256>,
    written: u64,
}

impl Sink {
    fn file(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let mut file = OpenOptions::new().write(true).open(&self.path)?;
            // Bytes past the recorded offset were never acknowledged (a crash between write and
            // record): drop them so the file always equals what the client was told.
            file.set_len(self.offset)?;
            file.seek(SeekFrom::Start(self.offset))?;
            self.file = Some(file);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("upload file not open"))
    }

    fn write(&mut self, batch: &[Bytes]) -> io::Result<()> {
        let len: usize = batch.iter().map(Bytes::len).sum();
        if len == 0 {
            return Ok(());
        }
        for piece in batch {
            match self.checksum {
                Some((ChecksumAlgorithm::Sha1, _)) => self.sha1.update(piece),
                Some((ChecksumAlgorithm::Sha256, _)) => self.sha256.update(piece),
                None => {}
            }
            if let Some(whole) = &mut self.whole {
                whole.update(piece);
            }
        }
        let at = self.offset + self.written;
        let file = self.file()?;
        write_all_vectored(file, batch)?;
        start_writeback(file, at, len as u64);
        self.written += len as u64;
        Ok(())
    }

    fn finish(mut self, batch: &[Bytes], cut: bool) -> io::Result<BodyEnd> {
        self.write(batch)?;
        if let Some((alg, expected)) = &self.checksum {
            let got: Vec<u8> = match alg {
                ChecksumAlgorithm::Sha1 => self.sha1.clone().finalize().to_vec(),
                ChecksumAlgorithm::Sha256 => self.sha256.clone().finalize().to_vec(),
            };
            if cut || &got != expected {
                // The checksum covers the whole chunk: a partial or altered chunk is discarded.
                if let Some(file) = &self.file {
                    file.set_len(self.offset)?;
                    file.sync_data()?;
                }
                return Ok(BodyEnd::Discarded { cut });
            }
        }
        if let Some(file) = &self.file {
            // Durable before acknowledged.
            file.sync_data()?;
        }
        Ok(BodyEnd::Stored {
            written: self.written,
            whole: self.whole,
        })
    }

    /// The request is refused: none of its bytes stay.
    fn abandon(self) -> io::Result<()> {
        if let Some(file) = &self.file {
            file.set_len(self.offset)?;
        }
        Ok(())
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` to disk now, without waiting, so the
/// disk works while the rest of the body arrives and the `fdatasync` before the acknowledgement
/// finds little left to do. Linux has no safe `sync_file_range` binding here; on Linux
/// `POSIX_FADV_DONTNEED` starts writeback of the dirty range (`WB_SYNC_NONE`) and drops only
/// pages that are already clean — none, just after the write. Advice only: a failure is
/// ignored, and durability never depends on it.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    let _ = rustix::fs::fadvise(
        file,
        offset,
        std::num::NonZeroU64::new(len),
        rustix::fs::Advice::DontNeed,
    );
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) {}

fn write_all_vectored(file: &mut File, batch: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = batch
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| IoSlice::new(b))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn joined<T>(r: Result<io::Result<T>, tokio::task::JoinError>) -> io::Result<T> {
    r.map_err(io::Error::other)?
}

/// The async half: hands batches to the blocking pool one at a time, in order, while the
/// caller receives the next.
pub(super) struct BodyWriter {
    idle: Option<Sink>,
    busy: Option<JoinHandle<io::Result<Sink>>>,
}

impl BodyWriter {
    /// A writer appending at `offset`; `whole` is the running hash of the bytes before it.
    pub(super) fn new(
        path: PathBuf,
        offset: u64,
        checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
        whole: Option<Sha256>,
    ) -> Self {
        Self {
            idle: Some(Sink {
                path,
                offset,
                file: None,
                checksum,
                sha1: Sha1::new(),
                sha256: Sha256::new(),
                whole,
                written: 0,
            }),
            busy: None,
        }
    }

    /// The sink, once the batch before has been written.
    async fn sink(&mut self) -> io::Result<Sink> {
        match self.busy.take() {
            Some(task) => joined(task.await),
            None => self
                .idle
                .take()
                .ok_or_else(|| io::Error::other("upload writer already failed")),
        }
    }

    /// Start writing `batch`; returns once the previous batch is written.
    pub(super) async fn write(&mut self, batch: Vec<Bytes>) -> io::Result<()> {
        let mut sink = self.sink().await?;
        self.busy = Some(tokio::task::spawn_blocking(move || {
            sink.write(&batch)?;
            Ok(sink)
        }));
        Ok(())
    }

    /// Write the last batch, check the chunk checksum, and sync.
    pub(super) async fn finish(mut self, batch: Vec<Bytes>, cut: bool) -> io::Result<BodyEnd> {
        let sink = self.sink().await?;
        joined(tokio::task::spawn_blocking(move || sink.finish(&batch, cut)).await)
    }

    /// Drop every byte of this body (the request is refused).
    pub(super) async fn abandon(mut self) -> io::Result<()> {
        let sink = self.sink().await?;
        joined(tokio::task::spawn_blocking(move || sink.abandon()).await)
    }
}
