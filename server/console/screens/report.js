// 线索详情 Report detail: the report, its evidence, its position and cell on the map, its task
// and case, the full record as a timeline, and the actions the reader's roles allow in the
// state the report is in. Every action is one command through POST /api/v1/commands; a
// refusal shows the server's message.
(function () {
  "use strict";
  const { api, store, has, labels: L_ } = GD;


  GD.screens.report = {
    props: ["param"],
    data: () => ({
      d: null, loading: true, missing: "", busy: false, myMembers: null, cells: [],
      dispatchOpen: false, routing: [], squadChoice: "", redispatch: false,
      mergeOpen: false, candidates: [], mergeInto: "",
      transferOpen: false, transfer: { department_id: "", reason: "", urgent: false, ongoing: false, stopped: "" }, departments: [],
      sendOpen: false, packet: { finding: "", evidence_list: "", expert: "" },
      acceptOpen: false, extensionOpen: false, extension: { hours: 8, reason: "" },
      helpOpen: false, help: { department_id: "", kind: "finding", question: "" },
    }),
    template: `
      <div class="gd-report" v-loading="loading">
        <div class="gd-title-row">
          <h2 class="gd-title" v-if="d">
            <a href="javascript:history.back()" class="gd-back">‹</a>
            {{ cat(r.category_code) }} <gd-report-status :status="r.status" id="report-status" />
            <small>{{ L.label(L.SOURCE, r.source) }} · {{ time(r.created_at) }}</small>
          </h2>
        </div>
        <el-empty v-if="missing" :description="missing" />
        <el-row v-if="d" :gutter="14">
          <el-col :span="14">
            <el-card shadow="never" class="gd-card">
              <p class="gd-description" id="report-description">{{ r.description }}</p>
              <el-descriptions :column="2" size="small" border>
                <el-descriptions-item label="网格 Cell">{{ r.cell ? cellName(r.cell.village) + '（' + r.cell.village + '）' : '不在网格内 outside' }}</el-descriptions-item>
                <el-descriptions-item label="上报人 Reporter">{{ person(r.reporter_id) }}</el-descriptions-item>
                <el-descriptions-item v-if="r.contact" label="联系人 Contact">{{ r.contact.name || '—' }} {{ r.contact.phone || '' }}</el-descriptions-item>
                <el-descriptions-item v-if="r.address" label="地址 Address">{{ r.address }}</el-descriptions-item>
                <el-descriptions-item v-if="r.note" label="说明 Note">{{ r.note }}</el-descriptions-item>
                <el-descriptions-item v-if="r.merged_into" label="合并至 Merged into"><a :href="'#/report/' + r.merged_into">{{ r.merged_into.slice(0, 8) }}</a></el-descriptions-item>
                <el-descriptions-item v-if="r.transferred_to" label="移送至 Transferred to">{{ r.transferred_to }}</el-descriptions-item>
              </el-descriptions>
              <div v-for="s in r.supplements" :key="s.at" class="gd-supplement">补充 {{ time(s.at) }}：{{ s.note }}</div>
            </el-card>
            <el-card v-if="r.transfer" shadow="never" class="gd-card" id="transfer-card">
              <template #header>移送 Transfer <span class="gd-transfer-status" :data-status="r.transfer.status">{{ tStatus(r.transfer.status) }}</span></template>
              <el-descriptions :column="2" size="small" border>
                <el-descriptions-item label="接收部门 Department">{{ r.transfer.department_name }}</el-descriptions-item>
                <el-descriptions-item label="紧急 Urgent">{{ r.transfer.urgent ? '是 yes' : '否 no' }}</el-descriptions-item>
                <el-descriptions-item label="移送时限 Send by">{{ time(r.transfer.send_due) }}</el-descriptions-item>
                <el-descriptions-item label="已移送 Sent">{{ r.transfer.sent_at ? time(r.transfer.sent_at) : '—' }}</el-descriptions-item>
                <el-descriptions-item v-if="r.transfer.packet" label="移送函 Letter">{{ r.transfer.packet.letter_number }}</el-descriptions-item>
                <el-descriptions-item v-if="r.transfer.answer_due" label="答复时限 Answer by">{{ time(r.transfer.answer_due) }}</el-descriptions-item>
                <el-descriptions-item v-if="r.transfer.outcome_due" label="反馈时限 Outcome by">{{ time(r.transfer.outcome_due) }}</el-descriptions-item>
                <el-descriptions-item v-if="r.transfer.violation_stopped" label="制止措施 Stopped">{{ r.transfer.violation_stopped }}</el-descriptions-item>
                <el-descriptions-item v-if="r.transfer.refusal_reason" label="拒收理由 Refused">{{ r.transfer.refusal_reason }}</el-descriptions-item>
                <el-descriptions-item v-if="r.transfer.outcome" label="处理结果 Outcome">{{ r.transfer.outcome }}</el-descriptions-item>
              </el-descriptions>
              <div v-for="f in r.transfer.flags" :key="f.clock + f.level" :class="['gd-clock', 'gd-' + f.level]">{{ f.level === 'red' ? '督办 overdue' : '预警 80%' }}：{{ tClock(f.clock) }}</div>
            </el-card>
            <el-card v-if="r.transfer_in" shadow="never" class="gd-card" id="transfer-in-card">
              <template #header>部门移送 Transferred in <span class="gd-transfer-status" :data-status="r.transfer_in.status">{{ inStatus(r.transfer_in.status) }}</span></template>
              <el-descriptions :column="2" size="small" border>
                <el-descriptions-item label="移送部门 From">{{ r.transfer_in.department_name }}</el-descriptions-item>
                <el-descriptions-item label="移送时间 Sent">{{ time(r.transfer_in.sent_at) }}</el-descriptions-item>
                <el-descriptions-item label="移送理由 Reason" :span="2">{{ r.transfer_in.reason }}</el-descriptions-item>
                <el-descriptions-item label="违法事实认定 Finding" :span="2">{{ r.transfer_in.finding }}</el-descriptions-item>
                <el-descriptions-item label="证据清单 Evidence list" :span="2">{{ r.transfer_in.evidence_list }}</el-descriptions-item>
                <el-descriptions-item label="答复时限 Answer by"><span :class="['gd-clock', inLight(r.transfer_in)]">{{ time(r.transfer_in.answer_due) }}</span></el-descriptions-item>
                <el-descriptions-item v-if="r.transfer_in.refusal_reason" label="拒收理由 Refused">{{ r.transfer_in.refusal_reason }}</el-descriptions-item>
              </el-descriptions>
            </el-card>
            <el-card v-if="r.assistance && r.assistance.length" shadow="never" class="gd-card" id="assistance-card">
              <template #header>执法协助 Assistance</template>
              <div v-for="a in r.assistance" :key="a.id" class="gd-assistance-item" :data-assistance="a.id">
                <el-descriptions :column="2" size="small" border>
                  <el-descriptions-item label="被请求部门 Department">{{ a.department_name }}</el-descriptions-item>
                  <el-descriptions-item label="协助函 Letter"><el-link type="primary" @click="letter(a.id)">{{ a.letter_number }}</el-link></el-descriptions-item>
                  <el-descriptions-item label="协助事项 Asked" :span="2">{{ aKind(a.kind) }}：{{ a.question }}</el-descriptions-item>
                  <el-descriptions-item label="状态 State"><span class="gd-assistance-status" :data-status="a.status">{{ aStatus(a.status) }}</span></el-descriptions-item>
                  <el-descriptions-item label="答复期限 Answer by"><span :class="['gd-clock', aLight(a)]">{{ time(a.due) }}</span></el-descriptions-item>
                  <el-descriptions-item v-for="e in a.extensions" :key="e.at" label="延期 Extended">{{ e.days }} 日：{{ e.reason }}</el-descriptions-item>
                  <el-descriptions-item v-if="a.answer" label="答复 Answer" :span="2"><span class="gd-assistance-answer">{{ a.answer }}</span>（{{ time(a.answered_at) }}，附件 {{ a.answer_attachment_ids.length }} 件 documents, in the evidence below）</el-descriptions-item>
                </el-descriptions>
                <div v-for="f in a.flags.filter((x) => x.due === a.due && a.status === 'requested')" :key="f.level" :class="['gd-clock', 'gd-' + f.level]">{{ f.level === 'red' ? '督办 overdue' : '预警 80%' }}</div>
              </div>
            </el-card>
            <gd-report-shared :report-id="r.id" />
            <el-card shadow="never" class="gd-card">
              <template #header>证据 Evidence</template>
              <gd-evidence :attachments="d.attachments" :pending="d.pending_attachment_ids" />
            </el-card>
            <el-card v-if="t" shadow="never" class="gd-card" id="task-card">
              <template #header>任务 Task <gd-task-status :status="t.status" id="task-status" /> <gd-deadline :task="t" /></template>
              <el-descriptions :column="2" size="small" border>
                <el-descriptions-item label="中队 Squad"><span id="task-squad">{{ squad(t.squad_id) }}</span></el-descriptions-item>
                <el-descriptions-item label="处置时限 Due">{{ time(t.due_at) }}</el-descriptions-item>
                <el-descriptions-item label="执法人员 Officers"><span id="task-officers">{{ t.officer_ids.map(person).join('、') || '—' }}</span></el-descriptions-item>
                <el-descriptions-item label="签收时限 Ack due">{{ time(t.ack_due_at) }}</el-descriptions-item>
                <el-descriptions-item v-if="t.outcome" label="处置结果 Outcome">{{ L.label(L.OUTCOME, t.outcome.outcome) }} {{ outcomeText(t.outcome) }}</el-descriptions-item>
                <el-descriptions-item v-if="t.decision_number" label="决定书 Decision">{{ t.decision_number }} <el-link type="primary" id="task-decision-pdf" @click="openDecision">当场处罚决定书 PDF</el-link></el-descriptions-item>
                <el-descriptions-item v-if="t.pending_return" label="回退申请 Return asked">{{ t.pending_return.reason }}</el-descriptions-item>
                <el-descriptions-item v-if="t.pending_extension" label="延期申请 Extension asked">{{ t.pending_extension.extra_hours }} 工作小时：{{ t.pending_extension.reason }}</el-descriptions-item>
                <el-descriptions-item v-if="t.last_recheck" label="核查 Re-check">{{ t.last_recheck.passed ? '通过 passed' : '不通过 failed' }} {{ t.last_recheck.note || '' }}</el-descriptions-item>
                <el-descriptions-item v-if="t.rework_count" label="返工 Rework">{{ t.rework_count }} 次</el-descriptions-item>
              </el-descriptions>
            </el-card>
            <el-card v-if="d.case" shadow="never" class="gd-card" id="case-card">
              <template #header>案件 Case <el-tag size="small" id="case-status">{{ L.label(L.CASE_STATUS, d.case.status) }}</el-tag> <span v-if="d.case.number">{{ d.case.number }}</span></template>
              <p>认定意见 Finding：{{ d.case.finding }}（{{ d.case.issuing_unit }}）</p>
              <p>涉嫌违反 Provision：{{ d.case.suspected_provision }}</p>
              <p v-if="d.case.decline_reason">不予立案理由：{{ d.case.decline_reason }}</p>
            </el-card>
            <el-card shadow="never" class="gd-card">
              <template #header>执法全过程记录 Record</template>
              <gd-history :records="d.history" />
            </el-card>
          </el-col>
          <el-col :span="10">
            <el-card shadow="never" class="gd-card gd-actions" id="actions">
              <template #header>操作 Actions</template>
              <div v-if="!actions.length" class="gd-muted" id="no-actions">当前状态下没有您可做的操作 (nothing for your roles in this state)</div>
              <el-button v-for="a in actions" :key="a.key" :type="a.type || 'default'" :data-action="a.key"
                :loading="busy" @click="a.run" class="gd-action">{{ a.label }}</el-button>
            </el-card>
            <div ref="map" class="gd-map gd-map-detail"></div>
          </el-col>
        </el-row>

        <el-dialog v-model="dispatchOpen" :title="redispatch ? '重新派遣 Re-dispatch' : '派遣 Dispatch'" width="640px" id="dispatch-dialog">
          <p class="gd-muted">建议中队：领域相符、负责该网格者优先，再按在办任务数 (suggested: matching domain, responsible for the cell, least loaded)</p>
          <el-radio-group v-model="squadChoice" class="gd-squad-choice">
            <el-radio v-for="(s, i) in routing" :key="s.squad_id" :value="s.squad_id" border class="gd-squad-option" :data-squad="s.squad_id">
              <b>{{ s.name }}</b> <el-tag v-if="i === 0" size="small" type="success">建议 Suggested</el-tag>
              <span class="gd-muted gd-small">{{ s.domain }} · {{ s.responsible_for_cell ? '负责本网格' : '非本网格' }} · 在办 {{ s.open_tasks }}</span>
            </el-radio>
          </el-radio-group>
          <template #footer>
            <el-button @click="dispatchOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="confirmDispatch" id="dispatch-confirm">派遣 Dispatch</el-button>
          </template>
        </el-dialog>

        <el-dialog v-model="mergeOpen" title="合并到 Merge into" width="720px">
          <p class="gd-muted">服务器判定的疑似重复：同类、附近、近期、未办结的线索，与本线索照片对照 (the server's duplicate candidates: same category, nearby, recent, open; photos side by side)</p>
          <div class="gd-merge-self" v-if="r">
            <gd-thumb :id="r.attachment_ids[0]" /> <span>本线索 This report：{{ r.description }}</span>
          </div>
          <el-table :data="candidates" size="small" highlight-current-row @current-change="(c) => mergeInto = c ? c.id : ''" empty-text="附近没有同类线索 No candidates" class="gd-merge-candidates">
            <el-table-column label="照片" width="96"><template #default="{ row }"><gd-thumb :id="row.photo" /></template></el-table-column>
            <el-table-column label="时间" width="140"><template #default="{ row }">{{ row.created_at ? time(row.created_at) : Math.round(row.age_hours) + ' 小时前' }}</template></el-table-column>
            <el-table-column label="描述" min-width="240"><template #default="{ row }">{{ row.description }}</template></el-table-column>
            <el-table-column label="距离" width="80"><template #default="{ row }">{{ Math.round(row.distance) }} 米</template></el-table-column>
            <el-table-column label="状态" width="90"><template #default="{ row }"><gd-report-status :status="row.status" /></template></el-table-column>
          </el-table>
          <template #footer>
            <el-button @click="mergeOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :disabled="!mergeInto" :loading="busy" @click="confirmMerge" id="merge-confirm">合并 Merge</el-button>
          </template>
        </el-dialog>

        <el-dialog v-model="transferOpen" title="决定移送 Decide a transfer（以执法队名义 in the brigade's name）" width="600px" id="transfer-dialog">
          <el-form label-width="150px">
            <el-form-item label="接收部门 Department">
              <el-select v-model="transfer.department_id" placeholder="选择部门 Pick a department" id="transfer-department">
                <el-option v-for="dep in departments.filter((x) => x.active)" :key="dep.id" :label="dep.name" :value="dep.id" />
              </el-select>
            </el-form-item>
            <el-form-item label="移送理由 Reason"><el-input v-model="transfer.reason" type="textarea" id="transfer-reason" /></el-form-item>
            <el-form-item label="紧急 Urgent"><el-switch v-model="transfer.urgent" /> <span class="gd-muted gd-small">24 小时内移送，否则 5 个工作日 (24 h, else 5 working days)</span></el-form-item>
            <el-form-item label="违法行为仍在继续 Ongoing"><el-switch v-model="transfer.ongoing" /></el-form-item>
            <el-form-item v-if="transfer.ongoing" label="已采取的制止措施 Stopped how"><el-input v-model="transfer.stopped" type="textarea" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="transferOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="transfer-confirm" @click="confirmTransfer">决定移送 Decide</el-button>
          </template>
        </el-dialog>

        <el-dialog v-model="sendOpen" title="移送 Send the transfer packet" width="600px" id="send-dialog">
          <el-form label-position="top">
            <el-form-item label="违法事实认定 Finding"><el-input v-model="packet.finding" type="textarea" id="send-finding" /></el-form-item>
            <el-form-item label="证据清单 Evidence list"><el-input v-model="packet.evidence_list" type="textarea" id="send-evidence" /></el-form-item>
            <el-form-item label="检验鉴定/专家意见 Expert conclusions"><el-input v-model="packet.expert" type="textarea" /></el-form-item>
          </el-form>
          <p class="gd-hint">随附本线索的证据；发送后生成案件移送函，接收部门 3 日内答复 (the report's evidence goes with it; a transfer letter is generated; the receiver answers within 3 days)</p>
          <template #footer>
            <el-button @click="sendOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="send-confirm" @click="confirmSend">发送 Send</el-button>
          </template>
        </el-dialog>

        <el-dialog v-model="helpOpen" title="请求执法协助 Ask for assistance（以执法队名义 in the brigade's name）" width="600px" id="assistance-dialog">
          <el-form label-width="150px">
            <el-form-item label="被请求部门 Department">
              <el-select v-model="help.department_id" placeholder="选择部门或检验鉴定机构 Pick a department or expert body" id="assistance-department">
                <el-option v-for="dep in departments.filter((x) => x.active)" :key="dep.id" :label="dep.name" :value="dep.id" />
              </el-select>
            </el-form-item>
            <el-form-item label="协助类型 Kind">
              <el-select v-model="help.kind" id="assistance-kind">
                <el-option v-for="(label, k) in kinds" :key="k" :label="label" :value="k" />
              </el-select>
            </el-form-item>
            <el-form-item label="协助事项 Question"><el-input v-model="help.question" type="textarea" :rows="3" id="assistance-question" /></el-form-item>
          </el-form>
          <p class="gd-hint">生成执法协助函；对方 5 个工作日内书面答复，可在期限前告知延期（累计不超过 10 日）；答复附件计入{{ d && d.case ? '本案' : '本线索' }}证据。
            (A request letter is generated; the department answers within 5 working days or announces an extension before the deadline, at most 10 days in all; the answer's documents join the evidence.)</p>
          <template #footer>
            <el-button @click="helpOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="assistance-send" @click="confirmHelp">发函 Send</el-button>
          </template>
        </el-dialog>

        <el-dialog v-model="extensionOpen" title="申请延期 Request an extension" width="520px">
          <el-form label-width="140px">
            <el-form-item label="延长工作小时 Hours"><el-input-number v-model="extension.hours" :min="1" :max="720" /></el-form-item>
            <el-form-item label="理由 Reason"><el-input v-model="extension.reason" type="textarea" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="extensionOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="confirmExtension">提交 Submit</el-button>
          </template>
        </el-dialog>

        <gd-accept-task v-if="t" v-model="acceptOpen" :task="t" @done="load" />
      </div>`,
    computed: {
      r() { return this.d && this.d.report; },
      t() { return this.d && this.d.task; },
      // Only what the rules allow this reader in this state (server/src/domain/workflow/).
      actions() {
        if (!this.d) return [];
        const r = this.r, t = this.t, c = this.d.case, out = [];
        const add = (key, label, run, type) => out.push({ key, label, run, type });
        if (has("dispatcher")) {
          if (r.status === "reported" || r.status === "needs_info") {
            // A caller who gave only an address: place the report first (the server refuses
            // to dispatch an unplaced report).
            if (r.lat == null) add("place", "定位 Place on the map", this.place, "primary");
            else add("dispatch", "受理并派遣 Dispatch", () => this.openDispatch(false), "primary");
            if (r.status === "reported") add("request_info", "要求补充 Ask for information", this.requestInfo);
            add("merge", "合并 Merge", this.openMerge);
            add("transfer", "移送 Transfer", this.openTransfer);
            add("reject", "不予受理 Reject", this.reject, "danger");
          }
          if (t && t.status === "returned") add("redispatch", "重新派遣 Re-dispatch", () => this.openDispatch(true), "primary");
          if (r.status === "accepted" && t && t.status === "verified") add("close_report", "结案 Close report", this.closeReport, "success");
          // A task whose handling found the matter belongs elsewhere (outcome `transfer`).
          if (r.status === "accepted" && t && t.outcome && t.outcome.outcome === "transfer" && !r.transfer) add("transfer", "移送 Transfer", this.openTransfer);
        }
        if (r.transfer && (has("dispatcher") || has("duty_chief") || has("approver"))) {
          if (r.transfer.status === "decided") add("send_transfer", "发送移送 Send transfer", () => { this.sendOpen = true; }, "primary");
          if (r.transfer.status === "refused") add("dispute_legal", "提请法制机构 To the legal office", () => this.dispute("legal_office"), "warning");
          if (r.transfer.status === "disputed" && r.transfer.disputes.length === 1) add("dispute_gov", "报请政府 To the government", () => this.dispute("government"), "warning");
        }
        if (has("squad_leader") && t && this.mySquad) {
          if (t.status === "dispatched") {
            add("accept", "签收 Accept", () => { this.acceptOpen = true; }, "primary");
            add("request_return", "申请回退 Ask to return", this.requestReturn, "warning");
          }
          if (["dispatched", "accepted", "on_site", "rework"].includes(t.status) && !t.pending_extension) {
            add("request_extension", "申请延期 Ask for more time", () => { this.extensionOpen = true; });
          }
          if (t.status === "handled") add("close_task", "结束任务 Close task", this.closeTask, "success");
        }
        if (has("duty_chief") && t) {
          if (t.status === "return_requested") {
            add("approve_return", "批准回退 Approve return", () => this.decideReturn(true), "primary");
            add("deny_return", "驳回回退 Deny return", () => this.decideReturn(false));
          }
          if (t.pending_extension) {
            add("approve_extension", "批准延期 Approve extension", () => this.decideExtension(true), "primary");
            add("deny_extension", "不批准延期 Deny extension", () => this.decideExtension(false));
          }
          if (["dispatched", "return_requested", "accepted", "on_site", "rework"].includes(t.status)) {
            add("escalate", "督办 Escalate", this.escalate, "danger");
          }
        }
        // 移送执法队: the brigade answers a department's transfer first (accept, or refuse with
        // the reason); it never passes it on.
        if (r.transfer_in && r.transfer_in.status === "sent" && (has("dispatcher") || has("duty_chief") || has("approver"))) {
          out.length = 0;
          add("accept_transfer_in", "接收 Accept", () => this.answerIn(true), "primary");
          add("refuse_transfer_in", "拒收 Refuse", () => this.answerIn(false), "danger");
        }
        // 执法协助: the brigade asks in its name, on an open matter or on its case.
        if ((has("dispatcher") || has("duty_chief") || has("approver")) && (["reported", "needs_info", "accepted"].includes(r.status) || c)) {
          add("request_assistance", "请求协助 Ask for assistance", this.openHelp);
        }
        // The case's own actions (立案 and everything after) live on the case screen.
        if (c) add("open_case", "打开案件 Open case", () => { location.hash = "#/case/" + c.id; }, c.status === "proposed" && has("approver") ? "primary" : undefined);
        return out;
      },
      mySquad() {
        return !!(this.myMembers && store.me && this.myMembers.members.some((m) => m.id === store.me.id));
      },
    },
    watch: { "store.changeTick"() { this.load(); } },
    created() { this.L = L_; this.kinds = GD.assistanceKinds; this.load(); },
    unmounted() { if (this.map) this.map.remove(); },
    methods: {
      time: L_.time,
      tStatus: (x) => GD.transferStatus(x),
      tClock: (x) => GD.transferClock(x),
      inStatus: (s) => ({ sent: "待答复 To answer", accepted: "已接收 Accepted", refused: "已拒收 Refused" })[s] || s,
      inLight(t) {
        if (t.status !== "sent") return "";
        const f = t.flags.map((x) => x.level);
        return f.includes("red") ? "gd-red" : f.includes("yellow") ? "gd-yellow" : "";
      },
      async answerIn(accept) {
        const reason = accept ? "" : await this.ask("拒收 Refuse", "拒收理由（必填）Reason (required)");
        if (reason === null) return;
        await this.run({ type: "answer_transfer_in", report_id: this.r.id, accept, reason: accept ? null : reason },
          accept ? "已接收 Accepted" : "已拒收 Refused");
      },
      aKind: (k) => GD.assistanceKind(k),
      aStatus: (s) => GD.assistanceStatus(s),
      aLight: (a) => GD.assistanceLight(a),
      letter: (id) => GD.openAssistanceLetter(id),
      ...GD.names,
      cellName(code) { const c = this.cells.find((x) => x.code === code); return c ? c.name : code; },
      outcomeText(o) { return o.reply || o.note || o.facts || o.finding || o.department || ""; },
      async load() {
        try {
          this.d = await api.report(this.param);
          Object.assign(GD.people, this.d.people || {});
          this.missing = "";
          if (this.t && has("squad_leader") && (!this.myMembers || this.myMembers.squad_id !== this.t.squad_id)) {
            try {
              this.myMembers = await api.squadMembers(this.t.squad_id);
              this.myMembers.members.forEach((m) => { GD.people[m.id] = m.display_name; });
            } catch (_) { this.myMembers = null; /* not this leader's squad */ }
          }
          this.$nextTick(() => this.drawMap());
        } catch (e) {
          this.missing = e.message;
        } finally { this.loading = false; }
      },
      async drawMap() {
        if (!this.$refs.map || !this.r) return;
        // One map per page, however many reloads arrive while it is being made.
        if (!this.mapReady) {
          this.mapReady = GD.gridMap(this.$refs.map).then(async (g) => {
            this.map = g.map; this.layers = g.layers;
            const fc = await GD.loadGrid().catch(() => ({ features: [] }));
            this.cells = (fc.features || []).map((f) => f.properties);
          });
        }
        await this.mapReady;
        if (this.pin) this.pin.remove();
        const r = this.r;
        if (this.layers.village && r.cell) {
          this.layers.village.eachLayer((l) => {
            const own = l.feature.properties.code === r.cell.village;
            l.setStyle(own ? { color: "#e6412b", weight: 3, fillColor: "#fde2dd", fillOpacity: 0.5 } : { color: "#5b8def", weight: 1, fillColor: "#dbe7fb", fillOpacity: 0.35 });
          });
        }
        if (r.lat != null && r.lon != null) {
          this.pin = L.circleMarker([r.lat, r.lon], { radius: 9, color: "#fff", weight: 2, fillColor: L_.PIN_COLOUR[r.status], fillOpacity: 1 }).addTo(this.map);
          this.map.setView([r.lat, r.lon], Math.max(this.map.getZoom(), 14));
        }
      },
      async openDecision() {
        try {
          const url = await api.taskDecisionUrl(this.t.id);
          window.open(url, "_blank");
          setTimeout(() => URL.revokeObjectURL(url), 60000);
        } catch (e) { GD.showError(e); }
      },
      async run(command, ok) {
        this.busy = true;
        try { await api.command(command); GD.showOk(ok); await this.load(); return true; }
        catch (e) { GD.showError(e); return false; }
        finally { this.busy = false; }
      },
      async ask(title, label) {
        try {
          const { value } = await ElementPlus.ElMessageBox.prompt(label, title, {
            confirmButtonText: "确定 OK", cancelButtonText: "取消 Cancel", inputType: "textarea",
          });
          return value || "";
        } catch (_) { return null; }
      },
      async openDispatch(redispatch) {
        this.redispatch = redispatch;
        try {
          this.routing = await api.routing(this.r.id);
          if (redispatch && this.t) this.routing = this.routing.filter((s) => s.squad_id !== this.t.squad_id).concat(this.routing.filter((s) => s.squad_id === this.t.squad_id));
          this.squadChoice = this.routing.length ? this.routing[0].squad_id : "";
          this.dispatchOpen = true;
        } catch (e) { GD.showError(e); }
      },
      async confirmDispatch() {
        const cmd = this.redispatch
          ? { type: "redispatch_task", task_id: this.t.id, squad_id: this.squadChoice }
          : { type: "dispatch_report", report_id: this.r.id, task_id: api.uuid(), squad_id: this.squadChoice };
        if (await this.run(cmd, "已派遣 Dispatched")) this.dispatchOpen = false;
      },
      async requestInfo() {
        const q = await this.ask("要求补充 Ask for information", "需要补充什么？ What is missing?");
        if (q !== null) await this.run({ type: "request_info", report_id: this.r.id, question: q }, "已要求补充 Asked");
      },
      async place() {
        const v = await this.ask("定位 Place on the map", "纬度,经度 (WGS-84)，如 35.0512,112.4987 — latitude,longitude");
        if (v === null) return;
        const [lat, lon] = v.split(/[,，\s]+/).map(Number);
        if (!Number.isFinite(lat) || !Number.isFinite(lon)) { GD.showError(new Error("请输入 纬度,经度 (enter latitude,longitude)")); return; }
        await this.run({ type: "set_report_position", report_id: this.r.id, position: { lat, lon } }, "已定位 Placed");
      },
      async reject() {
        const reason = await this.ask("不予受理 Reject", "不予受理的理由 Reason");
        if (reason !== null) await this.run({ type: "reject_report", report_id: this.r.id, reason }, "已不予受理 Rejected");
      },
      async openMerge() {
        try {
          // Either shape of a candidate: {report, task, distance_m} or flat {report_id, status,
          // description, distance_m, age_hours}.
          this.candidates = (await api.duplicates(this.r.id)).map((c) => {
            const r = c.report || {};
            return {
              id: r.id || c.report_id, status: r.status || c.status,
              description: r.description || c.description, created_at: r.created_at,
              age_hours: c.age_hours, photo: (r.attachment_ids || [])[0], distance: c.distance_m,
            };
          });
          this.mergeInto = "";
          this.mergeOpen = true;
        } catch (e) { GD.showError(e); }
      },
      async confirmMerge() {
        if (await this.run({ type: "merge_report", report_id: this.r.id, into_report_id: this.mergeInto }, "已合并 Merged")) this.mergeOpen = false;
      },
      async openTransfer() {
        try { this.departments = await api.departments(); } catch (e) { GD.showError(e); return; }
        this.transferOpen = true;
      },
      async confirmTransfer() {
        const x = this.transfer;
        const cmd = { type: "decide_transfer", report_id: this.r.id, department_id: x.department_id, reason: x.reason,
          urgent: x.urgent, ongoing_violation: x.ongoing, violation_stopped: x.ongoing ? x.stopped : null, sender: "brigade" };
        if (await this.run(cmd, "已决定移送 Transfer decided")) this.transferOpen = false;
      },
      async openHelp() {
        try { this.departments = await api.departments(); } catch (e) { GD.showError(e); return; }
        this.help = { department_id: "", kind: "finding", question: "" };
        this.helpOpen = true;
      },
      async confirmHelp() {
        const x = this.help, c = this.d.case;
        const cmd = { type: "request_assistance", report_id: this.r.id, request_id: api.uuid(), case_id: c ? c.id : null,
          department_id: x.department_id, kind: x.kind, question: x.question };
        if (await this.run(cmd, "已发函请求协助 Assistance requested")) this.helpOpen = false;
      },
      async confirmSend() {
        const p = this.packet;
        const cmd = { type: "send_transfer", report_id: this.r.id, finding: p.finding, evidence_list: p.evidence_list, expert_conclusions: p.expert || null };
        if (await this.run(cmd, "已移送 Transfer sent")) this.sendOpen = false;
      },
      async dispute(level) {
        const note = await this.ask(level === "legal_office" ? "提请法制机构 To the legal office" : "报请政府 To the government", "争议意见 The brigade's position");
        if (note !== null) await this.run({ type: "dispute_transfer", report_id: this.r.id, level, note }, "已提出 Dispute recorded");
      },
      async requestReturn() {
        const reason = await this.ask("申请回退 Ask to return", "回退理由（如：不属于本中队职责）Reason");
        if (reason !== null) await this.run({ type: "request_return", task_id: this.t.id, reason }, "已申请回退 Return asked");
      },
      async confirmExtension() {
        if (await this.run({ type: "request_extension", task_id: this.t.id, extra_hours: this.extension.hours, reason: this.extension.reason }, "已申请延期 Extension asked")) this.extensionOpen = false;
      },
      closeTask() { return this.run({ type: "close_task", task_id: this.t.id }, "任务已结束，待核查 Closed; waiting for re-check"); },
      closeReport() { return this.run({ type: "close_report", report_id: this.r.id }, "已结案 Report closed"); },
      async decideReturn(approve) {
        const note = approve ? "" : await this.ask("驳回回退 Deny return", "说明 Note");
        if (note === null) return;
        await this.run({ type: "decide_return", task_id: this.t.id, approve, note: note || null }, approve ? "已批准回退 Approved" : "已驳回 Denied");
      },
      decideExtension(approve) {
        return this.run({ type: "decide_extension", task_id: this.t.id, approve }, approve ? "已批准延期 Approved" : "未批准 Denied");
      },
      async escalate() {
        const reason = await this.ask("督办 Escalate", "督办理由（中队长和网格长会收到通知）Reason — the squad's leaders and the grid leaders are told");
        if (reason !== null) await this.run({ type: "escalate_task", task_id: this.t.id, reason }, "已督办 Escalated");
      },
    },
  };
})();
