//! Photos are acknowledged once the original is durable, hashed and recorded; their display
//! copy, thumbnail and perceptual hash come from the persisted job queue afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_error, TestApp};
use crate::tus::{photo, Tus};

use griddispatch::db;
use griddispatch::store::photo_jobs::{self, Made};
use griddispatch::tus::copies;
use griddispatch_protocol::Role;
use serde_json::{json, Value};

/// An app whose copy workers do not run: the queue is driven by hand.
async fn paused() -> (TestApp, String) {
    let app = TestApp::spawn_with(|c| c.photo_copies.workers = 0).await;
    app.user("gm.li", &[Role::GridMember]);
    let token = app.login("gm.li", "phone").await.access_token;
    (app, token)
}

async fn view(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/attachments/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

async fn upload(app: &TestApp, token: &str, data: &[u8]) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let tus = Tus {
        app,
        token: token.to_owned(),
    };
    assert_eq!(tus.upload_as(data, &id, "image/jpeg").await.status(), 204);
    id
}

/// A JPEG whose markers are all in order but whose scan asks for Huffman tables the file
/// never defines: it passes the structure check and fails to decode.
fn undecodable_jpeg() -> Vec<u8> {
    let mut data = photo(64, 48, 3);
    let sos = data
        .windows(2)
        .position(|w| w == [0xFF, 0xDA])
        .expect("a scan");
    // FF DA, length (2), component count (1), the first component's id, then its tables.
    data[sos + 6] = 0x33;
    data
}

#[actix_web::test]
async fn a_photo_is_acknowledged_before_its_copies_and_the_queue_makes_them() {
    let (app, token) = paused().await;
    let data = photo(800, 600, 5);
    let id = upload(&app, &token, &data).await;

    // Recorded, with its EXIF-free facts, while the copies are still to be made.
    let v = view(&app, &token, &id).await;
    assert_eq!(v["copies"], "pending");
    assert_eq!(v["variants"], json!(["original"]));
    assert_eq!(v["width"], 800);
    assert_eq!(v["phash"], Value::Null);
    for variant in ["thumbnail", "display"] {
        let resp = app
            .get(
                &format!("/api/v1/attachments/{id}/content?variant={variant}"),
                Some(&token),
            )
            .await;
        assert_error(resp, 409, "copies_pending").await;
    }
    let original = app
        .get(&format!("/api/v1/attachments/{id}/content"), Some(&token))
        .await;
    assert_eq!(original.status(), 200);
    assert_eq!(original.bytes().await.unwrap().as_ref(), data.as_slice());
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("griddispatch_photo_copies_pending 1"),
        "{metrics}"
    );

    // A worker makes them.
    let done = copies::run_due(&app.state, "worker", db::now(), 10)
        .await
        .unwrap();
    assert_eq!(done, 1);
    let v = view(&app, &token, &id).await;
    assert_eq!(v["copies"], "done");
    assert_eq!(v["variants"], json!(["original", "thumbnail", "display"]));
    assert!(v["phash"].is_string());
    let thumb = app
        .get(
            &format!("/api/v1/attachments/{id}/content?variant=thumbnail"),
            Some(&token),
        )
        .await;
    assert_eq!(thumb.status(), 200);
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
    let display = app
        .get(
            &format!("/api/v1/attachments/{id}/content?variant=display"),
            Some(&token),
        )
        .await;
    let display = image::load_from_memory(&display.bytes().await.unwrap()).unwrap();
    assert_eq!((display.width(), display.height()), (800, 600));
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("griddispatch_photo_copies_pending 0"),
        "{metrics}"
    );
    // Nothing is left to do.
    assert_eq!(
        copies::run_due(&app.state, "worker", db::now(), 10)
            .await
            .unwrap(),
        0
    );
}

#[actix_web::test]
async fn the_running_workers_make_the_copies_soon_after_the_upload() {
    let app = TestApp::spawn().await;
    app.user("gm.li", &[Role::GridMember]);
    let token = app.login("gm.li", "phone").await.access_token;
    let id = upload(&app, &token, &photo(640, 480, 8)).await;
    let v = app.copies_made(&id, &token).await;
    assert_eq!(v["copies"], "done");
    assert_eq!(v["variants"], json!(["original", "thumbnail", "display"]));
}

