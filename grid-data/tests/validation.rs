//! Every validation problem class: bad GeoJSON in, the right `kind` and feature out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use grid_data::{parse_grid, Crs, ImportOptions, Problem, ProblemKind, ValidationOptions};
use serde_json::{json, Value};

const TOWN: &str = "419001190";
const AREA: &str = "419001190A01";
const V1: &str = "419001190201";
const V2: &str = "419001190202";

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])
}

fn feature(code: &str, name: &str, level: &str, parent: Option<&str>, coordinates: Value) -> Value {
    json!({
        "type": "Feature",
        "properties": { "code": code, "name": name, "level": level, "parent": parent },
        "geometry": { "type": "Polygon", "coordinates": coordinates }
    })
}

/// A valid town: one area, two villages side by side.
fn valid_features() -> Vec<Value> {
    vec![
        feature(
            TOWN,
            "示范镇",
            "town",
            None,
            rect(112.00, 35.00, 112.02, 35.01),
        ),
        feature(
            AREA,
            "一片区",
            "area",
            Some(TOWN),
            rect(112.00, 35.00, 112.02, 35.01),
        ),
        feature(
            V1,
            "杨庄村",
            "village",
            Some(AREA),
            rect(112.00, 35.00, 112.01, 35.01),
        ),
        feature(
            V2,
            "柳沟村",
            "village",
            Some(AREA),
            rect(112.01, 35.00, 112.02, 35.01),
        ),
    ]
}

fn collection(features: Vec<Value>) -> String {
    json!({ "type": "FeatureCollection", "features": features }).to_string()
}

fn problems(features: Vec<Value>) -> Vec<Problem> {
    parse_grid(&collection(features), &ImportOptions::default()).expect_err("input is invalid")
}

fn assert_has(problems: &[Problem], kind: ProblemKind, code: Option<&str>) -> Problem {
    problems
        .iter()
        .find(|p| p.kind == kind && p.code.as_deref() == code)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind:?} for {code:?} in {problems:#?}"))
}

fn with_village(i: usize, f: impl FnOnce(&mut Value)) -> Vec<Value> {
    let mut features = valid_features();
    f(&mut features[i]);
    features
}

#[test]
fn valid_town_imports() {
    let grid = parse_grid(&collection(valid_features()), &ImportOptions::default()).unwrap();
    assert_eq!(grid.len(), 4);
    assert_eq!(grid.town().code.as_str(), TOWN);
}

#[test]
fn text_that_is_not_a_feature_collection_is_invalid_geojson() {
    let opts = ImportOptions::default();
    for text in [
        "not json",
        r#"{"type":"Feature"}"#,
        r#"{"type":"FeatureCollection"}"#,
    ] {
        let p = parse_grid(text, &opts).unwrap_err();
        assert_eq!(p[0].kind, ProblemKind::InvalidGeojson, "{text}");
    }
}

#[test]
fn missing_name_is_missing_property() {
    let p = problems(with_village(3, |f| {
        f["properties"].as_object_mut().unwrap().remove("name");
    }));
    assert_has(&p, ProblemKind::MissingProperty, Some(V2));
}

#[test]
fn feature_without_code_is_reported_by_index() {
    let p = problems(with_village(3, |f| {
        f["properties"].as_object_mut().unwrap().remove("code");
    }));
    let problem = assert_has(&p, ProblemKind::MissingProperty, None);
    assert_eq!(problem.feature_index, Some(3));
}

#[test]
fn unknown_level_is_invalid_property() {
    let p = problems(with_village(3, |f| {
        f["properties"]["level"] = json!("county")
    }));
    assert_has(&p, ProblemKind::InvalidProperty, Some(V2));
}

#[test]
fn village_number_out_of_range_is_invalid_code() {
    let p = problems(with_village(3, |f| {
        f["properties"]["code"] = json!("419001190999")
    }));
    assert_has(&p, ProblemKind::InvalidCode, Some("419001190999"));
}

