// Every call the console makes to the server, in one place. The console speaks only the public
// API (/api/v1): anything a screen needs is an endpoint another integration could use too.
//
// Sign-in: the access token (short-lived JWT) and the rotating refresh token are kept in
// localStorage so that a reload keeps the user signed in; an expired access token is refreshed
// once and the request retried. Every change goes through POST /api/v1/commands.
(function () {
  "use strict";

  const SESSION_KEY = "gd.session";
  const DEVICE_KEY = "gd.device";

  /** A refusal or failure, with the server's stable code and its message for people. */
  class ApiError extends Error {
    constructor(status, code, message, detail) {
      super(message);
      this.status = status;
      this.code = code;
      this.detail = detail || {}; // the whole error object, e.g. `problems` of invalid_grid
    }
  }

  // UUIDv7 from getRandomValues: crypto.randomUUID exists only in secure contexts, and a town
  // intranet often serves plain http.
  function uuidv7() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    let ms = Date.now();
    for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function deviceId() {
    let d = localStorage.getItem(DEVICE_KEY);
    if (!d) { d = "console-" + uuidv7(); localStorage.setItem(DEVICE_KEY, d); }
    return d;
  }

  function loadSession() {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY) || "null"); } catch (_) { return null; }
  }
  function saveSession(t) {
    if (t) localStorage.setItem(SESSION_KEY, JSON.stringify(t)); else localStorage.removeItem(SESSION_KEY);
  }

  let tokens = loadSession();
  let refreshing = null;
  const signedOutListeners = [];

  function signedOut() {
    tokens = null;
    saveSession(null);
    signedOutListeners.forEach((f) => f());
  }

  async function errorOf(resp) {
    let code = "http_" + resp.status, message = `请求失败 (HTTP ${resp.status})`, detail = {};
    try {
      const body = await resp.json();
      if (body && body.error) { code = body.error.code; message = body.error.message; detail = body.error; }
    } catch (_) { /* not our JSON shape (a proxy's page): keep the generic message */ }
    return new ApiError(resp.status, code, message, detail);
  }

  // One refresh at a time; another tab may have refreshed already (the refresh token is
  // single-use), so take its tokens instead of spending ours twice.
  function refresh() {
    if (refreshing) return refreshing;
    const used = tokens && tokens.refresh_token;
    refreshing = (async () => {
      const stored = loadSession();
      if (stored && stored.refresh_token !== used) { tokens = stored; return; }
      if (!used) throw new ApiError(401, "missing_token", "请先登录 (please sign in)");
      const resp = await fetch("/api/v1/auth/refresh", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: used }),
      });
      if (!resp.ok) { const e = await errorOf(resp); signedOut(); throw e; }
      tokens = await resp.json();
      saveSession(tokens);
    })().finally(() => { refreshing = null; });
    return refreshing;
  }

  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    if (tokens) h.Authorization = "Bearer " + tokens.access_token;
    return h;
  }

  /** fetch with the access token; refreshes once on an expired token. Returns the Response. */
  async function authedFetch(path, init) {
    init = init || {};
    let resp = await fetch(path, Object.assign({}, init, { headers: authHeaders(init.headers) }));
    if (resp.status === 401 && tokens) {
      const e = await errorOf(resp.clone());
      if (e.code === "token_expired" || e.code === "invalid_token") {
        await refresh();
        resp = await fetch(path, Object.assign({}, init, { headers: authHeaders(init.headers) }));
      } else if (e.code === "session_revoked" || e.code === "account_disabled") {
        signedOut();
      }
    }
    return resp;
  }

  async function request(method, path, body, raw, rawType) {
    const init = { method, headers: {} };
    if (raw !== undefined) {
      init.headers["Content-Type"] = rawType || "application/json";
      init.body = raw; // a file's text, sent as it is
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await authedFetch(path, init);
    if (!resp.ok) throw await errorOf(resp);
    if (resp.status === 204) return null;
    return resp.json();
  }

  // SHA-256 of a file: Web Crypto in a secure context, else the field app's vendored js-sha256
  // (index.html loads /m/vendor/js-sha256): a town intranet often serves plain http, where
  // browsers give no Web Crypto, and the server refuses evidence without its checksum.
  async function sha256Hex(buf) {
    if (window.crypto && crypto.subtle && window.isSecureContext) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
      return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    return sha256(buf);
  }

  function qs(params) {
    const p = new URLSearchParams();
    Object.entries(params || {}).forEach(([k, v]) => {
      if (v !== undefined && v !== null && v !== "") p.set(k, v);
    });
    const s = p.toString();
    return s ? "?" + s : "";
  }

  // Server-sent events read with fetch (EventSource cannot send the Authorization header).
  // `onChange({seq, entity_type, entity_id})` per change; `onMode("live" | "polling")`.
  // When the stream cannot be held (no permission, a proxy that buffers or cuts long
  // responses, no streaming fetch), `onPoll()` is called every `pollMs` instead, and the stream
  // is tried again with backoff. Polling stops only once a stream has stayed up for `HEALTHY_MS`
  // (a stream that keeps breaking must not starve the polling), and every reconnection after a
  // failure polls once to catch up on what was missed.
  const HEALTHY_MS = 15000;
  function subscribe(onChange, onPoll, onMode, pollMs) {
    pollMs = pollMs || 10000;
    let stopped = false, after = null, controller = null, pollTimer = null, healthyTimer = null;
    let failures = 0;
    const setPolling = (on) => {
      if (on && !pollTimer) { pollTimer = setInterval(() => { if (!stopped) onPoll(); }, pollMs); }
      if (!on && pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    };
    async function run() {
      while (!stopped) {
        try {
          controller = new AbortController();
          const resp = await authedFetch("/api/v1/events" + qs({ after }), {
            headers: { Accept: "text/event-stream" }, signal: controller.signal,
          });
          if (!resp.ok || !resp.body) throw await errorOf(resp);
          onMode("live");
          if (failures > 0) onPoll();
          healthyTimer = setTimeout(() => { failures = 0; setPolling(false); }, HEALTHY_MS);
          const reader = resp.body.getReader();
          const decoder = new TextDecoder();
          let buf = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done || stopped) break;
            buf += decoder.decode(value, { stream: true });
            let cut;
            while ((cut = buf.indexOf("\n\n")) >= 0) {
              const block = buf.slice(0, cut);
              buf = buf.slice(cut + 2);
              let event = "message", data = "", id = null;
              block.split("\n").forEach((line) => {
                if (line.startsWith("event:")) event = line.slice(6).trim();
                else if (line.startsWith("data:")) data += line.slice(5).trim();
                else if (line.startsWith("id:")) id = line.slice(3).trim();
              });
              if (id !== null) after = id;
              if (event === "change" && data) {
                try { onChange(JSON.parse(data)); } catch (_) { /* a malformed event is skipped */ }
              }
            }
          }
          throw new Error("event stream ended");
        } catch (e) {
          clearTimeout(healthyTimer);
          if (stopped) return;
          failures += 1;
          setPolling(true);
          onMode("polling");
          if (e instanceof ApiError && (e.status === 403 || e.status === 401)) {
            return; // this user may not hold the stream: polling only
          }
        }
        // Back off: 2 s, 4 s … at most 30 s, polling meanwhile.
        await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** Math.min(failures, 5))));
      }
    }
    run();
    return () => {
      stopped = true; clearTimeout(healthyTimer); setPolling(false);
      if (controller) controller.abort();
    };
  }

  const api = {
    ApiError,
    uuid: uuidv7,
    isSignedIn: () => !!tokens,
    onSignedOut: (f) => signedOutListeners.push(f),

    async login(username, password) {
      const resp = await fetch("/api/v1/auth/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username, password, device_id: deviceId() }),
      });
      if (!resp.ok) throw await errorOf(resp);
      tokens = await resp.json();
      saveSession(tokens);
    },
    async logout() {
      const t = tokens;
      tokens = null;
      saveSession(null);
      if (t) {
        try {
          await fetch("/api/v1/auth/logout", {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ refresh_token: t.refresh_token }),
          });
        } catch (_) { /* signed out locally either way */ }
      }
    },
    me: () => request("GET", "/api/v1/me"),
    settings: () => request("GET", "/api/v1/console/settings"),

    // The one command path. Resolves with {applied, report, task, case}; rejects with ApiError.
    command: (command, actorPosition) =>
      request("POST", "/api/v1/commands", { command, actor_position: actorPosition || null }),

    reports: (filters) => request("GET", "/api/v1/reports" + qs(filters)),
    report: (id) => request("GET", `/api/v1/reports/${encodeURIComponent(id)}`),
    duplicates: (id) => request("GET", `/api/v1/reports/${encodeURIComponent(id)}/duplicates`),
    routing: (id) => request("GET", `/api/v1/reports/${encodeURIComponent(id)}/routing`),
    tasks: (filters) => request("GET", "/api/v1/tasks" + qs(filters)),
    task: (id) => request("GET", `/api/v1/tasks/${encodeURIComponent(id)}`),
    cases: (filters) => request("GET", "/api/v1/cases" + qs(filters)),
    caseDetail: (id) => request("GET", `/api/v1/cases/${encodeURIComponent(id)}`),
    caseDocuments: (id) => request("GET", `/api/v1/cases/${encodeURIComponent(id)}/documents`),
    departments: () => request("GET", "/api/v1/departments"),
    transfers: () => request("GET", "/api/v1/transfers"),
    assistance: (filters) => request("GET", "/api/v1/assistance" + qs(filters)),

    /** One file uploaded as evidence (tus, creation-with-upload then PATCH for the rest);
     *  returns its attachment id. The server needs the file's SHA-256, which browsers compute
     *  only over HTTPS or on localhost. */
    async upload(file) {
      const id = uuidv7();
      const buf = await file.arrayBuffer();
      const sha = await sha256Hex(buf);
      const b64 = (v) => btoa(unescape(encodeURIComponent(v)));
      const meta = [["attachment_id", id], ["sha256", sha], ["filename", file.name || "document"],
        ["filetype", file.type || "application/octet-stream"]].map(([k, v]) => k + " " + b64(v)).join(",");
      const tus = { "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream" };
      let resp = await authedFetch("/files/", { method: "POST", body: buf,
        headers: Object.assign({ "Upload-Length": String(buf.byteLength), "Upload-Metadata": meta }, tus) });
      if (!resp.ok) throw await errorOf(resp);
      const location = resp.headers.get("Location");
      let offset = Number(resp.headers.get("Upload-Offset") || 0);
      while (offset < buf.byteLength) {
        resp = await authedFetch(location, { method: "PATCH", body: buf.slice(offset),
          headers: Object.assign({ "Upload-Offset": String(offset) }, tus) });
        if (!resp.ok) throw await errorOf(resp);
        offset = Number(resp.headers.get("Upload-Offset"));
      }
      return id;
    },
    categories: () => request("GET", "/api/v1/categories"),
    pins: (filters) => request("GET", "/api/v1/map/pins" + qs(filters)),
    squads: () => request("GET", "/api/v1/squads"),
    squadMembers: (id) => request("GET", `/api/v1/squads/${encodeURIComponent(id)}/members`),
    grid: (params) => request("GET", "/api/v1/grid" + qs(params)),
    locate: (lat, lon) => request("GET", "/api/v1/grid/locate" + qs({ lat, lon })),
    stats: (groupBy, from, to) => request("GET", "/api/v1/stats" + qs({ group_by: groupBy, from, to })),
    notifications: () => request("GET", "/api/v1/me/notifications"),
    markNotificationsRead: (ids) => request("POST", "/api/v1/me/notifications/read", { ids }),
    users: () => request("GET", "/api/v1/users"),
    createUser: (body) => request("POST", "/api/v1/users", body),
    setRoles: (id, roles) => request("PUT", `/api/v1/users/${encodeURIComponent(id)}/roles`, { roles }),
    resetPassword: (id, password) => request("POST", `/api/v1/users/${encodeURIComponent(id)}/password`, { password }),
    setCertificate: (id, number, validUntil) =>
      request("PUT", `/api/v1/users/${encodeURIComponent(id)}/certificate`, { number, valid_until: validUntil }),
    importGrid: (text, params) => request("POST", "/api/v1/grid/import" + qs(params), undefined, text),
    putCategory: (code, body) => request("PUT", `/api/v1/categories/${encodeURIComponent(code)}`, body),
    importCategories: (text) => request("POST", "/api/v1/categories/import", undefined, text),
    // The category file (JSON) as an object URL to save.
    async exportCategories() {
      const resp = await authedFetch("/api/v1/categories/export");
      if (!resp.ok) throw await errorOf(resp);
      return URL.createObjectURL(await resp.blob());
    },
    createSquad: (body) => request("POST", "/api/v1/squads", body),
    putSquadMember: (squad, user) =>
      request("PUT", `/api/v1/squads/${encodeURIComponent(squad)}/members/${encodeURIComponent(user)}`),
    deleteSquadMember: (squad, user) =>
      request("DELETE", `/api/v1/squads/${encodeURIComponent(squad)}/members/${encodeURIComponent(user)}`),
    putSquadCell: (squad, cell) =>
      request("PUT", `/api/v1/squads/${encodeURIComponent(squad)}/cells/${encodeURIComponent(cell)}`),
    deleteSquadCell: (squad, cell) =>
      request("DELETE", `/api/v1/squads/${encodeURIComponent(squad)}/cells/${encodeURIComponent(cell)}`),
    cell: (code) => request("GET", `/api/v1/grid/cells/${encodeURIComponent(code)}`),
    putCellMember: (code, user, role) =>
      request("PUT", `/api/v1/grid/cells/${encodeURIComponent(code)}/members/${encodeURIComponent(user)}`, { role }),
    deleteCellMember: (code, user) =>
      request("DELETE", `/api/v1/grid/cells/${encodeURIComponent(code)}/members/${encodeURIComponent(user)}`),
    verifyAudit: () => request("GET", "/api/v1/audit/verify"),
    gridVersions: () => request("GET", "/api/v1/grid/versions"),
    putCalendar: (year, text) => request("PUT", `/api/v1/calendar/${encodeURIComponent(year)}`, undefined, text),
    setUserDisabled: (id, disabled) =>
      request("POST", `/api/v1/users/${encodeURIComponent(id)}/${disabled ? "disable" : "enable"}`, {}),

    // Joint meetings (联席会议).
    meetings: () => request("GET", "/api/v1/meetings"),
    meeting: (id) => request("GET", `/api/v1/meetings/${encodeURIComponent(id)}`),
    nextMeetingDate: () => request("GET", "/api/v1/meetings/next-date"),
    createMeeting: (body) => request("POST", "/api/v1/meetings", body),
    rescheduleMeeting: (id, body) => request("PATCH", `/api/v1/meetings/${encodeURIComponent(id)}`, body),
    cancelMeeting: (id, reason) => request("POST", `/api/v1/meetings/${encodeURIComponent(id)}/cancel`, { reason }),
    submitTopic: (id, body) => request("POST", `/api/v1/meetings/${encodeURIComponent(id)}/topics`, body),
    decideTopic: (id, topic, accepted, note) =>
      request("POST", `/api/v1/meetings/${encodeURIComponent(id)}/topics/${encodeURIComponent(topic)}/decision`, { accepted, note }),
    issueMinutes: (id, body) => request("POST", `/api/v1/meetings/${encodeURIComponent(id)}/minutes`, body),
    itemProgress: (id, note) => request("POST", `/api/v1/meeting-items/${encodeURIComponent(id)}/progress`, { note }),
    closeItem: (id, note) => request("POST", `/api/v1/meeting-items/${encodeURIComponent(id)}/close`, { note }),

    // Information sharing (信息共享) and decision notices (处罚决定抄告).
    shared: (params) => request("GET", "/api/v1/shared" + qs(params)),
    share: (body, departmentId) => request("POST", "/api/v1/shared" + qs({ department_id: departmentId }), body),
    importShared: (csv, departmentId) =>
      request("POST", "/api/v1/shared/import" + qs({ department_id: departmentId }), undefined, csv, "text/csv"),
    reportShared: (id) => request("GET", `/api/v1/reports/${encodeURIComponent(id)}/shared`),
    notices: (params) => request("GET", "/api/v1/decision-notices" + qs(params)),
    ackNotice: (id) => request("POST", `/api/v1/decision-notices/${encodeURIComponent(id)}/ack`, {}),

    // Webhook subscriptions of other systems (admin).
    webhooks: () => request("GET", "/api/v1/webhooks"),
    createWebhook: (body) => request("POST", "/api/v1/webhooks", body),
    setWebhookActive: (id, active) => request("PATCH", `/api/v1/webhooks/${encodeURIComponent(id)}`, { active }),
    deliveries: (id, params) => request("GET", `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries` + qs(params)),
    retryDelivery: (id) => request("POST", `/api/v1/webhooks/deliveries/${encodeURIComponent(id)}/retry`, {}),

    // Evidence bytes need the Authorization header, so an <img src> cannot fetch them: read
    // them here and hand the screen an object URL.
    async attachmentUrl(id, variant) {
      const resp = await authedFetch(
        `/api/v1/attachments/${encodeURIComponent(id)}/content` + qs({ variant }));
      if (!resp.ok) throw await errorOf(resp);
      return URL.createObjectURL(await resp.blob());
    },

    // The on-the-spot decision (当场处罚决定书) of a task, as an object URL.
    async taskDecisionUrl(taskId) {
      const resp = await authedFetch(`/api/v1/tasks/${encodeURIComponent(taskId)}/decision`);
      if (!resp.ok) throw await errorOf(resp);
      return URL.createObjectURL(await resp.blob());
    },

    // An assistance request's letter (执法协助函, PDF) as an object URL.
    async assistanceLetterUrl(id) {
      const resp = await authedFetch(`/api/v1/assistance/${encodeURIComponent(id)}/letter`);
      if (!resp.ok) throw await errorOf(resp);
      return URL.createObjectURL(await resp.blob());
    },

    // A case document (PDF) as an object URL, fetched with the token.
    async documentUrl(caseId, name) {
      const resp = await authedFetch(`/api/v1/cases/${encodeURIComponent(caseId)}/documents/${encodeURIComponent(name)}`);
      if (!resp.ok) throw await errorOf(resp);
      return URL.createObjectURL(await resp.blob());
    },

    // The case file (卷宗) as a ZIP: an object URL, its file name and the manifest's SHA-256.
    async caseFile(caseId) {
      const resp = await authedFetch(`/api/v1/cases/${encodeURIComponent(caseId)}/file`);
      if (!resp.ok) throw await errorOf(resp);
      const blob = await resp.blob();
      const number = caseId.slice(-8);
      return { url: URL.createObjectURL(blob), name: `卷宗-${number}.zip`, manifest: resp.headers.get("X-Manifest-SHA256") || "" };
    },

    subscribe,
  };

  window.GD = window.GD || {};
  window.GD.api = api;
})();
