//! The public page's read: published penalty decisions, newest first, as the public may see
//! them (`domain::workflow::public_decision`). No sign-in.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::workflow::{public_decision, Case, PublicDecision};
use crate::schema::cases;
use crate::store::{grid as grid_store, workflow as store};

/// Published decisions, newest first; `page` from 1, `per_page` ≤ 100.
pub fn published(conn: &mut DbConn, page: i64, per_page: i64) -> QueryResult<Vec<PublicDecision>> {
    let per = per_page.clamp(1, 100);
    let offset = (page.clamp(1, 100_000) - 1) * per;
    let rows: Vec<String> = cases::table
        .filter(cases::status.eq_any(["published", "archived"]))
        .order(cases::updated_at.desc())
        .limit(per)
        .offset(offset)
        .select(cases::data)
        .load(conn)?;
    let mut out = Vec::new();
    for data in rows {
        let c: Case = serde_json::from_str(&data)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        let authority = authority(conn, &c)?;
        if let Some(d) = public_decision(&c, &authority) {
            out.push(d);
        }
    }
    // A page holds the cases changed last; archived no-penalty cases are not public, so a page
    // may hold fewer than `per_page`.
    out.sort_by_key(|d| std::cmp::Reverse(d.published_at));
    Ok(out)
}

/// The deciding body: the town government of the case's report (the legal subject of
/// enforcement, DOMAIN.md §1).
pub fn authority(conn: &mut DbConn, c: &Case) -> QueryResult<String> {
    authority_of_report(conn, &c.report_id)
}

/// The government of the town a report lies in (镇人民政府 when it has no cell yet).
pub fn authority_of_report(conn: &mut DbConn, report_id: &str) -> QueryResult<String> {
    let town = store::report(conn, report_id)?.and_then(|r| r.cell);
    if let Some(cell) = town {
        if let Some(row) = grid_store::find_cell(conn, cell.version, &cell.town)? {
            return Ok(format!("{}人民政府", row.name));
        }
    }
    Ok("镇人民政府".to_owned())
}
