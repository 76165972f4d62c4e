//! tus 1.0 header values: `Upload-Metadata`, `Upload-Checksum`, and the metadata GridDispatch
//! requires of evidence uploads.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use grid_data::crs::Crs;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// Extensions supported.
pub const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
/// Checksum algorithms supported.
pub const TUS_CHECKSUMS: &str = "sha1,sha256";

fn invalid_metadata(msg: impl Into<String>) -> AppError {
    AppError::bad_request("invalid_metadata", msg)
}

/// Decode `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent).
pub fn parse_metadata(header: &str) -> Result<BTreeMap<String, String>, AppError> {
    let mut out = BTreeMap::new();
    for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, ' ');
        let key = parts.next().unwrap_or_default();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_graphic() && c != ',') {
            return Err(invalid_metadata(format!(
                "Upload-Metadata 键无效 (invalid key `{key}`)"
            )));
        }
        let value = match parts.next().map(str::trim) {
            Some(v) if !v.is_empty() => {
                let bytes = STANDARD.decode(v).map_err(|_| {
                    invalid_metadata(format!(
                        "Upload-Metadata `{key}` 不是 base64 (value of `{key}` is not base64)"
                    ))
                })?;
                String::from_utf8(bytes).map_err(|_| {
                    invalid_metadata(format!(
                        "Upload-Metadata `{key}` 不是 UTF-8 (value of `{key}` is not UTF-8)"
                    ))
                })?
            }
            _ => String::new(),
        };
        if out.insert(key.to_owned(), value).is_some() {
            return Err(invalid_metadata(format!(
                "Upload-Metadata 键重复 (duplicate key `{key}`)"
            )));
        }
    }
    Ok(out)
}

/// Encode metadata back for `HEAD` responses.
pub fn encode_metadata(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k} {}", STANDARD.encode(v))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A checksum algorithm of the checksum extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// SHA-1 (what most tus clients send).
    Sha1,
    /// SHA-256.
    Sha256,
}

/// `Upload-Checksum: <algorithm> <base64 digest>`.
pub fn parse_checksum(header: &str) -> Result<(ChecksumAlgorithm, Vec<u8>), AppError> {
    let (alg, value) = header.trim().split_once(' ').ok_or_else(|| {
        AppError::bad_request(
            "invalid_checksum",
            "Upload-Checksum 格式应为 `算法 base64` (expected `<algorithm> <base64>`)",
        )
    })?;
    let alg = match alg.to_ascii_lowercase().as_str() {
        "sha1" => ChecksumAlgorithm::Sha1,
        "sha256" => ChecksumAlgorithm::Sha256,
        other => {
            return Err(AppError::bad_request(
                "unsupported_checksum_algorithm",
                format!(
                "不支持的校验算法 `{other}`，可用 sha1、sha256 (unsupported checksum algorithm)"
            ),
            ))
        }
    };
    let digest = STANDARD.decode(value.trim()).map_err(|_| {
        AppError::bad_request(
            "invalid_checksum",
            "Upload-Checksum 的值不是 base64 (checksum is not base64)",
        )
    })?;
    let expected_len = match alg {
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    };
    if digest.len() != expected_len {
        return Err(AppError::bad_request(
            "invalid_checksum",
            "Upload-Checksum 长度不对 (wrong digest length)",
        ));
    }
    Ok((alg, digest))
}

/// What an evidence upload must say about itself, checked at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceMeta {
    /// UUID chosen by the phone; creating twice with it returns the same upload.
    pub attachment_id: String,
    /// SHA-256 of the whole file computed on the phone, lower-case hex.
    pub sha256: String,
    /// Client file name, cleaned of paths and control characters.
    pub filename: Option<String>,
    /// Declared MIME type.
    pub content_type: Option<String>,
    /// Device clock at capture (kept as "occurred at", never trusted for ordering).
    pub captured_at: Option<NaiveDateTime>,
    /// WGS-84 latitude (converted from `crs`).
    pub lat: Option<f64>,
    /// WGS-84 longitude (converted from `crs`).
    pub lon: Option<f64>,
    /// Device model.
    pub device_model: Option<String>,
    /// `before` or `after`: the side of a rectification a photo shows.
    #[serde(default)]
    pub phase: Option<String>,
    /// Everything the client sent, verbatim, for `HEAD`.
    pub raw: BTreeMap<String, String>,
}

