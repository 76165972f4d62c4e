// 案件办理 Case: one case under the general procedure — what it went through (investigators,
// records, notice, statements, hearing, reviews, discussion, decision, service, payment,
// publication, archive), its clocks, the full record, and the actions the reader's roles allow
// in the state the case is in. Every action is one command through POST /api/v1/commands; a
// refusal (two officers, review before decision, heavier than the notice …) shows the server's
// message. The forms are described as data (ACTIONS) and drawn by one dialog.
(function () {
  "use strict";
  const { api, store, has, labels: L_ } = GD;

  const SANCTIONS = {
    warning: "警告", fine: "罚款", confiscation: "没收", suspend_licence: "暂扣许可证件",
    lower_qualification: "降低资质等级", revoke_licence: "吊销许可证件", order_closure: "责令停产停业/关闭",
    restrict_practice: "限制从业",
  };
  const RECORD_KINDS = { inquiry: "询问笔录 Inquiry", inspection: "现场检查（勘验）笔录 Inspection", evidence_preservation: "先行登记保存 Preservation" };
  const SERVICE = { in_person: "直接送达 In person", left_at_address: "留置送达 Left at address", post: "邮寄送达 Post", electronic: "电子送达 Electronic", public_notice: "公告送达 Public notice" };
  const CLOCKS = { decision: "决定 Decision", service: "送达 Service", publication: "公示 Publication", payment: "缴款 Payment", preservation: "先行登记保存处理 Kept evidence", court_application: "申请强制执行 Court application", police_answer: "公安答复 Police's answer", hand_over_approval: "移送审批 Hand-over approval" };
  const PRESERVATION = { return: "解除保存，退还当事人 Return", test: "送交检验鉴定 Test or appraise", transfer: "移送有关部门 Transfer", confiscate: "依法没收（随处罚决定）Confiscate" };

  const yuan = (fen) => fen == null ? "" : (fen / 100).toFixed(2) + " 元";
  const fen = (y) => Math.round(Number(y) * 100);
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));
  const sanctionText = (s) => (SANCTIONS[s.kind] || s.kind) + (s.amount_fen ? " " + yuan(s.amount_fen) : "");
  GD.sanctionText = sanctionText;
  // "kind:元" lines ↔ sanctions, e.g. "fine:5000".
  function parseSanctions(text) {
    return String(text || "").split(/[\n;；,，]+/).map((l) => l.trim()).filter(Boolean).map((l) => {
      const [kind, amount] = l.split(/[:：\s]+/);
      return amount ? { kind, amount_fen: fen(amount) } : { kind };
    });
  }
  const sanctionsLine = (list) => (list || []).map((s) => s.kind + (s.amount_fen ? ":" + s.amount_fen / 100 : "")).join("\n");

  /** Each action: who sees it, from which states, its form, and the command it makes. */
  function actions(vm) {
    const c = vm.c, p = c.procedure || {}, me = store.me ? store.me.id : "";
    const investigator = has("officer") && (p.investigators || []).includes(me);
    const penalty = p.decision && p.decision.decision.decision === "penalty";
    const fine = penalty ? p.decision.decision.sanctions.filter((s) => s.kind === "fine").reduce((a, s) => a + (s.amount_fen || 0), 0) : 0;
    const before = ["filed", "investigating", "notified", "hearing", "legal_review"].includes(c.status);
    const officerOptions = vm.officers.map((o) => ({ value: o.id, label: o.display_name + (o.certificate_valid ? "" : "（执法证无效 no valid certificate）"), disabled: !o.certificate_valid }));
    const investigatorOptions = (p.investigators || []).map((id) => ({ value: id, label: vm.person(id) }));
    const id = c.id;
    // 先行登记保存 records still waiting for the decision on the kept evidence (art. 56).
    const kept = (p.records || []).filter((r) => r.kind === "evidence_preservation" && !r.preservation);
    const plan = p.payment_plan || null;
    const nextPart = plan && plan.approved === true ? (plan.instalments || []).find((i) => !i.paid) : null;
    const unpaid = ["served", "published"].includes(c.status) && fine > 0 && !p.payment && !p.court_application;
    // 移送审批 (国务院令 310 第八条): the proposal waiting for the approver, if any.
    const proposals = p.hand_over_proposals || [];
    const pendingHandOver = proposals.length && proposals[proposals.length - 1].approved == null ? proposals[proposals.length - 1] : null;
    const deps = (kind) => (vm.departments || []).filter((x) => x.kind === kind && x.active).map((x) => ({ value: x.id, label: x.name }));
    return [
      { key: "file", label: "立案 File case", type: "primary", show: has("approver") && c.status === "proposed", fields: [],
        build: () => ({ type: "file_case", case_id: id }) },
      { key: "decline", label: "不予立案 Decline", show: has("approver") && c.status === "proposed",
        fields: [{ key: "reason", label: "理由 Reason", type: "textarea" }],
        build: (v) => ({ type: "decline_case", case_id: id, reason: v.reason }) },
      { key: "investigate", label: "指派调查人员 Assign investigators", type: "primary",
        show: (has("approver") || has("squad_leader")) && ["filed", "investigating"].includes(c.status),
        fields: [{ key: "officers", label: "执法人员（至少两名持证）Officers (≥ 2 certified)", type: "multi", options: officerOptions }],
        build: (v) => ({ type: "start_investigation", case_id: id, officer_ids: v.officers || [] }) },
      { key: "record", label: "制作笔录 Add record", type: "primary", show: investigator && c.status === "investigating",
        init: { kind: "inquiry", officers: (p.investigators || []).slice(0, 2), shown: true },
        fields: [
          { key: "kind", label: "种类 Kind", type: "select", options: Object.entries(RECORD_KINDS).map(([value, label]) => ({ value, label })) },
          { key: "officers", label: "在场执法人员 Officers present", type: "multi", options: investigatorOptions },
          { key: "shown", label: "已出示执法证件 Certificates shown", type: "switch" },
          { key: "content", label: "笔录内容 Content", type: "textarea" }],
        build: (v) => ({ type: "add_case_record", case_id: id, record_id: uuid(), kind: v.kind, officer_ids: v.officers || [], certificates_shown: !!v.shown, content: v.content || "" }) },
      { key: "notify", label: "处罚告知 Notify the party", show: investigator && c.status === "investigating",
        init: { party_kind: "person", facts: c.finding, legal_basis: c.suspected_provision, sanctions: "fine:" },
        fields: [
          { key: "party_kind", label: "当事人类型 Party", type: "select", options: [{ value: "person", label: "公民 Person" }, { value: "organization", label: "法人或其他组织 Organisation" }] },
          { key: "party_name", label: "当事人 Name" }, { key: "id_number", label: "证件号码 Identity / credit code" },
          { key: "address", label: "送达地址 Address" },
          { key: "facts", label: "违法事实 Facts", type: "textarea" }, { key: "legal_basis", label: "法律依据 Legal basis" },
          { key: "sanctions", label: "拟处罚（每行 种类:金额元，如 fine:5000）Intended sanctions", type: "textarea",
            hint: Object.entries(SANCTIONS).map(([k, z]) => k + " " + z).join("，") }],
        build: (v) => ({ type: "notify_party", case_id: id,
          party: { kind: v.party_kind, name: v.party_name || "", id_number: v.id_number || null, address: v.address || null },
          facts: v.facts || "", legal_basis: v.legal_basis || "", sanctions: parseSanctions(v.sanctions) }) },
      { key: "statement", label: "陈述申辩 Statement", show: investigator && ["notified", "hearing"].includes(c.status),
        fields: [{ key: "content", label: "当事人陈述 What the party said", type: "textarea" }, { key: "waived", label: "放弃陈述申辩与听证 Waives", type: "switch" }],
        build: (v) => ({ type: "record_statement", case_id: id, content: v.content || "", waived: !!v.waived }) },
      { key: "hearing", label: "登记听证申请 Hearing requested",
        show: investigator && c.status === "notified" && p.notice && p.notice.hearing_right, fields: [],
        build: () => ({ type: "request_hearing", case_id: id }) },
      { key: "schedule", label: "安排听证 Schedule hearing", type: "primary",
        // The host offered is the reader, so the action is the legal office's (a qualified host).
        show: has("legal_reviewer") && c.status === "hearing" && p.hearing && !p.hearing.held_at,
        init: { host: me, public: true },
        fields: [
          { key: "host", label: "主持人 Host", type: "select", options: [{ value: me, label: "本人 Me (" + vm.person(me) + ")" }] },
          { key: "at", label: "听证时间（至少 7 日后）Time (≥ 7 days ahead)", type: "datetime" },
          { key: "public", label: "公开举行 Public", type: "switch" }, { key: "reason", label: "不公开理由 Why not public" }],
        build: (v) => ({ type: "schedule_hearing", case_id: id, host_id: v.host, hearing_at: v.at ? new Date(v.at).toISOString() : null, public: !!v.public, not_public_reason: v.reason || null }) },
      { key: "held", label: "听证笔录 Record hearing", type: "primary",
        show: c.status === "hearing" && p.hearing && p.hearing.host_id === me && !p.hearing.held_at,
        fields: [{ key: "record", label: "听证笔录 Record", type: "textarea" }],
        build: (v) => ({ type: "record_hearing", case_id: id, record: v.record || "" }) },
      { key: "submit", label: "提请法制审核 Submit for review", type: "primary", show: investigator && ["notified", "hearing"].includes(c.status), fields: [],
        build: () => ({ type: "submit_for_review", case_id: id }) },
      { key: "review", label: "法制审核 Review", type: "primary",
        show: has("legal_reviewer") && c.status === "legal_review" && !vm.reviewPassed,
        init: { passed: true },
        fields: [{ key: "passed", label: "审核通过 Passed", type: "switch" }, { key: "opinion", label: "审核意见 Opinion", type: "textarea" }],
        build: (v) => ({ type: "review_case", case_id: id, passed: !!v.passed, opinion: v.opinion || "" }) },
      { key: "discussion", label: "集体讨论 Collective discussion", show: has("approver") && c.status === "legal_review" && vm.reviewPassed,
        fields: [{ key: "participants", label: "参加人员（逗号分隔）Participants", type: "textarea" }, { key: "minutes", label: "讨论记录 Minutes", type: "textarea" }, { key: "conclusion", label: "结论 Conclusion" }],
        build: (v) => ({ type: "record_discussion", case_id: id, participants: String(v.participants || "").split(/[,，、\n]+/).map((s) => s.trim()).filter(Boolean), minutes: v.minutes || "", conclusion: v.conclusion || "" }) },
      { key: "decide", label: "作出决定 Decide", type: "primary", show: has("approver") && c.status === "legal_review" && vm.reviewPassed,
        init: { decision: "penalty", sanctions: sanctionsLine(p.notice && p.notice.sanctions), facts: p.notice && p.notice.facts, legal_basis: p.notice && p.notice.legal_basis },
        fields: [
          { key: "decision", label: "决定 Decision", type: "select", options: [{ value: "penalty", label: "给予处罚 Penalty" }, { value: "no_penalty", label: "不予处罚 No penalty" }] },
          { key: "sanctions", label: "处罚（不得重于告知）Sanctions (not heavier than the notice)", type: "textarea" },
          { key: "facts", label: "违法事实 Facts", type: "textarea" }, { key: "legal_basis", label: "依据 Legal basis" },
          { key: "discretion", label: "适用裁量基准 Discretion baseline" }, { key: "statements_answer", label: "陈述申辩采纳情况 Answer to the statements" },
          { key: "reason", label: "不予处罚理由 Why no penalty" }],
        build: (v) => ({ type: "decide_case", case_id: id, decision: v.decision === "no_penalty"
          ? { decision: "no_penalty", facts: v.facts || "", legal_basis: v.legal_basis || "", reason: v.reason || "" }
          : { decision: "penalty", sanctions: parseSanctions(v.sanctions), facts: v.facts || "", legal_basis: v.legal_basis || "", discretion: v.discretion || "", statements_answer: v.statements_answer || "" } }) },
      { key: "extend", label: "延长办案期限 Extend", show: has("approver") && before,
        fields: [{ key: "days", label: "延长天数 Days", type: "number" }, { key: "reason", label: "理由 Reason" }],
        build: (v) => ({ type: "extend_case_deadline", case_id: id, days: Number(v.days || 0), reason: v.reason || "" }) },
      { key: "preservation", label: "先行登记保存处理 Decide kept evidence", type: "warning",
        show: has("approver") && before && kept.length > 0,
        init: { record: kept.length ? kept[0].id : "", measure: "return" },
        fields: [
          { key: "record", label: "保存笔录 Record", type: "select", options: kept.map((r) => ({ value: r.id, label: vm.time(r.at) + " " + r.content.slice(0, 30) + "（限 due " + vm.time(r.decide_by) + "）" })) },
          { key: "measure", label: "处理决定 Measure", type: "select", options: Object.entries(PRESERVATION).map(([value, label]) => ({ value, label })) },
          { key: "note", label: "理由 Reasons", type: "textarea" }],
        build: (v) => ({ type: "decide_preservation", case_id: id, record_id: v.record, measure: v.measure, note: v.note || "" }) },
      { key: "propose_police", label: "申请移送公安 Propose hand-over to police", type: "danger",
        show: (investigator || has("squad_leader")) && !has("approver") && before && !pendingHandOver,
        fields: [{ key: "reason", label: "涉嫌犯罪理由 Why a crime is suspected", type: "textarea" }],
        build: (v) => ({ type: "propose_hand_over", case_id: id, reason: v.reason || "" }) },
      { key: "refuse_police", label: "不批准移送 Refuse the hand-over", show: has("approver") && before && !!pendingHandOver,
        fields: [{ key: "reason", label: "不批准理由 Why not", type: "textarea" }],
        build: (v) => ({ type: "refuse_hand_over", case_id: id, reason: v.reason || "" }) },
      { key: "police", label: pendingHandOver ? "批准并移送公安 Approve and hand over to police" : "移送公安 Hand over to police", type: "danger", show: has("approver") && before,
        init: { reason: pendingHandOver ? pendingHandOver.reason : "", police: (deps("police")[0] || {}).value, copy: (deps("procuratorate")[0] || {}).value },
        fields: [{ key: "reason", label: "涉嫌犯罪理由 Why a crime is suspected", type: "textarea" },
          { key: "police", label: "公安机关 Police", type: "select", options: deps("police") },
          { key: "copy", label: "抄送检察院 Copy to the procuratorate", type: "select", options: deps("procuratorate") }],
        build: (v) => ({ type: "hand_over_to_police", case_id: id, reason: v.reason || "", police_department_id: v.police || "", procuratorate_department_id: v.copy || "" }) },
      { key: "police_answer", label: "公安答复 Police's answer", type: "primary",
        show: has("department_liaison") && c.status === "handed_over",
        init: { decision: "filed" },
        fields: [{ key: "decision", label: "决定 Decision", type: "select", options: [
            { value: "filed", label: "立案侦查 Filed" }, { value: "not_filed", label: "不予立案 Not filed" },
            { value: "returned", label: "移交回执法队行政处理 Returned for administrative handling" }] },
          { key: "note", label: "说明/文号 Note", type: "textarea" }],
        build: (v) => ({ type: "answer_hand_over", case_id: id, decision: v.decision, note: v.note || "" }) },
      { key: "serve", label: "送达 Serve", type: "primary", show: investigator && c.status === "decided",
        init: { method: "in_person" },
        fields: [{ key: "method", label: "送达方式 Method", type: "select", options: Object.entries(SERVICE).map(([value, label]) => ({ value, label })) },
          { key: "consent", label: "当事人同意电子送达 Consent to electronic service", type: "switch" }],
        build: (v) => ({ type: "serve_decision", case_id: id, method: v.method, consent_to_electronic: !!v.consent }) },
      { key: "pay", label: "登记缴款 Record payment", show: (investigator || has("approver")) && ["served", "published"].includes(c.status) && fine > 0 && !p.payment,
        init: { amount: (nextPart ? nextPart.amount_fen : fine) / 100, channel: "bank" },
        fields: [{ key: "amount", label: "缴款金额（元，含加处罚款）Amount (yuan)" + (nextPart ? "（本期 " + nextPart.due_on + " 到期 this part）" : ""), type: "number" },
          { key: "channel", label: "缴款渠道 Channel", type: "select", options: [{ value: "bank", label: "银行 Bank" }, { value: "online", label: "电子缴款 Online" }] },
          { key: "reference", label: "缴款凭证号 Receipt number" }],
        build: (v) => ({ type: "record_payment", case_id: id, amount_fen: fen(v.amount), channel: v.channel, reference: v.reference || "" }) },
      // 执行 Execution: deferral/instalments (art. 66), 催告 and the court (行政强制法 art. 53–54).
      { key: "plan", label: "延期/分期缴纳申请 Deferral or instalments", show: unpaid && (investigator || has("approver")) && !(plan && (plan.approved === null || plan.approved === true)),
        init: { kind: "deferral", parts: "" },
        fields: [{ key: "kind", label: "种类 Kind", type: "select", options: [{ value: "deferral", label: "延期缴纳 Deferral (one part)" }, { value: "instalments", label: "分期缴纳 Instalments (two or more)" }] },
          { key: "parts", label: "各期：日期:金额（元），每行一期 Parts: YYYY-MM-DD:yuan, one a line（合计须等于罚款 " + yuan(fine) + "）", type: "textarea" },
          { key: "reason", label: "当事人申请理由 The party's reasons", type: "textarea" }],
        build: (v) => ({ type: "request_payment_plan", case_id: id, kind: v.kind, reason: v.reason || "",
          instalments: String(v.parts || "").split(/\n+/).map((l) => l.trim()).filter(Boolean).map((l) => {
            const [due_on, amount] = l.split(/[:：\s]+/);
            return { due_on, amount_fen: fen(amount) };
          }) }) },
      { key: "plan_decide", label: "审批延期/分期 Decide deferral", type: "warning", show: unpaid && has("approver") && plan && plan.approved === null,
        init: { approved: true },
        fields: [{ key: "approved", label: "批准 Approve", type: "switch" }, { key: "note", label: "审批意见 Reasons", type: "textarea" }],
        build: (v) => ({ type: "decide_payment_plan", case_id: id, approved: !!v.approved, note: v.note || "" }) },
      { key: "remind", label: "催告 Remind the party", type: "warning", show: unpaid && (investigator || has("approver")) && !p.reminder, fields: [],
        build: () => ({ type: "remind_party", case_id: id }) },
      { key: "court", label: "申请法院强制执行 Apply to the court", type: "danger", show: unpaid && has("approver") && !!p.reminder,
        fields: [{ key: "court", label: "人民法院 Court" }, { key: "note", label: "申请说明 Particulars", type: "textarea" }],
        build: (v) => ({ type: "apply_to_court", case_id: id, court: v.court || "", note: v.note || "" }) },
      { key: "publish", label: "公示 Publish", type: "primary", show: has("approver") && c.status === "served" && penalty, fields: [],
        build: () => ({ type: "publish_decision", case_id: id }) },
      { key: "archive", label: "结案归档 Archive", type: "success",
        show: (has("approver") || has("legal_reviewer")) && ((penalty && c.status === "published") || (!penalty && c.status === "served")),
        fields: [{ key: "report", label: "结案报告 Closing report", type: "textarea" }],
        build: (v) => ({ type: "archive_case", case_id: id, closing_report: v.report || "" }) },
    ].filter((a) => a.show);
  }

  GD.screens.case = {
    props: ["param"],
    data: () => ({ d: null, loading: true, missing: "", officers: [], departments: [], dialog: null, values: {}, busy: false, docs: [], names: {}, exporting: false }),
    inject: ["clock"],
    template: `
      <div class="gd-case" v-loading="loading">
        <el-empty v-if="missing" :description="missing" />
        <template v-if="d">
          <h2 class="gd-title">
            <a href="#/cases" class="gd-back">‹</a>
            案件 {{ c.number || '（未立案 not filed）' }}
            <el-tag id="case-status" :type="c.status === 'handed_over' ? 'danger' : 'primary'">{{ L.label(L.CASE_STATUS, c.status) }}</el-tag>
            <small><a :href="'#/report/' + c.report_id">线索 Report</a></small>
          </h2>
          <div class="gd-actions" id="case-actions">
            <el-button v-for="a in acts" :key="a.key" :id="'case-' + a.key" :type="a.type || 'default'" size="small" @click="open(a)">{{ a.label }}</el-button>
          </div>
          <el-row :gutter="14">
            <el-col :span="14">
              <el-card shadow="never" class="gd-card" id="case-card">
                <el-descriptions :column="2" size="small" border>
                  <el-descriptions-item label="认定意见 Finding" :span="2">{{ c.finding }}</el-descriptions-item>
                  <el-descriptions-item label="认定单位 Unit">{{ c.issuing_unit }}</el-descriptions-item>
                  <el-descriptions-item label="涉嫌违反 Provision">{{ c.suspected_provision }}</el-descriptions-item>
                  <el-descriptions-item label="调查人员 Investigators" :span="2"><span id="case-investigators">{{ (p.investigators || []).map(person).join('、') || '—' }}</span></el-descriptions-item>
                  <el-descriptions-item v-if="p.decision_due_at" label="决定期限 Decision due" :span="2">
                    <el-tag size="small" :type="dueTag">{{ time(p.decision_due_at) }}</el-tag>
                    <span class="gd-muted" v-if="p.extensions && p.extensions.length"> 已延期 {{ p.extensions.reduce((a, e) => a + e.days, 0) }} 天 extended</span>
                  </el-descriptions-item>
                  <el-descriptions-item v-if="p.flags && p.flags.length" label="时限预警 Clock flags" :span="2">
                    <el-tag v-for="f in p.flags" :key="f.clock + f.level" size="small" :type="f.level === 'red' ? 'danger' : 'warning'" style="margin-right:4px">{{ clocks[f.clock] || f.clock }} {{ f.level === 'red' ? '督办' : '预警' }}</el-tag>
                  </el-descriptions-item>
                </el-descriptions>
              </el-card>
              <el-card shadow="never" class="gd-card" v-if="p.records && p.records.length">
                <template #header>调查笔录 Records</template>
                <div v-for="r in p.records" :key="r.id" class="gd-supplement"><b>{{ recordKinds[r.kind] }}</b> {{ time(r.at) }} · {{ r.officer_ids.map(person).join('、') }}<br>{{ r.content }}</div>
              </el-card>
              <el-card shadow="never" class="gd-card" v-if="p.notice" id="case-notice">
                <template #header>处罚告知 Notice <el-tag size="small" v-if="p.notice.hearing_right" type="warning">可申请听证 hearing right</el-tag></template>
                <el-descriptions :column="1" size="small" border>
                  <el-descriptions-item label="当事人 Party">{{ p.notice.party.name }}</el-descriptions-item>
                  <el-descriptions-item label="事实 Facts">{{ p.notice.facts }}</el-descriptions-item>
                  <el-descriptions-item label="依据 Basis">{{ p.notice.legal_basis }}</el-descriptions-item>
                  <el-descriptions-item label="拟处罚 Intended">{{ p.notice.sanctions.map(sanctionText).join('；') }}</el-descriptions-item>
                  <el-descriptions-item label="陈述申辩期 Statements until">{{ time(p.notice.statement_until) }}</el-descriptions-item>
                  <el-descriptions-item v-if="p.notice.hearing_right" label="听证申请期 Hearing request until">{{ time(p.notice.hearing_request_until) }}</el-descriptions-item>
                </el-descriptions>
                <div v-for="s in p.statements" :key="s.at" class="gd-supplement">陈述申辩 {{ time(s.at) }}：{{ s.content }} <el-tag v-if="s.waived" size="small">放弃 waived</el-tag></div>
              </el-card>
              <el-card shadow="never" class="gd-card" v-if="p.hearing">
                <template #header>听证 Hearing</template>
                申请 requested {{ time(p.hearing.requested_at) }}
                <span v-if="p.hearing.hearing_at"> · 举行 at {{ time(p.hearing.hearing_at) }} · 主持 host {{ person(p.hearing.host_id) }} · {{ p.hearing.public ? '公开 public' : '不公开 not public' }}</span>
                <div v-if="p.hearing.record" class="gd-supplement">{{ p.hearing.record }}</div>
              </el-card>
              <el-card shadow="never" class="gd-card" v-if="(p.reviews && p.reviews.length) || p.discussion">
                <template #header>法制审核与集体讨论 Review and discussion</template>
                <div v-for="r in p.reviews" :key="r.at" class="gd-supplement"><el-tag size="small" :type="r.passed ? 'success' : 'danger'">{{ r.passed ? '通过 passed' : '退回 sent back' }}</el-tag> {{ person(r.by) }} {{ time(r.at) }}：{{ r.opinion }}</div>
                <div v-if="p.discussion" class="gd-supplement">集体讨论 {{ time(p.discussion.at) }}（{{ p.discussion.participants.join('、') }}）：{{ p.discussion.conclusion }}</div>
              </el-card>
              <el-card shadow="never" class="gd-card" v-if="p.decision" id="case-decision">
                <template #header>决定 Decision {{ p.decision.number }}</template>
                <div v-if="p.decision.decision.decision === 'penalty'">处罚 Penalty：{{ p.decision.decision.sanctions.map(sanctionText).join('；') }}</div>
                <div v-else>不予处罚 No penalty：{{ p.decision.decision.reason }}</div>
                <div class="gd-muted">{{ time(p.decision.at) }} · 送达期限 serve by {{ time(p.decision.serve_by) }}<span v-if="p.decision.publish_by"> · 公示期限 publish by {{ time(p.decision.publish_by) }}</span></div>
                <div v-if="p.service" class="gd-supplement">送达 Served {{ time(p.service.at) }} · {{ service[p.service.method] }} <el-tag v-if="p.service.late" size="small" type="danger">逾期 late</el-tag></div>
                <div v-if="p.payment" class="gd-supplement">缴款 Paid {{ yuan(p.payment.amount_fen) }}（加处罚款 surcharge {{ yuan(p.payment.surcharge_fen) }}）{{ p.payment.reference }}</div>
                <div v-if="p.payment_plan" class="gd-supplement" id="case-plan">{{ p.payment_plan.kind === 'deferral' ? '延期缴纳 Deferral' : '分期缴纳 Instalments' }}
                  <el-tag size="small" :type="p.payment_plan.approved === true ? 'success' : p.payment_plan.approved === false ? 'danger' : 'warning'">{{ p.payment_plan.approved === true ? '已批准 approved' : p.payment_plan.approved === false ? '不批准 refused' : '待审批 pending' }}</el-tag>
                  <span v-for="i in p.payment_plan.instalments" :key="i.due_on"> · {{ i.due_on }} {{ yuan(i.amount_fen) }} <el-tag size="small" v-if="i.paid" type="success">已缴 paid</el-tag></span>
                </div>
                <div v-if="p.reminder" class="gd-supplement" id="case-reminder">催告 Reminded {{ p.reminder.number }} {{ time(p.reminder.at) }} · 应缴 owed {{ yuan(p.reminder.amount_fen) }} ·
                  <el-tag size="small" :type="clock.now > Date.parse(p.reminder.pay_by) ? 'danger' : 'warning'">履行期限 pay by {{ time(p.reminder.pay_by) }}（工作日计 working days）</el-tag></div>
                <div v-if="p.court_application" class="gd-supplement" id="case-court">已申请强制执行 Applied to {{ p.court_application.court }} {{ time(p.court_application.at) }} · {{ yuan(p.court_application.amount_fen) }}</div>
                <div v-if="p.published_at" class="gd-supplement">已公示 Published {{ time(p.published_at) }} · <a href="/public/" target="_blank">公示页 public page</a></div>
                <div v-if="p.archive" class="gd-supplement">结案归档 Archived {{ time(p.archive.at) }}：{{ p.archive.closing_report }}</div>
              </el-card>
              <el-alert v-if="p.hand_over" type="error" :closable="false" show-icon :title="'已移送公安 Handed over to police: ' + p.hand_over.reason" />
              <el-alert v-for="(h, i) in (p.hand_over_proposals || [])" :key="'hp' + i" :type="h.approved == null ? 'warning' : 'info'" :closable="false" show-icon style="margin-top:4px"
                :title="(h.approved == null ? '移送申请待审批（不得作出决定）Hand-over proposal awaiting approval: ' : h.approved ? '移送已批准 Hand-over approved: ' : '不批准移送 Hand-over refused: ' + (h.refusal_reason || '') + ' — ') + h.reason + '（' + time(h.at) + '）'" />
            </el-col>
            <el-col :span="10">
              <el-card shadow="never" class="gd-card" id="case-documents" v-if="docs.length">
                <template #header>执法文书 Documents
                  <el-button v-if="canExport" size="small" style="float:right" :loading="exporting" @click="exportFile" id="case-export">导出卷宗 Case file (ZIP)</el-button>
                </template>
                <div v-for="doc in docs" :key="doc.name" class="gd-supplement">
                  <el-link type="primary" :data-doc="doc.name" @click="openDoc(doc)">{{ doc.title }}</el-link>
                  <span class="gd-muted gd-small"> {{ doc.number || '' }}</span>
                </div>
              </el-card>
              <el-card shadow="never" class="gd-card">
                <template #header>执法全过程记录 Record</template>
                <gd-history :records="d.history" />
              </el-card>
            </el-col>
          </el-row>
        </template>
        <el-dialog v-if="dialog" :model-value="true" :title="dialog.label" width="560px" @close="dialog = null" append-to-body>
          <el-form label-position="top" size="small" class="gd-case-form">
            <el-form-item v-for="f in dialog.fields" :key="f.key" :label="f.label">
              <el-input v-if="!f.type" v-model="values[f.key]" :name="f.key" />
              <el-input v-else-if="f.type === 'textarea'" v-model="values[f.key]" type="textarea" :rows="3" :name="f.key" />
              <el-input-number v-else-if="f.type === 'number'" v-model="values[f.key]" :min="0" :name="f.key" />
              <el-switch v-else-if="f.type === 'switch'" v-model="values[f.key]" :name="f.key" />
              <el-date-picker v-else-if="f.type === 'datetime'" v-model="values[f.key]" type="datetime" :name="f.key" />
              <el-select v-else-if="f.type === 'select'" v-model="values[f.key]" :name="f.key">
                <el-option v-for="o in f.options" :key="o.value" :value="o.value" :label="o.label" />
              </el-select>
              <el-select v-else-if="f.type === 'multi'" v-model="values[f.key]" multiple :name="f.key" style="width:100%">
                <el-option v-for="o in f.options" :key="o.value" :value="o.value" :label="o.label" :disabled="o.disabled" />
              </el-select>
              <div v-if="f.hint" class="gd-muted gd-small">{{ f.hint }}</div>
            </el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="dialog = null">取消 Cancel</el-button>
            <el-button type="primary" id="case-dialog-ok" :loading="busy" @click="submit">确定 Confirm</el-button>
          </template>
        </el-dialog>
      </div>`,
    computed: {
      canExport() { return GD.has("officer", "squad_leader", "legal_reviewer", "approver", "admin"); },
      c() { return this.d.case; },
      p() { return this.d.case.procedure || {}; },
      reviewPassed() { const r = this.p.reviews || []; return r.length > 0 && r[r.length - 1].passed; },
      acts() { return this.d ? actions(this) : []; },
      dueTag() {
        const p = this.p;
        if (!p.decision_due_at || !this.c.status || !["filed", "investigating", "notified", "hearing", "legal_review"].includes(this.c.status)) return "info";
        const now = this.clock.now, from = Date.parse(p.filed_at), due = Date.parse(p.decision_due_at);
        if (now >= due) return "danger";
        return (now - from) / (due - from) >= 0.8 ? "warning" : "success";
      },
    },
    watch: { param() { this.load(); }, "store.changeTick"() { if (this.d && store.changed[this.d.case.id]) this.load(true); } },
    created() {
      this.L = L_; this.time = L_.time; this.recordKinds = RECORD_KINDS; this.service = SERVICE; this.clocks = CLOCKS;
      this.yuan = yuan; this.sanctionText = sanctionText; this.load();
    },
    methods: {
      person(id) { return this.names[id] || GD.personName(id); },
      async load(quiet) {
        if (!quiet) this.loading = true;
        this.missing = "";
        try {
          const d = await api.caseDetail(this.param);
          // Names first, so that the record and the people are shown by name when drawn: the
          // report's detail names its people; the task's squad names its officers.
          const r = await api.report(d.case.report_id).catch(() => null);
          if (r && r.people) Object.assign(GD.people, r.people);
          this.d = d;
          this.docs = await api.caseDocuments(this.param).catch(() => []);
          await this.loadOfficers();
          if (!this.departments.length) this.departments = await api.departments().catch(() => []);
          this.names = Object.assign({}, GD.people);
        } catch (e) {
          if (e.status === 404 || e.status === 422) this.missing = "没有这个案件，或无权查看 No such case, or not yours to see";
          else GD.showError(e);
        } finally { this.loading = false; }
      },
      // The task's squad members are the officers to choose from (and give their names).
      async loadOfficers() {
        if (this.officers.length || !this.c.task_id) return;
        try {
          const t = await api.task(this.c.task_id);
          const m = await api.squadMembers(t.task.squad_id);
          this.officers = (m.members || []).filter((x) => (x.roles || []).includes("officer"));
          for (const o of m.members || []) GD.people[o.id] = o.display_name;
        } catch (_) { /* the names stay short ids; assigning needs the squad's list */ }
      },
      async exportFile() {
        this.exporting = true;
        try {
          const { url, name, manifest } = await api.caseFile(this.d.case.id);
          const a = document.createElement("a");
          a.href = url; a.download = name;
          document.body.appendChild(a); a.click(); a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60000);
          GD.showOk("卷宗已导出，清单 SHA-256 " + manifest.slice(0, 16) + "… (exported; recorded)");
        } catch (e) { GD.showError(e); } finally { this.exporting = false; }
      },
      async openDoc(doc) {
        try {
          const url = await api.documentUrl(this.d.case.id, doc.name);
          window.open(url, "_blank");
          // The new tab has read it by then; the page keeps no copy.
          setTimeout(() => URL.revokeObjectURL(url), 60000);
        } catch (e) { GD.showError(e); }
      },
      open(a) { this.values = Object.assign({}, a.init || {}); this.dialog = a; if (!a.fields.length) this.submit(); },
      async submit() {
        const a = this.dialog;
        if (!a || this.busy) return;
        this.busy = true;
        try {
          await api.command(a.build(this.values));
          GD.showOk(a.label + " ✓");
          this.dialog = null;
          await this.load(true);
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };
})();
