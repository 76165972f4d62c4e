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
    t.ok("boss", hand(&police, &procuratorate)).await;
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
    // Seven working days: at least nine calendar days (a weekend), at most a long holiday more.
    let days = (due - at).num_days();
    assert!((9..=16).contains(&days), "7 working days, got {days} days");
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
