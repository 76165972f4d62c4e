//! Office hours of a working day (作息时间), in China Standard Time.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// Why a working-hours setting was refused. Messages are Chinese first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkingHoursError {
    /// No period at all: deadlines in working hours could never be reached.
    #[error("工作时间不能为空（working hours must have at least one period）")]
    Empty,
    /// A period ends before or when it starts (periods may not cross midnight).
    #[error(
        "工作时段 {start}–{end} 无效，结束须晚于开始（period must end after it starts, same day）"
    )]
    EmptyPeriod {
        /// The period's start.
        start: NaiveTime,
        /// The period's end.
        end: NaiveTime,
    },
    /// Periods overlap or are out of order.
    #[error("工作时段须按时间先后排列且不重叠：{previous_end} 之后是 {next_start}（periods overlap or are out of order）")]
    Overlap {
        /// End of the earlier period.
        previous_end: NaiveTime,
        /// Start of the following period.
        next_start: NaiveTime,
    },
    /// The text form could not be read.
    #[error("无法解析工作时间“{0}”，应为如 08:30-12:00,14:30-18:00（cannot parse working hours）")]
    Syntax(String),
}

/// One block of office time within a day, `[start, end)` in China Standard Time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkPeriod {
    /// First working instant.
    pub start: NaiveTime,
    /// First instant after the period; a due time may fall exactly here.
    pub end: NaiveTime,
}

impl WorkPeriod {
    /// Length of the period in seconds.
    pub fn seconds(self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

/// The office hours of every working day, validated: non-empty, ordered, non-overlapping periods.
///
/// Default (`Default`): 08:30–12:00 and 14:30–18:00, 7 hours a day — the common schedule of
/// town governments in the southern and central provinces (the summer schedule, 夏季作息, in
/// places that switch; the winter one is typically 14:00–17:30). Set the town's own with
/// [`WorkingHours::new`] or the text form `08:30-12:00,14:30-18:00`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkingHours {
    periods: Vec<WorkPeriod>,
}

impl WorkingHours {
    /// Builds office hours from `(start, end)` pairs, refusing empty, reversed or overlapping ones.
    pub fn new(periods: &[(NaiveTime, NaiveTime)]) -> Result<Self, WorkingHoursError> {
        if periods.is_empty() {
            return Err(WorkingHoursError::Empty);
        }
        let mut checked: Vec<WorkPeriod> = Vec::with_capacity(periods.len());
        for &(start, end) in periods {
            if end <= start {
                return Err(WorkingHoursError::EmptyPeriod { start, end });
            }
            if let Some(previous) = checked.last() {
                if start < previous.end {
                    return Err(WorkingHoursError::Overlap {
                        previous_end: previous.end,
                        next_start: start,
                    });
                }
            }
            checked.push(WorkPeriod { start, end });
        }
        Ok(Self { periods: checked })
    }

    /// The periods of a working day, in order.
    pub fn periods(&self) -> &[WorkPeriod] {
        &self.periods
    }

    /// Working seconds in one full working day.
    pub fn seconds_per_day(&self) -> i64 {
        self.periods.iter().map(|p| p.seconds()).sum()
    }

    /// End of the last period: when the office closes (下班).
    pub fn closing_time(&self) -> NaiveTime {
        // `new` refuses an empty list, so there is always a last period.
        self.periods.last().map_or(NaiveTime::MIN, |p| p.end)
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            periods: vec![
                WorkPeriod {
                    start: hm(8, 30),
                    end: hm(12, 0),
                },
                WorkPeriod {
                    start: hm(14, 30),
                    end: hm(18, 0),
                },
            ],
        }
    }
}

/// A time of day from constants known to be valid.
fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.periods.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}-{}", p.start.format("%H:%M"), p.end.format("%H:%M"))?;
        }
        Ok(())
    }
}

impl FromStr for WorkingHours {
    type Err = WorkingHoursError;

    /// Reads `08:30-12:00,14:30-18:00` (spaces allowed, `–` accepted for `-`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || WorkingHoursError::Syntax(s.to_owned());
        let mut pairs = Vec::new();
        for part in s
            .split([',', '，'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (start, end) = part.split_once(['-', '–']).ok_or_else(syntax)?;
            let start = NaiveTime::parse_from_str(start.trim(), "%H:%M").map_err(|_| syntax())?;
            let end = NaiveTime::parse_from_str(end.trim(), "%H:%M").map_err(|_| syntax())?;
            pairs.push((start, end));
        }
        Self::new(&pairs)
    }
}

impl TryFrom<String> for WorkingHours {
    type Error = WorkingHoursError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<WorkingHours> for String {
    fn from(value: WorkingHours) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_seven_hours_with_a_long_lunch() {
        let hours = WorkingHours::default();
        assert_eq!(hours.seconds_per_day(), 7 * 3600);
        assert_eq!(hours.to_string(), "08:30-12:00,14:30-18:00");
        assert_eq!(hours.closing_time(), hm(18, 0));
    }

    #[test]
    fn text_form_round_trips() {
        let hours: WorkingHours = "08:00-12:00, 14:00 - 17:30".parse().unwrap();
        assert_eq!(hours.to_string(), "08:00-12:00,14:00-17:30");
        assert_eq!(hours.seconds_per_day(), 7 * 3600 + 30 * 60);
        let json = serde_json::to_string(&hours).unwrap();
        assert_eq!(json, r#""08:00-12:00,14:00-17:30""#);
        assert_eq!(serde_json::from_str::<WorkingHours>(&json).unwrap(), hours);
    }

    #[test]
    fn bad_settings_are_rejected() {
        assert_eq!("".parse::<WorkingHours>(), Err(WorkingHoursError::Empty));
        assert!(matches!(
            "12:00-08:30".parse::<WorkingHours>(),
            Err(WorkingHoursError::EmptyPeriod { .. })
        ));
        assert!(matches!(
            "08:30-12:00,11:00-18:00".parse::<WorkingHours>(),
            Err(WorkingHoursError::Overlap { .. })
        ));
        assert!(matches!(
            "14:30-18:00,08:30-12:00".parse::<WorkingHours>(),
            Err(WorkingHoursError::Overlap { .. })
        ));
        assert!(matches!(
            "8h-12h".parse::<WorkingHours>(),
            Err(WorkingHoursError::Syntax(_))
        ));
        assert!(serde_json::from_str::<WorkingHours>(r#""25:00-26:00""#).is_err());
    }
}
