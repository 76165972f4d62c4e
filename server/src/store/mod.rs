//! Persistence: one module per aggregate, functions over `&mut DbConn` returning
//! `QueryResult`. No HTTP here; callers map errors at their edge.

pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod categories;
pub mod departments;
pub mod grid;
pub mod meetings;
pub mod notifications;
pub mod photo_jobs;
pub mod sessions;
pub mod settings;
pub mod sync;
pub mod throttle;
pub mod uploads;
pub mod users;
pub mod workflow;
