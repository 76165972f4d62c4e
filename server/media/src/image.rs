//! Photos: structural checks, bounded decoding, EXIF, derived copies and perceptual hash.

use std::io::Cursor;

use ::image::{
    imageops::FilterType, metadata::Orientation, DynamicImage, ImageError, ImageFormat, ImageReader,
};
use serde::{Deserialize, Serialize};

use crate::error::MediaError;
use crate::exif::{read_exif, ExifInfo};
use crate::limits::Limits;
use crate::phash::PerceptualHash;
use crate::sniff::MediaType;
use crate::structure::{check_jpeg, check_png, check_webp};
use crate::video::read_heif;

/// What was learnt from a photo, plus its derived copies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// Stored width in pixels (before EXIF orientation); `None` for HEIF without `ispe`.
    pub width: Option<u32>,
    /// Stored height in pixels (before EXIF orientation).
    pub height: Option<u32>,
    /// EXIF metadata of the original.
    pub exif: ExifInfo,
    /// Perceptual hash of the upright picture; `None` when the format is not decoded (HEIF).
    pub perceptual_hash: Option<PerceptualHash>,
    /// Thumbnail and display copy; `None` when the format is not decoded (HEIF).
    #[serde(skip)]
    pub derived: Option<DerivedImages>,
}

/// Derived copies of a photo: upright, re-encoded as JPEG, with all metadata removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedImages {
    /// Small copy for lists (longest side `Limits::thumbnail_size`).
    pub thumbnail: DerivedImage,
    /// Copy for viewing and publication (longest side at most `Limits::display_size`).
    pub display: DerivedImage,
}

/// One derived JPEG.
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// JPEG bytes; carry no EXIF, GPS or other metadata because only pixels are encoded.
    pub jpeg: Vec<u8>,
}

impl std::fmt::Debug for DerivedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DerivedImage({}x{}, {} bytes)",
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

/// Checks, decodes and derives copies of a photo held in memory (bounded by `max_image_bytes`).
pub(crate) fn process_image(
    data: &[u8],
    media_type: MediaType,
    limits: &Limits,
) -> Result<ImageInfo, MediaError> {
    let format = match media_type {
        MediaType::Jpeg => {
            check_jpeg(data)?;
            ImageFormat::Jpeg
        }
        MediaType::Png => {
            let (w, h) = check_png(data, limits.max_png_chunks)?;
            // Reject from IHDR alone: a 100000×100000 PNG must not reach the decoder.
            limits.check_dimensions(w, h)?;
            ImageFormat::Png
        }
        MediaType::Webp => {
            check_webp(data)?;
            ImageFormat::WebP
        }
        MediaType::Heic | MediaType::Heif => return heif_info(data, limits),
        other => {
            return Err(MediaError::corrupt(format!("{other} is not an image")));
        }
    };
    let (width, height) = reader(data, format, limits)
        .into_dimensions()
        .map_err(decode_error)?;
    limits.check_dimensions(width, height)?;
    let mut img = reader(data, format, limits)
        .decode()
        .map_err(decode_error)?;
    let exif = read_exif(data);
    let orientation = exif
        .orientation
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    img.apply_orientation(orientation);
    let (derived, small) = derive(&img, limits)?;
    // The 9×8 hash averages whole regions, so the thumbnail (itself an area average) gives the
    // same picture of the structure as the full image, at a fraction of the cost.
    let perceptual_hash = Some(PerceptualHash::of(&small));
    let derived = Some(derived);
    Ok(ImageInfo {
        width: Some(width),
        height: Some(height),
        exif,
        perceptual_hash,
        derived,
    })
}

/// HEIF/HEIC: structure and EXIF only; the `image` crate cannot decode HEVC, so no copies.
fn heif_info(data: &[u8], limits: &Limits) -> Result<ImageInfo, MediaError> {
    let dims = read_heif(Cursor::new(data), data.len() as u64, limits.max_boxes)?;
    Ok(ImageInfo {
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
        exif: read_exif(data),
        perceptual_hash: None,
        derived: None,
    })
}

fn reader<'a>(
    data: &'a [u8],
    format: ImageFormat,
    limits: &Limits,
) -> ImageReader<Cursor<&'a [u8]>> {
    let mut r = ImageReader::with_format(Cursor::new(data), format);
    r.limits(limits.image_limits());
    r
}

fn decode_error(e: ImageError) -> MediaError {
    match e {
        ImageError::Limits(l) => MediaError::ImageTooLarge {
            width: 0,
            height: 0,
            reason: match l.kind() {
                ::image::error::LimitErrorKind::DimensionError => "decoder dimension limit",
                _ => "decoder memory limit",
            },
        },
        other => MediaError::corrupt(format!("image does not decode: {other}")),
    }
}

/// The derived copies, and the thumbnail's pixels.
fn derive(
    img: &DynamicImage,
    limits: &Limits,
) -> Result<(DerivedImages, DynamicImage), MediaError> {
    let t = limits.thumbnail_size;
    let small = img.thumbnail(t, t);
    let thumbnail = encode_jpeg(&small, limits.jpeg_quality)?;
    let d = limits.display_size;
    let display = if img.width() > d || img.height() > d {
        encode_jpeg(
            &img.resize(d, d, FilterType::CatmullRom),
            limits.jpeg_quality,
        )?
    } else {
        encode_jpeg(img, limits.jpeg_quality)?
    };
    Ok((DerivedImages { thumbnail, display }, small))
}

/// Encodes pixels only: no EXIF, ICC or XMP is written, which is what strips the metadata.
///
/// With `jpeg-encoder` (AVX2 when the CPU has it) rather than `image`'s own JPEG encoder,
/// which took about half of a photo's processing time (docs/benchmarks.md).
fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<DerivedImage, MediaError> {
    let rgb = img.to_rgb8();
    let (width, height) = rgb.dimensions();
    let too_large = || MediaError::ImageTooLarge {
        width: width.into(),
        height: height.into(),
        reason: "derived copy larger than JPEG allows",
    };
    let (w, h) = (
        u16::try_from(width).map_err(|_| too_large())?,
        u16::try_from(height).map_err(|_| too_large())?,
    );
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, quality.clamp(1, 100))
        .encode(rgb.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
    Ok(DerivedImage {
        width,
        height,
        jpeg,
    })
}
