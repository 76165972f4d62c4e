//! EXIF metadata of photos (kamadak-exif): capture time, GPS, orientation, device.
//!
//! EXIF is written by the phone and can be forged or stripped; it is recorded as evidence
//! metadata and cross-checked (see `geo`), never trusted for authorisation. Malformed EXIF
//! does not reject a photo: the photo is still evidence, just without metadata.

use ::exif::{In, Reader, Tag, Value};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;

/// Capture time as the camera recorded it: local wall time plus the UTC offset when the
/// camera wrote one (EXIF 2.31 `OffsetTimeOriginal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureTime {
    /// Wall-clock time on the device.
    pub local: NaiveDateTime,
    /// Offset from UTC in minutes, if recorded.
    pub offset_minutes: Option<i16>,
}

impl CaptureTime {
    /// The instant in UTC, known only when the offset was recorded.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        let offset = FixedOffset::east_opt(i32::from(self.offset_minutes?) * 60)?;
        offset
            .from_local_datetime(&self.local)
            .single()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Metadata read from a photo's EXIF block; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExifInfo {
    /// DateTimeOriginal (+ offset), falling back to DateTime.
    pub captured_at: Option<CaptureTime>,
    /// GPS position of the camera.
    pub gps: Option<GeoPoint>,
    /// EXIF orientation 1-8 (1 = upright).
    pub orientation: Option<u8>,
    /// Device maker (`Make`).
    pub make: Option<String>,
    /// Device model (`Model`).
    pub model: Option<String>,
}

/// Reads EXIF from an image file's bytes (JPEG, PNG, WebP, HEIF); `Default` if absent or broken.
pub fn read_exif(data: &[u8]) -> ExifInfo {
    let mut cursor = std::io::Cursor::new(data);
    match Reader::new().read_from_container(&mut cursor) {
        Ok(exif) => from_exif(&exif),
        Err(e) => {
            tracing::debug!(error = %e, "no usable EXIF");
            ExifInfo::default()
        }
    }
}

fn from_exif(exif: &::exif::Exif) -> ExifInfo {
    let ascii = |tag| {
        exif.get_field(tag, In::PRIMARY)
            .and_then(|f| match &f.value {
                Value::Ascii(parts) => parts.first().map(|p| p.as_slice()),
                _ => None,
            })
    };
    let text = |tag| {
        ascii(tag)
            .map(|b| {
                String::from_utf8_lossy(b)
                    .trim_matches(['\0', ' '])
                    .to_string()
            })
            .filter(|s| !s.is_empty())
            // Maker strings are short; bound what we store from a hostile file.
            .map(|s| s.chars().take(128).collect::<String>())
    };
    let captured_at = [
        (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        (Tag::DateTime, Tag::OffsetTime),
    ]
    .into_iter()
    .find_map(|(time_tag, offset_tag)| {
        let mut dt = ::exif::DateTime::from_ascii(ascii(time_tag)?).ok()?;
        if let Some(off) = ascii(offset_tag) {
            // A malformed offset leaves the time local rather than dropping it.
            let _ = dt.parse_offset(off);
        }
        let local = NaiveDate::from_ymd_opt(dt.year.into(), dt.month.into(), dt.day.into())?
            .and_hms_opt(dt.hour.into(), dt.minute.into(), dt.second.into())?;
        Some(CaptureTime {
            local,
            offset_minutes: dt.offset,
        })
    });
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v));
    ExifInfo {
        captured_at,
        gps: gps(exif),
        orientation,
        make: text(Tag::Make),
        model: text(Tag::Model),
    }
}

fn gps(exif: &::exif::Exif) -> Option<GeoPoint> {
    let coord = |tag, ref_tag, negative: u8| {
        let f = exif.get_field(tag, In::PRIMARY)?;
        let Value::Rational(parts) = &f.value else {
            return None;
        };
        if parts.len() < 3 || parts.iter().take(3).any(|r| r.denom == 0) {
            return None;
        }
        let deg = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
        let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(r)) if r.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * deg)
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    GeoPoint::new(lat, lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_time_with_offset_converts_to_utc() {
        let local = NaiveDate::from_ymd_opt(2025, 3, 1)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .unwrap();
        let t = CaptureTime {
            local,
            offset_minutes: Some(480),
        };
        assert_eq!(t.utc().unwrap().to_rfc3339(), "2025-03-01T01:30:00+00:00");
        let no_offset = CaptureTime {
            offset_minutes: None,
            ..t
        };
        assert_eq!(no_offset.utc(), None);
    }

    #[test]
    fn garbage_yields_no_exif() {
        assert_eq!(read_exif(b"not an image"), ExifInfo::default());
    }
}
