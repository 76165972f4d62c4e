//! `griddispatch grid …`: validate, import, export, locate, generate, members. The same library
//! functions as the admin API (`griddispatch::grid`), so both enforce the same rules.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Subcommand;
use grid_data::{
    generate_region, generate_town, grid_to_feature_collection, CellCode, CellLevel, Crs, Grid,
    ImportOptions, RegionConfig, TownConfig, ValidationOptions,
};
use griddispatch::config::Config;
use griddispatch::db::{self, migrate, DbConn};
use griddispatch::grid::{self, CellRole};

/// `griddispatch grid` subcommands.
#[derive(Subcommand)]
pub enum GridCommand {
    /// Check a GeoJSON grid file and print every problem (no database needed).
    Validate {
        /// GeoJSON FeatureCollection (properties: code, name, level, parent).
        file: PathBuf,
        /// Coordinate system of the file: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84", value_parser = parse_crs)]
        crs: Crs,
        /// Accept gaps up to this many m² each (slivers).
        #[arg(long, default_value_t = 0.0)]
        gap_tolerance_m2: f64,
    },
    /// Import a GeoJSON grid file as a new version and make it current.
    Import {
        /// GeoJSON FeatureCollection.
        file: PathBuf,
        /// Coordinate system of the file: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84", value_parser = parse_crs)]
        crs: Crs,
        /// Accept gaps up to this many m² each (slivers).
        #[arg(long, default_value_t = 0.0)]
        gap_tolerance_m2: f64,
    },
    /// Write the current grid (or an older version) as GeoJSON.
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Grid version (default: the current one).
        #[arg(long)]
        version: Option<i64>,
    },
    /// List grid versions.
    Versions,
    /// Find the village, area and town of a position (prints JSON).
    Locate {
        /// Latitude.
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Longitude.
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Coordinate system of the position: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84", value_parser = parse_crs)]
        crs: Crs,
    },
    /// Write a deterministic synthetic town (or region of many towns) as GeoJSON.
    Generate {
        /// Areas of the town (1–99).
        #[arg(long, default_value_t = 4)]
        areas: u32,
        /// Villages per area.
        #[arg(long, default_value_t = 5)]
        villages_per_area: u32,
        /// Seed: same seed, same grid.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Enclave villages (飞地) inside other villages.
        #[arg(long, default_value_t = 0)]
        enclaves: u32,
        /// Town code (9 digits).
        #[arg(long, default_value = "419001199")]
        town_code: String,
        /// Town name.
        #[arg(long, default_value = "合成示范镇（演示数据）")]
        town_name: String,
        /// Instead of one town: a region of about this many villages in towns of ≤ 1000
        /// (e.g. 100000 for a province-sized benchmark).
        #[arg(long)]
        region_villages: Option<u32>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Attach people to cells.
    #[command(subcommand)]
    Member(MemberCommand),
}

/// `griddispatch grid member` subcommands.
#[derive(Subcommand)]
pub enum MemberCommand {
    /// Put a user on a cell (replaces an earlier role on that cell).
    Add {
        /// Cell code.
        cell: String,
        /// Username or id; the account must hold the role.
        user: String,
        /// grid_member or grid_leader.
        #[arg(long, value_enum)]
        role: CellRole,
    },
    /// Take a user off a cell.
    Remove {
        /// Cell code.
        cell: String,
        /// Username or id.
        user: String,
    },
}

fn parse_crs(text: &str) -> Result<Crs, String> {
    serde_json::from_value(serde_json::Value::String(text.to_ascii_lowercase()))
        .map_err(|_| format!("unknown crs `{text}`: use wgs84, gcj02 or bd09"))
}

fn connect(config: &Config) -> anyhow::Result<DbConn> {
    let url = config.database()?;
    let mut conn = db::establish(&url)?;
    migrate::run_pending(&mut conn)?;
    Ok(conn)
}

