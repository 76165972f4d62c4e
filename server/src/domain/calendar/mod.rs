//! Deadlines on the official working-day calendar (DOMAIN.md §5).
//!
//! Pure: no clock (`now` is passed in), no files (year data is passed in as text or values), no
//! database. Instants are UTC `NaiveDateTime`, as stored by the server; days and office hours are
//! read in China Standard Time (北京时间, UTC+8, no daylight saving).
//!
//! - [`HolidayYear`]: one year of exceptions in the public `holiday-cn` JSON format, validated.
//!   The official 2025 and 2026 files ship in `server/data/calendar/` (sources in its README)
//!   and are compiled in: [`WorkCalendar::official`].
//! - [`WorkCalendar`]: working days (Mon–Fri − holidays + 调休 weekends) and hours (default
//!   08:30–12:00, 14:30–18:00), [`WorkCalendar::add_working`] and
//!   [`WorkCalendar::working_minutes_between`].
//! - [`WorkingDuration`]: `5wh`, `1wd`, `24h`, `90d`… as written in the category table.
//! - [`Clock`]: progress, [`WarningLevel`] (yellow at 80 %, red at 100 %), pause/resume, extend.

mod clock;
mod data;
mod duration;
mod hours;
mod work_calendar;

#[cfg(test)]
mod tests;

use chrono::{NaiveDateTime, TimeDelta};

pub use clock::{
    Clock, ClockError, Measure, Pause, WarningLevel, RED_AT_PERCENT, YELLOW_AT_PERCENT,
};
pub use data::{CalendarDataError, HolidayDay, HolidayYear, MAX_YEAR, MIN_YEAR};
pub use duration::{DurationParseError, WorkingDuration, MAX_AMOUNT};
pub use hours::{WorkPeriod, WorkingHours, WorkingHoursError};
pub use work_calendar::WorkCalendar;

/// The official year files shipped with the server (国务院办公厅 notices), as `(year, JSON text)`.
pub const BUNDLED_YEARS: [(i32, &str); 2] = [
    (2025, include_str!("../../../data/calendar/2025.json")),
    (2026, include_str!("../../../data/calendar/2026.json")),
];

impl WorkCalendar {
    /// The calendar of the bundled official years with the default office hours.
    pub fn official() -> Result<Self, CalendarDataError> {
        let years = BUNDLED_YEARS
            .iter()
            .map(|(_, json)| HolidayYear::parse(json))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_years(WorkingHours::default(), years)
    }
}

/// China Standard Time is UTC+8 all year (no daylight saving since 1991).
const CST_OFFSET_SECONDS: i64 = 8 * 3600;

/// A UTC instant as China wall-clock time, saturating at chrono's range.
fn to_local(utc: NaiveDateTime) -> NaiveDateTime {
    utc.checked_add_signed(TimeDelta::seconds(CST_OFFSET_SECONDS))
        .unwrap_or(NaiveDateTime::MAX)
}

/// China wall-clock time as a UTC instant, saturating at chrono's range.
fn to_utc(local: NaiveDateTime) -> NaiveDateTime {
    local
        .checked_sub_signed(TimeDelta::seconds(CST_OFFSET_SECONDS))
        .unwrap_or(NaiveDateTime::MIN)
}
