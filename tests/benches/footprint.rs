//! Footprint against the real binary (docs/benchmarks.md, "Footprint"): the server's memory
//! while many phones long-poll `/sync/v1/wait`, how long it takes to tell them all of a
//! change, and the start-up time with a large grid. Not a test: it measures and prints, and
//! asserts only that the answers are right.
//!
//! ```text
//! cargo build --release -p griddispatch
//! ulimit -n 30000          # the bench and the server each hold one socket per waiting phone
//! cargo bench -p griddispatch-e2e --bench footprint
//! ```
//!
//! Environment: `GD_BENCH_BINARY` (another `griddispatch` binary, e.g. one built from main,
//! to compare in the same sitting; default the one built next to this bench), `GD_BENCH_DIR`
//! (where the databases go), `GD_BENCH_WAITERS` (phones long-polling, default 10 000),
//! `GD_BENCH_CELLS` (villages of the start-up grid, default 10 000), `GD_BENCH_REPS`
//! (start-ups timed, default 5), `GD_BENCH_ONLY` (`wait` or `startup`).
//!
//! Measures, on SQLite:
//! 1. a demo server's resident memory (VmRSS) idle, then with `GD_BENCH_WAITERS` grid members'
//!    phones each holding a `/sync/v1/wait` (one HTTP/1.1 connection each, timeout 60 s) once
//!    the server has gone quiet, and its CPU per second while they wait; then one report in
//!    their village: the time until every phone has its `changed: true`, and the peak RSS;
//! 2. start-up: from spawning `griddispatch serve` on a database holding a generated grid of
//!    `GD_BENCH_CELLS` villages to the first `200` from `/readyz`, median of `GD_BENCH_REPS`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use griddispatch_e2e::bench::{env_usize, median};
use griddispatch_e2e::Server;
use reqwest::blocking::Client;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "griddemo2026";

fn binary() -> PathBuf {
    std::env::var_os("GD_BENCH_BINARY").map_or_else(griddispatch_e2e::binary, PathBuf::from)
}

/// (VmRSS, VmHWM) of a process, in MB.
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) of a process, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn login(http: &Client, base: &str, username: &str) -> String {
    let r: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD,
            "device_id": uuid::Uuid::now_v7().to_string()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

/// Pull until caught up; the last cursor.
fn caught_up_cursor(http: &Client, base: &str, token: &str) -> String {
    let mut cursor: Option<String> = None;
    loop {
        let mut req = http
            .get(format!("{base}/sync/v1/pull"))
            .query(&[("limit", "2000")])
            .bearer_auth(token)
            .header("GridSync-Protocol", "1");
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c)]);
        }
        let page: Value = req.send().unwrap().json().unwrap();
        cursor = Some(page["cursor"].as_str().unwrap().to_owned());
        if page["has_more"] != true {
            return cursor.unwrap();
        }
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A point in the demo grid member's village (from a demo report they can see), and one in
/// another village (from the dispatcher's reports), if there is one.
fn points(http: &Client, base: &str, gm: &str, disp: &str) -> ((f64, f64), Option<(f64, f64)>) {
    let mine = village_point(http, base, gm);
    let code = |t: &str| -> Value {
        let list: Value = http
            .get(format!("{base}/api/v1/reports?per_page=100"))
            .bearer_auth(t)
            .send()
            .unwrap()
            .json()
            .unwrap();
        list
    };
    let gm_village = code(gm)["items"][0]["report"]["village_code"].clone();
    let other = code(disp)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["report"]["lat"].is_number() && i["report"]["village_code"] != gm_village)
        .map(|r| {
            (
                r["report"]["lat"].as_f64().unwrap(),
                r["report"]["lon"].as_f64().unwrap(),
            )
        });
    (mine, other)
}

