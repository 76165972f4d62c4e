//! The phone engine (`griddispatch-sync`) against the real binary: offline work that reaches
//! the server once, cut connections, lost answers, restarts, rejections and expired tokens.
//! Every check looks at what a user would notice: the server's state over REST and the
//! phone's own status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use griddispatch_e2e::faults::Fault;
use griddispatch_e2e::media::sha256_hex;
use griddispatch_e2e::town::{photo, Town, PASSWORD};
use griddispatch_protocol::command::{Command, Outcome, Position, ReportSource};
use griddispatch_sync::{Engine, EngineConfig, Error};
use serde_json::{json, Value};

fn phone(dir: &Path, town: &Town, user: &str) -> Engine {
    phone_with(dir, town, user, EngineConfig::default())
}

fn phone_with(dir: &Path, town: &Town, user: &str, config: EngineConfig) -> Engine {
    let engine = Engine::open_with(dir, config).unwrap();
    engine.login(&town.phone_url(), user, PASSWORD).unwrap();
    engine
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn patrol_report(id: &str, here: &Position, photos: Vec<String>, text: &str) -> Command {
    Command::CreateReport {
        report_id: id.into(),
        source: ReportSource::GridPatrol,
        category_code: "0101".into(),
        description: text.into(),
        position: Some(here.clone()),
        attachment_ids: photos,
        contact: None,
        occurred_at: Some(chrono::Utc::now()),
        address: None,
    }
}

/// Evidence ids the server holds for a report (arrived uploads).
fn arrived(report: &Value) -> Vec<String> {
    report["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// How many audit records of `command` a report's history holds.
fn history_count(report: &Value, command: &str) -> usize {
    report["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h.to_string().contains(command))
        .count()
}

#[test]
fn grid_member_reports_with_photos_offline_then_syncs() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let gm = phone(&dir.path().join("phone"), &town, "grid_member");
    gm.sync().unwrap();

    // No signal in the village: two reports with photos are made and kept on the phone.
    town.proxy.set_offline(true);
    let mut reports = Vec::new();
    for (n, text) in [(1, "村口垃圾堆放未清运"), (2, "河道漂浮垃圾")] {
        let p = photo(dir.path(), n);
        let sha = sha256_hex(&std::fs::read(&p).unwrap());
        let attachment = gm.capture(&p, None, Some(here.clone())).unwrap();
        let id = new_id();
        gm.enqueue(
            patrol_report(&id, &here, vec![attachment.clone()], text),
            Some(here.clone()),
        )
        .unwrap();
        reports.push((id, attachment, sha));
    }
    let err = gm.sync().unwrap_err();
    assert!(err.is_transient(), "offline sync: {err}");
    let status = gm.status().unwrap();
    assert_eq!((status.queued_commands, status.pending_uploads), (2, 2));
    assert!(
        town.report(&reports[0].0).is_none(),
        "nothing reached the server"
    );

    // Back in coverage.
    town.proxy.set_offline(false);
    let done = gm.sync().unwrap();
    assert_eq!((done.applied, done.uploaded), (2, 2), "{done:?}");
    assert!(done.rejected.is_empty());
    for (id, attachment, sha) in &reports {
        let r = town.report(id).expect("report on the server");
        assert_eq!(r["report"]["status"], "reported");
        assert_eq!(arrived(&r), vec![attachment.clone()]);
        assert_eq!(r["attachments"][0]["sha256"], sha.as_str());
        assert_eq!(r["pending_attachment_ids"], json!([]));
        let original = town.get_bytes(
            "dispatcher",
            &format!("/api/v1/attachments/{attachment}/content?variant=original"),
        );
        assert_eq!(sha256_hex(&original), *sha);
        // The phone sees its own report as the server holds it.
        let local = gm.entity("report", id).unwrap().expect("pulled back");
        assert_eq!(local.status.as_deref(), Some("reported"));
    }
    let status = gm.status().unwrap();
    assert_eq!((status.queued_commands, status.pending_uploads), (0, 0));
    assert!(status.last_sync_at.is_some());
    assert!(status.last_error.is_none());
}

#[test]
fn squad_handles_a_dispatched_task_offline_then_syncs() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    // A report dispatched to squad 1 by the command center.
    let gm = phone(&dir.path().join("gm"), &town, "grid_member");
    let att = gm
        .capture(photo(dir.path(), 10), None, Some(here.clone()))
        .unwrap();
    let report_id = new_id();
    gm.enqueue(
        patrol_report(&report_id, &here, vec![att], "占道经营"),
        None,
    )
    .unwrap();
    gm.sync().unwrap();
    let task_id = new_id();
    town.command(
        "dispatcher",
        json!({"type": "dispatch_report", "report_id": report_id, "task_id": task_id,
               "squad_id": town.squad_id("squad1")}),
    );

    // The squad leader's phone learns of it, then goes out of coverage.
    let lead = phone(&dir.path().join("lead"), &town, "squad_leader");
    lead.sync().unwrap();
    let local = lead.entity("task", &task_id).unwrap().expect("task pulled");
    assert_eq!(local.status.as_deref(), Some("dispatched"));
    town.proxy.set_offline(true);
    let me = lead.account().unwrap().unwrap().user_id;
    let officer = town.user_id("officer");
    lead.enqueue(
        Command::AcceptTask {
            task_id: task_id.clone(),
            officer_ids: vec![me, officer],
        },
        None,
    )
    .unwrap();
    lead.enqueue(
        Command::ArriveOnSite {
            task_id: task_id.clone(),
            position: here.clone(),
        },
        Some(here.clone()),
    )
    .unwrap();
    let before = lead
        .capture(photo(dir.path(), 11), None, Some(here.clone()))
        .unwrap();
    let after = lead
        .capture(photo(dir.path(), 12), None, Some(here.clone()))
        .unwrap();
    lead.enqueue(
        Command::HandleTask {
            task_id: task_id.clone(),
            outcome: Outcome::Rectified {
                note: "已责令当场清理".into(),
            },
            attachment_ids: vec![before.clone(), after.clone()],
            case_id: None,
        },
        Some(here.clone()),
    )
    .unwrap();
    lead.enqueue(
        Command::CloseTask {
            task_id: task_id.clone(),
        },
        None,
    )
    .unwrap();
    assert!(lead.sync().is_err());
    assert_eq!(town.task(&task_id)["status"], "dispatched");

    town.proxy.set_offline(false);
    let done = lead.sync().unwrap();
    assert_eq!((done.applied, done.uploaded), (4, 2), "{done:?}");
    let task = town.task(&task_id);
    assert_eq!(task["status"], "closed");
    assert_eq!(task["outcome"]["outcome"], "rectified");
    assert_eq!(task["outcome_attachment_ids"], json!([before, after]));
    let report = town.report(&report_id).unwrap();
    let mut have = arrived(&report);
    have.sort();
    let mut want = vec![before, after];
    want.extend(
        report["report"]["attachment_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned()),
    );
    want.sort();
    want.dedup();
    assert_eq!(have, want, "every photo arrived");
    assert_eq!(
        lead.entity("task", &task_id)
            .unwrap()
            .unwrap()
            .status
            .as_deref(),
        Some("closed")
    );
}

#[test]
fn a_push_whose_answer_is_lost_is_answered_duplicate_and_applied_once() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let gm = phone(&dir.path().join("phone"), &town, "grid_member");
    let att = gm
        .capture(photo(dir.path(), 20), None, Some(here.clone()))
        .unwrap();
    let id = new_id();
    gm.enqueue(patrol_report(&id, &here, vec![att], "违规张贴"), None)
        .unwrap();

    town.proxy
        .fail("POST", "/sync/v1/push", 0, Fault::DropResponse);
    let err = gm.sync().unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(town.proxy.fired(), ["POST /sync/v1/push"]);
    // The server committed; the phone does not know and keeps the command.
    assert!(
        town.report(&id).is_some(),
        "applied before the answer was lost"
    );
    assert_eq!(gm.status().unwrap().queued_commands, 1);

    let again = gm.sync().unwrap();
    assert_eq!((again.applied, again.duplicates), (0, 1), "{again:?}");
    let r = town.report(&id).unwrap();
    assert_eq!(
        history_count(&r, "create_report"),
        1,
        "applied once: {}",
        r["history"]
    );
    assert_eq!(gm.status().unwrap().queued_commands, 0);
    assert_eq!(
        gm.entity("report", &id).unwrap().unwrap().status.as_deref(),
        Some("reported")
    );
}

#[test]
fn a_connection_cut_mid_push_is_sent_again_and_applied_once() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let gm = phone(&dir.path().join("phone"), &town, "grid_member");
    let mut ids = Vec::new();
    for n in 0..3 {
        let att = gm
            .capture(photo(dir.path(), 30 + n), None, Some(here.clone()))
            .unwrap();
        let id = new_id();
        gm.enqueue(patrol_report(&id, &here, vec![att], "占道"), None)
            .unwrap();
        ids.push(id);
    }
    town.proxy
        .fail("POST", "/sync/v1/push", 0, Fault::CutRequest(120));
    assert!(gm.sync().unwrap_err().is_transient());
    assert!(
        ids.iter().all(|id| town.report(id).is_none()),
        "half a body applies nothing"
    );
    let done = gm.sync().unwrap();
    assert_eq!(done.applied, 3, "{done:?}");
    for id in &ids {
        assert_eq!(history_count(&town.report(id).unwrap(), "create_report"), 1);
    }
}

#[test]
fn an_upload_cut_mid_file_resumes_after_a_restart_of_the_app() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("phone");
    let small_chunks = EngineConfig {
        chunk_size: 64 * 1024,
        ..EngineConfig::default()
    };
    let gm = phone_with(&data, &town, "grid_member", small_chunks.clone());
    let big = dir.path().join("big.jpg");
    let bytes = griddispatch_e2e::media::jpeg(800, 600, 40, 40);
    assert!(
        bytes.len() > 4 * 64 * 1024,
        "several chunks: {}",
        bytes.len()
    );
    std::fs::write(&big, &bytes).unwrap();
    let att = gm.capture(&big, None, Some(here.clone())).unwrap();
    let id = new_id();
    gm.enqueue(patrol_report(&id, &here, vec![att.clone()], "违建"), None)
        .unwrap();

    // The third PATCH dies after 10 000 bytes.
    town.proxy
        .fail("PATCH", "/files/", 2, Fault::CutRequest(10_000));
    let cut = gm.sync().unwrap();
    assert!(!cut.complete(), "{cut:?}");
    assert_eq!(cut.applied, 1, "the command does not wait for its photo");
    assert_eq!(town.proxy.fired().len(), 1);
    let r = town.report(&id).unwrap();
    assert_eq!(r["pending_attachment_ids"], json!([att.clone()]));
    assert_eq!(gm.status().unwrap().pending_uploads, 1);

    // The app is killed and started again.
    drop(gm);
    let seen_before = town.proxy.seen().len();
    let gm = Engine::open_with(&data, small_chunks).unwrap();
    let done = gm.sync().unwrap();
    assert_eq!(done.uploaded, 1, "{done:?}");
    let after: Vec<String> = town.proxy.seen()[seen_before..].to_vec();
    assert!(
        after.iter().any(|r| r.starts_with("HEAD /files/")),
        "{after:?}"
    );
    assert!(
        !after.iter().any(|r| r == "POST /files/"),
        "resumed, not created again: {after:?}"
    );
    let patches = after.iter().filter(|r| r.starts_with("PATCH")).count();
    assert!(
        patches < bytes.len().div_ceil(64 * 1024),
        "resumed mid-file: {after:?}"
    );
    let r = town.report(&id).unwrap();
    assert_eq!(r["pending_attachment_ids"], json!([]));
    assert_eq!(r["attachments"][0]["sha256"], sha256_hex(&bytes));
    let original = town.get_bytes(
        "dispatcher",
        &format!("/api/v1/attachments/{att}/content?variant=original"),
    );
    assert_eq!(original, bytes);
}

