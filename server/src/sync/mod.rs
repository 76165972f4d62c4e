//! The server side of the sync protocol (`docs/sync-protocol.md`): push applies a phone's
//! commands exactly once in device order; pull pages the change log in commit order, filtered
//! to the reader's scope, with back-fill and purge when the scope changes.

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::NaiveDateTime;
use diesel::{Connection, QueryResult};
use griddispatch_protocol::command::Command;
use griddispatch_protocol::sync::{
    Change, ChangeOp, Entity, PullResponse, PushCommand, PushResult, PushStatus,
};
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::domain::workflow::Change as Written;
use crate::error::AppError;
use crate::store::audit;
use crate::store::sync::{self as store, LogScope, Receipt, ScopeParts};
use crate::store::workflow as wf;
use crate::workflow::queries::Visibility;
use crate::workflow::{execute_as, Batch, CommandError, Env, Issuer};

// ---------------------------------------------------------------------------------------------
// Push

/// The report, task and case a command names.
pub fn command_refs(cmd: &Command) -> Vec<(&'static str, String)> {
    use Command::*;
    let mut out = Vec::new();
    match cmd {
        CreateReport { report_id, .. }
        | TransferIn { report_id, .. }
        | SetReportPosition { report_id, .. }
        | RequestInfo { report_id, .. }
        | SupplementReport { report_id, .. }
        | RejectReport { report_id, .. }
        | TransferReport { report_id, .. }
        | CloseReport { report_id } => out.push(("report", report_id.clone())),
        MergeReport {
            report_id,
            into_report_id,
        } => {
            out.push(("report", report_id.clone()));
            out.push(("report", into_report_id.clone()));
        }
        DispatchReport {
            report_id, task_id, ..
        } => {
            out.push(("report", report_id.clone()));
            out.push(("task", task_id.clone()));
        }
        AcceptTask { task_id, .. }
        | RequestReturn { task_id, .. }
        | DecideReturn { task_id, .. }
        | RedispatchTask { task_id, .. }
        | ArriveOnSite { task_id, .. }
        | CloseTask { task_id }
        | RecheckTask { task_id, .. }
        | RequestExtension { task_id, .. }
        | DecideExtension { task_id, .. }
        | FlagDeadline { task_id, .. }
        | EscalateTask { task_id, .. } => out.push(("task", task_id.clone())),
        HandleTask {
            task_id, case_id, ..
        } => {
            out.push(("task", task_id.clone()));
            if let Some(c) = case_id {
                out.push(("case", c.clone()));
            }
        }
        other => {
            if let Some(case_id) = other.case_id() {
                out.push(("case", case_id.to_owned()));
            }
        }
    }
    out
}

/// SHA-256 of a command's canonical JSON (fields in declaration order).
fn command_hash(cmd: &Command) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(serde_json::to_vec(cmd).unwrap_or_default()))
}

/// The current state of many entities, as [`entity`] gives each — for a pull page, with a few
/// queries per kind instead of one or two per change. Keys are `(kind, id)`; an entity that does
/// not exist or that the reader may not see maps to `None`.
pub fn entities_many(
    conn: &mut DbConn,
    vis: &Visibility,
    refs: &[(&str, &str)],
) -> diesel::QueryResult<HashMap<(String, String), Option<serde_json::Value>>> {
    let ids = |kind: &str| -> Vec<String> {
        let mut v: Vec<String> = refs
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| (*id).to_owned())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let cases = wf::cases_by_id(conn, &ids("case"))?;
    let mut task_ids = ids("task");
    task_ids.extend(cases.values().map(|c| c.task_id.clone()));
    task_ids.sort_unstable();
    task_ids.dedup();
    let mut tasks = wf::tasks_by_id(conn, &task_ids)?;
    let mut report_ids = ids("report");
    report_ids.extend(tasks.values().map(|t| t.report_id.clone()));
    report_ids.extend(cases.values().map(|c| c.report_id.clone()));
    report_ids.sort_unstable();
    report_ids.dedup();
    let reports = wf::reports_by_id(conn, &report_ids)?;
    // A report's own task decides who sees it too.
    let mut more: Vec<String> = reports
        .values()
        .filter_map(|r| r.task_id.clone())
        .filter(|t| !tasks.contains_key(t))
        .collect();
    more.sort_unstable();
    more.dedup();
    tasks.extend(wf::tasks_by_id(conn, &more)?);
    let mut out = HashMap::with_capacity(refs.len());
    for (kind, id) in refs {
        let state = match *kind {
            "report" => reports.get(*id).and_then(|r| {
                let task = r.task_id.as_ref().and_then(|t| tasks.get(t));
                vis.report(r, task).then(|| vis.serve(r))
            }),
            "task" => tasks.get(*id).and_then(|t| {
                let r = reports.get(&t.report_id)?;
                vis.report(r, Some(t)).then(|| vis.serve(t))
            }),
            _ => cases.get(*id).and_then(|c| {
                let r = reports.get(&c.report_id)?;
                vis.report(r, tasks.get(&c.task_id)).then(|| vis.serve(c))
            }),
        };
        out.insert(((*kind).to_owned(), (*id).to_owned()), state);
    }
    Ok(out)
}

