//! The `gridsync` binary driving a grid member's, a dispatcher's and a squad's day against the
//! real server, with the phones offline part of the time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use griddispatch_e2e::gridsync_binary;
use griddispatch_e2e::town::{photo, Town, PASSWORD};
use serde_json::Value;

/// One person's `gridsync` with its own data directory.
struct Gridsync {
    dir: PathBuf,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Gridsync {
    fn new(root: &Path, who: &str) -> Gridsync {
        Gridsync {
            dir: root.join(who),
        }
    }

    fn run_with(&self, args: &[&str], stdin: &str) -> Out {
        let mut child = Command::new(gridsync_binary())
            .arg("--data-dir")
            .arg(&self.dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gridsync");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, "")
    }

    /// Must exit 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.code, 0,
            "gridsync {args:?} exited {}:\n{}\n{}",
            out.code, out.stdout, out.stderr
        );
        out.stdout
    }

    /// The id printed on the first line by `report` and `dispatch`.
    fn id(&self, args: &[&str]) -> String {
        let out = self.ok(args);
        let id = out.lines().next().unwrap_or_default().trim().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{out}");
        id
    }

    fn login(&self, town: &Town, user: &str) {
        let out = self.run_with(
            &["login", "--server", &town.phone_url(), "--username", user],
            &format!("{PASSWORD}\n"),
        );
        assert_eq!(out.code, 0, "login {user}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("已登录"), "{}", out.stdout);
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.ok(&["status", "--json"])).unwrap()
    }
}

