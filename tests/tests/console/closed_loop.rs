//! The closed loop across roles: the squad accepts and closes, the duty chief decides returns
//! and extensions, the dispatcher closes, the approver files a case, the legal office reviews
//! and the approver decides; statistics.

use griddispatch_e2e::town::PASSWORD;
use serde_json::json;

use crate::{dispatched_task, handled_task, setup, uuid};

#[test]
fn squad_leader_accepts_picking_two_officers_by_name() {
    let Some((town, browser)) = setup("squad_leader_accepts_picking_two_officers_by_name") else {
        return;
    };
    // An officer of the squad whose certificate has expired.
    let (status, v) = town.post(
        "admin",
        "/api/v1/users",
        &json!({"username": "expired_officer", "display_name": "执法队员 钱过期", "password": PASSWORD,
                "roles": ["officer"], "certificate": {"number": "豫济执 0099", "valid_until": "2020-12-31"}}),
    );
    assert_eq!(status, 201, "{v}");
    let resp = reqwest::blocking::Client::new()
        .put(format!(
            "{}/api/v1/squads/{}/members/expired_officer",
            town.base(),
            town.squad_id("squad1")
        ))
        .bearer_auth(town.token("admin"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    let description = format!("沿街违规搭建雨棚（{}）", &uuid()[24..]);
    let (_, task) = dispatched_task(&town, "0301", &description);

    browser.sign_in(&town.base(), "squad_leader", PASSWORD);
    browser.goto(&format!("{}/#/squad", town.base()));
    browser.wait_for(&format!("[data-accept='{task}']")).click();

    // The officers by name; the expired one shown, disabled, with the reason.
    let expired = browser.wait_for_text(".gd-officer", "钱过期");
    assert!(
        expired.text().contains("执法证已过期"),
        "{}",
        expired.text()
    );
    let input = expired.find_all("input")[0].clone();
    assert_eq!(input.attribute("disabled").as_deref(), Some("true"));
    browser
        .wait_for_text(".gd-officer .el-checkbox", "刘洋")
        .click();
    browser
        .wait_for_text(".gd-officer .el-checkbox", "孙磊")
        .click();
    browser.wait_for_text("#accept-confirm", "2 人").click();
    browser.wait_for_text(".el-message--success", "已签收");

    let t = town.task(&task);
    assert_eq!(t["status"], "accepted");
    let mut officers: Vec<String> = t["officer_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    officers.sort();
    let mut expected = vec![town.user_id("officer"), town.user_id("officer2")];
    expected.sort();
    assert_eq!(officers, expected);
}

#[test]
fn the_squad_closes_a_handled_task_and_the_dispatcher_closes_the_report_after_the_recheck() {
    let Some((town, browser)) = setup("dispatcher_closes_a_report_after_a_passed_recheck") else {
        return;
    };
    let description = format!("店外堆放杂物（{}）", &uuid()[24..]);
    let (report, task) = handled_task(
        &town,
        "0401",
        &description,
        json!({"outcome": "rectified", "note": "已责令清理"}),
    );
    // The squad leader sees the outcome and closes the task.
    browser.sign_in(&town.base(), "squad_leader", PASSWORD);
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("#task-card", "已责令清理");
    browser.click_button("结束任务");
    browser.wait_for_text("#task-status", "待核查");
    browser.sign_out();
    // A grid member of the cell re-checks it on the phone.
    town.command(
        "gm_200",
        json!({"type": "recheck_task", "task_id": task, "passed": true, "note": "现场已清理"}),
    );

    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&format!("{}/#/recheck", town.base()));
    browser
        .wait_for_text(".gd-verified .el-table__row", "现场已清理")
        .click();
    browser.wait_for_text("#report-description", &description);
    browser.wait_for_text("#task-status", "核查通过");
    browser.click_button("结案");
    browser.wait_for_text("#report-status", "已结案");
    assert!(browser.all("[data-action='close_report']").is_empty());
    assert_eq!(town.report(&report).unwrap()["report"]["status"], "closed");
}

#[test]
fn approver_files_a_proposed_case_from_the_queue() {
    let Some((town, browser)) = setup("approver_files_a_proposed_case_from_the_queue") else {
        return;
    };
    let finding = format!("未经批准擅自搭建（{}）", &uuid()[24..]);
    let (report, _) = handled_task(
        &town,
        "0301",
        "村道旁违建",
        json!({"outcome": "case_needed", "finding": finding, "issuing_unit": "自然资源所",
               "suspected_provision": "《城乡规划法》第六十五条"}),
    );

    browser.sign_in(&town.base(), "approver", PASSWORD);
    browser.goto(&format!("{}/#/cases", town.base()));
    browser
        .wait_for_text(".gd-case-table .el-table__row", &finding)
        .click();
    browser.wait_for_text("#case-card", &finding);
    browser.wait_for_text("#case-status", "立案建议");
    browser.click_button("立案 File case");
    browser.wait_for_text("#case-status", "已立案");
    let detail = town.report(&report).unwrap();
    assert_eq!(detail["case"]["status"], "filed");
    assert!(detail["case"]["number"].is_string(), "{detail}");
}

#[test]
fn the_statistics_page_draws_its_chart_per_squad() {
    let Some((town, browser)) = setup("the_statistics_page_draws_its_chart_per_squad") else {
        return;
    };
    browser.sign_in(&town.base(), "duty_chief", PASSWORD);
    browser.goto(&format!("{}/#/stats", town.base()));
    browser.wait_for("#stats-chart canvas");
    // The demo's reports were all dispatched to the first squad.
    browser.wait_for_text(".gd-stats-table .el-table__row", "一中队");
    browser.wait_for_text(".el-radio-button", "按类别").click();
    browser.wait_for_text(".gd-stats-table .el-table__row", "违法建设");
    // Rolled up: the demo's reports lie in its areas, all in one town.
    browser.wait_for_text(".el-radio-button", "按片区").click();
    browser.wait_for_text(".gd-stats-table .el-table__row", "片区（示范）");
    browser.wait_for_text(".el-radio-button", "按镇").click();
    browser.wait_for_text(".gd-stats-table .el-table__row", "镇");
}

#[test]
fn a_wrongly_dispatched_task_is_returned_with_the_duty_chiefs_approval_and_redispatched() {
    let Some((town, browser)) = setup("a_wrongly_dispatched_task_is_returned_and_redispatched")
    else {
        return;
    };
    let description = format!("商户超范围经营（{}）", &uuid()[24..]);
    let (report, task) = dispatched_task(&town, "0601", &description);
    let detail = format!("{}/#/report/{report}", town.base());

    // The squad leader asks to return it.
    browser.sign_in(&town.base(), "squad_leader", PASSWORD);
    browser.goto(&detail);
    browser.click_button("申请回退");
    browser
        .wait_for(".el-message-box textarea")
        .send_keys("属市场监管领域，非本中队职责");
    browser
        .wait_for_text(".el-message-box button", "确定")
        .click();
    browser.wait_for_text("#task-status", "申请回退");
    browser.sign_out();

    // The duty chief finds it in the queue and approves.
    browser.sign_in(&town.base(), "duty_chief", PASSWORD);
    browser.goto(&format!("{}/#/duty", town.base()));
    browser
        .wait_for_text(".gd-returns .el-table__row", "非本中队职责")
        .click();
    browser.click_button("批准回退");
    browser.wait_for_text("#task-status", "已回退");
    browser.sign_out();

    // The dispatcher re-dispatches it; another squad is offered first.
    browser.sign_in(&town.base(), "dispatcher", PASSWORD);
    browser.goto(&detail);
    browser.click_button("重新派遣");
    let first = browser.wait_for(".gd-squad-option.is-checked");
    let name = first.find_all("b")[0].text();
    assert_ne!(name, "一中队");
    browser.wait_for("#dispatch-confirm").click();
    browser.wait_for_text("#task-status", "待签收");
    browser.wait_for_text("#task-squad", &name);
    let t = town.task(&task);
    assert_eq!(t["status"], "dispatched");
    assert_ne!(t["squad_id"], town.squad_id("squad1").as_str());
}

#[test]
fn squad_leader_asks_for_more_time_and_the_duty_chief_approves_it() {
    let Some((town, browser)) = setup("squad_leader_asks_for_more_time") else {
        return;
    };
    let (report, task) = dispatched_task(&town, "0601", "废品收购站占道（延期演示）");
    town.command(
        "squad_leader",
        json!({"type": "accept_task", "task_id": task,
               "officer_ids": [town.user_id("officer"), town.user_id("officer2")]}),
    );
    let due_before = town.task(&task)["due_at"].as_str().unwrap().to_owned();
    let detail = format!("{}/#/report/{report}", town.base());

    browser.sign_in(&town.base(), "squad_leader", PASSWORD);
    browser.goto(&detail);
    browser.click_button("申请延期");
    browser
        .wait_for(".el-dialog textarea")
        .send_keys("当事人外出，需约定时间复查");
    browser.click_button("提交 Submit");
    browser.wait_for_text(".el-message--success", "已申请延期");
    browser.wait_for_text("#task-card", "当事人外出");
    browser.sign_out();

    browser.sign_in(&town.base(), "duty_chief", PASSWORD);
    browser.goto(&format!("{}/#/duty", town.base()));
    browser
        .wait_for_text(".gd-extensions .el-table__row", "当事人外出")
        .click();
    browser.click_button("批准延期");
    browser.wait_for_text(".el-message--success", "已批准延期");
    browser.wait_gone("#task-card", "延期申请");
    let t = town.task(&task);
    assert_eq!(t["extension_count"], 1);
    assert!(
        t["due_at"].as_str().unwrap() > due_before.as_str(),
        "{} vs {due_before}",
        t["due_at"]
    );
}

#[test]
fn an_overdue_task_turns_red_and_the_duty_chief_escalates_it_by_hand() {
    let Some((town, browser)) = setup("an_overdue_task_turns_red_and_is_escalated") else {
        return;
    };
    let (report, task) = dispatched_task(&town, "0601", "废品收购站占道（督办演示）");
    // Dispatched twenty days ago: past its handling time.
    crate::backdate_task(&town, &task, 24 * 20);
    browser.sign_in(&town.base(), "duty_chief", PASSWORD);
    // The workbench counts it as overdue (the server's total, not a page of rows).
    let red = browser.wait_for("[data-count='red'] .gd-count-value");
    browser.wait_for_text("[data-count='red'] .gd-count-value", "1");
    assert_eq!(red.text().trim(), "1", "one overdue task");
    browser.goto(&format!("{}/#/duty", town.base()));
    // The only overdue task of the town (the workbench said 1).
    browser.wait_for(&format!("[data-escalate='{task}']"));
    let row = browser.wait_for(".gd-overdue .el-table__row");
    let row_text = row.text();
    assert!(
        row_text.contains("红灯超期") || row_text.contains("已督办"),
        "the deadline light is red: {row_text}"
    );
    browser
        .wait_for(&format!("[data-escalate='{task}']"))
        .click();
    // A reason is required: an empty one is refused by the server, with its message.
    browser.wait_for(".el-message-box textarea");
    browser
        .wait_for(".el-message-box__btns .el-button--primary")
        .click();
    browser.wait_for_text(".el-message--error", "督办理由");
    browser.wait_transitions_done();
    browser
        .wait_for(&format!("[data-escalate='{task}']"))
        .click();
    browser
        .wait_for(".el-message-box textarea")
        .send_keys("群众再次来电投诉，今日内处置到位");
    browser
        .wait_for(".el-message-box__btns .el-button--primary")
        .click();
    browser.wait_for_text(".el-message--success", "已督办");
    browser.wait_for_text(".gd-overdue .el-table__row", "今日内处置到位");
    let t = town.task(&task);
    let escalations = t["escalations"].as_array().unwrap();
    assert_eq!(escalations.len(), 1, "{t}");
    assert_eq!(escalations[0]["reason"], "群众再次来电投诉，今日内处置到位");
    // On the report, the same action is offered while the clock runs.
    browser.goto(&format!("{}/#/report/{report}", town.base()));
    browser.wait_for_text("button", "督办 Escalate");
    browser.sign_out();
    // The squad leader's bell has it.
    browser.sign_in(&town.base(), "squad_leader", PASSWORD);
    browser.wait_for(".gd-bell").click();
    browser.wait_for_text(".gd-note", "值班长督办任务");
}

#[test]
fn legal_reviewer_and_approver_take_a_case_from_review_to_decision_in_the_console() {
    let Some((town, browser)) = setup("legal_reviewer_and_approver_take_a_case_to_decision") else {
        return;
    };
    let finding = format!("未取得规划许可建房（{}）", &uuid()[24..]);
    let (report, _) = handled_task(
        &town,
        "0301",
        "村东违法建房",
        json!({"outcome": "case_needed", "finding": finding, "issuing_unit": "自然资源所",
               "suspected_provision": "《城乡规划法》第六十四条"}),
    );
    let case_id = town.report(&report).unwrap()["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Filing, investigation, notice and the party's waiver happen over REST.
    town.command("approver", json!({"type": "file_case", "case_id": case_id}));
    town.command(
        "approver",
        json!({"type": "start_investigation", "case_id": case_id,
               "officer_ids": [town.user_id("officer"), town.user_id("officer2")]}),
    );
    town.command(
        "officer",
        json!({"type": "add_case_record", "case_id": case_id, "record_id": uuid(), "kind": "inspection",
               "officer_ids": [town.user_id("officer"), town.user_id("officer2")],
               "certificates_shown": true, "content": "现场检查：新建砖房一间"}),
    );
    town.command(
        "officer",
        json!({"type": "notify_party", "case_id": case_id,
               "party": {"kind": "person", "name": "李某"}, "facts": finding,
               "legal_basis": "《城乡规划法》第六十四条", "sanctions": [{"kind": "fine", "amount_fen": 300000}]}),
    );
    town.command(
        "officer",
        json!({"type": "record_statement", "case_id": case_id, "content": "无异议", "waived": true}),
    );
    town.command(
        "officer",
        json!({"type": "submit_for_review", "case_id": case_id}),
    );

    // The legal reviewer finds it in the queue and passes it.
    browser.sign_in(&town.base(), "legal_reviewer", PASSWORD);
    browser.goto(&format!("{}/#/cases", town.base()));
    browser
        .wait_for_text(".el-radio-button", "法制审核 Legal review")
        .click();
    browser
        .wait_for_text(".gd-case-table .el-table__row", &finding)
        .click();
    browser.wait_for_text("#case-status", "法制审核");
    // No decision for the reviewer, only the review.
    assert!(browser.all("#case-decide").is_empty());
    browser.wait_for("#case-review").click();
    browser
        .wait_for(".gd-case-form textarea[name='opinion'], .gd-case-form [name='opinion'] textarea")
        .send_keys("事实清楚，证据确凿，程序合法，适用依据正确");
    browser.wait_for("#case-dialog-ok").click();
    browser.wait_for_text("#case-card ~ .gd-card, .gd-card", "通过 passed");
    browser.sign_out();

    // The approver decides; a heavier fine than notified is refused with the server's words.
    browser.sign_in(&town.base(), "approver", PASSWORD);
    browser.goto(&format!("{}/#/case/{case_id}", town.base()));
    browser.wait_for_text("#case-status", "法制审核");
    browser.wait_for("#case-decide").click();
    let sanctions = browser.wait_for(
        ".gd-case-form textarea[name='sanctions'], .gd-case-form [name='sanctions'] textarea",
    );
    // Select all and type over it, as a person would (a WebDriver clear skips Vue's input event).
    sanctions.send_keys("\u{E009}a\u{E000}\u{E003}fine:5000");
    browser
        .wait_for(".gd-case-form input[name='discretion'], .gd-case-form [name='discretion'] input")
        .send_keys("一般情节");
    browser
        .wait_for(".gd-case-form input[name='statements_answer'], .gd-case-form [name='statements_answer'] input")
        .send_keys("当事人放弃陈述申辩");
    browser.wait_for("#case-dialog-ok").click();
    browser.wait_for_text(".el-message--error", "重于告知");
    let sanctions = browser.wait_for(
        ".gd-case-form textarea[name='sanctions'], .gd-case-form [name='sanctions'] textarea",
    );
    sanctions.send_keys("\u{E009}a\u{E000}\u{E003}fine:3000");
    browser.wait_for("#case-dialog-ok").click();
    browser.wait_for_text("#case-status", "已决定");
    browser.wait_for_text("#case-decision", "罚决");
    // The decision document is there to open (the PDF itself is checked in server/tests/it/case.rs).
    browser.wait_for_text("#case-documents", "行政处罚决定书");
    let case = town.get("approver", &format!("/api/v1/cases/{case_id}"));
    assert_eq!(case["case"]["status"], "decided");
    assert_eq!(
        case["case"]["procedure"]["decision"]["decision"]["sanctions"][0]["amount_fen"],
        300000
    );
    // The approver exports the case file (卷宗); the export is in the record.
    browser.wait_for("#case-export").click();
    browser.wait_for_text(".el-message--success", "卷宗已导出");
    let case = town.get("approver", &format!("/api/v1/cases/{case_id}"));
    let exported = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["command"] == "export_case_file");
    assert!(exported, "the export is in the case's record");

    // Execution: the party asks to defer the fine (recorded by the officer); the approver
    // approves it on the case screen, and a reminder before the day is refused in the server's
    // words.
    town.command(
        "officer",
        json!({"type": "serve_decision", "case_id": case_id, "method": "in_person"}),
    );
    let due_on = (chrono::Utc::now() + chrono::Duration::days(40))
        .date_naive()
        .to_string();
    town.command(
        "officer",
        json!({"type": "request_payment_plan", "case_id": case_id, "kind": "deferral",
               "instalments": [{"due_on": due_on, "amount_fen": 300000}], "reason": "家庭经济困难"}),
    );
    browser.goto(&format!("{}/#/cases", town.base()));
    browser.goto(&format!("{}/#/case/{case_id}", town.base()));
    browser.wait_for_text("#case-plan", "待审批");
    browser.wait_for("#case-plan_decide").click();
    browser
        .wait_for(".gd-case-form textarea[name='note'], .gd-case-form [name='note'] textarea")
        .send_keys("经审查，当事人确有经济困难，准予延期");
    browser.wait_for("#case-dialog-ok").click();
    browser.wait_for_text("#case-plan", "已批准");
    browser.wait_for("#case-remind").click();
    browser.wait_for_text(".el-message--error", "缴款期限未届满");
    let case = town.get("approver", &format!("/api/v1/cases/{case_id}"));
    assert_eq!(case["case"]["procedure"]["payment_plan"]["approved"], true);
    assert!(case["case"]["procedure"]["reminder"].is_null());
}
