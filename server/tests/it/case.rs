//! The general procedure over HTTP, on the configured backend: a case from filing to archive
//! through the one command path, every step in the record, and the refusals that keep a town
//! from an illegal step.

use crate::common::assert_error;
use crate::workflow::{uuid, Town};
use griddispatch_protocol::Role;
use serde_json::{json, Value};

/// A filed case from a task handled as `case_needed`.
pub(crate) async fn filed_case(t: &Town) -> String {
    let r = t.report("0301").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let case_id = uuid();
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    case_id
}

pub(crate) fn rewind(t: &Town, case_id: &str, days: i64) {
    // Time passes: the notice's periods are moved back instead of waiting.
    use diesel::prelude::*;
    let mut conn = t.app.state.pool.get().unwrap();
    let data: String = griddispatch::schema::cases::table
        .find(case_id)
        .select(griddispatch::schema::cases::data)
        .first(&mut conn)
        .unwrap();
    let mut v: Value = serde_json::from_str(&data).unwrap();
    for key in ["hearing_request_until", "statement_until", "at"] {
        let at = v["procedure"]["notice"][key].as_str().unwrap().to_owned();
        let moved =
            chrono::DateTime::parse_from_rfc3339(&at).unwrap() - chrono::Duration::days(days);
        v["procedure"]["notice"][key] =
            json!(moved.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    diesel::update(griddispatch::schema::cases::table.find(case_id))
        .set(griddispatch::schema::cases::data.eq(v.to_string()))
        .execute(&mut conn)
        .unwrap();
}

#[actix_web::test]
async fn a_case_goes_from_filing_to_archive_with_every_step_in_the_record() {
    let t = Town::new().await;
    t.app.user("legal", &[Role::LegalReviewer]);
    let legal = t.app.login("legal", "dev").await.access_token;
    let case_id = filed_case(&t).await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    // One officer alone may not make a record.
    assert_error(
        t.cmd("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inquiry",
            "officer_ids": [off1], "certificates_shown": true, "content": "询问笔录"})).await,
        422,
        "two_officers_required",
    )
    .await;
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inspection",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "现场检查：新建砖混房屋一间约 40 平方米", "attachment_ids": [uuid()]})).await;
    let notified = t
        .ok(
            "off1",
            json!({"type": "notify_party", "case_id": case_id,
        "party": {"kind": "person", "name": "李某", "id_number": "410881199001011234"},
        "facts": "未取得建设工程规划许可证建设房屋", "legal_basis": "城乡规划法第六十四条",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}]}),
        )
        .await;
    assert_eq!(notified["case"]["status"], "notified");
    assert_eq!(
        notified["case"]["procedure"]["notice"]["hearing_right"],
        false
    );
    // The statement period is open: no legal review yet.
    assert_error(
        t.cmd(
            "off1",
            json!({"type": "submit_for_review", "case_id": case_id}),
        )
        .await,
        422,
        "statement_period_open",
    )
    .await;
    rewind(&t, &case_id, 6);
    t.ok(
        "off2",
        json!({"type": "submit_for_review", "case_id": case_id}),
    )
    .await;
    // No decision before a passed review.
    let decide = json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "penalty",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}], "facts": "未取得建设工程规划许可证建设房屋",
        "legal_basis": "城乡规划法第六十四条", "discretion": "一般情节", "statements_answer": "当事人未陈述申辩"}});
    assert_error(
        t.cmd("boss", decide.clone()).await,
        422,
        "legal_review_required",
    )
    .await;
    let review = json!({"command": {"type": "review_case", "case_id": case_id, "passed": true, "opinion": "事实清楚、证据确凿、程序合法"}});
    let r = t.app.post("/api/v1/commands", &review, Some(&legal)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let heavier = {
        let mut d = decide.clone();
        d["decision"]["sanctions"][0]["amount_fen"] = json!(600000);
        d
    };
    assert_error(t.cmd("boss", heavier).await, 422, "heavier_than_notified").await;
    let decided = t.ok("boss", decide).await;
    let number = decided["case"]["procedure"]["decision"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(number.starts_with("罚决〔"), "{number}");
    t.ok(
        "off1",
        json!({"type": "serve_decision", "case_id": case_id, "method": "in_person"}),
    )
    .await;
    assert_error(
        t.cmd("off1", json!({"type": "record_payment", "case_id": case_id, "amount_fen": 500000, "channel": "officer", "reference": "现金"})).await,
        422,
        "payment_to_officer",
    )
    .await;
    t.ok(
        "boss",
        json!({"type": "publish_decision", "case_id": case_id}),
    )
    .await;
    // The public page: no sign-in, the decision without personal data.
    let public = t.app.get("/api/v1/public/decisions", None).await;
    assert_eq!(public.status(), 200);
    let body = public.text().await.unwrap();
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["number"], number.as_str());
    assert_eq!(list[0]["party"], "李*");
    for private in [
        "410881199001011234",
        "李某",
        "\"lat\"",
        "\"lon\"",
        "id_number",
        "contact",
    ] {
        assert!(!body.contains(private), "{private} published: {body}");
    }
    let page = t.app.get("/public/", None).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("行政处罚决定公示"));
    t.ok("off1", json!({"type": "record_payment", "case_id": case_id, "amount_fen": 500000, "channel": "bank", "reference": "ICBC-0001"})).await;
    let archive = json!({"command": {"type": "archive_case", "case_id": case_id, "closing_report": "当事人已缴纳罚款，案件办结"}});
    let r = t.app.post("/api/v1/commands", &archive, Some(&legal)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail["case"]["status"], "archived");
    documents_read_as_the_law_wants(&t, &case_id, &number).await;
    let commands: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["command"].as_str().unwrap())
        .collect();
    for step in [
        "file_case",
        "start_investigation",
        "add_case_record",
        "notify_party",
        "submit_for_review",
        "review_case",
        "decide_case",
        "serve_decision",
        "publish_decision",
        "record_payment",
        "archive_case",
    ] {
        assert!(commands.contains(&step), "{step} missing from {commands:?}");
    }
    t.verify();
}

