//! Limits on what a command may carry, checked before any rule or storage sees it, the same
//! for the console, integrations and phones. A command that breaks one can never apply, so a
//! phone gets it back as `rejected` and its queue moves on; nothing reaches the database that
//! one backend would take and the other refuse (PostgreSQL refuses NUL in text).

use chrono::{Datelike, NaiveDateTime};
use griddispatch_protocol::command::{Command, Position};
use serde_json::Value;

use super::workflow::DomainError;

/// Longest free text (descriptions, notes, findings), in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longest id (UUIDs are 36).
pub const MAX_ID_CHARS: usize = 64;
/// Longest phone number as given.
pub const MAX_PHONE_CHARS: usize = 32;
/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest name (complainant, party).
pub const MAX_NAME_CHARS: usize = 100;
/// Most items in any list (evidence, officers).
pub const MAX_LIST_ITEMS: usize = 100;
/// Earliest accepted observation time, years before now (the 2-year limitation period of
/// 行政处罚法 art. 36, 5 for life, health and finance).
pub const MAX_OCCURRED_YEARS_BACK: i32 = 5;
/// How far ahead of the server clock a device's observation time may be (clock skew).
pub const MAX_OCCURRED_AHEAD_HOURS: i64 = 24;

/// Fields whose values are ids the client made (UUIDs).
const CLIENT_IDS: [&str; 3] = ["report_id", "task_id", "case_id"];

/// Check a command and the actor's position against the input limits.
pub fn check_command(
    cmd: &Command,
    actor_position: Option<&Position>,
    now: NaiveDateTime,
) -> Result<(), DomainError> {
    // Walking the command's JSON covers every field of every command, present and future.
    let v = serde_json::to_value(cmd)
        .map_err(|e| DomainError::rule("invalid_command", format!("指令无法读取 ({e})")))?;
    walk(&v, "command")?;
    if let Some(p) = actor_position {
        check_position(p, "actor_position")?;
    }
    match cmd {
        Command::CreateReport {
            position,
            occurred_at,
            ..
        } => {
            if let Some(p) = position {
                check_position(p, "command.position")?;
            }
            if let Some(t) = occurred_at {
                check_occurred_at(t.naive_utc(), now)?;
            }
        }
        Command::ArriveOnSite { position, .. } | Command::SetReportPosition { position, .. } => {
            check_position(position, "command.position")?
        }
        _ => {}
    }
    Ok(())
}

/// Check one position: a known coordinate system and a point on the earth.
pub fn check_position(p: &Position, field: &str) -> Result<(), DomainError> {
    if let Some(crs) = &p.crs {
        crs.parse::<grid_data::Crs>().map_err(|_| {
            DomainError::rule(
                "invalid_crs",
                format!("{field}.crs `{crs}` 不是已知坐标系，须为 wgs84、gcj02 或 bd09 (unknown coordinate system; use wgs84, gcj02 or bd09)"),
            )
        })?;
    }
    if !(p.lat.is_finite() && p.lon.is_finite() && p.lat.abs() <= 90.0 && p.lon.abs() <= 180.0) {
        return Err(DomainError::rule(
            "invalid_position",
            format!("{field} 经纬度超出范围：纬度 −90…90，经度 −180…180 (latitude/longitude out of range)"),
        ));
    }
    Ok(())
}

fn check_occurred_at(t: NaiveDateTime, now: NaiveDateTime) -> Result<(), DomainError> {
    let earliest = now
        .with_year(now.year() - MAX_OCCURRED_YEARS_BACK)
        .unwrap_or(now);
    let latest = now + chrono::Duration::hours(MAX_OCCURRED_AHEAD_HOURS);
    if t < earliest || t > latest {
        return Err(DomainError::rule(
            "invalid_time",
            format!(
                "command.occurred_at {t} 不在合理范围内：须在 {MAX_OCCURRED_YEARS_BACK} 年内且不晚于现在 (occurred_at must lie within the last {MAX_OCCURRED_YEARS_BACK} years and not in the future; check the device clock)"
            ),
        ));
    }
    Ok(())
}

fn too_long(field: &str, max: usize) -> DomainError {
    DomainError::rule(
        "text_too_long",
        format!("{field} 过长，最多 {max} 个字符 (longer than {max} characters)"),
    )
}

