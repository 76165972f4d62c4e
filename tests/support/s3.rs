//! A real S3-compatible server (moto) for the S3 end-to-end test, started as a process.
//!
//! Found like griddispatch-media's S3 tests find it: `GRIDDISPATCH_S3_SERVER_CMD` (e.g.
//! `python3 -m moto.server`), else `moto_server` on PATH, else `python3 -m moto.server` if that
//! imports (`server/media/scripts/install-s3-test-server.sh` installs it). Missing, the test is
//! skipped with a notice, unless `GRIDDISPATCH_REQUIRE_S3=1` (CI), which fails it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server with one bucket; killed when dropped.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket created at start.
    pub bucket: String,
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let has_module = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    has_module.then(|| ["python3", "-m", "moto.server"].map(str::to_owned).to_vec())
}

/// Start moto on a free port and create `bucket`; `None` after a `SKIPPED` notice when moto is
/// not installed (a failure instead when `GRIDDISPATCH_REQUIRE_S3=1`).
pub fn start(bucket: &str) -> Option<S3Server> {
    let Some(cmd) = command() else {
        let msg = "S3 test server not found: set GRIDDISPATCH_S3_SERVER_CMD or put moto_server \
                   on PATH (server/media/scripts/install-s3-test-server.sh)";
        assert!(
            std::env::var("GRIDDISPATCH_REQUIRE_S3").as_deref() != Ok("1"),
            "GRIDDISPATCH_REQUIRE_S3=1 but {msg}"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED S3 end-to-end test: {msg}");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start S3 test server {cmd:?}: {e}"));
    let server = S3Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket: bucket.to_owned(),
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match request(port, "PUT", &format!("/{bucket}")) {
            Ok(200) => break,
            Ok(status) => panic!("S3 test server refused bucket creation: HTTP {status}"),
            Err(e) if Instant::now() > deadline => panic!("S3 test server did not start: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    Some(server)
}

impl S3Server {
    /// The object under `key`, read with a signed request through `object_store` (moto refuses
    /// anonymous reads); `None` if there is none.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        use object_store::{aws::AmazonS3Builder, path::Path, ObjectStoreExt};
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_bucket_name(&self.bucket)
            .with_region("us-east-1")
            .with_access_key_id("e2e-access-key")
            .with_secret_access_key("e2e-secret-key")
            .with_allow_http(true)
            .build()
            .expect("S3 client");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            match store.get(&Path::from(key)).await {
                Ok(got) => Some(got.bytes().await.expect("object body").to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("reading {key} from S3: {e}"),
            }
        })
    }
}

/// A bare, unsigned HTTP/1.1 request with `Connection: close`: the status.
fn request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status"))?;
    Ok(status)
}