/// The current state of an entity, if it exists and the reader may see it.
pub fn entity(
    conn: &mut DbConn,
    vis: &Visibility,
    kind: &str,
    id: &str,
) -> diesel::QueryResult<Option<serde_json::Value>> {
    entity_after(conn, vis, &Written::default(), kind, id)
}

/// [`entity`], taking what a command has just written in this transaction from `written`
/// instead of reading it back (a round trip on PostgreSQL).
fn entity_after(
    conn: &mut DbConn,
    vis: &Visibility,
    written: &Written,
    kind: &str,
    id: &str,
) -> diesel::QueryResult<Option<serde_json::Value>> {
    let report = |conn: &mut DbConn, id: &str| match written.report.as_ref() {
        Some(r) if r.id == id => Ok(Some(r.clone())),
        _ => wf::report(conn, id),
    };
    let task = |conn: &mut DbConn, id: &str| match written.task.as_ref() {
        Some(t) if t.id == id => Ok(Some(t.clone())),
        _ => wf::task(conn, id),
    };
    match kind {
        "report" => {
            let Some(r) = report(conn, id)? else {
                return Ok(None);
            };
            let task = match &r.task_id {
                Some(t) => task(conn, t)?,
                None => None,
            };
            if !vis.report(&r, task.as_ref()) {
                return Ok(None);
            }
            Ok(Some(vis.serve(&r)))
        }
        "task" => {
            let Some(t) = task(conn, id)? else {
                return Ok(None);
            };
            let Some(r) = report(conn, &t.report_id)? else {
                return Ok(None);
            };
            if !vis.report(&r, Some(&t)) {
                return Ok(None);
            }
            Ok(Some(vis.serve(&t)))
        }
        _ => {
            let c = match written.case.as_ref() {
                Some(c) if c.id == id => Some(c.clone()),
                _ => wf::case(conn, id)?,
            };
            let Some(c) = c else {
                return Ok(None);
            };
            let Some(r) = report(conn, &c.report_id)? else {
                return Ok(None);
            };
            let t = task(conn, &c.task_id)?;
            if !vis.report(&r, t.as_ref()) {
                return Ok(None);
            }
            Ok(Some(vis.serve(&c)))
        }
    }
}

fn entities_of(
    conn: &mut DbConn,
    vis: &Visibility,
    refs: &[(String, String)],
) -> diesel::QueryResult<Vec<Entity>> {
    entities_after(conn, vis, &Written::default(), refs)
}

/// [`entities_of`] right after a command wrote `written` (see [`entity_after`]).
fn entities_after(
    conn: &mut DbConn,
    vis: &Visibility,
    written: &Written,
    refs: &[(String, String)],
) -> diesel::QueryResult<Vec<Entity>> {
    let mut out = Vec::new();
    for (kind, id) in refs {
        if let Some(data) = entity_after(conn, vis, written, kind, id)? {
            out.push(Entity {
                entity_type: kind.clone(),
                id: id.clone(),
                data,
            });
        }
    }
    Ok(out)
}

/// Who pushes, from which device, under which rules.
pub struct Pusher<'a> {
    /// The user.
    pub issuer: Issuer,
    /// Their device.
    pub device_id: &'a str,
    /// What they may see (for the entities answered).
    pub vis: &'a Visibility,
}

/// The outcome of a push: results so far and whether it stopped on a database failure.
pub struct PushOutcome {
    /// One per command looked at.
    pub results: Vec<PushResult>,
    /// Next expected `device_seq`.
    pub next_device_seq: i64,
    /// A database failure stopped the batch here.
    pub failure: Option<String>,
    /// At least one command was applied (wake waiters).
    pub applied_any: bool,
}

/// Most commands applied in one transaction of a push (group commit).
pub const GROUP_MAX_COMMANDS: usize = 250;
/// Longest a push holds the write lock before committing what it has applied; other writers
/// (a dispatcher's command, another phone's push) wait at most about this long behind it.
pub const GROUP_MAX_HOLD: std::time::Duration = std::time::Duration::from_millis(50);

