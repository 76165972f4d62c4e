//! The grid service shared by the admin API, the `griddispatch grid` commands and the demo:
//! import (validate → one transaction → swap the in-memory index), export, locate, the people
//! attached to cells and the squads responsible for them. See docs/grid.md.

mod import;
mod people;
mod stream;

use std::sync::Arc;

use grid_data::{CellCode, Crs, Lookup, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::state::{AppState, GridSnapshot};
use crate::store::grid::VersionRow;

pub use import::{
    build_snapshot, export_geojson, export_geojson_with_progress, import, load_current,
    load_version, parse, ImportProgress,
};
pub use people::{
    add_squad_cell, add_squad_member, cell_detail, create_squad, find_squad, list_squads,
    remove_member, remove_squad_cell, remove_squad_member, set_member, squad_members, CellDetail,
    CellMember, CellRole, NewSquad, SquadMembers, SquadView,
};
pub use stream::{for_each_town, import_text, Summary, TownProgress};

/// Why a grid operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GridError {
    /// The input is not a valid grid; every problem found.
    #[error("网格数据无效，共 {} 个问题 (invalid grid: {} problem(s))", .0.len(), .0.len())]
    Invalid(Vec<Problem>),
    /// No grid has been imported yet.
    #[error("尚未导入网格 (no grid has been imported yet)")]
    NoGrid,
    /// A grid version that does not exist.
    #[error("网格版本 {0} 不存在 (no grid version {0})")]
    UnknownVersion(i64),
    /// A cell code not in the current grid.
    #[error("当前网格中没有编码为 {0} 的网格 (no cell {0} in the current grid)")]
    UnknownCell(String),
    /// A squad that does not exist.
    #[error("中队不存在 (no such squad: {0})")]
    UnknownSquad(String),
    /// A user who is not on the cell.
    #[error("该用户不是此网格的成员 (user {user} is not on cell {cell})")]
    NotAMember {
        /// Cell code.
        cell: String,
        /// User.
        user: String,
    },
    /// The account does not hold the system role the cell role needs.
    #[error(
        "账号须先具有角色 {0}（请先在账号管理中授予）(the account must hold the role {0} first)"
    )]
    RoleNotHeld(&'static str),
    /// The squad code is taken.
    #[error("中队编码 `{0}` 已被使用 (squad code `{0}` is taken)")]
    SquadCodeTaken(String),
    /// A squad field is empty or too long.
    #[error("中队信息不完整：{0} (invalid squad field: {0})")]
    InvalidSquad(&'static str),
    /// The position is not a valid coordinate.
    #[error("坐标不合法：纬度须在 −90…90，经度须在 −180…180 (invalid position: lat −90…90, lon −180…180)")]
    InvalidPoint,
    /// A stored cell could not be read back (database edited by hand?).
    #[error("stored grid is unreadable: {0}")]
    Stored(String),
    /// The user lookup failed.
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl From<GridError> for AppError {
    fn from(err: GridError) -> Self {
        match err {
            GridError::Invalid(problems) => {
                let message = format!(
                    "网格数据无效，共 {} 个问题，见 problems (invalid grid: {} problem(s), listed in `problems`)",
                    problems.len(),
                    problems.len()
                );
                let problems = serde_json::to_value(&problems).unwrap_or_default();
                AppError::detailed(422, "invalid_grid", message, "problems", problems)
            }
            e @ GridError::NoGrid => AppError::conflict("no_grid", e.to_string()),
            e @ (GridError::UnknownVersion(_)
            | GridError::UnknownCell(_)
            | GridError::UnknownSquad(_)
            | GridError::NotAMember { .. }) => AppError::NotFound(e.to_string()),
            e @ GridError::RoleNotHeld(_) => {
                AppError::unprocessable("role_not_held", e.to_string())
            }
            e @ GridError::SquadCodeTaken(_) => {
                AppError::conflict("squad_code_taken", e.to_string())
            }
            e @ GridError::InvalidSquad(_) => {
                AppError::unprocessable("invalid_field", e.to_string())
            }
            e @ GridError::InvalidPoint => AppError::bad_request("invalid_query", e.to_string()),
            GridError::Account(e) => e.into(),
            e @ (GridError::Stored(_) | GridError::Db(_)) => AppError::Internal(e.to_string()),
        }
    }
}

/// A grid version as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionView {
    /// 1, 2, 3 … in import order.
    pub version: i64,
    /// When it was imported (UTC).
    pub imported_at: chrono::DateTime<chrono::Utc>,
    /// User id of the importing admin (`null` from the command line).
    pub imported_by: Option<String>,
    /// File name or label of the source.
    pub source: String,
    /// Towns in the version.
    pub town_count: i32,
    /// Cells of all levels.
    pub cell_count: i32,
    /// Whether lookups use this version now.
    pub is_current: bool,
}

impl From<VersionRow> for VersionView {
    fn from(r: VersionRow) -> Self {
        Self {
            version: r.version,
            imported_at: r.imported_at.and_utc(),
            imported_by: r.imported_by,
            source: r.source,
            town_count: r.town_count,
            cell_count: r.cell_count,
            is_current: r.is_current,
        }
    }
}

/// A cell named in an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CellRef {
    /// Cell code.
    pub code: String,
    /// Cell name.
    pub name: String,
}

