//! `/sync/v1`: push exactly once in device order, rejected commands acknowledged, pull in
//! commit order within the reader's scope, back-fill and purge on scope changes, reset after
//! retention, long-poll, protocol negotiation. On the configured backend.

use std::collections::{HashMap, HashSet};

use crate::common::assert_error;
use crate::workflow::{simple_fine, uuid, Town};
use griddispatch_protocol::Role;
use serde_json::{json, Value};

async fn push_raw(t: &Town, who: &str, device: &str, commands: Value) -> reqwest::Response {
    t.app
        .client
        .post(t.app.url("/sync/v1/push"))
        .bearer_auth(&t.tokens[who])
        .header("GridSync-Protocol", "1")
        .json(&json!({"device_id": device, "commands": commands}))
        .send()
        .await
        .unwrap()
}

async fn push(t: &Town, who: &str, commands: Value) -> Value {
    let r = push_raw(t, who, "dev", commands).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn pull_with(t: &Town, token: &str, cursor: Option<&str>, limit: u32) -> Value {
    let mut url = format!("/sync/v1/pull?limit={limit}");
    if let Some(c) = cursor {
        url.push_str(&format!("&cursor={c}"));
    }
    let r = t
        .app
        .client
        .get(t.app.url(&url))
        .bearer_auth(token)
        .header("GridSync-Protocol", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["GridSync-Protocol"], "1");
    r.json().await.unwrap()
}

/// Pull until `has_more` is false; returns every change and the last cursor.
pub(crate) async fn pull_all(
    t: &Town,
    token: &str,
    cursor: Option<String>,
    limit: u32,
) -> (Vec<Value>, String) {
    let mut cursor = cursor;
    let mut all = Vec::new();
    for _ in 0..1000 {
        let page = pull_with(t, token, cursor.as_deref(), limit).await;
        let changes = page["changes"].as_array().unwrap();
        assert!(changes.len() <= limit as usize);
        all.extend(changes.iter().cloned());
        cursor = Some(page["cursor"].as_str().unwrap().to_owned());
        if !page["has_more"].as_bool().unwrap() {
            return (all, cursor.unwrap());
        }
    }
    panic!("pull never finished");
}

pub(crate) fn create(t: &Town, id: &str) -> Value {
    json!({"type": "create_report", "report_id": id, "source": "grid_patrol", "category_code": "0401",
        "description": "占道经营", "position": {"lat": t.point.0, "lon": t.point.1}, "attachment_ids": [uuid()]})
}

pub(crate) fn reports_count(t: &Town) -> i64 {
    use diesel::prelude::*;
    let mut conn = t.app.state.pool.get().unwrap();
    griddispatch::schema::reports::table
        .count()
        .get_result(&mut conn)
        .unwrap()
}

fn ids_of(changes: &[Value], kind: &str, op: &str) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c["entity_type"] == kind && c["op"] == op)
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_replayed_batch_is_answered_from_receipts_and_applied_once() {
    let t = Town::new().await;
    let r = uuid();
    let batch = json!([
        {"device_seq": 1, "command": create(&t, &r), "occurred_at": "2026-11-22T06:00:00Z"},
        {"device_seq": 2, "command": create(&t, &uuid())},
    ]);
    let first = push(&t, "gmx", batch.clone()).await;
    assert_eq!(first["next_device_seq"], 3);
    let res = first["results"].as_array().unwrap();
    assert_eq!(res[0]["status"], "applied");
    assert_eq!(res[1]["status"], "applied");
    assert!(res[0]["command_seq"].as_i64().unwrap() < res[1]["command_seq"].as_i64().unwrap());
    assert_eq!(res[0]["entities"][0]["entity_type"], "report");
    assert_eq!(res[0]["entities"][0]["id"], r.as_str());
    let head = t.audit_count();

    // The response was lost: the phone sends the same batch again.
    let again = push(&t, "gmx", batch).await;
    let res2 = again["results"].as_array().unwrap();
    for (a, b) in res.iter().zip(res2) {
        assert_eq!(b["status"], "duplicate");
        assert_eq!(b["original"], "applied");
        assert_eq!(a["command_seq"], b["command_seq"]);
    }
    // The current state is sent back with the duplicate.
    assert_eq!(res2[0]["entities"][0]["data"]["status"], "reported");
    assert_eq!(t.audit_count(), head, "nothing applied twice");
    assert_eq!(reports_count(&t), 2);
    assert_eq!(again["next_device_seq"], 3);
    t.verify();
}

