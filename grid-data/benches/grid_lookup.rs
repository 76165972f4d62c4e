//! Grid lookup benchmark: ns per point lookup and index build time at 1k/10k/100k villages, plus
//! memory per village (the index's own heap estimate and RSS growth while building it).
//!
//! Run: `cargo bench -p grid-data --bench grid_lookup -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use geo::BoundingRect;
use grid_data::{generate_region, Grid, GridIndex, RegionConfig};

/// Resident set size in bytes (Linux `/proc/self/statm`), 0 elsewhere.
///
/// A counting `#[global_allocator]` would be more exact but needs `unsafe impl GlobalAlloc`,
/// which the workspace forbids; RSS growth around the build is a fair second measure.
fn rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<i64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

const SIZES: [u32; 3] = [1_000, 10_000, 100_000];
const QUERIES: usize = 10_000;

/// Deterministic query points: uniform in random towns' bounding boxes (mostly inside villages).
fn queries(grids: &[Grid]) -> Vec<(f64, f64)> {
    let mut state = 0x1234_5678_9abc_def0_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..QUERIES)
        .map(|_| {
            let g = &grids[(next() * grids.len() as f64) as usize % grids.len()];
            let r = g.town().geometry.bounding_rect().unwrap();
            (
                r.min().x + next() * r.width(),
                r.min().y + next() * r.height(),
            )
        })
        .collect()
}

/// 1 000 points on a ring 1–5 km outside the region's bounding box.
fn outside_ring(grids: &[Grid]) -> Vec<(f64, f64)> {
    let rects: Vec<_> = grids
        .iter()
        .filter_map(|g| g.town().geometry.bounding_rect())
        .collect();
    let min_x = rects
        .iter()
        .map(|r| r.min().x)
        .fold(f64::INFINITY, f64::min);
    let min_y = rects
        .iter()
        .map(|r| r.min().y)
        .fold(f64::INFINITY, f64::min);
    let max_x = rects
        .iter()
        .map(|r| r.max().x)
        .fold(f64::NEG_INFINITY, f64::max);
    let max_y = rects
        .iter()
        .map(|r| r.max().y)
        .fold(f64::NEG_INFINITY, f64::max);
    (0..1_000)
        .map(|i| {
            let t = f64::from(i) / 1_000.0;
            let margin = 0.01 + 0.04 * ((i * 7919) % 100) as f64 / 100.0;
            match i % 4 {
                0 => (min_x + t * (max_x - min_x), min_y - margin),
                1 => (min_x + t * (max_x - min_x), max_y + margin),
                2 => (min_x - margin, min_y + t * (max_y - min_y)),
                _ => (max_x + margin, min_y + t * (max_y - min_y)),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut lookup = c.benchmark_group("grid_lookup");
    let mut built = Vec::new();
    for n in SIZES {
        let grids = generate_region(&RegionConfig::with_villages(7, n)).unwrap();
        let before = rss_bytes();
        let index = GridIndex::from_grids(&grids).unwrap();
        let held = rss_bytes() - before;
        let vertices: usize = grids
            .iter()
            .flat_map(|g| g.cells())
            .filter(|c| c.level == grid_data::CellLevel::Village)
            .map(|c| {
                c.geometry
                    .0
                    .iter()
                    .map(|p| p.exterior().0.len())
                    .sum::<usize>()
            })
            .sum();
        println!(
            "memory n={n}: estimate {:.0} B/village, RSS growth {:.0} B/village ({:.1} vertices/village)",
            index.approx_heap_bytes() as f64 / f64::from(n),
            held as f64 / f64::from(n),
            vertices as f64 / f64::from(n)
        );
        // Inside points measure the hot path; outside points (a ring around the region) the
        // nearest-village search, which is rarer and slower.
        let (points, outside): (Vec<_>, Vec<_>) = queries(&grids)
            .into_iter()
            .partition(|p| index.locate_inside(p.0, p.1).is_some());
        println!(
            "queries n={n}: {} inside, {} in gaps between towns (dropped)",
            points.len(),
            outside.len()
        );
        lookup.throughput(Throughput::Elements(points.len() as u64));
        lookup.bench_with_input(
            BenchmarkId::new("locate_inside_point", n),
            &points,
            |b, pts| {
                b.iter(|| {
                    for &(x, y) in pts {
                        black_box(index.locate(black_box(x), black_box(y)));
                    }
                });
            },
        );
        let far = outside_ring(&grids);
        lookup.throughput(Throughput::Elements(far.len() as u64));
        lookup.bench_with_input(
            BenchmarkId::new("locate_outside_point", n),
            &far,
            |b, pts| {
                b.iter(|| {
                    for &(x, y) in pts {
                        black_box(index.locate(black_box(x), black_box(y)));
                    }
                });
            },
        );
        built.push((n, grids));
    }
    lookup.finish();

    let mut build = c.benchmark_group("grid_index_build");
    build.sample_size(10);
    for (n, grids) in &built {
        build.bench_with_input(BenchmarkId::new("build", n), grids, |b, g| {
            b.iter(|| black_box(GridIndex::from_grids(g).unwrap()));
        });
    }
    build.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
