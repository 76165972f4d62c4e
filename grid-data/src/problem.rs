//! Problems found while importing a grid: a stable `kind` code, where, and a Chinese-first message.

use serde::Serialize;

/// A WGS-84 position attached to a problem so a map can show it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LonLat {
    /// Longitude in degrees.
    pub lon: f64,
    /// Latitude in degrees.
    pub lat: f64,
}

/// Stable, snake_case problem codes; clients switch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The text is not GeoJSON or not a FeatureCollection.
    InvalidGeojson,
    /// A required property (`code`, `name`, `level`) is missing.
    MissingProperty,
    /// A property has the wrong type or an unknown value.
    InvalidProperty,
    /// `code` (or `parent`) does not follow the code rules.
    InvalidCode,
    /// `level` disagrees with the shape of `code`.
    LevelCodeMismatch,
    /// Two features share one code.
    DuplicateCode,
    /// The feature has no geometry or a geometry other than (Multi)Polygon.
    InvalidGeometryType,
    /// A coordinate is NaN/infinite, out of lon/lat range, or has fewer than two numbers.
    InvalidCoordinate,
    /// A ring has fewer than three distinct points.
    TooFewPoints,
    /// A ring's last position differs from its first.
    UnclosedRing,
    /// A ring crosses or touches itself.
    SelfIntersection,
    /// A hole lies (partly) outside its polygon's exterior ring.
    HoleOutsideShell,
    /// No town feature.
    MissingTown,
    /// More than one town feature.
    MultipleTowns,
    /// An area or village has no `parent`.
    MissingParent,
    /// `parent` names a code no feature has.
    UnknownParent,
    /// `parent` has the wrong level (village → area → town), or the town has a parent.
    WrongParentLevel,
    /// A child's code does not start with its parent's 9-digit town prefix.
    CodePrefixMismatch,
    /// Part of a child lies outside its parent (area reported in m²).
    OutsideParent,
    /// Two siblings overlap (area reported in m²).
    SiblingOverlap,
    /// Part of a parent is covered by none of its children (area reported in m²).
    Gap,
}

impl ProblemKind {
    /// Every kind, for docs and exhaustive tests.
    pub const ALL: [ProblemKind; 21] = [
        Self::InvalidGeojson,
        Self::MissingProperty,
        Self::InvalidProperty,
        Self::InvalidCode,
        Self::LevelCodeMismatch,
        Self::DuplicateCode,
        Self::InvalidGeometryType,
        Self::InvalidCoordinate,
        Self::TooFewPoints,
        Self::UnclosedRing,
        Self::SelfIntersection,
        Self::HoleOutsideShell,
        Self::MissingTown,
        Self::MultipleTowns,
        Self::MissingParent,
        Self::UnknownParent,
        Self::WrongParentLevel,
        Self::CodePrefixMismatch,
        Self::OutsideParent,
        Self::SiblingOverlap,
        Self::Gap,
    ];

    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidGeojson => "invalid_geojson",
            Self::MissingProperty => "missing_property",
            Self::InvalidProperty => "invalid_property",
            Self::InvalidCode => "invalid_code",
            Self::LevelCodeMismatch => "level_code_mismatch",
            Self::DuplicateCode => "duplicate_code",
            Self::InvalidGeometryType => "invalid_geometry_type",
            Self::InvalidCoordinate => "invalid_coordinate",
            Self::TooFewPoints => "too_few_points",
            Self::UnclosedRing => "unclosed_ring",
            Self::SelfIntersection => "self_intersection",
            Self::HoleOutsideShell => "hole_outside_shell",
            Self::MissingTown => "missing_town",
            Self::MultipleTowns => "multiple_towns",
            Self::MissingParent => "missing_parent",
            Self::UnknownParent => "unknown_parent",
            Self::WrongParentLevel => "wrong_parent_level",
            Self::CodePrefixMismatch => "code_prefix_mismatch",
            Self::OutsideParent => "outside_parent",
            Self::SiblingOverlap => "sibling_overlap",
            Self::Gap => "gap",
        }
    }
}

/// One thing wrong with the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Stable problem code.
    pub kind: ProblemKind,
    /// Code of the feature at fault as written in the input (may itself be invalid).
    pub code: Option<String>,
    /// 0-based index of the feature in the input, when the problem belongs to one.
    pub feature_index: Option<usize>,
    /// Where on the map, when the problem has a place.
    pub location: Option<LonLat>,
    /// Area in m² for overlaps, gaps and parts outside the parent.
    pub area_m2: Option<f64>,
    /// The other cell involved (overlapping sibling, parent), when there is one.
    pub related: Option<String>,
    /// Human message, Chinese first then English.
    pub message: String,
}

impl Problem {
    /// A problem not yet tied to a feature.
    pub(crate) fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: None,
            feature_index: None,
            location: None,
            area_m2: None,
            related: None,
            message: message.into(),
        }
    }

    /// Tie the problem to a feature.
    pub(crate) fn feature(mut self, index: usize, code: Option<&str>) -> Self {
        self.feature_index = Some(index);
        self.code = code.map(str::to_owned);
        self
    }

    /// Attach a location.
    pub(crate) fn at(mut self, lon: f64, lat: f64) -> Self {
        self.location = Some(LonLat { lon, lat });
        self
    }

    /// Attach an area in m².
    pub(crate) fn area(mut self, m2: f64) -> Self {
        self.area_m2 = Some(m2);
        self
    }

    /// Attach the other cell involved.
    pub(crate) fn related(mut self, code: impl Into<String>) -> Self {
        self.related = Some(code.into());
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}]", self.kind.as_str())?;
        match (&self.code, self.feature_index) {
            (Some(code), _) => write!(f, " {code}")?,
            (None, Some(i)) => write!(f, " #{i}")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)
    }
}
