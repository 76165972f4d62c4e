//! The command handler: the one path by which reports, tasks and cases change.
//!
//! ```text
//! HTTP / sync push / CLI / deadline job ── Actor + Command
//!   └─ execute(): one transaction
//!        1. lock the command log head, take the next seq (serialises commands; seq = commit order)
//!        2. load the facts the rules need (actor's cells and squads, entities, grid, calendar)
//!        3. domain::workflow::decide — pure
//!        4. write the changed aggregates, one audit record (hash-chained), change-log rows
//! ```

pub mod case_deadlines;
pub mod deadlines;
pub mod duplicates;
mod facts;
pub mod notify;
pub mod publication;
pub mod queries;
pub mod scope;
pub mod stats;
pub mod transfer_deadlines;

use chrono::NaiveDateTime;
use diesel::QueryResult;
use griddispatch_protocol::command::{Command, Position};

use crate::db::DbConn;
use crate::domain::calendar::WorkCalendar;
use crate::domain::workflow::{decide, Change, DomainError, ErrorKind};
use crate::error::AppError;
use crate::store::audit::{self, AuditRecord, ChangeRow};
use crate::store::workflow as store;
use grid_data::GridIndex;

/// Who issues a command.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// User id, or `system` for the server's own jobs.
    pub user_id: String,
    /// The deadline job.
    pub is_system: bool,
    /// When the phone says the action happened (a command made offline and pushed later);
    /// none: now. Used where the law or a rule looks at when something was done on site (the
    /// officers' arrival), never for the record's own time.
    pub occurred_at: Option<chrono::NaiveDateTime>,
}

/// What the handler needs besides the database.
pub struct Env<'a> {
    /// Current grid index (None before any import).
    pub grid: Option<&'a GridIndex>,
    /// Current grid version number.
    pub grid_version: i64,
    /// Working-day calendar.
    pub calendar: &'a WorkCalendar,
    /// Now (UTC, microseconds).
    pub now: NaiveDateTime,
    /// The case procedure's figures (configuration `[case_rules]`).
    pub case_rules: crate::domain::workflow::CaseRules,
    /// The duplicate criteria of a merge (configuration `[merge_rules]`).
    pub merge_rules: crate::domain::workflow::MergeRules,
}

/// The result of an applied command.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    /// Command sequence number (commit order).
    pub seq: i64,
    /// Command name.
    pub command: &'static str,
    /// Report concerned.
    pub report_id: Option<String>,
    /// Task concerned.
    pub task_id: Option<String>,
    /// Case concerned.
    pub case_id: Option<String>,
    /// What the command wrote (the entities' new state), for a caller that answers with them
    /// in the same transaction instead of reading them back.
    #[serde(skip)]
    pub written: Change,
}

/// Why a command was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The rules refused it.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl From<CommandError> for AppError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Domain(d) => match d.kind {
                ErrorKind::Forbidden | ErrorKind::OutOfScope => {
                    AppError::forbidden(d.code, d.message)
                }
                ErrorKind::InvalidState => AppError::conflict(d.code, d.message),
                ErrorKind::Rule => AppError::unprocessable(d.code, d.message),
                ErrorKind::NotFound => AppError::NotFound(d.message),
            },
            CommandError::Db(e) => AppError::Internal(e.to_string()),
        }
    }
}

/// Apply one command: all of it or nothing.
pub fn execute(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    cmd: &Command,
    position: Option<&Position>,
) -> Result<Applied, CommandError> {
    crate::db::write_transaction(conn, |conn| execute_in(conn, env, issuer, cmd, position))
}

/// `execute` without its transaction, for callers that write more in the same transaction
/// (the sync push writes its receipt there). Must be the first statement of the transaction:
/// it locks the command log head, which serialises commands.
pub fn execute_in(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    cmd: &Command,
    position: Option<&Position>,
) -> Result<Applied, CommandError> {
    let mut batch = Batch::default();
    let applied = execute_as(conn, env, issuer, &mut batch, cmd, position)?;
    batch.finish(conn)?;
    Ok(applied)
}

