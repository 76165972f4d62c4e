//! Test fixtures: media files generated in code (no binary fixtures in the repo).
#![allow(dead_code)]

use std::io::Cursor;
use std::path::PathBuf;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{codecs::jpeg::JpegEncoder, DynamicImage, ImageFormat, Rgb, RgbImage};

/// A picture with structure (gradients and blocks placed by `seed`), so perceptual hashes of
/// different seeds differ and of the same seed agree.
pub fn pattern(w: u32, h: u32, seed: u32) -> DynamicImage {
    let img = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let cell = ((fx * 4.0) as u32 * 7 + (fy * 4.0) as u32 * 13 + seed * 31) % 5;
        let base = (cell * 50) as f32;
        let v = (base + 40.0 * (fx * (seed as f32 + 1.0) * 3.1).sin()).clamp(0.0, 255.0) as u8;
        Rgb([v, v.wrapping_add((seed * 40) as u8), 255 - v])
    });
    DynamicImage::ImageRgb8(img)
}

/// Encodes an image as JPEG at the given quality.
pub fn jpeg(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&img.to_rgb8())
        .unwrap();
    out
}

/// Encodes an image in a format `image` can write (PNG, lossless WebP).
pub fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Camera metadata to write into a JPEG.
pub struct Exif {
    pub make: &'static str,
    pub model: &'static str,
    pub orientation: u16,
    pub taken: &'static str,
    pub offset: &'static str,
    /// (degrees, minutes, seconds) north / east.
    pub lat: (u32, u32, u32),
    pub lon: (u32, u32, u32),
}

/// Inserts an EXIF APP1 segment right after SOI, as cameras do.
pub fn with_exif(jpeg: &[u8], e: &Exif) -> Vec<u8> {
    let ascii = |tag, s: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    };
    let dms = |tag, (d, m, s): (u32, u32, u32)| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Rational(vec![
            Rational { num: d, denom: 1 },
            Rational { num: m, denom: 1 },
            Rational { num: s, denom: 1 },
        ]),
    };
    let fields = vec![
        ascii(Tag::Make, e.make),
        ascii(Tag::Model, e.model),
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![e.orientation]),
        },
        ascii(Tag::DateTimeOriginal, e.taken),
        ascii(Tag::OffsetTimeOriginal, e.offset),
        ascii(Tag::GPSLatitudeRef, "N"),
        dms(Tag::GPSLatitude, e.lat),
        ascii(Tag::GPSLongitudeRef, "E"),
        dms(Tag::GPSLongitude, e.lon),
    ];
    let mut w = Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    [&jpeg[..2], &app1, &jpeg[2..]].concat()
}

/// An ISO-BMFF box.
pub fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(payload);
    v
}

/// An ISO-BMFF full box (version 0, no flags).
pub fn full_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    bx(kind, &[&[0, 0, 0, 0][..], payload].concat())
}

/// A track for [`movie`].
pub struct Track {
    pub handler: &'static [u8; 4],
    pub width: u32,
    pub height: u32,
    /// Rotation by the track matrix: 0 or 90.
    pub rotate_90: bool,
}

/// Seconds from 1904 (MP4 epoch) for 2025-03-01T01:30:00Z.
pub const CREATED_1904: u32 = 3_823_637_400;

/// A minimal but complete MP4/MOV/M4A: ftyp, moov (mvhd + tracks), mdat.
pub fn movie(brand: &[u8; 4], timescale: u32, duration: u32, tracks: &[Track]) -> Vec<u8> {
    let mut mvhd = Vec::new();
    for v in [CREATED_1904, CREATED_1904, timescale, duration, 0x0001_0000] {
        mvhd.extend_from_slice(&v.to_be_bytes());
    }
    mvhd.extend_from_slice(&[1, 0]); // volume
    mvhd.extend_from_slice(&[0; 10]);
    mvhd.extend_from_slice(&matrix(false));
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mut moov = full_box(b"mvhd", &mvhd);
    for (i, t) in tracks.iter().enumerate() {
        let mut tkhd = Vec::new();
        for v in [CREATED_1904, CREATED_1904, i as u32 + 1, 0, duration] {
            tkhd.extend_from_slice(&v.to_be_bytes());
        }
        tkhd.extend_from_slice(&[0; 16]);
        tkhd.extend_from_slice(&matrix(t.rotate_90));
        tkhd.extend_from_slice(&(t.width << 16).to_be_bytes());
        tkhd.extend_from_slice(&(t.height << 16).to_be_bytes());
        let mut hdlr = vec![0; 4];
        hdlr.extend_from_slice(t.handler);
        hdlr.extend_from_slice(&[0; 13]);
        let mdia = bx(b"mdia", &full_box(b"hdlr", &hdlr));
        moov.extend(bx(b"trak", &[full_box(b"tkhd", &tkhd), mdia].concat()));
    }
    let mut ftyp = brand.to_vec();
    ftyp.extend_from_slice(&[0, 0, 2, 0]);
    ftyp.extend_from_slice(b"isom");
    [
        bx(b"ftyp", &ftyp),
        bx(b"moov", &moov),
        bx(b"mdat", &[0x55; 2048]),
    ]
    .concat()
}

fn matrix(rotate_90: bool) -> Vec<u8> {
    let one = 0x0001_0000i32;
    let m: [i32; 9] = if rotate_90 {
        [0, one, 0, -one, 0, 0, 0, 0, 0x4000_0000]
    } else {
        [one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]
    };
    m.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A video track of the given size.
pub fn video_track(width: u32, height: u32) -> Track {
    Track {
        handler: b"vide",
        width,
        height,
        rotate_90: false,
    }
}

/// A sound track.
pub fn sound_track() -> Track {
    Track {
        handler: b"soun",
        width: 0,
        height: 0,
        rotate_90: false,
    }
}

/// A minimal HEIC: ftyp heic, meta with one `ispe`, mdat.
pub fn heic(width: u32, height: u32) -> Vec<u8> {
    let mut ispe = Vec::new();
    ispe.extend_from_slice(&width.to_be_bytes());
    ispe.extend_from_slice(&height.to_be_bytes());
    let ipco = bx(b"ipco", &full_box(b"ispe", &ispe));
    let iprp = bx(b"iprp", &ipco);
    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"pict");
    hdlr.extend_from_slice(&[0; 13]);
    let meta = full_box(b"meta", &[full_box(b"hdlr", &hdlr), iprp].concat());
    let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
    [ftyp, meta, bx(b"mdat", &[0x11; 512])].concat()
}

/// AMR-NB: magic plus `frames` 12.2 kbit/s frames (20 ms each).
pub fn amr(frames: usize) -> Vec<u8> {
    let mut v = b"#!AMR\n".to_vec();
    for _ in 0..frames {
        v.push(7 << 3 | 0x04);
        v.extend_from_slice(&[0x5A; 31]);
    }
    v
}

/// A PNG whose IHDR declares the given size but which carries almost no data.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    v.extend(png_chunk(b"IHDR", &ihdr));
    // A small zlib stream of zeros would inflate to width*height*3 bytes.
    v.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    v.extend(png_chunk(b"IEND", &[]));
    v
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(data);
    // CRC is not checked before the dimension guard, which is the point of the test.
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// Writes bytes to a fresh temp file, kept alive by the returned guard.
pub fn temp_file(data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.bin");
    std::fs::write(&path, data).unwrap();
    (dir, path)
}