#[actix_web::test]
async fn commands_apply_in_device_order_and_a_gap_defers_the_rest() {
    let t = Town::new().await;
    let r = uuid();
    let task = uuid();
    // A hotline report and its dispatch, queued on the dispatcher's laptop. The dispatch
    // (2) arrives alone first: nothing happens, it waits for 1.
    let c1 = json!({"device_seq": 1, "command": {"type": "create_report", "report_id": r, "source": "hotline",
        "category_code": "0401", "description": "12345 来电：占道经营", "position": {"lat": t.point.0, "lon": t.point.1}}});
    let c2 = json!({"device_seq": 2, "command": {"type": "dispatch_report", "report_id": r, "task_id": task, "squad_id": t.squad}});
    let early = push(&t, "disp", json!([c2.clone()])).await;
    assert_eq!(early["results"][0]["status"], "deferred");
    assert_eq!(early["next_device_seq"], 1);
    assert_eq!(reports_count(&t), 0);
    // Both, in the wrong order in the body: sorted, 1 then 2, so the dispatch finds its report.
    let both = push(&t, "disp", json!([c2, c1])).await;
    let res = both["results"].as_array().unwrap();
    assert_eq!(res[0]["device_seq"], 1);
    assert_eq!(res[0]["status"], "applied", "{both}");
    assert_eq!(res[1]["device_seq"], 2);
    assert_eq!(res[1]["status"], "applied", "{both}");
    let tk = t.get(&format!("/api/v1/tasks/{task}")).await;
    assert_eq!(tk["task"]["status"], "dispatched", "{tk}");
    // A batch with a hole in the middle: 3 applied, 5 and 6 deferred.
    let holey = push(
        &t,
        "disp",
        json!([
            {"device_seq": 3, "command": {"type": "create_report", "report_id": uuid(), "source": "hotline",
                "category_code": "0401", "description": "来电", "position": {"lat": t.point.0, "lon": t.point.1}}},
            {"device_seq": 5, "command": {"type": "close_report", "report_id": r}},
            {"device_seq": 6, "command": {"type": "close_report", "report_id": r}},
        ]),
    )
    .await;
    let st = statuses(&holey);
    assert_eq!(st, ["applied", "deferred", "deferred"], "{holey}");
    assert_eq!(holey["next_device_seq"], 4);
}

#[actix_web::test]
async fn a_rejected_command_is_acknowledged_and_does_not_block_the_queue() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    let r2 = uuid();
    let batch = json!([
        // An officer may not close a task (squad leaders do), and it is not handled yet.
        {"device_seq": 1, "command": {"type": "close_task", "task_id": task}},
        {"device_seq": 2, "command": {"type": "arrive_on_site", "task_id": uuid(), "position": {"lat": t.point.0, "lon": t.point.1}}},
        {"device_seq": 3, "command": create(&t, &r2)},
    ]);
    let out = push(&t, "off1", batch.clone()).await;
    let res = out["results"].as_array().unwrap();
    assert_eq!(res[0]["status"], "rejected");
    let code0 = res[0]["code"].as_str().unwrap().to_owned();
    assert!(!code0.is_empty());
    assert!(res[0]["message"].as_str().unwrap().len() > 3);
    // The current state of the task comes back so the phone can show why.
    assert_eq!(res[0]["entities"][0]["id"], task.as_str());
    assert_eq!(res[0]["entities"][0]["data"]["status"], "dispatched");
    assert_eq!(res[1]["status"], "rejected");
    assert_eq!(res[1]["code"], "not_found");
    assert!(res[1]["entities"].as_array().unwrap().is_empty());
    assert_eq!(res[2]["status"], "applied");
    assert_eq!(out["next_device_seq"], 4);
    // Replayed: the rejection is remembered with its code, nothing is tried again.
    let again = push(&t, "off1", batch).await;
    assert_eq!(again["results"][0]["status"], "duplicate");
    assert_eq!(again["results"][0]["original"], "rejected");
    assert_eq!(again["results"][0]["code"], code0.as_str());
    assert_eq!(again["results"][2]["original"], "applied");
    // Deadline flags are the server's own.
    let flag = push(
        &t,
        "off1",
        json!([{"device_seq": 4, "command": {"type": "flag_deadline", "task_id": task, "level": "red"}}]),
    )
    .await;
    assert_eq!(flag["results"][0]["status"], "rejected");
    assert_eq!(flag["results"][0]["code"], "forbidden");
}

#[actix_web::test]
async fn two_pushes_of_the_same_command_racing_apply_it_once() {
    let t = Town::new().await;
    let before = t.audit_count();
    let r = uuid();
    let batch = json!([{"device_seq": 1, "command": create(&t, &r)}]);
    let (a, b) = futures_util::join!(
        push(&t, "gmx", batch.clone()),
        push(&t, "gmx", batch.clone())
    );
    let mut statuses = vec![
        a["results"][0]["status"].as_str().unwrap().to_owned(),
        b["results"][0]["status"].as_str().unwrap().to_owned(),
    ];
    statuses.sort();
    assert_eq!(statuses, ["applied", "duplicate"]);
    assert_eq!(t.audit_count(), before + 1);
    assert_eq!(reports_count(&t), 1);
}

