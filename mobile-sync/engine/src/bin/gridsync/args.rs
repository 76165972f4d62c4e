//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use griddispatch_protocol::command::Position;

#[derive(Parser)]
#[command(
    name = "gridsync",
    version,
    about = "GridDispatch 离线同步客户端 (offline-first sync client)",
    long_about = "GridDispatch 离线同步客户端：无网络时操作和照片先保存在本机，联网后 `gridsync sync` 发送。\n\
                  (Offline-first sync client: work is queued locally and sent by `gridsync sync`.)"
)]
pub(crate) struct Cli {
    /// 数据目录 (data directory; default $GRIDSYNC_HOME or ~/.gridsync)
    #[arg(long, global = true, env = "GRIDSYNC_HOME")]
    pub(crate) data_dir: Option<PathBuf>,
    /// 输出 JSON (print JSON)
    #[arg(long)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

/// `--json` after the subcommand, for the commands that print something.
#[derive(Args, Clone, Copy)]
pub(crate) struct JsonFlag {
    /// 输出 JSON (print JSON)
    #[arg(long = "json")]
    pub(crate) json: bool,
}

/// The coordinate systems the server accepts; a misspelt one is refused here rather than
/// queued and refused later.
const CRS_NAMES: [&str; 3] = ["wgs84", "gcj02", "bd09"];

fn degrees(s: &str, max: f64) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|e| format!("不是数字 (not a number): {e}"))?;
    if v.is_finite() && v.abs() <= max {
        Ok(v)
    } else {
        Err(format!(
            "须在 −{max} 与 {max} 之间 (must lie between −{max} and {max})"
        ))
    }
}

fn latitude(s: &str) -> Result<f64, String> {
    degrees(s, 90.0)
}

fn longitude(s: &str) -> Result<f64, String> {
    degrees(s, 180.0)
}

#[derive(Args, Clone)]
pub(crate) struct Where {
    /// 纬度 (latitude)
    #[arg(long, requires = "lon", allow_negative_numbers = true, value_parser = latitude)]
    pub(crate) lat: Option<f64>,
    /// 经度 (longitude)
    #[arg(long, requires = "lat", allow_negative_numbers = true, value_parser = longitude)]
    pub(crate) lon: Option<f64>,
    /// 坐标系 wgs84 | gcj02 | bd09 (coordinate system; default wgs84)
    #[arg(long, value_parser = CRS_NAMES)]
    pub(crate) crs: Option<String>,
}

impl Where {
    pub(crate) fn position(&self) -> Option<Position> {
        Some(Position {
            lat: self.lat?,
            lon: self.lon?,
            crs: self.crs.clone(),
        })
    }
}

#[derive(Args, Clone, Default)]
pub(crate) struct Evidence {
    /// 照片 (photo file; repeatable)
    #[arg(long = "photo")]
    pub(crate) photos: Vec<PathBuf>,
    /// 视频 (video file; repeatable)
    #[arg(long = "video")]
    pub(crate) videos: Vec<PathBuf>,
    /// 录音 (audio file; repeatable)
    #[arg(long = "audio")]
    pub(crate) audios: Vec<PathBuf>,
}

