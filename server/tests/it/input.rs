//! Input the API refuses with a 422 and the error shape, on both backends alike, writing
//! nothing: NUL characters anywhere, oversized text and lists, impossible positions and
//! times, unknown coordinate systems and states, ids that are not ids. A phone's poisoned
//! command is rejected alone and the good ones behind it apply.

use crate::common::assert_error;
use crate::sync::{create, reports_count};
use crate::workflow::{uuid, Town};
use serde_json::{json, Value};

#[actix_web::test]
async fn nul_text_is_refused_with_422_on_every_path_and_the_server_keeps_serving() {
    let t = Town::new().await;
    let before = t.audit_count();
    // Sign-in needs no token: the first door an attacker knocks on.
    let r = t
        .app
        .post(
            "/api/v1/auth/login",
            &json!({"username": "gm\u{0}x", "password": "dev", "device_id": "d"}),
            None,
        )
        .await;
    assert_error(r, 422, "invalid_text").await;
    let r = t
        .app
        .post(
            "/api/v1/auth/login",
            &json!({"username": "gmx", "password": "dev", "device_id": "d\u{0}"}),
            None,
        )
        .await;
    assert_error(r, 422, "invalid_text").await;
    // A report description through the console's command path.
    let mut bad = create(&t, &uuid());
    bad["description"] = json!("村口\u{0}垃圾");
    let msg = assert_error(t.cmd("gmx", bad).await, 422, "invalid_text").await;
    assert!(msg.contains("description"), "{msg}");
    // Filters, ids in paths, names of new accounts and squads.
    let disp = t.tokens["disp"].clone();
    for path in [
        "/api/v1/reports?q=%00",
        "/api/v1/tasks?cell=a%00b",
        "/api/v1/reports/%00",
        "/api/v1/grid/locate?lat=35&lon=112&crs=wgs%0084",
    ] {
        assert_error(t.app.get(path, Some(&disp)).await, 422, "invalid_text").await;
    }
    let admin = t.tokens["admin1"].clone();
    let r = t
        .app
        .post(
            "/api/v1/users",
            &json!({"username": "new1", "name": "张\u{0}三", "password": "a-long-password-1", "roles": ["grid_member"]}),
            Some(&admin),
        )
        .await;
    assert_error(r, 422, "invalid_text").await;
    let r = t
        .app
        .post(
            "/api/v1/squads",
            &json!({"code": "SQ\u{0}9", "name": "九中队", "domain": "城市管理"}),
            Some(&admin),
        )
        .await;
    assert_error(r, 422, "invalid_text").await;
    // Nothing was written and the server still serves.
    assert_eq!(t.audit_count(), before);
    assert_eq!(reports_count(&t), 0);
    t.report("0401").await;
    assert_eq!(reports_count(&t), 1);
}

#[actix_web::test]
async fn poisoned_phone_commands_between_good_ones_are_rejected_and_every_good_one_applies() {
    let t = Town::new().await;
    let good: Vec<String> = (0..4).map(|_| uuid()).collect();
    let mut nul = create(&t, &uuid());
    nul["description"] = json!("违建\u{0}");
    let mut many = create(&t, &uuid());
    many["attachment_ids"] = json!((0..20_000).map(|_| uuid()).collect::<Vec<_>>());
    let mut misspelt = create(&t, &uuid());
    misspelt["position"]["crs"] = json!("gcj-02");
    let batch = json!([
        {"device_seq": 1, "command": create(&t, &good[0])},
        {"device_seq": 2, "command": nul},
        {"device_seq": 3, "command": create(&t, &good[1])},
        {"device_seq": 4, "command": many},
        {"device_seq": 5, "command": create(&t, &good[2])},
        {"device_seq": 6, "command": misspelt},
        {"device_seq": 7, "command": create(&t, &good[3]), "position": {"lat": 1000.0, "lon": 112.0}},
    ]);
    let r = t
        .app
        .client
        .post(t.app.url("/sync/v1/push"))
        .bearer_auth(&t.tokens["gmx"])
        .header("GridSync-Protocol", "1")
        .json(&json!({"device_id": "dev", "commands": batch}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    let res = out["results"].as_array().unwrap();
    let got: Vec<(&str, &str)> = res
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("applied", ""),
            ("rejected", "invalid_text"),
            ("applied", ""),
            ("rejected", "too_many_items"),
            ("applied", ""),
            ("rejected", "invalid_crs"),
            ("rejected", "invalid_position"),
        ]
    );
    assert_eq!(out["next_device_seq"], 8);
    assert_eq!(reports_count(&t), 3);
    // The refused command's message says what to fix, in Chinese first.
    assert!(res[1]["message"].as_str().unwrap().contains("\\u0000"));
}

