//! Helpers for the end-to-end tests: run the real `griddispatch` binary on a free port.
//!
//! The binary is the one `cargo test --workspace` builds next to this test executable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[path = "support/browser.rs"]
pub mod browser;
#[path = "support/faults.rs"]
pub mod faults;
#[path = "support/media.rs"]
pub mod media;
#[path = "support/net.rs"]
pub mod net;
#[path = "support/s3.rs"]
pub mod s3;
#[path = "support/town.rs"]
pub mod town;
#[path = "support/tus.rs"]
pub mod tus;

/// Small helpers the load generators (`benches/`) share.
pub mod bench {
    /// A number from the environment, or `default` when unset or not a number.
    pub fn env_usize(name: &str, default: usize) -> usize {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// The median (the mean of the middle two for an even count; NaN for none).
    pub fn median(v: impl Into<Vec<f64>>) -> f64 {
        let mut v = v.into();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return f64::NAN;
        }
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
}

/// Path of the built `griddispatch` binary.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/griddispatch
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join(format!("griddispatch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: run the tests with `cargo test --workspace` so the binary is built",
        bin.display()
    );
    bin
}

/// Path of the built `gridsync` binary (the phone engine's CLI), built by
/// `cargo test --workspace` next to `griddispatch`.
pub fn gridsync_binary() -> PathBuf {
    let server = binary();
    let bin = server.with_file_name(format!("gridsync{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: run the tests with `cargo test --workspace` (or `cargo build -p griddispatch-sync`) so the binary is built",
        bin.display()
    );
    bin
}

/// A running server process, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything the process printed on stdout up to the moment it was ready.
    pub banner: String,
}

impl Server {
    /// Process id of the server (for `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `host:port` the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("server address")
    }

    /// Start `griddispatch ARGS…` with extra environment and wait until it prints its URL
    /// and answers `/readyz`.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_binary(&binary(), args, env)
    }

    /// Like [`Server::start`], with another `griddispatch` binary (benchmarks compare builds).
    pub fn start_binary(bin: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("GRIDDISPATCH_LOG_FILTER", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start griddispatch");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                seen.push_str(&line);
                seen.push('\n');
                let _ = tx.send(seen.clone());
            }
        });
        let mut banner = String::new();
        let base = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(seen) => {
                    banner = seen;
                    if let Some(url) = first_url(&banner) {
                        break url;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("griddispatch printed no URL; output so far:\n{banner}");
                }
            }
        };
        // Let the rest of the banner arrive.
        std::thread::sleep(Duration::from_millis(200));
        while let Ok(seen) = rx.try_recv() {
            banner = seen;
        }
        let server = Server {
            child,
            base,
            banner,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let client = reqwest::blocking::Client::new();
        for _ in 0..100 {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send() {
                if r.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{} never became ready", self.base);
    }
}

fn first_url(text: &str) -> Option<String> {
    let start = text.find("http://")?;
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches('/').to_owned())
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
