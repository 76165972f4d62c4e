//! Deterministic synthetic grids: irregular but exactly tiling towns, for tests, demos and benches.
//!
//! Layout: a jittered lattice of village cells. Every lattice edge is generated **once** (with
//! `vertices_per_edge` wiggled intermediate points) and reused, reversed, by the cell on its other
//! side, so neighbours share bit-identical coordinates: no gaps, no overlaps. Areas are contiguous
//! runs of cells in serpentine (boustrophedon) order, so every area is a simply connected
//! staircase; area and town rings are traced from the lattice edges on their outline.
//! Optional enclaves (飞地) punch a hole into a village and fill it with another village.
//!
//! Codes: villages are `<town>200…` (12 digits) while a town has ≤ 200 villages, else 14-digit
//! `<town><200+i/99><01+i%99>` (up to 19 800 per town). Province-scale sets are many towns
//! ([`generate_region`]), county `4101xx` × township 100–199.

use std::collections::{HashMap, HashSet};

use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::code::{CellCode, CodeError};
use crate::model::{Cell, CellLevel, Grid};
use crate::names::{numeral, village_name};
use crate::problem::Problem;
use crate::rng::SplitMix64;
use crate::validate::ValidationOptions;

/// Vertex jitter as a fraction of the cell size (small enough that edges never cross).
const JITTER: f64 = 0.18;
/// Perpendicular wiggle of intermediate edge points as a fraction of the edge length.
const WIGGLE: f64 = 0.07;
/// Most villages one town code can number (village 200–399 × sub-cell 01–99).
const MAX_VILLAGES_PER_TOWN: u32 = 200 * 99;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// `areas` must be 1–99 (the area sequence is two digits).
    #[error("片区数 {0} 须在 1–99 之间 / areas must be 1–99")]
    Areas(u32),
    /// `villages_per_area` must be at least 1.
    #[error("每片区村数须至少为 1 / villages_per_area must be ≥ 1")]
    NoVillages,
    /// More villages than one town code can number.
    #[error("一个镇最多 {MAX_VILLAGES_PER_TOWN} 个村，要求 {0} / too many villages for one town")]
    TooManyVillages(u32),
    /// More towns than the county/township numbering allows.
    #[error("镇数量 {0} 超出编码范围 / too many towns")]
    TooManyTowns(u32),
    /// Cell size must be a positive number of metres.
    #[error("网格尺寸须为正数 / cell_size_m must be positive")]
    CellSize,
    /// A code could not be formed.
    #[error(transparent)]
    Code(#[from] CodeError),
    /// The generated town failed validation (a generator bug; problems attached).
    #[error("生成的网格未通过校验（{} 个问题）/ generated grid failed validation", .0.len())]
    Invalid(Vec<Problem>),
}

/// Parameters of one synthetic town.
#[derive(Debug, Clone, PartialEq)]
pub struct TownConfig {
    /// PRNG seed; same seed, same town.
    pub seed: u64,
    /// The 9-digit town code.
    pub town: CellCode,
    /// Town name.
    pub name: String,
    /// Number of areas (1–99).
    pub areas: u32,
    /// Lattice villages per area.
    pub villages_per_area: u32,
    /// Extra enclave villages, each filling a hole in another village of the same area.
    pub enclaves: u32,
    /// South-west corner (lon, lat) in WGS-84.
    pub origin: (f64, f64),
    /// Nominal village cell size in metres.
    pub cell_size_m: f64,
    /// Wiggled intermediate points per lattice edge (0 = straight edges).
    pub vertices_per_edge: u32,
    /// Optional names for areas (in order); generated when missing.
    pub area_names: Vec<String>,
    /// Optional names for villages (in order, enclaves last); generated when missing.
    pub village_names: Vec<String>,
}

impl TownConfig {
    /// A config with sensible defaults (near 济源, 1.2 km cells, 3 points per edge, no enclaves).
    pub fn new(
        town: CellCode,
        name: impl Into<String>,
        areas: u32,
        villages_per_area: u32,
    ) -> Self {
        Self {
            seed: 1,
            town,
            name: name.into(),
            areas,
            villages_per_area,
            enclaves: 0,
            origin: (112.45, 35.0),
            cell_size_m: 1200.0,
            vertices_per_edge: 3,
            area_names: Vec::new(),
            village_names: Vec::new(),
        }
    }
}

/// Parameters of a multi-town region (county/province scale).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Number of towns (each its own grid).
    pub towns: u32,
    /// Areas per town.
    pub areas_per_town: u32,
    /// Villages per area.
    pub villages_per_area: u32,
    /// South-west corner (lon, lat).
    pub origin: (f64, f64),
    /// Nominal village cell size in metres.
    pub cell_size_m: f64,
    /// Wiggled intermediate points per lattice edge.
    pub vertices_per_edge: u32,
}

