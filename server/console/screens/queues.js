// Queues of one role each: the duty chief's decisions (值班长), re-check and closure (核查结案)
// and the cases (案件办理): each task row opens its report, each case row its case screen.
(function () {
  "use strict";
  const { api, store, labels: L_ } = GD;

  const taskColumns = `
    <el-table-column label="类别 Category" width="140"><template #default="{ row }">{{ cat(row.category_code) }}</template></el-table-column>
    <el-table-column label="中队 Squad" width="110"><template #default="{ row }">{{ squad(row.squad_id) }}</template></el-table-column>
    <el-table-column label="状态 State" width="170"><template #default="{ row }"><gd-task-status :status="row.status" /> <gd-deadline :task="row" /></template></el-table-column>
    <el-table-column label="时限 Due" width="140"><template #default="{ row }">{{ time(row.due_at) }}</template></el-table-column>`;
  const common = {
    ...GD.names,
    time: L_.time,
    open(row) { location.hash = "#/report/" + row.report_id; },
  };
  async function all(filters) {
    try { return (await api.tasks(Object.assign({ per_page: 200 }, filters))).items; } catch (e) { GD.showError(e); return []; }
  }

  GD.screens.duty = {
    data: () => ({ returns: [], extensions: [], red: [] }),
    template: `
      <div class="gd-duty">
        <h2 class="gd-title">值班长审批 <small>Duty chief</small></h2>
        <h3>回退申请 Return requests</h3>
        <el-table :data="returns" size="small" @row-click="open" empty-text="没有待审批的回退 None" class="gd-returns">
          ${taskColumns}
          <el-table-column label="理由 Reason" min-width="200"><template #default="{ row }">{{ row.pending_return && row.pending_return.reason }}</template></el-table-column>
        </el-table>
        <h3>延期申请 Extension requests</h3>
        <el-table :data="extensions" size="small" @row-click="open" empty-text="没有待审批的延期 None" class="gd-extensions">
          ${taskColumns}
          <el-table-column label="申请 Asked" min-width="200"><template #default="{ row }">{{ row.pending_extension.extra_hours }} 工作小时：{{ row.pending_extension.reason }}</template></el-table-column>
        </el-table>
        <h3>红灯超期 Overdue (督办)</h3>
        <el-table :data="red" size="small" @row-click="open" empty-text="没有超期任务 None" class="gd-overdue">
          ${taskColumns}
          <el-table-column label="督办 Escalations" min-width="200">
            <template #default="{ row }">
              <span class="gd-muted">{{ (row.escalations || []).length ? (row.escalations.length + ' 次，最近：' + row.escalations[row.escalations.length - 1].reason) : '—' }}</span>
              <el-button size="small" type="danger" @click.stop="escalate(row)" :data-escalate="row.id">督办 Escalate</el-button>
            </template>
          </el-table-column>
        </el-table>
      </div>`,
    watch: { "store.changeTick"() { this.load(); } },
    created() { this.load(); },
    methods: Object.assign({
      async load() {
        this.returns = await all({ status: "return_requested" });
        const running = await all({});
        this.extensions = running.filter((t) => t.pending_extension);
        this.red = await all({ overdue: "true" });
      },
      async escalate(row) {
        let reason;
        try {
          ({ value: reason } = await ElementPlus.ElMessageBox.prompt("督办理由（中队长和网格长会收到通知）Reason — the squad's leaders and the grid leaders are told", "督办 Escalate", {
            confirmButtonText: "督办 Escalate", cancelButtonText: "取消 Cancel", inputType: "textarea",
          }));
        } catch (_) { return; }
        try { await api.command({ type: "escalate_task", task_id: row.id, reason: reason || "" }); GD.showOk("已督办 Escalated"); await this.load(); }
        catch (e) { GD.showError(e); }
      },
    }, common),
  };

  GD.screens.recheck = {
    data: () => ({ verified: [], waiting: [], rework: [] }),
    template: `
      <div class="gd-recheck">
        <h2 class="gd-title">核查结案 <small>Re-check and closure</small></h2>
        <h3>核查通过，待结案 Verified, to close</h3>
        <el-table :data="verified" size="small" @row-click="open" empty-text="没有待结案 None" class="gd-verified">
          ${taskColumns}
          <el-table-column label="核查 Re-check" min-width="160"><template #default="{ row }">{{ row.last_recheck && row.last_recheck.note || '通过 passed' }}</template></el-table-column>
        </el-table>
        <h3>待网格员核查 Waiting for re-check</h3>
        <el-table :data="waiting" size="small" @row-click="open" empty-text="没有 None">${taskColumns}</el-table>
        <h3>返工 Rework</h3>
        <el-table :data="rework" size="small" @row-click="open" empty-text="没有 None">
          ${taskColumns}
          <el-table-column label="未通过原因 Why" min-width="160"><template #default="{ row }">{{ row.last_recheck && row.last_recheck.note }}</template></el-table-column>
        </el-table>
      </div>`,
    watch: { "store.changeTick"() { this.load(); } },
    created() { this.load(); },
    methods: Object.assign({
      async load() {
        [this.verified, this.waiting, this.rework] = await Promise.all([
          all({ status: "verified" }), all({ status: "closed" }), all({ status: "rework" }),
        ]);
        // A verified task whose report is already closed is done: keep only those to close.
        const open = await Promise.all(this.verified.map((t) => api.report(t.report_id).then((d) => d.report.status === "accepted").catch(() => false)));
        this.verified = this.verified.filter((_, i) => open[i]);
      },
    }, common),
  };

  GD.screens.cases = {
    data: () => ({ status: "proposed", rows: [], loading: false }),
    template: `
      <div class="gd-cases">
        <h2 class="gd-title">案件办理 <small>Cases</small></h2>
        <el-radio-group v-model="status" size="small" class="gd-filters">
          <el-radio-button value="proposed">立案建议 Proposed</el-radio-button>
          <el-radio-button value="filed">已立案 Filed</el-radio-button>
          <el-radio-button value="investigating">调查取证 Investigating</el-radio-button>
          <el-radio-button value="notified">已告知 Notified</el-radio-button>
          <el-radio-button value="hearing">听证 Hearing</el-radio-button>
          <el-radio-button value="legal_review">法制审核 Legal review</el-radio-button>
          <el-radio-button value="decided">已决定 Decided</el-radio-button>
          <el-radio-button value="served">已送达 Served</el-radio-button>
          <el-radio-button value="published">已公示 Published</el-radio-button>
          <el-radio-button value="archived">已归档 Archived</el-radio-button>
          <el-radio-button value="declined">不予立案 Declined</el-radio-button>
        </el-radio-group>
        <el-table :data="rows" v-loading="loading" size="small" @row-click="openCase" empty-text="没有案件 No cases" class="gd-case-table">
          <el-table-column label="建议时间 Proposed" width="140"><template #default="{ row }">{{ time(row.proposed_at) }}</template></el-table-column>
          <el-table-column label="认定意见 Finding" min-width="260"><template #default="{ row }">{{ row.finding }}</template></el-table-column>
          <el-table-column label="认定单位 Unit" width="140"><template #default="{ row }">{{ row.issuing_unit }}</template></el-table-column>
          <el-table-column label="涉嫌违反 Provision" min-width="160"><template #default="{ row }">{{ row.suspected_provision }}</template></el-table-column>
          <el-table-column label="状态 State" width="110"><template #default="{ row }"><el-tag size="small">{{ L.label(L.CASE_STATUS, row.status) }}</el-tag> {{ row.number || '' }}</template></el-table-column>
        </el-table>
      </div>`,
    watch: { status() { this.load(); }, "store.changeTick"() { this.load(); } },
    created() { this.L = L_; this.load(); },
    methods: Object.assign({
      openCase(row) { location.hash = "#/case/" + row.id; },
      async load() {
        this.loading = true;
        try { this.rows = (await api.cases({ status: this.status, per_page: 200 })).items; }
        catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
    }, common),
  };
})();
