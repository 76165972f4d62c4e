//! Open311 GeoReport v2 intake (docs/integration.md): 12345 hotline platforms and civic apps
//! file reports and read their status.
//!
//! A request is a report: `POST requests` runs `create_report` through the one command path
//! under the platform's intake account, and its `service_request_id` is the report id. The
//! complainant's name, phone and e-mail are the report's private `contact`; no Open311 answer
//! ever carries them. Services are the active event categories.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{Open311Client, Open311Config};
use crate::db::DbConn;
use crate::domain::workflow::{Report, ReportStatus, Task, TaskStatus};
use crate::schema::{open311_requests, reports};
use crate::store::categories::CategoryRow;
use crate::store::workflow as store;

/// Most requests one query answers (GeoReport v2: 1000).
pub const MAX_RESULTS: i64 = 1000;
/// Longest span of a date-range query and the default window, in days (GeoReport v2: 90).
pub const MAX_SPAN_DAYS: i64 = 90;

/// The response format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.xml`
    Xml,
}

impl Format {
    /// From the extension (`json` or `xml`).
    pub fn parse(ext: &str) -> Option<Self> {
        match ext {
            "json" => Some(Self::Json),
            "xml" => Some(Self::Xml),
            _ => None,
        }
    }
}

/// One service (GET services).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Service {
    /// The event category's code.
    pub service_code: String,
    /// Its name.
    pub service_name: String,
    /// Its legal basis, or its name.
    pub description: String,
    /// Whether a service definition with attributes exists (always false: a category needs
    /// no extra attributes).
    pub metadata: bool,
    /// `realtime`: the id is returned at once.
    #[serde(rename = "type")]
    pub kind: String,
    /// Keywords (none).
    pub keywords: String,
    /// The enforcement domain.
    pub group: String,
}

impl Service {
    /// A category as a service.
    pub fn of(c: &CategoryRow) -> Self {
        Self {
            service_code: c.code.clone(),
            service_name: c.name.clone(),
            description: if c.legal_basis.trim().is_empty() {
                c.name.clone()
            } else {
                c.legal_basis.clone()
            },
            metadata: false,
            kind: "realtime".into(),
            keywords: String::new(),
            group: c.domain.clone(),
        }
    }
}

/// A service definition (GET services/{code}): no attributes beyond the standard fields.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceDefinition {
    /// The category's code.
    pub service_code: String,
    /// Attributes (none).
    #[schema(value_type = Vec<Object>)]
    pub attributes: Vec<serde_json::Value>,
}

/// The answer to a created request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The report id.
    pub service_request_id: String,
    /// What happens next.
    pub service_notice: Option<String>,
    /// The account id the client gave, echoed.
    pub account_id: Option<String>,
}

/// One request's state (GET requests). Never the complainant's contact.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceRequest {
    /// The report id.
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: String,
    /// What the state means for the caller (Chinese, then English).
    pub status_notes: Option<String>,
    /// The category's name.
    pub service_name: Option<String>,
    /// The category's code.
    pub service_code: String,
    /// What was reported.
    pub description: Option<String>,
    /// The brigade, or the department it was transferred to.
    pub agency_responsible: Option<String>,
    /// Notice (none).
    pub service_notice: Option<String>,
    /// Filed at (W3C date-time).
    pub requested_datetime: String,
    /// Last change.
    pub updated_datetime: String,
    /// When the handling is due, while a task runs.
    pub expected_datetime: Option<String>,
    /// The address as given.
    pub address: Option<String>,
    /// Address id (none).
    pub address_id: Option<String>,
    /// Postal code (none).
    pub zipcode: Option<String>,
    /// WGS-84 latitude, once placed.
    pub lat: Option<f64>,
    /// WGS-84 longitude, once placed.
    #[serde(rename = "long")]
    pub lon: Option<f64>,
    /// Photo URL (evidence is not published).
    pub media_url: Option<String>,
}

/// One error of the GeoReport error format.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Open311Error {
    /// The HTTP status.
    pub code: u16,
    /// The stable error code, a colon, and what to fix (Chinese, then English).
    pub description: String,
}