#[actix_web::test]
async fn a_case_handed_to_police_takes_no_penalty_decision_until_police_send_it_back() {
    let mut t = Town::new().await;
    let (police, procuratorate) = crate::transfers::police_and_procuratorate(&mut t).await;
    let case_id = filed_case(&t).await;
    let hand = |police: &str, copy: &str| {
        json!({"type": "hand_over_to_police", "case_id": case_id, "reason": "涉嫌非法占用农用地罪",
               "police_department_id": police, "procuratorate_department_id": copy})
    };
    // To police, with the copy to the procuratorate — not the other way round, and not without.
    assert_error(
        t.cmd("boss", hand(&procuratorate, &police)).await,
        422,
        "invalid_department_kind",
    )
    .await;
    assert_error(
        t.cmd(
            "boss",
            json!({"type": "hand_over_to_police", "case_id": case_id, "reason": "涉嫌犯罪"}),
        )
        .await,
        422,
        "invalid_field",
    )
    .await;
    let handed = t.ok("boss", hand(&police, &procuratorate)).await;
    // The approver (正职负责人) may hand over without a proposal: approved at once.
    let proposal = &handed["case"]["procedure"]["hand_over_proposals"][0];
    assert_eq!(proposal["approved"], true);
    assert_eq!(proposal["by"], t.id("boss"));
    assert_eq!(proposal["decided_by"], t.id("boss"));
    let before = t.audit_count();
    let no_penalty = json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "no_penalty",
            "facts": "f", "legal_basis": "b", "reason": "r"}});
    assert_error(
        t.cmd("boss", no_penalty.clone()).await,
        422,
        "handed_to_police",
    )
    .await;
    assert_eq!(t.audit_count(), before, "a refused command writes nothing");
    // Police and the procuratorate (the copy) see the case; police's answer clock runs.
    for who in ["cop", "prosecutor"] {
        let got = t
            .app
            .get(&format!("/api/v1/cases/{case_id}"), Some(&t.tokens[who]))
            .await;
        assert_eq!(got.status(), 200, "{who} sees the case handed over");
        let list: serde_json::Value = t
            .app
            .get("/api/v1/cases", Some(&t.tokens[who]))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 1, "{who}: {list}");
    }
    let now = griddispatch::db::now();
    assert_eq!(
        t.sweep_at(
            now + chrono::Duration::hours(60),
            griddispatch::workflow::case_deadlines::sweep
        ),
        1,
        "yellow at 80 % of police's 3 days"
    );
    assert!(notification_kinds(&t, "cop")
        .await
        .contains(&"case_deadline_warning".to_owned()));
    // Only police answer; the procuratorate has the copy, not the answer.
    let answer = |decision: &str| json!({"type": "answer_hand_over", "case_id": case_id, "decision": decision, "note": "不予立案通知书 公不立字〔2026〕1号"});
    assert_error(
        t.cmd("prosecutor", answer("not_filed")).await,
        403,
        "out_of_scope",
    )
    .await;
    t.ok("cop", answer("not_filed")).await;
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(
        detail["case"]["status"], "filed",
        "back to the brigade where it stood"
    );
    assert_eq!(
        detail["case"]["procedure"]["hand_over"]["replies"][0]["decision"],
        "not_filed"
    );
    // No longer refused as handed to police (the procedure's own steps come first now).
    let resp = t.cmd("boss", no_penalty).await;
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_ne!(body["error"]["code"], "handed_to_police", "{body}");
    t.verify();
}