/// Apply a batch (already sorted by `device_seq`, no repeats) in order, exactly once.
///
/// Group commit: the commands go in groups, each one write transaction (at most
/// [`GROUP_MAX_COMMANDS`] commands or [`GROUP_MAX_HOLD`] of work). A group is first applied
/// *straight*: the device's row is locked and its commands numbered in memory, a command the
/// rules refuse writes nothing and is acknowledged as `rejected`, and the group's audit
/// records, change-log rows, receipts and the device's next number are written at its end in
/// multi-row inserts. If any write of it fails, the whole group is rolled back and applied
/// again *one savepoint a command*: its effects and receipt are atomic, a command the
/// database refuses is rolled back alone and acknowledged as `rejected` in the same group, a
/// failure worth retrying stops the batch there. Either way a group's results are answered
/// only once it committed: if the commit fails, none of its commands counts as applied and the
/// phone sends them again (their receipts were not written either). The change log's `seq`
/// is taken under the chain head's lock inside the group, so readers still see commit order.
pub fn push(
    conn: &mut DbConn,
    env: &Env<'_>,
    who: &Pusher<'_>,
    commands: &[PushCommand],
) -> Result<PushOutcome, diesel::result::Error> {
    let user = who.issuer.user_id.as_str();
    store::ensure_device(conn, user, who.device_id, env.now)?;
    let mut out = PushOutcome {
        results: Vec::new(),
        next_device_seq: store::next_seq(conn, user, who.device_id)?,
        failure: None,
        applied_any: false,
    };
    let mut rest = commands;
    // The group is applied again one savepoint a command (see above).
    let mut careful = false;
    while !rest.is_empty() {
        let started = std::time::Instant::now();
        let mut group: Vec<PushResult> = Vec::new();
        // Why the batch stops after this group: a gap (commands wait) or a failure.
        let mut gap_at: Option<i64> = None;
        let mut failure: Option<diesel::result::Error> = None;
        let mut taken = 0;
        // What the group's commands share, read once inside its transaction.
        let mut shared = GroupState::default();
        let committed = crate::db::write_transaction(conn, |conn| {
            if !careful {
                shared.start_straight(conn, who, env.now)?;
            }
            for item in rest {
                if taken >= GROUP_MAX_COMMANDS || (taken > 0 && started.elapsed() >= GROUP_MAX_HOLD)
                {
                    break;
                }
                let one = if careful {
                    push_one(conn, env, who, &mut shared, item)
                } else {
                    push_one_straight(conn, env, who, &mut shared, item)
                };
                match one {
                    Ok(Some(r)) => {
                        taken += 1;
                        group.push(r);
                    }
                    Ok(None) => {
                        gap_at = Some(item.device_seq);
                        break;
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            if !careful {
                if let Some(e) = failure.take() {
                    // Roll the whole group back; it is applied again carefully.
                    return Err(e);
                }
                shared.finish_straight(conn, who, env.now)?;
            }
            // The chain head as the group's last applied command left it.
            shared.batch.finish(conn)
        });
        if let Err(e) = committed {
            if !careful {
                // Nothing of this group happened; again, one savepoint a command.
                tracing::info!(error = %e, "sync push: a group is applied again one command at a time");
                careful = true;
                continue;
            }
            // Nothing of this group happened.
            tracing::error!(error = %e, "sync push: a group did not commit");
            out.failure = Some(e.to_string());
            break;
        }
        careful = false;
        out.applied_any |= group.iter().any(|r| r.status == PushStatus::Applied);
        out.results.append(&mut group);
        if let Some(e) = failure {
            tracing::error!(error = %e, "sync push stopped");
            out.failure = Some(e.to_string());
            break;
        }
        if let Some(first) = gap_at {
            // A gap: this and everything after it waits for the missing command.
            for later in commands.iter().filter(|c| c.device_seq >= first) {
                out.results.push(PushResult {
                    device_seq: later.device_seq,
                    status: PushStatus::Deferred,
                    original: None,
                    command_seq: None,
                    code: None,
                    message: None,
                    entities: vec![],
                });
            }
            break;
        }
        rest = &rest[taken..];
    }
    match store::next_seq(conn, user, who.device_id) {
        Ok(next) => out.next_device_seq = next,
        // The results so far still go back. The number read before the batch is lower than
        // or equal to the real one: at worst the phone resends commands that come back as
        // duplicates.
        Err(e) => {
            tracing::error!(error = %e, "sync push: next device_seq not read");
            out.failure.get_or_insert_with(|| e.to_string());
        }
    }
    Ok(out)
}

/// The stored outcome of a command pushed again, with its entities as they are now.
fn duplicate_answer(
    conn: &mut DbConn,
    vis: &Visibility,
    rec: &Receipt,
) -> diesel::QueryResult<PushResult> {
    let refs: Vec<(String, String)> = serde_json::from_str(&rec.entities).unwrap_or_default();
    let original = if rec.status == "applied" {
        PushStatus::Applied
    } else {
        PushStatus::Rejected
    };
    Ok(PushResult {
        device_seq: rec.device_seq,
        status: PushStatus::Duplicate,
        original: Some(original),
        command_seq: rec.command_seq,
        code: rec.code.clone(),
        message: rec.message.clone(),
        entities: entities_of(conn, vis, &refs)?,
    })
}

/// What the commands of one group share inside its transaction, read once instead of once a
/// command (each read is a round trip on PostgreSQL).
#[derive(Default)]
struct GroupState {
    /// The pusher's roles, cells and squads, the categories, the chain head (see [`Batch`]).
    batch: Batch,
    /// The device's next `device_seq`, known after this group moved it on: the group's
    /// transaction then holds the device's row (the write lock on SQLite, the row lock on
    /// PostgreSQL) until it commits, so no other push can move it meanwhile.
    next_seq: Option<i64>,
    /// Applied straight: the device's number when the group began, and the receipts written
    /// at its end.
    straight: Option<(i64, Vec<Receipt>)>,
}

impl GroupState {
    /// Begin a group applied straight: lock the device's row and read its number, defer the
    /// group's records.
    fn start_straight(
        &mut self,
        conn: &mut DbConn,
        who: &Pusher<'_>,
        now: chrono::NaiveDateTime,
    ) -> QueryResult<()> {
        let next = store::lock_device(conn, &who.issuer.user_id, who.device_id, now)?;
        self.batch = Batch::deferring();
        self.next_seq = Some(next);
        self.straight = Some((next, Vec::new()));
        Ok(())
    }

    /// End a group applied straight: its receipts and the device's number (the records and
    /// the head follow in [`Batch::finish`]).
    fn finish_straight(
        &mut self,
        conn: &mut DbConn,
        who: &Pusher<'_>,
        now: chrono::NaiveDateTime,
    ) -> QueryResult<()> {
        let Some((from, receipts)) = self.straight.take() else {
            return Ok(());
        };
        let to = self.next_seq.unwrap_or(from);
        if to == from {
            return Ok(());
        }
        store::insert_receipts(conn, &receipts)?;
        // The row is this transaction's since `start_straight`: anything else is a bug, and
        // the group is applied again carefully.
        if !store::set_next_seq(conn, &who.issuer.user_id, who.device_id, from, to, now)? {
            return Err(diesel::result::Error::NotFound);
        }
        Ok(())
    }
}

/// The answer to a command whose number is below the device's next one: pushed again (its
/// stored outcome), or a different command under a used number (refused).
fn duplicate(
    conn: &mut DbConn,
    who: &Pusher<'_>,
    item: &PushCommand,
    hash: &str,
) -> QueryResult<Option<PushResult>> {
    match store::receipt(conn, &who.issuer.user_id, who.device_id, item.device_seq)? {
        Some(rec) if rec.command_hash != hash => Ok(Some(PushResult {
            // A restored copy of a phone's data, or a client bug: this number was used for
            // another command. Refused, so the user sees it and can act again.
            device_seq: item.device_seq,
            status: PushStatus::Rejected,
            original: None,
            command_seq: None,
            code: Some("device_seq_reused".into()),
            message: Some(format!(
                "该设备序号 {} 已用于另一条指令，本指令未执行，请重新操作 (device_seq {} was already used for a different command; this one was not applied — act again)",
                item.device_seq, item.device_seq
            )),
            entities: vec![],
        })),
        Some(rec) => Ok(Some(duplicate_answer(conn, who.vis, &rec)?)),
        // Below `next` without a receipt cannot happen (both are written together).
        None => Err(diesel::result::Error::NotFound),
    }
}

/// What one pushed command is about: the entities it names, its time on the phone, the
/// issuer with that time, its hash.
struct Prepared {
    refs: Vec<(String, String)>,
    occurred_at: Option<chrono::NaiveDateTime>,
    issuer: Issuer,
    hash: String,
}

impl Prepared {
    fn of(who: &Pusher<'_>, item: &PushCommand) -> Self {
        let occurred_at = item
            .occurred_at
            .map(|t| crate::db::truncate_micros(t.naive_utc()));
        Prepared {
            refs: command_refs(&item.command)
                .into_iter()
                .map(|(k, id)| (k.to_owned(), id))
                .collect(),
            occurred_at,
            // `flag_deadline` needs no case here: the rules refuse it from anyone but the
            // server. The phone's own time of the action (offline work) goes to the rules that
            // look at when something was done on site.
            issuer: Issuer {
                occurred_at,
                ..who.issuer.clone()
            },
            hash: command_hash(&item.command),
        }
    }

    /// Add what an applied command wrote (a new report's task, …) to the entities it names.
    fn add_written(&mut self, applied: &crate::workflow::Applied) {
        for (k, id) in [
            ("report", &applied.report_id),
            ("task", &applied.task_id),
            ("case", &applied.case_id),
        ] {
            if let Some(id) = id {
                if !self.refs.iter().any(|(a, b)| a == k && b == id) {
                    self.refs.push((k.to_owned(), id.clone()));
                }
            }
        }
    }

    fn receipt(
        &self,
        who: &Pusher<'_>,
        item: &PushCommand,
        now: chrono::NaiveDateTime,
        status: &str,
        command_seq: Option<i64>,
        rejected: Option<(&str, &str)>,
    ) -> Receipt {
        Receipt {
            user_id: who.issuer.user_id.clone(),
            device_id: who.device_id.to_owned(),
            device_seq: item.device_seq,
            status: status.to_owned(),
            command_seq,
            code: rejected.map(|(c, _)| c.to_owned()),
            message: rejected.map(|(_, m)| m.to_owned()),
            command: item.command.name().to_owned(),
            command_hash: self.hash.clone(),
            entities: serde_json::to_string(&self.refs).unwrap_or_else(|_| "[]".into()),
            occurred_at: self.occurred_at,
            received_at: now,
        }
    }
}

/// The answer to an applied command.
fn applied_result(
    conn: &mut DbConn,
    who: &Pusher<'_>,
    item: &PushCommand,
    applied: &crate::workflow::Applied,
    refs: &[(String, String)],
) -> QueryResult<PushResult> {
    Ok(PushResult {
        device_seq: item.device_seq,
        status: PushStatus::Applied,
        original: None,
        command_seq: Some(applied.seq),
        code: None,
        message: None,
        entities: entities_after(conn, who.vis, &applied.written, refs)?,
    })
}

/// The answer to a refused command.
fn rejected_result(
    conn: &mut DbConn,
    who: &Pusher<'_>,
    item: &PushCommand,
    code: String,
    message: String,
    refs: &[(String, String)],
) -> QueryResult<PushResult> {
    Ok(PushResult {
        device_seq: item.device_seq,
        status: PushStatus::Rejected,
        original: None,
        command_seq: None,
        code: Some(code),
        message: Some(message),
        entities: entities_of(conn, who.vis, refs)?,
    })
}

/// One command of a group applied straight (see [`push`]); `None` when an earlier one is
/// missing. A database failure is returned and rolls the whole group back.
fn push_one_straight(
    conn: &mut DbConn,
    env: &Env<'_>,
    who: &Pusher<'_>,
    shared: &mut GroupState,
    item: &PushCommand,
) -> Result<Option<PushResult>, diesel::result::Error> {
    let next = shared
        .next_seq
        .expect("a group applied straight knows the device's number");
    let mut prep = Prepared::of(who, item);
    if item.device_seq < next {
        return duplicate(conn, who, item, &prep.hash);
    }
    if item.device_seq > next {
        return Ok(None);
    }
    let run = |conn: &mut DbConn, batch: &mut Batch| {
        execute_as(
            conn,
            env,
            &prep.issuer,
            batch,
            &item.command,
            item.position.as_ref(),
        )
    };
    let outcome = if crate::workflow::decides_before_writing(&item.command) {
        let mark = shared.batch.mark();
        let out = run(conn, &mut shared.batch);
        if out.is_err() {
            shared.batch.undo(mark);
        }
        out
    } else {
        // It may claim a number before the rules decide: a refusal gives it back.
        shared.batch.savepoint(conn, run)
    };
    let (receipt, answer) = match outcome {
        Ok(applied) => {
            prep.add_written(&applied);
            let receipt = prep.receipt(who, item, env.now, "applied", Some(applied.seq), None);
            let answer = applied_result(conn, who, item, &applied, &prep.refs)?;
            (receipt, answer)
        }
        Err(CommandError::Domain(d)) => {
            // Refused by the rules; nothing it did is left (`execute_as`).
            let receipt = prep.receipt(
                who,
                item,
                env.now,
                "rejected",
                None,
                Some((d.code, d.message.as_str())),
            );
            let answer =
                rejected_result(conn, who, item, d.code.to_owned(), d.message, &prep.refs)?;
            (receipt, answer)
        }
        Err(CommandError::Db(e)) => return Err(e),
    };
    let (_, receipts) = shared
        .straight
        .as_mut()
        .expect("a group applied straight collects its receipts");
    receipts.push(receipt);
    shared.next_seq = Some(item.device_seq + 1);
    Ok(Some(answer))
}

/// One command of a group applied one savepoint a command (see [`push`]); `None` when an
/// earlier one is missing.
fn push_one(
    conn: &mut DbConn,
    env: &Env<'_>,
    who: &Pusher<'_>,
    shared: &mut GroupState,
    item: &PushCommand,
) -> Result<Option<PushResult>, diesel::result::Error> {
    let user = who.issuer.user_id.as_str();
    let device = who.device_id;
    let mut prep = Prepared::of(who, item);
    let next = match shared.next_seq.take() {
        Some(n) => n,
        None => store::next_seq(conn, user, device)?,
    };
    if item.device_seq < next {
        return duplicate(conn, who, item, &prep.hash);
    }
    if item.device_seq > next {
        return Ok(None);
    }
    /// Why a transaction was rolled back.
    enum Abort {
        Raced,
        Cmd(CommandError),
    }
    impl From<diesel::result::Error> for Abort {
        fn from(e: diesel::result::Error) -> Self {
            Abort::Cmd(CommandError::Db(e))
        }
    }
    // A savepoint inside the group's transaction (see `push`).
    let attempt = shared.batch.savepoint::<_, Abort>(conn, |conn, batch| {
        let applied = execute_as(
            conn,
            env,
            &prep.issuer,
            batch,
            &item.command,
            item.position.as_ref(),
        )
        .map_err(Abort::Cmd)?;
        if !store::advance(conn, user, device, item.device_seq, env.now)? {
            return Err(Abort::Raced);
        }
        prep.add_written(&applied);
        store::insert_receipt(
            conn,
            &prep.receipt(who, item, env.now, "applied", Some(applied.seq), None),
        )?;
        Ok(applied)
    });
    let (code, message) = match attempt {
        Ok(applied) => {
            shared.next_seq = Some(item.device_seq + 1);
            return Ok(Some(applied_result(conn, who, item, &applied, &prep.refs)?));
        }
        Err(Abort::Raced) => return duplicate(conn, who, item, &prep.hash),
        Err(Abort::Cmd(CommandError::Domain(d))) => (d.code.to_owned(), d.message),
        Err(Abort::Cmd(CommandError::Db(e))) => {
            // A concurrent push of the same command may have won (unique receipt).
            if store::next_seq(conn, user, device)? > item.device_seq {
                return duplicate(conn, who, item, &prep.hash);
            }
            // Retry later only what may succeed later; a command the database refuses for
            // what it carries would block the phone's queue for good.
            if retry_later(conn, &e) {
                return Err(e);
            }
            tracing::warn!(error = %e, device_seq = item.device_seq, "sync push: command refused by the database, rejected");
            (
                "cannot_apply".to_owned(),
                "数据库无法保存该指令的内容，本指令未执行，请检查后重新操作 (the database cannot store what this command carries; it was not applied — check it and act again)".to_owned(),
            )
        }
    };
    // Rejected: acknowledged with a receipt of its own (a savepoint of the group too), so the
    // queue behind it moves on.
    let stored = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        if !store::advance(conn, user, device, item.device_seq, env.now)? {
            return Ok(false);
        }
        store::insert_receipt(
            conn,
            &prep.receipt(
                who,
                item,
                env.now,
                "rejected",
                None,
                Some((&code, &message)),
            ),
        )?;
        Ok(true)
    })?;
    if !stored {
        return duplicate(conn, who, item, &prep.hash);
    }
    shared.next_seq = Some(item.device_seq + 1);
    Ok(Some(rejected_result(
        conn, who, item, code, message, &prep.refs,
    )?))
}

/// Whether a database failure is worth retrying: the database is unreachable, busy or locked,
/// or a transaction lost a serialisation race. Anything else (a constraint or encoding the
/// command's data breaks, checked again by a probe that the connection still works) can never
/// apply and becomes a `rejected` result.
pub fn retry_later(conn: &mut DbConn, e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    match e {
        E::DatabaseError(
            K::UniqueViolation
            | K::ForeignKeyViolation
            | K::NotNullViolation
            | K::CheckViolation
            | K::RestrictViolation,
            _,
        )
        | E::SerializationError(_)
        | E::DeserializationError(_) => !connection_works(conn),
        E::DatabaseError(K::Unknown, info) => {
            let m = info.message().to_ascii_lowercase();
            let transient = ["locked", "busy", "timeout", "connect", "terminat", "shut"]
                .iter()
                .any(|w| m.contains(w));
            transient || !connection_works(conn)
        }
        _ => true,
    }
}

fn connection_works(conn: &mut DbConn) -> bool {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn).is_ok()
}

