//! Information departments share (licences, filings, …) by API and CSV import: every problem
//! named, nothing stored from a file with one bad row, a liaison only for their department —
//! and shown on a report that concerns the same place, or whose case names the same party.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use griddispatch_protocol::Role;
use serde_json::{json, Value};

use crate::common::assert_error;
use crate::workflow::{uuid, Town};

struct Depts {
    market: String,
    police: String,
}

async fn departments(t: &Town) -> Depts {
    t.app.user("liaison", &[Role::DepartmentLiaison]);
    t.app.user("liaison2", &[Role::DepartmentLiaison]);
    let admin = &t.tokens["admin1"];
    let mut ids = Vec::new();
    for (name, liaison) in [("县市场监督管理局", "liaison"), ("某某派出所", "liaison2")]
    {
        let r = t
            .app
            .post(
                "/api/v1/departments",
                &json!({"name": name, "kind": "functional", "liaisons": [liaison]}),
                Some(admin),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    Depts {
        market: ids[0].clone(),
        police: ids[1].clone(),
    }
}

async fn token(t: &Town, who: &str) -> String {
    t.app.login(who, "dev").await.access_token
}

async fn post_csv(t: &Town, tok: &str, query: &str, csv: &str) -> reqwest::Response {
    t.app
        .client
        .post(t.app.url(&format!("/api/v1/shared/import{query}")))
        .bearer_auth(tok)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

async fn count(t: &Town) -> usize {
    t.get("/api/v1/shared?limit=1000")
        .await
        .as_array()
        .unwrap()
        .len()
}

#[actix_web::test]
async fn departments_share_by_api_and_csv_and_bad_input_stores_nothing() {
    let t = Town::new().await;
    let d = departments(&t).await;
    let liaison = token(&t, "liaison").await;
    let (lat, lon) = t.point;
    let item = json!({"kind": "licence", "title": "食品经营许可证", "number": "JY13301020000001",
        "party_name": "张三餐馆", "credit_code": "92330102MA2ABCDE1X", "address": "人民路 12 号",
        "lat": lat, "lon": lon, "valid_from": "2026-01-01", "valid_until": "2030-12-31"});
    let r = t.app.post("/api/v1/shared", &item, Some(&liaison)).await;
    assert_eq!(r.status(), 201);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["department_id"], d.market.as_str());
    assert_eq!(stored["source"], "api");
    // A time a client can read without guessing the zone, as the schema says (RFC 3339).
    let at = stored["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok(),
        "created_at {at} is not RFC 3339"
    );

    // Every problem of an item is named; nothing is stored.
    let r = t
        .app
        .post(
            "/api/v1/shared",
            &json!({"kind": "permit", "title": "", "credit_code": "123", "lat": 91.0,
                "valid_from": "2026-02-30"}),
            Some(&liaison),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_shared_item");
    let fields: Vec<&str> = body["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["column"].as_str().unwrap())
        .collect();
    for f in ["kind", "title", "credit_code", "lat", "valid_from"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    // A licence names its party.
    let r = t
        .app
        .post(
            "/api/v1/shared",
            &json!({"kind": "filing", "title": "备案"}),
            Some(&liaison),
        )
        .await;
    assert_eq!(r.status(), 422);

    // A liaison shares for their own department only; an admin names one.
    assert_error(
        t.app
            .post(
                &format!("/api/v1/shared?department_id={}", d.police),
                &item,
                Some(&liaison),
            )
            .await,
        403,
        "out_of_scope",
    )
    .await;
    let admin = &t.tokens["admin1"];
    assert_error(
        t.app.post("/api/v1/shared", &item, Some(admin)).await,
        422,
        "department_required",
    )
    .await;
    assert_error(
        t.app
            .post("/api/v1/shared?department_id=nope", &item, Some(admin))
            .await,
        422,
        "unknown_department",
    )
    .await;
    assert_error(
        t.app
            .post("/api/v1/shared", &item, Some(&t.tokens["gmx"]))
            .await,
        403,
        "forbidden",
    )
    .await;
    let r = t
        .app
        .post(
            &format!("/api/v1/shared?department_id={}", d.police),
            &json!({"kind": "briefing", "title": "治安工作简报第 12 期", "content": "本月情况"}),
            Some(admin),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(count(&t).await, 2);

    // CSV: one bad row among good ones stores nothing and names the row.
    let bad = "kind,title,party_name,credit_code,lat,lon,valid_from,valid_until\n\
               licence,排水许可证,李四洗车,,35.1,112.5,2026-01-01,2028-01-01\n\
               filing,环评备案,,,,,,\n\
               regulation,城市管理条例修订,,,,,,\n";
    let r = post_csv(&t, &liaison, "", bad).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let p = &body["error"]["problems"][0];
    assert_eq!(
        (p["row"].as_u64(), p["column"].as_str()),
        (Some(2), Some("party_name")),
        "{body}"
    );
    assert_eq!(body["error"]["problems"].as_array().unwrap().len(), 1);
    assert_eq!(count(&t).await, 2, "no partial write");
    let unknown_col = post_csv(&t, &liaison, "", "kind,title,colour\nother,x,red\n").await;
    assert_eq!(unknown_col.status(), 422);
    let good = bad.replace("filing,环评备案,,,,,,", "filing,环评备案,王五厂,,,,,");
    let r = post_csv(&t, &liaison, "", &good).await;
    assert_eq!(r.status(), 201);
    let imported: Value = r.json().await.unwrap();
    assert_eq!(imported["imported"], 3);
    assert_eq!(count(&t).await, 5);

    // Who reads what: town-wide roles everything, a liaison their department's.
    let liaison2 = token(&t, "liaison2").await;
    let theirs: Value = t
        .app
        .get("/api/v1/shared", Some(&liaison2))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_eq!(theirs[0]["kind"], "briefing");
    assert_error(
        t.app
            .get(
                &format!("/api/v1/shared?department_id={}", d.market),
                Some(&liaison2),
            )
            .await,
        403,
        "out_of_scope",
    )
    .await;
    let found = t.get("/api/v1/shared?q=张三&kind=licence").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_error(
        t.app.get("/api/v1/shared", Some(&t.tokens["gmx"])).await,
        403,
        "forbidden",
    )
    .await;
    t.verify();
}

#[actix_web::test]
async fn a_report_shows_what_was_shared_about_its_place_and_its_cases_party() {
    let t = Town::new().await;
    departments(&t).await;
    let liaison = token(&t, "liaison").await;
    let (lat, lon) = t.point;
    let share = |body: Value| {
        let (t, liaison) = (&t, liaison.clone());
        async move {
            let r = t.app.post("/api/v1/shared", &body, Some(&liaison)).await;
            assert_eq!(r.status(), 201);
        }
    };
    // Next door (about 30 m), far away (about 1.1 km), and the party by credit code elsewhere.
    share(
        json!({"kind": "licence", "title": "临时占道许可", "party_name": "隔壁商店",
        "lat": lat + 0.0003, "lon": lon}),
    )
    .await;
    share(
        json!({"kind": "licence", "title": "远处的许可", "party_name": "远处商店",
        "lat": lat + 0.01, "lon": lon}),
    )
    .await;
    share(
        json!({"kind": "licence", "title": "建设工程规划许可证", "party_name": "某建筑公司",
        "credit_code": "91410800MA44XXXX1Y"}),
    )
    .await;

    let r = t.report("0301").await;
    let shared = t.get(&format!("/api/v1/reports/{r}/shared")).await;
    let titles: Vec<&str> = shared
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["item"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["临时占道许可"], "{shared}");
    assert_eq!(shared[0]["matched_by"], "place");
    let d = shared[0]["distance_m"].as_f64().unwrap();
    assert!((20.0..50.0).contains(&d), "{d}");

    // The case names its party: the licence for that credit code shows too.
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let case_id = uuid();
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未批先建", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inspection",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "现场检查", "attachment_ids": [uuid()]})).await;
    t.ok("off1", json!({"type": "notify_party", "case_id": case_id,
        "party": {"kind": "organization", "name": "某建筑有限公司", "id_number": "91410800ma44xxxx1y"},
        "facts": "未取得建设工程规划许可证建设", "legal_basis": "城乡规划法第六十四条",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}]})).await;
    let shared = t.get(&format!("/api/v1/reports/{r}/shared")).await;
    let by: Vec<(&str, &str)> = shared
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["item"]["title"].as_str().unwrap(),
                m["matched_by"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(by.contains(&("建设工程规划许可证", "party")), "{by:?}");
    assert!(by.contains(&("临时占道许可", "place")), "{by:?}");
    assert_eq!(by.len(), 2, "{by:?}");
    // Readers who may not see the report do not see what concerns it.
    assert_error(
        t.app
            .get(&format!("/api/v1/reports/{r}/shared"), Some(&liaison))
            .await,
        404,
        "not_found",
    )
    .await;
}

/// A report at the town's point decided as a penalty on an organisation with this credit code.
async fn decided_case(t: &Town, credit_code: &str) -> (String, String) {
    t.app.user("legal", &[Role::LegalReviewer]);
    let legal = t.app.login("legal", "dev").await.access_token;
    let r = t.report("0301").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let case_id = uuid();
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未批先建", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inspection",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "现场检查", "attachment_ids": [uuid()]})).await;
    t.ok(
        "off1",
        json!({"type": "notify_party", "case_id": case_id,
        "party": {"kind": "organization", "name": "某建筑有限公司", "id_number": credit_code},
        "facts": "未取得建设工程规划许可证建设", "legal_basis": "城乡规划法第六十四条",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}]}),
    )
    .await;
    crate::case::rewind(t, &case_id, 6);
    t.ok(
        "off2",
        json!({"type": "submit_for_review", "case_id": case_id}),
    )
    .await;
    let review = json!({"command": {"type": "review_case", "case_id": case_id, "passed": true, "opinion": "事实清楚"}});
    let r2 = t.app.post("/api/v1/commands", &review, Some(&legal)).await;
    assert_eq!(r2.status(), 200, "{}", r2.text().await.unwrap());
    t.ok("boss", json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "penalty",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}], "facts": "未取得建设工程规划许可证建设",
        "legal_basis": "城乡规划法第六十四条", "discretion": "一般情节", "statements_answer": "当事人未陈述申辩"}})).await;
    (r, case_id)
}