/// A point in the village of a demo report `token` can see.
fn village_point(http: &Client, base: &str, token: &str) -> (f64, f64) {
    let list: Value = http
        .get(format!("{base}/api/v1/reports?per_page=50"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let r = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["report"]["lat"].is_number())
        .expect("a demo report with a position");
    (
        r["report"]["lat"].as_f64().unwrap(),
        r["report"]["lon"].as_f64().unwrap(),
    )
}

fn waiters(bin: &Path, dir: &Path, n: usize) {
    println!(
        "== {n} phones long-polling /sync/v1/wait (grid members, SQLite demo) — {}",
        bin.display()
    );
    let data = dir.join("wait");
    let server = Server::start_binary(
        bin,
        &[
            "demo",
            "--data-dir",
            data.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
    );
    let pid = server.pid();
    let base = server.base.clone();
    let http = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let gm = login(&http, &base, "grid_member");
    let disp = login(&http, &base, "dispatcher");
    let (point, elsewhere) = points(&http, &base, &gm, &disp);
    let cursor = caught_up_cursor(&http, &base, &gm);
    std::thread::sleep(Duration::from_secs(2));
    let (idle, _) = rss_mb(pid);
    println!("  idle: RSS {idle:.1} MB, {} threads", threads(pid));

    let request = Arc::new(format!(
        "GET /sync/v1/wait?timeout=60&cursor={} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {gm}\r\nGridSync-Protocol: 1\r\nConnection: close\r\n\r\n",
        percent_encode(&cursor),
        server.addr()
    ));
    let sent = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let changed = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let answers: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // At most this many connections being opened at once (the listen backlog is finite).
    let opening = Arc::new(tokio::sync::Semaphore::new(256));
    let t_open = Instant::now();
    for _ in 0..n {
        let (request, sent, answered, changed, failed, answers, opening) = (
            request.clone(),
            sent.clone(),
            answered.clone(),
            changed.clone(),
            failed.clone(),
            answers.clone(),
            opening.clone(),
        );
        let addr = server.addr();
        rt.spawn(async move {
            let permit = opening.acquire_owned().await.unwrap();
            let mut s = match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => s,
                Err(e) => {
                    if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("  connect failed: {e}");
                    }
                    return;
                }
            };
            s.write_all(request.as_bytes()).await.unwrap();
            sent.fetch_add(1, Ordering::Relaxed);
            drop(permit);
            let mut buf = Vec::with_capacity(512);
            let ok = s.read_to_end(&mut buf).await.is_ok();
            answers.lock().unwrap().push(Instant::now());
            answered.fetch_add(1, Ordering::Relaxed);
            let text = String::from_utf8_lossy(&buf);
            if ok && text.starts_with("HTTP/1.1 200") && text.contains("\"changed\":true") {
                changed.fetch_add(1, Ordering::Relaxed);
            } else if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                eprintln!("  unexpected answer: {}", text.lines().next().unwrap_or(""));
            }
        });
    }
    while sent.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < n {
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            t_open.elapsed() < Duration::from_secs(50),
            "opening the waits took too long"
        );
    }
    let opened = t_open.elapsed();
    // Quiet: under 2 % of a core over a second (a server that polls for its waiters never
    // is: then 15 s after the last request went out).
    let mut last = cpu_ticks(pid);
    let t_sent = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = cpu_ticks(pid);
        if now - last <= 2 || t_sent.elapsed() > Duration::from_secs(15) {
            break;
        }
        last = now;
    }
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(3));
    let cpu_waiting = (cpu_ticks(pid) - t0) as f64 / 3.0;
    let (held, _) = rss_mb(pid);
    let busy_threads = threads(pid);
    // Idle blocking threads retire after 10 s: what stays while the phones keep waiting.
    std::thread::sleep(Duration::from_secs(12));
    let (settled, _) = rss_mb(pid);
    let early = answered.load(Ordering::Relaxed);
    println!(
        "  {n} waiting (sent in {:.1} s; {early} answered early): RSS {held:.1} MB with {busy_threads} threads once quiet, {settled:.1} MB ({:.1} KB a phone over idle) with {} threads 12 s later; server CPU while waiting {cpu_waiting:.1} % of a core",
        opened.as_secs_f64(),
        (settled - idle) * 1024.0 / n as f64,
        threads(pid),
    );
    let report_at = |p: (f64, f64)| {
        let cmd = json!({"type": "create_report", "report_id": uuid::Uuid::now_v7().to_string(),
            "source": "hotline", "category_code": "0401", "description": "12345 来电：占道经营",
            "position": {"lat": p.0, "lon": p.1}});
        let r = http
            .post(format!("{base}/api/v1/commands"))
            .bearer_auth(&disp)
            .json(&json!({"command": cmd}))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
    };
    // A report in another village: nobody is told, and it should cost next to nothing.
    if let Some(p) = elsewhere {
        let c0 = cpu_ticks(pid);
        report_at(p);
        std::thread::sleep(Duration::from_secs(3));
        println!(
            "  one report in another village: {} of {n} answered, server CPU {:.2} s",
            answered.load(Ordering::Relaxed) - early,
            (cpu_ticks(pid) - c0) as f64 / 100.0
        );
    }
    // One report in their village: every phone is told.
    let c0 = cpu_ticks(pid);
    let t_change = Instant::now();
    report_at(point);
    while answered.load(Ordering::Relaxed) < n - early {
        std::thread::sleep(Duration::from_millis(5));
        if t_change.elapsed() > Duration::from_secs(70) {
            break;
        }
    }
    let mut lat: Vec<f64> = answers
        .lock()
        .unwrap()
        .iter()
        .filter(|t| **t >= t_change)
        .map(|t| (*t - t_change).as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let (_, peak) = rss_mb(pid);
    println!(
        "  one report in their village: {} of {n} told `changed` (median {:.0} ms, last {:.0} ms after the command was sent; server CPU {:.1} s); peak RSS {peak:.1} MB; failures {}",
        changed.load(Ordering::Relaxed),
        median(lat.clone()),
        lat.last().copied().unwrap_or(f64::NAN),
        (cpu_ticks(pid) - c0) as f64 / 100.0,
        failed.load(Ordering::Relaxed),
    );
    rt.shutdown_timeout(Duration::from_secs(1));
    drop(server);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && &buf == b"HTTP/1.1 200"
}

