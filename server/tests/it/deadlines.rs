//! Deadlines over HTTP: the acknowledgement clock, natural-time clocks, 督办 by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::workflow::Town;
use serde_json::json;

/// Run the deadline sweep as if it were `now`.
fn sweep_at(t: &Town, now: chrono::NaiveDateTime) -> usize {
    t.sweep_at(now, griddispatch::workflow::deadlines::sweep)
}

fn stored_task(t: &Town, id: &str) -> griddispatch::domain::workflow::Task {
    t.stored_task(id)
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
