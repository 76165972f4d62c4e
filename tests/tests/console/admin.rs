//! Administration: certificates, squads, categories, cell people, grid import, audit chain.

use griddispatch_e2e::town::PASSWORD;
use serde_json::json;

use crate::setup;

#[test]
fn an_admin_renews_an_expired_certificate() {
    let Some((town, browser)) = setup("an_admin_renews_an_expired_certificate") else {
        return;
    };
    let (status, v) = town.post(
        "admin",
        "/api/v1/users",
        &json!({"username": "old_cert", "display_name": "执法队员 周旧证", "password": PASSWORD,
                "roles": ["officer"], "certificate": {"number": "豫济执 0077", "valid_until": "2021-06-30"}}),
    );
    assert_eq!(status, 201, "{v}");
    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.goto(&format!("{}/#/admin", town.base()));
    let row = browser.wait_for_text(".gd-users .el-table__row", "周旧证");
    assert!(row.text().contains("已过期"), "{}", row.text());
    browser.wait_for("[data-renew='old_cert']").click();
    let number = browser.wait_for("input#renew-number, #renew-number input");
    number.replace_text("豫济执 0177");
    let until = browser.wait_for("input#renew-until, #renew-until input");
    until.click();
    until.send_keys("2031-06-30\u{E007}");
    browser.wait_for("#renew-save").click();
    browser.wait_for_text(".el-message--success", "已换证");
    let row = browser.wait_for_text(".gd-users .el-table__row", "豫济执 0177 · 2031-06-30");
    assert!(!row.text().contains("已过期"), "{}", row.text());
    let users = town.get("admin", "/api/v1/users");
    let u = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "old_cert")
        .unwrap()
        .clone();
    assert_eq!(u["certificate_valid"], true);
    assert_eq!(u["certificate"]["valid_until"], "2031-06-30");
}

#[test]
fn an_admin_imports_a_grid_with_an_error_and_sees_the_problem() {
    let Some((town, browser)) = setup("an_admin_imports_a_grid_with_an_error") else {
        return;
    };
    // The town's own grid with one village ring left open.
    let mut grid = town.get("admin", "/api/v1/grid");
    let features = grid["features"].as_array_mut().unwrap();
    let village = features
        .iter_mut()
        .find(|f| f["properties"]["level"] == "village")
        .unwrap();
    let code = village["properties"]["code"].as_str().unwrap().to_owned();
    let geometry = &mut village["geometry"];
    let ring = if geometry["type"] == "Polygon" {
        &mut geometry["coordinates"][0]
    } else {
        &mut geometry["coordinates"][0][0]
    };
    ring.as_array_mut().unwrap().pop();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("town-broken.geojson");
    std::fs::write(&file, serde_json::to_vec(&grid).unwrap()).unwrap();
    let before = town.get("admin", "/api/v1/grid/versions");

    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.goto(&format!("{}/#/admin", town.base()));
    browser.wait_for_text(".el-tabs__item", "网格导入").click();
    browser
        .wait_for("#grid-file")
        .send_keys(file.to_str().unwrap());
    browser.wait_for("#grid-upload").click();
    browser.wait_for_text("#grid-error", "网格数据无效");
    let row = browser.wait_for_text(".gd-problems .el-table__row", &code);
    assert!(row.text().contains("unclosed_ring"), "{}", row.text());
    // Nothing was imported.
    assert_eq!(town.get("admin", "/api/v1/grid/versions"), before);
}

#[test]
fn an_admin_checks_the_audit_chain() {
    let Some((town, browser)) = setup("an_admin_checks_the_audit_chain") else {
        return;
    };
    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.goto(&format!("{}/#/admin", town.base()));
    browser.wait_for_text(".el-tabs__item", "审计链").click();
    browser.wait_for("#audit-verify").click();
    // The demo's reports were made through the command path: every record checks out.
    let result = browser.wait_for_text("#audit-result", "审计链完整");
    assert!(!result.text().contains("已核对 0 条"), "{}", result.text());
}

#[test]
fn an_admin_adds_an_officer_to_a_squad_creates_a_squad_and_changes_a_categorys_deadline() {
    let Some((town, browser)) = setup("an_admin_adds_an_officer_and_changes_a_deadline") else {
        return;
    };
    let (status, v) = town.post(
        "admin",
        "/api/v1/users",
        &json!({"username": "new_officer", "display_name": "执法队员 吴新", "password": PASSWORD,
                "roles": ["officer"], "certificate": {"number": "豫济执 0200", "valid_until": "2031-12-31"}}),
    );
    assert_eq!(status, 201, "{v}");
    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.goto(&format!("{}/#/admin", town.base()));

    browser.wait_for_text(".el-tabs__item", "中队").click();
    browser.wait_for_text(".gd-squad-members", "刘洋");
    browser
        .wait_for(".gd-squads .gd-inline-add .el-select")
        .click();
    browser
        .wait_for_text(".el-select-dropdown__item", "new_officer")
        .click();
    browser.wait_for("#squad-add").click();
    browser.wait_for_text(".gd-squad-members", "吴新");
    let members = town.get("admin", "/api/v1/squads/squad1/members");
    assert!(
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["username"] == "new_officer"),
        "{members}"
    );

    // A new squad, made current once created.
    browser.wait_for("#squad-new").click();
    browser
        .wait_for("input#squad-code, #squad-code input")
        .send_keys("squad5");
    browser
        .wait_for("input#squad-name, #squad-name input")
        .send_keys("五中队");
    browser
        .wait_for("input#squad-domain, #squad-domain input")
        .send_keys("综合执法");
    browser.wait_for("#squad-create").click();
    browser.wait_for_text(".el-message--success", "已创建");
    let squads = town.get("admin", "/api/v1/squads");
    assert!(
        squads
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "squad5" && s["name"] == "五中队"),
        "{squads}"
    );

    browser.wait_for_text(".el-tabs__item", "事件类别").click();
    browser.wait_for("[data-edit-category='0101']").click();
    let handling = browser.wait_for("input#category-handling, #category-handling input");
    handling.replace_text("2wd");
    browser.wait_for("#category-save").click();
    browser.wait_for_text(".el-message--success", "已保存");
    browser.wait_for_text(".gd-category-table .el-table__row", "2wd");
    let cats = town.get("admin", "/api/v1/categories");
    let c = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "0101")
        .unwrap()
        .clone();
    assert_eq!(c["handling"], "2wd");
}

