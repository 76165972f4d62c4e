//! Photos: structural checks, bounded decoding, EXIF, derived copies and perceptual hash.

use std::io::Cursor;

use ::image::{metadata::Orientation, DynamicImage, ImageError, ImageFormat, ImageReader};
use serde::{Deserialize, Serialize};

use crate::error::MediaError;
use crate::exif::{read_exif, ExifInfo};
use crate::limits::Limits;
use crate::phash::PerceptualHash;
use crate::sniff::MediaType;
use crate::structure::{check_jpeg, check_png, check_webp, strip_jpeg_metadata};
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
    /// JPEG bytes; carry no EXIF, GPS or other metadata: either only pixels were encoded, or
    /// (a display copy of a small upright JPEG) the original's frame and scans were kept and
    /// every metadata segment left out.
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
    let mut info = inspect_image(data, media_type, limits)?;
    if let Some(made) = derive_image(data, media_type, limits)? {
        info.perceptual_hash = Some(made.perceptual_hash);
        info.derived = Some(made.images);
    }
    Ok(info)
}

/// The cheap part of a photo's checks, made before the upload is acknowledged: structure from
/// the markers/chunks, dimensions from the header (decompression-bomb guard), EXIF. No pixel
/// is decoded, so `perceptual_hash` and `derived` are `None`; [`derive_image`] makes them.
pub(crate) fn inspect_image(
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
    // Reads the header only.
    let (width, height) = reader(data, format, limits)
        .into_dimensions()
        .map_err(decode_error)?;
    limits.check_dimensions(width, height)?;
    Ok(ImageInfo {
        width: Some(width),
        height: Some(height),
        exif: read_exif(data),
        perceptual_hash: None,
        derived: None,
    })
}

/// What decoding a photo makes: its copies and perceptual hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedPhoto {
    /// Thumbnail and display copy.
    pub images: DerivedImages,
    /// dHash of the upright picture.
    pub perceptual_hash: PerceptualHash,
}

/// Decodes a photo and makes its display copy, thumbnail (from the display copy) and dHash;
/// `Ok(None)` for a format that is not decoded (HEIF). The size guards of [`inspect_image`]
/// are applied again, so this is safe on any bytes.
///
/// JPEGs are decoded at a reduced scale (1/2, 1/4 or 1/8, in the DCT domain) when the display
/// copy does not need every pixel: a 12-megapixel photo is decoded to 3 megapixels, which is
/// both most of the time saved and most of the memory.
pub fn derive_image(
    data: &[u8],
    media_type: MediaType,
    limits: &Limits,
) -> Result<Option<DerivedPhoto>, MediaError> {
    let format = match media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => {
            let (w, h) = check_png(data, limits.max_png_chunks)?;
            limits.check_dimensions(w, h)?;
            ImageFormat::Png
        }
        MediaType::Webp => ImageFormat::WebP,
        MediaType::Heic | MediaType::Heif => return Ok(None),
        other => {
            return Err(MediaError::corrupt(format!("{other} is not an image")));
        }
    };
    let (width, height) = reader(data, format, limits)
        .into_dimensions()
        .map_err(decode_error)?;
    limits.check_dimensions(width, height)?;
    let exif = read_exif(data);
    let orientation = exif
        .orientation
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    // A JPEG already small enough to be shown and already upright is its own display copy,
    // without its metadata: not decoded and encoded again (no generation loss), and then
    // only the thumbnail needs pixels, so it is decoded at the thumbnail's scale.
    let display_as_is = (format == ImageFormat::Jpeg
        && width.max(height) <= limits.display_size
        && orientation == Orientation::NoTransforms)
        .then(|| strip_jpeg_metadata(data))
        .flatten();
    let target = if display_as_is.is_some() {
        limits.thumbnail_size
    } else {
        limits.display_size
    };
    let scaled = if format == ImageFormat::Jpeg {
        decode_jpeg_scaled(data, width, height, target, limits)
    } else {
        None
    };
    let mut img = match scaled {
        Some(img) => img,
        None => reader(data, format, limits)
            .decode()
            .map_err(decode_error)?,
    };
    img.apply_orientation(orientation);
    let (images, small) = match display_as_is {
        Some(jpeg) => {
            let t = limits.thumbnail_size;
            let small = fit_within(&img, t, AREA_AVERAGE)?;
            let images = DerivedImages {
                thumbnail: encode_jpeg(&small, limits.jpeg_quality)?,
                display: DerivedImage {
                    width,
                    height,
                    jpeg,
                },
            };
            (images, small)
        }
        None => derive(img, limits)?,
    };
    // The 9×8 hash averages whole regions, so the thumbnail (itself an area average) gives the
    // same picture of the structure as the full image, at a fraction of the cost.
    let perceptual_hash = PerceptualHash::of(&small);
    Ok(Some(DerivedPhoto {
        images,
        perceptual_hash,
    }))
}

