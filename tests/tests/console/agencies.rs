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

#[test]
fn an_assistance_request_is_sent_from_the_report_answered_in_the_inbox_and_joins_the_evidence() {
    let Some((town, browser)) = setup(
        "an_assistance_request_is_sent_from_the_report_answered_in_the_inbox_and_joins_the_evidence",
    ) else {
        return;
    };
    let description = format!("散装白酒疑似假冒（{}）", &uuid()[24..]);
    let report = hotline_report(&town, "0101", &description);

    // The dispatcher asks 县市场监督管理局 for an appraisal, in the brigade's name.
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    // On plain http (no Web Crypto) the console hashes uploads with the field app's vendored
    // js-sha256: it loads under the console's policy and hashes right.
    assert_eq!(
        browser.execute(
            "return typeof sha256 === 'function' ? sha256('abc') : null;",
            vec![]
        ),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("#report-description", &description);
    browser
        .wait_for("[data-action='request_assistance']")
        .click();
    // The select opens its list once the dialog has finished opening (slow CI machines).
    browser.wait_for("#assistance-dialog .el-select");
    browser.wait_transitions_done();
    browser.wait_for("#assistance-dialog .el-select").click();
    browser
        .wait_for_text(".el-select-dropdown__item", "县市场监督管理局")
        .click();
    browser
        .wait_for("#assistance-question textarea, textarea#assistance-question")
        .send_keys("请对现场查扣的散装白酒出具是否为假冒产品的认定意见");
    browser.wait_for("#assistance-send").click();
    browser.wait_for_text(".el-message--success", "已发函");
    browser.wait_for_text("#assistance-card", "协〔");
    browser.wait_for_text("#assistance-card", "待答复");
    browser.sign_out();
    let stored = town.report(&report).unwrap();
    let request = stored["report"]["assistance"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The liaison finds it in the inbox with its deadline and answers with a document.
    browser.sign_in(&town.base(), "department_liaison", PASSWORD);
    browser.wait_for("[data-nav='inbox']").click();
    let row = browser.wait_for_text(".gd-assistance .el-table__row", &description);
    assert!(row.text().contains("待答复"), "{}", row.text());
    browser
        .wait_for(&format!("[data-answer-assistance='{request}']"))
        .click();
    browser
        .wait_for("#assistance-text textarea, textarea#assistance-text")
        .send_keys("经核查，涉案白酒非注册商标权利人生产，系假冒产品");
    let dir = tempfile::tempdir().unwrap();
    let doc = griddispatch_e2e::town::photo(dir.path(), 7);
    browser
        .wait_for_present("#assistance-files")
        .send_keys(doc.to_str().unwrap());
    browser.wait_for("#assistance-confirm").click();
    browser.wait_for_text(".el-message--success", "已答复");
    browser.wait_for_text(".gd-assistance .el-table__row", "已答复");
    browser.sign_out();

    // The brigade sees the answer on the report, its document among the evidence.
    let stored = town.report(&report).unwrap();
    let a = &stored["report"]["assistance"][0];
    assert_eq!(a["status"], "answered");
    let doc_id = a["answer_attachment_ids"][0].as_str().unwrap().to_owned();
    assert!(stored["report"]["attachment_ids"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(doc_id)));
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("#assistance-card", "系假冒产品");
    browser.wait_for_text("#assistance-card", "已答复");
    let detail = town.get("dispatcher", &format!("/api/v1/reports/{report}"));
    assert!(
        detail["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == doc_id.as_str()),
        "{detail}"
    );
}

#[test]
fn a_departments_transfer_in_waits_for_the_brigades_answer_and_enters_the_loop() {
    let Some((town, browser)) =
        setup("a_departments_transfer_in_waits_for_the_brigades_answer_and_enters_the_loop")
    else {
        return;
    };
    let description = format!("划转事项：沿街违规设置户外广告（{}）", &uuid()[24..]);
    browser.sign_in(&town.base(), "department_liaison", PASSWORD);
    browser.wait_for("[data-nav='inbox']").click();
    browser.wait_for("#transfer-in-new").click();
    browser.wait_for("#transfer-in-dialog .el-select").click();
    browser.wait_for(".el-select-dropdown__item").click();
    for (field, text) in [
        ("#transfer-in-description", description.as_str()),
        ("#transfer-in-reason", "户外广告设置管理已划转综合行政执法"),
        ("#transfer-in-finding", "未经批准设置大型户外广告牌"),
        ("#transfer-in-evidence", "现场照片 2 张"),
    ] {
        browser
            .wait_for(&format!("{field} textarea, textarea{field}"))
            .send_keys(text);
    }
    browser
        .wait_for("#transfer-in-address input, input#transfer-in-address")
        .send_keys("演示镇中心街 12 号");
    browser.wait_for("#transfer-in-send").click();
    browser.wait_for_text(".el-message--success", "已移送执法队");
    browser.sign_out();

    // The dispatcher finds it in intake with its 3-day answer clock and accepts it.
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.wait_for("[data-nav='intake']").click();
    let row = browser.wait_for_text(".gd-report-table .el-table__row", &description);
    assert!(row.text().contains("部门移送待答复"), "{}", row.text());
    row.click();
    browser.wait_for_text("#transfer-in-card", "户外广告设置管理已划转综合行政执法");
    browser
        .wait_for("[data-action='accept_transfer_in']")
        .click();
    browser.wait_for_text(".el-message--success", "已接收");
    browser.wait_for_text("#transfer-in-card", "已接收");

    let reports = town.get(
        "dispatcher",
        "/api/v1/reports?source=department&per_page=100",
    );
    let r = reports["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["report"]["description"] == description.as_str())
        .expect("the department's matter is a report");
    assert_eq!(r["report"]["transfer_in"]["status"], "accepted", "{r}");
    assert_eq!(r["report"]["source"], "department");
}
