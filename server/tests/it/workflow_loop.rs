//! Rules of the closed loop over HTTP, on the configured backend: re-dispatch, closure with a
//! case, merge and duplicates, hotline addresses, the standard categories.
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
    let mut t = Town::new().await;
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
    let (police, procuratorate) = crate::transfers::police_and_procuratorate(&mut t).await;
    t.ok(
        "boss",
        json!({"type": "hand_over_to_police", "case_id": case_id, "reason": "涉嫌非法占用农用地罪",
               "police_department_id": police, "procuratorate_department_id": procuratorate}),
    )
    .await;
    let closed = t
        .ok("disp", json!({"type": "close_report", "report_id": r}))
        .await;
    assert_eq!(closed["report"]["status"], "closed");
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
async fn commands_name_a_squad_by_code_or_id_alike() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = uuid();
    let sent = t
        .ok(
            "disp",
            json!({"type": "dispatch_report", "report_id": r, "task_id": task, "squad_id": "SQ1"}),
        )
        .await;
    assert_eq!(sent["task"]["squad_id"], t.squad.as_str(), "stored by id");
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
    // The same squad named by its code is still the same squad.
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "redispatch_task", "task_id": task, "squad_id": "SQ1"}),
        )
        .await,
        422,
        "same_squad",
    )
    .await;
    let other = t.second_squad().await;
    let again = t
        .ok(
            "disp",
            json!({"type": "redispatch_task", "task_id": task, "squad_id": "SQ2"}),
        )
        .await;
    assert_eq!(again["task"]["squad_id"], other.as_str());
}
