//! Loose ends of the closed loop (issue 15) over HTTP, on the configured backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::workflow::Town;
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