#[actix_web::test]
async fn a_proposed_hand_over_waits_for_the_approver_within_three_days_and_blocks_a_decision() {
    let mut t = Town::new().await;
    let (police, procuratorate) = crate::transfers::police_and_procuratorate(&mut t).await;
    let case_id = filed_case(&t).await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    let propose =
        |reason: &str| json!({"type": "propose_hand_over", "case_id": case_id, "reason": reason});
    let refuse =
        |reason: &str| json!({"type": "refuse_hand_over", "case_id": case_id, "reason": reason});
    let hand = json!({"type": "hand_over_to_police", "case_id": case_id, "reason": "涉嫌非法占用农用地罪",
        "police_department_id": police, "procuratorate_department_id": procuratorate});
    let no_penalty = json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "no_penalty",
            "facts": "f", "legal_basis": "b", "reason": "r"}});
    // Only the case's officers (or a squad leader) propose, and with a reason.
    assert_error(t.cmd("uncert", propose("涉嫌犯罪")).await, 403, "forbidden").await;
    assert_error(t.cmd("off1", propose("  ")).await, 422, "reason_required").await;
    // Nothing waits yet: nothing to refuse.
    assert_error(
        t.cmd("boss", refuse("不构成犯罪")).await,
        409,
        "invalid_state",
    )
    .await;
    let proposed = t
        .ok("off1", propose("占用农用地 12 亩，涉嫌非法占用农用地罪"))
        .await;
    assert_eq!(
        proposed["case"]["status"], "investigating",
        "the case stays with the brigade"
    );
    assert_error(
        t.cmd("off2", propose("再次申请")).await,
        409,
        "invalid_state",
    )
    .await;
    // While it waits: no decision (不得以罚代刑), and only the approver decides it.
    let before = t.audit_count();
    assert_error(
        t.cmd("boss", no_penalty.clone()).await,
        422,
        "hand_over_pending",
    )
    .await;
    assert_error(t.cmd("lead", hand.clone()).await, 403, "forbidden").await;
    assert_error(t.cmd("off1", refuse("不构成犯罪")).await, 403, "forbidden").await;
    assert_error(t.cmd("boss", refuse("")).await, 422, "reason_required").await;
    assert_eq!(t.audit_count(), before, "a refused command writes nothing");
    // The 3-day approval clock: yellow at 80 % to the approver, red when it runs out.
    let now = griddispatch::db::now();
    let sweep = |hours: i64| {
        t.sweep_at(
            now + chrono::Duration::hours(hours),
            griddispatch::workflow::case_deadlines::sweep,
        )
    };
    assert_eq!(sweep(24), 0, "nothing after one day");
    assert_eq!(sweep(60), 1, "yellow at 80 % of 3 days");
    assert!(notification_kinds(&t, "boss")
        .await
        .contains(&"case_deadline_warning".to_owned()));
    assert_eq!(sweep(61), 0, "raised once");
    assert_eq!(sweep(73), 1, "red after 3 days");
    assert!(notification_kinds(&t, "boss")
        .await
        .contains(&"case_overdue".to_owned()));
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    let clocks: Vec<&str> = detail["case"]["procedure"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["clock"].as_str().unwrap())
        .collect();
    assert_eq!(clocks, ["hand_over_approval", "hand_over_approval"]);
    // Refused with a reason: the procedure goes on and a decision is no longer held back.
    let refused = t
        .ok("boss", refuse("证据不足以认定涉嫌犯罪，按行政程序处理"))
        .await;
    let p = &refused["case"]["procedure"]["hand_over_proposals"][0];
    assert_eq!(p["approved"], false);
    assert_eq!(p["decided_by"], t.id("boss"));
    let resp = t.cmd("boss", no_penalty.clone()).await;
    let body: Value = resp.json().await.unwrap();
    assert_ne!(body["error"]["code"], "hand_over_pending", "{body}");
    assert_eq!(sweep(100), 0, "the approval clock stopped");
    // A squad leader proposes again; the approver approves by handing over.
    t.ok("lead", propose("新查明占用基本农田，涉嫌非法占用农用地罪"))
        .await;
    let handed = t.ok("boss", hand).await;
    assert_eq!(handed["case"]["status"], "handed_over");
    let proposals = handed["case"]["procedure"]["hand_over_proposals"]
        .as_array()
        .unwrap();
    assert_eq!(proposals.len(), 2);
    assert_eq!(proposals[1]["approved"], true);
    assert_eq!(proposals[1]["by"], t.id("lead"));
    assert_error(t.cmd("boss", no_penalty).await, 422, "handed_to_police").await;
    t.verify();
}

#[actix_web::test]
async fn the_decision_clock_warns_the_investigators_at_80_percent_and_escalates_to_the_approver() {
    let t = Town::new().await;
    let case_id = filed_case(&t).await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    let sweep = |days: i64| {
        let now = griddispatch::db::now() + chrono::Duration::days(days);
        t.sweep_at(now, griddispatch::workflow::case_deadlines::sweep)
    };
    assert_eq!(sweep(1), 0, "nothing at day 1");
    assert_eq!(sweep(73), 1, "yellow after 80 % of 90 days");
    assert_eq!(sweep(74), 0, "raised once");
    assert_eq!(sweep(91), 1, "red after 90 days");
    assert_eq!(sweep(92), 0);
    let officer = notification_kinds(&t, "off1").await;
    assert!(
        officer.contains(&"case_deadline_warning".to_owned()),
        "{officer:?}"
    );
    assert!(notification_kinds(&t, "boss")
        .await
        .contains(&"case_overdue".to_owned()));
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    let flags = detail["case"]["procedure"]["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 2);
    assert_eq!(
        detail["history"].as_array().unwrap().last().unwrap()["command"],
        "flag_case_deadline"
    );
    // A person cannot raise it.
    assert_error(
        t.cmd("boss", json!({"type": "flag_case_deadline", "case_id": case_id, "clock": "decision", "level": "red"})).await,
        403,
        "forbidden",
    )
    .await;
}

async fn notification_kinds(t: &Town, who: &str) -> Vec<String> {
    let r = t
        .app
        .get("/api/v1/me/notifications", Some(&t.tokens[who]))
        .await;
    let v: Value = r.json().await.unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The case's documents exist as PDF, and their text — read back by poppler's `pdftotext`, as a
/// person would read the page — says what the law wants them to say.
async fn documents_read_as_the_law_wants(t: &Town, case_id: &str, number: &str) {
    let list = t.get(&format!("/api/v1/cases/{case_id}/documents")).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    for want in [
        "filing", "record-1", "notice", "review", "decision", "service", "closing",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let r = t
        .app
        .get(
            &format!("/api/v1/cases/{case_id}/documents/decision"),
            Some(&t.tokens["boss"]),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let sha = r.headers()["x-content-sha256"].to_str().unwrap().to_owned();
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&pdf)), sha);
    // A document not made yet is a 404; another reader's case is not theirs to print.
    assert_eq!(
        t.app
            .get(
                &format!("/api/v1/cases/{case_id}/documents/hearing-notice"),
                Some(&t.tokens["boss"])
            )
            .await
            .status(),
        404
    );
    t.app.user("outsider", &[Role::GridMember]);
    let outsider = t.app.login("outsider", "dev").await.access_token;
    assert_eq!(
        t.app
            .get(
                &format!("/api/v1/cases/{case_id}/documents/decision"),
                Some(&outsider)
            )
            .await
            .status(),
        404
    );
    let Some(text) = pdf_text(&pdf) else {
        return;
    };
    for words in [
        "行政处罚决定书",
        number,
        "李某",
        "罚款人民币5000.00元",
        "15日内缴至指定银行",
        "行政复议",
        "行政诉讼",
        "人民政府",
        "（印章）",
    ] {
        let compact: String = text.split_whitespace().collect();
        assert!(
            compact.contains(&words.replace(' ', "")),
            "`{words}` not in the decision:\n{text}"
        );
    }
}

/// The text of a PDF by `pdftotext` (poppler-utils), or `None` where it is not installed
/// (CI installs it; `GRIDDISPATCH_REQUIRE_PDFTOTEXT=1` makes its absence a failure).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(f.path())
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => panic!(
            "pdftotext refused the document: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) if std::env::var("GRIDDISPATCH_REQUIRE_PDFTOTEXT").is_ok() => {
            panic!("pdftotext is required (apt-get install poppler-utils)")
        }
        Err(_) => {
            eprintln!("pdftotext not installed: the documents' text is not checked");
            None
        }
    }
}