#[actix_web::test]
async fn impossible_values_and_unknown_filters_are_422_not_silently_taken() {
    let t = Town::new().await;
    let before = t.audit_count();
    let cases: Vec<(Value, Option<Value>, &str)> = vec![
        (
            {
                let mut c = create(&t, &uuid());
                c["position"]["crs"] = json!("foo");
                c
            },
            None,
            "invalid_crs",
        ),
        (
            create(&t, &uuid()),
            Some(json!({"lat": 1000.0, "lon": 112.0})),
            "invalid_position",
        ),
        (
            {
                let mut c = create(&t, &uuid());
                c["occurred_at"] = json!("+99999-01-01T00:00:00Z");
                c
            },
            None,
            "invalid_time",
        ),
        (
            {
                let mut c = create(&t, &uuid());
                c["occurred_at"] = json!("-4000-01-01T00:00:00Z");
                c
            },
            None,
            "invalid_time",
        ),
        (
            create(&t, "00000000-0000-0000-0000-000000000000"),
            None,
            "invalid_id",
        ),
        (
            {
                let mut c = create(&t, &uuid());
                c["description"] = json!("字".repeat(5_001));
                c
            },
            None,
            "text_too_long",
        ),
    ];
    for (cmd, pos, code) in cases {
        let mut body = json!({"command": cmd});
        if let Some(p) = pos {
            body["actor_position"] = p;
        }
        let r = t
            .app
            .post("/api/v1/commands", &body, Some(&t.tokens["gmx"]))
            .await;
        assert_error(r, 422, code).await;
    }
    // A complainant's phone number of 500 KB.
    let mut hotline = create(&t, &uuid());
    hotline["source"] = json!("hotline");
    hotline["contact"] = json!({"phone": "1".repeat(500_000)});
    assert_error(t.cmd("disp", hotline).await, 422, "text_too_long").await;
    assert_eq!(t.audit_count(), before, "nothing written");
    let disp = t.tokens["disp"].clone();
    assert_error(
        t.app.get("/api/v1/reports?status=evil", Some(&disp)).await,
        422,
        "invalid_query",
    )
    .await;
    assert_error(
        t.app
            .get("/api/v1/tasks?status=reported", Some(&disp))
            .await,
        422,
        "invalid_query",
    )
    .await;
    assert_error(
        t.app.get("/api/v1/reports/not-a-uuid", Some(&disp)).await,
        422,
        "invalid_id",
    )
    .await;
    // A known status still lists.
    let ok = t
        .app
        .get("/api/v1/reports?status=reported", Some(&disp))
        .await;
    assert_eq!(ok.status(), 200);
}

#[actix_web::test]
async fn push_retries_only_what_may_succeed_later() {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    let t = Town::new().await;
    let mut conn = t.app.state.pool.get().unwrap();
    let db = |kind, msg: &str| E::DatabaseError(kind, Box::new(msg.to_owned()));
    let retry = |conn: &mut _, e: &E| griddispatch::sync::retry_later(conn, e);
    // Busy, locked, unreachable: the phone sends it again later.
    assert!(retry(&mut conn, &db(K::Unknown, "database is locked")));
    assert!(retry(
        &mut conn,
        &db(K::ClosedConnection, "server closed the connection")
    ));
    assert!(retry(
        &mut conn,
        &db(K::SerializationFailure, "could not serialize access")
    ));
    // What the command carries and the database refuses, on a working connection: never.
    assert!(!retry(
        &mut conn,
        &db(K::CheckViolation, "violates check constraint")
    ));
    assert!(!retry(
        &mut conn,
        &db(
            K::Unknown,
            "invalid byte sequence for encoding \"UTF8\": 0x00"
        )
    ));
}
