// 网格通 — the field app's screens: sign-in, a new report (photo/video, GPS, category, note),
// own reports with their states, and the queue panel that is always in view (actions and
// files waiting, upload progress, last sync, refused commands with the server's reason).
// Render functions (Vue's runtime-only build): the page's CSP allows no eval.
(function () {
  "use strict";
  const { createApp, h, reactive, onMounted } = Vue;
  const E = window.GDField;
  const L = window.GD.labels;

  const state = reactive({
    signedIn: !!E.session,
    tab: "new",
    snap: { outbox: [], uploads: [], entities: [], categories: [], othersWaiting: 0, lastSync: null, me: null },
    status: { ...E.status },
    toast: null,
  });

  let refreshQueued = false;
  async function refresh() {
    if (refreshQueued) return;
    refreshQueued = true;
    await Promise.resolve();
    refreshQueued = false;
    state.snap = await E.snapshot();
    state.status = { ...E.status, progress: { ...E.status.progress } };
    state.signedIn = !!E.session;
  }
  E.onChange(refresh);

  function toast(text) {
    state.toast = text;
    setTimeout(() => { if (state.toast === text) state.toast = null; }, 3000);
  }

  const fmtTime = (iso) => (iso ? L.time(iso) : "—");
  const kb = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

  // ------------------------------------------------------------ sign-in
  const Login = {
    setup() {
      const f = reactive({ username: "", password: "", error: null, busy: false });
      async function submit(ev) {
        ev.preventDefault();
        f.busy = true;
        f.error = null;
        try {
          await E.login(f.username.trim(), f.password);
          await refresh();
        } catch (e) {
          f.error = e.code ? e.message : "无法连接服务器，请在有信号时登录 (cannot reach the server; sign in where there is signal)";
        } finally {
          f.busy = false;
        }
      }
      return () => h("form", { class: "fd-login", onSubmit: submit }, [
        h("h1", "网格通"),
        h("p", { class: "fd-sub" }, "GridDispatch 网格员与执法队员移动端 (field app)"),
        h("label", { for: "login-username" }, "用户名 Username"),
        h("input", { id: "login-username", autocomplete: "username", value: f.username,
          onInput: (e) => { f.username = e.target.value; } }),
        h("label", { for: "login-password" }, "密码 Password"),
        h("input", { id: "login-password", type: "password", autocomplete: "current-password",
          value: f.password, onInput: (e) => { f.password = e.target.value; } }),
        f.error ? h("p", { class: "fd-error", id: "login-error" }, f.error) : null,
        h("button", { id: "login-submit", type: "submit", class: "fd-primary", disabled: f.busy },
          f.busy ? "登录中… Signing in" : "登录 Sign in"),
        h("p", { class: "fd-hint" },
          "演示账号：grid_member、squad_leader、officer，密码 griddemo2026 (demo accounts; password griddemo2026)"),
      ]);
    },
  };

  // ------------------------------------------------------------ the queue panel (always visible)
  function queuePanel() {
    const s = state.snap;
    const st = state.status;
    const waitingActions = s.outbox.filter((r) => r.state === "pending").length;
    const waitingFiles = s.uploads.filter((u) => u.state === "pending");
    const refused = s.outbox.filter((r) => r.state === "rejected");
    const failedFiles = s.uploads.filter((u) => u.state === "failed");
    const net = st.online === false ? "离线 Offline" : st.syncing ? "同步中 Syncing" : st.online ? "在线 Online" : "—";
    return h("section", { class: "fd-queue", id: "queue" }, [
      h("div", { class: "fd-queue-line" }, [
        h("span", { class: st.online === false ? "fd-dot off" : "fd-dot on" }),
        h("span", { id: "net-state" }, net),
        h("span", { id: "waiting" }, `待发送 ${waitingActions} 项操作 · ${waitingFiles.length} 个文件 (waiting: ${waitingActions} actions, ${waitingFiles.length} files)`),
      ]),
      h("div", { class: "fd-queue-line" }, [
        h("span", { id: "last-sync" }, `上次同步 Last sync: ${fmtTime(st.lastSync || s.lastSync)}`),
        h("button", { id: "sync-now", class: "fd-small", onClick: () => E.syncNow() }, "立即同步 Sync now"),
      ]),
      st.error ? h("p", { class: "fd-error" }, st.error) : null,
      s.othersWaiting ? h("p", { class: "fd-note" }, `另有 ${s.othersWaiting} 项其他账号的操作待其本人登录后发送 (queued by another account)`) : null,
      ...waitingFiles.map((u) => {
        const done = st.progress[u.attachment_id] ?? u.offset ?? 0;
        const pct = u.size ? Math.floor((done * 100) / u.size) : 0;
        return h("div", { class: "fd-upload", "data-upload": u.attachment_id }, [
          h("span", `${u.name} ${kb(u.size)}`),
          h("progress", { max: 100, value: pct }),
          h("span", { class: "fd-pct" }, `${pct}%`),
        ]);
      }),
      ...refused.map((r) => h("div", { class: "fd-refused", "data-refused": r.device_seq }, [
        h("strong", `被退回 Refused：${L.label(L.COMMAND, r.command.type)}`),
        r.command.description ? h("span", ` “${r.command.description}”`) : null,
        h("div", `${r.message || r.code}`),
      ])),
      ...failedFiles.map((u) => h("div", { class: "fd-refused" }, [
        h("strong", `文件未被接收 File refused：${u.name}`), h("div", u.message || u.code),
      ])),
    ]);
  }

  // ------------------------------------------------------------ a new report
  const NewReport = {
    setup() {
      const f = reactive({ files: [], position: null, locating: false, geoError: null,
        category: "", description: "", busy: false });
      function locate(fresh) {
        if (!navigator.geolocation) { f.geoError = "此设备无法定位 (no location on this device)"; return; }
        f.locating = true;
        f.geoError = null;
        navigator.geolocation.getCurrentPosition((p) => {
          f.position = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy };
          f.locating = false;
        }, (err) => {
          f.locating = false;
          f.geoError = `无法定位：${err.message} (location unavailable)`;
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: fresh === true ? 0 : 15000 });
      }
      onMounted(() => locate(false));
      async function add(ev) {
        const pos = f.position ? { lat: f.position.lat, lon: f.position.lon } : null;
        for (const file of ev.target.files) {
          const rec = await E.capture(file, pos);
          f.files.push({ id: rec.attachment_id, name: rec.name, sha256: rec.sha256, size: rec.size,
            url: file.type.startsWith("image/") ? URL.createObjectURL(file) : null });
        }
        ev.target.value = "";
      }
      async function submit() {
        if (!f.files.length) { toast("请先拍照或录像 (take a photo or video first)"); return; }
        if (!f.position) { toast("请先定位 (get the position first)"); return; }
        if (!f.category) { toast("请选择事件类别 (choose a category)"); return; }
        if (!f.description.trim()) { toast("请填写情况说明 (describe what you saw)"); return; }
        f.busy = true;
        const position = { lat: f.position.lat, lon: f.position.lon };
        await E.act({
          type: "create_report", report_id: E.uuid7(), source: "grid_patrol",
          category_code: f.category, description: f.description.trim(), position,
          attachment_ids: f.files.map((x) => x.id),
        }, position);
        f.files = [];
        f.description = "";
        f.busy = false;
        toast("已保存，有信号时自动上报 (saved; sent when there is signal)");
      }
      return () => h("section", { class: "fd-form" }, [
        h("h2", "上报事件 New report"),
        h("div", { class: "fd-capture" }, [
          h("label", { class: "fd-pick" }, ["拍照 Photo",
            h("input", { id: "photo-input", type: "file", accept: "image/*", capture: "environment", multiple: true, onChange: add })]),
          h("label", { class: "fd-pick" }, ["录像 Video",
            h("input", { id: "video-input", type: "file", accept: "video/*", capture: "environment", onChange: add })]),
        ]),
        h("div", { class: "fd-thumbs" }, f.files.map((x) => h("figure", { class: "fd-thumb", "data-sha256": x.sha256 }, [
          x.url ? h("img", { src: x.url, alt: x.name }) : h("span", "🎬"),
          h("figcaption", kb(x.size)),
        ]))),
        h("div", { class: "fd-pos", id: "position" }, [
          f.position
            ? `位置 Position：${f.position.lat.toFixed(6)}, ${f.position.lon.toFixed(6)}（精度 ±${Math.round(f.position.accuracy)} 米）`
            : f.locating ? "定位中… Locating" : (f.geoError || "未定位 No position"),
          h("button", { class: "fd-small", id: "locate", onClick: () => locate(true) }, "重新定位 Locate"),
        ]),
        h("label", { for: "category" }, "事件类别 Category"),
        h("select", { id: "category", value: f.category, onChange: (e) => { f.category = e.target.value; } }, [
          h("option", { value: "" }, state.snap.categories.length ? "请选择 Choose…" : "首次同步后可选 (after the first sync)"),
          ...state.snap.categories.filter((c) => c.active).map((c) => h("option", { value: c.code }, `${c.code} ${c.name}`)),
        ]),
        h("label", { for: "description" }, "情况说明 Note"),
        h("textarea", { id: "description", rows: 3, value: f.description,
          onInput: (e) => { f.description = e.target.value; } }),
        h("button", { id: "submit-report", class: "fd-primary", disabled: f.busy, onClick: submit }, "上报 Submit"),
      ]);
    },
  };

  // ------------------------------------------------------------ own reports
  function myReports() {
    const s = state.snap;
    const me = E.session && E.session.user_id;
    const server = new Map(s.entities.filter((e) => e.type === "report" && e.data.reporter_id === me).map((e) => [e.id, e.data]));
    const tasks = new Map(s.entities.filter((e) => e.type === "task").map((e) => [e.id, e.data]));
    const rows = [];
    // Made here and not yet (or never) taken by the server: from the outbox.
    for (const r of s.outbox.filter((x) => x.command.type === "create_report").reverse()) {
      const id = r.command.report_id;
      if (server.has(id)) continue;
      rows.push({ id, description: r.command.description, category: r.command.category_code,
        at: r.occurred_at, local: r.state === "pending" ? "待发送 Waiting" : r.state === "rejected" ? "被退回 Refused" : "已发送 Sent",
        reason: r.state === "rejected" ? r.message : null });
    }
    const list = [...server.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    for (const d of list) {
      const task = d.task_id ? tasks.get(d.task_id) : null;
      rows.push({ id: d.id, description: d.description, category: d.category_code, at: d.created_at,
        status: L.label(L.REPORT_STATUS, d.status), task: task ? L.label(L.TASK_STATUS, task.status) : null,
        outcome: task && task.outcome ? L.label(L.OUTCOME, task.outcome.outcome || task.outcome) : null,
        note: d.note, pending: (d.pending_attachment_ids || []).length });
    }
    return h("section", { class: "fd-list", id: "my-reports" }, [
      h("h2", "我的上报 My reports"),
      rows.length ? null : h("p", { class: "fd-note" }, "还没有上报 (no reports yet)"),
      ...rows.map((r) => h("article", { class: "fd-card", "data-report": r.id }, [
        h("div", { class: "fd-card-head" }, [
          h("span", { class: "fd-tag" + (r.reason ? " bad" : "") }, r.status || r.local),
          h("span", { class: "fd-time" }, fmtTime(r.at)),
        ]),
        h("p", r.description),
        r.task ? h("p", { class: "fd-note" }, `处置 Task：${r.task}${r.outcome ? "，" + r.outcome : ""}`) : null,
        r.note ? h("p", { class: "fd-note" }, r.note) : null,
        r.reason ? h("p", { class: "fd-error" }, `退回原因 Reason：${r.reason}`) : null,
      ])),
    ]);
  }

  // ------------------------------------------------------------ the shell
  const App = {
    setup() {
      onMounted(refresh);
      return () => {
        if (!state.signedIn) {
          return h("main", { class: "fd-app" }, [h(Login), state.snap.outbox.length ? queuePanel() : null]);
        }
        const name = (E.session && E.session.display_name) || "";
        return h("main", { class: "fd-app" }, [
          h("header", { class: "fd-header" }, [
            h("span", { class: "fd-title" }, "网格通"),
            h("span", { id: "current-user" }, name),
            h("button", { id: "logout", class: "fd-small", onClick: async () => { await E.logout(); await refresh(); } }, "退出 Sign out"),
          ]),
          queuePanel(),
          h("div", { class: "fd-body" }, [state.tab === "new" ? h(NewReport) : myReports()]),
          state.toast ? h("div", { class: "fd-toast", id: "toast" }, state.toast) : null,
          h("nav", { class: "fd-tabs" }, [
            h("button", { id: "tab-new", class: state.tab === "new" ? "on" : "", onClick: () => { state.tab = "new"; } }, "上报 Report"),
            h("button", { id: "tab-mine", class: state.tab === "mine" ? "on" : "", onClick: () => { state.tab = "mine"; } }, "我的 Mine"),
          ]),
        ]);
      };
    },
  };

  (async () => {
    await E.loadSession();
    state.signedIn = !!E.session;
    createApp(App).mount("#app");
    E.start();
    await refresh();
  })();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch((e) => console.warn("service worker:", e));
  }
})();