#[actix_web::test]
async fn the_case_file_packs_every_document_evidence_and_the_record_with_checkable_hashes() {
    use sha2::Digest;
    use std::io::Read;
    let t = Town::new().await;
    t.app.user("legal", &[Role::LegalReviewer]);
    let legal = t.app.login("legal", "dev").await.access_token;
    // A hotline call (the caller's phone is private), handled with a photo, filed as a case.
    let (report, task, case_id) = (uuid(), uuid(), uuid());
    t.ok("disp", json!({"type": "create_report", "report_id": report, "source": "hotline", "category_code": "0301",
        "description": "12345 来电：村东头有人违法建房", "position": {"lat": t.point.0, "lon": t.point.1},
        "attachment_ids": [], "contact": {"name": "李来电", "phone": "13912345678"}})).await;
    t.ok("disp", json!({"type": "dispatch_report", "report_id": report, "task_id": task, "squad_id": t.squad})).await;
    t.to_on_site(&task).await;
    let photo = crate::tus::photo(160, 120, 7);
    let photo_id = uuid();
    let tus = crate::tus::Tus {
        app: &t.app,
        token: t.tokens["off1"].clone(),
    };
    assert_eq!(tus.upload(&photo, &photo_id, 1 << 20).await.status(), 204);
    let not_arrived = uuid();
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [photo_id, not_arrived], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;

    // Only the roles that keep case files; a malformed or unknown id is said so.
    for who in ["disp", "gmx"] {
        let r = t
            .app
            .get(
                &format!("/api/v1/cases/{case_id}/file"),
                Some(&t.tokens[who]),
            )
            .await;
        assert_error(r, 403, "forbidden").await;
    }
    assert_error(
        t.app.get("/api/v1/cases/nope/file", Some(&legal)).await,
        422,
        "invalid_id",
    )
    .await;
    assert_error(
        t.app
            .get(&format!("/api/v1/cases/{}/file", uuid()), Some(&legal))
            .await,
        404,
        "not_found",
    )
    .await;

    let before = t.audit_count();
    let r = t
        .app
        .get(&format!("/api/v1/cases/{case_id}/file"), Some(&legal))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let manifest_sha = r.headers()["x-manifest-sha256"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut f = zip
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} in the file"));
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        buf
    };
    let manifest_bytes = read("manifest.json");
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&manifest_bytes)),
        manifest_sha
    );
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    assert_eq!(manifest["case_id"], case_id.as_str());
    assert_eq!(manifest["status"], "filed");
    assert_eq!(manifest["missing_evidence"], json!([not_arrived]));
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files[0]["path"], "00-卷内目录.pdf", "the index comes first");
    // Every file is there with the SHA-256 the manifest says.
    let mut all_text = String::new();
    for f in files {
        let path = f["path"].as_str().unwrap();
        let data = read(path);
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&data)),
            f["sha256"].as_str().unwrap(),
            "{path}"
        );
        assert_eq!(data.len() as u64, f["size"].as_u64().unwrap(), "{path}");
        all_text.push_str(&String::from_utf8_lossy(&data));
    }
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("documents/") && p.contains("立案审批表")),
        "{paths:?}"
    );
    // The photo as it arrived: the bytes the officer uploaded.
    let evidence = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().starts_with("evidence/"))
        .expect("the photo is in the file");
    assert_eq!(
        evidence["sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&photo))
    );
    // The record is in it, without the caller's identity (the legal office may not see it).
    let record: Value = serde_json::from_slice(&read("record.json")).unwrap();
    let commands: Vec<&str> = record
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    for c in [
        "create_report",
        "dispatch_report",
        "handle_task",
        "file_case",
    ] {
        assert!(commands.contains(&c), "{c} missing from {commands:?}");
    }
    for private in ["13912345678", "李来电"] {
        assert!(!all_text.contains(private), "{private} in the case file");
    }
    // The export is in the full-process record with the manifest's hash.
    assert_eq!(t.audit_count(), before + 1);
    let mut conn = t.app.state.pool.get().unwrap();
    let last = griddispatch::store::audit::last(&mut conn)
        .unwrap()
        .unwrap();
    assert_eq!(last.command, "export_case_file");
    assert_eq!(last.actor_id, t.id("legal"));
    assert!(last.payload.contains(&manifest_sha));
    drop(conn);
    t.verify();
}

