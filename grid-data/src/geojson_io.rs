//! GeoJSON import (with validation) and export of a grid.
//!
//! Features carry properties `code`, `name`, `level` (`town|area|village`) and `parent` (null or
//! absent for the town) and a Polygon or MultiPolygon geometry (holes allowed). Raw rings are
//! checked before conversion because geo closes rings silently, which would hide unclosed input.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use geojson::{Feature, FeatureCollection, Geometry, JsonObject, JsonValue, PolygonType, Value};

use crate::code::CellCode;
use crate::crs::Crs;
use crate::model::{CellLevel, Grid};
use crate::problem::{Problem, ProblemKind};
use crate::rings::valid_lon_lat;
use crate::validate::{self, Draft, ParentField, ValidationOptions};

/// How to read incoming GeoJSON.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ImportOptions {
    /// CRS of the input coordinates; converted to WGS-84 on import.
    pub crs: Crs,
    /// Tiling tolerances.
    pub validation: ValidationOptions,
}

/// Parse GeoJSON text (a FeatureCollection) into a validated grid, or every problem found.
pub fn parse_grid(text: &str, options: &ImportOptions) -> Result<Grid, Vec<Problem>> {
    let bad = |msg: String| vec![Problem::new(ProblemKind::InvalidGeojson, msg)];
    let value: JsonValue = serde_json::from_str(text)
        .map_err(|e| bad(format!("不是合法的 JSON：{e} / not valid JSON")))?;
    if value.get("type").and_then(JsonValue::as_str) != Some("FeatureCollection") {
        return Err(bad(
            "顶层必须是 FeatureCollection / top level must be a FeatureCollection".into(),
        ));
    }
    let Some(features) = value.get("features").and_then(JsonValue::as_array) else {
        return Err(bad("缺少 features 数组 / `features` array missing".into()));
    };
    let mut problems = Vec::new();
    let mut drafts = Vec::with_capacity(features.len());
    for (index, f) in features.iter().enumerate() {
        if f.get("type").and_then(JsonValue::as_str) != Some("Feature") {
            problems.push(
                Problem::new(
                    ProblemKind::InvalidGeojson,
                    "不是 Feature 对象 / not a Feature",
                )
                .feature(index, None),
            );
            continue;
        }
        let props = f.get("properties").and_then(JsonValue::as_object);
        let geometry = match f.get("geometry") {
            None | Some(JsonValue::Null) => Ok(None),
            Some(g) => Geometry::from_json_value(g.clone()).map(|g| Some(g.value)),
        };
        if let Err(e @ (geojson::Error::PositionTooShort(_) | geojson::Error::ExpectedF64Value)) =
            &geometry
        {
            problems.push(
                Problem::new(
                    ProblemKind::InvalidCoordinate,
                    format!("坐标不合法：{e} / invalid position"),
                )
                .feature(
                    index,
                    props
                        .and_then(|p| p.get("code"))
                        .and_then(JsonValue::as_str),
                ),
            );
        }
        let geometry = geometry.map_err(|e| match e {
            geojson::Error::PositionTooShort(_) | geojson::Error::ExpectedF64Value => None,
            other => Some(other.to_string()),
        });
        drafts.push(draft(
            index,
            props,
            geometry
                .as_ref()
                .map(Option::as_ref)
                .map_err(Option::as_ref),
            options.crs,
            &mut problems,
        ));
    }
    let cells = validate::validate(drafts, problems, &options.validation)?;
    Ok(Grid::assemble(cells))
}

/// Validate an already-parsed FeatureCollection into a grid, or every problem found.
pub fn grid_from_feature_collection(
    collection: &FeatureCollection,
    options: &ImportOptions,
) -> Result<Grid, Vec<Problem>> {
    let mut problems = Vec::new();
    let drafts = collection
        .features
        .iter()
        .enumerate()
        .map(|(index, f)| {
            let geometry = f.geometry.as_ref().map(|g| &g.value);
            draft(
                index,
                f.properties.as_ref(),
                Ok(geometry),
                options.crs,
                &mut problems,
            )
        })
        .collect();
    let cells = validate::validate(drafts, problems, &options.validation)?;
    Ok(Grid::assemble(cells))
}

