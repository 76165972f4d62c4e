// 来电登记 Hotline and complaint intake: the dispatcher files a report for a 12345 call, a
// public complaint or a referral from a higher level. Position picked on the map or typed;
// the complainant's contact is kept private (dispatchers and duty chiefs only).
(function () {
  "use strict";
  const { api, store, labels: L_ } = GD;

  GD.screens.hotline = {
    data: () => ({
      form: { source: "hotline", category: "", description: "", lat: "", lon: "", address: "", name: "", phone: "" },
      located: null, busy: false,
    }),
    template: `
      <div class="gd-hotline">
        <h2 class="gd-title">来电登记 <small>Hotline, complaint and referral intake</small></h2>
        <el-row :gutter="16">
          <el-col :span="11">
            <el-form label-width="130px" size="default" @submit.prevent>
              <el-form-item label="来源 Source">
                <el-radio-group v-model="form.source" id="hotline-source">
                  <el-radio value="hotline">12345热线</el-radio>
                  <el-radio value="public_complaint">群众举报</el-radio>
                  <el-radio value="higher_level">上级交办</el-radio>
                </el-radio-group>
              </el-form-item>
              <el-form-item label="类别 Category">
                <el-select v-model="form.category" filterable placeholder="选择类别 Choose" id="hotline-category" style="width:100%">
                  <el-option v-for="c in store.categories" :key="c.code" :label="c.code + ' ' + c.name" :value="c.code" />
                </el-select>
              </el-form-item>
              <el-form-item label="情况描述 Description">
                <el-input v-model="form.description" type="textarea" :rows="4" id="hotline-description" placeholder="来电反映的情况 What the caller reports" />
              </el-form-item>
              <el-form-item label="位置 Position">
                <el-input v-model="form.lat" placeholder="纬度 lat" style="width:48%" id="hotline-lat" @change="locate" />
                <el-input v-model="form.lon" placeholder="经度 lon" style="width:48%;margin-left:4%" id="hotline-lon" @change="locate" />
                <el-input v-model="form.address" placeholder="来电人所说地址（无坐标时填写，派遣前再定位）Address as given" style="margin-top:6px" id="hotline-address" />
                <div class="gd-muted gd-small" id="hotline-cell">
                  <template v-if="located && located.status === 'located'">所在网格 Cell: {{ located.village.name }}（{{ located.village.code }}）</template>
                  <template v-else-if="located">不在网格内，最近 {{ located.nearest && located.nearest.name }} (outside the grid)</template>
                  <template v-else>在地图上点击选择位置，或输入坐标 (WGS-84) · Click the map or type the coordinates</template>
                </div>
              </el-form-item>
              <el-form-item label="来电人 Caller">
                <el-input v-model="form.name" placeholder="姓名 Name" style="width:48%" id="hotline-name" />
                <el-input v-model="form.phone" placeholder="电话 Phone" style="width:48%;margin-left:4%" id="hotline-phone" />
                <div class="gd-muted gd-small">联系方式仅调度员、值班长可见 (kept private)</div>
              </el-form-item>
              <el-form-item>
                <el-button type="primary" :loading="busy" @click="submit" id="hotline-submit">登记 File report</el-button>
                <el-button @click="reset">清空 Clear</el-button>
              </el-form-item>
            </el-form>
          </el-col>
          <el-col :span="13"><div ref="map" class="gd-map gd-map-pick"></div></el-col>
        </el-row>
      </div>`,
    created() { },
    async mounted() {
      const { map } = await GD.gridMap(this.$refs.map, {
        onClick: (ll) => {
          this.form.lat = ll.lat.toFixed(6);
          this.form.lon = ll.lng.toFixed(6);
          this.locate();
        },
      });
      this.map = map;
    },
    unmounted() { if (this.map) this.map.remove(); },
    methods: {
      async locate() {
        const lat = parseFloat(this.form.lat), lon = parseFloat(this.form.lon);
        if (!isFinite(lat) || !isFinite(lon)) { this.located = null; return; }
        if (this.pin) this.pin.remove();
        if (this.map) this.pin = L.circleMarker([lat, lon], { radius: 8, color: "#e6412b", fillOpacity: 0.8 }).addTo(this.map);
        try { this.located = await api.locate(lat, lon); } catch (e) { this.located = null; GD.showError(e); }
      },
      reset() {
        this.form = { source: "hotline", category: "", description: "", lat: "", lon: "", address: "", name: "", phone: "" };
        this.located = null;
        if (this.pin) this.pin.remove();
      },
      async submit() {
        const lat = parseFloat(this.form.lat), lon = parseFloat(this.form.lon);
        const position = isFinite(lat) && isFinite(lon) ? { lat, lon } : null;
        const contact = this.form.name.trim() || this.form.phone.trim()
          ? { name: this.form.name.trim() || null, phone: this.form.phone.trim() || null } : null;
        const id = api.uuid();
        this.busy = true;
        try {
          await api.command({
            type: "create_report", report_id: id, source: this.form.source,
            category_code: this.form.category, description: this.form.description,
            position, attachment_ids: [], contact, address: this.form.address.trim() || null,
          });
          GD.showOk("已登记 Report filed");
          location.hash = "#/report/" + id;
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
    },
  };
})();
