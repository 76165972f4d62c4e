//! Statistics per cell (rolled up to area and town), squad, category or period of receipt
//! (按期处置率, 结案率, 返工率 …).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::domain::workflow::{Report, ReportStatus, Task};
use crate::schema::{reports, tasks};

/// One group's figures.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct StatsRow {
    /// Village, area or town code, squad id, category code, or day (`YYYY-MM-DD`) or month
    /// (`YYYY-MM`, China time) of receipt.
    pub key: String,
    /// Reports received.
    pub received: i64,
    /// Reports closed (结案).
    pub closed: i64,
    /// Share of received reports closed (结案率).
    pub closure_rate: Option<f64>,
    /// Tasks handled.
    pub handled: i64,
    /// Share of handled tasks handled by their due time (按期处置率).
    pub on_time_rate: Option<f64>,
    /// Share of tasks sent back by a failed re-check (返工率).
    pub rework_rate: Option<f64>,
    /// Share of tasks given an extension (延期率).
    pub extension_rate: Option<f64>,
    /// Share of tasks returned by their squad (回退率; counts against the squad).
    pub return_rate: Option<f64>,
    /// Median minutes from dispatch to acknowledgement.
    pub median_ack_minutes: Option<i64>,
    /// Median minutes from dispatch to handling.
    pub median_handle_minutes: Option<i64>,
}

/// Running totals of one group.
struct Acc {
    row: StatsRow,
    acks: Vec<i64>,
    handles: Vec<i64>,
    tasks: i64,
    on_time: i64,
    rework: i64,
    extended: i64,
    returned: i64,
}

impl Acc {
    fn new(key: String) -> Self {
        Acc {
            row: StatsRow {
                key,
                ..StatsRow::default()
            },
            acks: vec![],
            handles: vec![],
            tasks: 0,
            on_time: 0,
            rework: 0,
            extended: 0,
            returned: 0,
        }
    }
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Which reports the figures count.
#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    /// Only reports of these villages (a grid leader's cells); None: the whole town.
    pub villages: Option<Vec<String>>,
    /// Only reports received at or after this instant (UTC).
    pub from: Option<NaiveDateTime>,
    /// Only reports received before this instant (UTC).
    pub until: Option<NaiveDateTime>,
}

impl StatsFilter {
    fn counts(&self, r: &Report) -> bool {
        let in_cells = self.villages.as_ref().is_none_or(|vs| {
            r.cell
                .as_ref()
                .is_some_and(|c| vs.iter().any(|v| v == &c.village))
        });
        in_cells
            && self.from.is_none_or(|f| r.created_at >= f)
            && self.until.is_none_or(|u| r.created_at < u)
    }
}

/// The China wall-clock time (UTC+8) of a UTC instant.
fn china_time(utc: NaiveDateTime) -> NaiveDateTime {
    utc + chrono::Duration::hours(8)
}

/// The groupings `compute` knows: a village cell and its roll-ups to area and town, the squad,
/// the category, and the China calendar day or month of receipt.
pub const GROUPS: [&str; 7] = ["cell", "area", "town", "squad", "category", "day", "month"];

/// Compute the figures grouped by one of [`GROUPS`], over the reports the filter
/// lets through (and their tasks).
pub fn compute(
    conn: &mut DbConn,
    group_by: &str,
    filter: &StatsFilter,
) -> QueryResult<Vec<StatsRow>> {
    let parse = |e: serde_json::Error| diesel::result::Error::DeserializationError(Box::new(e));
    let reports: Vec<Report> = reports::table
        .select(reports::data)
        .load::<String>(conn)?
        .iter()
        .map(|d| serde_json::from_str(d).map_err(parse))
        .collect::<Result<Vec<Report>, _>>()?
        .into_iter()
        .filter(|r| filter.counts(r))
        .collect();
    let tasks: Vec<Task> = tasks::table
        .select(tasks::data)
        .load::<String>(conn)?
        .iter()
        .map(|d| serde_json::from_str(d).map_err(parse))
        .collect::<Result<_, _>>()?;
    let by_report: BTreeMap<&str, &Report> = reports.iter().map(|r| (r.id.as_str(), r)).collect();
    let tasks: Vec<Task> = tasks
        .into_iter()
        .filter(|t| by_report.contains_key(t.report_id.as_str()))
        .collect();
    let report_key = |r: &Report| match group_by {
        "cell" => r.cell.as_ref().map(|c| c.village.clone()),
        "area" => r.cell.as_ref().map(|c| c.area.clone()),
        "town" => r.cell.as_ref().map(|c| c.town.clone()),
        "category" => Some(r.category_code.clone()),
        // Periods are China calendar days and months (UTC+8) of receipt.
        "day" => Some(china_time(r.created_at).format("%Y-%m-%d").to_string()),
        "month" => Some(china_time(r.created_at).format("%Y-%m").to_string()),
        _ => None,
    };
    let mut rows: BTreeMap<String, Acc> = BTreeMap::new();
    for r in &reports {
        let key = match group_by {
            "squad" => r
                .task_id
                .as_ref()
                .and_then(|t| tasks.iter().find(|x| &x.id == t))
                .map(|t| t.squad_id.clone()),
            _ => report_key(r),
        };
        let Some(key) = key else { continue };
        let e = rows.entry(key.clone()).or_insert_with(|| Acc::new(key));
        e.row.received += 1;
        if r.status == ReportStatus::Closed {
            e.row.closed += 1;
        }
    }
    for t in &tasks {
        let key = match group_by {
            "squad" => Some(t.squad_id.clone()),
            _ => by_report
                .get(t.report_id.as_str())
                .and_then(|r| report_key(r)),
        };
        let Some(key) = key else { continue };
        let e = rows.entry(key.clone()).or_insert_with(|| Acc::new(key));
        e.tasks += 1;
        if let Some(a) = t.accepted_at {
            e.acks.push((a - t.dispatched_at).num_minutes());
        }
        if let Some(h) = t.handled_at.or(t.closed_at) {
            e.handles.push((h - t.dispatched_at).num_minutes());
            e.row.handled += 1;
            if h <= t.due_at {
                e.on_time += 1;
            }
        }
        if t.rework_count > 0 {
            e.rework += 1;
        }
        if t.extension_count > 0 {
            e.extended += 1;
        }
        if t.return_count > 0 {
            e.returned += 1;
        }
    }
    Ok(rows
        .into_values()
        .map(|a| {
            let mut row = a.row;
            row.on_time_rate = rate(a.on_time, row.handled);
            row.rework_rate = rate(a.rework, a.tasks);
            row.extension_rate = rate(a.extended, a.tasks);
            row.return_rate = rate(a.returned, a.tasks);
            row.closure_rate = rate(row.closed, row.received);
            row.median_ack_minutes = median(a.acks);
            row.median_handle_minutes = median(a.handles);
            row
        })
        .collect())
}
