//! `griddispatch`: the command & dispatch server and its administration commands.

mod grid_cmd;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use griddispatch::config::Config;
use griddispatch::db::{self, migrate};
use griddispatch::{accounts, demo, telemetry, Application};
use griddispatch_protocol::auth::{Certificate, NewUserRequest};
use griddispatch_protocol::Role;

/// GridDispatch 网格化综合行政执法指挥调度系统
#[derive(Parser)]
#[command(name = "griddispatch", version, about)]
struct Cli {
    /// TOML configuration file; `GRIDDISPATCH_*` environment variables override it.
    #[arg(long, global = true, env = "GRIDDISPATCH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run on the embedded SQLite database with demo data (演示).
    Demo {
        /// Data directory (created if missing).
        #[arg(long, default_value = "griddispatch-data")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load the demo into this database instead of SQLite in the data directory (e.g. a
        /// PostgreSQL test database). Only this flag does it: a configured database URL is never
        /// filled with demo data.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Serve with the configured database (SQLite file or postgres:// URL).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The grid (网格): validate, import, export, locate, generate, cell members.
    #[command(subcommand)]
    Grid(grid_cmd::GridCommand),
    /// The full-process record (执法全过程记录).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Event categories (事件类别) as a file: export, import.
    #[command(subcommand)]
    Categories(CategoryCommand),
}

#[derive(Subcommand)]
enum CategoryCommand {
    /// Write every category as a JSON array (the file `import` and the console read).
    Export {
        /// File to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Read a category file: every row is checked first, one bad row stores nothing; codes in
    /// the file are created or replaced, the others kept; recorded as `import_categories`.
    Import {
        /// The JSON file (as `export` writes it).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain: any edited, deleted or truncated record is reported.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input, never from arguments.
    Add {
        /// Account name (3–32 of a-z 0-9 _ . -).
        #[arg(long)]
        username: String,
        /// Name shown to others.
        #[arg(long)]
        name: String,
        /// A role (repeat for several): grid_member, grid_leader, dispatcher, duty_chief,
        /// squad_leader, officer, legal_reviewer, approver, department_liaison, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// Enforcement certificate number (执法证号), for officers.
        #[arg(long, requires = "cert_valid_until")]
        cert_number: Option<String>,
        /// Last valid day of the certificate, YYYY-MM-DD.
        #[arg(long, requires = "cert_number")]
        cert_valid_until: Option<NaiveDate>,
    },
    /// List accounts.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Renew or change an account's enforcement certificate (执法证), or withdraw it with
    /// `--clear`; recorded in the full-process record.
    Certificate {
        /// Username or id.
        user: String,
        /// Certificate number.
        #[arg(long, requires = "valid_until", conflicts_with = "clear")]
        number: Option<String>,
        /// Last valid day, YYYY-MM-DD.
        #[arg(long, requires = "number", conflicts_with = "clear")]
        valid_until: Option<NaiveDate>,
        /// Withdraw the certificate.
        #[arg(long, required_unless_present = "number")]
        clear: bool,
    },
    /// Disable an account and sign it out everywhere.
    Disable {
        /// Username or id.
        user: String,
    },
    /// Re-enable an account.
    Enable {
        /// Username or id.
        user: String,
    },
    /// Give an account a new set of roles; recorded in the full-process record.
    Roles {
        /// Username or id.
        user: String,
        /// A role (repeat for several); replaces the account's roles.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
    },
    /// Set a new password (read from standard input) and sign the account out everywhere.
    Password {
        /// Username or id.
        user: String,
    },
    /// Sign a lost device out: its tokens stop working at once.
    RevokeDevice {
        /// Username or id.
        user: String,
        /// The device id.
        device_id: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    telemetry::init(config.log_format, &config.log_filter);
    match cli.command {
        Command::Demo {
            data_dir,
            bind,
            database_url,
        } => {
            config.data_dir = data_dir;
            config.bind = bind;
            run_demo(config, database_url)
        }
        Command::Serve => serve(config),
        Command::Migrate => {
            let url = config.database()?;
            let mut conn = db::establish(&url)?;
            let applied = migrate::run_pending(&mut conn)?;
            println!(
                "{} migration(s) applied on {}",
                applied.len(),
                url.backend_name()
            );
            for v in applied {
                println!("  {v}");
            }
            Ok(())
        }
        Command::User(cmd) => user_command(&config, cmd),
        Command::Grid(cmd) => grid_cmd::run(&config, cmd),
        Command::Categories(cmd) => {
            let url = config.database()?;
            let mut conn = db::establish(&url)?;
            migrate::run_pending(&mut conn)?;
            match cmd {
                CategoryCommand::Export { out } => {
                    let list = griddispatch::store::categories::list(&mut conn)?;
                    let text = serde_json::to_string_pretty(&list)?;
                    match out {
                        Some(path) => {
                            std::fs::write(&path, text + "\n")?;
                            println!(
                                "{} 个类别已导出 ({} categories written to {})",
                                list.len(),
                                list.len(),
                                path.display()
                            );
                        }
                        None => println!("{text}"),
                    }
                    Ok(())
                }
                CategoryCommand::Import { file } => {
                    let text = std::fs::read_to_string(&file)?;
                    let rows = match griddispatch::reference::parse_category_file(&text) {
                        Ok(rows) => rows,
                        Err(problems) => {
                            for p in &problems {
                                eprintln!(
                                    "第 {} 行 (row {}) {}: {}",
                                    p.row,
                                    p.row,
                                    p.code.as_deref().unwrap_or("-"),
                                    p.message
                                );
                            }
                            bail!(
                                "类别文件有 {} 处问题，未导入 (the category file has {} problem(s); nothing was imported)",
                                problems.len(),
                                problems.len()
                            )
                        }
                    };
                    let s = griddispatch::reference::import_categories(
                        &mut conn,
                        "cli",
                        &rows,
                        db::now(),
                    )?;
                    println!(
                        "已导入：新建 {} 个，修改 {} 个，未变 {} 个 (imported: {} created, {} changed, {} unchanged)",
                        s.created, s.changed, s.unchanged, s.created, s.changed, s.unchanged
                    );
                    Ok(())
                }
            }
        }
        Command::Audit(AuditCommand::Verify) => {
            let url = config.database()?;
            let mut conn = db::establish(&url)?;
            migrate::run_pending(&mut conn)?;
            let (checked, problems) = griddispatch::store::audit::verify(&mut conn)?;
            if problems.is_empty() {
                println!("审计链完整 audit chain intact: {checked} record(s) verified");
                Ok(())
            } else {
                for p in &problems {
                    eprintln!("seq {}: {}", p.seq, p.problem);
                }
                bail!(
                    "审计链被破坏 audit chain broken: {} problem(s) in {checked} record(s)",
                    problems.len()
                )
            }
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&config).await?;
        let host = config.bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
        println!("GridDispatch listening on http://{host}:{}/", app.port());
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn run_demo(mut config: Config, database_url: Option<String>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    // The demo runs on the embedded database in its data directory unless told otherwise on
    // its own command line.
    config.database_url = database_url;
    actix_web::rt::System::new().block_on(async move {
        let state = griddispatch::startup::prepare_state(&config).await?;
        let logins = {
            let mut conn = state.pool.get()?;
            let logins = demo::load(&mut conn, db::now())?;
            demo::load_departments(&mut conn, db::now())?;
            demo::load_meetings(&mut conn, &config.meetings, db::now())?;
            logins
        };
        let demo_grid = {
            let mut conn = state.pool.get()?;
            let loaded = griddispatch::demo_grid::load(&mut conn, db::now())?;
            if let Some(snapshot) = griddispatch::grid::load_current(&mut conn)? {
                griddispatch::grid::install(&state, snapshot);
            }
            loaded
        };
        let demo_reports = {
            let mut conn = state.pool.get()?;
            griddispatch::demo_workflow::load(&mut conn, &state)?
        };
        if demo_reports > 0 {
            println!("演示线索 demo reports: {demo_reports} in different states");
        }
        if let Some(v) = demo_grid.imported_version {
            println!(
                "演示网格 demo grid loaded as version {v}; 网格员 grid members: {}",
                demo_grid.grid_members.join(", ")
            );
        }
        let app = Application::with_state(state, &config.bind)?;
        print_demo_banner(&config, app.port(), &logins);
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn print_demo_banner(config: &Config, port: u16, logins: &[demo::DemoLogin]) {
    let host = config.bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
    let host = if host == "0.0.0.0" { "127.0.0.1" } else { host };
    println!(
        "GridDispatch 演示 (demo) — data in {}",
        config.data_dir.display()
    );
    println!("  控制台 console:  http://{host}:{port}/");
    println!("  API 文档 docs:   http://{host}:{port}/api/docs/");
    println!(
        "  演示账号 demo logins (password / 密码: {}):",
        demo::DEMO_PASSWORD
    );
    for l in logins {
        let roles: Vec<&str> = l.roles.iter().map(|r| r.as_str()).collect();
        println!(
            "    {:<20} {:<28} {}",
            l.username,
            roles.join(","),
            l.display_name
        );
    }
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password / 密码: ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.is_empty() {
        bail!("no password on standard input (e.g. `printf '%s\\n' \"$PW\" | griddispatch user add …`)");
    }
    Ok(pw)
}

fn user_command(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let url = config.database()?;
    let mut conn = db::establish(&url)?;
    migrate::run_pending(&mut conn)?;
    let now = db::now();
    match cmd {
        UserCommand::Add {
            username,
            name,
            roles,
            cert_number,
            cert_valid_until,
        } => {
            let password = read_password()?;
            let certificate = cert_number
                .zip(cert_valid_until)
                .map(|(number, valid_until)| Certificate {
                    number,
                    valid_until,
                });
            let req = NewUserRequest {
                username,
                display_name: name,
                password,
                roles,
                certificate,
            };
            let user = accounts::create(&mut conn, "cli", &req, now)?;
            println!("created {} ({})", user.username, user.id);
        }
        UserCommand::List { json } => {
            let users = accounts::list(&mut conn, now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                println!("{:<20} {:<9} {:<34} NAME", "USERNAME", "STATUS", "ROLES");
                for u in users {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                    let status = if u.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<20} {:<9} {:<34} {}",
                        u.username,
                        status,
                        roles.join(","),
                        u.display_name
                    );
                }
            }
        }
        UserCommand::Certificate {
            user,
            number,
            valid_until,
            clear: _,
        } => {
            let cert = number
                .zip(valid_until)
                .map(|(number, valid_until)| Certificate {
                    number,
                    valid_until,
                });
            // Done on the server itself: the record names the command line as the actor.
            let u = accounts::set_certificate(&mut conn, "cli", &user, cert.as_ref(), now)?;
            match u.certificate {
                Some(c) => println!("{}: {} valid until {}", u.username, c.number, c.valid_until),
                None => println!("{}: no certificate", u.username),
            }
        }
        UserCommand::Disable { user } => {
            let u = accounts::set_disabled(&mut conn, "cli", &user, true, now)?;
            println!("disabled {}", u.username);
        }
        UserCommand::Enable { user } => {
            let u = accounts::set_disabled(&mut conn, "cli", &user, false, now)?;
            println!("enabled {}", u.username);
        }
        UserCommand::Roles { user, roles } => {
            let u = accounts::set_roles(&mut conn, "cli", &user, &roles, now)?;
            let names: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            println!("{}: {}", u.username, names.join(","));
        }
        UserCommand::Password { user } => {
            let password = read_password()?;
            let u = accounts::reset_password(&mut conn, "cli", &user, &password, now)?;
            println!("password set for {}; signed out everywhere", u.username);
        }
        UserCommand::RevokeDevice { user, device_id } => {
            let u = accounts::find(&mut conn, &user)?;
            let n = accounts::revoke_device(&mut conn, &u.id, &device_id, now)?;
            println!(
                "revoked {n} session(s) of {} on device {device_id}",
                u.username
            );
        }
    }
    Ok(())
}
