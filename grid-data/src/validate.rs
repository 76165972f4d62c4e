//! Validation of a candidate grid: codes, hierarchy, ring geometry and tiling.
//!
//! Everything is checked and every problem reported; a cell whose own geometry is broken is left
//! out of the tiling checks (overlaps, gaps) so one bad ring does not cascade into noise.

use std::collections::HashMap;

use geo::MultiPolygon;

use crate::code::CellCode;
use crate::model::{Cell, CellLevel};
use crate::problem::{Problem, ProblemKind};
use crate::{rings, topology};

/// Below this area (m²) a difference is floating-point noise, whatever the caller's tolerance.
pub(crate) const NOISE_M2: f64 = 1e-3;

/// Tolerances for the tiling checks; the defaults accept nothing but numeric noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationOptions {
    /// Gaps (parent area covered by no child) up to this many m² each are accepted as slivers.
    pub gap_tolerance_m2: f64,
    /// Sibling overlaps and child parts outside the parent up to this many m² are accepted.
    pub overlap_tolerance_m2: f64,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self {
            gap_tolerance_m2: 0.0,
            overlap_tolerance_m2: 0.0,
        }
    }
}

impl ValidationOptions {
    /// Effective gap threshold (never below the noise floor).
    pub(crate) fn gap_threshold(&self) -> f64 {
        self.gap_tolerance_m2.max(NOISE_M2)
    }

    /// Effective overlap threshold (never below the noise floor).
    pub(crate) fn overlap_threshold(&self) -> f64 {
        self.overlap_tolerance_m2.max(NOISE_M2)
    }
}

/// The `parent` property as read: absent/null, present but unusable, or a valid code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParentField {
    Absent,
    Invalid,
    Code(CellCode),
}

/// A feature after property parsing; `None` fields were missing or invalid (already reported).
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub index: usize,
    pub raw_code: Option<String>,
    pub code: Option<CellCode>,
    pub name: Option<String>,
    pub level: Option<CellLevel>,
    pub parent: ParentField,
    pub geometry: Option<MultiPolygon<f64>>,
    /// Decimals the geometry's coordinates were written with, as read (before CRS conversion).
    pub decimals: u8,
}

impl Draft {
    fn problem(&self, kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem::new(kind, message).feature(self.index, self.raw_code.as_deref())
    }
}

/// Validate drafts (plus problems found while parsing them) into cells, or return every problem.
pub(crate) fn validate(
    drafts: Vec<Draft>,
    mut problems: Vec<Problem>,
    options: &ValidationOptions,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let mut first: HashMap<CellCode, usize> = HashMap::new();
    let mut duplicate = vec![false; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let Some(code) = d.code else { continue };
        if let Some(&j) = first.get(&code) {
            duplicate[i] = true;
            problems.push(
                d.problem(
                    ProblemKind::DuplicateCode,
                    format!(
                        "编码 {code} 重复（与第 {} 个要素相同）/ duplicate code",
                        drafts[j].index
                    ),
                )
                .related(code.to_string()),
            );
        } else {
            first.insert(code, i);
        }
    }

    let mut geometry_ok = vec![false; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        if let (Some(code), Some(level)) = (d.code, d.level) {
            if level == CellLevel::Village && code.beyond_village_range() {
                problems.push(d.problem(
                    ProblemKind::InvalidCode,
                    format!("村级编码 {code} 的村级代码不在 001–399 / village part not in 001–399"),
                ));
            } else if !code.fits_level(level) {
                problems.push(d.problem(
                    ProblemKind::LevelCodeMismatch,
                    format!(
                        "层级为「{}」，但编码 {code} 是「{}」的格式 / level `{}` does not match code shape `{}`",
                        level.zh(),
                        code.level().zh(),
                        level.as_str(),
                        code.level().as_str()
                    ),
                ));
            }
        }
        if d.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            problems.push(d.problem(ProblemKind::InvalidProperty, "名称为空 / `name` is empty"));
        }
        if let Some(geometry) = &d.geometry {
            let before = problems.len();
            rings::check_geometry(geometry, d.index, d.raw_code.as_deref(), &mut problems);
            geometry_ok[i] = problems.len() == before;
        }
    }

    check_hierarchy(&drafts, &first, &duplicate, &mut problems);

    // Tiling: group valid parent links, then check each family.
    let mut families: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if duplicate[i] {
            continue;
        }
        if d.level.is_some_and(|l| l != CellLevel::Village) {
            families.entry(i).or_default();
        }
        if let (ParentField::Code(p), Some(level)) = (&d.parent, d.level) {
            if let Some(&j) = first.get(p) {
                if drafts[j].level.is_some() && drafts[j].level == level.parent_level() {
                    families.entry(j).or_default().push(i);
                }
            }
        }
    }
    let mut parents: Vec<usize> = families.keys().copied().collect();
    parents.sort_unstable();
    for p in parents {
        let (Some(parent_geom), true) = (&drafts[p].geometry, geometry_ok[p]) else {
            continue;
        };
        let children = &families[&p];
        let complete = children.iter().all(|&c| geometry_ok[c]);
        let members: Vec<topology::Member<'_>> = children
            .iter()
            .filter(|&&c| geometry_ok[c])
            .filter_map(|&c| member(&drafts[c]))
            .collect();
        let parent = topology::Member {
            index: drafts[p].index,
            code: drafts[p].raw_code.as_deref().unwrap_or(""),
            geometry: parent_geom,
        };
        let decimals = std::iter::once(p)
            .chain(children.iter().copied())
            .map(|i| drafts[i].decimals)
            .min()
            .unwrap_or(u8::MAX);
        topology::check_family(
            &parent,
            &members,
            complete,
            decimals,
            options,
            &mut problems,
        );
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    // A missing field always comes with a problem from the parser; guard anyway so a bug there
    // cannot yield a partial grid.
    let incomplete = |d: &Draft| {
        d.code.is_none() || d.name.is_none() || d.level.is_none() || d.geometry.is_none()
    };
    if let Some(d) = drafts.iter().find(|d| incomplete(d)) {
        return Err(vec![d.problem(
            ProblemKind::MissingProperty,
            "要素缺少必填内容 / feature is incomplete",
        )]);
    }
    Ok(drafts
        .into_iter()
        .filter_map(|d| {
            Some(Cell {
                code: d.code?,
                name: d.name?,
                level: d.level?,
                parent: match d.parent {
                    ParentField::Code(p) => Some(p),
                    _ => None,
                },
                geometry: d.geometry?,
            })
        })
        .collect())
}