impl RegionConfig {
    /// About `villages` villages as towns of 10 areas × 100 villages (fewer areas when small).
    pub fn with_villages(seed: u64, villages: u32) -> Self {
        let per_town = villages.clamp(1, 1000);
        let areas = per_town.div_ceil(100).clamp(1, 10);
        Self {
            seed,
            towns: villages.div_ceil(per_town),
            areas_per_town: areas,
            villages_per_area: per_town.div_ceil(areas),
            origin: (110.0, 32.0),
            cell_size_m: 800.0,
            vertices_per_edge: 3,
        }
    }
}

/// Generate one town and validate it.
pub fn generate_town(config: &TownConfig) -> Result<Grid, GenerateError> {
    let cells = town_cells(config)?;
    Grid::from_cells(cells, &ValidationOptions::default()).map_err(GenerateError::Invalid)
}

/// Generate many towns side by side, one grid each, for province-scale tests and benchmarks.
///
/// Towns are valid by construction (the same code path as [`generate_town`]; the tests validate
/// whole regions with zero tolerance); re-validating 100k villages would dominate benchmark
/// setup, so it is skipped.
pub fn generate_region(config: &RegionConfig) -> Result<Vec<Grid>, GenerateError> {
    if config.towns > 98 * 100 {
        return Err(GenerateError::TooManyTowns(config.towns));
    }
    let per_town = f64::from(config.areas_per_town * config.villages_per_area);
    let cols = per_town.sqrt().ceil();
    let block_m = (cols + 1.0) * config.cell_size_m;
    let town_cols = f64::from(config.towns).sqrt().ceil().max(1.0) as u32;
    let mut rng = SplitMix64::new(config.seed);
    let mut grids = Vec::with_capacity(config.towns as usize);
    for t in 0..config.towns {
        let (tx, ty) = (f64::from(t % town_cols), f64::from(t / town_cols));
        let origin = metres_to_lon_lat(config.origin, tx * block_m, ty * block_m);
        let town = CellCode::town(&format!("4101{:02}", 2 + t / 100), 100 + (t % 100) as u16)?;
        let town_config = TownConfig {
            seed: rng.next_u64(),
            origin,
            cell_size_m: config.cell_size_m,
            vertices_per_edge: config.vertices_per_edge,
            ..TownConfig::new(
                town,
                format!("合成{}镇", numeral(t % 99 + 1)),
                config.areas_per_town,
                config.villages_per_area,
            )
        };
        grids.push(Grid::assemble(town_cells(&town_config)?));
    }
    Ok(grids)
}

/// The demo town: 承留示范镇 (synthetic, near 济源市承留镇), 4 areas × 5 villages + 1 enclave.
pub fn demo_town() -> Result<Grid, GenerateError> {
    let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let config = TownConfig {
        seed: 20_240_601,
        origin: (112.475, 35.025),
        cell_size_m: 1500.0,
        enclaves: 1,
        area_names: names(&[
            "南部片区（示范）",
            "中南片区（示范）",
            "中北片区（示范）",
            "北部片区（示范）",
        ]),
        village_names: names(&[
            "杨庄村",
            "前河村",
            "柳沟村",
            "王家庄村",
            "石门村",
            "桃园村",
            "东坡村",
            "西坡村",
            "槐树庄村",
            "枣林村",
            "马蹄沟村",
            "龙泉村",
            "青石村",
            "安乐村",
            "北寨村",
            "南寨村",
            "新庄村",
            "长岭村",
            "双河村",
            "后岭村",
            "小营村（飞地）",
        ]),
        ..TownConfig::new(
            CellCode::town("419001", 199)?,
            "承留示范镇（演示数据）",
            4,
            5,
        )
    };
    generate_town(&config)
}

/// Convert a metre offset from `origin` to lon/lat (local equirectangular; fine at town scale).
fn metres_to_lon_lat(origin: (f64, f64), x: f64, y: f64) -> (f64, f64) {
    let lat0 = origin.1.to_radians();
    (
        origin.0 + x / (111_320.0 * lat0.cos()),
        origin.1 + y / 110_574.0,
    )
}

/// A directed lattice edge: index into the edge table and whether it is walked forwards.
#[derive(Clone, Copy)]
struct Step {
    edge: usize,
    forward: bool,
}

struct Lattice {
    cols: usize,
    rows: usize,
    /// Vertex positions in metres.
    verts: Vec<(f64, f64)>,
    /// Points of each edge in lon/lat, forward direction, endpoints included.
    edges: Vec<Vec<Coord<f64>>>,
    /// (start vertex, end vertex) of each edge, forward direction.
    ends: Vec<(usize, usize)>,
}

