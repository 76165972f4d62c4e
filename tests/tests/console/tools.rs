//! Not checks: the screenshots of docs/screenshots and the console benchmark.

use griddispatch_e2e::town::PASSWORD;
use serde_json::json;

use crate::{dispatched_task, phone_report, setup, uuid};

/// Not a check: regenerates `docs/screenshots/*.png`, every screen on the demo data at
/// 1366×768, for the role guides. Needs a CJK font for the labels (Debian:
/// `fonts-wqy-microhei`). Run with
/// `cargo test -p griddispatch-e2e --test console -- --ignored regenerate_screenshots`.
#[test]
#[ignore = "writes docs/screenshots; run on demand"]
fn regenerate_screenshots() {
    let Some((town, browser)) = setup("regenerate_screenshots") else {
        return;
    };
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let shot = |name: &str| {
        browser.wait_transitions_done();
        browser.screenshot(&out.join(format!("{name}.png")));
    };
    let base = town.base();
    let report = phone_report(&town, "手机上报：菜市场西口垃圾桶满溢（演示）");
    let (_, task) = dispatched_task(&town, "0301", "沿街商铺违规搭建雨棚（演示）");

    browser.goto(&format!("{base}/"));
    browser.wait_for("#login-submit");
    shot("login");

    browser.sign_in(&base, "dispatcher", PASSWORD);
    browser.wait_for_text(".gd-todo", "待受理");
    shot("dispatcher-workbench");
    browser.goto(&format!("{base}/#/intake"));
    browser.wait_for_text(".gd-report-table", "菜市场西口");
    shot("dispatcher-intake");
    browser.goto(&format!("{base}/#/report/{report}"));
    browser.wait_for(".gd-evidence img");
    browser.wait_for(".gd-map-detail .leaflet-control-layers");
    shot("dispatcher-report");
    browser.click_button("受理并派遣");
    browser.wait_for(".gd-squad-option.is-checked");
    shot("dispatcher-dispatch");
    browser.goto(&format!("{base}/#/hotline"));
    browser.wait_for(".gd-map-pick .leaflet-control-layers");
    shot("dispatcher-hotline");
    browser.goto(&format!("{base}/#/map"));
    browser.wait_for(".gd-map-full .leaflet-control-layers");
    shot("dispatcher-map");
    browser.goto(&format!("{base}/#/recheck"));
    browser.wait_for(".gd-recheck");
    shot("dispatcher-recheck");
    browser.goto(&format!("{base}/#/stats"));
    browser.wait_for("#stats-chart canvas");
    shot("statistics");
    browser.sign_out();

    browser.sign_in(&base, "squad_leader", PASSWORD);
    browser.goto(&format!("{base}/#/squad"));
    browser.wait_for(&format!("[data-accept='{task}']")).click();
    browser.wait_for_text(".gd-officer", "刘洋");
    shot("squad-accept");
    browser
        .wait_for_text(".gd-accept-dialog button", "取消")
        .click();
    browser.wait_gone(".gd-accept-dialog", "刘洋");
    shot("squad-board");
    browser.sign_out();

    browser.sign_in(&base, "duty_chief", PASSWORD);
    browser.goto(&format!("{base}/#/duty"));
    browser.wait_for(".gd-duty");
    shot("duty-chief");
    browser.sign_out();

    // The demo's case waits with the legal office.
    browser.sign_in(&base, "legal_reviewer", PASSWORD);
    browser.goto(&format!("{base}/#/cases"));
    browser
        .wait_for_text(".el-radio-button", "法制审核 Legal review")
        .click();
    browser
        .wait_for_text(".gd-case-table .el-table__row", "演示")
        .click();
    browser.wait_for_text("#case-status", "法制审核");
    browser.wait_for("#case-documents");
    shot("legal-reviewer-case");
    browser.sign_out();

    browser.sign_in(&base, "approver", PASSWORD);
    browser.goto(&format!("{base}/#/cases"));
    browser.wait_for(".gd-case-table");
    shot("approver-cases");
    browser.sign_out();

    browser.sign_in(&base, "admin", PASSWORD);
    browser.goto(&format!("{base}/#/admin"));
    browser.wait_for_text(".gd-users", "squad_leader");
    shot("admin-accounts");
    browser.sign_out();

    // A report transferred to 县市场监督管理局, waiting in its liaison's inbox.
    let departments = town.get("admin", "/api/v1/departments");
    let market = departments
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "县市场监督管理局")
        .expect("the demo's market regulator")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = crate::hotline_report(&town, "0101", "无照经营熟食摊点（演示）");
    town.command(
        "dispatcher",
        json!({"type": "decide_transfer", "report_id": moved, "department_id": market,
               "reason": "无照经营食品，属市场监管部门职责"}),
    );
    town.command(
        "dispatcher",
        json!({"type": "send_transfer", "report_id": moved,
               "finding": "当事人未取得营业执照从事熟食经营", "evidence_list": "现场照片；询问笔录"}),
    );
    browser.sign_in(&base, "department_liaison", PASSWORD);
    browser.goto(&format!("{base}/#/inbox"));
    browser.wait_for_text(".gd-transfers .el-table__row", "无照经营熟食摊点");
    shot("liaison-inbox");
    browser.goto(&format!("{base}/#/meetings"));
    browser
        .wait_for_text(
            ".gd-meeting-list .el-table__row",
            "本月综合行政执法联席会议",
        )
        .click();
    browser.wait_for_text(".gd-topics", "校园周边食品摊贩联合整治");
    shot("liaison-meetings");
    browser.goto(&format!("{base}/#/sharing"));
    browser.wait_for(".gd-shared");
    shot("liaison-sharing");
    browser.sign_out();

    browser.sign_in(&base, "admin", PASSWORD);
    browser.goto(&format!("{base}/#/meetings"));
    browser
        .wait_for_text(
            ".gd-meeting-list .el-table__row",
            "上月综合行政执法联席会议",
        )
        .click();
    browser.wait_for_text(".gd-items", "沿街无照经营熟食摊点联合整治");
    shot("office-meeting-minutes");
    let (status, _) = town.post(
        "admin",
        "/api/v1/webhooks",
        &json!({"name": "市综合执法监管平台", "url": "https://supervision.example.gov.cn/hooks/griddispatch",
                "kinds": ["create_report", "decide_case"]}),
    );
    assert_eq!(status, 201);
    browser.goto(&format!("{base}/#/admin"));
    browser.wait_for_text(".el-tabs__item", "对接系统").click();
    browser.wait_for(".gd-webhook-list");
    shot("admin-webhooks");
}

