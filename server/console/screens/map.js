// 一张图 Map: the grid's levels (toggle) on a plain background, report pins coloured by state
// and deadline, clustered; a click opens the report.
(function () {
  "use strict";
  const { api, store, labels: L_ } = GD;
  // Pins come in one answer per view (GET /api/v1/map/pins with the visible bbox), each with
  // its deadline light judged by the server; clustering keeps tens of thousands smooth
  // (docs/benchmarks.md, "Console").

  GD.screens.map = {
    data: () => ({ openOnly: true, count: 0, total: 0, truncated: false, loading: false }),
    template: `
      <div class="gd-mapscreen">
        <div class="gd-title-row">
          <h2 class="gd-title">一张图 <small>Map</small></h2>
          <div>
            <el-checkbox v-model="openOnly" id="map-open-only">只看未办结 Open only</el-checkbox>
            <span class="gd-muted gd-small" id="map-count">显示 {{ count }} / {{ total }} 条线索</span>
            <span v-if="truncated" class="gd-small gd-warn" id="map-truncated">（太多，请放大地图 zoom in to see all）</span>
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
      // Panning and zooming ask for the new view (after the movement settles).
      map.on("moveend", () => { clearTimeout(this.moveTimer); this.moveTimer = setTimeout(() => this.loadPins(), 250); });
      this.loadPins();
    },
    unmounted() { clearTimeout(this.moveTimer); if (this.map) this.map.remove(); },
    methods: {
      bbox() {
        // The view and a margin around it, so a small pan needs no new pins.
        const b = this.map.getBounds().pad(0.25);
        const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
        return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
          .map((v) => v.toFixed(6)).join(",");
      },
      async loadPins() {
        if (!this.cluster) return;
        const seq = (this.seq = (this.seq || 0) + 1);
        this.loading = true;
        try {
          const got = await api.pins({ open_only: this.openOnly, bbox: this.bbox() });
          if (seq !== this.seq) return; // a newer view was asked for meanwhile
          this.total = got.total;
          this.truncated = got.truncated;
          const markers = got.pins.map((p) => {
            const late = p.level === "red" || p.level === "escalated", warn = p.level === "yellow";
            const m = L.circleMarker([p.lat, p.lon], {
              radius: 7, weight: late || warn ? 3 : 1, color: late ? "#c00" : warn ? "#e6a23c" : "#fff",
              fillColor: L_.PIN_COLOUR[p.status] || "#909399", fillOpacity: 0.95,
            });
            m.bindTooltip(`${GD.categoryName(p.category_code)} · ${L_.label(L_.REPORT_STATUS, p.status)}${late ? " · 超期" : warn ? " · 预警" : ""}`);
            m.on("click", () => { location.hash = "#/report/" + p.id; });
            return m;
          });
          this.cluster.clearLayers();
          this.cluster.addLayers(markers);
          this.count = markers.length;
        } catch (e) { GD.showError(e); } finally { if (seq === this.seq) this.loading = false; }
      },
    },
  };
})();