impl Lattice {
    fn build(cols: usize, rows: usize, config: &TownConfig, rng: &mut SplitMix64) -> Self {
        let s = config.cell_size_m;
        let vid = |i: usize, j: usize| j * (cols + 1) + i;
        let mut verts = Vec::with_capacity((cols + 1) * (rows + 1));
        for j in 0..=rows {
            for i in 0..=cols {
                let (jx, jy) = (rng.symmetric() * JITTER * s, rng.symmetric() * JITTER * s);
                verts.push((i as f64 * s + jx, j as f64 * s + jy));
            }
        }
        let mut ends = Vec::new();
        for j in 0..=rows {
            for i in 0..cols {
                ends.push((vid(i, j), vid(i + 1, j)));
            }
        }
        for j in 0..rows {
            for i in 0..=cols {
                ends.push((vid(i, j), vid(i, j + 1)));
            }
        }
        let k = config.vertices_per_edge as usize;
        let edges = ends
            .iter()
            .map(|&(a, b)| {
                let ((ax, ay), (bx, by)) = (verts[a], verts[b]);
                let (dx, dy) = (bx - ax, by - ay);
                let mut pts = Vec::with_capacity(k + 2);
                for m in 0..k + 2 {
                    let t = m as f64 / (k + 1) as f64;
                    let off = if m == 0 || m == k + 1 {
                        0.0
                    } else {
                        rng.symmetric() * WIGGLE
                    };
                    // (−dy, dx) is perpendicular with the edge's length, so `off` is relative.
                    let (x, y) = (ax + t * dx - off * dy, ay + t * dy + off * dx);
                    let (lon, lat) = metres_to_lon_lat(config.origin, x, y);
                    pts.push(Coord { x: lon, y: lat });
                }
                pts
            })
            .collect();
        Self {
            cols,
            rows,
            verts,
            edges,
            ends,
        }
    }

    /// The four directed edges of cell (i, j), counter-clockwise.
    fn cell_steps(&self, i: usize, j: usize) -> [Step; 4] {
        let h = |i: usize, j: usize| j * self.cols + i;
        let v = |i: usize, j: usize| (self.rows + 1) * self.cols + j * (self.cols + 1) + i;
        [
            Step {
                edge: h(i, j),
                forward: true,
            },
            Step {
                edge: v(i + 1, j),
                forward: true,
            },
            Step {
                edge: h(i, j + 1),
                forward: false,
            },
            Step {
                edge: v(i, j),
                forward: false,
            },
        ]
    }