#[test]
fn level_disagreeing_with_code_shape_is_level_code_mismatch() {
    // A 12-digit numeric code may be an area (a survey's own code) or a village, never the town;
    // a lettered area code is never a village.
    let p = problems(with_village(3, |f| {
        f["properties"]["level"] = json!("town")
    }));
    assert_has(&p, ProblemKind::LevelCodeMismatch, Some(V2));
    let p = problems(with_village(1, |f| {
        f["properties"]["level"] = json!("village")
    }));
    assert_has(&p, ProblemKind::LevelCodeMismatch, Some(AREA));
}

#[test]
fn repeated_code_is_duplicate_code() {
    let mut features = valid_features();
    features.push(feature(
        V1,
        "重复村",
        "village",
        Some(AREA),
        rect(112.0, 35.0, 112.01, 35.01),
    ));
    let p = problems(features);
    let dup = assert_has(&p, ProblemKind::DuplicateCode, Some(V1));
    assert_eq!(dup.feature_index, Some(4));
}

#[test]
fn point_geometry_is_invalid_geometry_type() {
    let p = problems(with_village(3, |f| {
        f["geometry"] = json!({ "type": "Point", "coordinates": [112.015, 35.005] });
    }));
    assert_has(&p, ProblemKind::InvalidGeometryType, Some(V2));
}

#[test]
fn missing_geometry_is_invalid_geometry_type() {
    let p = problems(with_village(3, |f| f["geometry"] = Value::Null));
    assert_has(&p, ProblemKind::InvalidGeometryType, Some(V2));
}

#[test]
fn longitude_out_of_range_is_invalid_coordinate_with_location() {
    let p = problems(with_village(3, |f| {
        f["geometry"]["coordinates"][0][1] = json!([200.0, 35.0])
    }));
    let problem = assert_has(&p, ProblemKind::InvalidCoordinate, Some(V2));
    assert_eq!(problem.location.map(|l| l.lon), Some(200.0));
}

#[test]
fn position_with_one_number_is_invalid_coordinate() {
    let p = problems(with_village(3, |f| {
        f["geometry"]["coordinates"][0][1] = json!([112.02])
    }));
    assert_has(&p, ProblemKind::InvalidCoordinate, Some(V2));
}

#[test]
fn nan_coordinate_from_rust_callers_is_invalid_coordinate() {
    use geo::{polygon, MultiPolygon};
    use grid_data::{Cell, CellCode, CellLevel, Grid};
    let code = |s: &str| CellCode::parse(s).unwrap();
    let square = |x0: f64, x1: f64| {
        MultiPolygon(vec![
            polygon![(x: x0, y: 35.0), (x: x1, y: 35.0), (x: x1, y: 35.01), (x: x0, y: 35.01)],
        ])
    };
    let cells = vec![
        Cell {
            code: code(TOWN),
            name: "镇".into(),
            level: CellLevel::Town,
            parent: None,
            geometry: square(112.0, 112.01),
        },
        Cell {
            code: code(AREA),
            name: "片".into(),
            level: CellLevel::Area,
            parent: Some(code(TOWN)),
            geometry: square(112.0, 112.01),
        },
        Cell {
            code: code(V1),
            name: "村".into(),
            level: CellLevel::Village,
            parent: Some(code(AREA)),
            geometry: square(112.0, f64::NAN),
        },
    ];
    let p = Grid::from_cells(cells, &ValidationOptions::default()).unwrap_err();
    assert_has(&p, ProblemKind::InvalidCoordinate, Some(V1));
}

#[test]
fn ring_with_two_distinct_points_is_too_few_points() {
    let p = problems(with_village(3, |f| {
        f["geometry"]["coordinates"] = json!([[[112.01, 35.0], [112.02, 35.0], [112.01, 35.0]]]);
    }));
    assert_has(&p, ProblemKind::TooFewPoints, Some(V2));
}

#[test]
fn ring_not_ending_at_its_start_is_unclosed_ring() {
    let p = problems(with_village(3, |f| {
        f["geometry"]["coordinates"][0]
            .as_array_mut()
            .unwrap()
            .pop();
    }));
    let problem = assert_has(&p, ProblemKind::UnclosedRing, Some(V2));
    assert!(problem.location.is_some());
}