#[test]
fn an_admin_assigns_a_grid_member_to_a_village() {
    let Some((town, browser)) = setup("an_admin_assigns_a_grid_member_to_a_village") else {
        return;
    };
    let (status, v) = town.post(
        "admin",
        "/api/v1/users",
        &json!({"username": "gm_new", "display_name": "网格员 郑新", "password": PASSWORD,
                "roles": ["grid_member"]}),
    );
    assert_eq!(status, 201, "{v}");
    let grid = town.get("admin", "/api/v1/grid?level=village");
    let village = grid["features"][0]["properties"]["code"]
        .as_str()
        .unwrap()
        .to_owned();

    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.goto(&format!("{}/#/admin", town.base()));
    browser.wait_for_text(".el-tabs__item", "网格人员").click();
    browser.wait_for(".gd-cell-people .el-select").click();
    browser
        .wait_for_text(".el-select-dropdown__item", &village)
        .click();
    browser.wait_for(".gd-cell-members");
    browser
        .wait_for(".gd-cell-people .gd-inline-add .el-select")
        .click();
    browser
        .wait_for_text(".el-select-dropdown__item", "gm_new")
        .click();
    browser.wait_for("#cell-add").click();
    browser.wait_for_text(".gd-cell-members", "郑新");
    let cell = town.get("admin", &format!("/api/v1/grid/cells/{village}"));
    assert!(
        cell["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["username"] == "gm_new" && m["role"] == "grid_member"),
        "{cell}"
    );
}

#[test]
fn an_admin_changes_roles_resets_a_password_and_creates_a_category() {
    let Some((town, browser)) = setup("an_admin_changes_roles_resets_a_password") else {
        return;
    };
    let (status, v) = town.post(
        "admin",
        "/api/v1/users",
        &json!({"username": "zhao.grid", "display_name": "网格员 赵敏", "password": PASSWORD,
                "roles": ["grid_member"]}),
    );
    assert_eq!(status, 201, "{v}");
    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.goto(&format!("{}/#/admin", town.base()));
    browser.wait_for_text(".gd-users .el-table__row", "赵敏");
    browser.wait_for("[data-roles='zhao.grid']").click();
    browser.wait_for("[data-role='grid_leader']").click();
    browser.wait_for("#roles-save").click();
    browser.wait_for_text(".el-message--success", "角色已更新");
    browser.wait_for_text(".gd-users .el-table__row", "网格长");
    let users = town.get("admin", "/api/v1/users");
    let u = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "zhao.grid")
        .unwrap()
        .clone();
    assert_eq!(u["roles"], json!(["grid_member", "grid_leader"]));

    // A too-short password is refused with the server's message; a good one is set.
    browser.wait_for("[data-password='zhao.grid']").click();
    let pw = browser.wait_for("input#reset-password, #reset-password input");
    pw.send_keys("short");
    browser.wait_for("#reset-save").click();
    browser.wait_for(".el-message--error");
    pw.replace_text("zhao-new-2026");
    browser.wait_for("#reset-save").click();
    browser.wait_for_text(".el-message--success", "密码已重置");
    let (status, _) = town.post(
        "admin",
        "/api/v1/auth/login",
        &json!({"username": "zhao.grid", "password": "zhao-new-2026", "device_id": "phone-zhao"}),
    );
    assert_eq!(status, 200, "the new password signs in");

    // A new category, then its code cannot be taken twice from the form.
    browser.wait_for_text(".el-tabs__item", "事件类别").click();
    browser.wait_for("#category-new").click();
    browser
        .wait_for("input#category-code, #category-code input")
        .send_keys("0999");
    browser
        .wait_for("input#category-name, #category-name input")
        .send_keys("乱堆乱放建筑垃圾");
    browser
        .wait_for("input#category-domain, #category-domain input")
        .send_keys("市容环境卫生");
    browser
        .wait_for("input#category-handling, #category-handling input")
        .replace_text("3wd");
    browser.wait_for("#category-save").click();
    browser.wait_for_text(".el-message--success", "已保存");
    browser.wait_for_text(".gd-category-table .el-table__row", "乱堆乱放建筑垃圾");
    let cats = town.get("admin", "/api/v1/categories");
    let c = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "0999")
        .unwrap()
        .clone();
    assert_eq!(c["name"], "乱堆乱放建筑垃圾");
    assert_eq!(c["handling"], "3wd");
}
