//! Sync load generator against the real binary (docs/benchmarks.md, "Offline sync"). Not a
//! test: it measures and prints, and asserts only that the answers are complete.
//!
//! ```text
//! cargo build --release -p griddispatch
//! cargo bench -p griddispatch-e2e --bench sync
//! ```
//!
//! Environment: `GD_BENCH_DIR` (where the demo databases go; default the system temporary
//! directory), `GD_BENCH_REPS` (repetitions, default 5), `GD_BENCH_ITEMS` (reports for the
//! first pull, default 10 000), `GD_BENCH_BIG_LOG` (rows of history for the flat-latency
//! check, default 1 000 000), `GD_BENCH_BINARY` (another `griddispatch` binary, e.g. one built
//! from main, to compare in the same sitting), `GD_BENCH_ONLY=after` (part 4 only),
//! `GD_BENCH_ONLY=push` (part 1 only).
//!
//! Measures, on SQLite (the embedded default):
//! 1. pushing 10 000 offline reports after reconnect (`GD_BENCH_PUSH`, pushes of 500): time and
//!    bytes; on PostgreSQL as well when `GD_BENCH_PG` is a server URL
//!    (`postgres://postgres@127.0.0.1:5432/postgres`; the bench makes its own databases);
//! 2. a fresh phone's first pull of ~10 000 reports (town-wide reader) in pages of 500 and
//!    2 000: time, bytes, pages;
//! 3. the pull of a fixed delta (100 new reports in a grid member's village) with 10^3 and with
//!    10^6 rows of history in the change log before the cursor;
//! 4. a grid member's pull when 10^3 or 10^6 other villages' changes lie *after* their cursor
//!    (a phone of a quiet village): the page with nothing for them (what every `/sync/v1/wait`
//!    check reads), and the page of 100 new reports in their village behind those rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use griddispatch_e2e::bench::{env_usize, median};
use griddispatch_e2e::Server;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const PASSWORD: &str = "griddemo2026";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Phone {
    base: String,
    token: String,
    device: String,
    next_seq: i64,
    http: Client,
}

impl Phone {
    fn login(base: &str, username: &str) -> Phone {
        let device = uuid::Uuid::now_v7().to_string();
        let http = Client::builder()
            .timeout(Duration::from_secs(300))
            // Bytes as sent: the bench measures the wire.
            .no_gzip()
            .no_zstd()
            .build()
            .unwrap();
        let r: Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD, "device_id": device}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        Phone {
            base: base.to_owned(),
            token: r["access_token"].as_str().unwrap().to_owned(),
            device,
            next_seq: 1,
            http,
        }
    }

    /// Push commands; returns (request bytes, response bytes).
    fn push(&mut self, commands: &[Value]) -> (usize, usize) {
        let items: Vec<Value> = commands
            .iter()
            .map(|c| {
                let item = json!({"device_seq": self.next_seq, "command": c});
                self.next_seq += 1;
                item
            })
            .collect();
        let body =
            serde_json::to_vec(&json!({"device_id": self.device, "commands": items})).unwrap();
        let sent = body.len();
        let resp = self
            .http
            .post(format!("{}/sync/v1/push", self.base))
            .bearer_auth(&self.token)
            .header("GridSync-Protocol", "1")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.text().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["results"].as_array().unwrap() {
            assert_eq!(r["status"], "applied", "{r}");
        }
        (sent, text.len())
    }

    /// One pull page: (body, bytes).
    fn pull(&self, cursor: Option<&str>, limit: u32) -> (Value, usize) {
        let mut url = format!("{}/sync/v1/pull?limit={limit}&max_bytes=8388608", self.base);
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("GridSync-Protocol", "1")
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.text().unwrap();
        (serde_json::from_str(&text).unwrap(), text.len())
    }

    /// One pull page asking for `encoding` (`gzip`, `zstd`): (body, bytes on the wire).
    fn pull_encoded(&self, cursor: Option<&str>, limit: u32, encoding: &str) -> (Value, usize) {
        use std::io::Read;
        let mut url = format!("{}/sync/v1/pull?limit={limit}&max_bytes=8388608", self.base);
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("GridSync-Protocol", "1")
            .header("Accept-Encoding", encoding)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let got = resp
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref(), Some(encoding), "the server compressed");
        let wire = resp.bytes().unwrap().to_vec();
        let mut text = String::new();
        match encoding {
            "gzip" => {
                flate2::read::GzDecoder::new(wire.as_slice())
                    .read_to_string(&mut text)
                    .unwrap();
            }
            _ => text = String::from_utf8(zstd::decode_all(wire.as_slice()).unwrap()).unwrap(),
        }
        (serde_json::from_str(&text).unwrap(), wire.len())
    }

    /// Pull to the end asking for `encoding`: (changes, bytes on the wire, pages).
    fn pull_all_encoded(&self, limit: u32, encoding: &str) -> (usize, usize, usize) {
        let (mut n, mut bytes, mut pages) = (0, 0, 0);
        let mut cursor: Option<String> = None;
        loop {
            let (page, b) = self.pull_encoded(cursor.as_deref(), limit, encoding);
            n += page["changes"].as_array().unwrap().len();
            bytes += b;
            pages += 1;
            cursor = Some(page["cursor"].as_str().unwrap().to_owned());
            if !page["has_more"].as_bool().unwrap() {
                return (n, bytes, pages);
            }
        }
    }

    /// Pull to the end: (changes, bytes, pages, cursor).
    fn pull_all(&self, cursor: Option<String>, limit: u32) -> (usize, usize, usize, String) {
        let (mut n, mut bytes, mut pages) = (0, 0, 0);
        let mut cursor = cursor;
        loop {
            let (page, b) = self.pull(cursor.as_deref(), limit);
            n += page["changes"].as_array().unwrap().len();
            bytes += b;
            pages += 1;
            cursor = Some(page["cursor"].as_str().unwrap().to_owned());
            if !page["has_more"].as_bool().unwrap() {
                return (n, bytes, pages, cursor.unwrap());
            }
        }
    }
}