#[test]
fn an_upload_deleted_on_the_server_is_started_afresh_not_given_up() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        chunk_size: 64 * 1024,
        ..EngineConfig::default()
    };
    let gm = phone_with(&dir.path().join("phone"), &town, "grid_member", config);
    let big = dir.path().join("big.jpg");
    let bytes = griddispatch_e2e::media::jpeg(800, 600, 42, 40);
    std::fs::write(&big, &bytes).unwrap();
    let att = gm.capture(&big, None, Some(here.clone())).unwrap();
    let id = new_id();
    gm.enqueue(patrol_report(&id, &here, vec![att.clone()], "乱堆"), None)
        .unwrap();
    town.proxy
        .fail("PATCH", "/files/", 1, Fault::CutRequest(10_000));
    assert!(!gm.sync().unwrap().complete());
    // While the phone is away the half-done upload ends on the server (deleted here; an
    // expired one behaves the same).
    let url = gm.uploads().unwrap()[0].upload_url.clone().unwrap();
    let url = if url.starts_with("http") {
        url
    } else {
        format!("{}{url}", town.base())
    };
    let del = reqwest::blocking::Client::new()
        .delete(&url)
        .bearer_auth(town.token("grid_member"))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .unwrap();
    assert_eq!(del.status(), 204);

    let seen_before = town.proxy.seen().len();
    let done = gm.sync().unwrap();
    assert_eq!(done.uploaded, 1, "{done:?}");
    assert!(done.upload_failed.is_empty(), "{done:?}");
    let after: Vec<String> = town.proxy.seen()[seen_before..].to_vec();
    assert!(
        after.iter().any(|r| r == "POST /files/"),
        "created again: {after:?}"
    );
    let r = town.report(&id).unwrap();
    assert_eq!(r["pending_attachment_ids"], json!([]));
    assert_eq!(r["attachments"][0]["sha256"], sha256_hex(&bytes));
}