#[actix_web::test]
async fn protocol_version_device_and_batch_are_checked() {
    let t = Town::new().await;
    let info: Value = t.app.get("/sync/v1/info", None).await.json().await.unwrap();
    assert_eq!(info["protocol_versions"], json!([1]));
    assert_eq!(info["tus_endpoint"], "/files/");
    let body = json!({"device_id": "dev", "commands": []});
    let send = |version: Option<&'static str>, body: Value| {
        let mut req = t
            .app
            .client
            .post(t.app.url("/sync/v1/push"))
            .bearer_auth(&t.tokens["gmx"])
            .json(&body);
        if let Some(v) = version {
            req = req.header("GridSync-Protocol", v);
        }
        req.send()
    };
    assert_error(
        send(None, body.clone()).await.unwrap(),
        400,
        "protocol_required",
    )
    .await;
    let too_old = send(Some("0"), body.clone()).await.unwrap();
    // Refusals say which version the server speaks, as successes do.
    assert_eq!(too_old.headers()["gridsync-protocol"], "1");
    let msg = assert_error(too_old, 426, "unsupported_protocol").await;
    assert!(msg.contains("speaks 1"), "{msg}");
    assert_error(
        send(Some("2"), body.clone()).await.unwrap(),
        426,
        "unsupported_protocol",
    )
    .await;
    assert_error(
        send(
            Some("1"),
            json!({"device_id": "someone-else", "commands": []}),
        )
        .await
        .unwrap(),
        400,
        "device_mismatch",
    )
    .await;
    let many: Vec<Value> = (1..=501)
        .map(|i| json!({"device_seq": i, "command": {"type": "close_task", "task_id": "x"}}))
        .collect();
    assert_error(
        send(Some("1"), json!({"device_id": "dev", "commands": many}))
            .await
            .unwrap(),
        413,
        "too_many_commands",
    )
    .await;
    let dup = json!({"device_id": "dev", "commands": [
        {"device_seq": 1, "command": {"type": "close_task", "task_id": "x"}},
        {"device_seq": 1, "command": {"type": "close_task", "task_id": "y"}}]});
    assert_error(send(Some("1"), dup).await.unwrap(), 422, "invalid_field").await;
    // A malformed command is refused whole and nothing is recorded: the device still expects 1.
    let bad = json!({"device_id": "dev", "commands": [{"device_seq": 1, "command": {"type": "teleport"}}]});
    assert_error(send(Some("1"), bad).await.unwrap(), 422, "invalid_field").await;
    let broken = t
        .app
        .client
        .post(t.app.url("/sync/v1/push"))
        .bearer_auth(&t.tokens["gmx"])
        .header("GridSync-Protocol", "1")
        .header("Content-Type", "application/json")
        .body("{\"device_id\": \"dev\", \"commands\": [")
        .send()
        .await
        .unwrap();
    assert_error(broken, 400, "invalid_json").await;
    let ok = push(
        &t,
        "gmx",
        json!([{"device_seq": 1, "command": create(&t, &uuid())}]),
    )
    .await;
    assert_eq!(ok["results"][0]["status"], "applied");
    // No token: 401.
    let r = t
        .app
        .client
        .get(t.app.url("/sync/v1/pull"))
        .header("GridSync-Protocol", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A cursor that was not issued by the server.
    let r = t
        .app
        .client
        .get(t.app.url("/sync/v1/pull?cursor=bm90IGEgY3Vyc29y"))
        .bearer_auth(&t.tokens["gmx"])
        .header("GridSync-Protocol", "1")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_cursor").await;
    let r = t
        .app
        .client
        .get(t.app.url("/sync/v1/pull?limit=0"))
        .bearer_auth(&t.tokens["gmx"])
        .header("GridSync-Protocol", "1")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_query").await;
}

#[actix_web::test]
async fn pulls_are_scoped_by_the_server_and_follow_scope_changes() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    t.app.user("newbie", &[Role::GridMember]);
    let newbie = t.app.login("newbie", "phone-n").await.access_token;
    // Three reports in the village, one of them dispatched to the squad.
    let r1 = t.report("0401").await;
    let r2 = t.report("0401").await;
    let r3 = t.report("0401").await;
    let task = t.dispatch(&r1).await;

    // A grid member of the village: all three reports and the task.
    let (gm, _) = pull_all(&t, &t.tokens["gm2"], None, 500).await;
    let mut got = ids_of(&gm, "report", "upsert");
    got.sort();
    let mut want = vec![r1.clone(), r2.clone(), r3.clone()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(ids_of(&gm, "task", "upsert"), vec![task.clone()]);
    // The squad leader: the squad's task and its report only.
    let (sq, _) = pull_all(&t, &t.tokens["lead"], None, 500).await;
    assert_eq!(ids_of(&sq, "report", "upsert"), vec![r1.clone()]);
    assert_eq!(ids_of(&sq, "task", "upsert"), vec![task.clone()]);
    // A grid member with no cell: nothing (asking cannot widen it).
    let (none, cursor) = pull_all(&t, &newbie, None, 500).await;
    assert!(none.is_empty(), "{none:?}");

    // Gains the village: its current state is back-filled on the next pull.
    let put = t
        .app
        .client
        .put(
            t.app
                .url(&format!("/api/v1/grid/cells/{}/members/newbie", t.village)),
        )
        .bearer_auth(&admin)
        .json(&json!({"role": "grid_member"}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let (gained, cursor) = pull_all(&t, &newbie, Some(cursor), 2).await;
    let mut got = ids_of(&gained, "report", "upsert");
    got.sort();
    got.dedup();
    assert_eq!(got, want);
    assert!(
        gained.iter().all(|c| c["seq"] == 0),
        "back-fill carries seq 0"
    );
    // Loses it: told to purge; their own report would stay (they have none).
    let del = t
        .app
        .client
        .delete(
            t.app
                .url(&format!("/api/v1/grid/cells/{}/members/newbie", t.village)),
        )
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(del.status().is_success());
    let (lost, cursor) = pull_all(&t, &newbie, Some(cursor), 500).await;
    let mut purged = ids_of(&lost, "report", "purge");
    purged.sort();
    assert_eq!(purged, want);
    assert_eq!(ids_of(&lost, "task", "purge"), vec![task.clone()]);
    // And later changes in the village no longer reach them.
    t.report("0401").await;
    let (after, _) = pull_all(&t, &newbie, Some(cursor), 500).await;
    assert!(after.is_empty(), "{after:?}");
}

#[actix_web::test]
async fn a_task_sent_to_another_squad_is_purged_from_the_first() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    // A second squad for the village.
    let r = t
        .app
        .post(
            "/api/v1/squads",
            &json!({"code": "SQ2", "name": "二中队", "domain": "环境保护"}),
            Some(&admin),
        )
        .await;
    let sq2: Value = r.json().await.unwrap();
    let sq2 = sq2["id"].as_str().unwrap().to_owned();
    let report = t.report("0401").await;
    let task = t.dispatch(&report).await;
    let (first, cursor) = pull_all(&t, &t.tokens["lead"], None, 500).await;
    assert_eq!(ids_of(&first, "task", "upsert"), vec![task.clone()]);
    // Wrong squad: returned and redispatched.
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
    t.ok(
        "disp",
        json!({"type": "redispatch_task", "task_id": task, "squad_id": sq2}),
    )
    .await;
    let (later, _) = pull_all(&t, &t.tokens["lead"], Some(cursor), 500).await;
    let last_for_task = later.iter().rfind(|c| c["id"] == task.as_str()).unwrap();
    assert_eq!(last_for_task["op"], "purge", "{later:?}");
}

#[actix_web::test]
async fn pages_respect_limits_and_every_change_arrives_in_commit_order() {
    let t = Town::new().await;
    let (start, cursor) = pull_all(&t, &t.tokens["disp"], None, 500).await;
    assert!(start.is_empty());
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(t.report("0401").await);
    }
    let (changes, cursor) = pull_all(&t, &t.tokens["disp"], Some(cursor), 3).await;
    let seqs: Vec<i64> = changes.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(ids_of(&changes, "report", "upsert"), made);
    // Nothing new: an empty page, same position.
    let page = pull_with(&t, &t.tokens["disp"], Some(&cursor), 3).await;
    assert!(page["changes"].as_array().unwrap().is_empty());
    assert_eq!(page["has_more"], false);
    // A byte budget smaller than one change still makes progress, one change a page.
    let r = t.report("0401").await;
    t.report("0401").await;
    let tiny = t
        .app
        .client
        .get(
            t.app
                .url(&format!("/sync/v1/pull?cursor={cursor}&max_bytes=1024")),
        )
        .bearer_auth(&t.tokens["disp"])
        .header("GridSync-Protocol", "1")
        .send()
        .await
        .unwrap();
    let tiny: Value = tiny.json().await.unwrap();
    assert_eq!(tiny["changes"].as_array().unwrap().len(), 1);
    assert_eq!(tiny["changes"][0]["id"], r.as_str());
    assert_eq!(tiny["has_more"], true);
}

