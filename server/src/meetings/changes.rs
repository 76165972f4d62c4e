//! Changes to a meeting before it is held: rescheduling, cancelling, and the chair's decision on
//! each submitted topic (the office 汇总、整理联席会议议题并提交组长审定, seed 004 一(三)). Each is
//! recorded in the full-process record and told to the member units' liaisons concerned.

use chrono::NaiveDateTime;
use griddispatch_protocol::Role;
use serde_json::json;

use super::{
    checked_input, checked_members, is_chair, minutes_issued, not_cancelled, not_found, text, view,
    MeetingInput, MeetingView,
};
use crate::config::MeetingsConfig;
use crate::db::DbConn;
use crate::error::AppError;
use crate::store::meetings::{self as store, MeetingRow, TopicRow};
use crate::store::{audit, departments};

/// Why a meeting is cancelled.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// The reason, 1–500 characters; told to every member unit.
    pub reason: String,
}

/// The chair's decision on a topic.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicDecisionInput {
    /// `true`: onto the agenda; `false`: declined (a note is then required).
    pub accepted: bool,
    /// The chair's note, up to 1000 characters.
    #[serde(default)]
    pub note: String,
}

fn no_topic() -> AppError {
    AppError::NotFound("议题不存在 (no such topic)".into())
}

/// Refused once the minutes are out or the meeting's time has come: what was decided there
/// stands, and the record of when it met must not move.
fn still_ahead(m: &MeetingRow, now: NaiveDateTime) -> Result<(), AppError> {
    not_cancelled(m)?;
    if m.minutes_issued_at.is_some() {
        return Err(minutes_issued());
    }
    if m.scheduled_at <= now {
        return Err(AppError::conflict(
            "meeting_held",
            "会议时间已到，不能再改期 (the meeting's time has come; it can no longer be rescheduled)",
        ));
    }
    Ok(())
}

/// Tell the liaisons of `departments_to_tell` (once each).
fn tell(
    conn: &mut DbConn,
    departments_to_tell: &[String],
    kind: &str,
    message: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let mut users = Vec::new();
    for d in departments_to_tell {
        users.extend(departments::liaison_ids(conn, d)?);
    }
    users.sort();
    users.dedup();
    for u in users {
        crate::workflow::notify::send(conn, &u, kind, None, message, now)?;
    }
    Ok(())
}

