//! Processing of completed uploads: accepted types, metadata, derived copies, hostile files.
// Test code: a panic is the failure report (clippy.toml allows this only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use griddispatch_media::{
    check_position, check_prehashed, derive_image, process, process_blocking, process_prehashed,
    process_prehashed_blocking, read_exif, Declared, GeoPoint, Limits, MediaDetails, MediaError,
    MediaType, Processed, Sha256Digest, DEFAULT_GEO_THRESHOLD_M, DEFAULT_SIMILARITY_THRESHOLD,
};
use image::ImageFormat;

fn run(data: &[u8], declared: Option<&str>) -> Result<Processed, MediaError> {
    run_with(data, declared, &Limits::default())
}

fn run_with(data: &[u8], declared: Option<&str>, limits: &Limits) -> Result<Processed, MediaError> {
    let (_dir, path) = temp_file(data);
    let declared = Declared {
        content_type: declared.map(str::to_owned),
        sha256: Some(Sha256Digest::of(data).to_hex()),
    };
    process(&path, &declared, limits)
}

fn code(r: Result<Processed, MediaError>) -> &'static str {
    r.map(|p| panic!("expected an error, got {p:?}"))
        .unwrap_err()
        .code()
}

const CAMERA: Exif = Exif {
    make: "HUAWEI",
    model: "P60 Pro",
    orientation: 6,
    taken: "2025:03:01 09:30:00",
    offset: "+08:00",
    lat: (30, 15, 0),
    lon: (120, 10, 30),
};

#[test]
fn jpeg_with_exif_yields_metadata_upright_copies_and_no_metadata_in_copies() {
    let original = with_exif(&jpeg(&pattern(2000, 1000, 1), 90), &CAMERA);
    let p = run(&original, Some("image/jpeg")).unwrap();
    assert_eq!(p.media_type, MediaType::Jpeg);
    assert_eq!(p.size, original.len() as u64);
    assert_eq!(p.sha256, Sha256Digest::of(&original));
    let img = p.image().unwrap();
    assert_eq!((img.width, img.height), (Some(2000), Some(1000)));
    let exif = &img.exif;
    assert_eq!(exif.make.as_deref(), Some("HUAWEI"));
    assert_eq!(exif.model.as_deref(), Some("P60 Pro"));
    assert_eq!(exif.orientation, Some(6));
    let taken = exif.captured_at.unwrap();
    assert_eq!(taken.offset_minutes, Some(480));
    assert_eq!(
        taken.utc().unwrap().to_rfc3339(),
        "2025-03-01T01:30:00+00:00"
    );
    let gps = exif.gps.unwrap();
    assert!((gps.lat() - 30.25).abs() < 1e-9);
    assert!((gps.lon() - (120.0 + 10.0 / 60.0 + 30.0 / 3600.0)).abs() < 1e-9);

    // Orientation 6 = rotate 90° clockwise: the upright copies are portrait.
    let derived = img.derived.as_ref().unwrap();
    assert_eq!((derived.display.width, derived.display.height), (800, 1600));
    assert_eq!(
        (derived.thumbnail.width, derived.thumbnail.height),
        (160, 320)
    );
    for copy in [&derived.display.jpeg, &derived.thumbnail.jpeg] {
        assert!(image::load_from_memory_with_format(copy, ImageFormat::Jpeg).is_ok());
        assert_eq!(
            read_exif(copy),
            Default::default(),
            "derived copy must carry no EXIF"
        );
        assert!(!copy.windows(6).any(|w| w == b"Exif\0\0"));
        assert!(!copy.windows(6).any(|w| w == b"HUAWEI"));
    }
}

