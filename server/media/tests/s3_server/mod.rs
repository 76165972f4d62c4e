//! Starts a real S3-compatible server (moto) for the S3 backend tests.
//!
//! The command comes from `GRIDDISPATCH_S3_SERVER_CMD` (e.g. `python3 -m moto.server`), else
//! `moto_server` on PATH, else `python3 -m moto.server` if that module imports; `scripts/install-s3-test-server.sh` installs it. When it is missing
//! the tests are skipped with a notice, unless `GRIDDISPATCH_REQUIRE_S3=1` (CI), which fails.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// A running server; killed when dropped.
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    _child: Child,
}

fn command() -> Option<Vec<String>> {
    if let Ok(cmd) = std::env::var("GRIDDISPATCH_S3_SERVER_CMD") {
        let parts: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
        return (!parts.is_empty()).then_some(parts);
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("moto_server"))
            .find(|p| p.is_file())
    });
    if let Some(p) = on_path {
        return Some(vec![p.to_string_lossy().into_owned()]);
    }
    // Installed as a module but its script is not on PATH (e.g. pip --user without ~/.local/bin).
    let has_module = std::process::Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    has_module.then(|| ["python3", "-m", "moto.server"].map(str::to_owned).to_vec())
}

fn required() -> bool {
    std::env::var("GRIDDISPATCH_REQUIRE_S3").is_ok_and(|v| v == "1")
}

/// Starts the server and creates a bucket; `None` (after a notice) if it is not installed.
pub async fn start() -> Option<S3Server> {
    let Some(cmd) = command() else {
        let msg = "S3 test server not found: set GRIDDISPATCH_S3_SERVER_CMD or put moto_server \
                   on PATH (server/media/scripts/install-s3-test-server.sh)";
        assert!(!required(), "GRIDDISPATCH_REQUIRE_S3=1 but {msg}");
        // Straight to stderr: libtest captures eprintln! of passing tests, and a skip must show.
        let _ = writeln!(std::io::stderr(), "SKIPPED s3 backend tests: {msg}");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start S3 test server {cmd:?}: {e}"));
    let bucket = "griddispatch-media-test".to_string();
    // Poll until the server answers the bucket creation (it takes a second or two to boot).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match create_bucket(port, &bucket).await {
            Ok(200) => break,
            Ok(status) => panic!("S3 test server refused bucket creation: HTTP {status}"),
            Err(e) if Instant::now() > deadline => panic!("S3 test server did not start: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    Some(S3Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket,
        _child: child,
    })
}

/// Creates a bucket with a bare HTTP request (moto accepts unsigned requests).
async fn create_bucket(port: u16, bucket: &str) -> std::io::Result<u16> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let req = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await?;
    let status = String::from_utf8_lossy(&resp)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status"))?;
    Ok(status)
}
