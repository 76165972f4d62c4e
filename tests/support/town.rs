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
}

impl Town {
    /// The demo town on SQLite.
    pub fn start() -> Town {
        Self::start_with(&[])
    }

    /// With extra `GRIDDISPATCH_*` settings.
    pub fn start_with(env: &[(&str, &str)]) -> Town {
        let data = tempfile::tempdir().expect("server data dir");
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let server = launch(data.path(), &env);
        let proxy = FaultProxy::start(server.addr());
        Town {
            server: Some(server),
            proxy,
            data,
            env,
            http: reqwest::blocking::Client::new(),
        }
    }

    /// The server itself (REST checks bypass the proxy).
    pub fn base(&self) -> String {
        self.server.as_ref().expect("server running").base.clone()
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
        let page = self.get("dispatcher", "/api/v1/reports?per_page=50");
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

fn launch(data: &Path, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
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

/// Write a real JPEG (distinct per `seed`) into `dir`; returns its path.
pub fn photo(dir: &Path, seed: u64) -> PathBuf {
    let path = dir.join(format!("photo-{seed}.jpg"));
    std::fs::write(&path, crate::media::jpeg(320, 240, seed, 16)).expect("write photo");
    path
}