#[actix_web::test]
async fn the_on_the_spot_decision_is_a_pdf_with_what_article_52_asks_for() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let url = format!("/api/v1/tasks/{task}/decision");
    // Not handled yet: there is no decision.
    assert_error(
        t.app.get(&url, Some(&t.tokens["lead"])).await,
        404,
        "not_found",
    )
    .await;
    let done = t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "outcome": {"outcome": "simple_penalty",
        "party_kind": "person", "party_name": "张三", "penalty": {"kind": "fine", "amount_fen": 10_000},
        "facts": "在村道旁占道经营水果摊", "legal_basis": "《城市市容和环境卫生管理条例》第三十六条"}})).await;
    let number = done["task"]["decision_number"].as_str().unwrap().to_owned();
    let r = t.app.get(&url, Some(&t.tokens["lead"])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let sha = r.headers()["x-content-sha256"].to_str().unwrap().to_owned();
    let pdf = r.bytes().await.unwrap();
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&pdf)), sha);
    if let Some(text) = pdf_text(&pdf) {
        let flat: String = text.split_whitespace().collect();
        for want in [
            "当场行政处罚决定书",
            number.as_str(),
            "张三",
            "占道经营水果摊",
            "第三十六条",
            "罚款人民币100.00元",
            "15日内缴至指定银行",
            "行政复议",
            "行政诉讼",
            "执法证号",
            "人民政府",
        ] {
            assert!(flat.contains(want), "{want} missing from:\n{text}");
        }
    }
    // Someone with no business with the task cannot print it; a malformed id is said so.
    t.app.user("stranger", &[Role::GridMember]);
    let stranger = t.app.login("stranger", "p").await.access_token;
    assert_error(t.app.get(&url, Some(&stranger)).await, 404, "not_found").await;
    assert_error(
        t.app
            .get("/api/v1/tasks/x/decision", Some(&t.tokens["lead"]))
            .await,
        422,
        "invalid_id",
    )
    .await;
    // Another outcome has no such paper.
    let r2 = t.report("0401").await;
    let task2 = t.dispatch(&r2).await;
    t.to_on_site(&task2).await;
    t.ok("off1", json!({"type": "handle_task", "task_id": task2, "outcome": {"outcome": "no_violation", "reply": "经核实无违法行为"}})).await;
    assert_error(
        t.app
            .get(
                &format!("/api/v1/tasks/{task2}/decision"),
                Some(&t.tokens["lead"]),
            )
            .await,
        404,
        "not_found",
    )
    .await;
}

#[actix_web::test]
async fn kept_evidence_gets_its_decision_within_seven_working_days_and_its_paper() {
    let t = Town::new().await;
    let case_id = filed_case(&t).await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    let kept = uuid();
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": kept, "kind": "evidence_preservation",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "先行登记保存砌砖工具一套", "attachment_ids": []})).await;
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    let rec = &detail["case"]["procedure"]["records"][0];
    let at = chrono::DateTime::parse_from_rfc3339(rec["at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(rec["decide_by"].as_str().unwrap()).unwrap();
    // Seven working days span a weekend: from a working morning nine calendar days, from after
    // office hours (counting starts the next working day, ending at its 18:00) just under nine;
    // at most a long holiday more.
    let days = (due - at).num_days();
    assert!((8..=16).contains(&days), "7 working days, got {days} days");
    // The approver decides; an officer may not; the paper is among the case's documents.
    let decide = json!({"type": "decide_preservation", "case_id": case_id, "record_id": kept,
        "measure": "confiscate", "note": "系违法建设所用工具，随处罚决定没收"});
    assert_error(t.cmd("off1", decide.clone()).await, 403, "forbidden").await;
    t.ok("boss", decide.clone()).await;
    assert_error(t.cmd("boss", decide).await, 409, "invalid_state").await;
    let list = t.get(&format!("/api/v1/cases/{case_id}/documents")).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "preservation-1"),
        "{list}"
    );
    let r = t
        .app
        .get(
            &format!("/api/v1/cases/{case_id}/documents/preservation-1"),
            Some(&t.tokens["boss"]),
        )
        .await;
    assert_eq!(r.status(), 200);
    if let Some(text) = pdf_text(&r.bytes().await.unwrap()) {
        let flat: String = text.split_whitespace().collect();
        for want in [
            "先行登记保存物品处理决定书",
            "第五十六条",
            "依法予以没收",
            "砌砖工具",
        ] {
            assert!(flat.contains(want), "{want} missing from:\n{text}");
        }
    }
    t.verify();
}