/// Decodes a JPEG at the smallest DCT scale whose longest side still reaches `target` (or at
/// full size when it is smaller), with `jpeg-decoder`. `None` when that decoder cannot do
/// this file (CMYK, 16-bit, an unsupported coding, a panic): the caller then decodes it whole
/// with `image`, which also words the error.
fn decode_jpeg_scaled(
    data: &[u8],
    width: u32,
    height: u32,
    target: u32,
    limits: &Limits,
) -> Option<DynamicImage> {
    let longest = width.max(height);
    if longest <= target.saturating_mul(2) {
        // No scale below 1/1 fits; `image` decodes it as fast.
        return None;
    }
    let want = |side: u32| -> u16 {
        let s = (u64::from(side) * u64::from(target)).div_ceil(u64::from(longest));
        u16::try_from(s.max(1)).unwrap_or(u16::MAX)
    };
    let (rw, rh) = (want(width), want(height));
    let max_alloc = usize::try_from(limits.max_decode_alloc).unwrap_or(usize::MAX);
    std::panic::catch_unwind(move || {
        let mut dec = jpeg_decoder::Decoder::new(Cursor::new(data));
        dec.set_max_decoding_buffer_size(max_alloc);
        let (w, h) = dec.scale(rw, rh).ok()?;
        let info = dec.info()?;
        let pixels = dec.decode().ok()?;
        let (w, h) = (u32::from(w), u32::from(h));
        match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => {
                ::image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
            }
            jpeg_decoder::PixelFormat::L8 => {
                ::image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
            }
            _ => None,
        }
    })
    .ok()
    .flatten()
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

/// The derived copies, and the thumbnail's pixels. The thumbnail is made from the display
/// copy, not from the (larger) decoded picture.
fn derive(img: DynamicImage, limits: &Limits) -> Result<(DerivedImages, DynamicImage), MediaError> {
    let d = limits.display_size;
    let shown = if img.width() > d || img.height() > d {
        fit_within(&img, d, CATMULL_ROM)?
    } else {
        img
    };
    let display = encode_jpeg(&shown, limits.jpeg_quality)?;
    let t = limits.thumbnail_size;
    // An area average, as `image`'s `thumbnail` made it (the dHash below is taken from it).
    let small = fit_within(&shown, t, AREA_AVERAGE)?;
    let thumbnail = encode_jpeg(&small, limits.jpeg_quality)?;
    Ok((DerivedImages { thumbnail, display }, small))
}

/// The display copy's filter.
const CATMULL_ROM: fast_image_resize::FilterType = fast_image_resize::FilterType::CatmullRom;
/// The thumbnail's: each source pixel counts once, with the same weight.
const AREA_AVERAGE: fast_image_resize::FilterType = fast_image_resize::FilterType::Box;

/// `img` scaled to fit in `max` × `max`, keeping its proportions (as `image`'s `resize`
/// computes them), with `filter` — by `fast_image_resize`, whose SIMD convolution took ~8 ms
/// where `image`'s took ~126 ms for a 2000 × 1500 picture, and whose area average makes a
/// thumbnail several times faster than `image`'s `thumbnail` (docs/benchmarks.md).
fn fit_within(
    img: &DynamicImage,
    max: u32,
    filter: fast_image_resize::FilterType,
) -> Result<DynamicImage, MediaError> {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let ratio = (f64::from(max) / w).min(f64::from(max) / h);
    // Both sides come out at most `max`, so the casts cannot overflow.
    let side = |v: f64| ((v * ratio).round() as u32).clamp(1, max.max(1));
    let mut out = DynamicImage::new(side(w), side(h), img.color());
    let options = fast_image_resize::ResizeOptions::new()
        .resize_alg(fast_image_resize::ResizeAlg::Convolution(filter));
    fast_image_resize::Resizer::new()
        .resize(img, &mut out, Some(&options))
        .map_err(|e| MediaError::corrupt(format!("image does not resize: {e}")))?;
    Ok(out)
}

/// Encodes pixels only: no EXIF, ICC or XMP is written, which is what strips the metadata.
///
/// With `jpeg-encoder` (AVX2 when the CPU has it) rather than `image`'s own JPEG encoder,
/// which took about half of a photo's processing time (docs/benchmarks.md).
fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<DerivedImage, MediaError> {
    let converted;
    let rgb = match img.as_rgb8() {
        Some(rgb) => rgb,
        None => {
            converted = img.to_rgb8();
            &converted
        }
    };
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