/// Keep only the last path segment and printable characters, at most 200 characters, so a
/// name like `../../etc/passwd` or one with control characters can never act as a path.
pub fn clean_filename(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

impl EvidenceMeta {
    /// Check the decoded metadata.
    pub fn from_map(raw: BTreeMap<String, String>) -> Result<Self, AppError> {
        let get = |k: &str| {
            raw.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let attachment_id = get("attachment_id")
            .ok_or_else(|| invalid_metadata("缺少 attachment_id (Upload-Metadata needs attachment_id, a UUID made on the phone)"))?;
        let attachment_id = uuid::Uuid::parse_str(&attachment_id)
            .map_err(|_| {
                invalid_metadata("attachment_id 须为 UUID (attachment_id must be a UUID)")
            })?
            .to_string();
        let sha256 = get("sha256")
            .ok_or_else(|| {
                invalid_metadata("缺少 sha256 (Upload-Metadata needs sha256 of the whole file)")
            })?
            .to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid_metadata(
                "sha256 须为 64 位十六进制 (sha256 must be 64 hex digits)",
            ));
        }
        let captured_at = get("captured_at")
            .map(|v| {
                DateTime::parse_from_rfc3339(&v)
                    .map(|t| crate::db::truncate_micros(t.with_timezone(&Utc).naive_utc()))
                    .map_err(|_| {
                        invalid_metadata(
                            "captured_at 须为 RFC 3339 时间 (captured_at must be RFC 3339)",
                        )
                    })
            })
            .transpose()?;
        let num = |k: &str| {
            get(k)
                .map(|v| {
                    v.parse::<f64>().map_err(|_| {
                        invalid_metadata(format!("{k} 须为数字 ({k} must be a number)"))
                    })
                })
                .transpose()
        };
        let (lat, lon) = match (num("lat")?, num("lon")?) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                    return Err(invalid_metadata("经纬度超出范围 (lat/lon out of range)"));
                }
                let crs: Crs = match get("crs") {
                    Some(c) => c.parse().map_err(|_| {
                        invalid_metadata(
                            "crs 须为 wgs84、gcj02 或 bd09 (crs must be wgs84, gcj02 or bd09)",
                        )
                    })?,
                    None => Crs::Wgs84,
                };
                let (lon, lat) = crs.to_wgs84(lon, lat);
                (Some(lat), Some(lon))
            }
            (None, None) => (None, None),
            _ => {
                return Err(invalid_metadata(
                    "lat 与 lon 须同时提供 (give both lat and lon)",
                ))
            }
        };
        Ok(Self {
            attachment_id,
            sha256,
            filename: get("filename").and_then(|f| clean_filename(&f)),
            content_type: get("content_type").or_else(|| get("filetype")),
            captured_at,
            lat,
            lon,
            device_model: get("device_model").map(|m| m.chars().take(100).collect()),
            phase: match get("phase").as_deref() {
                None => None,
                Some(p @ ("before" | "after")) => Some(p.to_owned()),
                Some(_) => return Err(invalid_metadata(
                    "phase 须为 before（整改前）或 after（整改后）(phase must be before or after)",
                )),
            },
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn metadata_round_trips_and_keys_without_values_are_empty() {
        let h = format!(
            "filename {},is_confidential,attachment_id {}",
            b64("现场.jpg"),
            b64("x")
        );
        let m = parse_metadata(&h).unwrap();
        assert_eq!(m["filename"], "现场.jpg");
        assert_eq!(m["is_confidential"], "");
        assert_eq!(parse_metadata(&encode_metadata(&m)).unwrap(), m);
    }

    #[test]
    fn bad_metadata_is_refused() {
        assert!(parse_metadata("filename ***").is_err());
        assert!(parse_metadata(&format!("a {},a {}", b64("1"), b64("2"))).is_err());
    }

    #[test]
    fn evidence_metadata_needs_a_uuid_and_a_sha256() {
        let mut m = BTreeMap::new();
        assert!(EvidenceMeta::from_map(m.clone()).is_err());
        m.insert(
            "attachment_id".into(),
            "0190f7a8-8d5e-7c3a-9d6b-2f1e4c5a6b7c".into(),
        );
        assert!(EvidenceMeta::from_map(m.clone()).is_err());
        m.insert("sha256".into(), "A".repeat(64));
        let meta = EvidenceMeta::from_map(m.clone()).unwrap();
        assert_eq!(meta.sha256, "a".repeat(64));
        m.insert("lat".into(), "35.05".into());
        assert!(
            EvidenceMeta::from_map(m.clone()).is_err(),
            "lat without lon"
        );
        m.insert("lon".into(), "112.5".into());
        m.insert("crs".into(), "gcj02".into());
        let meta = EvidenceMeta::from_map(m.clone()).unwrap();
        assert_eq!(meta.phase, None);
        for bad in ["During", "BEFORE", "整改后"] {
            m.insert("phase".into(), bad.into());
            assert!(EvidenceMeta::from_map(m.clone()).is_err(), "{bad}");
        }
        m.insert("phase".into(), "after".into());
        assert_eq!(
            EvidenceMeta::from_map(m.clone()).unwrap().phase.as_deref(),
            Some("after")
        );
        // GCJ-02 is offset from WGS-84 by a few hundred metres in China.
        assert!((meta.lon.unwrap() - 112.5).abs() > 0.001);
    }

    #[test]
    fn file_names_cannot_carry_paths() {
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_filename("C:\\Users\\x\\IMG_1.jpg").as_deref(),
            Some("IMG_1.jpg")
        );
        assert_eq!(clean_filename("..").as_deref(), None);
        assert_eq!(clean_filename("a\u{0}b\nc.jpg").as_deref(), Some("abc.jpg"));
    }

    #[test]
    fn checksums_name_a_supported_algorithm() {
        let sha1 = STANDARD.encode([0u8; 20]);
        assert_eq!(
            parse_checksum(&format!("sha1 {sha1}")).unwrap().0,
            ChecksumAlgorithm::Sha1
        );
        assert!(parse_checksum(&format!("md5 {sha1}")).is_err());
        assert!(
            parse_checksum(&format!("sha256 {sha1}")).is_err(),
            "wrong length"
        );
    }
}