    fn endpoints(&self, step: Step) -> (usize, usize) {
        let (a, b) = self.ends[step.edge];
        if step.forward {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// Closed ring through a sequence of connected steps.
    fn ring(&self, steps: &[Step]) -> LineString<f64> {
        let mut pts = Vec::new();
        for step in steps {
            let edge = &self.edges[step.edge];
            let n = edge.len() - 1;
            if step.forward {
                pts.extend_from_slice(&edge[..n]);
            } else {
                pts.extend(edge[1..].iter().rev());
            }
        }
        if let Some(&first) = pts.first() {
            pts.push(first);
        }
        LineString(pts)
    }

    /// Outline of a simply connected set of cells, traced by cancelling shared edges.
    fn outline(&self, cells: &[(usize, usize)]) -> LineString<f64> {
        let mut directed: HashMap<usize, Step> = HashMap::new();
        for &(i, j) in cells {
            for step in self.cell_steps(i, j) {
                // An edge seen from both sides is interior: drop it.
                if directed.remove(&step.edge).is_none() {
                    directed.insert(step.edge, step);
                }
            }
        }
        let by_start: HashMap<usize, Step> = directed
            .values()
            .map(|&s| (self.endpoints(s).0, s))
            .collect();
        let Some(start) = by_start.keys().min().copied() else {
            return LineString(Vec::new());
        };
        let mut steps = Vec::with_capacity(by_start.len());
        let mut at = start;
        while let Some(&step) = by_start.get(&at) {
            steps.push(step);
            at = self.endpoints(step).1;
            if at == start || steps.len() > by_start.len() {
                break;
            }
        }
        self.ring(&steps)
    }

    /// Centre of cell (i, j) in metres.
    fn centre(&self, i: usize, j: usize) -> (f64, f64) {
        let vid = |i: usize, j: usize| j * (self.cols + 1) + i;
        let corners = [vid(i, j), vid(i + 1, j), vid(i, j + 1), vid(i + 1, j + 1)];
        let (sx, sy) = corners.iter().fold((0.0, 0.0), |(x, y), &c| {
            (x + self.verts[c].0, y + self.verts[c].1)
        });
        (sx / 4.0, sy / 4.0)
    }
}

/// Build the cells of one town (unvalidated).
fn town_cells(config: &TownConfig) -> Result<Vec<Cell>, GenerateError> {
    if !(1..=99).contains(&config.areas) {
        return Err(GenerateError::Areas(config.areas));
    }
    if config.villages_per_area == 0 {
        return Err(GenerateError::NoVillages);
    }
    if !(config.cell_size_m > 0.0 && config.cell_size_m.is_finite()) {
        return Err(GenerateError::CellSize);
    }
    let lattice_cells = config.areas * config.villages_per_area;
    let total = lattice_cells + config.enclaves.min(lattice_cells);
    if total > MAX_VILLAGES_PER_TOWN {
        return Err(GenerateError::TooManyVillages(total));
    }
    let n = lattice_cells as usize;
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let mut rng = SplitMix64::new(config.seed);
    let lattice = Lattice::build(cols, rows, config, &mut rng);
    // Serpentine order keeps every run of consecutive cells connected.
    let order: Vec<(usize, usize)> = (0..n)
        .map(|t| {
            let (j, i) = (t / cols, t % cols);
            (if j % 2 == 0 { i } else { cols - 1 - i }, j)
        })
        .collect();

    let town = config.town;
    let village_code = |idx: u32| -> Result<CellCode, CodeError> {
        if total <= 200 {
            CellCode::village(town, 200 + idx as u16, None)
        } else {
            CellCode::village(town, 200 + (idx / 99) as u16, Some(1 + (idx % 99) as u8))
        }
    };
    let mut used_names = HashSet::new();
    let mut name_for = |idx: usize, rng: &mut SplitMix64| -> String {
        if let Some(name) = config.village_names.get(idx) {
            return name.clone();
        }
        for _ in 0..20 {
            let name = village_name(rng);
            if used_names.insert(name.clone()) {
                return name;
            }
        }
        format!(
            "{}{}村",
            village_name(rng).trim_end_matches('村'),
            numeral((idx % 99) as u32 + 1)
        )
    };

    let mut cells = vec![Cell {
        code: town,
        name: config.name.clone(),
        level: CellLevel::Town,
        parent: None,
        geometry: MultiPolygon(vec![Polygon::new(lattice.outline(&order), Vec::new())]),
    }];
    let enclaves = config.enclaves.min(lattice_cells) as usize;
    let hosts: HashMap<usize, usize> = (0..enclaves)
        .map(|e| ((e + 1) * n / (enclaves + 1), e))
        .collect();
    let vpa = config.villages_per_area as usize;
    for a in 0..config.areas as usize {
        let area = CellCode::area(town, (a + 1) as u8)?;
        let members = &order[a * vpa..(a + 1) * vpa];
        cells.push(Cell {
            code: area,
            name: config
                .area_names
                .get(a)
                .cloned()
                .unwrap_or_else(|| format!("第{}片区", numeral(a as u32 + 1))),
            level: CellLevel::Area,
            parent: Some(town),
            geometry: MultiPolygon(vec![Polygon::new(lattice.outline(members), Vec::new())]),
        });
        for (offset, &(i, j)) in members.iter().enumerate() {
            let t = a * vpa + offset;
            let exterior = lattice.ring(&lattice.cell_steps(i, j));
            let mut holes = Vec::new();
            if let Some(&e) = hosts.get(&t) {
                let hole = enclave_ring(&lattice, config, i, j, &mut rng);
                holes.push(hole.clone());
                cells.push(Cell {
                    code: village_code(lattice_cells + e as u32)?,
                    name: name_for(n + e, &mut rng),
                    level: CellLevel::Village,
                    parent: Some(area),
                    geometry: MultiPolygon(vec![Polygon::new(hole, Vec::new())]),
                });
            }
            cells.push(Cell {
                code: village_code(t as u32)?,
                name: name_for(t, &mut rng),
                level: CellLevel::Village,
                parent: Some(area),
                geometry: MultiPolygon(vec![Polygon::new(exterior, holes)]),
            });
        }
    }
    Ok(cells)
}

/// A jittered octagon well inside cell (i, j): the hole of the host and the enclave's boundary.
fn enclave_ring(
    lattice: &Lattice,
    config: &TownConfig,
    i: usize,
    j: usize,
    rng: &mut SplitMix64,
) -> LineString<f64> {
    let (cx, cy) = lattice.centre(i, j);
    let mut pts: Vec<Coord<f64>> = (0..8)
        .map(|k| {
            let angle = f64::from(k) * std::f64::consts::FRAC_PI_4;
            let r = config.cell_size_m * 0.12 * (1.0 + 0.2 * rng.symmetric());
            let (lon, lat) =
                metres_to_lon_lat(config.origin, cx + r * angle.cos(), cy + r * angle.sin());
            Coord { x: lon, y: lat }
        })
        .collect();
    if let Some(&first) = pts.first() {
        pts.push(first);
    }
    LineString(pts)
}
