//! The grid API: import and versions, locate, filters, cell people and squads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_error, TestApp};
use geo::InteriorPoint;
use grid_data::{demo_town, grid_to_geojson, CellLevel, Crs, Grid, GridIndex, Lookup};
use griddispatch_protocol::Role;
use serde_json::{json, Value};

async fn admin(app: &TestApp) -> String {
    app.user("admin", &[Role::Admin]);
    app.login("admin", "console").await.access_token
}

async fn import_text(app: &TestApp, token: &str, text: String, query: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/grid/import{query}")))
        .bearer_auth(token)
        .header("content-type", "application/geo+json")
        .body(text)
        .send()
        .await
        .unwrap()
}

async fn import_demo(app: &TestApp, token: &str) -> Value {
    let resp = import_text(app, token, grid_to_geojson(&demo_town().unwrap()), "").await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

async fn locate(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/grid/locate?{query}"), Some(token))
        .await
}

fn first_village(grid: &Grid) -> &grid_data::Cell {
    grid.level(CellLevel::Village).next().unwrap()
}

#[actix_web::test]
async fn locate_answers_inside_on_a_border_outside_and_in_gcj02() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let version = import_demo(&app, &token).await;
    assert_eq!(version["version"], 1);
    assert_eq!(version["is_current"], true);
    let town = demo_town().unwrap();
    let index = GridIndex::new(&town).unwrap();

    // Inside a village.
    let village = first_village(&town);
    let p = village.geometry.interior_point().unwrap();
    let resp = locate(&app, &token, &format!("lat={}&lon={}", p.y(), p.x())).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "located");
    assert_eq!(body["version"], 1);
    assert_eq!(body["village"]["code"], village.code.as_str());
    assert_eq!(body["village"]["name"], village.name.as_str());
    assert_eq!(body["area"]["code"], village.parent.unwrap().as_str());
    assert_eq!(body["town"]["code"], "419001199");
    assert!(!body["town"]["name"].as_str().unwrap().is_empty());

    // On a border: a vertex of the village ring; the library's rule (lowest code) decides.
    let corner = village.geometry.0[0].exterior().0[0];
    let Lookup::Located(expected) = index.locate(corner.x, corner.y) else {
        panic!("a village vertex is in the grid")
    };
    let body: Value = locate(&app, &token, &format!("lat={}&lon={}", corner.y, corner.x))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["village"]["code"], expected.village.as_str());

    // Outside the town: nearest village and a distance.
    let body: Value = locate(&app, &token, "lat=35.0&lon=112.0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "outside_grid");
    assert!(body["nearest"]["code"]
        .as_str()
        .unwrap()
        .starts_with("419001199"));
    assert!(body["distance_m"].as_f64().unwrap() > 1000.0);
    assert!(body.get("village").is_none());

    // The same point as a phone with an Amap (GCJ-02) fix reports it.
    let (gx, gy) = Crs::Gcj02.from_wgs84(p.x(), p.y());
    let body: Value = locate(&app, &token, &format!("lat={gy}&lon={gx}&crs=gcj02"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["village"]["code"], village.code.as_str());
    assert!((body["lon"].as_f64().unwrap() - p.x()).abs() < 1e-8);
}

#[actix_web::test]
async fn bad_positions_are_invalid_query_and_no_grid_is_a_clear_error() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    assert_error(locate(&app, &token, "lat=35&lon=112").await, 409, "no_grid").await;
    import_demo(&app, &token).await;
    for q in [
        "lat=abc&lon=112",
        "lon=112",
        "lat=95&lon=112",
        "lat=35&lon=200",
        "lat=35&lon=112&crs=mars",
    ] {
        assert_error(locate(&app, &token, q).await, 400, "invalid_query").await;
    }
    assert_error(
        app.get("/api/v1/grid/locate?lat=35&lon=112", None).await,
        401,
        "missing_token",
    )
    .await;
}

