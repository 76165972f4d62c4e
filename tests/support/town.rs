//! The demo town behind a [`FaultProxy`] for the phone-sync tests: phones (engines, `gridsync`)
//! talk through the proxy, the test checks the server directly over REST.

use std::path::{Path, PathBuf};

use griddispatch_protocol::command::Position;
use serde_json::{json, Value};

use crate::faults::FaultProxy;
use crate::Server;

/// Password of every demo account.
pub const PASSWORD: &str = "griddemo2026";

/// A running demo town.
pub struct Town {
    server: Option<Server>,
    /// Between phones and the server.
    pub proxy: FaultProxy,
    data: tempfile::TempDir,
    env: Vec<(String, String)>,
    http: reqwest::blocking::Client,
    /// The test's own PostgreSQL database, held for its `Drop` (dropped with the town).
    _pg: Option<PgDatabase>,
    here: Option<Position>,
}

/// A database created for one test on the server in `GRIDDISPATCH_TEST_PG`.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> PgDatabase {
        let name = format!("gd_e2e_sync_{}", uuid::Uuid::new_v4().simple());
        psql(admin_url, &format!("CREATE DATABASE {name}"));
        let url = match admin_url.rsplit_once('/') {
            Some((head, _)) if head.len() > head.find("://").map_or(0, |i| i + 3) => {
                format!("{head}/{name}")
            }
            _ => format!("{admin_url}/{name}"),
        };
        PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .args([url, "-qc", sql])
        .status()
        .expect("psql");
    assert!(status.success(), "psql {sql}");
}

impl Town {
    /// The demo town: `griddispatch demo` on SQLite, or — when `GRIDDISPATCH_TEST_PG` is set —
    /// `griddispatch serve` on a fresh PostgreSQL database seeded with the same town.
    pub fn start() -> Town {
        Self::start_with(&[])
    }

    /// With extra `GRIDDISPATCH_*` settings.
    pub fn start_with(env: &[(&str, &str)]) -> Town {
        let data = tempfile::tempdir().expect("server data dir");
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let pg = std::env::var("GRIDDISPATCH_TEST_PG")
            .ok()
            .map(|admin| PgDatabase::create(&admin));
        let mut template = None;
        if let Some(db) = &pg {
            env.push(("GRIDDISPATCH_DATABASE_URL".into(), db.url.clone()));
            env.push(("GRIDDISPATCH_BIND".into(), "127.0.0.1:0".into()));
            env.push((
                "GRIDDISPATCH_DATA_DIR".into(),
                data.path().to_str().expect("utf-8 path").into(),
            ));
            template = Some(Template::read());
            admin_account(&env);
        }
        let server = launch(data.path(), &env);
        let proxy = FaultProxy::start(server.addr());
        let mut town = Town {
            server: Some(server),
            proxy,
            data,
            env,
            http: reqwest::blocking::Client::new(),
            _pg: pg,
            here: None,
        };
        if let Some(t) = template {
            town.seed(&t);
            town.here = Some(t.here);
        }
        town
    }

    /// The server itself (REST checks bypass the proxy).
    pub fn base(&self) -> String {
        self.server.as_ref().expect("server running").base.clone()
    }

    /// The server's data directory (on SQLite its database is `griddispatch.db` in it).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// What phones are told the server is: the proxy.
    pub fn phone_url(&self) -> String {
        self.proxy.base()
    }

    /// Stop the server (the data stays).
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// Start the server again on the same data, on a new port behind the same proxy.
    pub fn restart(&mut self) {
        self.server = None;
        let server = launch(self.data.path(), &self.env);
        self.proxy.set_upstream(server.addr());
        self.server = Some(server);
    }

