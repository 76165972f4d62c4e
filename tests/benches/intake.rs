//! Report intake end to end against the real binary (docs/benchmarks.md, "Report intake end
//! to end"): many phones each sending reports with one ~200 KB photo, from the first byte
//! (tus `POST` + `PATCH` of the photo, then the `create_report` command on `/sync/v1/push`,
//! as the field app's engine sends them) to the dispatcher seeing the report on the console's
//! event stream (`/api/v1/events`). Not a test: it measures and prints, and asserts only that
//! every report arrived and is listed.
//!
//! ```text
//! cargo build --release -p griddispatch
//! cargo bench -p griddispatch-e2e --bench intake
//! ```
//!
//! Environment: `GD_BENCH_BINARY` (another `griddispatch` binary to compare in the same
//! sitting), `GD_BENCH_DIR`, `GD_BENCH_REPORTS` (reports per run, default 1 000),
//! `GD_BENCH_PHONES` (phones sending at once, default 32), `GD_BENCH_REPS` (runs on fresh
//! servers, default 3).
//!
//! Prints per run: reports per second from the first byte of the first report to the
//! dispatcher seeing the last, the phones' own rate (until the last push was acknowledged),
//! and each report's latency from its first byte to the dispatcher seeing it (median, p95).
//! The photo is uploaded before the command (the report reaches the dispatcher whole); the
//! field app's engine pushes queued commands first, then uploads, so there the report shows
//! up sooner and its photo after.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use griddispatch_e2e::bench::env_usize;
use griddispatch_e2e::media::{jpeg, sha256_hex};
use griddispatch_e2e::tus::TusClient;
use griddispatch_e2e::Server;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const PASSWORD: &str = "griddemo2026";

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn binary() -> PathBuf {
    std::env::var_os("GD_BENCH_BINARY").map_or_else(griddispatch_e2e::binary, PathBuf::from)
}

fn login(http: &Client, base: &str, username: &str, device: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD, "device_id": device}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "login {username}");
    let r: Value = r.json().unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

/// A point in the grid member's village (from a demo report they can see).
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

struct Run {
    rate: f64,
    phone_rate: f64,
    latency: Vec<f64>,
}

