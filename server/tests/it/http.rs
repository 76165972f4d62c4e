//! The HTTP skeleton: error shape, body limits, health, metrics, OpenAPI, request ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_error, TestApp};
use griddispatch_protocol::Role;
use serde_json::{json, Value};

#[actix_web::test]
async fn malformed_json_is_a_400_with_the_error_shape() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_json").await;
}

#[actix_web::test]
async fn wrong_types_are_a_422_naming_the_problem() {
    let app = TestApp::spawn().await;
    let resp = app
        .post(
            "/api/v1/auth/login",
            &json!({"username": 5, "password": "x", "device_id": "d"}),
            None,
        )
        .await;
    let msg = assert_error(resp, 422, "invalid_field").await;
    assert!(msg.contains("expected a string"), "{msg}");
    let missing = app
        .post("/api/v1/auth/login", &json!({"username": "a"}), None)
        .await;
    let msg = assert_error(missing, 422, "invalid_field").await;
    assert!(msg.contains("password"), "{msg}");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("username=a")
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "unsupported_media_type").await;
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_and_the_server_keeps_serving() {
    let app = TestApp::spawn_with(|c| c.max_json_bytes = 4096).await;
    let big = json!({"username": "a".repeat(10_000), "password": "x", "device_id": "d"});
    assert_error(
        app.post("/api/v1/auth/login", &big, None).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

#[actix_web::test]
async fn unknown_paths_and_wrong_methods_use_the_error_shape() {
    let app = TestApp::spawn().await;
    assert_error(
        app.get("/api/v1/nothing-here", None).await,
        404,
        "not_found",
    )
    .await;
    let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_error(resp, 405, "method_not_allowed").await;
    // RFC 9110: a 405 names what the resource supports (from the OpenAPI document).
    let trace = reqwest::Method::from_bytes(b"TRACE").unwrap();
    let resp = app
        .client
        .request(
            trace,
            app.url("/api/v1/reports/{id}".replace("{id}", "x").as_str()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
    let resp = app
        .client
        .request(reqwest::Method::PUT, app.url("/api/v1/squads"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET, HEAD, POST");
}

#[actix_web::test]
async fn the_openapi_document_declares_the_errors_every_operation_can_answer() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let cmd = &doc["paths"]["/api/v1/commands"]["post"]["responses"];
    for status in ["200", "400", "401", "403", "413", "415", "422", "503"] {
        assert!(cmd.get(status).is_some(), "commands: {status} not declared");
    }
    let pull = &doc["paths"]["/sync/v1/pull"]["get"]["responses"];
    assert!(pull.get("426").is_some());
    // The tus endpoints are described too.
    assert!(doc["paths"]["/files/{id}"]["patch"].is_object());
    assert!(doc["paths"]["/files/"]["post"].is_object());
}

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let h = app.get("/healthz", None).await;
    assert_eq!(h.status(), 200);
    assert!(h.headers().contains_key("x-request-id"));
    let r: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(r["status"], "ready");
    assert_eq!(r["database"], app.db.backend());
}

#[actix_web::test]
async fn readiness_is_503_when_no_database_connection_can_be_had() {
    let app = TestApp::spawn_with(|c| c.pool_size = 1).await;
    let held = app.state.pool.get().unwrap();
    let resp = app.get("/readyz", None).await;
    let msg = assert_error(resp, 503, "service_unavailable").await;
    assert!(
        !msg.contains("timed out"),
        "5xx must not leak internals: {msg}"
    );
    drop(held);
    assert_eq!(app.get("/readyz", None).await.status(), 200);
}

#[actix_web::test]
async fn a_crowd_of_database_work_takes_turns_instead_of_a_thread_each() {
    // 200 requests' database work at once (a crowd of phones' first `/sync/v1/wait` checks,
    // say) on a pool of 4: it all completes, and waits its turn on the runtime instead of
    // each parking a blocking thread on the pool (10 000 waiting phones held ~500 threads).
    let app = TestApp::spawn_with(|c| c.pool_size = 4).await;
    let threads = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let work = (0..200).map(|_| {
        let threads = threads.clone();
        app.state.db(move |_conn| {
            threads.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(std::time::Duration::from_millis(5));
            Ok(())
        })
    });
    for done in futures_util::future::join_all(work).await {
        done.unwrap();
    }
    let used = threads.lock().unwrap().len();
    assert!(
        used <= 24,
        "200 pieces of database work ran on {used} threads"
    );
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let app = TestApp::spawn().await;
    app.user("gmem", &[Role::GridMember]);
    let t = app.login("gmem", "p").await;
    app.get("/api/v1/me", Some(&t.access_token)).await;
    app.get("/api/v1/me", None).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains(
            r#"griddispatch_http_requests_total{endpoint="/api/v1/me",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"griddispatch_http_requests_total{endpoint="/api/v1/me",method="GET",status="401"} 1"#
    ));
    assert!(text.contains("griddispatch_http_requests_duration_seconds_bucket"));
    assert!(text.contains("griddispatch_db_pool_max_connections 4"));
}

#[actix_web::test]
async fn the_openapi_document_lists_the_endpoints_and_the_docs_ui_is_served() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/me",
        "/api/v1/users",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
    let ui = app.get("/api/docs/", None).await;
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"));
    // The UI loads the document from the same route.
    let init = app.get("/api/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("\"/api/openapi.json\""));
}

#[actix_web::test]
async fn the_console_is_served_at_the_root() {
    let app = TestApp::spawn().await;
    let resp = app.get("/", None).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("指挥调度台"));
}

/// Send raw bytes on a fresh connection and read the whole answer (the server closes it).
async fn raw_exchange(app: &TestApp, request: &[u8]) -> (u16, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before it has read everything: ignore write errors.
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    (
        status,
        ctype,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn an_oversized_or_malformed_request_head_gets_the_error_shape_and_the_server_serves_on() {
    let app = TestApp::spawn().await;
    // A 1 MB header: refused by the connection layer before any route runs.
    let mut big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    big.extend(b"\r\n\r\n");
    let (status, ctype, body) = raw_exchange(&app, &big).await;
    assert_eq!(status, 431);
    assert_eq!(ctype, "application/json");
    assert_eq!(body["error"]["code"], "header_too_large", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("请求头过大"));
    // A head that is not HTTP.
    let (status, ctype, body) = raw_exchange(&app, b"GET / HTTP/1.1\r\nHo st\x01: x\r\n\r\n").await;
    assert_eq!(status, 400);
    assert_eq!(ctype, "application/json");
    assert_eq!(body["error"]["code"], "malformed_request", "{body}");
    // And the server keeps serving.
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}