#[actix_web::test]
async fn an_expired_cursor_gets_a_reset_with_a_fresh_back_fill() {
    let t = Town::new().await;
    let r1 = t.report("0401").await;
    let (_, cursor) = pull_all(&t, &t.tokens["gm2"], None, 500).await;
    let r2 = t.report("0401").await;
    // Retention removes everything written so far.
    {
        let mut conn = t.app.state.pool.get().unwrap();
        let removed = griddispatch::sync::prune(
            &mut conn,
            griddispatch::db::now() + chrono::Duration::days(1),
            0,
        )
        .unwrap();
        assert!(removed >= 2);
    }
    let page = pull_with(&t, &t.tokens["gm2"], Some(&cursor), 500).await;
    assert_eq!(page["reset"], true);
    let mut got = ids_of(page["changes"].as_array().unwrap(), "report", "upsert");
    got.sort();
    let mut want = vec![r1, r2];
    want.sort();
    assert_eq!(got, want);
    // The new cursor is good.
    let next = pull_with(
        &t,
        &t.tokens["gm2"],
        Some(page["cursor"].as_str().unwrap()),
        500,
    )
    .await;
    assert_eq!(next["reset"], false);
}

#[actix_web::test]
async fn concurrent_writers_and_a_puller_every_change_seen_once_in_order() {
    let t = Town::new().await;
    let disp = t.tokens["disp"].clone();
    let (_, mut cursor) = pull_all(&t, &disp, None, 500).await;
    let writers = 4;
    let per_writer = 15;
    let mut seen: Vec<(i64, String)> = Vec::new();
    let write = |w: usize| {
        let t = &t;
        async move {
            let mut ids = Vec::new();
            for _ in 0..per_writer {
                let id = uuid();
                t.ok(
                    if w.is_multiple_of(2) { "gmx" } else { "gm2" },
                    create(t, &id),
                )
                .await;
                ids.push(id);
            }
            ids
        }
    };
    let pull_loop = async {
        // Pull small pages while the writers run.
        for _ in 0..200 {
            let page = pull_with(&t, &disp, Some(&cursor), 5).await;
            for c in page["changes"].as_array().unwrap() {
                seen.push((
                    c["seq"].as_i64().unwrap(),
                    c["id"].as_str().unwrap().to_owned(),
                ));
            }
            cursor = page["cursor"].as_str().unwrap().to_owned();
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let (made, ()) = futures_util::join!(
        futures_util::future::join_all((0..writers).map(write)),
        pull_loop
    );
    let (rest, _) = pull_all(&t, &disp, Some(cursor), 5).await;
    for c in rest {
        seen.push((
            c["seq"].as_i64().unwrap(),
            c["id"].as_str().unwrap().to_owned(),
        ));
    }
    let made: HashSet<String> = made.into_iter().flatten().collect();
    assert_eq!(made.len(), writers * per_writer);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, id) in &seen {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    for id in &made {
        assert_eq!(
            counts.get(id.as_str()),
            Some(&1),
            "report {id} seen {:?} times",
            counts.get(id.as_str())
        );
    }
    assert_eq!(seen.len(), made.len());
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "commit order");
}

#[actix_web::test]
async fn wait_answers_when_a_change_in_scope_commits() {
    let t = Town::new().await;
    let (_, cursor) = pull_all(&t, &t.tokens["gm2"], None, 500).await;
    let wait = |timeout: u32| {
        t.app
            .client
            .get(
                t.app
                    .url(&format!("/sync/v1/wait?cursor={cursor}&timeout={timeout}")),
            )
            .bearer_auth(&t.tokens["gm2"])
            .header("GridSync-Protocol", "1")
            .send()
    };
    let idle: Value = wait(1).await.unwrap().json().await.unwrap();
    assert_eq!(idle["changed"], false);
    let (woken, _) = futures_util::join!(
        async { wait(30).await.unwrap().json::<Value>().await.unwrap() },
        async {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
            t.report("0401").await
        }
    );
    assert_eq!(woken["changed"], true);
}

/// A minimal phone as the protocol describes it: a local view, a cursor and an outbox.
struct ModelPhone {
    who: &'static str,
    token: String,
    view: HashMap<(String, String), Value>,
    cursor: Option<String>,
    outbox: Vec<Value>,
    next_seq: i64,
    applied: usize,
}

impl ModelPhone {
    fn new(t: &Town, who: &'static str) -> Self {
        ModelPhone {
            who,
            token: t.tokens[who].clone(),
            view: HashMap::new(),
            cursor: None,
            outbox: Vec::new(),
            next_seq: 1,
            applied: 0,
        }
    }

    fn act(&mut self, command: Value) {
        self.outbox
            .push(json!({"device_seq": self.next_seq, "command": command}));
        self.next_seq += 1;
    }

    fn local(&self, kind: &str) -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = self
            .view
            .iter()
            .filter(|((k, _), _)| k == kind)
            .map(|((_, id), d)| (id.clone(), d.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Push the outbox in random slices, sometimes losing the answer (sent again), sometimes
    /// sending a later slice first; drop what is acknowledged.
    async fn push(&mut self, t: &Town, rng: &mut rand::rngs::StdRng) {
        use rand::Rng;
        while !self.outbox.is_empty() {
            let n = rng.gen_range(1..=self.outbox.len());
            let mut batch: Vec<Value> = self.outbox[..n].to_vec();
            if batch.len() > 1 && rng.gen_bool(0.3) {
                batch.reverse();
            }
            if rng.gen_bool(0.2) && self.outbox.len() > n {
                // A later command overtakes: deferred, nothing applied.
                let later = push(t, self.who, json!([self.outbox[n].clone()])).await;
                assert_eq!(later["results"][0]["status"], "deferred");
            }
            let mut out = push(t, self.who, Value::Array(batch.clone())).await;
            // Counted from what the server did, whether or not the phone hears it.
            self.applied += out["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["status"] == "applied")
                .count();
            if rng.gen_bool(0.25) {
                // The answer was lost: the same batch again must change nothing.
                out = push(t, self.who, Value::Array(batch)).await;
                for r in out["results"].as_array().unwrap() {
                    assert_eq!(r["status"], "duplicate", "{r}");
                }
            }
            let next = out["next_device_seq"].as_i64().unwrap();
            self.outbox
                .retain(|c| c["device_seq"].as_i64().unwrap() >= next);
        }
    }

    async fn pull(&mut self, t: &Town, rng: &mut rand::rngs::StdRng) {
        use rand::Rng;
        loop {
            let limit = rng.gen_range(1..=7);
            let page = pull_with(t, &self.token, self.cursor.as_deref(), limit).await;
            if page["reset"] == true {
                self.view.clear();
            }
            for c in page["changes"].as_array().unwrap() {
                let key = (
                    c["entity_type"].as_str().unwrap().to_owned(),
                    c["id"].as_str().unwrap().to_owned(),
                );
                if c["op"] == "upsert" {
                    self.view.insert(key, c["data"].clone());
                } else {
                    self.view.remove(&key);
                }
            }
            self.cursor = Some(page["cursor"].as_str().unwrap().to_owned());
            if page["has_more"] == false {
                return;
            }
        }
    }
}

#[actix_web::test]
async fn phones_with_random_offline_work_converge_on_what_each_may_see() {
    use rand::{Rng, SeedableRng};
    let t = Town::new().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261122);
    t.app.user("newbie", &[Role::GridMember]);
    let mut tokens = t.tokens.clone();
    tokens.insert("newbie", t.app.login("newbie", "dev").await.access_token);
    let t = Town { tokens, ..t };
    let mut phones: Vec<ModelPhone> = ["gmx", "gm2", "disp", "lead", "off1", "newbie"]
        .into_iter()
        .map(|w| ModelPhone::new(&t, w))
        .collect();
    let before = t.audit_count();
    let (off1, off2) = (t.id("off1"), t.id("off2"));
    for _round in 0..5 {
        // Offline: everyone acts on what their phone shows.
        for p in phones.iter_mut() {
            match p.who {
                "gmx" | "gm2" | "off1" => {
                    for _ in 0..rng.gen_range(1..=3) {
                        let id = uuid();
                        p.act(create(&t, &id));
                    }
                }
                "disp" => {
                    for (id, _) in p.local("report") {
                        if rng.gen_bool(0.5) {
                            let cmd = if rng.gen_bool(0.8) {
                                json!({"type": "dispatch_report", "report_id": id, "task_id": uuid(), "squad_id": t.squad})
                            } else {
                                json!({"type": "reject_report", "report_id": id, "reason": "不属于执法范围"})
                            };
                            // Acting on stale state is allowed; the server judges.
                            p.act(cmd);
                        }
                    }
                }
                "lead" => {
                    for (id, _) in p.local("task") {
                        if rng.gen_bool(0.5) {
                            p.act(json!({"type": "accept_task", "task_id": id, "officer_ids": [off1, off2]}));
                        }
                    }
                }
                _ => {
                    // newbie tries to reject a report they cannot see.
                    p.act(json!({"type": "reject_report", "report_id": uuid(), "reason": "试试"}));
                }
            }
        }
        // Back online in a random order; some only pull, some only push this round.
        let mut order: Vec<usize> = (0..phones.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        for i in order {
            if rng.gen_bool(0.8) {
                phones[i].push(&t, &mut rng).await;
            }
            if rng.gen_bool(0.8) {
                phones[i].pull(&t, &mut rng).await;
            }
        }
    }
    // Finally everyone syncs fully.
    let mut applied = 0;
    for p in phones.iter_mut() {
        p.push(&t, &mut rng).await;
        p.pull(&t, &mut rng).await;
        applied += p.applied;
    }
    // Nothing lost, nothing applied twice.
    assert_eq!(t.audit_count() - before, applied as i64);
    // Each phone holds exactly the server's state as that user may see it.
    for p in &phones {
        let reports: Value = t
            .app
            .get("/api/v1/reports?per_page=200", Some(&p.token))
            .await
            .json()
            .await
            .unwrap();
        let mut server: Vec<(String, Value)> = reports["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["report"]["id"].as_str().unwrap().to_owned(),
                    i["report"].clone(),
                )
            })
            .collect();
        server.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(p.local("report"), server, "{}: reports differ", p.who);
        let tasks: Value = t
            .app
            .get("/api/v1/tasks?per_page=200", Some(&p.token))
            .await
            .json()
            .await
            .unwrap();
        let mut server: Vec<(String, Value)> = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_str().unwrap().to_owned(), i.clone()))
            .collect();
        server.sort_by(|a, b| a.0.cmp(&b.0));
        let local = p.local("task");
        assert_eq!(
            local.iter().map(|x| &x.0).collect::<Vec<_>>(),
            server.iter().map(|x| &x.0).collect::<Vec<_>>(),
            "{}: tasks differ",
            p.who
        );
        for ((_, a), (_, b)) in local.iter().zip(&server) {
            assert_eq!(a["status"], b["status"], "{}", p.who);
        }
    }
    let newbie = phones.iter().find(|p| p.who == "newbie").unwrap();
    assert!(newbie.view.is_empty());
    let disp = phones.iter().find(|p| p.who == "disp").unwrap();
    assert!(
        disp.local("task").len() >= 2,
        "some dispatches went through"
    );
}

