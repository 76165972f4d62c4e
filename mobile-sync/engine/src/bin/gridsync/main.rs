//! `gridsync`: the phone engine on a field laptop or a support desk. Works offline: commands
//! and photos are queued in the data directory and sent by `gridsync sync`.
//!
//! Exit codes: 0 ok, 1 error (network, server refusal, local store), 2 usage.

mod print;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use griddispatch_protocol::command::{
    Command, Outcome, PartyKind, Penalty, Position, ReportSource,
};
use griddispatch_sync::{Engine, EngineConfig, Error};

#[derive(Parser)]
#[command(
    name = "gridsync",
    version,
    about = "GridDispatch 离线同步客户端 (offline-first sync client)",
    long_about = "GridDispatch 离线同步客户端：无网络时操作和照片先保存在本机，联网后 `gridsync sync` 发送。\n\
                  (Offline-first sync client: work is queued locally and sent by `gridsync sync`.)"
)]
struct Cli {
    /// 数据目录 (data directory; default $GRIDSYNC_HOME or ~/.gridsync)
    #[arg(long, global = true, env = "GRIDSYNC_HOME")]
    data_dir: Option<PathBuf>,
    /// 输出 JSON (print JSON)
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

/// `--json` after the subcommand, for the commands that print something.
#[derive(Args, Clone, Copy)]
struct JsonFlag {
    /// 输出 JSON (print JSON)
    #[arg(long = "json")]
    json: bool,
}

#[derive(Args, Clone)]
struct Where {
    /// 纬度 (latitude)
    #[arg(long, requires = "lon", allow_negative_numbers = true)]
    lat: Option<f64>,
    /// 经度 (longitude)
    #[arg(long, requires = "lat", allow_negative_numbers = true)]
    lon: Option<f64>,
    /// 坐标系 wgs84 | gcj02 | bd09 (coordinate system; default wgs84)
    #[arg(long)]
    crs: Option<String>,
}

impl Where {
    fn position(&self) -> Option<Position> {
        Some(Position {
            lat: self.lat?,
            lon: self.lon?,
            crs: self.crs.clone(),
        })
    }
}

#[derive(Args, Clone, Default)]
struct Evidence {
    /// 照片 (photo file; repeatable)
    #[arg(long = "photo")]
    photos: Vec<PathBuf>,
    /// 视频 (video file; repeatable)
    #[arg(long = "video")]
    videos: Vec<PathBuf>,
    /// 录音 (audio file; repeatable)
    #[arg(long = "audio")]
    audios: Vec<PathBuf>,
}

/// Outcomes and sources are spelled as on the wire (`no_violation`); the kebab-case
/// spelling (`no-violation`) is accepted too.
#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum OutcomeArg {
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
enum SourceArg {
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
enum Cmd {
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
        #[arg(long, allow_negative_numbers = true)]
        lat: f64,
        #[arg(long, allow_negative_numbers = true)]
        lon: f64,
        /// 坐标系 (wgs84 | gcj02 | bd09)
        #[arg(long)]
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
    /// 同步：发送操作和照片，接收最新数据 (sync now; --watch keeps syncing until Ctrl-C)
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
struct HandleArgs {
    /// 任务 id (task id)
    task: String,
    /// 处置结果 (outcome)
    #[arg(long, value_enum)]
    outcome: OutcomeArg,
    /// 整改说明 (rectified: what was done)
    #[arg(long)]
    note: Option<String>,
    /// 答复 (no_violation: reply to the complainant)
    #[arg(long)]
    reply: Option<String>,
    /// 当事人类型 person | organization (simple_penalty)
    #[arg(long, default_value = "person")]
    party_kind: String,
    /// 当事人 (simple_penalty: party's name)
    #[arg(long)]
    party_name: Option<String>,
    /// 罚款金额（元）；不填为警告 (simple_penalty: fine in yuan; none = warning)
    #[arg(long)]
    fine_yuan: Option<f64>,
    /// 违法事实 (simple_penalty: facts)
    #[arg(long)]
    facts: Option<String>,
    /// 法律依据 (simple_penalty: legal basis)
    #[arg(long)]
    legal_basis: Option<String>,
    /// 违法行为认定意见 (case_needed: finding)
    #[arg(long)]
    finding: Option<String>,
    /// 出具认定意见的单位 (case_needed: issuing unit)
    #[arg(long)]
    issuing_unit: Option<String>,
    /// 涉嫌违反的条款 (case_needed: suspected provision)
    #[arg(long)]
    provision: Option<String>,
    /// 接收部门 (transfer: department)
    #[arg(long)]
    department: Option<String>,
    /// 移送理由 (transfer: reason)
    #[arg(long)]
    reason: Option<String>,
    /// 涉嫌犯罪 (transfer: a crime is suspected)
    #[arg(long)]
    crime_suspected: bool,
    #[command(flatten)]
    evidence: Evidence,
    #[command(flatten)]
    at: Where,
}

/// A usage mistake found after parsing (exit code 2).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(msg.into()))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(u) = e.downcast_ref::<Usage>() {
                eprintln!("用法错误 (usage): {u}");
                return ExitCode::from(2);
            }
            eprintln!("错误 (error): {e:#}");
            ExitCode::from(1)
        }
    }
}

