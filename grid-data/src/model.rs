//! The three-level grid: town (镇) → management area (管理片区) → village (村).

use std::collections::HashMap;

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

use crate::code::CellCode;
use crate::problem::{Problem, ProblemKind};
use crate::topology;
use crate::validate::{self, Draft, ParentField, ValidationOptions};

/// Level of a cell; ordered so that `Town > Area > Village` (a cell outranks its children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellLevel {
    /// 村: the smallest cell; every point of the town lies in exactly one.
    Village,
    /// 管理片区: a management layer grouping villages.
    Area,
    /// 镇: the whole town, the root of the grid.
    Town,
}

impl CellLevel {
    /// The snake_case wire name (`town`, `area`, `village`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Village => "village",
            Self::Area => "area",
            Self::Town => "town",
        }
    }

    /// Parse the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "village" => Some(Self::Village),
            "area" => Some(Self::Area),
            "town" => Some(Self::Town),
            _ => None,
        }
    }

    /// The level a parent of this level must have (`None` for the town).
    pub fn parent_level(self) -> Option<Self> {
        match self {
            Self::Village => Some(Self::Area),
            Self::Area => Some(Self::Town),
            Self::Town => None,
        }
    }

    /// Chinese name of the level, for messages.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Village => "村",
            Self::Area => "片区",
            Self::Town => "镇",
        }
    }
}

/// One grid cell with its WGS-84 boundary (lon/lat degrees).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The cell's code; its shape matches `level`.
    pub code: CellCode,
    /// Display name, e.g. `杨庄村`.
    pub name: String,
    /// Level in the hierarchy.
    pub level: CellLevel,
    /// Parent cell (`None` only for the town).
    pub parent: Option<CellCode>,
    /// Boundary in WGS-84 lon/lat; holes allowed.
    pub geometry: MultiPolygon<f64>,
}

/// A validated grid: one town, its areas tiling it, villages tiling each area.
///
/// Only constructible through validation, so holding a `Grid` proves the invariants.
#[derive(Debug, Clone)]
pub struct Grid {
    // Sorted: town first, then areas by code, then villages by code.
    cells: Vec<Cell>,
    by_code: HashMap<CellCode, usize>,
}