#[actix_web::test]
async fn each_import_is_a_new_current_version_and_old_versions_are_kept() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    import_demo(&app, &token).await;
    let second = import_demo(&app, &token).await;
    assert_eq!(second["version"], 2);
    assert_eq!(second["cell_count"], 26);

    let versions: Value = app
        .get("/api/v1/grid/versions", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["is_current"], true);
    assert_eq!(versions[1]["is_current"], false);

    let old: Value = app
        .get("/api/v1/grid?version=1", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["grid_version"], 1);
    assert_eq!(old["features"].as_array().unwrap().len(), 26);
    let body: Value = locate(&app, &token, "lat=35.05&lon=112.5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["version"], 2);
    assert_error(
        app.get("/api/v1/grid?version=9", Some(&token)).await,
        404,
        "not_found",
    )
    .await;
}

#[actix_web::test]
async fn an_invalid_grid_is_rejected_whole_with_every_problem_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    import_demo(&app, &token).await;

    let mut broken: Value = serde_json::from_str(&grid_to_geojson(&demo_town().unwrap())).unwrap();
    let features = broken["features"].as_array_mut().unwrap();
    // An unclosed ring on one village, and a duplicate of another village's code.
    let ring = features[5]["geometry"]["coordinates"][0]
        .as_array_mut()
        .unwrap();
    ring.pop();
    let dup = features[6]["properties"]["code"].clone();
    features[7]["properties"]["code"] = dup;
    let resp = import_text(&app, &token, broken.to_string(), "").await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_grid");
    let kinds: Vec<&str> = body["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"unclosed_ring"), "{kinds:?}");
    assert!(kinds.contains(&"duplicate_code"), "{kinds:?}");
    assert!(body["error"]["problems"][0]["message"].is_string());

    let resp = import_text(&app, &token, "{not json".into(), "").await;
    assert_eq!(resp.status(), 422);

    let versions: Value = app
        .get("/api/v1/grid/versions", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    let body: Value = locate(&app, &token, "lat=35.05&lon=112.5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["version"], 1);
}

#[actix_web::test]
async fn only_admins_import_and_large_files_pass_the_json_limit() {
    // A 4 KiB JSON limit: the demo town (~40 KB) still imports through its own limit.
    let app = TestApp::spawn_with(|c| c.max_json_bytes = 4096).await;
    app.user("dispatcher", &[Role::Dispatcher]);
    let dispatcher = app.login("dispatcher", "d").await.access_token;
    let text = grid_to_geojson(&demo_town().unwrap());
    assert!(text.len() > 4096);
    assert_error(
        import_text(&app, &dispatcher, text.clone(), "").await,
        403,
        "forbidden",
    )
    .await;
    let token = admin(&app).await;
    let resp = import_text(&app, &token, text, "?source=survey-2026.geojson").await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["source"], "survey-2026.geojson");
}

#[actix_web::test]
async fn a_file_with_several_towns_imports_as_one_version() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let grids = grid_data::generate_region(&grid_data::RegionConfig::with_villages(5, 40)).unwrap();
    let grids: Vec<Grid> = if grids.len() > 1 {
        grids
    } else {
        grid_data::generate_region(&grid_data::RegionConfig {
            towns: 2,
            ..grid_data::RegionConfig::with_villages(5, 40)
        })
        .unwrap()
    };
    let mut all: Value = serde_json::from_str(&grid_to_geojson(&grids[0])).unwrap();
    for g in &grids[1..] {
        let more: Value = serde_json::from_str(&grid_to_geojson(g)).unwrap();
        let extra = more["features"].as_array().unwrap().clone();
        all["features"].as_array_mut().unwrap().extend(extra);
    }
    let resp = import_text(&app, &token, all.to_string(), "").await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["town_count"], grids.len());
    for g in &grids {
        let p = first_village(g).geometry.interior_point().unwrap();
        let body: Value = locate(&app, &token, &format!("lat={}&lon={}", p.y(), p.x()))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["town"]["code"], g.town().code.as_str());
    }
}

/// Several generated towns in one FeatureCollection.
fn region_text(grids: &[Grid]) -> Value {
    let mut all: Value = serde_json::from_str(&grid_to_geojson(&grids[0])).unwrap();
    for g in &grids[1..] {
        let more: Value = serde_json::from_str(&grid_to_geojson(g)).unwrap();
        let extra = more["features"].as_array().unwrap().clone();
        all["features"].as_array_mut().unwrap().extend(extra);
    }
    all
}