#[actix_web::test]
async fn a_job_whose_worker_crashed_is_done_again_after_its_lease_and_only_once() {
    let (app, token) = paused().await;
    let id = upload(&app, &token, &photo(640, 480, 6)).await;
    let now = db::now();
    let lease = chrono::Duration::seconds(app.state.config.photo_copies.lease_secs);
    // A worker takes the job and dies without a word.
    let mut conn = app.db.connect();
    let taken = photo_jobs::claim(&mut conn, "crashed", now, now + lease, 10).unwrap();
    assert_eq!(taken.len(), 1);
    // While its lease holds, nobody else takes the job.
    assert_eq!(
        copies::run_due(&app.state, "other", now, 10).await.unwrap(),
        0
    );
    assert_eq!(view(&app, &token, &id).await["copies"], "pending");
    // After it, another worker does.
    let later = now + lease + chrono::Duration::seconds(1);
    assert_eq!(
        copies::run_due(&app.state, "other", later, 10)
            .await
            .unwrap(),
        1
    );
    let v = view(&app, &token, &id).await;
    assert_eq!(v["copies"], "done");
    let thumbnail_key = v["variants"].clone();
    // The crashed worker coming back cannot record over it, nor mark it failed.
    let bogus = Made {
        thumbnail_key: Some("derived/bogus/thumb.jpg".into()),
        ..Made::default()
    };
    assert!(!photo_jobs::finish_done(&mut conn, &id, "crashed", &bogus).unwrap());
    assert!(!photo_jobs::finish_failed(&mut conn, &id, "crashed", "corrupt_file").unwrap());
    let v = view(&app, &token, &id).await;
    assert_eq!(v["copies"], "done");
    assert_eq!(v["variants"], thumbnail_key);
    let thumb = app
        .get(
            &format!("/api/v1/attachments/{id}/content?variant=thumbnail"),
            Some(&token),
        )
        .await;
    assert_eq!(thumb.status(), 200);
    // And it is not run a third time.
    assert_eq!(
        copies::run_due(&app.state, "third", later + lease * 2, 10)
            .await
            .unwrap(),
        0
    );
}

