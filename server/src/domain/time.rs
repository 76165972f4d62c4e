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

/// Serde for UTC instants kept as `NaiveDateTime`: written as RFC 3339 with `Z`
/// (`2026-11-29T23:39:42.284152Z`), the one form every output uses; read in that form, with
/// any offset, or without a zone (rows stored before the form was fixed are UTC).
pub mod rfc3339 {
    use chrono::{DateTime, NaiveDateTime, SecondsFormat};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Write as RFC 3339 UTC.
    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    /// Read RFC 3339 or a zone-less UTC time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    /// Parse RFC 3339 or a zone-less UTC time.
    pub fn parse(s: &str) -> Result<NaiveDateTime, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.naive_utc());
        }
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(|e| format!("not an RFC 3339 time `{s}`: {e}"))
    }
}

/// [`rfc3339`] for optional instants.
pub mod rfc3339_opt {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Write as RFC 3339 UTC, or null.
    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    /// Read RFC 3339, a zone-less UTC time, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| super::rfc3339::parse(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

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

    #[derive(serde::Serialize, serde::Deserialize)]
    struct At {
        #[serde(with = "rfc3339")]
        at: NaiveDateTime,
        #[serde(with = "rfc3339_opt", default)]
        maybe: Option<NaiveDateTime>,
    }

    #[test]
    fn instants_are_written_in_rfc3339_utc_and_older_zone_less_rows_still_read() {
        let at = NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_micro_opt(23, 39, 42, 284_152)
            .unwrap();
        let json = serde_json::to_string(&At { at, maybe: None }).unwrap();
        assert_eq!(json, r#"{"at":"2026-11-29T23:39:42.284152Z","maybe":null}"#);
        let old: At = serde_json::from_str(
            r#"{"at":"2026-11-29T23:39:42.284152","maybe":"2026-11-30T07:39:42+08:00"}"#,
        )
        .unwrap();
        assert_eq!(old.at, at);
        assert_eq!(old.maybe, Some(at.with_nanosecond(0).unwrap()));
    }
}