#[actix_web::test]
async fn a_streamed_region_whose_last_town_is_broken_writes_nothing_and_reports_every_problem() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    import_demo(&app, &token).await;
    let grids = grid_data::generate_region(&grid_data::RegionConfig {
        towns: 3,
        ..grid_data::RegionConfig::with_villages(5, 60)
    })
    .unwrap();
    assert!(grids.len() >= 2);
    let mut all = region_text(&grids);
    let features = all["features"].as_array_mut().unwrap();
    // The first towns are valid and would be written first; the last one has an unclosed ring
    // on its last feature, and one feature belongs to no town of the file.
    let last = features.len() - 1;
    features[last]["geometry"]["coordinates"][0]
        .as_array_mut()
        .unwrap()
        .pop();
    let mut stray = features[last - 1].clone();
    stray["properties"]["code"] = json!("419001188201");
    features.push(stray);
    let resp = import_text(&app, &token, all.to_string(), "").await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let problems = body["error"]["problems"].as_array().unwrap();
    let at = |kind: &str| {
        problems
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {problems:?}"))["feature_index"]
            .clone()
    };
    assert_eq!(at("unclosed_ring"), json!(last), "index in the whole file");
    assert_eq!(at("code_prefix_mismatch"), json!(last + 1));
    // Nothing of the valid towns was kept: version 1 (the demo) is still the only one.
    let versions: Value = app
        .get("/api/v1/grid/versions", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
    let p = first_village(&grids[0]).geometry.interior_point().unwrap();
    let resp = locate(&app, &token, &format!("lat={}&lon={}", p.y(), p.x())).await;
    let body: Value = resp.json().await.unwrap();
    assert_ne!(
        body["town"]["code"],
        grids[0].town().code.as_str(),
        "{body}"
    );
}

