//! Import (parse + validate, then one transaction), read-back at start-up and export.
//!
//! A file may hold several towns (a county or province): features are grouped by the 9-digit
//! town prefix of their code and each town is validated on its own, in parallel. Towns are not
//! checked against each other for overlap (as in `GridIndex::from_grids`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon};
use grid_data::{
    grid_to_feature_collection, parse_grid, Cell, CellCode, CellLevel, Crs, Grid, GridIndex,
    ImportOptions, Problem, ProblemKind,
};
use serde_json::{json, Value};

use super::{GridError, VersionView};
use crate::db::DbConn;
use crate::state::GridSnapshot;
use crate::store::grid::{self as store, CellRow, VersionRow};

/// How far a database write has got (cells written, cells in total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Cells written so far.
    pub written: usize,
    /// Cells to write.
    pub total: usize,
}

/// Parse and validate GeoJSON holding one or more towns; every problem of every town, or the
/// grids. Problems keep the feature's index in the whole file.
pub fn parse(text: &str, options: &ImportOptions) -> Result<Vec<Grid>, Vec<Problem>> {
    let Some(groups) = town_groups(text) else {
        // One town (or broken input): the library reports everything, including a missing town.
        return parse_grid(text, options).map(|g| vec![g]);
    };
    let (groups, mut problems) = groups;
    let results: Vec<Result<Grid, Vec<Problem>>> = std::thread::scope(|scope| {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = groups.len().div_ceil(workers).max(1);
        let handles: Vec<_> = groups
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(indices, text)| {
                            parse_grid(text, options).map_err(|ps| {
                                ps.into_iter()
                                    .map(|mut p| {
                                        // Back to the feature's position in the whole file.
                                        p.feature_index =
                                            p.feature_index.and_then(|i| indices.get(i).copied());
                                        p
                                    })
                                    .collect()
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(vec![problem(
                        ProblemKind::InvalidGeojson,
                        None,
                        None,
                        "校验线程失败 / validation thread failed",
                    )])]
                })
            })
            .collect()
    });
    let mut grids = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(g) => grids.push(g),
            Err(ps) => problems.extend(ps),
        }
    }
    if problems.is_empty() {
        Ok(grids)
    } else {
        problems.sort_by_key(|p| p.feature_index);
        Err(problems)
    }
}

type Groups = (Vec<(Vec<usize>, String)>, Vec<Problem>);

/// Split a FeatureCollection with several town features into one collection per town.
/// `None` when the text has at most one town (or is not a FeatureCollection at all).
fn town_groups(text: &str) -> Option<Groups> {
    let value: Value = serde_json::from_str(text).ok()?;
    let features = value.get("features")?.as_array()?;
    let code_of = |f: &Value| -> Option<String> {
        match f.get("properties")?.get("code")? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut towns: Vec<String> = Vec::new();
    for f in features {
        let is_town = f
            .get("properties")
            .and_then(|p| p.get("level"))
            .and_then(Value::as_str)
            == Some("town");
        if let (true, Some(code)) = (is_town, code_of(f)) {
            let prefix = CellCode::parse(&code).map_or(code, |c| c.township_prefix().to_owned());
            if !towns.contains(&prefix) {
                towns.push(prefix);
            }
        }
    }
    if towns.len() < 2 {
        return None;
    }
    let slot: HashMap<&str, usize> = towns
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut members: Vec<(Vec<usize>, Vec<&Value>)> = vec![(Vec::new(), Vec::new()); towns.len()];
    let mut problems = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let code = code_of(f);
        let group = code
            .as_deref()
            .and_then(|c| c.get(..9))
            .and_then(|prefix| slot.get(prefix));
        match group {
            Some(&g) => {
                members[g].0.push(i);
                members[g].1.push(f);
            }
            None => problems.push(problem(
                ProblemKind::CodePrefixMismatch,
                Some(i),
                code,
                "编码不属于文件中的任何镇 / the code belongs to no town in the file",
            )),
        }
    }
    let groups = members
        .into_iter()
        .map(|(indices, features)| {
            let text = json!({"type": "FeatureCollection", "features": features}).to_string();
            (indices, text)
        })
        .collect();
    Some((groups, problems))
}

