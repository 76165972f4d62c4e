//! Between agencies: the dispatcher transfers a report out in the brigade's name from the report
//! screen, and the receiving department's liaison accepts it in its inbox.

use griddispatch_e2e::town::PASSWORD;

use crate::{hotline_report, setup, uuid};

#[test]
fn a_transfer_out_is_decided_sent_and_accepted_by_the_departments_liaison() {
    let Some((town, browser)) =
        setup("a_transfer_out_is_decided_sent_and_accepted_by_the_departments_liaison")
    else {
        return;
    };
    let description = format!("无照经营熟食摊点（{}）", &uuid()[24..]);
    let report = hotline_report(&town, "0101", &description);

    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("#report-description", &description);
    browser.wait_for("[data-action='transfer']").click();
    browser.wait_for("#transfer-dialog .el-select").click();
    browser
        .wait_for_text(".el-select-dropdown__item", "县市场监督管理局")
        .click();
    browser
        .wait_for("#transfer-reason textarea, textarea#transfer-reason")
        .send_keys("无照经营食品，属市场监管部门职责");
    browser.wait_for("#transfer-confirm").click();
    browser.wait_for_text(".el-message--success", "已决定移送");
    browser.wait_for_text("#transfer-card", "县市场监督管理局");
    browser.wait_for("[data-action='send_transfer']").click();
    browser
        .wait_for("#send-finding textarea, textarea#send-finding")
        .send_keys("当事人未取得营业执照从事熟食经营");
    browser
        .wait_for("#send-evidence textarea, textarea#send-evidence")
        .send_keys("现场照片；询问笔录");
    browser.wait_for("#send-confirm").click();
    browser.wait_for_text(".el-message--success", "已移送");
    browser.wait_for_text("#transfer-card", "移〔");
    browser.sign_out();

    // The liaison of 县市场监督管理局 finds it in the inbox with its answer clock, and accepts.
    browser.sign_in(&town.base(), "department_liaison", PASSWORD);
    browser.wait_for("[data-nav='inbox']").click();
    let row = browser.wait_for_text(".gd-transfers .el-table__row", &description);
    assert!(row.text().contains("待答复"), "{}", row.text());
    assert!(
        row.text().contains("答复"),
        "the answer clock: {}",
        row.text()
    );
    browser
        .wait_for(&format!("[data-accept-transfer='{report}']"))
        .click();
    browser.wait_for_text(".el-message--success", "已接收");
    browser.wait_for_text(".gd-transfers .el-table__row", "已接收");

    let stored = town.report(&report).unwrap();
    assert_eq!(stored["report"]["transfer"]["status"], "accepted");
    assert_eq!(stored["report"]["status"], "transferred");
    // The letter was generated when it was sent.
    let pdf = town.get_bytes(
        "department_liaison",
        &format!("/api/v1/reports/{report}/transfer-letter"),
    );
    assert!(pdf.starts_with(b"%PDF"));
}
