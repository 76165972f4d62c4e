//! CRS conversion against published reference pairs and round-trip properties.
#![allow(clippy::unwrap_used)]

use grid_data::crs::{
    bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02,
};
use grid_data::Crs;
use proptest::prelude::*;

/// Ground distance in metres between two nearby lon/lat points.
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let k = 111_195.0;
    let dx = (a.0 - b.0) * (a.1.to_radians().cos()) * k;
    let dy = (a.1 - b.1) * k;
    (dx * dx + dy * dy).sqrt()
}

#[test]
fn wgs84_to_gcj02_matches_coordtransform_reference() {
    // wandergis/coordtransform test suite: wgs84togcj02(116.404, 39.915).
    let got = wgs84_to_gcj02(116.404, 39.915);
    assert!(
        metres(got, (116.410_244_499_169_38, 39.916_404_281_501_64)) < 1e-6,
        "{got:?}"
    );
}

#[test]
fn gcj02_to_bd09_matches_coordtransform_reference() {
    let got = gcj02_to_bd09(116.404, 39.915);
    assert!(
        metres(got, (116.410_369_493_710_29, 39.921_336_993_510_21)) < 1e-6,
        "{got:?}"
    );
}

#[test]
fn bd09_to_gcj02_agrees_with_the_closed_form_reference_within_a_few_centimetres() {
    // The reference uses the approximate closed-form inverse; ours is iterated to exactness.
    let got = bd09_to_gcj02(116.404, 39.915);
    assert!(
        metres(got, (116.397_627_291_193_15, 39.908_656_739_576_31)) < 0.5,
        "{got:?}"
    );
}

#[test]
fn wgs84_gcj02_pairs_from_eviltransform_tests() {
    // googollee/eviltransform test vectors (lat, lng order in the source; lon, lat here).
    let pairs = [
        (
            (121.527_210_6, 31.177_427_6),
            (121.531_541_859_215, 31.175_303_983_645_97),
        ), // Shanghai
        (
            (113.912_316, 22.543_847),
            (113.917_176_480_836_3, 22.540_796_131_694_766),
        ), // Shenzhen
        (
            (116.377_817, 39.911_954),
            (116.384_047_224_556_57, 39.913_345_455_360_69),
        ), // Beijing
    ];
    for (wgs, gcj) in pairs {
        assert!(
            metres(wgs84_to_gcj02(wgs.0, wgs.1), gcj) < 0.1,
            "forward {wgs:?}"
        );
        assert!(
            metres(gcj02_to_wgs84(gcj.0, gcj.1), wgs) < 0.1,
            "inverse {gcj:?}"
        );
    }
}

#[test]
fn bd09_to_wgs84_matches_published_pairs_within_their_approximation() {
    // Published BD-09 → WGS-84 test pair (gcoord's test suite); it uses the
    // one-step (≈1–2 m) GCJ-02 inverse, so agreement is only expected to ~2 m.
    let pairs = [((123.0, 45.0), (122.987_622_10, 44.991_715_40))];
    for (bd, wgs) in pairs {
        let got = bd09_to_wgs84(bd.0, bd.1);
        assert!(
            metres(got, wgs) < 2.0,
            "{bd:?} -> {got:?}: {} m",
            metres(got, wgs)
        );
    }
}

#[test]
fn outside_china_gcj02_is_wgs84() {
    let paris = (2.3522, 48.8566);
    assert_eq!(wgs84_to_gcj02(paris.0, paris.1), paris);
    assert_eq!(gcj02_to_wgs84(paris.0, paris.1), paris);
    assert_eq!(Crs::Gcj02.to_wgs84(paris.0, paris.1), paris);
}

#[test]
fn crs_serialises_lowercase() {
    assert_eq!(serde_json::to_string(&Crs::Gcj02).unwrap(), "\"gcj02\"");
    assert_eq!(serde_json::from_str::<Crs>("\"bd09\"").unwrap(), Crs::Bd09);
    assert_eq!(
        serde_json::from_str::<Crs>("\"wgs84\"").unwrap(),
        Crs::Wgs84
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn gcj02_round_trip_is_under_a_centimetre_across_china(lon in 73.5f64..135.0, lat in 18.0f64..53.5) {
        let there = wgs84_to_gcj02(lon, lat);
        prop_assert!(metres(gcj02_to_wgs84(there.0, there.1), (lon, lat)) < 0.01);
        let back = gcj02_to_wgs84(lon, lat);
        prop_assert!(metres(wgs84_to_gcj02(back.0, back.1), (lon, lat)) < 0.01);
    }

    #[test]
    fn bd09_round_trip_is_under_a_centimetre_across_china(lon in 73.5f64..135.0, lat in 18.0f64..53.5) {
        let there = wgs84_to_bd09(lon, lat);
        prop_assert!(metres(bd09_to_wgs84(there.0, there.1), (lon, lat)) < 0.01);
        for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            let (x, y) = crs.from_wgs84(lon, lat);
            prop_assert!(metres(crs.to_wgs84(x, y), (lon, lat)) < 0.01);
        }
    }

    #[test]
    fn gcj02_offset_is_a_few_hundred_metres_at_most(lon in 73.5f64..135.0, lat in 18.0f64..53.5) {
        prop_assert!(metres(wgs84_to_gcj02(lon, lat), (lon, lat)) < 1_000.0);
    }
}
