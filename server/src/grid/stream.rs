//! Streaming import: a file of many towns is read feature by feature into one small text per
//! town, and the towns are validated (and written) one after another, so only one or two towns'
//! parsed JSON and validated grids are held at a time instead of the whole region's.
//!
//! Peak memory of the 100 000-cell region import went from 935 MB to the figures in
//! `docs/benchmarks.md`: the input text plus per-town texts (about twice the file) and the
//! towns in flight.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDateTime;
use grid_data::{parse_grid, CellLevel, Grid, ImportOptions, Problem, ProblemKind};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::import::{problem, record_import, write_cells, ImportProgress};
use super::{GridError, VersionView};
use crate::db::DbConn;
use crate::store::grid::{self as store, VersionRow};

/// The features of one town: their positions in the file and a FeatureCollection text.
struct Town {
    indices: Vec<usize>,
    text: String,
}

/// A file split by town; `None` when it holds at most one town or is not a FeatureCollection
/// (then the whole text is validated as one town, which reports whatever is wrong).
struct Split {
    towns: Vec<Town>,
    problems: Vec<Problem>,
    cells: usize,
}

/// What validation found, town by town.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Towns in the file.
    pub towns: usize,
    /// Cells of all levels.
    pub cells: usize,
    /// Village cells.
    pub villages: usize,
}

/// How far validation (and writing) has got, town by town.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TownProgress {
    /// Towns validated so far.
    pub done: usize,
    /// Towns in the file.
    pub total: usize,
    /// Cells (features) in the file.
    pub cells: usize,
}

/// Group features by the first 9 characters of their code as they stream past.
struct Grouper {
    order: Vec<String>,
    slot: HashMap<String, usize>,
    groups: Vec<(Vec<usize>, String, bool)>,
    next: usize,
}

impl Grouper {
    fn add(&mut self, feature: &Value) {
        let props = feature.get("properties");
        let code = match props.and_then(|p| p.get("code")) {
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let is_town = props.and_then(|p| p.get("level")).and_then(Value::as_str) == Some("town");
        let key = code
            .as_deref()
            .and_then(|c| c.get(..9))
            .unwrap_or("")
            .to_owned();
        let g = *self.slot.entry(key.clone()).or_insert_with(|| {
            self.order.push(key);
            self.groups.push((Vec::new(), String::new(), false));
            self.groups.len() - 1
        });
        let group = &mut self.groups[g];
        group.0.push(self.next);
        if !group.1.is_empty() {
            group.1.push(',');
        }
        group.1.push_str(&feature.to_string());
        group.2 |= is_town;
        self.next += 1;
    }
}

struct FeaturesSeed<'a>(&'a mut Grouper);

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(feature) = seq.next_element::<Value>()? {
            self.0.add(&feature);
        }
        Ok(())
    }
}

struct CollectionVisitor<'a>(&'a mut Grouper);

impl<'de> Visitor<'de> for CollectionVisitor<'_> {
    type Value = (bool, bool);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FeatureCollection")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(bool, bool), A::Error> {
        let (mut collection, mut features) = (false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => collection = map.next_value::<Value>()? == "FeatureCollection",
                "features" if !features => {
                    map.next_value_seed(FeaturesSeed(self.0))?;
                    features = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((collection, features))
    }
}

