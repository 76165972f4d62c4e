// The console's shell: sign-in, role-aware navigation, hash routes, the live connection and
// the notification bell. Screens register themselves in GD.screens (screens/*.js).
(function () {
  "use strict";
  const { createApp, reactive, computed, onMounted, onUnmounted, watch } = Vue;
  const { api, store, has } = GD;

  // Each screen and the roles that see it (the server stays the judge of every action).
  const NAV = [
    { path: "workbench", zh: "工作台", en: "Workbench", roles: ["dispatcher", "duty_chief", "squad_leader", "approver", "legal_reviewer", "admin", "grid_leader"] },
    { path: "intake", zh: "线索受理", en: "Intake", roles: ["dispatcher", "duty_chief", "grid_leader", "approver", "admin"] },
    { path: "hotline", zh: "来电登记", en: "Hotline intake", roles: ["dispatcher"] },
    { path: "map", zh: "一张图", en: "Map", roles: ["dispatcher", "duty_chief", "grid_leader", "approver", "admin", "squad_leader"] },
    { path: "squad", zh: "中队任务", en: "Squad board", roles: ["squad_leader"] },
    { path: "duty", zh: "值班长审批", en: "Duty chief", roles: ["duty_chief"] },
    { path: "recheck", zh: "核查结案", en: "Closure", roles: ["dispatcher", "duty_chief"] },
    { path: "cases", zh: "案件办理", en: "Cases", roles: ["approver", "legal_reviewer", "officer"] },
    { path: "stats", zh: "综合评价", en: "Statistics", roles: ["dispatcher", "duty_chief", "approver", "admin", "grid_leader"] },
    { path: "admin", zh: "系统管理", en: "Administration", roles: ["admin"] },
    { path: "inbox", zh: "部门收件箱", en: "Inbox", roles: ["department_liaison"] },
    { path: "sharing", zh: "信息共享", en: "Sharing", roles: ["department_liaison", "dispatcher", "duty_chief", "approver", "legal_reviewer", "admin"] },
    { path: "meetings", zh: "联席会议", en: "Meetings", roles: ["department_liaison", "admin", "approver", "duty_chief", "dispatcher", "legal_reviewer"] },
  ];
  // Routes that are not menu entries, with the roles that may open them.
  const EXTRA = { report: NAV[0].roles.concat(["officer"]), case: ["approver", "legal_reviewer", "officer", "squad_leader", "dispatcher", "duty_chief", "admin", "department_liaison"] };

  function parseHash() {
    const h = (location.hash || "").replace(/^#\/?/, "");
    const [name, ...rest] = h.split("/");
    return { name: name || "", param: rest.length ? decodeURIComponent(rest.join("/")) : null };
  }

  const Login = {
    emits: ["signed-in"],
    data: () => ({ username: "", password: "", busy: false, error: "" }),
    template: `
      <div class="gd-login">
        <el-card class="gd-login-card">
          <h2>GridDispatch 指挥调度台 <small class="gd-muted">Dispatch console</small></h2>
          <el-form label-position="top" @submit.prevent="submit">
            <el-form-item label="用户名 Username">
              <el-input id="login-username" v-model="username" autocomplete="username" />
            </el-form-item>
            <el-form-item label="密码 Password">
              <el-input id="login-password" v-model="password" type="password" show-password autocomplete="current-password" @keyup.enter="submit" />
            </el-form-item>
            <el-alert v-if="error" :title="error" type="error" :closable="false" show-icon class="gd-login-error" />
            <el-button id="login-submit" type="primary" :loading="busy" native-type="submit" @click="submit" style="width:100%;margin-top:12px">登录 Sign in</el-button>
          </el-form>
        </el-card>
      </div>`,
    methods: {
      async submit() {
        if (this.busy) return;
        this.busy = true; this.error = "";
        try { await api.login(this.username.trim(), this.password); this.$emit("signed-in"); }
        catch (e) { this.error = e.message; }
        finally { this.busy = false; }
      },
    },
  };

  // The notification bell: deadline warnings and escalations; opening it marks them read
  // (on the server, so every device of the user agrees).
  const Bell = {
    data: () => ({ items: [] }),
    template: `
      <el-popover placement="bottom-end" :width="380" trigger="click" @show="markRead">
        <template #reference>
          <el-badge :value="unread" :hidden="!unread" class="gd-bell">
            <el-button text class="gd-header-btn" id="bell">通知 Alerts</el-button>
          </el-badge>
        </template>
        <div class="gd-notes">
          <div v-if="!items.length" class="gd-muted">暂无通知 No notifications</div>
          <div v-for="n in items.slice(0, 30)" :key="n.id" class="gd-note" :class="{unread: !n.read_at}">
            <el-tag size="small" :type="noteKind(n).type">{{ noteKind(n).label }}</el-tag>
            <a v-if="n.task_id" href="javascript:void 0" @click="openTask(n)">{{ n.message }}</a><span v-else>{{ n.message }}</span>
            <span class="gd-muted gd-small"> {{ time(n.created_at) }}</span>
          </div>
        </div>
      </el-popover>`,
    computed: {
      unread() { return this.items.filter((n) => !n.read_at).length; },
    },
    watch: { "store.changeTick"() { this.load(); } },
    created() { this.load(); this.timer = setInterval(() => this.load(), 60000); },
    unmounted() { clearInterval(this.timer); },
    methods: {
      time: GD.labels.time,
      noteKind(n) {
        return {
          overdue: { label: "超期", type: "danger" },
          ack_overdue: { label: "超期", type: "danger" },
          case_overdue: { label: "超期", type: "danger" },
          escalated: { label: "督办", type: "danger" },
          certificate_expiring: { label: "执法证", type: "warning" },
        }[n.kind] || { label: "预警", type: "warning" };
      },
      async load() { try { this.items = await api.notifications(); } catch (_) { /* the bell stays quiet */ } },
      async markRead() {
        const ids = this.items.filter((n) => !n.read_at).map((n) => n.id);
        if (!ids.length) return;
        try { await api.markNotificationsRead(ids); } catch (e) { GD.showError(e); }
        // Shown read at once; the next load brings the server's times.
        const now = new Date().toISOString();
        this.items.forEach((n) => { if (!n.read_at) n.read_at = now; });
      },
      async openTask(n) {
        try { const d = await api.task(n.task_id); location.hash = "#/report/" + d.task.report_id; }
        catch (e) { GD.showError(e); }
      },
    },
  };

  const App = {
    components: { Login, Bell },
    setup() {
      const state = reactive({ route: parseHash(), ready: false, signedIn: api.isSignedIn() });
      const clock = reactive({ now: Date.now() });
      Vue.provide("clock", clock);
      let stopLive = null, tickTimer = null, clockTimer = null;

      const nav = computed(() => NAV.filter((n) => n.roles.some((r) => store.roles.includes(r))));
      const allowed = computed(() => {
        const n = state.route.name || (nav.value[0] && nav.value[0].path);
        const item = NAV.find((x) => x.path === n);
        const roles = item ? item.roles : EXTRA[n];
        return !!roles && roles.some((r) => store.roles.includes(r));
      });
      const screen = computed(() => {
        const n = state.route.name || (nav.value[0] && nav.value[0].path);
        return GD.screens[n] || null;
      });
      const active = computed(() => state.route.name || (nav.value[0] && nav.value[0].path));

      function bump() {
        clearTimeout(tickTimer);
        tickTimer = setTimeout(() => { store.changeTick += 1; }, 250);
      }

      async function start() {
        try {
          const me = await api.me();
          store.me = me;
          store.roles = me.roles;
          GD.people[me.id] = me.display_name;
          const [cats, squads, settings] = await Promise.all([
            api.categories().catch(() => []), api.squads().catch(() => []),
            api.settings().catch(() => ({ map_tiles: null })),
          ]);
          store.categories = cats;
          store.squads = squads;
          store.mapTiles = settings.map_tiles;
          state.signedIn = true;
          state.ready = true;
          if (stopLive) stopLive();
          // Field-only accounts have no console screens and no access to the stream.
          const hasScreens = NAV.some((n) => n.roles.some((r) => store.roles.includes(r)));
          if (hasScreens) stopLive = api.subscribe(
            (ev) => { store.changed[ev.entity_id] = ev.seq; bump(); },
            bump,
            (mode) => { store.live = mode; },
          );
        } catch (e) {
          state.signedIn = api.isSignedIn();
          if (state.signedIn) GD.showError(e);
        }
      }
      async function logout() {
        if (stopLive) { stopLive(); stopLive = null; }
        await api.logout();
        store.me = null; store.roles = []; state.signedIn = false; state.ready = false;
      }
      api.onSignedOut(() => {
        if (stopLive) { stopLive(); stopLive = null; }
        store.me = null; store.roles = []; state.signedIn = false; state.ready = false;
      });
      const onHash = () => { state.route = parseHash(); };
      onMounted(() => {
        window.addEventListener("hashchange", onHash);
        clockTimer = setInterval(() => { clock.now = Date.now(); }, 30000);
        if (state.signedIn) start();
      });
      onUnmounted(() => { window.removeEventListener("hashchange", onHash); clearInterval(clockTimer); });
      return { go: (i) => { window.location.hash = '#/' + i; }, state, store, nav, screen, allowed, active, start, logout, roleNames: computed(() => store.roles.map((r) => GD.labels.ROLE[r] || r).join("、")) };
    },
    template: `
      <Login v-if="!state.signedIn" @signed-in="start" />
      <div v-else-if="!state.ready" class="gd-boot">加载中… Loading</div>
      <el-container v-else class="gd-shell">
        <el-header class="gd-header" height="52px">
          <div class="gd-brand">GridDispatch 指挥调度台 <small>Dispatch console</small></div>
          <div class="gd-header-right">
            <span id="live-indicator" class="gd-live" :class="store.live">{{ store.live === 'live' ? '● 实时 Live' : store.live === 'polling' ? '○ 轮询 Polling' : '…' }}</span>
            <Bell />
            <span class="gd-user" id="current-user">{{ store.me.display_name }} <small>（{{ roleNames }}）</small></span>
            <el-button id="logout" text class="gd-header-btn" @click="logout">退出 Sign out</el-button>
          </div>
        </el-header>
        <el-container>
          <el-aside width="184px" class="gd-aside">
            <el-menu :default-active="active" class="gd-menu" @select="go">
              <el-menu-item v-for="n in nav" :key="n.path" :index="n.path" :data-nav="n.path">{{ n.zh }} <small class="gd-en">{{ n.en }}</small></el-menu-item>
            </el-menu>
          </el-aside>
          <el-main class="gd-main">
            <div v-if="!nav.length" class="gd-empty">此账号没有指挥调度台的工作，请使用移动端。<br>This account has no console screens; use the field app.</div>
            <div v-else-if="!allowed" class="gd-empty">无权访问此页面 (your roles do not include this screen)</div>
            <component v-else-if="screen" :is="screen" :param="state.route.param" :key="state.route.name + '/' + (state.route.param || '')" />
            <div v-else class="gd-empty">没有这个页面 (no such screen)</div>
          </el-main>
        </el-container>
      </el-container>`,
  };

  const app = createApp(App);
  app.use(ElementPlus, { locale: ElementPlusLocaleZhCn });
  // Every screen reads the store as this.store (and watches store.changeTick for live updates) and the labels as L.
  app.config.globalProperties.store = store;
  app.config.globalProperties.L = GD.labels;
  Object.entries(GD.components).forEach(([name, c]) => app.component(name, c));
  app.config.errorHandler = (err) => { console.error(err); GD.showError(err); };
  app.mount("#app");
})();
