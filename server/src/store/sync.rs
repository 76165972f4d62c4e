//! Sync bookkeeping: per-(user, device) command sequences, receipts, scoped change-log pages,
//! back-fill candidates and change-log retention.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::DbConn;
use crate::schema::{change_log, counters, sync_devices, sync_receipts};
use crate::store::audit::ChangeRow;

/// Counter holding the highest pruned change-log `seq`.
const PRUNED_THROUGH: &str = "change_log_pruned_through";

/// Make sure a device row exists (next expected `device_seq` = 1 for a new one).
pub fn ensure_device(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    // `ON CONFLICT DO NOTHING` is the same on both backends; diesel's upsert does not compile
    // through the MultiConnection enum.
    diesel::sql_query(
        "INSERT INTO sync_devices (user_id, device_id, next_seq, updated_at) \
         VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(user_id)
    .bind::<Text, _>(device_id)
    .bind::<Timestamp, _>(now)
    .execute(conn)
    .map(|_| ())
}

/// The next `device_seq` expected.
pub fn next_seq(conn: &mut DbConn, user_id: &str, device_id: &str) -> QueryResult<i64> {
    sync_devices::table
        .find((user_id, device_id))
        .select(sync_devices::next_seq)
        .first(conn)
}

/// Move the device on from `seq` to `seq + 1`; false when another push got there first.
pub fn advance(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    seq: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        sync_devices::table
            .find((user_id, device_id))
            .filter(sync_devices::next_seq.eq(seq)),
    )
    .set((
        sync_devices::next_seq.eq(seq + 1),
        sync_devices::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// What became of one pushed command.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_receipts)]
pub struct Receipt {
    /// User.
    pub user_id: String,
    /// Device.
    pub device_id: String,
    /// The device's sequence number.
    pub device_seq: i64,
    /// `applied` or `rejected`.
    pub status: String,
    /// Server command sequence when applied.
    pub command_seq: Option<i64>,
    /// Rejection code.
    pub code: Option<String>,
    /// Rejection message.
    pub message: Option<String>,
    /// Command name.
    pub command: String,
    /// SHA-256 (hex) of the command's JSON.
    pub command_hash: String,
    /// `[["report", id], …]` the command concerns, JSON.
    pub entities: String,
    /// Device time.
    pub occurred_at: Option<NaiveDateTime>,
    /// Server time.
    pub received_at: NaiveDateTime,
}

/// Write a receipt.
pub fn insert_receipt(conn: &mut DbConn, r: &Receipt) -> QueryResult<()> {
    diesel::insert_into(sync_receipts::table)
        .values(r)
        .execute(conn)
        .map(|_| ())
}

/// The receipt of one command.
pub fn receipt(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    device_seq: i64,
) -> QueryResult<Option<Receipt>> {
    sync_receipts::table
        .find((user_id, device_id, device_seq))
        .select(Receipt::as_select())
        .first(conn)
        .optional()
}

/// Which rows of the change log a reader follows: everything, or their own reports, villages
/// and squads (including the village or squad an entity has just left).
#[derive(Debug, Clone)]
pub enum LogScope {
    /// Town-wide readers.
    All,
    /// Everyone else.
    Some {
        /// Reporter id (own reports).
        user_id: String,
        /// Villages.
        villages: Vec<String>,
        /// Squads.
        squads: Vec<String>,
    },
}

/// Raw SQL with numbered text parameters, built left to right (SQLite numbers `$n` by first
/// appearance, so numbering in writing order keeps both backends agreeing). Raw SQL because
/// these filters (OR over several `IN` lists and sub-selects) are cheap for the databases but
/// made diesel's typed query builder take many GB and minutes to compile through the
/// MultiConnection enum.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<String>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn param(&mut self, v: &str) -> &mut Self {
        self.binds.push(v.to_owned());
        let n = self.binds.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    /// `col IN (…)`, or a false condition for an empty list.
    fn in_list(&mut self, col: &str, vs: &[String]) -> &mut Self {
        if vs.is_empty() {
            return self.push("1 = 0");
        }
        self.push(col).push(" IN (");
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.param(v);
        }
        self.push(")")
    }

    fn load<T>(self, conn: &mut DbConn) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<crate::db::MultiBackend> + 'static,
    {
        let mut q = diesel::sql_query(self.text).into_boxed::<crate::db::MultiBackend>();
        for b in self.binds {
            q = q.bind::<Text, _>(b);
        }
        q.load(conn)
    }
}

/// Change-log rows after `seq` in the scope, oldest first, at most `limit`.
pub fn log_page(
    conn: &mut DbConn,
    scope: &LogScope,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    let mut q = Sql::default();
    q.push(&format!(
        "SELECT seq, entity_type, entity_id, village_code, squad_id, reporter_id, at, \
         prev_village_code, prev_squad_id FROM change_log WHERE seq > {after}"
    ));
    if let LogScope::Some {
        user_id,
        villages,
        squads,
    } = scope
    {
        q.push(" AND (reporter_id = ").param(user_id).push(" OR ");
        q.in_list("village_code", villages).push(" OR ");
        q.in_list("prev_village_code", villages).push(" OR ");
        q.in_list("squad_id", squads).push(" OR ");
        q.in_list("prev_squad_id", squads).push(")");
    }
    q.push(&format!(
        " ORDER BY seq, entity_type, entity_id LIMIT {}",
        limit.max(0)
    ));
    q.load(conn)
}

/// A part of a reader's scope, as remembered in a cursor: `all`, `u:<user>`, `v:<village>`,
/// `s:<squad>`.
#[derive(Debug, Clone, Default)]
pub struct ScopeParts {
    /// Everything.
    pub all: bool,
    /// Own reports of this user.
    pub reporter: Option<String>,
    /// Villages.
    pub villages: Vec<String>,
    /// Squads.
    pub squads: Vec<String>,
}

impl ScopeParts {
    /// Parse scope keys.
    pub fn from_keys(keys: &[String]) -> Self {
        let mut p = ScopeParts::default();
        for k in keys {
            if k == "all" {
                p.all = true;
            } else if let Some(u) = k.strip_prefix("u:") {
                p.reporter = Some(u.to_owned());
            } else if let Some(v) = k.strip_prefix("v:") {
                p.villages.push(v.to_owned());
            } else if let Some(s) = k.strip_prefix("s:") {
                p.squads.push(s.to_owned());
            }
        }
        p
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Ids of reports (`kind` 0), tasks (1) or cases (2) in a scope part, after `after` in id
/// order, at most `limit`: the candidates of a back-fill or a scope purge.
pub fn scope_ids(
    conn: &mut DbConn,
    parts: &ScopeParts,
    kind: u8,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    let table = ["reports", "tasks", "cases"][usize::from(kind.min(2))];
    let mut q = Sql::default();
    q.push(&format!("SELECT id FROM {table} WHERE id > "))
        .param(after);
    if !parts.all {
        let (v, s) = (&parts.villages, &parts.squads);
        let own = |q: &mut Sql| match &parts.reporter {
            Some(u) => {
                q.push("reporter_id = ").param(u);
            }
            None => {
                q.push("1 = 0");
            }
        };
        q.push(" AND (");
        match kind {
            0 => {
                q.in_list("village_code", v).push(" OR ");
                q.push("id IN (SELECT report_id FROM tasks WHERE ");
                q.in_list("squad_id", s).push(") OR ");
                own(&mut q);
            }
            1 => {
                q.in_list("village_code", v).push(" OR ");
                q.in_list("squad_id", s).push(" OR ");
                q.push("report_id IN (SELECT id FROM reports WHERE ");
                q.in_list("village_code", v).push(" OR ");
                own(&mut q);
                q.push(")");
            }
            _ => {
                q.push("report_id IN (SELECT id FROM reports WHERE ");
                q.in_list("village_code", v).push(" OR ");
                own(&mut q);
                q.push(") OR task_id IN (SELECT id FROM tasks WHERE ");
                q.in_list("squad_id", s).push(" OR ");
                q.in_list("village_code", v).push(")");
            }
        }
        q.push(")");
    }
    q.push(&format!(" ORDER BY id LIMIT {}", limit.max(0)));
    Ok(q.load::<Id>(conn)?.into_iter().map(|r| r.id).collect())
}

/// The highest change-log `seq` removed by retention (0 when none was).
pub fn pruned_through(conn: &mut DbConn) -> QueryResult<i64> {
    Ok(counters::table
        .find(PRUNED_THROUGH)
        .select(counters::value)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

#[derive(QueryableByName)]
struct MaxSeq {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    seq: Option<i64>,
}

/// Remove change-log rows written before `cutoff`; returns the rows removed. Rows go by whole
/// commands (`seq`), and the highest removed `seq` is remembered so that older cursors reset.
pub fn prune(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    crate::db::write_transaction(conn, |conn| {
        let m: MaxSeq = diesel::sql_query("SELECT MAX(seq) AS seq FROM change_log WHERE at < $1")
            .bind::<Timestamp, _>(cutoff)
            .get_result(conn)?;
        let Some(through) = m.seq else { return Ok(0) };
        let previous = pruned_through(conn)?;
        let n = diesel::update(counters::table.find(PRUNED_THROUGH))
            .set(counters::value.eq(through.max(previous)))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(counters::table)
                .values((
                    counters::name.eq(PRUNED_THROUGH),
                    counters::value.eq(through),
                ))
                .execute(conn)?;
        }
        diesel::delete(change_log::table.filter(change_log::seq.le(through))).execute(conn)
    })
}
