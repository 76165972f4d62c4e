//! The console: its files served from the binary, and the reads its screens need that no other
//! endpoint gave (the squad's officers by name, the approver's case queue, intake filters).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_error, TestApp};
use crate::workflow::{uuid, Town};
use serde_json::{json, Value};

#[actix_web::test]
async fn the_console_page_and_its_assets_are_served_with_types_and_caching() {
    let app = TestApp::spawn().await;
    let page = app.get("/", None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("指挥调度台"));
    assert!(html.contains("/console/vendor/vue/vue.global.prod.js"));
    assert!(
        !html.contains("https://"),
        "the page must not load anything from outside"
    );

    let js = app.get("/console/app.js", None).await;
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(js.headers()["cache-control"], "no-cache");
    let etag = js.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/console/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let css = app.get("/console/vendor/leaflet/leaflet.css", None).await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let png = app
        .get("/console/vendor/leaflet/images/marker-icon.png", None)
        .await;
    assert_eq!(png.headers()["content-type"], "image/png");
}

#[actix_web::test]
async fn unknown_console_files_and_the_vendoring_script_are_not_found() {
    let app = TestApp::spawn().await;
    assert_error(app.get("/console/nothing.js", None).await, 404, "not_found").await;
    assert_error(app.get("/console/vendor.sh", None).await, 404, "not_found").await;
}

async fn members(town: &Town, squad: &str, who: &str) -> reqwest::Response {
    town.app
        .get(
            &format!("/api/v1/squads/{squad}/members"),
            Some(&town.tokens[who]),
        )
        .await
}

#[actix_web::test]
async fn a_squad_leader_sees_the_officers_of_the_squad_by_name_with_their_certificates() {
    let town = Town::new().await;
    let resp = members(&town, &town.squad, "lead").await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["name"], "一中队");
    let list = v["members"].as_array().unwrap();
    let names: Vec<&str> = list
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for u in ["lead", "off1", "off2", "uncert"] {
        assert!(names.contains(&u), "{names:?}");
    }
    let by = |u: &str| list.iter().find(|m| m["username"] == u).unwrap().clone();
    assert_eq!(by("off1")["certificate_valid"], true);
    assert_eq!(by("off1")["certificate"]["number"], "O-1");
    // The expired certificate is there, judged invalid: the console shows why it is disabled.
    assert_eq!(by("uncert")["certificate_valid"], false);
    assert_eq!(by("uncert")["certificate"]["valid_until"], "2020-12-31");
    assert!(by("off2")["roles"]
        .as_array()
        .unwrap()
        .contains(&json!("officer")));
    // By code too, and for the dispatcher and duty chief.
    assert_eq!(members(&town, "SQ1", "disp").await.status(), 200);
    assert_eq!(members(&town, &town.squad, "chief").await.status(), 200);
}

#[actix_web::test]
async fn squad_members_are_not_shown_to_others() {
    let town = Town::new().await;
    // An officer is not a squad leader; a grid member is neither.
    assert_error(members(&town, &town.squad, "off1").await, 403, "forbidden").await;
    assert_error(members(&town, &town.squad, "gmx").await, 403, "forbidden").await;
    // A leader of another squad may not read this one.
    town.app
        .user("lead2", &[griddispatch_protocol::Role::SquadLeader]);
    let token = town.app.login("lead2", "dev").await.access_token;
    let resp = town
        .app
        .get(
            &format!("/api/v1/squads/{}/members", town.squad),
            Some(&token),
        )
        .await;
    assert_error(resp, 403, "out_of_scope").await;
    assert_error(
        members(&town, "no-such-squad", "disp").await,
        404,
        "not_found",
    )
    .await;
}