/// Where a point lies: `located` (village, area, town) or `outside_grid` (nearest village).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LocateView {
    /// `located` or `outside_grid`.
    pub status: String,
    /// Grid version that answered.
    pub version: i64,
    /// The position in WGS-84 (after converting from `crs`).
    pub lon: f64,
    /// Latitude in WGS-84.
    pub lat: f64,
    /// Village cell (when located).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village: Option<CellRef>,
    /// Area cell (when located).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<CellRef>,
    /// Town cell (when located).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<CellRef>,
    /// Nearest village (when outside the grid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest: Option<CellRef>,
    /// Distance to the nearest village's boundary in metres (when outside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

/// Locate a position given in `crs` in a grid snapshot (no snapshot: `NoGrid`).
pub fn locate(
    snapshot: Option<&GridSnapshot>,
    lat: f64,
    lon: f64,
    crs: Crs,
) -> Result<LocateView, GridError> {
    let snapshot = snapshot.ok_or(GridError::NoGrid)?;
    if !(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0) {
        return Err(GridError::InvalidPoint);
    }
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let cell = |code: CellCode| CellRef {
        code: code.as_str().to_owned(),
        name: snapshot.names.get(&code).cloned().unwrap_or_default(),
    };
    let mut view = LocateView {
        status: String::new(),
        version: snapshot.version,
        lon,
        lat,
        village: None,
        area: None,
        town: None,
        nearest: None,
        distance_m: None,
    };
    match snapshot.index.locate(lon, lat) {
        Lookup::Located(found) => {
            view.status = "located".into();
            view.village = Some(cell(found.village));
            view.area = Some(cell(found.area));
            view.town = Some(cell(found.town));
        }
        Lookup::OutsideGrid {
            nearest,
            distance_m,
        } => {
            view.status = "outside_grid".into();
            view.nearest = Some(cell(nearest));
            view.distance_m = Some(distance_m);
        }
        Lookup::InvalidPoint => return Err(GridError::InvalidPoint),
    }
    Ok(view)
}

/// Install a snapshot unless a newer version is already installed (two imports finishing in
/// the other order must not roll lookups back).
pub fn install(state: &AppState, snapshot: GridSnapshot) {
    let snapshot = Arc::new(snapshot);
    state.grid.rcu(|current| match current {
        Some(c) if c.version > snapshot.version => Some(Arc::clone(c)),
        _ => Some(Arc::clone(&snapshot)),
    });
}

/// Every `every`, reload the grid if another instance imported a newer version (several
/// instances on one PostgreSQL database); a no-op on a single instance.
pub fn spawn_refresh(state: AppState, every: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let installed = state.grid.load().as_ref().map(|g| g.version);
            let result = state
                .db(move |conn| {
                    let current = crate::store::grid::current_version(conn)?;
                    match current {
                        Some(v) if Some(v.version) != installed => Ok(load_current(conn)?),
                        _ => Ok(None),
                    }
                })
                .await;
            match result {
                Ok(Some(snapshot)) => {
                    tracing::info!(version = snapshot.version, "grid reloaded");
                    install(&state, snapshot);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "grid refresh failed"),
            }
        }
    });
}
