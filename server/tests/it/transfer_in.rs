//! Transfers in (移送执法队) over HTTP: a department's liaison transfers a matter to the brigade;
//! it becomes a report with source `department` carrying the packet; the brigade accepts it
//! (the normal loop) or refuses it with its reason within 3 days, and may not pass it on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::transfers::with_departments;
use crate::workflow::{uuid, Town};
use serde_json::{json, Value};

fn transfer_in(t: &Town, id: &str) -> Value {
    json!({"type": "transfer_in", "report_id": id, "category_code": "0601",
           "description": "沿街店铺违规设置户外广告牌", "address": "人民路 18 号",
           "position": {"lat": t.point.0, "lon": t.point.1},
           "reason": "户外广告设置管理已划转综合行政执法", "finding": "未经批准设置户外广告",
           "evidence_list": "检查记录 1 份；照片 3 张", "attachment_ids": [uuid()]})
}

fn answer(report: &str, accept: bool, reason: Option<&str>) -> Value {
    json!({"type": "answer_transfer_in", "report_id": report, "accept": accept, "reason": reason})
}

#[actix_web::test]
async fn a_departments_transfer_becomes_a_report_that_the_brigade_accepts_into_the_loop() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = uuid();
    // Only a department's liaison transfers in.
    assert_error(t.cmd("disp", transfer_in(&t, &r)).await, 403, "forbidden").await;
    t.ok("liaison", transfer_in(&t, &r)).await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let report = &detail["report"];
    assert_eq!(report["source"], "department");
    assert_eq!(report["status"], "reported");
    let tin = &report["transfer_in"];
    assert_eq!(tin["status"], "sent");
    assert_eq!(tin["department_id"], market.as_str());
    assert_eq!(tin["finding"], "未经批准设置户外广告");
    let sent = chrono::DateTime::parse_from_rfc3339(tin["sent_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(tin["answer_due"].as_str().unwrap()).unwrap();
    assert_eq!(due - sent, chrono::Duration::days(3));
    assert_eq!(report["attachment_ids"], tin["attachment_ids"]);
    // The sending department sees it; another does not.
    for (who, status) in [("liaison", 200), ("police", 404)] {
        let got = t
            .app
            .get(&format!("/api/v1/reports/{r}"), Some(&t.tokens[who]))
            .await;
        assert_eq!(got.status(), status, "{who}");
    }
    // Not dispatched before the brigade answers; the sender does not answer for the brigade.
    assert_error(
        t.cmd("disp", json!({"type": "dispatch_report", "report_id": r, "task_id": uuid(), "squad_id": t.squad})).await,
        409,
        "transfer_in_unanswered",
    )
    .await;
    assert_error(
        t.cmd("liaison", answer(&r, true, None)).await,
        403,
        "forbidden",
    )
    .await;
    t.ok("disp", answer(&r, true, None)).await;
    assert_error(
        t.cmd("disp", answer(&r, false, Some("x"))).await,
        409,
        "invalid_state",
    )
    .await;
    // Accepted: the normal loop. The brigade may not pass it on.
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "decide_transfer", "report_id": r, "department_id": market,
                             "reason": "退回市场监管"}),
        )
        .await,
        409,
        "retransfer_forbidden",
    )
    .await;
    t.dispatch(&r).await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert_eq!(detail["report"]["status"], "accepted");
    assert_eq!(detail["report"]["transfer_in"]["status"], "accepted");
    t.verify();
}

#[actix_web::test]
async fn the_brigade_refuses_a_transfer_in_only_with_its_reason_and_never_sends_it_back() {
    let mut t = Town::new().await;
    let (market, police) = with_departments(&mut t).await;
    let r = uuid();
    t.ok("liaison", transfer_in(&t, &r)).await;
    let before = t.audit_count();
    assert_error(
        t.cmd("chief", answer(&r, false, None)).await,
        422,
        "refusal_reason_required",
    )
    .await;
    assert_error(
        t.cmd("chief", answer(&r, false, Some("  "))).await,
        422,
        "refusal_reason_required",
    )
    .await;
    assert_eq!(t.audit_count(), before, "nothing written");
    // Nor is it transferred on, to the sender or to anyone else.
    for dept in [&market, &police] {
        assert_error(
            t.cmd(
                "disp",
                json!({"type": "decide_transfer", "report_id": r, "department_id": dept,
                                 "reason": "不属本队"}),
            )
            .await,
            409,
            "retransfer_forbidden",
        )
        .await;
    }
    t.ok(
        "chief",
        answer(&r, false, Some("户外广告审批仍属住建部门，未划转")),
    )
    .await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert_eq!(detail["report"]["status"], "rejected");
    assert_eq!(detail["report"]["transfer_in"]["status"], "refused");
    assert_eq!(
        detail["report"]["transfer_in"]["refusal_reason"],
        "户外广告审批仍属住建部门，未划转"
    );
    // The sender reads the refusal.
    let mine: Value = t
        .app
        .get(&format!("/api/v1/reports/{r}"), Some(&t.tokens["liaison"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["report"]["transfer_in"]["status"], "refused");
}

#[actix_web::test]
async fn the_brigades_answer_clock_warns_at_80_percent_and_escalates_when_overdue() {
    let mut t = Town::new().await;
    with_departments(&mut t).await;
    let r = uuid();
    t.ok("liaison", transfer_in(&t, &r)).await;
    let sweep = |hours: i64| {
        let now = griddispatch::db::now() + chrono::Duration::hours(hours);
        t.sweep_at(now, griddispatch::workflow::transfer_deadlines::sweep)
    };
    assert_eq!(sweep(24), 0, "one day of three");
    assert_eq!(sweep(60), 1, "yellow at 80 % of 72 hours");
    assert_eq!(sweep(61), 0, "raised once");
    assert_eq!(sweep(73), 1, "red after 3 days");
    assert_eq!(sweep(74), 0);
    let kinds = |who: &'static str| {
        let t = &t;
        async move {
            let v: Value = t
                .app
                .get("/api/v1/me/notifications", Some(&t.tokens[who]))
                .await
                .json()
                .await
                .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|n| n["kind"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(kinds("disp")
        .await
        .contains(&"transfer_deadline_warning".to_owned()));
    assert!(kinds("chief")
        .await
        .contains(&"transfer_overdue".to_owned()));
    assert!(kinds("liaison")
        .await
        .contains(&"transfer_overdue".to_owned()));
    assert!(kinds("police").await.is_empty());
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert_eq!(
        detail["report"]["transfer_in"]["flags"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Answered, the clock stops.
    t.ok("disp", answer(&r, true, None)).await;
    assert_eq!(sweep(200), 0);
}
