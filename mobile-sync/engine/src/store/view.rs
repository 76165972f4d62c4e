//! The user's view of reports, tasks and cases: what the server last said about each, plus a
//! few columns pulled out of the JSON for listing.

use chrono::{DateTime, Utc};
use griddispatch_protocol::sync::{ChangeOp, PullResponse};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use super::{key, parse_ts, set_meta, ts, Store};
use crate::error::{Error, Result};

/// A report, task or case as the server last described it.
#[derive(Debug, Clone, Serialize)]
pub struct LocalEntity {
    /// `report`, `task` or `case`.
    pub entity_type: String,
    /// Id.
    pub id: String,
    /// State (`reported`, `dispatched`, `on_site`, …).
    pub status: Option<String>,
    /// Event category code.
    pub category_code: Option<String>,
    /// A line for lists: a report's description, a case's finding.
    pub summary: Option<String>,
    /// For tasks and cases: the report they come from.
    pub report_id: Option<String>,
    /// Server's last change.
    pub updated_at: Option<String>,
    /// When this copy arrived.
    pub stored_at: Option<DateTime<Utc>>,
    /// The whole aggregate as the server sent it.
    pub data: Value,
}

/// A field of the aggregate, whether `data` is the aggregate itself or wraps it under its
/// type (`{"report": {…}, "task": {…}}`, the shape of `GET /api/v1/reports/{id}`).
fn field<'a>(data: &'a Value, entity_type: &str, name: &str) -> Option<&'a Value> {
    data.get(name)
        .filter(|v| !v.is_object())
        .or_else(|| data.get(entity_type).and_then(|inner| inner.get(name)))
        .filter(|v| !v.is_null())
}

