// 系统管理 Administration: accounts (create, roles, disable/enable, certificate renewal) with
// certificate expiry warnings; squads and categories (admin_setup.js), grid import, the calendar
// and the audit chain (admin_grid.js), the systems subscribed by webhook (admin_webhooks.js) in
// their tabs.
(function () {
  "use strict";
  const { api, labels: L_ } = GD;
  const SOON_DAYS = 30;

  GD.screens.admin = {
    data: () => ({
      tab: "accounts", users: [], loading: false, createOpen: false, busy: false,
      renewing: null, renew: { number: "", valid_until: "" },
      roling: null, roles: [], resetting: null, newPassword: "",
      form: { username: "", display_name: "", password: "", roles: [], cert_number: "", cert_valid_until: "" },
    }),
    template: `
      <div class="gd-admin">
        <h2 class="gd-title">系统管理 <small>Administration</small></h2>
        <el-tabs v-model="tab" class="gd-admin-tabs">
        <el-tab-pane label="账号 Accounts" name="accounts">
        <div class="gd-title-row">
          <span class="gd-muted">执法证 30 天内到期标黄，已过期标红 (certificates expiring within 30 days / expired are flagged)</span>
          <el-button type="primary" @click="createOpen = true" id="user-new">＋ 新建账号 New account</el-button>
        </div>
        <el-table :data="users" v-loading="loading" size="small" stripe class="gd-users" height="calc(100vh - 260px)">
          <el-table-column prop="username" label="用户名 Username" width="130" />
          <el-table-column prop="display_name" label="姓名 Name" min-width="170" />
          <el-table-column label="角色 Roles" min-width="180"><template #default="{ row }">{{ row.roles.map(r => L.ROLE[r] || r).join('、') }}</template></el-table-column>
          <el-table-column label="执法证 Certificate" width="230">
            <template #default="{ row }">
              <template v-if="row.certificate">
                {{ row.certificate.number }} · {{ row.certificate.valid_until }}
                <el-tag v-if="!row.certificate_valid" type="danger" size="small">已过期 expired</el-tag>
                <el-tag v-else-if="soon(row)" type="warning" size="small">即将到期 expiring</el-tag>
              </template>
              <span v-else class="gd-muted">—</span>
            </template>
          </el-table-column>
          <el-table-column label="状态 State" width="90"><template #default="{ row }"><el-tag size="small" :type="row.disabled ? 'info' : 'success'">{{ row.disabled ? '停用' : '正常' }}</el-tag></template></el-table-column>
          <el-table-column label="操作 Actions" width="330">
            <template #default="{ row }">
              <el-button size="small" @click="openRoles(row)" :data-roles="row.username">角色 Roles</el-button>
              <el-button size="small" @click="openReset(row)" :data-password="row.username">重置密码 Password</el-button>
              <el-button v-if="row.roles.includes('officer')" size="small" @click="openRenew(row)" :data-renew="row.username">换证 Renew</el-button>
              <el-button size="small" @click="toggle(row)">{{ row.disabled ? '启用 Enable' : '停用 Disable' }}</el-button>
            </template>
          </el-table-column>
        </el-table>
        </el-tab-pane>
        <el-tab-pane label="中队 Squads" name="squads" lazy><gd-squads /></el-tab-pane>
        <el-tab-pane label="网格人员 Cell people" name="cells" lazy><gd-cell-people /></el-tab-pane>
        <el-tab-pane label="事件类别 Categories" name="categories" lazy><gd-categories /></el-tab-pane>
        <el-tab-pane label="网格导入 Grid import" name="grid" lazy><gd-grid-import /></el-tab-pane>
        <el-tab-pane label="工作日历 Calendar" name="calendar" lazy><gd-calendar-upload /></el-tab-pane>
        <el-tab-pane label="审计链 Audit chain" name="audit" lazy><gd-audit-check /></el-tab-pane>
        <el-tab-pane label="对接系统 Webhooks" name="webhooks" lazy><gd-webhooks /></el-tab-pane>
        </el-tabs>
        <el-dialog :model-value="!!renewing" @update:model-value="renewing = null" title="执法证换证 Renew certificate" width="480px">
          <p v-if="renewing">{{ renewing.display_name }}</p>
          <el-form label-width="140px">
            <el-form-item label="执法证号 Number"><el-input v-model="renew.number" id="renew-number" /></el-form-item>
            <el-form-item label="有效至 Valid until"><el-date-picker v-model="renew.valid_until" type="date" value-format="YYYY-MM-DD" id="renew-until" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="renewing = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="saveRenew" id="renew-save">保存 Save</el-button>
          </template>
        </el-dialog>
        <el-dialog :model-value="!!roling" @update:model-value="roling = null" title="角色 Roles" width="520px">
          <p v-if="roling">{{ roling.display_name }}（{{ roling.username }}）· 立即生效 effective at once</p>
          <el-checkbox-group v-model="roles" class="gd-role-pick">
            <el-checkbox v-for="(zh, code) in L.ROLE" :key="code" :value="code" :data-role="code">{{ zh }}</el-checkbox>
          </el-checkbox-group>
          <template #footer>
            <el-button @click="roling = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="saveRoles" id="roles-save">保存 Save</el-button>
          </template>
        </el-dialog>
        <el-dialog :model-value="!!resetting" @update:model-value="resetting = null" title="重置密码 Reset password" width="480px">
          <p v-if="resetting">{{ resetting.display_name }}（{{ resetting.username }}）· 重置后该账号在所有设备退出登录 (signed out everywhere)</p>
          <el-input v-model="newPassword" type="password" show-password placeholder="新密码，至少 8 位 New password, 8+ characters" id="reset-password" />
          <template #footer>
            <el-button @click="resetting = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="saveReset" id="reset-save">重置 Reset</el-button>
          </template>
        </el-dialog>
        <el-dialog v-model="createOpen" title="新建账号 New account" width="560px">
          <el-form label-width="140px">
            <el-form-item label="用户名 Username"><el-input v-model="form.username" /></el-form-item>
            <el-form-item label="姓名 Name"><el-input v-model="form.display_name" /></el-form-item>
            <el-form-item label="初始密码 Password"><el-input v-model="form.password" type="password" show-password /></el-form-item>
            <el-form-item label="角色 Roles">
              <el-checkbox-group v-model="form.roles">
                <el-checkbox v-for="(zh, code) in L.ROLE" :key="code" :value="code">{{ zh }}</el-checkbox>
              </el-checkbox-group>
            </el-form-item>
            <el-form-item label="执法证号 Certificate"><el-input v-model="form.cert_number" placeholder="执法人员填写 officers only" /></el-form-item>
            <el-form-item label="有效至 Valid until"><el-date-picker v-model="form.cert_valid_until" type="date" value-format="YYYY-MM-DD" /></el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="createOpen = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" @click="create">创建 Create</el-button>
          </template>
        </el-dialog>
      </div>`,
    created() { this.L = L_; this.load(); },
    methods: {
      soon(u) {
        const until = Date.parse(u.certificate.valid_until + "T23:59:59");
        return until - Date.now() < SOON_DAYS * 86400000;
      },
      async load() {
        this.loading = true;
        try { this.users = await api.users(); this.users.forEach((u) => { GD.people[u.id] = u.display_name; }); }
        catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      openRenew(u) {
        this.renewing = u;
        this.renew = { number: u.certificate ? u.certificate.number : "", valid_until: "" };
      },
      async saveRenew() {
        this.busy = true;
        try {
          await api.setCertificate(this.renewing.id, this.renew.number.trim(), this.renew.valid_until);
          GD.showOk("已换证 Certificate renewed");
          this.renewing = null;
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      openRoles(u) { this.roling = u; this.roles = u.roles.slice(); },
      async saveRoles() {
        this.busy = true;
        try {
          await api.setRoles(this.roling.id, this.roles);
          GD.showOk("角色已更新 Roles saved");
          this.roling = null;
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      openReset(u) { this.resetting = u; this.newPassword = ""; },
      async saveReset() {
        this.busy = true;
        try {
          await api.resetPassword(this.resetting.id, this.newPassword);
          GD.showOk("密码已重置 Password reset");
          this.resetting = null;
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async toggle(u) {
        try { await api.setUserDisabled(u.id, !u.disabled); await this.load(); } catch (e) { GD.showError(e); }
      },
      async create() {
        const f = this.form;
        const body = { username: f.username.trim(), display_name: f.display_name.trim(), password: f.password, roles: f.roles };
        if (f.cert_number.trim()) body.certificate = { number: f.cert_number.trim(), valid_until: f.cert_valid_until };
        this.busy = true;
        try {
          await api.createUser(body);
          GD.showOk("已创建 Created");
          this.createOpen = false;
          this.form = { username: "", display_name: "", password: "", roles: [], cert_number: "", cert_valid_until: "" };
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };
})();
