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
