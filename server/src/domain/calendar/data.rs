//! One year of official calendar exceptions in the public `holiday-cn` JSON format.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Earliest year a calendar file may describe; older years are surely a typo.
pub const MIN_YEAR: i32 = 2000;
/// Latest year a calendar file may describe.
pub const MAX_YEAR: i32 = 2199;

/// Why a calendar file (or a set of them) was refused. Messages are Chinese first.
#[derive(Debug, thiserror::Error)]
pub enum CalendarDataError {
    /// The text is not JSON of the `holiday-cn` shape.
    #[error("日历文件格式错误（calendar file is not valid holiday-cn JSON）：{0}")]
    Json(#[source] serde_json::Error),
    /// The `year` field is implausible.
    #[error("日历年份 {year} 超出范围 {MIN_YEAR}–{MAX_YEAR}（year out of range）")]
    YearOutOfRange {
        /// The year found in the file.
        year: i32,
    },
    /// A listed date is not in the file's year.
    #[error("日期 {date} 不属于 {year} 年（date outside the file's year）")]
    DateOutsideYear {
        /// The file's year.
        year: i32,
        /// The offending date.
        date: NaiveDate,
    },
    /// The same date is listed twice.
    #[error("日期 {date} 重复出现（duplicate date）")]
    DuplicateDate {
        /// The repeated date.
        date: NaiveDate,
    },
    /// A day has an empty holiday name.
    #[error("日期 {date} 缺少节日名称（empty holiday name）")]
    EmptyName {
        /// The date with no name.
        date: NaiveDate,
    },
    /// An adjusted working day (调休上班) falls on a weekday, which would change nothing.
    #[error("调休上班日 {date} 不是周末（adjusted working day is not a Saturday or Sunday）")]
    WorkdayNotWeekend {
        /// The weekday marked as a working day.
        date: NaiveDate,
    },
    /// Two files for the same year were loaded into one calendar.
    #[error("{year} 年的日历已加载（calendar year loaded twice）")]
    DuplicateYear {
        /// The repeated year.
        year: i32,
    },
}

/// One exception day: a holiday (放假) or an adjusted working weekend day (调休上班).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HolidayDay {
    /// The holiday the day belongs to, e.g. `春节`.
    pub name: String,
    /// The calendar date in China.
    pub date: NaiveDate,
    /// `true`: no work that day; `false`: a weekend day worked in exchange.
    pub is_off_day: bool,
}

/// A validated `holiday-cn` year file: `{"year", "papers", "days"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayYear {
    /// The calendar year the file describes.
    pub year: i32,
    /// Links to the State Council notices the data comes from.
    #[serde(default)]
    pub papers: Vec<String>,
    /// The exceptions to Monday–Friday, in any order.
    pub days: Vec<HolidayDay>,
}

impl HolidayYear {
    /// Parses and validates a `holiday-cn` JSON file's text.
    pub fn parse(json: &str) -> Result<Self, CalendarDataError> {
        let year: Self = serde_json::from_str(json).map_err(CalendarDataError::Json)?;
        year.validate()?;
        Ok(year)
    }

    /// Checks the rules [`HolidayYear::parse`] applies, for values built in code.
    pub fn validate(&self) -> Result<(), CalendarDataError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&self.year) {
            return Err(CalendarDataError::YearOutOfRange { year: self.year });
        }
        let mut seen = BTreeSet::new();
        for day in &self.days {
            if day.date.year() != self.year {
                return Err(CalendarDataError::DateOutsideYear {
                    year: self.year,
                    date: day.date,
                });
            }
            if !seen.insert(day.date) {
                return Err(CalendarDataError::DuplicateDate { date: day.date });
            }
            if day.name.trim().is_empty() {
                return Err(CalendarDataError::EmptyName { date: day.date });
            }
            if !day.is_off_day && !is_weekend(day.date) {
                return Err(CalendarDataError::WorkdayNotWeekend { date: day.date });
            }
        }
        Ok(())
    }
}

