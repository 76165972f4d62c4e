//! Tiling checks within one family (a parent and its direct children): children inside the
//! parent, siblings not overlapping, children covering the parent.
//!
//! Set operations use i_overlay (through geo's `BooleanOps` for pairs, directly for the gap
//! check); areas are geodesic (WGS-84 ellipsoid), so reported m² are accurate far better than 1 %.

use geo::{
    BooleanOps, BoundingRect, Coord, Geodesic, GeodesicArea, InteriorPoint, Length, LineString,
    MultiPolygon, Polygon,
};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::float::overlay::FloatOverlay;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, RTreeObject};

use crate::problem::{Problem, ProblemKind};
use crate::validate::ValidationOptions;

/// A feature taking part in a family check.
pub(crate) struct Member<'a> {
    pub index: usize,
    pub code: &'a str,
    pub geometry: &'a MultiPolygon<f64>,
}

/// Geodesic area of a geometry in m².
pub fn area_m2(geometry: &MultiPolygon<f64>) -> f64 {
    geometry.0.iter().map(polygon_area_m2).sum()
}

/// Surface of the WGS-84 ellipsoid in m² (what geographiclib returns for an inside-out ring).
const EARTH_AREA_M2: f64 = 510_065_621_724_088.4;

/// Geodesic area of one polygon in m² (exterior minus holes).
fn polygon_area_m2(polygon: &Polygon<f64>) -> f64 {
    let holes: f64 = polygon.interiors().iter().map(ring_area_m2).sum();
    (ring_area_m2(polygon.exterior()) - holes).max(0.0)
}

/// Geodesic area enclosed by one ring, whatever its orientation.
///
/// geographiclib measures the area *left* of a ring, so a clockwise (or degenerate) ring yields
/// the whole Earth minus it; boolean-op output has arbitrary orientation, so fold that back.
fn ring_area_m2(ring: &LineString<f64>) -> f64 {
    let a = Polygon::new(ring.clone(), Vec::new()).geodesic_area_unsigned();
    a.min(EARTH_AREA_M2 - a).max(0.0)
}

/// Mean width below which a boolean-op output part is numeric noise, in metres, whatever the
/// coordinate precision of the input.
///
/// i_overlay snaps to an integer grid, so edges that are shared but not bit-identical (real data)
/// can leave slivers a few micrometres wide (area ~0.01 m² along a 1 km edge). Judging by width
/// (2·area / perimeter) rather than area keeps the filter independent of edge length; real gaps
/// are far wider.
const NOISE_WIDTH_M: f64 = 1e-3;

/// Metres per degree of latitude (an upper bound for a degree of longitude too).
const METRES_PER_DEGREE: f64 = 111_320.0;

/// Most decimals a coordinate is taken to carry; beyond that an f64 near lon 180 has no digits
/// left, and the quantum (0.1 µm) is far below [`NOISE_WIDTH_M`] anyway.
const MAX_DECIMALS: u8 = 12;

/// Fewest decimals taken as the precision of a file: coordinates with fewer are round numbers
/// (a hand-drawn rectangle at `112.01`), not a rounding of something finer, and a 7th-decimal
/// gap (1.1 cm) between them is no noise.
const MIN_DECIMALS: u8 = 6;

/// How many decimals `x` was written with (0–12): the smallest `d` with `x·10^d` an integer.
pub(crate) fn decimals_of(x: f64) -> u8 {
    let mut scale = 1.0;
    for d in 0..MAX_DECIMALS {
        let s = x * scale;
        // Slack for the rounding of the multiplication itself (a few ulps of `s`).
        if (s - s.round()).abs() <= (s.abs() * 8.0 * f64::EPSILON).max(1e-9) {
            return d;
        }
        scale *= 10.0;
    }
    MAX_DECIMALS
}

/// Decimals of the least precise coordinate needed to write every coordinate of the iterator.
pub(crate) fn decimals_of_coords(coords: impl Iterator<Item = (f64, f64)>) -> u8 {
    let mut most = 0;
    for (x, y) in coords {
        if most == MAX_DECIMALS {
            break;
        }
        most = most.max(decimals_of(x)).max(decimals_of(y));
    }
    most
}