fn data_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d);
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .ok_or_else(|| {
            anyhow!("找不到主目录，请用 --data-dir (no home directory; use --data-dir)")
        })?;
    Ok(PathBuf::from(home).join(".gridsync"))
}

fn capture_all(
    engine: &Engine,
    ev: &Evidence,
    at: Option<&Position>,
) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for p in ev.photos.iter().chain(&ev.videos).chain(&ev.audios) {
        let id = engine
            .capture(p, None, at.cloned())
            .with_context(|| format!("无法保存证据 (cannot take evidence) {}", p.display()))?;
        ids.push(id);
    }
    Ok(ids)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn need(v: Option<String>, flag: &str, outcome: &str) -> anyhow::Result<String> {
    v.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        usage(format!(
            "{outcome} 需要 --{flag} ({outcome} needs --{flag})"
        ))
    })
}

fn outcome_of(a: &HandleArgs) -> anyhow::Result<(Outcome, Option<String>)> {
    Ok(match a.outcome {
        OutcomeArg::Rectified => (
            Outcome::Rectified {
                note: need(a.note.clone(), "note", "rectified")?,
            },
            None,
        ),
        OutcomeArg::NoViolation => (
            Outcome::NoViolation {
                reply: need(a.reply.clone().or(a.note.clone()), "reply", "no_violation")?,
            },
            None,
        ),
        OutcomeArg::SimplePenalty => {
            let party_kind = match a.party_kind.as_str() {
                "person" => PartyKind::Person,
                "organization" | "organisation" => PartyKind::Organization,
                other => bail!(usage(format!(
                    "--party-kind 须为 person 或 organization (got {other})"
                ))),
            };
            let penalty = match a.fine_yuan {
                None => Penalty::Warning,
                Some(y) if y > 0.0 && y.is_finite() => Penalty::Fine {
                    // Fen are integers; 0.5 fen rounds to the nearest fen.
                    #[allow(clippy::cast_possible_truncation)]
                    amount_fen: (y * 100.0).round() as i64,
                },
                Some(_) => bail!(usage("--fine-yuan 须为正数 (must be positive)")),
            };
            (
                Outcome::SimplePenalty {
                    party_kind,
                    party_name: need(a.party_name.clone(), "party-name", "simple_penalty")?,
                    penalty,
                    facts: need(a.facts.clone(), "facts", "simple_penalty")?,
                    legal_basis: need(a.legal_basis.clone(), "legal-basis", "simple_penalty")?,
                },
                None,
            )
        }
        OutcomeArg::CaseNeeded => (
            Outcome::CaseNeeded {
                finding: need(a.finding.clone(), "finding", "case_needed")?,
                issuing_unit: need(a.issuing_unit.clone(), "issuing-unit", "case_needed")?,
                suspected_provision: need(a.provision.clone(), "provision", "case_needed")?,
            },
            Some(new_id()),
        ),
        OutcomeArg::Transfer => (
            Outcome::Transfer {
                department: need(a.department.clone(), "department", "transfer")?,
                reason: need(a.reason.clone(), "reason", "transfer")?,
                crime_suspected: a.crime_suspected,
            },
            None,
        ),
    })
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("密码 (password): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.is_empty() {
        bail!(usage("请在标准输入提供密码 (give the password on stdin)"));
    }
    Ok(pw)
}

