//! `/api/v1/meetings*` and `/api/v1/meeting-items/*`: joint meetings (联席会议) — scheduling,
//! topics, minutes with their decided items, progress and closing (docs/integration.md).

use actix_web::{web, HttpResponse};
use griddispatch_protocol::ErrorBody;

use crate::auth::Actor;
use crate::db;
use crate::error::AppError;
use crate::meetings::{
    self, CancelInput, ItemView, MeetingInput, MeetingView, MinutesInput, NextDate, NoteInput,
    TopicDecisionInput, TopicInput,
};
use crate::state::AppState;
use crate::store::meetings::TopicRow;

/// Meetings, newest first (staff see all; a liaison those its department sits in).
#[utoipa::path(get, path = "/api/v1/meetings", tag = "agencies", security(("bearer" = [])),
    responses((status = 200, body = Vec<MeetingView>)))]
pub async fn list_meetings(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, AppError> {
    let cfg = state.config.meetings;
    let list = state
        .db(move |conn| meetings::list(conn, &actor.user_id, &actor.roles, &cfg, db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The proposed time of the next meeting (monthly by default).
#[utoipa::path(get, path = "/api/v1/meetings/next-date", tag = "agencies", security(("bearer" = [])),
    responses((status = 200, body = NextDate)))]
pub async fn next_meeting_date(
    state: web::Data<AppState>,
    _actor: Actor,
) -> Result<HttpResponse, AppError> {
    let cfg = state.config.meetings;
    let next = state
        .db(move |conn| meetings::next_date(conn, &cfg, db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(next))
}

/// One meeting with its agenda (topics, overdue items of earlier meetings), minutes and items.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "meeting id")),
    responses((status = 200, body = MeetingView), (status = 404, body = ErrorBody)))]
pub async fn get_meeting(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let cfg = state.config.meetings;
    let m = state
        .db(move |conn| meetings::get(conn, &actor.user_id, &actor.roles, &id, &cfg, db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

/// Schedule a meeting (admin or approver).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "agencies", security(("bearer" = [])),
    request_body = MeetingInput,
    responses((status = 201, body = MeetingView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 422, description = "invalid_meeting, unknown_department, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn create_meeting(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<MeetingInput>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&meetings::OFFICE)?;
    let input = body.into_inner();
    let cfg = state.config.meetings;
    let m = state
        .db(move |conn| meetings::create(conn, &actor.user_id, &input, &cfg, db::now()))
        .await?;
    Ok(HttpResponse::Created().json(m))
}

/// Reschedule a meeting before it is held: title, time, place, chair, members (admin or
/// approver); the member units are told.
#[utoipa::path(patch, path = "/api/v1/meetings/{id}", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "meeting id")), request_body = MeetingInput,
    responses((status = 200, body = MeetingView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "meeting_cancelled, minutes_issued, meeting_held", body = ErrorBody),
    (status = 422, description = "invalid_meeting, unknown_department, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn reschedule_meeting(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<MeetingInput>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&meetings::OFFICE)?;
    let id = path.into_inner();
    let input = body.into_inner();
    let cfg = state.config.meetings;
    let m = state
        .db(move |conn| meetings::reschedule(conn, &actor.user_id, &id, &input, &cfg, db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

/// Cancel a meeting whose minutes are not issued, with the reason (admin or approver).
#[utoipa::path(post, path = "/api/v1/meetings/{id}/cancel", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "meeting id")), request_body = CancelInput,
    responses((status = 200, body = MeetingView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "meeting_cancelled, minutes_issued", body = ErrorBody),
    (status = 422, description = "invalid_meeting, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn cancel_meeting(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<CancelInput>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&meetings::OFFICE)?;
    let id = path.into_inner();
    let input = body.into_inner();
    let cfg = state.config.meetings;
    let m = state
        .db(move |conn| meetings::cancel(conn, &actor.user_id, &id, &input, &cfg, db::now()))
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

/// The chair's decision on a topic (组长审定): onto the agenda, or declined with a note.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/topics/{topic_id}/decision", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "meeting id"), ("topic_id" = String, Path, description = "topic id")),
    request_body = TopicDecisionInput,
    responses((status = 200, body = TopicRow),
    (status = 403, description = "not_the_chair", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "meeting_cancelled, minutes_issued, topic_decided", body = ErrorBody),
    (status = 422, description = "decision_note_required, invalid_meeting, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn decide_topic(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    body: super::input::Json<TopicDecisionInput>,
) -> Result<HttpResponse, AppError> {
    let (id, topic) = path.into_inner();
    let input = body.into_inner();
    let t = state
        .db(move |conn| {
            meetings::decide_topic(
                conn,
                &actor.user_id,
                &actor.roles,
                &id,
                &topic,
                &input,
                db::now(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Submit a topic (a member unit's liaison or the brigade's staff), inside the window.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/topics", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "meeting id")), request_body = TopicInput,
    responses((status = 201, body = TopicRow),
    (status = 403, description = "not_a_member", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "meeting_cancelled", body = ErrorBody),
    (status = 422, description = "topics_not_open, topics_closed, invalid_meeting, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn submit_topic(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<TopicInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.into_inner();
    let cfg = state.config.meetings;
    let t = state
        .db(move |conn| {
            meetings::submit_topic(
                conn,
                &actor.user_id,
                &actor.roles,
                &id,
                &input,
                &cfg,
                db::now(),
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(t))
}

/// Issue the minutes with the decided items (the chair), after the meeting.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "meeting id")), request_body = MinutesInput,
    responses((status = 200, body = MeetingView),
    (status = 403, description = "not_the_chair", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "minutes_issued, meeting_not_held, meeting_cancelled", body = ErrorBody),
    (status = 422, description = "item_incomplete, invalid_item, invalid_meeting, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn issue_minutes(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<MinutesInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.into_inner();
    let cfg = state.config.meetings;
    let m = state
        .db(move |conn| {
            meetings::issue_minutes(
                conn,
                &actor.user_id,
                &actor.roles,
                &id,
                &input,
                &cfg,
                db::now(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(m))
}

/// Report progress on a decided item (its owner unit's liaison, or admin/approver).
#[utoipa::path(post, path = "/api/v1/meeting-items/{id}/progress", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")), request_body = NoteInput,
    responses((status = 200, body = ItemView),
    (status = 403, description = "not_item_owner", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "item_closed", body = ErrorBody),
    (status = 422, description = "invalid_meeting, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn report_item_progress(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<NoteInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.into_inner();
    let item = state
        .db(move |conn| {
            meetings::report_progress(conn, &actor.user_id, &actor.roles, &id, &input, db::now())
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Close a decided item with its result (its owner unit's liaison, or admin/approver).
#[utoipa::path(post, path = "/api/v1/meeting-items/{id}/close", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")), request_body = NoteInput,
    responses((status = 200, body = ItemView),
    (status = 403, description = "not_item_owner", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "item_closed", body = ErrorBody),
    (status = 422, description = "invalid_meeting, invalid_field, invalid_text", body = ErrorBody)))]
pub async fn close_meeting_item(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: super::input::Json<NoteInput>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let input = body.into_inner();
    let item = state
        .db(move |conn| {
            meetings::close_item(conn, &actor.user_id, &actor.roles, &id, &input, db::now())
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}
