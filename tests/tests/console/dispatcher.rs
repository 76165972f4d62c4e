//! The dispatcher's day: live intake, phone and hotline reports, refusals, merging, sign-in
//! kept across reloads, role-aware menus.

use griddispatch_e2e::town::PASSWORD;

use crate::{hotline_report, phone_report, setup, uuid};

#[test]
fn dispatcher_sees_a_phone_report_appear_live_and_dispatches_it_with_the_suggested_squad() {
    let Some((town, browser)) = setup("dispatcher_sees_a_phone_report_appear_live") else {
        return;
    };
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/intake", town.base()));
    browser.wait_for_text(".gd-report-table", "待受理");
    browser.wait_for_text("#live-indicator", "实时");

    // The page is open and not reloaded; a phone files a report.
    let description = format!("手机上报：道路积水（{}）", &uuid()[24..]);
    let report = phone_report(&town, &description);
    browser
        .wait_for_text(".gd-report-table .gd-desc", &description)
        .click();

    // The detail: its photo, its state, and the dispatch with the suggested squad.
    browser.wait_for_text("#report-description", &description);
    browser.wait_for(".gd-evidence img");
    browser.wait_for_text("#report-status", "待受理");
    // Who reported it, by name (the demo grid member).
    browser.wait_for_text(".gd-report", "网格员 张明");
    browser.click_button("受理并派遣");
    let suggested = browser.wait_for(".gd-squad-option.is-checked");
    assert!(suggested.text().contains("建议"), "{}", suggested.text());
    let squad_name = suggested.find_all("b")[0].text();
    browser.wait_for("#dispatch-confirm").click();

    browser.wait_for_text("#task-status", "待签收");
    browser.wait_for_text("#task-squad", &squad_name);
    browser.wait_for_text("#report-status", "已受理");
    // What the server holds: the squad the routing suggested first.
    let routing = town.get("dispatcher", &format!("/api/v1/reports/{report}/routing"));
    let detail = town.report(&report).unwrap();
    assert_eq!(detail["task"]["squad_id"], routing[0]["squad_id"]);
    assert_eq!(routing[0]["name"], squad_name.as_str());
}

#[test]
fn a_refused_action_shows_the_server_message() {
    let Some((town, browser)) = setup("a_refused_action_shows_the_server_message") else {
        return;
    };
    let description = format!("夜间施工噪音扰民（{}）", &uuid()[24..]);
    let report = hotline_report(&town, "0601", &description);
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("#report-description", &description);

    // Rejecting without a reason: the server refuses and says why.
    browser.click_button("不予受理");
    browser.wait_for(".el-message-box");
    browser
        .wait_for_text(".el-message-box button", "确定")
        .click();
    browser.wait_for_text(".el-message--error", "不予受理理由不能为空");
    browser.wait_for_text("#report-status", "待受理");
    assert_eq!(
        town.report(&report).unwrap()["report"]["status"],
        "reported"
    );
}

#[test]
fn a_reload_keeps_the_user_signed_in_even_when_the_access_token_has_expired() {
    let Some((town, browser)) = setup("a_reload_keeps_the_user_signed_in") else {
        return;
    };
    browser.sign_in(&town.base(), "duty_chief", PASSWORD);
    browser.wait_for_text("#current-user", "赵刚");
    // An access token the server no longer accepts: the console refreshes with the refresh token.
    browser.execute(
        "const s = JSON.parse(localStorage.getItem('gd.session')); \
         s.access_token = 'expired.' + s.access_token; \
         localStorage.setItem('gd.session', JSON.stringify(s));",
        vec![],
    );
    browser.goto(&format!("{}/#/workbench", town.base()));
    browser.wait_for_text("#current-user", "赵刚");
    browser.wait_for_text(".gd-workbench", "我的待办");
    assert!(browser.all("#login-submit").is_empty());
    // Signing out ends it: a reload shows the sign-in form.
    browser.wait_for("#logout").click();
    browser.wait_for("#login-submit");
    browser.goto(&format!("{}/", town.base()));
    browser.wait_for("#login-submit");
}

#[test]
fn each_role_sees_only_the_screens_it_works_on() {
    let Some((town, browser)) = setup("each_role_sees_only_the_screens_it_works_on") else {
        return;
    };
    let menu = |user: &str| {
        browser.sign_in(&town.base(), user, PASSWORD);
        let items: Vec<String> = browser
            .all(".gd-menu .el-menu-item")
            .iter()
            .map(|e| e.text())
            .collect();
        browser.wait_for("#logout").click();
        browser.wait_for("#login-submit");
        items.join(" | ")
    };
    let dispatcher = menu("dispatcher");
    for screen in [
        "工作台",
        "线索受理",
        "来电登记",
        "一张图",
        "核查结案",
        "综合评价",
    ] {
        assert!(dispatcher.contains(screen), "dispatcher: {dispatcher}");
    }
    for screen in ["中队任务", "系统管理", "案件办理"] {
        assert!(!dispatcher.contains(screen), "dispatcher: {dispatcher}");
    }
    let squad = menu("squad_leader");
    assert!(squad.contains("中队任务"), "squad leader: {squad}");
    assert!(!squad.contains("来电登记"), "squad leader: {squad}");
    let admin = menu("admin");
    assert!(admin.contains("系统管理"), "admin: {admin}");
    assert!(!admin.contains("来电登记"), "admin: {admin}");
    // A grid member works in the field app: the console says so.
    browser.sign_in(&town.base(), "grid_member", PASSWORD);
    browser.wait_for_page_text("请使用移动端");
}