/// Width under which an overlay part is noise for coordinates written with `decimals` decimals.
///
/// Rounding moves each vertex by up to half a quantum (10^−decimals degrees) in each axis, so
/// two roundings of one shared edge lie up to √2 quanta apart: parts thinner than 1.5 quanta
/// (about 17 cm at 6 decimals, 1.7 mm at 8, never more than at 6) are where two outlines meant the same line.
pub(crate) fn noise_width_m(decimals: u8) -> f64 {
    let decimals = decimals.clamp(MIN_DECIMALS, MAX_DECIMALS);
    let quantum_m = 10f64.powi(-i32::from(decimals)) * METRES_PER_DEGREE;
    (1.5 * quantum_m).max(NOISE_WIDTH_M)
}

/// Area of a boolean-op output polygon in m², or 0 when it is a numeric sliver.
fn significant_area_m2(polygon: &Polygon<f64>, noise_width_m: f64) -> f64 {
    let area = polygon_area_m2(polygon);
    let perimeter: f64 = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|r| r.length::<Geodesic>())
        .sum();
    if perimeter > 0.0 && 2.0 * area / perimeter < noise_width_m {
        0.0
    } else {
        area
    }
}

/// A point inside the polygon, for locating a problem on the map.
fn inside_point(p: &Polygon<f64>) -> Option<(f64, f64)> {
    p.interior_point().map(|pt| (pt.x(), pt.y()))
}

/// Run all family checks, appending problems. `complete` is false when some child was left out
/// (broken geometry), in which case gaps are not computed: they would only echo that child.
///
/// `decimals` is the precision the family's coordinates were written with (the least precise
/// member's): parts of an overlay thinner than its rounding noise are not gaps or overlaps.
pub(crate) fn check_family(
    parent: &Member<'_>,
    children: &[Member<'_>],
    complete: bool,
    decimals: u8,
    options: &ValidationOptions,
    out: &mut Vec<Problem>,
) {
    let noise = noise_width_m(decimals);
    for child in children {
        let outside = child.geometry.difference(parent.geometry);
        let parts: Vec<(f64, &Polygon<f64>)> = outside
            .0
            .iter()
            .map(|p| (significant_area_m2(p, noise), p))
            .collect();
        let total: f64 = parts.iter().map(|(a, _)| a).sum();
        if total > options.overlap_threshold() {
            let mut p = Problem::new(
                ProblemKind::OutsideParent,
                format!(
                    "有 {total:.1} m² 超出上级 {} 的范围 / {total:.1} m² lies outside parent",
                    parent.code
                ),
            )
            .feature(child.index, Some(child.code))
            .area(total)
            .related(parent.code);
            let largest = parts.iter().max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((x, y)) = largest.and_then(|(_, poly)| inside_point(poly)) {
                p = p.at(x, y);
            }
            out.push(p);
        }
    }

    let boxes: Vec<_> = children
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let r = c.geometry.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes.clone());
    for b in &boxes {
        let i = b.data;
        for other in tree.locate_in_envelope_intersecting(&b.geom().envelope()) {
            let j = other.data;
            if j <= i {
                continue;
            }
            let (a, c) = (&children[i], &children[j]);
            let overlap = a.geometry.intersection(c.geometry);
            let area: f64 = overlap
                .0
                .iter()
                .map(|p| significant_area_m2(p, noise))
                .sum();
            if area > options.overlap_threshold() {
                let mut p = Problem::new(
                    ProblemKind::SiblingOverlap,
                    format!(
                        "与 {} 重叠 {area:.1} m² / overlaps sibling by {area:.1} m²",
                        c.code
                    ),
                )
                .feature(a.index, Some(a.code))
                .area(area)
                .related(c.code);
                if let Some((x, y)) = overlap.0.first().and_then(inside_point) {
                    p = p.at(x, y);
                }
                out.push(p);
            }
        }
    }

    if complete {
        let gaps = uncovered(parent.geometry, children);
        for gap in &gaps.0 {
            let area = significant_area_m2(gap, noise);
            if area > options.gap_threshold() {
                let mut p = Problem::new(
                    ProblemKind::Gap,
                    format!(
                        "有 {area:.1} m² 未被任何下级覆盖（缝隙）/ gap of {area:.1} m² not covered by any child"
                    ),
                )
                .feature(parent.index, Some(parent.code))
                .area(area);
                if let Some((x, y)) = inside_point(gap) {
                    p = p.at(x, y);
                }
                out.push(p);
            }
        }
    }
}

