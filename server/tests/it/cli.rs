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

/// Run the binary with only the given `GRIDDISPATCH_*` settings (no test database).
fn run_with_env(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_griddispatch"))
        .args(args)
        .env_remove("GRIDDISPATCH_DATABASE_URL")
        .env_remove("GRIDDISPATCH_DATA_DIR")
        .envs(env.iter().copied())
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        let _ = input.write_all(s.as_bytes());
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn migrate_and_user_add_create_the_missing_directories_of_the_sqlite_file() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("not/yet/there/griddispatch.db");
    let url = file.to_str().unwrap();
    let out = run_with_env(&["migrate"], &[("GRIDDISPATCH_DATABASE_URL", url)], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(file.is_file());

    let other = root.path().join("second/level/gd.db");
    let out = run_with_env(
        &[
            "user",
            "add",
            "--username",
            "wang.fang",
            "--name",
            "王芳",
            "--role",
            "admin",
        ],
        &[("GRIDDISPATCH_DATABASE_URL", other.to_str().unwrap())],
        Some("s3cret-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(other.is_file());
}

#[test]
fn serve_creates_a_missing_data_directory() {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("srv/data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_griddispatch"))
        .arg("serve")
        .env_remove("GRIDDISPATCH_DATABASE_URL")
        .env("GRIDDISPATCH_DATA_DIR", &data)
        .env("GRIDDISPATCH_BIND", "127.0.0.1:0")
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // The first line is either the listening banner or nothing (the process died).
    let first = stdout.lines().next().map(Result::unwrap);
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        first.as_deref().is_some_and(|l| l.contains("listening on")),
        "serve did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("griddispatch.db").is_file());
}

#[test]
fn a_data_directory_that_cannot_be_created_is_named_with_the_reason() {
    let root = tempfile::tempdir().unwrap();
    // A plain file where a directory should be: nothing can be created below it.
    let blocker = root.path().join("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let file = blocker.join("data/griddispatch.db");
    for args in [&["migrate"][..], &["user", "list"][..]] {
        let out = run_with_env(
            args,
            &[("GRIDDISPATCH_DATABASE_URL", file.to_str().unwrap())],
            None,
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&blocker.join("data").display().to_string()),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("Not a directory") || err.contains("not a directory"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn an_officers_certificate_is_renewed_and_withdrawn_on_the_command_line_and_recorded() {
    let db = TestDb::new();
    let out = run(
        &db,
        &[
            "user",
            "add",
            "--username",
            "zhao.lei",
            "--name",
            "赵雷",
            "--role",
            "officer",
            "--cert-number",
            "豫济执 0003",
            "--cert-valid-until",
            "2024-12-31",
        ],
        Some("s3cret-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(list(&db)[0]["certificate_valid"], false);
    let renew = [
        "user",
        "certificate",
        "zhao.lei",
        "--number",
        "豫济执 0103",
        "--valid-until",
        "2030-12-31",
    ];
    let out = run(&db, &renew, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user = &list(&db)[0];
    assert_eq!(user["certificate"]["number"], "豫济执 0103");
    assert_eq!(user["certificate_valid"], true);
    let out = run(&db, &["user", "certificate", "zhao.lei", "--clear"], None);
    assert!(out.status.success());
    assert!(list(&db)[0]["certificate"].is_null());
    // Neither a number nor --clear: a usage mistake.
    assert!(!run(&db, &["user", "certificate", "zhao.lei"], None)
        .status
        .success());
    // The account's creation and both changes are in the full-process record, and the chain
    // holds.
    let mut conn = db.connect();
    let (n, problems) = griddispatch::store::audit::verify(&mut conn).unwrap();
    assert_eq!(n, 3);
    let first: (String, String) = {
        use diesel::prelude::*;
        use griddispatch::schema::audit_log;
        audit_log::table
            .order(audit_log::seq.asc())
            .select((audit_log::command, audit_log::payload))
            .first(&mut conn)
            .unwrap()
    };
    assert_eq!(first.0, "create_user");
    assert!(
        first.1.contains("zhao.lei") && !first.1.contains("password"),
        "{}",
        first.1
    );
    assert!(problems.is_empty(), "{problems:?}");
    let last = griddispatch::store::audit::last(&mut conn)
        .unwrap()
        .unwrap();
    assert_eq!(last.command, "set_certificate");
    assert_eq!(last.actor_id, "cli");
}

#[test]
fn categories_are_exported_and_imported_as_a_file_and_a_bad_file_stores_nothing() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("categories.json");
    std::fs::write(
        &good,
        r#"[{"code": "0101", "name": "暴露垃圾", "domain": "城市管理", "handling": "1wd",
            "simple_procedure": true, "penalty_possible": true, "legal_basis": "依据", "active": true}]"#,
    )
    .unwrap();
    let out = run(&db, &["categories", "import", good.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 created"));
    // A bad row anywhere: exit non-zero, each problem named, nothing stored.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"code": "0102", "name": "新", "domain": "城市管理", "handling": "1wd",
            "simple_procedure": false, "penalty_possible": false, "legal_basis": "", "active": true},
           {"code": "12", "name": "坏", "domain": "城市管理", "handling": "1wd",
            "simple_procedure": false, "penalty_possible": false, "legal_basis": "", "active": true}]"#,
    )
    .unwrap();
    let out = run(&db, &["categories", "import", bad.to_str().unwrap()], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 2") && err.contains("nothing was imported"),
        "{err}"
    );
    let exported = dir.path().join("out.json");
    let out = run(
        &db,
        &["categories", "export", "--out", exported.to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["code"], "0101");
    let out = run(&db, &["audit", "verify"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
