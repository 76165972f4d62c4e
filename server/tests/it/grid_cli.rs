//! `griddispatch grid …` against the real binary and the test database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestDb;
use serde_json::Value;

fn run(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_griddispatch"))
        .args(args)
        .env("GRIDDISPATCH_DATABASE_URL", &db.url)
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

#[test]
fn generate_validate_import_locate_export_round_trip() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let town = path(dir.path(), "town.geojson");
    let args = [
        "grid",
        "generate",
        "--areas",
        "3",
        "--villages-per-area",
        "4",
        "--seed",
        "7",
    ];
    ok(&run(&db, &[&args[..], &["--out", &town]].concat()));
    let again = path(dir.path(), "again.geojson");
    ok(&run(&db, &[&args[..], &["--out", &again]].concat()));
    assert_eq!(
        std::fs::read(&town).unwrap(),
        std::fs::read(&again).unwrap(),
        "deterministic"
    );

    let out = ok(&run(&db, &["grid", "validate", &town]));
    assert!(out.contains("12 village(s)"), "{out}");

    let out = run(&db, &["grid", "import", &town]);
    let stdout = ok(&out);
    assert!(stdout.contains("version 1"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("写入 writing: 16/16"));
    ok(&run(&db, &["grid", "import", &town]));
    let versions = ok(&run(&db, &["grid", "versions"]));
    assert!(versions.contains("town.geojson"), "{versions}");

    let text = std::fs::read_to_string(&town).unwrap();
    let grid = grid_data::parse_grid(&text, &grid_data::ImportOptions::default()).unwrap();
    let village = grid.level(grid_data::CellLevel::Village).next().unwrap();
    let p = geo::InteriorPoint::interior_point(&village.geometry).unwrap();
    let out = ok(&run(
        &db,
        &[
            "grid",
            "locate",
            "--lat",
            &p.y().to_string(),
            "--lon",
            &p.x().to_string(),
        ],
    ));
    let view: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["status"], "located");
    assert_eq!(view["version"], 2);
    assert_eq!(view["village"]["code"], village.code.as_str());
    let out = ok(&run(
        &db,
        &["grid", "locate", "--lat", "-10", "--lon", "100"],
    ));
    assert!(out.contains("outside_grid"), "{out}");

    let exported = path(dir.path(), "export.geojson");
    ok(&run(&db, &["grid", "export", "--out", &exported]));
    let back = grid_data::parse_grid(
        &std::fs::read_to_string(&exported).unwrap(),
        &grid_data::ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(
        back.cells(),
        grid.cells(),
        "export re-imports to the same grid"
    );
}

#[test]
fn validate_prints_every_problem_and_fails() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let town = path(dir.path(), "town.geojson");
    ok(&run(&db, &["grid", "generate", "--out", &town]));
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&town).unwrap()).unwrap();
    let features = value["features"].as_array_mut().unwrap();
    features[3]["geometry"]["coordinates"][0]
        .as_array_mut()
        .unwrap()
        .pop();
    features[4]["properties"]["parent"] = Value::String("419001199A88".into());
    let broken = path(dir.path(), "broken.geojson");
    std::fs::write(&broken, value.to_string()).unwrap();

    let out = run(&db, &["grid", "validate", &broken]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[unclosed_ring]"), "{stdout}");
    assert!(stdout.contains("[unknown_parent]"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid grid"));

    // Import refuses the same file and writes nothing.
    assert!(!run(&db, &["grid", "import", &broken]).status.success());
    let out = run(&db, &["grid", "locate", "--lat", "35", "--lon", "112.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no grid"));
}

#[test]
fn members_are_added_and_removed_from_the_command_line() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let town = path(dir.path(), "town.geojson");
    ok(&run(&db, &["grid", "generate", "--out", &town]));
    ok(&run(&db, &["grid", "import", &town]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_griddispatch"))
        .args([
            "user",
            "add",
            "--username",
            "zhang",
            "--name",
            "张明",
            "--role",
            "grid_member",
        ])
        .env("GRIDDISPATCH_DATABASE_URL", &db.url)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"long-enough-password\n").unwrap();
    assert!(child.wait().unwrap().success());

    let cell = "419001199200";
    let out = run(
        &db,
        &[
            "grid",
            "member",
            "add",
            cell,
            "zhang",
            "--role",
            "grid_leader",
        ],
    );
    assert!(!out.status.success(), "zhang is no grid leader");
    ok(&run(
        &db,
        &[
            "grid",
            "member",
            "add",
            cell,
            "zhang",
            "--role",
            "grid_member",
        ],
    ));
    ok(&run(&db, &["grid", "member", "remove", cell, "zhang"]));
    assert!(!run(&db, &["grid", "member", "remove", cell, "zhang"])
        .status
        .success());
}
