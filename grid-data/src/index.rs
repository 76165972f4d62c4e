//! Point → cell lookup: an R-tree over village bounding boxes, then an exact point-in-polygon.
//!
//! **Border rule**: a point belongs to every cell whose *closure* (interior + boundary) contains
//! it; when several villages qualify (the point is on a shared edge or vertex) the village with
//! the lowest code wins. The area and town are always that village's parents, so the three
//! levels of one answer are consistent. Points in a hole belong to whatever cell fills the hole.
//!
//! The exact test is geo's winding-number ring algorithm with robust orientation
//! predicates, so "on the border" is decided exactly, not within an epsilon.

use std::sync::Arc;

use arc_swap::ArcSwap;
use geo::algorithm::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RStarInsertionStrategy, RTree, RTreeParams};
use serde::Serialize;

use crate::code::CellCode;
use crate::model::{CellLevel, Grid};
use crate::rings::valid_lon_lat;

/// Metres per degree of latitude (mean), for the local distance approximation.
const METRES_PER_DEGREE: f64 = 111_195.0;

/// R-tree node fan-out 16 instead of rstar's 6: a shallower tree means fewer cache misses per
/// lookup at 100k villages (the tree is bulk-loaded once and never edited).
struct WideNodes;

impl RTreeParams for WideNodes {
    const MIN_SIZE: usize = 6;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// Why an index could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// No village cells in the input.
    #[error("没有村级网格，无法建立索引 / no village cells to index")]
    NoVillages,
    /// Two grids share a cell code.
    #[error("多个网格中存在重复编码 {0} / code {0} appears in more than one grid")]
    DuplicateCode(CellCode),
}

/// The cells containing a point, one per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Located {
    /// The village cell (lowest code on shared borders).
    pub village: CellCode,
    /// The village's area.
    pub area: CellCode,
    /// The village's town.
    pub town: CellCode,
}

/// Result of a point lookup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Lookup {
    /// The point is in the grid.
    Located(Located),
    /// The point is outside every village; the nearest one and how far (approximate, see
    /// [`GridIndex::locate`]).
    OutsideGrid {
        /// Nearest village.
        nearest: CellCode,
        /// Distance to its boundary in metres.
        distance_m: f64,
    },
    /// The coordinate is NaN/infinite or out of lon/lat range.
    InvalidPoint,
}

struct Village {
    code: CellCode,
    area: u32,
    town: u32,
    /// Range into `GridIndex::rings`: each polygon's exterior followed by its holes.
    rings: (u32, u32),
}

/// One ring as a range into `GridIndex::coords` (closed: last coord repeats the first).
struct Ring {
    start: u32,
    end: u32,
    hole: bool,
}

/// Immutable spatial index over one or more validated grids; `Send + Sync`, share it in an `Arc`.
///
/// Vertices of all villages live in one flat array (rings are ranges into it) instead of geo's
/// nested `Vec`s: at 100k villages a lookup is dominated by cache misses, and one indirection
/// instead of three is what brings it under a microsecond.
pub struct GridIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>, WideNodes>,
    villages: Vec<Village>,
    rings: Vec<Ring>,
    coords: Vec<Coord<f64>>,
    parents: Vec<CellCode>,
}

impl std::fmt::Debug for GridIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridIndex")
            .field("villages", &self.villages.len())
            .finish()
    }
}

impl GridIndex {
    /// Index one grid.
    pub fn new(grid: &Grid) -> Result<Self, IndexError> {
        Self::from_grids(std::iter::once(grid))
    }