// ---------------------------------------------------------------------------------------------
// Pull

/// One back-fill or scope-purge phase in progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Phase {
    /// Purge what these keys covered (lost scope) rather than upsert it (gained scope).
    #[serde(default)]
    p: bool,
    /// Scope keys.
    k: Vec<String>,
    /// Entity kind: 0 reports, 1 tasks, 2 cases.
    t: u8,
    /// Last id done.
    a: String,
}

/// What the opaque cursor holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Cursor {
    /// Format version.
    v: u8,
    /// Log position: every change with `seq ≤ s` has been delivered (or back-filled).
    s: i64,
    /// Scope keys the cursor was issued for.
    sc: Vec<String>,
    /// Back-fill / purge phases still to run, in order.
    #[serde(default)]
    ph: Vec<Phase>,
}

impl Cursor {
    fn fresh(head: i64) -> Self {
        Cursor {
            v: 1,
            s: head,
            sc: vec![],
            ph: vec![],
        }
    }

    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).ok()?;
        let c: Cursor = serde_json::from_slice(&bytes).ok()?;
        (c.v == 1).then_some(c)
    }
}

/// The scope keys of a reader (sorted).
pub fn scope_keys(vis: &Visibility) -> Vec<String> {
    if vis.is_town_wide() {
        return vec!["all".into()];
    }
    let mut k = vec![format!("u:{}", vis.user_id())];
    k.extend(vis.villages().iter().map(|v| format!("v:{v}")));
    k.extend(vis.squads().iter().map(|s| format!("s:{s}")));
    k.sort();
    k.dedup();
    k
}

