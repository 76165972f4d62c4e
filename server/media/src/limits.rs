//! Configurable limits: sizes per kind and the guards against decompression bombs.

use serde::{Deserialize, Serialize};

use crate::error::MediaError;
use crate::sniff::MediaKind;

const MIB: u64 = 1024 * 1024;

/// Limits applied while processing an upload; `Default` gives the production values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest photo file, in bytes.
    pub max_image_bytes: u64,
    /// Largest video file, in bytes.
    pub max_video_bytes: u64,
    /// Largest audio file, in bytes.
    pub max_audio_bytes: u64,
    /// Largest width × height decoded; checked from the header before any pixel is allocated.
    pub max_pixels: u64,
    /// Largest width or height, in pixels.
    pub max_dimension: u32,
    /// Most memory the image decoder may allocate, in bytes.
    pub max_decode_alloc: u64,
    /// Most PNG chunks walked (guards against deep chunk chains).
    pub max_png_chunks: u32,
    /// Most ISO-BMFF boxes walked in a video/audio/HEIF container.
    pub max_boxes: u32,
    /// Longest side of the thumbnail, in pixels.
    pub thumbnail_size: u32,
    /// Longest side of the display copy, in pixels.
    pub display_size: u32,
    /// JPEG quality of derived copies (1-100).
    pub jpeg_quality: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_image_bytes: 50 * MIB,
            max_video_bytes: 2048 * MIB,
            max_audio_bytes: 200 * MIB,
            // 100 MP covers the full-resolution modes of current phones (108 MP) only when binned;
            // decoding one costs ~300 MiB, which is what a server can afford per concurrent upload.
            max_pixels: 110_000_000,
            max_dimension: 16_384,
            max_decode_alloc: 512 * MIB,
            max_png_chunks: 100_000,
            max_boxes: 100_000,
            thumbnail_size: 320,
            display_size: 1600,
            jpeg_quality: 85,
        }
    }
}

impl Limits {
    /// Byte limit for one kind of media.
    pub fn max_bytes(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.max_image_bytes,
            MediaKind::Video => self.max_video_bytes,
            MediaKind::Audio => self.max_audio_bytes,
        }
    }

    /// Rejects a file that is too large for its kind, before reading it.
    pub fn check_size(&self, kind: MediaKind, size: u64) -> Result<(), MediaError> {
        let limit = self.max_bytes(kind);
        if size > limit {
            return Err(MediaError::TooLarge { kind, size, limit });
        }
        Ok(())
    }

    /// Rejects image dimensions before decoding (decompression-bomb guard).
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), MediaError> {
        let too_large = |reason| MediaError::ImageTooLarge {
            width: u64::from(width),
            height: u64::from(height),
            reason,
        };
        if width == 0 || height == 0 {
            return Err(MediaError::corrupt("image has zero width or height"));
        }
        if width > self.max_dimension || height > self.max_dimension {
            return Err(too_large("max_dimension"));
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(too_large("max_pixels"));
        }
        Ok(())
    }

    /// The same guards expressed as `image` crate limits, so the decoder enforces them too.
    pub(crate) fn image_limits(&self) -> ::image::Limits {
        let mut l = ::image::Limits::default();
        l.max_image_width = Some(self.max_dimension);
        l.max_image_height = Some(self.max_dimension);
        l.max_alloc = Some(self.max_decode_alloc);
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limits_apply_per_kind() {
        let l = Limits {
            max_image_bytes: 10,
            max_video_bytes: 20,
            max_audio_bytes: 30,
            ..Limits::default()
        };
        assert!(l.check_size(MediaKind::Image, 10).is_ok());
        assert_eq!(
            l.check_size(MediaKind::Image, 11).unwrap_err().code(),
            "too_large"
        );
        assert!(l.check_size(MediaKind::Video, 20).is_ok());
        assert_eq!(
            l.check_size(MediaKind::Audio, 31).unwrap_err().code(),
            "too_large"
        );
    }

    #[test]
    fn huge_dimensions_are_rejected_before_decoding() {
        let l = Limits::default();
        assert!(l.check_dimensions(4000, 3000).is_ok());
        let e = l.check_dimensions(100_000, 100_000).unwrap_err();
        assert_eq!(e.code(), "image_too_large");
        let e = l.check_dimensions(16_000, 16_000).unwrap_err();
        assert_eq!(e.code(), "image_too_large");
        assert_eq!(
            l.check_dimensions(0, 10).unwrap_err().code(),
            "corrupt_file"
        );
    }
}
