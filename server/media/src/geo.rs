//! Geo check: how far the photo's EXIF position is from where the phone says it was.

use serde::{Deserialize, Serialize};

/// Default distance above which a photo's position is flagged, in metres.
pub const DEFAULT_GEO_THRESHOLD_M: f64 = 200.0;

/// Mean Earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in decimal degrees; only valid coordinates can be built.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

impl GeoPoint {
    /// Builds a point; `None` unless latitude is in [-90, 90] and longitude in [-180, 180].
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
            .then_some(Self { lat, lon })
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle (haversine) distance to another point, in metres.
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// Result of comparing the phone-reported position with the photo's EXIF GPS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoCheck {
    /// Distance between the two positions, in metres.
    pub distance_m: f64,
    /// True when the distance is above the threshold: the photo may not be from here.
    pub exceeds_threshold: bool,
}

/// Compares the reported and EXIF positions; `None` when either is unknown.
pub fn check_position(
    reported: Option<GeoPoint>,
    exif: Option<GeoPoint>,
    threshold_m: f64,
) -> Option<GeoCheck> {
    let distance_m = reported?.distance_m(&exif?);
    Some(GeoCheck {
        distance_m,
        exceeds_threshold: distance_m > threshold_m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_known_distance() {
        // Tiananmen to the Shanghai Bund: about 1067 km.
        let beijing = GeoPoint::new(39.9042, 116.3974).unwrap();
        let shanghai = GeoPoint::new(31.2400, 121.4900).unwrap();
        let d = beijing.distance_m(&shanghai);
        assert!((d - 1_067_000.0).abs() < 5_000.0, "{d}");
        assert_eq!(beijing.distance_m(&beijing), 0.0);
    }

    #[test]
    fn far_positions_are_flagged() {
        let a = GeoPoint::new(30.0, 120.0).unwrap();
        // 0.001° of latitude is about 111 m.
        let near = GeoPoint::new(30.001, 120.0).unwrap();
        let far = GeoPoint::new(30.003, 120.0).unwrap();
        let c = check_position(Some(a), Some(near), DEFAULT_GEO_THRESHOLD_M).unwrap();
        assert!(!c.exceeds_threshold && (c.distance_m - 111.2).abs() < 1.0);
        let c = check_position(Some(a), Some(far), DEFAULT_GEO_THRESHOLD_M).unwrap();
        assert!(c.exceeds_threshold);
        assert_eq!(check_position(None, Some(a), 200.0), None);
    }

    #[test]
    fn invalid_coordinates_cannot_be_built() {
        assert!(GeoPoint::new(91.0, 0.0).is_none());
        assert!(GeoPoint::new(0.0, -180.5).is_none());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
    }
}
