//! Information sharing (信息资源共享, seed 000 三(三)): what departments send the brigade —
//! licences, filings, confirmations and the rest — by API or CSV import, and where it shows:
//! on a report (and its case) that concerns the same party (name or unified social credit
//! code) or place (within `[sharing] match_radius_m`).
//!
//! The eight kinds of the seed and their homes (docs/integration.md): 1 regulations and
//! normative documents → `regulation`; 2 the department's decisions → `licence`, `filing`,
//! `confirmation`; 3 the brigade's penalty and enforcement decisions → the events of the
//! webhooks and the feed (`decide_case`, `serve_decision`, …); 4 statistics → `/api/v1/stats`;
//! 5 discretion standards and workflows → `discretion_standard`; 6 the department's inspection
//! records and briefings → `inspection`, `briefing`; 7 complaints and their handling → reports,
//! Open311 and the feed; 8 anything else → `other`.

use diesel::prelude::*;
use griddispatch_media::GeoPoint;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::domain::workflow::{Case, Report};
use crate::schema::shared_items;

/// The kinds a department may share.
pub const KINDS: [&str; 8] = [
    "regulation",
    "licence",
    "filing",
    "confirmation",
    "discretion_standard",
    "inspection",
    "briefing",
    "other",
];

/// Kinds that name the party they concern (a licence is someone's).
const PARTY_KINDS: [&str; 3] = ["licence", "filing", "confirmation"];
/// Most rows of one CSV import.
pub const MAX_ROWS: usize = 5_000;
/// The CSV header, in this order.
pub const CSV_COLUMNS: [&str; 11] = [
    "kind",
    "title",
    "number",
    "party_name",
    "credit_code",
    "address",
    "lat",
    "lon",
    "valid_from",
    "valid_until",
    "content",
];

/// One item as a department sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedInput {
    /// `regulation`, `licence`, `filing`, `confirmation`, `discretion_standard`, `inspection`,
    /// `briefing` or `other`.
    pub kind: String,
    /// Title (1–200 characters), e.g. `食品经营许可证`.
    pub title: String,
    /// The document's number.
    #[serde(default)]
    pub number: Option<String>,
    /// The party concerned (licences, filings and confirmations need it or the code).
    #[serde(default)]
    pub party_name: Option<String>,
    /// The party's unified social credit code (18 characters).
    #[serde(default)]
    pub credit_code: Option<String>,
    /// The place concerned.
    #[serde(default)]
    pub address: Option<String>,
    /// WGS-84 latitude of the place.
    #[serde(default)]
    pub lat: Option<f64>,
    /// WGS-84 longitude of the place.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Valid from (YYYY-MM-DD).
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Valid until (YYYY-MM-DD).
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Text (scope, conditions, findings …).
    #[serde(default)]
    pub content: Option<String>,
}

/// A stored item.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = shared_items)]
pub struct SharedItem {
    /// Id.
    pub id: String,
    /// The department that shared it.
    pub department_id: String,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Number.
    pub number: Option<String>,
    /// Party.
    pub party_name: Option<String>,
    /// Unified social credit code.
    pub credit_code: Option<String>,
    /// Place.
    pub address: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Valid from.
    pub valid_from: Option<String>,
    /// Valid until.
    pub valid_until: Option<String>,
    /// Text.
    pub content: String,
    /// `api` or `csv`.
    pub source: String,
    /// Who sent it.
    pub created_by: String,
    /// When it was shared (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::NaiveDateTime,
}

/// Why an item matches a report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SharedMatch {
    /// The item.
    pub item: SharedItem,
    /// `party` (same name or credit code as the case's party) or `place`.
    pub matched_by: String,
    /// Metres from the report's position (place matches).
    pub distance_m: Option<f64>,
}