    /// A fresh access token of `user`.
    pub fn token(&self, user: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base()))
            .json(&json!({"username": user, "password": PASSWORD, "device_id": format!("e2e-rest-{user}")}))
            .send()
            .expect("login");
        assert_eq!(resp.status(), 200, "REST login {user}");
        let v: Value = resp.json().expect("tokens");
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    /// `GET path` as `user`: status and JSON (null when the body is not JSON).
    pub fn get_status(&self, user: &str, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base()))
            .bearer_auth(self.token(user))
            .send()
            .expect("GET");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// `GET path` as `user`, which must answer 200.
    pub fn get(&self, user: &str, path: &str) -> Value {
        let (status, v) = self.get_status(user, path);
        assert_eq!(status, 200, "GET {path} as {user}: {v}");
        v
    }

    /// The bytes at `path` as `user`.
    pub fn get_bytes(&self, user: &str, path: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base()))
            .bearer_auth(self.token(user))
            .send()
            .expect("GET");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.bytes().expect("body").to_vec()
    }

    /// `POST path` as `user`.
    pub fn post(&self, user: &str, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base()))
            .bearer_auth(self.token(user))
            .json(body)
            .send()
            .expect("POST");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// Run a command over REST as `user` (it must be applied).
    pub fn command(&self, user: &str, command: Value) -> Value {
        let (status, v) = self.post(user, "/api/v1/commands", &json!({"command": command}));
        assert_eq!(status, 200, "command as {user}: {v}");
        v
    }

    /// User id of `username`.
    pub fn user_id(&self, username: &str) -> String {
        let users = self.get("admin", "/api/v1/users");
        let list = users
            .as_array()
            .or_else(|| users["items"].as_array())
            .expect("user list");
        list.iter()
            .find(|u| u["username"] == username)
            .and_then(|u| u["id"].as_str())
            .unwrap_or_else(|| panic!("no user {username}"))
            .to_owned()
    }

    /// Squad id of `code`.
    pub fn squad_id(&self, code: &str) -> String {
        let squads = self.get("dispatcher", "/api/v1/squads");
        squads
            .as_array()
            .expect("squads")
            .iter()
            .find(|s| s["code"] == code)
            .and_then(|s| s["id"].as_str())
            .unwrap_or_else(|| panic!("no squad {code}"))
            .to_owned()
    }

    /// A position inside the demo `grid_member`'s village (where the demo reports are).
    pub fn here(&self) -> Position {
        if let Some(h) = &self.here {
            return h.clone();
        }
        demo_here(self)
    }

    /// A report as the dispatcher sees it (`GET /api/v1/reports/{id}`), if it exists.
    pub fn report(&self, id: &str) -> Option<Value> {
        match self.get_status("dispatcher", &format!("/api/v1/reports/{id}")) {
            (200, v) => Some(v),
            (404, _) => None,
            (s, v) => panic!("GET report {id}: {s} {v}"),
        }
    }

    /// A task (`GET /api/v1/tasks/{id}` → `task`).
    pub fn task(&self, id: &str) -> Value {
        self.get("dispatcher", &format!("/api/v1/tasks/{id}"))["task"].clone()
    }
}

/// Where the demo reports are (inside the demo `grid_member`'s village).
fn demo_here(town: &Town) -> Position {
    let page = town.get("dispatcher", "/api/v1/reports?per_page=50");
    let r = page["items"]
        .as_array()
        .expect("reports")
        .iter()
        .map(|i| &i["report"])
        .find(|r| r["lat"].is_number())
        .expect("a demo report with a position");
    Position {
        lat: r["lat"].as_f64().expect("lat"),
        lon: r["lon"].as_f64().expect("lon"),
        crs: None,
    }
}

fn launch(data: &Path, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if env.iter().any(|(k, _)| *k == "GRIDDISPATCH_DATABASE_URL") {
        return Server::start(&["serve"], &env);
    }
    Server::start(
        &[
            "demo",
            "--data-dir",
            data.to_str().expect("utf-8 path"),
            "--bind",
            "127.0.0.1:0",
        ],
        &env,
    )
}

/// Run `griddispatch ARGS` to completion with `stdin`.
fn griddispatch(args: &[&str], env: &[(String, String)], stdin: &str) {
    let mut child = std::process::Command::new(crate::binary())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("GRIDDISPATCH_LOG_FILTER", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("griddispatch");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes())
        .expect("stdin");
    assert!(
        child.wait().expect("wait").success(),
        "griddispatch {args:?}"
    );
}

/// The first account of a fresh database, made with the binary's own `user add`.
fn admin_account(env: &[(String, String)]) {
    griddispatch(&["migrate"], env, "");
    griddispatch(
        &[
            "user",
            "add",
            "--username",
            "admin",
            "--name",
            "管理员",
            "--role",
            "admin",
        ],
        env,
        &format!("{PASSWORD}\n"),
    );
}