#[test]
fn server_restart_between_syncs_loses_nothing() {
    let mut town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("phone");
    let gm = phone(&data, &town, "grid_member");
    let first = new_id();
    let att = gm
        .capture(photo(dir.path(), 40), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&first, &here, vec![att], "一"), None)
        .unwrap();
    gm.sync().unwrap();
    let reports_before = gm.reports().unwrap().len();

    town.stop();
    let second = new_id();
    let att = gm
        .capture(photo(dir.path(), 41), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&second, &here, vec![att], "二"), None)
        .unwrap();
    assert!(gm.sync().unwrap_err().is_transient());
    drop(gm);

    town.restart();
    let gm = Engine::open(&data).unwrap();
    let done = gm.sync().unwrap();
    assert_eq!(
        (done.applied, done.uploaded, done.reset),
        (1, 1, false),
        "{done:?}"
    );
    assert!(town.report(&first).is_some());
    assert_eq!(
        history_count(&town.report(&second).unwrap(), "create_report"),
        1
    );
    assert_eq!(gm.reports().unwrap().len(), reports_before + 1);
    let status = gm.status().unwrap();
    assert_eq!((status.queued_commands, status.pending_uploads), (0, 0));
}

#[test]
fn a_rejected_command_does_not_block_the_ones_behind_it() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let gm = phone(&dir.path().join("phone"), &town, "grid_member");
    let a = new_id();
    let b = new_id();
    let att = gm
        .capture(photo(dir.path(), 50), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&a, &here, vec![att], "甲"), None)
        .unwrap();
    // A grid member may not close tasks.
    let refused = gm
        .enqueue(Command::CloseTask { task_id: new_id() }, None)
        .unwrap();
    // No photo: a patrol report needs one.
    let no_photo = gm
        .enqueue(patrol_report(&new_id(), &here, vec![], "无照片"), None)
        .unwrap();
    let att = gm
        .capture(photo(dir.path(), 51), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&b, &here, vec![att], "乙"), None)
        .unwrap();

    let done = gm.sync().unwrap();
    assert_eq!(done.applied, 2, "{done:?}");
    let rejected: Vec<i64> = done.rejected.iter().map(|r| r.device_seq).collect();
    assert_eq!(rejected, [refused, no_photo]);
    assert!(town.report(&a).is_some() && town.report(&b).is_some());
    let status = gm.status().unwrap();
    assert_eq!(status.queued_commands, 0);
    let by_seq = |seq: i64| {
        status
            .rejected_commands
            .iter()
            .find(|c| c.device_seq == seq)
            .cloned()
            .unwrap_or_else(|| panic!("#{seq} not listed as rejected: {status:?}"))
    };
    assert_eq!(
        by_seq(no_photo).code.as_deref(),
        Some("attachments_required")
    );
    let closing = by_seq(refused);
    assert!(
        ["forbidden", "not_found", "out_of_scope"].contains(&closing.code.as_deref().unwrap_or("")),
        "{closing:?}"
    );
    for c in &status.rejected_commands {
        assert!(c.message.as_deref().is_some_and(|m| !m.is_empty()), "{c:?}");
    }
}

