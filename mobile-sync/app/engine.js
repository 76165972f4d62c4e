// The field app's sync engine: a second, independent client of docs/sync-protocol.md (the
// reference client is the Rust engine in mobile-sync/engine). Everything the user does is kept
// in IndexedDB before it is shown as done: the outbox of commands (device_seq assigned when the
// user acts), the upload queue (each file's SHA-256 computed on capture), the view of reports
// and tasks, and the pull cursor. Sync runs whenever there is something to do and the server
// answers: refresh the token if needed → push the outbox → upload files (tus, resuming at the
// server's offset) → pull until !has_more → wait for changes.
(function () {
  "use strict";

  const PROTOCOL = "1";
  const TUS = "1.0.0";
  const CHUNK = 256 * 1024;
  const BATCH = 100;
  // Backoff after a network or 5xx failure (protocol §6): 1 s doubling, with ±20 % jitter. The
  // app is in the user's hand, so the ceiling is 30 s rather than the background engine's 5 min.
  const BACKOFF_MAX = 30000;

  // ---------------------------------------------------------------- store (IndexedDB via idb)
  const dbp = idb.openDB("griddispatch-field", 1, {
    upgrade(db) {
      db.createObjectStore("meta");
      db.createObjectStore("outbox", { keyPath: "key" }).createIndex("user", "user_id");
      db.createObjectStore("uploads", { keyPath: "attachment_id" }).createIndex("user", "user_id");
      db.createObjectStore("entities", { keyPath: "key" });
    },
  });
  const meta = {
    async get(k) { return (await dbp).get("meta", k); },
    async set(k, v) { return (await dbp).put("meta", v, k); },
    async del(k) { return (await dbp).delete("meta", k); },
  };

  /** A UUIDv7 (protocol: ids of objects made on the phone): 48-bit ms time, then random. */
  function uuid7() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    let t = Date.now();
    for (let i = 5; i >= 0; i--) { b[i] = t % 256; t = Math.floor(t / 256); }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** The device id: chosen once per install, kept with the local store (protocol §1.2). */
  async function deviceId() {
    let id = await meta.get("device_id");
    if (!id) { id = uuid7(); await meta.set("device_id", id); }
    return id;
  }

  // ---------------------------------------------------------------- SHA-256 of a capture
  const HEX = (buf) => Array.from(new Uint8Array(buf), (x) => x.toString(16).padStart(2, "0")).join("");

  /** SHA-256 with the vendored js-sha256, 1 MiB at a time (no Web Crypto on plain http). */
  async function sha256Fallback(blob) {
    const h = sha256.create();
    for (let at = 0; at < blob.size; at += 1 << 20) {
      h.update(await blob.slice(at, at + (1 << 20)).arrayBuffer());
    }
    return h.hex();
  }

  /** SHA-256 of a file: Web Crypto where the page is a secure context, else the fallback. */
  async function sha256Of(blob) {
    if (window.crypto && crypto.subtle && window.isSecureContext) {
      return HEX(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
    }
    return sha256Fallback(blob);
  }

  // ---------------------------------------------------------------- state shown on screen
  const listeners = new Set();
  const status = {
    online: null, // null: not tried yet; false: the last request did not reach the server
    syncing: false,
    lastSync: null,
    error: null,
    progress: {}, // attachment_id → bytes acknowledged by the server
  };
  function changed() { for (const f of listeners) { try { f(); } catch (e) { console.error(e); } } }

  // ---------------------------------------------------------------- session and HTTP
  let session = null; // {user_id, username, display_name, roles, access_token, refresh_token}
  class Offline extends Error {}
  class SignedOut extends Error {}
  class Refused extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function loadSession() { session = (await meta.get("session")) || null; return session; }

  async function errorOf(resp) {
    let body = null;
    try { body = await resp.json(); } catch (_) { /* not JSON */ }
    const e = body && body.error;
    return new Refused(resp.status, e ? e.code : `http_${resp.status}`,
      e ? e.message : `服务器错误 ${resp.status} (server error)`);
  }

  async function rawFetch(url, init) {
    try {
      return await fetch(url, init);
    } catch (_) {
      throw new Offline("无网络 (no connection)");
    }
  }

  let refreshing = null;
  /** One refresh at a time; the refresh token is single-use and rotates (api.md, Tokens). */
  function refresh() {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      const resp = await rawFetch("/api/v1/auth/refresh", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
      if (resp.status === 401 || resp.status === 403) {
        // Device revoked, user disabled or refresh token reused: signed out; the queue stays
        // for the same user's next sign-in (protocol §1.2).
        await signedOut("登录已失效，请重新登录；未发送的内容已保留 (signed out; your queue is kept)");
        throw new SignedOut("signed out");
      }
      if (!resp.ok) throw await errorOf(resp);
      const t = await resp.json();
      session = { ...session, access_token: t.access_token, refresh_token: t.refresh_token };
      await meta.set("session", session);
    })().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function signedOut(reason) {
    session = null;
    await meta.del("session");
    status.error = reason;
    changed();
  }

  /** A signed-in request; a 401 refreshes the token and retries the same request once. */
  async function call(method, path, { json, body, headers = {}, raw = false } = {}) {
    if (!session) throw new SignedOut("not signed in");
    for (let attempt = 0; ; attempt++) {
      const h = { ...headers, Authorization: `Bearer ${session.access_token}` };
      if (json !== undefined) h["Content-Type"] = "application/json";
      if (path.startsWith("/sync/v1/")) h["GridSync-Protocol"] = PROTOCOL;
      const resp = await rawFetch(path, {
        method, headers: h, body: json !== undefined ? JSON.stringify(json) : body,
      });
      if (resp.status === 401 && attempt === 0) { await refresh(); continue; }
      if (resp.status === 401) {
        await signedOut("登录已失效，请重新登录 (signed out)");
        throw new SignedOut("signed out");
      }
      if (raw) return resp;
      if (resp.status >= 500 || resp.status === 429 || resp.status === 423) {
        throw new Offline(`服务器暂不可用 ${resp.status} (server unavailable)`);
      }
      if (!resp.ok) throw await errorOf(resp);
      return resp.status === 204 ? null : resp.json();
    }
  }

  /** Sign in (`POST /api/v1/auth/login` with this install's device id). */
  async function login(username, password) {
    const device_id = await deviceId();
    const resp = await rawFetch("/api/v1/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password, device_id }),
    });
    if (!resp.ok) throw await errorOf(resp);
    const t = await resp.json();
    session = { access_token: t.access_token, refresh_token: t.refresh_token, username };
    const me = await call("GET", "/api/v1/me");
    session = { ...session, user_id: me.id, display_name: me.display_name, roles: me.roles };
    await meta.set("session", session);
    await meta.set("me", me);
    await meta.set("last_user", { id: me.id, username, display_name: me.display_name });
    // Another user on this phone: their view is not ours (their queue stays, theirs to send).
    if ((await meta.get("view_user")) !== me.id) {
      const db = await dbp;
      await db.clear("entities");
      await meta.del("cursor");
      await meta.set("view_user", me.id);
    }
    status.error = null;
    changed();
    kick();
    return session;
  }

  async function logout() {
    if (session) {
      try {
        await rawFetch("/api/v1/auth/logout", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: session.refresh_token }),
        });
      } catch (_) { /* offline: the session ends here anyway */ }
    }
    session = null;
    await meta.del("session");
    changed();
  }

  // ---------------------------------------------------------------- acting: outbox and captures
  const seqKey = (user) => `next_seq:${user}`;
  const outboxKey = (user, seq) => `${user}:${String(seq).padStart(12, "0")}`;

  /**
   * The user acts: the command is numbered and stored (with its device_seq) before the caller
   * shows it as done (protocol §2.3). Returns the outbox record.
   */
  async function act(command, position) {
    if (!session) throw new SignedOut("not signed in");
    const user = session.user_id;
    const db = await dbp;
    const tx = db.transaction(["meta", "outbox"], "readwrite");
    const seq = (await tx.objectStore("meta").get(seqKey(user))) || 1;
    const rec = {
      key: outboxKey(user, seq), user_id: user, device_seq: seq, command,
      occurred_at: new Date().toISOString(), state: "pending", created_at: Date.now(),
    };
    if (position) rec.position = position;
    await tx.objectStore("outbox").put(rec);
    await tx.objectStore("meta").put(seq + 1, seqKey(user));
    await tx.done;
    changed();
    kick();
    return rec;
  }

  /** A photo or video captured: hashed, kept in IndexedDB, queued for upload; its id.
   *  `phase` labels a rectification's photo `before` or `after` (sent as tus `phase`). */
  async function capture(file, position, phase) {
    if (!session) throw new SignedOut("not signed in");
    const sha = await sha256Of(file);
    const rec = {
      attachment_id: uuid7(), user_id: session.user_id, blob: file,
      name: file.name || "capture", type: file.type || "", size: file.size, sha256: sha,
      captured_at: new Date().toISOString(), state: "pending", location: null, offset: 0,
      created_at: Date.now(),
    };
    if (position) { rec.lat = position.lat; rec.lon = position.lon; rec.crs = position.crs || "wgs84"; }
    if (phase === "before" || phase === "after") rec.phase = phase;
    await (await dbp).put("uploads", rec);
    changed();
    kick();
    return rec;
  }

  // ---------------------------------------------------------------- push
  async function storeEntities(tx, entities) {
    const store = tx.objectStore("entities");
    for (const e of entities || []) {
      await store.put({ key: `${e.entity_type}:${e.id}`, type: e.entity_type, id: e.id, data: e.data });
    }
  }

  async function pending(user) {
    const all = await (await dbp).getAllFromIndex("outbox", "user", user);
    return all.filter((r) => r.state === "pending").sort((a, b) => a.device_seq - b.device_seq);
  }

  async function push() {
    const user = session.user_id;
    const device_id = await deviceId();
    for (let round = 0; round < 1000; round++) {
      const batch = (await pending(user)).slice(0, BATCH);
      if (!batch.length) return;
      const resp = await call("POST", "/sync/v1/push", {
        json: {
          device_id,
          commands: batch.map((r) => {
            const c = { device_seq: r.device_seq, command: r.command, occurred_at: r.occurred_at };
            if (r.position) c.position = r.position;
            return c;
          }),
        },
      });
      let progressed = false;
      const db = await dbp;
      const tx = db.transaction(["outbox", "entities", "meta"], "readwrite");
      const outbox = tx.objectStore("outbox");
      for (const res of resp.results || []) {
        const rec = await outbox.get(outboxKey(user, res.device_seq));
        if (!rec || res.status === "deferred") continue;
        const outcome = res.status === "duplicate" ? res.original : res.status;
        rec.state = outcome === "rejected" ? "rejected" : "applied";
        rec.code = res.code || null;
        rec.message = res.message || null;
        rec.command_seq = res.command_seq || null;
        rec.acked_at = Date.now();
        await outbox.put(rec);
        await storeEntities(tx, res.entities);
        progressed = true;
      }
      // The server's next expected number: new commands are numbered above it; a lower number
      // than what we believe acknowledged means it lost commands (a restore): send them again.
      const next = resp.next_device_seq;
      if (typeof next === "number") {
        const metaStore = tx.objectStore("meta");
        const mine = (await metaStore.get(seqKey(user))) || 1;
        if (next > mine) await metaStore.put(next, seqKey(user));
        const mineAll = await outbox.index("user").getAll(user);
        for (const r of mineAll) {
          if (r.device_seq >= next && r.state !== "pending") {
            r.state = "pending";
            await outbox.put(r);
            progressed = true;
          }
        }
      }
      await tx.done;
      changed();
      if (!progressed) return; // all deferred: an earlier number is missing on both sides
    }
  }

  // ---------------------------------------------------------------- uploads (tus, media.md)
  const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(String(s))));

  function tusMetadata(u) {
    const pairs = [["attachment_id", u.attachment_id], ["sha256", u.sha256],
      ["filename", u.name], ["captured_at", u.captured_at]];
    if (u.type) pairs.push(["content_type", u.type]);
    if (u.phase) pairs.push(["phase", u.phase]);
    if (u.lat !== undefined && u.lon !== undefined) {
      pairs.push(["lat", u.lat], ["lon", u.lon], ["crs", u.crs || "wgs84"]);
    }
    return pairs.map(([k, v]) => `${k} ${b64(v)}`).join(",");
  }

  async function saveUpload(u) { await (await dbp).put("uploads", u); }

  async function tusHead(location) {
    const resp = await call("HEAD", location, { headers: { "Tus-Resumable": TUS }, raw: true });
    if (resp.ok) return Number(resp.headers.get("Upload-Offset"));
    if (resp.status === 404) return null;
    if (resp.status === 410) return "gone";
    // 423: the server is still finishing a cut request on this upload — try again shortly.
    if (resp.status >= 500 || resp.status === 423 || resp.status === 429) throw new Offline(`服务器暂不可用 ${resp.status}`);
    throw await errorOf(resp);
  }

  async function uploadOne(u) {
    let offset = null;
    if (u.location) {
      const o = await tusHead(u.location);
      if (typeof o === "number") offset = o;
      else { if (o === "gone") u.gone = u.location; u.location = null; }
    }
    if (!u.location) {
      const resp = await call("POST", "/files/", {
        raw: true,
        headers: { "Tus-Resumable": TUS, "Upload-Length": String(u.size), "Upload-Metadata": tusMetadata(u) },
      });
      if (resp.status >= 500 || resp.status === 423 || resp.status === 429) throw new Offline(`服务器暂不可用 ${resp.status}`);
      if (!resp.ok) throw await errorOf(resp);
      u.location = resp.headers.get("Location");
      offset = Number(resp.headers.get("Upload-Offset") || 0);
      if (u.gone && u.gone === u.location) {
        // Created again, the server hands back the upload it no longer takes: refused for good.
        throw new Refused(410, "upload_gone", "服务器不再接收此文件（已过期、删除或未通过检查）(the server no longer takes this upload)");
      }
    }
    u.offset = offset;
    status.progress[u.attachment_id] = offset;
    await saveUpload(u);
    changed();
    while (u.offset < u.size || u.size === 0) {
      const chunk = u.blob.slice(u.offset, Math.min(u.size, u.offset + CHUNK));
      const resp = await call("PATCH", u.location, {
        raw: true, body: chunk,
        headers: { "Tus-Resumable": TUS, "Content-Type": "application/offset+octet-stream",
          "Upload-Offset": String(u.offset) },
      });
      if (resp.status === 410) {
        // Expired or deleted between two pieces: the next round creates it again (same id).
        u.gone = u.location;
        u.location = null;
        u.offset = 0;
        await saveUpload(u);
        throw new Offline("上传已过期，将重新开始 (the upload expired; it starts again)");
      }
      if (resp.status === 409) {
        const o = await tusHead(u.location);
        if (typeof o !== "number") throw new Offline("上传需重新开始 (the upload restarts)");
        u.offset = o;
        continue;
      }
      if (resp.status >= 500 || resp.status === 423 || resp.status === 429) throw new Offline(`服务器暂不可用 ${resp.status}`);
      if (!resp.ok) throw await errorOf(resp);
      u.offset = Number(resp.headers.get("Upload-Offset") || u.offset + chunk.size);
      status.progress[u.attachment_id] = u.offset;
      await saveUpload(u);
      changed();
      if (u.size === 0) break;
    }
  }

  async function uploadAll() {
    const all = await (await dbp).getAllFromIndex("uploads", "user", session.user_id);
    for (const u of all.filter((x) => x.state === "pending").sort((a, b) => a.created_at - b.created_at)) {
      try {
        await uploadOne(u);
        u.state = "done";
        u.blob = null; // the server has it, verified against the SHA-256 taken at capture
        await saveUpload(u);
      } catch (e) {
        if (!(e instanceof Refused)) throw e;
        // The server will not take these bytes (changed after capture, wrong type, …).
        u.state = "failed";
        u.code = e.code;
        u.message = e.message;
        await saveUpload(u);
      }
      changed();
    }
  }

  // ---------------------------------------------------------------- pull
  async function pull() {
    for (let page = 0; page < 1000; page++) {
      const cursor = await meta.get("cursor");
      const q = new URLSearchParams({ limit: "500" });
      if (cursor) q.set("cursor", cursor);
      const resp = await call("GET", `/sync/v1/pull?${q}`);
      const db = await dbp;
      const tx = db.transaction(["entities", "meta"], "readwrite");
      const store = tx.objectStore("entities");
      if (resp.reset) await store.clear(); // never the outbox or uploads
      for (const c of resp.changes) {
        const key = `${c.entity_type}:${c.id}`;
        if (c.op === "purge") await store.delete(key);
        else await store.put({ key, type: c.entity_type, id: c.id, data: c.data });
      }
      await tx.objectStore("meta").put(resp.cursor, "cursor");
      await tx.done;
      if (resp.changes.length) changed();
      if (!resp.has_more) return;
    }
  }

  /**
   * Acknowledged commands and delivered files older than 30 days leave the phone (the server
   * has them); pending ones never do.
   */
  async function prune() {
    const db = await dbp;
    const cutoff = Date.now() - 30 * 86400000;
    const tx = db.transaction(["outbox", "uploads"], "readwrite");
    for (const r of await tx.objectStore("outbox").getAll()) {
      if (r.state !== "pending" && (r.acked_at || 0) < cutoff) await tx.objectStore("outbox").delete(r.key);
    }
    for (const u of await tx.objectStore("uploads").getAll()) {
      if (u.state !== "pending" && (u.created_at || 0) < cutoff) await tx.objectStore("uploads").delete(u.attachment_id);
    }
    await tx.done;
  }

  /** A squad leader picks officers by name offline: the squads' members, kept for 10 min. */
  async function cacheSquadMembers() {
    if (!(session.roles || []).includes("squad_leader")) return;
    const tasks = (await (await dbp).getAll("entities")).filter((e) => e.type === "task");
    for (const squad of new Set(tasks.map((t) => t.data.squad_id).filter(Boolean))) {
      const kept = await meta.get(`members:${squad}`);
      if (kept && Date.now() - kept.at < 600000) continue;
      const v = await call("GET", `/api/v1/squads/${encodeURIComponent(squad)}/members`);
      await meta.set(`members:${squad}`, { at: Date.now(), members: v.members || [] });
    }
  }

  // ---------------------------------------------------------------- the loop
  let running = null;
  let again = false;
  let backoff = 0;
  let timer = null;
  let waitCtl = null;

  async function syncOnce() {
    if (!session) return;
    status.syncing = true;
    changed();
    try {
      await push();
      await uploadAll();
      await pull();
      // Reference data, refreshed hourly: categories (an admin may add or retire one).
      if (!(await meta.get("categories")) || Date.now() - ((await meta.get("categories_at")) || 0) > 3600000) {
        await meta.set("categories", await call("GET", "/api/v1/categories"));
        await meta.set("categories_at", Date.now());
      }
      await prune();
      await cacheSquadMembers();
      await meta.set("notifications", await call("GET", "/api/v1/me/notifications"));
      await meta.set("last_sync", new Date().toISOString());
      status.lastSync = new Date().toISOString();
      status.online = true;
      status.error = null;
      backoff = 0;
    } catch (e) {
      if (e instanceof SignedOut) { /* shown by signedOut */ } else if (e instanceof Offline || e instanceof TypeError) {
        status.online = false;
        backoff = Math.min(BACKOFF_MAX, backoff ? backoff * 2 : 1000);
      } else {
        status.error = e.message;
        backoff = Math.min(BACKOFF_MAX, backoff ? backoff * 2 : 1000);
      }
    } finally {
      status.syncing = false;
      changed();
    }
  }

  /** Sync now (or right after the running round). */
  function kick() {
    if (waitCtl) waitCtl.abort();
    if (running) { again = true; return running; }
    clearTimeout(timer);
    running = (async () => {
      do { again = false; await syncOnce(); } while (again && session);
    })().finally(() => { running = null; schedule(); });
    return running;
  }

  /** After a round: back off when offline, else keep one wait open (protocol §4). */
  function schedule() {
    clearTimeout(timer);
    if (!session) return;
    if (backoff) {
      const jitter = backoff * (0.8 + Math.random() * 0.4);
      timer = setTimeout(kick, jitter);
      return;
    }
    timer = setTimeout(async () => {
      const cursor = await meta.get("cursor");
      if (!cursor || !session) { kick(); return; }
      waitCtl = new AbortController();
      try {
        const resp = await fetch(`/sync/v1/wait?cursor=${encodeURIComponent(cursor)}&timeout=25`, {
          headers: { Authorization: `Bearer ${session.access_token}`, "GridSync-Protocol": PROTOCOL },
          signal: waitCtl.signal,
        });
        if (resp.ok) await resp.json();
      } catch (_) { /* aborted or offline: the next round finds out */ }
      waitCtl = null;
      if (!running) kick();
    }, 50);
  }

  // ---------------------------------------------------------------- reading for screens
  async function snapshot() {
    const db = await dbp;
    // Signed out: the queue of the last user stays in view, to be sent after their sign-in.
    const last = await meta.get("last_user");
    const user = session ? session.user_id : last && last.id;
    const outbox = user ? await db.getAllFromIndex("outbox", "user", user) : [];
    const uploads = user ? await db.getAllFromIndex("uploads", "user", user) : [];
    const entities = await db.getAll("entities");
    const others = (await db.getAll("outbox")).filter((r) => r.user_id !== user && r.state === "pending").length;
    return {
      outbox: outbox.sort((a, b) => a.device_seq - b.device_seq),
      uploads: uploads.map((u) => ({ ...u, blob: undefined, hasBlob: !!u.blob })).sort((a, b) => a.created_at - b.created_at),
      entities,
      othersWaiting: others,
      categories: (await meta.get("categories")) || [],
      lastSync: (await meta.get("last_sync")) || null,
      me: (await meta.get("me")) || null,
      notifications: (await meta.get("notifications")) || [],
      lastUser: last || null,
    };
  }

  /** The captured file of an upload still on the phone (for a preview). */
  async function localBlob(id) {
    const u = await (await dbp).get("uploads", id);
    return u && u.blob;
  }

  /** A stored evidence file as a blob: URL (signed-in GET of its content). */
  /** The on-the-spot decision (当场处罚决定书) of a task as a blob: URL, to show or print. */
  async function decisionUrl(taskId) {
    const resp = await call("GET", `/api/v1/tasks/${taskId}/decision`, { raw: true });
    if (!resp.ok) throw await errorOf(resp);
    return URL.createObjectURL(await resp.blob());
  }

  /** The evidence record (`phase`, `proves`, …), or null when not uploaded or not visible. */
  async function evidenceRecord(id) {
    const resp = await call("GET", `/api/v1/attachments/${id}`, { raw: true });
    return resp.ok ? resp.json() : null;
  }

  async function evidenceUrl(id, variant) {
    const local = await localBlob(id);
    if (local) return URL.createObjectURL(local);
    const q = variant ? `?variant=${variant}` : "";
    const resp = await call("GET", `/api/v1/attachments/${id}/content${q}`, { raw: true });
    // 409 copies_pending: the server has the photo but is still making its copies.
    if (resp.status === 409) return EVIDENCE_PROCESSING;
    if (!resp.ok) return null;
    return URL.createObjectURL(await resp.blob());
  }
  /** What `evidenceUrl` answers while the server is still making a photo's copies. */
  const EVIDENCE_PROCESSING = "processing";

  window.GDField = {
    /** Mark notifications read: here at once, on the server when it answers. */
    async markRead(ids) {
      const list = (await meta.get("notifications")) || [];
      const now = new Date().toISOString();
      for (const n of list) if (ids.includes(n.id) && !n.read_at) n.read_at = now;
      await meta.set("notifications", list);
      changed();
      try { await call("POST", "/api/v1/me/notifications/read", { json: { ids } }); } catch (_) { /* next time */ }
    },
    /** The user has read a refusal: it leaves the queue panel (the record stays). */
    async dismiss(key) {
      const db = await dbp;
      const r = await db.get("outbox", key);
      if (r) { r.dismissed = true; await db.put("outbox", r); }
      const u = await db.get("uploads", key);
      if (u) { u.dismissed = true; await db.put("uploads", u); }
      changed();
    },
    async squadMembers(squad) { const m = await meta.get(`members:${squad}`); return (m && m.members) || []; },
    uuid7, sha256Of, sha256Fallback, login, logout, loadSession, act, capture, kick, snapshot,
    evidenceUrl, EVIDENCE_PROCESSING, evidenceRecord, decisionUrl, localBlob, status, deviceId,
    get session() { return session; },
    onChange(f) { listeners.add(f); return () => listeners.delete(f); },
    /** Sync when the phone says it is back online. */
    start() {
      window.addEventListener("online", () => { backoff = 0; kick(); });
      if (session) kick();
    },
    syncNow() { backoff = 0; return kick(); },
  };
})();
