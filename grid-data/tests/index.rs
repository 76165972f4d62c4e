//! The index agrees with a brute-force closure test over every village, at all three levels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use geo::{BoundingRect, Coord, Distance, Haversine, Intersects, Point};
use grid_data::{
    demo_town, generate_town, CellCode, CellLevel, Grid, GridIndex, Located, Lookup, SharedIndex,
    TownConfig,
};
use proptest::prelude::*;
use std::sync::OnceLock;

fn enclave_town() -> &'static Grid {
    static GRID: OnceLock<Grid> = OnceLock::new();
    GRID.get_or_init(|| {
        let config = TownConfig {
            seed: 42,
            enclaves: 4,
            ..TownConfig::new(CellCode::town("410102", 120).unwrap(), "测试镇", 4, 9)
        };
        generate_town(&config).unwrap()
    })
}

/// Brute force: every village whose closure contains the point; lowest code wins.
fn reference(grid: &Grid, lon: f64, lat: f64) -> Option<Located> {
    let p = Coord { x: lon, y: lat };
    let village = grid
        .level(CellLevel::Village)
        .filter(|v| v.geometry.intersects(&p))
        .map(|v| v.code)
        .min()?;
    let chain = grid.ancestry(&village);
    Some(Located {
        village,
        area: chain[1].code,
        town: chain[2].code,
    })
}

fn check(grid: &Grid, index: &GridIndex, lon: f64, lat: f64) {
    let got = index.locate(lon, lat);
    match (reference(grid, lon, lat), got) {
        (Some(want), Lookup::Located(found)) => {
            assert_eq!(found, want, "at ({lon}, {lat})");
            // The answer's area and town really contain the point too.
            let p = Coord { x: lon, y: lat };
            assert!(grid.get(&found.area).unwrap().geometry.intersects(&p));
            assert!(grid.get(&found.town).unwrap().geometry.intersects(&p));
        }
        (
            None,
            Lookup::OutsideGrid {
                nearest,
                distance_m,
            },
        ) => {
            // Reference: haversine distance to densely sampled boundary points of every village.
            let q = Point::new(lon, lat);
            let sampled = |code: &CellCode| {
                let cell = grid.get(code).unwrap();
                let mut best = f64::INFINITY;
                for ring in cell
                    .geometry
                    .0
                    .iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                {
                    for pair in ring.0.windows(2) {
                        for k in 0..=20 {
                            let t = f64::from(k) / 20.0;
                            let c = Point::new(
                                pair[0].x + t * (pair[1].x - pair[0].x),
                                pair[0].y + t * (pair[1].y - pair[0].y),
                            );
                            best = best.min(Haversine::distance(q, c));
                        }
                    }
                }
                best
            };
            let reported = sampled(&nearest);
            assert!(
                (reported - distance_m).abs() <= 0.01 * reported + 15.0,
                "{reported} vs {distance_m}"
            );
            let best = grid
                .level(CellLevel::Village)
                .map(|v| sampled(&v.code))
                .fold(f64::INFINITY, f64::min);
            assert!(
                reported <= best * 1.01 + 15.0,
                "nearest {nearest} at {reported} m, best {best} m"
            );
        }
        (want, got) => panic!("at ({lon}, {lat}): reference {want:?}, index {got:?}"),
    }
}

#[test]
fn every_vertex_and_edge_midpoint_resolves_like_brute_force() {
    for grid in [enclave_town(), &demo_town().unwrap()] {
        let index = GridIndex::new(grid).unwrap();
        for cell in grid.cells() {
            for polygon in &cell.geometry.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    for pair in ring.0.windows(2) {
                        check(grid, &index, pair[0].x, pair[0].y);
                        let mid = ((pair[0].x + pair[1].x) / 2.0, (pair[0].y + pair[1].y) / 2.0);
                        check(grid, &index, mid.0, mid.1);
                    }
                }
            }
        }
    }
}

