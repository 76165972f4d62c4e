//! Deadline lengths (时限) as written in the category table: `5wh`, `1wd`, `24h`, `90d`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Largest amount accepted from text; larger values are typos, and bounding them keeps the
/// day-by-day calendar walk short.
pub const MAX_AMOUNT: u32 = 100_000;

/// A deadline length, either on the working calendar or in natural (calendar) time.
///
/// Text form (`Display`/`FromStr`/serde): a positive integer and a unit, spaces optional —
///
/// | unit | meaning | also accepted |
/// |---|---|---|
/// | `wm` | working minutes | `working minutes`, `工作分钟` |
/// | `wh` | working hours (工作小时) | `working hours`, `工作小时`, `个工作小时` |
/// | `wd` | working days (工作日) | `working days`, `工作日`, `个工作日` |
/// | `h` | natural hours, e.g. "urgent 24 h" | `hours`, `小时`, `个小时` |
/// | `d` | natural days (自然日), e.g. "90 days from filing" | `days`, `天`, `日`, `自然日` |
///
/// Law often writes days as `日`; note 行政处罚法 art. 85 reads its 2/3/5/7-day periods as
/// working days, so the category table should say `3wd`, not `3d`, for those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkingDuration {
    /// Minutes counted inside working periods only.
    WorkingMinutes(u32),
    /// Hours counted inside working periods only (lunch, nights, rest days skipped).
    WorkingHours(u32),
    /// Due at the close of the Nth working day after the start day (the start day never counts).
    WorkingDays(u32),
    /// Natural hours: exactly N × 60 minutes later, whatever the day.
    NaturalHours(u32),
    /// Natural days: midnight ending the Nth day after the start day, moved to the close of
    /// the next working day when that day is a rest day.
    NaturalDays(u32),
}

impl WorkingDuration {
    /// Whether the duration is measured on the working calendar (progress in working time).
    pub fn is_working_time(self) -> bool {
        matches!(
            self,
            Self::WorkingMinutes(_) | Self::WorkingHours(_) | Self::WorkingDays(_)
        )
    }

    /// The number in front of the unit.
    pub fn amount(self) -> u32 {
        match self {
            Self::WorkingMinutes(n)
            | Self::WorkingHours(n)
            | Self::WorkingDays(n)
            | Self::NaturalHours(n)
            | Self::NaturalDays(n) => n,
        }
    }
}

/// Why a deadline text was refused. Messages are Chinese first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationParseError {
    /// Nothing given.
    #[error("时限为空（empty duration）")]
    Empty,
    /// No leading number.
    #[error("时限“{0}”缺少数字，应为如 5wh、1wd、24h、90d（duration needs a number）")]
    MissingAmount(String),
    /// Zero is not a deadline.
    #[error("时限“{0}”不能为零（duration must be positive）")]
    Zero(String),
    /// Larger than [`MAX_AMOUNT`].
    #[error("时限“{0}”过大，最多 {MAX_AMOUNT}（duration too large）")]
    TooLarge(String),
    /// The unit is none of the known ones.
    #[error("时限“{text}”的单位“{unit}”无法识别，可用 wm、wh、wd、h、d（unknown unit）")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit part that was not understood.
        unit: String,
    },
}

impl fmt::Display for WorkingDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self {
            Self::WorkingMinutes(_) => "wm",
            Self::WorkingHours(_) => "wh",
            Self::WorkingDays(_) => "wd",
            Self::NaturalHours(_) => "h",
            Self::NaturalDays(_) => "d",
        };
        write!(f, "{}{unit}", self.amount())
    }
}