/// What several commands of one issuer in one transaction share (a sync push's group), so
/// that each is read or written once instead of once a command — each statement is a round
/// trip on PostgreSQL:
/// - who the issuer is to the rules (roles, certificate, cells, squads) and the categories'
///   rules, read by the first command that needs them after it locked the command log head:
///   nothing else can change them while the transaction holds it (administrators' changes
///   claim it too, `audit::record_action`), and no command changes them;
/// - the command log head: locked by the first command ([`audit::lock_head`]), then each
///   command's `seq` and the newest record's hash are kept here and written to the head by
///   [`Batch::finish`] before the transaction commits;
/// - when [`Batch::deferring`]: the audit records and change-log rows, written by
///   [`Batch::finish`] in multi-row inserts. Nothing a command reads (its facts, the rules,
///   notifications) reads them, so the later commands of the batch decide the same.
///
/// A caller that may roll back one command of the batch runs it in [`Batch::savepoint`]; a
/// command the rules refuse has written nothing (see [`execute_as`]), and [`Batch::mark`] /
/// [`Batch::undo`] put back what it did here.
#[derive(Default)]
pub struct Batch {
    actor: Option<crate::domain::workflow::ActorCtx>,
    categories: facts::Categories,
    head: Option<Head>,
    deferred: Option<Deferred>,
}

/// The command log head as a batch left it.
#[derive(Clone)]
struct Head {
    /// The newest `seq` used.
    seq: i64,
    /// Its record's hash.
    hash: String,
    /// Whether the batch appended a record (else nothing to write back).
    moved: bool,
}

/// Rows [`Batch::finish`] writes.
#[derive(Default)]
struct Deferred {
    records: Vec<AuditRecord>,
    changes: Vec<ChangeRow>,
}

/// Where a batch stood before a command (see [`Batch::undo`]).
pub struct Mark {
    head: Option<Head>,
    records: usize,
    changes: usize,
}

impl Batch {
    /// A batch whose audit records and change-log rows are written by [`Batch::finish`]
    /// instead of by each command: a failing write then fails the whole transaction, so a
    /// caller uses it only where it can roll back the whole batch and do it again one savepoint
    /// a command (the sync push, `sync::push`).
    pub fn deferring() -> Self {
        Batch {
            deferred: Some(Deferred::default()),
            ..Batch::default()
        }
    }

    /// Where the batch stands now.
    pub fn mark(&self) -> Mark {
        Mark {
            head: self.head.clone(),
            records: self.deferred.as_ref().map_or(0, |d| d.records.len()),
            changes: self.deferred.as_ref().map_or(0, |d| d.changes.len()),
        }
    }

    /// Put back what the commands after `mark` did to the batch (not to the database).
    pub fn undo(&mut self, mark: Mark) {
        self.head = mark.head;
        if let Some(d) = &mut self.deferred {
            d.records.truncate(mark.records);
            d.changes.truncate(mark.changes);
        }
    }

    /// Run `f` (a command of the batch and what the caller writes with it) in a savepoint of
    /// the batch's transaction: if it fails, its writes are rolled back and so is what it did
    /// to the batch.
    pub fn savepoint<T, E>(
        &mut self,
        conn: &mut DbConn,
        f: impl FnOnce(&mut DbConn, &mut Batch) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        use diesel::Connection;
        let mark = self.mark();
        let out = conn.transaction(|conn| f(conn, self));
        if out.is_err() {
            self.undo(mark);
        }
        out
    }

    /// The next command's `seq` and the hash its record chains to; the first call locks the
    /// head (the first statement of a command, see [`execute_in`]).
    fn next(&mut self, conn: &mut DbConn) -> QueryResult<(i64, String)> {
        let head = match &mut self.head {
            Some(h) => h,
            none => {
                let (seq, hash) = audit::lock_head(conn)?;
                none.insert(Head {
                    seq,
                    hash,
                    moved: false,
                })
            }
        };
        Ok((head.seq + 1, head.hash.clone()))
    }