/// Export a grid as a FeatureCollection with coordinates in `crs` (normally WGS-84).
pub fn grid_to_feature_collection(grid: &Grid, crs: Crs) -> FeatureCollection {
    let features = grid
        .cells()
        .iter()
        .map(|cell| {
            let mut props = JsonObject::new();
            props.insert("code".into(), cell.code.as_str().into());
            props.insert("name".into(), cell.name.clone().into());
            props.insert("level".into(), cell.level.as_str().into());
            props.insert(
                "parent".into(),
                cell.parent.map_or(JsonValue::Null, |p| p.as_str().into()),
            );
            let polys: Vec<PolygonType> = cell
                .geometry
                .0
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|ring| {
                            ring.0
                                .iter()
                                .map(|c| {
                                    let (x, y) = crs.from_wgs84(c.x, c.y);
                                    vec![x, y]
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let value = match <[PolygonType; 1]>::try_from(polys) {
                Ok([single]) => Value::Polygon(single),
                Err(many) => Value::MultiPolygon(many),
            };
            Feature {
                bbox: None,
                geometry: Some(Geometry::new(value)),
                id: None,
                properties: Some(props),
                foreign_members: None,
            }
        })
        .collect();
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

/// Export a grid as GeoJSON text in WGS-84.
pub fn grid_to_geojson(grid: &Grid) -> String {
    grid_to_feature_collection(grid, Crs::Wgs84).to_string()
}

/// Read one feature's properties and geometry, recording problems.
fn draft(
    index: usize,
    props: Option<&JsonObject>,
    geometry: Result<Option<&Value>, Option<&String>>,
    crs: Crs,
    problems: &mut Vec<Problem>,
) -> Draft {
    let get = |key: &str| props.and_then(|p| p.get(key)).filter(|v| !v.is_null());
    let raw_code = match get("code") {
        Some(JsonValue::String(s)) => Some(s.clone()),
        Some(JsonValue::Number(n)) if n.is_u64() => Some(n.to_string()),
        _ => None,
    };
    let tag = |p: Problem| p.feature(index, raw_code.as_deref());
    let missing = |key: &str| {
        tag(Problem::new(
            ProblemKind::MissingProperty,
            format!("缺少属性 `{key}` / property `{key}` missing"),
        ))
    };
    let wrong = |key: &str, v: &JsonValue| {
        tag(Problem::new(
            ProblemKind::InvalidProperty,
            format!("属性 `{key}` 的值 {v} 不合法 / property `{key}` has an invalid value"),
        ))
    };

    let code = match (get("code"), &raw_code) {
        (None, _) => {
            problems.push(missing("code"));
            None
        }
        (Some(v), None) => {
            problems.push(wrong("code", v));
            None
        }
        (Some(_), Some(text)) => match CellCode::parse(text) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(tag(Problem::new(ProblemKind::InvalidCode, e.to_string())));
                None
            }
        },
    };
    let name = match get("name") {
        None => {
            problems.push(missing("name"));
            None
        }
        Some(JsonValue::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(v) => {
            problems.push(wrong("name", v));
            None
        }
    };
    let level = match get("level") {
        None => {
            problems.push(missing("level"));
            None
        }
        Some(v) => match v.as_str().and_then(CellLevel::parse) {
            Some(l) => Some(l),
            None => {
                problems.push(wrong("level", v));
                None
            }
        },
    };
    let parent = match get("parent") {
        None => ParentField::Absent,
        Some(JsonValue::String(s)) if s.trim().is_empty() => ParentField::Absent,
        Some(JsonValue::String(s)) => match CellCode::parse(s) {
            Ok(c) => ParentField::Code(c),
            Err(e) => {
                problems.push(tag(Problem::new(
                    ProblemKind::InvalidCode,
                    format!("上级编码不合法：{e} / invalid `parent`"),
                )));
                ParentField::Invalid
            }
        },
        Some(v) => {
            problems.push(wrong("parent", v));
            ParentField::Invalid
        }
    };
    let decimals = match geometry {
        Ok(Some(Value::Polygon(rings))) => raw_decimals(std::slice::from_ref(rings)),
        Ok(Some(Value::MultiPolygon(polygons))) => raw_decimals(polygons),
        _ => u8::MAX,
    };
    let geometry = match geometry {
        // Already reported as a coordinate problem by the caller.
        Err(None) => None,
        Err(Some(e)) => {
            problems.push(tag(Problem::new(
                ProblemKind::InvalidGeometryType,
                format!("几何无法解析：{e} / geometry cannot be parsed"),
            )));
            None
        }
        Ok(None) => {
            problems.push(tag(Problem::new(
                ProblemKind::InvalidGeometryType,
                "缺少几何 / geometry missing",
            )));
            None
        }
        Ok(Some(value)) => convert(value, crs, &tag, problems),
    };
    Draft {
        index,
        raw_code: raw_code.clone(),
        code,
        name,
        level,
        parent,
        geometry,
        decimals,
    }
}

/// Decimals the raw (not yet converted) positions were written with.
fn raw_decimals(polygons: &[PolygonType]) -> u8 {
    crate::topology::decimals_of_coords(
        polygons
            .iter()
            .flatten()
            .flatten()
            .filter_map(|pos| Some((*pos.first()?, *pos.get(1)?))),
    )
}

/// Convert a raw (Multi)Polygon to WGS-84 geo types, reporting raw-ring problems.
fn convert(
    value: &Value,
    crs: Crs,
    tag: &impl Fn(Problem) -> Problem,
    problems: &mut Vec<Problem>,
) -> Option<MultiPolygon<f64>> {
    let polygons: Vec<&PolygonType> = match value {
        Value::Polygon(p) => vec![p],
        Value::MultiPolygon(ps) => ps.iter().collect(),
        other => {
            problems.push(tag(Problem::new(
                ProblemKind::InvalidGeometryType,
                format!(
                    "几何类型为 {}，须为 Polygon 或 MultiPolygon / must be Polygon or MultiPolygon",
                    other.type_name()
                ),
            )));
            return None;
        }
    };
    let before = problems.len();
    let mut out = Vec::with_capacity(polygons.len());
    for rings in polygons {
        let mut converted: Vec<LineString<f64>> = Vec::with_capacity(rings.len());
        if rings.is_empty() {
            problems.push(tag(Problem::new(
                ProblemKind::TooFewPoints,
                "多边形没有环 / polygon has no ring",
            )));
        }
        for (k, ring) in rings.iter().enumerate() {
            let which = if k == 0 { "外环" } else { "内环" };
            let mut coords = Vec::with_capacity(ring.len());
            let mut ring_ok = true;
            for pos in ring {
                let (Some(&x), Some(&y)) = (pos.first(), pos.get(1)) else {
                    problems.push(tag(Problem::new(
                        ProblemKind::InvalidCoordinate,
                        format!("{which}有坐标少于两个数 / a position has fewer than 2 numbers"),
                    )));
                    ring_ok = false;
                    continue;
                };
                if !valid_lon_lat(x, y) {
                    let mut p = Problem::new(
                        ProblemKind::InvalidCoordinate,
                        format!("{which}坐标无效（{x}, {y}）：经度须在 −180…180、纬度 −90…90 / coordinate out of range or not finite"),
                    );
                    if x.is_finite() && y.is_finite() {
                        p = p.at(x, y);
                    }
                    problems.push(tag(p));
                    ring_ok = false;
                    continue;
                }
                coords.push((x, y));
            }
            match (coords.first(), coords.last()) {
                (Some(&first), Some(&last)) if ring_ok && first != last => {
                    problems.push(tag(Problem::new(
                        ProblemKind::UnclosedRing,
                        format!(
                            "{which}未闭合：首点 ({}, {}) ≠ 末点 ({}, {}) / ring not closed",
                            first.0, first.1, last.0, last.1
                        ),
                    )
                    .at(last.0, last.1)));
                }
                (None, _) if ring_ok => problems.push(tag(Problem::new(
                    ProblemKind::TooFewPoints,
                    format!("{which}为空 / ring is empty"),
                ))),
                _ => {}
            }
            converted.push(LineString(
                coords
                    .into_iter()
                    .map(|(x, y)| {
                        let (x, y) = crs.to_wgs84(x, y);
                        Coord { x, y }
                    })
                    .collect(),
            ));
        }
        let mut rings = converted.into_iter();
        if let Some(exterior) = rings.next() {
            out.push(Polygon::new(exterior, rings.collect()));
        }
    }
    (problems.len() == before).then_some(MultiPolygon(out))
}
