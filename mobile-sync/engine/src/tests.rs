//! The engine's side of the protocol against a scripted server: each request is answered with
//! the next canned response, and recorded, so that the tests can see exactly what the engine
//! sent (headers, tokens, sequence numbers) in the cases a real server rarely produces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use griddispatch_protocol::command::Command;
use serde_json::{json, Value};

use crate::store::Session;
use crate::{Engine, Error};

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

struct Script {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Serve `answers` (status, JSON body) in order, one per request.
fn script(answers: Vec<(u16, Value)>) -> Script {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
    let s = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { break };
            let (s, answers) = (s.clone(), answers.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut out = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        let h = h.trim_end().to_owned();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        headers.push((k.trim().to_owned(), v.trim().to_owned()));
                    }
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map_or(0, |(_, v)| v.parse().unwrap());
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    s.lock().unwrap().push(Seen {
                        line: line.trim_end().to_owned(),
                        headers,
                        body,
                    });
                    let (status, value) = answers.lock().unwrap().pop_front().unwrap_or((
                        599,
                        json!({"error": {"code": "unscripted", "message": "?"}}),
                    ));
                    let text = value.to_string();
                    let _ = write!(
                        out,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
                        text.len()
                    );
                }
            });
        }
    });
    Script { base, seen }
}

impl Script {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn signed_in(dir: &std::path::Path, base: &str) -> Engine {
    let engine = Engine::open(dir).unwrap();
    engine
        .lock()
        .save_login(&Session {
            server_url: base.into(),
            username: "lead".into(),
            user_id: "u-lead".into(),
            display_name: "中队长".into(),
            roles: vec!["squad_leader".into()],
            access_token: Some("a1".into()),
            access_expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
            refresh_token: Some("r1".into()),
            refresh_expires_at: Some(Utc::now() + chrono::Duration::days(30)),
            signed_out_reason: None,
        })
        .unwrap();
    engine
}

/// An engine signed in (locally) to a server that is not there: everything offline.
pub(crate) fn offline_engine(dir: &std::path::Path) -> Engine {
    let engine = Engine::open(dir).unwrap();
    engine
        .lock()
        .save_login(&Session {
            server_url: "http://127.0.0.1:9".into(),
            username: "gm".into(),
            user_id: "u-gm".into(),
            display_name: "网格员".into(),
            roles: vec!["grid_member".into()],
            access_token: Some("a".into()),
            access_expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
            refresh_token: Some("r".into()),
            refresh_expires_at: Some(Utc::now() + chrono::Duration::days(30)),
            signed_out_reason: None,
        })
        .unwrap();
    engine
}

fn close(task: &str) -> Command {
    Command::CloseTask {
        task_id: task.into(),
    }
}

fn error(code: &str) -> Value {
    json!({"error": {"code": code, "message": format!("{code} (说明)")}})
}

fn tokens(n: u32) -> Value {
    json!({"access_token": format!("a{n}"), "token_type": "Bearer", "expires_in": 900,
           "refresh_token": format!("r{n}"), "refresh_expires_at": "2099-01-01T00:00:00Z"})
}

fn empty_page() -> Value {
    json!({"reset": false, "has_more": false, "server_seq": 1, "cursor": "c1", "changes": []})
}

fn applied(seqs: &[i64], next: i64) -> Value {
    let results: Vec<Value> = seqs
        .iter()
        .map(|s| json!({"device_seq": s, "status": "applied", "command_seq": 100 + s}))
        .collect();
    json!({"results": results, "next_device_seq": next})
}

fn pushed_seqs(s: &Seen) -> Vec<i64> {
    s.json()["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["device_seq"].as_i64().unwrap())
        .collect()
}

#[test]
fn an_expired_token_is_refreshed_and_the_same_push_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = script(vec![
        (401, error("token_expired")),
        (200, tokens(2)),
        (200, applied(&[1], 2)),
        (200, empty_page()),
    ]);
    let engine = signed_in(dir.path(), &server.base);
    engine.enqueue(close("t1"), None).unwrap();
    let report = engine.sync().unwrap();
    assert_eq!(report.applied, 1);
    let seen = server.seen();
    let lines: Vec<&str> = seen.iter().map(|s| s.line.as_str()).collect();
    assert!(lines[0].starts_with("POST /sync/v1/push"), "{lines:?}");
    assert!(lines[1].starts_with("POST /api/v1/auth/refresh"));
    assert!(lines[2].starts_with("POST /sync/v1/push"));
    assert_eq!(seen[0].header("authorization"), Some("Bearer a1"));
    assert_eq!(seen[1].json()["refresh_token"], "r1");
    assert_eq!(seen[2].header("authorization"), Some("Bearer a2"));
    assert_eq!(seen[0].body, seen[2].body, "the same push, unchanged");
    assert_eq!(seen[0].header("gridsync-protocol"), Some("1"));
    assert_eq!(seen[3].header("gridsync-protocol"), Some("1"));
    let device = engine.status().unwrap().device_id;
    assert_eq!(seen[0].json()["device_id"], device.as_str());
    // The rotated refresh token is what the next refresh will present.
    let s = engine.lock().session().unwrap().unwrap();
    assert_eq!(s.refresh_token.as_deref(), Some("r2"));
}

#[test]
fn a_refused_refresh_signs_out_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = script(vec![
        (401, error("session_revoked")),
        (401, error("refresh_token_reused")),
    ]);
    let engine = signed_in(dir.path(), &server.base);
    engine.enqueue(close("t1"), None).unwrap();
    let err = engine.sync().unwrap_err();
    assert!(matches!(err, Error::SignedOut(_)), "{err}");
    assert!(err.to_string().contains("refresh_token_reused"), "{err}");
    let status = engine.status().unwrap();
    let account = status.account.unwrap();
    assert!(!account.signed_in);
    assert_eq!(account.username, "lead");
    assert_eq!(status.queued_commands, 1);
    // Offline work goes on for the same user; nothing more is sent until they sign in.
    engine.enqueue(close("t2"), None).unwrap();
    assert!(matches!(engine.sync(), Err(Error::SignedOut(_))));
    assert_eq!(server.seen().len(), 2);
    assert_eq!(engine.status().unwrap().queued_commands, 2);
}