#[test]
fn shared_vertex_goes_to_the_lowest_code() {
    let grid = enclave_town();
    let index = GridIndex::new(grid).unwrap();
    let villages: Vec<_> = grid.level(CellLevel::Village).collect();
    let mut checked = 0;
    for v in &villages {
        for c in &v.geometry.0[0].exterior().0 {
            let owners: Vec<CellCode> = villages
                .iter()
                .filter(|w| w.geometry.intersects(c))
                .map(|w| w.code)
                .collect();
            if owners.len() >= 3 {
                let Lookup::Located(found) = index.locate(c.x, c.y) else {
                    panic!("vertex outside")
                };
                assert_eq!(Some(found.village), owners.iter().min().copied());
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "expected many triple points, got {checked}");
}

#[test]
fn point_in_a_hole_belongs_to_the_enclave_filling_it() {
    let grid = enclave_town();
    let index = GridIndex::new(grid).unwrap();
    let hosts: Vec<_> = grid
        .level(CellLevel::Village)
        .filter(|v| !v.geometry.0[0].interiors().is_empty())
        .collect();
    assert_eq!(hosts.len(), 4);
    for host in hosts {
        let hole = &host.geometry.0[0].interiors()[0];
        let r = hole.bounding_rect().unwrap();
        let centre = r.center();
        let Lookup::Located(found) = index.locate(centre.x, centre.y) else {
            panic!("hole centre outside")
        };
        assert_ne!(found.village, host.code);
        let enclave = grid.get(&found.village).unwrap();
        assert_eq!(enclave.parent, host.parent);
    }
}

#[test]
fn far_away_point_is_outside_with_nearest_village_and_distance() {
    let grid = demo_town().unwrap();
    let index = GridIndex::new(&grid).unwrap();
    let r = grid.town().geometry.bounding_rect().unwrap();
    // ~1.1 km south of the town's southern extreme.
    check(&grid, &index, r.center().x, r.min().y - 0.01);
    match index.locate(r.center().x, r.min().y - 0.01) {
        Lookup::OutsideGrid { distance_m, .. } => {
            assert!((900.0..1_500.0).contains(&distance_m), "{distance_m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_finite_or_out_of_range_points_are_invalid() {
    let index = GridIndex::new(&demo_town().unwrap()).unwrap();
    assert_eq!(index.locate(f64::NAN, 35.0), Lookup::InvalidPoint);
    assert_eq!(index.locate(112.5, 91.0), Lookup::InvalidPoint);
}

#[test]
fn shared_index_swaps_without_disturbing_readers() {
    let demo = demo_town().unwrap();
    let shared = SharedIndex::new(GridIndex::new(&demo).unwrap());
    let before = shared.current();
    let old = shared.replace(GridIndex::new(enclave_town()).unwrap());
    assert_eq!(old.village_count(), before.village_count());
    assert_eq!(
        shared.current().village_count(),
        enclave_town().level(CellLevel::Village).count()
    );
    // The reader that loaded before the swap still answers from the old grid.
    assert!(
        matches!(before.locate(112.50, 35.05), Lookup::Located(l) if l.town == demo.town().code)
    );
}

#[test]
fn lookup_serialises_with_status_tag() {
    let index = GridIndex::new(&demo_town().unwrap()).unwrap();
    let json = serde_json::to_value(index.locate(112.50, 35.05)).unwrap();
    assert_eq!(json["status"], "located");
    assert_eq!(json["town"], "419001199");
    let json = serde_json::to_value(index.locate(100.0, 35.05)).unwrap();
    assert_eq!(json["status"], "outside_grid");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn random_points_resolve_like_brute_force(u in -0.1f64..1.1, v in -0.1f64..1.1) {
        let grid = enclave_town();
        static INDEX: OnceLock<GridIndex> = OnceLock::new();
        let index = INDEX.get_or_init(|| GridIndex::new(enclave_town()).unwrap());
        let r = grid.town().geometry.bounding_rect().unwrap();
        let lon = r.min().x + u * r.width();
        let lat = r.min().y + v * r.height();
        check(grid, index, lon, lat);
    }
}