#[test]
fn an_expired_token_is_refreshed_during_sync_and_a_revoked_device_keeps_its_queue() {
    let town = Town::start_with(&[("GRIDDISPATCH_ACCESS_TOKEN_TTL_SECS", "30")]);
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("phone");
    let gm = phone(&data, &town, "grid_member");
    let first = new_id();
    let att = gm
        .capture(photo(dir.path(), 60), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&first, &here, vec![att], "一"), None)
        .unwrap();

    // The stored access token is refused (as an expired one is): refresh, retry, go on.
    {
        let store = griddispatch_sync::store::Store::open(&data).unwrap();
        let s = store.session().unwrap().unwrap();
        let refresh = s.refresh_token.unwrap();
        let far = chrono::Utc::now() + chrono::Duration::hours(1);
        assert!(store
            .save_tokens(&refresh, "expired.token.value", far, &refresh, far)
            .unwrap());
    }
    let done = gm.sync().unwrap();
    assert_eq!(done.applied, 1, "{done:?}");
    assert!(town.report(&first).is_some());
    assert!(
        town.proxy
            .seen()
            .iter()
            .any(|r| r == "POST /api/v1/auth/refresh"),
        "{:?}",
        town.proxy.seen()
    );

    // The real lifetime (30 s) runs out while the phone is idle; the next sync refreshes.
    std::thread::sleep(std::time::Duration::from_secs(31));
    let second = new_id();
    let att = gm
        .capture(photo(dir.path(), 61), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&second, &here, vec![att], "二"), None)
        .unwrap();
    assert_eq!(gm.sync().unwrap().applied, 1);

    // The phone is reported lost and signed out by the user from another device.
    let device = gm.status().unwrap().device_id;
    let (status, body) = town.post(
        "grid_member",
        &format!("/api/v1/me/devices/{device}/revoke"),
        &json!({}),
    );
    assert!(status < 300, "revoke: {status} {body}");
    let third = new_id();
    let att = gm
        .capture(photo(dir.path(), 62), None, Some(here.clone()))
        .unwrap();
    gm.enqueue(patrol_report(&third, &here, vec![att], "三"), None)
        .unwrap();
    let err = gm.sync().unwrap_err();
    assert!(matches!(err, Error::SignedOut(_)), "{err}");
    let status = gm.status().unwrap();
    assert!(!status.account.as_ref().unwrap().signed_in);
    assert_eq!((status.queued_commands, status.pending_uploads), (1, 1));
    assert!(town.report(&third).is_none());

    // The same user signs in again: the queue goes out.
    gm.login(&town.phone_url(), "grid_member", PASSWORD)
        .unwrap();
    let done = gm.sync().unwrap();
    assert_eq!((done.applied, done.uploaded), (1, 1), "{done:?}");
    assert!(town.report(&third).is_some());
}

