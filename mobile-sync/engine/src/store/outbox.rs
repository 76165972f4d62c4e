//! The outbox: commands the user made, numbered per (user, device) when made, kept until the
//! server acknowledges them (applied, duplicate or rejected) — and after, as their record.

use chrono::{DateTime, Utc};
use griddispatch_protocol::command::{Command, Position};
use griddispatch_protocol::sync::{PushCommand, PushResponse, PushStatus};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{parse_ts, ts, view, Store};
use crate::error::{Error, Result};

/// Where a queued command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    /// Not acknowledged yet: will be (re)sent.
    Pending,
    /// Applied by the server.
    Applied,
    /// Refused by the server's rules; `code`/`message` say why. Never sent again.
    Rejected,
}

impl CommandState {
    fn parse(s: &str) -> CommandState {
        match s {
            "applied" => CommandState::Applied,
            "rejected" => CommandState::Rejected,
            _ => CommandState::Pending,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CommandState::Pending => "pending",
            CommandState::Applied => "applied",
            CommandState::Rejected => "rejected",
        }
    }
}

/// A command in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedCommand {
    /// Per-(user, device) sequence number.
    pub device_seq: i64,
    /// Command `type`.
    pub command_type: String,
    /// The report, task or case it concerns.
    pub subject_id: Option<String>,
    /// Pending, applied or rejected.
    pub state: CommandState,
    /// Rejection code.
    pub code: Option<String>,
    /// Rejection message (Chinese first).
    pub message: Option<String>,
    /// Device time when the user acted.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When the server's answer arrived.
    pub acked_at: Option<DateTime<Utc>>,
    /// How many times it was sent.
    pub attempts: i64,
    /// The command itself.
    pub command: serde_json::Value,
}

/// What one push response did to the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushAck {
    /// Applied now.
    pub applied: usize,
    /// Answered `duplicate` (applied or rejected before).
    pub duplicates: usize,
    /// Rejected now.
    pub rejected: usize,
    /// Some command was `deferred`: send again from `next_device_seq`.
    pub deferred: bool,
}

impl PushAck {
    /// Commands acknowledged.
    pub fn acknowledged(&self) -> usize {
        self.applied + self.duplicates + self.rejected
    }
}

/// The report, task or case a command names (for listing what is queued per task).
pub(crate) fn subject_of(command: &Command) -> Option<String> {
    let v = serde_json::to_value(command).ok()?;
    let order: &[&str] = match command {
        Command::DispatchReport { .. } => &["report_id"],
        _ => &["task_id", "case_id", "report_id"],
    };
    order
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_owned))
}

impl Store {
    /// Persist a command with the next `device_seq` of `user_id`; returns that number.
    pub fn enqueue(
        &mut self,
        user_id: &str,
        command: &Command,
        position: Option<&Position>,
        occurred_at: DateTime<Utc>,
    ) -> Result<i64> {
        let json = serde_json::to_string(command).map_err(|e| Error::Invalid(e.to_string()))?;
        let position = position
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let tx = self.write()?;
        let seq = next_seq(&tx, user_id)?;
        tx.execute(
            "INSERT INTO outbox (user_id, device_seq, command, command_type, subject_id, position, occurred_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                user_id,
                seq,
                json,
                command.name(),
                subject_of(command),
                position,
                ts(occurred_at)
            ],
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// The next batch to send: from `start` (the server's `next_device_seq` after a deferral)
    /// or else from the oldest unacknowledged command, in order.
    pub fn batch(
        &self,
        user_id: &str,
        start: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PushCommand>> {
        let start = match start {
            Some(s) => s,
            None => match self.oldest_pending(user_id)? {
                Some(s) => s,
                None => return Ok(Vec::new()),
            },
        };
        let mut stmt = self.conn().prepare(
            "SELECT device_seq, command, position, occurred_at FROM outbox
             WHERE user_id = ?1 AND device_seq >= ?2 ORDER BY device_seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![user_id, start, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (device_seq, command, position, occurred_at) = row?;
            out.push(PushCommand {
                device_seq,
                command: serde_json::from_str(&command)
                    .map_err(|e| Error::Invalid(format!("outbox #{device_seq}: {e}")))?,
                position: position.and_then(|p| serde_json::from_str(&p).ok()),
                occurred_at: parse_ts(Some(occurred_at)),
            });
        }
        Ok(out)
    }

    /// The oldest command of `user_id` not yet acknowledged.
    pub fn oldest_pending(&self, user_id: &str) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MIN(device_seq) FROM outbox WHERE user_id = ?1 AND status = 'pending'",
            [user_id],
            |r| r.get(0),
        )?)
    }

