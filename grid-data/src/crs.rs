//! Coordinate systems used by phones in China, and conversion to the WGS-84 we store.
//!
//! - WGS-84: raw GPS.
//! - GCJ-02 (国测局坐标, "Mars coordinates"): WGS-84 plus a published non-linear offset of a few
//!   hundred metres, applied inside China only (Amap, Tencent maps).
//! - BD-09: Baidu's extra rotation/scaling on top of GCJ-02.
//!
//! The forward formulas are the widely used public ones (same constants as the open-source
//! `coordtransform` / `eviltransform` libraries). The inverses have no closed form; we invert by
//! fixed-point iteration, which converges to < 1e-9 m in a few steps because the offset varies
//! slowly (its Jacobian is within ~1e-4 of the identity).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

/// Krasovsky 1940 semi-major axis used by GCJ-02.
const A: f64 = 6_378_245.0;
/// Krasovsky 1940 first eccentricity squared.
const EE: f64 = 0.006_693_421_622_965_943;
/// BD-09's angle constant.
const X_PI: f64 = PI * 3000.0 / 180.0;
/// Iteration stops when a step moves less than this many degrees (~1e-8 m).
const STEP_EPS_DEG: f64 = 1e-13;
/// Iteration cap; convergence normally takes 3–5 steps.
const MAX_STEPS: usize = 30;

/// Coordinate reference system of an incoming position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS-84 (GPS); the storage CRS.
    #[default]
    Wgs84,
    /// GCJ-02 (Amap, Tencent).
    Gcj02,
    /// BD-09 (Baidu).
    Bd09,
}

/// A coordinate system name that is not one of `wgs84`, `gcj02`, `bd09`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCrs(pub String);

impl std::fmt::Display for UnknownCrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown coordinate system `{}` (use wgs84, gcj02 or bd09)",
            self.0
        )
    }
}

impl std::error::Error for UnknownCrs {}

/// The one parser of CRS names (commands, queries, the CLI): `wgs84`, `gcj02`, `bd09`, in any
/// case; anything else is an error, never a silent WGS-84.
impl std::str::FromStr for Crs {
    type Err = UnknownCrs;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "wgs84" => Ok(Self::Wgs84),
            "gcj02" => Ok(Self::Gcj02),
            "bd09" => Ok(Self::Bd09),
            _ => Err(UnknownCrs(s.to_owned())),
        }
    }
}

impl<'de> Deserialize<'de> for Crs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Crs {
    /// Convert a position `(lon, lat)` in this CRS to WGS-84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => gcj02_to_wgs84(lon, lat),
            Self::Bd09 => bd09_to_wgs84(lon, lat),
        }
    }

    /// Convert a WGS-84 position `(lon, lat)` to this CRS.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Self::Wgs84 => (lon, lat),
            Self::Gcj02 => wgs84_to_gcj02(lon, lat),
            Self::Bd09 => wgs84_to_bd09(lon, lat),
        }
    }
}

/// Whether GCJ-02 applies its offset here (the coarse box the public algorithm uses).
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn offset_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// WGS-84 → GCJ-02; identity outside China.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let d_lat = offset_lat(lon - 105.0, lat - 35.0);
    let d_lon = offset_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// Invert `forward` at `target` by fixed-point iteration starting from `start`.
fn invert(
    forward: impl Fn(f64, f64) -> (f64, f64),
    target: (f64, f64),
    start: (f64, f64),
) -> (f64, f64) {
    let (mut lon, mut lat) = start;
    for _ in 0..MAX_STEPS {
        let (f_lon, f_lat) = forward(lon, lat);
        let (step_lon, step_lat) = (f_lon - target.0, f_lat - target.1);
        lon -= step_lon;
        lat -= step_lat;
        if step_lon.abs() < STEP_EPS_DEG && step_lat.abs() < STEP_EPS_DEG {
            break;
        }
    }
    (lon, lat)
}

/// GCJ-02 → WGS-84, inverted iteratively (round-trip error ≪ 1 cm); identity outside China.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    invert(wgs84_to_gcj02, (lon, lat), (lon, lat))
}

/// GCJ-02 → BD-09 (Baidu's published forward formula).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02: the usual closed-form approximation refined iteratively to exactness.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    invert(
        gcj02_to_bd09,
        (lon, lat),
        (z * theta.cos(), z * theta.sin()),
    )
}

/// WGS-84 → BD-09 (via GCJ-02).
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g_lon, g_lat)
}

/// BD-09 → WGS-84 (via GCJ-02).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(g_lon, g_lat)
}
