//! Valid evidence files built in code: the server checks the real type (a JPEG must decode, an
//! MP4's boxes must tile the file), so test uploads must be the real thing.

use image::{DynamicImage, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

/// SHA-256 as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A JPEG of `w`×`h` pixels: a structured picture (distinct per `seed`, so perceptual hashes
/// differ) plus per-pixel noise of amplitude `noise` (0–255), which sets the file size: at
/// quality 90 an 800×600 picture is ~190 KB with noise 24 and ~320 KB with noise 40.
pub fn jpeg(w: u32, h: u32, seed: u64, noise: u8) -> Vec<u8> {
    // xorshift64*: cheap enough to stay fast in unoptimised test builds.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let s = (seed % 97) as f32;
    let wave: Vec<f32> = (0..w)
        .map(|x| 30.0 * (x as f32 / w as f32 * (s + 1.0) * 2.7).sin())
        .collect();
    let cell_seed = (seed % 1000) as u32 * 31;
    let mut img = RgbImage::new(w, h);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let cell = ((fx * 5.0) as u32 * 7 + (fy * 5.0) as u32 * 13 + cell_seed) % 6;
        let base = (cell * 40) as f32 + wave[x as usize] + 40.0 * fy;
        let r = next().to_le_bytes();
        let mut out = [0u8; 3];
        for (i, p) in out.iter_mut().enumerate() {
            let n = if noise == 0 {
                0.0
            } else {
                f32::from(r[i] % noise) - f32::from(noise) / 2.0
            };
            *p = (base + (i as f32) * 60.0 * fy + n).clamp(0.0, 255.0) as u8;
        }
        *px = Rgb(out);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&DynamicImage::ImageRgb8(img).to_rgb8())
        .expect("encode JPEG");
    out
}

/// An ISO-BMFF box (32-bit size).
fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(payload.len() + 8)
        .expect("box under 4 GiB")
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(payload);
    v
}

fn full_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    bx(kind, &[&[0, 0, 0, 0][..], payload].concat())
}

fn identity_matrix() -> Vec<u8> {
    let one = 0x0001_0000i32;
    [one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

/// A valid MP4 of exactly `total` bytes (at least ~1 KB): `ftyp`, `moov` (`mvhd` and one
/// 1280×720 video track), then an `mdat` of pseudo-random bytes from `seed` filling the rest —
/// the shape of a phone video, whose size is almost all `mdat`.
pub fn mp4(total: usize, seed: u64) -> Vec<u8> {
    const CREATED_1904: u32 = 3_823_637_400; // 2025-03-01T01:30:00Z
    let (timescale, duration) = (1000u32, 30_000u32);
    let mut mvhd = Vec::new();
    for v in [CREATED_1904, CREATED_1904, timescale, duration, 0x0001_0000] {
        mvhd.extend_from_slice(&v.to_be_bytes());
    }
    mvhd.extend_from_slice(&[1, 0]);
    mvhd.extend_from_slice(&[0; 10]);
    mvhd.extend_from_slice(&identity_matrix());
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mut tkhd = Vec::new();
    for v in [CREATED_1904, CREATED_1904, 1, 0, duration] {
        tkhd.extend_from_slice(&v.to_be_bytes());
    }
    tkhd.extend_from_slice(&[0; 16]);
    tkhd.extend_from_slice(&identity_matrix());
    tkhd.extend_from_slice(&(1280u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(720u32 << 16).to_be_bytes());
    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 13]);
    let trak = bx(
        b"trak",
        &[
            full_box(b"tkhd", &tkhd),
            bx(b"mdia", &full_box(b"hdlr", &hdlr)),
        ]
        .concat(),
    );
    let moov = bx(b"moov", &[full_box(b"mvhd", &mvhd), trak].concat());
    let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let head = ftyp.len() + moov.len() + 8;
    assert!(
        total > head + 16,
        "an MP4 needs at least {} bytes",
        head + 16
    );
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&moov);
    let mdat_len = total - ftyp.len() - moov.len();
    out.extend_from_slice(
        &u32::try_from(mdat_len)
            .expect("mdat under 4 GiB")
            .to_be_bytes(),
    );
    out.extend_from_slice(b"mdat");
    let start = out.len();
    out.resize(total, 0);
    rand::rngs::StdRng::seed_from_u64(seed).fill(&mut out[start..]);
    out
}
