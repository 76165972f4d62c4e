//! Processing of a completed upload: sniff, check the declared type, size, hash and structure,
//! then extract metadata and derive copies. Pure: reads one file, touches no storage.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audio::{adts_info, amr_info, AudioInfo};
use crate::error::MediaError;
use crate::hash::{sha256_reader, Sha256Digest};
use crate::image::{inspect_image, process_image, ImageInfo};
use crate::limits::Limits;
use crate::sniff::{resolve_declared, sniff, MediaKind, MediaType, SNIFF_LEN};
use crate::video::{read_movie, video_info, VideoInfo};

/// What the phone said about the upload (tus `Upload-Metadata`); all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    /// Content type the client declared, e.g. `image/jpeg`.
    pub content_type: Option<String>,
    /// SHA-256 of the whole file as the phone computed it, 64 hex digits.
    pub sha256: Option<String>,
}

/// A checked upload with its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Processed {
    /// The type found from the bytes (and agreed with the declaration).
    pub media_type: MediaType,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file.
    pub sha256: Sha256Digest,
    /// Kind-specific metadata.
    pub details: MediaDetails,
}

impl Processed {
    /// Photo details, if this is a photo.
    pub fn image(&self) -> Option<&ImageInfo> {
        match &self.details {
            MediaDetails::Image(i) => Some(i),
            _ => None,
        }
    }
}

/// Kind-specific metadata of a processed upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MediaDetails {
    /// Photo: EXIF, perceptual hash, derived copies.
    Image(ImageInfo),
    /// Video: duration, size, creation time.
    Video(VideoInfo),
    /// Audio: duration.
    Audio(AudioInfo),
}

/// Checks and processes a completed upload at `path`. CPU- and I/O-bound: call it from a
/// blocking thread (or use [`process_blocking`]).
///
/// Order: sniff (415) → declared type (415) → size limit (413) → SHA-256 (422) → structure and
/// decoding (413/422). Cheap checks come first so a hostile file costs as little as possible.
pub fn process(path: &Path, declared: &Declared, limits: &Limits) -> Result<Processed, MediaError> {
    process_prehashed(path, declared, limits, None)
}

/// [`process`] for a file whose SHA-256 the caller computed while writing it (the tus endpoint
/// hashes every body as it stores it), so the whole-file hashing pass is skipped: with
/// `Some(digest)` the file is not read in full for hashing — only what the type's structure
/// check reads. `digest` must be the SHA-256 of exactly the bytes now in the file; it is still
/// compared with the declared one (422 on a mismatch). `None` hashes the file, as [`process`].
pub fn process_prehashed(
    path: &Path,
    declared: &Declared,
    limits: &Limits,
    digest: Option<Sha256Digest>,
) -> Result<Processed, MediaError> {
    checked(path, declared, limits, digest, true)
}

/// The checks of [`process_prehashed`] without decoding a photo: sniff, declared type, size,
/// SHA-256, structure from the markers/chunks/boxes, dimensions from the header and EXIF.
/// This is what an upload must pass before it is acknowledged; a photo's copies and
/// perceptual hash ([`crate::derive_image`]) are made afterwards, off that path, so its
/// `ImageInfo` has `perceptual_hash` and `derived` set to `None`.
pub fn check_prehashed(
    path: &Path,
    declared: &Declared,
    limits: &Limits,
    digest: Option<Sha256Digest>,
) -> Result<Processed, MediaError> {
    checked(path, declared, limits, digest, false)
}

/// [`check_prehashed`] on tokio's blocking pool, at most one file per core at a time (a photo
/// is read whole for its structure check, so this also bounds that memory).
pub async fn check_prehashed_blocking(
    path: PathBuf,
    declared: Declared,
    limits: Limits,
    digest: Option<Sha256Digest>,
) -> Result<Processed, MediaError> {
    let _slot = processing_slots()
        .acquire()
        .await
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
    tokio::task::spawn_blocking(move || check_prehashed(&path, &declared, &limits, digest))
        .await
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))?
}