#[test]
fn geo_check_flags_photo_far_from_reported_position() {
    let original = with_exif(&jpeg(&pattern(64, 64, 1), 90), &CAMERA);
    let exif_gps = run(&original, None).unwrap().image().unwrap().exif.gps;
    let here = GeoPoint::new(30.25, 120.175).unwrap();
    let check = check_position(Some(here), exif_gps, DEFAULT_GEO_THRESHOLD_M).unwrap();
    assert!(!check.exceeds_threshold, "{check:?}");
    let elsewhere = GeoPoint::new(30.30, 120.175).unwrap();
    let check = check_position(Some(elsewhere), exif_gps, DEFAULT_GEO_THRESHOLD_M).unwrap();
    assert!(check.exceeds_threshold && check.distance_m > 5000.0);
}

#[test]
fn png_and_webp_are_accepted_with_copies() {
    let img = pattern(300, 200, 2);
    for (format, mime, ty) in [
        (ImageFormat::Png, "image/png", MediaType::Png),
        (ImageFormat::WebP, "image/webp", MediaType::Webp),
    ] {
        let p = run(&encode(&img, format), Some(mime)).unwrap();
        assert_eq!(p.media_type, ty);
        let info = p.image().unwrap();
        assert_eq!((info.width, info.height), (Some(300), Some(200)));
        let derived = info.derived.as_ref().unwrap();
        // Smaller than the display size: kept at its own size, only re-encoded.
        assert_eq!((derived.display.width, derived.display.height), (300, 200));
        assert!(info.perceptual_hash.is_some());
    }
}

#[test]
fn reused_photo_is_similar_even_reencoded_and_resized() {
    let hash = |data: &[u8]| {
        run(data, None)
            .unwrap()
            .image()
            .unwrap()
            .perceptual_hash
            .unwrap()
    };
    let original = hash(&jpeg(&pattern(1200, 900, 3), 92));
    let reused = hash(&jpeg(
        &pattern(1200, 900, 3).resize(600, 450, image::imageops::FilterType::Triangle),
        55,
    ));
    let as_png = hash(&encode(&pattern(800, 600, 3), ImageFormat::Png));
    let other = hash(&jpeg(&pattern(1200, 900, 4), 92));
    assert!(
        original.is_similar(reused, DEFAULT_SIMILARITY_THRESHOLD),
        "{}",
        original.hamming_distance(reused)
    );
    assert!(
        original.is_similar(as_png, DEFAULT_SIMILARITY_THRESHOLD),
        "{}",
        original.hamming_distance(as_png)
    );
    assert!(
        !original.is_similar(other, DEFAULT_SIMILARITY_THRESHOLD),
        "{}",
        original.hamming_distance(other)
    );
}

#[test]
fn heic_is_accepted_without_copies() {
    let p = run(&heic(4032, 3024), Some("image/heic")).unwrap();
    assert_eq!(p.media_type, MediaType::Heic);
    let info = p.image().unwrap();
    assert_eq!((info.width, info.height), (Some(4032), Some(3024)));
    assert!(info.derived.is_none() && info.perceptual_hash.is_none());
}

#[test]
fn mp4_and_mov_yield_duration_size_and_creation_time() {
    let mut track = video_track(1920, 1080);
    track.rotate_90 = true;
    let mp4 = movie(b"isom", 1000, 12_345, &[track, sound_track()]);
    let p = run(&mp4, Some("video/mp4")).unwrap();
    assert_eq!(p.media_type, MediaType::Mp4);
    let MediaDetails::Video(v) = &p.details else {
        panic!("not video: {p:?}")
    };
    assert_eq!(v.duration_ms, Some(12_345));
    assert_eq!(
        (v.width, v.height, v.rotation_degrees),
        (Some(1920), Some(1080), 90)
    );
    assert!(v.has_audio);
    assert_eq!(
        v.created_at.unwrap().to_rfc3339(),
        "2025-03-01T01:30:00+00:00"
    );

    let mov = movie(b"qt  ", 600, 1200, &[video_track(1280, 720)]);
    let p = run(&mov, Some("video/quicktime")).unwrap();
    assert_eq!(p.media_type, MediaType::Mov);
    let MediaDetails::Video(v) = &p.details else {
        panic!()
    };
    assert_eq!(v.duration_ms, Some(2000));
}