#[actix_web::test]
async fn two_workers_never_take_the_same_job() {
    let (app, token) = paused().await;
    let mut ids = Vec::new();
    for seed in 0..6 {
        ids.push(upload(&app, &token, &photo(160, 120, 20 + seed)).await);
    }
    let now = db::now();
    let until = now + chrono::Duration::seconds(60);
    // Two workers on their own connections, asking at the same moment.
    let claims: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|owner| {
                let mut conn = app.db.connect();
                s.spawn(move || {
                    let mut got = Vec::new();
                    for _ in 0..6 {
                        got.extend(
                            photo_jobs::claim(&mut conn, owner, now, until, 1)
                                .unwrap()
                                .into_iter()
                                .map(|j| j.attachment_id),
                        );
                    }
                    got
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<String> = claims.concat();
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected, "each job claimed exactly once: {claims:?}");

    // And running the queue from two workers at once makes every photo's copies once.
    let later = until + chrono::Duration::seconds(1);
    let (a, b) = futures_util::join!(
        copies::run_due(&app.state, "w1", later, 10),
        copies::run_due(&app.state, "w2", later, 10)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 6);
    for id in &ids {
        assert_eq!(view(&app, &token, id).await["copies"], "done");
    }
}

#[actix_web::test]
async fn a_photo_that_does_not_decode_is_marked_failed_and_its_original_kept() {
    let (app, token) = paused().await;
    let data = undecodable_jpeg();
    // Its structure is sound: acknowledged.
    let id = upload(&app, &token, &data).await;
    assert_eq!(view(&app, &token, &id).await["copies"], "pending");
    assert_eq!(
        copies::run_due(&app.state, "worker", db::now(), 10)
            .await
            .unwrap(),
        1
    );
    let v = view(&app, &token, &id).await;
    assert_eq!(v["copies"], "failed");
    assert_eq!(v["copies_error"], "corrupt_file");
    assert_eq!(v["variants"], json!(["original"]));
    let resp = app
        .get(
            &format!("/api/v1/attachments/{id}/content?variant=thumbnail"),
            Some(&token),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "copies_failed");
    assert_eq!(body["error"]["reason"], "corrupt_file");
    let original = app
        .get(&format!("/api/v1/attachments/{id}/content"), Some(&token))
        .await;
    assert_eq!(original.status(), 200);
    assert_eq!(original.bytes().await.unwrap().as_ref(), data.as_slice());
    // Failed is final: the queue does not take it again.
    assert_eq!(
        copies::run_due(&app.state, "worker", db::now(), 10)
            .await
            .unwrap(),
        0
    );
}

/// Claim every due job as `owner` and record `hashes` (attachment, dHash) in that order, as
/// finished copies would.
fn record_hashes(app: &TestApp, owner: &str, hashes: &[(&str, u64)]) {
    let mut conn = app.db.connect();
    let now = db::now();
    photo_jobs::claim(
        &mut conn,
        owner,
        now,
        now + chrono::Duration::minutes(5),
        100,
    )
    .unwrap();
    for (id, bits) in hashes {
        let made = Made {
            phash: Some(format!("{bits:016x}")),
            ..Made::default()
        };
        assert!(photo_jobs::finish_done(&mut conn, id, owner, &made).unwrap());
    }
}

/// Bits 48–50, 32–34, 16–17 and 0–1: ten bits, at least two in each 16-bit band, so no band
/// of the two hashes is within one bit of the other's.
const TEN_SPREAD: u64 = 0x0007_0007_0003_0003;
/// Eleven other bits: 60–62, 44–46, 28–30, 12–13.
const ELEVEN_SPREAD: u64 = 0x7000_7000_7000_3000;
/// A hash with every hex digit, so the migration's digit arithmetic is exercised.
const BASE: u64 = 0xF0E1_D2C3_B4A5_9687;

#[actix_web::test]
async fn near_duplicates_are_found_at_the_threshold_and_not_beyond_it() {
    let (app, token) = paused().await;
    let a = upload(&app, &token, &photo(64, 48, 21)).await;
    let b = upload(&app, &token, &photo(64, 48, 22)).await;
    let c = upload(&app, &token, &photo(64, 48, 23)).await;
    // The later photo's copies are made first: it is flagged when the earlier one's are.
    record_hashes(
        &app,
        "w",
        &[
            (&b, BASE ^ TEN_SPREAD),
            (&a, BASE),
            (&c, BASE ^ ELEVEN_SPREAD),
        ],
    );
    // 10 bits apart: the same picture; 11 bits: a different one.
    assert_eq!(view(&app, &token, &a).await["similar_to"], Value::Null);
    assert_eq!(view(&app, &token, &b).await["similar_to"], a.as_str());
    assert_eq!(view(&app, &token, &c).await["similar_to"], Value::Null);
}

#[actix_web::test]
async fn photos_hashed_before_the_band_index_are_found_after_it() {
    let (app, token) = paused().await;
    let a = upload(&app, &token, &photo(64, 48, 31)).await;
    let b = upload(&app, &token, &photo(64, 48, 32)).await;
    // Two photos hashed by a server before the index existed.
    let mut conn = app.db.connect();
    griddispatch::db::migrate::revert_one(&mut conn, "2026-11-30-000120").unwrap();
    {
        use diesel::prelude::*;
        use griddispatch::schema::attachments;
        for (id, hex) in [
            (&a, format!("{BASE:016x}")),
            (&b, format!("{:016X}", BASE ^ TEN_SPREAD)),
        ] {
            diesel::update(attachments::table.find(id))
                .set((
                    attachments::phash.eq(hex),
                    attachments::derive_state.eq("done"),
                ))
                .execute(&mut conn)
                .unwrap();
            diesel::delete(
                griddispatch::schema::photo_jobs::table
                    .filter(griddispatch::schema::photo_jobs::attachment_id.eq(id)),
            )
            .execute(&mut conn)
            .unwrap();
        }
    }
    griddispatch::db::migrate::apply_one(&mut conn, "2026-11-30-000120").unwrap();
    {
        use diesel::prelude::*;
        use griddispatch::schema::phash_bands as p;
        let bands = |id: &str| -> (i32, i32, i32, i32) {
            p::table
                .find(id)
                .select((p::b0, p::b1, p::b2, p::b3))
                .first(&mut app.db.connect())
                .unwrap()
        };
        // Lower- and upper-case hex both read digit by digit.
        assert_eq!(bands(&a), (0xF0E1, 0xD2C3, 0xB4A5, 0x9687));
        assert_eq!(bands(&b), (0xF0E6, 0xD2C4, 0xB4A6, 0x9684));
    }
    // A new photo two bits from the first: found through the first's migrated bands, and
    // nearer to it (2 bits) than to the second (8 bits).
    let c = upload(&app, &token, &photo(64, 48, 33)).await;
    record_hashes(&app, "w", &[(&c, BASE ^ 0b11)]);
    assert_eq!(view(&app, &token, &c).await["similar_to"], a.as_str());
}
