//! tus 1.0 uploads of evidence, over real HTTP, on the configured backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{assert_error, TestApp};
use griddispatch_protocol::Role;
use image::{DynamicImage, Rgb, RgbImage};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A structured picture (so perceptual hashes mean something), as JPEG.
pub(crate) fn photo(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let cell = ((fx * 4.0) as u32 * 7 + (fy * 4.0) as u32 * 13 + seed * 31) % 5;
        let v = ((cell * 50) as f32 + 40.0 * (fx * (seed as f32 + 1.0) * 3.1).sin())
            .clamp(0.0, 255.0) as u8;
        Rgb([v, v.wrapping_add((seed * 40) as u8), 255 - v])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&DynamicImage::ImageRgb8(img).to_rgb8())
        .unwrap();
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) struct Tus<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) token: String,
}

impl Tus<'_> {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
    }

    async fn create(&self, length: usize, meta: &str) -> reqwest::Response {
        self.req(reqwest::Method::POST, "/files/")
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap()
    }

    async fn create_ok(&self, data: &[u8], attachment_id: &str) -> String {
        let meta = metadata(&[
            ("attachment_id", attachment_id),
            ("sha256", &sha256_hex(data)),
            ("filename", "现场.jpg"),
            ("filetype", "image/jpeg"),
        ]);
        let resp = self.create(data.len(), &meta).await;
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
        resp.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn patch(
        &self,
        location: &str,
        offset: usize,
        chunk: &[u8],
        checksum: Option<String>,
    ) -> reqwest::Response {
        self.patch_body(location, offset, chunk.to_vec().into(), checksum)
            .await
    }

    /// [`Tus::patch`] with the chunk sent in 64 KiB pieces and no `Content-Length`, as a
    /// socket delivers a large body.
    async fn patch_streamed(
        &self,
        location: &str,
        offset: usize,
        chunk: &[u8],
        checksum: Option<String>,
    ) -> reqwest::Response {
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
            chunk.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(pieces));
        self.patch_body(location, offset, body, checksum).await
    }

    async fn patch_body(
        &self,
        location: &str,
        offset: usize,
        body: reqwest::Body,
        checksum: Option<String>,
    ) -> reqwest::Response {
        let mut r = self
            .req(reqwest::Method::PATCH, location)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string())
            .body(body);
        if let Some(c) = checksum {
            r = r.header("Upload-Checksum", c);
        }
        r.send().await.unwrap()
    }

    async fn head(&self, location: &str) -> reqwest::Response {
        self.req(reqwest::Method::HEAD, location)
            .send()
            .await
            .unwrap()
    }

    /// Upload `data` declared as `content_type`, in one PATCH.
    pub(crate) async fn upload_as(
        &self,
        data: &[u8],
        attachment_id: &str,
        content_type: &str,
    ) -> reqwest::Response {
        let sha = sha256_hex(data);
        let meta = metadata(&[
            ("attachment_id", attachment_id),
            ("sha256", sha.as_str()),
            ("filetype", content_type),
        ]);
        let resp = self.create(data.len(), &meta).await;
        assert_eq!(resp.status(), 201);
        let loc = resp.headers()["location"].to_str().unwrap().to_owned();
        self.patch(&loc, 0, data, None).await
    }

    /// Upload `data` in one PATCH with `extra` metadata (`phase`, `captured_at`, …): the
    /// creation's answer when it is refused, else the PATCH's.
    pub(crate) async fn upload_with(
        &self,
        data: &[u8],
        attachment_id: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let sha = sha256_hex(data);
        let mut pairs = vec![
            ("attachment_id", attachment_id),
            ("sha256", sha.as_str()),
            ("filetype", "image/jpeg"),
        ];
        pairs.extend_from_slice(extra);
        let resp = self.create(data.len(), &metadata(&pairs)).await;
        if resp.status() != 201 {
            return resp;
        }
        let loc = resp.headers()["location"].to_str().unwrap().to_owned();
        self.patch(&loc, 0, data, None).await
    }

    pub(crate) async fn upload(
        &self,
        data: &[u8],
        attachment_id: &str,
        chunk: usize,
    ) -> reqwest::Response {
        let loc = self.create_ok(data, attachment_id).await;
        let mut offset = 0;
        loop {
            let end = (offset + chunk).min(data.len());
            let resp = self.patch(&loc, offset, &data[offset..end], None).await;
            if resp.status() != 204 || end == data.len() {
                return resp;
            }
            offset = end;
        }
    }
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.user("gm.zhang", &[Role::GridMember]);
    let t = app.login("gm.zhang", "phone").await;
    (app, t.access_token)
}