#[test]
fn audio_durations_for_m4a_and_amr() {
    let m4a = movie(b"M4A ", 44_100, 441_000, &[sound_track()]);
    let p = run(&m4a, Some("audio/x-m4a")).unwrap();
    assert_eq!(p.media_type, MediaType::M4a);
    assert!(matches!(&p.details, MediaDetails::Audio(a) if a.duration_ms == Some(10_000)));

    // A generic-brand MP4 with only sound, declared as audio, is audio.
    let generic = movie(b"mp42", 1000, 3000, &[sound_track()]);
    let p = run(&generic, Some("audio/mp4")).unwrap();
    assert_eq!(p.media_type, MediaType::M4a);

    let p = run(&amr(250), Some("audio/amr")).unwrap();
    assert_eq!(p.media_type, MediaType::Amr);
    assert!(matches!(&p.details, MediaDetails::Audio(a) if a.duration_ms == Some(5000)));
}

#[tokio::test]
async fn processing_runs_on_the_blocking_pool() {
    let data = jpeg(&pattern(100, 100, 5), 80);
    let (_dir, path) = temp_file(&data);
    let p = process_blocking(path, Declared::default(), Limits::default())
        .await
        .unwrap();
    assert_eq!(p.media_type, MediaType::Jpeg);
}

#[tokio::test]
async fn a_hash_computed_while_receiving_replaces_the_hashing_pass() {
    let mp4 = movie(b"isom", 1000, 4000, &[video_track(640, 480)]);
    let (_dir, path) = temp_file(&mp4);
    let sha = Sha256Digest::of(&mp4);
    let declared = Declared {
        content_type: Some("video/mp4".into()),
        sha256: Some(sha.to_hex()),
    };
    let limits = Limits::default();
    let hashed = process(&path, &declared, &limits).unwrap();
    let given = process_prehashed(&path, &declared, &limits, Some(sha)).unwrap();
    assert_eq!(given, hashed);
    let p = process_prehashed_blocking(path.clone(), declared.clone(), limits.clone(), Some(sha))
        .await
        .unwrap();
    assert_eq!(p.sha256, sha);
    // The given hash is what is compared with the phone's, and what the result carries.
    let other = Sha256Digest::of(b"other bytes");
    let e = process_prehashed(&path, &declared, &limits, Some(other)).unwrap_err();
    assert_eq!(e.code(), "hash_mismatch");
    let undeclared = Declared {
        sha256: None,
        ..declared
    };
    let p = process_prehashed(&path, &undeclared, &limits, Some(other)).unwrap();
    assert_eq!(p.sha256, other);
}

// ---- hostile and broken uploads ----

#[test]
fn unknown_types_are_unsupported() {
    for data in [
        &b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF"[..],
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0",
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"GIF89a\x01\0\x01\0\0\0\0;",
        b"PK\x03\x04\x14\0\0\0\x08\0",
    ] {
        assert_eq!(code(run(data, None)), "unsupported_type");
    }
    let e = run(b"%PDF-1.4", None).unwrap_err();
    assert_eq!(e.http_status(), 415);
}

#[test]
fn declared_type_that_disagrees_is_rejected() {
    let png = encode(&pattern(10, 10, 1), ImageFormat::Png);
    assert_eq!(code(run(&png, Some("image/jpeg"))), "type_mismatch");
    assert_eq!(code(run(&png, Some("text/html"))), "type_mismatch");
    let mp4 = movie(b"isom", 1000, 1000, &[video_track(640, 480)]);
    assert_eq!(code(run(&mp4, Some("audio/mp4"))), "type_mismatch");
    assert_eq!(code(run(&amr(5), Some("video/mp4"))), "type_mismatch");
}

