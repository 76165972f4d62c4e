//! Reference data an admin keeps (event categories, the official calendar): each change is
//! stored together with its entry in the full-process record, in one transaction, for the
//! admin API and any other caller alike (as `accounts` does for accounts).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::domain::calendar::HolidayYear;
use crate::store::audit;
use crate::store::categories::{self, CategoryRow};

/// Create or change a category, recorded as `put_category` by `admin`.
pub fn put_category(
    conn: &mut DbConn,
    admin: &str,
    row: &CategoryRow,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let before = categories::find(conn, &row.code)?;
        audit::record_action(
            conn,
            admin,
            "put_category",
            &json!(row),
            &json!({"category": before}),
            &json!({"category": row}),
            now,
        )?;
        categories::put(conn, row)
    })
}

/// Store a year's calendar, recorded as `put_calendar` by `admin`.
pub fn put_calendar(
    conn: &mut DbConn,
    admin: &str,
    year: &HolidayYear,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let before = crate::store::calendar::years(conn)?
            .into_iter()
            .find(|y| y.year == year.year);
        audit::record_action(
            conn,
            admin,
            "put_calendar",
            &json!({"year": year.year}),
            &json!({"calendar": before}),
            &json!({"calendar": year}),
            now,
        )?;
        crate::store::calendar::put_year(conn, year)
    })
}

/// Why a category cannot be stored, "中文 (English)"; `None` when it can.
pub fn category_problem(row: &CategoryRow) -> Option<String> {
    if row.code.len() != 4 || !row.code.chars().all(|c| c.is_ascii_digit()) {
        return Some("类别编码须为 4 位数字：大类 2 位 + 小类 2 位 (code must be 4 digits)".into());
    }
    if row.name.trim().is_empty() || row.domain.trim().is_empty() {
        return Some("名称和执法领域不能为空 (name and domain are required)".into());
    }
    if let Err(e) = row
        .handling
        .parse::<crate::domain::calendar::WorkingDuration>()
    {
        return Some(format!(
            "处置时限格式错误，如 1wd、4wh、24h (handling must be like 1wd, 4wh, 24h): {e}"
        ));
    }
    None
}

/// One bad row of a category file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryFileProblem {
    /// Position in the file, from 1.
    pub row: usize,
    /// The row's code, when it has one.
    pub code: Option<String>,
    /// What is wrong, "中文 (English)".
    pub message: String,
}

/// Read a category file: a JSON array of categories as `GET /api/v1/categories` lists them
/// (what the export writes). Every row is checked; any problem refuses the whole file.
pub fn parse_category_file(text: &str) -> Result<Vec<CategoryRow>, Vec<CategoryFileProblem>> {
    let problem =
        |row, code: Option<String>, message: String| CategoryFileProblem { row, code, message };
    let items: Vec<serde_json::Value> = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(vec![problem(
                0,
                None,
                format!(
                    "文件须为类别的 JSON 数组 (the file must be a JSON array of categories): {e}"
                ),
            )])
        }
    };
    if items.is_empty() {
        return Err(vec![problem(
            0,
            None,
            "文件中没有类别 (the file holds no category)".into(),
        )]);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let code = item.get("code").and_then(|c| c.as_str()).map(str::to_owned);
        match serde_json::from_value::<CategoryRow>(item) {
            Err(e) => problems.push(problem(
                i + 1,
                code,
                format!("字段缺失或类型不对 (a field is missing or of the wrong type): {e}"),
            )),
            Ok(row) => {
                if let Some(p) = category_problem(&row) {
                    problems.push(problem(i + 1, code, p));
                } else if !seen.insert(row.code.clone()) {
                    problems.push(problem(
                        i + 1,
                        code,
                        "编码在文件中重复 (the code appears twice in the file)".into(),
                    ));
                } else {
                    rows.push(row);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryImport {
    /// New codes.
    pub created: usize,
    /// Codes whose fields changed.
    pub changed: usize,
    /// Codes already exactly so.
    pub unchanged: usize,
}

/// Store checked categories in one transaction, recorded as one `import_categories` by
/// `admin` (the rows that changed, before and after). Categories not in the file are kept.
pub fn import_categories(
    conn: &mut DbConn,
    admin: &str,
    rows: &[CategoryRow],
    now: NaiveDateTime,
) -> QueryResult<CategoryImport> {
    crate::db::write_transaction(conn, |conn| {
        let mut summary = CategoryImport::default();
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let mut changed_rows = Vec::new();
        for row in rows {
            match categories::find(conn, &row.code)? {
                None => summary.created += 1,
                Some(old) if old == *row => {
                    summary.unchanged += 1;
                    continue;
                }
                Some(old) => {
                    summary.changed += 1;
                    before.push(json!(old));
                }
            }
            after.push(json!(row));
            changed_rows.push(row);
        }
        audit::record_action(
            conn,
            admin,
            "import_categories",
            &json!({"rows": rows.len(), "created": summary.created, "changed": summary.changed,
                "unchanged": summary.unchanged}),
            &json!({"categories": before}),
            &json!({"categories": after}),
            now,
        )?;
        for row in changed_rows {
            categories::put(conn, row)?;
        }
        Ok(summary)
    })
}