fn log_scope(vis: &Visibility) -> LogScope {
    if vis.is_town_wide() {
        LogScope::All
    } else {
        LogScope::Some {
            user_id: vis.user_id().to_owned(),
            villages: vis.villages().to_vec(),
            squads: vis.squads().to_vec(),
        }
    }
}

/// Check a cursor's form (`400 invalid_cursor`).
fn check_cursor(cursor: Option<&str>) -> Result<(), AppError> {
    match cursor {
        Some(c) if !c.is_empty() && Cursor::decode(c).is_none() => Err(AppError::bad_request(
            "invalid_cursor",
            "游标无效：请原样使用上次返回的 cursor，或不带 cursor 重新同步 (cursor not recognised: send back the last cursor unchanged, or none to start over)",
        )),
        _ => Ok(()),
    }
}

/// A page being filled under a row and byte budget.
struct PageBuf {
    changes: Vec<Change>,
    bytes: u64,
    limit: usize,
    max_bytes: u64,
    seen: HashSet<(String, String)>,
}

fn size(c: &Change) -> u64 {
    serde_json::to_vec(c).map_or(0, |v| v.len() as u64)
}

impl PageBuf {
    fn full(&self) -> bool {
        self.changes.len() >= self.limit || self.bytes >= self.max_bytes
    }

