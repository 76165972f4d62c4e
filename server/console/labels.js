// The words on screens (docs: DOMAIN.md §9): one vocabulary for the console, the field app,
// documents and exports. Chinese first; the English code is what the server stores.
(function () {
  "use strict";

  const REPORT_STATUS = {
    reported: "待受理", needs_info: "待补充", accepted: "已受理", rejected: "不予受理",
    merged: "已合并", transferred: "已移送", closed: "已结案",
  };
  const TASK_STATUS = {
    dispatched: "待签收", return_requested: "申请回退", returned: "已回退", accepted: "已签收",
    on_site: "处置中", handled: "已处置", closed: "待核查", verified: "核查通过", rework: "返工",
  };
  const OUTCOME = {
    no_violation: "未发现违法", rectified: "责令改正（已整改）", simple_penalty: "简易程序处罚",
    case_needed: "需立案", transfer: "移送",
  };
  const CASE_STATUS = {
    proposed: "立案建议", filed: "已立案", declined: "不予立案", investigating: "调查取证",
    notified: "已告知", hearing: "听证", legal_review: "法制审核", decided: "已决定",
    served: "已送达", published: "已公示", archived: "已归档",
    handed_over: "已移送公安", transferred: "已移送（部门）",
  };
  const DEADLINE = {
    normal: "正常", yellow: "黄灯预警", red: "红灯超期", escalated: "已督办", extended: "已延期",
  };
  const SOURCE = {
    grid_patrol: "网格巡查", hotline: "12345热线", public_complaint: "群众举报",
    higher_level: "上级交办", department: "部门上报",
  };
  const ROLE = {
    grid_member: "网格员", grid_leader: "网格长", dispatcher: "调度员", duty_chief: "值班长",
    squad_leader: "中队长", officer: "执法人员", legal_reviewer: "法制审核员",
    approver: "审批负责人", department_liaison: "部门联络员", admin: "系统管理员",
  };
  const COMMAND = {
    create_report: "上报", request_info: "要求补充", supplement_report: "补充材料",
    reject_report: "不予受理", merge_report: "合并", transfer_report: "移送",
    dispatch_report: "受理并派遣", accept_task: "签收", request_return: "申请回退",
    decide_return: "审批回退", redispatch_task: "重新派遣", arrive_on_site: "到场",
    handle_task: "处置", close_task: "中队结案", recheck_task: "核查",
    request_extension: "申请延期", decide_extension: "审批延期", close_report: "结案",
    file_case: "立案", decline_case: "不予立案", flag_deadline: "预警/督办",
    start_investigation: "指派调查", add_case_record: "调查笔录", notify_party: "处罚告知",
    record_statement: "陈述申辩", request_hearing: "申请听证", schedule_hearing: "听证通知",
    record_hearing: "听证笔录", submit_for_review: "提请法制审核", review_case: "法制审核",
    record_discussion: "集体讨论", extend_case_deadline: "延长办案期限", decide_case: "作出决定",
    serve_decision: "送达", record_payment: "缴纳罚款", publish_decision: "公示",
    archive_case: "结案归档", hand_over_to_police: "移送公安", flag_case_deadline: "案件时限预警",
    escalate_task: "人工督办", set_report_position: "地图定位", set_certificate: "执法证变更",
    put_category: "事件类别变更", put_calendar: "日历变更", set_proves: "证明对象",
    export_case_file: "导出卷宗", decide_preservation: "先行登记保存处理", request_payment_plan: "申请延期/分期缴纳", decide_payment_plan: "审批延期/分期缴纳", remind_party: "催告", apply_to_court: "申请法院强制执行", create_user: "新建账号", set_roles: "角色变更", reset_password: "重置密码",
    disable_user: "停用账号", enable_user: "启用账号",
    set_transcript: "录音文字记录", import_grid: "导入网格", create_squad: "新建中队",
    add_squad_cell: "中队负责网格", remove_squad_cell: "取消中队负责网格",
    add_squad_member: "中队加人", remove_squad_member: "中队减人",
    set_cell_member: "网格人员指派", remove_cell_member: "网格人员撤下",
    import_categories: "导入事件类别",
  };

  // Colours of states (Element Plus tag types) and of map pins.
  const REPORT_TAG = {
    reported: "danger", needs_info: "warning", accepted: "primary", rejected: "info",
    merged: "info", transferred: "info", closed: "success",
  };
  const PIN_COLOUR = {
    reported: "#e6412b", needs_info: "#e6a23c", accepted: "#409eff", rejected: "#909399",
    merged: "#909399", transferred: "#909399", closed: "#67c23a",
  };

  /** "中文 English" style: label of a code in a table, falling back to the code. */
  function label(table, code) {
    if (code === null || code === undefined) return "—";
    return table[code] || code;
  }

  /** The deadline level of a task now: normal, yellow (80 % of the time used), red (overdue). */
  function deadlineLevel(task, now) {
    if (!task) return null;
    const running = ["dispatched", "return_requested", "accepted", "on_site", "rework"];
    if (!running.includes(task.status)) return task.extension_count > 0 ? "extended" : "normal";
    const start = utc(task.dispatched_at);
    const due = utc(task.due_at);
    const t = now || Date.now();
    if (t >= due) return task.escalated_at ? "escalated" : "red";
    if (task.warned_at || (due > start && (t - start) / (due - start) >= 0.8)) return "yellow";
    return task.extension_count > 0 ? "extended" : "normal";
  }
  const DEADLINE_TAG = { normal: "success", yellow: "warning", red: "danger", escalated: "danger", extended: "info" };

  /** Milliseconds of a server time: RFC 3339, or UTC without a zone (older answers). */
  function utc(s) {
    return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(s) ? s : s + "Z");
  }

  /** Server times are UTC without a zone (NaiveDateTime) or RFC 3339: show local time. */
  function time(s) {
    if (!s) return "—";
    const d = new Date(utc(s));
    if (isNaN(d)) return s;
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  }

  window.GD = window.GD || {};
  window.GD.labels = {
    REPORT_STATUS, TASK_STATUS, OUTCOME, CASE_STATUS, DEADLINE, SOURCE, ROLE, COMMAND,
    REPORT_TAG, PIN_COLOUR, DEADLINE_TAG, label, deadlineLevel, time, utc,
  };
})();
