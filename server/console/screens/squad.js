// 中队任务 Squad board: the squad leader's tasks; accepting one assigns officers picked by
// name (an officer without a valid certificate is shown, disabled, with the reason).
(function () {
  "use strict";
  const { api, store, labels: L_ } = GD;

  /** Why a member cannot be assigned, or null when they can. */
  function unavailable(m) {
    if (m.disabled) return "账号已停用 account disabled";
    if (!m.roles.includes("officer")) return "非执法人员 not an officer";
    if (!m.certificate) return "无执法证 no certificate";
    if (!m.certificate_valid) return `执法证已过期（${m.certificate.valid_until}）certificate expired`;
    return null;
  }

  // The accept dialog, shared by the squad board and the report detail.
  GD.components["gd-accept-task"] = {
    props: ["modelValue", "task"],
    emits: ["update:modelValue", "done"],
    data: () => ({ members: [], picked: [], busy: false, error: "" }),
    template: `
      <el-dialog :model-value="modelValue" @update:model-value="$emit('update:modelValue', $event)"
        title="签收并指派执法人员 Accept and assign officers" width="620px" class="gd-accept-dialog">
        <p v-if="penalty" class="gd-hint">此类别可能涉及处罚：须至少两名持证执法人员 (may lead to a penalty: at least two certified officers)</p>
        <el-checkbox-group v-model="picked" class="gd-officers">
          <div v-for="m in members" :key="m.id" class="gd-officer" :data-officer="m.username">
            <el-checkbox :value="m.id" :disabled="!!m.why">
              <b>{{ m.display_name }}</b>
              <span class="gd-muted gd-small" v-if="m.certificate">执法证 {{ m.certificate.number }}，有效至 {{ m.certificate.valid_until }}</span>
            </el-checkbox>
            <span v-if="m.why" class="gd-why">{{ m.why }}</span>
          </div>
        </el-checkbox-group>
        <div v-if="error" class="gd-error">{{ error }}</div>
        <template #footer>
          <el-button @click="$emit('update:modelValue', false)">取消 Cancel</el-button>
          <el-button type="primary" :loading="busy" @click="accept" id="accept-confirm">签收 Accept（{{ picked.length }} 人）</el-button>
        </template>
      </el-dialog>`,
    // Loaded each time the dialog opens (also when it is created open).
    watch: { modelValue: { immediate: true, handler(open) { if (open) this.load(); } } },
    computed: {
      penalty() {
        const c = store.categories.find((x) => x.code === this.task.category_code);
        return !!(c && c.penalty_possible);
      },
    },
    methods: {
      async load() {
        this.picked = []; this.error = "";
        try {
          const s = await api.squadMembers(this.task.squad_id);
          this.members = s.members.map((m) => Object.assign({ why: unavailable(m) }, m));
          s.members.forEach((m) => { GD.people[m.id] = m.display_name; });
        } catch (e) { this.error = e.message; }
      },
      async accept() {
        this.busy = true;
        try {
          await api.command({ type: "accept_task", task_id: this.task.id, officer_ids: this.picked });
          GD.showOk("已签收 Accepted");
          this.$emit("update:modelValue", false);
          this.$emit("done");
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };

  GD.screens.squad = {
    data: () => ({ status: "dispatched", rows: [], total: 0, page: 1, loading: false, acceptOpen: false, current: null }),
    template: `
      <div class="gd-squad">
        <h2 class="gd-title">中队任务 <small>Squad board</small></h2>
        <el-radio-group v-model="status" size="small" class="gd-filters" id="squad-status">
          <el-radio-button value="dispatched">待签收 To accept</el-radio-button>
          <el-radio-button value="accepted">已签收 Accepted</el-radio-button>
          <el-radio-button value="on_site">处置中 On site</el-radio-button>
          <el-radio-button value="rework">返工 Rework</el-radio-button>
          <el-radio-button value="handled">已处置 Handled</el-radio-button>
          <el-radio-button value="return_requested">申请回退 Return asked</el-radio-button>
          <el-radio-button value="closed">待核查 Re-check</el-radio-button>
          <el-radio-button value="">全部 All</el-radio-button>
        </el-radio-group>
        <el-table :data="rows" v-loading="loading" size="small" stripe class="gd-task-table" empty-text="没有任务 No tasks">
          <el-table-column label="类别 Category" width="140"><template #default="{ row }">{{ cat(row.category_code) }}</template></el-table-column>
          <el-table-column label="中队 Squad" width="110"><template #default="{ row }">{{ squad(row.squad_id) }}</template></el-table-column>
          <el-table-column label="派遣 Dispatched" width="140"><template #default="{ row }">{{ time(row.dispatched_at) }}</template></el-table-column>
          <el-table-column label="时限 Due" width="140"><template #default="{ row }">{{ time(row.due_at) }}</template></el-table-column>
          <el-table-column label="状态 State" width="170"><template #default="{ row }"><gd-task-status :status="row.status" /> <gd-deadline :task="row" /></template></el-table-column>
          <el-table-column label="执法人员 Officers" min-width="140"><template #default="{ row }">{{ row.officer_ids.map(person).join('、') || '—' }}</template></el-table-column>
          <el-table-column label="操作 Actions" width="190">
            <template #default="{ row }">
              <el-button v-if="row.status === 'dispatched'" size="small" type="primary" @click="accept(row)" :data-accept="row.id">签收 Accept</el-button>
              <el-button size="small" @click="open(row)">详情 Detail</el-button>
            </template>
          </el-table-column>
        </el-table>
        <el-pagination class="gd-pager" layout="total, prev, pager, next" :total="total" :page-size="50" v-model:current-page="page" @current-change="load" />
        <gd-accept-task v-if="current" v-model="acceptOpen" :task="current" @done="load" />
      </div>`,
    watch: { status() { this.page = 1; this.load(); }, "store.changeTick"() { this.load(); } },
    created() { this.load(); },
    methods: {
      time: L_.time,
      ...GD.names,
      async load() {
        this.loading = true;
        try {
          const p = await api.tasks({ status: this.status, page: this.page, per_page: 50 });
          this.rows = p.items; this.total = p.total;
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      accept(row) { this.current = row; this.acceptOpen = true; },
      open(row) { location.hash = "#/report/" + row.report_id; },
    },
  };
})();