    /// The lowest `device_seq` this store still holds for `user_id`.
    pub fn lowest_seq(&self, user_id: &str) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MIN(device_seq) FROM outbox WHERE user_id = ?1",
            [user_id],
            |r| r.get(0),
        )?)
    }

    /// Record the server's answer to a push of `sent` in one transaction: acknowledgements,
    /// the entities' current state, and the server's `next_device_seq`.
    pub fn apply_push(
        &mut self,
        user_id: &str,
        sent: &[i64],
        resp: &PushResponse,
        now: DateTime<Utc>,
    ) -> Result<PushAck> {
        let tx = self.write()?;
        let mut ack = PushAck::default();
        for seq in sent {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1 WHERE user_id = ?1 AND device_seq = ?2",
                params![user_id, seq],
            )?;
        }
        for r in &resp.results {
            if !sent.contains(&r.device_seq) {
                continue; // not ours to record: the server answered something we did not send
            }
            let state = match r.status {
                PushStatus::Deferred => {
                    ack.deferred = true;
                    continue;
                }
                PushStatus::Applied => {
                    ack.applied += 1;
                    CommandState::Applied
                }
                PushStatus::Rejected => {
                    ack.rejected += 1;
                    CommandState::Rejected
                }
                PushStatus::Duplicate => {
                    ack.duplicates += 1;
                    match r.original {
                        Some(PushStatus::Rejected) => CommandState::Rejected,
                        _ => CommandState::Applied,
                    }
                }
            };
            tx.execute(
                "UPDATE outbox SET status = ?1, code = ?2, message = ?3,
                    command_seq = COALESCE(?4, command_seq), acked_at = ?5
                 WHERE user_id = ?6 AND device_seq = ?7",
                params![
                    state.as_str(),
                    r.code,
                    r.message,
                    r.command_seq,
                    ts(now),
                    user_id,
                    r.device_seq
                ],
            )?;
            for e in &r.entities {
                view::upsert(&tx, &e.entity_type, &e.id, &e.data, now)?;
            }
        }
        // A server that is ahead of this device (e.g. the store was restored from an old copy)
        // must not see new commands under numbers it has already answered.
        tx.execute(
            "INSERT INTO seq_counter (user_id, next_seq) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET next_seq = MAX(next_seq, excluded.next_seq)",
            params![user_id, resp.next_device_seq],
        )?;
        tx.commit()?;
        Ok(ack)
    }

    /// The outbox of `user_id`, newest first; `only` filters by state.
    pub fn queued(
        &self,
        user_id: &str,
        only: Option<CommandState>,
        limit: usize,
    ) -> Result<Vec<QueuedCommand>> {
        let mut stmt = self.conn().prepare(
            "SELECT device_seq, command_type, subject_id, status, code, message, occurred_at,
                acked_at, attempts, command
             FROM outbox WHERE user_id = ?1 AND (?2 IS NULL OR status = ?2)
             ORDER BY device_seq DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                user_id,
                only.map(CommandState::as_str),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| {
                let status: String = r.get(3)?;
                let command: String = r.get(9)?;
                Ok(QueuedCommand {
                    device_seq: r.get(0)?,
                    command_type: r.get(1)?,
                    subject_id: r.get(2)?,
                    state: CommandState::parse(&status),
                    code: r.get(4)?,
                    message: r.get(5)?,
                    occurred_at: parse_ts(r.get(6)?),
                    acked_at: parse_ts(r.get(7)?),
                    attempts: r.get(8)?,
                    command: serde_json::from_str(&command).unwrap_or(serde_json::Value::Null),
                })
            },
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Unacknowledged commands of `user_id`, and of every other user of this store.
    pub fn pending_counts(&self, user_id: &str) -> Result<(usize, usize)> {
        let (mine, others): (i64, i64) = self.conn().query_row(
            "SELECT COALESCE(SUM(user_id = ?1), 0), COALESCE(SUM(user_id <> ?1), 0)
             FROM outbox WHERE status = 'pending'",
            [user_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((
            usize::try_from(mine).unwrap_or(0),
            usize::try_from(others).unwrap_or(0),
        ))
    }
}

fn next_seq(conn: &Connection, user_id: &str) -> Result<i64> {
    let current: Option<i64> = conn
        .query_row(
            "SELECT next_seq FROM seq_counter WHERE user_id = ?1",
            [user_id],
            |r| r.get(0),
        )
        .optional()?;
    // Never below what the outbox already holds (defence against a lost counter row).
    let held: Option<i64> = conn.query_row(
        "SELECT MAX(device_seq) FROM outbox WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )?;
    let seq = current.unwrap_or(1).max(held.map_or(1, |h| h + 1));
    conn.execute(
        "INSERT INTO seq_counter (user_id, next_seq) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET next_seq = excluded.next_seq",
        params![user_id, seq + 1],
    )?;
    Ok(seq)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use griddispatch_protocol::sync::{Entity, PushResult};
    use serde_json::json;

    use super::*;

    fn close(task: &str) -> Command {
        Command::CloseTask {
            task_id: task.into(),
        }
    }

    fn result(seq: i64, status: PushStatus) -> PushResult {
        PushResult {
            device_seq: seq,
            status,
            original: None,
            command_seq: None,
            code: None,
            message: None,
            entities: vec![],
        }
    }

    #[test]
    fn device_seq_counts_per_user_from_one_in_the_order_of_acting() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        assert_eq!(s.enqueue("u1", &close("t1"), None, now).unwrap(), 1);
        assert_eq!(s.enqueue("u1", &close("t2"), None, now).unwrap(), 2);
        assert_eq!(s.enqueue("u2", &close("t3"), None, now).unwrap(), 1);
        assert_eq!(s.enqueue("u1", &close("t4"), None, now).unwrap(), 3);
        let batch = s.batch("u1", None, 10).unwrap();
        let seqs: Vec<i64> = batch.iter().map(|c| c.device_seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(batch[2].command, close("t4"));
        assert_eq!(s.batch("u1", None, 2).unwrap().len(), 2, "batch limit");
    }

    #[test]
    fn acknowledged_commands_leave_the_batch_and_their_numbers_are_never_reused() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        for t in ["t1", "t2", "t3"] {
            s.enqueue("u1", &close(t), None, now).unwrap();
        }
        let mut rejected = result(2, PushStatus::Rejected);
        rejected.code = Some("invalid_state".into());
        rejected.message = Some("状态不允许 (invalid state)".into());
        rejected.entities = vec![Entity {
            entity_type: "task".into(),
            id: "t2".into(),
            data: json!({"id": "t2", "status": "handled"}),
        }];
        let resp = PushResponse {
            results: vec![result(1, PushStatus::Applied), rejected],
            next_device_seq: 3,
        };
        let ack = s.apply_push("u1", &[1, 2, 3], &resp, now).unwrap();
        assert_eq!((ack.applied, ack.rejected, ack.deferred), (1, 1, false));
        // #3 got no result (the server stopped early): it is sent again.
        let left: Vec<i64> = s
            .batch("u1", None, 10)
            .unwrap()
            .iter()
            .map(|c| c.device_seq)
            .collect();
        assert_eq!(left, [3]);
        let rej = s.queued("u1", Some(CommandState::Rejected), 10).unwrap();
        assert_eq!(rej.len(), 1);
        assert_eq!(rej[0].code.as_deref(), Some("invalid_state"));
        assert_eq!(rej[0].subject_id.as_deref(), Some("t2"));
        // The rejected command's entity is the server's current state, stored locally.
        assert_eq!(
            s.entity("task", "t2").unwrap().unwrap().status.as_deref(),
            Some("handled")
        );
        assert_eq!(s.enqueue("u1", &close("t5"), None, now).unwrap(), 4);
    }

    #[test]
    fn a_duplicate_takes_the_original_outcome() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        s.enqueue("u1", &close("t1"), None, now).unwrap();
        s.enqueue("u1", &close("t2"), None, now).unwrap();
        let mut d1 = result(1, PushStatus::Duplicate);
        d1.original = Some(PushStatus::Applied);
        let mut d2 = result(2, PushStatus::Duplicate);
        d2.original = Some(PushStatus::Rejected);
        d2.code = Some("forbidden".into());
        let ack = s
            .apply_push(
                "u1",
                &[1, 2],
                &PushResponse {
                    results: vec![d1, d2],
                    next_device_seq: 3,
                },
                now,
            )
            .unwrap();
        assert_eq!(ack.duplicates, 2);
        let all = s.queued("u1", None, 10).unwrap();
        assert_eq!(all[0].state, CommandState::Rejected);
        assert_eq!(all[1].state, CommandState::Applied);
        assert_eq!(s.pending_counts("u1").unwrap(), (0, 0));
    }

    #[test]
    fn deferred_commands_stay_pending_and_a_server_ahead_moves_the_counter() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        s.enqueue("u1", &close("t1"), None, now).unwrap();
        let ack = s
            .apply_push(
                "u1",
                &[1],
                &PushResponse {
                    results: vec![result(1, PushStatus::Deferred)],
                    next_device_seq: 7,
                },
                now,
            )
            .unwrap();
        assert!(ack.deferred);
        assert_eq!(ack.acknowledged(), 0);
        assert_eq!(s.pending_counts("u1").unwrap(), (1, 0));
        assert_eq!(s.enqueue("u1", &close("t2"), None, now).unwrap(), 7);
        // Sending from the server's next number picks up only what is at or after it.
        let from: Vec<i64> = s
            .batch("u1", Some(7), 10)
            .unwrap()
            .iter()
            .map(|c| c.device_seq)
            .collect();
        assert_eq!(from, [7]);
    }

    #[test]
    fn commands_are_kept_with_their_position_and_device_time() {
        let mut s = Store::memory().unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-22T06:01:12Z")
            .unwrap()
            .with_timezone(&Utc);
        let pos = Position {
            lat: 35.1,
            lon: 112.5,
            crs: None,
        };
        s.enqueue("u1", &close("t1"), Some(&pos), at).unwrap();
        let b = s.batch("u1", None, 1).unwrap();
        assert_eq!(b[0].position, Some(pos));
        assert_eq!(b[0].occurred_at, Some(at));
    }
}