/// Run one `grid` subcommand.
pub fn run(config: &Config, cmd: GridCommand) -> anyhow::Result<()> {
    match cmd {
        GridCommand::Validate {
            file,
            crs,
            gap_tolerance_m2,
        } => {
            let (text, options) = read(&file, crs, gap_tolerance_m2)?;
            let started = Instant::now();
            let bar = Bar::new("校验 validating", "towns");
            let result = grid::for_each_town(&text, &options, &mut |_| Ok(()), &mut |p| {
                bar.set(p.done, p.total);
            });
            bar.finish();
            let summary = report(result)?;
            eprintln!(
                "校验通过 valid: {} cells in {:.1}s",
                summary.cells,
                started.elapsed().as_secs_f64()
            );
            println!(
                "有效 valid: {} town(s), {} cell(s), {} village(s)",
                summary.towns, summary.cells, summary.villages
            );
            Ok(())
        }
        GridCommand::Import {
            file,
            crs,
            gap_tolerance_m2,
        } => {
            let started = Instant::now();
            let (text, options) = read(&file, crs, gap_tolerance_m2)?;
            let mut conn = connect(config)?;
            let source = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            // Towns are validated and written one after another in one transaction.
            let bar = Bar::new("校验并写入 validating and writing", "cells");
            let quiet = bar.shown();
            let result = grid::import_text(
                &mut conn,
                &text,
                &options,
                &source,
                None,
                db::now(),
                &mut |p| {
                    bar.set(p.written, p.total);
                    if !quiet {
                        eprintln!("写入 writing: {}/{} cells", p.written, p.total);
                    }
                },
            );
            bar.finish();
            let version = report(result)?;
            println!(
                "已导入 imported: version {} ({} town(s), {} cells) is current; {:.1}s",
                version.version,
                version.town_count,
                version.cell_count,
                started.elapsed().as_secs_f64()
            );
            println!("运行中的服务将在 30 秒内切换 (running servers switch within 30 s)");
            Ok(())
        }
        GridCommand::Export { out, version } => {
            let mut conn = connect(config)?;
            let bar = Bar::new("导出 exporting", "cells");
            let (row, text) = grid::export_geojson_with_progress(
                &mut conn,
                version,
                None,
                None,
                &mut |done, total| {
                    bar.set(done, total);
                },
            )?;
            bar.finish();
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "已导出 exported version {} ({} cells) to {}",
                        row.version,
                        row.cell_count,
                        path.display()
                    );
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(text.as_bytes())?;
                    stdout.write_all(b"\n")?;
                }
            }
            Ok(())
        }
        GridCommand::Versions => {
            let mut conn = connect(config)?;
            println!(
                "{:>7}  {:<7}  {:>6}  {:>7}  {:<20} SOURCE",
                "VERSION", "CURRENT", "TOWNS", "CELLS", "IMPORTED (UTC)"
            );
            for v in griddispatch::store::grid::versions(&mut conn)? {
                println!(
                    "{:>7}  {:<7}  {:>6}  {:>7}  {:<20} {}",
                    v.version,
                    if v.is_current { "yes" } else { "" },
                    v.town_count,
                    v.cell_count,
                    v.imported_at.format("%Y-%m-%d %H:%M:%S"),
                    v.source
                );
            }
            Ok(())
        }
        GridCommand::Locate { lat, lon, crs } => {
            let mut conn = connect(config)?;
            let snapshot = grid::load_current(&mut conn)?;
            let view = grid::locate(snapshot.as_ref(), lat, lon, crs)?;
            println!("{}", serde_json::to_string_pretty(&view)?);
            Ok(())
        }
        GridCommand::Generate {
            areas,
            villages_per_area,
            seed,
            enclaves,
            town_code,
            town_name,
            region_villages,
            out,
        } => {
            let grids = match region_villages {
                Some(n) => generate_region(&RegionConfig::with_villages(seed, n))?,
                None => {
                    let town = CellCode::parse(&town_code)
                        .with_context(|| format!("invalid town code {town_code}"))?;
                    let config = TownConfig {
                        seed,
                        enclaves,
                        ..TownConfig::new(town, town_name, areas, villages_per_area)
                    };
                    vec![generate_town(&config)?]
                }
            };
            write_grids(&out, &grids)?;
            println!(
                "已生成 generated {} town(s), {} cells, {} villages → {}",
                grids.len(),
                grids.iter().map(Grid::len).sum::<usize>(),
                villages(&grids),
                out.display()
            );
            Ok(())
        }
        GridCommand::Member(MemberCommand::Add { cell, user, role }) => {
            let mut conn = connect(config)?;
            let m = grid::set_member(&mut conn, "cli", &cell, &user, role, db::now())?;
            println!("{} → {cell} as {}", m.username, m.role);
            Ok(())
        }
        GridCommand::Member(MemberCommand::Remove { cell, user }) => {
            let mut conn = connect(config)?;
            grid::remove_member(&mut conn, "cli", &cell, &user, db::now())?;
            println!("removed {user} from {cell}");
            Ok(())
        }
    }
}

fn villages(grids: &[Grid]) -> usize {
    grids
        .iter()
        .map(|g| g.level(CellLevel::Village).count())
        .sum()
}

/// A progress bar on stderr for long work, shown only when stderr is a terminal (scripts and
/// logs get the plain lines instead).
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(what: &str, unit: &str) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        let style = indicatif::ProgressStyle::with_template(&format!(
            "{what} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{elapsed}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Self(Some(bar))
    }

    /// Whether the bar is drawn (stderr is a terminal).
    fn shown(&self) -> bool {
        self.0.is_some()
    }

    fn set(&self, done: usize, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Read a grid file and the import options, after checking the tolerance.
fn read(file: &Path, crs: Crs, gap_tolerance_m2: f64) -> anyhow::Result<(String, ImportOptions)> {
    if !(gap_tolerance_m2.is_finite() && gap_tolerance_m2 >= 0.0) {
        bail!("--gap-tolerance-m2 must be a non-negative number");
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    #[allow(clippy::cast_precision_loss)] // a file size shown in MB
    let mb = text.len() as f64 / 1e6;
    eprintln!(
        "读取 read {} ({mb:.1} MB)；校验中 validating…",
        file.display()
    );
    let options = ImportOptions {
        crs,
        validation: ValidationOptions {
            gap_tolerance_m2,
            ..ValidationOptions::default()
        },
    };
    Ok((text, options))
}

/// Print every problem of an invalid grid (one line each) and turn it into an error.
fn report<T>(result: Result<T, grid::GridError>) -> anyhow::Result<T> {
    match result {
        Ok(v) => Ok(v),
        Err(grid::GridError::Invalid(problems)) => {
            for p in &problems {
                println!("{p}");
            }
            bail!(
                "网格数据无效，共 {} 个问题 (invalid grid: {} problem(s))",
                problems.len(),
                problems.len()
            )
        }
        Err(e) => Err(e.into()),
    }
}

fn write_grids(path: &Path, grids: &[Grid]) -> anyhow::Result<()> {
    let mut all =
        grid_to_feature_collection(grids.first().context("nothing generated")?, Crs::Wgs84);
    for g in grids.iter().skip(1) {
        all.features
            .extend(grid_to_feature_collection(g, Crs::Wgs84).features);
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, &all)?;
    writer.flush()?;
    Ok(())
}