impl FromStr for WorkingDuration {
    type Err = DurationParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(DurationParseError::Empty);
        }
        let digits_end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(digits_end);
        if digits.is_empty() {
            return Err(DurationParseError::MissingAmount(text.to_owned()));
        }
        // Only ASCII digits are left, so the parse fails on overflow alone.
        let amount = match digits.parse::<u32>() {
            Ok(n) if n > MAX_AMOUNT => return Err(DurationParseError::TooLarge(text.to_owned())),
            Ok(0) => return Err(DurationParseError::Zero(text.to_owned())),
            Ok(n) => n,
            Err(_) => return Err(DurationParseError::TooLarge(text.to_owned())),
        };
        let unit_key = unit.trim().to_lowercase();
        let make = match unit_key.as_str() {
            "wm" | "working minute" | "working minutes" | "工作分钟" | "个工作分钟" => {
                Self::WorkingMinutes
            }
            "wh" | "working hour" | "working hours" | "工作小时" | "个工作小时" => {
                Self::WorkingHours
            }
            "wd" | "working day" | "working days" | "工作日" | "个工作日" => {
                Self::WorkingDays
            }
            "h" | "hour" | "hours" | "小时" | "个小时" => Self::NaturalHours,
            "d" | "day" | "days" | "天" | "日" | "自然日" | "个自然日" => {
                Self::NaturalDays
            }
            _ => {
                return Err(DurationParseError::UnknownUnit {
                    text: text.to_owned(),
                    unit: unit.trim().to_owned(),
                })
            }
        };
        Ok(make(amount))
    }
}

impl Serialize for WorkingDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WorkingDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<WorkingDuration, DurationParseError> {
        s.parse()
    }

    #[test]
    fn compact_forms_parse() {
        assert_eq!(p("1h"), Ok(WorkingDuration::NaturalHours(1)));
        assert_eq!(p("24h"), Ok(WorkingDuration::NaturalHours(24)));
        assert_eq!(p("5wh"), Ok(WorkingDuration::WorkingHours(5)));
        assert_eq!(p("1wd"), Ok(WorkingDuration::WorkingDays(1)));
        assert_eq!(p("15wd"), Ok(WorkingDuration::WorkingDays(15)));
        assert_eq!(p("90d"), Ok(WorkingDuration::NaturalDays(90)));
        assert_eq!(p("30wm"), Ok(WorkingDuration::WorkingMinutes(30)));
    }

    #[test]
    fn long_and_chinese_forms_parse() {
        assert_eq!(p("5 working hours"), Ok(WorkingDuration::WorkingHours(5)));
        assert_eq!(p(" 1 Working Day "), Ok(WorkingDuration::WorkingDays(1)));
        assert_eq!(p("15个工作日"), Ok(WorkingDuration::WorkingDays(15)));
        assert_eq!(p("5工作小时"), Ok(WorkingDuration::WorkingHours(5)));
        assert_eq!(p("24小时"), Ok(WorkingDuration::NaturalHours(24)));
        assert_eq!(p("90日"), Ok(WorkingDuration::NaturalDays(90)));
        assert_eq!(p("3 days"), Ok(WorkingDuration::NaturalDays(3)));
    }

    #[test]
    fn display_is_the_compact_form_and_round_trips() {
        for text in ["30wm", "5wh", "1wd", "15wd", "24h", "90d"] {
            let d = p(text).unwrap();
            assert_eq!(d.to_string(), text);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<WorkingDuration>(&json).unwrap(), d);
        }
    }

    #[test]
    fn bad_texts_are_rejected_with_the_reason() {
        assert_eq!(p("  "), Err(DurationParseError::Empty));
        assert!(matches!(p("wd"), Err(DurationParseError::MissingAmount(_))));
        assert!(matches!(
            p("-1wd"),
            Err(DurationParseError::MissingAmount(_))
        ));
        assert!(matches!(p("0wh"), Err(DurationParseError::Zero(_))));
        assert!(matches!(p("100001d"), Err(DurationParseError::TooLarge(_))));
        assert!(matches!(
            p("99999999999wd"),
            Err(DurationParseError::TooLarge(_))
        ));
        let err = p("5weeks").unwrap_err();
        assert!(matches!(err, DurationParseError::UnknownUnit { ref unit, .. } if unit == "weeks"));
        assert!(err.to_string().starts_with("时限"));
        assert!(matches!(
            p("5"),
            Err(DurationParseError::UnknownUnit { .. })
        ));
        assert!(serde_json::from_str::<WorkingDuration>(r#""1.5wd""#).is_err());
    }

    #[test]
    fn working_and_natural_kinds_are_told_apart() {
        assert!(WorkingDuration::WorkingDays(1).is_working_time());
        assert!(!WorkingDuration::NaturalHours(24).is_working_time());
        assert!(!WorkingDuration::NaturalDays(90).is_working_time());
    }
}