pub(super) fn problem(
    kind: ProblemKind,
    feature_index: Option<usize>,
    code: Option<String>,
    message: &str,
) -> Problem {
    Problem {
        kind,
        code,
        feature_index,
        location: None,
        area_m2: None,
        related: None,
        message: message.to_owned(),
    }
}

/// Store validated grids as a new version and make it current, in one transaction: a failure
/// anywhere leaves the previous version current and nothing written.
pub fn import(
    conn: &mut DbConn,
    grids: &[Grid],
    source: &str,
    imported_by: Option<&str>,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<VersionView, GridError> {
    let total: usize = grids.iter().map(Grid::len).sum();
    let row = crate::db::write_transaction::<_, GridError, _>(conn, |conn| {
        let previous = store::current_version(conn)?.map(|v| v.version);
        let version = store::begin_import(conn)?;
        let row = VersionRow {
            version,
            imported_at: now,
            imported_by: imported_by.map(str::to_owned),
            source: source.to_owned(),
            town_count: i32::try_from(grids.len()).unwrap_or(i32::MAX),
            cell_count: i32::try_from(total).unwrap_or(i32::MAX),
            is_current: true,
        };
        store::insert_version(conn, &row)?;
        record_import(conn, &row, previous, imported_by, now)?;
        let mut written = 0;
        for grid in grids {
            write_cells(conn, version, grid, (&mut written, total), progress)?;
        }
        Ok(row)
    })?;
    progress(ImportProgress {
        written: total,
        total,
    });
    Ok(row.into())
}

/// A new grid changes who sees and handles what: it is in the full-process record
/// (`import_grid`, before: the version it replaced).
pub(super) fn record_import(
    conn: &mut DbConn,
    row: &VersionRow,
    previous: Option<i64>,
    imported_by: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), GridError> {
    let shown = serde_json::json!({"version": row.version, "source": row.source,
        "town_count": row.town_count, "cell_count": row.cell_count});
    crate::store::audit::record_action(
        conn,
        imported_by.unwrap_or("cli"),
        "import_grid",
        &shown,
        &serde_json::json!({"current_version": previous}),
        &shown,
        now,
    )?;
    Ok(())
}

/// Write one validated town's cells into `version`, counting them in `written` (a progress
/// report every 10 000 cells).
pub(super) fn write_cells(
    conn: &mut DbConn,
    version: i64,
    grid: &Grid,
    (written, total): (&mut usize, usize),
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<(), GridError> {
    let collection = grid_to_feature_collection(grid, Crs::Wgs84);
    for (cell, feature) in grid.cells().iter().zip(collection.features) {
        let geometry = feature
            .geometry
            .map(|g| g.to_string())
            .ok_or_else(|| GridError::Stored("cell without geometry".into()))?;
        let bbox = cell.geometry.bounding_rect();
        let (min, max) = bbox.map_or((Coord::zero(), Coord::zero()), |r| (r.min(), r.max()));
        store::insert_cell(
            conn,
            &CellRow {
                version,
                code: cell.code.as_str().to_owned(),
                name: cell.name.clone(),
                level: cell.level.as_str().to_owned(),
                parent_code: cell.parent.map(|p| p.as_str().to_owned()),
                geometry,
                min_lon: min.x,
                min_lat: min.y,
                max_lon: max.x,
                max_lat: max.y,
            },
        )?;
        *written += 1;
        if *written % 10_000 == 0 {
            progress(ImportProgress {
                written: *written,
                total,
            });
        }
    }
    Ok(())
}

/// Index grids as the snapshot of `version`.
pub fn build_snapshot(version: i64, grids: &[Grid]) -> Result<GridSnapshot, GridError> {
    let index = GridIndex::from_grids(grids).map_err(|e| {
        GridError::Invalid(vec![problem(
            ProblemKind::DuplicateCode,
            None,
            None,
            &e.to_string(),
        )])
    })?;
    let names = grids
        .iter()
        .flat_map(Grid::cells)
        .map(|c| (c.code, c.name.clone()))
        .collect();
    Ok(GridSnapshot {
        version,
        index,
        names,
    })
}

/// Read the current version back and index it (`None` before the first import).
pub fn load_current(conn: &mut DbConn) -> Result<Option<GridSnapshot>, GridError> {
    let Some(current) = store::current_version(conn)? else {
        return Ok(None);
    };
    let grids = load_version(conn, current.version)?;
    build_snapshot(current.version, &grids).map(Some)
}

/// Read one stored version back as grids (one per town). Stored cells were validated on
/// import, so only the hierarchy is re-checked (`Grid::from_stored_cells`).
pub fn load_version(conn: &mut DbConn, version: i64) -> Result<Vec<Grid>, GridError> {
    let rows = store::cells_of(conn, version, None, None)?;
    let mut towns: HashMap<String, Vec<Cell>> = HashMap::new();
    for row in rows {
        let cell = stored_cell(&row)?;
        towns
            .entry(cell.code.township_prefix().to_owned())
            .or_default()
            .push(cell);
    }
    let mut keys: Vec<String> = towns.keys().cloned().collect();
    keys.sort();
    keys.into_iter()
        .filter_map(|k| towns.remove(&k))
        .map(|cells| {
            Grid::from_stored_cells(cells)
                .map_err(|ps| GridError::Stored(format!("version {version}: {}", ps.len())))
        })
        .collect()
}

fn stored_cell(row: &CellRow) -> Result<Cell, GridError> {
    let bad = |what: &str| GridError::Stored(format!("cell {}: {what}", row.code));
    let code = CellCode::parse(&row.code).map_err(|_| bad("code"))?;
    let level = CellLevel::parse(&row.level).ok_or_else(|| bad("level"))?;
    let parent = match &row.parent_code {
        Some(p) => Some(CellCode::parse(p).map_err(|_| bad("parent"))?),
        None => None,
    };
    let geometry: geojson::Geometry = row.geometry.parse().map_err(|_| bad("geometry"))?;
    let polygons = match &geometry.value {
        geojson::Value::Polygon(p) => vec![polygon(p)],
        geojson::Value::MultiPolygon(ps) => ps.iter().map(|p| polygon(p)).collect(),
        _ => return Err(bad("geometry type")),
    };
    Ok(Cell {
        code,
        name: row.name.clone(),
        level,
        parent,
        geometry: MultiPolygon(polygons),
    })
}

fn polygon(rings: &[Vec<Vec<f64>>]) -> Polygon<f64> {
    let ring = |r: &Vec<Vec<f64>>| -> LineString<f64> {
        r.iter()
            .map(|p| Coord {
                x: p.first().copied().unwrap_or_default(),
                y: p.get(1).copied().unwrap_or_default(),
            })
            .collect()
    };
    let mut rings = rings.iter().map(ring);
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Polygon::new(exterior, rings.collect())
}

/// A stored version (default: the current one) as GeoJSON text, optionally only one level
/// and/or the children of one cell. The FeatureCollection carries `grid_version`.
pub fn export_geojson(
    conn: &mut DbConn,
    version: Option<i64>,
    level: Option<CellLevel>,
    parent: Option<&str>,
) -> Result<(VersionRow, String), GridError> {
    export_geojson_with_progress(conn, version, level, parent, &mut |_, _| {})
}

/// [`export_geojson`], reporting (cells written, cells in total) every 1 000 cells.
pub fn export_geojson_with_progress(
    conn: &mut DbConn,
    version: Option<i64>,
    level: Option<CellLevel>,
    parent: Option<&str>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(VersionRow, String), GridError> {
    let row = match version {
        Some(v) => store::find_version(conn, v)?.ok_or(GridError::UnknownVersion(v))?,
        None => store::current_version(conn)?.ok_or(GridError::NoGrid)?,
    };
    let cells = store::cells_of(conn, row.version, level.map(CellLevel::as_str), parent)?;
    let mut out = String::with_capacity(cells.iter().map(|c| c.geometry.len() + 160).sum());
    out.push_str(r#"{"type":"FeatureCollection","grid_version":"#);
    out.push_str(&row.version.to_string());
    out.push_str(r#","features":["#);
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let properties = json!({
            "code": c.code, "name": c.name, "level": c.level, "parent": c.parent_code,
        });
        out.push_str(r#"{"type":"Feature","properties":"#);
        out.push_str(&properties.to_string());
        // Stored geometry is GeoJSON written by us on import: pass it through unchanged.
        out.push_str(r#","geometry":"#);
        out.push_str(&c.geometry);
        out.push('}');
        if (i + 1) % 1_000 == 0 {
            progress(i + 1, cells.len());
        }
    }
    progress(cells.len(), cells.len());
    out.push_str("]}");
    Ok((row, out))
}
