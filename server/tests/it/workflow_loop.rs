//! Loose ends of the closed loop (issue 15) over HTTP, on the configured backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::workflow::{uuid, Town};
use serde_json::json;

#[actix_web::test]
async fn a_returned_task_cannot_be_redispatched_to_the_same_squad() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.ok(
        "lead",
        json!({"type": "request_return", "task_id": task, "reason": "不属本中队职责"}),
    )
    .await;
    t.ok(
        "chief",
        json!({"type": "decide_return", "task_id": task, "approve": true}),
    )
    .await;
    let before = t.audit_count();
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "redispatch_task", "task_id": task, "squad_id": t.squad}),
        )
        .await,
        422,
        "same_squad",
    )
    .await;
    assert_eq!(t.audit_count(), before, "a refusal writes nothing");
    let other = t.second_squad().await;
    let again = t
        .ok(
            "disp",
            json!({"type": "redispatch_task", "task_id": task, "squad_id": other}),
        )
        .await;
    assert_eq!(again["task"]["squad_id"], other.as_str());
}

#[actix_web::test]
async fn a_report_whose_case_is_open_is_not_closed_until_the_case_ends() {
    let t = Town::new().await;
    let r = t.report("0301").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let case_id = uuid();
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    // The squad's part ends: the task is closed and re-checked on site.
    t.ok("lead", json!({"type": "close_task", "task_id": task}))
        .await;
    t.ok(
        "gmx",
        json!({"type": "recheck_task", "task_id": task, "passed": true}),
    )
    .await;
    let message = assert_error(
        t.cmd("disp", json!({"type": "close_report", "report_id": r}))
            .await,
        409,
        "invalid_state",
    )
    .await;
    assert!(message.contains("filed"), "{message}");
    t.ok(
        "boss",
        json!({"type": "hand_over_to_police", "case_id": case_id, "reason": "涉嫌非法占用农用地罪"}),
    )
    .await;
    let closed = t
        .ok("disp", json!({"type": "close_report", "report_id": r}))
        .await;
    assert_eq!(closed["report"]["status"], "closed");
    t.verify();
}

/// Run the deadline sweep as if it were `now`.
fn sweep_at(t: &Town, now: chrono::NaiveDateTime) -> usize {
    let st = &t.app.state;
    let calendar = st.calendar.load_full();
    let grid = st.grid.load_full();
    let mut conn = st.pool.get().unwrap();
    let env = griddispatch::workflow::Env {
        grid: grid.as_deref().map(|g| &g.index),
        grid_version: grid.as_ref().map_or(0, |g| g.version),
        calendar: &calendar,
        now,
        case_rules: Default::default(),
        merge_rules: Default::default(),
    };
    griddispatch::workflow::deadlines::sweep(&mut conn, &env).unwrap()
}

fn stored_task(t: &Town, id: &str) -> griddispatch::domain::workflow::Task {
    let mut conn = t.app.state.pool.get().unwrap();
    griddispatch::store::workflow::task(&mut conn, id)
        .unwrap()
        .unwrap()
}

async fn notification_kinds(t: &Town, who: &str) -> Vec<String> {
    let notes: Vec<serde_json::Value> = t
        .app
        .get("/api/v1/me/notifications", Some(&t.tokens[who]))
        .await
        .json()
        .await
        .unwrap();
    let mut kinds: Vec<String> = notes
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds
}

#[actix_web::test]
async fn an_unacknowledged_task_warns_the_squad_then_escalates_to_the_duty_chief() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    let ack_due = stored_task(&t, &task).ack_due_at;
    assert_eq!(sweep_at(&t, ack_due - chrono::Duration::minutes(5)), 1);
    assert_eq!(notification_kinds(&t, "lead").await, ["ack_warning"]);
    assert_eq!(sweep_at(&t, ack_due + chrono::Duration::minutes(1)), 1);
    assert_eq!(
        sweep_at(&t, ack_due + chrono::Duration::minutes(2)),
        0,
        "fires once"
    );
    assert_eq!(notification_kinds(&t, "chief").await, ["ack_overdue"]);
    let stored = stored_task(&t, &task);
    assert!(stored.ack_escalated_at.is_some());
    assert!(
        stored.escalated_at.is_none(),
        "the handling clock is its own"
    );
    let detail = t.get(&format!("/api/v1/tasks/{task}")).await;
    let flags: Vec<&serde_json::Value> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["command"] == "flag_deadline")
        .collect();
    assert_eq!(flags.len(), 2);
    assert_eq!(flags[1]["payload"]["clock"], "acknowledgement");
    t.verify();
}