#[test]
fn an_unsupported_protocol_is_a_clear_error_and_the_queue_stays() {
    let dir = tempfile::tempdir().unwrap();
    let server = script(vec![(426, error("unsupported_protocol"))]);
    let engine = signed_in(dir.path(), &server.base);
    engine.enqueue(close("t1"), None).unwrap();
    let err = engine.sync().unwrap_err();
    assert!(matches!(err, Error::UnsupportedProtocol(_)), "{err}");
    assert!(!err.is_transient());
    assert!(err.to_string().contains("升级"), "{err}");
    let status = engine.status().unwrap();
    assert_eq!(status.queued_commands, 1);
    assert!(status.last_error.unwrap().contains("unsupported protocol"));
}

#[test]
fn deferred_commands_are_sent_again_from_the_servers_next_number() {
    let dir = tempfile::tempdir().unwrap();
    let server = script(vec![
        (200, applied(&[1, 2], 3)),
        (200, empty_page()),
        // The server lost #2 (restored from a backup): it defers #3 and asks for #2 again.
        (
            200,
            json!({"results": [{"device_seq": 3, "status": "deferred"}], "next_device_seq": 2}),
        ),
        (200, applied(&[2, 3], 4)),
        (200, empty_page()),
    ]);
    let engine = signed_in(dir.path(), &server.base);
    for t in ["t1", "t2"] {
        engine.enqueue(close(t), None).unwrap();
    }
    assert_eq!(engine.sync().unwrap().applied, 2);
    engine.enqueue(close("t3"), None).unwrap();
    let report = engine.sync().unwrap();
    assert_eq!(report.applied, 2, "{report:?}");
    let seen = server.seen();
    let pushes: Vec<Vec<i64>> = seen
        .iter()
        .filter(|s| s.line.starts_with("POST /sync/v1/push"))
        .map(pushed_seqs)
        .collect();
    assert_eq!(pushes, [vec![1, 2], vec![3], vec![2, 3]]);
    assert_eq!(engine.status().unwrap().queued_commands, 0);
}

#[test]
fn a_rejected_command_is_acknowledged_and_the_next_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = script(vec![
        (
            200,
            json!({"results": [
                {"device_seq": 1, "status": "rejected", "code": "invalid_state",
                 "message": "状态不允许 (invalid state)",
                 "entities": [{"entity_type": "task", "id": "t1", "data": {"id": "t1", "status": "handled"}}]},
                {"device_seq": 2, "status": "applied", "command_seq": 7}],
              "next_device_seq": 3}),
        ),
        (200, empty_page()),
    ]);
    let engine = signed_in(dir.path(), &server.base);
    engine.enqueue(close("t1"), None).unwrap();
    engine.enqueue(close("t2"), None).unwrap();
    let report = engine.sync().unwrap();
    assert_eq!(report.applied, 1);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].code.as_deref(), Some("invalid_state"));
    let status = engine.status().unwrap();
    assert_eq!(status.queued_commands, 0);
    assert_eq!(status.rejected_commands[0].device_seq, 1);
    // The server's current state of the refused task is shown locally.
    let t = engine.entity("task", "t1").unwrap().unwrap();
    assert_eq!(t.status.as_deref(), Some("handled"));
}