fn member(d: &Draft) -> Option<topology::Member<'_>> {
    Some(topology::Member {
        index: d.index,
        code: d.raw_code.as_deref().unwrap_or(""),
        geometry: d.geometry.as_ref()?,
    })
}

fn check_hierarchy(
    drafts: &[Draft],
    first: &HashMap<CellCode, usize>,
    duplicate: &[bool],
    problems: &mut Vec<Problem>,
) {
    let towns: Vec<&Draft> = drafts
        .iter()
        .zip(duplicate)
        .filter(|(d, &dup)| !dup && d.level == Some(CellLevel::Town))
        .map(|(d, _)| d)
        .collect();
    match towns.as_slice() {
        [] => problems.push(Problem::new(
            ProblemKind::MissingTown,
            "没有层级为「镇」的要素（必须恰好一个）/ no feature with level `town` (exactly one required)",
        )),
        [_] => {}
        [keep, rest @ ..] => {
            for t in rest {
                problems.push(
                    t.problem(
                        ProblemKind::MultipleTowns,
                        "存在多个「镇」要素（必须恰好一个）/ more than one town",
                    )
                    .related(keep.raw_code.clone().unwrap_or_default()),
                );
            }
        }
    }

    for (d, _) in drafts.iter().zip(duplicate).filter(|(_, &dup)| !dup) {
        let Some(level) = d.level else { continue };
        match (level.parent_level(), &d.parent) {
            (None, ParentField::Code(p)) => problems.push(
                d.problem(
                    ProblemKind::WrongParentLevel,
                    format!("镇不能有上级（parent = {p}）/ the town must not have a parent"),
                )
                .related(p.to_string()),
            ),
            (Some(want), ParentField::Absent) => problems.push(d.problem(
                ProblemKind::MissingParent,
                format!(
                    "{}缺少上级（应为{}）/ `parent` missing, expected a {}",
                    level.zh(),
                    want.zh(),
                    want.as_str()
                ),
            )),
            (Some(want), ParentField::Code(p)) => match first.get(p) {
                None => problems.push(
                    d.problem(
                        ProblemKind::UnknownParent,
                        format!("上级编码 {p} 不存在 / unknown parent `{p}`"),
                    )
                    .related(p.to_string()),
                ),
                Some(&j) => {
                    if let Some(got) = drafts[j].level {
                        if got != want {
                            problems.push(
                                d.problem(
                                    ProblemKind::WrongParentLevel,
                                    format!(
                                        "{}的上级必须是{}，但 {p} 是{} / a {}'s parent must be a {}, `{p}` is a {}",
                                        level.zh(),
                                        want.zh(),
                                        got.zh(),
                                        level.as_str(),
                                        want.as_str(),
                                        got.as_str()
                                    ),
                                )
                                .related(p.to_string()),
                            );
                        }
                    }
                    if let Some(code) = d.code {
                        if code.township_prefix() != p.township_prefix() {
                            problems.push(
                                d.problem(
                                    ProblemKind::CodePrefixMismatch,
                                    format!(
                                        "编码 {code} 与上级 {p} 不属于同一镇（前 9 位不同）/ code prefix differs from parent's",
                                    ),
                                )
                                .related(p.to_string()),
                            );
                        }
                    }
                }
            },
            _ => {}
        }
    }
}