fn sweep_at(t: &Town, days_ahead: i64) -> griddispatch::decision_notices::Sweep {
    let mut conn = t.app.state.pool.get().unwrap();
    let now = griddispatch::db::now() + chrono::Duration::days(days_ahead);
    let s = t.app.state.config.sharing;
    griddispatch::decision_notices::sweep(&mut conn, now, s.decision_notice_days, s.match_radius_m)
        .unwrap()
}

#[actix_web::test]
async fn a_decision_reaches_each_department_it_concerns_within_five_days() {
    // The receiver listens on this machine.
    let t = Town::new_with(|c| c.webhooks.allow_local_receivers = true).await;
    let d = departments(&t).await;
    let liaison = token(&t, "liaison").await;
    let liaison2 = token(&t, "liaison2").await;
    let (lat, lon) = t.point;
    // The market office licensed something at the place; the police office knows the party.
    let r = t
        .app
        .post(
            "/api/v1/shared",
            &json!({"kind": "licence", "title": "临时占道许可", "party_name": "隔壁商店", "lat": lat, "lon": lon}),
            Some(&liaison),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = t
        .app
        .post(
            "/api/v1/shared",
            &json!({"kind": "inspection", "title": "检查记录", "credit_code": "91410800MA44XXXX1Y"}),
            Some(&liaison2),
        )
        .await;
    assert_eq!(r.status(), 201);
    // The market office receives webhooks.
    let rx = crate::webhooks::receiver(0);
    let sub = t
        .app
        .post(
            "/api/v1/webhooks",
            &json!({"name": "市场监管", "url": rx.url, "kinds": ["decide_case"], "department_id": d.market}),
            Some(&t.tokens["admin1"]),
        )
        .await;
    assert_eq!(sub.status(), 201);

    let (_, case_id) = decided_case(&t, "91410800MA44XXXX1Y").await;
    let first = sweep_at(&t, 0);
    assert_eq!(first.created, 2, "two departments concerned");
    let all = t.get("/api/v1/decision-notices?undelivered=true").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    for n in all.as_array().unwrap() {
        assert_eq!(n["case_id"], case_id.as_str());
        assert_eq!(n["overdue"], false);
        assert!(n["decision"]["number"]
            .as_str()
            .unwrap()
            .starts_with("罚决"));
    }

    // The webhook acknowledges the decision: the market office's notice is delivered.
    let client = griddispatch::webhooks::http_client(&t.app.state.config.webhooks);
    let round = griddispatch::webhooks::run_round(&t.app.state, &client)
        .await
        .unwrap();
    assert_eq!(round.delivered, 1);
    assert_eq!(sweep_at(&t, 0).delivered, 1);
    let market: Value = t
        .app
        .get("/api/v1/decision-notices", Some(&liaison))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(market.as_array().unwrap().len(), 1);
    assert_eq!(market[0]["delivered_via"], "webhook");

    // The police office's is not: after 5 days it is flagged once, and the chief is told.
    assert_eq!(sweep_at(&t, 4).flagged, 0, "still within 5 days");
    assert_eq!(sweep_at(&t, 6).flagged, 1);
    assert_eq!(sweep_at(&t, 7).flagged, 0, "flagged once");
    let told: Value = t
        .app
        .get("/api/v1/me/notifications", Some(&t.tokens["chief"]))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        told.to_string().contains("decision_notice_overdue"),
        "{told}"
    );
    let police: Value = t
        .app
        .get("/api/v1/decision-notices", Some(&liaison2))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(police.as_array().unwrap().len(), 1);
    let id = police[0]["id"].as_str().unwrap().to_owned();
    // Only the department's own liaison confirms receipt, once.
    assert_error(
        t.app
            .post(
                &format!("/api/v1/decision-notices/{id}/ack"),
                &json!({}),
                Some(&liaison),
            )
            .await,
        403,
        "out_of_scope",
    )
    .await;
    let acked = t
        .app
        .post(
            &format!("/api/v1/decision-notices/{id}/ack"),
            &json!({}),
            Some(&liaison2),
        )
        .await;
    assert_eq!(acked.status(), 200);
    let acked: Value = acked.json().await.unwrap();
    assert_eq!(acked["delivered_via"], "liaison");
    assert_error(
        t.app
            .post(
                &format!("/api/v1/decision-notices/{id}/ack"),
                &json!({}),
                Some(&liaison2),
            )
            .await,
        409,
        "already_delivered",
    )
    .await;
    assert_error(
        t.app
            .get(
                &format!("/api/v1/decision-notices?department_id={}", d.market),
                Some(&liaison2),
            )
            .await,
        403,
        "out_of_scope",
    )
    .await;
    let open = t.get("/api/v1/decision-notices?undelivered=true").await;
    assert!(open.as_array().unwrap().is_empty());
    t.verify();
}
