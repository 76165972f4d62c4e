//! A complainant's name and phone number reach only the dispatch center (dispatcher, duty
//! chief): every role, every output path — lists, details, the full record, command answers,
//! events, sync pull and push answers, notifications, statistics.

use std::time::Duration;

use crate::workflow::{uuid, Town};
use futures_util::StreamExt;
use griddispatch_protocol::Role;
use serde_json::{json, Value};

const PHONE: &str = "13912345678";
const NAME: &str = "投诉人王某某";

/// Who may read a complainant's contact.
fn may_see(roles: &[Role]) -> bool {
    roles.contains(&Role::Dispatcher) || roles.contains(&Role::DutyChief)
}

struct Path {
    what: String,
    body: String,
}

async fn get_text(t: &Town, token: &str, path: &str) -> Path {
    let r = t.app.get(path, Some(token)).await;
    let status = r.status();
    let body = r.text().await.unwrap();
    Path {
        what: format!("GET {path} ({status})"),
        body,
    }
}

async fn sync_pull_all(t: &Town, token: &str) -> Path {
    let (changes, _) = crate::sync::pull_all(t, token, None, 500).await;
    Path {
        what: "sync pull".into(),
        body: serde_json::to_string(&changes).unwrap(),
    }
}

/// The first chunks of the live event stream from the beginning of the log.
async fn events(t: &Town, token: &str, sees_nothing: bool) -> Path {
    let r = t
        .app
        .client
        .get(t.app.url("/api/v1/events?after=0"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let mut body = String::new();
    if status == 200 {
        let mut stream = r.bytes_stream();
        // The first chunk carries everything after `after=0`; the stream never ends by itself.
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a reader of the stream gets the events since 0 at once")
            .expect("the stream is open")
            .unwrap();
        body.push_str(&String::from_utf8_lossy(&chunk));
        // Events name what changed; the check below then reads what they carry. A liaison whose
        // department was sent nothing gets the stream's keep-alive only.
        if sees_nothing {
            assert_eq!(body.trim(), ": keep-alive", "{body}");
        } else {
            assert!(body.contains("event: change"), "{body}");
        }
    }
    Path {
        what: format!("GET /api/v1/events ({status})"),
        body,
    }
}

#[actix_web::test]
async fn complainant_contact_reaches_only_dispatchers_and_duty_chiefs_on_every_output_path() {
    let t = Town::new().await;
    // Readers of the report besides the town's own: a grid leader of the village, a legal
    // reviewer, a department liaison.
    for (u, role) in [
        ("leader", Role::GridLeader),
        ("legal", Role::LegalReviewer),
        ("liaison", Role::DepartmentLiaison),
    ] {
        t.app.user(u, &[role]);
    }
    let admin = t.tokens["admin1"].clone();
    let r = t
        .app
        .client
        .put(
            t.app
                .url(&format!("/api/v1/grid/cells/{}/members/leader", t.village)),
        )
        .bearer_auth(&admin)
        .json(&json!({"role": "grid_leader"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut tokens = t.tokens.clone();
    for u in ["leader", "legal", "liaison"] {
        tokens.insert(u, t.app.login(u, "dev").await.access_token);
    }

    // Every command answer, by the role that sent it.
    let mut answers: Vec<(&str, String)> = Vec::new();
    let report = uuid();
    let task = uuid();
    let case = uuid();
    let steps = vec![
        (
            "disp",
            json!({"type": "create_report", "report_id": report, "source": "hotline", "category_code": "0301",
            "description": "12345 来电：村东头有人违法建房", "position": {"lat": t.point.0, "lon": t.point.1},
            "attachment_ids": [], "contact": {"name": NAME, "phone": PHONE}}),
        ),
        (
            "disp",
            json!({"type": "dispatch_report", "report_id": report, "task_id": task, "squad_id": t.squad}),
        ),
        (
            "lead",
            json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1"), t.id("off2")]}),
        ),
        (
            "off2",
            json!({"type": "arrive_on_site", "task_id": task, "position": {"lat": t.point.0, "lon": t.point.1}}),
        ),
        (
            "off2",
            json!({"type": "handle_task", "task_id": task, "case_id": case,
            "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}, "attachment_ids": [uuid()]}),
        ),
        ("boss", json!({"type": "file_case", "case_id": case})),
    ];
    // A second hotline report with the same contact, handled and re-checked by a grid member.
    let report2 = uuid();
    let task2 = uuid();
    let steps2 = vec![
        (
            "disp",
            json!({"type": "create_report", "report_id": report2, "source": "public_complaint", "category_code": "0401",
            "description": "群众举报：占道经营", "position": {"lat": t.point.0, "lon": t.point.1},
            "attachment_ids": [], "contact": {"name": NAME, "phone": PHONE}}),
        ),
        (
            "disp",
            json!({"type": "dispatch_report", "report_id": report2, "task_id": task2, "squad_id": t.squad}),
        ),
        (
            "lead",
            json!({"type": "accept_task", "task_id": task2, "officer_ids": [t.id("off1"), t.id("off2")]}),
        ),
        (
            "off2",
            json!({"type": "arrive_on_site", "task_id": task2, "position": {"lat": t.point.0, "lon": t.point.1}}),
        ),
        (
            "off2",
            json!({"type": "handle_task", "task_id": task2, "outcome": {"outcome": "rectified", "note": "已撤离"}, "attachment_ids": [uuid(), uuid()]}),
        ),
        ("lead", json!({"type": "close_task", "task_id": task2})),
        (
            "gmx",
            json!({"type": "recheck_task", "task_id": task2, "passed": true}),
        ),
    ];
    for (who, cmd) in &steps {
        let resp = t.cmd(who, cmd.clone()).await;
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 200, "{} by {who}: {text}", cmd["type"]);
        answers.push((who, text));
    }
    // The field roles send the second report's steps from their phones: an applied push answers
    // with the entities as the command just wrote them (the report among them), which must be
    // cut like every other path.
    let mut device_seq: std::collections::HashMap<&str, i64> = Default::default();
    for (who, cmd) in steps2 {
        if who == "disp" {
            let resp = t.cmd(who, cmd.clone()).await;
            assert_eq!(resp.status(), 200, "{} by {who}", cmd["type"]);
            answers.push((who, resp.text().await.unwrap()));
            continue;
        }
        let seq = device_seq.entry(who).or_insert(0);
        *seq += 1;
        let resp = t
            .app
            .client
            .post(t.app.url("/sync/v1/push"))
            .bearer_auth(&t.tokens[who])
            .header("GridSync-Protocol", "1")
            .json(&json!({"device_id": "dev", "commands": [{"device_seq": *seq, "command": cmd}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            answer["results"][0]["status"], "applied",
            "{} by {who}: {text}",
            cmd["type"]
        );
        let entities = answer["results"][0]["entities"].as_array().unwrap();
        assert!(
            entities.iter().any(|e| e["id"] == report2.as_str()),
            "the answer carries the report: {text}"
        );
        answers.push((who, text));
    }

    let people: Vec<(&str, Vec<Role>)> = vec![
        ("disp", vec![Role::Dispatcher]),
        ("chief", vec![Role::DutyChief]),
        ("admin1", vec![Role::Admin]),
        ("boss", vec![Role::Approver]),
        ("legal", vec![Role::LegalReviewer]),
        ("liaison", vec![Role::DepartmentLiaison]),
        ("leader", vec![Role::GridLeader]),
        ("gmx", vec![Role::GridMember]),
        ("gm2", vec![Role::GridMember]),
        ("lead", vec![Role::SquadLeader, Role::Officer]),
        ("off1", vec![Role::Officer, Role::GridMember]),
        ("off2", vec![Role::Officer]),
    ];
    let mut leaks = Vec::new();
    let mut seen_by_allowed = 0;
    for (who, roles) in &people {
        let token = tokens[who].clone();
        let mut paths = vec![
            get_text(&t, &token, "/api/v1/reports?per_page=200").await,
            get_text(&t, &token, &format!("/api/v1/reports/{report}")).await,
            get_text(&t, &token, &format!("/api/v1/reports/{report2}")).await,
            get_text(&t, &token, "/api/v1/tasks?per_page=200").await,
            get_text(&t, &token, &format!("/api/v1/tasks/{task}")).await,
            get_text(&t, &token, &format!("/api/v1/tasks/{task2}")).await,
            get_text(&t, &token, &format!("/api/v1/cases/{case}")).await,
            get_text(&t, &token, "/api/v1/me/notifications").await,
            get_text(&t, &token, "/api/v1/stats?group_by=cell").await,
            events(&t, &token, *who == "liaison").await,
            sync_pull_all(&t, &token).await,
        ];
        // A push the rules refuse answers with the entity's current state.
        let push = t
            .app
            .client
            .post(t.app.url("/sync/v1/push"))
            .bearer_auth(&token)
            .header("GridSync-Protocol", "1")
            .json(&json!({"device_id": "dev", "commands": [
                {"device_seq": device_seq.get(who).map_or(1, |s| s + 1),
                 "command": {"type": "close_report", "report_id": report2}}]}))
            .send()
            .await
            .unwrap();
        paths.push(Path {
            what: format!("sync push answer ({})", push.status()),
            body: push.text().await.unwrap(),
        });
        for (sender, text) in &answers {
            if sender == who {
                paths.push(Path {
                    what: "command answer".into(),
                    body: text.clone(),
                });
            }
        }
        for p in paths {
            let shows = p.body.contains(PHONE) || p.body.contains(NAME);
            if shows && !may_see(roles) {
                leaks.push(format!("{who}: {}", p.what));
            }
            if shows && may_see(roles) {
                seen_by_allowed += 1;
            }
        }
    }
    assert!(leaks.is_empty(), "contact leaked: {leaks:#?}");
    // The dispatch center does see it (lists, details, record, answers) — the check above
    // could not pass by serving nobody.
    assert!(
        seen_by_allowed >= 8,
        "dispatch center saw the contact on {seen_by_allowed} paths"
    );
    let d = t.get(&format!("/api/v1/reports/{report}")).await;
    assert_eq!(d["report"]["contact"]["phone"], PHONE);
    // The record serves its command and states as objects, not JSON inside a string.
    let first = &d["history"][0];
    assert_eq!(first["payload"]["contact"]["phone"], PHONE);
    assert!(first["after"].is_object());
    assert!(first["at"].as_str().unwrap().ends_with('Z'));
}
