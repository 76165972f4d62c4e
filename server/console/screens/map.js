// 一张图 Map: the grid's levels (toggle) on a plain background, report pins coloured by state
// and deadline, clustered; a click opens the report.
(function () {
  "use strict";
  const { api, store, labels: L_ } = GD;
  // Pins fetched per state, 200 a page; clustering keeps tens of thousands smooth, the fetch
  // is what grows (docs/benchmarks.md, "Console").
  const MAX_PINS = 20000;

  GD.screens.map = {
    data: () => ({ openOnly: true, count: 0, total: 0, loading: false }),
    template: `
      <div class="gd-mapscreen">
        <div class="gd-title-row">
          <h2 class="gd-title">一张图 <small>Map</small></h2>
          <div>
            <el-checkbox v-model="openOnly" id="map-open-only">只看未办结 Open only</el-checkbox>
            <span class="gd-muted gd-small" id="map-count">显示 {{ count }} / {{ total }} 条线索</span>
            <span class="gd-legend">
              <span v-for="(colour, code) in L.PIN_COLOUR" :key="code"><i :style="{background: colour}"></i>{{ L.REPORT_STATUS[code] }}</span>
              <span><i class="gd-ring-red"></i>超期 Overdue</span>
            </span>
          </div>
        </div>
        <div ref="map" class="gd-map gd-map-full" v-loading="loading"></div>
      </div>`,
    watch: { openOnly() { this.loadPins(); }, "store.changeTick"() { this.loadPins(); } },
    created() { this.L = L_; },
    async mounted() {
      const { map } = await GD.gridMap(this.$refs.map);
      this.map = map;
      this.cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 40 });
      map.addLayer(this.cluster);
      this.loadPins();
    },
    unmounted() { if (this.map) this.map.remove(); },
    methods: {
      async fetchAll(status) {
        const out = [];
        let total = 0;
        for (let page = 1; out.length < MAX_PINS; page++) {
          const p = await api.reports({ status, page, per_page: 200 });
          out.push(...p.items);
          total = p.total;
          if (p.items.length < 200) break;
        }
        return { items: out, total };
      },
      async loadPins() {
        if (!this.cluster) return;
        this.loading = true;
        try {
          const statuses = this.openOnly ? ["reported", "needs_info", "accepted"] : [""];
          const pages = await Promise.all(statuses.map((s) => this.fetchAll(s)));
          const items = pages.flatMap((p) => p.items);
          this.total = pages.reduce((n, p) => n + p.total, 0);
          const now = Date.now();
          const markers = items.filter((v) => v.report.lat != null).map((v) => {
            const r = v.report, level = L_.deadlineLevel(v.task, now);
            const late = level === "red" || level === "escalated", warn = level === "yellow";
            const m = L.circleMarker([r.lat, r.lon], {
              radius: 7, weight: late || warn ? 3 : 1, color: late ? "#c00" : warn ? "#e6a23c" : "#fff",
              fillColor: L_.PIN_COLOUR[r.status] || "#909399", fillOpacity: 0.95,
            });
            m.bindTooltip(`${GD.categoryName(r.category_code)} · ${L_.label(L_.REPORT_STATUS, r.status)}<br>${r.description.slice(0, 40)}`);
            m.on("click", () => { location.hash = "#/report/" + r.id; });
            return m;
          });
          this.cluster.clearLayers();
          this.cluster.addLayers(markers);
          this.count = markers.length;
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
    },
  };
})();