fn run(
    rep: usize,
    dir: &std::path::Path,
    n: usize,
    phones: usize,
    photos: &[(Bytes, String)],
) -> Run {
    let data = dir.join(format!("intake{rep}"));
    let server = Server::start_binary(
        &binary(),
        &[
            "demo",
            "--data-dir",
            data.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
    );
    let base = server.base.clone();
    let http = Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let disp = login(&http, &base, "dispatcher", "console");
    let gm0 = login(&http, &base, "grid_member", "probe");
    let point = village_point(&http, &base, &gm0);

    // The dispatcher's console: the event stream, each report's arrival noted.
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    {
        let (seen, base, disp) = (seen.clone(), base.clone(), disp.clone());
        std::thread::spawn(move || {
            let resp = Client::builder()
                .timeout(None)
                .build()
                .unwrap()
                .get(format!("{base}/api/v1/events"))
                .bearer_auth(&disp)
                .send()
                .unwrap();
            assert_eq!(resp.status(), 200);
            for line in BufReader::new(resp).lines() {
                let Ok(line) = line else { return };
                if let Some(data) = line.strip_prefix("data: ") {
                    let v: Value = serde_json::from_str(data).unwrap();
                    if v["entity_type"] == "report" {
                        let id = v["entity_id"].as_str().unwrap().to_owned();
                        seen.lock().unwrap().entry(id).or_insert_with(Instant::now);
                    }
                }
            }
        });
    }
    std::thread::sleep(Duration::from_millis(500));

    // Phones: each signed in on its own device, sending its share one report at a time.
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let photos = Arc::new(photos.to_vec());
    let tokens: Vec<(String, String)> = (0..phones)
        .map(|i| {
            let device = format!("phone-{rep}-{i}");
            let token = login(&http, &base, "grid_member", &device);
            (device, token)
        })
        .collect();
    let t_start = Instant::now();
    let handles: Vec<_> = tokens
        .into_iter()
        .map(|(device, token)| {
            let (base, started, next, photos) =
                (base.clone(), started.clone(), next.clone(), photos.clone());
            std::thread::spawn(move || {
                let tus = TusClient::new(&base, &token);
                let http = Client::builder()
                    .timeout(Duration::from_secs(300))
                    .build()
                    .unwrap();
                let mut device_seq = 1;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let (photo, sha) = &photos[i % photos.len()];
                    let report_id = uuid::Uuid::now_v7().to_string();
                    let attachment_id = uuid::Uuid::now_v7().to_string();
                    started
                        .lock()
                        .unwrap()
                        .insert(report_id.clone(), Instant::now());
                    tus.upload_hashed(
                        photo,
                        sha,
                        &attachment_id,
                        "IMG_0001.jpg",
                        "image/jpeg",
                        1 << 20,
                    )
                    .unwrap();
                    let body = json!({"device_id": device, "commands": [{
                        "device_seq": device_seq,
                        "command": {"type": "create_report", "report_id": report_id,
                            "source": "grid_patrol", "category_code": "0401",
                            "description": format!("村口占道经营 {i}"),
                            "position": {"lat": point.0, "lon": point.1},
                            "attachment_ids": [attachment_id]}}]});
                    device_seq += 1;
                    let r = http
                        .post(format!("{base}/sync/v1/push"))
                        .bearer_auth(&token)
                        .header("GridSync-Protocol", "1")
                        .json(&body)
                        .send()
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let r: Value = r.json().unwrap();
                    assert_eq!(r["results"][0]["status"], "applied", "{r}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let phones_done = t_start.elapsed();
    let wait_until = Instant::now() + Duration::from_secs(60);
    while seen.lock().unwrap().len() < n && Instant::now() < wait_until {
        std::thread::sleep(Duration::from_millis(2));
    }
    let seen = seen.lock().unwrap().clone();
    let started = started.lock().unwrap().clone();
    assert!(
        started.keys().all(|id| seen.contains_key(id)),
        "{} of {n} reports reached the dispatcher's event stream",
        started.keys().filter(|id| seen.contains_key(*id)).count()
    );
    let last_seen = started.keys().map(|id| seen[id]).max().unwrap();
    let latency: Vec<f64> = started
        .iter()
        .map(|(id, t0)| (seen[id] - *t0).as_secs_f64() * 1000.0)
        .collect();
    // And the dispatcher's list holds them.
    let list: Value = http
        .get(format!("{base}/api/v1/reports?per_page=1"))
        .bearer_auth(&disp)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let total = list["total"].as_u64().unwrap_or(0) as usize;
    assert!(total >= n, "the dispatcher's list holds {total} reports");
    drop(server);
    Run {
        rate: n as f64 / (last_seen - t_start).as_secs_f64(),
        phone_rate: n as f64 / phones_done.as_secs_f64(),
        latency,
    }
}

fn main() {
    let root = std::env::var_os("GD_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(root).unwrap();
    let n = env_usize("GD_BENCH_REPORTS", 1_000);
    let phones = env_usize("GD_BENCH_PHONES", 32);
    let reps = env_usize("GD_BENCH_REPS", 3);
    println!(
        "== report intake end to end: {n} reports with one ~200 KB photo each, {phones} phones at once, SQLite demo — {}",
        binary().display()
    );
    // Distinct photos (the server reuses a stored original with the same content).
    let photos: Vec<(Bytes, String)> = (0..n * reps)
        .map(|i| {
            let p = jpeg(800, 600, 7_000_000 + i as u64, 25);
            let sha = sha256_hex(&p);
            (Bytes::from(p), sha)
        })
        .collect();
    println!(
        "  photos: {} KB on average",
        photos.iter().map(|p| p.0.len()).sum::<usize>() / photos.len() / 1000
    );
    let mut rates = Vec::new();
    let mut all_lat = Vec::new();
    for rep in 0..reps {
        let chunk = &photos[rep * n..(rep + 1) * n];
        let r = run(rep, dir.path(), n, phones, chunk);
        println!(
            "  run {rep}: {:.0} reports/s to the dispatcher ({:.0}/s sent by the phones); first byte → dispatcher sees it: median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            r.rate,
            r.phone_rate,
            median(&r.latency),
            percentile(&r.latency, 0.95),
            percentile(&r.latency, 1.0)
        );
        rates.push(r.rate);
        all_lat.push((median(&r.latency), percentile(&r.latency, 0.95)));
    }
    let meds: Vec<f64> = all_lat.iter().map(|x| x.0).collect();
    let p95s: Vec<f64> = all_lat.iter().map(|x| x.1).collect();
    println!(
        "  median of runs: {:.0} reports/s; latency median {:.0} ms, p95 {:.0} ms",
        median(&rates),
        median(&meds),
        median(&p95s)
    );
}