#[actix_web::test]
async fn an_accepted_task_raises_no_acknowledgement_warning() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.ok("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1"), t.id("off2")]})).await;
    let ack_due = stored_task(&t, &task).ack_due_at;
    assert_eq!(sweep_at(&t, ack_due + chrono::Duration::minutes(1)), 0);
    assert!(notification_kinds(&t, "chief").await.is_empty());
}

#[actix_web::test]
async fn a_natural_time_category_keeps_its_measure_on_the_task_and_the_sweep_uses_it() {
    let t = Town::new().await;
    let body = json!({"code": "0501", "name": "突发事件", "domain": "城市管理", "handling": "24h",
        "simple_procedure": false, "penalty_possible": false, "legal_basis": "依据", "active": true});
    let resp = t
        .app
        .client
        .put(t.app.url("/api/v1/categories/0501"))
        .bearer_auth(&t.tokens["admin1"])
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let r = t.report("0501").await;
    let task = t.dispatch(&r).await;
    let detail = t.get(&format!("/api/v1/tasks/{task}")).await;
    assert_eq!(detail["task"]["handling_measure"], "natural");
    t.ok(
        "lead",
        json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1")]}),
    )
    .await;
    let stored = stored_task(&t, &task);
    assert_eq!(
        stored.due_at - stored.dispatched_at,
        chrono::Duration::hours(24)
    );
    // 19 h of 24 is 79 %: nothing; 20 h is 83 %: yellow, whatever the office hours.
    assert_eq!(
        sweep_at(&t, stored.dispatched_at + chrono::Duration::hours(19)),
        0
    );
    assert_eq!(
        sweep_at(&t, stored.dispatched_at + chrono::Duration::hours(20)),
        1
    );
    assert_eq!(notification_kinds(&t, "lead").await, ["deadline_warning"]);
}

#[actix_web::test]
async fn the_duty_chief_escalates_a_task_by_hand_and_the_squad_is_told() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    let escalate =
        |reason: &str| json!({"type": "escalate_task", "task_id": task, "reason": reason});
    assert_error(t.cmd("disp", escalate("快办")).await, 403, "forbidden").await;
    assert_error(t.cmd("chief", escalate("")).await, 422, "reason_required").await;
    let done = t.ok("chief", escalate("群众三次来电投诉")).await;
    assert_eq!(done["task"]["escalations"][0]["reason"], "群众三次来电投诉");
    assert_eq!(done["task"]["status"], "dispatched");
    assert_eq!(notification_kinds(&t, "lead").await, ["escalated"]);
    let detail = t.get(&format!("/api/v1/tasks/{task}")).await;
    let last = detail["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["command"], "escalate_task");
    t.verify();
}

#[actix_web::test]
async fn duplicates_are_offered_with_distance_and_age_and_a_merge_checks_them() {
    let t = Town::new().await;
    let first = t.report("0401").await;
    let second = t.report("0401").await;
    let other_kind = t.report("0601").await;
    let list = t.get(&format!("/api/v1/reports/{second}/duplicates")).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["report_id"], first.as_str());
    assert_eq!(list[0]["distance_m"], 0.0);
    assert!(list[0]["age_hours"].as_f64().unwrap() >= 0.0);
    assert_error(
        t.app
            .get(
                &format!("/api/v1/reports/{second}/duplicates"),
                Some(&t.tokens["gmx"]),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "merge_report", "report_id": other_kind, "into_report_id": first}),
        )
        .await,
        422,
        "not_a_duplicate",
    )
    .await;
    let merged = t
        .ok(
            "disp",
            json!({"type": "merge_report", "report_id": second, "into_report_id": first}),
        )
        .await;
    assert_eq!(merged["report"]["status"], "merged");
    let list = t.get(&format!("/api/v1/reports/{first}/duplicates")).await;
    assert!(
        list.as_array().unwrap().is_empty(),
        "a merged report is no candidate"
    );
}