/// Spawn `serve` and time it to the first ready answer.
fn time_start(bin: &Path, data: &Path) -> Duration {
    let port = free_port();
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .arg("serve")
        .env("GRIDDISPATCH_DATA_DIR", data)
        .env("GRIDDISPATCH_BIND", format!("127.0.0.1:{port}"))
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    loop {
        if ready(port) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "serve never became ready"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = t0.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    took
}

fn startup(bin: &Path, dir: &Path, cells: usize, reps: usize) {
    println!(
        "== start-up to the first 200 from /readyz (SQLite) — {}",
        bin.display()
    );
    let run = |args: &[&str], data: &Path| {
        let out = Command::new(bin)
            .args(args)
            .env("GRIDDISPATCH_DATA_DIR", data)
            .env("GRIDDISPATCH_LOG_FILTER", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let empty = dir.join("start-empty");
    run(&["migrate"], &empty);
    let big = dir.join("start-big");
    let file = dir.join(format!("region-{cells}.geojson"));
    let said = run(
        &[
            "grid",
            "generate",
            "--region-villages",
            &cells.to_string(),
            "--out",
            file.to_str().unwrap(),
        ],
        &big,
    );
    println!("  {}", said.trim());
    let t = Instant::now();
    run(&["grid", "import", file.to_str().unwrap()], &big);
    println!("  imported in {:.1} s", t.elapsed().as_secs_f64());
    for (what, data) in [("no grid", &empty), ("generated grid", &big)] {
        // One start first: migrations applied, files in the page cache.
        time_start(bin, data);
        let times: Vec<f64> = (0..reps)
            .map(|_| time_start(bin, data).as_secs_f64() * 1000.0)
            .collect();
        println!(
            "  {what:<15}: median {:.0} ms to ready (all {:?})",
            median(times.clone()),
            times.iter().map(|x| x.round()).collect::<Vec<_>>()
        );
    }
}

fn main() {
    let dir = std::env::var("GD_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = tempfile::tempdir_in(dir).unwrap();
    let bin = binary();
    let only = std::env::var("GD_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "wait" {
        waiters(&bin, dir.path(), env_usize("GD_BENCH_WAITERS", 10_000));
    }
    if only.is_empty() || only == "startup" {
        startup(
            &bin,
            dir.path(),
            env_usize("GD_BENCH_CELLS", 10_000),
            env_usize("GD_BENCH_REPS", 5),
        );
    }
}