#[test]
fn bow_tie_ring_is_self_intersection_at_the_crossing() {
    let p = problems(with_village(3, |f| {
        f["geometry"]["coordinates"] = json!([[
            [112.01, 35.0],
            [112.02, 35.01],
            [112.02, 35.0],
            [112.01, 35.01],
            [112.01, 35.0]
        ]]);
    }));
    let problem = assert_has(&p, ProblemKind::SelfIntersection, Some(V2));
    let at = problem.location.unwrap();
    assert!((at.lon - 112.015).abs() < 1e-9 && (at.lat - 35.005).abs() < 1e-9);
}

#[test]
fn hole_outside_its_exterior_is_hole_outside_shell() {
    let p = problems(with_village(3, |f| {
        let hole = json!([
            [112.03, 35.0],
            [112.04, 35.0],
            [112.04, 35.01],
            [112.03, 35.0]
        ]);
        f["geometry"]["coordinates"]
            .as_array_mut()
            .unwrap()
            .push(hole);
    }));
    assert_has(&p, ProblemKind::HoleOutsideShell, Some(V2));
}

#[test]
fn no_town_feature_is_missing_town() {
    let mut features = valid_features();
    features.remove(0);
    let p = problems(features);
    assert_has(&p, ProblemKind::MissingTown, None);
    assert_has(&p, ProblemKind::UnknownParent, Some(AREA));
}

#[test]
fn second_town_is_multiple_towns() {
    let mut features = valid_features();
    features.push(feature(
        "419001191",
        "另一镇",
        "town",
        None,
        rect(113.0, 35.0, 113.01, 35.01),
    ));
    let p = problems(features);
    assert_has(&p, ProblemKind::MultipleTowns, Some("419001191"));
}

#[test]
fn village_without_parent_is_missing_parent() {
    let p = problems(with_village(3, |f| f["properties"]["parent"] = Value::Null));
    assert_has(&p, ProblemKind::MissingParent, Some(V2));
}

#[test]
fn parent_code_nobody_has_is_unknown_parent() {
    let p = problems(with_village(3, |f| {
        f["properties"]["parent"] = json!("419001190A09")
    }));
    let problem = assert_has(&p, ProblemKind::UnknownParent, Some(V2));
    assert_eq!(problem.related.as_deref(), Some("419001190A09"));
}

#[test]
fn village_directly_under_town_is_wrong_parent_level() {
    let p = problems(with_village(3, |f| f["properties"]["parent"] = json!(TOWN)));
    assert_has(&p, ProblemKind::WrongParentLevel, Some(V2));
}

#[test]
fn town_with_a_parent_is_wrong_parent_level() {
    let p = problems(with_village(0, |f| f["properties"]["parent"] = json!(AREA)));
    assert_has(&p, ProblemKind::WrongParentLevel, Some(TOWN));
}

#[test]
fn village_of_another_town_under_this_area_is_code_prefix_mismatch() {
    let p = problems(with_village(3, |f| {
        f["properties"]["code"] = json!("419001191202")
    }));
    assert_has(&p, ProblemKind::CodePrefixMismatch, Some("419001191202"));
}

#[test]
fn village_sticking_out_of_its_area_is_outside_parent_with_area() {
    let p = problems(with_village(3, |f| {
        f["geometry"]["coordinates"] = rect(112.01, 35.00, 112.03, 35.01)
    }));
    let problem = assert_has(&p, ProblemKind::OutsideParent, Some(V2));
    // 0.01° lon × 0.01° lat at 35°N ≈ 911 m × 1109 m.
    let area = problem.area_m2.unwrap();
    assert!((area - 1_010_700.0).abs() / 1_010_700.0 < 0.01, "{area}");
    assert!(problem.location.unwrap().lon > 112.02);
}