/// Queue one command and say so.
fn queue(
    engine: &Engine,
    json: bool,
    command: Command,
    position: Option<Position>,
    id: Option<(&str, &str)>,
) -> anyhow::Result<ExitCode> {
    let name = command.name();
    let seq = engine.enqueue(command, position)?;
    print::queued(json, name, seq, id);
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let dir = data_dir(cli.data_dir)?;
    let config = EngineConfig {
        // `sync --watch` notices work queued from another terminal only between long polls.
        wait_timeout: std::time::Duration::from_secs(10),
        ..EngineConfig::default()
    };
    let engine = Engine::open_with(&dir, config).with_context(|| {
        format!(
            "无法打开数据目录 (cannot open data directory) {}",
            dir.display()
        )
    })?;
    let json = cli.json;
    match cli.cmd {
        Cmd::Login { server, username } => {
            let password = read_password()?;
            let account = engine.login(&server, &username, &password)?;
            print::login(json, &account);
            let status = engine.status()?;
            if status.queued_commands > 0 {
                eprintln!(
                    "有 {} 条未发送的操作，执行 gridsync sync 发送 ({} queued commands; run gridsync sync)",
                    status.queued_commands, status.queued_commands
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Logout => {
            let waiting = engine.status()?;
            engine.logout()?;
            print::line(json, "已退出登录 (signed out)");
            if waiting.queued_commands > 0 || waiting.pending_uploads > 0 {
                eprintln!(
                    "{} 条操作和 {} 个文件未发送，同一用户再次登录后发送 ({} commands and {} files wait for the same user's next sign-in)",
                    waiting.queued_commands, waiting.pending_uploads, waiting.queued_commands, waiting.pending_uploads
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Report {
            category,
            note,
            evidence,
            at,
            source,
        } => {
            let position = at.position();
            let attachment_ids = capture_all(&engine, &evidence, position.as_ref())?;
            let report_id = new_id();
            let source = match source {
                SourceArg::GridPatrol => ReportSource::GridPatrol,
                SourceArg::Department => ReportSource::Department,
                SourceArg::Hotline => ReportSource::Hotline,
                SourceArg::PublicComplaint => ReportSource::PublicComplaint,
                SourceArg::HigherLevel => ReportSource::HigherLevel,
            };
            let cmd = Command::CreateReport {
                report_id: report_id.clone(),
                source,
                category_code: category,
                description: note,
                position: position.clone(),
                attachment_ids,
                contact: None,
                occurred_at: Some(chrono::Utc::now()),
            };
            queue(
                &engine,
                json,
                cmd,
                position,
                Some(("report_id", &report_id)),
            )
        }
        Cmd::Reports(f) => {
            print::reports(json || f.json, &engine)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Tasks(f) => {
            print::tasks(json || f.json, &engine)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Accept { task, officers } => {
            let me = engine.account()?.ok_or(Error::NotSignedIn)?.user_id;
            let officer_ids = officers
                .into_iter()
                .map(|o| if o == "me" { me.clone() } else { o })
                .collect();
            queue(
                &engine,
                json,
                Command::AcceptTask {
                    task_id: task,
                    officer_ids,
                },
                None,
                None,
            )
        }
        Cmd::Arrive {
            task,
            lat,
            lon,
            crs,
        } => {
            let position = Position { lat, lon, crs };
            queue(
                &engine,
                json,
                Command::ArriveOnSite {
                    task_id: task,
                    position: position.clone(),
                },
                Some(position),
                None,
            )
        }
        Cmd::Handle(args) => {
            let (outcome, case_id) = outcome_of(&args)?;
            let position = args.at.position();
            let attachment_ids = capture_all(&engine, &args.evidence, position.as_ref())?;
            let case = case_id.clone();
            queue(
                &engine,
                json,
                Command::HandleTask {
                    task_id: args.task,
                    outcome,
                    attachment_ids,
                    case_id,
                },
                position,
                case.as_deref().map(|c| ("case_id", c)),
            )
        }
        Cmd::Close { task } => queue(
            &engine,
            json,
            Command::CloseTask { task_id: task },
            None,
            None,
        ),
        Cmd::Recheck {
            task,
            passed,
            failed,
            note,
            evidence,
            at,
        } => {
            let passed = passed && !failed;
            if !passed && note.as_deref().is_none_or(|n| n.trim().is_empty()) {
                bail!(usage(
                    "核查未通过须写明原因 --note (a failed re-check needs --note)"
                ));
            }
            let position = at.position();
            let attachment_ids = capture_all(&engine, &evidence, position.as_ref())?;
            queue(
                &engine,
                json,
                Command::RecheckTask {
                    task_id: task,
                    passed,
                    note,
                    attachment_ids,
                },
                position,
                None,
            )
        }
        Cmd::Dispatch { report, squad } => {
            let squad_id = engine.resolve_squad(&squad)?;
            let task_id = new_id();
            queue(
                &engine,
                json,
                Command::DispatchReport {
                    report_id: report,
                    task_id: task_id.clone(),
                    squad_id,
                },
                None,
                Some(("task_id", &task_id)),
            )
        }
        Cmd::Command { body, at } => {
            let value: serde_json::Value = serde_json::from_str(&body)
                .map_err(|e| usage(format!("JSON 无效 (invalid JSON): {e}")))?;
            // Either the command itself or the body of POST /api/v1/commands.
            let (cmd_value, pos_value) = match value.get("command") {
                Some(c) => (c.clone(), value.get("actor_position").cloned()),
                None => (value, None),
            };
            let command: Command = serde_json::from_value(cmd_value)
                .map_err(|e| usage(format!("不是有效的命令 (not a valid command): {e}")))?;
            let position = match (at.position(), pos_value) {
                (Some(p), _) => Some(p),
                (None, Some(v)) => serde_json::from_value(v).ok(),
                (None, None) => None,
            };
            queue(&engine, json, command, position, None)
        }
        Cmd::Sync { watch, out } => {
            let json = json || out.json;
            if watch {
                let end = engine.run(&|| false, &mut |r| print::sync_result(json, r));
                match end {
                    Ok(_) => Ok(ExitCode::SUCCESS),
                    Err(e) => Err(e.into()),
                }
            } else {
                let result = engine.sync();
                print::sync_result(json, &result);
                match result {
                    Ok(r) if r.complete() => Ok(ExitCode::SUCCESS),
                    Ok(_) => Ok(ExitCode::from(1)),
                    Err(_) => Ok(ExitCode::from(1)),
                }
            }
        }
        Cmd::Status(f) => {
            print::status(json || f.json, &engine.status()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
