//! Per-ring checks: coordinates, point count, self-intersection, holes inside their shell.

use geo::algorithm::coordinate_position::{coord_pos_relative_to_ring, CoordPos};
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{Coord, Line, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::problem::{Problem, ProblemKind};

/// Above this many segments the pairwise self-intersection test goes through an R-tree.
const BRUTE_FORCE_SEGMENTS: usize = 64;

/// True when a coordinate is a finite lon/lat in range.
pub(crate) fn valid_lon_lat(x: f64, y: f64) -> bool {
    x.is_finite() && y.is_finite() && (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)
}

/// Check every ring of a geometry, appending problems tagged with the feature.
pub(crate) fn check_geometry(
    geometry: &MultiPolygon<f64>,
    index: usize,
    code: Option<&str>,
    out: &mut Vec<Problem>,
) {
    let tag = |p: Problem| p.feature(index, code);
    if geometry.0.is_empty() {
        out.push(tag(Problem::new(
            ProblemKind::TooFewPoints,
            "几何为空（没有多边形）/ geometry has no polygon",
        )));
    }
    for polygon in &geometry.0 {
        let exterior_ok = check_ring(&polygon.exterior().0, "外环 exterior", &tag, out);
        for hole in polygon.interiors() {
            let hole_ok = check_ring(&hole.0, "内环 hole", &tag, out);
            if exterior_ok && hole_ok {
                if let Some(c) = hole.0.iter().find(|c| {
                    coord_pos_relative_to_ring(**c, polygon.exterior()) == CoordPos::Outside
                }) {
                    out.push(tag(Problem::new(
                        ProblemKind::HoleOutsideShell,
                        "内环（洞）超出外环 / a hole lies outside its polygon's exterior ring",
                    )
                    .at(c.x, c.y)));
                }
            }
        }
    }
}

/// Check one ring; returns whether it is usable.
fn check_ring(
    ring: &[Coord<f64>],
    which: &str,
    tag: &impl Fn(Problem) -> Problem,
    out: &mut Vec<Problem>,
) -> bool {
    let before = out.len();
    for c in ring.iter().filter(|c| !valid_lon_lat(c.x, c.y)) {
        let mut p = Problem::new(
            ProblemKind::InvalidCoordinate,
            format!(
                "{which}坐标无效（{}, {}）：须为有限数且经度 −180…180、纬度 −90…90 / coordinate is NaN or out of range",
                c.x, c.y
            ),
        );
        if c.x.is_finite() && c.y.is_finite() {
            p = p.at(c.x, c.y);
        }
        out.push(tag(p));
    }
    if out.len() > before {
        return false;
    }
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    for c in ring {
        if pts.last() != Some(c) {
            pts.push(*c);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        let mut p = Problem::new(
            ProblemKind::TooFewPoints,
            format!(
                "{which}只有 {} 个不同的点（至少 3 个）/ ring needs at least 3 distinct points",
                pts.len()
            ),
        );
        if let Some(c) = pts.first() {
            p = p.at(c.x, c.y);
        }
        out.push(tag(p));
        return false;
    }
    let crossings = self_intersections(&pts);
    for c in &crossings {
        out.push(tag(Problem::new(
            ProblemKind::SelfIntersection,
            format!(
                "{which}自相交于（{:.7}, {:.7}）/ ring intersects itself",
                c.x, c.y
            ),
        )
        .at(c.x, c.y)));
    }
    crossings.is_empty()
}

/// Points where a closed ring (given without its closing point) touches or crosses itself.
pub(crate) fn self_intersections(pts: &[Coord<f64>]) -> Vec<Coord<f64>> {
    let n = pts.len();
    let segs: Vec<Line<f64>> = (0..n)
        .map(|i| Line::new(pts[i], pts[(i + 1) % n]))
        .collect();
    let mut found = Vec::new();
    let mut test = |i: usize, j: usize| {
        let (i, j) = if i < j { (i, j) } else { (j, i) };
        if i == j {
            return;
        }
        let Some(hit) = line_intersection(segs[i], segs[j]) else {
            return;
        };
        let shared = if j == i + 1 {
            Some(segs[i].end)
        } else if i == 0 && j == n - 1 {
            Some(segs[0].start)
        } else {
            None
        };
        match (hit, shared) {
            // Consecutive segments meeting only at their common vertex: the normal case.
            (LineIntersection::SinglePoint { intersection, .. }, Some(v)) if intersection == v => {}
            (LineIntersection::SinglePoint { intersection, .. }, _) => found.push(intersection),
            // Collinear overlap: a spike back along the previous segment, or a doubled edge.
            (LineIntersection::Collinear { intersection }, _) => found.push(intersection.start),
        }
    };
    if n <= BRUTE_FORCE_SEGMENTS {
        for i in 0..n {
            for j in i + 1..n {
                test(i, j);
            }
        }
    } else {
        let envelope =
            |l: &Line<f64>| Rectangle::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]);
        let tree = RTree::bulk_load(
            segs.iter()
                .enumerate()
                .map(|(i, l)| GeomWithData::new(envelope(l), i))
                .collect(),
        );
        for (i, l) in segs.iter().enumerate() {
            let aabb = AABB::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]);
            for other in tree.locate_in_envelope_intersecting(&aabb) {
                if other.data > i {
                    test(i, other.data);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    fn square(n_per_side: usize) -> Vec<Coord<f64>> {
        let mut pts = Vec::new();
        let k = n_per_side as f64;
        for i in 0..n_per_side {
            pts.push(coord! { x: i as f64 / k, y: 0.0 });
        }
        for i in 0..n_per_side {
            pts.push(coord! { x: 1.0, y: i as f64 / k });
        }
        for i in 0..n_per_side {
            pts.push(coord! { x: 1.0 - i as f64 / k, y: 1.0 });
        }
        for i in 0..n_per_side {
            pts.push(coord! { x: 0.0, y: 1.0 - i as f64 / k });
        }
        pts
    }

    #[test]
    fn simple_rings_have_no_self_intersection_small_and_large() {
        assert!(self_intersections(&square(2)).is_empty());
        assert!(self_intersections(&square(50)).is_empty());
    }

    #[test]
    fn bow_tie_is_found_by_both_strategies() {
        let bow = vec![
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
            coord! { x: 1.0, y: 0.0 },
            coord! { x: 0.0, y: 1.0 },
        ];
        assert_eq!(self_intersections(&bow), vec![coord! { x: 0.5, y: 0.5 }]);
        let mut big = square(50);
        big.swap(10, 110);
        assert!(!self_intersections(&big).is_empty());
    }

    #[test]
    fn spike_back_along_previous_edge_is_a_self_intersection() {
        let spike = vec![
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 2.0, y: 0.0 },
            coord! { x: 1.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
        ];
        assert!(!self_intersections(&spike).is_empty());
    }
}
