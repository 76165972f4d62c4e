// 网格通 — the field app's screens: sign-in, a new report (photo/video, GPS, category, note),
// own reports with their states, and the queue panel that is always in view (actions and
// files waiting, upload progress, last sync, refused commands with the server's reason).
// Render functions (Vue's runtime-only build): the page's CSP allows no eval.
(function () {
  "use strict";
  const { createApp, h, reactive, onMounted, onUnmounted } = Vue;
  const E = window.GDField;
  const L = window.GD.labels;

  const state = reactive({
    signedIn: !!E.session,
    tab: "new",
    snap: { outbox: [], uploads: [], entities: [], categories: [], othersWaiting: 0, lastSync: null, me: null, notifications: [] },
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
          state.tab = isReporter() ? "new" : "tasks";
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
    const refused = s.outbox.filter((r) => r.state === "rejected" && !r.dismissed);
    const failedFiles = s.uploads.filter((u) => u.state === "failed" && !u.dismissed);
    const dismiss = (key) => h("button", { class: "fd-small fd-dismiss", onClick: () => E.dismiss(key) }, "知道了 OK");
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
      st.error ? h("p", { class: "fd-error", id: "sync-error" }, st.error) : null,
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
        dismiss(r.key),
      ])),
      ...failedFiles.map((u) => h("div", { class: "fd-refused" }, [
        h("strong", `文件未被接收 File refused：${u.name}`), h("div", u.message || u.code),
        dismiss(u.attachment_id),
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

  // ------------------------------------------------------------ tasks: squad, officers, re-checks
  /** A photo input that hashes and queues what it is given; `list` collects {id, url}. */
  function photoInput(id, label, list, position, phase) {
    return h("label", { class: "fd-pick" }, [label,
      h("input", { id, type: "file", accept: "image/*,video/*", capture: "environment", multiple: true,
        onChange: async (ev) => {
          for (const file of ev.target.files) {
            const rec = await E.capture(file, position(), phase);
            list.push({ id: rec.attachment_id, url: file.type.startsWith("image/") ? URL.createObjectURL(file) : null, name: rec.name });
          }
          ev.target.value = "";
        } })]);
  }
  const thumbs = (list) => h("div", { class: "fd-thumbs" }, list.map((x) => h("figure", { class: "fd-thumb" }, [
    x.url ? h("img", { src: x.url, alt: x.name }) : h("span", "🎬")])));

  function here() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }),
        () => resolve(null), { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  }

  /** Evidence stored on the server, shown once fetched (signed-in GET → blob: URL). */
  const Evidence = {
    props: { ids: Array },
    setup(props) {
      const urls = reactive({});
      const phases = reactive({});
      // A photo's thumbnail is made on the server after the upload: "处理中" shows meanwhile,
      // and it is asked for again.
      let timer = null, alive = true;
      async function fetchThumb(id, round) {
        try { urls[id] = await E.evidenceUrl(id, "thumbnail"); } catch (_) { urls[id] = null; }
        if (urls[id] === E.EVIDENCE_PROCESSING && alive && round < 60) {
          timer = setTimeout(() => fetchThumb(id, round + 1), Math.min(1000 + 500 * round, 10000));
        }
      }
      onMounted(async () => {
        for (const id of props.ids || []) {
          await fetchThumb(id, 0);
          try { phases[id] = (await E.evidenceRecord(id))?.phase || null; } catch (_) { phases[id] = null; }
        }
      });
      onUnmounted(() => { alive = false; clearTimeout(timer); });
      const caption = (id, i) => phases[id] === "before" ? "处置前 Before" : phases[id] === "after" ? "处置后 After"
        : props.ids.length === 2 ? (i === 0 ? "处置前 Before" : "处置后 After") : `#${i + 1}`;
      return () => h("div", { class: "fd-thumbs" }, (props.ids || []).map((id, i) => h("figure", { class: "fd-thumb", "data-evidence": id }, [
        urls[id] === E.EVIDENCE_PROCESSING ? h("span", { class: "fd-processing" }, "处理中 (processing)")
          : urls[id] ? h("img", { src: urls[id], alt: id }) : h("span", "…"),
        h("figcaption", caption(id, i)),
      ])));
    },
  };

  /** The state a task reaches by a command still waiting to be sent. */
  const NEXT_STATUS = { accept_task: "accepted", arrive_on_site: "on_site", handle_task: "handled",
    close_task: "closed" };
  const OUTCOMES = ["rectified", "simple_penalty", "case_needed", "transfer", "no_violation"];

  const TaskCard = {
    props: { task: Object, report: Object, queued: Array },
    setup(props) {
      const f = reactive({ open: null, picked: [], members: [], outcome: "rectified", before: [], after: [],
        note: "", party_kind: "person", party_name: "", penalty: "warning", fine: "", facts: "",
        legal_basis: "", finding: "", issuing_unit: "", provision: "", department: "", reason: "",
        crime: false, passed: true, error: null, position: null });
      const roles = () => (E.session && E.session.roles) || [];
      const me = () => E.session && E.session.user_id;
      async function open(what) {
        f.error = null;
        f.open = f.open === what ? null : what;
        if (what === "accept") f.members = (await E.squadMembers(props.task.squad_id)).filter((m) => m.roles.includes("officer"));
        if (what === "handle") { const p = await here(); f.position = p; }
      }
      async function run(command, position) {
        await E.act(command, position);
        f.open = null;
        f.error = "";
        toast("已保存，有信号时自动发送 (saved; sent when there is signal)");
      }
      const t = () => props.task;
      async function accept() {
        if (!f.picked.length) { f.error = "请选择执法人员 (pick the officers)"; return; }
        await run({ type: "accept_task", task_id: t().id, officer_ids: [...f.picked] });
      }
      async function arrive() {
        const p = await here();
        if (!p) { toast("无法定位，请稍后再试 (no position yet)"); return; }
        await run({ type: "arrive_on_site", task_id: t().id, position: { lat: p.lat, lon: p.lon } }, { lat: p.lat, lon: p.lon });
      }
      function outcome() {
        switch (f.outcome) {
          case "rectified": return { outcome: "rectified", note: f.note.trim() };
          case "no_violation": return { outcome: "no_violation", reply: f.note.trim() };
          case "simple_penalty": return { outcome: "simple_penalty", party_kind: f.party_kind, party_name: f.party_name.trim(),
            penalty: f.penalty === "fine" ? { kind: "fine", amount_fen: Math.round(Number(f.fine) * 100) } : { kind: "warning" },
            facts: f.facts.trim(), legal_basis: f.legal_basis.trim() };
          case "case_needed": return { outcome: "case_needed", finding: f.finding.trim(), issuing_unit: f.issuing_unit.trim(), suspected_provision: f.provision.trim() };
          default: return { outcome: "transfer", department: f.department.trim(), reason: f.reason.trim(), crime_suspected: f.crime };
        }
      }
      async function handle() {
        if (f.outcome === "rectified" && (!f.before.length || !f.after.length)) {
          f.error = "责令改正须有处置前、处置后照片 (before and after photos are required)"; return;
        }
        if (f.outcome === "simple_penalty" && !f.before.length && !f.after.length) {
          f.error = "当场处罚须附现场证据照片 (a penalty needs evidence photos)"; return;
        }
        if (f.outcome === "simple_penalty" && f.penalty === "fine") {
          const limit = f.party_kind === "person" ? 200 : 3000;
          const fine = Number(f.fine);
          if (!(fine > 0) || fine > limit) { f.error = `简易程序罚款须在 ${limit} 元以内 (a simple-procedure fine is at most ${limit} yuan)`; return; }
        }
        const cmd = { type: "handle_task", task_id: t().id, outcome: outcome(),
          attachment_ids: [...f.before.map((x) => x.id), ...f.after.map((x) => x.id)] };
        if (f.outcome === "case_needed") cmd.case_id = E.uuid7();
        await run(cmd);
      }
      async function recheck() {
        if (!f.passed && !f.note.trim()) { f.error = "核查不通过须写明原因 (say why it failed)"; return; }
        const cmd = { type: "recheck_task", task_id: t().id, passed: f.passed, attachment_ids: f.after.map((x) => x.id) };
        if (f.note.trim()) cmd.note = f.note.trim();
        await run(cmd);
      }
      const input = (key, label, attrs = {}) => [h("label", label), h(attrs.rows ? "textarea" : "input", {
        ...attrs, "data-field": key, value: f[key], onInput: (e) => { f[key] = e.target.value; } })];
      const pos = () => (f.position ? { lat: f.position.lat, lon: f.position.lon } : null);

      return () => {
        const task = t();
        const r = props.report || {};
        const queued = props.queued || [];
        // Offline, the next step follows the one waiting to be sent (arrive, then handle).
        let status = task.status;
        let officers = task.officer_ids || [];
        for (const q of queued) {
          if (q.command.type === "accept_task") officers = q.command.officer_ids;
          if (q.command.type === "recheck_task") status = q.command.passed ? "verified" : "rework";
          else status = NEXT_STATUS[q.command.type] || status;
        }
        const mine = officers.includes(me());
        const acts = [];
        if (roles().includes("squad_leader") && status === "dispatched") acts.push(["accept", "签收 Accept"]);
        if (mine && roles().includes("officer") && ["accepted", "rework"].includes(status)) acts.push(["arrive", "到场 Arrive"]);
        if (mine && roles().includes("officer") && status === "on_site") acts.push(["handle", "处置 Handle"]);
        if (roles().includes("squad_leader") && status === "handled") acts.push(["close", "中队结案 Close"]);
        if (roles().includes("grid_member") && status === "closed" && !mine && !queued.length) acts.push(["recheck", "核查 Re-check"]);
        const body = [];
        if (f.open === "accept") {
          body.push(h("div", { class: "fd-panel" }, [
            h("p", { class: "fd-note" }, "选择执法人员（可能处罚的须两名持证）Pick officers (two certified where a penalty may follow)"),
            ...f.members.map((m) => h("label", { class: "fd-check", "data-officer": m.username }, [
              h("input", { type: "checkbox", disabled: !m.certificate_valid, checked: f.picked.includes(m.id),
                onChange: (e) => { f.picked = e.target.checked ? [...f.picked, m.id] : f.picked.filter((x) => x !== m.id); } }),
              ` ${m.display_name}${m.certificate_valid ? "" : "（执法证无效 certificate not valid）"}`])),
            f.members.length ? null : h("p", { class: "fd-error" }, "尚未取得中队名单，请在有信号时同步 (the squad list comes with the next sync)"),
            h("button", { class: "fd-primary", id: "accept-confirm", onClick: accept }, `签收并指派 ${f.picked.length} 人 Accept`),
          ]));
        }
        if (f.open === "handle") {
          const o = f.outcome;
          body.push(h("div", { class: "fd-panel" }, [
            h("label", "处置结果 Outcome"),
            h("select", { id: "outcome", value: o, onChange: (e) => { f.outcome = e.target.value; } },
              OUTCOMES.map((x) => h("option", { value: x }, L.label(L.OUTCOME, x)))),
            h("div", { class: "fd-capture" }, [photoInput("before-input", "处置前 Before", f.before, pos, "before"), photoInput("after-input", "处置后 After", f.after, pos, "after")]),
            thumbs([...f.before, ...f.after]),
            ...(o === "rectified" ? input("note", "整改情况 What was done", { rows: 2 }) : []),
            ...(o === "no_violation" ? input("note", "答复 Reply", { rows: 2 }) : []),
            ...(o === "simple_penalty" ? [
              h("label", "当事人类别 Party"),
              h("select", { "data-field": "party_kind", value: f.party_kind, onChange: (e) => { f.party_kind = e.target.value; } }, [
                h("option", { value: "person" }, "公民 Person（≤200 元）"), h("option", { value: "organization" }, "法人或其他组织 Organisation（≤3000 元）")]),
              ...input("party_name", "当事人 Party name"),
              h("label", "处罚 Penalty"),
              h("select", { "data-field": "penalty", value: f.penalty, onChange: (e) => { f.penalty = e.target.value; } }, [
                h("option", { value: "warning" }, "警告 Warning"), h("option", { value: "fine" }, "罚款 Fine")]),
              ...(f.penalty === "fine" ? input("fine", "罚款金额（元）Fine (yuan)", { type: "number", min: 1 }) : []),
              ...input("facts", "违法事实 Facts", { rows: 2 }),
              ...input("legal_basis", "法律依据 Legal basis"),
            ] : []),
            ...(o === "case_needed" ? [...input("finding", "认定意见 Finding", { rows: 2 }), ...input("issuing_unit", "业务口 Issuing unit"), ...input("provision", "涉嫌违反条款 Provision")] : []),
            ...(o === "transfer" ? [...input("department", "接收部门 Department"), ...input("reason", "移送理由 Reason", { rows: 2 }),
              h("label", { class: "fd-check" }, [h("input", { type: "checkbox", checked: f.crime, onChange: (e) => { f.crime = e.target.checked; } }), " 涉嫌犯罪 Crime suspected"])] : []),
            h("button", { class: "fd-primary", id: "handle-confirm", onClick: handle }, "提交处置 Submit"),
          ]));
        }
        if (f.open === "recheck") {
          body.push(h("div", { class: "fd-panel" }, [
            h("p", { class: "fd-note" }, "处置证据 The officers' evidence"),
            h(Evidence, { ids: task.outcome_attachment_ids }),
            h("label", { class: "fd-check" }, [h("input", { type: "radio", name: `pass-${task.id}`, checked: f.passed, onChange: () => { f.passed = true; } }), " 通过 Passed"]),
            h("label", { class: "fd-check" }, [h("input", { type: "radio", name: `pass-${task.id}`, id: "recheck-fail", checked: !f.passed, onChange: () => { f.passed = false; } }), " 不通过 Failed"]),
            ...input("note", "核查意见 Note", { rows: 2 }),
            h("div", { class: "fd-capture" }, [photoInput("recheck-input", "现场照片 Photo", f.after, pos)]),
            thumbs(f.after),
            h("button", { class: "fd-primary", id: "recheck-confirm", onClick: recheck }, "提交核查 Submit"),
          ]));
        }
        return h("article", { class: "fd-card", "data-task": task.id }, [
          h("div", { class: "fd-card-head" }, [
            h("span", { class: "fd-tag" }, L.label(L.TASK_STATUS, status) + (status !== task.status ? "（待发送）" : "")),
            h("span", { class: "fd-time" }, `时限 Due ${fmtTime(task.due_at)}`),
          ]),
          h("p", r.description || "—"),
          task.outcome ? h("p", { class: "fd-note" }, `处置 Outcome：${L.label(L.OUTCOME, task.outcome.outcome)}`) : null,
          // The simple procedure's decision paper, to show the party or print (needs signal).
          task.decision_number ? h("p", { class: "fd-note" }, [`决定书 ${task.decision_number} `, h("a", {
            href: "#", "data-decision": task.id,
            onClick: async (e) => {
              e.preventDefault();
              try { const url = await E.decisionUrl(task.id); window.open(url, "_blank"); setTimeout(() => URL.revokeObjectURL(url), 60000); }
              catch (err) { f.error = (err && err.message) || "需要信号 (needs signal)"; }
            },
          }, "当场处罚决定书 PDF")]) : null,
          queued.length ? h("p", { class: "fd-note fd-queued" }, `待发送 Waiting: ${queued.map((q) => L.label(L.COMMAND, q.command.type)).join("、")}`) : null,
          f.error ? h("p", { class: "fd-error" }, f.error) : null,
          acts.length ? h("div", { class: "fd-actions" }, acts.map(([k, label]) => h("button", {
            "data-action": k,
            onClick: () => (k === "arrive" ? arrive() : k === "close" ? run({ type: "close_task", task_id: task.id }) : open(k)),
          }, label))) : null,
          ...body,
        ]);
      };
    },
  };

  function taskList() {
    const s = state.snap;
    const reports = new Map(s.entities.filter((e) => e.type === "report").map((e) => [e.id, e.data]));
    const pendingBy = {};
    for (const r of s.outbox.filter((x) => x.state === "pending" && x.command.task_id)) {
      (pendingBy[r.command.task_id] = pendingBy[r.command.task_id] || []).push(r);
    }
    const order = ["dispatched", "accepted", "on_site", "rework", "handled", "closed", "return_requested"];
    const tasks = s.entities.filter((e) => e.type === "task").map((e) => e.data)
      .filter((t) => order.includes(t.status))
      .sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || (a.due_at < b.due_at ? -1 : 1));
    return h("section", { class: "fd-list", id: "tasks" }, [
      h("h2", "任务 Tasks"),
      tasks.length ? null : h("p", { class: "fd-note" }, "没有待办任务 (nothing to do)"),
      ...tasks.map((t) => h(TaskCard, { key: t.id, task: t, report: reports.get(t.report_id), queued: pendingBy[t.id] })),
    ]);
  }

  // ------------------------------------------------------------ notifications
  const KIND = {
    ack_warning: "签收预警", ack_overdue: "签收超时", deadline_warning: "处置预警", overdue: "处置超期",
    escalated: "督办", certificate_expiring: "执法证将到期", case_deadline_warning: "案件时限预警", case_overdue: "案件超期",
  };
  function notifications() {
    const list = state.snap.notifications;
    const unread = list.filter((n) => !n.read_at).map((n) => n.id);
    if (unread.length) setTimeout(() => E.markRead(unread), 1500);
    return h("section", { class: "fd-list", id: "notifications" }, [
      h("h2", "消息 Notifications"),
      list.length ? null : h("p", { class: "fd-note" }, "暂无消息 (no notifications)"),
      ...list.map((n) => h("article", { class: "fd-card" + (n.read_at ? "" : " fd-unread"), "data-notification": n.id }, [
        h("div", { class: "fd-card-head" }, [h("span", { class: "fd-tag bad" }, L.label(KIND, n.kind)), h("span", { class: "fd-time" }, fmtTime(n.created_at))]),
        h("p", n.message),
      ])),
    ]);
  }

  // ------------------------------------------------------------ the shell
  const isReporter = () => ((E.session && E.session.roles) || []).some((r) => r === "grid_member" || r === "grid_leader");

  const unreadCount = () => state.snap.notifications.filter((n) => !n.read_at).length;

  const App = {
    setup() {
      onMounted(refresh);
      return () => {
        if (!state.signedIn) {
          const waiting = state.snap.outbox.some((r) => r.state === "pending") || state.snap.uploads.some((u) => u.state === "pending");
          const last = state.snap.lastUser;
          return h("main", { class: "fd-app" }, [
            waiting ? queuePanel() : null,
            waiting && last ? h("p", { class: "fd-note fd-pad", id: "queue-owner" },
              `以上内容待 ${last.display_name}（${last.username}）重新登录后发送 (sent after ${last.username} signs in again)`) : null,
            h("div", { class: "fd-body" }, [h(Login)]),
          ]);
        }
        const name = (E.session && E.session.display_name) || "";
        return h("main", { class: "fd-app" }, [
          h("header", { class: "fd-header" }, [
            h("span", { class: "fd-title" }, "网格通"),
            h("span", { id: "current-user" }, name),
            h("button", { id: "logout", class: "fd-small", onClick: async () => { await E.logout(); await refresh(); } }, "退出 Sign out"),
          ]),
          queuePanel(),
          h("div", { class: "fd-body" }, [state.tab === "new" ? h(NewReport) : state.tab === "tasks" ? taskList() : state.tab === "inbox" ? notifications() : myReports()]),
          state.toast ? h("div", { class: "fd-toast", id: "toast" }, state.toast) : null,
          h("nav", { class: "fd-tabs" }, [
            isReporter() ? h("button", { id: "tab-new", class: state.tab === "new" ? "on" : "", onClick: () => { state.tab = "new"; } }, "上报 Report") : null,
            h("button", { id: "tab-tasks", class: state.tab === "tasks" ? "on" : "", onClick: () => { state.tab = "tasks"; } }, "任务 Tasks"),
            isReporter() ? h("button", { id: "tab-mine", class: state.tab === "mine" ? "on" : "", onClick: () => { state.tab = "mine"; } }, "我的 Mine") : null,
            h("button", { id: "tab-inbox", class: state.tab === "inbox" ? "on" : "", onClick: () => { state.tab = "inbox"; } }, [
              "消息 Inbox", unreadCount() ? h("span", { class: "fd-badge" }, String(unreadCount())) : null]),
          ]),
        ]);
      };
    },
  };

  (async () => {
    await E.loadSession();
    state.signedIn = !!E.session;
    if (state.signedIn && !isReporter()) state.tab = "tasks";
    createApp(App).mount("#app");
    // When the first screen is up (docs/benchmarks.md measures the time to here).
    window.gdReadyAt = performance.now();
    E.start();
    await refresh();
  })();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch((e) => console.warn("service worker:", e));
  }
})();
