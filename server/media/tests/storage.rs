//! One storage suite, run against the local backend and against a real S3-compatible server.
// Test code: a panic is the failure report (clippy.toml allows this only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod s3_server;

use std::path::Path;

use futures_util::StreamExt;
use griddispatch_media::storage::{
    DerivedVariant, LocalStorage, ObjectKey, S3Config, S3Storage, Storage,
};
use griddispatch_media::Sha256Digest;

/// Deterministic, non-repeating bytes (so a mix-up of chunks changes the hash).
fn data(len: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9E37_79B9u32 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

async fn read_all(store: &dyn Storage, key: &ObjectKey) -> Vec<u8> {
    let mut out = Vec::new();
    let mut s = store.get_stream(key).await.unwrap();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// The behaviour every backend must have. `large` is a size that takes the backend's
/// streaming (multipart) path.
async fn suite(store: &dyn Storage, scratch: &Path, large: usize) {
    // Streaming put/get round trip, small and large, from a reader and from a file.
    for (len, seed) in [(1000, 1), (large, 2)] {
        let bytes = data(len, seed);
        let sha = Sha256Digest::of(&bytes);
        let key = ObjectKey::original(&sha);
        assert!(!store.exists(&key).await.unwrap());
        let src = scratch.join(format!("src-{seed}"));
        std::fs::write(&src, &bytes).unwrap();
        let put = store.put_file(&key, &src).await.unwrap();
        assert_eq!(
            (put.size, put.sha256, put.already_present),
            (len as u64, sha, false)
        );
        assert!(store.exists(&key).await.unwrap());
        assert_eq!(store.head(&key).await.unwrap().size, len as u64);
        assert_eq!(read_all(store, &key).await, bytes);
        let dst = scratch.join(format!("dst-{seed}"));
        assert_eq!(store.get_to_file(&key, &dst).await.unwrap(), len as u64);
        assert_eq!(std::fs::read(&dst).unwrap(), bytes);

        // Immutability: identical bytes are a no-op, different bytes are refused.
        let again = store.put_stream(&key, &mut &bytes[..]).await.unwrap();
        assert!(again.already_present);
        let mut other = bytes.clone();
        other[len / 2] ^= 1;
        let err = store.put_stream(&key, &mut &other[..]).await.unwrap_err();
        assert_eq!(err.code(), "already_exists");
        assert_eq!(
            read_all(store, &key).await,
            bytes,
            "original must be unchanged"
        );
    }

    // A file the caller already hashed (a completed upload): stored, write-once like any put.
    let bytes = data(large, 3);
    let sha = Sha256Digest::of(&bytes);
    let key = ObjectKey::original(&sha);
    let src = scratch.join("received-3");
    std::fs::write(&src, &bytes).unwrap();
    let put = store.put_local_file(&key, &src, sha).await.unwrap();
    assert_eq!(
        (put.size, put.sha256, put.already_present),
        (large as u64, sha, false)
    );
    std::fs::remove_file(&src).unwrap();
    assert_eq!(read_all(store, &key).await, bytes);
    let again = scratch.join("received-3-again");
    std::fs::write(&again, &bytes).unwrap();
    assert!(
        store
            .put_local_file(&key, &again, sha)
            .await
            .unwrap()
            .already_present
    );
    let mut other = bytes.clone();
    other[7] ^= 1;
    let different = scratch.join("received-3-different");
    std::fs::write(&different, &other).unwrap();
    let err = store
        .put_local_file(&key, &different, Sha256Digest::of(&other))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "already_exists");
    assert_eq!(
        read_all(store, &key).await,
        bytes,
        "original must be unchanged"
    );

    // Derived copies may be replaced.
    let sha = Sha256Digest::of(b"derived");
    let thumb = ObjectKey::derived(&sha, DerivedVariant::Thumbnail);
    store.put_stream(&thumb, &mut &b"first"[..]).await.unwrap();
    store.put_stream(&thumb, &mut &b"second"[..]).await.unwrap();
    assert_eq!(read_all(store, &thumb).await, b"second");

    // Missing objects and idempotent delete.
    let missing = ObjectKey::parse("originals/00/00/missing").unwrap();
    assert_eq!(store.head(&missing).await.unwrap_err().code(), "not_found");
    assert_eq!(
        store.get_stream(&missing).await.err().unwrap().code(),
        "not_found"
    );
    assert!(!store.exists(&missing).await.unwrap());
    store.delete(&thumb).await.unwrap();
    assert!(!store.exists(&thumb).await.unwrap());
    store.delete(&thumb).await.unwrap();

    // Empty objects are objects too.
    let empty = ObjectKey::parse("derived/empty").unwrap();
    assert_eq!(
        store.put_stream(&empty, &mut &b""[..]).await.unwrap().size,
        0
    );
    assert_eq!(store.head(&empty).await.unwrap().size, 0);
}

#[tokio::test]
async fn local_backend_passes_the_storage_suite() {
    let root = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let store = LocalStorage::new(root.path().join("media")).await.unwrap();
    suite(&store, scratch.path(), 3 * 1024 * 1024 + 17).await;
    // No temp files are left behind, and the layout is the key.
    let tmp = std::fs::read_dir(root.path().join("media/.tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0);
    let key = ObjectKey::original(&Sha256Digest::of(&data(1000, 1)));
    let on_disk = root.path().join("media").join(key.as_str());
    assert!(on_disk.is_file());
    assert!(std::fs::metadata(&on_disk)
        .unwrap()
        .permissions()
        .readonly());
}

/// Inode number and link count of a file.
fn inode(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.nlink())
}

#[tokio::test]
async fn local_backend_links_an_already_hashed_file_instead_of_copying_it() {
    let root = tempfile::tempdir().unwrap();
    let store = LocalStorage::new(root.path().join("media")).await.unwrap();
    let uploads = root.path().join("uploads");
    std::fs::create_dir(&uploads).unwrap();
    let bytes = data(2 * 1024 * 1024 + 5, 9);
    let sha = Sha256Digest::of(&bytes);
    let key = ObjectKey::original(&sha);
    let src = uploads.join("upload-1");
    std::fs::write(&src, &bytes).unwrap();
    let (ino, _) = inode(&src);

    let put = store.put_local_file(&key, &src, sha).await.unwrap();
    assert_eq!((put.size, put.already_present), (bytes.len() as u64, false));
    let stored = root.path().join("media").join(key.as_str());
    // The same inode under two names: no second copy of the bytes was written.
    assert_eq!(inode(&stored), (ino, 2));
    assert!(std::fs::metadata(&stored).unwrap().permissions().readonly());
    std::fs::remove_file(&src).unwrap();
    assert_eq!(inode(&stored), (ino, 1));
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);
    assert_eq!(
        std::fs::read_dir(root.path().join("media/.tmp"))
            .unwrap()
            .count(),
        0
    );

    // Derived (replaceable) keys are copied, leaving the caller's file alone.
    let thumb = ObjectKey::derived(&sha, DerivedVariant::Thumbnail);
    let jpeg = uploads.join("thumb");
    std::fs::write(&jpeg, b"jpeg").unwrap();
    let put = store
        .put_local_file(&thumb, &jpeg, Sha256Digest::of(b"jpeg"))
        .await
        .unwrap();
    assert_eq!(put.size, 4);
    assert_eq!(inode(&jpeg).1, 1);
    assert!(!std::fs::metadata(&jpeg).unwrap().permissions().readonly());
    // A copy that does not hash to what the caller said is an error.
    let err = store
        .put_local_file(&thumb, &jpeg, Sha256Digest::of(b"other"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "io_error");
}

#[tokio::test]
async fn local_backend_copies_an_already_hashed_file_from_another_filesystem() {
    use std::os::unix::fs::MetadataExt;
    // /dev/shm is a tmpfs on Linux: a link from there into the temp dir fails with EXDEV.
    let shm = Path::new("/dev/shm");
    let root = tempfile::tempdir().unwrap();
    let Ok(other_fs) = tempfile::tempdir_in(shm) else {
        println!("SKIPPED: no /dev/shm");
        return;
    };
    let dev = |p: &Path| std::fs::metadata(p).unwrap().dev();
    if dev(other_fs.path()) == dev(root.path()) {
        println!("SKIPPED: /dev/shm is on the same filesystem as the temp dir");
        return;
    }
    let store = LocalStorage::new(root.path().join("media")).await.unwrap();
    let bytes = data(300_000, 11);
    let sha = Sha256Digest::of(&bytes);
    let key = ObjectKey::original(&sha);
    let src = other_fs.path().join("upload");
    std::fs::write(&src, &bytes).unwrap();
    let put = store.put_local_file(&key, &src, sha).await.unwrap();
    assert_eq!((put.size, put.sha256), (bytes.len() as u64, sha));
    let stored = root.path().join("media").join(key.as_str());
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);
    assert_eq!(inode(&stored).1, 1);
    assert!(std::fs::metadata(&stored).unwrap().permissions().readonly());
}

#[tokio::test]
async fn local_backend_keeps_keys_inside_its_root() {
    // Keys cannot be built from path tricks; parsing is the only way in.
    for k in ["../escape", "/abs", "a/../../b", "a\0b", ".tmp/x"] {
        assert!(ObjectKey::parse(k).is_err(), "{k:?}");
    }
    let root = tempfile::tempdir().unwrap();
    let store = LocalStorage::new(root.path()).await.unwrap();
    let key = ObjectKey::parse("a/b/c.jpg").unwrap();
    store.put_stream(&key, &mut &b"x"[..]).await.unwrap();
    assert!(root.path().join("a/b/c.jpg").is_file());
}

#[tokio::test]
async fn s3_backend_passes_the_storage_suite() {
    let Some(server) = s3_server::start().await else {
        return;
    };
    let config = S3Config {
        endpoint: Some(server.endpoint.clone()),
        bucket: server.bucket.clone(),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        allow_http: true,
        virtual_hosted_style: false,
    };
    // A 1 MiB single-put threshold sends the large object through multipart + conditional copy.
    let store = S3Storage::new(&config)
        .unwrap()
        .with_single_put_max(1024 * 1024);
    let scratch = tempfile::tempdir().unwrap();
    suite(&store, scratch.path(), 12 * 1024 * 1024 + 17).await;
}