/// W3C date-time, UTC.
pub fn w3(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The client an API key belongs to (compared by its SHA-256, in constant time).
pub fn client_for_key<'a>(config: &'a Open311Config, key: &str) -> Option<&'a Open311Client> {
    let digest = Sha256::digest(key.as_bytes());
    config.clients.iter().find(|c| {
        hex::decode(&c.api_key_sha256).is_ok_and(|want| {
            want.len() == digest.len()
                && want
                    .iter()
                    .zip(digest.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    })
}

/// Keep a created request's Open311 side (in the transaction that created the report).
pub fn record(
    conn: &mut DbConn,
    report_id: &str,
    client: &str,
    account_id: Option<&str>,
    device_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(open311_requests::table)
        .values((
            open311_requests::report_id.eq(report_id),
            open311_requests::client.eq(client),
            open311_requests::account_id.eq(account_id),
            open311_requests::device_id.eq(device_id),
            open311_requests::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What GET requests asks for.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Ids; when given, everything else is ignored.
    pub ids: Vec<String>,
    /// Service codes.
    pub codes: Vec<String>,
    /// From (inclusive).
    pub start: Option<NaiveDateTime>,
    /// To (inclusive).
    pub end: Option<NaiveDateTime>,
    /// `open`, `closed` or both.
    pub statuses: Vec<String>,
    /// Ids were asked for (even if none of them could name a request).
    pub by_id: bool,
}

fn open_statuses() -> Vec<&'static str> {
    ReportStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect()
}

/// Reports filed through Open311 that match, newest first.
pub fn find(conn: &mut DbConn, q: &RequestQuery, now: NaiveDateTime) -> QueryResult<Vec<Report>> {
    let mut query = open311_requests::table
        .inner_join(reports::table.on(reports::id.eq(open311_requests::report_id)))
        .select(reports::data)
        .order(reports::created_at.desc())
        .limit(MAX_RESULTS)
        .into_boxed();
    if q.by_id && q.ids.is_empty() {
        return Ok(vec![]);
    }
    if q.by_id {
        query = query.filter(reports::id.eq_any(q.ids.clone()));
    } else {
        let (start, end) = match (q.start, q.end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + chrono::Duration::days(MAX_SPAN_DAYS)),
            (None, Some(e)) => (e - chrono::Duration::days(MAX_SPAN_DAYS), e),
            (None, None) => (now - chrono::Duration::days(MAX_SPAN_DAYS), now),
        };
        query = query
            .filter(reports::created_at.ge(start))
            .filter(reports::created_at.le(end));
        if !q.codes.is_empty() {
            query = query.filter(reports::category_code.eq_any(q.codes.clone()));
        }
        let open = q.statuses.iter().any(|s| s == "open");
        let closed = q.statuses.iter().any(|s| s == "closed");
        if open != closed {
            let open_names = open_statuses();
            query = if open {
                query.filter(reports::status.eq_any(open_names))
            } else {
                query.filter(reports::status.ne_all(open_names))
            };
        }
    }
    let rows: Vec<String> = query.load(conn)?;
    rows.iter()
        .map(|d| {
            serde_json::from_str(d)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
        })
        .collect()
}

/// Whether a report was filed through Open311.
pub fn is_open311(conn: &mut DbConn, report_id: &str) -> QueryResult<bool> {
    let n: i64 = open311_requests::table
        .filter(open311_requests::report_id.eq(report_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A report as the caller may see it: its status and notes, never its contact.
pub fn view(
    conn: &mut DbConn,
    r: &Report,
    category_names: &std::collections::HashMap<String, String>,
    agency: Option<&str>,
) -> QueryResult<ServiceRequest> {
    let task: Option<Task> = match &r.task_id {
        Some(id) => store::task(conn, id)?,
        None => None,
    };
    let status = if r.status.is_open() { "open" } else { "closed" };
    let note = r.note.as_deref().unwrap_or("").trim();
    let with_note = |zh: &str, en: &str| {
        if note.is_empty() {
            format!("{zh} ({en})")
        } else {
            format!("{zh}：{note} ({en})")
        }
    };
    let status_notes = match r.status {
        ReportStatus::Reported if r.cell.is_none() => {
            "已收到，正在定位，待受理 (received; being placed on the map before triage)".to_owned()
        }
        ReportStatus::Reported => "已收到，待受理 (received, awaiting triage)".to_owned(),
        ReportStatus::NeedsInfo => with_note("需补充材料", "more information is needed"),
        ReportStatus::Accepted => match task.as_ref().map(|t| t.status) {
            Some(TaskStatus::Handled | TaskStatus::Closed | TaskStatus::Verified) => {
                "已处置，待复核 (handled; awaiting the re-check)".to_owned()
            }
            Some(TaskStatus::OnSite) => "执法人员已到场处置 (officers are on site)".to_owned(),
            _ => "已受理，已派遣执法中队处置 (accepted and dispatched to a squad)".to_owned(),
        },
        ReportStatus::Rejected => with_note("不予受理", "not accepted"),
        ReportStatus::Merged => format!(
            "已与同一事件的诉求 {} 合并办理 (merged with a request about the same matter)",
            r.merged_into.as_deref().unwrap_or("")
        ),
        ReportStatus::Transferred => with_note(
            &format!(
                "已移送{}办理",
                r.transferred_to.as_deref().unwrap_or("主管部门")
            ),
            "transferred to the competent department",
        ),
        ReportStatus::Closed => "已办结，经网格员复核 (resolved and re-checked)".to_owned(),
    };
    let expected = task
        .as_ref()
        .filter(|t| r.status == ReportStatus::Accepted && t.status.clock_running())
        .map(|t| w3(t.due_at));
    let agency_responsible = match r.status {
        ReportStatus::Transferred => r.transferred_to.clone(),
        _ => agency.map(str::to_owned),
    };
    Ok(ServiceRequest {
        service_request_id: r.id.clone(),
        status: status.into(),
        status_notes: Some(status_notes),
        service_name: category_names.get(&r.category_code).cloned(),
        service_code: r.category_code.clone(),
        description: Some(r.description.clone()),
        agency_responsible,
        service_notice: None,
        requested_datetime: w3(r.created_at),
        updated_datetime: w3(r.updated_at),
        expected_datetime: expected,
        address: r.address.clone(),
        address_id: None,
        zipcode: None,
        lat: r.lat,
        lon: r.lon,
        media_url: None,
    })
}

/// XML text with the five special characters escaped; characters XML 1.0 cannot carry are
/// dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A flat JSON object as XML elements, in its own field order (`null` → empty element).
fn xml_fields(v: &serde_json::Value, indent: &str, out: &mut String) {
    let Some(map) = v.as_object() else { return };
    for (k, val) in map {
        let text = match val {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => esc(s),
            serde_json::Value::Array(items) => {
                out.push_str(&format!("{indent}<{k}>\n"));
                for item in items {
                    let inner = format!("{indent}    ");
                    out.push_str(&format!("{indent}  <{}>\n", singular(k)));
                    xml_fields(item, &inner, out);
                    out.push_str(&format!("{indent}  </{}>\n", singular(k)));
                }
                out.push_str(&format!("{indent}</{k}>\n"));
                continue;
            }
            other => other.to_string(),
        };
        out.push_str(&format!("{indent}<{k}>{text}</{k}>\n"));
    }
}

fn singular(k: &str) -> &str {
    k.strip_suffix('s').unwrap_or(k)
}

/// A list as XML: `<root><item>…</item>…</root>`.
pub fn xml_list<T: Serialize>(root: &str, item: &str, items: &[T]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!("<{root}>\n"));
    for i in items {
        out.push_str(&format!("  <{item}>\n"));
        xml_fields(
            &serde_json::to_value(i).unwrap_or_default(),
            "    ",
            &mut out,
        );
        out.push_str(&format!("  </{item}>\n"));
    }
    out.push_str(&format!("</{root}>\n"));
    out
}

/// One object as XML: `<root>…</root>`.
pub fn xml_one<T: Serialize>(root: &str, item: &T) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!("<{root}>\n"));
    xml_fields(
        &serde_json::to_value(item).unwrap_or_default(),
        "  ",
        &mut out,
    );
    out.push_str(&format!("</{root}>\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_text_and_drops_what_xml_cannot_carry() {
        let e = Open311Error {
            code: 400,
            description: "a<b & \"c\" \u{1}d".into(),
        };
        let x = xml_list("errors", "error", &[e]);
        assert!(x.contains("<code>400</code>"), "{x}");
        assert!(
            x.contains("<description>a&lt;b &amp; &quot;c&quot; d</description>"),
            "{x}"
        );
    }

    #[test]
    fn a_service_definition_lists_its_attributes_element() {
        let d = ServiceDefinition {
            service_code: "0101".into(),
            attributes: vec![],
        };
        let x = xml_one("service_definition", &d);
        assert!(x.contains("<service_code>0101</service_code>"), "{x}");
        assert!(x.contains("<attributes>\n  </attributes>"), "{x}");
    }

    #[test]
    fn api_keys_are_matched_by_their_digest() {
        let key = "k-12345";
        let config = Open311Config {
            clients: vec![Open311Client {
                name: "12345".into(),
                api_key_sha256: hex::encode(Sha256::digest(key.as_bytes())),
                account: "hotline".into(),
                source: griddispatch_protocol::command::ReportSource::Hotline,
            }],
            ..Open311Config::default()
        };
        assert_eq!(
            client_for_key(&config, key).map(|c| c.name.as_str()),
            Some("12345")
        );
        assert!(client_for_key(&config, "k-12346").is_none());
        assert!(client_for_key(&config, "").is_none());
    }
}
