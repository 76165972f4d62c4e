//! GridDispatch: the command & dispatch service for grid-based comprehensive law enforcement
//! (网格化综合行政执法). The binary `griddispatch` is a thin shell over this library.
//!
//! Layers (see docs/architecture.md): `routes` parse and authorise, `domain` decides with no
//! I/O, `store` persists; `db` owns connections and migrations.

pub mod accounts;
pub mod auth;
pub mod config;
pub mod db;
pub mod decision_notices;
pub mod demo;
pub mod demo_categories;
pub mod demo_grid;
pub mod demo_workflow;
pub mod departments;
pub mod documents;
pub mod domain;
pub mod error;
pub mod grid;
pub mod meetings;
pub mod metrics;
pub mod open311;
pub mod openapi;
pub mod reference;
pub mod routes;
pub mod schema;
pub mod sharing;
pub mod startup;
pub mod state;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod tus;
pub mod webhooks;
pub mod workflow;

pub use config::Config;
pub use error::AppError;
pub use startup::Application;
pub use state::AppState;