#[test]
fn gridsync_drives_a_grid_members_and_a_squads_day() {
    let town = Town::start();
    let here = town.here();
    let (lat, lon) = (here.lat.to_string(), here.lon.to_string());
    let root = tempfile::tempdir().unwrap();
    let pics = root.path();
    let p = |n: u64| photo(pics, n).to_str().unwrap().to_owned();

    // Morning patrol: the grid member signs in at the office, then reports without signal.
    let gm = Gridsync::new(root.path(), "grid_member");
    gm.login(&town, "grid_member");
    town.proxy.set_offline(true);
    let report = gm.id(&[
        "report",
        "--category",
        "0101",
        "--note",
        "村口垃圾堆放未清运",
        "--photo",
        &p(1),
        "--lat",
        &lat,
        "--lon",
        &lon,
    ]);
    let second = gm.id(&[
        "report",
        "--category",
        "0401",
        "--note",
        "流动摊贩占道",
        "--photo",
        &p(2),
        "--photo",
        &p(3),
        "--lat",
        &lat,
        "--lon",
        &lon,
    ]);
    let st = gm.status();
    assert_eq!(st["queued_commands"], 2);
    assert_eq!(st["pending_uploads"], 3);
    let offline = gm.run(&["sync"]);
    assert_eq!(offline.code, 1, "{}", offline.stdout);
    assert!(offline.stderr.contains("同步失败"), "{}", offline.stderr);
    let listed = gm.ok(&["reports"]);
    assert!(
        listed.contains(&report) && listed.contains("待发送"),
        "{listed}"
    );

    // Back in coverage.
    town.proxy.set_offline(false);
    let synced = gm.ok(&["sync"]);
    assert!(synced.contains("同步完成"), "{synced}");
    for id in [&report, &second] {
        let r = town.report(id).expect("report on the server");
        assert_eq!(r["pending_attachment_ids"], serde_json::json!([]), "{r}");
    }
    let st = gm.status();
    assert_eq!(
        (
            st["queued_commands"].as_u64(),
            st["pending_uploads"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert!(st["last_sync_at"].is_string());

    // The command center dispatches it to squad 1 (by squad code).
    let disp = Gridsync::new(root.path(), "dispatcher");
    disp.login(&town, "dispatcher");
    disp.ok(&["sync"]);
    let task = disp.id(&["dispatch", &report, "--squad", "squad1"]);
    disp.ok(&["sync"]);
    assert_eq!(town.task(&task)["status"], "dispatched");

    // The squad leader accepts, goes out, handles and closes it, all without signal.
    let lead = Gridsync::new(root.path(), "squad_leader");
    lead.login(&town, "squad_leader");
    lead.ok(&["sync"]);
    let tasks = lead.ok(&["tasks"]);
    assert!(
        tasks.contains(&task) && tasks.contains("dispatched"),
        "{tasks}"
    );
    town.proxy.set_offline(true);
    let officer = town.user_id("officer");
    lead.ok(&["accept", &task, "--officer", "me", "--officer", &officer]);
    lead.ok(&["arrive", &task, "--lat", &lat, "--lon", &lon]);
    lead.ok(&[
        "handle",
        &task,
        "--outcome",
        "rectified",
        "--note",
        "已责令当场清理",
        "--photo",
        &p(4),
        "--photo",
        &p(5),
        "--lat",
        &lat,
        "--lon",
        &lon,
    ]);
    lead.ok(&["close", &task]);
    let tasks = lead.ok(&["tasks"]);
    assert!(
        tasks.contains("close_task"),
        "queued commands show per task: {tasks}"
    );
    assert_eq!(town.task(&task)["status"], "dispatched");
    town.proxy.set_offline(false);
    lead.ok(&["sync"]);
    let t = town.task(&task);
    assert_eq!(t["status"], "closed", "{t}");
    assert_eq!(t["outcome"]["outcome"], "rectified");
    assert_eq!(t["outcome_attachment_ids"].as_array().unwrap().len(), 2);
    assert!(lead.ok(&["tasks"]).contains("closed"));

    // The grid member re-checks it; a mistaken `close` is refused without blocking anything.
    gm.ok(&["sync"]);
    gm.ok(&["close", &task]);
    gm.ok(&["recheck", &task, "--passed", "--note", "现场已清理"]);
    // A refusal is told to scripts too: exit 3, everything else sent.
    let synced = gm.run(&["sync"]);
    assert_eq!(synced.code, 3, "{}{}", synced.stdout, synced.stderr);
    let synced = synced.stdout;
    assert!(synced.contains("被拒绝"), "{synced}");
    assert_eq!(town.task(&task)["status"], "verified");
    let st = gm.status();
    let rejected = st["rejected_commands"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{st}");
    assert_eq!(rejected[0]["command_type"], "close_task");
    assert!(rejected[0]["code"].as_str().is_some_and(|c| !c.is_empty()));
    let status = gm.ok(&["status"]);
    assert!(status.contains("被拒绝的操作"));
    // Times carry their zone (`+08:00`), not a bare wall-clock time.
    let last_sync = status
        .lines()
        .find(|l| l.starts_with("上次同步"))
        .unwrap_or_default();
    let zone = last_sync.rsplit(' ').next().unwrap_or_default();
    assert!(
        zone.len() == 6 && zone.starts_with(['+', '-']) && zone.as_bytes()[3] == b':',
        "{last_sync}"
    );
    // The next sync has nothing refused: exit 0 again.
    gm.ok(&["sync"]);

    // The dispatcher closes the report with a raw command.
    let body = format!(r#"{{"type":"close_report","report_id":"{report}"}}"#);
    disp.ok(&["command", "--json", &body]);
    disp.ok(&["sync"]);
    let r = town.report(&report).unwrap();
    assert_eq!(r["report"]["status"], "closed", "{r}");

    // Mistakes in use exit 2; signing out keeps nothing on screen.
    assert_eq!(
        lead.run(&["handle", &task, "--outcome", "rectified"]).code,
        2
    );
    assert_eq!(lead.run(&["recheck", &task]).code, 2);
    assert_eq!(gm.run(&["frobnicate"]).code, 2);
    gm.ok(&["logout"]);
    assert!(gm.ok(&["status"]).contains("未登录"));
    assert_eq!(
        gm.run(&["report", "--category", "0101", "--note", "x"])
            .code,
        1
    );
}

#[test]
fn gridsync_sync_watch_keeps_syncing_until_stopped() {
    use std::io::{BufRead, BufReader};

    let town = Town::start();
    let here = town.here();
    let root = tempfile::tempdir().unwrap();
    let gm = Gridsync::new(root.path(), "grid_member");
    gm.login(&town, "grid_member");
    let mut watch = Command::new(gridsync_binary())
        .arg("--data-dir")
        .arg(&gm.dir)
        .args(["sync", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Lines arrive through a channel, so that a watcher that never prints fails the test
    // after a minute instead of hanging it.
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait = std::time::Duration::from_secs(60);
    let first = lines.recv_timeout(wait).expect("the watcher's first round");
    assert!(first.contains("同步完成"), "{first}");
    // Work queued from another terminal goes out with the watcher's next round.
    let report = gm.id(&[
        "report",
        "--category",
        "0101",
        "--note",
        "夜间巡查发现",
        "--photo",
        photo(root.path(), 90).to_str().unwrap(),
        "--lat",
        &here.lat.to_string(),
        "--lon",
        &here.lon.to_string(),
    ]);
    let deadline = std::time::Instant::now() + wait;
    let mut sent = None;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(l) if l.contains("同步完成") && l.contains("发送 1 条") => {
                sent = Some(l);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    watch.kill().unwrap();
    watch.wait().unwrap();
    assert!(sent.is_some(), "the watcher sent the queued report");
    let r = town.report(&report).expect("report on the server");
    assert_eq!(r["pending_attachment_ids"], serde_json::json!([]));
}

#[test]
fn gridsync_keeps_the_photos_of_a_rejected_report_on_the_phone() {
    let town = Town::start();
    let here = town.here();
    let (lat, lon) = (here.lat.to_string(), here.lon.to_string());
    let root = tempfile::tempdir().unwrap();
    let pics = root.path();
    let p = |n: u64| photo(pics, n).to_str().unwrap().to_owned();
    let gm = Gridsync::new(root.path(), "grid_member");
    gm.login(&town, "grid_member");
    // A category the town does not have: the server refuses the report.
    let refused = gm.id(&[
        "report",
        "--category",
        "9999",
        "--note",
        "类别写错的线索",
        "--photo",
        &p(21),
        "--lat",
        &lat,
        "--lon",
        &lon,
    ]);
    let good = gm.id(&[
        "report",
        "--category",
        "0101",
        "--note",
        "村口垃圾堆放未清运",
        "--photo",
        &p(22),
        "--lat",
        &lat,
        "--lon",
        &lon,
    ]);
    let synced = gm.run(&["sync", "--json"]);
    assert_eq!(synced.code, 3, "{}{}", synced.stdout, synced.stderr);
    let out: Value = serde_json::from_str(&synced.stdout).unwrap();
    let report = &out["report"];
    assert_eq!(report["rejected"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(
        report["uploaded"], 1,
        "only the accepted report's photo: {out}"
    );
    let held = report["held"].as_array().unwrap();
    assert_eq!(held.len(), 1, "{out}");
    let held_id = held[0]["attachment_id"].as_str().unwrap().to_owned();
    assert!(town.report(&refused).is_none());
    let accepted = town.report(&good).unwrap();
    let sent = accepted["report"]["attachment_ids"][0].as_str().unwrap();
    assert_ne!(sent, held_id);
    // The server never received the held photo; the phone still has it and says so.
    let (status, _) = town.get_status("admin", &format!("/api/v1/attachments/{held_id}"));
    assert_eq!(status, 404);
    let st = gm.status();
    assert_eq!(st["held_uploads"].as_array().unwrap().len(), 1, "{st}");
    let local = st["held_uploads"][0]["local_path"].as_str().unwrap();
    assert!(gm.dir.join(local).exists(), "kept on the device: {local}");
    assert!(gm.ok(&["status"]).contains("其操作被拒绝"));
    // Later syncs do not upload it either.
    let again = gm.run(&["sync", "--json"]);
    let out: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(out["report"]["uploaded"], 0, "{out}");
    assert_eq!(out["report"]["held"].as_array().unwrap().len(), 1, "{out}");
}
