//! Test fixtures: an isolated database per test (SQLite file, or a fresh PostgreSQL database
//! when `GRIDDISPATCH_TEST_PG` holds a server URL) and a running app on a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use griddispatch::config::Config;
use griddispatch::db::{self, DbConn};
use griddispatch::{accounts, AppState, Application};
use griddispatch_protocol::auth::{Certificate, NewUserRequest, TokenResponse};
use griddispatch_protocol::Role;
use serde_json::{json, Value};

/// Secret the test apps sign with, so tests can forge tokens deliberately.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// Password of users made by `TestApp::user`.
pub const PASSWORD: &str = "correct-horse-battery";

/// An isolated database, removed on drop.
pub struct TestDb {
    /// URL to give the app.
    pub url: String,
    backend: Backend,
}

enum Backend {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// Replace the database name in a PostgreSQL URL.
fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base, String::new()),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let path_start = head[authority_start..]
        .find('/')
        .map_or(head.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &head[..path_start])
}

impl TestDb {
    /// PostgreSQL when `GRIDDISPATCH_TEST_PG` is set, SQLite otherwise.
    pub fn new() -> Self {
        match std::env::var("GRIDDISPATCH_TEST_PG") {
            Ok(base) if !base.trim().is_empty() => {
                let name = format!("gd_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("GRIDDISPATCH_TEST_PG={base}: {e}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                TestDb {
                    url: with_database(&base, &name),
                    backend: Backend::Postgres {
                        admin_url: base,
                        name,
                    },
                }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = dir.path().join("test.db").to_string_lossy().into_owned();
                TestDb {
                    url,
                    backend: Backend::Sqlite(dir),
                }
            }
        }
    }

    /// `postgres` or `sqlite`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// A new direct connection.
    pub fn connect(&self) -> DbConn {
        db::establish(&db::DatabaseUrl::parse(&self.url).unwrap()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Backend::Postgres { admin_url, name } = &self.backend {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A running app on 127.0.0.1 with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The app's state (pool, keys, config).
    pub state: AppState,
    /// The database (dropped last).
    pub db: TestDb,
    _data: tempfile::TempDir,
}

impl TestApp {
    /// Start with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Start after adjusting the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new();
        let data = tempfile::tempdir().unwrap();
        let mut config = Config {
            database_url: Some(db.url.clone()),
            bind: "127.0.0.1:0".into(),
            data_dir: data.path().to_path_buf(),
            jwt_secret: Some(TEST_SECRET.into()),
            pool_size: 4,
            background_jobs: false,
            ..Config::default()
        };
        adjust(&mut config);
        let app = Application::build(&config).await.expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        actix_web::rt::spawn(app.run_until_stopped());
        TestApp {
            address,
            // Answers as the server sends them: tests check `Content-Encoding` themselves (the
            // workspace enables reqwest's decompression for the phone engine).
            client: reqwest::Client::builder()
                .no_gzip()
                .no_zstd()
                .build()
                .unwrap(),
            state,
            db,
            _data: data,
        }
    }

    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Create a user directly (as the CLI would) with the test password.
    pub fn user(&self, username: &str, roles: &[Role]) -> String {
        self.user_with_cert(username, roles, None)
    }

    /// Create a user with an optional certificate; returns the id.
    pub fn user_with_cert(
        &self,
        username: &str,
        roles: &[Role],
        cert: Option<Certificate>,
    ) -> String {
        let mut conn = self.state.pool.get().unwrap();
        let req = NewUserRequest {
            username: username.into(),
            display_name: format!("测试 {username}"),
            password: PASSWORD.into(),
            roles: roles.to_vec(),
            certificate: cert,
        };
        accounts::create(&mut conn, "test", &req, db::now())
            .unwrap()
            .id
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.patch(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// The attachment's view once its photo copies are no longer `pending` (the copy workers
    /// make them after the upload was acknowledged): polls, without a time assertion.
    pub async fn copies_made(&self, id: &str, token: &str) -> Value {
        for _ in 0..6000 {
            let view: Value = self
                .get(&format!("/api/v1/attachments/{id}"), Some(token))
                .await
                .json()
                .await
                .unwrap();
            if view["copies"] != "pending" {
                return view;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the copies of {id} were never made");
    }

    /// GET with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// Sign in and return the raw response.
    pub async fn try_login(
        &self,
        username: &str,
        password: &str,
        device: &str,
    ) -> reqwest::Response {
        self.post(
            "/api/v1/auth/login",
            &json!({"username": username, "password": password, "device_id": device}),
            None,
        )
        .await
    }

    /// Sign in with the test password; panics on failure.
    pub async fn login(&self, username: &str, device: &str) -> TokenResponse {
        let resp = self.try_login(username, PASSWORD, device).await;
        assert_eq!(resp.status(), 200, "login of {username} failed");
        resp.json().await.unwrap()
    }
}

/// Assert the one error shape, a status and a code; returns the message.
pub async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> String {
    let got = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "unexpected status, body: {body}");
    assert!(
        ctype.starts_with("application/json"),
        "content-type {ctype}"
    );
    assert_eq!(body["error"]["code"], code, "body: {body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!message.is_empty(), "error without a message: {body}");
    message
}