#[actix_web::test]
async fn a_device_seq_reused_for_another_command_is_refused_not_swallowed() {
    let t = Town::new().await;
    let first = push(
        &t,
        "gmx",
        json!([{"device_seq": 1, "command": create(&t, &uuid())}]),
    )
    .await;
    assert_eq!(first["results"][0]["status"], "applied");
    // A restored copy of the phone's data numbers a new report 1 again.
    let other = uuid();
    let again = push(
        &t,
        "gmx",
        json!([{"device_seq": 1, "command": create(&t, &other)}]),
    )
    .await;
    assert_eq!(again["results"][0]["status"], "rejected");
    assert_eq!(again["results"][0]["code"], "device_seq_reused");
    assert_eq!(reports_count(&t), 1);
    // A big batch (~2.5 MB, above the 1 MiB JSON limit of other endpoints) is accepted.
    let long = "很长的描述".repeat(330);
    let batch: Vec<Value> = (2..=500)
        .map(|i| {
            let mut c = create(&t, &uuid());
            c["description"] = json!(long);
            json!({"device_seq": i, "command": c})
        })
        .collect();
    let big = push(&t, "gmx", Value::Array(batch)).await;
    assert_eq!(big["next_device_seq"], 501, "{}", big["results"][0]);
}

/// Group commit: batches larger than one group, with refused commands among them, from several
/// phones at once while other writers send commands and a reader pulls — every command applied
/// once in its device's order, each refused one acknowledged alone, the change log seen in
/// commit order with nothing missing, the audit chain whole.
#[actix_web::test]
async fn big_batches_from_several_phones_apply_in_order_beside_other_writers() {
    let t = Town::new().await;
    let disp = t.tokens["disp"].clone();
    let (_, mut cursor) = pull_all(&t, &disp, None, 500).await;
    let before = t.audit_count();
    let per_phone = griddispatch::sync::GROUP_MAX_COMMANDS + 60;
    // Every 37th command is refused (an officer may not close a task that does not exist).
    let batch = |n: usize| -> (Vec<Value>, Vec<String>) {
        let mut cmds = Vec::new();
        let mut made = Vec::new();
        for i in 1..=n {
            let command = if i % 37 == 0 {
                json!({"type": "close_task", "task_id": uuid()})
            } else {
                let id = uuid();
                made.push(id.clone());
                create(&t, &id)
            };
            cmds.push(json!({"device_seq": i, "command": command}));
        }
        (cmds, made)
    };
    let phones = [("gmx", "dev"), ("gm2", "dev")];
    let batches: Vec<_> = phones.iter().map(|_| batch(per_phone)).collect();
    let push_all = |k: usize| {
        let t = &t;
        let (cmds, _) = &batches[k];
        let (who, device) = phones[k];
        async move {
            let mut results = Vec::new();
            // The protocol's largest push is 500: the phone sends two.
            for chunk in cmds.chunks(500) {
                let r = push_raw(t, who, device, Value::Array(chunk.to_vec())).await;
                assert_eq!(r.status(), 200);
                let body: Value = r.json().await.unwrap();
                results.extend(body["results"].as_array().unwrap().iter().cloned());
                assert_eq!(
                    body["next_device_seq"],
                    chunk.last().unwrap()["device_seq"].as_i64().unwrap() + 1
                );
            }
            results
        }
    };
    let others = async {
        let mut ids = Vec::new();
        for _ in 0..10 {
            let id = uuid();
            t.ok("off1", create(&t, &id)).await;
            ids.push(id);
        }
        ids
    };
    let mut seen: Vec<(i64, String)> = Vec::new();
    let pulling = async {
        for _ in 0..60 {
            let page = pull_with(&t, &disp, Some(&cursor), 50).await;
            for c in page["changes"].as_array().unwrap() {
                seen.push((c["seq"].as_i64().unwrap(), c["id"].as_str().unwrap().into()));
            }
            cursor = page["cursor"].as_str().unwrap().to_owned();
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let (a, b, rest_ids, ()) = futures_util::join!(push_all(0), push_all(1), others, pulling);
    for (results, (cmds, _)) in [a, b].iter().zip(&batches) {
        assert_eq!(results.len(), cmds.len());
        let mut last_seq = 0;
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r["device_seq"], i as i64 + 1);
            if (i + 1) % 37 == 0 {
                assert_eq!(r["status"], "rejected", "{r}");
                assert!(!r["code"].as_str().unwrap().is_empty());
            } else {
                assert_eq!(r["status"], "applied", "{r}");
                // A phone's commands take the server's order in its device order.
                let seq = r["command_seq"].as_i64().unwrap();
                assert!(seq > last_seq);
                last_seq = seq;
                assert_eq!(r["entities"][0]["data"]["status"], "reported");
            }
        }
    }
    let (rest, _) = pull_all(&t, &disp, Some(cursor), 500).await;
    for c in rest {
        seen.push((c["seq"].as_i64().unwrap(), c["id"].as_str().unwrap().into()));
    }
    let made: HashSet<String> = batches
        .iter()
        .flat_map(|(_, m)| m.iter().cloned())
        .chain(rest_ids)
        .collect();
    let applied = made.len() as i64;
    assert_eq!(seen.len(), made.len(), "every report seen once");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "commit order");
    assert_eq!(
        seen.iter()
            .map(|(_, id)| id.clone())
            .collect::<HashSet<_>>(),
        made
    );
    assert_eq!(reports_count(&t), applied);
    assert_eq!(t.audit_count(), before + applied);
    t.verify();
    // Sent again (a lost answer): every one is a duplicate, nothing applies twice.
    let again = push_raw(&t, "gmx", "dev", Value::Array(batches[0].0[..300].to_vec())).await;
    let again: Value = again.json().await.unwrap();
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "duplicate"));
    assert_eq!(reports_count(&t), applied);
}

