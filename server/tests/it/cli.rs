//! The `griddispatch` command line against the test database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::TestDb;
use serde_json::Value;

fn run(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_griddispatch"))
        .args(args)
        .env("GRIDDISPATCH_DATABASE_URL", &db.url)
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        // The command may refuse its arguments and exit before reading: a closed pipe is fine.
        let _ = input.write_all(s.as_bytes());
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn list(db: &TestDb) -> Vec<Value> {
    let out = run(db, &["user", "list", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn migrate_then_add_list_and_disable_users() {
    let db = TestDb::new();
    let out = run(&db, &["migrate"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migration(s) applied"));

    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "liu.yang",
            "--name",
            "刘洋",
            "--role",
            "officer",
            "--role",
            "squad_leader",
            "--cert-number",
            "豫济执 0002",
            "--cert-valid-until",
            "2030-12-31",
        ],
        Some("s3cret-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let users = list(&db);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "liu.yang");
    assert_eq!(
        users[0]["roles"],
        serde_json::json!(["squad_leader", "officer"])
    );
    assert_eq!(users[0]["certificate"]["number"], "豫济执 0002");

    let out = run(&db, &["user", "disable", "liu.yang"], None);
    assert!(out.status.success());
    assert_eq!(list(&db)[0]["disabled"], true);
}

#[test]
fn the_password_is_never_taken_from_arguments_and_must_be_on_stdin() {
    let db = TestDb::new();
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "a.b.c",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some(""),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no password on standard input"));
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "a.b.c",
            "--name",
            "A",
            "--role",
            "admin",
            "--password",
            "x",
        ],
        Some("longenough\n"),
    );
    assert!(!out.status.success(), "a --password flag must not exist");
    assert!(list(&db).is_empty());
}

#[test]
fn bad_values_are_refused_with_a_message() {
    let db = TestDb::new();
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "x",
            "--name",
            "A",
            "--role",
            "mayor",
        ],
        Some("longenough\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "ok.user",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    assert!(list(&db).is_empty());
}

#[test]
fn a_refused_postgres_connection_names_the_real_cause() {
    let db = TestDb::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_griddispatch"))
        .args(["migrate"])
        .env(
            "GRIDDISPATCH_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/nothing",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = &db;
    let status = child.wait().unwrap();
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("127.0.0.1") && !err.to_lowercase().contains("sqlite"),
        "{err}"
    );
}
