//! The closed loop over HTTP, every path, on the configured backend; the audit record of each
//! verifies; refused commands change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_error, TestApp};
use geo::InteriorPoint;
use griddispatch::db;
use griddispatch_protocol::auth::Certificate;
use griddispatch_protocol::Role;
use serde_json::{json, Value};

pub(crate) fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A town with a grid, categories, a squad and the people of the loop.
pub(crate) struct Town {
    pub(crate) app: TestApp,
    pub(crate) village: String,
    /// (lat, lon) inside the village.
    pub(crate) point: (f64, f64),
    pub(crate) squad: String,
    pub(crate) tokens: std::collections::HashMap<&'static str, String>,
}

impl Town {
    pub(crate) async fn new() -> Town {
        Self::new_with(|_| {}).await
    }

    /// The town, with its configuration adjusted first.
    pub(crate) async fn new_with(adjust: impl FnOnce(&mut griddispatch::Config)) -> Town {
        let app = TestApp::spawn_with(adjust).await;
        let cert = |n: &str, year| {
            Some(Certificate {
                number: n.into(),
                valid_until: chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
            })
        };
        app.user("admin1", &[Role::Admin]);
        app.user("gmx", &[Role::GridMember]);
        app.user("gm2", &[Role::GridMember]);
        app.user("disp", &[Role::Dispatcher]);
        app.user("chief", &[Role::DutyChief]);
        app.user("boss", &[Role::Approver]);
        app.user_with_cert(
            "lead",
            &[Role::SquadLeader, Role::Officer],
            cert("L-1", 2099),
        );
        app.user_with_cert(
            "off1",
            &[Role::Officer, Role::GridMember],
            cert("O-1", 2099),
        );
        app.user_with_cert("off2", &[Role::Officer], cert("O-2", 2099));
        app.user_with_cert("uncert", &[Role::Officer], cert("O-9", 2020));
        let mut tokens = std::collections::HashMap::new();
        for u in [
            "admin1", "gmx", "gm2", "disp", "chief", "boss", "lead", "off1", "off2", "uncert",
        ] {
            tokens.insert(u, app.login(u, "dev").await.access_token);
        }
        let admin = tokens["admin1"].clone();
        // Grid: the demo town.
        let grid = grid_data::demo_town().unwrap();
        let geojson: Value = serde_json::from_str(&grid_data::grid_to_geojson(&grid)).unwrap();
        let resp = app
            .post("/api/v1/grid/import", &geojson, Some(&admin))
            .await;
        assert!(
            resp.status().is_success(),
            "grid import: {}",
            resp.text().await.unwrap()
        );
        let village_cell = grid.level(grid_data::CellLevel::Village).next().unwrap();
        let village = village_cell.code.as_str().to_owned();
        let p = village_cell.geometry.interior_point().unwrap();
        // Categories.
        for (code, handling, simple, penalty) in [
            ("0401", "4wh", true, true),
            ("0301", "15wd", false, true),
            ("0601", "3wd", false, false),
        ] {
            let body = json!({"code": code, "name": format!("类别{code}"), "domain": "城市管理", "handling": handling,
                "simple_procedure": simple, "penalty_possible": penalty, "legal_basis": "依据", "active": true});
            let r = app
                .client
                .put(app.url(&format!("/api/v1/categories/{code}")))
                .bearer_auth(&admin)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        // Squad responsible for the village, its members; grid members of the village.
        let r = app
            .post(
                "/api/v1/squads",
                &json!({"code": "SQ1", "name": "一中队", "domain": "城市管理"}),
                Some(&admin),
            )
            .await;
        assert!(
            r.status().is_success(),
            "squad: {}",
            r.text().await.unwrap()
        );
        let squad: Value = r.json().await.unwrap();
        let squad = squad["id"].as_str().unwrap().to_owned();
        let r = app
            .client
            .put(app.url(&format!("/api/v1/squads/{squad}/cells/{village}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "squad cell: {}",
            r.text().await.unwrap()
        );
        for u in ["lead", "off1", "off2", "uncert"] {
            let r = app
                .client
                .put(app.url(&format!("/api/v1/squads/{squad}/members/{u}")))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
        }
        for u in ["gmx", "gm2", "off1"] {
            let r = app
                .client
                .put(app.url(&format!("/api/v1/grid/cells/{village}/members/{u}")))
                .bearer_auth(&admin)
                .json(&json!({"role": "grid_member"}))
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "member: {}",
                r.text().await.unwrap()
            );
        }
        Town {
            app,
            village,
            point: (p.y(), p.x()),
            squad,
            tokens,
        }
    }

    pub(crate) async fn cmd(&self, who: &str, command: Value) -> reqwest::Response {
        self.app
            .post(
                "/api/v1/commands",
                &json!({"command": command}),
                Some(&self.tokens[who]),
            )
            .await
    }

    pub(crate) async fn ok(&self, who: &str, command: Value) -> Value {
        let name = command["type"].clone();
        let resp = self.cmd(who, command).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{name} by {who}: {body}");
        body
    }

    pub(crate) async fn report(&self, category: &str) -> String {
        let id = uuid();
        self.ok("gmx", json!({"type": "create_report", "report_id": id, "source": "grid_patrol", "category_code": category,
            "description": "占道经营，堵塞人行道", "position": {"lat": self.point.0, "lon": self.point.1}, "attachment_ids": [uuid()]})).await;
        id
    }

    pub(crate) async fn dispatch(&self, report: &str) -> String {
        let task = uuid();
        self.ok("disp", json!({"type": "dispatch_report", "report_id": report, "task_id": task, "squad_id": self.squad})).await;
        task
    }

    pub(crate) async fn to_on_site(&self, task: &str) {
        self.ok("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [self.id("off1"), self.id("off2")]})).await;
        self.ok("off2", json!({"type": "arrive_on_site", "task_id": task, "position": {"lat": self.point.0, "lon": self.point.1}})).await;
    }

    /// A second squad with the same leader and officers (a returned task goes elsewhere).
    pub(crate) async fn second_squad(&self) -> String {
        let admin = &self.tokens["admin1"];
        let r = self
            .app
            .post(
                "/api/v1/squads",
                &json!({"code": "SQ2", "name": "二中队", "domain": "市场监管"}),
                Some(admin),
            )
            .await;
        assert!(
            r.status().is_success(),
            "squad: {}",
            r.text().await.unwrap()
        );
        let squad: Value = r.json().await.unwrap();
        let squad = squad["id"].as_str().unwrap().to_owned();
        for u in ["lead", "off1", "off2"] {
            let r = self
                .app
                .client
                .put(self.app.url(&format!("/api/v1/squads/{squad}/members/{u}")))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
        }
        squad
    }

    pub(crate) fn id(&self, username: &str) -> String {
        let mut conn = self.app.state.pool.get().unwrap();
        griddispatch::store::users::find_by_username(&mut conn, username)
            .unwrap()
            .unwrap()
            .id
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let r = self.app.get(path, Some(&self.tokens["disp"])).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    /// Run a background sweep (the task clocks' `deadlines::sweep` or the case clocks'
    /// `case_deadlines::sweep`) as if it were `now`; how many flags it raised.
    pub(crate) fn sweep_at(
        &self,
        now: chrono::NaiveDateTime,
        sweep: fn(
            &mut griddispatch::db::DbConn,
            &griddispatch::workflow::Env<'_>,
        ) -> Result<usize, griddispatch::workflow::CommandError>,
    ) -> usize {
        let st = &self.app.state;
        let calendar = st.calendar.load_full();
        let grid = st.grid.load_full();
        let mut conn = st.pool.get().unwrap();
        let env = griddispatch::workflow::Env {
            grid: grid.as_deref().map(|g| &g.index),
            grid_version: grid.as_ref().map_or(0, |g| g.version),
            calendar: &calendar,
            now,
            case_rules: st.config.case_rules,
            merge_rules: st.config.merge_rules,
        };
        sweep(&mut conn, &env).unwrap()
    }

    /// A task as stored.
    pub(crate) fn stored_task(&self, id: &str) -> griddispatch::domain::workflow::Task {
        let mut conn = self.app.state.pool.get().unwrap();
        griddispatch::store::workflow::task(&mut conn, id)
            .unwrap()
            .unwrap()
    }

    /// Run SQL straight on the database (a test's trigger), outside the command path.
    pub(crate) fn exec_sql(&self, sql: &str) {
        use diesel::RunQueryDsl;
        let mut conn = self.app.state.pool.get().unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }

    pub(crate) fn audit_count(&self) -> i64 {
        let mut conn = self.app.state.pool.get().unwrap();
        griddispatch::store::audit::head_seq(&mut conn).unwrap()
    }

    pub(crate) fn verify(&self) {
        let mut conn = self.app.state.pool.get().unwrap();
        let (n, problems) = griddispatch::store::audit::verify(&mut conn).unwrap();
        assert!(n > 0);
        assert!(problems.is_empty(), "{problems:?}");
    }
}

#[actix_web::test]
async fn accept_handle_recheck_pass_and_close_then_rework_path() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    assert_eq!(detail["report"]["cell"]["village"], t.village.as_str());
    // The photo has not been uploaded yet: the report names it as pending.
    assert_eq!(
        detail["pending_attachment_ids"].as_array().unwrap().len(),
        1
    );
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 0);
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let atts = [uuid(), uuid()];
    t.ok("off2", json!({"type": "handle_task", "task_id": task, "outcome": {"outcome": "rectified", "note": "摊位已撤离"}, "attachment_ids": atts})).await;
    t.ok("lead", json!({"type": "close_task", "task_id": task}))
        .await;
    // Re-check fails: back to the squad.
    let failed = t.ok("gmx", json!({"type": "recheck_task", "task_id": task, "passed": false, "note": "摊位又回来了"})).await;
    assert_eq!(failed["task"]["status"], "rework");
    t.ok("off2", json!({"type": "arrive_on_site", "task_id": task, "position": {"lat": t.point.0, "lon": t.point.1}})).await;
    t.ok("off2", json!({"type": "handle_task", "task_id": task, "outcome": {"outcome": "rectified", "note": "已清理"}, "attachment_ids": atts})).await;
    t.ok("lead", json!({"type": "close_task", "task_id": task}))
        .await;
    let passed = t
        .ok(
            "gmx",
            json!({"type": "recheck_task", "task_id": task, "passed": true}),
        )
        .await;
    assert_eq!(passed["task"]["status"], "verified");
    assert_eq!(passed["task"]["rework_count"], 1);
    let closed = t
        .ok("disp", json!({"type": "close_report", "report_id": r}))
        .await;
    assert_eq!(closed["report"]["status"], "closed");

    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let commands: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands.first(), Some(&"create_report"));
    assert_eq!(commands.last(), Some(&"close_report"));
    assert_eq!(commands.iter().filter(|c| **c == "recheck_task").count(), 2);
    let seqs: Vec<i64> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "history in order");
    t.verify();
}