/// A group whose commit fails counts for nothing: the push answers "retry later" with no result,
/// no receipt and no effect stays, and the same batch sent again applies once. (PostgreSQL: a
/// deferred constraint trigger refuses the commit; SQLite has no deferred triggers.)
#[actix_web::test]
async fn a_group_that_does_not_commit_leaves_nothing_and_is_sent_again() {
    let t = Town::new().await;
    if t.app.db.backend() != "postgres" {
        return;
    }
    let exec = |sql: &str| t.exec_sql(sql);
    exec(
        "CREATE FUNCTION gd_test_refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$",
    );
    exec(
        "CREATE CONSTRAINT TRIGGER gd_test_refuse AFTER INSERT ON sync_receipts \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gd_test_refuse()",
    );
    let before = t.audit_count();
    let cmds: Vec<Value> = (1..=5)
        .map(|i| json!({"device_seq": i, "command": create(&t, &uuid())}))
        .collect();
    let r = push_raw(&t, "gmx", "dev", Value::Array(cmds.clone())).await;
    assert_error(r, 503, "service_unavailable").await;
    assert_eq!(reports_count(&t), 0);
    assert_eq!(t.audit_count(), before);
    exec("DROP TRIGGER gd_test_refuse ON sync_receipts");
    let out = push(&t, "gmx", Value::Array(cmds)).await;
    let res = out["results"].as_array().unwrap();
    assert!(res.iter().all(|r| r["status"] == "applied"), "{out}");
    assert_eq!(out["next_device_seq"], 6);
    assert_eq!(reports_count(&t), 5);
    assert_eq!(t.audit_count(), before + 5);
    t.verify();
}

