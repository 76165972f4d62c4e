//! Real tus clients against the real binary: tuspy (PyPI) and tus-js-client (npm) upload a photo
//! and a video in 256 KiB chunks with `Upload-Checksum`, then a video through a proxy that cuts
//! the connection at a random byte — once with checksums (the server discards the cut chunk) and
//! once without (the server keeps the bytes that arrived) — and the client must resume; every
//! stored SHA-256 and original must match what was sent. A last test stalls a PATCH instead (a
//! half-open connection) and checks that the server frees the upload for the resume.
//!
//! The clients are installed by `tests/interop/install.sh` (CI runs it). Without them these
//! tests print `SKIPPED …` and pass, unless `GRIDDISPATCH_REQUIRE_INTEROP=1` (CI), which fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use griddispatch_e2e::media::{jpeg, mp4, sha256_hex};
use griddispatch_e2e::net::CutProxy;
use griddispatch_e2e::tus::{login, TusClient};
use griddispatch_e2e::Server;
use rand::Rng;
use serde_json::Value;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(150);
const CHUNK: usize = 256 * 1024;

#[derive(Clone, Copy, Debug)]
enum Client {
    Tuspy,
    TusJs,
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Tuspy => "tuspy",
            Client::TusJs => "tus-js-client",
        }
    }

    fn command(self) -> Command {
        let mut cmd = match self {
            Client::Tuspy => {
                let mut c = Command::new(python());
                c.arg(interop_dir().join("upload_tuspy.py"));
                c
            }
            Client::TusJs => {
                let mut c = Command::new("node");
                c.arg(interop_dir().join("upload_tus_js.mjs"));
                c
            }
        };
        cmd.current_dir(interop_dir());
        cmd
    }

    /// `Ok` when the client library can be loaded, else why not.
    fn check_installed(self) -> Result<(), String> {
        let (mut cmd, what) = match self {
            Client::Tuspy => {
                let mut c = Command::new(python());
                c.args(["-c", "import tusclient.client, requests"]);
                (c, format!("{} with tuspy", python()))
            }
            Client::TusJs => {
                let mut c = Command::new("node");
                c.args(["-e", "require('tus-js-client')"]);
                (
                    c,
                    "node with tus-js-client in tests/interop/node_modules".into(),
                )
            }
        };
        let out = cmd
            .current_dir(interop_dir())
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ))
        }
    }
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether the test may run; prints `SKIPPED` or panics (`GRIDDISPATCH_REQUIRE_INTEROP=1`).
fn client_ready(client: Client) -> bool {
    match client.check_installed() {
        Ok(()) => true,
        Err(why) => {
            let msg = format!(
                "{} is not installed ({why}); run tests/interop/install.sh",
                client.name()
            );
            assert!(
                std::env::var("GRIDDISPATCH_REQUIRE_INTEROP").as_deref() != Ok("1"),
                "GRIDDISPATCH_REQUIRE_INTEROP=1 but {msg}"
            );
            // Straight to stderr: libtest captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {} interop test: {msg}",
                client.name()
            );
            false
        }
    }
}

/// Run the client script on `files`; its JSON lines, one per file. Panics with the script's
/// output when it fails or runs over [`CLIENT_TIMEOUT`].
fn run_client(
    client: Client,
    server: &Server,
    tus_endpoint: Option<&str>,
    token: &str,
    checksum: bool,
    files: &[&Path],
) -> Vec<Value> {
    let mut cmd = client.command();
    cmd.args(files)
        .env("GD_API", &server.base)
        .env("GD_TOKEN", token)
        .env("GD_CHUNK_SIZE", CHUNK.to_string())
        .env("GD_CHECKSUM", if checksum { "1" } else { "0" })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = tus_endpoint {
        cmd.env("GD_TUS", url);
    }
    let mut child = cmd.spawn().expect("start the client script");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    if !err.is_empty() {
        let _ = writeln!(std::io::stderr(), "[{}] {}", client.name(), err.trim_end());
    }
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!(
            "{} failed ({s}):\nstdout:\n{out}\nstderr:\n{err}",
            client.name()
        ),
        None => panic!(
            "{} ran over {CLIENT_TIMEOUT:?}:\nstdout:\n{out}\nstderr:\n{err}",
            client.name()
        ),
    }
    let lines: Vec<Value> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len(), "one result per file:\n{out}");
    lines
}