fn checked(
    path: &Path,
    declared: &Declared,
    limits: &Limits,
    digest: Option<Sha256Digest>,
    decode: bool,
) -> Result<Processed, MediaError> {
    let expected = declared
        .sha256
        .as_deref()
        .map(Sha256Digest::parse_hex)
        .transpose()?;
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size == 0 {
        return Err(MediaError::corrupt("empty file"));
    }
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut file).take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    let sniffed = sniff(&head)?;
    let media_type = resolve_declared(sniffed, declared.content_type.as_deref())?;
    limits.check_size(media_type.kind(), size)?;

    let sha256 = match digest {
        Some(d) => d,
        None => {
            let (sha256, hashed) = sha256_reader(BufReader::new(File::open(path)?))?;
            if hashed != size {
                return Err(MediaError::corrupt("file changed while being processed"));
            }
            sha256
        }
    };
    if let Some(expected) = expected {
        sha256.verify(&expected)?;
    }

    let details = match media_type.kind() {
        MediaKind::Image => {
            // Bounded by max_image_bytes, checked above; decoding needs random access anyway.
            let data = std::fs::read(path)?;
            MediaDetails::Image(if decode {
                process_image(&data, media_type, limits)?
            } else {
                inspect_image(&data, media_type, limits)?
            })
        }
        MediaKind::Video => {
            let movie = read_movie(BufReader::new(File::open(path)?), size, limits.max_boxes)?;
            if movie.video_tracks.is_empty() {
                return Err(MediaError::corrupt("video container without a video track"));
            }
            MediaDetails::Video(video_info(&movie))
        }
        MediaKind::Audio => MediaDetails::Audio(audio_details(path, size, media_type, limits)?),
    };
    Ok(Processed {
        media_type,
        size,
        sha256,
        details,
    })
}

/// Runs [`process`] on tokio's blocking pool, for async callers.
pub async fn process_blocking(
    path: PathBuf,
    declared: Declared,
    limits: Limits,
) -> Result<Processed, MediaError> {
    process_prehashed_blocking(path, declared, limits, None).await
}

/// How many files are processed at once in this process: one per core. Processing is CPU-bound
/// (decoding a 12-megapixel JPEG and making its copies), so more at once would not finish
/// sooner; each decoded photo holds its full-size pixels (~50 MB for 12 MP), so a burst of
/// large photos from many phones must queue here rather than all decode together and take a
/// small server's memory (docs/benchmarks.md: 16 at once peaked at 2 GB before this bound).
fn processing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs [`process_prehashed`] on tokio's blocking pool, for async callers (the tus endpoint),
/// at most one file per core at a time ([`processing_slots`]).
pub async fn process_prehashed_blocking(
    path: PathBuf,
    declared: Declared,
    limits: Limits,
    digest: Option<Sha256Digest>,
) -> Result<Processed, MediaError> {
    let _slot = processing_slots()
        .acquire()
        .await
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
    tokio::task::spawn_blocking(move || process_prehashed(&path, &declared, &limits, digest))
        .await
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))?
}

fn audio_details(
    path: &Path,
    size: u64,
    media_type: MediaType,
    limits: &Limits,
) -> Result<AudioInfo, MediaError> {
    let file = File::open(path)?;
    match media_type {
        MediaType::Amr => amr_info(file),
        MediaType::Aac => adts_info(file, size),
        _ => {
            let movie = read_movie(BufReader::new(file), size, limits.max_boxes)?;
            if !movie.video_tracks.is_empty() {
                // Declared (or branded) as audio but carries video: not what it claims.
                return Err(MediaError::TypeMismatch {
                    declared: MediaType::M4a.mime().to_string(),
                    detected: MediaType::Mp4,
                });
            }
            if movie.audio_tracks == 0 {
                return Err(MediaError::corrupt("audio container without a sound track"));
            }
            Ok(AudioInfo {
                duration_ms: movie.duration_ms,
            })
        }
    }
}