/// A command whose effects were written but whose receipt the database refuses is rolled back
/// alone, and so is what it did to the audit chain's head (a push's group keeps the head in
/// memory and writes it once before committing): the commands before it stay applied, the
/// chain stays whole, and the phone's queue moves on once the database accepts the receipt.
#[actix_web::test]
async fn a_command_whose_receipt_is_refused_leaves_the_chain_whole() {
    let t = Town::new().await;
    let exec = |sql: &str| t.exec_sql(sql);
    let postgres = t.app.db.backend() == "postgres";
    if postgres {
        exec(
            "CREATE FUNCTION gd_test_refuse_two() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.device_seq = 2 THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$",
        );
        exec(
            "CREATE TRIGGER gd_test_refuse_two BEFORE INSERT ON sync_receipts \
             FOR EACH ROW EXECUTE FUNCTION gd_test_refuse_two()",
        );
    } else {
        exec(
            "CREATE TRIGGER gd_test_refuse_two BEFORE INSERT ON sync_receipts \
             WHEN NEW.device_seq = 2 BEGIN SELECT RAISE(ABORT, 'refused'); END",
        );
    }
    let before = t.audit_count();
    let cmds: Vec<Value> = (1..=3)
        .map(|i| json!({"device_seq": i, "command": create(&t, &uuid())}))
        .collect();
    let out = push(&t, "gmx", Value::Array(cmds.clone())).await;
    let res = out["results"].as_array().unwrap();
    assert_eq!(res.len(), 1, "{out}");
    assert_eq!(res[0]["status"], "applied");
    assert_eq!(out["next_device_seq"], 2);
    assert_eq!(reports_count(&t), 1);
    assert_eq!(t.audit_count(), before + 1);
    t.verify();
    exec(if postgres {
        "DROP TRIGGER gd_test_refuse_two ON sync_receipts"
    } else {
        "DROP TRIGGER gd_test_refuse_two"
    });
    let out = push(&t, "gmx", Value::Array(cmds)).await;
    let st = statuses(&out);
    assert_eq!(st, ["duplicate", "applied", "applied"], "{out}");
    assert_eq!(reports_count(&t), 3);
    assert_eq!(t.audit_count(), before + 3);
    t.verify();
}

