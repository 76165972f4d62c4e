//! Outlines clipped from their parent by GIS tools: shared edges are the same line but their
//! vertices are not bit-identical (rounded, re-computed intersections, extra vertices on edges).
//! Such a town is tiled correctly and must import at the default zero tolerance; a true gap of
//! 1 m² in it must still be refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use geo::{BooleanOps, Coord, InteriorPoint, LineString, MultiPolygon, Polygon, Rect};
use grid_data::{parse_grid, ImportOptions, ProblemKind};
use serde_json::{json, Value};

const TOWN: &str = "419001190";

/// A wobbly town outline of `n` vertices around (112.5, 35.05), about 12 km across.
fn town_outline(n: usize) -> Polygon<f64> {
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = 0.06
                + 0.008 * (7.0 * t).sin()
                + 0.003 * (23.0 * t).cos()
                + 0.0007 * (i as f64 * 1.7).sin();
            Coord {
                x: 112.5 + r * t.cos() * 1.2,
                y: 35.05 + r * t.sin(),
            }
        })
        .collect();
    pts.push(pts[0]);
    Polygon::new(LineString(pts), vec![])
}

/// Put 3 extra vertices in every edge (a different vertex layout on one side of shared edges).
fn densify(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |r: &LineString<f64>| {
        let mut out = Vec::new();
        for w in r.0.windows(2) {
            for k in 0..4 {
                let t = f64::from(k) / 4.0;
                out.push(Coord {
                    x: w[0].x + (w[1].x - w[0].x) * t,
                    y: w[0].y + (w[1].y - w[0].y) * t,
                });
            }
        }
        out.extend(r.0.last().copied());
        LineString(out)
    };
    MultiPolygon(
        mp.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

/// Round like a GIS tool writing `digits` decimals.
fn round(mp: &MultiPolygon<f64>, digits: i32) -> MultiPolygon<f64> {
    let f = 10f64.powi(digits);
    let r = |c: &Coord<f64>| Coord {
        x: (c.x * f).round() / f,
        y: (c.y * f).round() / f,
    };
    MultiPolygon(
        mp.0.iter()
            .map(|p| {
                Polygon::new(
                    LineString(p.exterior().0.iter().map(r).collect()),
                    p.interiors()
                        .iter()
                        .map(|h| LineString(h.0.iter().map(r).collect()))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn coords(mp: &MultiPolygon<f64>) -> Value {
    json!(mp
        .0
        .iter()
        .map(|p| std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>())
            .collect::<Vec<_>>())
        .collect::<Vec<_>>())
}

fn feature(code: &str, level: &str, parent: Option<&str>, mp: &MultiPolygon<f64>) -> Value {
    json!({
        "type": "Feature",
        "properties": { "code": code, "name": format!("单元{code}"), "level": level, "parent": parent },
        "geometry": { "type": "MultiPolygon", "coordinates": coords(mp) }
    })
}

/// Town cut into `areas` vertical strips, each cut into `rows` horizontal villages, every piece
/// computed by clipping its parent (as a GIS tool does) and written with `digits` decimals.
fn clipped_town(areas: usize, rows: usize, digits: i32, shrink_first: Option<f64>) -> Vec<Value> {
    let town = MultiPolygon(vec![town_outline(900)]);
    let (x0, x1, y0, y1) = (112.4, 112.6, 34.95, 35.15);
    let mut out = vec![feature(TOWN, "town", None, &round(&town, digits))];
    let mut village_no = 200;
    for a in 0..areas {
        let ax0 = x0 + (x1 - x0) * a as f64 / areas as f64 + 0.0013 * (a as f64).sin();
        let ax1 = x0 + (x1 - x0) * (a + 1) as f64 / areas as f64 + 0.0013 * ((a + 1) as f64).sin();
        let ax0 = if a == 0 { x0 - 1.0 } else { ax0 };
        let ax1 = if a + 1 == areas { x1 + 1.0 } else { ax1 };
        let strip = Rect::new(
            Coord {
                x: ax0,
                y: y0 - 1.0,
            },
            Coord {
                x: ax1,
                y: y1 + 1.0,
            },
        )
        .to_polygon();
        let area = town.intersection(&MultiPolygon(vec![strip]));
        let area_code = format!("{TOWN}A{:02}", a + 1);
        out.push(feature(
            &area_code,
            "area",
            Some(TOWN),
            &round(&area, digits),
        ));
        for r in 0..rows {
            let ry0 = y0 + (y1 - y0) * r as f64 / rows as f64 + 0.0009 * (r as f64 * 1.3).cos();
            let ry1 = y0
                + (y1 - y0) * (r + 1) as f64 / rows as f64
                + 0.0009 * ((r + 1) as f64 * 1.3).cos();
            let ry0 = if r == 0 { y0 - 1.0 } else { ry0 };
            let mut ry1 = if r + 1 == rows { y1 + 1.0 } else { ry1 };
            if let (Some(d), true) = (shrink_first, a == 2 && r == 3) {
                ry1 -= d;
            }
            let band = Rect::new(
                Coord {
                    x: ax0 - 1.0,
                    y: ry0,
                },
                Coord {
                    x: ax1 + 1.0,
                    y: ry1,
                },
            )
            .to_polygon();
            let village = area.intersection(&MultiPolygon(vec![band]));
            if village.0.is_empty() {
                continue;
            }
            village_no += 1;
            let village = if village_no % 2 == 0 {
                densify(&village)
            } else {
                village
            };
            out.push(feature(
                &format!("{TOWN}{village_no}"),
                "village",
                Some(&area_code),
                &round(&village, digits),
            ));
        }
    }
    out
}

fn collection(features: Vec<Value>) -> String {
    json!({ "type": "FeatureCollection", "features": features }).to_string()
}

#[test]
fn outlines_clipped_from_the_parent_tile_at_zero_tolerance() {
    for digits in [15, 9, 8, 7, 6] {
        let text = collection(clipped_town(6, 8, digits, None));
        if let Err(p) = parse_grid(&text, &ImportOptions::default()) {
            panic!("{digits} decimals: {p:#?}");
        }
    }
}

/// A square hole of about 1 m² (0.00001° × 0.000011° at 35°N) left in the first village.
fn with_hole(mut features: Vec<Value>, digits: i32) -> Vec<Value> {
    let f = 10f64.powi(digits);
    let r = |v: f64| (v * f).round() / f;
    let village = features
        .iter_mut()
        .find(|f| f["properties"]["level"] == "village")
        .unwrap();
    let exterior: Vec<Coord<f64>> = village["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Coord {
            x: p[0].as_f64().unwrap(),
            y: p[1].as_f64().unwrap(),
        })
        .collect();
    let inside = Polygon::new(LineString(exterior), vec![])
        .interior_point()
        .unwrap();
    let (x, y) = (r(inside.x()), r(inside.y()));
    let hole = json!([
        [x, y],
        [x, y + 0.00001],
        [x + 0.000011, y + 0.00001],
        [x + 0.000011, y],
        [x, y]
    ]);
    let polygons = village["geometry"]["coordinates"].as_array_mut().unwrap();
    polygons[0].as_array_mut().unwrap().push(hole);
    features
}

#[test]
fn a_true_gap_of_one_square_metre_is_still_refused() {
    for digits in [15, 8, 6] {
        let text = collection(with_hole(clipped_town(6, 8, digits, None), digits));
        let problems = match parse_grid(&text, &ImportOptions::default()) {
            Ok(_) => panic!("a 1 m² hole is a gap"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 1, "{digits} decimals: {problems:#?}");
        assert_eq!(problems[0].kind, ProblemKind::Gap);
        let area = problems[0].area_m2.unwrap();
        assert!((0.9..1.3).contains(&area), "{digits} decimals: {area}");
    }
}

#[test]
fn a_strip_half_a_metre_wide_between_villages_is_refused() {
    // 0.000005° ≈ 0.56 m: more than the rounding noise of 6 decimals (≈ 0.17 m), so a gap.
    let text = collection(clipped_town(6, 8, 6, Some(0.000005)));
    let problems = match parse_grid(&text, &ImportOptions::default()) {
        Ok(_) => panic!("the strip is a gap"),
        Err(p) => p,
    };
    assert!(
        problems.iter().all(|p| p.kind == ProblemKind::Gap),
        "{problems:#?}"
    );
    assert!(problems.iter().map(|p| p.area_m2.unwrap()).sum::<f64>() > 100.0);
}
