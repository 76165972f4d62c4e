//! The command log head, the hash-chained audit record (执法全过程记录) and the change log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::schema::{audit_log, change_log, command_log_head};

/// Claim the next command sequence number. This UPDATE (or [`lock_head`], for commands,
/// which number themselves in memory) is the first statement of every transaction that
/// appends to the chain: it takes the write lock (SQLite) or the row lock (PostgreSQL) before
/// anything is read, so commands and actions run one at a time and `seq` follows commit order.
///
/// One statement (`RETURNING`, on both backends; a round trip fewer on PostgreSQL), built by
/// diesel so that each connection keeps it prepared. `.returning()` does not compile through
/// the `MultiConnection` enum, hence the match on the backend.
pub fn claim(conn: &mut DbConn) -> QueryResult<(i64, String)> {
    let next = diesel::update(command_log_head::table.find(1))
        .set(command_log_head::seq.eq(command_log_head::seq + 1))
        .returning((command_log_head::seq, command_log_head::last_hash));
    match conn {
        DbConn::Sqlite(c) => next.get_result(c),
        DbConn::Pg(c) => next.get_result(c),
    }
}

/// Lock the command log head without claiming a number: the newest `seq` and its record's
/// hash, for a caller that numbers its commands itself and writes the head back with
/// [`set_head`] before it commits (`workflow::Batch`). Takes the same lock as [`claim`] — a
/// write that changes nothing (SQLite: the write lock; PostgreSQL: the row lock).
pub fn lock_head(conn: &mut DbConn) -> QueryResult<(i64, String)> {
    let head = diesel::update(command_log_head::table.find(1))
        .set(command_log_head::seq.eq(command_log_head::seq))
        .returning((command_log_head::seq, command_log_head::last_hash));
    match conn {
        DbConn::Sqlite(c) => head.get_result(c),
        DbConn::Pg(c) => head.get_result(c),
    }
}

/// Write the head as a batch of commands left it: the newest `seq` and its record's hash.
pub fn set_head(conn: &mut DbConn, seq: i64, hash: &str) -> QueryResult<()> {
    diesel::update(command_log_head::table.find(1))
        .set((
            command_log_head::seq.eq(seq),
            command_log_head::last_hash.eq(hash),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Rows a multi-row `INSERT` carries at most: well under SQLite's 32 766 and PostgreSQL's
/// 65 535 bound parameters with the widest of these tables (14 columns).
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// Insert rows with multi-row `INSERT`s: one statement for up to [`ROWS_PER_INSERT`] rows
/// instead of one each (a sync push writes a group's records at its end). Batch inserts do not
/// compile through the `MultiConnection` enum, hence the macro matching on the backend. On
/// SQLite diesel writes one statement a row (in a savepoint) unless the rows' type inserts
/// `None` as NULL rather than as the column's default (`treat_none_as_default_value = false`,
/// which the three types written here carry; their tables have no other defaults).
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let mut written = 0;
        for chunk in $rows.chunks($crate::store::audit::ROWS_PER_INSERT) {
            let insert = diesel::insert_into($table).values(chunk);
            written += match &mut *$conn {
                $crate::db::DbConn::Sqlite(c) => insert.execute(c)?,
                $crate::db::DbConn::Pg(c) => insert.execute(c)?,
            };
        }
        diesel::QueryResult::Ok(written)
    }};
}
pub(crate) use insert_many;

/// Append audit records (already chained, in `seq` order) in multi-row inserts.
pub fn append_many(conn: &mut DbConn, recs: &[AuditRecord]) -> QueryResult<()> {
    insert_many!(conn, audit_log::table, recs).map(|_| ())
}

/// Append change-log rows in multi-row inserts.
pub fn record_changes(conn: &mut DbConn, rows: &[ChangeRow]) -> QueryResult<()> {
    insert_many!(conn, change_log::table, rows).map(|_| ())
}

