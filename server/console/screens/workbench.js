// 工作台 Workbench: counts per stage and the signed-in user's own to-do list.
(function () {
  "use strict";
  const { api, store, has, labels: L_ } = GD;

  GD.screens.workbench = {
    data: () => ({ counts: {}, todo: [], loading: false }),
    template: `
      <div class="gd-workbench">
        <h2 class="gd-title">工作台 <small>Workbench</small></h2>
        <div class="gd-counts">
          <a v-for="c in cards" :key="c.key" :href="c.href" class="gd-count-link">
            <el-card shadow="hover" class="gd-count" :class="'gd-count-' + c.key" :data-count="c.key">
              <div class="gd-count-label">{{ c.zh }} <small>{{ c.en }}</small></div>
              <div class="gd-count-value">{{ counts[c.key] ?? '…' }}</div>
            </el-card>
          </a>
        </div>
        <h3>我的待办 <small>My to-do</small></h3>
        <el-table :data="todo" v-loading="loading" size="small" empty-text="暂无待办 Nothing to do" class="gd-todo">
          <el-table-column label="事项 What" min-width="160">
            <template #default="{ row }"><el-tag size="small" :type="row.tag">{{ row.what }}</el-tag></template>
          </el-table-column>
          <el-table-column label="内容 Item" min-width="320">
            <template #default="{ row }"><a :href="row.href">{{ row.text }}</a></template>
          </el-table-column>
          <el-table-column label="时限 Deadline" width="130">
            <template #default="{ row }"><gd-deadline v-if="row.task" :task="row.task" /></template>
          </el-table-column>
          <el-table-column label="时间 Time" width="150">
            <template #default="{ row }">{{ time(row.at) }}</template>
          </el-table-column>
        </el-table>
      </div>`,
    computed: {
      cards() {
        return [
          { key: "reported", zh: "待受理", en: "To triage", href: "#/intake" },
          { key: "returned", zh: "待派遣", en: "To re-dispatch", href: "#/workbench" },
          { key: "dispatched", zh: "待签收", en: "To accept", href: has("squad_leader") ? "#/squad" : "#/intake" },
          { key: "working", zh: "处置中", en: "Handling", href: "#/map" },
          { key: "closed", zh: "待核查", en: "To re-check", href: "#/recheck" },
          { key: "yellow", zh: "预警", en: "Warning", href: "#/duty" },
          { key: "red", zh: "超期", en: "Overdue", href: "#/duty" },
        ];
      },
    },
    watch: { "store.changeTick"() { this.load(); } },
    created() { this.load(); },
    methods: {
      time: L_.time,
      async total(fn, filters) {
        try { return (await fn(Object.assign({ per_page: 1 }, filters))).total; } catch (_) { return "—"; }
      },
      async load() {
        this.loading = true;
        try {
          // Every count is the server's total (not a count of one page), so it stays right with
          // thousands of items; yellow = warned by the deadline job, red = past the due time.
          const [reported, returned, dispatched, accepted, onSite, rework, closed, yellow, red, running] = await Promise.all([
            this.total(api.reports, { status: "reported" }),
            this.total(api.tasks, { status: "returned" }),
            this.total(api.tasks, { status: "dispatched" }),
            this.total(api.tasks, { status: "accepted" }),
            this.total(api.tasks, { status: "on_site" }),
            this.total(api.tasks, { status: "rework" }),
            this.total(api.tasks, { status: "closed" }),
            this.total(api.tasks, { warned: "true" }),
            this.total(api.tasks, { overdue: "true" }),
            // The to-do list's rows: the most pressing 200 (earliest due first).
            api.tasks({ per_page: 200 }).catch(() => ({ items: [] })),
          ]);
          const num = (x) => (typeof x === "number" ? x : 0);
          this.counts = {
            reported, returned, dispatched, closed, yellow, red,
            working: num(accepted) + num(onSite) + num(rework),
          };
          this.todo = await this.myTodo(running.items);
        } finally { this.loading = false; }
      },
      // What this user's roles owe now, most pressing first.
      async myTodo(tasks) {
        const out = [];
        const taskRow = (t, what, tag) => ({
          key: what + t.id, what, tag, task: t, at: t.due_at,
          text: `${GD.categoryName(t.category_code)} · ${GD.squadName(t.squad_id)}`,
          href: "#/report/" + t.report_id,
        });
        if (has("dispatcher")) {
          const r = await api.reports({ status: "reported", sort: "oldest", per_page: 20 }).catch(() => ({ items: [] }));
          r.items.forEach((v) => out.push({
            key: "r" + v.report.id, what: "待受理 Triage", tag: "danger", at: v.report.created_at,
            text: `${GD.categoryName(v.report.category_code)} · ${v.report.description}`, href: "#/report/" + v.report.id,
          }));
          tasks.filter((t) => t.status === "returned").forEach((t) => out.push(taskRow(t, "重新派遣 Re-dispatch", "warning")));
          const v = await api.tasks({ status: "verified", per_page: 50 }).catch(() => ({ items: [] }));
          v.items.forEach((t) => out.push(taskRow(t, "核查通过待结案 Close", "success")));
        }
        if (has("squad_leader")) {
          tasks.filter((t) => t.status === "dispatched").forEach((t) => out.push(taskRow(t, "待签收 Accept", "danger")));
          tasks.filter((t) => t.status === "rework").forEach((t) => out.push(taskRow(t, "返工 Rework", "warning")));
          const h = await api.tasks({ status: "handled", per_page: 50 }).catch(() => ({ items: [] }));
          h.items.forEach((t) => out.push(taskRow(t, "已处置待结束 Close task", "primary")));
        }
        if (has("duty_chief")) {
          tasks.filter((t) => t.status === "return_requested").forEach((t) => out.push(taskRow(t, "审批回退 Return", "warning")));
          tasks.filter((t) => t.pending_extension).forEach((t) => out.push(taskRow(t, "审批延期 Extension", "warning")));
        }
        if (has("approver")) {
          const c = await api.cases({ status: "proposed", per_page: 50 }).catch(() => ({ items: [] }));
          c.items.forEach((k) => out.push({
            key: "c" + k.id, what: "立案建议 Case proposed", tag: "danger", at: k.proposed_at,
            text: `${k.finding}`, href: "#/case/" + k.id,
          }));
        }
        if (has("legal_reviewer")) {
          const c = await api.cases({ status: "legal_review", per_page: 50 }).catch(() => ({ items: [] }));
          c.items.forEach((k) => out.push({
            key: "r" + k.id, what: "法制审核 Legal review", tag: "warning", at: k.updated_at || k.proposed_at,
            text: `${k.number || ""} ${k.finding}`, href: "#/case/" + k.id,
          }));
        }
        return out;
      },
    },
  };
})();