#[test]
fn overlapping_villages_are_sibling_overlap_with_area() {
    let p = problems(with_village(2, |f| {
        f["geometry"]["coordinates"] = rect(112.00, 35.00, 112.015, 35.01)
    }));
    let problem = assert_has(&p, ProblemKind::SiblingOverlap, Some(V1));
    assert_eq!(problem.related.as_deref(), Some(V2));
    let area = problem.area_m2.unwrap();
    assert!((area - 505_350.0).abs() / 505_350.0 < 0.01, "{area}");
}

#[test]
fn overlap_between_villages_is_not_also_reported_as_a_gap() {
    // V1 reaches into V2: the doubly covered strip is an overlap, never a gap.
    let p = problems(with_village(2, |f| {
        f["geometry"]["coordinates"] = rect(112.00, 35.00, 112.015, 35.01)
    }));
    assert_has(&p, ProblemKind::SiblingOverlap, Some(V1));
    assert!(p.iter().all(|p| p.kind != ProblemKind::Gap), "{p:#?}");
}

#[test]
fn rings_of_either_orientation_tile_alike() {
    // V1 clockwise, V2 counter-clockwise, the area clockwise: still an exact tiling.
    let clockwise = |v: Value| -> Value {
        let mut ring = v[0].as_array().unwrap().clone();
        ring.reverse();
        json!([ring])
    };
    let mut features = valid_features();
    for i in [1, 2] {
        features[i]["geometry"]["coordinates"] =
            clockwise(features[i]["geometry"]["coordinates"].clone());
    }
    parse_grid(&collection(features), &ImportOptions::default()).unwrap();
}

#[test]
fn unfilled_hole_is_a_gap_whatever_the_ring_orientation() {
    // A hole in V1 that no village fills, wound the same way as its exterior (GeoJSON does not
    // require holes to be clockwise): the hole is still uncovered area of the parent.
    let hole = json!([
        [112.004, 35.004],
        [112.006, 35.004],
        [112.006, 35.006],
        [112.004, 35.006],
        [112.004, 35.004]
    ]);
    let p = problems(with_village(2, |f| {
        let rings = f["geometry"]["coordinates"].as_array_mut().unwrap();
        // The exterior, like every ring of `rect`, is counter-clockwise; so is this hole.
        rings.push(hole);
    }));
    let gap = assert_has(&p, ProblemKind::Gap, Some(AREA));
    // 0.002° × 0.002° at 35°N ≈ 182 m × 222 m.
    let area = gap.area_m2.unwrap();
    assert!((area - 40_428.0).abs() / 40_428.0 < 0.01, "{area}");
    let at = gap.location.unwrap();
    assert!((112.004..112.006).contains(&at.lon) && (35.004..35.006).contains(&at.lat));
}

#[test]
fn uncovered_strip_is_a_gap_with_area_and_location() {
    let p = problems(with_village(2, |f| {
        f["geometry"]["coordinates"] = rect(112.00, 35.00, 112.009, 35.01)
    }));
    let problem = assert_has(&p, ProblemKind::Gap, Some(AREA));
    let area = problem.area_m2.unwrap();
    assert!((area - 101_070.0).abs() / 101_070.0 < 0.01, "{area}");
    let at = problem.location.unwrap();
    assert!(at.lon > 112.009 && at.lon < 112.01);
}

#[test]
fn gap_below_the_callers_tolerance_is_accepted() {
    let features = with_village(2, |f| {
        f["geometry"]["coordinates"] = rect(112.00, 35.00, 112.00999, 35.01)
    });
    let strict = parse_grid(&collection(features.clone()), &ImportOptions::default());
    assert_eq!(strict.unwrap_err()[0].kind, ProblemKind::Gap);
    let lenient = ImportOptions {
        validation: ValidationOptions {
            gap_tolerance_m2: 2_000.0,
            ..ValidationOptions::default()
        },
        ..ImportOptions::default()
    };
    assert!(parse_grid(&collection(features), &lenient).is_ok());
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let mut features = valid_features();
    features[3]["properties"]["level"] = json!("town");
    features[2]["geometry"]["coordinates"][0]
        .as_array_mut()
        .unwrap()
        .pop();
    features.push(json!({ "type": "Feature", "properties": {}, "geometry": null }));
    let p = problems(features);
    assert_has(&p, ProblemKind::LevelCodeMismatch, Some(V2));
    assert_has(&p, ProblemKind::UnclosedRing, Some(V1));
    let missing: Vec<_> = p
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingProperty)
        .collect();
    assert_eq!(missing.len(), 3, "code, name and level of feature 4");
    assert!(missing.iter().all(|p| p.feature_index == Some(4)));
}

