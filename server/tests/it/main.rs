//! The server's integration tests, one binary: each module is one area of the product. One
//! binary links the full stack once instead of once per file (build time and disk on CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod assistance;
mod auth;
mod auth_refresh;
mod auth_throttle;
mod case;
mod cli;
mod console;
mod deadlines;
mod departments;
mod docs;
mod evidence;
mod field;
mod grid;
mod grid_cli;
mod http;
mod input;
mod meetings;
mod migrations;
mod open311;
mod people;
mod photo_copies;
mod privacy;
mod sharing;
mod sync;
mod sync_scope;
mod transfer_in;
mod transfers;
mod tus;
mod webhooks;
mod workflow;
mod workflow_loop;