impl Grid {
    /// Validate cells and build a grid; every problem found is returned, nothing partial.
    pub fn from_cells(cells: Vec<Cell>, options: &ValidationOptions) -> Result<Self, Vec<Problem>> {
        let drafts = cells
            .into_iter()
            .enumerate()
            .map(|(index, c)| Draft {
                index,
                raw_code: Some(c.code.to_string()),
                code: Some(c.code),
                name: Some(c.name),
                level: Some(c.level),
                parent: c.parent.map_or(ParentField::Absent, ParentField::Code),
                decimals: topology::decimals_of_coords(c.geometry.0.iter().flat_map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .flat_map(|r| r.0.iter().map(|c| (c.x, c.y)))
                })),
                geometry: Some(c.geometry),
            })
            .collect();
        validate::validate(drafts, Vec::new(), options).map(Self::assemble)
    }

    /// Rebuild a grid from cells that passed validation before they were stored (the server
    /// reads its current version back at start-up).
    ///
    /// Only the hierarchy is re-checked — exactly one town, distinct codes, every parent present
    /// with the right level — not rings or tiling: that is what keeps loading 100k stored cells
    /// fast. Never use it for input that was not validated.
    pub fn from_stored_cells(cells: Vec<Cell>) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut levels: HashMap<CellCode, CellLevel> = HashMap::with_capacity(cells.len());
        for (i, c) in cells.iter().enumerate() {
            if levels.insert(c.code, c.level).is_some() {
                problems.push(
                    Problem::new(ProblemKind::DuplicateCode, "编码重复 / duplicate code")
                        .feature(i, Some(c.code.as_str())),
                );
            }
        }
        let towns = cells.iter().filter(|c| c.level == CellLevel::Town).count();
        if towns != 1 {
            let kind = if towns == 0 {
                ProblemKind::MissingTown
            } else {
                ProblemKind::MultipleTowns
            };
            problems.push(Problem::new(
                kind,
                format!("镇级网格数为 {towns} / {towns} town cells"),
            ));
        }
        for (i, c) in cells.iter().enumerate() {
            let parent_level = c.parent.as_ref().and_then(|p| levels.get(p)).copied();
            if parent_level != c.level.parent_level() {
                problems.push(
                    Problem::new(
                        ProblemKind::WrongParentLevel,
                        "上级网格缺失或层级不符 / parent missing or of the wrong level",
                    )
                    .feature(i, Some(c.code.as_str())),
                );
            }
        }
        if problems.is_empty() {
            Ok(Self::assemble(cells))
        } else {
            Err(problems)
        }
    }

    /// Order cells and index them; only called on validated cells.
    pub(crate) fn assemble(mut cells: Vec<Cell>) -> Self {
        cells.sort_by(|a, b| b.level.cmp(&a.level).then(a.code.cmp(&b.code)));
        let by_code = cells.iter().enumerate().map(|(i, c)| (c.code, i)).collect();
        Self { cells, by_code }
    }

    /// The town cell (validation guarantees exactly one, sorted first).
    pub fn town(&self) -> &Cell {
        &self.cells[0]
    }

    /// All cells: town, then areas, then villages, each by code.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Number of cells of all levels.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Always false: a valid grid has at least its town (kept for clippy's `len` convention).
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Look a cell up by code.
    pub fn get(&self, code: &CellCode) -> Option<&Cell> {
        self.by_code.get(code).map(|&i| &self.cells[i])
    }

    /// Cells of one level, by code.
    pub fn level(&self, level: CellLevel) -> impl Iterator<Item = &Cell> + '_ {
        self.cells.iter().filter(move |c| c.level == level)
    }

    /// Direct children of a cell, by code.
    pub fn children<'a>(&'a self, code: &'a CellCode) -> impl Iterator<Item = &'a Cell> + 'a {
        self.cells
            .iter()
            .filter(move |c| c.parent.as_ref() == Some(code))
    }

    /// The cell and its ancestors up to the town (village → area → town).
    pub fn ancestry(&self, code: &CellCode) -> Vec<&Cell> {
        let mut out = Vec::with_capacity(3);
        let mut next = self.get(code);
        while let Some(cell) = next {
            out.push(cell);
            next = cell.parent.as_ref().and_then(|p| self.get(p));
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stored_cells_rebuild_the_same_grid_and_broken_hierarchies_are_refused() {
        let grid = crate::demo_town().unwrap();
        let cells = grid.cells().to_vec();
        let rebuilt = Grid::from_stored_cells(cells.clone()).unwrap();
        assert_eq!(rebuilt.cells(), grid.cells());

        let orphans: Vec<Cell> = cells
            .iter()
            .filter(|c| c.level != CellLevel::Area)
            .cloned()
            .collect();
        let problems = Grid::from_stored_cells(orphans).unwrap_err();
        assert!(problems
            .iter()
            .all(|p| p.kind == ProblemKind::WrongParentLevel));
        assert!(Grid::from_stored_cells(Vec::new()).is_err());
    }

    #[test]
    fn town_outranks_area_outranks_village() {
        assert!(CellLevel::Town > CellLevel::Area);
        assert!(CellLevel::Area > CellLevel::Village);
    }

    #[test]
    fn level_serialises_snake_case() {
        assert_eq!(
            serde_json::to_string(&CellLevel::Village).unwrap(),
            "\"village\""
        );
        assert_eq!(
            serde_json::from_str::<CellLevel>("\"town\"").unwrap(),
            CellLevel::Town
        );
        assert_eq!(CellLevel::parse("area"), Some(CellLevel::Area));
    }
}
