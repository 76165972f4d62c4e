//! The official calendar's exception days, as an admin loads them each year.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::calendar::{HolidayDay, HolidayYear, WorkCalendar, WorkingHours, BUNDLED_YEARS};
use crate::schema::calendar_days;

/// Replace one year's exception days.
pub fn put_year(conn: &mut DbConn, year: &HolidayYear) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(calendar_days::table.filter(calendar_days::year.eq(year.year)))
            .execute(conn)?;
        for d in &year.days {
            diesel::insert_into(calendar_days::table)
                .values((
                    calendar_days::day.eq(d.date),
                    calendar_days::year.eq(year.year),
                    calendar_days::name.eq(&d.name),
                    calendar_days::is_off_day.eq(d.is_off_day),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Every stored year.
pub fn years(conn: &mut DbConn) -> QueryResult<Vec<HolidayYear>> {
    let rows: Vec<(chrono::NaiveDate, i32, String, bool)> = calendar_days::table
        .order(calendar_days::day.asc())
        .select((
            calendar_days::day,
            calendar_days::year,
            calendar_days::name,
            calendar_days::is_off_day,
        ))
        .load(conn)?;
    let mut out: Vec<HolidayYear> = Vec::new();
    for (date, year, name, is_off_day) in rows {
        if out.last().map(|y| y.year) != Some(year) {
            out.push(HolidayYear {
                year,
                papers: vec![],
                days: vec![],
            });
        }
        if let Some(y) = out.last_mut() {
            y.days.push(HolidayDay {
                name,
                date,
                is_off_day,
            });
        }
    }
    Ok(out)
}

/// Store the bundled official years that the database does not have yet, then build the
/// calendar from what is stored (an admin's later upload wins over the bundled file).
pub fn load(conn: &mut DbConn) -> anyhow::Result<WorkCalendar> {
    let stored: Vec<i32> = years(conn)?.iter().map(|y| y.year).collect();
    for (year, json) in BUNDLED_YEARS {
        if !stored.contains(&year) {
            put_year(conn, &HolidayYear::parse(json)?)?;
        }
    }
    Ok(WorkCalendar::from_years(
        WorkingHours::default(),
        years(conn)?,
    )?)
}