#[test]
fn wrong_or_malformed_hash_is_rejected() {
    let data = jpeg(&pattern(50, 50, 1), 80);
    let (_dir, path) = temp_file(&data);
    let wrong = Declared {
        content_type: None,
        sha256: Some(Sha256Digest::of(b"something else").to_hex()),
    };
    let e = process(&path, &wrong, &Limits::default()).unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("hash_mismatch", 422));
    let malformed = Declared {
        content_type: None,
        sha256: Some("not-hex".into()),
    };
    assert_eq!(
        process(&path, &malformed, &Limits::default())
            .unwrap_err()
            .code(),
        "invalid_checksum"
    );
}

#[test]
fn oversized_files_are_rejected_per_kind() {
    let limits = Limits {
        max_image_bytes: 1000,
        max_video_bytes: 2000,
        max_audio_bytes: 500,
        ..Limits::default()
    };
    let big_jpeg = jpeg(&pattern(200, 200, 1), 95);
    assert!(big_jpeg.len() > 1000);
    assert_eq!(code(run_with(&big_jpeg, None, &limits)), "too_large");
    let mp4 = movie(b"isom", 1000, 1000, &[video_track(64, 64)]);
    assert!(mp4.len() > 2000);
    assert_eq!(code(run_with(&mp4, None, &limits)), "too_large");
    assert_eq!(code(run_with(&amr(20), None, &limits)), "too_large");
    // The same files pass with default limits.
    assert!(run(&mp4, None).is_ok() && run(&amr(20), None).is_ok());
    assert_eq!(
        run_with(&big_jpeg, None, &limits)
            .unwrap_err()
            .http_status(),
        413
    );
}

#[test]
fn decompression_bombs_are_rejected_before_decoding() {
    assert_eq!(
        code(run(&png_bomb(100_000, 100_000), None)),
        "image_too_large"
    );
    // Within max_dimension but above max_pixels.
    let limits = Limits {
        max_pixels: 10_000,
        ..Limits::default()
    };
    let png = encode(&pattern(200, 200, 1), ImageFormat::Png);
    assert_eq!(code(run_with(&png, None, &limits)), "image_too_large");
    let jpg = jpeg(&pattern(200, 200, 1), 80);
    assert_eq!(code(run_with(&jpg, None, &limits)), "image_too_large");
}

#[test]
fn truncated_files_are_corrupt() {
    let jpg = jpeg(&pattern(300, 300, 1), 90);
    let png = encode(&pattern(300, 300, 1), ImageFormat::Png);
    let webp = encode(&pattern(300, 300, 1), ImageFormat::WebP);
    let mp4 = movie(b"isom", 1000, 1000, &[video_track(64, 64)]);
    let m4a = movie(b"M4A ", 1000, 1000, &[sound_track()]);
    let amr = amr(10);
    for (name, data) in [
        ("jpeg", jpg),
        ("png", png),
        ("webp", webp),
        ("mp4", mp4),
        ("m4a", m4a),
        ("amr", amr),
    ] {
        for cut in [data.len() / 2, data.len() - 1] {
            let r = run(&data[..cut], None);
            assert_eq!(code(r), "corrupt_file", "{name} cut at {cut}");
        }
    }
    assert_eq!(code(run(b"", None)), "corrupt_file");
}

#[test]
fn mp4_without_moov_is_corrupt() {
    let data = [bx(b"ftyp", b"isom\0\0\0\0isom"), bx(b"mdat", &[0; 64])].concat();
    assert_eq!(code(run(&data, None)), "corrupt_file");
}

