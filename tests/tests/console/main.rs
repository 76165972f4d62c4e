//! The dispatch console in a real browser (headless Chromium through chromedriver) against the
//! real binary on the demo town: one test per user journey, waiting on what the user sees.
//!
//! Runs on the SQLite pass; skipped with a notice on the PostgreSQL pass and where no browser is
//! installed, unless `GRIDDISPATCH_REQUIRE_BROWSER=1` (set by `.ci/run`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod agencies;
mod closed_loop;
mod dispatcher;
mod meetings;
mod tools;

use griddispatch_e2e::browser::Browser;
use griddispatch_e2e::town::{Town, PASSWORD};
use serde_json::{json, Value};

pub(crate) fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The demo town and a browser, or `None` when browser tests do not run here.
pub(crate) fn setup(journey: &str) -> Option<(Town, Browser)> {
    let browser = Browser::start_or_skip(journey)?;
    Some((Town::start(), browser))
}

/// Move a running task's clock `hours` into the past, as if it had been dispatched that long
/// ago (SQLite, where the browser journeys run): the row's times and the stored task alike.
pub(crate) fn backdate_task(town: &Town, task: &str, hours: u32) {
    use diesel::{Connection, RunQueryDsl};
    let db = town.data_dir().join("griddispatch.db");
    let mut conn = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    let shift = format!("-{hours} hours");
    let fmt = "'%Y-%m-%dT%H:%M:%f'";
    let sql = format!(
        "UPDATE tasks SET \
           data = json_set(data, '$.dispatched_at', strftime({fmt}, dispatched_at, '{shift}'), \
                                 '$.ack_due_at', strftime({fmt}, ack_due_at, '{shift}'), \
                                 '$.due_at', strftime({fmt}, due_at, '{shift}')), \
           dispatched_at = datetime(dispatched_at, '{shift}'), \
           ack_due_at = datetime(ack_due_at, '{shift}'), \
           due_at = datetime(due_at, '{shift}') \
         WHERE id = '{task}'"
    );
    let n = diesel::sql_query(sql).execute(&mut conn).unwrap();
    assert_eq!(n, 1, "task {task} backdated");
}

/// A hotline report filed over REST by the dispatcher, at the demo position; its id.
pub(crate) fn hotline_report(town: &Town, category: &str, description: &str) -> String {
    let id = uuid();
    let here = town.here();
    town.command(
        "dispatcher",
        json!({"type": "create_report", "report_id": id, "source": "hotline",
               "category_code": category, "description": description,
               "position": {"lat": here.lat, "lon": here.lon}, "attachment_ids": [],
               "contact": {"name": "张先生", "phone": "13800000000"}}),
    );
    id
}

/// A report dispatched over REST to squad1; (report id, task id).
pub(crate) fn dispatched_task(town: &Town, category: &str, description: &str) -> (String, String) {
    let report = hotline_report(town, category, description);
    let task = uuid();
    town.command(
        "dispatcher",
        json!({"type": "dispatch_report", "report_id": report, "task_id": task,
               "squad_id": town.squad_id("squad1")}),
    );
    (report, task)
}

/// A grid member's phone files a patrol report with a photo: the photo over tus, the report
/// as a command through the sync API, as the field app does.
pub(crate) fn phone_report(town: &Town, description: &str) -> String {
    let http = reqwest::blocking::Client::new();
    let device = "e2e-phone-grid-member";
    let tokens: Value = http
        .post(format!("{}/api/v1/auth/login", town.base()))
        .json(&json!({"username": "grid_member", "password": PASSWORD, "device_id": device}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let photo_id = uuid();
    let jpeg = griddispatch_e2e::media::jpeg(320, 240, 7, 16);
    griddispatch_e2e::tus::TusClient::new(&town.base(), token)
        .upload(&jpeg, &photo_id, "patrol.jpg", "image/jpeg", 1 << 20)
        .expect("photo uploaded");
    let here = town.here();
    let report = uuid();
    let resp: Value = http
        .post(format!("{}/sync/v1/push", town.base()))
        .bearer_auth(token)
        .header("GridSync-Protocol", "1")
        .json(&json!({"device_id": device, "commands": [{
            "device_seq": 1,
            "command": {"type": "create_report", "report_id": report, "source": "grid_patrol",
                        "category_code": "0101", "description": description,
                        "position": {"lat": here.lat, "lon": here.lon},
                        "attachment_ids": [photo_id]},
            "position": {"lat": here.lat, "lon": here.lon}}]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(resp["results"][0]["status"], "applied", "push: {resp}");
    report
}

/// A task taken through acceptance, arrival and handling over REST; (report id, task id).
pub(crate) fn handled_task(
    town: &Town,
    category: &str,
    description: &str,
    outcome: Value,
) -> (String, String) {
    let (report, task) = dispatched_task(town, category, description);
    town.command(
        "squad_leader",
        json!({"type": "accept_task", "task_id": task,
               "officer_ids": [town.user_id("officer"), town.user_id("officer2")]}),
    );
    let here = town.here();
    town.command(
        "officer",
        json!({"type": "arrive_on_site", "task_id": task,
               "position": {"lat": here.lat, "lon": here.lon}}),
    );
    let mut handle = json!({"type": "handle_task", "task_id": task, "outcome": outcome,
                            "attachment_ids": [uuid(), uuid()]});
    if handle["outcome"]["outcome"] == "case_needed" {
        handle["case_id"] = json!(uuid());
    }
    town.command("officer", handle);
    (report, task)
}
