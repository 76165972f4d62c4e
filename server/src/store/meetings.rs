//! Joint meetings (联席会议): meetings, member units, topics, decided items and their progress.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{
    meeting_item_progress, meeting_items, meeting_members, meeting_topics, meetings,
};

/// A row of `meetings`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    /// Id (UUID).
    pub id: String,
    /// Title (e.g. 2026 年 12 月综合行政执法联席会议).
    pub title: String,
    /// When it is held (UTC).
    pub scheduled_at: NaiveDateTime,
    /// Where.
    pub place: String,
    /// The chairing department; none: the brigade chairs.
    pub chair_department_id: Option<String>,
    /// The minutes' text (纪要), once issued.
    pub minutes: Option<String>,
    /// When the minutes were issued.
    pub minutes_issued_at: Option<NaiveDateTime>,
    /// Who issued them.
    pub minutes_issued_by: Option<String>,
    /// Who scheduled the meeting.
    pub created_by: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Cancelled (before it was held).
    pub cancelled_at: Option<NaiveDateTime>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
}

/// A row of `meeting_topics`.
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = meeting_topics)]
pub struct TopicRow {
    /// Id.
    pub id: String,
    /// Meeting.
    pub meeting_id: String,
    /// The member unit that submitted it; none: the brigade.
    pub department_id: Option<String>,
    /// Title.
    pub title: String,
    /// What is to be discussed.
    pub description: String,
    /// The account that submitted it.
    pub submitted_by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: NaiveDateTime,
    /// The chair's decision (组长审定): `accepted` onto the agenda or `declined`; null: not yet.
    pub decision: Option<String>,
    /// The chair's note (required when declined).
    pub decision_note: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
}

/// A row of `meeting_items`: a decided item (议定事项).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = meeting_items)]
pub struct ItemRow {
    /// Id.
    pub id: String,
    /// The meeting whose minutes decided it.
    pub meeting_id: String,
    /// Order in the minutes, from 1.
    pub position: i32,
    /// What is to be done.
    pub title: String,
    /// Owner unit (责任单位).
    pub owner_department_id: String,
    /// Owner person (责任人).
    pub owner_person: String,
    /// Deadline (完成时限).
    pub due_at: NaiveDateTime,
    /// Standard (标准要求).
    pub standard: String,
    /// Result, once closed.
    pub result: Option<String>,
    /// Closed.
    pub closed_at: Option<NaiveDateTime>,
    /// Closed by.
    pub closed_by: Option<String>,
    /// Flagged overdue (once).
    pub flagged_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
}

/// A row of `meeting_item_progress`.
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = meeting_item_progress)]
pub struct ProgressRow {
    /// Id.
    pub id: String,
    /// Item.
    pub item_id: String,
    /// What was done.
    pub note: String,
    /// The account that reported it.
    pub reported_by: String,
    /// When.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub reported_at: NaiveDateTime,
}

/// One meeting.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<MeetingRow>> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()
}

/// Meetings, newest first.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<MeetingRow>> {
    meetings::table
        .order(meetings::scheduled_at.desc())
        .select(MeetingRow::as_select())
        .load(conn)
}

/// The latest scheduled meeting.
pub fn latest(conn: &mut DbConn) -> QueryResult<Option<MeetingRow>> {
    meetings::table
        .order(meetings::scheduled_at.desc())
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()
}

/// Insert a meeting with its members.
pub fn insert(conn: &mut DbConn, row: &MeetingRow, members: &[String]) -> QueryResult<()> {
    diesel::insert_into(meetings::table)
        .values(row)
        .execute(conn)?;
    set_members(conn, &row.id, members)
}

