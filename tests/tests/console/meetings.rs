//! The joint meeting book (联席会议) and information sharing in the console: the office schedules
//! and cancels a meeting, a department's liaison submits a topic, the chair puts it on the agenda
//! or declines another with a note, issues the minutes of a held meeting with a decided item, and
//! the owner unit's liaison reports on it and closes it; a liaison imports shared licences (a bad
//! file is refused whole) and the dispatcher sees the one next to a report on the report screen.

use griddispatch_e2e::town::PASSWORD;
use serde_json::json;

use crate::{hotline_report, setup, uuid};

const ENTER: &str = "\u{E007}";

fn in_an_hour_ago() -> String {
    (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn a_monthly_meeting_gets_topics_an_agenda_minutes_and_its_items_closed_by_the_owner() {
    let Some((town, browser)) =
        setup("a_monthly_meeting_gets_topics_an_agenda_minutes_and_its_items_closed_by_the_owner")
    else {
        return;
    };
    let market = town
        .get("admin", "/api/v1/departments")
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "县市场监督管理局")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A meeting held an hour ago, its minutes not yet issued (made over the API: the console
    // schedules only ahead).
    let held_title = format!("专题联席会议 {}", &uuid()[28..]);
    let (status, held) = town.post(
        "admin",
        "/api/v1/meetings",
        &json!({"title": held_title, "scheduled_at": in_an_hour_ago(), "place": "执法队会议室",
                "members": [market]}),
    );
    assert_eq!(status, 201, "{held}");

    // The office schedules next month's meeting with the proposed date, then cancels it.
    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.wait_for("[data-nav='meetings']").click();
    browser.wait_for_text(
        ".gd-meeting-list .el-table__row",
        "上月综合行政执法联席会议",
    );
    browser.wait_for("#meeting-new").click();
    browser.wait_for(".gd-meeting-members").click();
    browser
        .wait_for_text(".el-select-dropdown__item", "县市场监督管理局")
        .click();
    browser
        .wait_for("#meeting-place input, input#meeting-place")
        .send_keys("镇政府三楼会议室");
    browser.wait_for("#meeting-save").click();
    browser.wait_for_text(".el-message--success", "已安排");
    let card = browser.wait_for_text(".gd-meeting", "镇政府三楼会议室");
    assert!(card.text().contains("筹备中"), "{}", card.text());
    browser.wait_for("#meeting-cancel").click();
    browser
        .wait_for("#meeting-cancel-reason textarea, textarea#meeting-cancel-reason")
        .send_keys("与防汛工作冲突，顺延");
    browser.wait_for("#meeting-cancel-confirm").click();
    browser.wait_for_text(".gd-meeting-cancelled", "与防汛工作冲突");
    browser.sign_out();

    // The market regulator's liaison submits a topic to this month's meeting.
    browser.sign_in(&town.base(), "department_liaison", PASSWORD);
    browser.wait_for("[data-nav='meetings']").click();
    browser
        .wait_for_text(
            ".gd-meeting-list .el-table__row",
            "本月综合行政执法联席会议",
        )
        .click();
    browser.wait_for_text(".gd-topics", "校园周边食品摊贩联合整治");
    // It sees with whom it meets, though it cannot list the other departments.
    browser.wait_for_text(".gd-meeting", "某某派出所");
    browser
        .wait_for("#topic-title input, input#topic-title")
        .send_keys("农贸市场活禽销售检查");
    browser
        .wait_for("#topic-description input, input#topic-description")
        .send_keys("节前联合检查");
    browser.wait_for("#topic-submit").click();
    browser.wait_for_text(".el-message--success", "议题已提交");
    browser.wait_for_text(".gd-topics", "农贸市场活禽销售检查");
    // A liaison is not the chair: no buttons to decide.
    assert!(browser.all("[data-accept-topic]").is_empty());
    browser.sign_out();

    // The chair (the office) puts the new topic on the agenda and declines the other.
    browser.sign_in(&town.base(), "approver", PASSWORD);
    browser.wait_for("[data-nav='meetings']").click();
    browser
        .wait_for_text(
            ".gd-meeting-list .el-table__row",
            "本月综合行政执法联席会议",
        )
        .click();
    browser
        .wait_for("[data-accept-topic='农贸市场活禽销售检查']")
        .click();
    browser.wait_for_text(".el-message--success", "已列入议程");
    browser
        .wait_for("[data-decline-topic='校园周边食品摊贩联合整治']")
        .click();
    browser.wait_transitions_done();
    browser.wait_for("#topic-decline-confirm").click();
    browser.wait_for_text(".el-message", "不列入议程须说明理由");
    browser
        .wait_for(".el-message--error .el-message__closeBtn")
        .click();
    browser
        .wait_for("#topic-decline-note textarea, textarea#topic-decline-note")
        .send_keys("已列入区级专项行动");
    browser.wait_for("#topic-decline-confirm").click();
    browser.wait_for_text(".gd-topics", "已列入区级专项行动");
    browser.wait_for_text(".gd-topics", "列入议程 On the agenda");

    // Last month's overdue item is reported on this month's agenda.
    browser.wait_for_text(".gd-overdue-items", "沿街无照经营熟食摊点联合整治");

    // The chair issues the minutes of the held meeting; an item without its standard is
    // refused, then issued complete.
    browser
        .wait_for_text(".gd-meeting-list .el-table__row", &held_title)
        .click();
    browser
        .wait_for("#minutes-text textarea, textarea#minutes-text")
        .send_keys("会议研究了农贸市场活禽销售的联合检查。");
    browser
        .wait_for("[data-item-row='0'] .gd-item-title input")
        .send_keys("节前农贸市场联合检查");
    browser
        .wait_for("[data-item-row='0'] .gd-item-owner")
        .click();
    browser
        .wait_for_text(".el-select-dropdown__item", "县市场监督管理局")
        .click();
    browser
        .wait_for("[data-item-row='0'] .gd-item-person input")
        .send_keys("王科长");
    let due = (chrono::Utc::now() + chrono::Duration::days(14))
        .format("%Y-%m-%d")
        .to_string();
    browser
        .wait_for("[data-item-row='0'] .gd-item-due input")
        .send_keys(&format!("{due}{ENTER}"));
    browser.wait_for("#minutes-issue").click();
    browser.wait_for_text(".el-message", "缺少");
    browser
        .wait_for(".el-message--error .el-message__closeBtn")
        .click();
    browser
        .wait_for("[data-item-row='0'] .gd-item-standard input")
        .send_keys("检查全部活禽摊位，形成台账");
    browser.wait_for("#minutes-issue").click();
    browser.wait_for_text(".el-message--success", "纪要已签发");
    browser.wait_for_text(".gd-items", "节前农贸市场联合检查");
    browser.wait_for_text(".gd-item-status", "办理中");
    browser.sign_out();

    // The owner unit's liaison reports progress and closes the item.
    browser.sign_in(&town.base(), "department_liaison", PASSWORD);
    browser.wait_for("[data-nav='meetings']").click();
    browser
        .wait_for_text(".gd-meeting-list .el-table__row", &held_title)
        .click();
    browser
        .wait_for("[data-item-note='1'] input, input[data-item-note='1']")
        .send_keys("已检查 12 个摊位");
    browser.wait_for("[data-item-progress='1']").click();
    browser.wait_for_text(".el-message--success", "已报告");
    browser.wait_for_text(".gd-items", "已检查 12 个摊位");
    browser
        .wait_for("[data-item-note='1'] input, input[data-item-note='1']")
        .send_keys("全部摊位检查完毕，台账已报送");
    browser.wait_for("[data-item-close='1']").click();
    browser.wait_for_text(".gd-item-status", "已办结");

    let meeting = town.get(
        "admin",
        &format!("/api/v1/meetings/{}", held["id"].as_str().unwrap()),
    );
    assert_eq!(meeting["items"][0]["status"], "closed", "{meeting}");
    assert_eq!(meeting["items"][0]["owner_department_id"], market.as_str());
    assert_eq!(meeting["items"][0]["progress"].as_array().unwrap().len(), 1);
}

#[test]
fn a_liaison_imports_shared_licences_and_the_dispatcher_sees_one_beside_a_report() {
    let Some((town, browser)) =
        setup("a_liaison_imports_shared_licences_and_the_dispatcher_sees_one_beside_a_report")
    else {
        return;
    };
    let here = town.here();
    let dir = tempfile::tempdir().unwrap();
    let header =
        "kind,title,number,party_name,credit_code,address,lat,lon,valid_from,valid_until,content";
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("{header}\nlicence,食品经营许可证,JY001,,,,,,,,\n"),
    )
    .unwrap();
    let good = dir.path().join("licences.csv");
    std::fs::write(
        &good,
        format!(
            "{header}\nlicence,食品经营许可证,JY13201,某某熟食店,92320100MA1XXXXX0A,演示镇中心街 8 号,{},{},2025-01-01,2030-12-31,熟食类销售\n\
             filing,户外广告设置备案,BA-2026-07,某某广告公司,,县城北路,,,,,\n",
            here.lat, here.lon
        ),
    )
    .unwrap();

    browser.sign_in(&town.base(), "department_liaison", PASSWORD);
    browser.wait_for("[data-nav='sharing']").click();
    browser
        .wait_for_present("#shared-import")
        .send_keys(bad.to_str().unwrap());
    browser.wait_for_text(".gd-shared-problems", "第 1 行");
    assert!(
        browser.all(".gd-shared .el-table__row").is_empty(),
        "nothing of a refused file is stored"
    );
    browser
        .wait_for_present("#shared-import")
        .send_keys(good.to_str().unwrap());
    browser.wait_for_text(".el-message--success", "已导入 2 条");
    browser.wait_for_text(".gd-shared .el-table__row", "某某熟食店");
    browser.sign_out();

    let description = format!("熟食店门前占道（{}）", &uuid()[24..]);
    let report = hotline_report(&town, "0101", &description);
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("#report-description", &description);
    let panel = browser.wait_for_text(".gd-report-shared", "食品经营许可证");
    assert!(panel.text().contains("某某熟食店"), "{}", panel.text());
    assert!(
        !panel.text().contains("户外广告"),
        "only what concerns the report's place or party: {}",
        panel.text()
    );
}

#[test]
fn the_administrator_subscribes_a_system_sees_its_secret_once_and_pauses_it() {
    let Some((town, browser)) =
        setup("the_administrator_subscribes_a_system_sees_its_secret_once_and_pauses_it")
    else {
        return;
    };
    browser.sign_in(&town.base(), "admin", PASSWORD);
    browser.wait_for("[data-nav='admin']").click();
    browser.wait_for_text(".el-tabs__item", "对接系统").click();
    browser.wait_for("#webhook-new").click();
    browser
        .wait_for("#webhook-name input, input#webhook-name")
        .send_keys("市综合执法监管平台");
    browser
        .wait_for("#webhook-url input, input#webhook-url")
        .send_keys("ftp://监管平台");
    browser.wait_for("#webhook-save").click();
    browser.wait_for_text(".el-message", "URL");
    browser
        .wait_for("#webhook-url input, input#webhook-url")
        .replace_text("https://supervision.example.gov.cn/hooks/griddispatch");
    browser
        .wait_for("#webhook-kinds input, input#webhook-kinds")
        .send_keys("create_report, decide_case");
    browser.wait_for("#webhook-save").click();
    let secret = browser.wait_for("#webhook-secret").text();
    assert!(secret.len() >= 16, "the secret is shown once: {secret:?}");
    browser.execute("document.querySelector('.el-dialog__headerbtn') && [...document.querySelectorAll('.el-dialog__headerbtn')].forEach(b => b.offsetParent && b.click());", vec![]);
    browser.wait_for_text(".gd-webhook-list .el-table__row", "市综合执法监管平台");
    browser
        .wait_for("[data-webhook-active='市综合执法监管平台']")
        .click();
    browser.wait_for_text(".el-message--success", "已暂停");
    let subs = town.get("admin", "/api/v1/webhooks");
    assert_eq!(subs[0]["active"], false, "{subs}");
    assert_eq!(subs[0]["kinds"], json!(["create_report", "decide_case"]));
    assert!(subs[0].get("secret").is_none());
}
