// 综合评价 Statistics: on-time, closure, rework, extension and return rates and median times per
// squad, category, village, area or town (the villages rolled up) or month of receipt, over a
// chosen period (or all time), as a chart and a table, with CSV export. A grid leader's figures
// count their own cells only (the server scopes them).
(function () {
  "use strict";
  const { api, store } = GD;

  const pct = (v) => (v == null ? "—" : (v * 100).toFixed(1) + "%");

  GD.screens.stats = {
    data: () => ({ groupBy: "squad", period: null, rows: [], loading: false, cells: {} }),
    template: `
      <div class="gd-stats">
        <div class="gd-title-row">
          <h2 class="gd-title">综合评价 <small>Statistics</small></h2>
          <div class="gd-stats-controls">
            <el-date-picker v-model="period" type="daterange" value-format="YYYY-MM-DD" size="small" unlink-panels
              range-separator="至" start-placeholder="开始 From" end-placeholder="结束 To" id="stats-period" style="width:260px" />
            <el-radio-group v-model="groupBy" size="small" id="stats-group">
              <el-radio-button value="squad">按中队 By squad</el-radio-button>
              <el-radio-button value="cell">按村 By village</el-radio-button>
              <el-radio-button value="area">按片区 By area</el-radio-button>
              <el-radio-button value="town">按镇 By town</el-radio-button>
              <el-radio-button value="month">按月 By month</el-radio-button>
              <el-radio-button value="category">按类别 By category</el-radio-button>
            </el-radio-group>
            <el-button size="small" @click="csv" id="stats-csv">导出 CSV Export</el-button>
          </div>
        </div>
        <div ref="chart" class="gd-chart" id="stats-chart"></div>
        <el-table :data="rows" size="small" v-loading="loading" class="gd-stats-table" empty-text="暂无数据 No data">
          <el-table-column label="分组 Group" min-width="160"><template #default="{ row }">{{ name(row.key) }}</template></el-table-column>
          <el-table-column prop="received" label="受理 Received" width="90" />
          <el-table-column prop="handled" label="处置 Handled" width="90" />
          <el-table-column prop="closed" label="结案 Closed" width="90" />
          <el-table-column label="结案率 Closure" width="100"><template #default="{ row }">{{ pct(row.closure_rate) }}</template></el-table-column>
          <el-table-column label="按期处置率 On time" width="110"><template #default="{ row }">{{ pct(row.on_time_rate) }}</template></el-table-column>
          <el-table-column label="返工率 Rework" width="100"><template #default="{ row }">{{ pct(row.rework_rate) }}</template></el-table-column>
          <el-table-column label="延期率 Extension" width="100"><template #default="{ row }">{{ pct(row.extension_rate) }}</template></el-table-column>
          <el-table-column label="回退率 Return" width="100"><template #default="{ row }">{{ pct(row.return_rate) }}</template></el-table-column>
          <el-table-column label="签收中位 Ack (min)" width="120"><template #default="{ row }">{{ row.median_ack_minutes ?? '—' }}</template></el-table-column>
          <el-table-column label="处置中位 Handle (min)" width="130"><template #default="{ row }">{{ row.median_handle_minutes ?? '—' }}</template></el-table-column>
        </el-table>
      </div>`,
    watch: { groupBy() { this.load(); }, period() { this.load(); } },
    created() {
      
      GD.loadGrid().then((fc) => { (fc.features || []).forEach((f) => { this.cells[f.properties.code] = f.properties.name; }); }).catch(() => {});
    },
    mounted() {
      this.chart = echarts.init(this.$refs.chart);
      this.onResize = () => this.chart.resize();
      window.addEventListener("resize", this.onResize);
      this.load();
    },
    unmounted() { window.removeEventListener("resize", this.onResize); if (this.chart) this.chart.dispose(); },
    methods: {
      pct,
      name(key) {
        if (this.groupBy === "squad") return GD.squadName(key);
        if (this.groupBy === "category") return GD.categoryName(key);
        if (this.groupBy === "month") return key;
        return this.cells[key] || key;
      },
      async load() {
        this.loading = true;
        try {
          const [from, to] = this.period || [];
          this.rows = await api.stats(this.groupBy, from, to);
          this.draw();
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      draw() {
        const names = this.rows.map((r) => this.name(r.key));
        const rate = (k) => this.rows.map((r) => (r[k] == null ? null : +(r[k] * 100).toFixed(1)));
        this.chart.setOption({
          animation: false,
          tooltip: { trigger: "axis" },
          legend: { data: ["受理 Received", "结案 Closed", "结案率 Closure %", "按期处置率 On time %", "回退率 Return %"] },
          grid: { left: 50, right: 50, top: 40, bottom: 40 },
          xAxis: { type: "category", data: names },
          yAxis: [{ type: "value", name: "件" }, { type: "value", name: "%", max: 100 }],
          series: [
            { name: "受理 Received", type: "bar", data: this.rows.map((r) => r.received) },
            { name: "结案 Closed", type: "bar", data: this.rows.map((r) => r.closed) },
            { name: "按期处置率 On time %", type: "line", yAxisIndex: 1, data: rate("on_time_rate") },
            { name: "结案率 Closure %", type: "line", yAxisIndex: 1, data: rate("closure_rate") },
            { name: "回退率 Return %", type: "line", yAxisIndex: 1, data: rate("return_rate") },
          ],
        }, true);
      },
      csv() {
        const head = ["group", "name", "received", "handled", "closed", "closure_rate", "on_time_rate", "rework_rate", "extension_rate", "return_rate", "median_ack_minutes", "median_handle_minutes"];
        const esc = (v) => { const s = v == null ? "" : String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
        const lines = [head.join(",")].concat(this.rows.map((r) => [r.key, this.name(r.key), r.received, r.handled, r.closed, r.closure_rate, r.on_time_rate, r.rework_rate, r.extension_rate, r.return_rate, r.median_ack_minutes, r.median_handle_minutes].map(esc).join(",")));
        // BOM so that Excel opens the Chinese names correctly.
        const blob = new Blob(["\ufeff" + lines.join("\n")], { type: "text/csv;charset=utf-8" });
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        const [from, to] = this.period || [];
        a.download = `griddispatch-stats-${this.groupBy}${from ? `-${from}-${to}` : ""}.csv`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      },
    },
  };
})();
