//! Synthetic towns are valid, deterministic and follow the code rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use grid_data::{
    area_m2, demo_town, generate_region, generate_town, grid_to_geojson, parse_grid, CellCode,
    CellLevel, GridIndex, ImportOptions, RegionConfig, TownConfig,
};

fn config(seed: u64, areas: u32, villages: u32, enclaves: u32) -> TownConfig {
    TownConfig {
        seed,
        enclaves,
        ..TownConfig::new(
            CellCode::town("410102", 150).unwrap(),
            "测试镇",
            areas,
            villages,
        )
    }
}

#[test]
fn demo_town_is_valid_with_four_areas_and_about_twenty_villages() {
    let grid = demo_town().unwrap();
    assert_eq!(grid.level(CellLevel::Area).count(), 4);
    assert_eq!(grid.level(CellLevel::Village).count(), 21);
    assert!(grid.town().name.contains("示范"));
    let town_area = area_m2(&grid.town().geometry);
    // 5 × 4 cells of ~1.5 km.
    assert!((30e6..60e6).contains(&town_area), "town area {town_area}");
}

#[test]
fn generated_towns_pass_validation_for_many_seeds() {
    for seed in 0..12 {
        let cfg = config(
            seed,
            1 + (seed % 5) as u32,
            3 + (seed % 7) as u32,
            (seed % 3) as u32,
        );
        if let Err(e) = generate_town(&cfg) {
            let problems = match &e {
                grid_data::GenerateError::Invalid(p) => {
                    p.iter().take(5).map(ToString::to_string).collect()
                }
                _ => Vec::new(),
            };
            panic!("seed {seed}: {e}: {problems:#?}");
        }
    }
}

#[test]
fn same_seed_gives_identical_town_and_different_seed_does_not() {
    let a = generate_town(&config(7, 3, 6, 1)).unwrap();
    let b = generate_town(&config(7, 3, 6, 1)).unwrap();
    let c = generate_town(&config(8, 3, 6, 1)).unwrap();
    assert_eq!(a.cells(), b.cells());
    assert_ne!(a.cells(), c.cells());
}

#[test]
fn large_town_uses_fourteen_digit_village_codes() {
    let grid = generate_town(&TownConfig {
        vertices_per_edge: 1,
        ..config(3, 3, 80, 0)
    })
    .unwrap();
    let villages: Vec<_> = grid.level(CellLevel::Village).collect();
    assert_eq!(villages.len(), 240);
    assert!(villages.iter().all(|v| v.code.as_str().len() == 14));
    assert!(villages
        .iter()
        .all(|v| v.code.township_prefix() == "410102150"));
}

#[test]
fn exported_geojson_reimports_to_the_same_grid() {
    let grid = demo_town().unwrap();
    let text = grid_to_geojson(&grid);
    let again = parse_grid(&text, &ImportOptions::default()).unwrap();
    assert_eq!(grid.cells(), again.cells());
}

#[test]
fn region_towns_have_distinct_codes_and_index_together() {
    let cfg = RegionConfig {
        towns: 5,
        ..RegionConfig::with_villages(9, 60)
    };
    let grids = generate_region(&cfg).unwrap();
    assert_eq!(grids.len(), 5);
    // Region towns skip validation for speed: prove here that they would pass.
    for g in &grids {
        let cells = g.cells().to_vec();
        grid_data::Grid::from_cells(cells, &Default::default()).unwrap();
    }
    let index = GridIndex::from_grids(&grids).unwrap();
    assert_eq!(index.village_count(), 5 * 60);
}

#[test]
fn region_for_hundred_thousand_villages_stays_within_code_space() {
    let cfg = RegionConfig::with_villages(1, 100_000);
    assert_eq!(
        cfg.towns * cfg.areas_per_town * cfg.villages_per_area,
        100_000
    );
    assert!(cfg.areas_per_town <= 99);
}
