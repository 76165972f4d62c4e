// 部门收件箱 Department inbox: a department liaison's transfers (移送) — the matters the brigade
// sent to its department, with their clocks; accept, refuse with the reason, report the outcome —
// and the assistance requests (执法协助) addressed to it: answer with documents, or announce an
// extension before the deadline.
// The server decides what the liaison sees (only its department's) and every rule.
(function () {
  "use strict";
  const { api, labels: L_ } = GD;

  const STATUS = {
    decided: "待移送 To be sent",
    sent: "待答复 To answer",
    accepted: "已接收 Accepted",
    refused: "已拒收 Refused",
    disputed: "争议处理中 Disputed",
    concluded: "已反馈 Concluded",
  };
  const CLOCK = { send: "移送 sending", answer: "答复 answer", outcome: "反馈结果 outcome" };
  GD.transferStatus = (s) => STATUS[s] || s;
  GD.transferClock = (c) => CLOCK[c] || c;

  // 执法协助 Assistance requests: shared with the report screen.
  const A_KIND = { finding: "书面认定 Finding", opinion: "咨询意见 Opinion", test: "检测 Test", appraisal: "鉴定 Appraisal" };
  const A_STATUS = { requested: "待答复 To answer", answered: "已答复 Answered" };
  GD.assistanceKind = (k) => A_KIND[k] || k;
  GD.assistanceStatus = (s) => A_STATUS[s] || s;
  GD.assistanceKinds = A_KIND;
  // The light of a request's clock against its current deadline: flags raised by the server.
  GD.assistanceLight = (a) => {
    if (a.status !== "requested") return "";
    const f = a.flags.filter((x) => x.due === a.due).map((x) => x.level);
    return f.includes("red") ? "gd-red" : f.includes("yellow") ? "gd-yellow" : "";
  };
  GD.openAssistanceLetter = async (id) => {
    try {
      const url = await api.assistanceLetterUrl(id);
      window.open(url, "_blank");
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) { GD.showError(e); }
  };

  GD.screens.inbox = {
    data: () => ({ rows: [], cases: [], help: [], categories: [], loading: false, dialog: null, current: null, text: "", busy: false,
      helpDialog: null, helpRow: null, helpText: "", helpDays: 1, helpFiles: [],
      sent: [], sendOpen: false, out: { category_code: "", description: "", address: "", reason: "", finding: "", evidence_list: "" }, outFiles: [] }),
    template: `
      <div class="gd-inbox">
        <h2 class="gd-title">部门收件箱 <small>Department inbox</small></h2>
        <p class="gd-hint">执法队移送本部门的事项：收到后 3 日内答复是否接收（拒收须说明理由），接收后 3 日内反馈处理结果；不得再次移送。
          (Transfers to your department: answer within 3 days — a refusal with its reason — and report the outcome within 3 days of accepting; a transfer is never passed on.)</p>
        <el-table :data="rows" v-loading="loading" size="small" stripe class="gd-transfers" empty-text="没有移送事项 No transfers">
          <el-table-column label="事项 Matter" min-width="220"><template #default="{ row }">{{ row.description }}</template></el-table-column>
          <el-table-column label="移送理由 Reason" min-width="160"><template #default="{ row }">{{ row.transfer.reason }}</template></el-table-column>
          <el-table-column label="文号 Letter" width="130"><template #default="{ row }">{{ row.transfer.packet ? row.transfer.packet.letter_number : '—' }}</template></el-table-column>
          <el-table-column label="状态 State" width="150"><template #default="{ row }"><span class="gd-transfer-status" :data-status="row.transfer.status">{{ status(row.transfer.status) }}</span></template></el-table-column>
          <el-table-column label="时限 Clock" width="200">
            <template #default="{ row }">
              <span v-if="row.clock" :class="['gd-clock', flag(row)]">{{ clock(row.clock) }}：{{ time(row.due) }}</span><span v-else>—</span>
            </template>
          </el-table-column>
          <el-table-column label="操作 Actions" width="260">
            <template #default="{ row }">
              <template v-if="row.transfer.status === 'sent'">
                <el-button size="small" type="primary" :data-accept-transfer="row.report_id" @click="accept(row)">接收 Accept</el-button>
                <el-button size="small" type="danger" :data-refuse-transfer="row.report_id" @click="openDialog('refuse', row)">拒收 Refuse</el-button>
              </template>
              <el-button v-if="row.transfer.status === 'accepted'" size="small" type="primary" :data-outcome-transfer="row.report_id" @click="openDialog('outcome', row)">反馈结果 Outcome</el-button>
              <span v-if="row.transfer.status === 'concluded'" class="gd-muted gd-small">{{ row.transfer.outcome }}</span>
              <span v-if="row.transfer.status === 'refused' || row.transfer.status === 'disputed'" class="gd-muted gd-small">{{ row.transfer.refusal_reason }}</span>
            </template>
          </el-table-column>
        </el-table>
        <div class="gd-title-row">
          <h3>本部门移送执法队的事项 Transferred to the brigade</h3>
          <el-button type="primary" size="small" id="transfer-in-new" @click="openSend">＋ 移送执法队 Transfer to the brigade</el-button>
        </div>
        <el-table :data="sent" size="small" stripe class="gd-transfers-in" empty-text="没有移送 None">
          <el-table-column label="事项 Matter" min-width="220"><template #default="{ row }">{{ row.report.description }}</template></el-table-column>
          <el-table-column label="移送时间 Sent" width="150"><template #default="{ row }">{{ time(row.report.transfer_in.sent_at) }}</template></el-table-column>
          <el-table-column label="状态 State" width="130"><template #default="{ row }"><span class="gd-transfer-status" :data-status="row.report.transfer_in.status">{{ inStatus(row.report.transfer_in.status) }}</span></template></el-table-column>
          <el-table-column label="执法队答复 The brigade's answer" min-width="200">
            <template #default="{ row }">
              <span v-if="row.report.transfer_in.status === 'sent'" class="gd-clock">{{ time(row.report.transfer_in.answer_due) }} 前 by</span>
              <span v-else class="gd-muted gd-small">{{ row.report.transfer_in.refusal_reason || '' }}</span>
            </template>
          </el-table-column>
        </el-table>
        <el-dialog v-model="sendOpen" title="移送执法队 Transfer a matter to the brigade" width="620px" id="transfer-in-dialog">
          <el-form label-width="150px">
            <el-form-item label="事件类别 Category">
              <el-select v-model="out.category_code" filterable id="transfer-in-category">
                <el-option v-for="c in categories" :key="c.code" :label="c.code + ' ' + c.name" :value="c.code" />
              </el-select>
            </el-form-item>
            <el-form-item label="事项 Matter"><el-input v-model="out.description" type="textarea" id="transfer-in-description" /></el-form-item>
            <el-form-item label="地址 Address"><el-input v-model="out.address" id="transfer-in-address" /></el-form-item>
            <el-form-item label="移送理由 Reason"><el-input v-model="out.reason" type="textarea" id="transfer-in-reason" /></el-form-item>
            <el-form-item label="违法事实认定 Finding"><el-input v-model="out.finding" type="textarea" id="transfer-in-finding" /></el-form-item>
            <el-form-item label="证据清单 Evidence list"><el-input v-model="out.evidence_list" type="textarea" id="transfer-in-evidence" /></el-form-item>
            <el-form-item label="材料 Documents"><input type="file" multiple id="transfer-in-files" @change="outFiles = Array.from($event.target.files)" /></el-form-item>
          </el-form>
          <p class="gd-hint">执法队 3 日内答复是否接收（拒收须说明理由）；调度员在地图上定位后派遣。
            (The brigade answers within 3 days — a refusal with its reason; its dispatcher places the matter on the map before dispatch.)</p>
          <template #footer>
            <el-button @click="sendOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="transfer-in-send" @click="sendIn">移送 Send</el-button>
          </template>
        </el-dialog>
        <h3>执法协助请求 Assistance requests</h3>
        <p class="gd-hint">执法队函请本部门提供认定、咨询意见、检测或鉴定：收到后 5 个工作日内书面答复；需要更长时间的，须在期限届满前告知延期，累计不超过 10 日。答复附件将作为证据。
          (The brigade asks your department for a finding, an opinion, a test or an appraisal: answer in writing within 5 working days; if it takes longer, announce an extension before the deadline — at most 10 days in all. The answer's documents become evidence.)</p>
        <el-table :data="help" size="small" stripe class="gd-assistance" empty-text="没有协助请求 No assistance requests">
          <el-table-column label="事项 Matter" min-width="180"><template #default="{ row }">{{ row.description }}</template></el-table-column>
          <el-table-column label="协助事项 Asked" min-width="220"><template #default="{ row }"><b>{{ aKind(row.request.kind) }}</b>：{{ row.request.question }}</template></el-table-column>
          <el-table-column label="文号 Letter" width="140"><template #default="{ row }"><el-link type="primary" :data-assistance-letter="row.request.id" @click="letter(row.request.id)">{{ row.request.letter_number }}</el-link></template></el-table-column>
          <el-table-column label="状态 State" width="110"><template #default="{ row }"><span class="gd-assistance-status" :data-status="row.request.status">{{ aStatus(row.request.status) }}</span></template></el-table-column>
          <el-table-column label="答复期限 Answer by" width="190">
            <template #default="{ row }">
              <span v-if="row.request.status === 'requested'" :class="['gd-clock', aLight(row.request)]">{{ time(row.request.due) }}<template v-if="row.request.extensions.length">（已延 {{ extended(row.request) }} 日 extended）</template></span>
              <span v-else class="gd-muted gd-small">{{ row.request.answer }}</span>
            </template>
          </el-table-column>
          <el-table-column label="操作 Actions" width="220">
            <template #default="{ row }">
              <template v-if="row.request.status === 'requested'">
                <el-button size="small" type="primary" :data-answer-assistance="row.request.id" @click="openHelp('answer', row)">答复 Answer</el-button>
                <el-button size="small" :data-extend-assistance="row.request.id" @click="openHelp('extend', row)">告知延期 Extend</el-button>
              </template>
            </template>
          </el-table-column>
        </el-table>
        <el-dialog :model-value="!!helpDialog" @update:model-value="helpDialog = null" width="560px" class="gd-assistance-dialog"
          :title="helpDialog === 'extend' ? '告知延期 Announce an extension' : '书面答复 Answer in writing'">
          <el-form label-position="top">
            <el-form-item v-if="helpDialog === 'extend'" label="延长天数 Days (累计不超过 10 日 at most 10 in all)">
              <el-input-number v-model="helpDays" :min="1" :max="30" id="assistance-days" />
            </el-form-item>
            <el-form-item :label="helpDialog === 'extend' ? '延期理由 Reason' : '认定、咨询意见、检测或鉴定结论 Answer'">
              <el-input v-model="helpText" type="textarea" :rows="4" id="assistance-text" />
            </el-form-item>
            <el-form-item v-if="helpDialog === 'answer'" label="附件（检测报告、鉴定书等）Documents">
              <input type="file" multiple id="assistance-files" @change="helpFiles = Array.from($event.target.files)" />
            </el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="helpDialog = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="assistance-confirm" @click="confirmHelp">确定 Confirm</el-button>
          </template>
        </el-dialog>
        <h3>移送公安（行刑衔接）的案件 Cases handed over (crime)</h3>
        <el-table :data="cases" size="small" stripe class="gd-handed-over" @row-click="openCase" empty-text="没有移送的案件 No cases">
          <el-table-column label="案号 Case" width="150"><template #default="{ row }">{{ row.number || row.id.slice(0, 8) }}</template></el-table-column>
          <el-table-column label="涉嫌犯罪理由 Why" min-width="220"><template #default="{ row }">{{ row.procedure.hand_over ? row.procedure.hand_over.reason : '' }}</template></el-table-column>
          <el-table-column label="移送 Handed over" width="150"><template #default="{ row }">{{ row.procedure.hand_over ? time(row.procedure.hand_over.at) : '' }}</template></el-table-column>
          <el-table-column label="答复 Answer" width="200"><template #default="{ row }">{{ answered(row) }}</template></el-table-column>
        </el-table>
        <el-dialog :model-value="!!dialog" @update:model-value="dialog = null" width="520px" class="gd-transfer-dialog"
          :title="dialog === 'refuse' ? '拒收移送 Refuse the transfer' : '反馈处理结果 Report the outcome'">
          <el-form label-position="top">
            <el-form-item :label="dialog === 'refuse' ? '拒收理由（必填）Reason (required)' : '处理结果 Outcome'">
              <el-input v-model="text" type="textarea" :rows="3" id="transfer-text" />
            </el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="dialog = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="transfer-confirm" @click="confirm">确定 Confirm</el-button>
          </template>
        </el-dialog>
      </div>`,
    watch: { "store.changeTick"() { this.load(); } },
    created() { this.load(); },
    methods: {
      time: L_.time,
      status: (s) => GD.transferStatus(s),
      clock: (c) => GD.transferClock(c),
      flag(row) {
        const f = row.transfer.flags.filter((x) => x.clock === row.clock).map((x) => x.level);
        return f.includes("red") ? "gd-red" : f.includes("yellow") ? "gd-yellow" : "";
      },
      async load() {
        this.loading = true;
        try {
          this.rows = await api.transfers();
          this.help = await api.assistance();
          this.sent = (await api.reports({ source: "department", per_page: 100 })).items.filter((x) => x.report.transfer_in);
          this.cases = (await api.cases({ per_page: 100 })).items.filter((c) => c.procedure && c.procedure.hand_over);
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      answered(c) {
        const r = (c.procedure.hand_over.replies || []).slice(-1)[0];
        if (!r) return "待答复（3 日内）To answer within 3 days";
        return { filed: "已立案 Filed", not_filed: "不予立案 Not filed", returned: "已移交回执法队 Returned" }[r.decision] || r.decision;
      },
      openCase(row) { location.hash = "#/case/" + row.id; },
      inStatus: (s) => ({ sent: "待答复 To answer", accepted: "已接收 Accepted", refused: "已拒收 Refused" })[s] || s,
      async openSend() {
        try { this.categories = (await api.categories()).filter((c) => c.active !== false); } catch (e) { GD.showError(e); return; }
        this.out = { category_code: "", description: "", address: "", reason: "", finding: "", evidence_list: "" };
        this.outFiles = [];
        this.sendOpen = true;
      },
      async sendIn() {
        this.busy = true;
        try {
          const ids = [];
          for (const f of this.outFiles) ids.push(await api.upload(f));
          await api.command(Object.assign({ type: "transfer_in", report_id: api.uuid(), attachment_ids: ids }, this.out));
          GD.showOk("已移送执法队 Transferred to the brigade");
          this.sendOpen = false;
          this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      aKind: (k) => GD.assistanceKind(k),
      aStatus: (s) => GD.assistanceStatus(s),
      aLight: (a) => GD.assistanceLight(a),
      letter: (id) => GD.openAssistanceLetter(id),
      extended: (a) => a.extensions.reduce((n, e) => n + e.days, 0),
      openHelp(kind, row) { this.helpDialog = kind; this.helpRow = row; this.helpText = ""; this.helpDays = 1; this.helpFiles = []; },
      async confirmHelp() {
        this.busy = true;
        const a = this.helpRow.request, base = { report_id: this.helpRow.report_id, request_id: a.id };
        try {
          if (this.helpDialog === "extend") {
            await api.command(Object.assign({ type: "extend_assistance", days: this.helpDays, reason: this.helpText }, base));
            GD.showOk("已告知延期 Extension announced");
          } else {
            const ids = [];
            for (const f of this.helpFiles) ids.push(await api.upload(f));
            await api.command(Object.assign({ type: "answer_assistance", answer: this.helpText, attachment_ids: ids }, base));
            GD.showOk("已答复 Answered");
          }
          this.helpDialog = null;
          this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      openDialog(kind, row) { this.dialog = kind; this.current = row; this.text = ""; },
      async accept(row) {
        try {
          await api.command({ type: "answer_transfer", report_id: row.report_id, accept: true });
          GD.showOk("已接收 Accepted");
          this.load();
        } catch (e) { GD.showError(e); }
      },
      async confirm() {
        this.busy = true;
        const id = this.current.report_id;
        const cmd = this.dialog === "refuse"
          ? { type: "answer_transfer", report_id: id, accept: false, reason: this.text }
          : { type: "report_transfer_outcome", report_id: id, outcome: this.text };
        try {
          await api.command(cmd);
          GD.showOk(this.dialog === "refuse" ? "已拒收 Refused" : "已反馈 Outcome reported");
          this.dialog = null;
          this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };
})();
