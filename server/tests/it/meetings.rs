//! Joint meetings (联席会议) over HTTP: topics only inside their window, minutes only from the
//! chair after the meeting with complete decided items, progress only from the owner unit, and
//! overdue items flagged once and listed on the next meeting's agenda; every change on record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_error, TestApp};
use chrono::{Duration, SecondsFormat};
use diesel::prelude::*;
use griddispatch_protocol::Role;
use serde_json::{json, Value};

struct Town {
    app: TestApp,
    admin: String,
    approver: String,
    disp: String,
    la: String,
    lb: String,
    lc: String,
    /// Member A (liaison la), member B (liaison lb), C (liaison lc) not a member.
    a: String,
    b: String,
    c: String,
}

fn at(days: i64) -> String {
    (griddispatch::db::now() + Duration::days(days))
        .and_utc()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn town_with(adjust: impl FnOnce(&mut griddispatch::config::Config)) -> Town {
    let app = TestApp::spawn_with(adjust).await;
    app.user("admin1", &[Role::Admin]);
    app.user("boss", &[Role::Approver]);
    app.user("disp", &[Role::Dispatcher]);
    for l in ["liaison_a", "liaison_b", "liaison_c"] {
        app.user(l, &[Role::DepartmentLiaison]);
    }
    let admin = app.login("admin1", "d").await.access_token;
    let mut ids = Vec::new();
    for (name, liaison) in [
        ("县市场监督管理局", "liaison_a"),
        ("县自然资源和规划局", "liaison_b"),
        ("县水务局", "liaison_c"),
    ] {
        let r = app
            .post(
                "/api/v1/departments",
                &json!({"name": name, "kind": "functional", "liaisons": [liaison]}),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status(), 201);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    Town {
        approver: app.login("boss", "d").await.access_token,
        disp: app.login("disp", "d").await.access_token,
        la: app.login("liaison_a", "d").await.access_token,
        lb: app.login("liaison_b", "d").await.access_token,
        lc: app.login("liaison_c", "d").await.access_token,
        admin,
        c: ids.pop().unwrap(),
        b: ids.pop().unwrap(),
        a: ids.pop().unwrap(),
        app,
    }
}

async fn town() -> Town {
    town_with(|_| {}).await
}

impl Town {
    async fn meeting(&self, days: i64, chair: Option<&str>) -> Value {
        let r = self
            .app
            .post(
                "/api/v1/meetings",
                &json!({"title": "综合行政执法联席会议", "scheduled_at": at(days), "place": "镇政府三楼会议室",
                        "chair_department_id": chair, "members": [self.a, self.b]}),
                Some(&self.admin),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    async fn topic(&self, meeting: &Value, token: &str) -> reqwest::Response {
        let path = format!(
            "/api/v1/meetings/{}/topics",
            meeting["id"].as_str().unwrap()
        );
        self.app
            .post(
                &path,
                &json!({"title": "占道经营联合整治", "description": "沿街商铺占道"}),
                Some(token),
            )
            .await
    }

    async fn minutes(&self, meeting: &Value, items: Value, token: &str) -> reqwest::Response {
        let path = format!(
            "/api/v1/meetings/{}/minutes",
            meeting["id"].as_str().unwrap()
        );
        self.app
            .post(
                &path,
                &json!({"minutes": "会议研究了占道经营整治工作。", "items": items}),
                Some(token),
            )
            .await
    }

    fn item(&self, owner: &str, due_days: i64) -> Value {
        json!({"title": "开展沿街占道经营联合整治", "owner_department_id": owner, "owner_person": "王科长",
               "due_at": at(due_days), "standard": "主要街道无占道经营，形成整治台账"})
    }

    async fn get(&self, meeting: &Value, token: &str) -> Value {
        let path = format!("/api/v1/meetings/{}", meeting["id"].as_str().unwrap());
        let r = self.app.get(&path, Some(token)).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    fn verify(&self) {
        let mut conn = self.app.state.pool.get().unwrap();
        let (_, problems) = griddispatch::store::audit::verify(&mut conn).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }

    fn recorded(&self, command: &str) -> usize {
        use griddispatch::schema::audit_log;
        let mut conn = self.app.state.pool.get().unwrap();
        let n: i64 = audit_log::table
            .filter(audit_log::command.eq(command))
            .count()
            .get_result(&mut conn)
            .unwrap();
        usize::try_from(n).unwrap()
    }
}

#[actix_web::test]
async fn topics_are_taken_from_ten_days_before_the_meeting_until_the_cut_off() {
    let t = town().await;
    // Only the office schedules.
    let r = t
        .app
        .post(
            "/api/v1/meetings",
            &json!({"title": "x", "scheduled_at": at(7), "members": [t.a]}),
            Some(&t.la),
        )
        .await;
    assert_error(r, 403, "forbidden").await;
    let r = t
        .app
        .post(
            "/api/v1/meetings",
            &json!({"title": "x", "scheduled_at": at(7), "members": ["no-such"]}),
            Some(&t.admin),
        )
        .await;
    assert_error(r, 422, "unknown_department").await;

    let far = t.meeting(30, None).await;
    let r = t.topic(&far, &t.la).await;
    let msg = assert_error(r, 422, "topics_not_open").await;
    assert!(msg.contains("10"), "{msg}");

    let soon = t.meeting(1, None).await;
    assert_error(t.topic(&soon, &t.la).await, 422, "topics_closed").await;

    let open = t.meeting(7, None).await;
    let r = t.topic(&open, &t.la).await;
    assert_eq!(r.status(), 201);
    let topic: Value = r.json().await.unwrap();
    assert_eq!(
        topic["department_id"],
        t.a.as_str(),
        "in the liaison's unit's name"
    );
    let r = t.topic(&open, &t.disp).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["department_id"],
        Value::Null
    );
    // A liaison of a unit outside the meeting may not.
    assert_error(t.topic(&open, &t.lc).await, 403, "not_a_member").await;

    let seen = t.get(&open, &t.la).await;
    assert_eq!(seen["topics"].as_array().unwrap().len(), 2);
    assert_eq!(t.recorded("submit_meeting_topic"), 2);
    assert_eq!(t.recorded("schedule_meeting"), 3);
    // The outsider does not see the meeting at all.
    let r = t
        .app
        .get(
            &format!("/api/v1/meetings/{}", open["id"].as_str().unwrap()),
            Some(&t.lc),
        )
        .await;
    assert_error(r, 404, "not_found").await;
    let list: Value = t
        .app
        .get("/api/v1/meetings", Some(&t.lc))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);

    // The next meeting is proposed a month after the latest.
    let next: Value = t
        .app
        .get("/api/v1/meetings/next-date", Some(&t.admin))
        .await
        .json()
        .await
        .unwrap();
    let latest =
        chrono::DateTime::parse_from_rfc3339(far["scheduled_at"].as_str().unwrap()).unwrap();
    let proposed =
        chrono::DateTime::parse_from_rfc3339(next["scheduled_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        proposed,
        latest.checked_add_months(chrono::Months::new(1)).unwrap()
    );
}

#[actix_web::test]
async fn the_cut_off_is_configurable() {
    let t = town_with(|c| c.meetings.topics_cutoff_days = 0).await;
    let soon = t.meeting(1, None).await;
    assert_eq!(t.topic(&soon, &t.lb).await.status(), 201);
}

#[actix_web::test]
async fn only_the_chair_issues_minutes_after_the_meeting_with_complete_items() {
    let t = town().await;
    let future = t.meeting(5, None).await;
    let r = t
        .minutes(&future, json!([t.item(&t.a, 10)]), &t.approver)
        .await;
    assert_error(r, 409, "meeting_not_held").await;

    let held = t.meeting(-1, None).await;
    assert_error(
        t.minutes(&held, json!([]), &t.lb).await,
        403,
        "not_the_chair",
    )
    .await;
    assert_error(
        t.minutes(&held, json!([]), &t.disp).await,
        403,
        "not_the_chair",
    )
    .await;

    for field in [
        "title",
        "owner_department_id",
        "owner_person",
        "due_at",
        "standard",
    ] {
        let mut item = t.item(&t.a, 10);
        item.as_object_mut().unwrap().remove(field);
        let r = t
            .minutes(&held, json!([t.item(&t.b, 10), item]), &t.approver)
            .await;
        let msg = assert_error(r, 422, "item_incomplete").await;
        assert!(msg.contains(field), "{field}: {msg}");
    }
    let mut blank = t.item(&t.a, 10);
    blank["standard"] = json!("   ");
    assert_error(
        t.minutes(&held, json!([blank]), &t.approver).await,
        422,
        "item_incomplete",
    )
    .await;
    let r = t
        .minutes(&held, json!([t.item(&t.a, -2)]), &t.approver)
        .await;
    assert_error(r, 422, "invalid_item").await;
    let r = t
        .minutes(&held, json!([t.item(&t.c, 10)]), &t.approver)
        .await;
    assert_error(r, 422, "invalid_item").await;
    // Nothing of the refused minutes was kept.
    let seen = t.get(&held, &t.admin).await;
    assert_eq!(seen["minutes"], Value::Null);
    assert_eq!(seen["items"].as_array().unwrap().len(), 0);

    let r = t
        .minutes(
            &held,
            json!([t.item(&t.a, 10), t.item(&t.b, 20)]),
            &t.approver,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["items"].as_array().unwrap().len(), 2);
    assert_eq!(m["items"][0]["owner_department"], "县市场监督管理局");
    assert_eq!(m["items"][0]["status"], "open");
    assert_error(
        t.minutes(&held, json!([]), &t.approver).await,
        409,
        "minutes_issued",
    )
    .await;
    assert_eq!(t.recorded("issue_meeting_minutes"), 1);

    // A meeting chaired by a department: its liaison signs.
    let chaired = t.meeting(-1, Some(&t.a)).await;
    assert_error(
        t.minutes(&chaired, json!([]), &t.lb).await,
        403,
        "not_the_chair",
    )
    .await;
    assert_eq!(
        t.minutes(&chaired, json!([t.item(&t.b, 3)]), &t.la)
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn a_liaison_reports_progress_only_on_its_own_units_items() {
    let t = town().await;
    let held = t.meeting(-1, None).await;
    let m: Value = t
        .minutes(&held, json!([t.item(&t.a, 10)]), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let item = m["items"][0]["id"].as_str().unwrap().to_owned();
    let progress = format!("/api/v1/meeting-items/{item}/progress");
    let close = format!("/api/v1/meeting-items/{item}/close");
    let note = json!({"note": "已完成两条街道的整治"});
    assert_error(
        t.app.post(&progress, &note, Some(&t.lb)).await,
        403,
        "not_item_owner",
    )
    .await;
    assert_error(
        t.app.post(&close, &note, Some(&t.lb)).await,
        403,
        "not_item_owner",
    )
    .await;
    assert_error(
        t.app.post(&progress, &note, Some(&t.disp)).await,
        403,
        "not_item_owner",
    )
    .await;
    assert_error(
        t.app
            .post("/api/v1/meeting-items/nope/progress", &note, Some(&t.la))
            .await,
        404,
        "not_found",
    )
    .await;

    let r = t.app.post(&progress, &note, Some(&t.la)).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["progress"][0]["note"], "已完成两条街道的整治");
    let r = t
        .app
        .post(
            &close,
            &json!({"note": "整治完成，台账已报送"}),
            Some(&t.la),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["result"], "整治完成，台账已报送");
    assert_error(
        t.app.post(&progress, &note, Some(&t.la)).await,
        409,
        "item_closed",
    )
    .await;
    assert_eq!(t.recorded("report_meeting_item_progress"), 1);
    assert_eq!(t.recorded("close_meeting_item"), 1);
}

#[actix_web::test]
async fn an_overdue_item_is_flagged_once_and_listed_on_the_next_meetings_agenda() {
    use griddispatch::schema::notifications;
    let t = town().await;
    let held = t.meeting(-10, None).await;
    let m: Value = t
        .minutes(&held, json!([t.item(&t.a, -2), t.item(&t.b, 30)]), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let late = m["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(m["items"][0]["status"], "overdue");
    let next = t.meeting(15, None).await;

    let sweep = || {
        let mut conn = t.app.state.pool.get().unwrap();
        griddispatch::meetings::sweep(&mut conn, griddispatch::db::now()).unwrap()
    };
    assert_eq!(sweep(), 1);
    assert_eq!(sweep(), 0, "flagged once");
    let told: i64 = {
        let mut conn = t.app.state.pool.get().unwrap();
        notifications::table
            .filter(notifications::kind.eq("meeting_item_overdue"))
            .count()
            .get_result(&mut conn)
            .unwrap()
    };
    assert_eq!(told, 3, "liaison la, the admin and the approver, once each");

    let agenda = t.get(&next, &t.la).await;
    let overdue = agenda["overdue_items"].as_array().unwrap();
    assert_eq!(overdue.len(), 1, "{agenda}");
    assert_eq!(overdue[0]["id"], late.as_str());
    assert!(overdue[0]["flagged_at"].is_string());

    // Closed before the meeting: no longer reported there.
    let r = t
        .app
        .post(
            &format!("/api/v1/meeting-items/{late}/close"),
            &json!({"note": "已完成"}),
            Some(&t.la),
        )
        .await;
    assert_eq!(r.status(), 200);
    let agenda = t.get(&next, &t.admin).await;
    assert_eq!(agenda["overdue_items"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn a_meeting_is_rescheduled_or_cancelled_only_before_it_is_held_and_its_units_are_told() {
    let t = town().await;
    let m = t.meeting(7, None).await;
    let id = m["id"].as_str().unwrap();
    let path = format!("/api/v1/meetings/{id}");
    let moved = json!({"title": "综合行政执法联席会议（改期）", "scheduled_at": at(9),
                       "place": "镇政府一楼会议室", "members": [t.a, t.c]});
    // Only the office reschedules; not into the past.
    assert_error(
        t.app.patch(&path, &moved, Some(&t.la)).await,
        403,
        "forbidden",
    )
    .await;
    let past = json!({"title": "x", "scheduled_at": at(-1), "members": [t.a]});
    assert_error(
        t.app.patch(&path, &past, Some(&t.admin)).await,
        422,
        "invalid_meeting",
    )
    .await;
    let r = t.app.patch(&path, &moved, Some(&t.admin)).await;
    assert_eq!(r.status(), 200);
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["place"], "镇政府一楼会议室");
    assert_eq!(after["members"].as_array().unwrap().len(), 2);
    // B left the meeting and no longer sees it; C joined and does; both were told.
    assert_error(t.app.get(&path, Some(&t.lb)).await, 404, "not_found").await;
    assert_eq!(t.get(&m, &t.lc).await["place"], "镇政府一楼会议室");
    for token in [&t.lb, &t.lc, &t.la] {
        let notes: Value = t
            .app
            .get("/api/v1/me/notifications", Some(token))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            notes.to_string().contains("已调整"),
            "every unit before and after is told: {notes}"
        );
    }
    assert_eq!(t.recorded("reschedule_meeting"), 1);

    // Cancelled with a reason; then nothing more is taken for it.
    let cancel = format!("{path}/cancel");
    assert_error(
        t.app
            .post(&cancel, &json!({"reason": " "}), Some(&t.admin))
            .await,
        422,
        "invalid_meeting",
    )
    .await;
    let r = t
        .app
        .post(
            &cancel,
            &json!({"reason": "防汛工作冲突"}),
            Some(&t.approver),
        )
        .await;
    assert_eq!(r.status(), 200);
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["cancel_reason"], "防汛工作冲突");
    assert!(cancelled["cancelled_at"].is_string());
    assert_error(t.topic(&m, &t.la).await, 409, "meeting_cancelled").await;
    assert_error(
        t.app.patch(&path, &moved, Some(&t.admin)).await,
        409,
        "meeting_cancelled",
    )
    .await;
    assert_error(
        t.app
            .post(&cancel, &json!({"reason": "再次"}), Some(&t.admin))
            .await,
        409,
        "meeting_cancelled",
    )
    .await;
    assert_eq!(t.recorded("cancel_meeting"), 1);

    // A meeting whose time has come cannot be moved; one with minutes cannot be cancelled.
    let held = t.meeting(0, None).await;
    let held_path = format!("/api/v1/meetings/{}", held["id"].as_str().unwrap());
    assert_error(
        t.app.patch(&held_path, &moved, Some(&t.admin)).await,
        409,
        "meeting_held",
    )
    .await;
    let r = t.minutes(&held, json!([t.item(&t.a, 10)]), &t.admin).await;
    assert_eq!(r.status(), 200);
    assert_error(
        t.app
            .post(
                &format!("{held_path}/cancel"),
                &json!({"reason": "x"}),
                Some(&t.admin),
            )
            .await,
        409,
        "minutes_issued",
    )
    .await;
    t.verify();
}

#[actix_web::test]
async fn the_chair_puts_topics_on_the_agenda_or_declines_them_with_a_note_once() {
    let t = town().await;
    // Chaired by department A: its liaison decides, B's may not.
    let m = t.meeting(7, Some(&t.a)).await;
    let topic: Value = t.topic(&m, &t.lb).await.json().await.unwrap();
    let other: Value = t.topic(&m, &t.disp).await.json().await.unwrap();
    let decide = |topic: &Value| {
        format!(
            "/api/v1/meetings/{}/topics/{}/decision",
            m["id"].as_str().unwrap(),
            topic["id"].as_str().unwrap()
        )
    };
    assert_error(
        t.app
            .post(&decide(&topic), &json!({"accepted": true}), Some(&t.lb))
            .await,
        403,
        "not_the_chair",
    )
    .await;
    assert_error(
        t.app
            .post(&decide(&topic), &json!({"accepted": false}), Some(&t.la))
            .await,
        422,
        "decision_note_required",
    )
    .await;
    let r = t
        .app
        .post(
            &decide(&topic),
            &json!({"accepted": true, "note": "列为第一项"}),
            Some(&t.la),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["decision"], "accepted");
    assert_error(
        t.app
            .post(
                &decide(&topic),
                &json!({"accepted": false, "note": "改主意"}),
                Some(&t.admin),
            )
            .await,
        409,
        "topic_decided",
    )
    .await;
    let r = t
        .app
        .post(
            &decide(&other),
            &json!({"accepted": false, "note": "已在上次会议研究"}),
            Some(&t.admin),
        )
        .await;
    assert_eq!(r.status(), 200);
    let seen = t.get(&m, &t.la).await;
    let decisions: Vec<&str> = seen["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["accepted", "declined"]);
    // The submitter is told.
    let notes: Value = t
        .app
        .get("/api/v1/me/notifications", Some(&t.lb))
        .await
        .json()
        .await
        .unwrap();
    assert!(notes.to_string().contains("已列入"), "{notes}");
    assert_eq!(t.recorded("decide_meeting_topic"), 2);
    t.verify();
}