    /// Whether these changes (one command's, or one back-filled entity) still fit; an empty
    /// page takes them whatever their size, so that every page makes progress.
    fn fits(&self, group: &[Change]) -> bool {
        self.changes.is_empty()
            || (self.changes.len() + group.len() <= self.limit
                && self.bytes + group.iter().map(size).sum::<u64>() <= self.max_bytes)
    }

    fn push(&mut self, c: Change) {
        self.bytes += size(&c);
        self.seen.insert((c.entity_type.clone(), c.id.clone()));
        self.changes.push(c);
    }
}

const KINDS: [&str; 3] = ["report", "task", "case"];

/// One pull page.
pub fn pull(
    conn: &mut DbConn,
    vis: &Visibility,
    cursor: Option<&str>,
    limit: usize,
    max_bytes: u64,
) -> Result<PullResponse, AppError> {
    check_cursor(cursor)?;
    let head = audit::head_seq(conn)?;
    let pruned = store::pruned_through(conn)?;
    let mut reset = false;
    let mut cur = match cursor.filter(|c| !c.is_empty()).and_then(Cursor::decode) {
        None => Cursor::fresh(head),
        Some(c) if c.s < pruned || c.s > head => {
            // Older than the retained log, or never issued by this database.
            reset = true;
            Cursor::fresh(head)
        }
        Some(c) => c,
    };
    let keys = scope_keys(vis);
    if cur.ph.is_empty() && cur.sc != keys {
        let lost: Vec<String> = cur
            .sc
            .iter()
            .filter(|k| !keys.contains(k))
            .cloned()
            .collect();
        let gained: Vec<String> = keys
            .iter()
            .filter(|k| !cur.sc.contains(k))
            .cloned()
            .collect();
        if !lost.is_empty() {
            cur.ph.push(Phase {
                p: true,
                k: lost,
                t: 0,
                a: String::new(),
            });
        }
        if !gained.is_empty() {
            cur.ph.push(Phase {
                p: false,
                k: gained,
                t: 0,
                a: String::new(),
            });
        }
        cur.sc = keys;
    }
    let mut page = PageBuf {
        changes: Vec::new(),
        bytes: 0,
        limit: limit.max(1),
        max_bytes: max_bytes.max(1),
        seen: HashSet::new(),
    };
    // Back-fill and scope purges first, in pages of their own.
    while let Some(ph) = cur.ph.first_mut() {
        let parts = ScopeParts::from_keys(&ph.k);
        while ph.t < 3 {
            let batch = (page.limit - page.changes.len()).clamp(1, 500) as i64;
            let ids = store::scope_ids(conn, &parts, ph.t, &ph.a, batch)?;
            let kind = KINDS[ph.t as usize];
            if ids.is_empty() {
                ph.t += 1;
                ph.a.clear();
                continue;
            }
            let wanted: Vec<(&str, &str)> = ids.iter().map(|id| (kind, id.as_str())).collect();
            let mut states = entities_many(conn, vis, &wanted)?;
            for id in ids {
                let state = match states.remove(&(kind.to_owned(), id.clone())) {
                    Some(state) => state,
                    None => entity(conn, vis, kind, &id)?,
                };
                let change = match (ph.p, state) {
                    (false, Some(data)) => Some(Change {
                        op: ChangeOp::Upsert,
                        entity_type: kind.into(),
                        id: id.clone(),
                        seq: 0,
                        data: Some(data),
                    }),
                    (true, None) => Some(Change {
                        op: ChangeOp::Purge,
                        entity_type: kind.into(),
                        id: id.clone(),
                        seq: 0,
                        data: None,
                    }),
                    // Gained but not visible after all, or lost but still visible: nothing.
                    _ => None,
                };
                if let Some(c) = change {
                    if !page.fits(std::slice::from_ref(&c)) {
                        return Ok(finish(page, cur, reset, true, head));
                    }
                    page.push(c);
                }
                ph.a = id;
                if page.full() {
                    return Ok(finish(page, cur, reset, true, head));
                }
            }
        }
        cur.ph.remove(0);
    }
    // Then the log, whole commands at a time.
    let scope = log_scope(vis);
    loop {
        if page.full() {
            let more = !store::log_page(conn, &scope, cur.s, 1)?.is_empty();
            return Ok(finish(page, cur, reset, more, head));
        }
        let room = page.limit - page.changes.len();
        // A command changes at most three entities: `room + 3` rows always hold the first
        // `room` changes' commands whole; the last command may be cut and is left for later.
        let want = room as i64 + 3;
        let rows = store::log_page(conn, &scope, cur.s, want)?;
        if rows.is_empty() {
            return Ok(finish(page, cur, reset, false, head));
        }
        let cut = rows.len() as i64 == want;
        let last_seq = rows.last().map_or(cur.s, |r| r.seq);
        let wanted: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.entity_type.as_str(), r.entity_id.as_str()))
            .collect();
        let mut states = entities_many(conn, vis, &wanted)?;
        let mut i = 0;
        while i < rows.len() {
            let seq = rows[i].seq;
            if cut && seq == last_seq {
                break;
            }
            let mut j = i;
            let mut group = Vec::new();
            while j < rows.len() && rows[j].seq == seq {
                let r = &rows[j];
                let key = (r.entity_type.clone(), r.entity_id.clone());
                if !page.seen.contains(&key) {
                    let state = match states.remove(&key) {
                        Some(state) => state,
                        None => entity(conn, vis, &r.entity_type, &r.entity_id)?,
                    };
                    group.push(Change {
                        op: if state.is_some() {
                            ChangeOp::Upsert
                        } else {
                            ChangeOp::Purge
                        },
                        entity_type: r.entity_type.clone(),
                        id: r.entity_id.clone(),
                        seq,
                        data: state,
                    });
                }
                j += 1;
            }
            if !page.fits(&group) {
                return Ok(finish(page, cur, reset, true, head));
            }
            for c in group {
                page.push(c);
            }
            cur.s = seq;
            i = j;
            if page.full() {
                // Finished at the top of the loop.
                break;
            }
        }
    }
}

