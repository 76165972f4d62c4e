//! People over HTTP: a grid member's cells and the evidence they re-check, a grid leader's
//! statistics, certificates renewed and warned about.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::assert_error;
use crate::workflow::{uuid, Town};
use serde_json::json;

#[actix_web::test]
async fn a_grid_member_finds_their_own_cells_in_me() {
    let t = Town::new().await;
    let me = t.app.get("/api/v1/me", Some(&t.tokens["gmx"])).await;
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "gmx", "the account is still there");
    let cells = me["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{cells:?}");
    assert_eq!(cells[0]["code"], t.village.as_str());
    assert_eq!(cells[0]["level"], "village");
    assert_eq!(cells[0]["role"], "grid_member");
    assert!(!cells[0]["name"].as_str().unwrap().is_empty());
    let chief: serde_json::Value = t
        .app
        .get("/api/v1/me", Some(&t.tokens["chief"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(chief["cells"], json!([]));
}

#[actix_web::test]
async fn the_rechecking_grid_member_opens_the_officers_before_and_after_photos() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.to_on_site(&task).await;
    let tus = crate::tus::Tus {
        app: &t.app,
        token: t.tokens["off2"].clone(),
    };
    let photos = [uuid(), uuid()];
    for (i, id) in photos.iter().enumerate() {
        let resp = tus
            .upload(&crate::tus::photo(120, 90, 40 + i as u32), id, 1 << 20)
            .await;
        assert_eq!(resp.status(), 204);
    }
    t.ok("off2", json!({"type": "handle_task", "task_id": task, "outcome": {"outcome": "rectified", "note": "摊位已撤离"}, "attachment_ids": photos})).await;
    t.ok("lead", json!({"type": "close_task", "task_id": task}))
        .await;
    for id in &photos {
        let got = t
            .app
            .get(&format!("/api/v1/attachments/{id}"), Some(&t.tokens["gm2"]))
            .await;
        assert_eq!(got.status(), 200, "the re-checker sees {id}");
        t.app.copies_made(id, &t.tokens["gm2"]).await;
        let file = t
            .app
            .get(
                &format!("/api/v1/attachments/{id}/content?variant=display"),
                Some(&t.tokens["gm2"]),
            )
            .await;
        assert_eq!(file.status(), 200);
    }
    // A grid member of no cell of this task sees nothing.
    t.app
        .user("far", &[griddispatch_protocol::Role::GridMember]);
    let far = t.app.login("far", "p").await.access_token;
    assert_error(
        t.app
            .get(&format!("/api/v1/attachments/{}", photos[0]), Some(&far))
            .await,
        404,
        "not_found",
    )
    .await;
    t.ok(
        "gm2",
        json!({"type": "recheck_task", "task_id": task, "passed": true}),
    )
    .await;
}

#[actix_web::test]
async fn statistics_are_scoped_to_a_grid_leaders_cells_with_a_period_and_closure_and_return_rates()
{
    let t = Town::new().await;
    let a = t.report("0401").await;
    t.report("0401").await;
    let task = t.dispatch(&a).await;
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
    let rows = t.get("/api/v1/stats?group_by=category").await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "0401")
        .unwrap()
        .clone();
    assert_eq!(row["received"], 2);
    assert_eq!(row["closure_rate"], 0.0);
    assert_eq!(row["return_rate"], 1.0);
    // Period: China calendar days.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let q = |from: &str, to: &str| format!("/api/v1/stats?group_by=category&from={from}&to={to}");
    let counted = t.get(&q(&day(today), &day(today))).await;
    assert_eq!(counted.as_array().unwrap().len(), 1);
    let later = t
        .get(&q(&day(today.succ_opt().unwrap()), "2099-12-31"))
        .await;
    assert_eq!(later, json!([]));
    assert_error(
        t.app
            .get(
                "/api/v1/stats?group_by=cell&from=yesterday",
                Some(&t.tokens["disp"]),
            )
            .await,
        400,
        "invalid_query",
    )
    .await;
    // Grid leaders: their own cells only.
    let admin = &t.tokens["admin1"];
    let grid: serde_json::Value = t
        .app
        .get("/api/v1/grid?level=village", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    let elsewhere = grid["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap().to_owned())
        .find(|c| *c != t.village)
        .unwrap();
    for (who, cell) in [("gl_here", t.village.clone()), ("gl_far", elsewhere)] {
        t.app.user(who, &[griddispatch_protocol::Role::GridLeader]);
        let r = t
            .app
            .client
            .put(
                t.app
                    .url(&format!("/api/v1/grid/cells/{cell}/members/{who}")),
            )
            .bearer_auth(admin)
            .json(&json!({"role": "grid_leader"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let stats_of = |who: &'static str| {
        let app = &t.app;
        async move {
            let token = app.login(who, "p").await.access_token;
            let rows: serde_json::Value = app
                .get("/api/v1/stats?group_by=cell", Some(&token))
                .await
                .json()
                .await
                .unwrap();
            rows
        }
    };
    let here = stats_of("gl_here").await;
    assert_eq!(here[0]["key"], t.village.as_str());
    assert_eq!(here[0]["received"], 2);
    assert_eq!(stats_of("gl_far").await, json!([]), "not their cells");
}

/// Put `who` on `cell` with `role` (admin API).
async fn put_member(t: &Town, cell: &str, who: &str, role: &str) {
    let r = t
        .app
        .client
        .put(
            t.app
                .url(&format!("/api/v1/grid/cells/{cell}/members/{who}")),
        )
        .bearer_auth(&t.tokens["admin1"])
        .json(&json!({ "role": role }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

#[actix_web::test]
async fn statistics_roll_up_to_area_town_and_period_and_a_grid_leader_sees_only_their_cells() {
    use geo::InteriorPoint;
    let t = Town::new().await;
    let grid = grid_data::demo_town().unwrap();
    let here = grid
        .get(&grid_data::CellCode::parse(&t.village).unwrap())
        .unwrap();
    let area_here = here.parent.unwrap().to_string();
    // A village of another area, where gmx reports too.
    let there = grid
        .level(grid_data::CellLevel::Village)
        .find(|c| c.parent != here.parent)
        .unwrap();
    let area_there = there.parent.unwrap().to_string();
    put_member(&t, there.code.as_str(), "gmx", "grid_member").await;
    let a = t.report("0401").await;
    t.report("0401").await;
    let p = there.geometry.interior_point().unwrap();
    t.ok("gmx", json!({"type": "create_report", "report_id": crate::workflow::uuid(), "source": "grid_patrol",
        "category_code": "0401", "description": "占道经营，堵塞人行道", "position": {"lat": p.y(), "lon": p.x()},
        "attachment_ids": [crate::workflow::uuid()]})).await;
    let task = t.dispatch(&a).await;
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

    let by_area = t.get("/api/v1/stats?group_by=area").await;
    let row = |rows: &serde_json::Value, key: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no row {key} in {rows}"))
    };
    assert_eq!(by_area.as_array().unwrap().len(), 2, "{by_area}");
    assert_eq!(row(&by_area, &area_here)["received"], 2);
    assert_eq!(row(&by_area, &area_here)["return_rate"], 1.0);
    assert_eq!(row(&by_area, &area_here)["closure_rate"], 0.0);
    assert_eq!(row(&by_area, &area_there)["received"], 1);
    assert_eq!(
        row(&by_area, &area_there)["return_rate"],
        serde_json::Value::Null
    );
    let by_town = t.get("/api/v1/stats?group_by=town").await;
    assert_eq!(by_town.as_array().unwrap().len(), 1);
    assert_eq!(row(&by_town, grid.town().code.as_str())["received"], 3);
    assert_eq!(row(&by_town, grid.town().code.as_str())["closed"], 0);
    // Periods: China calendar day and month of receipt.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let by_day = t.get("/api/v1/stats?group_by=day").await;
    assert_eq!(
        row(&by_day, &today.format("%Y-%m-%d").to_string())["received"],
        3
    );
    let by_month = t.get("/api/v1/stats?group_by=month").await;
    assert_eq!(
        row(&by_month, &today.format("%Y-%m").to_string())["received"],
        3
    );
    assert_error(
        t.app
            .get("/api/v1/stats?group_by=week", Some(&t.tokens["disp"]))
            .await,
        400,
        "invalid_query",
    )
    .await;

    // A grid leader of this village: the roll-ups count their cells only.
    t.app
        .user("gl_here", &[griddispatch_protocol::Role::GridLeader]);
    put_member(&t, &t.village, "gl_here", "grid_leader").await;
    let token = t.app.login("gl_here", "p").await.access_token;
    let mine = |group: &'static str| {
        let (app, token) = (&t.app, token.clone());
        async move {
            let r = app
                .get(&format!("/api/v1/stats?group_by={group}"), Some(&token))
                .await;
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let area = mine("area").await;
    assert_eq!(area.as_array().unwrap().len(), 1, "only their area: {area}");
    assert_eq!(row(&area, &area_here)["received"], 2);
    assert_eq!(
        row(&mine("town").await, grid.town().code.as_str())["received"],
        2
    );
    assert_eq!(
        row(&mine("month").await, &today.format("%Y-%m").to_string())["received"],
        2
    );
}

#[actix_web::test]
async fn an_admin_renews_a_certificate_it_is_recorded_and_an_expiring_one_is_warned_about() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    let put = |user: &str, body: serde_json::Value| {
        t.app
            .client
            .put(t.app.url(&format!("/api/v1/users/{user}/certificate")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    // The uncertified officer's certificate (expired 2020) is renewed: they may now handle.
    let before = t.audit_count();
    let resp = put(
        "uncert",
        json!({"number": "O-9-2026", "valid_until": "2028-12-31"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let view: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(view["certificate"]["number"], "O-9-2026");
    assert_eq!(view["certificate_valid"], true);
    assert_eq!(t.audit_count(), before + 1, "in the full-process record");
    {
        let mut conn = t.app.state.pool.get().unwrap();
        let last = griddispatch::store::audit::last(&mut conn)
            .unwrap()
            .unwrap();
        assert_eq!(last.command, "set_certificate");
        assert_eq!(last.actor_id, t.id("admin1"));
        assert!(last.before.contains("O-9") && last.after.contains("O-9-2026"));
    }
    t.verify();
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    t.ok("lead", json!({"type": "accept_task", "task_id": task, "officer_ids": [t.id("uncert"), t.id("off2")]})).await;
    // Only an admin; a certificate number is required.
    assert_error(
        t.app
            .client
            .put(t.app.url("/api/v1/users/off1/certificate"))
            .bearer_auth(&t.tokens["chief"])
            .json(&json!({"number": "X", "valid_until": "2030-01-01"}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        put("off1", json!({"number": " ", "valid_until": "2030-01-01"}))
            .await
            .unwrap(),
        422,
        "invalid_certificate",
    )
    .await;
    // A certificate ending in 10 days warns its holder and the admins, once.
    let soon = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let resp = put("off2", json!({"number": "O-2", "valid_until": soon}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let st = &t.app.state;
    let mut conn = st.pool.get().unwrap();
    let now = griddispatch::db::now();
    assert_eq!(
        griddispatch::workflow::notify::warn_expiring_certificates(&mut conn, now).unwrap(),
        1
    );
    assert_eq!(
        griddispatch::workflow::notify::warn_expiring_certificates(&mut conn, now).unwrap(),
        0,
        "once"
    );
    drop(conn);
    for who in ["off2", "admin1"] {
        let notes: Vec<serde_json::Value> = t
            .app
            .get("/api/v1/me/notifications", Some(&t.tokens[who]))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            notes.iter().any(|n| n["kind"] == "certificate_expiring"),
            "{who}: {notes:?}"
        );
    }
}

#[actix_web::test]
async fn what_evidence_proves_and_each_change_of_it_are_in_the_record() {
    let t = Town::new().await;
    let tus = crate::tus::Tus {
        app: &t.app,
        token: t.tokens["off2"].clone(),
    };
    let id = uuid();
    let resp = tus
        .upload(&crate::tus::photo(100, 80, 7), &id, 1 << 20)
        .await;
    assert_eq!(resp.status(), 204);
    let before = t.audit_count();
    for proves in ["占道经营事实", "占道经营事实及面积"] {
        let resp = t
            .app
            .client
            .patch(t.app.url(&format!("/api/v1/attachments/{id}")))
            .bearer_auth(&t.tokens["off2"])
            .json(&json!({"proves": proves}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(t.audit_count(), before + 2);
    let mut conn = t.app.state.pool.get().unwrap();
    let last = griddispatch::store::audit::last(&mut conn)
        .unwrap()
        .unwrap();
    assert_eq!(last.command, "set_proves");
    assert_eq!(last.actor_id, t.id("off2"));
    assert!(last.before.contains("占道经营事实\""), "{}", last.before);
    assert!(last.after.contains("占道经营事实及面积"), "{}", last.after);
    drop(conn);
    t.verify();
}

#[actix_web::test]
async fn an_admins_changes_of_categories_and_the_calendar_are_in_the_record() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    let last = || {
        let mut conn = t.app.state.pool.get().unwrap();
        griddispatch::store::audit::last(&mut conn)
            .unwrap()
            .unwrap()
    };
    let before = t.audit_count();
    let body = json!({"code": "0699", "name": "其他事项", "domain": "城市管理", "handling": "5wd",
        "simple_procedure": false, "penalty_possible": false, "legal_basis": "依据", "active": true});
    let resp = t
        .app
        .client
        .put(t.app.url("/api/v1/categories/0699"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(t.audit_count(), before + 1);
    let rec = last();
    assert_eq!(rec.command, "put_category");
    assert_eq!(rec.actor_id, t.id("admin1"));
    assert!(rec.before.contains("null") && rec.after.contains("其他事项"));
    let year = json!({"year": 2027, "papers": [], "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": true}]});
    let resp = t
        .app
        .client
        .put(t.app.url("/api/v1/calendar/2027"))
        .bearer_auth(&admin)
        .json(&year)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(t.audit_count(), before + 2);
    assert_eq!(last().command, "put_calendar");
    t.verify();
}

#[actix_web::test]
async fn disabling_and_enabling_an_account_is_in_the_record() {
    let t = Town::new().await;
    let before = t.audit_count();
    for action in ["disable", "enable"] {
        let resp = t
            .app
            .post(
                &format!("/api/v1/users/gm2/{action}"),
                &json!({}),
                Some(&t.tokens["admin1"]),
            )
            .await;
        assert_eq!(resp.status(), 200, "{action}");
        let mut conn = t.app.state.pool.get().unwrap();
        let last = griddispatch::store::audit::last(&mut conn)
            .unwrap()
            .unwrap();
        assert_eq!(last.command, format!("{action}_user"));
        assert_eq!(last.actor_id, t.id("admin1"));
        assert!(last.payload.contains(&t.id("gm2")));
    }
    assert_eq!(t.audit_count(), before + 2);
    t.verify();
}

#[actix_web::test]
async fn an_admin_changes_roles_and_they_take_effect_at_once_in_the_record() {
    let t = Town::new().await;
    let before = t.audit_count();
    let put_roles = |user: &str, roles: serde_json::Value, token: &str| {
        let req = t
            .app
            .client
            .put(t.app.url(&format!("/api/v1/users/{user}/roles")))
            .bearer_auth(token)
            .json(&json!({ "roles": roles }));
        async move { req.send().await.unwrap() }
    };
    // The grid member may not list users; once an admin too, the same token may (roles are
    // read per request, not carried in the token).
    let gm_token = t.tokens["gm2"].clone();
    assert_error(
        put_roles("gm2", json!(["admin"]), &gm_token).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        t.app.get("/api/v1/users", Some(&gm_token)).await.status(),
        403
    );
    let resp = put_roles(
        "gm2",
        json!(["grid_member", "admin", "admin"]),
        &t.tokens["admin1"],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let view: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(view["roles"], json!(["grid_member", "admin"]));
    assert_eq!(
        t.app.get("/api/v1/users", Some(&gm_token)).await.status(),
        200
    );
    {
        let mut conn = t.app.state.pool.get().unwrap();
        let last = griddispatch::store::audit::last(&mut conn)
            .unwrap()
            .unwrap();
        assert_eq!(last.command, "set_roles");
        assert_eq!(last.actor_id, t.id("admin1"));
        assert!(last.before.contains("grid_member") && !last.before.contains("admin"));
        assert!(last.after.contains("admin"));
    }
    // With a second administrator, the first may give up the role; the last one may not.
    let resp = put_roles("admin1", json!(["dispatcher"]), &t.tokens["admin1"]).await;
    assert_eq!(resp.status(), 200);
    let count = t.audit_count();
    assert_error(
        put_roles("gm2", json!(["grid_member"]), &gm_token).await,
        409,
        "last_admin",
    )
    .await;
    // No roles, unknown role, unknown user: refused, nothing written.
    assert_error(
        put_roles("gm2", json!([]), &gm_token).await,
        422,
        "no_roles",
    )
    .await;
    assert_error(
        put_roles("gm2", json!(["mayor"]), &gm_token).await,
        422,
        "invalid_field",
    )
    .await;
    assert_error(
        put_roles("ghost", json!(["officer"]), &gm_token).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(t.audit_count(), count, "refusals write nothing");
    assert!(t.audit_count() > before);
    t.verify();
}

#[actix_web::test]
async fn an_admin_resets_a_forgotten_password_and_the_old_sessions_end() {
    let t = Town::new().await;
    let old_token = t.tokens["gm2"].clone();
    let weak = t
        .app
        .post(
            "/api/v1/users/gm2/password",
            &json!({"password": "short"}),
            Some(&t.tokens["admin1"]),
        )
        .await;
    assert_error(weak, 422, "weak_password").await;
    assert_error(
        t.app
            .post(
                "/api/v1/users/gm2/password",
                &json!({"password": "new-password-2026"}),
                Some(&old_token),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    let resp = t
        .app
        .post(
            "/api/v1/users/gm2/password",
            &json!({"password": "new-password-2026"}),
            Some(&t.tokens["admin1"]),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // The old token stops working; the old password is refused; the new one signs in.
    assert_eq!(
        t.app.get("/api/v1/me", Some(&old_token)).await.status(),
        401
    );
    assert_eq!(
        t.app
            .try_login("gm2", crate::common::PASSWORD, "phone")
            .await
            .status(),
        401
    );
    assert_eq!(
        t.app
            .try_login("gm2", "new-password-2026", "phone")
            .await
            .status(),
        200
    );
    let mut conn = t.app.state.pool.get().unwrap();
    let last = griddispatch::store::audit::last(&mut conn)
        .unwrap()
        .unwrap();
    assert_eq!(last.command, "reset_password");
    assert!(
        !last.payload.contains("new-password-2026"),
        "the record never holds a password"
    );
    drop(conn);
    t.verify();
}

/// `(actor, payload, before, after)` of every record of `command`, oldest first.
fn records_of(t: &Town, command: &str) -> Vec<(String, String, String, String)> {
    use diesel::prelude::*;
    use griddispatch::schema::audit_log;
    let mut conn = t.app.state.pool.get().unwrap();
    audit_log::table
        .filter(audit_log::command.eq(command))
        .order(audit_log::seq.asc())
        .select((
            audit_log::actor_id,
            audit_log::payload,
            audit_log::before,
            audit_log::after,
        ))
        .load(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn an_admins_grid_imports_squads_and_cell_people_are_in_the_record() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    let admin_id = t.id("admin1");
    // What the town's set-up did through the admin API is on record, by the admin.
    let imports = records_of(&t, "import_grid");
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].0, admin_id);
    assert!(imports[0].1.contains("\"version\":1"), "{}", imports[0].1);
    assert!(imports[0].2.contains("\"current_version\":null"));
    let created = records_of(&t, "create_squad");
    assert_eq!(created.len(), 1);
    assert!(created[0].3.contains("一中队"), "{}", created[0].3);
    assert_eq!(records_of(&t, "add_squad_cell").len(), 1);
    let members = records_of(&t, "add_squad_member");
    assert_eq!(members.len(), 4, "lead, off1, off2, uncert");
    assert!(members.iter().all(|m| m.0 == admin_id));
    assert!(members[1].1.contains(&t.id("off1")), "{}", members[1].1);
    let cell_people = records_of(&t, "set_cell_member");
    assert_eq!(cell_people.len(), 3, "gmx, gm2, off1");
    assert!(cell_people[0].2.contains("\"role\":null"));
    assert!(cell_people[0].3.contains("grid_member"));

    let send = |method: reqwest::Method, path: String| {
        t.app
            .client
            .request(method, t.app.url(&path))
            .bearer_auth(&admin)
            .send()
    };
    let squad = &t.squad;
    // Adding a member twice changes nothing and records nothing.
    let before = t.audit_count();
    let r = send(
        reqwest::Method::PUT,
        format!("/api/v1/squads/{squad}/members/off1"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(t.audit_count(), before);
    // A removal is recorded once; removing again is idempotent and records nothing.
    for _ in 0..2 {
        let r = send(
            reqwest::Method::DELETE,
            "/api/v1/squads/SQ1/members/off1".to_owned(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 204);
    }
    assert_eq!(t.audit_count(), before + 1);
    let removed = records_of(&t, "remove_squad_member");
    assert_eq!(removed.len(), 1);
    assert!(removed[0].1.contains(&t.id("off1")) && removed[0].3.contains("false"));
    let listed: serde_json::Value = t
        .app
        .get(&format!("/api/v1/squads/{squad}/members"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !listed.to_string().contains("\"off1\""),
        "off1 left the squad: {listed}"
    );
    // A grid member taken off the village: the record says which role they had.
    let r = send(
        reqwest::Method::DELETE,
        format!("/api/v1/grid/cells/{}/members/gm2", t.village),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let off = records_of(&t, "remove_cell_member");
    assert_eq!(off.len(), 1);
    assert!(off[0].2.contains("grid_member") && off[0].3.contains("null"));
    // The squad's village taken from it.
    let r = send(
        reqwest::Method::DELETE,
        format!("/api/v1/squads/{squad}/cells/{}", t.village),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let cells = records_of(&t, "remove_squad_cell");
    assert_eq!(cells.len(), 1);
    assert!(cells[0].2.contains(t.village.as_str()) && cells[0].3.contains("[]"));
    // A refused action writes no record.
    let before = t.audit_count();
    let r = t
        .app
        .client
        .put(
            t.app
                .url(&format!("/api/v1/grid/cells/{}/members/disp", t.village)),
        )
        .bearer_auth(&admin)
        .json(&json!({"role": "grid_member"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 422, "role_not_held").await;
    assert_eq!(t.audit_count(), before);
    // A second grid version names the one it replaced.
    let grid = grid_data::demo_town().unwrap();
    let geojson: serde_json::Value =
        serde_json::from_str(&grid_data::grid_to_geojson(&grid)).unwrap();
    let r = t
        .app
        .post(
            "/api/v1/grid/import?source=second.geojson",
            &geojson,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), 201);
    let imports = records_of(&t, "import_grid");
    assert_eq!(imports.len(), 2);
    assert!(imports[1].1.contains("second.geojson"));
    assert!(
        imports[1].2.contains("\"current_version\":1"),
        "{}",
        imports[1].2
    );
    let verify: serde_json::Value = t
        .app
        .get("/api/v1/audit/verify", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verify["intact"], true, "{verify}");
    t.verify();
}

#[actix_web::test]
async fn an_admin_exports_and_imports_categories_as_a_file_and_a_bad_file_stores_nothing() {
    let t = Town::new().await;
    let admin = t.tokens["admin1"].clone();
    let import = |text: String, token: String| {
        t.app
            .client
            .post(t.app.url("/api/v1/categories/import"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(text)
            .send()
    };
    // Only an admin exports; the file is the list as the API shows it.
    let resp = t
        .app
        .get("/api/v1/categories/export", Some(&t.tokens["disp"]))
        .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = t.app.get("/api/v1/categories/export", Some(&admin)).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("categories.json"));
    let file: serde_json::Value = resp.json().await.unwrap();
    let listed: serde_json::Value = t
        .app
        .get("/api/v1/categories", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(file, listed);
    // Imported back unchanged: nothing changes, one record says so.
    let before = t.audit_count();
    let resp = import(file.to_string(), admin.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let s: serde_json::Value = resp.json().await.unwrap();
    let n = file.as_array().unwrap().len();
    assert!(n >= 3, "the standard set and the town's own: {n}");
    assert_eq!(s["unchanged"], n, "{s}");
    assert_eq!(
        (s["created"].clone(), s["changed"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(t.audit_count(), before + 1);
    // One good change, one new row and two bad rows: every problem listed, nothing stored.
    let mut rows = file.as_array().unwrap().clone();
    rows[0]["name"] = json!("改过的名称");
    rows.push(json!({"code": "9901", "name": "新类别", "domain": "城市管理", "handling": "2wd",
        "simple_procedure": false, "penalty_possible": false, "legal_basis": "依据", "active": true}));
    rows.push(json!({"code": "99X1", "name": "坏编码", "domain": "城市管理", "handling": "2wd",
        "simple_procedure": false, "penalty_possible": false, "legal_basis": "依据", "active": true}));
    rows.push(json!({"code": "9902", "name": "坏时限", "domain": "城市管理", "handling": "soon",
        "simple_procedure": false, "penalty_possible": false, "legal_basis": "依据", "active": true}));
    rows.push(json!({"code": "9901", "name": "重复", "domain": "城市管理", "handling": "1wd",
        "simple_procedure": false, "penalty_possible": false, "legal_basis": "依据", "active": true}));
    rows.push(json!({"code": "9903", "name": "缺字段"}));
    let before = t.audit_count();
    let resp = import(json!(rows).to_string(), admin.clone())
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_category_file");
    let problems = body["error"]["problems"].as_array().unwrap();
    let bad_rows: Vec<u64> = problems
        .iter()
        .map(|p| p["row"].as_u64().unwrap())
        .collect();
    let n64 = n as u64;
    assert_eq!(bad_rows, vec![n64 + 2, n64 + 3, n64 + 4, n64 + 5], "{body}");
    assert_eq!(t.audit_count(), before, "nothing written");
    let now: serde_json::Value = t
        .app
        .get("/api/v1/categories", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now, listed, "nothing stored from a bad file");
    // Not JSON, an empty list, or from a non-admin: refused.
    for text in ["code,name\n0101,x", "[]"] {
        let resp = import(text.into(), admin.clone()).await.unwrap();
        assert_error(resp, 422, "invalid_category_file").await;
    }
    let resp = import(file.to_string(), t.tokens["disp"].clone())
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    // The good rows alone: one changed, one created, recorded with before and after.
    rows.truncate(n + 1);
    let resp = import(json!(rows).to_string(), admin.clone())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let s: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        (
            s["created"].clone(),
            s["changed"].clone(),
            s["unchanged"].clone()
        ),
        (json!(1), json!(1), json!(n - 1)),
        "{s}"
    );
    let mut conn = t.app.state.pool.get().unwrap();
    let last = griddispatch::store::audit::last(&mut conn)
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!(last.command, "import_categories");
    assert_eq!(last.actor_id, t.id("admin1"));
    assert!(last.after.contains("改过的名称") && last.after.contains("新类别"));
    assert!(!last.before.contains("改过的名称") && !last.before.contains("新类别"));
    assert!(last.before.contains(file[0]["name"].as_str().unwrap()));
    t.verify();
}
