// 线索受理 Intake queue: every report the reader may see, filtered and paged on the server;
// new and changed reports appear without a reload (the live connection bumps store.changeTick).
(function () {
  "use strict";
  const { api, store, labels: L_ } = GD;

  GD.screens.intake = {
    data: () => ({
      f: { status: "reported", cell: "", category: "", source: "", overdue: false, q: "", sort: "newest" },
      page: 1, perPage: 20, total: 0, rows: [], loading: false, cells: [], seenAt: null,
    }),
    template: `
      <div class="gd-intake">
        <div class="gd-title-row">
          <h2 class="gd-title">线索受理 <small>Intake</small></h2>
          <el-button v-if="isDispatcher" type="primary" id="new-hotline" @click="go('#/hotline')">＋ 来电登记 New phone report</el-button>
        </div>
        <el-form :inline="true" size="small" class="gd-filters" @submit.prevent>
          <el-form-item label="状态 Status">
            <el-select v-model="f.status" clearable placeholder="全部 All" style="width:130px" id="filter-status">
              <el-option v-for="(zh, code) in L.REPORT_STATUS" :key="code" :label="zh" :value="code" />
            </el-select>
          </el-form-item>
          <el-form-item label="网格 Cell">
            <el-select v-model="f.cell" clearable filterable placeholder="全部 All" style="width:150px">
              <el-option v-for="c in cells" :key="c.code" :label="c.name" :value="c.code" />
            </el-select>
          </el-form-item>
          <el-form-item label="类别 Category">
            <el-select v-model="f.category" clearable filterable placeholder="全部 All" style="width:150px">
              <el-option v-for="c in store.categories" :key="c.code" :label="c.code + ' ' + c.name" :value="c.code" />
            </el-select>
          </el-form-item>
          <el-form-item label="来源 Source">
            <el-select v-model="f.source" clearable placeholder="全部 All" style="width:120px">
              <el-option v-for="(zh, code) in L.SOURCE" :key="code" :label="zh" :value="code" />
            </el-select>
          </el-form-item>
          <el-form-item><el-checkbox v-model="f.overdue">超期 Overdue</el-checkbox></el-form-item>
          <el-form-item>
            <el-input v-model="f.q" placeholder="描述中的文字 Text" clearable style="width:150px" @keyup.enter="reload" />
          </el-form-item>
          <el-form-item>
            <el-radio-group v-model="f.sort">
              <el-radio-button value="urgent">最紧急 Most urgent</el-radio-button>
              <el-radio-button value="newest">最新 Newest</el-radio-button>
              <el-radio-button value="oldest">等待最久 Waiting longest</el-radio-button>
            </el-radio-group>
          </el-form-item>
        </el-form>
        <el-table :data="rows" v-loading="loading" size="small" stripe highlight-current-row
          @row-click="open" class="gd-report-table" empty-text="没有线索 No reports" :row-class-name="rowClass" height="calc(100vh - 250px)">
          <el-table-column label="上报时间 Reported" width="140">
            <template #default="{ row }"><span class="gd-new" v-if="isNew(row)">新</span>{{ time(row.report.created_at) }}</template>
          </el-table-column>
          <el-table-column label="来源 Source" width="96">
            <template #default="{ row }">{{ L.label(L.SOURCE, row.report.source) }}</template>
          </el-table-column>
          <el-table-column label="类别 Category" width="120">
            <template #default="{ row }">{{ cat(row.report.category_code) }}</template>
          </el-table-column>
          <el-table-column label="描述 Description" min-width="260" show-overflow-tooltip>
            <template #default="{ row }"><span class="gd-desc">{{ row.report.description }}</span></template>
          </el-table-column>
          <el-table-column label="网格 Cell" width="120">
            <template #default="{ row }">{{ cellName(row.report.cell && row.report.cell.village) }}</template>
          </el-table-column>
          <el-table-column label="状态 State" width="96">
            <template #default="{ row }"><gd-report-status :status="row.report.status" /></template>
          </el-table-column>
          <el-table-column label="任务 Task" width="170">
            <template #default="{ row }">
              <template v-if="row.task"><gd-task-status :status="row.task.status" /> <gd-deadline :task="row.task" /></template>
              <span v-else-if="row.report.transfer_in && row.report.transfer_in.status === 'sent'" :class="['gd-clock', 'gd-transfer-in', inLight(row.report.transfer_in)]">部门移送待答复 Answer by {{ time(row.report.transfer_in.answer_due) }}</span>
            </template>
          </el-table-column>
        </el-table>
        <el-pagination class="gd-pager" layout="total, prev, pager, next" :total="total" :page-size="perPage"
          v-model:current-page="page" @current-change="load" />
      </div>`,
    computed: { isDispatcher() { return GD.has("dispatcher"); } },
    watch: {
      // Typing in the text filter should not send a request per keystroke.
      f: { deep: true, handler() { clearTimeout(this.filterTimer); this.filterTimer = setTimeout(() => this.reload(), 300); } },
      "store.changeTick"() { this.load(); },
    },
    created() {
      this.L = L_;
      this.seenAt = Date.now();
      this.firstSeen = {};
      GD.loadGrid().then((fc) => {
        this.cells = (fc.features || []).filter((x) => x.properties.level !== "town")
          .map((x) => x.properties).sort((a, b) => a.code.localeCompare(b.code));
      }).catch(() => {});
      this.load();
    },
    methods: {
      time: L_.time,
      ...GD.names,
      cellName(code) {
        if (!code) return "—";
        const c = this.cells.find((x) => x.code === code);
        return c ? c.name : code;
      },
      go(h) { location.hash = h; },
      reload() { this.page = 1; this.load(); },
      async load() {
        this.loading = true;
        try {
          const p = await api.reports({
            status: this.f.status, cell: this.f.cell, category: this.f.category, source: this.f.source,
            overdue: this.f.overdue ? "true" : "", q: this.f.q.trim(), sort: this.f.sort,
            page: this.page, per_page: this.perPage,
          });
          // Rows that were not on screen before and arrived live are marked new.
          const first = !this.loadedOnce;
          p.items.forEach((r) => {
            if (!(r.report.id in this.firstSeen)) this.firstSeen[r.report.id] = first ? 0 : Date.now();
          });
          this.loadedOnce = true;
          this.rows = p.items;
          this.total = p.total;
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      // A department's transfer in waits for the brigade's answer (3 days): its clock's light.
      inLight(t) {
        const f = t.flags.map((x) => x.level);
        return f.includes("red") ? "gd-red" : f.includes("yellow") ? "gd-yellow" : "";
      },
      isNew(row) { return this.firstSeen[row.report.id] > 0 && Date.now() - this.firstSeen[row.report.id] < 120000; },
      rowClass({ row }) { return this.isNew(row) ? "gd-row-new" : ""; },
      open(row) { location.hash = "#/report/" + row.report.id; },
    },
  };
})();
