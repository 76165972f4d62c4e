//! Time helpers. The legal calendar is China Standard Time (UTC+8, no daylight saving).

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Offset, Utc};

/// UTC+8 (北京时间).
pub fn china_offset() -> FixedOffset {
    // 8 hours is within ±24 h, so east_opt cannot fail; fall back to UTC rather than panic.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The calendar date in China at a UTC instant.
pub fn china_date(now_utc: NaiveDateTime) -> NaiveDate {
    (now_utc + china_offset()).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_date_rolls_over_at_16_00_utc() {
        let before = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(15, 59, 59)
            .unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(16, 0, 0)
            .unwrap();
        assert_eq!(
            china_date(before),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(
            china_date(after),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
    }
}