fn walk(v: &Value, path: &str) -> Result<(), DomainError> {
    match v {
        Value::String(s) => check_text(s, path),
        Value::Array(items) => {
            if items.len() > MAX_LIST_ITEMS {
                return Err(DomainError::rule(
                    "too_many_items",
                    format!(
                        "{path} 最多 {MAX_LIST_ITEMS} 项，收到 {} 项 (at most {MAX_LIST_ITEMS} items)",
                        items.len()
                    ),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, item) in map {
                walk(item, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_text(s: &str, path: &str) -> Result<(), DomainError> {
    if s.contains('\0') {
        return Err(DomainError::rule(
            "invalid_text",
            format!(
                "{path} 含有空字符 (\\u0000)，请删除后重试 (contains a NUL character; remove it)"
            ),
        ));
    }
    let field = path.rsplit('.').next().unwrap_or(path);
    let field = field.split('[').next().unwrap_or(field);
    let chars = s.chars().count();
    let max = match field {
        "phone" => MAX_PHONE_CHARS,
        "name" | "party_name" => MAX_NAME_CHARS,
        "email" => MAX_EMAIL_CHARS,
        f if f.ends_with("_id") || f.ends_with("_ids") => MAX_ID_CHARS,
        _ => MAX_TEXT_CHARS,
    };
    if chars > max {
        return Err(too_long(path, max));
    }
    if CLIENT_IDS.contains(&field) || field == "attachment_ids" {
        if let Ok(u) = uuid::Uuid::parse_str(s) {
            if u.is_nil() {
                return Err(DomainError::rule(
                    "invalid_id",
                    format!("{path} 不能为全零 UUID (the nil UUID is not an id)"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use griddispatch_protocol::command::{Contact, ReportSource};

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .unwrap_or_default()
    }

    fn report(f: impl FnOnce(&mut Command)) -> Command {
        let mut c = Command::CreateReport {
            report_id: uuid::Uuid::now_v7().to_string(),
            source: ReportSource::Hotline,
            category_code: "0401".into(),
            description: "占道经营".into(),
            position: Some(Position {
                lat: 35.05,
                lon: 112.49,
                crs: None,
            }),
            attachment_ids: vec![],
            contact: Some(Contact {
                name: Some("王某".into()),
                phone: Some("13912345678".into()),
                email: None,
            }),
            occurred_at: None,
            address: None,
        };
        f(&mut c);
        c
    }

    fn code(c: &Command) -> &'static str {
        check_command(c, None, now()).err().map_or("ok", |e| e.code)
    }

    #[test]
    fn a_plain_report_passes() {
        assert_eq!(code(&report(|_| {})), "ok");
    }

    #[test]
    fn nul_anywhere_in_text_is_refused() {
        let c = report(|c| {
            if let Command::CreateReport { description, .. } = c {
                *description = "违建\u{0}".into();
            }
        });
        assert_eq!(code(&c), "invalid_text");
        let c = report(|c| {
            if let Command::CreateReport { contact, .. } = c {
                *contact = Some(Contact {
                    name: Some("\u{0}".into()),
                    phone: None,
                    email: None,
                });
            }
        });
        assert_eq!(code(&c), "invalid_text");
    }

    #[test]
    fn oversized_text_lists_and_phone_numbers_are_refused() {
        let c = report(|c| {
            if let Command::CreateReport { contact, .. } = c {
                *contact = Some(Contact {
                    name: None,
                    phone: Some("1".repeat(500_000)),
                    email: None,
                });
            }
        });
        assert_eq!(code(&c), "text_too_long");
        let c = report(|c| {
            if let Command::CreateReport { attachment_ids, .. } = c {
                *attachment_ids = (0..20_000)
                    .map(|_| uuid::Uuid::now_v7().to_string())
                    .collect();
            }
        });
        assert_eq!(code(&c), "too_many_items");
        let c = report(|c| {
            if let Command::CreateReport { description, .. } = c {
                *description = "字".repeat(MAX_TEXT_CHARS + 1);
            }
        });
        assert_eq!(code(&c), "text_too_long");
    }

    #[test]
    fn nil_uuid_ids_unknown_crs_and_impossible_positions_and_times_are_refused() {
        let c = report(|c| {
            if let Command::CreateReport { report_id, .. } = c {
                *report_id = uuid::Uuid::nil().to_string();
            }
        });
        assert_eq!(code(&c), "invalid_id");
        for crs in ["foo", "gcj-02", ""] {
            let c = report(|c| {
                if let Command::CreateReport { position, .. } = c {
                    *position = Some(Position {
                        lat: 35.0,
                        lon: 112.0,
                        crs: Some(crs.into()),
                    });
                }
            });
            assert_eq!(code(&c), "invalid_crs", "{crs}");
        }
        let ok = report(|c| {
            if let Command::CreateReport { position, .. } = c {
                *position = Some(Position {
                    lat: 35.0,
                    lon: 112.0,
                    crs: Some("GCJ02".into()),
                });
            }
        });
        assert_eq!(code(&ok), "ok");
        let far = Position {
            lat: 1000.0,
            lon: 112.0,
            crs: None,
        };
        assert_eq!(
            check_command(&report(|_| {}), Some(&far), now())
                .err()
                .map(|e| e.code),
            Some("invalid_position")
        );
        for year in [99_999, -4_000, 2019] {
            let c = report(|c| {
                if let Command::CreateReport { occurred_at, .. } = c {
                    *occurred_at = chrono::NaiveDate::from_ymd_opt(year, 1, 1)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc());
                }
            });
            assert_eq!(code(&c), "invalid_time", "{year}");
        }
    }
}