#[test]
fn a_file_changed_mid_upload_is_refused_once_and_never_retried() {
    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("phone");
    let config = EngineConfig {
        chunk_size: 64 * 1024,
        ..EngineConfig::default()
    };
    let gm = phone_with(&data, &town, "grid_member", config);
    let big = dir.path().join("big.jpg");
    std::fs::write(&big, griddispatch_e2e::media::jpeg(800, 600, 41, 40)).unwrap();
    let att = gm.capture(&big, None, Some(here.clone())).unwrap();
    let id = new_id();
    gm.enqueue(patrol_report(&id, &here, vec![att.clone()], "证据"), None)
        .unwrap();
    town.proxy
        .fail("PATCH", "/files/", 1, Fault::CutRequest(10));
    assert!(!gm.sync().unwrap().complete());

    // Something rewrites the stored copy before the rest is sent.
    let copy = data.join(&gm.uploads().unwrap()[0].local_path);
    let mut bytes = std::fs::read(&copy).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0xff;
    std::fs::write(&copy, &bytes).unwrap();

    let done = gm.sync().unwrap();
    assert!(done.complete(), "a refusal is final, not a retry: {done:?}");
    assert_eq!(done.upload_failed.len(), 1);
    assert_eq!(done.upload_failed[0].code.as_deref(), Some("hash_mismatch"));
    let status = gm.status().unwrap();
    assert_eq!(status.pending_uploads, 0);
    assert_eq!(status.failed_uploads[0].attachment_id, att);
    let r = town.report(&id).unwrap();
    assert_eq!(
        r["pending_attachment_ids"],
        json!([att]),
        "the server kept nothing"
    );

    let before = town.proxy.seen().len();
    gm.sync().unwrap();
    let after = town.proxy.seen()[before..].to_vec();
    assert!(
        !after.iter().any(|r| r.contains("/files/")),
        "not tried again: {after:?}"
    );
}

