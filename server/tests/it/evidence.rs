//! Evidence labels and statements: before/after photos of a rectification and the arrival,
//! what case evidence proves before legal review, transcripts of recordings — each in the
//! record, each rule tried against.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::tus::{photo, Tus};
use crate::workflow::{uuid, Town};
use serde_json::{json, Value};

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// AMR-NB: magic plus `frames` 12.2 kbit/s frames (20 ms each).
fn amr(frames: usize) -> Vec<u8> {
    let mut v = b"#!AMR\n".to_vec();
    for _ in 0..frames {
        v.push(7 << 3 | 0x04);
        v.extend_from_slice(&[0x5A; 31]);
    }
    v
}

fn rectified(task: &str, ids: &[&str]) -> Value {
    json!({"type": "handle_task", "task_id": task, "attachment_ids": ids,
        "outcome": {"outcome": "rectified", "note": "摊位已撤离"}})
}

#[actix_web::test]
async fn an_after_photo_taken_before_the_officers_arrived_is_refused_by_the_command() {
    let t = Town::new().await;
    let tus = Tus {
        app: &t.app,
        token: t.tokens["off2"].clone(),
    };
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let now = chrono::Utc::now();
    let hour_ago = rfc3339(now - chrono::Duration::hours(1));
    // A label other than before/after is refused at creation.
    let resp = tus
        .upload_with(&photo(90, 60, 1), &uuid(), &[("phase", "during")])
        .await;
    assert_error(resp, 400, "invalid_metadata").await;
    let before = uuid();
    let resp = tus
        .upload_with(
            &photo(90, 60, 2),
            &before,
            &[("phase", "before"), ("captured_at", &hour_ago)],
        )
        .await;
    assert_eq!(resp.status(), 204);
    // An "after" photo from an hour ago: uploaded (no task names it yet), refused by the command.
    let stale = uuid();
    let resp = tus
        .upload_with(
            &photo(90, 60, 3),
            &stale,
            &[("phase", "after"), ("captured_at", &hour_ago)],
        )
        .await;
    assert_eq!(resp.status(), 204);
    let audit = t.audit_count();
    assert_error(
        t.cmd("off2", rectified(&task, &[&before, &stale])).await,
        422,
        "after_photo_before_arrival",
    )
    .await;
    assert_eq!(t.audit_count(), audit, "nothing written");
    assert_eq!(
        t.get(&format!("/api/v1/tasks/{task}")).await["task"]["status"],
        "on_site"
    );
    // Taken after the arrival: accepted, and both labels are shown with the report.
    let after = uuid();
    let later = rfc3339(now + chrono::Duration::minutes(5));
    let resp = tus
        .upload_with(
            &photo(90, 60, 4),
            &after,
            &[("phase", "after"), ("captured_at", &later)],
        )
        .await;
    assert_eq!(resp.status(), 204);
    t.ok("off2", rectified(&task, &[&before, &after])).await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let phases: Vec<(String, Value)> = detail["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_owned(), a["phase"].clone()))
        .collect();
    assert!(
        phases.contains(&(before.clone(), json!("before"))),
        "{phases:?}"
    );
    assert!(
        phases.contains(&(after.clone(), json!("after"))),
        "{phases:?}"
    );
    let one: Value = t
        .app
        .get(
            &format!("/api/v1/attachments/{after}"),
            Some(&t.tokens["off2"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["phase"], "after");
    t.verify();
}

#[actix_web::test]
async fn an_after_photo_uploaded_after_the_command_is_refused_when_taken_before_arrival() {
    let t = Town::new().await;
    let tus = Tus {
        app: &t.app,
        token: t.tokens["off2"].clone(),
    };
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    // The phone sends the command first (offline queue), the photos after.
    let (before, after) = (uuid(), uuid());
    t.ok("off2", rectified(&task, &[&before, &after])).await;
    let now = chrono::Utc::now();
    let early = rfc3339(now - chrono::Duration::minutes(30));
    // A "before" photo may be from before the arrival.
    let resp = tus
        .upload_with(
            &photo(90, 60, 5),
            &before,
            &[("phase", "before"), ("captured_at", &early)],
        )
        .await;
    assert_eq!(resp.status(), 204);
    // An "after" photo from before the arrival is refused and not kept.
    let resp = tus
        .upload_with(
            &photo(90, 60, 6),
            &after,
            &[("phase", "after"), ("captured_at", &early)],
        )
        .await;
    assert_error(resp, 422, "after_photo_before_arrival").await;
    let resp = t
        .app
        .get(
            &format!("/api/v1/attachments/{after}"),
            Some(&t.tokens["off2"]),
        )
        .await;
    assert_eq!(resp.status(), 404);
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert!(
        detail["pending_attachment_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(after)),
        "{detail}"
    );
    // An "after" photo no handled task names yet is left for the command to check.
    let other = uuid();
    let later = rfc3339(now + chrono::Duration::minutes(2));
    let resp = tus
        .upload_with(
            &photo(90, 60, 7),
            &other,
            &[("phase", "after"), ("captured_at", &later)],
        )
        .await;
    assert_eq!(resp.status(), 204);
}

#[actix_web::test]
async fn case_evidence_must_say_what_it_proves_before_legal_review() {
    let t = Town::new().await;
    let tus = Tus {
        app: &t.app,
        token: t.tokens["off1"].clone(),
    };
    let r = t.report("0301").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let photo_id = uuid();
    assert_eq!(
        tus.upload(&photo(120, 90, 8), &photo_id, 1 << 20)
            .await
            .status(),
        204
    );
    let case_id = uuid();
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [photo_id], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    t.ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    t.ok(
        "boss",
        json!({"type": "start_investigation", "case_id": case_id, "officer_ids": [off1, off2]}),
    )
    .await;
    t.ok("off1", json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inspection",
        "officer_ids": [off1, off2], "certificates_shown": true, "content": "现场检查：新建砖混房屋一间约 40 平方米"})).await;
    t.ok(
        "off1",
        json!({"type": "notify_party", "case_id": case_id,
        "party": {"kind": "person", "name": "李某", "id_number": "410881199001011234"},
        "facts": "未取得建设工程规划许可证建设房屋", "legal_basis": "城乡规划法第六十四条",
        "sanctions": [{"kind": "fine", "amount_fen": 500000}]}),
    )
    .await;
    crate::case::rewind(&t, &case_id, 6);
    // The uploaded photo says nothing of what it proves: no legal review.
    let msg = assert_error(
        t.cmd(
            "off2",
            json!({"type": "submit_for_review", "case_id": case_id}),
        )
        .await,
        422,
        "evidence_proves_required",
    )
    .await;
    assert!(msg.contains(&photo_id), "{msg}");
    // Only its maker states it; then the review may be asked for.
    let patch = |who: &str, body: Value| {
        t.app
            .client
            .patch(t.app.url(&format!("/api/v1/attachments/{photo_id}")))
            .bearer_auth(&t.tokens[who])
            .json(&body)
            .send()
    };
    assert_error(
        patch("off2", json!({"proves": "违法建设事实"}))
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        patch("off1", json!({})).await.unwrap(),
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(
        patch("off1", json!({"proves": "违法建设的位置与规模"}))
            .await
            .unwrap()
            .status(),
        200
    );
    t.ok(
        "off2",
        json!({"type": "submit_for_review", "case_id": case_id}),
    )
    .await;
    t.verify();
}

#[actix_web::test]
async fn a_recording_gets_a_transcript_from_its_maker_or_an_officer_on_record() {
    let t = Town::new().await;
    let tus = Tus {
        app: &t.app,
        token: t.tokens["gmx"].clone(),
    };
    let (audio, picture) = (uuid(), uuid());
    assert_eq!(
        tus.upload_as(&amr(100), &audio, "audio/amr").await.status(),
        204
    );
    assert_eq!(
        tus.upload(&photo(90, 60, 9), &picture, 1 << 20)
            .await
            .status(),
        204
    );
    let patch = |who: &str, id: &str, body: Value| {
        t.app
            .client
            .patch(t.app.url(&format!("/api/v1/attachments/{id}")))
            .bearer_auth(&t.tokens[who])
            .json(&body)
            .send()
    };
    let before = t.audit_count();
    // The maker writes it down; an officer corrects it; each is recorded with what it replaced.
    let resp = patch("gmx", &audio, json!({"transcript": "当事人称摊位明天撤走"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = patch(
        "off1",
        &audio,
        json!({"transcript": "当事人称摊位今天撤走"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let view: Value = resp.json().await.unwrap();
    assert_eq!(view["transcript"], "当事人称摊位今天撤走");
    assert_eq!(t.audit_count(), before + 2);
    let mut conn = t.app.state.pool.get().unwrap();
    let last = griddispatch::store::audit::last(&mut conn)
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!(last.command, "set_transcript");
    assert_eq!(last.actor_id, t.id("off1"));
    assert!(last.before.contains("明天"), "{}", last.before);
    assert!(last.after.contains("今天"), "{}", last.after);
    // A dispatcher may not; a photo has no transcript; an empty one is refused.
    assert_error(
        patch("disp", &audio, json!({"transcript": "x"}))
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        patch("gmx", &picture, json!({"transcript": "x"}))
            .await
            .unwrap(),
        422,
        "not_audio",
    )
    .await;
    assert_error(
        patch("gmx", &audio, json!({"transcript": "  "}))
            .await
            .unwrap(),
        422,
        "invalid_transcript",
    )
    .await;
    assert_eq!(t.audit_count(), before + 2, "refusals write nothing");
    t.verify();
}