    /// Write the deferred rows and the head; call before the transaction commits.
    pub fn finish(&mut self, conn: &mut DbConn) -> Result<(), diesel::result::Error> {
        if let Some(d) = &mut self.deferred {
            audit::append_many(conn, &d.records)?;
            audit::record_changes(conn, &d.changes)?;
            d.records.clear();
            d.changes.clear();
        }
        match self.head.take() {
            Some(h) if h.moved => audit::set_head(conn, h.seq, &h.hash),
            _ => Ok(()),
        }
    }
}

/// [`execute_in`] for several commands of one issuer in one transaction (see [`Batch`]); the
/// caller calls [`Batch::finish`] before committing.
///
/// A command the rules refuse (`CommandError::Domain`) has written nothing to the database if
/// [`decides_before_writing`] says so: then everything before `decide` reads (the head's lock
/// writes nothing), and a caller may go on with the transaction after [`Batch::undo`] without
/// a savepoint. Other commands may have claimed a number before the rules refused them.
pub fn execute_as(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    batch: &mut Batch,
    cmd: &Command,
    position: Option<&Position>,
) -> Result<Applied, CommandError> {
    {
        crate::domain::input::check_command(cmd, position, env.now)?;
        let (seq, prev_hash) = batch.next(conn)?;
        let actor = match &mut batch.actor {
            Some(a) => a,
            none => none.insert(facts::actor(conn, env, issuer)?),
        };
        let facts = facts::load(conn, env, issuer, actor, &mut batch.categories, cmd)?;
        let change = decide(cmd, &facts)?;
        let before = Snapshot {
            report: facts.report.as_ref().filter(|_| change.report.is_some()),
            task: facts.task.as_ref().filter(|_| change.task.is_some()),
            case: facts.case.as_ref().filter(|_| change.case.is_some()),
        }
        .text()?;
        write(conn, &change, creates_report(cmd), env.now)?;
        let ids = Ids::of(&change, &facts);
        // Where the entities were before: a pull must reach the users of the scope they left.
        let prev_squad = facts
            .task
            .as_ref()
            .map(|t| t.squad_id.clone())
            .filter(|s| ids.squad.as_ref() != Some(s));
        let prev_village = facts
            .report
            .as_ref()
            .and_then(|r| r.cell.as_ref().map(|c| c.village.clone()))
            .or_else(|| facts.task.as_ref().and_then(|t| t.cell_village.clone()))
            .filter(|v| ids.village.as_ref() != Some(v));
        for (kind, id, village, squad, reporter) in ids.change_rows(&change) {
            let row = ChangeRow {
                seq,
                entity_type: kind.into(),
                entity_id: id,
                village_code: village,
                squad_id: squad,
                reporter_id: reporter,
                at: env.now,
                prev_village_code: prev_village.clone(),
                prev_squad_id: prev_squad.clone(),
            };
            match &mut batch.deferred {
                Some(d) => d.changes.push(row),
                None => audit::record_change(conn, &row)?,
            }
        }
        let payload = serde_json::to_string(cmd)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let after = Snapshot {
            report: change.report.as_ref(),
            task: change.task.as_ref(),
            case: change.case.as_ref(),
        }
        .text()?;
        let mut rec = AuditRecord {
            seq,
            at: env.now,
            actor_id: issuer.user_id.clone(),
            actor_lat: position.map(|p| p.lat),
            actor_lon: position.map(|p| p.lon),
            command: cmd.name().to_owned(),
            report_id: ids.report.clone(),
            task_id: ids.task.clone(),
            case_id: ids.case.clone(),
            payload,
            before,
            after,
            prev_hash,
            hash: String::new(),
        };
        rec.hash = rec.compute_hash();
        notify::after_command(conn, cmd, &change, &facts, env.now)?;
        batch.head = Some(Head {
            seq,
            hash: rec.hash.clone(),
            moved: true,
        });
        match &mut batch.deferred {
            Some(d) => d.records.push(rec),
            None => audit::append(conn, &rec)?,
        }
        Ok(Applied {
            seq,
            command: cmd.name(),
            report_id: ids.report,
            task_id: ids.task,
            case_id: ids.case,
            written: change,
        })
    }
}

