//! Pure domain rules: no I/O, no clock (time is passed in), no HTTP or diesel types.

pub mod account;
pub mod calendar;
pub mod input;
pub mod time;
pub mod workflow;