/// Moves instants stored in the case's data back by `days` (time passes without waiting); each
/// path is a JSON pointer under the case's data, e.g. `/procedure/service/at`.
fn shift(t: &Town, case_id: &str, paths: &[&str], days: i64) {
    use diesel::prelude::*;
    let mut conn = t.app.state.pool.get().unwrap();
    let data: String = griddispatch::schema::cases::table
        .find(case_id)
        .select(griddispatch::schema::cases::data)
        .first(&mut conn)
        .unwrap();
    let mut v: Value = serde_json::from_str(&data).unwrap();
    for path in paths {
        let at = v.pointer(path).and_then(Value::as_str).unwrap().to_owned();
        let moved =
            chrono::DateTime::parse_from_rfc3339(&at).unwrap() - chrono::Duration::days(days);
        *v.pointer_mut(path).unwrap() =
            json!(moved.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    diesel::update(griddispatch::schema::cases::table.find(case_id))
        .set(griddispatch::schema::cases::data.eq(v.to_string()))
        .execute(&mut conn)
        .unwrap();
}

/// A case with a 5 000 元 fine decided, served and published; returns it and the legal
/// reviewer's token.
async fn served_penalty(t: &Town) -> (String, String) {
    t.app.user("legal", &[Role::LegalReviewer]);
    let legal = t.app.login("legal", "dev").await.access_token;
    let case_id = filed_case(t).await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inquiry",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "询问当事人李某"})).await;
    t.ok(
        "off1",
        json!({"type": "notify_party", "case_id": case_id,
        "party": {"kind": "person", "name": "李某"},
        "facts": "未取得建设工程规划许可证建设房屋", "legal_basis": "城乡规划法第六十四条",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}]}),
    )
    .await;
    rewind(t, &case_id, 20);
    t.ok(
        "off1",
        json!({"type": "submit_for_review", "case_id": case_id}),
    )
    .await;
    let review = json!({"command": {"type": "review_case", "case_id": case_id, "passed": true, "opinion": "事实清楚、证据确凿、程序合法"}});
    let r = t.app.post("/api/v1/commands", &review, Some(&legal)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    t.ok("boss", json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "penalty",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}], "facts": "未取得建设工程规划许可证建设房屋",
        "legal_basis": "城乡规划法第六十四条", "discretion": "一般情节", "statements_answer": "当事人未陈述申辩"}})).await;
    t.ok(
        "off1",
        json!({"type": "serve_decision", "case_id": case_id, "method": "in_person"}),
    )
    .await;
    t.ok(
        "boss",
        json!({"type": "publish_decision", "case_id": case_id}),
    )
    .await;
    (case_id, legal)
}

async fn archive_as(t: &Town, token: &str, case_id: &str, report: &str) -> reqwest::Response {
    let archive =
        json!({"command": {"type": "archive_case", "case_id": case_id, "closing_report": report}});
    t.app.post("/api/v1/commands", &archive, Some(token)).await
}

#[actix_web::test]
async fn an_unpaid_fine_is_reminded_then_taken_to_court_and_the_case_closes_as_applied() {
    let t = Town::new().await;
    let (case_id, legal) = served_penalty(&t).await;
    let remind = json!({"type": "remind_party", "case_id": case_id});
    let court = json!({"type": "apply_to_court", "case_id": case_id, "court": "某县人民法院",
        "note": "申请强制执行罚款及加处罚款，附决定书、送达回证、催告书"});
    // Within the 15 days to pay: no reminder; never the court before a reminder.
    assert_error(t.cmd("off1", remind.clone()).await, 422, "not_overdue").await;
    assert_error(t.cmd("boss", court.clone()).await, 422, "reminder_required").await;
    // Twenty days after service the fine is overdue: the reminder gives ten working days.
    shift(&t, &case_id, &["/procedure/service/at"], 20);
    let reminded = t.ok("off1", remind.clone()).await;
    let r = &reminded["case"]["procedure"]["reminder"];
    assert!(r["number"].as_str().unwrap().starts_with("催告〔"), "{r}");
    assert_eq!(r["amount_fen"], 500000 + 500000 * 3 / 100 * 5);
    assert_error(t.cmd("off1", remind).await, 409, "invalid_state").await;
    let at = chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).unwrap();
    let pay_by = chrono::DateTime::parse_from_rfc3339(r["pay_by"].as_str().unwrap()).unwrap();
    assert!(
        (pay_by - at).num_days() >= 13,
        "10 working days span two weekends"
    );
    assert_error(
        t.cmd("boss", court.clone()).await,
        422,
        "reminder_period_open",
    )
    .await;
    // Still unpaid: the case does not close.
    assert_error(
        archive_as(&t, &legal, &case_id, "未缴").await,
        422,
        "unpaid_fine",
    )
    .await;
    // The reminder's period over, but the party may still seek review or sue (6 months).
    shift(
        &t,
        &case_id,
        &["/procedure/reminder/at", "/procedure/reminder/pay_by"],
        30,
    );
    assert_error(
        t.cmd("boss", court.clone()).await,
        422,
        "review_periods_open",
    )
    .await;
    // Seven months after service: inside the three-month window.
    shift(&t, &case_id, &["/procedure/service/at"], 200);
    assert_error(t.cmd("off1", court.clone()).await, 403, "forbidden").await;
    let applied = t.ok("boss", court.clone()).await;
    assert_eq!(
        applied["case"]["procedure"]["court_application"]["court"],
        "某县人民法院"
    );
    assert_error(t.cmd("boss", court).await, 409, "invalid_state").await;
    // The 催告书 is a numbered document of the case.
    let r = t
        .app
        .get(
            &format!("/api/v1/cases/{case_id}/documents/reminder"),
            Some(&t.tokens["boss"]),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/pdf");
    if let Some(text) = pdf_text(&r.bytes().await.unwrap()) {
        let flat: String = text.split_whitespace().collect();
        for want in [
            "催告书",
            "催告〔",
            "第五十四条",
            "10个工作日",
            "申请人民法院强制执行",
            "李某",
        ] {
            assert!(flat.contains(want), "{want} missing from:\n{text}");
        }
    }
    let r = archive_as(
        &t,
        &legal,
        &case_id,
        "当事人经催告逾期仍不履行，已申请人民法院强制执行",
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail["case"]["status"], "archived");
    assert_eq!(
        detail["case"]["procedure"]["archive"]["outcome"],
        "applied_to_court"
    );
    let commands: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["command"].as_str().unwrap())
        .collect();
    for step in ["remind_party", "apply_to_court", "archive_case"] {
        assert!(commands.contains(&step), "{step} missing from {commands:?}");
    }
    let r = t
        .app
        .get(
            &format!("/api/v1/cases/{case_id}/documents/closing"),
            Some(&t.tokens["boss"]),
        )
        .await;
    if let Some(text) = pdf_text(&r.bytes().await.unwrap()) {
        let flat: String = text.split_whitespace().collect();
        assert!(flat.contains("某县人民法院强制执行"), "{text}");
    }
    t.verify();
}

