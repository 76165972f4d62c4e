//! `gridsync`: the phone engine on a field laptop or a support desk. Works offline: commands
//! and photos are queued in the data directory and sent by `gridsync sync`.
//!
//! Exit codes: 0 ok, 1 error (network, server refusal, local store), 2 usage.

mod args;
mod print;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::Parser;

use args::{Cli, Cmd, Evidence, HandleArgs, OutcomeArg, SourceArg};
use griddispatch_protocol::command::{
    Command, Outcome, PartyKind, Penalty, Position, ReportSource,
};
use griddispatch_sync::{Engine, EngineConfig, Error};

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
                address: None,
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
            let mut attachment_ids = Vec::new();
            for (phase, files) in [("before", &args.before), ("after", &args.after)] {
                for p in files {
                    let id = engine
                        .capture_labelled(p, None, position.clone(), Some(phase))
                        .with_context(|| {
                            format!("无法保存证据 (cannot take evidence) {}", p.display())
                        })?;
                    attachment_ids.push(id);
                }
            }
            attachment_ids.extend(capture_all(&engine, &args.evidence, position.as_ref())?);
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
                    Ok(r) if r.refused_any() => Ok(ExitCode::from(3)),
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
