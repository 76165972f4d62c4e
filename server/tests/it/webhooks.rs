//! Signed webhooks and the pull feed: a receiver that fails and recovers gets every event
//! acknowledged exactly once with a valid signature, a dead receiver's deliveries are given up
//! and sent again on an administrator's retry, two job rounds at once never send one delivery
//! twice, and the feed pages the same events with contacts cut to the reader.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use griddispatch::webhooks;
use serde_json::{json, Value};

use crate::common::assert_error;
use crate::workflow::{uuid, Town};

const SECRET: &str = "receiver-secret-0123456789";

/// What the receiver saw: (signature header, delivery id, body, status answered).
type Seen = Arc<Mutex<Vec<(String, String, Vec<u8>, u16)>>>;

pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) seen: Seen,
}

/// A receiver that answers 500 to its first `fail_first` requests, then 200.
pub(crate) fn receiver(fail_first: usize) -> Receiver {
    let seen: Seen = Arc::default();
    let left = Arc::new(AtomicUsize::new(fail_first));
    let (s, l) = (seen.clone(), left.clone());
    let server = HttpServer::new(move || {
        let (s, l) = (s.clone(), l.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (s, l) = (s.clone(), l.clone());
            async move {
                let h = |n: &str| {
                    req.headers()
                        .get(n)
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default()
                };
                let fail = l
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let status = if fail { 500 } else { 200 };
                s.lock().unwrap().push((
                    h(webhooks::SIGNATURE_HEADER),
                    h(webhooks::DELIVERY_HEADER),
                    body.to_vec(),
                    status,
                ));
                if fail {
                    HttpResponse::InternalServerError().finish()
                } else {
                    HttpResponse::Ok().finish()
                }
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        seen,
    }
}

async fn town() -> Town {
    Town::new_with(|c| {
        c.webhooks.backoff_initial_secs = 1;
        c.webhooks.backoff_max_secs = 1;
        c.webhooks.max_attempts = 2;
        c.webhooks.timeout_secs = 5;
        // The test receivers listen on this machine.
        c.webhooks.allow_local_receivers = true;
    })
    .await
}

async fn subscribe(t: &Town, url: &str, kinds: Value) -> Value {
    let r = t
        .app
        .post(
            "/api/v1/webhooks",
            &json!({"name": "监管系统", "url": url, "kinds": kinds, "secret": SECRET}),
            Some(&t.tokens["admin1"]),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn round(t: &Town) -> webhooks::Round {
    let client = webhooks::http_client(&t.app.state.config.webhooks);
    webhooks::run_round(&t.app.state, &client).await.unwrap()
}

async fn hotline_report(t: &Town) -> String {
    let r = uuid();
    t.ok(
        "disp",
        json!({"type": "create_report", "report_id": r, "source": "hotline", "category_code": "0401",
            "description": "来电反映占道经营", "position": {"lat": t.point.0, "lon": t.point.1},
            "contact": {"name": "赵女士", "phone": "13612345678"}}),
    )
    .await;
    r
}

async fn admin_get(t: &Town, path: &str) -> Value {
    let r = t.app.get(path, Some(&t.tokens["admin1"])).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[actix_web::test]
async fn a_receiver_that_fails_then_recovers_gets_each_event_once_signed() {
    let t = town().await;
    let rx = receiver(2);
    let created = subscribe(&t, &rx.url, json!([])).await;
    let sub = created["subscription"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["secret"], SECRET);
    // Events before the subscription are not sent; these two are.
    let r = hotline_report(&t).await;
    t.ok(
        "disp",
        json!({"type": "dispatch_report", "report_id": r, "task_id": uuid(), "squad_id": t.squad}),
    )
    .await;

    let first = round(&t).await;
    assert_eq!(
        (first.queued, first.delivered, first.failed),
        (2, 0, 2),
        "both fail once"
    );
    let log = admin_get(&t, &format!("/api/v1/webhooks/{sub}/deliveries")).await;
    assert_eq!(log.as_array().unwrap().len(), 2);
    for d in log.as_array().unwrap() {
        assert_eq!(d["status"], "pending");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status"], 500);
        assert_eq!(d["attempt_log"][0]["http_status"], 500);
    }
    // Not due yet: the back-off holds them.
    assert_eq!(round(&t).await, webhooks::Round::default());
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let second = round(&t).await;
    assert_eq!((second.delivered, second.failed), (2, 0));
    assert_eq!(round(&t).await, webhooks::Round::default(), "nothing more");

    let seen = rx.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "two attempts each");
    let acked: Vec<&(String, String, Vec<u8>, u16)> = seen.iter().filter(|s| s.3 == 200).collect();
    let now = chrono::Utc::now().timestamp();
    let mut seqs = Vec::new();
    for (sig, delivery, body, _) in &acked {
        assert!(webhooks::verify(SECRET, sig, body, now, 300), "{sig}");
        assert!(!webhooks::verify(
            "another-secret-0123456",
            sig,
            body,
            now,
            300
        ));
        let event: Value = serde_json::from_slice(body).unwrap();
        seqs.push(event["seq"].as_i64().unwrap());
        assert!(!delivery.is_empty());
        // The receiver is no dispatcher: the caller's phone never leaves.
        let text = String::from_utf8_lossy(body);
        assert!(
            !text.contains("13612345678") && !text.contains("赵女士"),
            "{text}"
        );
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 2, "each event acknowledged exactly once");
    let kinds: Vec<Value> = acked
        .iter()
        .map(|a| serde_json::from_slice::<Value>(&a.2).unwrap()["kind"].clone())
        .collect();
    assert!(kinds.contains(&json!("create_report")) && kinds.contains(&json!("dispatch_report")));

    let log = admin_get(
        &t,
        &format!("/api/v1/webhooks/{sub}/deliveries?status=delivered"),
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 2);
    for d in log.as_array().unwrap() {
        assert_eq!(d["attempts"], 2);
        assert_eq!(d["attempt_log"][1]["http_status"], 200);
        assert!(d["delivered_at"].is_string());
    }
    let id = log[0]["id"].as_str().unwrap();
    assert_error(
        t.app
            .post(
                &format!("/api/v1/webhooks/deliveries/{id}/retry"),
                &json!({}),
                Some(&t.tokens["admin1"]),
            )
            .await,
        409,
        "not_failed",
    )
    .await;
    t.verify();
}

#[actix_web::test]
async fn a_dead_receiver_is_given_up_then_retried_and_rounds_at_once_send_once() {
    let t = town().await;
    // Nothing listens on this port.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/hook")
    };
    let sub = subscribe(&t, &dead, json!(["create_report"])).await;
    let sub = sub["subscription"]["id"].as_str().unwrap().to_owned();
    let r = hotline_report(&t).await;
    t.ok(
        "disp",
        json!({"type": "reject_report", "report_id": r, "reason": "重复来电"}),
    )
    .await;
    let first = round(&t).await;
    assert_eq!(
        (first.queued, first.failed),
        (1, 1),
        "only create_report is subscribed"
    );
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(round(&t).await.failed, 1);
    let log = admin_get(&t, &format!("/api/v1/webhooks/{sub}/deliveries")).await;
    assert_eq!(log[0]["status"], "failed", "{log}");
    assert_eq!(log[0]["attempts"], 2);
    assert!(log[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("could not deliver"));
    let listed = admin_get(&t, "/api/v1/webhooks").await;
    assert_eq!(listed[0]["failed"], 1);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );

    // The administrator sends it again: pending with its attempts started over, tried at the
    // next round (and failing again here: the receiver is still down).
    let id = log[0]["id"].as_str().unwrap();
    let retried = t
        .app
        .post(
            &format!("/api/v1/webhooks/deliveries/{id}/retry"),
            &json!({}),
            Some(&t.tokens["admin1"]),
        )
        .await;
    assert_eq!(retried.status(), 200);
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["status"], "pending");
    assert_eq!(retried["attempts"], 0);
    assert_eq!(round(&t).await.failed, 1);

    // A paused subscription queues nothing; two rounds at once send each delivery once.
    let paused = t
        .app
        .client
        .patch(t.app.url(&format!("/api/v1/webhooks/{sub}")))
        .bearer_auth(&t.tokens["admin1"])
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);
    let rx = receiver(0);
    subscribe(&t, &rx.url, json!([])).await;
    for _ in 0..5 {
        hotline_report(&t).await;
    }
    let (a, b) = futures_util::join!(round(&t), round(&t));
    assert_eq!(a.delivered + b.delivered, 5, "{a:?} {b:?}");
    assert_eq!(a.queued + b.queued, 5);
    let seen = rx.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 5, "no delivery sent twice");
}

#[actix_web::test]
async fn subscriptions_are_checked_and_for_administrators_only() {
    let t = town().await;
    let admin = &t.tokens["admin1"];
    for (body, code) in [
        (
            json!({"name": "x", "url": "ftp://example.com/h"}),
            "invalid_url",
        ),
        (json!({"name": "x", "url": "not a url"}), "invalid_url"),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/h", "kinds": ["no_such_command"]}),
            "unknown_kind",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/h", "secret": "short"}),
            "weak_secret",
        ),
        (
            json!({"name": " ", "url": "http://127.0.0.1:9/h"}),
            "name_required",
        ),
    ] {
        assert_error(
            t.app.post("/api/v1/webhooks", &body, Some(admin)).await,
            422,
            code,
        )
        .await;
    }
    assert_error(
        t.app
            .post(
                "/api/v1/webhooks",
                &json!({"name": "x", "url": "http://127.0.0.1:9/h"}),
                Some(&t.tokens["disp"]),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    // Without a secret the server makes a long one.
    let r = t
        .app
        .post(
            "/api/v1/webhooks",
            &json!({"name": "x", "url": "https://example.com/h"}),
            Some(admin),
        )
        .await;
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    assert_eq!(made["secret"].as_str().unwrap().len(), 64);
}

#[actix_web::test]
async fn the_feed_pages_events_with_a_cursor_and_cuts_contacts_to_the_reader() {
    let t = town().await;
    let r = hotline_report(&t).await;
    t.ok(
        "disp",
        json!({"type": "dispatch_report", "report_id": r, "task_id": uuid(), "squad_id": t.squad}),
    )
    .await;
    let page = |who: &'static str, q: String| {
        let t = &t;
        async move {
            let resp = t
                .app
                .get(&format!("/api/v1/feed{q}"), Some(&t.tokens[who]))
                .await;
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let all = page("disp", String::new()).await;
    let events = all["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["create_report", "dispatch_report"]);
    assert_eq!(all["next_after"], events[1]["seq"]);
    // The dispatcher may read the caller's phone; the approver may not.
    assert_eq!(
        events[0]["data"]["report"]["contact"]["phone"],
        "13612345678"
    );
    let boss = page("boss", String::new()).await.to_string();
    assert!(!boss.contains("13612345678"), "{boss}");
    // Page by page with the cursor.
    let one = page("disp", "?limit=1".into()).await;
    assert_eq!(one["events"].as_array().unwrap().len(), 1);
    let next = page("disp", format!("?after={}", one["next_after"])).await;
    assert_eq!(next["events"][0]["kind"], "dispatch_report");
    let end = page("disp", format!("?after={}", next["next_after"])).await;
    assert!(end["events"].as_array().unwrap().is_empty());
    assert_eq!(end["next_after"], next["next_after"]);
    let only = page("disp", "?kinds=dispatch_report".into()).await;
    assert_eq!(only["events"].as_array().unwrap().len(), 1);
    assert_error(
        t.app
            .get("/api/v1/feed?kinds=nope", Some(&t.tokens["disp"]))
            .await,
        422,
        "unknown_kind",
    )
    .await;
    assert_error(
        t.app.get("/api/v1/feed", Some(&t.tokens["gmx"])).await,
        403,
        "forbidden",
    )
    .await;
}

#[actix_web::test]
async fn a_receiver_on_this_machine_or_link_local_is_refused_by_default() {
    let t = Town::new_with(|c| {
        c.webhooks.backoff_initial_secs = 1;
        c.webhooks.max_attempts = 1;
    })
    .await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
    ] {
        let r = t
            .app
            .post(
                "/api/v1/webhooks",
                &json!({"name": "探测", "url": url}),
                Some(&t.tokens["admin1"]),
            )
            .await;
        assert_error(r, 422, "receiver_not_allowed").await;
    }
    // A private network's receiver is fine (a county's intranet).
    let r = t
        .app
        .post(
            "/api/v1/webhooks",
            &json!({"name": "县监管平台", "url": "http://10.20.30.40/hook", "kinds": ["answer_hand_over"]}),
            Some(&t.tokens["admin1"]),
        )
        .await;
    assert_eq!(r.status(), 201);
    // A name that resolves to this machine is accepted as a name but never called.
    let rx = receiver(0);
    let by_name = rx.url.replace("127.0.0.1", "localhost");
    subscribe(&t, &by_name, json!(["create_report"])).await;
    hotline_report(&t).await;
    let done = round(&t).await;
    assert_eq!((done.queued, done.delivered), (1, 0), "{done:?}");
    assert!(rx.seen.lock().unwrap().is_empty(), "nothing reached it");
    let subs = admin_get(&t, "/api/v1/webhooks").await;
    let sub = subs
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["url"] == by_name.as_str())
        .unwrap();
    let log = admin_get(
        &t,
        &format!(
            "/api/v1/webhooks/{}/deliveries",
            sub["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(
        log[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{log}"
    );
    for t in [&log[0]["created_at"], &log[0]["attempt_log"][0]["at"]] {
        assert!(t.as_str().unwrap().ends_with('Z'), "RFC 3339 UTC: {t}");
    }
}
