//! The command handler: the one path by which reports, tasks and cases change.
//!
//! ```text
//! HTTP / sync push / CLI / deadline job ── Actor + Command
//!   └─ execute(): one transaction
//!        1. claim the next command seq (serialises commands; seq = commit order)
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
use griddispatch_protocol::command::{Command, Position};
use serde_json::json;

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
/// it claims the command sequence, which serialises commands.
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
///   rules, read by the first command that needs them after it claimed the sequence: nothing
///   else can change them while the transaction holds the sequence (administrators' changes
///   claim it too, `audit::record_action`), and no command changes them;
/// - the newest audit record's hash, kept here and written to the chain head by
///   [`Batch::finish`] before the transaction commits.
///
/// A caller that may roll back one command of the batch runs it in [`Batch::savepoint`].
#[derive(Default)]
pub struct Batch {
    actor: Option<crate::domain::workflow::ActorCtx>,
    categories: facts::Categories,
    head: Option<String>,
}

impl Batch {
    /// Run `f` (a command of the batch and what the caller writes with it) in a savepoint of
    /// the batch's transaction: if it fails, its writes are rolled back and so is what it did
    /// to the chain head kept here.
    pub fn savepoint<T, E>(
        &mut self,
        conn: &mut DbConn,
        f: impl FnOnce(&mut DbConn, &mut Batch) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        use diesel::Connection;
        let head = self.head.clone();
        let out = conn.transaction(|conn| f(conn, self));
        if out.is_err() {
            self.head = head;
        }
        out
    }

    /// Write the newest audit record's hash to the chain head; call before the transaction
    /// commits.
    pub fn finish(&mut self, conn: &mut DbConn) -> Result<(), diesel::result::Error> {
        match self.head.take() {
            Some(h) => audit::set_head_hash(conn, &h),
            None => Ok(()),
        }
    }
}

/// [`execute_in`] for several commands of one issuer in one transaction (see [`Batch`]); the
/// caller calls [`Batch::finish`] before committing.
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
        let (seq, stored_hash) = audit::claim(conn)?;
        // The head as this batch left it, when it has not been written yet.
        let prev_hash = batch.head.clone().unwrap_or(stored_hash);
        let actor = match &mut batch.actor {
            Some(a) => a,
            none => none.insert(facts::actor(conn, env, issuer)?),
        };
        let facts = facts::load(conn, env, issuer, actor, &mut batch.categories, cmd)?;
        let change = decide(cmd, &facts)?;
        let before = json!({
            "report": facts.report.as_ref().filter(|_| change.report.is_some()),
            "task": facts.task.as_ref().filter(|_| change.task.is_some()),
            "case": facts.case.as_ref().filter(|_| change.case.is_some()),
        });
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
            audit::record_change(
                conn,
                &ChangeRow {
                    seq,
                    entity_type: kind.into(),
                    entity_id: id,
                    village_code: village,
                    squad_id: squad,
                    reporter_id: reporter,
                    at: env.now,
                    prev_village_code: prev_village.clone(),
                    prev_squad_id: prev_squad.clone(),
                },
            )?;
        }
        let payload = serde_json::to_string(cmd)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let after = json!({"report": change.report, "task": change.task, "case": change.case});
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
            before: before.to_string(),
            after: after.to_string(),
            prev_hash,
            hash: String::new(),
        };
        rec.hash = rec.compute_hash();
        audit::append(conn, &rec)?;
        notify::after_command(conn, cmd, &change, &facts, env.now)?;
        batch.head = Some(rec.hash);
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
