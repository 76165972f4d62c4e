//! Grid data for GridDispatch: the three-level grid (镇 town → 管理片区 area → 村 village),
//! GeoJSON import with exhaustive validation, CRS conversion (WGS-84 / GCJ-02 / BD-09), a fast
//! point → cell index, and deterministic synthetic towns.
//!
//! No web or database dependency: the server wraps these types; see `docs/grid.md`.
//!
//! ```
//! use grid_data::{demo_town, GridIndex, Lookup};
//! let grid = demo_town().expect("demo town is valid");
//! let index = GridIndex::new(&grid).expect("has villages");
//! let c = grid.town().code;
//! match index.locate(112.50, 35.05) {
//!     Lookup::Located(found) => assert_eq!(found.town, c),
//!     other => panic!("demo town covers its centre: {other:?}"),
//! }
//! ```

mod code;
pub mod crs;
mod generate;
mod geojson_io;
mod index;
mod model;
mod names;
mod problem;
mod rings;
mod rng;
mod topology;
mod validate;

pub use code::{CellCode, CodeError};
pub use crs::Crs;
pub use generate::{
    demo_town, generate_region, generate_town, GenerateError, RegionConfig, TownConfig,
};
pub use geojson_io::{
    grid_from_feature_collection, grid_to_feature_collection, grid_to_geojson, parse_grid,
    ImportOptions,
};
pub use index::{GridIndex, IndexError, Located, Lookup, SharedIndex};
pub use model::{Cell, CellLevel, Grid};
pub use problem::{LonLat, Problem, ProblemKind};
pub use topology::area_m2;
pub use validate::ValidationOptions;

/// Compile-time proof that the index can be shared across threads (the server relies on it).
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<GridIndex>();
    shareable::<SharedIndex>();
    shareable::<Grid>();
};