#[test]
fn problem_messages_are_chinese_first_and_kinds_serialise_snake_case() {
    let p = problems(with_village(3, |f| f["properties"]["parent"] = json!(TOWN)));
    let problem = assert_has(&p, ProblemKind::WrongParentLevel, Some(V2));
    assert!(problem
        .message
        .chars()
        .next()
        .is_some_and(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    let json = serde_json::to_value(&problem).unwrap();
    assert_eq!(json["kind"], "wrong_parent_level");
    for kind in ProblemKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
}

#[test]
fn gcj02_input_is_converted_to_wgs84_on_import() {
    let shift = |v: Value| -> Value {
        let ring: Vec<Value> = v[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let (x, y) = Crs::Gcj02.from_wgs84(p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
                json!([x, y])
            })
            .collect();
        json!([ring])
    };
    let features: Vec<Value> = valid_features()
        .into_iter()
        .map(|mut f| {
            f["geometry"]["coordinates"] = shift(f["geometry"]["coordinates"].clone());
            f
        })
        .collect();
    let opts = ImportOptions {
        crs: Crs::Gcj02,
        ..ImportOptions::default()
    };
    let grid = parse_grid(&collection(features), &opts).unwrap();
    let first = grid.town().geometry.0[0].exterior().0[0];
    assert!(
        (first.x - 112.0).abs() < 1e-9 && (first.y - 35.0).abs() < 1e-9,
        "{first:?}"
    );
}

/// The valid town with its area renamed to a survey's own 12-digit code.
fn with_survey_area(code: &str) -> Vec<Value> {
    let mut features = valid_features();
    features[1]["properties"]["code"] = json!(code);
    features[2]["properties"]["parent"] = json!(code);
    features[3]["properties"]["parent"] = json!(code);
    features
}

#[test]
fn a_surveys_numeric_area_codes_import_with_the_level_property() {
    for code in ["419001190501", "419001190001", "419001190999"] {
        let grid = parse_grid(
            &collection(with_survey_area(code)),
            &ImportOptions::default(),
        )
        .unwrap_or_else(|p| panic!("{code}: {p:#?}"));
        let area = grid
            .cells()
            .iter()
            .find(|c| c.code.as_str() == code)
            .unwrap();
        assert_eq!(area.level, grid_data::CellLevel::Area);
        let villages: Vec<_> = grid
            .cells()
            .iter()
            .filter(|c| c.parent.map(|p| p.to_string()) == Some(code.into()))
            .collect();
        assert_eq!(villages.len(), 2, "{code}");
    }
}

#[test]
fn a_village_cannot_take_a_survey_area_number_beyond_399() {
    let p = problems(with_village(3, |f| {
        f["properties"]["code"] = json!("419001190501")
    }));
    assert_has(&p, ProblemKind::InvalidCode, Some("419001190501"));
}

#[test]
fn a_numeric_area_code_equal_to_a_village_code_is_a_duplicate() {
    let mut features = with_survey_area("419001190201");
    // V1 keeps its code 419001190201, now also the area's.
    features[3]["properties"]["parent"] = json!("419001190201");
    let p = problems(features);
    assert_has(&p, ProblemKind::DuplicateCode, Some(V1));
}

#[test]
fn parent_links_to_numeric_area_codes_are_checked() {
    let mut features = with_survey_area("419001190501");
    features[3]["properties"]["parent"] = json!("419001190502");
    let p = problems(features);
    assert_has(&p, ProblemKind::UnknownParent, Some(V2));

    let p = problems(with_survey_area("419001191501"));
    assert_has(&p, ProblemKind::CodePrefixMismatch, Some("419001191501"));
}