/// Saturday or Sunday.
pub(super) fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<HolidayYear, CalendarDataError> {
        HolidayYear::parse(json)
    }

    #[test]
    fn parses_holiday_cn_format_and_ignores_schema_fields() {
        let year = parse(
            r#"{"$schema":"x","$id":"y","year":2026,"papers":["p"],
                "days":[{"name":"元旦","date":"2026-01-01","isOffDay":true},
                        {"name":"元旦","date":"2026-01-04","isOffDay":false}]}"#,
        )
        .unwrap();
        assert_eq!(year.year, 2026);
        assert_eq!(year.days.len(), 2);
        assert!(year.days[0].is_off_day);
        assert!(!year.days[1].is_off_day);
    }

    #[test]
    fn papers_may_be_missing() {
        let year = parse(r#"{"year":2026,"days":[]}"#).unwrap();
        assert!(year.papers.is_empty());
    }

    #[test]
    fn invalid_json_is_rejected() {
        let err =
            parse(r#"{"year":2026,"days":[{"name":"元旦","date":"2026-13-01","isOffDay":true}]}"#)
                .unwrap_err();
        assert!(matches!(err, CalendarDataError::Json(_)), "{err}");
        assert!(err.to_string().starts_with("日历文件格式错误"));
        assert!(matches!(parse("not json"), Err(CalendarDataError::Json(_))));
        assert!(matches!(
            parse(r#"{"year":2026,"days":[{"name":"元旦","date":"2026-01-01"}]}"#),
            Err(CalendarDataError::Json(_))
        ));
    }

    #[test]
    fn date_outside_year_is_rejected() {
        let err =
            parse(r#"{"year":2026,"days":[{"name":"元旦","date":"2025-01-01","isOffDay":true}]}"#)
                .unwrap_err();
        assert!(matches!(
            err,
            CalendarDataError::DateOutsideYear { year: 2026, .. }
        ));
        assert!(err.to_string().contains("2025-01-01"));
    }

    #[test]
    fn duplicate_date_is_rejected() {
        let err = parse(
            r#"{"year":2026,"days":[{"name":"元旦","date":"2026-01-01","isOffDay":true},
                                     {"name":"春节","date":"2026-01-01","isOffDay":true}]}"#,
        )
        .unwrap_err();
        assert!(matches!(err, CalendarDataError::DuplicateDate { .. }));
    }

    #[test]
    fn blank_name_is_rejected() {
        let err =
            parse(r#"{"year":2026,"days":[{"name":"  ","date":"2026-01-01","isOffDay":true}]}"#)
                .unwrap_err();
        assert!(matches!(err, CalendarDataError::EmptyName { .. }));
    }

    #[test]
    fn working_day_on_a_weekday_is_rejected() {
        // 2026-01-05 is a Monday: marking it a working day is a typo, not a 调休.
        let err =
            parse(r#"{"year":2026,"days":[{"name":"元旦","date":"2026-01-05","isOffDay":false}]}"#)
                .unwrap_err();
        assert!(matches!(err, CalendarDataError::WorkdayNotWeekend { .. }));
    }

    #[test]
    fn implausible_year_is_rejected() {
        assert!(matches!(
            parse(r#"{"year":1900,"days":[]}"#),
            Err(CalendarDataError::YearOutOfRange { year: 1900 })
        ));
    }

    #[test]
    fn serialises_back_to_holiday_cn_field_names() {
        let year = parse(r#"{"year":2026,"papers":[],"days":[{"name":"元旦","date":"2026-01-01","isOffDay":true}]}"#)
            .unwrap();
        let json = serde_json::to_string(&year).unwrap();
        assert!(json.contains(r#""isOffDay":true"#), "{json}");
        assert_eq!(HolidayYear::parse(&json).unwrap(), year);
    }
}