/// What the SQLite demo town holds, read from a throw-away `griddispatch demo`, to seed a
/// PostgreSQL database with the same town through the API.
struct Template {
    grid: Value,
    categories: Vec<Value>,
    users: Vec<Value>,
    squads: Vec<Value>,
    /// `(cell code, username, role)`.
    members: Vec<(String, String, String)>,
    here: Position,
}

impl Template {
    fn read() -> Template {
        let dir = tempfile::tempdir().expect("template dir");
        let server = launch(dir.path(), &[]);
        let town = Town {
            proxy: FaultProxy::start(server.addr()),
            server: Some(server),
            data: dir,
            env: Vec::new(),
            http: reqwest::blocking::Client::new(),
            _pg: None,
            here: None,
        };
        let grid = town.get("admin", "/api/v1/grid");
        let mut members = Vec::new();
        for f in grid["features"].as_array().expect("features") {
            let code = f["properties"]["code"].as_str().expect("code");
            let cell = town.get("admin", &format!("/api/v1/grid/cells/{code}"));
            for m in cell["members"].as_array().expect("members") {
                members.push((
                    code.to_owned(),
                    m["username"].as_str().expect("username").to_owned(),
                    m["role"].as_str().expect("role").to_owned(),
                ));
            }
        }
        Template {
            categories: town
                .get("admin", "/api/v1/categories")
                .as_array()
                .expect("categories")
                .clone(),
            users: town
                .get("admin", "/api/v1/users")
                .as_array()
                .expect("users")
                .clone(),
            squads: town
                .get("admin", "/api/v1/squads")
                .as_array()
                .expect("squads")
                .clone(),
            here: demo_here(&town),
            grid,
            members,
        }
    }
}

impl Town {
    fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .put(format!("{}{path}", self.base()))
            .bearer_auth(self.token("admin"))
            .json(body)
            .send()
            .expect("PUT");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// The demo town's grid, categories, accounts, squads and cell members, through the API.
    fn seed(&self, t: &Template) {
        let ok = |what: &str, (status, body): (u16, Value)| {
            assert!(status < 300, "seeding {what}: {status} {body}");
        };
        let resp = self
            .http
            .post(format!("{}/api/v1/grid/import", self.base()))
            .bearer_auth(self.token("admin"))
            .header("content-type", "application/json")
            .body(t.grid.to_string())
            .send()
            .expect("grid import");
        assert!(
            resp.status().is_success(),
            "grid import: {}",
            resp.text().unwrap_or_default()
        );
        for c in &t.categories {
            let code = c["code"].as_str().expect("category code");
            ok(code, self.put(&format!("/api/v1/categories/{code}"), c));
        }
        for u in &t.users {
            if u["username"] == "admin" {
                continue;
            }
            let body = json!({"username": u["username"], "display_name": u["display_name"],
                "password": PASSWORD, "roles": u["roles"], "certificate": u["certificate"]});
            ok("user", self.post("admin", "/api/v1/users", &body));
        }
        for s in &t.squads {
            let body = json!({"code": s["code"], "name": s["name"], "domain": s["domain"], "cells": s["cells"]});
            ok("squad", self.post("admin", "/api/v1/squads", &body));
        }
        let squad1 = self.squad_id("squad1");
        for user in ["squad_leader", "officer", "officer2"] {
            ok(
                user,
                self.put(
                    &format!("/api/v1/squads/{squad1}/members/{user}"),
                    &json!({}),
                ),
            );
        }
        for (code, user, role) in &t.members {
            ok(
                user,
                self.put(
                    &format!("/api/v1/grid/cells/{code}/members/{user}"),
                    &json!({"role": role}),
                ),
            );
        }
    }
}

/// Write a real JPEG (distinct per `seed`) into `dir`; returns its path.
pub fn photo(dir: &Path, seed: u64) -> PathBuf {
    let path = dir.join(format!("photo-{seed}.jpg"));
    std::fs::write(&path, crate::media::jpeg(320, 240, seed, 16)).expect("write photo");
    path
}