#[test]
fn dispatcher_files_a_phone_report_with_the_position_picked_on_the_map() {
    let Some((town, browser)) = setup("dispatcher_files_a_phone_report_with_the_position_picked")
    else {
        return;
    };
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/hotline", town.base()));
    browser.wait_for(".gd-hotline .el-select").click();
    browser
        .wait_for_text(".el-select-dropdown__item", "0101")
        .click();
    let description = format!("来电反映：小区门口垃圾满溢（{}）", &uuid()[24..]);
    browser
        .wait_for("textarea#hotline-description, #hotline-description textarea")
        .send_keys(&description);
    browser
        .wait_for("input#hotline-name, #hotline-name input")
        .send_keys("李女士");
    browser
        .wait_for("input#hotline-phone, #hotline-phone input")
        .send_keys("13900000000");
    // The map shows the town: a click in its middle lands in one of its villages.
    browser.wait_for(".gd-map-pick .leaflet-control-layers");
    browser.wait_for(".gd-map-pick").click();
    browser.wait_for_text("#hotline-cell", "所在网格");
    browser.wait_for("#hotline-submit").click();

    browser.wait_for_text("#report-description", &description);
    browser.wait_for_text("#report-status", "待受理");
    browser.wait_for_text(".gd-report", "李女士");
    let page = town.get(
        "dispatcher",
        "/api/v1/reports?source=hotline&status=reported&per_page=200",
    );
    let mine = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["report"])
        .find(|r| r["description"] == description.as_str())
        .expect("the report was filed")
        .clone();
    assert!(mine["cell"]["village"].is_string(), "{mine}");
    assert_eq!(mine["contact"]["phone"], "13900000000");
}

#[test]
fn dispatcher_merges_a_duplicate_into_the_open_report_nearby() {
    let Some((town, browser)) = setup("dispatcher_merges_a_duplicate") else {
        return;
    };
    let tag = &uuid()[24..];
    let first = hotline_report(&town, "0102", &format!("路面油污一片（{tag}）"));
    let second = hotline_report(
        &town,
        "0102",
        &format!("同一处路面油污，又一位市民来电（{tag}）"),
    );
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/report/{second}", town.base()));
    browser.wait_for_text("#report-description", "又一位市民来电");
    browser.click_button("合并");
    browser
        .wait_for_text(
            ".gd-merge-candidates .el-table__row",
            &format!("路面油污一片（{tag}）"),
        )
        .click();
    browser.wait_for("#merge-confirm").click();
    browser.wait_for_text("#report-status", "已合并");
    let merged = town.report(&second).unwrap();
    assert_eq!(merged["report"]["status"], "merged");
    assert_eq!(merged["report"]["merged_into"], first.as_str());
}

#[test]
fn without_the_live_stream_the_intake_queue_still_updates_by_polling() {
    let Some((town, browser)) = setup("without_the_live_stream_the_queue_polls") else {
        return;
    };
    // Between this browser and the server, every attempt at the event stream is cut (a proxy
    // that buffers or drops long responses).
    for _ in 0..200 {
        town.proxy.fail(
            "GET",
            "/api/v1/events",
            0,
            griddispatch_e2e::faults::Fault::CutRequest(0),
        );
    }
    let base = town.phone_url();
    browser.sign_in(&base, "dispatcher", PASSWORD);
    browser.goto(&format!("{base}/#/intake"));
    browser.wait_for_text("#live-indicator", "轮询");
    browser.wait_for_text(".gd-report-table", "待受理");
    let description = format!("轮询也能看到的新线索（{}）", &uuid()[24..]);
    hotline_report(&town, "0601", &description);
    browser.wait_for_text(".gd-report-table .gd-desc", &description);
}

#[test]
fn dispatcher_files_a_call_by_address_and_places_it_before_dispatch() {
    let Some((town, browser)) = setup("dispatcher_files_a_call_by_address_and_places_it") else {
        return;
    };
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/hotline", town.base()));
    browser.wait_for(".gd-hotline .el-select").click();
    browser
        .wait_for_text(".el-select-dropdown__item", "0101")
        .click();
    let description = format!("来电只说地址：村委会东侧垃圾堆（{}）", &uuid()[24..]);
    browser
        .wait_for("textarea#hotline-description, #hotline-description textarea")
        .send_keys(&description);
    browser
        .wait_for("input#hotline-address, #hotline-address input")
        .send_keys("杨庄村村委会东侧");
    browser.wait_for("#hotline-submit").click();

    // Filed without a position: the report offers to place it, not to dispatch it.
    browser.wait_for_text("#report-description", &description);
    browser.wait_for_text(".gd-report", "杨庄村村委会东侧");
    assert!(browser
        .all("button")
        .iter()
        .all(|b| !b.text().contains("受理并派遣")));
    browser.click_button("定位 Place on the map");
    let here = town.here();
    browser
        .wait_for(".el-message-box textarea")
        .send_keys(&format!("{},{}", here.lat, here.lon));
    browser
        .wait_for_text(".el-message-box button", "确定")
        .click();
    browser.wait_for_text(".el-message--success", "已定位");
    // Placed: now it can be dispatched, and the server holds its cell.
    browser.wait_for_text("button", "受理并派遣");
    let page = town.get(
        "dispatcher",
        "/api/v1/reports?source=hotline&status=reported&per_page=200",
    );
    let mine = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["report"])
        .find(|r| r["description"] == description.as_str())
        .expect("the report was filed")
        .clone();
    assert!(mine["cell"]["village"].is_string(), "{mine}");
    assert_eq!(mine["address"], "杨庄村村委会东侧");
}
