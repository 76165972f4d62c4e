//! Receiving one request body into an upload file.
//!
//! The body's pieces (a few KiB each, as they come off the socket) are gathered into batches of
//! [`BATCH`] bytes, and each batch goes to two ordered stages on the blocking pool that run
//! side by side while the next batch is received: one writes it to the file with `std::fs`,
//! one hashes it (the chunk's `Upload-Checksum` and the whole file's running SHA-256). One hop
//! per stage per batch instead of one `tokio::fs` call per piece, and no thread held while a
//! slow phone sends. SHA-256 (~1.5 GB/s with SHA-NI) is slower than loopback delivers, so the
//! hashing stage may fall up to [`HASH_LAG`] behind; what it still owes at the end of the body
//! is hashed while the final flush runs. A request holds at most about
//! `BATCH + 2 × HASH_LAG` bytes (the batch being received, the batches being hashed and those
//! queued behind them; the writing stage shares their buffers), whatever the file's size.
//!
//! Durability is made as the body arrives, not only at its end: whenever [`SYNC_STEP`] bytes
//! have been written since the last flush and no flush is running, another blocking task
//! `fdatasync`s the file while the next batches are received and written. The `fdatasync`
//! that must finish before the new offset is acknowledged then only has the tail left. On a
//! virtual disk a flush costs time in proportion to the data written since the one before
//! (the host writes it out), so flushing once at the end serialises all of that after the
//! last byte; flushing along the way overlaps it with the network. A flush that fails fails
//! the request: its error is not left for the final `fdatasync` to miss. Measurements of each
//! step are in docs/benchmarks.md ("Evidence uploads").
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
pub(super) const BATCH: usize = 1024 * 1024;
/// Bytes written since the last flush that start a background `fdatasync` (when none runs).
const SYNC_STEP: u64 = 1024 * 1024;
/// How far hashing may fall behind writing before receiving waits for it.
const HASH_LAG: usize = 4 * 1024 * 1024;
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

/// The bytes' way to disk: the upload file and how much of it this body wrote.
struct FileSink {
    path: PathBuf,
    /// Where this body starts.
    offset: u64,
    /// Opened at the first bytes (an empty body does not touch the file).
    file: Option<File>,
    written: u64,
    /// Written since the last background flush was started.
    unsynced: u64,
}

impl FileSink {
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
        let file = self.file()?;
        write_all_vectored(file, batch)?;
        self.written += len as u64;
        self.unsynced += len as u64;
        Ok(())
    }

    /// Make the written bytes durable before they are acknowledged.
    fn sync(&self) -> io::Result<()> {
        match &self.file {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }

    /// Drop this body's bytes, durably (a chunk whose checksum failed).
    fn discard(&self) -> io::Result<()> {
        if let Some(file) = &self.file {
            file.set_len(self.offset)?;
            file.sync_data()?;
        }
        Ok(())
    }

    /// The request is refused: none of its bytes stay.
    fn abandon(self) -> io::Result<()> {
        if let Some(file) = &self.file {
            file.set_len(self.offset)?;
        }
        Ok(())
    }
}

/// The bytes' hashes: the chunk's `Upload-Checksum` and the whole file's running SHA-256.
struct Hashes {
    checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    sha1: Sha1,
    sha256: Sha256,
    whole: Option<Sha256>,
}

impl Hashes {
    fn update(&mut self, batch: &[Bytes]) {
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
    }

    /// Whether the chunk matches its `Upload-Checksum` (true without one).
    fn chunk_matches(&self) -> bool {
        match &self.checksum {
            None => true,
            Some((ChecksumAlgorithm::Sha1, expected)) => {
                self.sha1.clone().finalize().as_slice() == expected.as_slice()
            }
            Some((ChecksumAlgorithm::Sha256, expected)) => {
                self.sha256.clone().finalize().as_slice() == expected.as_slice()
            }
        }
    }
}

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

/// One ordered stage of blocking work over the batches: at most one task in flight, each
/// taking the state from the one before.
struct Stage<T> {
    idle: Option<T>,
    busy: Option<JoinHandle<io::Result<T>>>,
}

impl<T: Send + 'static> Stage<T> {
    fn new(state: T) -> Self {
        Self {
            idle: Some(state),
            busy: None,
        }
    }

    /// The state, once the task before has finished.
    async fn take(&mut self) -> io::Result<T> {
        match self.busy.take() {
            Some(task) => joined(task.await),
            None => self
                .idle
                .take()
                .ok_or_else(|| io::Error::other("upload writer already failed")),
        }
    }

    fn start(&mut self, f: impl FnOnce() -> io::Result<T> + Send + 'static) {
        self.busy = Some(tokio::task::spawn_blocking(f));
    }
}