#[test]
fn polyglots_are_detected() {
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0payload.html<html><script>x</script></html>";
    let html = b"<html><script>alert(document.cookie)</script></html>";

    let jpg = [jpeg(&pattern(64, 64, 1), 80), zip.to_vec()].concat();
    assert_eq!(code(run(&jpg, Some("image/jpeg"))), "polyglot");
    let png = [encode(&pattern(64, 64, 1), ImageFormat::Png), html.to_vec()].concat();
    assert_eq!(code(run(&png, None)), "polyglot");
    let webp = [encode(&pattern(64, 64, 1), ImageFormat::WebP), zip.to_vec()].concat();
    assert_eq!(code(run(&webp, None)), "polyglot");
    // A ZIP appended to a video cannot form a valid box.
    let mp4 = [
        movie(b"isom", 1000, 1000, &[video_track(64, 64)]),
        zip.to_vec(),
    ]
    .concat();
    assert!(matches!(code(run(&mp4, None)), "corrupt_file" | "polyglot"));
    // A JPEG magic number in front of HTML is not a JPEG.
    let fake = [&b"\xFF\xD8\xFF\xE0"[..], html].concat();
    assert_eq!(code(run(&fake, None)), "corrupt_file");
    // PNG signature in front of a JPEG body.
    let fake = [&b"\x89PNG\r\n\x1a\n"[..], &jpeg(&pattern(8, 8, 1), 80)].concat();
    assert_eq!(code(run(&fake, None)), "corrupt_file");
}