fn offset_of(h: &HeaderMap) -> u64 {
    h["upload-offset"].to_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn options_advertises_the_protocol() {
    let (app, _) = setup().await;
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/files/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let h = resp.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-resumable"], "1.0.0");
    let ext = h["tus-extension"].to_str().unwrap();
    for e in [
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    ] {
        assert!(ext.split(',').any(|x| x == e), "{ext}");
    }
    assert_eq!(h["tus-checksum-algorithm"], "sha1,sha256");
    assert!(h["tus-max-size"].to_str().unwrap().parse::<u64>().unwrap() > 1_000_000);
}

#[actix_web::test]
async fn a_photo_uploaded_in_chunks_becomes_evidence_with_the_same_bytes() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = photo(640, 480, 1);
    let id = uuid::Uuid::now_v7().to_string();
    let resp = tus.upload(&data, &id, 7000).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(offset_of(resp.headers()), data.len() as u64);
    assert_eq!(resp.headers()["tus-resumable"], "1.0.0");

    // The copies are made after the upload was acknowledged.
    let view = app.copies_made(&id, &token).await;
    assert_eq!(view["copies"], "done");
    assert_eq!(view["kind"], "photo");
    assert_eq!(view["media_type"], "image/jpeg");
    assert_eq!(view["sha256"], sha256_hex(&data));
    assert_eq!(view["size"], data.len());
    assert_eq!(view["filename"], "现场.jpg");
    assert_eq!(view["width"], 640);
    assert_eq!(
        view["variants"],
        serde_json::json!(["original", "thumbnail", "display"])
    );
    let original = app
        .get(&format!("/api/v1/attachments/{id}/content"), Some(&token))
        .await;
    assert_eq!(original.headers()["x-content-type-options"], "nosniff");
    assert_eq!(original.bytes().await.unwrap().as_ref(), data.as_slice());
    let thumb = app
        .get(
            &format!("/api/v1/attachments/{id}/content?variant=thumbnail"),
            Some(&token),
        )
        .await;
    assert_eq!(thumb.status(), 200);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert!(thumb.width() <= 320 && thumb.height() <= 320);

    // HEAD after completion reports the full offset, uncacheable.
    let loc = format!("/files/{}", {
        // find the upload's location by creating again with the same attachment id
        let again = tus
            .create(
                data.len(),
                &metadata(&[("attachment_id", &id), ("sha256", &sha256_hex(&data))]),
            )
            .await;
        assert_eq!(again.status(), 201);
        again.headers()["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    });
    let head = tus.head(&loc).await;
    assert_eq!(head.status(), 200);
    assert_eq!(offset_of(head.headers()), data.len() as u64);
    assert_eq!(head.headers()["cache-control"], "no-store");
}

#[actix_web::test]
async fn creation_with_upload_carries_the_first_bytes() {
    let (app, token) = setup().await;
    let data = photo(200, 150, 2);
    let id = uuid::Uuid::now_v7().to_string();
    let resp = app
        .client
        .post(app.url("/files/"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", data.len().to_string())
        .header(
            "Upload-Metadata",
            metadata(&[("attachment_id", &id), ("sha256", &sha256_hex(&data))]),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .body(data[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(offset_of(resp.headers()), 1000);
    assert!(resp.headers().contains_key("upload-expires"));
    let loc = resp.headers()["location"].to_str().unwrap().to_owned();
    let tus = Tus { app: &app, token };
    assert_eq!(
        tus.patch(&loc, 1000, &data[1000..], None).await.status(),
        204
    );
}

#[actix_web::test]
async fn creating_twice_with_one_attachment_id_returns_the_same_upload() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = photo(100, 100, 3);
    let id = uuid::Uuid::now_v7().to_string();
    let a = tus.create_ok(&data, &id).await;
    tus.patch(&a, 0, &data[..500], None).await;
    let resp = tus
        .create(
            data.len(),
            &metadata(&[("attachment_id", &id), ("sha256", &sha256_hex(&data))]),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["location"].to_str().unwrap(), a);
    assert_eq!(offset_of(resp.headers()), 500);
    // Another length for the same id is a conflict.
    let resp = tus
        .create(
            data.len() + 1,
            &metadata(&[("attachment_id", &id), ("sha256", &sha256_hex(&data))]),
        )
        .await;
    assert_error(resp, 409, "upload_conflict").await;
    // Another user cannot take the id, nor see the upload.
    app.user("other.gm", &[Role::GridMember]);
    let other = Tus {
        app: &app,
        token: app.login("other.gm", "p").await.access_token,
    };
    let resp = other
        .create(
            data.len(),
            &metadata(&[("attachment_id", &id), ("sha256", &sha256_hex(&data))]),
        )
        .await;
    assert_error(resp, 409, "attachment_id_taken").await;
    assert_eq!(other.head(&a).await.status(), 404);
    assert_error(
        other.patch(&a, 500, &data[500..], None).await,
        404,
        "not_found",
    )
    .await;
    let del = other.req(reqwest::Method::DELETE, &a).send().await.unwrap();
    assert_error(del, 404, "not_found").await;
}

#[actix_web::test]
async fn the_protocol_version_and_authentication_are_required() {
    let (app, token) = setup().await;
    let resp = app
        .client
        .post(app.url("/files/"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["tus-resumable"], "1.0.0");
    assert_error(resp, 412, "tus_version_unsupported").await;
    let resp = app
        .client
        .post(app.url("/files/"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "missing_token").await;
}

#[actix_web::test]
async fn bad_creation_requests_are_refused_with_what_to_fix() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let id = uuid::Uuid::now_v7().to_string();
    let no_sha = tus.create(10, &metadata(&[("attachment_id", &id)])).await;
    assert!(assert_error(no_sha, 400, "invalid_metadata")
        .await
        .contains("sha256"));
    let bad_id = tus
        .create(
            10,
            &metadata(&[("attachment_id", "photo-1"), ("sha256", &"a".repeat(64))]),
        )
        .await;
    assert_error(bad_id, 400, "invalid_metadata").await;
    let not_b64 = tus.create(10, "attachment_id ***").await;
    assert_error(not_b64, 400, "invalid_metadata").await;
    let huge = tus
        .create(
            usize::MAX / 2,
            &metadata(&[("attachment_id", &id), ("sha256", &"a".repeat(64))]),
        )
        .await;
    assert_error(huge, 413, "payload_too_large").await;
    let no_len = tus
        .req(reqwest::Method::POST, "/files/")
        .send()
        .await
        .unwrap();
    assert_error(no_len, 400, "missing_upload_length").await;
}

#[actix_web::test]
async fn a_wrong_offset_is_a_conflict_and_changes_nothing() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = photo(100, 100, 4);
    let loc = tus
        .create_ok(&data, &uuid::Uuid::now_v7().to_string())
        .await;
    assert_eq!(tus.patch(&loc, 0, &data[..100], None).await.status(), 204);
    assert_error(
        tus.patch(&loc, 50, &data[50..200], None).await,
        409,
        "offset_mismatch",
    )
    .await;
    assert_eq!(offset_of(tus.head(&loc).await.headers()), 100);
    let wrong_type = tus
        .req(reqwest::Method::PATCH, &loc)
        .header("Content-Type", "application/json")
        .header("Upload-Offset", "100")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(wrong_type, 415, "unsupported_media_type").await;
    let too_long = tus.patch(&loc, 100, &vec![0u8; data.len()], None).await;
    assert_error(too_long, 413, "payload_too_large").await;
    assert_eq!(offset_of(tus.head(&loc).await.headers()), 100);
}

#[actix_web::test]
async fn a_chunk_with_a_wrong_checksum_is_discarded_with_460() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = photo(300, 200, 5);
    let loc = tus
        .create_ok(&data, &uuid::Uuid::now_v7().to_string())
        .await;
    let chunk = &data[..1000];
    let wrong = STANDARD.encode(sha1::Sha1::digest(b"something else"));
    let resp = tus
        .patch(&loc, 0, chunk, Some(format!("sha1 {wrong}")))
        .await;
    assert_error(resp, 460, "checksum_mismatch").await;
    assert_eq!(offset_of(tus.head(&loc).await.headers()), 0);
    let md5 = tus
        .patch(&loc, 0, chunk, Some("md5 AAAAAAAAAAAAAAAAAAAAAA==".into()))
        .await;
    assert_error(md5, 400, "unsupported_checksum_algorithm").await;
    let right = STANDARD.encode(sha1::Sha1::digest(chunk));
    assert_eq!(
        tus.patch(&loc, 0, chunk, Some(format!("sha1 {right}")))
            .await
            .status(),
        204
    );
    let rest = &data[1000..];
    let right256 = STANDARD.encode(Sha256::digest(rest));
    assert_eq!(
        tus.patch(&loc, 1000, rest, Some(format!("sha256 {right256}")))
            .await
            .status(),
        204
    );
}

#[actix_web::test]
async fn termination_removes_an_unfinished_upload_but_never_finished_evidence() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = photo(100, 80, 6);
    let loc = tus
        .create_ok(&data, &uuid::Uuid::now_v7().to_string())
        .await;
    tus.patch(&loc, 0, &data[..10], None).await;
    assert_eq!(
        tus.req(reqwest::Method::DELETE, &loc)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(tus.head(&loc).await.status(), 410);
    assert_error(
        tus.patch(&loc, 10, &data[10..], None).await,
        410,
        "upload_gone",
    )
    .await;
    let file = app
        .state
        .media
        .upload_dir
        .join(loc.rsplit('/').next().unwrap());
    assert!(!file.exists());

    let done = uuid::Uuid::now_v7().to_string();
    assert_eq!(tus.upload(&data, &done, 100_000).await.status(), 204);
    let again = tus
        .create(
            data.len(),
            &metadata(&[("attachment_id", &done), ("sha256", &sha256_hex(&data))]),
        )
        .await;
    let loc = again.headers()["location"].to_str().unwrap().to_owned();
    let del = tus.req(reqwest::Method::DELETE, &loc).send().await.unwrap();
    assert_error(del, 409, "evidence_immutable").await;
}

#[actix_web::test]
async fn a_file_whose_hash_differs_from_the_phones_is_refused_and_not_stored() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = photo(120, 90, 7);
    let id = uuid::Uuid::now_v7().to_string();
    let meta = metadata(&[
        ("attachment_id", &id),
        ("sha256", &sha256_hex(b"not this file")),
    ]);
    let loc = tus.create(data.len(), &meta).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let resp = tus.patch(&loc, 0, &data, None).await;
    assert_error(resp, 422, "hash_mismatch").await;
    assert_error(
        app.get(&format!("/api/v1/attachments/{id}"), Some(&token))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(tus.head(&loc).await.status(), 410);
    assert!(!app
        .state
        .media
        .upload_dir
        .join(loc.rsplit('/').next().unwrap())
        .exists());
}

#[actix_web::test]
async fn files_that_are_not_photos_video_or_audio_are_refused_with_415() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    for (name, bytes) in [
        (
            "pdf",
            b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
        ),
        ("html", b"<!doctype html><script>alert(1)</script>".to_vec()),
        (
            "elf",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec(),
        ),
    ] {
        let id = uuid::Uuid::now_v7().to_string();
        let meta = metadata(&[
            ("attachment_id", &id),
            ("sha256", &sha256_hex(&bytes)),
            ("filetype", "image/jpeg"),
        ]);
        let loc = tus.create(bytes.len(), &meta).await.headers()["location"]
            .to_str()
            .unwrap()
            .to_owned();
        let resp = tus.patch(&loc, 0, &bytes, None).await;
        assert_error(resp, 415, "unsupported_type").await;
        assert_eq!(
            app.get(&format!("/api/v1/attachments/{id}"), Some(&token))
                .await
                .status(),
            404,
            "{name}"
        );
    }
    // A real JPEG declared as video is a type mismatch.
    let data = photo(50, 50, 8);
    let id = uuid::Uuid::now_v7().to_string();
    let meta = metadata(&[
        ("attachment_id", &id),
        ("sha256", &sha256_hex(&data)),
        ("filetype", "video/mp4"),
    ]);
    let loc = tus.create(data.len(), &meta).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_error(tus.patch(&loc, 0, &data, None).await, 415, "type_mismatch").await;
}

#[actix_web::test]
async fn a_reused_photo_is_flagged_against_the_earlier_one() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let first = photo(800, 600, 9);
    let a = uuid::Uuid::now_v7().to_string();
    assert_eq!(tus.upload(&first, &a, 1 << 20).await.status(), 204);
    // The very same file for another report.
    let b = uuid::Uuid::now_v7().to_string();
    assert_eq!(tus.upload(&first, &b, 1 << 20).await.status(), 204);
    // The same scene re-encoded smaller.
    let smaller = {
        let img = image::load_from_memory(&first).unwrap().resize(
            400,
            300,
            image::imageops::FilterType::Triangle,
        );
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
            .encode_image(&img.to_rgb8())
            .unwrap();
        out
    };
    let c = uuid::Uuid::now_v7().to_string();
    assert_eq!(tus.upload(&smaller, &c, 1 << 20).await.status(), 204);
    let different = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        tus.upload(&photo(800, 600, 77), &different, 1 << 20)
            .await
            .status(),
        204
    );

    // Flagged once the copies (and so the perceptual hashes) are made.
    let view = |id: String| {
        let app = &app;
        let token = token.clone();
        async move { app.copies_made(&id, &token).await }
    };
    assert_eq!(view(a.clone()).await["similar_to"], Value::Null);
    assert_eq!(view(b).await["similar_to"], a.as_str());
    assert_eq!(view(c).await["similar_to"], a.as_str());
    assert_eq!(view(different).await["similar_to"], Value::Null);
}

#[actix_web::test]
async fn an_upload_being_written_is_locked_against_a_second_writer() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = photo(100, 100, 10);
    let loc = tus
        .create_ok(&data, &uuid::Uuid::now_v7().to_string())
        .await;
    let id = loc.rsplit('/').next().unwrap().to_owned();
    let now = griddispatch::db::now();
    let mut conn = app.state.pool.get().unwrap();
    assert!(griddispatch::store::uploads::try_lock(
        &mut conn,
        &id,
        "other-request",
        now,
        now + chrono::Duration::minutes(5)
    )
    .unwrap());
    assert_error(tus.patch(&loc, 0, &data, None).await, 423, "upload_locked").await;
    griddispatch::store::uploads::unlock(&mut conn, &id, "other-request").unwrap();
    drop(conn);
    assert_eq!(tus.patch(&loc, 0, &data, None).await.status(), 204);
}

#[actix_web::test]
async fn an_expired_upload_is_gone_and_its_bytes_removed() {
    let (app, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = photo(100, 100, 11);
    let att = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_ok(&data, &att).await;
    tus.patch(&loc, 0, &data[..100], None).await;
    let id = loc.rsplit('/').next().unwrap().to_owned();
    {
        use diesel::prelude::*;
        use griddispatch::schema::uploads;
        let mut conn = app.state.pool.get().unwrap();
        diesel::update(uploads::table.find(&id))
            .set(uploads::expires_at.eq(griddispatch::db::now() - chrono::Duration::hours(1)))
            .execute(&mut conn)
            .unwrap();
    }
    let (expired, _) = griddispatch::tus::jobs::sweep(&app.state).await.unwrap();
    assert_eq!(expired, 1);
    assert!(!app.state.media.upload_dir.join(&id).exists());
    assert_error(
        tus.patch(&loc, 100, &data[100..], None).await,
        410,
        "upload_gone",
    )
    .await;
    // The phone comes back after the expiry and starts the same evidence again: a fresh
    // upload under the same attachment id, not the dead one.
    let again = tus.create_ok(&data, &att).await;
    assert_ne!(again, loc);
    assert_eq!(tus.patch(&again, 0, &data, None).await.status(), 204);
    let view: Value = app
        .get(&format!("/api/v1/attachments/{att}"), Some(&tus.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["sha256"], sha256_hex(&data));
}

#[actix_web::test]
async fn an_upload_stranded_by_a_restart_is_finished_by_the_sweep() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = photo(100, 100, 12);
    let att = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_ok(&data, &att).await;
    let id = loc.rsplit('/').next().unwrap().to_owned();
    // Simulate a crash after the bytes were recorded but before the evidence was written.
    std::fs::write(app.state.media.upload_dir.join(&id), &data).unwrap();
    {
        use diesel::prelude::*;
        use griddispatch::schema::uploads;
        let mut conn = app.state.pool.get().unwrap();
        diesel::update(uploads::table.find(&id))
            .set(uploads::offset_.eq(data.len() as i64))
            .execute(&mut conn)
            .unwrap();
    }
    let (_, completed) = griddispatch::tus::jobs::sweep(&app.state).await.unwrap();
    assert_eq!(completed, 1);
    let view: Value = app
        .get(&format!("/api/v1/attachments/{att}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["sha256"], sha256_hex(&data));
}

#[actix_web::test]
async fn a_connection_cut_mid_chunk_keeps_the_bytes_that_arrived() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = photo(400, 300, 13);
    let loc = tus
        .create_ok(&data, &uuid::Uuid::now_v7().to_string())
        .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let sent = 3000;
    let handle = std::thread::spawn({
        let loc = loc.clone();
        let data = data.clone();
        move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let head = format!(
                "PATCH {loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
                 Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {}\r\n\r\n",
                data.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&data[..sent]).unwrap();
            s.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            s.shutdown(std::net::Shutdown::Both).unwrap();
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
        }
    });
    handle.join().unwrap();
    // The server records what arrived; the client resumes from there.
    let mut offset = 0;
    for _ in 0..50 {
        offset = offset_of(tus.head(&loc).await.headers());
        if offset == sent as u64 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(offset, sent as u64);
    assert_eq!(
        tus.patch(&loc, sent, &data[sent..], None).await.status(),
        204
    );
}

#[actix_web::test]
async fn only_the_maker_says_what_evidence_proves_and_strangers_cannot_see_it() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = photo(100, 100, 14);
    let id = uuid::Uuid::now_v7().to_string();
    tus.upload(&data, &id, 1 << 20).await;
    let body = serde_json::json!({"proves": "证明占道经营事实"});
    let resp = app
        .client
        .patch(app.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["proves"],
        "证明占道经营事实"
    );

    app.user("stranger", &[Role::GridMember]);
    let stranger = app.login("stranger", "p").await.access_token;
    assert_error(
        app.get(&format!("/api/v1/attachments/{id}"), Some(&stranger))
            .await,
        404,
        "not_found",
    )
    .await;
    app.user("disp", &[Role::Dispatcher]);
    let disp = app.login("disp", "p").await.access_token;
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{id}"), Some(&disp))
            .await
            .status(),
        200
    );
    let resp = app
        .client
        .patch(app.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(&disp)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

/// An ISO-BMFF box.
fn bmff_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(payload);
    v
}

/// A valid MP4 of exactly `total` bytes: `ftyp`, `moov` (`mvhd` and one 640×480 video track),
/// and an `mdat` of noise from `seed` filling the rest, like a phone video.
fn mp4(total: usize, seed: u32) -> Vec<u8> {
    let full = |kind: &[u8; 4], payload: &[u8]| bmff_box(kind, &[&[0u8; 4][..], payload].concat());
    let matrix: Vec<u8> = [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let mut mvhd = Vec::new();
    for v in [0u32, 0, 1000, 10_000, 0x0001_0000] {
        mvhd.extend_from_slice(&v.to_be_bytes());
    }
    mvhd.extend_from_slice(&[1, 0]);
    mvhd.extend_from_slice(&[0; 10]);
    mvhd.extend_from_slice(&matrix);
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mut tkhd = Vec::new();
    for v in [0u32, 0, 1, 0, 10_000] {
        tkhd.extend_from_slice(&v.to_be_bytes());
    }
    tkhd.extend_from_slice(&[0; 16]);
    tkhd.extend_from_slice(&matrix);
    tkhd.extend_from_slice(&(640u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(480u32 << 16).to_be_bytes());
    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 13]);
    let trak = bmff_box(
        b"trak",
        &[
            full(b"tkhd", &tkhd),
            bmff_box(b"mdia", &full(b"hdlr", &hdlr)),
        ]
        .concat(),
    );
    let moov = bmff_box(b"moov", &[full(b"mvhd", &mvhd), trak].concat());
    let ftyp = bmff_box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let mut out = [ftyp, moov].concat();
    let mdat_len = total - out.len();
    out.extend_from_slice(&(mdat_len as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    let mut x = 0x9E37_79B9u32 ^ seed;
    out.resize_with(total, || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    });
    out
}

impl Tus<'_> {
    /// Create a video upload; its location.
    async fn create_video(&self, data: &[u8], attachment_id: &str) -> String {
        let meta = metadata(&[
            ("attachment_id", attachment_id),
            ("sha256", &sha256_hex(data)),
            ("filename", "执法记录.mp4"),
            ("filetype", "video/mp4"),
        ]);
        let resp = self.create(data.len(), &meta).await;
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
        resp.headers()["location"].to_str().unwrap().to_owned()
    }
}

/// Inode number and link count.
fn inode_of(path: &std::path::Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.nlink())
}

#[actix_web::test]
async fn the_received_file_becomes_the_original_without_a_second_copy() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    // Over several 512 KiB batches and 2 MiB sync steps, in uneven PATCHes.
    let data = mp4(5 * 1024 * 1024 + 12_345, 21);
    let att = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_video(&data, &att).await;
    let upload_file = app
        .state
        .media
        .upload_dir
        .join(loc.rsplit('/').next().unwrap());
    let (received_inode, _) = inode_of(&upload_file);
    let chunk = 2 * 1024 * 1024 + 1;
    let mut offset = 0;
    while offset < data.len() {
        let end = (offset + chunk).min(data.len());
        let resp = tus.patch(&loc, offset, &data[offset..end], None).await;
        assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
        offset = end;
    }

    let view: Value = app
        .get(&format!("/api/v1/attachments/{att}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let sha = sha256_hex(&data);
    assert_eq!(view["kind"], "video");
    assert_eq!(view["sha256"], sha);
    assert_eq!(view["size"], data.len());
    let media_root = app.state.media.upload_dir.parent().unwrap().join("media");
    let original = media_root
        .join("originals")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    let stored = std::fs::read(&original).unwrap();
    assert!(stored == data, "the original differs from the upload");
    assert_eq!(sha256_hex(&stored), sha);
    assert!(std::fs::metadata(&original)
        .unwrap()
        .permissions()
        .readonly());
    // The bytes received are the original: same inode, one name, no upload file, no temp copy.
    assert_eq!(inode_of(&original), (received_inode, 1));
    assert!(!upload_file.exists());
    assert_eq!(
        std::fs::read_dir(&app.state.media.upload_dir)
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(media_root.join(".tmp")).unwrap().count(),
        0
    );
    let content = app
        .get(&format!("/api/v1/attachments/{att}/content"), Some(&token))
        .await;
    assert!(content.bytes().await.unwrap().as_ref() == data.as_slice());
}

#[actix_web::test]
async fn an_upload_resumed_without_its_running_hash_is_hashed_at_completion() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = mp4(1_500_000, 22);
    let att = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_video(&data, &att).await;
    let id = loc.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        tus.patch(&loc, 0, &data[..600_000], None).await.status(),
        204
    );
    // As after a restart, or with the next PATCH landing on another instance.
    app.state.media.running.forget(&id);
    assert_eq!(
        tus.patch(&loc, 600_000, &data[600_000..1_000_000], None)
            .await
            .status(),
        204
    );
    let resp = tus.patch(&loc, 1_000_000, &data[1_000_000..], None).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let view: Value = app
        .get(&format!("/api/v1/attachments/{att}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["sha256"], sha256_hex(&data));
}

#[actix_web::test]
async fn a_discarded_chunk_leaves_no_trace_in_the_whole_file_hash() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = mp4(1_200_000, 23);
    let att = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_video(&data, &att).await;
    assert_eq!(
        tus.patch(&loc, 0, &data[..700_000], None).await.status(),
        204
    );
    // Altered bytes with the checksum of the real ones: discarded, then sent right.
    let rest = &data[700_000..];
    let sum = format!("sha256 {}", STANDARD.encode(Sha256::digest(rest)));
    let mut altered = rest.to_vec();
    altered[1000] ^= 0xff;
    assert_error(
        tus.patch(&loc, 700_000, &altered, Some(sum.clone())).await,
        460,
        "checksum_mismatch",
    )
    .await;
    // More bytes than are left, sent without a Content-Length: refused as they arrive, and
    // nothing of them kept.
    let too_long = [rest, b"extra"].concat();
    let resp = tus.patch_streamed(&loc, 700_000, &too_long, None).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(offset_of(tus.head(&loc).await.headers()), 700_000);
    let resp = tus.patch(&loc, 700_000, rest, Some(sum)).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let view: Value = app
        .get(&format!("/api/v1/attachments/{att}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["sha256"], sha256_hex(&data));
}

/// Chunks of several MiB go through the batched path: written and hashed side by side (the
/// hashing allowed to fall behind), flushed to disk while they arrive. A wrong checksum must
/// still discard the whole chunk, already-flushed bytes included, and the whole-file hash must
/// cover exactly the kept bytes.
#[actix_web::test]
async fn multi_mib_chunks_are_kept_whole_or_discarded_whole() {
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let mib = 1024 * 1024;
    let data = mp4(13 * mib, 31);
    let att = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_video(&data, &att).await;
    let sum = |b: &[u8]| Some(format!("sha256 {}", STANDARD.encode(Sha256::digest(b))));
    let first = &data[..6 * mib];
    let resp = tus.patch_streamed(&loc, 0, first, sum(first)).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    assert_eq!(offset_of(tus.head(&loc).await.headers()), 6 * mib as u64);

    // 7 MiB with one byte changed early on, under the checksum of the real bytes: every byte
    // of it goes, though most were on disk before the mismatch could be known.
    let rest = &data[6 * mib..];
    let mut altered = rest.to_vec();
    altered[100] ^= 0x01;
    let resp = tus.patch_streamed(&loc, 6 * mib, &altered, sum(rest)).await;
    assert_error(resp, 460, "checksum_mismatch").await;
    assert_eq!(offset_of(tus.head(&loc).await.headers()), 6 * mib as u64);
    let id = loc.trim_start_matches("/files/");
    let on_disk = std::fs::metadata(app.state.media.upload_dir.join(id))
        .unwrap()
        .len();
    assert_eq!(
        on_disk,
        6 * mib as u64,
        "the discarded chunk left bytes in the upload file"
    );

    let resp = tus.patch_streamed(&loc, 6 * mib, rest, None).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let view: Value = app
        .get(&format!("/api/v1/attachments/{att}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["sha256"], sha256_hex(&data), "{view}");
    assert_eq!(view["size"], data.len(), "{view}");
}

#[actix_web::test]
async fn an_upload_whose_last_request_was_cut_is_finished_when_the_phone_asks_its_offset() {
    use diesel::prelude::*;
    let (app, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = photo(160, 120, 11);
    let id = uuid::Uuid::now_v7().to_string();
    let loc = tus.create_ok(&data, &id).await;
    let upload_id = loc.rsplit('/').next().unwrap().to_owned();
    // Every byte is on the server, but the request that brought them was cut before the
    // evidence was made: the file is complete, the upload still receiving.
    std::fs::write(app.state.media.upload_dir.join(&upload_id), &data).unwrap();
    {
        use griddispatch::schema::uploads;
        let mut conn = app.state.pool.get().unwrap();
        diesel::update(uploads::table.find(&upload_id))
            .set(uploads::offset_.eq(data.len() as i64))
            .execute(&mut conn)
            .unwrap();
    }
    assert_error(
        app.get(&format!("/api/v1/attachments/{id}"), Some(&token))
            .await,
        404,
        "not_found",
    )
    .await;
    // The phone comes back and asks how far it got: the evidence is made there and then.
    let head = tus.head(&loc).await;
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["upload-offset"].to_str().unwrap(),
        data.len().to_string()
    );
    let a = app
        .get(&format!("/api/v1/attachments/{id}"), Some(&token))
        .await;
    assert_eq!(a.status(), 200, "the evidence exists once HEAD answered");
    let a: serde_json::Value = a.json().await.unwrap();
    assert_eq!(a["sha256"], sha256_hex(&data));
    // Asking again changes nothing.
    assert_eq!(tus.head(&loc).await.status(), 200);
}