/// The parts of `parent` that no child covers, computed in **one** overlay.
///
/// Unioning the children pairwise first (as this check once did) snaps every intermediate result
/// to a different integer grid, so two halves of a family no longer share bit-identical edges;
/// i_overlay 1.9 then occasionally drops a whole triangle between such near-coincident edges
/// from the union, and the check reported gaps of thousands of m² inside perfectly tiled areas.
/// A single overlay snaps all rings to one grid, so shared edges stay shared. Rings are oriented
/// (exteriors counter-clockwise, holes clockwise) for the non-zero fill rule, which counts a
/// point covered by several (overlapping) children as covered, not as a gap.
fn uncovered(parent: &MultiPolygon<f64>, children: &[Member<'_>]) -> MultiPolygon<f64> {
    let subject = contours(std::slice::from_ref(parent).iter());
    let clip = contours(children.iter().map(|c| c.geometry));
    if subject.is_empty() {
        return MultiPolygon(Vec::new());
    }
    let shapes = FloatOverlay::with_subj_and_clip(subject.as_slice(), clip.as_slice())
        .overlay(OverlayRule::Difference, FillRule::NonZero);
    MultiPolygon(
        shapes
            .into_iter()
            .map(|shape| {
                let mut rings = shape.into_iter().map(closed_ring);
                let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
                Polygon::new(exterior, rings.collect())
            })
            .collect(),
    )
}

/// Every ring of `geometries` as an open i_overlay contour, exteriors counter-clockwise and
/// holes clockwise.
fn contours<'a>(geometries: impl Iterator<Item = &'a MultiPolygon<f64>>) -> Vec<Vec<[f64; 2]>> {
    let mut out = Vec::new();
    for polygon in geometries.flat_map(|g| &g.0) {
        out.extend(open_contour(polygon.exterior(), true));
        for hole in polygon.interiors() {
            out.extend(open_contour(hole, false));
        }
    }
    out
}

/// A ring without its closing point, turned to the wanted orientation; `None` when degenerate.
fn open_contour(ring: &LineString<f64>, counter_clockwise: bool) -> Option<Vec<[f64; 2]>> {
    let pts = match ring.0.split_last() {
        Some((last, rest)) if rest.first() == Some(last) => rest,
        _ => &ring.0[..],
    };
    if pts.len() < 3 {
        return None;
    }
    let mut contour: Vec<[f64; 2]> = pts.iter().map(|c| [c.x, c.y]).collect();
    // Shoelace sum relative to the first point (better conditioned at lon ≈ 110°; the closing
    // segment back to that point contributes nothing, so `windows` suffices).
    let [x0, y0] = contour[0];
    let twice_area: f64 = contour
        .windows(2)
        .map(|w| (w[0][0] - x0) * (w[1][1] - y0) - (w[1][0] - x0) * (w[0][1] - y0))
        .sum();
    if (twice_area > 0.0) != counter_clockwise {
        contour.reverse();
    }
    Some(contour)
}

/// An i_overlay output contour as a closed ring.
fn closed_ring(mut contour: Vec<[f64; 2]>) -> LineString<f64> {
    if let Some(&first) = contour.first() {
        contour.push(first);
    }
    LineString(contour.into_iter().map(|[x, y]| Coord { x, y }).collect())
}