/// Record the hash of the newest audit record.
pub fn set_head_hash(conn: &mut DbConn, hash: &str) -> QueryResult<()> {
    diesel::update(command_log_head::table.find(1))
        .set(command_log_head::last_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}

/// One audit record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRecord {
    /// Command sequence number.
    pub seq: i64,
    /// Server time.
    pub at: NaiveDateTime,
    /// Who (`system` for the deadline job).
    pub actor_id: String,
    /// Where the actor was, if known.
    pub actor_lat: Option<f64>,
    /// Where the actor was, if known.
    pub actor_lon: Option<f64>,
    /// Command name.
    pub command: String,
    /// Report concerned.
    pub report_id: Option<String>,
    /// Task concerned.
    pub task_id: Option<String>,
    /// Case concerned.
    pub case_id: Option<String>,
    /// The command as received, JSON.
    pub payload: String,
    /// State before, JSON.
    pub before: String,
    /// State after, JSON.
    pub after: String,
    /// Hash of the previous record (`genesis` for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this record's fields.
    pub hash: String,
}

impl AuditRecord {
    /// The hash this record must carry.
    pub fn compute_hash(&self) -> String {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let pos = |p: Option<f64>| p.map(|v| format!("{v:.7}")).unwrap_or_default();
        let fields = [
            self.prev_hash.clone(),
            self.seq.to_string(),
            self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            self.actor_id.clone(),
            pos(self.actor_lat),
            pos(self.actor_lon),
            self.command.clone(),
            opt(&self.report_id),
            opt(&self.task_id),
            opt(&self.case_id),
            self.payload.clone(),
            self.before.clone(),
            self.after.clone(),
        ];
        // Unit separators keep field boundaries unambiguous.
        hex::encode(Sha256::digest(fields.join("\u{1f}").as_bytes()))
    }
}

/// Append a record (its hash must already be set).
pub fn append(conn: &mut DbConn, rec: &AuditRecord) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(rec)
        .execute(conn)
        .map(|_| ())
}

/// Append an action taken outside the command path (an administrator's change of a
/// certificate, a maker's statement of what evidence proves, …) to the same hash chain as the
/// commands, so the full-process record shows it too. Call first in the action's
/// transaction: claiming the sequence serialises it with the commands.
pub fn record_action(
    conn: &mut DbConn,
    actor_id: &str,
    action: &str,
    payload: &serde_json::Value,
    before: &serde_json::Value,
    after: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    record_action_on(conn, actor_id, action, None, payload, before, after, at)
}

/// [`record_action`] about one case, so that the case's own record shows it (an export of
/// its file, …).
#[allow(clippy::too_many_arguments)]
pub fn record_action_on(
    conn: &mut DbConn,
    actor_id: &str,
    action: &str,
    case_id: Option<&str>,
    payload: &serde_json::Value,
    before: &serde_json::Value,
    after: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    let (seq, prev_hash) = claim(conn)?;
    let mut rec = AuditRecord {
        seq,
        at,
        actor_id: actor_id.to_owned(),
        actor_lat: None,
        actor_lon: None,
        command: action.to_owned(),
        report_id: None,
        task_id: None,
        case_id: case_id.map(str::to_owned),
        payload: payload.to_string(),
        before: before.to_string(),
        after: after.to_string(),
        prev_hash,
        hash: String::new(),
    };
    rec.hash = rec.compute_hash();
    append(conn, &rec)?;
    set_head_hash(conn, &rec.hash)?;
    Ok(seq)
}

/// The newest record of the chain.
pub fn last(conn: &mut DbConn) -> QueryResult<Option<AuditRecord>> {
    audit_log::table
        .order(audit_log::seq.desc())
        .select(AuditRecord::as_select())
        .first(conn)
        .optional()
}