/// Change a meeting's title, time, place, chair or members before it is held (the office),
/// recorded as `reschedule_meeting`; the member units before and after are told.
pub fn reschedule(
    conn: &mut DbConn,
    actor: &str,
    id: &str,
    input: &MeetingInput,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<MeetingView, AppError> {
    let (title, place) = checked_input(input)?;
    if input.scheduled_at <= now {
        return Err(AppError::unprocessable(
            "invalid_meeting",
            "改期后的会议时间须在现在之后 (the new time must be in the future)",
        ));
    }
    crate::db::write_transaction(conn, |conn| {
        let m = store::find(conn, id)?.ok_or_else(not_found)?;
        still_ahead(&m, now)?;
        let members = checked_members(conn, input)?;
        let old_members = store::members(conn, &m.id)?;
        let before = view(conn, m.clone(), cfg, now)?;
        let row = MeetingRow {
            title,
            place,
            scheduled_at: input.scheduled_at,
            chair_department_id: input.chair_department_id.clone(),
            ..m
        };
        store::reschedule(conn, &row, &members)?;
        let after = view(conn, row, cfg, now)?;
        audit::record_action(
            conn,
            actor,
            "reschedule_meeting",
            &json!({"meeting_id": id, "members": members}),
            &json!({"meeting": before}),
            &json!({"meeting": after}),
            now,
        )?;
        let mut concerned = old_members;
        concerned.extend(members);
        let msg = format!(
            "联席会议「{}」已调整：{} {} (the joint meeting was changed)",
            after.title,
            crate::domain::time::china_date(after.scheduled_at),
            after.place
        );
        tell(conn, &concerned, "meeting_changed", &msg, now)?;
        Ok(after)
    })
}

/// Cancel a meeting that has not been held (the office), with the reason, recorded as
/// `cancel_meeting`; its member units are told. Nothing more is accepted for it.
pub fn cancel(
    conn: &mut DbConn,
    actor: &str,
    id: &str,
    input: &CancelInput,
    cfg: &MeetingsConfig,
    now: NaiveDateTime,
) -> Result<MeetingView, AppError> {
    let reason = text("reason", &input.reason, 1, 500)?;
    crate::db::write_transaction(conn, |conn| {
        let m = store::find(conn, id)?.ok_or_else(not_found)?;
        not_cancelled(&m)?;
        if m.minutes_issued_at.is_some() {
            return Err(AppError::conflict(
                "minutes_issued",
                "本次会议纪要已签发，不能取消 (the minutes are issued; the meeting cannot be cancelled)",
            ));
        }
        let before = view(conn, m.clone(), cfg, now)?;
        store::cancel(conn, id, &reason, now)?;
        let m = store::find(conn, id)?.ok_or_else(not_found)?;
        let after = view(conn, m, cfg, now)?;
        audit::record_action(
            conn,
            actor,
            "cancel_meeting",
            &json!({"meeting_id": id, "reason": reason}),
            &json!({"meeting": before}),
            &json!({"meeting": after}),
            now,
        )?;
        let msg = format!(
            "联席会议「{}」（{}）已取消：{reason} (the joint meeting was cancelled)",
            after.title,
            crate::domain::time::china_date(after.scheduled_at)
        );
        tell(conn, &after.members, "meeting_changed", &msg, now)?;
        Ok(after)
    })
}

/// The chair's decision on a submitted topic, before the meeting: accepted onto the agenda or
/// declined with a note; decided once. Recorded as `decide_meeting_topic`; the submitter is told.
#[allow(clippy::too_many_arguments)] // the meeting, the topic, who, what and when: all needed
pub fn decide_topic(
    conn: &mut DbConn,
    actor: &str,
    roles: &[Role],
    meeting_id: &str,
    topic_id: &str,
    input: &TopicDecisionInput,
    now: NaiveDateTime,
) -> Result<TopicRow, AppError> {
    let note = text("note", &input.note, 0, 1000)?;
    if !input.accepted && note.is_empty() {
        return Err(AppError::unprocessable(
            "decision_note_required",
            "不列入议程须说明理由 (say why the topic is not put on the agenda)",
        ));
    }
    crate::db::write_transaction(conn, |conn| {
        let m = store::find(conn, meeting_id)?.ok_or_else(not_found)?;
        if !is_chair(conn, actor, roles, &m)? {
            return Err(AppError::forbidden(
                "not_the_chair",
                "议题由会议召集人（组长）审定 (only the chair decides the agenda)",
            ));
        }
        not_cancelled(&m)?;
        if m.minutes_issued_at.is_some() {
            return Err(minutes_issued());
        }
        let topic = store::topic(conn, meeting_id, topic_id)?.ok_or_else(no_topic)?;
        if topic.decision.is_some() {
            return Err(AppError::conflict(
                "topic_decided",
                "该议题已审定 (this topic has already been decided)",
            ));
        }
        let decision = if input.accepted {
            "accepted"
        } else {
            "declined"
        };
        let note = (!note.is_empty()).then_some(note);
        store::decide_topic(conn, topic_id, decision, note.as_deref(), actor, now)?;
        let after = store::topic(conn, meeting_id, topic_id)?.ok_or_else(no_topic)?;
        audit::record_action(
            conn,
            actor,
            "decide_meeting_topic",
            &json!({"meeting_id": meeting_id, "topic_id": topic_id, "decision": decision}),
            &json!({"topic": topic}),
            &json!({"topic": after}),
            now,
        )?;
        let msg = if input.accepted {
            format!(
                "议题「{}」已列入联席会议「{}」议程 (your topic is on the agenda)",
                after.title, m.title
            )
        } else {
            format!(
                "议题「{}」未列入联席会议「{}」议程：{} (your topic was not put on the agenda)",
                after.title,
                m.title,
                after.decision_note.as_deref().unwrap_or("")
            )
        };
        crate::workflow::notify::send(conn, &after.submitted_by, "meeting_topic", None, &msg, now)?;
        Ok(after)
    })
}
