//! The `gridsync` binary on its own (no server): exit codes, a fresh store, refusing work
//! before sign-in. The full day against a real server is in `tests/tests/gridsync_cli.rs`;
//! this test also makes `cargo test --workspace` build the binary those tests spawn.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn gridsync(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridsync"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_fresh_store_reports_an_empty_queue_and_keeps_its_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let out = gridsync(dir.path(), &["status", "--json"], "");
    assert_eq!(out.status.code(), Some(0));
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["queued_commands"], 0);
    assert_eq!(a["pending_uploads"], 0);
    assert!(a["account"].is_null());
    let b: serde_json::Value =
        serde_json::from_slice(&gridsync(dir.path(), &["status", "--json"], "").stdout).unwrap();
    assert_eq!(a["device_id"], b["device_id"], "one device id per store");
    assert!(!a["device_id"].as_str().unwrap().is_empty());
}

#[test]
fn work_before_sign_in_is_refused_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = gridsync(
        dir.path(),
        &["report", "--category", "0401", "--note", "占道经营"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("login"));
    let out = gridsync(dir.path(), &["no-such-command"], "");
    assert_eq!(out.status.code(), Some(2));
    // A server that is not there: sign-in fails, nothing is stored.
    let out = gridsync(
        dir.path(),
        &[
            "login",
            "--server",
            "http://127.0.0.1:9",
            "--username",
            "grid_member",
        ],
        "griddemo2026\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let s: serde_json::Value =
        serde_json::from_slice(&gridsync(dir.path(), &["status", "--json"], "").stdout).unwrap();
    assert!(s["account"].is_null());
    assert_eq!(s["queued_commands"], 0);
}

#[test]
fn a_misspelt_coordinate_system_or_an_impossible_position_is_refused_before_it_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [("--crs", "gcj-02"), ("--crs", "foo"), ("--lat", "1000")] {
        let mut args = vec![
            "report",
            "--category",
            "0401",
            "--note",
            "占道经营",
            "--lat",
            "35.05",
            "--lon",
            "112.49",
        ];
        if flag == "--lat" {
            args[6] = value;
        } else {
            args.extend([flag, value]);
        }
        let out = gridsync(dir.path(), &args, "");
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(value), "{err}");
    }
    let s: serde_json::Value =
        serde_json::from_slice(&gridsync(dir.path(), &["status", "--json"], "").stdout).unwrap();
    assert_eq!(s["queued_commands"], 0);
}