/// The async half: hands each batch to two blocking stages that run side by side — one
/// writes it, one hashes it (hashing a batch takes about twice as long as writing it to the
/// page cache, so in one task they were the body's bottleneck) — while the caller receives
/// the next batch.
pub(super) struct BodyWriter {
    file: Stage<FileSink>,
    hashes: Stage<Hashes>,
    /// Written batches not yet handed to the hashing stage (it was busy), in order.
    to_hash: Vec<Bytes>,
    to_hash_len: usize,
    /// The background `fdatasync` of what was written so far, while it runs.
    flushing: Option<JoinHandle<io::Result<()>>>,
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
            file: Stage::new(FileSink {
                path,
                offset,
                file: None,
                written: 0,
                unsynced: 0,
            }),
            hashes: Stage::new(Hashes {
                checksum,
                sha1: Sha1::new(),
                sha256: Sha256::new(),
                whole,
            }),
            to_hash: Vec::new(),
            to_hash_len: 0,
            flushing: None,
        }
    }

    /// Start writing and hashing `batch`; returns once the previous batch is written and
    /// hashing is less than [`HASH_LAG`] behind. Starts a background flush when
    /// [`SYNC_STEP`] bytes are unflushed and none is running.
    pub(super) async fn write(&mut self, batch: Vec<Bytes>) -> io::Result<()> {
        let mut sink = self.file.take().await?;
        if self.flushing.as_ref().is_some_and(JoinHandle::is_finished) {
            self.settle_flush().await?;
        }
        if self.flushing.is_none() && sink.unsynced >= SYNC_STEP {
            if let Some(file) = &sink.file {
                // The same open file (dup): a writeback error it reports is ours.
                let file = file.try_clone()?;
                sink.unsynced = 0;
                self.flushing = Some(tokio::task::spawn_blocking(move || file.sync_data()));
            }
        }
        // `Bytes` clones share the buffers.
        self.to_hash_len += batch.iter().map(Bytes::len).sum::<usize>();
        self.to_hash.extend(batch.iter().cloned());
        let hashing = self.hashes.busy.as_ref().is_some_and(|t| !t.is_finished());
        if !hashing || self.to_hash_len >= HASH_LAG {
            let mut hashes = self.hashes.take().await?;
            let queued = std::mem::take(&mut self.to_hash);
            self.to_hash_len = 0;
            self.hashes.start(move || {
                hashes.update(&queued);
                Ok(hashes)
            });
        }
        self.file.start(move || {
            sink.write(&batch)?;
            Ok(sink)
        });
        Ok(())
    }

    /// Wait for the background flush, if one was started; its error is the request's.
    async fn settle_flush(&mut self) -> io::Result<()> {
        match self.flushing.take() {
            Some(task) => joined(task.await),
            None => Ok(()),
        }
    }

    /// Write the last batch, check the chunk checksum, and sync (or drop the chunk when its
    /// checksum does not match or it was cut with one). The final `fdatasync`, the end of a
    /// background flush and the hashing still behind all run side by side; each must succeed.
    pub(super) async fn finish(mut self, batch: Vec<Bytes>, cut: bool) -> io::Result<BodyEnd> {
        let mut sink = self.file.take().await?;
        let mut queued = std::mem::take(&mut self.to_hash);
        queued.extend(batch.iter().cloned());
        let synced = tokio::task::spawn_blocking(move || {
            sink.write(&batch)?;
            sink.sync()?;
            Ok(sink)
        });
        let hashed = async {
            let mut hashes = self.hashes.take().await?;
            joined(
                tokio::task::spawn_blocking(move || {
                    hashes.update(&queued);
                    Ok(hashes)
                })
                .await,
            )
        };
        let (hashes, flushed) = (hashed.await, self.settle_flush().await);
        let sink = joined(synced.await)?;
        let hashes = hashes?;
        flushed?;
        // The checksum covers the whole chunk: a partial or altered chunk is discarded.
        if hashes.checksum.is_some() && (cut || !hashes.chunk_matches()) {
            joined(tokio::task::spawn_blocking(move || sink.discard()).await)?;
            return Ok(BodyEnd::Discarded { cut });
        }
        Ok(BodyEnd::Stored {
            written: sink.written,
            whole: hashes.whole,
        })
    }

    /// Drop every byte of this body (the request is refused).
    pub(super) async fn abandon(mut self) -> io::Result<()> {
        let sink = self.file.take().await?;
        let _ = self.settle_flush().await;
        joined(tokio::task::spawn_blocking(move || sink.abandon()).await)
    }
}
