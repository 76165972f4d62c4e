// 信息共享 Sharing (seed 000 三(三)): what departments share with the brigade — licences,
// filings, confirmations, regulations, discretion standards, inspections, briefings — one by one
// or as a CSV file (all rows or none), and the brigade's decisions owed to the departments
// concerned within 5 days (处罚决定抄告), which a liaison confirms. A liaison sees and sends its
// own department's; town-wide roles see everything. The server decides both.
(function () {
  "use strict";
  const { api, labels: L_ } = GD;

  const KIND = {
    regulation: "法规规章 Regulation",
    licence: "行政许可 Licence",
    filing: "备案 Filing",
    confirmation: "确认 Confirmation",
    discretion_standard: "裁量基准 Discretion standard",
    inspection: "检查结果 Inspection",
    briefing: "情况通报 Briefing",
    other: "其他 Other",
  };
  GD.sharedKind = (k) => KIND[k] || k;

  function emptyItem() {
    return { kind: "licence", title: "", number: "", party_name: "", credit_code: "", address: "", content: "" };
  }

  GD.screens.sharing = {
    data: () => ({
      tab: "shared", items: [], notices: [], departments: [], loading: false, busy: false,
      filter: { kind: "", q: "", department_id: "" }, undelivered: false,
      sharing: false, form: emptyItem(), asDept: "", problems: [], kinds: KIND,
    }),
    template: `
      <div class="gd-sharing">
        <h2 class="gd-title">信息共享 <small>Information sharing</small></h2>
        <el-tabs v-model="tab">
          <el-tab-pane label="共享信息 Shared" name="shared">
            <div class="gd-title-row">
              <el-form inline @submit.prevent>
                <el-select v-model="filter.kind" clearable placeholder="类别 Kind" style="width:170px" id="shared-kind">
                  <el-option v-for="(v, k) in kinds" :key="k" :label="v" :value="k" />
                </el-select>
                <el-select v-if="!liaison" v-model="filter.department_id" clearable placeholder="部门 Department" style="width:200px">
                  <el-option v-for="d in departments" :key="d.id" :label="d.name" :value="d.id" />
                </el-select>
                <el-input v-model="filter.q" placeholder="名称、当事人、信用代码 Search" style="width:240px" id="shared-q" @keyup.enter="load" />
                <el-button @click="load">查询 Search</el-button>
              </el-form>
              <span v-if="canShare">
                <el-select v-if="!liaison" v-model="asDept" placeholder="代表部门 For department" style="width:180px" id="shared-as">
                  <el-option v-for="d in departments" :key="d.id" :label="d.name" :value="d.id" />
                </el-select>
                <el-button type="primary" id="shared-new" @click="sharing = true; form = emptyItem()">＋ 共享一条 Share</el-button>
                <label class="el-button el-button--default gd-file-button">导入 CSV Import
                  <input type="file" accept=".csv,text/csv" id="shared-import" @change="importCsv" hidden />
                </label>
              </span>
            </div>
            <el-alert v-if="problems.length" type="error" :closable="true" @close="problems = []" show-icon class="gd-shared-problems"
              title="文件未导入，请改正后重试（没有保存任何一行）The file was not imported; nothing was stored">
              <div v-for="(p, i) in problems.slice(0, 20)" :key="i" class="gd-small">{{ problemText(p) }}</div>
            </el-alert>
            <el-table :data="items" v-loading="loading" size="small" stripe class="gd-shared" empty-text="没有共享信息 Nothing shared">
              <el-table-column label="类别 Kind" width="140"><template #default="{ row }">{{ kindName(row.kind) }}</template></el-table-column>
              <el-table-column label="名称 Title" min-width="180"><template #default="{ row }">{{ row.title }}<div class="gd-muted gd-small">{{ row.number }}</div></template></el-table-column>
              <el-table-column label="当事人 Party" min-width="170"><template #default="{ row }">{{ row.party_name || '—' }}<div class="gd-muted gd-small">{{ row.credit_code }}</div></template></el-table-column>
              <el-table-column label="地点 Place" min-width="150"><template #default="{ row }">{{ row.address || '—' }}</template></el-table-column>
              <el-table-column label="有效期 Valid" width="190"><template #default="{ row }">{{ row.valid_from || '' }}{{ row.valid_until ? ' — ' + row.valid_until : '' }}</template></el-table-column>
              <el-table-column label="部门 From" width="160"><template #default="{ row }">{{ deptName(row.department_id) }}</template></el-table-column>
            </el-table>
          </el-tab-pane>
          <el-tab-pane label="处罚决定抄告 Decision notices" name="notices">
            <p class="gd-hint">执法队作出的处罚决定，应在 5 日内抄告相关职能部门；经对接系统送达或由部门联络员确认收到。
              (The brigade's decisions go to the departments concerned within 5 days — delivered by webhook or confirmed by the liaison.)</p>
            <el-checkbox v-model="undelivered" @change="loadNotices">只看未送达 Undelivered only</el-checkbox>
            <el-table :data="notices" size="small" stripe class="gd-notices" empty-text="没有抄告 No notices">
              <el-table-column label="案号 Case" width="160"><template #default="{ row }"><a :href="'#/case/' + row.notice.case_id">{{ row.case_number || row.notice.case_id.slice(0, 8) }}</a></template></el-table-column>
              <el-table-column label="决定 Decision" min-width="220"><template #default="{ row }">{{ decisionText(row.decision) }}</template></el-table-column>
              <el-table-column label="部门 Department" width="170"><template #default="{ row }">{{ deptName(row.notice.department_id) }}</template></el-table-column>
              <el-table-column label="应抄告 Due" width="150"><template #default="{ row }"><span :class="row.overdue ? 'gd-red' : ''">{{ time(row.notice.due_at) }}</span></template></el-table-column>
              <el-table-column label="送达 Delivered" width="220">
                <template #default="{ row }">
                  <span v-if="row.notice.delivered_at" class="gd-notice-delivered">{{ time(row.notice.delivered_at) }} · {{ via(row.notice.delivered_via) }}</span>
                  <el-button v-else-if="liaison" size="small" type="primary" :data-ack-notice="row.notice.id" @click="ack(row)">确认收到 Confirm receipt</el-button>
                  <el-tag v-else size="small" :type="row.overdue ? 'danger' : 'warning'">{{ row.overdue ? '逾期未送达 Overdue' : '待送达 Pending' }}</el-tag>
                </template>
              </el-table-column>
            </el-table>
          </el-tab-pane>
        </el-tabs>
        <el-dialog v-model="sharing" title="共享信息 Share an item" width="560px" class="gd-share-dialog">
          <el-form label-width="150px">
            <el-form-item label="类别 Kind">
              <el-select v-model="form.kind" id="share-kind"><el-option v-for="(v, k) in kinds" :key="k" :label="v" :value="k" /></el-select>
            </el-form-item>
            <el-form-item label="名称 Title"><el-input v-model="form.title" id="share-title" /></el-form-item>
            <el-form-item label="文号 Number"><el-input v-model="form.number" id="share-number" /></el-form-item>
            <el-form-item label="当事人 Party"><el-input v-model="form.party_name" id="share-party" /></el-form-item>
            <el-form-item label="统一社会信用代码 Credit code"><el-input v-model="form.credit_code" id="share-credit" /></el-form-item>
            <el-form-item label="地址 Address"><el-input v-model="form.address" id="share-address" /></el-form-item>
            <el-form-item label="内容 Content"><el-input v-model="form.content" type="textarea" :rows="3" id="share-content" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="sharing = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="share-save" @click="share">共享 Share</el-button>
          </template>
        </el-dialog>
      </div>`,
    computed: {
      liaison() { return this.store.roles.includes("department_liaison"); },
      canShare() { return this.liaison || this.store.roles.includes("admin"); },
    },
    watch: { "store.changeTick"() { this.loadNotices(); } },
    async created() {
      try { this.departments = await api.departments(); } catch (e) { GD.showError(e); }
      this.load();
      this.loadNotices();
    },
    methods: {
      time: L_.time,
      emptyItem,
      kindName: (k) => GD.sharedKind(k),
      deptName(id) {
        const d = this.departments.find((x) => x.id === id);
        return d ? d.name : (id || "").slice(0, 8);
      },
      via: (v) => ({ webhook: "对接系统 Webhook", liaison: "联络员确认 Liaison" }[v] || v || ""),
      decisionText(d) {
        if (!d || !d.decision) return "";
        const k = d.decision;
        const what = k.decision === "penalty" ? (k.sanctions || []).map(GD.sanctionText).join("、") : "不予行政处罚 No penalty";
        return `${d.number} · ${what}`;
      },
      problemText(p) {
        const where = [p.row ? `第 ${p.row} 行 row ${p.row}` : "", p.column].filter(Boolean).join(" ");
        return `${where}：${p.message}`;
      },
      async load() {
        this.loading = true;
        try { this.items = await api.shared({ ...this.filter, limit: 500 }); }
        catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      async loadNotices() {
        try { this.notices = await api.notices({ undelivered: this.undelivered ? "true" : "" }); }
        catch (e) { GD.showError(e); }
      },
      clean(form) {
        const out = {};
        Object.entries(form).forEach(([k, v]) => { if (v !== "" && v !== null) out[k] = v; });
        return out;
      },
      async share() {
        this.busy = true;
        try {
          await api.share(this.clean(this.form), this.liaison ? undefined : this.asDept);
          GD.showOk("已共享 Shared");
          this.sharing = false;
          this.load();
        } catch (e) { this.problems = (e.detail && e.detail.problems) || []; GD.showError(e); } finally { this.busy = false; }
      },
      async importCsv(ev) {
        const file = ev.target.files[0];
        ev.target.value = "";
        if (!file) return;
        this.problems = [];
        try {
          const r = await api.importShared(await file.text(), this.liaison ? undefined : this.asDept);
          GD.showOk(`已导入 ${r.imported} 条 Imported ${r.imported}`);
          this.load();
        } catch (e) {
          this.problems = (e.detail && e.detail.problems) || [];
          GD.showError(e);
        }
      },
      async ack(row) {
        try {
          await api.ackNotice(row.notice.id);
          GD.showOk("已确认收到 Receipt confirmed");
          this.loadNotices();
        } catch (e) { GD.showError(e); }
      },
    },
  };

  // On a report: what departments shared about its place or its case's party (a licence of the
  // shop, a filing of the builder), nearest first — shown only when there is something.
  GD.components["gd-report-shared"] = {
    props: ["reportId"],
    data: () => ({ matches: [] }),
    template: `
      <el-card v-if="matches.length" shadow="never" class="gd-card gd-report-shared">
        <template #header>相关共享信息 Shared by departments</template>
        <div v-for="m in matches" :key="m.item.id" class="gd-small gd-shared-match">
          <el-tag size="small">{{ kindName(m.item.kind) }}</el-tag>
          <b>{{ m.item.title }}</b> {{ m.item.number || '' }} · {{ m.item.party_name || m.item.address || '' }}
          <span class="gd-muted">（{{ m.matched_by === 'place' ? '相距 ' + Math.round(m.distance_m || 0) + ' 米 ' + Math.round(m.distance_m || 0) + ' m away' : '同一当事人 same party' }}）</span>
          <span v-if="m.item.valid_until" class="gd-muted"> 有效至 valid until {{ m.item.valid_until }}</span>
        </div>
      </el-card>`,
    watch: { reportId() { this.load(); } },
    created() { this.load(); },
    methods: {
      kindName: (k) => GD.sharedKind(k),
      async load() {
        if (!this.reportId) return;
        try { this.matches = await api.reportShared(this.reportId); } catch (e) {
          this.matches = [];
          // A reader the report is not shown to gets nothing here; anything else is said.
          if (e.status !== 403 && e.status !== 404) GD.showError(e);
        }
      },
    },
  };
})();
