// 对接系统 Webhooks (admin tab): other systems subscribed to the record's events — a supervision
// platform, a department's case system. Subscribe one (its secret is shown this once), pause and
// resume it, read each delivery's attempts and send a failed one again. Signing, retries with
// back-off and the delivery log are the server's (docs/integration.md#signed-webhooks).
(function () {
  "use strict";
  const { api, labels: L_ } = GD;

  GD.components["gd-webhooks"] = {
    data: () => ({
      subs: [], departments: [], loading: false, busy: false, creating: false, secret: null,
      form: { name: "", url: "", kinds: "", department_id: "" },
      current: null, deliveries: [], status: "",
    }),
    template: `
      <div class="gd-webhooks">
        <div class="gd-title-row">
          <span class="gd-muted">事件以 HMAC-SHA256 签名推送，失败按退避重试；来电人联系方式从不推送。(Events are signed with HMAC-SHA256 and retried with back-off; callers' contacts are never sent.)</span>
          <el-button type="primary" id="webhook-new" @click="creating = true; form = { name: '', url: '', kinds: '', department_id: '' }">＋ 新建订阅 Subscribe</el-button>
        </div>
        <el-table :data="subs" v-loading="loading" size="small" stripe class="gd-webhook-list" @row-click="open" highlight-current-row empty-text="没有订阅 No subscriptions">
          <el-table-column label="名称 Name" min-width="150" prop="name" />
          <el-table-column label="地址 URL" min-width="260"><template #default="{ row }"><code class="gd-small">{{ row.url }}</code></template></el-table-column>
          <el-table-column label="事件 Kinds" min-width="160"><template #default="{ row }">{{ row.kinds && row.kinds.length ? row.kinds.join(', ') : '全部 All' }}</template></el-table-column>
          <el-table-column label="待发/失败 Pending/failed" width="150"><template #default="{ row }">{{ row.pending }} / <span :class="row.failed ? 'gd-red' : ''" class="gd-webhook-failed">{{ row.failed }}</span></template></el-table-column>
          <el-table-column label="状态 State" width="180">
            <template #default="{ row }">
              <el-switch :model-value="row.active" :data-webhook-active="row.name" @click.stop @change="(v) => setActive(row, v)" active-text="启用" inactive-text="暂停" />
            </template>
          </el-table-column>
        </el-table>
        <template v-if="current">
          <h3>{{ current.name }} · 投递记录 <small>Deliveries</small></h3>
          <el-radio-group v-model="status" size="small" @change="loadDeliveries">
            <el-radio-button value="">全部 All</el-radio-button>
            <el-radio-button value="pending">待发 Pending</el-radio-button>
            <el-radio-button value="delivered">已送达 Delivered</el-radio-button>
            <el-radio-button value="failed">失败 Failed</el-radio-button>
          </el-radio-group>
          <el-table :data="deliveries" size="small" class="gd-deliveries" empty-text="没有投递 No deliveries">
            <el-table-column label="事件 Event" width="200"><template #default="{ row }">#{{ row.event_seq }} {{ row.kind }}</template></el-table-column>
            <el-table-column label="状态 State" width="110"><template #default="{ row }"><el-tag size="small" class="gd-delivery-status" :type="row.status === 'delivered' ? 'success' : row.status === 'failed' ? 'danger' : 'warning'">{{ statusName(row.status) }}</el-tag></template></el-table-column>
            <el-table-column label="尝试 Attempts" width="90" prop="attempts" />
            <el-table-column label="最近错误 Last error" min-width="240"><template #default="{ row }"><span class="gd-small">{{ row.last_error || '—' }}</span></template></el-table-column>
            <el-table-column label="时间 When" width="150"><template #default="{ row }">{{ time(row.delivered_at || row.next_attempt_at || row.created_at) }}</template></el-table-column>
            <el-table-column label="" width="120"><template #default="{ row }"><el-button v-if="row.status === 'failed'" size="small" :data-retry="row.event_seq" @click="retry(row)">重发 Retry</el-button></template></el-table-column>
          </el-table>
        </template>
        <el-dialog v-model="creating" title="新建订阅 Subscribe a system" width="560px">
          <el-form label-width="150px">
            <el-form-item label="名称 Name"><el-input v-model="form.name" id="webhook-name" /></el-form-item>
            <el-form-item label="接收地址 URL"><el-input v-model="form.url" id="webhook-url" placeholder="https://…" /></el-form-item>
            <el-form-item label="事件 Kinds"><el-input v-model="form.kinds" id="webhook-kinds" placeholder="空为全部；如 create_report, decide_case" /></el-form-item>
            <el-form-item label="代表部门 Department">
              <el-select v-model="form.department_id" clearable placeholder="无 None" style="width:100%">
                <el-option v-for="d in departments" :key="d.id" :label="d.name" :value="d.id" />
              </el-select>
            </el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="creating = false">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="webhook-save" @click="create">订阅 Subscribe</el-button>
          </template>
        </el-dialog>
        <el-dialog :model-value="!!secret" @update:model-value="secret = null" title="签名密钥 Signing secret" width="520px">
          <p>请把密钥交给对方系统，此后不再显示。(Give this secret to the receiving system; it is not shown again.)</p>
          <pre class="gd-webhook-secret" id="webhook-secret">{{ secret }}</pre>
        </el-dialog>
      </div>`,
    async created() {
      try { this.departments = await api.departments(); } catch (e) { GD.showError(e); }
      this.load();
    },
    methods: {
      time: L_.time,
      statusName: (s) => ({ pending: "待发 Pending", delivered: "已送达 Delivered", failed: "失败 Failed" }[s] || s),
      async load() {
        this.loading = true;
        try {
          this.subs = await api.webhooks();
          if (this.current) this.current = this.subs.find((s) => s.id === this.current.id) || null;
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      open(row) { this.current = row; this.loadDeliveries(); },
      async loadDeliveries() {
        if (!this.current) return;
        try { this.deliveries = await api.deliveries(this.current.id, { status: this.status, limit: 200 }); }
        catch (e) { GD.showError(e); }
      },
      async create() {
        this.busy = true;
        const kinds = this.form.kinds.split(/[\s,，]+/).filter(Boolean);
        const body = { name: this.form.name, url: this.form.url, kinds };
        if (this.form.department_id) body.department_id = this.form.department_id;
        try {
          const r = await api.createWebhook(body);
          this.creating = false;
          this.secret = r.secret;
          this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async setActive(row, active) {
        try {
          await api.setWebhookActive(row.id, active);
          GD.showOk(active ? "已启用 Resumed" : "已暂停 Paused");
          this.load();
        } catch (e) { GD.showError(e); }
      },
      async retry(row) {
        try {
          await api.retryDelivery(row.id);
          GD.showOk("已重新排队 Queued again");
          this.loadDeliveries();
          this.load();
        } catch (e) { GD.showError(e); }
      },
    },
  };
})();
