// 系统管理 · 事件类别, 中队 and 网格人员: categories (handling time, simple procedure, penalty,
// legal basis, active), squads (members by name, cells) and the people of each cell. Every change is one API call; refusals
// show the server's message.
(function () {
  "use strict";
  const { api, store } = GD;

  GD.components["gd-categories"] = {
    data: () => ({ rows: [], editing: null, creating: false, form: {}, busy: false, problems: [] }),
    template: `
      <div class="gd-categories">
        <div class="gd-title-row">
          <span class="gd-muted">处置时限写法 Handling: 4wh 工作小时 · 1wd 工作日 · 24h 自然小时 · 90d 自然日。</span>
          <span>
            <el-button size="small" @click="exportFile" id="category-export">导出文件 Export</el-button>
            <label class="el-button el-button--small gd-file-button">导入文件 Import
              <input type="file" accept=".json,application/json" id="category-import" @change="importFile" style="display:none" /></label>
            <el-button type="primary" size="small" @click="create" id="category-new">＋ 新建类别 New category</el-button>
          </span>
        </div>
        <el-alert v-if="problems.length" type="error" :closable="true" @close="problems = []" id="category-problems"
          title="类别文件有问题，未导入任何类别 (the file has problems; nothing was imported)">
          <div v-for="p in problems" :key="p.row + ':' + p.message">第 {{ p.row }} 行 row {{ p.row }} {{ p.code || '' }}：{{ p.message }}</div>
        </el-alert>
        <el-table :data="rows" size="small" height="calc(100vh - 290px)" class="gd-category-table">
          <el-table-column prop="code" label="编码 Code" width="80" />
          <el-table-column prop="name" label="名称 Name" width="140" />
          <el-table-column prop="domain" label="执法领域 Domain" min-width="150" />
          <el-table-column prop="handling" label="时限 Handling" width="100" />
          <el-table-column label="简易程序 Simple" width="90"><template #default="{ row }">{{ row.simple_procedure ? '可' : '—' }}</template></el-table-column>
          <el-table-column label="可能处罚 Penalty" width="90"><template #default="{ row }">{{ row.penalty_possible ? '是' : '—' }}</template></el-table-column>
          <el-table-column label="启用 Active" width="70"><template #default="{ row }">{{ row.active ? '✓' : '停用' }}</template></el-table-column>
          <el-table-column label="操作" width="90"><template #default="{ row }"><el-button size="small" @click="edit(row)" :data-edit-category="row.code">编辑 Edit</el-button></template></el-table-column>
        </el-table>
        <el-dialog :model-value="!!editing" @update:model-value="editing = null" :title="creating ? '新建类别 New category' : '事件类别 Category ' + (editing ? editing.code : '')" width="560px">
          <el-form label-width="150px" v-if="editing">
            <el-form-item v-if="creating" label="编码 Code"><el-input v-model="form.code" id="category-code" placeholder="4 位数字：大类 2 位 + 小类 2 位，如 0901 (4 digits)" /></el-form-item>
            <el-form-item label="名称 Name"><el-input v-model="form.name" id="category-name" /></el-form-item>
            <el-form-item label="执法领域 Domain"><el-input v-model="form.domain" id="category-domain" /></el-form-item>
            <el-form-item label="处置时限 Handling"><el-input v-model="form.handling" id="category-handling" /></el-form-item>
            <el-form-item label="简易程序 Simple"><el-switch v-model="form.simple_procedure" /></el-form-item>
            <el-form-item label="可能处罚 Penalty"><el-switch v-model="form.penalty_possible" /></el-form-item>
            <el-form-item label="法律依据 Legal basis"><el-input v-model="form.legal_basis" type="textarea" /></el-form-item>
            <el-form-item label="启用 Active"><el-switch v-model="form.active" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="editing = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="save" id="category-save">保存 Save</el-button>
          </template>
        </el-dialog>
      </div>`,
    created() { this.load(); },
    methods: {
      async load() { try { this.rows = await api.categories(); store.categories = this.rows; } catch (e) { GD.showError(e); } },
      edit(row) { this.creating = false; this.editing = row; this.form = Object.assign({}, row); },
      async exportFile() {
        try {
          const url = await api.exportCategories();
          const a = document.createElement("a");
          a.href = url; a.download = "categories.json"; a.click();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
        } catch (e) { GD.showError(e); }
      },
      async importFile(ev) {
        const file = ev.target.files[0];
        ev.target.value = "";
        if (!file) return;
        this.problems = [];
        try {
          const s = await api.importCategories(await file.text());
          GD.showOk(`已导入：新建 ${s.created}，修改 ${s.changed}，未变 ${s.unchanged} (imported)`);
          await this.load();
        } catch (e) {
          this.problems = (e.detail && e.detail.problems) || [];
          GD.showError(e);
        }
      },
      create() {
        this.creating = true;
        this.editing = {};
        this.form = { code: "", name: "", domain: "", handling: "1wd", simple_procedure: false, penalty_possible: false, legal_basis: "", active: true };
      },
      async save() {
        const code = (this.creating ? this.form.code : this.editing.code || "").trim();
        if (this.creating && this.rows.some((r) => r.code === code)) {
          GD.showError(new Error(`编码 ${code} 已存在，请在列表中编辑 (code ${code} exists: edit it in the list)`));
          return;
        }
        this.busy = true;
        try {
          await api.putCategory(code, Object.assign({}, this.form, { code }));
          GD.showOk("已保存 Saved");
          this.editing = null;
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };

  // 网格人员: who is grid leader or grid member of each cell.
  GD.components["gd-cell-people"] = {
    data: () => ({ cells: [], code: "", detail: null, users: [], adding: "", role: "grid_member", busy: false }),
    template: `
      <div class="gd-cell-people">
        <el-form :inline="true" size="small" @submit.prevent>
          <el-form-item label="网格 Cell">
            <el-select v-model="code" filterable style="width:280px" id="cell-pick" placeholder="选择网格 Choose a cell">
              <el-option v-for="c in cells" :key="c.code" :label="levelName(c.level) + ' ' + c.name + '（' + c.code + '）'" :value="c.code" />
            </el-select>
          </el-form-item>
        </el-form>
        <template v-if="detail">
          <el-table :data="detail.members" size="small" class="gd-cell-members" empty-text="没有人员 Nobody">
            <el-table-column prop="display_name" label="姓名 Name" min-width="160" />
            <el-table-column label="职责 Role" width="120"><template #default="{ row }">{{ L.ROLE[row.role] || row.role }}</template></el-table-column>
            <el-table-column label="任命时间 Since" width="150"><template #default="{ row }">{{ L.time(row.assigned_at) }}</template></el-table-column>
            <el-table-column width="80"><template #default="{ row }"><el-button size="small" type="danger" text @click="remove(row)">移出</el-button></template></el-table-column>
          </el-table>
          <div class="gd-inline-add">
            <el-select v-model="adding" filterable placeholder="选择人员 Person" style="width:240px" id="cell-add-user">
              <el-option v-for="u in candidates" :key="u.id" :label="u.display_name + '（' + u.username + '）'" :value="u.username" />
            </el-select>
            <el-radio-group v-model="role" size="small">
              <el-radio-button value="grid_member">网格员</el-radio-button>
              <el-radio-button value="grid_leader">网格长</el-radio-button>
            </el-radio-group>
            <el-button :disabled="!adding" :loading="busy" @click="add" id="cell-add">任命 Assign</el-button>
          </div>
        </template>
      </div>`,
    computed: {
      candidates() {
        const here = new Set((this.detail ? this.detail.members : []).map((m) => m.user_id));
        return this.users.filter((u) => !u.disabled && !here.has(u.id) && u.roles.includes(this.role));
      },
    },
    watch: { code() { this.load(); } },
    async created() {
      try {
        const fc = await GD.loadGrid();
        const order = { town: 0, area: 1, village: 2 };
        this.cells = (fc.features || []).map((f) => f.properties)
          .sort((a, b) => order[a.level] - order[b.level] || a.code.localeCompare(b.code));
      } catch (_) { this.cells = []; }
      try { this.users = await api.users(); } catch (_) { this.users = []; }
    },
    methods: {
      levelName(l) { return { town: "镇", area: "片区", village: "村" }[l] || l; },
      async load() {
        if (!this.code) { this.detail = null; return; }
        try { this.detail = await api.cell(this.code); } catch (e) { GD.showError(e); }
      },
      async act(fn, ok) {
        this.busy = true;
        try { await fn(); GD.showOk(ok); await this.load(); } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async create() {
        this.busy = true;
        try {
          const s = await api.createSquad({ code: this.form.code.trim(), name: this.form.name.trim(), domain: this.form.domain.trim() });
          GD.showOk("已创建 Created");
          this.newOpen = false;
          this.form = { code: "", name: "", domain: "" };
          await this.loadSquads();
          this.current = s.id;
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      add() { const u = this.adding; this.adding = ""; return this.act(() => api.putCellMember(this.code, u, this.role), "已任命 Assigned"); },
      remove(m) { return this.act(() => api.deleteCellMember(this.code, m.user_id), "已移出 Removed"); },
    },
  };

  GD.components["gd-squads"] = {
    data: () => ({
      squads: [], current: "", members: [], users: [], adding: "", cell: "", busy: false,
      newOpen: false, form: { code: "", name: "", domain: "" },
    }),
    template: `
      <div class="gd-squads">
        <el-form :inline="true" size="small" @submit.prevent>
          <el-form-item label="中队 Squad">
            <el-select v-model="current" style="width:260px" id="squad-pick">
              <el-option v-for="s in squads" :key="s.id" :label="s.name + '（' + s.domain + '）'" :value="s.id" />
            </el-select>
          </el-form-item>
          <el-form-item><el-button @click="newOpen = true" id="squad-new">＋ 新建中队 New squad</el-button></el-form-item>
        </el-form>
        <el-dialog v-model="newOpen" title="新建中队 New squad" width="480px">
          <el-form label-width="130px">
            <el-form-item label="编码 Code"><el-input v-model="form.code" id="squad-code" placeholder="squad5" /></el-form-item>
            <el-form-item label="名称 Name"><el-input v-model="form.name" id="squad-name" placeholder="五中队" /></el-form-item>
            <el-form-item label="执法领域 Domain"><el-input v-model="form.domain" id="squad-domain" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="newOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="create" id="squad-create">创建 Create</el-button>
          </template>
        </el-dialog>
        <el-row :gutter="16" v-if="squad">
          <el-col :span="13">
            <h4>成员 Members</h4>
            <el-table :data="members" size="small" class="gd-squad-members">
              <el-table-column prop="display_name" label="姓名 Name" min-width="150" />
              <el-table-column label="角色 Roles" min-width="140"><template #default="{ row }">{{ row.roles.map(r => L.ROLE[r] || r).join('、') }}</template></el-table-column>
              <el-table-column label="执法证 Certificate" width="170"><template #default="{ row }">
                <template v-if="row.certificate">{{ row.certificate.valid_until }} <el-tag v-if="!row.certificate_valid" type="danger" size="small">已过期</el-tag></template><span v-else>—</span>
              </template></el-table-column>
              <el-table-column width="80"><template #default="{ row }"><el-button size="small" type="danger" text @click="remove(row)">移出</el-button></template></el-table-column>
            </el-table>
            <div class="gd-inline-add">
              <el-select v-model="adding" filterable placeholder="选择人员 Person" style="width:240px" id="squad-add-user">
                <el-option v-for="u in candidates" :key="u.id" :label="u.display_name + '（' + u.username + '）'" :value="u.username" />
              </el-select>
              <el-button :disabled="!adding" :loading="busy" @click="add" id="squad-add">加入 Add</el-button>
            </div>
          </el-col>
          <el-col :span="11">
            <h4>负责网格 Cells</h4>
            <el-tag v-for="c in squad.cells" :key="c" closable @close="removeCell(c)" style="margin:0 6px 6px 0">{{ c }}</el-tag>
            <div class="gd-inline-add">
              <el-input v-model="cell" placeholder="网格编码 Cell code" style="width:200px" />
              <el-button :disabled="!cell" :loading="busy" @click="addCell">添加 Add</el-button>
            </div>
          </el-col>
        </el-row>
      </div>`,
    computed: {
      squad() { return this.squads.find((s) => s.id === this.current) || null; },
      candidates() { const ids = new Set(this.members.map((m) => m.id)); return this.users.filter((u) => !ids.has(u.id) && !u.disabled); },
    },
    watch: { current() { this.loadMembers(); } },
    async created() {
      await this.loadSquads();
      if (this.squads.length) this.current = this.squads[0].id;
      try { this.users = await api.users(); } catch (_) { this.users = []; }
    },
    methods: {
      async loadSquads() { try { this.squads = await api.squads(); store.squads = this.squads; } catch (e) { GD.showError(e); } },
      async loadMembers() {
        if (!this.current) return;
        try { this.members = (await api.squadMembers(this.current)).members; } catch (e) { GD.showError(e); }
      },
      async act(fn, ok) {
        this.busy = true;
        try { await fn(); GD.showOk(ok); await this.loadSquads(); await this.loadMembers(); }
        catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async create() {
        this.busy = true;
        try {
          const s = await api.createSquad({ code: this.form.code.trim(), name: this.form.name.trim(), domain: this.form.domain.trim() });
          GD.showOk("已创建 Created");
          this.newOpen = false;
          this.form = { code: "", name: "", domain: "" };
          await this.loadSquads();
          this.current = s.id;
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      add() { const u = this.adding; this.adding = ""; return this.act(() => api.putSquadMember(this.current, u), "已加入 Added"); },
      remove(m) { return this.act(() => api.deleteSquadMember(this.current, m.id), "已移出 Removed"); },
      addCell() { const c = this.cell.trim(); this.cell = ""; return this.act(() => api.putSquadCell(this.current, c), "已添加 Added"); },
      removeCell(c) { return this.act(() => api.deleteSquadCell(this.current, c), "已移除 Removed"); },
    },
  };
})();