#[actix_web::test]
async fn return_is_approved_by_the_duty_chief_then_redispatched() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.ok(
        "lead",
        json!({"type": "request_return", "task_id": task, "reason": "不属本中队职责"}),
    )
    .await;
    // Not the squad leader's to decide.
    assert_error(
        t.cmd(
            "lead",
            json!({"type": "decide_return", "task_id": task, "approve": true}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let back = t
        .ok(
            "chief",
            json!({"type": "decide_return", "task_id": task, "approve": true}),
        )
        .await;
    assert_eq!(back["task"]["status"], "returned");
    let other = t.second_squad().await;
    let again = t
        .ok(
            "disp",
            json!({"type": "redispatch_task", "task_id": task, "squad_id": other}),
        )
        .await;
    assert_eq!(again["task"]["status"], "dispatched");
    assert_eq!(again["task"]["return_count"], 1);
    t.to_on_site(&task).await;
    t.verify();
}

#[actix_web::test]
async fn reject_merge_and_transfer() {
    let t = Town::new().await;
    let a = t.report("0401").await;
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "reject_report", "report_id": a, "reason": ""}),
        )
        .await,
        422,
        "reason_required",
    )
    .await;
    let rejected = t
        .ok(
            "disp",
            json!({"type": "reject_report", "report_id": a, "reason": "重复上报且信息不实"}),
        )
        .await;
    assert_eq!(rejected["report"]["status"], "rejected");
    let open = t.report("0401").await;
    let dup = t.report("0401").await;
    let merged = t
        .ok(
            "disp",
            json!({"type": "merge_report", "report_id": dup, "into_report_id": open}),
        )
        .await;
    assert_eq!(merged["report"]["merged_into"], open.as_str());
    assert_error(
        t.cmd(
            "disp",
            json!({"type": "merge_report", "report_id": open, "into_report_id": a}),
        )
        .await,
        409,
        "invalid_state",
    )
    .await;
    let other = t.report("0601").await;
    let moved = t.ok("disp", json!({"type": "transfer_report", "report_id": other, "department": "区住建局", "reason": "不在镇赋权清单内"})).await;
    assert_eq!(moved["report"]["status"], "transferred");
    // The reporter is asked for more and answers.
    let q = t.report("0401").await;
    t.ok(
        "disp",
        json!({"type": "request_info", "report_id": q, "question": "请补拍全景"}),
    )
    .await;
    assert_error(
        t.cmd(
            "gm2",
            json!({"type": "supplement_report", "report_id": q, "note": "x"}),
        )
        .await,
        403,
        "out_of_scope",
    )
    .await;
    let back = t.ok("gmx", json!({"type": "supplement_report", "report_id": q, "note": "已补拍", "attachment_ids": [uuid()]})).await;
    assert_eq!(back["report"]["status"], "reported");
    t.verify();
}

