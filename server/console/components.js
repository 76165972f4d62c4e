// Pieces several screens share: the app's store, state tags, the grid on a Leaflet map, the
// record timeline, evidence thumbnails.
(function () {
  "use strict";
  const { reactive } = Vue;
  const L_ = GD.labels;

  // What every screen may read: who is signed in, cached reference data, live updates.
  const store = reactive({
    me: null,
    roles: [],
    categories: [],
    squads: [],
    live: "",          // "live" | "polling" | ""
    changeTick: 0,     // bumped (debounced) on every change the server announces
    changed: {},       // entity id -> seq of its last change (to highlight fresh rows)
    mapTiles: null,    // {url, subdomains, attribution} when the server configures a tile layer
  });
  const has = (...roles) => roles.some((r) => store.roles.includes(r));

  function categoryName(code) {
    const c = store.categories.find((x) => x.code === code);
    return c ? `${c.name}` : code;
  }
  function squadName(id) {
    const s = store.squads.find((x) => x.id === id);
    return s ? s.name : id;
  }
  /** A person's name from the people the console has met, else the end of the id. */
  function personName(id) {
    return (window.GD.people && window.GD.people[id]) || (id ? "…" + id.slice(-6) : "—");
  }
  // Common helpers for screens' `methods` (one definition instead of one per screen).
  const names = { cat: (c) => categoryName(c), squad: (id) => squadName(id), person: (id) => personName(id) };

  /** Show a refusal or failure the way the server worded it. */
  function showError(e) {
    ElementPlus.ElMessage({ type: "error", message: e && e.message ? e.message : String(e), duration: 6000, showClose: true });
  }
  function showOk(message) {
    ElementPlus.ElMessage({ type: "success", message });
  }

  // ---- the grid on a map ---------------------------------------------------------------
  let gridCache = null;
  async function loadGrid() {
    if (!gridCache) {
      gridCache = GD.api.grid().catch((e) => { gridCache = null; throw e; });
    }
    return gridCache;
  }
  /** Forget the cached grid (after an import). */
  function resetGrid() { gridCache = null; }
  const LEVEL_STYLE = {
    town: { color: "#1c4e80", weight: 3, fill: false },
    area: { color: "#3a7bd5", weight: 2, dashArray: "6 4", fill: false },
    village: { color: "#5b8def", weight: 1, fillColor: "#dbe7fb", fillOpacity: 0.35 },
  };
  const LEVEL_NAME = { town: "镇 Town", area: "片区 Areas", village: "村 Villages" };

  /** A Leaflet map with the grid's levels as toggleable layers, over the configured tile layer
   *  or, with none, on a plain background (works on an intranet without internet).
   *  Resolves to {map, layers, bounds}. */
  async function gridMap(el, opts) {
    opts = opts || {};
    const tiles = store.mapTiles;
    // The map sets its own zoom range (clustering needs a maxZoom, a plain map has no tiles to give one).
    const map = L.map(el, { zoomSnap: 0.25, attributionControl: !!(tiles && tiles.attribution), preferCanvas: true, minZoom: 6, maxZoom: 18 });
    map.setView([35.0, 112.5], 12);
    if (tiles && tiles.url) {
      L.tileLayer(tiles.url, {
        subdomains: tiles.subdomains || "abc", attribution: tiles.attribution || "", maxZoom: 18,
      }).addTo(map);
    }
    let fc = null;
    try { fc = await loadGrid(); } catch (e) { /* no grid imported yet: an empty map */ }
    const layers = {};
    let bounds = null;
    if (fc && fc.features) {
      ["village", "area", "town"].forEach((level) => {
        const feats = fc.features.filter((f) => f.properties && f.properties.level === level);
        const layer = L.geoJSON({ type: "FeatureCollection", features: feats }, {
          style: LEVEL_STYLE[level],
          interactive: level === "village",
          onEachFeature: (f, l) => {
            if (level === "village") l.bindTooltip(`${f.properties.name}（${f.properties.code}）`, { sticky: true });
          },
        });
        layers[level] = layer;
        layer.addTo(map);
        if (feats.length) bounds = bounds ? bounds.extend(layer.getBounds()) : layer.getBounds();
      });
      const overlays = {};
      Object.entries(layers).forEach(([k, v]) => { overlays[LEVEL_NAME[k]] = v; });
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    }
    if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
    if (opts.onClick) map.on("click", (ev) => opts.onClick(ev.latlng));
    setTimeout(() => map.invalidateSize(), 0);
    return { map, layers, bounds };
  }

  // ---- small components ----------------------------------------------------------------
  const ReportStatus = {
    props: ["status"],
    template: `<el-tag :type="tag" size="small" effect="light" class="gd-status">{{ text }}</el-tag>`,
    computed: {
      tag() { return L_.REPORT_TAG[this.status] || "info"; },
      text() { return L_.label(L_.REPORT_STATUS, this.status); },
    },
  };
  const TaskStatus = {
    props: ["status"],
    template: `<el-tag size="small" effect="plain" class="gd-task-status">{{ text }}</el-tag>`,
    computed: { text() { return L_.label(L_.TASK_STATUS, this.status); } },
  };
  // The deadline colour moves from normal to yellow to red as time passes (re-evaluated every
  // 30 s through the `now` the app ticks).
  const Deadline = {
    props: ["task"],
    inject: ["clock"],
    template: `<el-tag v-if="level" :type="tag" size="small" effect="dark" class="gd-deadline" :class="'gd-deadline-' + level">{{ text }}</el-tag>`,
    computed: {
      level() { return L_.deadlineLevel(this.task, this.clock.now); },
      tag() { return L_.DEADLINE_TAG[this.level]; },
      text() { return L_.label(L_.DEADLINE, this.level); },
    },
  };

  // 执法全过程记录: the report's record as a timeline, oldest first.
  const History = {
    props: ["records"],
    template: `
      <el-timeline class="gd-history">
        <el-timeline-item v-for="h in records" :key="h.seq" :timestamp="time(h.at)" placement="top">
          <b>{{ cmd(h.command) }}</b> <span class="gd-muted">{{ h.command }}</span>
          <span class="gd-muted"> · {{ who(h.actor_id) }}</span>
          <div v-if="detail(h)" class="gd-history-detail">{{ detail(h) }}</div>
        </el-timeline-item>
      </el-timeline>`,
    methods: {
      time: L_.time,
      cmd(c) { return L_.label(L_.COMMAND, c); },
      who(id) { return id === "system" ? "系统 system" : (GD.people && GD.people[id]) || id.slice(0, 8); },
      detail(h) {
        // The record serves the command as an object (older servers: a JSON string).
        let p = h.payload;
        if (typeof p === "string") { try { p = JSON.parse(p); } catch (_) { return ""; } }
        const c = (p && (p.command || p)) || {};
        return c.reason || c.question || c.note || c.description || c.department || c.opinion || c.content || "";
      },
    },
  };

  // Evidence: thumbnails that open the original (fetched with the token).
  const Evidence = {
    props: ["attachments", "pending"],
    data: () => ({ thumbs: {}, originals: {}, copies: {}, timer: null }),
    template: `
      <div class="gd-evidence">
        <div v-for="a in attachments" :key="a.id" class="gd-evidence-item">
          <el-image v-if="a.kind === 'photo' && thumbs[a.id]" :src="thumbs[a.id]" fit="cover"
            class="gd-thumb" :preview-src-list="originals[a.id] ? [originals[a.id]] : []"
            :preview-teleported="true" @click="openOriginal(a)" :alt="a.filename || a.id" />
          <div v-else-if="a.kind === 'photo' && copies[a.id] === 'pending'" class="gd-thumb gd-thumb-pending" data-copies="pending">处理中<br><small>processing</small></div>
          <el-button v-else-if="a.kind === 'photo' && copies[a.id] === 'failed'" size="small" @click="openOriginal(a)" data-copies="failed">无法预览，打开原件 Original</el-button>
          <video v-else-if="a.kind === 'video' && originals[a.id]" :src="originals[a.id]" controls class="gd-thumb"></video>
          <el-button v-else-if="a.kind !== 'photo'" size="small" @click="openOriginal(a)">{{ a.kind === 'video' ? '播放视频 Play' : '打开 Open' }}</el-button>
          <el-tooltip placement="bottom" :show-after="300">
            <template #content>
              <div>制作人 Maker：{{ person(a.owner_id) }}</div>
              <div>制作时间 Captured：{{ time(a.captured_at || a.exif_captured_at) }} · 收到 Received：{{ time(a.received_at) }}</div>
              <div>设备 Device：{{ a.device_model || '—' }} · {{ a.media_type }} · {{ Math.round(a.size / 1024) }} KB</div>
              <div>证明对象 Proves：{{ a.proves || '—' }}</div>
              <div v-if="a.transcript">录音文字 Transcript：{{ a.transcript }}</div>
              <div>SHA-256：{{ a.sha256.slice(0, 16) }}…</div>
            </template>
            <div class="gd-muted gd-small gd-evidence-meta">{{ kindLabel(a.kind) }} · {{ time(a.captured_at || a.received_at) }} ⓘ</div>
          </el-tooltip>
          <el-tag v-if="a.phase === 'before'" type="info" size="small" class="gd-phase">整改前 Before</el-tag>
          <el-tag v-if="a.phase === 'after'" type="success" size="small" class="gd-phase">整改后 After</el-tag>
          <el-tag v-if="a.position_mismatch" type="warning" size="small">位置偏离 {{ Math.round(a.position_gap_m || 0) }} 米</el-tag>
          <el-tag v-if="a.similar_to" type="danger" size="small">疑似重复使用照片 reused</el-tag>
        </div>
        <div v-for="p in (pending || [])" :key="p" class="gd-evidence-item gd-pending">
          <div class="gd-thumb gd-thumb-pending">上传中…<br><small>uploading</small></div>
        </div>
        <div v-if="!attachments.length && !(pending || []).length" class="gd-muted">无证据 No evidence</div>
      </div>`,
    watch: { attachments: { immediate: true, handler() { this.load(); } } },
    // The photos' bytes live in object URLs: hand them back when the screen goes.
    unmounted() {
      clearTimeout(this.timer);
      Object.values(this.thumbs).concat(Object.values(this.originals)).forEach((u) => URL.revokeObjectURL(u));
    },
    methods: {
      time: L_.time,
      person: personName,
      kindLabel(k) { return { photo: "照片", video: "视频", audio: "录音" }[k] || k; },
      // A photo's thumbnail is made after the upload was acknowledged: while the server says
      // `copies_pending` a placeholder (处理中) shows, and the thumbnail is asked again.
      async load(round = 0) {
        clearTimeout(this.timer);
        let waiting = false;
        for (const a of this.attachments) {
          if (a.kind !== "photo" || this.thumbs[a.id]) continue;
          if (a.copies === "failed" || this.copies[a.id] === "failed") { this.copies[a.id] = "failed"; continue; }
          try {
            this.thumbs[a.id] = await GD.api.attachmentUrl(a.id, "thumbnail");
            delete this.copies[a.id];
          } catch (e) {
            if (e && e.code === "copies_pending") { this.copies[a.id] = "pending"; waiting = true; }
            else if (e && e.code === "copies_failed") this.copies[a.id] = "failed";
          }
        }
        if (waiting && round < 90) this.timer = setTimeout(() => this.load(round + 1), Math.min(1000 + 500 * round, 10000));
      },
      async openOriginal(a) {
        if (this.originals[a.id]) return;
        try { this.originals[a.id] = await GD.api.attachmentUrl(a.id, "original"); } catch (e) { showError(e); }
      },
    },
  };

  // One evidence thumbnail by attachment id (shows a placeholder while it has not arrived).
  const Thumb = {
    props: ["id"],
    data: () => ({ url: "", missing: false, processing: false, timer: null }),
    template: `<img v-if="url" :src="url" class="gd-thumb gd-thumb-small" alt="" /><div v-else class="gd-thumb gd-thumb-small gd-thumb-pending">{{ missing ? '无照片' : processing ? '处理中' : '…' }}</div>`,
    unmounted() { clearTimeout(this.timer); if (this.url) URL.revokeObjectURL(this.url); },
    watch: { id: { immediate: true, handler(id) {
      clearTimeout(this.timer);
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = ""; this.missing = !id; this.processing = false;
      if (id) this.fetch(id, 0);
    } } },
    methods: {
      // While the copies are being made (`copies_pending`) say so and ask again.
      async fetch(id, round) {
        try { this.url = await GD.api.attachmentUrl(id, "thumbnail"); this.processing = false; } catch (e) {
          if (e && e.code === "copies_pending" && round < 90 && id === this.id) {
            this.processing = true;
            this.timer = setTimeout(() => this.fetch(id, round + 1), Math.min(1000 + 500 * round, 10000));
          } else { this.missing = true; this.processing = false; }
        }
      },
    },
  };

  window.GD.store = store;
  window.GD.has = has;
  window.GD.categoryName = categoryName;
  window.GD.squadName = squadName;
  window.GD.personName = personName;
  window.GD.names = names;
  window.GD.showError = showError;
  window.GD.showOk = showOk;
  window.GD.gridMap = gridMap;
  window.GD.loadGrid = loadGrid;
  window.GD.resetGrid = resetGrid;
  window.GD.people = {};
  window.GD.components = { "gd-report-status": ReportStatus, "gd-task-status": TaskStatus, "gd-deadline": Deadline, "gd-history": History, "gd-evidence": Evidence, "gd-thumb": Thumb };
  window.GD.screens = {};
})();