#[test]
fn jpeg_declaring_huge_dimensions_is_rejected() {
    let mut data = jpeg(&pattern(16, 16, 1), 80);
    let sof = data.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // SOF0: marker, length(2), precision(1), height(2), width(2).
    data[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    assert_eq!(code(run(&data, None)), "image_too_large");
}

#[test]
fn a_large_jpeg_is_decoded_at_reduced_scale_upright_with_the_same_hash() {
    // 4000 × 2000: the display copy (1600) needs only half of its pixels, decoded in the DCT
    // domain; turned upright from EXIF orientation 6 as the full-size path does.
    let picture = pattern(4000, 2000, 11);
    let original = with_exif(&jpeg(&picture, 90), &CAMERA);
    let p = run(&original, Some("image/jpeg")).unwrap();
    let img = p.image().unwrap();
    assert_eq!((img.width, img.height), (Some(4000), Some(2000)));
    let derived = img.derived.as_ref().unwrap();
    assert_eq!((derived.display.width, derived.display.height), (800, 1600));
    assert_eq!(
        (derived.thumbnail.width, derived.thumbnail.height),
        (160, 320)
    );
    assert_eq!(read_exif(&derived.display.jpeg), Default::default());
    // The same picture at a size that is decoded whole hashes (nearly) the same.
    let small = with_exif(
        &jpeg(
            &picture.resize(2000, 1000, image::imageops::FilterType::Triangle),
            90,
        ),
        &CAMERA,
    );
    let whole = run(&small, Some("image/jpeg")).unwrap();
    let a = img.perceptual_hash.unwrap();
    let b = whole.image().unwrap().perceptual_hash.unwrap();
    assert!(
        a.is_similar(b, DEFAULT_SIMILARITY_THRESHOLD),
        "distance {}",
        a.hamming_distance(b)
    );
}

#[test]
fn the_acknowledgement_checks_read_exif_and_dimensions_without_decoding() {
    let original = with_exif(&jpeg(&pattern(1200, 900, 4), 90), &CAMERA);
    let (_dir, path) = temp_file(&original);
    let declared = Declared {
        content_type: Some("image/jpeg".into()),
        sha256: Some(Sha256Digest::of(&original).to_hex()),
    };
    let p = check_prehashed(&path, &declared, &Limits::default(), None).unwrap();
    let img = p.image().unwrap();
    assert_eq!((img.width, img.height), (Some(1200), Some(900)));
    assert_eq!(img.exif.orientation, Some(6));
    assert!(img.exif.gps.is_some() && img.exif.captured_at.is_some());
    assert!(img.perceptual_hash.is_none() && img.derived.is_none());
    // Cheap checks still refuse what they refused: a truncated photo, a bomb's header.
    let cut = &original[..original.len() - 100];
    let (_d, cut_path) = temp_file(cut);
    let e = check_prehashed(&cut_path, &Declared::default(), &Limits::default(), None).unwrap_err();
    assert_eq!(e.code(), "corrupt_file");
    let small = Limits {
        max_pixels: 1000,
        ..Limits::default()
    };
    let e = check_prehashed(&path, &Declared::default(), &small, None).unwrap_err();
    assert_eq!(e.code(), "image_too_large");
}

#[test]
fn a_jpeg_whose_markers_are_sound_but_does_not_decode_fails_only_when_decoded() {
    let mut data = jpeg(&pattern(64, 48, 5), 90);
    let sos = data.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    // The scan asks for Huffman tables (3/3) the file never defines.
    data[sos + 6] = 0x33;
    let (_dir, path) = temp_file(&data);
    assert!(check_prehashed(&path, &Declared::default(), &Limits::default(), None).is_ok());
    let e = derive_image(&data, MediaType::Jpeg, &Limits::default()).unwrap_err();
    assert_eq!(e.code(), "corrupt_file");
}

/// `jpeg` with `segments` (marker, payload) inserted right after its SOI.
fn with_segments(jpeg: &[u8], segments: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for (marker, payload) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn a_small_upright_jpeg_is_shown_as_taken_without_any_of_its_metadata() {
    let upright = Exif {
        orientation: 1,
        ..CAMERA
    };
    let original = with_segments(
        &with_exif(&jpeg(&pattern(800, 600, 4), 90), &upright),
        &[
            (
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>HUAWEI</x:xmpmeta>",
            ),
            (0xE2, b"ICC_PROFILE\0\x01\x01profile-bytes"),
            (0xED, b"Photoshop 3.0\0iptc-location"),
            (0xFE, b"taken at 30.25N 120.175E"),
            (0xEE, b"Adobe\0\x64\0\0\0\0\x01"),
        ],
    );
    let p = run(&original, Some("image/jpeg")).unwrap();
    let info = p.image().unwrap();
    assert!(info.exif.gps.is_some(), "the original keeps its EXIF");
    let derived = info.derived.as_ref().unwrap();
    let display = &derived.display;
    assert_eq!((display.width, display.height), (800, 600));
    assert_eq!(
        (derived.thumbnail.width, derived.thumbnail.height),
        (320, 240)
    );
    for copy in [&display.jpeg, &derived.thumbnail.jpeg] {
        assert_eq!(read_exif(copy), Default::default());
        for secret in [
            &b"Exif\0\0"[..],
            b"HUAWEI",
            b"http://ns.adobe.com/xap",
            b"ICC_PROFILE",
            b"iptc-location",
            b"30.25N",
        ] {
            assert!(
                !copy.windows(secret.len()).any(|w| w == secret),
                "{} survived",
                String::from_utf8_lossy(secret)
            );
        }
    }
    // Not re-encoded: the very same pixels as the original.
    let shown = image::load_from_memory_with_format(&display.jpeg, ImageFormat::Jpeg).unwrap();
    let taken = image::load_from_memory_with_format(&original, ImageFormat::Jpeg).unwrap();
    assert_eq!(shown.to_rgb8().as_raw(), taken.to_rgb8().as_raw());
}

#[test]
fn a_small_turned_jpeg_is_shown_upright() {
    let original = with_exif(&jpeg(&pattern(800, 600, 4), 90), &CAMERA);
    let p = run(&original, Some("image/jpeg")).unwrap();
    let derived = p.image().unwrap().derived.clone().unwrap();
    // Orientation 6: re-encoded from pixels turned a quarter clockwise.
    assert_eq!((derived.display.width, derived.display.height), (600, 800));
    assert_eq!(read_exif(&derived.display.jpeg), Default::default());
    assert!(!derived.display.jpeg.windows(6).any(|w| w == b"HUAWEI"));
}
