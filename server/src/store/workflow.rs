//! Reports, tasks and cases: the aggregate as JSON (`data`) plus the columns that filters use.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::workflow::{Case, Report, Task};
use crate::schema::{cases, reports, tasks};

fn to_json<T: serde::Serialize>(v: &T) -> QueryResult<String> {
    serde_json::to_string(v).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> QueryResult<T> {
    serde_json::from_str(s).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Load a report.
pub fn report(conn: &mut DbConn, id: &str) -> QueryResult<Option<Report>> {
    let data: Option<String> = reports::table
        .find(id)
        .select(reports::data)
        .first(conn)
        .optional()?;
    data.map(|d| from_json(&d)).transpose()
}

/// Load a task.
pub fn task(conn: &mut DbConn, id: &str) -> QueryResult<Option<Task>> {
    let data: Option<String> = tasks::table
        .find(id)
        .select(tasks::data)
        .first(conn)
        .optional()?;
    data.map(|d| from_json(&d)).transpose()
}

/// Load a case.
pub fn case(conn: &mut DbConn, id: &str) -> QueryResult<Option<Case>> {
    let data: Option<String> = cases::table
        .find(id)
        .select(cases::data)
        .first(conn)
        .optional()?;
    data.map(|d| from_json(&d)).transpose()
}

/// Ids per query when loading many: well under SQLite's and PostgreSQL's bind limits.
const MANY_CHUNK: usize = 500;

/// `fn $name(conn, ids) -> id → aggregate` for one of the aggregate tables (id and `data`
/// columns): the same code for reports, tasks and cases, which diesel cannot take as a generic
/// table without more ceremony than this.
macro_rules! load_many {
    ($(#[$doc:meta])* $name:ident, $table:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $name(
            conn: &mut DbConn,
            ids: &[String],
        ) -> QueryResult<std::collections::HashMap<String, $ty>> {
            let mut out = std::collections::HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(MANY_CHUNK) {
                let rows: Vec<(String, String)> = $table::table
                    .filter($table::id.eq_any(chunk))
                    .select(($table::id, $table::data))
                    .load(conn)?;
                for (id, data) in rows {
                    out.insert(id, from_json(&data)?);
                }
            }
            Ok(out)
        }
    };
}

load_many!(
    /// Load many reports by id (a sync page); missing ones are absent from the map.
    reports_by_id,
    reports,
    Report
);
load_many!(
    /// Load many tasks by id.
    tasks_by_id,
    tasks,
    Task
);
load_many!(
    /// Load many cases by id.
    cases_by_id,
    cases,
    Case
);

/// The case that came from a report, if any.
pub fn case_of_report(conn: &mut DbConn, report_id: &str) -> QueryResult<Option<Case>> {
    let data: Option<String> = cases::table
        .filter(cases::report_id.eq(report_id))
        .select(cases::data)
        .first(conn)
        .optional()?;
    data.map(|d| from_json(&d)).transpose()
}

/// Whether any report, task or case uses this id (one statement: a round trip on PostgreSQL).
pub fn id_taken(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    use diesel::dsl::exists;
    let taken = diesel::select(
        exists(reports::table.find(id))
            .or(exists(tasks::table.find(id)))
            .or(exists(cases::table.find(id))),
    );
    // On the backend's own connection: there diesel keys its prepared statement by the
    // query's type, through the `MultiConnection` enum by its SQL, built again every time
    // (a pushed report's largest cost after its insert, `perf`, docs/benchmarks.md).
    match conn {
        DbConn::Sqlite(c) => taken.get_result(c),
        DbConn::Pg(c) => taken.get_result(c),
    }
}

/// Insert or update a report (commands are serialised, so update-then-insert cannot race).
pub fn save_report(conn: &mut DbConn, r: &Report) -> QueryResult<()> {
    let data = to_json(r)?;
    let n = diesel::update(reports::table.find(&r.id))
        .set(report_values(r, &data))
        .execute(conn)?;
    if n == 0 {
        insert_row(conn, r, &data)?;
    }
    save_report_indexes(conn, r)
}

/// Insert a new report: one statement fewer than [`save_report`] where the command makes the
/// report and the rules have checked that its id is unused.
pub fn insert_report(conn: &mut DbConn, r: &Report) -> QueryResult<()> {
    let data = to_json(r)?;
    insert_row(conn, r, &data)?;
    save_report_indexes(conn, r)
}

/// The columns a command may change (the position and its cell change when a dispatcher places
/// a hotline report on the map); `None` writes NULL.
#[derive(AsChangeset, Insertable)]
#[diesel(table_name = reports, treat_none_as_null = true)]
struct ReportColumns<'a> {
    status: &'a str,
    task_id: Option<&'a str>,
    updated_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
    description: &'a str,
    data: &'a str,
    village_code: Option<&'a str>,
    area_code: Option<&'a str>,
    lat: Option<f64>,
    lon: Option<f64>,
}

fn report_values<'a>(r: &'a Report, data: &'a str) -> ReportColumns<'a> {
    ReportColumns {
        status: r.status.as_str(),
        task_id: r.task_id.as_deref(),
        updated_at: r.updated_at,
        finished_at: r.finished_at,
        description: &r.description,
        data,
        village_code: r.cell.as_ref().map(|c| c.village.as_str()),
        area_code: r.cell.as_ref().map(|c| c.area.as_str()),
        lat: r.lat,
        lon: r.lon,
    }
}

fn insert_row(conn: &mut DbConn, r: &Report, data: &str) -> QueryResult<()> {
    let source = serde_json::to_value(r.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let insert = diesel::insert_into(reports::table).values((
        reports::id.eq(&r.id),
        reports::source.eq(source),
        reports::reporter_id.eq(&r.reporter_id),
        reports::category_code.eq(&r.category_code),
        reports::created_at.eq(r.created_at),
        report_values(r, data),
    ));
    // On the backend's own connection (see `id_taken`).
    match conn {
        DbConn::Sqlite(c) => insert.execute(c),
        DbConn::Pg(c) => insert.execute(c),
    }
    .map(|_| ())
}

/// What is kept beside a report's row: its assistance requests and the department it went to.
fn save_report_indexes(conn: &mut DbConn, r: &Report) -> QueryResult<()> {
    for a in &r.assistance {
        save_assistance(conn, &r.id, a)?;
    }
    // The department a matter went to, or came from: its liaisons find it (scoped in SQL).
    let department = r
        .transfer
        .as_ref()
        .map(|t| t.department_id.as_str())
        .or(r.transfer_in.as_ref().map(|t| t.department_id.as_str()));
    if let Some(d) = department {
        use crate::schema::reports_transfer::reports as rt;
        diesel::update(rt::table.find(&r.id))
            .set(rt::transfer_department_id.eq(Some(d)))
            .execute(conn)?;
    }
    Ok(())
}

/// Index an assistance request by its addressed department, state and deadline (the liaison's
/// inbox and the deadline job read it; the request itself lives in its report).
fn save_assistance(
    conn: &mut DbConn,
    report_id: &str,
    a: &crate::domain::workflow::Assistance,
) -> QueryResult<()> {
    use crate::schema::assistance_requests as ar;
    let n = diesel::update(ar::table.find(&a.id))
        .set((ar::status.eq(a.status.as_str()), ar::due_at.eq(a.due)))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(ar::table)
            .values((
                ar::id.eq(&a.id),
                ar::report_id.eq(report_id),
                ar::department_id.eq(&a.department_id),
                ar::status.eq(a.status.as_str()),
                ar::due_at.eq(a.due),
                ar::requested_at.eq(a.requested_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether an assistance request uses this id.
pub fn assistance_taken(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    use crate::schema::assistance_requests as ar;
    let n: i64 = ar::table.filter(ar::id.eq(id)).count().get_result(conn)?;
    Ok(n > 0)
}

/// Insert or update a task.
pub fn save_task(conn: &mut DbConn, t: &Task, now: NaiveDateTime) -> QueryResult<()> {
    let data = to_json(t)?;
    let values = (
        tasks::squad_id.eq(&t.squad_id),
        tasks::status.eq(t.status.as_str()),
        tasks::dispatched_at.eq(t.dispatched_at),
        tasks::ack_due_at.eq(t.ack_due_at),
        tasks::due_at.eq(t.due_at),
        tasks::warned_at.eq(t.warned_at),
        tasks::escalated_at.eq(t.escalated_at),
        tasks::updated_at.eq(now),
        tasks::data.eq(&data),
    );
    let n = diesel::update(tasks::table.find(&t.id))
        .set(values)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(tasks::table)
            .values((
                tasks::id.eq(&t.id),
                tasks::report_id.eq(&t.report_id),
                tasks::village_code.eq(t.cell_village.as_deref()),
                tasks::category_code.eq(&t.category_code),
                values,
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Insert or update a case.
pub fn save_case(conn: &mut DbConn, c: &Case, now: NaiveDateTime) -> QueryResult<()> {
    let data = to_json(c)?;
    let values = (
        cases::number.eq(c.number.as_deref()),
        cases::status.eq(c.status.as_str()),
        cases::updated_at.eq(now),
        cases::data.eq(&data),
    );
    let n = diesel::update(cases::table.find(&c.id))
        .set(values)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(cases::table)
            .values((
                cases::id.eq(&c.id),
                cases::task_id.eq(&c.task_id),
                cases::report_id.eq(&c.report_id),
                values,
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Next value of a named counter (document numbers); call inside the command transaction.
pub fn next_counter(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    use crate::schema::counters;
    let n = diesel::update(counters::table.find(name))
        .set(counters::value.eq(counters::value + 1))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(counters::table)
            .values((counters::name.eq(name), counters::value.eq(1_i64)))
            .execute(conn)?;
    }
    counters::table
        .find(name)
        .select(counters::value)
        .first(conn)
}
