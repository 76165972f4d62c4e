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
    set_next_seq(conn, user_id, device_id, seq, seq + 1, now)
}

/// Lock the device's row for the rest of the transaction and read its next `device_seq`: a
/// push that numbers a whole group in memory ([`set_next_seq`] at its end) holds the row so
/// that no other push of the same device applies the same commands meanwhile (PostgreSQL: the
/// row lock, a concurrent push waits here and then reads the moved number; SQLite: the write
/// lock is the transaction's already).
pub fn lock_device(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let lock = diesel::update(sync_devices::table.find((user_id, device_id)))
        .set(sync_devices::updated_at.eq(now))
        .returning(sync_devices::next_seq);
    match conn {
        DbConn::Sqlite(c) => lock.get_result(c),
        DbConn::Pg(c) => lock.get_result(c),
    }
}

/// Move the device on from `from` to `to` (a group of commands at once); false when it is no
/// longer at `from`.
pub fn set_next_seq(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    from: i64,
    to: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        sync_devices::table
            .find((user_id, device_id))
            .filter(sync_devices::next_seq.eq(from)),
    )
    .set((
        sync_devices::next_seq.eq(to),
        sync_devices::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// What became of one pushed command.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_receipts, treat_none_as_default_value = false)]
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

/// Write a group's receipts in multi-row inserts.
pub fn insert_receipts(conn: &mut DbConn, rs: &[Receipt]) -> QueryResult<()> {
    crate::store::audit::insert_many!(conn, sync_receipts::table, rs).map(|_| ())
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

/// Columns of a change-log row, in [`ChangeRow`]'s order.
const LOG_COLUMNS: &str = "seq, entity_type, entity_id, village_code, squad_id, reporter_id, at, \
                           prev_village_code, prev_squad_id";

/// Page order of the change log (its primary key): whole commands, entities in a fixed order.
const LOG_ORDER: &str = "seq, entity_type, entity_id";

/// More scope keys than this and a scoped page reads one `IN` list per column instead of one
/// index range per key (SQLite allows at most 500 members in a compound query).
const MAX_KEY_BRANCHES: usize = 64;

/// Change-log rows after `seq` in the scope, oldest first, at most `limit`.
///
/// A scoped reader's page reads only rows of its own scope: the union of one short range
/// scan per scope key — `reporter_id`, `village_code`/`prev_village_code` per village,
/// `squad_id`/`prev_squad_id` per squad — each on an index `(column, seq, entity_type,
/// entity_id)` (migration `2026-11-30-000110`) and each cut at `limit`, merged in page order.
/// The first `limit` rows of the union are among the first `limit` of some branch, so the
/// answer is the same as filtering the whole log with an `OR`; `UNION` (not `UNION ALL`)
/// keeps a row reached through two columns once. The `OR` over `seq > after` it replaces
/// walked every change committed after the cursor, whoever's it was.
///
/// Plans seen on 200 000 rows (2026-11-30): SQLite 3.40 `EXPLAIN QUERY PLAN` gives per
/// branch `SEARCH change_log USING INDEX change_log_village (village_code=? AND seq>?)` under
/// `MERGE (UNION)`, each branch sorting at most `limit` rows; PostgreSQL 15 `EXPLAIN` (custom
/// and generic plans) gives per branch `Limit -> Sort -> Bitmap Heap Scan` on a `Bitmap Index
/// Scan on change_log_village (village_code = $2 AND seq > N)` under `HashAggregate ->
/// Append`: the scope's rows only. The `OR` was `SEARCH … USING INDEX
/// sqlite_autoindex_change_log_1 (seq>?)` / `Index Scan using change_log_pkey (seq > N)
/// Filter: … Rows Removed by Filter`: every row after the cursor.
/// With more than [`MAX_KEY_BRANCHES`] keys each column reads its `IN` list (still only the
/// scope's rows, sorted after reading).
pub fn log_page(
    conn: &mut DbConn,
    scope: &LogScope,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    let limit = limit.max(0);
    let mut q = Sql::default();
    let LogScope::Some {
        user_id,
        villages,
        squads,
    } = scope
    else {
        q.push(&format!(
            "SELECT {LOG_COLUMNS} FROM change_log WHERE seq > {after} \
             ORDER BY {LOG_ORDER} LIMIT {limit}"
        ));
        return q.load(conn);
    };
    // (column, keys) of each branch.
    let mut branches: Vec<(&str, Vec<&String>)> = Vec::new();
    // One branch for the reporter, two per village and per squad.
    if villages.len() * 2 + squads.len() * 2 < MAX_KEY_BRANCHES {
        branches.push(("reporter_id", vec![user_id]));
        for v in villages {
            branches.push(("village_code", vec![v]));
            branches.push(("prev_village_code", vec![v]));
        }
        for s in squads {
            branches.push(("squad_id", vec![s]));
            branches.push(("prev_squad_id", vec![s]));
        }
    } else {
        branches.push(("reporter_id", vec![user_id]));
        for col in ["village_code", "prev_village_code"] {
            if !villages.is_empty() {
                branches.push((col, villages.iter().collect()));
            }
        }
        for col in ["squad_id", "prev_squad_id"] {
            if !squads.is_empty() {
                branches.push((col, squads.iter().collect()));
            }
        }
    }
    for (i, (col, keys)) in branches.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ");
        }
        q.push(&format!(
            "SELECT {LOG_COLUMNS} FROM (SELECT {LOG_COLUMNS} FROM change_log WHERE "
        ));
        if let [k] = keys.as_slice() {
            q.push(col).push(" = ").param(k);
        } else {
            let keys: Vec<String> = keys.iter().map(|k| (*k).clone()).collect();
            q.in_list(col, &keys);
        }
        q.push(&format!(
            " AND seq > {after} ORDER BY {LOG_ORDER} LIMIT {limit}) AS b{i}"
        ));
    }
    q.push(&format!(" ORDER BY {LOG_ORDER} LIMIT {limit}"));
    q.load(conn)
}

#[derive(QueryableByName)]
struct ScopeColumns {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    village_code: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    squad_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    reporter_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    prev_village_code: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    prev_squad_id: Option<String>,
}

/// Scope keys (`u:<reporter>`, `v:<village>`, `s:<squad>`, the left village and squad too)
/// of the change-log rows with `from < seq <= to`; `None` when there are more than `limit`.
pub fn scopes_between(
    conn: &mut DbConn,
    from: i64,
    to: i64,
    limit: i64,
) -> QueryResult<Option<std::collections::HashSet<String>>> {
    let rows: Vec<ScopeColumns> = diesel::sql_query(format!(
        "SELECT village_code, squad_id, reporter_id, prev_village_code, prev_squad_id \
         FROM change_log WHERE seq > {from} AND seq <= {to} LIMIT {}",
        limit.max(0) + 1
    ))
    .load(conn)?;
    if rows.len() as i64 > limit {
        return Ok(None);
    }
    let mut keys = std::collections::HashSet::new();
    for r in rows {
        let pairs = [
            ("u:", r.reporter_id),
            ("v:", r.village_code),
            ("v:", r.prev_village_code),
            ("s:", r.squad_id),
            ("s:", r.prev_squad_id),
        ];
        for (prefix, v) in pairs {
            if let Some(v) = v {
                keys.insert(format!("{prefix}{v}"));
            }
        }
    }
    Ok(Some(keys))
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
