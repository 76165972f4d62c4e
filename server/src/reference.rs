//! Reference data an admin keeps (event categories, the official calendar): each change is
//! stored together with its entry in the full-process record, in one transaction, for the
//! admin API and any other caller alike (as `accounts` does for accounts).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::domain::calendar::HolidayYear;
use crate::store::audit;
use crate::store::categories::{self, CategoryRow};

/// Create or change a category, recorded as `put_category` by `admin`.
pub fn put_category(
    conn: &mut DbConn,
    admin: &str,
    row: &CategoryRow,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let before = categories::find(conn, &row.code)?;
        audit::record_action(
            conn,
            admin,
            "put_category",
            &json!(row),
            &json!({"category": before}),
            &json!({"category": row}),
            now,
        )?;
        categories::put(conn, row)
    })
}

/// Store a year's calendar, recorded as `put_calendar` by `admin`.
pub fn put_calendar(
    conn: &mut DbConn,
    admin: &str,
    year: &HolidayYear,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let before = crate::store::calendar::years(conn)?
            .into_iter()
            .find(|y| y.year == year.year);
        audit::record_action(
            conn,
            admin,
            "put_calendar",
            &json!({"year": year.year}),
            &json!({"calendar": before}),
            &json!({"calendar": year}),
            now,
        )?;
        crate::store::calendar::put_year(conn, year)
    })
}