/// What the loop reported, reduced to what the test waits for.
#[derive(Debug)]
enum Tick {
    Synced { pulled: usize },
    Offline,
    Other(String),
}

#[test]
fn the_sync_loop_wakes_on_changes_and_backs_off_while_offline() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    let town = Town::start();
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        wait_timeout: Duration::from_secs(2),
        ..EngineConfig::default()
    };
    let lead = Arc::new(phone_with(
        &dir.path().join("lead"),
        &town,
        "squad_leader",
        config,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let worker = {
        let (lead, stop) = (lead.clone(), stop.clone());
        std::thread::spawn(move || {
            lead.run(&|| stop.load(Ordering::SeqCst), &mut |r| {
                let tick = match r {
                    Ok(rep) => Tick::Synced { pulled: rep.pulled },
                    Err(e) if e.is_transient() => Tick::Offline,
                    Err(e) => Tick::Other(e.to_string()),
                };
                let _ = tx.send(tick);
            })
        })
    };
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the loop keeps going")
    };
    assert!(matches!(next(), Tick::Synced { .. }));

    // The command center dispatches a new report to squad 1: the waiting loop pulls it.
    let report_id = new_id();
    town.command(
        "grid_member",
        json!({"type": "create_report", "report_id": report_id, "source": "grid_patrol",
               "category_code": "0101", "description": "新线索",
               "position": {"lat": here.lat, "lon": here.lon}, "attachment_ids": [new_id()]}),
    );
    let task_id = new_id();
    town.command(
        "dispatcher",
        json!({"type": "dispatch_report", "report_id": report_id, "task_id": task_id,
               "squad_id": town.squad_id("squad1")}),
    );
    loop {
        match next() {
            Tick::Synced { pulled }
                if pulled > 0 && lead.entity("task", &task_id).unwrap().is_some() =>
            {
                break
            }
            Tick::Other(e) => panic!("{e}"),
            _ => {}
        }
    }

    // No network: the loop fails, backs off (1 s, then 2 s, each ±20 %), and recovers by
    // itself. Only lower bounds are checked: a slow machine may wait longer, never less.
    town.proxy.set_offline(true);
    let mut failed_at = Vec::new();
    while failed_at.len() < 3 {
        match next() {
            Tick::Offline => failed_at.push(std::time::Instant::now()),
            Tick::Other(e) => panic!("{e}"),
            Tick::Synced { .. } => {}
        }
    }
    let (first, second) = (failed_at[1] - failed_at[0], failed_at[2] - failed_at[1]);
    assert!(
        first >= Duration::from_millis(800),
        "retried after {first:?}"
    );
    assert!(
        second >= Duration::from_millis(1600),
        "retried after {second:?}"
    );
    town.proxy.set_offline(false);
    lead.enqueue(
        Command::AcceptTask {
            task_id: task_id.clone(),
            officer_ids: vec![town.user_id("officer"), town.user_id("officer2")],
        },
        None,
    )
    .unwrap();
    // A sync already under way may have missed it; the one after must not.
    while !(matches!(next(), Tick::Synced { .. }) && lead.status().unwrap().queued_commands == 0) {}
    stop.store(true, Ordering::SeqCst);
    worker.join().unwrap().unwrap();
    assert_eq!(town.task(&task_id)["status"], "accepted");
    assert!(lead.status().unwrap().last_error.is_none());
}
