// 联席会议 Meeting book (seed 001 工作规则, seed 004 一): the office schedules, reschedules or
// cancels a meeting; member units and the brigade's staff submit topics inside the window; the
// chair puts each on the agenda or declines it; after the meeting the chair issues the minutes
// with every decided item's owner unit, person, deadline and standard; owner units report
// progress and close their items; overdue items show on the next meeting's agenda.
// The server decides who may do what and every rule; the buttons only follow its answers.
(function () {
  "use strict";
  const { api, labels: L_ } = GD;
  const OFFICE = ["admin", "approver"];
  const STAFF = ["admin", "approver", "duty_chief", "dispatcher", "legal_reviewer"];

  function emptyItem() {
    return { title: "", owner_department_id: "", owner_person: "", due_at: null, standard: "" };
  }
  function iso(d) { return d instanceof Date ? d.toISOString() : d; }

  GD.screens.meetings = {
    props: ["param"],
    data: () => ({
      list: [], departments: [], loading: false, current: null, busy: false,
      editing: null, form: null, cancelling: false, cancelReason: "",
      topic: { title: "", description: "" }, declining: null, declineNote: "",
      minutes: { text: "", items: [emptyItem()] }, itemNote: {}, now: Date.now(),
    }),
    template: `
      <div class="gd-meetings">
        <div class="gd-title-row">
          <h2 class="gd-title">联席会议 <small>Joint meetings</small></h2>
          <el-button v-if="office" type="primary" id="meeting-new" @click="openSchedule">＋ 安排会议 Schedule</el-button>
        </div>
        <p class="gd-hint">每月召开；会前 10 日起征集议题，提交召集人审定；会后由召集人签发纪要，议定事项明确工作任务、责任单位、责任人、完成时限和标准要求；逾期未办结的在下次会议通报。
          (Monthly; topics from 10 days before, decided by the chair; minutes after the meeting with each item's owner, deadline and standard; overdue items are reported at the next meeting.)</p>
        <el-table :data="list" v-loading="loading" size="small" stripe class="gd-meeting-list" highlight-current-row
          @row-click="open" empty-text="还没有会议 No meetings" :row-class-name="rowClass">
          <el-table-column label="会议 Meeting" min-width="220"><template #default="{ row }">{{ row.title }}</template></el-table-column>
          <el-table-column label="时间 When" width="150"><template #default="{ row }">{{ time(row.scheduled_at) }}</template></el-table-column>
          <el-table-column label="地点 Place" min-width="140" prop="place" />
          <el-table-column label="召集 Chair" width="150"><template #default="{ row }">{{ deptName(row.chair_department_id) }}</template></el-table-column>
          <el-table-column label="状态 State" width="190"><template #default="{ row }"><el-tag size="small" :type="phase(row).type" class="gd-meeting-phase">{{ phase(row).label }}</el-tag></template></el-table-column>
          <el-table-column label="议题 Topics" width="90"><template #default="{ row }">{{ row.topics.length }}</template></el-table-column>
          <el-table-column label="议定事项 Items" width="130"><template #default="{ row }">{{ itemsSummary(row) }}</template></el-table-column>
        </el-table>

        <el-card v-if="current" class="gd-meeting" :data-meeting="current.id" shadow="never">
          <template #header>
            <div class="gd-title-row">
              <span><b>{{ current.title }}</b> · {{ time(current.scheduled_at) }} · {{ current.place }}
                <el-tag size="small" :type="phase(current).type">{{ phase(current).label }}</el-tag></span>
              <span v-if="office && changeable">
                <el-button size="small" id="meeting-reschedule" @click="openReschedule">改期 Reschedule</el-button>
                <el-button size="small" type="danger" id="meeting-cancel" @click="cancelling = true; cancelReason = ''">取消会议 Cancel</el-button>
              </span>
            </div>
          </template>
          <el-alert v-if="current.cancelled_at" type="info" :closable="false" show-icon
            :title="'会议已取消 Cancelled：' + (current.cancel_reason || '')" class="gd-meeting-cancelled" />
          <p class="gd-muted gd-small">成员单位 Members：{{ current.members.map(deptName).join('、') }} ·
            议题征集 Topics：{{ time(current.topics_open_at) }} — {{ time(current.topics_close_at) }}</p>

          <h3>议题 Topics <small class="gd-muted">（召集人审定 decided by the chair）</small></h3>
          <el-table :data="current.topics" size="small" class="gd-topics" empty-text="暂无议题 No topics">
            <el-table-column label="议题 Topic" min-width="200"><template #default="{ row }"><b>{{ row.title }}</b><div class="gd-muted gd-small">{{ row.description }}</div></template></el-table-column>
            <el-table-column label="提出单位 From" width="160"><template #default="{ row }">{{ deptName(row.department_id) }}</template></el-table-column>
            <el-table-column label="审定 Decision" width="240">
              <template #default="{ row }">
                <template v-if="row.decision">
                  <el-tag size="small" :type="row.decision === 'accepted' ? 'success' : 'info'" class="gd-topic-decision">{{ row.decision === 'accepted' ? '列入议程 On the agenda' : '不列入 Declined' }}</el-tag>
                  <span class="gd-muted gd-small"> {{ row.decision_note || '' }}</span>
                </template>
                <template v-else-if="chair && open_">
                  <el-button size="small" type="primary" :data-accept-topic="row.title" @click="decide(row, true)">列入 Accept</el-button>
                  <el-button size="small" :data-decline-topic="row.title" @click="declining = row; declineNote = ''">不列入 Decline</el-button>
                </template>
                <span v-else class="gd-muted">待审定 Pending</span>
              </template>
            </el-table-column>
          </el-table>
          <el-form v-if="canSubmitTopic" inline class="gd-topic-form" @submit.prevent>
            <el-form-item label="议题 Topic"><el-input v-model="topic.title" id="topic-title" style="width:240px" /></el-form-item>
            <el-form-item label="说明 Details"><el-input v-model="topic.description" id="topic-description" style="width:320px" /></el-form-item>
            <el-button type="primary" id="topic-submit" :loading="busy" @click="submitTopic">提交议题 Submit</el-button>
          </el-form>
          <p v-else-if="open_" class="gd-muted gd-small">{{ topicWindowNote }}</p>

          <template v-if="current.overdue_items.length">
            <h3>通报：以往会议逾期未办结事项 <small>Overdue items of earlier meetings</small></h3>
            <el-table :data="current.overdue_items" size="small" class="gd-overdue-items">
              <el-table-column label="事项 Item" min-width="200" prop="title" />
              <el-table-column label="责任单位 Owner" width="170"><template #default="{ row }">{{ row.owner_department }} · {{ row.owner_person }}</template></el-table-column>
              <el-table-column label="时限 Due" width="150"><template #default="{ row }">{{ time(row.due_at) }}</template></el-table-column>
            </el-table>
          </template>

          <h3>会议纪要 Minutes</h3>
          <template v-if="current.minutes_issued_at">
            <p class="gd-minutes">{{ current.minutes }}</p>
            <p class="gd-muted gd-small">签发于 Issued {{ time(current.minutes_issued_at) }}</p>
          </template>
          <template v-else-if="chair && held && !current.cancelled_at">
            <el-input v-model="minutes.text" type="textarea" :rows="3" id="minutes-text" placeholder="会议研究的事项 What the meeting discussed and decided" />
            <div v-for="(it, i) in minutes.items" :key="i" class="gd-item-row" :data-item-row="i">
              <el-input v-model="it.title" placeholder="工作任务 Task" class="gd-item-title" style="width:220px" />
              <el-select v-model="it.owner_department_id" placeholder="责任单位 Owner unit" class="gd-item-owner" style="width:180px">
                <el-option v-for="d in current.members" :key="d" :label="deptName(d)" :value="d" />
              </el-select>
              <el-input v-model="it.owner_person" placeholder="责任人 Person" class="gd-item-person" style="width:120px" />
              <el-date-picker v-model="it.due_at" type="date" placeholder="完成时限 Deadline" class="gd-item-due" style="width:150px" />
              <el-input v-model="it.standard" placeholder="标准要求 Standard" class="gd-item-standard" style="width:220px" />
              <el-button size="small" text @click="minutes.items.splice(i, 1)">删除 Remove</el-button>
            </div>
            <el-button size="small" id="minutes-add-item" @click="minutes.items.push(emptyItem())">＋ 议定事项 Item</el-button>
            <el-button type="primary" id="minutes-issue" :loading="busy" @click="issueMinutes">签发纪要 Issue the minutes</el-button>
          </template>
          <p v-else class="gd-muted">{{ current.cancelled_at ? '—' : held ? '待召集人签发 Awaiting the chair' : '会后签发 Issued after the meeting' }}</p>

          <template v-if="current.items.length">
            <h3>议定事项 Decided items</h3>
            <el-table :data="current.items" size="small" class="gd-items">
              <el-table-column label="#" width="40" prop="position" />
              <el-table-column label="工作任务 Task" min-width="200"><template #default="{ row }">{{ row.title }}<div class="gd-muted gd-small">标准 {{ row.standard }}</div></template></el-table-column>
              <el-table-column label="责任 Owner" width="170"><template #default="{ row }">{{ row.owner_department }} · {{ row.owner_person }}</template></el-table-column>
              <el-table-column label="时限 Due" width="130"><template #default="{ row }">{{ time(row.due_at) }}</template></el-table-column>
              <el-table-column label="状态 State" width="110"><template #default="{ row }"><el-tag size="small" class="gd-item-status" :type="row.status === 'closed' ? 'success' : row.status === 'overdue' ? 'danger' : ''">{{ itemStatus(row.status) }}</el-tag></template></el-table-column>
              <el-table-column label="落实情况 Progress" min-width="240">
                <template #default="{ row }">
                  <div v-for="p in row.progress" :key="p.id" class="gd-small">{{ time(p.reported_at) }} {{ p.note }}</div>
                  <div v-if="row.result" class="gd-small"><b>办结 Result：</b>{{ row.result }}</div>
                  <div v-if="ownsItem(row) && row.status !== 'closed'" class="gd-item-actions">
                    <el-input v-model="itemNote[row.id]" size="small" :data-item-note="row.position" placeholder="落实情况 / 办结结果 Progress or result" style="width:200px" />
                    <el-button size="small" :data-item-progress="row.position" @click="progress(row)">报告 Report</el-button>
                    <el-button size="small" type="success" :data-item-close="row.position" @click="closeItem(row)">办结 Close</el-button>
                  </div>
                </template>
              </el-table-column>
            </el-table>
          </template>
        </el-card>

        <el-dialog :model-value="!!editing" @update:model-value="editing = null" width="560px" class="gd-meeting-dialog"
          :title="editing === 'new' ? '安排会议 Schedule a meeting' : '会议改期 Reschedule'">
          <el-form v-if="form" label-width="150px">
            <el-form-item label="名称 Title"><el-input v-model="form.title" id="meeting-title" /></el-form-item>
            <el-form-item label="时间 When"><el-date-picker v-model="form.scheduled_at" type="datetime" id="meeting-when" /></el-form-item>
            <el-form-item label="地点 Place"><el-input v-model="form.place" id="meeting-place" /></el-form-item>
            <el-form-item label="成员单位 Members">
              <el-select v-model="form.members" multiple class="gd-meeting-members" style="width:100%">
                <el-option v-for="d in departments" :key="d.id" :label="d.name" :value="d.id" />
              </el-select>
            </el-form-item>
            <el-form-item label="召集单位 Chair">
              <el-select v-model="form.chair_department_id" clearable placeholder="执法队 The brigade" class="gd-meeting-chair" style="width:100%">
                <el-option v-for="d in form.members" :key="d" :label="deptName(d)" :value="d" />
              </el-select>
            </el-form-item>
          </el-form>
          <template #footer>
            <el-button @click="editing = null">取消 Cancel</el-button>
            <el-button type="primary" :loading="busy" id="meeting-save" @click="save">保存 Save</el-button>
          </template>
        </el-dialog>
        <el-dialog v-model="cancelling" title="取消会议 Cancel the meeting" width="460px">
          <el-input v-model="cancelReason" type="textarea" :rows="2" id="meeting-cancel-reason" placeholder="取消理由（将通知各成员单位）Reason, told to every member" />
          <template #footer>
            <el-button @click="cancelling = false">返回 Back</el-button>
            <el-button type="danger" :loading="busy" id="meeting-cancel-confirm" @click="cancel">取消会议 Cancel it</el-button>
          </template>
        </el-dialog>
        <el-dialog :model-value="!!declining" @update:model-value="declining = null" title="不列入议程 Decline the topic" width="460px">
          <el-input v-model="declineNote" type="textarea" :rows="2" id="topic-decline-note" placeholder="理由（必填）Why (required)" />
          <template #footer>
            <el-button @click="declining = null">返回 Back</el-button>
            <el-button type="primary" :loading="busy" id="topic-decline-confirm" @click="decide(declining, false)">确定 Confirm</el-button>
          </template>
        </el-dialog>
      </div>`,
    computed: {
      office() { return this.store.roles.some((r) => OFFICE.includes(r)); },
      staff() { return this.store.roles.some((r) => STAFF.includes(r)); },
      myDept() { return this.store.me && this.store.me.department ? this.store.me.department.id : null; },
      chair() {
        if (!this.current) return false;
        return this.office || (!!this.myDept && this.current.chair_department_id === this.myDept);
      },
      held() { return this.current && Date.parse(this.current.scheduled_at) <= this.now; },
      open_() { return this.current && !this.current.cancelled_at && !this.current.minutes_issued_at; },
      changeable() { return this.open_ && !this.held; },
      canSubmitTopic() {
        const c = this.current;
        if (!c || !this.open_) return false;
        const mine = this.staff || (this.myDept && c.members.includes(this.myDept));
        return mine && Date.parse(c.topics_open_at) <= this.now && this.now <= Date.parse(c.topics_close_at);
      },
      topicWindowNote() {
        const c = this.current;
        return `议题征集时间 Topics are taken ${L_.time(c.topics_open_at)} — ${L_.time(c.topics_close_at)}`;
      },
    },
    watch: { "store.changeTick"() { this.load(); } },
    async created() {
      try { this.departments = await api.departments(); } catch (e) { GD.showError(e); }
      await this.load();
    },
    methods: {
      time: L_.time,
      emptyItem,
      deptName(id) {
        if (!id) return "执法队 Brigade";
        const known = this.current && this.current.department_names[id];
        if (known) return known;
        const m = this.list.find((x) => x.department_names[id]);
        if (m) return m.department_names[id];
        const d = this.departments.find((x) => x.id === id);
        return d ? d.name : id.slice(0, 8);
      },
      phase(m) {
        const now = this.now;
        if (m.cancelled_at) return { label: "已取消 Cancelled", type: "info" };
        if (m.minutes_issued_at) return { label: "已印发纪要 Minutes issued", type: "success" };
        if (Date.parse(m.scheduled_at) <= now) return { label: "待签发纪要 Minutes due", type: "warning" };
        if (Date.parse(m.topics_open_at) <= now && now <= Date.parse(m.topics_close_at)) return { label: "征集议题 Topics open", type: "primary" };
        return { label: "筹备中 Upcoming", type: "" };
      },
      rowClass({ row }) { return this.current && row.id === this.current.id ? "gd-current" : ""; },
      itemsSummary(m) {
        if (!m.items.length) return "—";
        const closed = m.items.filter((i) => i.status === "closed").length;
        const overdue = m.items.filter((i) => i.status === "overdue").length;
        return `${closed}/${m.items.length} 办结` + (overdue ? ` · ${overdue} 逾期` : "");
      },
      itemStatus: (s) => ({ open: "办理中 Open", overdue: "逾期 Overdue", closed: "已办结 Closed" }[s] || s),
      ownsItem(row) { return this.office || (this.myDept && row.owner_department_id === this.myDept); },
      async load() {
        this.loading = true;
        this.now = Date.now();
        try {
          this.list = await api.meetings();
          const id = this.param || (this.current && this.current.id);
          this.current = id ? this.list.find((m) => m.id === id) || null : null;
        } catch (e) { GD.showError(e); } finally { this.loading = false; }
      },
      open(row) { location.hash = "#/meetings/" + row.id; },
      async openSchedule() {
        let at = new Date(Date.now() + 30 * 86400000);
        try { at = new Date((await api.nextMeetingDate()).scheduled_at); } catch (_) { /* keep a month from now */ }
        const title = `${at.getFullYear()}年${at.getMonth() + 1}月综合行政执法联席会议`;
        this.form = { title, scheduled_at: at, place: "", members: [], chair_department_id: null };
        this.editing = "new";
      },
      openReschedule() {
        const c = this.current;
        this.form = { title: c.title, scheduled_at: new Date(c.scheduled_at), place: c.place, members: c.members.slice(), chair_department_id: c.chair_department_id };
        this.editing = "change";
      },
      async save() {
        this.busy = true;
        const body = { ...this.form, scheduled_at: iso(this.form.scheduled_at), chair_department_id: this.form.chair_department_id || null };
        try {
          const m = this.editing === "new" ? await api.createMeeting(body) : await api.rescheduleMeeting(this.current.id, body);
          GD.showOk(this.editing === "new" ? "已安排 Scheduled" : "已改期，已通知成员单位 Rescheduled; members told");
          this.editing = null;
          location.hash = "#/meetings/" + m.id;
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async cancel() {
        this.busy = true;
        try {
          await api.cancelMeeting(this.current.id, this.cancelReason);
          GD.showOk("已取消，已通知成员单位 Cancelled; members told");
          this.cancelling = false;
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async submitTopic() {
        this.busy = true;
        try {
          await api.submitTopic(this.current.id, this.topic);
          GD.showOk("议题已提交 Topic submitted");
          this.topic = { title: "", description: "" };
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async decide(row, accepted) {
        this.busy = true;
        try {
          await api.decideTopic(this.current.id, row.id, accepted, accepted ? "" : this.declineNote);
          GD.showOk(accepted ? "已列入议程 On the agenda" : "已不列入 Declined");
          this.declining = null;
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async issueMinutes() {
        this.busy = true;
        const items = this.minutes.items
          .filter((i) => i.title || i.owner_department_id || i.owner_person || i.due_at || i.standard)
          .map((i) => ({ ...i, due_at: i.due_at ? new Date(new Date(i.due_at).setHours(23, 59, 0, 0)).toISOString() : null }));
        try {
          await api.issueMinutes(this.current.id, { minutes: this.minutes.text, items });
          GD.showOk("纪要已签发，责任单位已收到通知 Minutes issued; owners told");
          this.minutes = { text: "", items: [emptyItem()] };
          await this.load();
        } catch (e) { GD.showError(e); } finally { this.busy = false; }
      },
      async progress(row) {
        try {
          await api.itemProgress(row.id, this.itemNote[row.id] || "");
          GD.showOk("已报告 Reported");
          this.itemNote[row.id] = "";
          await this.load();
        } catch (e) { GD.showError(e); }
      },
      async closeItem(row) {
        try {
          await api.closeItem(row.id, this.itemNote[row.id] || "");
          GD.showOk("已办结 Closed");
          this.itemNote[row.id] = "";
          await this.load();
        } catch (e) { GD.showError(e); }
      },
    },
  };
})();