#[actix_web::test]
async fn a_grid_member_finds_their_own_cells_in_me() {
    let t = Town::new().await;
    let me = t.app.get("/api/v1/me", Some(&t.tokens["gmx"])).await;
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "gmx", "the account is still there");
    let cells = me["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{cells:?}");
    assert_eq!(cells[0]["code"], t.village.as_str());
    assert_eq!(cells[0]["level"], "village");
    assert_eq!(cells[0]["role"], "grid_member");
    assert!(!cells[0]["name"].as_str().unwrap().is_empty());
    let chief: serde_json::Value = t
        .app
        .get("/api/v1/me", Some(&t.tokens["chief"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(chief["cells"], json!([]));
}

#[actix_web::test]
async fn the_rechecking_grid_member_opens_the_officers_before_and_after_photos() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let tus = crate::tus::Tus {
        app: &t.app,
        token: t.tokens["off2"].clone(),
    };
    let photos = [uuid(), uuid()];
    for (i, id) in photos.iter().enumerate() {
        let resp = tus
            .upload(&crate::tus::photo(120, 90, 40 + i as u32), id, 1 << 20)
            .await;
        assert_eq!(resp.status(), 204);
    }
    t.ok("off2", json!({"type": "handle_task", "task_id": task, "outcome": {"outcome": "rectified", "note": "摊位已撤离"}, "attachment_ids": photos})).await;
    t.ok("lead", json!({"type": "close_task", "task_id": task}))
        .await;
    for id in &photos {
        let got = t
            .app
            .get(&format!("/api/v1/attachments/{id}"), Some(&t.tokens["gm2"]))
            .await;
        assert_eq!(got.status(), 200, "the re-checker sees {id}");
        let file = t
            .app
            .get(
                &format!("/api/v1/attachments/{id}/content?variant=display"),
                Some(&t.tokens["gm2"]),
            )
            .await;
        assert_eq!(file.status(), 200);
    }
    // A grid member of no cell of this task sees nothing.
    t.app
        .user("far", &[griddispatch_protocol::Role::GridMember]);
    let far = t.app.login("far", "p").await.access_token;
    assert_error(
        t.app
            .get(&format!("/api/v1/attachments/{}", photos[0]), Some(&far))
            .await,
        404,
        "not_found",
    )
    .await;
    t.ok(
        "gm2",
        json!({"type": "recheck_task", "task_id": task, "passed": true}),
    )
    .await;
}

#[actix_web::test]
async fn a_hotline_report_with_an_address_is_placed_on_the_map_before_dispatch() {
    let t = Town::new().await;
    let r = uuid();
    let made = t
        .ok(
            "disp",
            json!({"type": "create_report", "report_id": r, "source": "hotline", "category_code": "0401",
                "description": "来电反映人民路有人占道经营", "address": "人民路 12 号门口",
                "contact": {"name": "王先生", "phone": "13800000000"}}),
        )
        .await;
    assert_eq!(made["report"]["address"], "人民路 12 号门口");
    assert!(made["report"]["cell"].is_null());
    let task = uuid();
    let dispatch =
        json!({"type": "dispatch_report", "report_id": r, "task_id": task, "squad_id": t.squad});
    assert_error(
        t.cmd("disp", dispatch.clone()).await,
        422,
        "position_required",
    )
    .await;
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "set_report_position", "report_id": r, "position": {"lat": 0.5, "lon": 0.5}}),
        )
        .await,
        422,
        "outside_grid",
    )
    .await;
    let placed = t
        .ok(
            "disp",
            json!({"type": "set_report_position", "report_id": r, "position": {"lat": t.point.0, "lon": t.point.1}}),
        )
        .await;
    assert_eq!(placed["report"]["cell"]["village"], t.village.as_str());
    // The list filters see the new cell (stored columns follow the report).
    let listed = t
        .get(&format!(
            "/api/v1/reports?cell={}&status=reported",
            t.village
        ))
        .await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["report"]["id"] == r.as_str()),
        "{listed}"
    );
    t.ok("disp", dispatch).await;
    t.verify();
}

#[actix_web::test]
async fn a_fresh_installation_ships_the_standard_categories_and_takes_reports() {
    let t = Town::new().await;
    let list = t.get("/api/v1/categories").await;
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for code in ["0101", "0301", "0401", "0501"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // A grid member reports under a shipped category no admin has touched.
    t.report("0101").await;
    // Offered once: an admin's change is never undone at the next start.
    let mut row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "0101")
        .unwrap()
        .clone();
    row["active"] = json!(false);
    let resp = t
        .app
        .client
        .put(t.app.url("/api/v1/categories/0101"))
        .bearer_auth(&t.tokens["admin1"])
        .json(&row)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut conn = t.app.state.pool.get().unwrap();
    let standard = griddispatch::demo_categories::demo_categories();
    assert_eq!(
        griddispatch::store::categories::seed_standard(&mut conn, &standard).unwrap(),
        0
    );
    let again = griddispatch::store::categories::find(&mut conn, "0101")
        .unwrap()
        .unwrap();
    assert!(!again.active);
}

