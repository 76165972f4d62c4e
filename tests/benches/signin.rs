//! Sign-in memory load generator against the real binary (docs/benchmarks.md, "Memory after
//! sign-ins"). Not a test: it measures and prints (including any sign-in that failed).
//!
//! ```text
//! cargo build --release -p griddispatch
//! cargo bench -p griddispatch-e2e --bench signin
//! ```
//!
//! Environment: `GD_BENCH_SIGNINS` (concurrent sign-ins per round, default 500),
//! `GD_BENCH_REPS` (fresh servers, default 5), `GD_BENCH_BINARY` (another `griddispatch`
//! binary to measure, e.g. one built from an older commit; default the one next to this
//! bench), `GD_BENCH_POOL` (the server's `pool_size`; default the server's default, 8).
//!
//! For each repetition: a fresh server on SQLite with one account; RSS when idle; then two
//! rounds of N sign-ins sent at once (each on its own connection and device id); `VmRSS` and
//! `VmHWM` from `/proc/<pid>/status` after each round. Medians over the repetitions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use griddispatch_e2e::bench::{env_usize, median};
use griddispatch_e2e::Server;
use serde_json::json;

const USERNAME: &str = "bench.user";
const PASSWORD: &str = "bench-password-2026";

/// `VmRSS` and `VmHWM` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> f64 {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        let kib: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap();
        kib / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn binary() -> PathBuf {
    std::env::var_os("GD_BENCH_BINARY").map_or_else(griddispatch_e2e::binary, PathBuf::from)
}

fn add_user(data_dir: &str) {
    let mut child = Command::new(binary())
        .args([
            "user",
            "add",
            "--username",
            USERNAME,
            "--name",
            "压测",
            "--role",
            "grid_member",
        ])
        .env("GRIDDISPATCH_DATA_DIR", data_dir)
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "user add failed");
}

/// N sign-ins at once, each on its own connection; returns the wall time. Failures are
/// printed, not fatal: an older build answered part of a burst with 503.
fn sign_in_burst(rt: &tokio::runtime::Runtime, base: &str, n: usize, round: usize) -> Duration {
    let started = Instant::now();
    let statuses: Vec<u16> = rt.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let url = format!("{base}/api/v1/auth/login");
                tokio::spawn(async move {
                    // One client per sign-in: no connection reuse, like N phones.
                    let client = reqwest::Client::builder()
                        .timeout(Duration::from_secs(600))
                        .build()
                        .unwrap();
                    let body = json!({
                        "username": USERNAME,
                        "password": PASSWORD,
                        "device_id": format!("bench-{round}-{i}"),
                    });
                    client
                        .post(url)
                        .json(&body)
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16())
                })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let failed = statuses.iter().filter(|s| **s != 200).count();
    if failed > 0 {
        let mut kinds: Vec<u16> = statuses.iter().copied().filter(|s| *s != 200).collect();
        kinds.sort_unstable();
        kinds.dedup();
        println!("     round {round}: {failed} of {n} sign-ins failed (statuses {kinds:?})");
    }
    started.elapsed()
}

fn main() {
    let n = env_usize("GD_BENCH_SIGNINS", 500);
    let reps = env_usize("GD_BENCH_REPS", 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("binary: {}", binary().display());
    println!("{n} concurrent sign-ins per round, two rounds, {reps} fresh servers");
    println!("rep  idle RSS  round-1 RSS  round-2 RSS  peak (HWM)  round-1 s  round-2 s");
    let mut cols: [Vec<f64>; 6] = Default::default();
    for rep in 0..reps {
        let data = tempfile::tempdir().unwrap();
        let data_dir = data.path().to_str().unwrap().to_owned();
        add_user(&data_dir);
        let mut env = vec![
            ("GRIDDISPATCH_DATA_DIR", data_dir.clone()),
            ("GRIDDISPATCH_BIND", "127.0.0.1:0".to_owned()),
        ];
        if let Ok(pool) = std::env::var("GD_BENCH_POOL") {
            env.push(("GRIDDISPATCH_POOL_SIZE", pool));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = Server::start_binary(&binary(), &["serve"], &env);
        let (idle, _) = memory_mib(server.pid());
        let t1 = sign_in_burst(&rt, &server.base, n, 1);
        let (rss1, _) = memory_mib(server.pid());
        let t2 = sign_in_burst(&rt, &server.base, n, 2);
        let (rss2, hwm) = memory_mib(server.pid());
        println!(
            "{rep:>3}  {idle:>8.1}  {rss1:>11.1}  {rss2:>11.1}  {hwm:>10.1}  {:>9.2}  {:>9.2}",
            t1.as_secs_f64(),
            t2.as_secs_f64()
        );
        for (col, v) in
            cols.iter_mut()
                .zip([idle, rss1, rss2, hwm, t1.as_secs_f64(), t2.as_secs_f64()])
        {
            col.push(v);
        }
    }
    let m: Vec<f64> = cols.into_iter().map(median).collect();
    println!(
        "med  {:>8.1}  {:>11.1}  {:>11.1}  {:>10.1}  {:>9.2}  {:>9.2}   (MiB, seconds)",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
}
