//! Duplicate candidates of a report (合并): open reports of the same category, near it and
//! made about the same time — what the console offers the dispatcher before a merge, and the
//! distance the merge rule checks.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use griddispatch_media::GeoPoint;
use serde::Serialize;

use crate::db::DbConn;
use crate::domain::workflow::{MergeRules, Report, ReportStatus};
use crate::schema::reports;

/// Metres between two reports' positions; None when one has no position.
pub fn distance_m(a: &Report, b: &Report) -> Option<f64> {
    let p = GeoPoint::new(a.lat?, a.lon?)?;
    let q = GeoPoint::new(b.lat?, b.lon?)?;
    Some(p.distance_m(&q))
}

/// An open report that may be the same matter.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DuplicateCandidate {
    /// Report id.
    pub report_id: String,
    /// State (`reported`, `needs_info` or `accepted`).
    pub status: String,
    /// Category code (always the report's own).
    pub category_code: String,
    /// What was seen.
    pub description: String,
    /// Village cell.
    pub village: Option<String>,
    /// Distance from the report, metres.
    pub distance_m: f64,
    /// Hours between the two reports (positive: the candidate is older).
    pub age_hours: f64,
    /// Received at.
    #[serde(with = "crate::domain::time::rfc3339")]
    pub created_at: NaiveDateTime,
}

/// The open reports that meet the merge criteria for `report`, nearest first.
pub fn candidates(
    conn: &mut DbConn,
    report: &Report,
    rules: MergeRules,
) -> QueryResult<Vec<DuplicateCandidate>> {
    let window = chrono::Duration::hours(rules.max_hours);
    let open: Vec<&str> = ReportStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let rows: Vec<String> = reports::table
        .filter(reports::category_code.eq(&report.category_code))
        .filter(reports::status.eq_any(open))
        .filter(reports::id.ne(&report.id))
        .filter(reports::created_at.ge(report.created_at - window))
        .filter(reports::created_at.le(report.created_at + window))
        .select(reports::data)
        .load(conn)?;
    let mut out = Vec::new();
    for data in rows {
        let other: Report = serde_json::from_str(&data)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        let Some(d) = distance_m(report, &other) else {
            continue;
        };
        if d > rules.max_distance_m {
            continue;
        }
        out.push(DuplicateCandidate {
            age_hours: (report.created_at - other.created_at).num_seconds() as f64 / 3600.0,
            report_id: other.id,
            status: other.status.as_str().to_owned(),
            category_code: other.category_code,
            description: other.description,
            village: other.cell.map(|c| c.village),
            distance_m: (d * 10.0).round() / 10.0,
            created_at: other.created_at,
        });
    }
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(out)
}