fn hotline(point: (f64, f64), n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"type": "create_report", "report_id": uuid::Uuid::now_v7().to_string(), "source": "hotline",
                "category_code": "0401", "description": format!("12345 来电 {i}：占道经营"),
                "position": {"lat": point.0, "lon": point.1}})
        })
        .collect()
}

fn start(dir: &Path, name: &str) -> (Server, String) {
    start_on(dir, name, None)
}

/// A demo server on SQLite in `dir/name`, or on the PostgreSQL database `pg`.
fn start_on(dir: &Path, name: &str, pg: Option<&str>) -> (Server, String) {
    let data = dir.join(name);
    let mut args = vec![
        "demo",
        "--data-dir",
        data.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
    ];
    if let Some(url) = pg {
        args.extend(["--database-url", url]);
    }
    let bin = std::env::var_os("GD_BENCH_BINARY")
        .map_or_else(griddispatch_e2e::binary, std::path::PathBuf::from);
    let server = Server::start_binary(&bin, &args, &[]);
    let base = server.base.clone();
    (server, base)
}

/// An empty PostgreSQL database `name` on the server at `url` (dropped first if it exists).
fn fresh_pg(url: &str, name: &str) -> String {
    let mut admin = diesel::PgConnection::establish(url).unwrap();
    // One statement per call: several in one string run as one transaction, which
    // DROP/CREATE DATABASE refuse.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, _) = url.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

/// A point in the demo grid member's village (from a demo report they can see).
fn village_point(base: &str) -> (f64, f64) {
    let gm = Phone::login(base, "grid_member");
    let list: Value = gm
        .http
        .get(format!("{base}/api/v1/reports?per_page=50"))
        .bearer_auth(&gm.token)
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

fn main() {
    let dir = std::env::var("GD_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = tempfile::tempdir_in(dir).unwrap();
    let reps = env_usize("GD_BENCH_REPS", 5);
    let items = env_usize("GD_BENCH_ITEMS", 10_000);
    let big = env_usize("GD_BENCH_BIG_LOG", 1_000_000);
    if std::env::var("GD_BENCH_ONLY").is_ok_and(|o| o == "after") {
        after_cursor(dir.path(), reps, big);
        return;
    }

    // 1. Push a day of offline work after reconnect (pushes of 500, the protocol's largest),
    //    fresh server each repetition; on PostgreSQL too when `GD_BENCH_PG` names a server.
    let pushed = env_usize("GD_BENCH_PUSH", 10_000);
    let mut backends = vec![None];
    if let Ok(url) = std::env::var("GD_BENCH_PG") {
        backends.push(Some(url));
    }
    for pg in &backends {
        println!(
            "== push {pushed} queued reports (pushes of 500), {}, fresh demo server each time",
            if pg.is_some() { "PostgreSQL" } else { "SQLite" }
        );
        let mut push_ms = Vec::new();
        let mut push_bytes = (0, 0);
        for rep in 0..reps {
            let db = pg
                .as_ref()
                .map(|url| fresh_pg(url, &format!("gd_bench_push{rep}")));
            let (server, base) = start_on(dir.path(), &format!("push{rep}"), db.as_deref());
            let point = village_point(&base);
            let mut phone = Phone::login(&base, "dispatcher");
            let cmds = hotline(point, pushed);
            let t0 = Instant::now();
            let mut bytes = (0, 0);
            for chunk in cmds.chunks(500) {
                let (up, down) = phone.push(chunk);
                bytes = (bytes.0 + up, bytes.1 + down);
            }
            push_ms.push(ms(t0.elapsed()));
            push_bytes = bytes;
            drop(server);
        }
        let med = median(push_ms.clone());
        println!(
            "  median {:.0} ms ({:.3} ms/command, {:.0} commands/s); all: {:?}; request {} KB, response {} KB",
            med,
            med / pushed as f64,
            pushed as f64 / (med / 1000.0),
            push_ms.iter().map(|x| x.round()).collect::<Vec<_>>(),
            push_bytes.0 / 1000,
            push_bytes.1 / 1000
        );
    }
    if std::env::var("GD_BENCH_ONLY").is_ok_and(|o| o == "push") {
        return;
    }

    // 2. A fresh phone's first pull of ~10k items.
    println!("== first pull of {items} reports by a fresh town-wide phone");
    let (server, base) = start(dir.path(), "pull");
    let point = village_point(&base);
    let mut seeder = Phone::login(&base, "dispatcher");
    for chunk in hotline(point, items).chunks(500) {
        seeder.push(chunk);
    }
    for limit in [500u32, 2000] {
        let mut times = Vec::new();
        let mut last = (0, 0, 0);
        for _ in 0..reps {
            let phone = Phone::login(&base, "dispatcher");
            let t0 = Instant::now();
            let (n, bytes, pages, _) = phone.pull_all(None, limit);
            times.push(ms(t0.elapsed()));
            assert!(n >= items, "pulled {n} of {items}");
            last = (n, bytes, pages);
        }
        println!(
            "  limit {limit}: median {:.0} ms for {} changes in {} pages, {:.1} MB ({} B/change); all: {:?}",
            median(times.clone()),
            last.0,
            last.2,
            last.1 as f64 / 1e6,
            last.1 / last.0.max(1),
            times.iter().map(|x| x.round()).collect::<Vec<_>>()
        );
        // The same pull, compressed as a phone asks for it: bytes on the wire.
        for encoding in ["gzip", "zstd"] {
            let mut times = Vec::new();
            let mut last = (0, 0, 0);
            for _ in 0..reps {
                let phone = Phone::login(&base, "dispatcher");
                let t0 = Instant::now();
                last = phone.pull_all_encoded(limit, encoding);
                times.push(ms(t0.elapsed()));
            }
            println!(
                "  limit {limit}, {encoding}: median {:.0} ms for {} changes in {} pages, {:.2} MB on the wire ({} B/change)",
                median(times),
                last.0,
                last.2,
                last.1 as f64 / 1e6,
                last.1 / last.0.max(1),
            );
        }
    }
    drop(server);

    // 3. Fixed delta after 10^3 vs 10^6 rows of history.
    println!("== pull of a fixed delta (100 reports in the grid member's village) after N rows of history");
    for n in [1_000usize, big] {
        let (server, base) = start(dir.path(), &format!("log{n}"));
        let point = village_point(&base);
        drop(server);
        // History: N changes in other villages, written straight into the database (as N
        // commands would have left them), the head moved past them.
        let db = dir.path().join(format!("log{n}")).join("griddispatch.db");
        let mut conn = diesel::sqlite::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
        conn.batch_execute(&format!(
            "BEGIN;
             INSERT INTO change_log (seq, entity_type, entity_id, village_code, squad_id, reporter_id, at)
               WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})
               SELECT (SELECT seq FROM command_log_head) + x, 'report', 'history-' || x,
                      'v' || (x % 500), NULL, 'someone-else', CURRENT_TIMESTAMP FROM c;
             UPDATE command_log_head SET seq = seq + {n};
             COMMIT;"
        ))
        .unwrap();
        drop(conn);
        let (server, base) = start(dir.path(), &format!("log{n}"));
        let gm = Phone::login(&base, "grid_member");
        let town = Phone::login(&base, "dispatcher");
        let (_, _, _, gm_cursor) = gm.pull_all(None, 2000);
        let (_, _, _, town_cursor) = town.pull_all(None, 2000);
        let mut seeder = Phone::login(&base, "dispatcher");
        seeder.push(&hotline(point, 100));
        for (who, phone, cursor) in [
            ("grid member", &gm, &gm_cursor),
            ("town-wide", &town, &town_cursor),
        ] {
            let mut times = Vec::new();
            let mut got = 0;
            for _ in 0..reps.max(5) * 4 {
                let t0 = Instant::now();
                let (page, _) = phone.pull(Some(cursor), 500);
                times.push(ms(t0.elapsed()));
                got = page["changes"].as_array().unwrap().len();
            }
            assert_eq!(got, 100, "{who}: the delta is 100 reports");
            println!(
                "  history {n:>9} rows, {who:<11}: median {:.2} ms for the 100-change page (min {:.2}, max {:.2})",
                median(times.clone()),
                times.iter().cloned().fold(f64::MAX, f64::min),
                times.iter().cloned().fold(0.0, f64::max)
            );
        }
        drop(server);
    }

    // 4. Other villages' changes after the grid member's cursor.
    after_cursor(dir.path(), reps, big);
}

/// A grid member's cursor, then `n` changes in other villages, then (optionally) 100 reports
/// in their village: the pages they get.
fn after_cursor(dir: &Path, reps: usize, big: usize) {
    println!("== grid member's pull with N other villages' changes after their cursor");
    for n in [1_000usize, big] {
        let name = format!("after{n}");
        let (server, base) = start(dir, &name);
        let point = village_point(&base);
        let gm = Phone::login(&base, "grid_member");
        let (_, _, _, cursor) = gm.pull_all(None, 2000);
        drop(server);
        let db = dir.join(&name).join("griddispatch.db");
        let mut conn = diesel::sqlite::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
        conn.batch_execute(&format!(
            "BEGIN;
             INSERT INTO change_log (seq, entity_type, entity_id, village_code, squad_id, reporter_id, at)
               WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})
               SELECT (SELECT seq FROM command_log_head) + x, 'report', 'elsewhere-' || x,
                      'v' || (x % 500), NULL, 'someone-else', CURRENT_TIMESTAMP FROM c;
             UPDATE command_log_head SET seq = seq + {n};
             COMMIT;"
        ))
        .unwrap();
        drop(conn);
        let (server, base) = start(dir, &name);
        let gm = Phone {
            base: base.clone(),
            ..gm
        };
        let time = |what: &str, want: usize| {
            let mut times = Vec::new();
            for _ in 0..reps.max(5) * 4 {
                let t0 = Instant::now();
                let (page, _) = gm.pull(Some(&cursor), 500);
                times.push(ms(t0.elapsed()));
                assert_eq!(page["changes"].as_array().unwrap().len(), want, "{what}");
            }
            println!(
                "  {n:>9} rows after the cursor, {what:<22}: median {:.2} ms (min {:.2}, max {:.2})",
                median(times.clone()),
                times.iter().cloned().fold(f64::MAX, f64::min),
                times.iter().cloned().fold(0.0, f64::max)
            );
        };
        time("nothing for them", 0);
        let mut seeder = Phone::login(&base, "dispatcher");
        seeder.push(&hotline(point, 100));
        time("100 in their village", 100);
        drop(server);
    }
}