fn finish(page: PageBuf, cur: Cursor, reset: bool, has_more: bool, head: i64) -> PullResponse {
    PullResponse {
        reset,
        changes: page.changes,
        has_more: has_more || !cur.ph.is_empty(),
        cursor: cur.encode(),
        server_seq: head,
    }
}

/// Whether something in the reader's scope changed after the cursor (or a back-fill is due),
/// and the head of the change log: what `/sync/v1/wait` answers.
pub fn changed_since(
    conn: &mut DbConn,
    vis: &Visibility,
    cursor: Option<&str>,
) -> Result<(bool, i64), AppError> {
    check_cursor(cursor)?;
    let head = audit::head_seq(conn)?;
    let changed = match cursor.filter(|c| !c.is_empty()).and_then(Cursor::decode) {
        None => true,
        Some(cur) => {
            !cur.ph.is_empty()
                || cur.sc != scope_keys(vis)
                || cur.s < store::pruned_through(conn)?
                || cur.s > head
                || !store::log_page(conn, &log_scope(vis), cur.s, 1)?.is_empty()
        }
    };
    Ok((changed, head))
}

/// Remove change-log rows older than the retention window.
pub fn prune(
    conn: &mut DbConn,
    now: NaiveDateTime,
    retention_days: u32,
) -> diesel::QueryResult<usize> {
    store::prune(
        conn,
        now - chrono::Duration::days(i64::from(retention_days)),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            v: 1,
            s: 42,
            sc: vec!["u:x".into(), "v:1".into()],
            ph: vec![Phase {
                p: false,
                k: vec!["v:1".into()],
                t: 1,
                a: "abc".into(),
            }],
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert!(Cursor::decode("not a cursor").is_none());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(br#"{"v":2,"s":1,"sc":[]}"#)).is_none());
        assert!(check_cursor(Some("%%%")).is_err());
        assert!(check_cursor(None).is_ok());
    }

    #[test]
    fn every_command_names_what_it_touches() {
        let c: Command = serde_json::from_str(
            r#"{"type":"handle_task","task_id":"t","outcome":{"outcome":"rectified","note":"n"},"case_id":"c"}"#,
        )
        .unwrap();
        assert_eq!(
            command_refs(&c),
            vec![("task", "t".to_owned()), ("case", "c".to_owned())]
        );
    }
}
