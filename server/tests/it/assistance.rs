//! Assistance requests (执法协助, seed 000 三(二)(五)) over HTTP: the brigade's written request,
//! the addressed department's answer whose documents join the evidence, the 5-working-day clock,
//! extensions announced before the deadline and at most 10 days in all — each rule tried and
//! refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::transfers::with_departments;
use crate::tus::{photo, Tus};
use crate::workflow::{uuid, Town};
use serde_json::{json, Value};

fn request(report: &str, id: &str, dept: &str) -> Value {
    json!({"type": "request_assistance", "report_id": report, "request_id": id,
           "department_id": dept, "kind": "appraisal",
           "question": "请对现场查扣的散装白酒进行检测，出具是否符合食品安全标准的鉴定意见"})
}

fn extend(report: &str, id: &str, days: u32) -> Value {
    json!({"type": "extend_assistance", "report_id": report, "request_id": id, "days": days,
           "reason": "样品需送上级检测机构，周期较长"})
}

fn answer(report: &str, id: &str, attachments: &[&str]) -> Value {
    json!({"type": "answer_assistance", "report_id": report, "request_id": id,
           "answer": "经检测，样品甲醇含量超标，不符合 GB 2757-2012", "attachment_ids": attachments})
}

async fn inbox(t: &Town, who: &str) -> Vec<Value> {
    let resp = t.app.get("/api/v1/assistance", Some(&t.tokens[who])).await;
    assert_eq!(resp.status(), 200, "{who}");
    resp.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn kinds(t: &Town, who: &str) -> Vec<String> {
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
        .collect()
}

#[actix_web::test]
async fn an_assistance_answer_reaches_the_case_and_its_documents_join_the_evidence() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let case_id = crate::case::filed_case(&t).await;
    let report = t.get(&format!("/api/v1/cases/{case_id}")).await["case"]["report_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = uuid();
    let mut req = request(&report, &id, &market);
    req["case_id"] = json!(case_id);
    t.ok("disp", req).await;
    // The liaison's inbox: the request with its letter number and 5-working-day deadline; the
    // other department's liaison sees nothing.
    let mine = inbox(&t, "liaison").await;
    assert_eq!(mine.len(), 1);
    let r = &mine[0]["request"];
    assert_eq!(r["status"], "requested");
    assert_eq!(r["kind"], "appraisal");
    assert_eq!(r["case_id"], case_id.as_str());
    assert!(r["letter_number"].as_str().unwrap().starts_with("协〔"));
    assert_eq!(r["due"], r["first_due"]);
    assert!(inbox(&t, "police").await.is_empty());
    assert!(kinds(&t, "liaison")
        .await
        .contains(&"assistance_requested".to_owned()));
    // The request letter, for the brigade and the addressed department only.
    for (who, status) in [("disp", 200), ("liaison", 200), ("police", 404)] {
        let letter = t
            .app
            .get(
                &format!("/api/v1/assistance/{id}/letter"),
                Some(&t.tokens[who]),
            )
            .await;
        assert_eq!(letter.status(), status, "{who}");
        if status == 200 {
            assert_eq!(letter.headers()["content-type"], "application/pdf");
            assert!(letter.bytes().await.unwrap().starts_with(b"%PDF"));
        }
    }
    // The liaison uploads the test report and answers; the document joins the evidence of the
    // report and of the case.
    let doc = uuid();
    let tus = Tus {
        app: &t.app,
        token: t.tokens["liaison"].clone(),
    };
    assert_eq!(
        tus.upload(&photo(320, 240, 3), &doc, 1 << 20)
            .await
            .status(),
        204
    );
    // Another department may not answer, nor may the brigade answer for it.
    assert_error(
        t.cmd("police", answer(&report, &id, &[])).await,
        403,
        "out_of_scope",
    )
    .await;
    assert_error(
        t.cmd("disp", answer(&report, &id, &[])).await,
        403,
        "forbidden",
    )
    .await;
    t.ok("liaison", answer(&report, &id, &[&doc])).await;
    let detail = t.get(&format!("/api/v1/reports/{report}")).await;
    let a = &detail["report"]["assistance"][0];
    assert_eq!(a["status"], "answered");
    assert_eq!(a["answer"], "经检测，样品甲醇含量超标，不符合 GB 2757-2012");
    assert!(
        detail["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == doc.as_str()),
        "{detail}"
    );
    let case = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert!(case["case"]["evidence_ids"]
        .as_array()
        .unwrap()
        .contains(&json!(doc)));
    assert!(kinds(&t, "disp")
        .await
        .contains(&"assistance_answered".to_owned()));
    // Answered once.
    assert_error(
        t.cmd("liaison", answer(&report, &id, &[])).await,
        409,
        "invalid_state",
    )
    .await;
    // Every step is in the hash-chained record.
    let commands: Vec<String> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["command"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        commands.contains(&"request_assistance".to_owned()),
        "{commands:?}"
    );
    assert!(
        commands.contains(&"answer_assistance".to_owned()),
        "{commands:?}"
    );
    t.verify();
}

#[actix_web::test]
async fn a_request_is_made_in_the_brigades_name_to_an_active_department_with_its_question() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let before = t.audit_count();
    assert_error(
        t.cmd("lead", request(&r, &uuid(), &market)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        t.cmd("liaison", request(&r, &uuid(), &market)).await,
        403,
        "forbidden",
    )
    .await;
    let mut blank = request(&r, &uuid(), &market);
    blank["question"] = json!("  ");
    assert_error(t.cmd("disp", blank).await, 422, "question_required").await;
    assert_error(
        t.cmd("disp", request(&r, &uuid(), &uuid())).await,
        404,
        "not_found",
    )
    .await;
    let mut wrong_case = request(&r, &uuid(), &market);
    wrong_case["case_id"] = json!(crate::case::filed_case(&t).await);
    assert_error(t.cmd("disp", wrong_case).await, 422, "case_mismatch").await;
    // Nothing of those was written (the filed case wrote its own records).
    let id = uuid();
    let after_case = t.audit_count();
    assert!(after_case > before);
    t.ok("chief", request(&r, &id, &market)).await;
    assert_eq!(t.audit_count(), after_case + 1);
    assert_error(
        t.cmd("chief", request(&r, &id, &market)).await,
        409,
        "invalid_state",
    )
    .await;
}

#[actix_web::test]
async fn an_extension_is_announced_by_the_addressed_department_and_adds_at_most_10_days() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let id = uuid();
    t.ok("disp", request(&r, &id, &market)).await;
    let due = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v["request"]["due"].as_str().unwrap()).unwrap()
    };
    let first = due(&inbox(&t, "liaison").await[0]);
    assert_error(
        t.cmd("police", extend(&r, &id, 3)).await,
        403,
        "out_of_scope",
    )
    .await;
    assert_error(t.cmd("disp", extend(&r, &id, 3)).await, 403, "forbidden").await;
    assert_error(
        t.cmd("liaison", extend(&r, &id, 11)).await,
        422,
        "assistance_extension_too_long",
    )
    .await;
    assert_error(
        t.cmd("liaison", extend(&r, &id, 0)).await,
        422,
        "invalid_days",
    )
    .await;
    t.ok("liaison", extend(&r, &id, 6)).await;
    let after = due(&inbox(&t, "liaison").await[0]);
    assert_eq!(after - first, chrono::Duration::days(6));
    // 6 + 5 > 10: refused; 6 + 4 = 10: allowed; nothing more after that.
    assert_error(
        t.cmd("liaison", extend(&r, &id, 5)).await,
        422,
        "assistance_extension_too_long",
    )
    .await;
    t.ok("liaison", extend(&r, &id, 4)).await;
    assert_error(
        t.cmd("liaison", extend(&r, &id, 1)).await,
        422,
        "assistance_extension_too_long",
    )
    .await;
    let entry = &inbox(&t, "liaison").await[0];
    assert_eq!(entry["request"]["extensions"].as_array().unwrap().len(), 2);
    assert_eq!(due(entry) - first, chrono::Duration::days(10));
    assert!(kinds(&t, "disp")
        .await
        .contains(&"assistance_extended".to_owned()));
}