#[actix_web::test]
async fn a_deferral_counts_only_once_the_approver_approved_it() {
    let t = Town::new().await;
    let (case_id, legal) = served_penalty(&t).await;
    let due_on = (chrono::Utc::now() + chrono::Duration::days(40))
        .date_naive()
        .to_string();
    let ask = json!({"type": "request_payment_plan", "case_id": case_id, "kind": "deferral",
        "instalments": [{"due_on": due_on, "amount_fen": 500000}], "reason": "家庭经济困难"});
    let mut short = ask.clone();
    short["instalments"][0]["amount_fen"] = json!(400000);
    assert_error(t.cmd("off1", short).await, 422, "invalid_payment_plan").await;
    t.ok("off1", ask).await;
    // Twenty days after service, the application alone does not stop the surcharge.
    shift(&t, &case_id, &["/procedure/service/at"], 20);
    let pay = |fen: i64, channel: &str| json!({"type": "record_payment", "case_id": case_id, "amount_fen": fen, "channel": channel, "reference": "ICBC-0002"});
    assert_error(
        t.cmd("off1", pay(500000, "bank")).await,
        422,
        "amount_mismatch",
    )
    .await;
    let approve = json!({"type": "decide_payment_plan", "case_id": case_id, "approved": true, "note": "经审查属实，准予延期"});
    assert_error(t.cmd("off1", approve.clone()).await, 403, "forbidden").await;
    t.ok("boss", approve.clone()).await;
    assert_error(t.cmd("boss", approve).await, 409, "invalid_state").await;
    // Approved and not yet due: no reminder, no surcharge — and still never to an officer.
    assert_error(
        t.cmd("off1", json!({"type": "remind_party", "case_id": case_id}))
            .await,
        422,
        "not_overdue",
    )
    .await;
    assert_error(
        t.cmd("off1", pay(500000, "officer")).await,
        422,
        "payment_to_officer",
    )
    .await;
    let paid = t.ok("off1", pay(500000, "bank")).await;
    assert_eq!(paid["case"]["procedure"]["payment"]["surcharge_fen"], 0);
    let r = archive_as(&t, &legal, &case_id, "延期缴纳，已缴清").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let detail = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail["case"]["procedure"]["archive"]["outcome"], "paid");
    t.verify();
}

/// Renders every page of a PDF to PNG with `pdftoppm` (poppler-utils) and returns how many
/// pages had ink on them, or `None` where the tool is not installed (CI installs it;
/// `GRIDDISPATCH_REQUIRE_PDFTOTEXT=1` makes its absence a failure).
fn rendered_pages_with_ink(pdf: &[u8]) -> Option<usize> {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(pdf)
        .unwrap();
    match std::process::Command::new("pdftoppm")
        .args(["-r", "40", "-png"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "pdftoppm refused the document: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) if std::env::var("GRIDDISPATCH_REQUIRE_PDFTOTEXT").is_ok() => {
            panic!("pdftoppm is required (apt-get install poppler-utils)")
        }
        Err(_) => return None,
    }
    let mut inked = 0;
    let mut pages = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("png") {
            continue;
        }
        pages += 1;
        let img = image::open(&p).unwrap().to_luma8();
        let dark = img.pixels().filter(|px| px.0[0] < 128).count();
        // Text, not a blank page: some dark pixels, and most of the page paper-white.
        if dark > 200 && dark < (img.width() * img.height()) as usize / 3 {
            inked += 1;
        }
    }
    assert!(pages > 0, "pdftoppm rendered no page");
    Some(inked)
}