/// Split `text` by town in one pass; `None` if it is not a FeatureCollection of two or more
/// towns.
fn split(text: &str) -> Option<Split> {
    let mut grouper = Grouper {
        order: Vec::new(),
        slot: HashMap::new(),
        groups: Vec::new(),
        next: 0,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let (collection, features) = de.deserialize_map(CollectionVisitor(&mut grouper)).ok()?;
    de.end().ok()?;
    let town_groups = grouper.groups.iter().filter(|g| g.2).count();
    if !(collection && features) || town_groups < 2 {
        return None;
    }
    let cells = grouper.next;
    let mut problems = Vec::new();
    let mut towns = Vec::with_capacity(town_groups);
    for (indices, features, has_town) in grouper.groups {
        if has_town {
            let text = format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#);
            towns.push(Town { indices, text });
        } else {
            // No town with this prefix: each feature belongs to no town in the file.
            let values: Vec<Value> = serde_json::from_str(&format!("[{features}]")).ok()?;
            for (i, f) in indices.into_iter().zip(values) {
                let code = f
                    .get("properties")
                    .and_then(|p| p.get("code"))
                    .and_then(|c| match c {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
                problems.push(problem(
                    ProblemKind::CodePrefixMismatch,
                    Some(i),
                    code,
                    "编码不属于文件中的任何镇 / the code belongs to no town in the file",
                ));
            }
        }
    }
    Some(Split {
        towns,
        problems,
        cells,
    })
}

/// Validate `text` town by town, handing each valid town to `each` as long as every town so
/// far was valid (so a writer stops at the first problem while the rest is still checked), and
/// dropping it afterwards. Every problem of every town, or what was validated.
pub fn for_each_town(
    text: &str,
    options: &ImportOptions,
    each: &mut dyn FnMut(&Grid) -> Result<(), GridError>,
    progress: &mut dyn FnMut(TownProgress),
) -> Result<Summary, GridError> {
    let Some(split) = split(text) else {
        let grid = parse_grid(text, options).map_err(GridError::Invalid)?;
        let cells = grid.len();
        progress(TownProgress {
            done: 0,
            total: 1,
            cells,
        });
        each(&grid)?;
        progress(TownProgress {
            done: 1,
            total: 1,
            cells,
        });
        return Ok(Summary {
            towns: 1,
            cells: grid.len(),
            villages: grid.level(CellLevel::Village).count(),
        });
    };
    let Split {
        towns,
        mut problems,
        cells,
    } = split;
    let total = towns.len();
    let mut summary = Summary {
        towns: total,
        cells,
        villages: 0,
    };
    progress(TownProgress {
        done: 0,
        total,
        cells,
    });
    // Validate as many towns at once as there are cores; write them in file order.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut done = 0;
    for batch in towns.chunks(workers) {
        let results: Vec<Result<Grid, Vec<Problem>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .map(|town| scope.spawn(move || validate_town(town, options)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(vec![problem(
                            ProblemKind::InvalidGeojson,
                            None,
                            None,
                            "校验线程失败 / validation thread failed",
                        )])
                    })
                })
                .collect()
        });
        for r in results {
            match r {
                Ok(grid) => {
                    summary.villages += grid.level(CellLevel::Village).count();
                    if problems.is_empty() {
                        each(&grid)?;
                    }
                }
                Err(ps) => problems.extend(ps),
            }
            done += 1;
            progress(TownProgress { done, total, cells });
        }
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        problems.sort_by_key(|p| p.feature_index);
        Err(GridError::Invalid(problems))
    }
}

fn validate_town(town: &Town, options: &ImportOptions) -> Result<Grid, Vec<Problem>> {
    parse_grid(&town.text, options).map_err(|ps| {
        ps.into_iter()
            .map(|mut p| {
                // Back to the feature's position in the whole file.
                p.feature_index = p.feature_index.and_then(|i| town.indices.get(i).copied());
                p
            })
            .collect()
    })
}

/// Validate and store GeoJSON text as a new version and make it current, in one transaction,
/// town by town: each valid town is written and dropped before the next ones are validated. Any
/// problem anywhere rolls everything back (the previous version stays current) and returns every
/// problem of every town.
pub fn import_text(
    conn: &mut DbConn,
    text: &str,
    options: &ImportOptions,
    source: &str,
    imported_by: Option<&str>,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<VersionView, GridError> {
    let row = crate::db::write_transaction(conn, |conn| {
        let previous = store::current_version(conn)?.map(|v| v.version);
        let version = store::begin_import(conn)?;
        let mut row = VersionRow {
            version,
            imported_at: now,
            imported_by: imported_by.map(str::to_owned),
            source: source.to_owned(),
            town_count: 0,
            cell_count: 0,
            is_current: true,
        };
        store::insert_version(conn, &row)?;
        let mut written = 0;
        let total = std::cell::Cell::new(0);
        let mut each = |grid: &Grid| {
            write_cells(
                conn,
                version,
                grid,
                (&mut written, total.get()),
                &mut *progress,
            )
        };
        let summary = for_each_town(text, options, &mut each, &mut |p| total.set(p.cells))?;
        row.town_count = i32::try_from(summary.towns).unwrap_or(i32::MAX);
        row.cell_count = i32::try_from(summary.cells).unwrap_or(i32::MAX);
        store::set_version_counts(conn, version, row.town_count, row.cell_count)?;
        record_import(conn, &row, previous, imported_by, now)?;
        progress(ImportProgress {
            written: summary.cells,
            total: summary.cells,
        });
        Ok::<_, GridError>(row)
    })?;
    Ok(row.into())
}