/// Replace a meeting's member units.
fn set_members(conn: &mut DbConn, meeting_id: &str, members: &[String]) -> QueryResult<()> {
    diesel::delete(meeting_members::table.filter(meeting_members::meeting_id.eq(meeting_id)))
        .execute(conn)?;
    for d in members {
        diesel::insert_into(meeting_members::table)
            .values((
                meeting_members::meeting_id.eq(meeting_id),
                meeting_members::department_id.eq(d),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The member units of a meeting.
pub fn members(conn: &mut DbConn, meeting_id: &str) -> QueryResult<Vec<String>> {
    meeting_members::table
        .filter(meeting_members::meeting_id.eq(meeting_id))
        .order(meeting_members::department_id.asc())
        .select(meeting_members::department_id)
        .load(conn)
}

/// The meetings a department sits in (member or chair).
pub fn meetings_of(conn: &mut DbConn, department_id: &str) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = meeting_members::table
        .filter(meeting_members::department_id.eq(department_id))
        .select(meeting_members::meeting_id)
        .load(conn)?;
    ids.extend(
        meetings::table
            .filter(meetings::chair_department_id.eq(department_id))
            .select(meetings::id)
            .load::<String>(conn)?,
    );
    Ok(ids)
}

/// Topics of a meeting in the order submitted.
pub fn topics(conn: &mut DbConn, meeting_id: &str) -> QueryResult<Vec<TopicRow>> {
    meeting_topics::table
        .filter(meeting_topics::meeting_id.eq(meeting_id))
        .order(meeting_topics::submitted_at.asc())
        .select(TopicRow::as_select())
        .load(conn)
}

/// Insert a topic.
pub fn insert_topic(conn: &mut DbConn, row: &TopicRow) -> QueryResult<()> {
    diesel::insert_into(meeting_topics::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Record the minutes of a meeting.
pub fn set_minutes(
    conn: &mut DbConn,
    meeting_id: &str,
    minutes: &str,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(meetings::table.find(meeting_id))
        .set((
            meetings::minutes.eq(Some(minutes)),
            meetings::minutes_issued_at.eq(Some(at)),
            meetings::minutes_issued_by.eq(Some(by)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Change a meeting's title, time, place and chair; its members are replaced.
pub fn reschedule(conn: &mut DbConn, row: &MeetingRow, members: &[String]) -> QueryResult<()> {
    diesel::update(meetings::table.find(&row.id))
        .set((
            meetings::title.eq(&row.title),
            meetings::scheduled_at.eq(row.scheduled_at),
            meetings::place.eq(&row.place),
            meetings::chair_department_id.eq(&row.chair_department_id),
        ))
        .execute(conn)?;
    set_members(conn, &row.id, members)
}

/// Mark a meeting cancelled.
pub fn cancel(conn: &mut DbConn, id: &str, reason: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(meetings::table.find(id))
        .set((
            meetings::cancelled_at.eq(Some(at)),
            meetings::cancel_reason.eq(Some(reason)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One topic of a meeting.
pub fn topic(conn: &mut DbConn, meeting_id: &str, id: &str) -> QueryResult<Option<TopicRow>> {
    meeting_topics::table
        .find(id)
        .filter(meeting_topics::meeting_id.eq(meeting_id))
        .select(TopicRow::as_select())
        .first(conn)
        .optional()
}

/// Record the chair's decision on a topic.
pub fn decide_topic(
    conn: &mut DbConn,
    id: &str,
    decision: &str,
    note: Option<&str>,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(meeting_topics::table.find(id))
        .set((
            meeting_topics::decision.eq(Some(decision)),
            meeting_topics::decision_note.eq(note),
            meeting_topics::decided_by.eq(Some(by)),
            meeting_topics::decided_at.eq(Some(at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Insert a decided item.
pub fn insert_item(conn: &mut DbConn, row: &ItemRow) -> QueryResult<()> {
    diesel::insert_into(meeting_items::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// One item.
pub fn item(conn: &mut DbConn, id: &str) -> QueryResult<Option<ItemRow>> {
    meeting_items::table
        .find(id)
        .select(ItemRow::as_select())
        .first(conn)
        .optional()
}

/// A meeting's items in the minutes' order.
pub fn items(conn: &mut DbConn, meeting_id: &str) -> QueryResult<Vec<ItemRow>> {
    meeting_items::table
        .filter(meeting_items::meeting_id.eq(meeting_id))
        .order(meeting_items::position.asc())
        .select(ItemRow::as_select())
        .load(conn)
}

/// Items of earlier meetings due before `at` and not closed by then: what the meeting at `at`
/// hears about (在下次会议上进行通报).
pub fn overdue_before(
    conn: &mut DbConn,
    meeting_id: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<ItemRow>> {
    meeting_items::table
        .inner_join(meetings::table.on(meetings::id.eq(meeting_items::meeting_id)))
        .filter(meeting_items::meeting_id.ne(meeting_id))
        .filter(meetings::scheduled_at.lt(at))
        .filter(meeting_items::due_at.lt(at))
        .filter(
            meeting_items::closed_at
                .is_null()
                .or(meeting_items::closed_at.gt(at)),
        )
        .order((meeting_items::due_at.asc(), meeting_items::id.asc()))
        .select(ItemRow::as_select())
        .load(conn)
}

/// Open items past their deadline not yet flagged.
pub fn unflagged_overdue(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<ItemRow>> {
    meeting_items::table
        .filter(meeting_items::closed_at.is_null())
        .filter(meeting_items::flagged_at.is_null())
        .filter(meeting_items::due_at.lt(now))
        .select(ItemRow::as_select())
        .load(conn)
}

/// Mark an item flagged (only if it was not).
pub fn flag(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        meeting_items::table
            .find(id)
            .filter(meeting_items::flagged_at.is_null()),
    )
    .set(meeting_items::flagged_at.eq(Some(now)))
    .execute(conn)
}

/// Close an item with its result.
pub fn close(
    conn: &mut DbConn,
    id: &str,
    result: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(meeting_items::table.find(id))
        .set((
            meeting_items::result.eq(Some(result)),
            meeting_items::closed_at.eq(Some(now)),
            meeting_items::closed_by.eq(Some(by)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Progress reports of an item, oldest first.
pub fn progress(conn: &mut DbConn, item_id: &str) -> QueryResult<Vec<ProgressRow>> {
    meeting_item_progress::table
        .filter(meeting_item_progress::item_id.eq(item_id))
        .order(meeting_item_progress::reported_at.asc())
        .select(ProgressRow::as_select())
        .load(conn)
}

/// Insert a progress report.
pub fn insert_progress(conn: &mut DbConn, row: &ProgressRow) -> QueryResult<()> {
    diesel::insert_into(meeting_item_progress::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}