#[actix_web::test]
async fn the_grid_is_filtered_by_level_and_parent() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    assert_error(app.get("/api/v1/grid", Some(&token)).await, 409, "no_grid").await;
    import_demo(&app, &token).await;
    let count = |v: &Value| v["features"].as_array().unwrap().len();
    let all: Value = app
        .get("/api/v1/grid", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(&all), 26);
    let areas: Value = app
        .get("/api/v1/grid?level=area", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(&areas), 4);
    let area = areas["features"][0]["properties"]["code"].as_str().unwrap();
    let children: Value = app
        .get(&format!("/api/v1/grid?parent={area}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(count(&children) >= 5);
    assert!(children["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["properties"]["parent"] == area && f["properties"]["level"] == "village"));
    assert_error(
        app.get("/api/v1/grid?level=county", Some(&token)).await,
        400,
        "invalid_query",
    )
    .await;
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

#[actix_web::test]
async fn admins_attach_grid_members_and_leaders_to_cells() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    import_demo(&app, &token).await;
    app.user("zhang", &[Role::GridMember]);
    app.user("lihong", &[Role::GridLeader]);
    let town = demo_town().unwrap();
    let village = first_village(&town).code.as_str().to_owned();
    let put = reqwest::Method::PUT;
    let path = format!("/api/v1/grid/cells/{village}/members/zhang");

    let resp = send(
        &app,
        put.clone(),
        &path,
        &token,
        Some(json!({"role": "grid_member"})),
    )
    .await;
    assert_eq!(resp.status(), 200);
    // li holds grid_leader, not grid_member.
    let li = format!("/api/v1/grid/cells/{village}/members/lihong");
    let resp = send(
        &app,
        put.clone(),
        &li,
        &token,
        Some(json!({"role": "grid_member"})),
    )
    .await;
    assert_error(resp, 422, "role_not_held").await;
    let resp = send(
        &app,
        put.clone(),
        &li,
        &token,
        Some(json!({"role": "grid_leader"})),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp = send(
        &app,
        put.clone(),
        "/api/v1/grid/cells/419001199399/members/zhang",
        &token,
        Some(json!({"role": "grid_member"})),
    )
    .await;
    assert_error(resp, 404, "not_found").await;
    let zhang = app.login("zhang", "phone").await.access_token;
    let resp = send(
        &app,
        put.clone(),
        &path,
        &zhang,
        Some(json!({"role": "grid_member"})),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;

    let cell: Value = app
        .get(&format!("/api/v1/grid/cells/{village}"), Some(&zhang))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cell["level"], "village");
    assert_eq!(cell["parent"]["code"].as_str().unwrap().len(), 12);
    let members: Vec<(&str, &str)> = cell["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        members,
        vec![("lihong", "grid_leader"), ("zhang", "grid_member")]
    );

    let resp = send(&app, reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(resp.status(), 204);
    let resp = send(&app, reqwest::Method::DELETE, &path, &token, None).await;
    assert_error(resp, 404, "not_found").await;
}

#[actix_web::test]
async fn admins_create_squads_responsible_for_cells() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    import_demo(&app, &token).await;
    let new = json!({"code": "squad1", "name": "一中队", "domain": "自然资源和城市管理", "cells": ["419001199"]});
    let resp = app.post("/api/v1/squads", &new, Some(&token)).await;
    assert_eq!(resp.status(), 201);
    let squad: Value = resp.json().await.unwrap();
    assert_eq!(squad["cells"], json!(["419001199"]));
    assert_error(
        app.post("/api/v1/squads", &new, Some(&token)).await,
        409,
        "squad_code_taken",
    )
    .await;
    let empty = json!({"code": "s2", "name": " ", "domain": "应急管理"});
    assert_error(
        app.post("/api/v1/squads", &empty, Some(&token)).await,
        422,
        "invalid_field",
    )
    .await;

    let area = "419001199A01";
    let resp = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/squads/squad1/cells/{area}"),
        &token,
        None,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/squads/squad1/cells/419001199A77",
        &token,
        None,
    )
    .await;
    assert_error(resp, 404, "not_found").await;
    let list: Value = app
        .get("/api/v1/squads", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["cells"], json!(["419001199", area]));
    let cell: Value = app
        .get(&format!("/api/v1/grid/cells/{area}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cell["squads"][0]["code"], "squad1");
    let resp = send(
        &app,
        reqwest::Method::DELETE,
        &format!(
            "/api/v1/squads/{}/cells/{area}",
            squad["id"].as_str().unwrap()
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(resp.status(), 200);

    app.user("officer", &[Role::Officer]);
    let officer = app.login("officer", "o").await.access_token;
    assert_error(
        app.post("/api/v1/squads", &new, Some(&officer)).await,
        403,
        "forbidden",
    )
    .await;
}

#[actix_web::test]
async fn demo_loads_the_town_squads_and_grid_people_once() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.state.pool.get().unwrap();
        griddispatch::demo::load(&mut conn, griddispatch::db::now()).unwrap();
        let loaded = griddispatch::demo_grid::load(&mut conn, griddispatch::db::now()).unwrap();
        assert_eq!(loaded.imported_version, Some(1));
        assert_eq!(loaded.grid_members.len(), 21);
        let again = griddispatch::demo_grid::load(&mut conn, griddispatch::db::now()).unwrap();
        assert_eq!(again.imported_version, None, "idempotent");
        let snapshot = griddispatch::grid::load_current(&mut conn)
            .unwrap()
            .unwrap();
        griddispatch::grid::install(&app.state, snapshot);
    }
    let resp = app
        .try_login("admin", griddispatch::demo::DEMO_PASSWORD, "console")
        .await;
    let token = resp
        .json::<griddispatch_protocol::auth::TokenResponse>()
        .await
        .unwrap()
        .access_token;
    let squads: Value = app
        .get("/api/v1/squads", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = squads
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "自然资源和城市管理",
            "环境保护和安全管理",
            "市场监督管理",
            "应急管理"
        ]
    );
    let body: Value = locate(&app, &token, "lat=35.05&lon=112.5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "located");
    let village = body["village"]["code"].as_str().unwrap();
    let cell: Value = app
        .get(&format!("/api/v1/grid/cells/{village}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let gm = format!("gm_{}", &village[9..]);
    assert!(cell["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["username"] == gm.as_str()));
    assert_eq!(cell["members"][0]["role"], "grid_member");
}
