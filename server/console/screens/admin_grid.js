// 系统管理 · 网格导入, 工作日历 and 审计链: upload a grid (GeoJSON) — every problem the server finds is
// listed and shown on the map over the uploaded file — and load a year's official calendar
// (holiday-cn JSON); check the audit chain.
(function () {
  "use strict";
  const { api, labels: L_ } = GD;

  GD.components["gd-grid-import"] = {
    data: () => ({
      crs: "wgs84", gap: 0, fileName: "", text: "", busy: false, problems: [], result: null,
      error: "", versions: [],
    }),
    template: `
      <div class="gd-grid-import">
        <el-form :inline="true" size="small" @submit.prevent>
          <el-form-item label="GeoJSON 文件 File">
            <input type="file" accept=".geojson,.json,application/geo+json,application/json" id="grid-file" @change="pick" />
          </el-form-item>
          <el-form-item label="坐标系 CRS">
            <el-select v-model="crs" style="width:150px">
              <el-option label="WGS-84 (GPS)" value="wgs84" />
              <el-option label="GCJ-02 (高德/腾讯)" value="gcj02" />
              <el-option label="BD-09 (百度)" value="bd09" />
            </el-select>
          </el-form-item>
          <el-form-item label="可接受缝隙 Gap tolerance (m²)"><el-input-number v-model="gap" :min="0" :step="10" /></el-form-item>
          <el-form-item>
            <el-button type="primary" :disabled="!text" :loading="busy" @click="upload" id="grid-upload">导入 Import</el-button>
          </el-form-item>
        </el-form>
        <el-alert v-if="result" type="success" :closable="false" show-icon id="grid-result"
          :title="'已导入，当前网格版本 ' + result.version + ' (imported: version ' + result.version + ')'" />
        <el-alert v-if="error" type="error" :closable="false" show-icon id="grid-error" :title="error" />
        <el-row :gutter="12" v-if="problems.length || fileName">
          <el-col :span="12">
            <el-table :data="problems" size="small" height="420" class="gd-problems" highlight-current-row @current-change="focus" empty-text="没有问题 No problems">
              <el-table-column prop="kind" label="问题 Kind" width="130" />
              <el-table-column prop="code" label="网格编码 Code" width="130" />
              <el-table-column prop="message" label="说明 Message" min-width="220" />
            </el-table>
          </el-col>
          <el-col :span="12"><div ref="map" class="gd-map gd-map-import"></div></el-col>
        </el-row>
        <h4>网格版本 Versions</h4>
        <el-table :data="versions" size="small" max-height="200">
          <el-table-column prop="version" label="版本 Version" width="90" />
          <el-table-column label="导入时间 Imported" width="160"><template #default="{ row }">{{ time(row.imported_at) }}</template></el-table-column>
          <el-table-column prop="source" label="来源 Source" min-width="160" />
          <el-table-column prop="cell_count" label="网格数 Cells" width="90" />
          <el-table-column label="当前 Current" width="90"><template #default="{ row }">{{ row.is_current ? '✓' : '' }}</template></el-table-column>
        </el-table>
      </div>`,
    created() { this.loadVersions(); },
    unmounted() { if (this.map) this.map.remove(); },
    methods: {
      time: L_.time,
      async loadVersions() { try { this.versions = await api.gridVersions(); } catch (_) { this.versions = []; } },
      async pick(ev) {
        const f = ev.target.files[0];
        this.problems = []; this.result = null; this.error = "";
        if (!f) { this.text = ""; this.fileName = ""; return; }
        this.fileName = f.name;
        this.text = await f.text();
      },
      async upload() {
        this.busy = true; this.problems = []; this.result = null; this.error = "";
        try {
          this.result = await api.importGrid(this.text, { crs: this.crs, gap_tolerance_m2: this.gap, source: this.fileName });
          GD.resetGrid();
          GD.showOk("网格已导入 Grid imported");
          this.loadVersions();
        } catch (e) {
          this.error = e.message;
          this.problems = (e.detail && e.detail.problems) || [];
        } finally { this.busy = false; }
        this.$nextTick(() => this.draw());
      },
      // The uploaded file on the map, cells with a problem in red, problem positions marked.
      draw() {
        if (!this.$refs.map) return;
        if (!this.map) {
          this.map = L.map(this.$refs.map, { attributionControl: false, minZoom: 4, maxZoom: 19 });
          this.map.setView([35, 112.5], 11);
        }
        if (this.layer) this.layer.remove();
        this.layer = L.layerGroup().addTo(this.map);
        let fc = null;
        try { fc = JSON.parse(this.text); } catch (_) { return; }
        const bad = new Set(this.problems.map((p) => p.feature_index).filter((i) => i != null));
        const badCodes = new Set(this.problems.map((p) => p.code).filter(Boolean));
        (fc.features || []).forEach((f, i) => {
          const isBad = bad.has(i) || (f.properties && badCodes.has(f.properties.code));
          try {
            L.geoJSON(f, { style: isBad ? { color: "#e6412b", weight: 3, fillOpacity: 0.25 } : { color: "#5b8def", weight: 1, fillOpacity: 0.1 } }).addTo(this.layer);
          } catch (_) { /* a geometry Leaflet cannot draw: listed in the table anyway */ }
        });
        this.markers = this.problems.filter((p) => p.location).map((p) => L.marker([p.location.lat, p.location.lon], {
          icon: L.divIcon({ className: "gd-problem-marker", html: "!", iconSize: [18, 18] }),
          title: p.message,
        }).bindTooltip(`${p.kind} ${p.code || ""}`).addTo(this.layer));
        try {
          const b = L.geoJSON(fc).getBounds();
          if (b.isValid()) this.map.fitBounds(b, { padding: [10, 10] });
        } catch (_) { /* nothing drawable */ }
        setTimeout(() => this.map.invalidateSize(), 0);
      },
      focus(p) { if (p && p.location && this.map) this.map.setView([p.location.lat, p.location.lon], 16); },
    },
  };

  // 审计链校验: the full-process record's hash chain, checked on the server.
  GD.components["gd-audit-check"] = {
    data: () => ({ busy: false, result: null }),
    template: `
      <div class="gd-audit">
        <p class="gd-muted">逐条核对执法全过程记录的哈希链：记录被修改、删除或截断都会被发现。
          Walks the audit hash chain: an edited, deleted or truncated record is found.</p>
        <el-button type="primary" :loading="busy" @click="run" id="audit-verify">校验 Verify</el-button>
        <el-alert v-if="result && result.intact" type="success" :closable="false" show-icon style="margin-top:12px" id="audit-result"
          :title="'审计链完整，已核对 ' + result.checked + ' 条记录 (intact: ' + result.checked + ' records)'" />
        <template v-if="result && !result.intact">
          <el-alert type="error" :closable="false" show-icon style="margin-top:12px" id="audit-result"
            :title="'审计链被破坏：' + result.problems.length + ' 个问题 (chain broken)'" />
          <el-table :data="result.problems" size="small" style="margin-top:8px">
            <el-table-column prop="seq" label="序号 Seq" width="100" />
            <el-table-column prop="problem" label="问题 Problem" min-width="300" />
          </el-table>
        </template>
      </div>`,
    methods: {
      async run() {
        this.busy = true;
        try { this.result = await api.verifyAudit(); } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };

  GD.components["gd-calendar-upload"] = {
    data: () => ({ year: new Date().getFullYear() + 1, text: "", busy: false, result: "" }),
    template: `
      <div class="gd-calendar">
        <p class="gd-muted">国务院办公厅每年公布的放假和调休安排，holiday-cn 格式 JSON（只列例外日期）。
          Upload the State Council's yearly holidays and adjusted working days (holiday-cn JSON).</p>
        <el-form :inline="true" size="small" @submit.prevent>
          <el-form-item label="年份 Year"><el-input-number v-model="year" :min="2000" :max="2100" /></el-form-item>
          <el-form-item label="文件 File"><input type="file" accept=".json,application/json" id="calendar-file" @change="pick" /></el-form-item>
          <el-form-item><el-button type="primary" :disabled="!text" :loading="busy" @click="upload" id="calendar-upload">上传 Upload</el-button></el-form-item>
        </el-form>
        <el-alert v-if="result" type="success" :closable="false" :title="result" show-icon />
      </div>`,
    methods: {
      async pick(ev) { const f = ev.target.files[0]; this.text = f ? await f.text() : ""; this.result = ""; },
      async upload() {
        this.busy = true;
        try {
          const r = await api.putCalendar(this.year, this.text);
          this.result = `${r.year} 年日历已载入，${r.days} 个例外日期 (loaded ${r.days} exception days)`;
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };
})();
