//! Departments over HTTP: an admin keeps them and their liaison accounts, each change in the
//! full-process record; a liaison sees only its own department.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_error, TestApp};
use diesel::prelude::*;
use griddispatch_protocol::Role;
use serde_json::{json, Value};

async fn put(app: &TestApp, path: &str, body: &Value, token: &str) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn recorded(app: &TestApp, command: &str) -> Vec<(String, String, String)> {
    use griddispatch::schema::audit_log;
    let mut conn = app.state.pool.get().unwrap();
    audit_log::table
        .filter(audit_log::command.eq(command))
        .order(audit_log::seq.asc())
        .select((audit_log::actor_id, audit_log::before, audit_log::after))
        .load(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn an_admin_creates_lists_and_changes_departments_with_their_liaisons_on_record() {
    let app = TestApp::spawn().await;
    let admin_id = app.user("admin1", &[Role::Admin]);
    app.user("liaison", &[Role::DepartmentLiaison]);
    app.user("liaison2", &[Role::DepartmentLiaison]);
    app.user("disp", &[Role::Dispatcher]);
    let admin = app.login("admin1", "d").await.access_token;
    let disp = app.login("disp", "d").await.access_token;

    let resp = app
        .post(
            "/api/v1/departments",
            &json!({"name": " 县市场监督管理局 ", "kind": "functional", "domain": "食品安全、价格",
                    "phone": "0571-1234567", "liaisons": ["liaison"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let market: Value = resp.json().await.unwrap();
    assert_eq!(market["name"], "县市场监督管理局", "the name is trimmed");
    assert_eq!(market["kind"], "functional");
    assert_eq!(market["active"], true);
    assert_eq!(market["liaisons"][0]["username"], "liaison");
    let police: Value = app
        .post(
            "/api/v1/departments",
            &json!({"name": "某某派出所", "kind": "resident"}),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();

    // Everyone signed in lists them (a dispatcher picks the receiver of a transfer).
    let list: Value = app
        .get("/api/v1/departments", Some(&disp))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A change replaces fields and liaisons; the record holds before and after.
    let id = police["id"].as_str().unwrap();
    let resp = put(
        &app,
        &format!("/api/v1/departments/{id}"),
        &json!({"name": "某某派出所", "kind": "police", "active": false, "liaisons": ["liaison2"]}),
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let changed: Value = resp.json().await.unwrap();
    assert_eq!(changed["kind"], "police");
    assert_eq!(changed["active"], false);
    assert_eq!(changed["liaisons"][0]["username"], "liaison2");
    let got: Value = app
        .get(&format!("/api/v1/departments/{id}"), Some(&disp))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, changed);

    let created = recorded(&app, "create_department");
    assert_eq!(created.len(), 2);
    assert_eq!(created[0].0, admin_id);
    assert!(created[0].2.contains("县市场监督管理局"));
    let updated = recorded(&app, "update_department");
    assert_eq!(updated.len(), 1);
    assert!(
        updated[0].1.contains("\"resident\""),
        "before: {}",
        updated[0].1
    );
    assert!(
        updated[0].2.contains("\"police\""),
        "after: {}",
        updated[0].2
    );
    let verify: Value = app
        .get("/api/v1/audit/verify", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verify["intact"], true, "{verify}");
}

#[actix_web::test]
async fn department_rules_refuse_bad_input_and_write_nothing() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    app.user("liaison", &[Role::DepartmentLiaison]);
    app.user("disp", &[Role::Dispatcher]);
    let admin = app.login("admin1", "d").await.access_token;
    let disp = app.login("disp", "d").await.access_token;
    let ok = app
        .post(
            "/api/v1/departments",
            &json!({"name": "县人民检察院", "kind": "procuratorate", "liaisons": ["liaison"]}),
            Some(&admin),
        )
        .await;
    assert_eq!(ok.status(), 201);

    let cases = [
        (
            json!({"name": "  ", "kind": "police"}),
            422,
            "invalid_department",
        ),
        (json!({"name": "甲", "kind": "army"}), 422, "invalid_field"),
        (
            json!({"name": "甲", "kind": "police", "phone": "1".repeat(51)}),
            422,
            "invalid_department",
        ),
        (
            json!({"name": "县人民检察院", "kind": "court"}),
            409,
            "department_name_taken",
        ),
        (
            json!({"name": "甲", "kind": "police", "liaisons": ["nobody"]}),
            422,
            "unknown_liaison",
        ),
        (
            json!({"name": "甲", "kind": "police", "liaisons": ["disp"]}),
            422,
            "not_a_liaison",
        ),
        (
            json!({"name": "甲", "kind": "police", "liaisons": ["liaison"]}),
            409,
            "liaison_taken",
        ),
        (
            json!({"name": "甲\u{0}", "kind": "police"}),
            422,
            "invalid_text",
        ),
    ];
    for (body, status, code) in cases {
        let resp = app.post("/api/v1/departments", &body, Some(&admin)).await;
        assert_error(resp, status, code).await;
    }
    // Only an admin keeps departments.
    assert_error(
        app.post(
            "/api/v1/departments",
            &json!({"name": "乙", "kind": "court"}),
            Some(&disp),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        put(
            &app,
            "/api/v1/departments/00000000-0000-4000-8000-000000000001",
            &json!({"name": "乙", "kind": "court"}),
            &admin,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let list: Value = app
        .get("/api/v1/departments", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing else was written: {list}"
    );
    assert_eq!(recorded(&app, "create_department").len(), 1);
}

#[actix_web::test]
async fn a_liaison_sees_only_its_own_department() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    app.user("liaison", &[Role::DepartmentLiaison]);
    app.user("stray", &[Role::DepartmentLiaison]);
    let admin = app.login("admin1", "d").await.access_token;
    let mut ids = Vec::new();
    for (name, liaisons) in [
        ("县市场监督管理局", json!(["liaison"])),
        ("某某派出所", json!([])),
    ] {
        let d: Value = app
            .post(
                "/api/v1/departments",
                &json!({"name": name, "kind": "functional", "liaisons": liaisons}),
                Some(&admin),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    let liaison = app.login("liaison", "d").await.access_token;
    let list: Value = app
        .get("/api/v1/departments", Some(&liaison))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "县市场监督管理局");
    assert_eq!(
        app.get(&format!("/api/v1/departments/{}", ids[0]), Some(&liaison))
            .await
            .status(),
        200
    );
    assert_error(
        app.get(&format!("/api/v1/departments/{}", ids[1]), Some(&liaison))
            .await,
        404,
        "not_found",
    )
    .await;
    // A liaison account linked to no department sees none.
    let stray = app.login("stray", "d").await.access_token;
    let none: Value = app
        .get("/api/v1/departments", Some(&stray))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]));
}