#[actix_web::test]
async fn an_extension_after_the_deadline_is_refused() {
    // A town whose departments answer the same day (0 working days): the deadline is passed
    // as soon as the request is made.
    let mut t = Town::new_with(|c| c.case_rules.assistance_answer_working_days = 0).await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let id = uuid();
    t.ok("disp", request(&r, &id, &market)).await;
    assert_error(
        t.cmd("liaison", extend(&r, &id, 2)).await,
        409,
        "assistance_deadline_passed",
    )
    .await;
    // The answer is still taken, late.
    t.ok("liaison", answer(&r, &id, &[])).await;
}

#[actix_web::test]
async fn assistance_clocks_warn_at_80_percent_and_escalate_when_overdue() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let id = uuid();
    t.ok("disp", request(&r, &id, &market)).await;
    let entry = &inbox(&t, "liaison").await[0];
    let due = chrono::DateTime::parse_from_rfc3339(entry["request"]["due"].as_str().unwrap())
        .unwrap()
        .naive_utc();
    let sweep = |at: chrono::NaiveDateTime| {
        t.sweep_at(at, griddispatch::workflow::transfer_deadlines::sweep)
    };
    let now = griddispatch::db::now();
    assert_eq!(sweep(now + chrono::Duration::minutes(5)), 0, "just asked");
    assert_eq!(
        sweep(due - chrono::Duration::minutes(1)),
        1,
        "yellow near the deadline"
    );
    assert_eq!(sweep(due - chrono::Duration::seconds(30)), 0, "raised once");
    assert_eq!(inbox(&t, "liaison").await[0]["light"], "yellow");
    assert_eq!(
        sweep(due + chrono::Duration::minutes(1)),
        1,
        "red when overdue"
    );
    assert_eq!(sweep(due + chrono::Duration::minutes(2)), 0, "raised once");
    assert_eq!(inbox(&t, "disp").await[0]["light"], "red");
    let liaison = kinds(&t, "liaison").await;
    assert!(
        liaison.contains(&"assistance_deadline_warning".to_owned()),
        "{liaison:?}"
    );
    assert!(
        liaison.contains(&"assistance_overdue".to_owned()),
        "{liaison:?}"
    );
    assert!(kinds(&t, "chief")
        .await
        .contains(&"assistance_overdue".to_owned()));
    assert!(kinds(&t, "disp")
        .await
        .contains(&"assistance_overdue".to_owned()));
    assert!(!kinds(&t, "police")
        .await
        .iter()
        .any(|k| k.starts_with("assistance")));
    // Clients may not raise the flags; an answered request's clock stops.
    assert_error(
        t.cmd(
            "chief",
            json!({"type": "flag_assistance_deadline", "report_id": r, "request_id": id, "level": "red"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    t.ok("liaison", answer(&r, &id, &[])).await;
    assert_eq!(sweep(due + chrono::Duration::days(3)), 0);
    assert_eq!(inbox(&t, "liaison").await[0]["light"], Value::Null);
}