#[actix_web::test]
async fn a_phone_report_becomes_an_archived_case_file_whose_documents_render_and_read_right() {
    use std::io::Read;
    let t = Town::new().await;
    t.app.user("legal", &[Role::LegalReviewer]);
    let legal = t.app.login("legal", "dev").await.access_token;
    // 1. The grid member's phone: a photo by tus, the report by sync push.
    let (report, photo_id) = (uuid(), uuid());
    let photo = crate::tus::photo(160, 120, 3);
    let tus = crate::tus::Tus {
        app: &t.app,
        token: t.tokens["gmx"].clone(),
    };
    assert_eq!(tus.upload(&photo, &photo_id, 1 << 20).await.status(), 204);
    let pushed = t
        .app
        .client
        .post(t.app.url("/sync/v1/push"))
        .bearer_auth(&t.tokens["gmx"])
        .header("GridSync-Protocol", "1")
        .json(&json!({"device_id": "dev", "commands": [{"device_seq": 1, "command": {
            "type": "create_report", "report_id": report, "source": "grid_patrol", "category_code": "0301",
            "description": "村东头有人未经批准新建砖房", "position": {"lat": t.point.0, "lon": t.point.1},
            "attachment_ids": [photo_id]}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    let pushed: Value = pushed.json().await.unwrap();
    assert_eq!(pushed["next_device_seq"], 2, "{pushed}");
    // 2. Dispatch, the squad on site, a case proposed and filed.
    let task = t.dispatch(&report).await;
    t.to_on_site(&task).await;
    let case_id = uuid();
    let site_photo = crate::tus::photo(160, 120, 9);
    let site_id = uuid();
    let tus = crate::tus::Tus {
        app: &t.app,
        token: t.tokens["off1"].clone(),
    };
    assert_eq!(
        tus.upload(&site_photo, &site_id, 1 << 20).await.status(),
        204
    );
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [site_id], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    // 3. The procedure: investigation, notice, review, decision, service, publication.
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inspection",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "现场检查：新建砖混房屋一间约四十平方米", "attachment_ids": [site_id]})).await;
    t.ok("off2", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inquiry",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "问：房屋是否办理规划许可？答：没有办理"})).await;
    t.ok(
        "off1",
        json!({"type": "notify_party", "case_id": case_id,
        "party": {"kind": "person", "name": "王建国", "id_number": "410881199001011234"},
        "facts": "未取得建设工程规划许可证建设房屋", "legal_basis": "城乡规划法第六十四条",
        "sanctions": [{"kind": "fine", "amount_fen": 800000}]}),
    )
    .await;
    t.ok("off1", json!({"type": "record_statement", "case_id": case_id, "content": "当事人表示愿意整改，请求从轻处罚", "waived": true})).await;
    // Each piece of evidence says what it proves (seed 003), stated by its maker.
    for (who, id, proves) in [
        ("gmx", &photo_id, "巡查发现新建房屋的时间与位置"),
        ("off1", &site_id, "房屋已建成约四十平方米"),
    ] {
        let r = t
            .app
            .client
            .patch(t.app.url(&format!("/api/v1/attachments/{id}")))
            .bearer_auth(&t.tokens[who])
            .json(&json!({"proves": proves}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    t.ok(
        "off1",
        json!({"type": "submit_for_review", "case_id": case_id}),
    )
    .await;
    let review = json!({"command": {"type": "review_case", "case_id": case_id, "passed": true, "opinion": "事实清楚、证据确凿、程序合法、适用依据正确"}});
    let r = t.app.post("/api/v1/commands", &review, Some(&legal)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    t.ok("boss", json!({"type": "decide_case", "case_id": case_id, "decision": {"decision": "penalty",
        "sanctions": [{"kind": "fine", "amount_fen": 800000}], "facts": "未取得建设工程规划许可证建设房屋",
        "legal_basis": "城乡规划法第六十四条", "discretion": "一般情节", "statements_answer": "当事人请求从轻处罚，已按一般情节下限考虑"}})).await;
    t.ok(
        "off1",
        json!({"type": "serve_decision", "case_id": case_id, "method": "in_person"}),
    )
    .await;
    t.ok(
        "boss",
        json!({"type": "publish_decision", "case_id": case_id}),
    )
    .await;
    // 4. Execution: unpaid 20 days after service → 催告; the party then pays at the bank what
    // the reminder says (fine and 5 days' surcharge).
    shift(&t, &case_id, &["/procedure/service/at"], 20);
    let reminded = t
        .ok("off2", json!({"type": "remind_party", "case_id": case_id}))
        .await;
    let owed = reminded["case"]["procedure"]["reminder"]["amount_fen"]
        .as_i64()
        .unwrap();
    assert_eq!(owed, 800000 + 800000 * 3 / 100 * 5);
    t.ok("off1", json!({"type": "record_payment", "case_id": case_id, "amount_fen": owed, "channel": "bank", "reference": "ICBC-20261130-0007"})).await;
    // 5. Archive and the case file.
    let r = archive_as(
        &t,
        &legal,
        &case_id,
        "当事人经催告后缴清罚款及加处罚款，案件办结",
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = t
        .app
        .get(&format!("/api/v1/cases/{case_id}/file"), Some(&legal))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let manifest: Value = {
        let mut buf = Vec::new();
        zip.by_name("manifest.json")
            .unwrap()
            .read_to_end(&mut buf)
            .unwrap();
        serde_json::from_slice(&buf).unwrap()
    };
    assert_eq!(manifest["status"], "archived");
    // Every document of the procedure is in the file, renders to pages with ink and reads as
    // what it is.
    let expected: [(&str, &[&str]); 9] = [
        ("立案审批表", &["立案审批表", "城乡规划法第六十四条"]),
        ("现场检查", &["现场检查", "四十平方米", "已出示执法证件"]),
        ("询问笔录", &["询问笔录", "没有办理"]),
        (
            "事先告知书",
            &["行政处罚事先告知书", "王建国", "陈述和申辩"],
        ),
        ("法制审核意见书", &["法制审核意见书", "程序合法"]),
        (
            "行政处罚决定书",
            &["行政处罚决定书", "罚决〔", "8000.00元", "行政复议"],
        ),
        ("送达回证", &["送达回证", "直接送达"]),
        (
            "催告书",
            &["催告书", "催告〔", "第五十四条", "强制执行", "9200.00元"],
        ),
        (
            "结案报告",
            &["结案报告", "ICBC-20261130-0007", "已缴纳人民币9200.00元"],
        ),
    ];
    let paths: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    for (title, words) in expected {
        let path = paths
            .iter()
            .find(|p| p.starts_with("documents/") && p.contains(title))
            .unwrap_or_else(|| panic!("{title} not in the case file: {paths:?}"));
        let mut pdf = Vec::new();
        zip.by_name(path).unwrap().read_to_end(&mut pdf).unwrap();
        if let Some(inked) = rendered_pages_with_ink(&pdf) {
            assert!(inked >= 1, "{path} renders blank");
        }
        if let Some(text) = pdf_text(&pdf) {
            let flat: String = text.split_whitespace().collect();
            for w in words {
                assert!(flat.contains(w), "{w} missing from {path}:\n{text}");
            }
            // The public never reads the decision's identity number; the file keeps it
            // only where the law wants the party identified — and never a complainant.
            assert!(!flat.contains("13912345678"), "{path}");
        }
    }
    // The phone's photo is in the file as it arrived.
    assert!(
        paths.iter().any(|p| p.starts_with("evidence/")),
        "{paths:?}"
    );
    t.verify();
}