/// The entities an audit record shows before or after its command, written straight to the
/// record's text: a `json!` value built a tree of the entities first, ~7 % of a pushed
/// report's server time (`perf`, docs/benchmarks.md). Fields in the order a JSON object's keys
/// were (sorted).
#[derive(serde::Serialize)]
struct Snapshot<'a> {
    case: Option<&'a crate::domain::workflow::Case>,
    report: Option<&'a crate::domain::workflow::Report>,
    task: Option<&'a crate::domain::workflow::Task>,
}

impl Snapshot<'_> {
    fn text(&self) -> Result<String, diesel::result::Error> {
        serde_json::to_string(self)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
    }
}

/// Whether nothing the command does before the rules decide writes: true of a new report (its
/// facts are the id check, the category's rules, the grid and its photos' owners). Other
/// commands' facts may claim a number the decision would carry — a simple penalty's, a case's,
/// a transfer letter's, an assistance letter's, a decision's, a reminder's
/// (`facts::load`, `store::workflow::next_counter`) — which a refusal must give back.
pub fn decides_before_writing(cmd: &Command) -> bool {
    matches!(cmd, Command::CreateReport { .. })
}

/// Whether the command makes a new report (the rules have checked that its id is unused).
fn creates_report(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::CreateReport { .. } | Command::TransferIn { .. }
    )
}

fn write(
    conn: &mut DbConn,
    change: &Change,
    new_report: bool,
    now: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    // Parents first: a new task references its report, a new case its task.
    if let Some(r) = &change.report {
        if new_report {
            store::insert_report(conn, r)?;
        } else {
            store::save_report(conn, r)?;
        }
    }
    if let Some(t) = &change.task {
        store::save_task(conn, t, now)?;
    }
    if let Some(c) = &change.case {
        store::save_case(conn, c, now)?;
    }
    Ok(())
}

/// The ids a command concerns, for the audit record and the change log.
struct Ids {
    report: Option<String>,
    task: Option<String>,
    case: Option<String>,
    village: Option<String>,
    squad: Option<String>,
    reporter: Option<String>,
}

impl Ids {
    fn of(change: &Change, facts: &crate::domain::workflow::Facts) -> Self {
        let report = change.report.as_ref().or(facts.report.as_ref());
        let task = change.task.as_ref().or(facts.task.as_ref());
        let case = change.case.as_ref().or(facts.case.as_ref());
        Ids {
            report: report
                .map(|r| r.id.clone())
                .or_else(|| task.map(|t| t.report_id.clone()))
                .or_else(|| case.map(|c| c.report_id.clone())),
            task: task
                .map(|t| t.id.clone())
                .or_else(|| case.map(|c| c.task_id.clone())),
            case: case.map(|c| c.id.clone()),
            village: report
                .and_then(|r| r.cell.as_ref().map(|c| c.village.clone()))
                .or_else(|| task.and_then(|t| t.cell_village.clone())),
            squad: task.map(|t| t.squad_id.clone()),
            reporter: report.map(|r| r.reporter_id.clone()),
        }
    }

    #[allow(clippy::type_complexity)]
    fn change_rows(
        &self,
        change: &Change,
    ) -> Vec<(
        &'static str,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    )> {
        let mut rows = Vec::new();
        if let Some(r) = &change.report {
            rows.push((
                "report",
                r.id.clone(),
                self.village.clone(),
                self.squad.clone(),
                Some(r.reporter_id.clone()),
            ));
        }
        if let Some(t) = &change.task {
            rows.push((
                "task",
                t.id.clone(),
                t.cell_village.clone(),
                Some(t.squad_id.clone()),
                self.reporter.clone(),
            ));
        }
        if let Some(c) = &change.case {
            rows.push((
                "case",
                c.id.clone(),
                self.village.clone(),
                self.squad.clone(),
                self.reporter.clone(),
            ));
        }
        rows
    }
}