#[actix_web::test]
async fn simple_penalty_within_the_limit_gets_a_decision_number() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let fine = |fen: i64| simple_fine(&task, fen);
    let before = t.audit_count();
    assert_error(t.cmd("off1", fine(20_001)).await, 422, "penalty_over_limit").await;
    assert_eq!(t.audit_count(), before, "a refused command writes nothing");
    let done = t.ok("off1", fine(10_000)).await;
    assert_eq!(done["task"]["status"], "handled");
    assert!(done["task"]["decision_number"]
        .as_str()
        .unwrap()
        .contains("简罚"));
    t.verify();
}

#[actix_web::test]
async fn case_needed_leads_to_a_case_the_approver_files() {
    let t = Town::new().await;
    let r = t.report("0301").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    // No simple procedure for illegal construction.
    let simple = json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "outcome": {"outcome": "simple_penalty",
        "party_kind": "person", "party_name": "李四", "penalty": {"kind": "warning"}, "facts": "违建", "legal_basis": "城乡规划法"}});
    assert_error(
        t.cmd("off1", simple).await,
        422,
        "simple_procedure_not_allowed",
    )
    .await;
    let case_id = uuid();
    let handled = t.ok("off1", json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "case_id": case_id,
        "outcome": {"outcome": "case_needed", "finding": "未取得建设工程规划许可证进行建设", "issuing_unit": "自然资源所", "suspected_provision": "城乡规划法第六十四条"}})).await;
    assert_eq!(handled["case"]["status"], "proposed");
    assert_error(
        t.cmd("disp", json!({"type": "file_case", "case_id": case_id}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let filed = t
        .ok("boss", json!({"type": "file_case", "case_id": case_id}))
        .await;
    assert_eq!(filed["case"]["status"], "filed");
    assert!(filed["case"]["number"]
        .as_str()
        .unwrap()
        .starts_with("立〔"));
    let case = t.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(case["history"].as_array().unwrap().len(), 2);
    t.verify();
}

#[actix_web::test]
async fn forbidden_actions_are_refused_and_change_nothing() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let before = t.audit_count();
    // Wrong role.
    assert_error(t.cmd("gmx", json!({"type": "dispatch_report", "report_id": r, "task_id": uuid(), "squad_id": t.squad})).await, 403, "forbidden").await;
    let task = t.dispatch(&r).await;
    let after_dispatch = t.audit_count();
    assert_eq!(after_dispatch, before + 1);
    // Uncertified officer, one officer only, wrong state.
    assert_error(t.cmd("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1"), t.id("uncert")]})).await, 422, "certificate_required").await;
    assert_error(
        t.cmd(
            "lead",
            json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1")]}),
        )
        .await,
        422,
        "two_officers_required",
    )
    .await;
    assert_error(
        t.cmd("lead", json!({"type": "close_task", "task_id": task}))
            .await,
        409,
        "invalid_state",
    )
    .await;
    // An officer not assigned cannot arrive; an arrival far away is refused.
    t.ok("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1"), t.id("off2")]})).await;
    assert_error(t.cmd("uncert", json!({"type": "arrive_on_site", "task_id": task, "position": {"lat": t.point.0, "lon": t.point.1}})).await, 403, "out_of_scope").await;
    assert_error(t.cmd("off1", json!({"type": "arrive_on_site", "task_id": task, "position": {"lat": t.point.0 + 0.2, "lon": t.point.1}})).await, 422, "arrival_too_far").await;
    t.ok("off1", json!({"type": "arrive_on_site", "task_id": task, "position": {"lat": t.point.0, "lon": t.point.1}})).await;
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "outcome": {"outcome": "no_violation", "reply": "经核查无违法"}})).await;
    t.ok("lead", json!({"type": "close_task", "task_id": task}))
        .await;
    // The handler (also a grid member of the cell) may not re-check.
    let mark = t.audit_count();
    assert_error(
        t.cmd(
            "off1",
            json!({"type": "recheck_task", "task_id": task, "passed": true}),
        )
        .await,
        422,
        "handler_cannot_recheck",
    )
    .await;
    // Clients cannot raise deadline flags.
    assert_error(
        t.cmd(
            "chief",
            json!({"type": "flag_deadline", "task_id": task, "level": "red"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(t.audit_count(), mark);
    let task_now = t.get(&format!("/api/v1/tasks/{task}")).await;
    assert_eq!(task_now["task"]["status"], "closed");
    // A grid member of another cell sees nothing of it.
    t.app.user("far.gm", &[Role::GridMember]);
    let far = t.app.login("far.gm", "d").await.access_token;
    assert_eq!(
        t.app
            .get(&format!("/api/v1/reports/{r}"), Some(&far))
            .await
            .status(),
        404
    );
    let list: Value = t
        .app
        .get("/api/v1/reports", Some(&far))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    t.verify();
}

#[actix_web::test]
async fn a_report_outside_the_grid_names_the_nearest_cell() {
    let t = Town::new().await;
    let resp = t.cmd("gmx", json!({"type": "create_report", "report_id": uuid(), "source": "grid_patrol", "category_code": "0401",
        "description": "x", "position": {"lat": t.point.0 + 1.0, "lon": t.point.1}, "attachment_ids": [uuid()]})).await;
    let msg = assert_error(resp, 422, "outside_grid").await;
    assert!(msg.contains("最近的网格"), "{msg}");
}

#[actix_web::test]
async fn editing_or_deleting_an_audit_record_is_detected() {
    use diesel::prelude::*;
    use griddispatch::schema::audit_log;
    let t = Town::new().await;
    let r = t.report("0401").await;
    t.dispatch(&r).await;
    t.verify();
    let mut conn = t.app.state.pool.get().unwrap();
    diesel::update(audit_log::table.filter(audit_log::seq.eq(1)))
        .set(audit_log::after.eq("{\"report\":{\"status\":\"closed\"}}"))
        .execute(&mut conn)
        .unwrap();
    let (_, problems) = griddispatch::store::audit::verify(&mut conn).unwrap();
    assert!(problems.iter().any(|p| p.seq == 1), "{problems:?}");

    let t2 = Town::new().await;
    let r = t2.report("0401").await;
    t2.dispatch(&r).await;
    let mut conn = t2.app.state.pool.get().unwrap();
    let last = griddispatch::store::audit::head_seq(&mut conn).unwrap();
    diesel::delete(audit_log::table.filter(audit_log::seq.eq(last)))
        .execute(&mut conn)
        .unwrap();
    let (_, problems) = griddispatch::store::audit::verify(&mut conn).unwrap();
    assert!(
        !problems.is_empty(),
        "a removed newest record must be noticed"
    );
}

#[actix_web::test]
async fn overdue_escalation_fires_once_and_tells_the_duty_chief() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    // Accepted in time: only the handling clock runs on.
    t.ok("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("off1"), t.id("off2")]})).await;
    let due = t.stored_task(&task).due_at;
    let sweep = |now| t.sweep_at(now, griddispatch::workflow::deadlines::sweep);
    assert_eq!(sweep(db::now()), 0);
    let late = due + chrono::Duration::minutes(1);
    assert_eq!(sweep(late), 1);
    assert_eq!(sweep(late + chrono::Duration::hours(3)), 0, "fires once");
    let notes: Vec<Value> = t
        .app
        .get("/api/v1/me/notifications", Some(&t.tokens["chief"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["kind"], "overdue");
    let overdue: Value = t
        .app
        .get("/api/v1/tasks?overdue=true", Some(&t.tokens["disp"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["total"], 0, "not overdue yet by the real clock");
    let detail = t.get(&format!("/api/v1/tasks/{task}")).await;
    assert!(detail["task"]["escalated_at"].is_string());
    t.verify();
}

#[actix_web::test]
async fn statistics_count_received_closed_and_rates() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    t.ok("off1", json!({"type": "handle_task", "task_id": task, "outcome": {"outcome": "no_violation", "reply": "无"}})).await;
    t.report("0401").await;
    let rows: Vec<Value> = t
        .get("/api/v1/stats?group_by=category")
        .await
        .as_array()
        .unwrap()
        .clone();
    let row = rows.iter().find(|r| r["key"] == "0401").unwrap();
    assert_eq!(row["received"], 2);
    assert_eq!(row["handled"], 1);
    assert_eq!(row["on_time_rate"], 1.0);
    let routing: Vec<Value> = t
        .get(&format!("/api/v1/reports/{r}/routing"))
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(routing[0]["squad_id"], t.squad.as_str());
    assert_eq!(routing[0]["responsible_for_cell"], true);
}

#[actix_web::test]
async fn a_hotline_complainants_contact_is_shown_to_dispatchers_only() {
    let t = Town::new().await;
    let id = uuid();
    t.ok("disp", json!({"type": "create_report", "report_id": id, "source": "hotline", "category_code": "0401",
        "description": "12345 热线：夜市占道", "position": {"lat": t.point.0, "lon": t.point.1},
        "contact": {"name": "王女士", "phone": "13800000000"}})).await;
    let seen = t.get(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(seen["report"]["contact"]["phone"], "13800000000");
    // A grid member of the cell sees the report, not who complained.
    let r = t
        .app
        .get(&format!("/api/v1/reports/{id}"), Some(&t.tokens["gmx"]))
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["report"]["id"], id.as_str());
    assert!(body["report"]["contact"].is_null(), "{body}");
    // Grid members cannot enter hotline reports.
    let resp = t.cmd("gmx", json!({"type": "create_report", "report_id": uuid(), "source": "hotline", "category_code": "0401",
        "description": "x", "position": {"lat": t.point.0, "lon": t.point.1}})).await;
    assert_error(resp, 403, "forbidden").await;
}

#[actix_web::test]
async fn the_console_receives_changes_as_server_sent_events() {
    use futures_util::StreamExt;
    let t = Town::new().await;
    let resp = t.app.get("/api/v1/events", Some(&t.tokens["disp"])).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = resp.bytes_stream();
    let r = t.report("0401").await;
    let mut seen = String::new();
    for _ in 0..20 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await;
        if let Ok(Some(Ok(chunk))) = next {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(&r) {
                break;
            }
        }
    }
    assert!(
        seen.contains("event: change") && seen.contains(&r),
        "{seen}"
    );
    // Grid members are not console users.
    assert_error(
        t.app.get("/api/v1/events", Some(&t.tokens["gmx"])).await,
        403,
        "forbidden",
    )
    .await;
}

#[actix_web::test]
async fn an_admin_loads_a_years_calendar_and_bad_files_are_refused() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    let year = json!({"year": 2027, "papers": [], "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
        {"name": "春节", "date": "2027-02-06", "isOffDay": false}]});
    let put = |body: Value, who: String| {
        let app = &t.app;
        async move {
            app.client
                .put(app.url("/api/v1/calendar/2027"))
                .bearer_auth(who)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_error(
        put(year.clone(), t.tokens["disp"].clone()).await,
        403,
        "forbidden",
    )
    .await;
    let bad =
        json!({"year": 2027, "days": [{"name": "元旦", "date": "2026-01-01", "isOffDay": true}]});
    assert_error(put(bad, admin.clone()).await, 422, "invalid_calendar").await;
    assert_eq!(put(year, admin.clone()).await.status(), 200);
    let back: Value = t
        .app
        .get("/api/v1/calendar/2027", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["days"].as_array().unwrap().len(), 2);
    let cal = t.app.state.calendar.load_full();
    assert!(cal.covers(2027));
    assert!(!cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    assert!(
        cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2027, 2, 6).unwrap()),
        "an adjusted Saturday is worked"
    );
}

/// An officer's `handle_task` closing a task with a simple-procedure fine of `fen`.
pub(crate) fn simple_fine(task: &str, fen: i64) -> Value {
    json!({"type": "handle_task", "task_id": task, "attachment_ids": [uuid()], "outcome": {"outcome": "simple_penalty",
        "party_kind": "person", "party_name": "张三", "penalty": {"kind": "fine", "amount_fen": fen}, "facts": "占道经营", "legal_basis": "条例第三十六条"}})
}