/// Outcomes and sources are spelled as on the wire (`no_violation`); the kebab-case
/// spelling (`no-violation`) is accepted too.
#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum OutcomeArg {
    Rectified,
    #[value(alias = "no-violation")]
    NoViolation,
    #[value(alias = "simple-penalty")]
    SimplePenalty,
    #[value(alias = "case-needed")]
    CaseNeeded,
    Transfer,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum SourceArg {
    #[value(alias = "grid-patrol")]
    GridPatrol,
    Department,
    Hotline,
    #[value(alias = "public-complaint")]
    PublicComplaint,
    #[value(alias = "higher-level")]
    HigherLevel,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// 登录，密码从标准输入读一行 (sign in; the password is one line on stdin)
    Login {
        /// 服务器地址 (server URL), e.g. https://town.example
        #[arg(long)]
        server: String,
        /// 用户名 (username)
        #[arg(long)]
        username: String,
    },
    /// 退出登录，未发送的操作保留 (sign out; queued work is kept for your next sign-in)
    Logout,
    /// 上报线索，离线可用 (file a report; works offline, prints the report id)
    Report {
        /// 事件类别代码 (category code), e.g. 0101
        #[arg(long)]
        category: String,
        /// 描述 (what you saw)
        #[arg(long)]
        note: String,
        #[command(flatten)]
        evidence: Evidence,
        #[command(flatten)]
        at: Where,
        /// 线索来源 (source)
        #[arg(long, value_enum, default_value = "grid_patrol")]
        source: SourceArg,
    },
    /// 本机的线索 (reports on this device)
    Reports(JsonFlag),
    /// 本机的任务 (tasks on this device)
    Tasks(JsonFlag),
    /// 签收任务并指派执法人员 (accept a task and assign officers by user id; `me` = yourself)
    Accept {
        /// 任务 id (task id)
        task: String,
        /// 执法人员用户 id (officer user id; repeatable; `me` for yourself)
        #[arg(long = "officer", required = true)]
        officers: Vec<String>,
    },
    /// 到场 (arrive on site)
    Arrive {
        /// 任务 id (task id)
        task: String,
        #[arg(long, allow_negative_numbers = true, value_parser = latitude)]
        lat: f64,
        #[arg(long, allow_negative_numbers = true, value_parser = longitude)]
        lon: f64,
        /// 坐标系 (wgs84 | gcj02 | bd09)
        #[arg(long, value_parser = CRS_NAMES)]
        crs: Option<String>,
    },
    /// 处置任务 (record how the task was handled)
    Handle(Box<HandleArgs>),
    /// 中队结案 (close a handled task)
    Close {
        /// 任务 id (task id)
        task: String,
    },
    /// 核查 (re-check a closed task)
    Recheck {
        /// 任务 id (task id)
        task: String,
        /// 核查通过 (passed)
        #[arg(long, conflicts_with = "failed", required_unless_present = "failed")]
        passed: bool,
        /// 核查未通过，须写明原因 (failed; give --note)
        #[arg(long)]
        failed: bool,
        /// 说明 (note)
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        evidence: Evidence,
        #[command(flatten)]
        at: Where,
    },
    /// 受理并派遣到中队 (dispatch a report to a squad; id or code such as squad1)
    Dispatch {
        /// 线索 id (report id)
        report: String,
        /// 中队 id 或编号 (squad id or code)
        #[arg(long)]
        squad: String,
    },
    /// 任意命令（JSON）(any command as JSON: the body of POST /api/v1/commands)
    Command {
        /// 命令 JSON, e.g. '{"type":"close_task","task_id":"…"}'
        #[arg(long = "json", value_name = "JSON")]
        body: String,
        #[command(flatten)]
        at: Where,
    },
    /// 同步：发送操作和照片，接收最新数据；有操作被拒绝或文件被拒收时退出码为 3 (sync now;
    /// exit 3 when something was refused; --watch keeps syncing until Ctrl-C)
    Sync {
        /// 持续同步直到 Ctrl-C (keep syncing: wait for changes, back off when offline)
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// 状态：待发送、待上传、被拒绝的操作 (queue, uploads, last sync, rejected commands)
    Status(JsonFlag),
}

#[derive(Args)]
pub(crate) struct HandleArgs {
    /// 任务 id (task id)
    pub(crate) task: String,
    /// 处置结果 (outcome)
    #[arg(long, value_enum)]
    pub(crate) outcome: OutcomeArg,
    /// 整改说明 (rectified: what was done)
    #[arg(long)]
    pub(crate) note: Option<String>,
    /// 答复 (no_violation: reply to the complainant)
    #[arg(long)]
    pub(crate) reply: Option<String>,
    /// 当事人类型 person | organization (simple_penalty)
    #[arg(long, default_value = "person")]
    pub(crate) party_kind: String,
    /// 当事人 (simple_penalty: party's name)
    #[arg(long)]
    pub(crate) party_name: Option<String>,
    /// 罚款金额（元）；不填为警告 (simple_penalty: fine in yuan; none = warning)
    #[arg(long)]
    pub(crate) fine_yuan: Option<f64>,
    /// 违法事实 (simple_penalty: facts)
    #[arg(long)]
    pub(crate) facts: Option<String>,
    /// 法律依据 (simple_penalty: legal basis)
    #[arg(long)]
    pub(crate) legal_basis: Option<String>,
    /// 违法行为认定意见 (case_needed: finding)
    #[arg(long)]
    pub(crate) finding: Option<String>,
    /// 出具认定意见的单位 (case_needed: issuing unit)
    #[arg(long)]
    pub(crate) issuing_unit: Option<String>,
    /// 涉嫌违反的条款 (case_needed: suspected provision)
    #[arg(long)]
    pub(crate) provision: Option<String>,
    /// 接收部门 (transfer: department)
    #[arg(long)]
    pub(crate) department: Option<String>,
    /// 移送理由 (transfer: reason)
    #[arg(long)]
    pub(crate) reason: Option<String>,
    /// 涉嫌犯罪 (transfer: a crime is suspected)
    #[arg(long)]
    pub(crate) crime_suspected: bool,
    /// 整改前照片 (photo of the scene before the rectification; repeatable)
    #[arg(long = "before")]
    pub(crate) before: Vec<PathBuf>,
    /// 整改后照片，须在到场后拍摄 (photo after the rectification, taken after arriving; repeatable)
    #[arg(long = "after")]
    pub(crate) after: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) evidence: Evidence,
    #[command(flatten)]
    pub(crate) at: Where,
}