/// One problem of an input.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// CSV row (1 = the first data row); absent for an API item.
    pub row: Option<usize>,
    /// The column or field.
    pub column: String,
    /// What to fix.
    pub message: String,
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn date_ok(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// A unified social credit code's form (GB 32100-2015): 18 characters of its alphabet.
pub fn credit_code_ok(code: &str) -> bool {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    code.chars().count() == 18 && code.chars().all(|c| ALPHABET.contains(c))
}

/// Check one input; the item to store, or every problem found.
pub fn check(input: &SharedInput, row: Option<usize>) -> Result<SharedInput, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut bad = |column: &str, message: String| {
        problems.push(Problem {
            row,
            column: column.to_owned(),
            message,
        })
    };
    let texts = [
        ("kind", Some(input.kind.clone())),
        ("title", Some(input.title.clone())),
        ("number", input.number.clone()),
        ("party_name", input.party_name.clone()),
        ("credit_code", input.credit_code.clone()),
        ("address", input.address.clone()),
        ("valid_from", input.valid_from.clone()),
        ("valid_until", input.valid_until.clone()),
        ("content", input.content.clone()),
    ];
    for (name, v) in &texts {
        if v.as_deref().is_some_and(|s| s.contains('\0')) {
            bad(name, "含有空字符 (contains a NUL character)".into());
        }
    }
    let kind = input.kind.trim().to_owned();
    if !KINDS.contains(&kind.as_str()) {
        bad(
            "kind",
            format!(
                "`{}` 不是可共享的类别，须为 {} (unknown kind)",
                kind.chars().take(40).collect::<String>(),
                KINDS.join("、")
            ),
        );
    }
    let title = input.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        bad(
            "title",
            "标题须为 1–200 个字符 (title must be 1–200 characters)".into(),
        );
    }
    let limits = [
        ("number", &input.number, 64),
        ("party_name", &input.party_name, 100),
        ("address", &input.address, 200),
        ("content", &input.content, 5_000),
    ];
    for (name, v, max) in limits {
        if v.as_deref().is_some_and(|s| s.chars().count() > max) {
            bad(
                name,
                format!("最多 {max} 个字符 (at most {max} characters)"),
            );
        }
    }
    let credit = clean(&input.credit_code).map(|c| c.to_uppercase());
    if let Some(c) = &credit {
        if !credit_code_ok(c) {
            bad(
                "credit_code",
                "统一社会信用代码须为 18 位数字或大写字母（不含 I、O、Z、S、V）(a unified social credit code is 18 digits or capital letters, without I, O, Z, S, V)".into(),
            );
        }
    }
    let party = clean(&input.party_name);
    if PARTY_KINDS.contains(&kind.as_str()) && party.is_none() && credit.is_none() {
        bad(
            "party_name",
            "许可、备案、确认须写明相对人名称或统一社会信用代码 (a licence, filing or confirmation names its party or credit code)".into(),
        );
    }
    match (input.lat, input.lon) {
        (None, None) => {}
        (Some(lat), Some(lon))
            if lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0 => {}
        _ => bad(
            "lat",
            "lat 与 lon 须同时给出，纬度 −90…90，经度 −180…180 (give both lat and lon, within range)".into(),
        ),
    }
    let from = clean(&input.valid_from);
    let until = clean(&input.valid_until);
    for (name, d) in [("valid_from", &from), ("valid_until", &until)] {
        if d.as_deref().is_some_and(|d| !date_ok(d)) {
            bad(name, "日期须为 YYYY-MM-DD (dates are YYYY-MM-DD)".into());
        }
    }
    if let (Some(f), Some(u)) = (&from, &until) {
        if date_ok(f) && date_ok(u) && f > u {
            bad(
                "valid_until",
                "有效期止不能早于有效期起 (valid_until precedes valid_from)".into(),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SharedInput {
        kind,
        title,
        number: clean(&input.number),
        party_name: party,
        credit_code: credit,
        address: clean(&input.address),
        lat: input.lat,
        lon: input.lon,
        valid_from: from,
        valid_until: until,
        content: Some(
            input
                .content
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .to_owned(),
        ),
    })
}

/// Read a CSV file (UTF-8, with its BOM or without; the header of [`CSV_COLUMNS`], in any
/// order, unknown columns refused): every row checked, every problem listed.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<SharedInput>, Vec<Problem>> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        vec![Problem {
            row: None,
            column: String::new(),
            message: "文件须为 UTF-8 编码 (the file must be UTF-8)".into(),
        }]
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            return Err(vec![Problem {
                row: None,
                column: String::new(),
                message: format!("无法读取表头 (cannot read the header): {e}"),
            }])
        }
    };
    let mut problems = Vec::new();
    for h in &header {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            problems.push(Problem {
                row: None,
                column: h.chars().take(40).collect(),
                message: format!(
                    "未知列，列名须为 {} (unknown column)",
                    CSV_COLUMNS.join(",")
                ),
            });
        }
    }
    for needed in ["kind", "title"] {
        if !header.iter().any(|h| h == needed) {
            problems.push(Problem {
                row: None,
                column: needed.into(),
                message: "缺少必需的列 (a required column is missing)".into(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut items = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        if row > MAX_ROWS {
            problems.push(Problem {
                row: Some(row),
                column: String::new(),
                message: format!("一次最多导入 {MAX_ROWS} 行 (at most {MAX_ROWS} rows per import)"),
            });
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem {
                    row: Some(row),
                    column: String::new(),
                    message: format!("该行无法读取 (cannot read the row): {e}"),
                });
                continue;
            }
        };
        let get = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        let mut num = |name: &str| match get(name) {
            None => None,
            Some(s) => match s.parse::<f64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    problems.push(Problem {
                        row: Some(row),
                        column: name.into(),
                        message: "须为十进制度数 (must be decimal degrees)".into(),
                    });
                    None
                }
            },
        };
        let (lat, lon) = (num("lat"), num("lon"));
        let input = SharedInput {
            kind: get("kind").unwrap_or_default(),
            title: get("title").unwrap_or_default(),
            number: get("number"),
            party_name: get("party_name"),
            credit_code: get("credit_code"),
            address: get("address"),
            lat,
            lon,
            valid_from: get("valid_from"),
            valid_until: get("valid_until"),
            content: get("content"),
        };
        match check(&input, Some(row)) {
            Ok(item) => items.push(item),
            Err(p) => problems.extend(p),
        }
    }
    if items.is_empty() && problems.is_empty() {
        problems.push(Problem {
            row: None,
            column: String::new(),
            message: "文件没有数据行 (the file has no rows)".into(),
        });
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

/// Store checked items in one go (the caller's transaction: all or nothing).
pub fn insert_all(
    conn: &mut DbConn,
    department_id: &str,
    items: &[SharedInput],
    source: &str,
    by: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<Vec<SharedItem>> {
    let mut out = Vec::new();
    for i in items {
        let row = SharedItem {
            id: uuid::Uuid::now_v7().to_string(),
            department_id: department_id.to_owned(),
            kind: i.kind.clone(),
            title: i.title.clone(),
            number: i.number.clone(),
            party_name: i.party_name.clone(),
            credit_code: i.credit_code.clone(),
            address: i.address.clone(),
            lat: i.lat,
            lon: i.lon,
            valid_from: i.valid_from.clone(),
            valid_until: i.valid_until.clone(),
            content: i.content.clone().unwrap_or_default(),
            source: source.to_owned(),
            created_by: by.to_owned(),
            created_at: now,
        };
        diesel::insert_into(shared_items::table)
            .values(&row)
            .execute(conn)?;
        out.push(row);
    }
    Ok(out)
}

/// Items, newest first: of one department, of one kind, and/or whose title, party, code or
/// number contains `q`.
pub fn list(
    conn: &mut DbConn,
    department_id: Option<&str>,
    kind: Option<&str>,
    q: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<SharedItem>> {
    let mut query = shared_items::table.into_boxed();
    if let Some(d) = department_id {
        query = query.filter(shared_items::department_id.eq(d.to_owned()));
    }
    if let Some(k) = kind {
        query = query.filter(shared_items::kind.eq(k.to_owned()));
    }
    if let Some(q) = q {
        let like = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(
            shared_items::title
                .like(like.clone())
                .escape('\\')
                .or(shared_items::party_name.like(like.clone()).escape('\\'))
                .or(shared_items::credit_code.like(like.clone()).escape('\\'))
                .or(shared_items::number.like(like).escape('\\')),
        );
    }
    query
        .order(shared_items::created_at.desc())
        .limit(limit)
        .select(SharedItem::as_select())
        .load(conn)
}

/// What was shared about a report's party (its case's, once named) or place.
pub fn matches(
    conn: &mut DbConn,
    report: &Report,
    case: Option<&Case>,
    radius_m: f64,
) -> QueryResult<Vec<SharedMatch>> {
    let mut out: Vec<SharedMatch> = Vec::new();
    let party = case.and_then(|c| c.procedure.notice.as_ref().map(|n| n.party.clone()));
    if let Some(p) = party {
        let code = p.id_number.as_deref().map(str::to_uppercase);
        let mut q = shared_items::table
            .filter(shared_items::party_name.eq(p.name.trim().to_owned()))
            .into_boxed();
        if let Some(c) = code.filter(|c| credit_code_ok(c)) {
            q = q.or_filter(shared_items::credit_code.eq(c));
        }
        for item in q.select(SharedItem::as_select()).load(conn)? {
            out.push(SharedMatch {
                item,
                matched_by: "party".into(),
                distance_m: None,
            });
        }
    }
    if let (Some(lat), Some(lon)) = (report.lat, report.lon) {
        // A box around the point first (1° of latitude ≈ 111 km), then the true distance.
        let dlat = radius_m / 111_000.0;
        let dlon = dlat / lat.to_radians().cos().abs().max(0.01);
        let near: Vec<SharedItem> = shared_items::table
            .filter(shared_items::lat.between(lat - dlat, lat + dlat))
            .filter(shared_items::lon.between(lon - dlon, lon + dlon))
            .select(SharedItem::as_select())
            .load(conn)?;
        let here = GeoPoint::new(lat, lon);
        for item in near {
            let d = match (
                here,
                item.lat
                    .zip(item.lon)
                    .and_then(|(a, b)| GeoPoint::new(a, b)),
            ) {
                (Some(p), Some(q)) => p.distance_m(&q),
                _ => continue,
            };
            if d <= radius_m && !out.iter().any(|m| m.item.id == item.id) {
                out.push(SharedMatch {
                    item,
                    matched_by: "place".into(),
                    distance_m: Some((d * 10.0).round() / 10.0),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_with_bad_rows_names_every_problem_and_yields_nothing() {
        let csv = "kind,title,party_name,credit_code,lat,lon,valid_from,valid_until\n\
                   licence,食品经营许可证,张三餐馆,,35.1,112.5,2026-01-01,2030-12-31\n\
                   permit,道路占用许可,李四,,,,,\n\
                   licence,排水许可,,,,,,\n\
                   filing,备案,王五,91ABC,35.1,,2026-13-01,\n";
        let problems = parse_csv(csv.as_bytes()).unwrap_err();
        let at: Vec<(Option<usize>, &str)> = problems
            .iter()
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert!(at.contains(&(Some(2), "kind")), "{at:?}");
        assert!(at.contains(&(Some(3), "party_name")), "{at:?}");
        assert!(at.contains(&(Some(4), "credit_code")), "{at:?}");
        assert!(at.contains(&(Some(4), "lat")), "{at:?}");
        assert!(at.contains(&(Some(4), "valid_from")), "{at:?}");
        assert!(
            !at.iter().any(|(r, _)| *r == Some(1)),
            "row 1 is fine: {at:?}"
        );
    }

    #[test]
    fn a_good_csv_with_a_bom_and_any_column_order_is_read() {
        let csv = "\u{feff}title,kind,credit_code\n营业执照,licence,91350100m000100y43\n";
        let items = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].credit_code.as_deref(), Some("91350100M000100Y43"));
        let unknown = parse_csv(b"kind,title,colour\nother,x,red\n").unwrap_err();
        assert_eq!(unknown[0].column, "colour");
        assert!(parse_csv(b"kind,title\n").is_err(), "no rows");
    }
}
