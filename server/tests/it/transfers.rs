//! Transfers out (移送) over HTTP: from the brigade's decision to the receiver's outcome, each
//! rule of seed 000 三(二) tried and refused, the clocks, and what a liaison sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::workflow::{uuid, Town};
use griddispatch_protocol::Role;
use serde_json::{json, Value};

/// A town with two departments: 县市场监督管理局 (liaison `liaison`) and 某某派出所 (liaison
/// `police`); returns their ids.
pub(crate) async fn with_departments(t: &mut Town) -> (String, String) {
    t.app.user("liaison", &[Role::DepartmentLiaison]);
    t.app.user("police", &[Role::DepartmentLiaison]);
    let mut ids = Vec::new();
    for (name, kind, liaison) in [
        ("县市场监督管理局", "functional", "liaison"),
        ("某某派出所", "police", "police"),
    ] {
        let resp = t
            .app
            .post(
                "/api/v1/departments",
                &json!({"name": name, "kind": kind, "liaisons": [liaison]}),
                Some(&t.tokens["admin1"]),
            )
            .await;
        assert_eq!(resp.status(), 201);
        let d: Value = resp.json().await.unwrap();
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    for u in ["liaison", "police"] {
        let token = t.app.login(u, "dev").await.access_token;
        t.tokens.insert(u, token);
    }
    (ids[0].clone(), ids[1].clone())
}

fn decide(report: &str, dept: &str) -> Value {
    json!({"type": "decide_transfer", "report_id": report, "department_id": dept,
           "reason": "无照经营食品，属市场监管部门职责"})
}

fn send(report: &str) -> Value {
    json!({"type": "send_transfer", "report_id": report, "finding": "当事人未取得营业执照从事食品经营",
           "evidence_list": "现场照片 2 张；询问笔录 1 份", "expert_conclusions": "无"})
}

#[actix_web::test]
async fn a_transfer_runs_from_the_brigades_decision_to_the_receivers_outcome() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    t.ok(
        "disp",
        json!({"type": "decide_transfer", "report_id": r, "department_id": market,
               "reason": "无照经营食品，属市场监管部门职责", "ongoing_violation": true,
               "violation_stopped": "已责令当场停止经营并登记保存物品"}),
    )
    .await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert_eq!(detail["report"]["status"], "transferred");
    let tr = &detail["report"]["transfer"];
    assert_eq!(tr["status"], "decided");
    assert_eq!(tr["department_name"], "县市场监督管理局");
    assert_eq!(tr["violation_stopped"], "已责令当场停止经营并登记保存物品");
    // No letter before it is sent.
    assert_error(
        t.app
            .get(
                &format!("/api/v1/reports/{r}/transfer-letter"),
                Some(&t.tokens["disp"]),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    t.ok("disp", send(&r)).await;
    let letter = t
        .app
        .get(
            &format!("/api/v1/reports/{r}/transfer-letter"),
            Some(&t.tokens["liaison"]),
        )
        .await;
    assert_eq!(letter.status(), 200);
    assert_eq!(
        letter.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let bytes = letter.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"), "a PDF letter");

    // The liaison's inbox: the transfer with its answer clock.
    let inbox: Value = t
        .app
        .get("/api/v1/transfers", Some(&t.tokens["liaison"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox[0]["report_id"], r.as_str());
    assert_eq!(inbox[0]["clock"], "answer");
    assert!(inbox[0]["transfer"]["packet"]["letter_number"]
        .as_str()
        .unwrap()
        .starts_with("移〔"));
    t.ok(
        "liaison",
        json!({"type": "answer_transfer", "report_id": r, "accept": true}),
    )
    .await;
    t.ok(
        "liaison",
        json!({"type": "report_transfer_outcome", "report_id": r, "outcome": "已立案查处，责令停止经营"}),
    )
    .await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let tr = &detail["report"]["transfer"];
    assert_eq!(tr["status"], "concluded");
    assert_eq!(tr["outcome"], "已立案查处，责令停止经营");
    let commands: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["command"].as_str().unwrap())
        .collect();
    for c in [
        "decide_transfer",
        "send_transfer",
        "answer_transfer",
        "report_transfer_outcome",
    ] {
        assert!(commands.contains(&c), "{c} in the record: {commands:?}");
    }
    t.verify();
}

#[actix_web::test]
async fn the_transfer_rules_refuse_what_the_law_forbids_and_write_nothing() {
    let mut t = Town::new().await;
    let (market, police) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let before = t.audit_count();
    // A squad may not send in its own name — neither by role nor by naming itself.
    let mut as_squad = decide(&r, &market);
    as_squad["sender"] = json!("squad");
    assert_error(t.cmd("disp", as_squad).await, 422, "brigade_name_required").await;
    assert_error(t.cmd("lead", decide(&r, &market)).await, 403, "forbidden").await;
    // An ongoing violation is stopped first, and the transfer says how.
    let mut ongoing = decide(&r, &market);
    ongoing["ongoing_violation"] = json!(true);
    assert_error(t.cmd("disp", ongoing).await, 422, "violation_not_stopped").await;
    let mut no_reason = decide(&r, &market);
    no_reason["reason"] = json!(" ");
    assert_error(t.cmd("disp", no_reason).await, 422, "reason_required").await;
    assert_error(t.cmd("disp", decide(&r, &uuid())).await, 404, "not_found").await;
    assert_eq!(t.audit_count(), before, "refused commands write nothing");

    t.ok("disp", decide(&r, &market)).await;
    // One matter, one transfer.
    assert_error(
        t.cmd("chief", decide(&r, &police)).await,
        409,
        "already_transferred",
    )
    .await;
    // Nothing to answer before it is sent; only the receiving department answers.
    assert_error(
        t.cmd(
            "liaison",
            json!({"type": "answer_transfer", "report_id": r, "accept": true}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
    t.ok("disp", send(&r)).await;
    assert_error(
        t.cmd(
            "police",
            json!({"type": "answer_transfer", "report_id": r, "accept": true}),
        )
        .await,
        403,
        "out_of_scope",
    )
    .await;
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "answer_transfer", "report_id": r, "accept": true}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // A refusal without its reason is refused.
    assert_error(
        t.cmd(
            "liaison",
            json!({"type": "answer_transfer", "report_id": r, "accept": false}),
        )
        .await,
        422,
        "refusal_reason_required",
    )
    .await;
    // The receiver may not pass the matter on.
    assert_error(
        t.cmd("liaison", decide(&r, &police)).await,
        403,
        "forbidden",
    )
    .await;
    t.ok(
        "liaison",
        json!({"type": "answer_transfer", "report_id": r, "accept": false, "reason": "不属于本部门职责"}),
    )
    .await;
    // A disputed transfer: legal office first, then the government.
    let dispute = |level: &str| json!({"type": "dispute_transfer", "report_id": r, "level": level, "note": "依三定方案属市场监管职责"});
    assert_error(
        t.cmd("chief", dispute("government")).await,
        409,
        "dispute_order",
    )
    .await;
    t.ok("chief", dispute("legal_office")).await;
    t.ok("chief", dispute("government")).await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let tr = &detail["report"]["transfer"];
    assert_eq!(tr["status"], "disputed");
    assert_eq!(tr["refusal_reason"], "不属于本部门职责");
    assert_eq!(tr["disputes"].as_array().unwrap().len(), 2);
    // Still one transfer.
    assert_error(
        t.cmd("disp", decide(&r, &police)).await,
        409,
        "already_transferred",
    )
    .await;
    t.verify();
}

#[actix_web::test]
async fn transfer_clocks_warn_at_80_percent_and_escalate_when_overdue() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let mut urgent = decide(&r, &market);
    urgent["urgent"] = json!(true);
    t.ok("disp", urgent).await;
    let sweep = |hours: i64| {
        let now = griddispatch::db::now() + chrono::Duration::hours(hours);
        t.sweep_at(now, griddispatch::workflow::transfer_deadlines::sweep)
    };
    assert_eq!(sweep(1), 0, "nothing after 1 of 24 hours");
    assert_eq!(sweep(20), 1, "yellow after 80 % of 24 hours (urgent)");
    assert_eq!(sweep(21), 0, "raised once");
    assert_eq!(sweep(25), 1, "red after 24 hours");
    assert_eq!(sweep(26), 0);
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
    assert!(
        kinds("liaison").await.is_empty(),
        "sending is the brigade's clock"
    );
    // Sent: the receiver's 3-day answer clock.
    t.ok("disp", send(&r)).await;
    assert_eq!(sweep(24), 0, "one day of three");
    assert_eq!(sweep(60), 1, "yellow at 80 % of 72 hours");
    assert_eq!(sweep(73), 1, "red after 3 days");
    let liaison = kinds("liaison").await;
    assert!(
        liaison.contains(&"transfer_deadline_warning".to_owned()),
        "{liaison:?}"
    );
    assert!(
        liaison.contains(&"transfer_overdue".to_owned()),
        "{liaison:?}"
    );
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let flags = detail["report"]["transfer"]["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 4, "{flags:?}");
    // Clients may not raise the flags.
    assert_error(
        t.cmd(
            "chief",
            json!({"type": "flag_transfer_deadline", "report_id": r, "clock": "answer", "level": "red"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

#[actix_web::test]
async fn a_liaison_sees_only_the_transfers_to_its_department() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let other = t.report("0601").await;
    t.ok("disp", decide(&r, &market)).await;
    for (who, sees) in [("liaison", true), ("police", false)] {
        let token = &t.tokens[who];
        let got = t
            .app
            .get(&format!("/api/v1/reports/{r}"), Some(token))
            .await;
        assert_eq!(got.status(), if sees { 200 } else { 404 }, "{who}");
        let list: Value = t
            .app
            .get("/api/v1/reports", Some(token))
            .await
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["report"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.contains(&r.as_str()), sees, "{who}: {list}");
        assert!(!ids.contains(&other.as_str()), "{who} sees no other report");
        let inbox: Value = t
            .app
            .get("/api/v1/transfers", Some(token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(inbox.as_array().unwrap().len(), usize::from(sees), "{who}");
        let letter = t
            .app
            .get(&format!("/api/v1/reports/{r}/transfer-letter"), Some(token))
            .await;
        assert_eq!(letter.status(), 404, "{who}: not sent yet, or not theirs");
    }
    // The brigade sees every transfer.
    let all: Value = t
        .app
        .get("/api/v1/transfers", Some(&t.tokens["chief"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

/// 某某派出所 (liaison `cop`) and 县人民检察院 (liaison `prosecutor`); returns their ids.
pub(crate) async fn police_and_procuratorate(t: &mut Town) -> (String, String) {
    t.app.user("cop", &[Role::DepartmentLiaison]);
    t.app.user("prosecutor", &[Role::DepartmentLiaison]);
    let mut ids = Vec::new();
    for (name, kind, liaison) in [
        ("某某派出所", "police", "cop"),
        ("县人民检察院", "procuratorate", "prosecutor"),
    ] {
        let resp = t
            .app
            .post(
                "/api/v1/departments",
                &json!({"name": name, "kind": kind, "liaisons": [liaison]}),
                Some(&t.tokens["admin1"]),
            )
            .await;
        assert_eq!(resp.status(), 201);
        let d: Value = resp.json().await.unwrap();
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    for u in ["cop", "prosecutor"] {
        let token = t.app.login(u, "dev").await.access_token;
        t.tokens.insert(u, token);
    }
    (ids[0].clone(), ids[1].clone())
}

#[actix_web::test]
async fn a_task_handled_as_belonging_elsewhere_is_transferred_once() {
    let mut t = Town::new().await;
    let (market, police) = with_departments(&mut t).await;
    let r = t.report("0601").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    t.ok(
        "off2",
        json!({"type": "handle_task", "task_id": task, "attachment_ids": [],
               "outcome": {"outcome": "transfer", "department": "市场监管", "reason": "无照经营食品"}}),
    )
    .await;
    // The squad's free-text outcome is not a transfer yet: the brigade decides it.
    let mut as_squad = decide(&r, &market);
    as_squad["sender"] = json!("squad");
    assert_error(t.cmd("lead", decide(&r, &market)).await, 403, "forbidden").await;
    assert_error(t.cmd("disp", as_squad).await, 422, "brigade_name_required").await;
    t.ok("disp", decide(&r, &market)).await;
    assert_error(
        t.cmd("disp", decide(&r, &police)).await,
        409,
        "already_transferred",
    )
    .await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert_eq!(detail["report"]["status"], "transferred");
    assert_eq!(
        detail["report"]["transfer"]["department_id"],
        market.as_str()
    );
}

#[actix_web::test]
async fn a_liaisons_live_stream_carries_its_departments_matters_only() {
    use futures_util::StreamExt;
    let mut t = Town::new().await;
    let (market, police) = with_departments(&mut t).await;
    let resp = t
        .app
        .get("/api/v1/events", Some(&t.tokens["liaison"]))
        .await;
    assert_eq!(
        resp.status(),
        200,
        "a liaison's console is live, not polling"
    );
    let mut stream = resp.bytes_stream();
    let other = t.report("0601").await;
    t.ok("disp", decide(&other, &police)).await;
    let mine = t.report("0601").await;
    t.ok("disp", decide(&mine, &market)).await;
    let mut seen = String::new();
    for _ in 0..20 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await;
        if let Ok(Some(Ok(chunk))) = next {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(&mine) {
                break;
            }
        }
    }
    assert!(seen.contains(&mine), "its own transfer: {seen}");
    assert!(
        !seen.contains(&other),
        "never another department's matter, not even its id: {seen}"
    );
}

#[actix_web::test]
async fn a_filed_case_is_transferred_once_with_its_report_and_closes_as_transferred() {
    let mut t = Town::new().await;
    let (market, _) = with_departments(&mut t).await;
    let case_id = crate::case::filed_case(&t).await;
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    let report = detail["case"]["report_id"].as_str().unwrap().to_owned();
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    // A hand-over to police waiting for approval is decided first.
    t.ok(
        "off1",
        json!({"type": "propose_hand_over", "case_id": case_id, "reason": "涉嫌犯罪"}),
    )
    .await;
    let before = t.audit_count();
    assert_error(
        t.cmd("disp", decide(&report, &market)).await,
        409,
        "hand_over_pending",
    )
    .await;
    assert_eq!(t.audit_count(), before, "a refused command writes nothing");
    t.ok(
        "boss",
        json!({"type": "refuse_hand_over", "case_id": case_id, "reason": "不构成犯罪"}),
    )
    .await;
    // Under investigation: the case goes with its report and closes here.
    t.ok("disp", decide(&report, &market)).await;
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail["case"]["status"], "transferred");
    let r = t.get(&format!("/api/v1/reports/{report}")).await;
    assert_eq!(r["report"]["status"], "transferred");
    assert_eq!(r["report"]["transfer"]["case_id"], case_id.as_str());
    // One case, one transfer; and nothing more happens on the case.
    assert_error(
        t.cmd("disp", decide(&report, &market)).await,
        409,
        "already_transferred",
    )
    .await;
    let no_penalty = json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "no_penalty",
            "facts": "f", "legal_basis": "b", "reason": "r"}});
    assert_error(t.cmd("boss", no_penalty).await, 409, "invalid_state").await;
    t.ok("disp", send(&report)).await;
    // A case not yet filed (proposed) is not transferred: the approver decides on filing first.
    let r2 = t.report("0301").await;
    let task = t.dispatch(&r2).await;
    t.to_on_site(&task).await;
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "case_id": uuid(),
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    let before = t.audit_count();
    assert_error(
        t.cmd("disp", decide(&r2, &market)).await,
        409,
        "case_not_transferable",
    )
    .await;
    assert_eq!(t.audit_count(), before);
    t.verify();
}