/// Not a check: how long the console takes to become usable on the demo town with many open
/// reports (docs/benchmarks.md, "Console"). `CONSOLE_BENCH_REPORTS` (default 10000) hotline
/// reports are filed first. Run with
/// `cargo test --release -p griddispatch-e2e --test console -- --ignored --nocapture measure_console_load`.
#[test]
#[ignore = "a measurement; run on demand"]
fn measure_console_load() {
    let Some((town, browser)) = setup("measure_console_load") else {
        return;
    };
    let n: usize = std::env::var("CONSOLE_BENCH_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let here = town.here();
    let token = town.token("dispatcher");
    let http = reqwest::blocking::Client::new();
    let started = std::time::Instant::now();
    for i in 0..n {
        // Spread over ~1 km so that the map has something to cluster.
        let (dlat, dlon) = ((i % 100) as f64 * 0.0001, (i / 100 % 100) as f64 * 0.0001);
        let resp = http
            .post(format!("{}/api/v1/commands", town.base()))
            .bearer_auth(&token)
            .json(&json!({"command": {"type": "create_report", "report_id": uuid(), "source": "hotline",
                "category_code": "0601", "description": format!("压测线索 {i}"),
                "position": {"lat": here.lat + dlat, "lon": here.lon + dlon}}}))
            .send()
            .unwrap();
        assert!(resp.status().is_success());
    }
    let filed = started.elapsed();
    let timed = |what: &str, url: String, ready: &str| {
        let t = std::time::Instant::now();
        browser.goto(&url);
        browser.wait_for(ready);
        let took = t.elapsed();
        println!("{what}: {:.2} s", took.as_secs_f64());
        took
    };
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    let base = town.base();
    // A fresh load of the page each time (the vendored files come from the browser's cache).
    timed(
        "workbench (counts and to-do)",
        format!("{base}/?w#/workbench"),
        ".gd-todo .el-table__row",
    );
    timed(
        "intake queue, first page",
        format!("{base}/?i#/intake"),
        ".gd-report-table .el-table__row",
    );
    browser.goto(&format!("{base}/#/intake"));
    browser.wait_for(".gd-report-table .el-table__row");
    let t = std::time::Instant::now();
    browser.wait_for_text(".el-pager li", "5");
    browser.wait_for_text(".el-pager li", "5").click();
    browser.wait_for_text(".gd-report-table", &format!("压测线索 {}", n - 81));
    println!("intake queue, page 5: {:.2} s", t.elapsed().as_secs_f64());
    let open: u64 = ["reported", "needs_info", "accepted"]
        .iter()
        .map(|s| {
            town.get(
                "dispatcher",
                &format!("/api/v1/reports?status={s}&per_page=1"),
            )["total"]
                .as_u64()
                .unwrap()
        })
        .sum();
    let t = std::time::Instant::now();
    browser.goto(&format!("{base}/?m#/map"));
    browser.wait_for_text("#map-count", &format!("显示 {open} / {open}"));
    browser.wait_for(".marker-cluster");
    println!(
        "map with every open report ({open}) fetched and clustered: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    // The map's fetch alone, the way it was (pages of full report views per open state) and
    // the way it is (one pins answer), measured in the same run: 5 rounds, medians.
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    // A fresh token: signing the browser in replaced the dispatcher's earlier session.
    let token = town.token("dispatcher");
    let get = |path: &str| {
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{path}");
        let body: serde_json::Value = resp.json().unwrap();
        body
    };
    let (mut paged, mut pins) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let mut got = 0;
        for s in ["reported", "needs_info", "accepted"] {
            for page in 1.. {
                let p = get(&format!(
                    "/api/v1/reports?status={s}&page={page}&per_page=200"
                ));
                let items = p["items"].as_array().unwrap().len();
                got += items;
                if items < 200 {
                    break;
                }
            }
        }
        paged.push(t.elapsed().as_secs_f64());
        assert_eq!(got as u64, open);
        let t = std::time::Instant::now();
        let p = get("/api/v1/map/pins?open_only=true");
        assert_eq!(p["pins"].as_array().unwrap().len() as u64, open);
        pins.push(t.elapsed().as_secs_f64());
    }
    let (paged, pins) = (median(paged), median(pins));
    println!(
        "map fetch of {open} open reports: paged report views {paged:.2} s, one pins answer {pins:.2} s ({:.1}x)",
        paged / pins
    );
    println!(
        "{n} reports filed over REST in {:.1} s",
        filed.as_secs_f64()
    );
}
