//! Wire types of GridDispatch: what travels between the server and its clients
//! (the dispatch console, integrations, phones running the sync engine, `gridsync`).
//!
//! This crate has no database or HTTP dependency so that a phone app can embed it.
//! The `openapi` feature adds `utoipa` schemas for the server's OpenAPI document.

pub mod agency;
pub mod auth;
pub mod case;
pub mod command;
pub mod error;
pub mod role;
pub mod sync;

pub use error::{ErrorBody, ErrorDetail};
pub use role::{Role, UnknownRole};