#[actix_web::test]
async fn statistics_are_scoped_to_a_grid_leaders_cells_with_a_period_and_closure_and_return_rates()
{
    let t = Town::new().await;
    let a = t.report("0401").await;
    t.report("0401").await;
    let task = t.dispatch(&a).await;
    t.ok(
        "lead",
        json!({"type": "request_return", "task_id": task, "reason": "不属本中队职责"}),
    )
    .await;
    t.ok(
        "chief",
        json!({"type": "decide_return", "task_id": task, "approve": true}),
    )
    .await;
    let rows = t.get("/api/v1/stats?group_by=category").await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "0401")
        .unwrap()
        .clone();
    assert_eq!(row["received"], 2);
    assert_eq!(row["closure_rate"], 0.0);
    assert_eq!(row["return_rate"], 1.0);
    // Period: China calendar days.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let q = |from: &str, to: &str| format!("/api/v1/stats?group_by=category&from={from}&to={to}");
    let counted = t.get(&q(&day(today), &day(today))).await;
    assert_eq!(counted.as_array().unwrap().len(), 1);
    let later = t
        .get(&q(&day(today.succ_opt().unwrap()), "2099-12-31"))
        .await;
    assert_eq!(later, json!([]));
    assert_error(
        t.app
            .get(
                "/api/v1/stats?group_by=cell&from=yesterday",
                Some(&t.tokens["disp"]),
            )
            .await,
        400,
        "invalid_query",
    )
    .await;
    // Grid leaders: their own cells only.
    let admin = &t.tokens["admin1"];
    let grid: serde_json::Value = t
        .app
        .get("/api/v1/grid?level=village", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    let elsewhere = grid["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap().to_owned())
        .find(|c| *c != t.village)
        .unwrap();
    for (who, cell) in [("gl_here", t.village.clone()), ("gl_far", elsewhere)] {
        t.app.user(who, &[griddispatch_protocol::Role::GridLeader]);
        let r = t
            .app
            .client
            .put(
                t.app
                    .url(&format!("/api/v1/grid/cells/{cell}/members/{who}")),
            )
            .bearer_auth(admin)
            .json(&json!({"role": "grid_leader"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let stats_of = |who: &'static str| {
        let app = &t.app;
        async move {
            let token = app.login(who, "p").await.access_token;
            let rows: serde_json::Value = app
                .get("/api/v1/stats?group_by=cell", Some(&token))
                .await
                .json()
                .await
                .unwrap();
            rows
        }
    };
    let here = stats_of("gl_here").await;
    assert_eq!(here[0]["key"], t.village.as_str());
    assert_eq!(here[0]["received"], 2);
    assert_eq!(stats_of("gl_far").await, json!([]), "not their cells");
}

#[actix_web::test]
async fn an_admin_renews_a_certificate_it_is_recorded_and_an_expiring_one_is_warned_about() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    let put = |user: &str, body: serde_json::Value| {
        t.app
            .client
            .put(t.app.url(&format!("/api/v1/users/{user}/certificate")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    // The uncertified officer's certificate (expired 2020) is renewed: they may now handle.
    let before = t.audit_count();
    let resp = put(
        "uncert",
        json!({"number": "O-9-2026", "valid_until": "2028-12-31"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let view: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(view["certificate"]["number"], "O-9-2026");
    assert_eq!(view["certificate_valid"], true);
    assert_eq!(t.audit_count(), before + 1, "in the full-process record");
    {
        let mut conn = t.app.state.pool.get().unwrap();
        let last = griddispatch::store::audit::last(&mut conn)
            .unwrap()
            .unwrap();
        assert_eq!(last.command, "set_certificate");
        assert_eq!(last.actor_id, t.id("admin1"));
        assert!(last.before.contains("O-9") && last.after.contains("O-9-2026"));
    }
    t.verify();
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.ok("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("uncert"), t.id("off2")]})).await;
    // Only an admin; a certificate number is required.
    assert_error(
        t.app
            .client
            .put(t.app.url("/api/v1/users/off1/certificate"))
            .bearer_auth(&t.tokens["chief"])
            .json(&json!({"number": "X", "valid_until": "2030-01-01"}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        put("off1", json!({"number": " ", "valid_until": "2030-01-01"}))
            .await
            .unwrap(),
        422,
        "invalid_certificate",
    )
    .await;
    // A certificate ending in 10 days warns its holder and the admins, once.
    let soon = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let resp = put("off2", json!({"number": "O-2", "valid_until": soon}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let st = &t.app.state;
    let mut conn = st.pool.get().unwrap();
    let now = griddispatch::db::now();
    assert_eq!(
        griddispatch::workflow::notify::warn_expiring_certificates(&mut conn, now).unwrap(),
        1
    );
    assert_eq!(
        griddispatch::workflow::notify::warn_expiring_certificates(&mut conn, now).unwrap(),
        0,
        "once"
    );
    drop(conn);
    for who in ["off2", "admin1"] {
        let notes: Vec<serde_json::Value> = t
            .app
            .get("/api/v1/me/notifications", Some(&t.tokens[who]))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            notes.iter().any(|n| n["kind"] == "certificate_expiring"),
            "{who}: {notes:?}"
        );
    }
}