/// Records touching a report, task or case, in order.
pub fn history(
    conn: &mut DbConn,
    report: Option<&str>,
    task: Option<&str>,
    case: Option<&str>,
) -> QueryResult<Vec<AuditRecord>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(r) = report {
        q = q.or_filter(audit_log::report_id.eq(r));
    }
    if let Some(t) = task {
        q = q.or_filter(audit_log::task_id.eq(t));
    }
    if let Some(c) = case {
        q = q.or_filter(audit_log::case_id.eq(c));
    }
    if report.is_none() && task.is_none() && case.is_none() {
        return Ok(vec![]);
    }
    q.order(audit_log::seq.asc())
        .select(AuditRecord::as_select())
        .load(conn)
}

/// A broken link in the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainProblem {
    /// Where.
    pub seq: i64,
    /// What.
    pub problem: String,
}

/// Walk the whole chain: every record's hash, every link, no gaps, and the head's hash.
/// Returns the number of records checked and the problems found.
pub fn verify(conn: &mut DbConn) -> QueryResult<(i64, Vec<ChainProblem>)> {
    let mut problems = Vec::new();
    let mut prev = "genesis".to_owned();
    let mut expected_seq: Option<i64> = None;
    let mut checked = 0;
    let mut after = i64::MIN;
    loop {
        // Pages keep memory flat on long histories.
        let page: Vec<AuditRecord> = audit_log::table
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq.asc())
            .limit(1000)
            .select(AuditRecord::as_select())
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for rec in page {
            checked += 1;
            if let Some(exp) = expected_seq {
                if rec.seq != exp {
                    problems.push(ChainProblem { seq: rec.seq, problem: format!("记录缺失：应为 {exp} (records missing before this one; expected seq {exp})") });
                }
            }
            if rec.prev_hash != prev {
                problems.push(ChainProblem { seq: rec.seq, problem: "前一记录的哈希不符：有记录被删除或篡改 (link to the previous record broken)".into() });
            }
            if rec.compute_hash() != rec.hash {
                problems.push(ChainProblem {
                    seq: rec.seq,
                    problem: "记录内容与哈希不符：已被篡改 (record altered)".into(),
                });
            }
            prev = rec.hash.clone();
            expected_seq = Some(rec.seq + 1);
        }
    }
    let head: String = command_log_head::table
        .find(1)
        .select(command_log_head::last_hash)
        .first(conn)?;
    if head != prev {
        problems.push(ChainProblem {
            seq: expected_seq.unwrap_or(0),
            problem: "链尾与记录头不符：最新记录被删除 (the newest records were removed)".into(),
        });
    }
    Ok((checked, problems))
}

/// One change-log row: an entity changed by command `seq`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = change_log, treat_none_as_default_value = false)]
pub struct ChangeRow {
    /// Command sequence (commit order).
    pub seq: i64,
    /// `report`, `task` or `case`.
    pub entity_type: String,
    /// Id.
    pub entity_id: String,
    /// Village (scope for grid members).
    pub village_code: Option<String>,
    /// Squad (scope for squads).
    pub squad_id: Option<String>,
    /// Reporter (own reports).
    pub reporter_id: Option<String>,
    /// Server time.
    pub at: NaiveDateTime,
    /// The village the entity was in before this command, when it changed.
    pub prev_village_code: Option<String>,
    /// The squad the entity was with before this command, when it changed (redispatch).
    pub prev_squad_id: Option<String>,
}

/// Append a change.
pub fn record_change(conn: &mut DbConn, row: &ChangeRow) -> QueryResult<()> {
    diesel::insert_into(change_log::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Changes after `seq`, oldest first.
pub fn changes_after(conn: &mut DbConn, seq: i64, limit: i64) -> QueryResult<Vec<ChangeRow>> {
    change_log::table
        .filter(change_log::seq.gt(seq))
        .order((change_log::seq.asc(), change_log::entity_type.asc()))
        .limit(limit)
        .select(ChangeRow::as_select())
        .load(conn)
}

/// The newest command sequence number.
pub fn head_seq(conn: &mut DbConn) -> QueryResult<i64> {
    command_log_head::table
        .find(1)
        .select(command_log_head::seq)
        .first(conn)
}
