//! The real binary: the README's demo command, and `serve` on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use griddispatch_e2e::Server;
use griddispatch_protocol::auth::TokenResponse;
use serde_json::{json, Value};

fn login(base: &str, username: &str, password: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password, "device_id": "e2e"}))
        .send()
        .unwrap()
}

/// How many reports the dispatcher sees.
fn demo_reports(base: &str) -> u64 {
    let tokens: TokenResponse = login(base, "dispatcher", "griddemo2026").json().unwrap();
    let page: Value = reqwest::blocking::Client::new()
        .get(format!("{base}/api/v1/reports"))
        .bearer_auth(&tokens.access_token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let statuses: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report"]["status"].as_str().unwrap())
        .collect();
    for s in ["reported", "accepted", "closed", "rejected"] {
        assert!(statuses.contains(&s), "{statuses:?}");
    }
    page["total"].as_u64().unwrap()
}

#[test]
fn demo_serves_on_sqlite_and_every_demo_account_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(
        &[
            "demo",
            "--data-dir",
            data.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert!(server.banner.contains("griddemo2026"), "{}", server.banner);
    let ready: Value = reqwest::blocking::get(format!("{}/readyz", server.base))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ready["database"], "sqlite");
    assert!(data.join("griddispatch.db").exists());
    for role in [
        "admin",
        "grid_member",
        "grid_leader",
        "dispatcher",
        "duty_chief",
        "squad_leader",
        "officer",
        "legal_reviewer",
        "approver",
        "department_liaison",
    ] {
        let resp = login(&server.base, role, "griddemo2026");
        assert_eq!(resp.status(), 200, "demo login {role}");
        let tokens: TokenResponse = resp.json().unwrap();
        let me: Value = reqwest::blocking::Client::new()
            .get(format!("{}/api/v1/me", server.base))
            .bearer_auth(&tokens.access_token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(
            me["roles"].as_array().unwrap().iter().any(|r| r == role),
            "{me}"
        );
    }
    assert_eq!(
        demo_reports(&server.base),
        6,
        "demo reports in different states"
    );
    assert_eq!(demo_departments(&server.base, "admin").len(), 4);
    let own = demo_departments(&server.base, "department_liaison");
    assert_eq!(own.len(), 1, "a liaison sees its own department: {own:?}");
    assert_eq!(own[0]["name"], "县市场监督管理局");
    drop(server);

    // Restarting on the same data directory keeps the data and adds no duplicates.
    let again = Server::start(
        &[
            "demo",
            "--data-dir",
            data.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert_eq!(demo_reports(&again.base), 6, "restarting adds no reports");
    assert_eq!(
        demo_departments(&again.base, "admin").len(),
        4,
        "restarting adds no departments"
    );
    assert_eq!(login(&again.base, "admin", "griddemo2026").status(), 200);
}

#[test]
fn serve_uses_postgres_when_given_a_postgres_url() {
    let Ok(base) = std::env::var("GRIDDISPATCH_TEST_PG") else {
        eprintln!(
            "GRIDDISPATCH_TEST_PG not set: PostgreSQL serve test runs in CI's PostgreSQL pass"
        );
        return;
    };
    let name = format!("gd_e2e_{}", uuid::Uuid::new_v4().simple());
    let admin = base.clone();
    let psql = |sql: &str| {
        let status = std::process::Command::new("psql")
            .args([admin.as_str(), "-qc", sql])
            .status()
            .expect("psql");
        assert!(status.success());
    };
    psql(&format!("CREATE DATABASE {name}"));
    let url = match base.rsplit_once('/') {
        Some((head, _)) if head.contains("://") && head.len() > head.find("://").unwrap() + 3 => {
            format!("{head}/{name}")
        }
        _ => format!("{base}/{name}"),
    };
    let dir = tempfile::tempdir().unwrap();
    {
        let server = Server::start(
            &["serve"],
            &[
                ("GRIDDISPATCH_DATABASE_URL", &url),
                ("GRIDDISPATCH_BIND", "127.0.0.1:0"),
                ("GRIDDISPATCH_DATA_DIR", dir.path().to_str().unwrap()),
                ("GRIDDISPATCH_LOG_FORMAT", "json"),
            ],
        );
        let ready: Value = reqwest::blocking::get(format!("{}/readyz", server.base))
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(ready["database"], "postgres");
        // No accounts yet on a fresh database: sign-in fails cleanly.
        assert_eq!(login(&server.base, "admin", "whatever1").status(), 401);
    }
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

/// The departments the demo account `username` sees.
fn demo_departments(base: &str, username: &str) -> Vec<Value> {
    let tokens: TokenResponse = login(base, username, "griddemo2026").json().unwrap();
    reqwest::blocking::Client::new()
        .get(format!("{base}/api/v1/departments"))
        .bearer_auth(&tokens.access_token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}
