//! GridDispatch evidence media: content sniffing, validation of completed uploads, EXIF and
//! derived copies of photos, container checks of video and audio, and immutable storage.
//!
//! No HTTP and no database here: the tus endpoint calls [`process`] on a completed upload,
//! stores the original with [`storage::Storage`], and records [`Processed`] in its tables.
//! Errors carry stable codes ([`MediaError::code`]) and the HTTP status the server should use.
//! See `docs/media.md`.

#![warn(missing_docs)]

mod audio;
mod bmff;
mod error;
mod exif;
mod geo;
mod hash;
mod image;
mod limits;
mod phash;
mod process;
mod sniff;
pub mod storage;
mod structure;
mod video;

pub use crate::audio::AudioInfo;
pub use crate::error::MediaError;
pub use crate::exif::{read_exif, CaptureTime, ExifInfo};
pub use crate::geo::{check_position, GeoCheck, GeoPoint, DEFAULT_GEO_THRESHOLD_M};
pub use crate::hash::{sha256_file, sha256_reader, Sha256Digest};
pub use crate::image::{derive_image, DerivedImage, DerivedImages, DerivedPhoto, ImageInfo};
pub use crate::limits::Limits;
pub use crate::phash::{hamming_distance, PerceptualHash, DEFAULT_SIMILARITY_THRESHOLD};
pub use crate::process::{
    check_prehashed, check_prehashed_blocking, process, process_blocking, process_prehashed,
    process_prehashed_blocking, Declared, MediaDetails, Processed,
};
pub use crate::sniff::{resolve_declared, sniff, MediaKind, MediaType, Sniffed, SNIFF_LEN};
pub use crate::video::VideoInfo;
