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