fn demo_server(dir: &Path) -> Server {
    Server::start(
        &[
            "demo",
            "--data-dir",
            dir.join("data").to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
    )
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// The script said it stored `data`, and the server agrees byte for byte.
fn check_result(tus: &TusClient, result: &Value, data: &[u8], kind: &str) {
    assert_eq!(result["sha256"], sha256_hex(data), "{result}");
    assert_eq!(result["size"], data.len(), "{result}");
    assert_eq!(result["kind"], kind, "{result}");
    tus.assert_stored(result["attachment_id"].as_str().unwrap(), data);
}

fn interop(client: Client) {
    if !client_ready(client) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let token = login(&server.base, "grid_member", "griddemo2026");
    let tus = TusClient::new(&server.base, &token);
    let mut rng = rand::thread_rng();
    let seed: u64 = rng.gen();

    // A photo of a few hundred KB and a video of several MB, 256 KiB a PATCH, checksummed.
    let photo = jpeg(800, 600, seed, 40);
    let video = mp4(6 * 1024 * 1024 + 12_345, seed);
    let photo_path = write(dir.path(), "现场照片.jpg", &photo);
    let video_path = write(dir.path(), "video.mp4", &video);
    let results = run_client(
        client,
        &server,
        None,
        &token,
        true,
        &[&photo_path, &video_path],
    );
    check_result(&tus, &results[0], &photo, "photo");
    check_result(&tus, &results[1], &video, "video");
    assert_eq!(
        tus.attachment(results[0]["attachment_id"].as_str().unwrap())["filename"],
        "现场照片.jpg"
    );

    // Through a proxy that cuts the connection at a random byte of the upload.
    for (n, checksum) in [(1u64, true), (2, false)] {
        let video = mp4(5 * 1024 * 1024 + 777, seed ^ n);
        let video_path = write(dir.path(), &format!("cut{n}.mp4"), &video);
        let len = video.len() as u64;
        let cut_at = rng.gen_range(len / 20..len * 19 / 20);
        let proxy = CutProxy::start(server.addr(), cut_at);
        let endpoint = format!("{}/files/", proxy.base());
        let results = run_client(
            client,
            &server,
            Some(&endpoint),
            &token,
            checksum,
            &[&video_path],
        );
        assert!(
            proxy.cut_happened(),
            "the proxy never cut ({} bytes went through)",
            proxy.bytes_sent()
        );
        assert!(
            proxy.bytes_sent() > len,
            "the whole upload went through the proxy"
        );
        let offsets: Vec<u64> = results[0]["patch_offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_u64().unwrap())
            .collect();
        // Uninterrupted, each PATCH starts one chunk after the previous; the retry after the
        // cut starts at the same offset again or where the server's bytes ended.
        assert!(
            offsets.windows(2).any(|w| w[1] != w[0] + CHUNK as u64),
            "a PATCH was retried after the cut: {offsets:?}"
        );
        let resumed_mid_chunk = offsets.iter().any(|o| o % CHUNK as u64 != 0);
        let _ = writeln!(
            std::io::stderr(),
            "{}: cut after {cut_at} of {len}+ bytes sent (Upload-Checksum {}); PATCH offsets \
             {offsets:?}: {}",
            client.name(),
            if checksum { "on" } else { "off" },
            if resumed_mid_chunk {
                "resumed mid-chunk where the server's bytes ended"
            } else {
                "resent the cut chunk from its start"
            }
        );
        if checksum {
            // A checksummed chunk is all or nothing: the cut one is discarded and sent again.
            assert!(!resumed_mid_chunk, "{offsets:?}");
        }
        check_result(&tus, &results[0], &video, "video");
    }
}

#[test]
fn tuspy_uploads_checksummed_chunks_and_resumes_after_a_cut() {
    interop(Client::Tuspy);
}

#[test]
fn tus_js_client_uploads_checksummed_chunks_and_resumes_after_a_cut() {
    interop(Client::TusJs);
}

/// A phone that switches networks mid-PATCH leaves a half-open connection: nothing more arrives
/// and nothing says it ended. The server must not hold the upload for its whole lease: after the
/// body has been idle for a while it keeps the bytes that arrived and frees the upload, so the
/// client's resume (HEAD, then PATCH from that offset) succeeds. Needs no client library.
#[test]
fn a_stalled_connection_frees_the_upload_for_the_resuming_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let token = login(&server.base, "grid_member", "griddemo2026");
    let tus = TusClient::new(&server.base, &token);
    let video = mp4(3 * 1024 * 1024 + 99, rand::thread_rng().gen());
    let id = uuid::Uuid::new_v4().to_string();
    let location = tus.create(&video, &id, "stall.mp4", "video/mp4").unwrap();

    // The whole file in one PATCH through a proxy that goes silent after ~1 MiB.
    let proxy = CutProxy::stall(server.addr(), 1024 * 1024);
    let phone = TusClient::new(&proxy.base(), &token).with_timeout(Duration::from_secs(3));
    assert!(
        phone.patch(&location, 0, &video).is_err(),
        "the stalled PATCH timed out"
    );
    assert!(proxy.cut_happened());

    // Resume the way tus clients do; 423 while the stalled request still holds the upload.
    let start = Instant::now();
    let mut statuses = Vec::new();
    let resumed_at = loop {
        let offset = tus.offset(&location);
        let resp = tus.patch(&location, offset, &video[offset..]).unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 204 {
            break offset;
        }
        assert_eq!(resp.status(), 423, "{}", resp.text().unwrap());
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the stalled request still holds the upload after {:?}: {statuses:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    let _ = writeln!(
        std::io::stderr(),
        "stalled PATCH: upload free again after {:?}, resumed at {resumed_at} of {}",
        start.elapsed(),
        video.len()
    );
    assert!(
        resumed_at > 0,
        "the bytes that arrived before the stall were kept"
    );
    tus.assert_stored(&id, &video);
}