/// The status of each result of a push's answer, in order.
fn statuses(answer: &Value) -> Vec<&str> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

/// A group is applied straight: its commands are numbered in memory and their records,
/// change-log rows and receipts written at its end. A command the rules refuse in the middle
/// takes no number, the head is written once with the last one, the next command (over HTTP)
/// continues the chain, every applied command reaches the pull, and a replay answers each from
/// its receipt.
#[actix_web::test]
async fn a_command_refused_inside_a_group_takes_no_number_and_the_chain_goes_on() {
    let t = Town::new().await;
    let before = t.audit_count();
    let (a, b) = (uuid(), uuid());
    let batch = json!([
        {"device_seq": 1, "command": create(&t, &a)},
        // A grid member may not close a task (and there is none).
        {"device_seq": 2, "command": {"type": "close_task", "task_id": uuid()}},
        {"device_seq": 3, "command": create(&t, &b)},
        // The first report's id again: refused by the rules.
        {"device_seq": 4, "command": create(&t, &a)},
    ]);
    let out = push(&t, "gmx", batch.clone()).await;
    assert_eq!(
        statuses(&out),
        ["applied", "rejected", "applied", "rejected"],
        "{out}"
    );
    let res = out["results"].as_array().unwrap();
    assert_eq!(res[0]["command_seq"], before + 1);
    assert_eq!(res[2]["command_seq"], before + 2);
    assert!(res[3]["code"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(out["next_device_seq"], 5);
    assert_eq!(t.audit_count(), before + 2);
    assert_eq!(reports_count(&t), 2);
    t.verify();

    let c = t.report("0401").await;
    assert_eq!(t.audit_count(), before + 3);
    t.verify();
    let (changes, _) = pull_all(&t, &t.tokens["gmx"], None, 100).await;
    let reports = ids_of(&changes, "report", "upsert");
    for id in [&a, &b, &c] {
        assert!(reports.contains(id), "{id} not pulled: {reports:?}");
    }

    let again = push(&t, "gmx", batch).await;
    assert_eq!(
        statuses(&again),
        ["duplicate", "duplicate", "duplicate", "duplicate"]
    );
    let originals: Vec<&str> = again["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["original"].as_str().unwrap())
        .collect();
    assert_eq!(originals, ["applied", "rejected", "applied", "rejected"]);
    assert_eq!(t.audit_count(), before + 3);
}

/// A group's audit records are written at its end; when the database refuses one of them, the
/// group is applied again one savepoint a command: that command alone is rejected, the others
/// stay applied with their own numbers, and the chain stays whole.
#[actix_web::test]
async fn a_command_whose_record_is_refused_is_rejected_alone() {
    let t = Town::new().await;
    let exec = |sql: &str| t.exec_sql(sql);
    let postgres = t.app.db.backend() == "postgres";
    let ids: Vec<String> = (0..3).map(|_| uuid()).collect();
    if postgres {
        exec(&format!(
            "CREATE FUNCTION gd_test_refuse_record() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.report_id = '{}' THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$",
            ids[1]
        ));
        exec(
            "CREATE TRIGGER gd_test_refuse_record BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION gd_test_refuse_record()",
        );
    } else {
        exec(&format!(
            "CREATE TRIGGER gd_test_refuse_record BEFORE INSERT ON audit_log \
             WHEN NEW.report_id = '{}' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            ids[1]
        ));
    }
    let before = t.audit_count();
    let cmds: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"device_seq": i + 1, "command": create(&t, id)}))
        .collect();
    let out = push(&t, "gmx", Value::Array(cmds)).await;
    assert_eq!(statuses(&out), ["applied", "rejected", "applied"], "{out}");
    assert_eq!(out["results"][1]["code"], "cannot_apply");
    assert_eq!(out["results"][0]["command_seq"], before + 1);
    assert_eq!(out["results"][2]["command_seq"], before + 2);
    assert_eq!(out["next_device_seq"], 4);
    assert_eq!(reports_count(&t), 2);
    assert_eq!(t.audit_count(), before + 2);
    t.verify();
}

/// A command whose facts claim a number before the rules decide (a simple penalty's decision
/// number) and that the rules then refuse gives the number back, also inside a group applied
/// straight: the next simple penalty gets the first number of the year.
#[actix_web::test]
async fn a_refused_penalty_in_a_group_gives_its_decision_number_back() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let fine = |fen: i64| simple_fine(&task, fen);
    let out = push(
        &t,
        "off1",
        json!([
            {"device_seq": 1, "command": fine(20_001)},
            {"device_seq": 2, "command": fine(10_000)},
        ]),
    )
    .await;
    assert_eq!(statuses(&out), ["rejected", "applied"], "{out}");
    assert_eq!(out["results"][0]["code"], "penalty_over_limit");
    let number = t.stored_task(&task).decision_number.unwrap();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(number, format!("简罚〔{year}〕1号"));
    t.verify();
}