#[actix_web::test]
async fn the_approver_lists_proposed_cases_and_others_may_not() {
    let town = Town::new().await;
    let page: Value = town
        .app
        .get("/api/v1/cases?status=proposed", Some(&town.tokens["boss"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 0);
    assert_error(
        town.app
            .get("/api/v1/cases", Some(&town.tokens["gmx"]))
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[actix_web::test]
async fn reports_filter_by_source_and_sort_oldest_first() {
    let town = Town::new().await;
    let (lat, lon) = town.point;
    let mut ids = Vec::new();
    for (source, text) in [
        ("hotline", "热线一"),
        ("public_complaint", "举报二"),
        ("hotline", "热线三"),
    ] {
        let id = uuid();
        let resp = town
            .app
            .post(
                "/api/v1/commands",
                &json!({"command": {"type": "create_report", "report_id": id, "source": source,
                    "category_code": "0601", "description": text, "position": {"lat": lat, "lon": lon}}}),
                Some(&town.tokens["disp"]),
            )
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        ids.push(id);
    }
    let town = &town;
    let list = |q: &'static str| async move {
        let v: Value = town
            .app
            .get(&format!("/api/v1/reports?{q}"), Some(&town.tokens["disp"]))
            .await
            .json()
            .await
            .unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["report"]["description"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(list("source=hotline").await, ["热线三", "热线一"]);
    assert_eq!(
        list("source=hotline&sort=oldest").await,
        ["热线一", "热线三"]
    );
    assert_eq!(list("source=public_complaint").await, ["举报二"]);
    // None of them has a task, so none is overdue.
    assert!(list("overdue=true").await.is_empty());
}

#[actix_web::test]
async fn an_admin_renews_an_expired_certificate_and_the_squad_list_shows_it_valid() {
    let town = Town::new().await;
    let renew = |who: &'static str, body: Value| {
        let town = &town;
        async move {
            town.app
                .client
                .put(town.app.url("/api/v1/users/uncert/certificate"))
                .bearer_auth(&town.tokens[who])
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_error(
        renew(
            "lead",
            json!({"number": "O-9", "valid_until": "2099-12-31"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        renew(
            "admin1",
            json!({"number": " ", "valid_until": "2099-12-31"}),
        )
        .await,
        422,
        "invalid_certificate",
    )
    .await;
    let resp = renew(
        "admin1",
        json!({"number": "O-9-2026", "valid_until": "2099-12-31"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["certificate_valid"], true);
    assert_eq!(user["certificate"]["number"], "O-9-2026");
    // The squad's list shows it valid now.
    let v: Value = members(&town, &town.squad, "lead")
        .await
        .json()
        .await
        .unwrap();
    let uncert = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "uncert")
        .unwrap()
        .clone();
    assert_eq!(uncert["certificate_valid"], true);
}

#[actix_web::test]
async fn the_bell_marks_notifications_read_for_their_recipient_only() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    let task = t.dispatch(&r).await;
    // Accepted (so the acknowledgement clock stops), then overdue: the duty chief is told.
    t.to_on_site(&task).await;
    let due = t.stored_task(&task).due_at;
    t.sweep_at(
        due + chrono::Duration::minutes(1),
        griddispatch::workflow::deadlines::sweep,
    );
    let notes = |who: &'static str| {
        let t = &t;
        async move {
            let v: Value = t
                .app
                .get("/api/v1/me/notifications", Some(&t.tokens[who]))
                .await
                .json()
                .await
                .unwrap();
            v
        }
    };
    let before = notes("chief").await;
    assert_eq!(before.as_array().unwrap().len(), 1);
    assert!(before[0]["read_at"].is_null());
    let id = before[0]["id"].as_str().unwrap().to_owned();

    // Someone else's ids change nothing.
    let other: Value = t
        .app
        .post(
            "/api/v1/me/notifications/read",
            &json!({"ids": [id]}),
            Some(&t.tokens["disp"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["marked"], 0);
    assert!(notes("chief").await[0]["read_at"].is_null());

    let mine: Value = t
        .app
        .post(
            "/api/v1/me/notifications/read",
            &json!({"ids": [id]}),
            Some(&t.tokens["chief"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["marked"], 1);
    assert!(notes("chief").await[0]["read_at"].is_string());
    // Marking all again changes nothing more.
    let again: Value = t
        .app
        .post(
            "/api/v1/me/notifications/read",
            &json!({}),
            Some(&t.tokens["chief"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["marked"], 0);
}

#[actix_web::test]
async fn statistics_cover_the_chosen_period_only() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    t.dispatch(&r).await;
    let stats = |q: String| {
        let t = &t;
        async move {
            t.app
                .get(&format!("/api/v1/stats?{q}"), Some(&t.tokens["disp"]))
                .await
        }
    };
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let around = format!(
        "group_by=category&from={}&to={}",
        today - chrono::Duration::days(1),
        today
    );
    let rows: Value = stats(around).await.json().await.unwrap();
    assert_eq!(rows[0]["key"], "0401");
    assert_eq!(rows[0]["received"], 1);
    let long_ago: Value = stats("group_by=category&from=2001-01-01&to=2001-12-31".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(long_ago, json!([]));
    // A day that does not exist is the caller's mistake.
    assert_error(
        stats("group_by=category&from=2001-13-01".into()).await,
        400,
        "invalid_query",
    )
    .await;
}

#[actix_web::test]
async fn a_configured_tile_server_reaches_the_console_and_its_security_policy() {
    let plain = TestApp::spawn().await;
    let token = {
        plain.user("viewer", &[griddispatch_protocol::Role::Dispatcher]);
        plain.login("viewer", "dev").await.access_token
    };
    let none: Value = plain
        .get("/api/v1/console/settings", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["map_tiles"], Value::Null);

    let url =
        "http://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}";
    let app = TestApp::spawn_with(|c| {
        c.map_tile_url = Some(url.into());
        c.map_tile_subdomains = Some("01234567".into());
    })
    .await;
    app.user("viewer", &[griddispatch_protocol::Role::Dispatcher]);
    let token = app.login("viewer", "dev").await.access_token;
    let v: Value = app
        .get("/api/v1/console/settings", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["map_tiles"]["url"], url);
    assert_eq!(v["map_tiles"]["subdomains"], "01234567");
    let page = app.get("/", None).await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data: blob: http://*.tianditu.gov.cn;"),
        "{csp}"
    );
    assert_error(
        app.get("/api/v1/console/settings", None).await,
        401,
        "missing_token",
    )
    .await;
}

#[actix_web::test]
async fn a_report_names_the_people_its_record_mentions() {
    let t = Town::new().await;
    let r = t.report("0401").await;
    t.dispatch(&r).await;
    let detail = t.get(&format!("/api/v1/reports/{r}")).await;
    let reporter = detail["report"]["reporter_id"].as_str().unwrap();
    let people = detail["people"].as_object().unwrap();
    assert!(people[reporter].is_string(), "{detail}");
    for h in detail["history"].as_array().unwrap() {
        let actor = h["actor_id"].as_str().unwrap();
        assert!(people.contains_key(actor), "no name for {actor}");
    }
}

#[actix_web::test]
async fn an_admin_checks_the_audit_chain_and_sees_an_edited_record() {
    use diesel::prelude::*;
    use griddispatch::schema::audit_log;
    let t = Town::new().await;
    let r = t.report("0401").await;
    t.dispatch(&r).await;
    let verify = |who: &'static str| {
        let t = &t;
        async move {
            t.app
                .get("/api/v1/audit/verify", Some(&t.tokens[who]))
                .await
        }
    };
    assert_error(verify("disp").await, 403, "forbidden").await;
    let ok: Value = verify("admin1").await.json().await.unwrap();
    assert_eq!(ok["intact"], true, "{ok}");
    assert!(ok["checked"].as_i64().unwrap() >= 2, "{ok}");

    {
        let mut conn = t.app.state.pool.get().unwrap();
        diesel::update(audit_log::table.filter(audit_log::seq.eq(1)))
            .set(audit_log::after.eq("{\"report\":{\"status\":\"closed\"}}"))
            .execute(&mut conn)
            .unwrap();
    }
    let broken: Value = verify("admin1").await.json().await.unwrap();
    assert_eq!(broken["intact"], false);
    assert_eq!(broken["problems"][0]["seq"], 1, "{broken}");
    assert!(broken["problems"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("篡改"));
}

#[actix_web::test]
async fn the_most_urgent_reports_come_first() {
    let t = Town::new().await;
    let (lat, lon) = t.point;
    let mut ids = Vec::new();
    for text in ["最早", "其次", "最新"] {
        let id = uuid();
        let resp = t
            .app
            .post(
                "/api/v1/commands",
                &json!({"command": {"type": "create_report", "report_id": id, "source": "hotline",
                    "category_code": "0601", "description": text, "position": {"lat": lat, "lon": lon}}}),
                Some(&t.tokens["disp"]),
            )
            .await;
        assert_eq!(resp.status(), 200);
        ids.push(id);
    }
    // The oldest is dispatched: its clock is now its task's due time, days away.
    t.dispatch(&ids[0]).await;
    let v: Value = t
        .app
        .get(
            "/api/v1/reports?source=hotline&sort=urgent",
            Some(&t.tokens["disp"]),
        )
        .await
        .json()
        .await
        .unwrap();
    let order: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report"]["description"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["其次", "最新", "最早"]);
}

#[actix_web::test]
async fn the_map_gets_its_pins_in_one_answer_scoped_filtered_and_with_their_lights() {
    let t = Town::new().await;
    let waiting = t.report("0401").await;
    let running = t.report("0401").await;
    let rejected = t.report("0401").await;
    let task = t.dispatch(&running).await;
    t.ok(
        "disp",
        json!({"type": "reject_report", "report_id": rejected, "reason": "重复上报"}),
    )
    .await;
    // The deadline job warns about the running task (as it would near its due time).
    let due = t.stored_task(&task).due_at;
    let warned = t.sweep_at(
        due - chrono::Duration::minutes(30),
        griddispatch::workflow::deadlines::sweep,
    );
    assert!(warned >= 1, "the sweep raised the warning");
    let pins = |who: &'static str, query: &'static str| {
        let t = &t;
        async move {
            let resp = t
                .app
                .get(&format!("/api/v1/map/pins{query}"), Some(&t.tokens[who]))
                .await;
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let ids = |v: &Value| {
        let mut ids: Vec<String> = v["pins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    // Open reports only, by default; every pin with its place and light.
    let open = pins("disp", "").await;
    assert_eq!(ids(&open), sorted(vec![waiting.clone(), running.clone()]));
    assert_eq!(open["total"], 2);
    assert_eq!(open["truncated"], false);
    for p in open["pins"].as_array().unwrap() {
        assert!(p["lat"].is_f64() && p["lon"].is_f64(), "{p}");
        assert_eq!(p["category_code"], "0401");
        let want = if p["id"] == running.as_str() {
            "yellow"
        } else {
            "normal"
        };
        assert_eq!(p["level"], want, "{p}");
    }
    let all = pins("disp", "?open_only=false").await;
    assert_eq!(
        ids(&all),
        sorted(vec![waiting.clone(), running.clone(), rejected.clone()])
    );

    // Only what the map shows: a box around the town's point, and one far away.
    let (lat, lon) = t.point;
    let near = format!(
        "?bbox={},{},{},{}",
        lon - 0.01,
        lat - 0.01,
        lon + 0.01,
        lat + 0.01
    );
    let near: &'static str = Box::leak(near.into_boxed_str());
    assert_eq!(pins("disp", near).await["total"], 2);
    let far = pins("disp", "?bbox=100.0,20.0,100.1,20.1").await;
    assert_eq!(far["total"], 0);
    assert_eq!(far["pins"], json!([]));

    // Each reader gets the pins of the reports they may list, no more: the squad's officer
    // (their squad's cells) as in their report list; a grid member of no cell, none.
    let listed: Value = t
        .app
        .get("/api/v1/reports?per_page=200", Some(&t.tokens["off1"]))
        .await
        .json()
        .await
        .unwrap();
    let listed_open: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["report"]["status"] != "rejected")
        .map(|v| v["report"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(&pins("off1", "").await), sorted(listed_open));
    t.app
        .user("lonely", &[griddispatch_protocol::Role::GridMember]);
    let lonely = t.app.login("lonely", "phone").await.access_token;
    let none: Value = t
        .app
        .get("/api/v1/map/pins", Some(&lonely))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0, "{none}");

    // A malformed box is the caller's mistake.
    let bad = t
        .app
        .get("/api/v1/map/pins?bbox=1,2,3", Some(&t.tokens["disp"]))
        .await;
    assert_error(bad, 422, "invalid_query").await;
}