    /// Index several grids (e.g. every town of a county); their codes must be distinct.
    ///
    /// Grids are validated one by one, so overlap *between* towns is not checked here.
    pub fn from_grids<'a>(grids: impl IntoIterator<Item = &'a Grid>) -> Result<Self, IndexError> {
        let mut villages = Vec::new();
        let mut parents: Vec<CellCode> = Vec::new();
        let mut parent_slot = std::collections::HashMap::new();
        let mut slot = |code: CellCode, parents: &mut Vec<CellCode>| -> Result<u32, IndexError> {
            if let Some(&i) = parent_slot.get(&code) {
                return Ok(i);
            }
            // u32 holds any realistic number of areas+towns (a country has ~40k townships).
            let i = u32::try_from(parents.len()).unwrap_or(u32::MAX);
            parents.push(code);
            parent_slot.insert(code, i);
            Ok(i)
        };
        let mut seen = std::collections::HashSet::new();
        let mut rings: Vec<Ring> = Vec::new();
        let mut coords: Vec<Coord<f64>> = Vec::new();
        let mut boxes = Vec::new();
        // u32 offsets: 4 billion vertices is far beyond any province (100k villages ≈ 2M).
        let offset = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        for grid in grids {
            let town = grid.town().code;
            if !seen.insert(town) {
                return Err(IndexError::DuplicateCode(town));
            }
            let town_slot = slot(town, &mut parents)?;
            for cell in grid.level(CellLevel::Village) {
                if !seen.insert(cell.code) {
                    return Err(IndexError::DuplicateCode(cell.code));
                }
                // Validated grids give every village an area parent.
                let Some(area) = cell.parent else { continue };
                let area_slot = slot(area, &mut parents)?;
                let Some(r) = cell.geometry.bounding_rect() else {
                    continue;
                };
                let first_ring = offset(rings.len());
                for polygon in &cell.geometry.0 {
                    let all = std::iter::once(polygon.exterior()).chain(polygon.interiors());
                    for (k, ring) in all.enumerate() {
                        let start = offset(coords.len());
                        coords.extend_from_slice(&ring.0);
                        rings.push(Ring {
                            start,
                            end: offset(coords.len()),
                            hole: k > 0,
                        });
                    }
                }
                boxes.push(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    offset(villages.len()),
                ));
                villages.push(Village {
                    code: cell.code,
                    area: area_slot,
                    town: town_slot,
                    rings: (first_ring, offset(rings.len())),
                });
            }
        }
        if villages.is_empty() {
            return Err(IndexError::NoVillages);
        }
        Ok(Self {
            tree: RTree::bulk_load_with_params(boxes),
            villages,
            rings,
            coords,
            parents,
        })
    }

    /// Number of village cells indexed.
    pub fn village_count(&self) -> usize {
        self.villages.len()
    }

    /// Find the cells containing a WGS-84 point (see the module doc for the border rule).
    ///
    /// Outside the grid, `distance_m` uses a local equirectangular projection at the query's
    /// latitude: within ~0.5 % for distances up to ~100 km, which is what "how far outside" needs.
    pub fn locate(&self, lon: f64, lat: f64) -> Lookup {
        if !valid_lon_lat(lon, lat) {
            return Lookup::InvalidPoint;
        }
        match self.locate_inside(lon, lat) {
            Some(found) => Lookup::Located(found),
            None => self.nearest(lon, lat),
        }
    }

    /// Like [`GridIndex::locate`] but only answers points inside the grid (the hot path).
    pub fn locate_inside(&self, lon: f64, lat: f64) -> Option<Located> {
        let point = Coord { x: lon, y: lat };
        let mut on_border: Option<u32> = None;
        for hit in self.tree.locate_all_at_point(&[lon, lat]) {
            let village = &self.villages[hit.data as usize];
            match self.position(village, point) {
                CoordPos::Inside => return Some(self.located(hit.data)),
                CoordPos::OnBoundary => {
                    let lower =
                        on_border.is_none_or(|b| village.code < self.villages[b as usize].code);
                    if lower {
                        on_border = Some(hit.data);
                    }
                }
                CoordPos::Outside => {}
            }
        }
        on_border.map(|i| self.located(i))
    }

    fn located(&self, i: u32) -> Located {
        let v = &self.villages[i as usize];
        Located {
            village: v.code,
            area: self.parents[v.area as usize],
            town: self.parents[v.town as usize],
        }
    }

    fn nearest(&self, lon: f64, lat: f64) -> Lookup {
        let cos_lat = lat.to_radians().cos().max(0.0);
        let mut best: Option<(f64, u32)> = None;
        for (hit, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&[lon, lat]) {
            // Lower bound of the metric distance to anything in this box (cos ≤ 1 shrinks only x).
            let bound = d2.sqrt() * METRES_PER_DEGREE * cos_lat;
            if best.is_some_and(|(d, _)| bound > d) {
                break;
            }
            let v = &self.villages[hit.data as usize];
            let d = self.distance_m(v, lon, lat, cos_lat);
            let better = best.is_none_or(|(bd, bi)| {
                d < bd || (d == bd && v.code < self.villages[bi as usize].code)
            });
            if better {
                best = Some((d, hit.data));
            }
        }
        match best {
            Some((distance_m, i)) => Lookup::OutsideGrid {
                nearest: self.villages[i as usize].code,
                distance_m,
            },
            // `from_grids` refuses empty input, so the tree always has a nearest entry.
            None => Lookup::InvalidPoint,
        }
    }

    /// Approximate heap bytes held by the index (geometry, entries and tree nodes).
    pub fn approx_heap_bytes(&self) -> usize {
        self.coords.capacity() * std::mem::size_of::<Coord<f64>>()
            + self.rings.capacity() * std::mem::size_of::<Ring>()
            + self.villages.capacity() * std::mem::size_of::<Village>()
            + self.parents.capacity() * std::mem::size_of::<CellCode>()
            // R-tree leaves plus ~1/4 for internal nodes.
            + self.tree.size() * std::mem::size_of::<GeomWithData<Rectangle<[f64; 2]>, u32>>() * 5 / 4
    }

    fn ring(&self, ring: &Ring) -> &[Coord<f64>] {
        &self.coords[ring.start as usize..ring.end as usize]
    }

    fn village_rings(&self, v: &Village) -> &[Ring] {
        &self.rings[v.rings.0 as usize..v.rings.1 as usize]
    }

    /// Position of a point relative to a village's closure (any polygon; holes excluded).
    fn position(&self, v: &Village, point: Coord<f64>) -> CoordPos {
        let rings = self.village_rings(v);
        let mut result = CoordPos::Outside;
        let mut i = 0;
        while i < rings.len() {
            let mut j = i + 1;
            while j < rings.len() && rings[j].hole {
                j += 1;
            }
            let pos = match ring_position(self.ring(&rings[i]), point) {
                CoordPos::Inside => rings[i + 1..j]
                    .iter()
                    .map(|hole| ring_position(self.ring(hole), point))
                    .find(|p| *p != CoordPos::Outside)
                    .map_or(CoordPos::Inside, |p| match p {
                        CoordPos::Inside => CoordPos::Outside,
                        other => other,
                    }),
                other => other,
            };
            match pos {
                CoordPos::Inside => return CoordPos::Inside,
                CoordPos::OnBoundary => result = CoordPos::OnBoundary,
                CoordPos::Outside => {}
            }
            i = j;
        }
        result
    }

    /// Distance in metres from a point to a village's nearest ring segment (local projection).
    fn distance_m(&self, v: &Village, lon: f64, lat: f64, cos_lat: f64) -> f64 {
        let project = |c: &Coord<f64>| {
            (
                (c.x - lon) * cos_lat * METRES_PER_DEGREE,
                (c.y - lat) * METRES_PER_DEGREE,
            )
        };
        let mut best = f64::INFINITY;
        for ring in self.village_rings(v) {
            for pair in self.ring(ring).windows(2) {
                let (ax, ay) = project(&pair[0]);
                let (bx, by) = project(&pair[1]);
                let (dx, dy) = (bx - ax, by - ay);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 {
                    (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (px, py) = (ax + t * dx, ay + t * dy);
                best = best.min((px * px + py * py).sqrt());
            }
        }
        best
    }
}

/// Winding-number position of a point relative to a closed ring.
///
/// Hand-written copy of geo's `coord_pos_relative_to_ring` (same rules, same robust predicate, so
/// borders are decided identically and exactly) working on a slice of the flat coordinate array,
/// which geo's `&LineString` signature does not allow.
fn ring_position(ring: &[Coord<f64>], p: Coord<f64>) -> CoordPos {
    let mut winding = 0i32;
    for pair in ring.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.y <= p.y {
            if b.y >= p.y {
                let o = RobustKernel::orient2d(a, b, p);
                if o == Orientation::CounterClockwise && b.y != p.y {
                    winding += 1;
                } else if o == Orientation::Collinear && between(p.x, a.x, b.x) {
                    return CoordPos::OnBoundary;
                }
            }
        } else if b.y <= p.y {
            let o = RobustKernel::orient2d(a, b, p);
            if o == Orientation::Clockwise {
                winding -= 1;
            } else if o == Orientation::Collinear && between(p.x, a.x, b.x) {
                return CoordPos::OnBoundary;
            }
        }
    }
    if winding == 0 {
        CoordPos::Outside
    } else {
        CoordPos::Inside
    }
}

fn between(x: f64, a: f64, b: f64) -> bool {
    (a <= x && x <= b) || (b <= x && x <= a)
}

/// An index that can be replaced while readers keep using the old one (lock-free reads).
///
/// The server holds one of these; a grid import builds a new [`GridIndex`] off to the side and
/// calls [`SharedIndex::replace`]; lookups in flight finish on the old index.
pub struct SharedIndex {
    current: ArcSwap<GridIndex>,
}

impl SharedIndex {
    /// Start with an index.
    pub fn new(index: GridIndex) -> Self {
        Self {
            current: ArcSwap::from_pointee(index),
        }
    }

    /// The current index, kept alive for as long as the caller holds it.
    pub fn current(&self) -> Arc<GridIndex> {
        self.current.load_full()
    }

    /// Swap in a new index atomically; returns the previous one.
    pub fn replace(&self, index: GridIndex) -> Arc<GridIndex> {
        self.current.swap(Arc::new(index))
    }

    /// Look a point up in the current index without taking a lock.
    pub fn locate(&self, lon: f64, lat: f64) -> Lookup {
        self.current.load().locate(lon, lat)
    }
}

impl std::fmt::Debug for SharedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedIndex")
            .field("current", &*self.current.load())
            .finish()
    }
}