fn text(data: &Value, entity_type: &str, name: &str) -> Option<String> {
    field(data, entity_type, name).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

pub(crate) fn upsert(
    conn: &Connection,
    entity_type: &str,
    id: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let summary = ["description", "finding", "note"]
        .iter()
        .find_map(|k| text(data, entity_type, k));
    conn.execute(
        "INSERT INTO entities (entity_type, id, data, status, category_code, summary, report_id,
            updated_at, stored_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (entity_type, id) DO UPDATE SET data = excluded.data,
            status = excluded.status, category_code = excluded.category_code,
            summary = excluded.summary, report_id = excluded.report_id,
            updated_at = excluded.updated_at, stored_at = excluded.stored_at",
        params![
            entity_type,
            id,
            serde_json::to_string(data).map_err(|e| Error::Protocol(e.to_string()))?,
            text(data, entity_type, "status"),
            text(data, entity_type, "category_code"),
            summary,
            text(data, entity_type, "report_id"),
            text(data, entity_type, "updated_at"),
            ts(now),
        ],
    )?;
    Ok(())
}

pub(crate) fn clear(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM entities", [])?;
    Ok(())
}

fn read(r: &Row<'_>) -> rusqlite::Result<LocalEntity> {
    let data: String = r.get(8)?;
    Ok(LocalEntity {
        entity_type: r.get(0)?,
        id: r.get(1)?,
        status: r.get(2)?,
        category_code: r.get(3)?,
        summary: r.get(4)?,
        report_id: r.get(5)?,
        updated_at: r.get(6)?,
        stored_at: parse_ts(r.get(7)?),
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
    })
}

const COLUMNS: &str =
    "entity_type, id, status, category_code, summary, report_id, updated_at, stored_at, data";

impl Store {
    /// Apply one pull page and its cursor in one transaction: a crash leaves either the old
    /// view with the old cursor or the new view with the new cursor. A `reset` page drops the
    /// view first (never the outbox or uploads). Returns how many changes were applied.
    pub fn apply_pull(&mut self, page: &PullResponse, now: DateTime<Utc>) -> Result<usize> {
        let from = self.cursor()?;
        Ok(self
            .apply_pull_from(from.as_deref(), page, now)?
            .unwrap_or_default())
    }

    /// Like [`Store::apply_pull`] for a page requested `from` a cursor — unless the cursor
    /// moved meanwhile (another process on this store pulled): then nothing is applied and
    /// `None` says "pull again from the new cursor", so an older page never overwrites newer
    /// state.
    pub fn apply_pull_from(
        &mut self,
        from: Option<&str>,
        page: &PullResponse,
        now: DateTime<Utc>,
    ) -> Result<Option<usize>> {
        let tx = self.write()?;
        let current: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [key::CURSOR],
                |r| r.get(0),
            )
            .optional()?;
        if current.as_deref() != from {
            return Ok(None);
        }
        if page.reset {
            clear(&tx)?;
        }
        for c in &page.changes {
            match c.op {
                ChangeOp::Upsert => {
                    let data = c.data.as_ref().ok_or_else(|| {
                        Error::Protocol(format!(
                            "upsert of {} {} without data",
                            c.entity_type, c.id
                        ))
                    })?;
                    upsert(&tx, &c.entity_type, &c.id, data, now)?;
                }
                ChangeOp::Purge => {
                    tx.execute(
                        "DELETE FROM entities WHERE entity_type = ?1 AND id = ?2",
                        params![c.entity_type, c.id],
                    )?;
                }
            }
        }
        set_meta(&tx, key::CURSOR, Some(&page.cursor))?;
        set_meta(&tx, key::SERVER_SEQ, Some(&page.server_seq.to_string()))?;
        tx.commit()?;
        Ok(Some(page.changes.len()))
    }

    /// Drop the view and its cursor (the next pull starts afresh); outbox and uploads stay.
    pub fn reset_view(&mut self) -> Result<()> {
        let tx = self.write()?;
        clear(&tx)?;
        set_meta(&tx, key::CURSOR, None)?;
        tx.commit()?;
        Ok(())
    }

    /// The pull cursor.
    pub fn cursor(&self) -> Result<Option<String>> {
        self.meta(key::CURSOR)
    }

    /// Local copies of one type, newest change first.
    pub fn entities(&self, entity_type: &str) -> Result<Vec<LocalEntity>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM entities WHERE entity_type = ?1
             ORDER BY updated_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map([entity_type], read)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One local copy.
    pub fn entity(&self, entity_type: &str, id: &str) -> Result<Option<LocalEntity>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM entities WHERE entity_type = ?1 AND id = ?2"),
                params![entity_type, id],
                read,
            )
            .optional()?)
    }

    /// How many local copies of each type.
    pub fn entity_count(&self, entity_type: &str) -> Result<usize> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM entities WHERE entity_type = ?1",
            [entity_type],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use griddispatch_protocol::command::Command;
    use griddispatch_protocol::sync::Change;
    use serde_json::json;

    use super::*;
    use crate::store::{NewUpload, UploadState};

    fn upsert_change(t: &str, id: &str, data: Value) -> Change {
        Change {
            op: ChangeOp::Upsert,
            entity_type: t.into(),
            id: id.into(),
            seq: 1,
            data: Some(data),
        }
    }

    fn page(reset: bool, cursor: &str, changes: Vec<Change>) -> PullResponse {
        PullResponse {
            reset,
            changes,
            cursor: cursor.into(),
            has_more: false,
            server_seq: 9,
        }
    }

    #[test]
    fn a_page_and_its_cursor_are_applied_together() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        let n = s
            .apply_pull(
                &page(
                    false,
                    "c1",
                    vec![
                        upsert_change(
                            "report",
                            "r1",
                            json!({"id":"r1","status":"reported","category_code":"0101","description":"垃圾"}),
                        ),
                        upsert_change(
                            "task",
                            "t1",
                            json!({"id":"t1","report_id":"r1","status":"dispatched"}),
                        ),
                    ],
                ),
                now,
            )
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(s.cursor().unwrap().as_deref(), Some("c1"));
        let r = s.entity("report", "r1").unwrap().unwrap();
        assert_eq!(r.status.as_deref(), Some("reported"));
        assert_eq!(r.summary.as_deref(), Some("垃圾"));
        assert_eq!(
            s.entities("task").unwrap()[0].report_id.as_deref(),
            Some("r1")
        );

        // A page that cannot be applied leaves both the view and the cursor as they were.
        let broken = page(
            false,
            "c2",
            vec![
                upsert_change("report", "r1", json!({"id":"r1","status":"accepted"})),
                Change {
                    op: ChangeOp::Upsert,
                    entity_type: "task".into(),
                    id: "t2".into(),
                    seq: 2,
                    data: None,
                },
            ],
        );
        assert!(s.apply_pull(&broken, now).is_err());
        assert_eq!(s.cursor().unwrap().as_deref(), Some("c1"));
        assert_eq!(
            s.entity("report", "r1").unwrap().unwrap().status.as_deref(),
            Some("reported")
        );

        // Purge removes the local copy.
        let purge = Change {
            op: ChangeOp::Purge,
            entity_type: "task".into(),
            id: "t1".into(),
            seq: 3,
            data: None,
        };
        s.apply_pull(&page(false, "c3", vec![purge]), now).unwrap();
        assert!(s.entity("task", "t1").unwrap().is_none());
        assert_eq!(s.cursor().unwrap().as_deref(), Some("c3"));
    }

    #[test]
    fn reset_drops_the_view_but_never_the_outbox_or_uploads() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        s.apply_pull(
            &page(
                false,
                "c1",
                vec![upsert_change("report", "old", json!({"status":"reported"}))],
            ),
            now,
        )
        .unwrap();
        s.enqueue(
            "u1",
            &Command::CloseTask {
                task_id: "t".into(),
            },
            None,
            now,
        )
        .unwrap();
        s.insert_upload(&NewUpload {
            attachment_id: "a1".into(),
            user_id: "u1".into(),
            file_name: "p.jpg".into(),
            local_path: "files/a1".into(),
            content_type: "image/jpeg".into(),
            size: 3,
            sha256: "00".repeat(32),
            captured_at: now,
            position: None,
            phase: None,
        })
        .unwrap();
        s.apply_pull(
            &page(
                true,
                "c9",
                vec![upsert_change("report", "new", json!({"status":"reported"}))],
            ),
            now,
        )
        .unwrap();
        assert!(s.entity("report", "old").unwrap().is_none());
        assert!(s.entity("report", "new").unwrap().is_some());
        assert_eq!(s.pending_counts("u1").unwrap(), (1, 0));
        let ups = s.uploads(Some("u1")).unwrap();
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].state, UploadState::Pending);
        assert_eq!(s.cursor().unwrap().as_deref(), Some("c9"));
    }

    #[test]
    fn a_page_pulled_from_a_cursor_that_moved_meanwhile_is_not_applied() {
        let mut s = Store::memory().unwrap();
        let now = Utc::now();
        let newer = page(
            false,
            "c2",
            vec![upsert_change("task", "t", json!({"status":"closed"}))],
        );
        s.apply_pull(&newer, now).unwrap();
        // A slower puller read from no cursor, before the task was closed.
        let older = page(
            false,
            "c1",
            vec![upsert_change("task", "t", json!({"status":"handled"}))],
        );
        assert_eq!(s.apply_pull_from(None, &older, now).unwrap(), None);
        assert_eq!(s.cursor().unwrap().as_deref(), Some("c2"));
        assert_eq!(
            s.entity("task", "t").unwrap().unwrap().status.as_deref(),
            Some("closed")
        );
    }

    #[test]
    fn listing_columns_are_found_in_wrapped_aggregates_too() {
        let mut s = Store::memory().unwrap();
        let data = json!({"report": {"id":"r","status":"accepted","description":"占道"},
                          "task": {"id":"t","status":"on_site"}});
        s.apply_pull(
            &page(false, "c", vec![upsert_change("report", "r", data)]),
            Utc::now(),
        )
        .unwrap();
        let r = s.entity("report", "r").unwrap().unwrap();
        assert_eq!(r.status.as_deref(), Some("accepted"));
        assert_eq!(r.summary.as_deref(), Some("占道"));
    }
}
