//! The real binary storing evidence in S3-compatible object storage: a moto server started by the
//! test, configured through `GRIDDISPATCH_STORAGE__*` environment variables.
//!
//! Skipped with a notice when moto is not installed, unless `GRIDDISPATCH_REQUIRE_S3=1` (CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use griddispatch_e2e::media::{jpeg, mp4, sha256_hex};
use griddispatch_e2e::tus::{login, TusClient};
use griddispatch_e2e::{s3, Server};

#[test]
fn evidence_uploaded_through_tus_is_stored_in_s3_and_read_back() {
    let Some(moto) = s3::start("griddispatch-e2e") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let server = Server::start(
        &[
            "demo",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        &[
            ("GRIDDISPATCH_STORAGE__BACKEND", "s3"),
            ("GRIDDISPATCH_STORAGE__ENDPOINT", &moto.endpoint),
            ("GRIDDISPATCH_STORAGE__BUCKET", &moto.bucket),
            ("GRIDDISPATCH_STORAGE__REGION", "us-east-1"),
            ("GRIDDISPATCH_STORAGE__ACCESS_KEY_ID", "e2e-access-key"),
            ("GRIDDISPATCH_STORAGE__SECRET_ACCESS_KEY", "e2e-secret-key"),
            ("GRIDDISPATCH_STORAGE__ALLOW_HTTP", "true"),
        ],
    );
    let token = login(&server.base, "grid_member", "griddemo2026");
    let tus = TusClient::new(&server.base, &token);

    // A photo (single conditional PUT) and a video over the 8 MiB single-request limit
    // (multipart upload to staging, then a conditional copy).
    let photo = jpeg(800, 600, 7, 24);
    let video = mp4(9 * 1024 * 1024 + 3, 7);
    for (data, name, ctype, chunk, kind) in [
        (&photo, "photo.jpg", "image/jpeg", 64 * 1024, "photo"),
        (&video, "video.mp4", "video/mp4", 2 * 1024 * 1024, "video"),
    ] {
        let id = uuid::Uuid::new_v4().to_string();
        tus.upload(data, &id, name, ctype, chunk).unwrap();
        tus.assert_stored(&id, data);
        assert_eq!(tus.attachment(&id)["kind"], kind);

        // The original is in the bucket under its content address, not on the local disk.
        let sha = sha256_hex(data);
        let key = format!("originals/{}/{}/{sha}", &sha[..2], &sha[2..4]);
        let stored = moto
            .get(&key)
            .unwrap_or_else(|| panic!("{key} is not in the bucket"));
        assert!(stored == *data, "the object under {key} differs");
        assert!(
            !data_dir.join("media").join(&key).exists(),
            "{key} was written locally"
        );
    }

    // The same bytes again as another attachment: the write-once original (a conditional
    // write on S3) is already there with the same content, which is not an error.
    let again = uuid::Uuid::new_v4().to_string();
    tus.upload(&photo, &again, "again.jpg", "image/jpeg", 1 << 20)
        .unwrap();
    tus.assert_stored(&again, &photo);
}
