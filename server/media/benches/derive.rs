//! One phone-sized photo (4000 × 3000 JPEG, 3–5 MB, sensor-like noise): what the acknowledgement
//! checks cost, what its copies cost now (reduced-scale decode, thumbnail from the display
//! copy), and what they cost the previous way (full-size decode, both copies from it), on one
//! thread. Medians of `GD_BENCH_REPS` (default 7) runs. Not a test: it measures and prints.
//!
//! ```text
//! cargo bench -p griddispatch-media --bench derive
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use griddispatch_media::{check_prehashed, derive_image, Declared, Limits, MediaType};
use image::{imageops::FilterType, DynamicImage, Rgb, RgbImage};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Structure plus per-pixel noise, like a phone photo at quality 90.
fn phone_jpeg(seed: u64) -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let img = RgbImage::from_fn(w, h, |x, y| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let cell = ((fx * 5.0) as u32 * 7 + (fy * 5.0) as u32 * 13 + seed as u32) % 6;
        let base = (cell * 40) as f32 + 30.0 * (fx * 9.0).sin() + 40.0 * fy;
        let px = |i: usize| {
            (base + i as f32 * 60.0 * fy + f32::from(r[i] % 24) - 12.0).clamp(0.0, 255.0) as u8
        };
        Rgb([px(0), px(1), px(2)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&DynamicImage::ImageRgb8(img))
        .unwrap();
    out
}

/// The copies as they were made before (full-size decode; display and thumbnail from it).
fn previous_way(data: &[u8], limits: &Limits) -> usize {
    let img = image::load_from_memory(data).unwrap();
    let small = img.thumbnail(limits.thumbnail_size, limits.thumbnail_size);
    let d = limits.display_size;
    let display = img.resize(d, d, FilterType::CatmullRom);
    [small, display]
        .iter()
        .map(|copy| encode(copy, limits.jpeg_quality))
        .sum()
}

/// A copy encoded as the server encodes it (`jpeg-encoder`); its size in bytes.
fn encode(img: &DynamicImage, quality: u8) -> usize {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(
            rgb.as_raw(),
            rgb.width() as u16,
            rgb.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out.len()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let reps: usize = std::env::var("GD_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let limits = Limits::default();
    let data = phone_jpeg(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, &data).unwrap();
    let digest = griddispatch_media::Sha256Digest::of(&data);
    println!(
        "one 4000×3000 JPEG of {:.2} MB, {reps} runs each, one thread:",
        data.len() as f64 / 1e6
    );
    let (mut check, mut now, mut before) = (vec![], vec![], vec![]);
    for _ in 0..reps {
        let t = Instant::now();
        check_prehashed(&path, &Declared::default(), &limits, Some(digest)).unwrap();
        check.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        derive_image(&data, MediaType::Jpeg, &limits)
            .unwrap()
            .unwrap();
        now.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        previous_way(&data, &limits);
        before.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    stages(&data, &limits, reps);
    let (c, n, b) = (median(check), median(now), median(before));
    println!("  acknowledgement checks (structure, header, EXIF): median {c:.1} ms");
    println!("  copies + dHash now (reduced-scale decode):        median {n:.1} ms");
    println!(
        "  copies the previous way (full-size decode):       median {b:.1} ms ({:.1}× now)",
        b / n
    );
}

/// Where the copies' time goes, stage by stage (medians of `reps`).
fn stages(data: &[u8], limits: &Limits, reps: usize) {
    let time = |f: &mut dyn FnMut()| {
        let mut v = vec![];
        for _ in 0..reps {
            let t = Instant::now();
            f();
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        median(v)
    };
    let full = time(&mut || {
        image::load_from_memory(data).unwrap();
    });
    let mut half = None;
    let scaled = time(&mut || {
        let mut dec = jpeg_decoder::Decoder::new(std::io::Cursor::new(data));
        dec.scale(1600, 1200).unwrap();
        let px = dec.decode().unwrap();
        half = Some(DynamicImage::ImageRgb8(
            RgbImage::from_raw(2000, 1500, px).unwrap(),
        ));
    });
    let half = half.unwrap();
    let mut shown = None;
    let resize_image = time(&mut || {
        shown = Some(half.resize(
            limits.display_size,
            limits.display_size,
            FilterType::CatmullRom,
        ));
    });
    let shown = shown.unwrap();
    let resize_fir = time(&mut || {
        let mut out = DynamicImage::new(shown.width(), shown.height(), half.color());
        let options = fast_image_resize::ResizeOptions::new().resize_alg(
            fast_image_resize::ResizeAlg::Convolution(fast_image_resize::FilterType::CatmullRom),
        );
        fast_image_resize::Resizer::new()
            .resize(&half, &mut out, Some(&options))
            .unwrap();
    });
    let encode_ms = time(&mut || {
        std::hint::black_box(encode(&shown, limits.jpeg_quality));
    });
    let thumb = time(&mut || {
        std::hint::black_box(shown.thumbnail(limits.thumbnail_size, limits.thumbnail_size));
    });
    println!(
        "  stages: full decode (image/zune-jpeg) {full:.1} ms; 1/2-scale decode (jpeg-decoder) \
         {scaled:.1} ms; resize 2000→1600 Catmull-Rom: image {resize_image:.1} ms, \
         fast_image_resize {resize_fir:.1} ms; encode display {encode_ms:.1} ms; thumbnail {thumb:.1} ms"
    );
}
