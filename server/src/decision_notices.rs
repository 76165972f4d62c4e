//! 处罚决定抄告: the brigade's penalty and enforcement decisions reach the departments they
//! concern within `[sharing] decision_notice_days` (seed 000: 5 days).
//!
//! A decided case concerns a department when the department sent the lead (a report of source
//! `department` by its liaison) or shared something about the case's party or place
//! ([`crate::sharing::matches`]). A notice is delivered when a webhook subscription of that
//! department acknowledged the `decide_case` event of the case, or when the department's
//! liaison confirmed receipt (they read the decisions concerning them in
//! `GET /api/v1/decision-notices`). Past its due time undelivered, it is flagged once and the
//! administrators and duty chiefs are told.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use griddispatch_protocol::command::ReportSource;
use serde::Serialize;

use crate::db::DbConn;
use crate::domain::workflow::{Case, CaseStatus};
use crate::schema::{
    audit_log, cases, decision_notices, user_roles, webhook_deliveries, webhook_subscriptions,
};
use crate::store::{departments, workflow as store};

/// A notice.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = decision_notices)]
pub struct NoticeRow {
    /// Id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// The department it concerns.
    pub department_id: String,
    /// When the decision was made.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: NaiveDateTime,
    /// When it must have reached the department.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: NaiveDateTime,
    /// When it did.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<NaiveDateTime>,
    /// `webhook` or `liaison`.
    pub delivered_via: Option<String>,
    /// When it was flagged overdue.
    #[serde(with = "crate::domain::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub flagged_at: Option<NaiveDateTime>,
    /// Made at.
    #[serde(with = "crate::domain::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

/// A notice with the decision it carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    /// The notice.
    #[serde(flatten)]
    pub notice: NoticeRow,
    /// Undelivered past its due time.
    pub overdue: bool,
    /// The case's number.
    pub case_number: Option<String>,
    /// The decision (number, what was decided, when), complainants' contacts removed.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Notices made for new decisions.
    pub created: usize,
    /// Notices found delivered by webhook.
    pub delivered: usize,
    /// Notices flagged overdue.
    pub flagged: usize,
}

const DECIDED: [CaseStatus; 4] = [
    CaseStatus::Decided,
    CaseStatus::Served,
    CaseStatus::Published,
    CaseStatus::Archived,
];

/// The departments a decided case concerns.
pub fn concerned(conn: &mut DbConn, case: &Case, radius_m: f64) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    if let Some(report) = store::report(conn, &case.report_id)? {
        if report.source == ReportSource::Department {
            out.extend(departments::department_of(conn, &report.reporter_id)?);
        }
        for m in crate::sharing::matches(conn, &report, Some(case), radius_m)? {
            out.push(m.item.department_id);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Make notices for new decisions, mark those a department's webhook acknowledged, flag the
/// overdue ones.
pub fn sweep(
    conn: &mut DbConn,
    now: NaiveDateTime,
    days: i64,
    radius_m: f64,
) -> QueryResult<Sweep> {
    let mut s = Sweep::default();
    let decided: Vec<String> = cases::table
        .filter(cases::status.eq_any(DECIDED.iter().map(|c| c.as_str())))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            decision_notices::table.filter(decision_notices::case_id.eq(cases::id)),
        )))
        .select(cases::data)
        .load(conn)?;
    for data in decided {
        let case: Case = serde_json::from_str(&data)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        let Some(decision) = &case.procedure.decision else {
            continue;
        };
        for dept in concerned(conn, &case, radius_m)? {
            diesel::insert_into(decision_notices::table)
                .values(&NoticeRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    case_id: case.id.clone(),
                    department_id: dept,
                    decided_at: decision.at,
                    due_at: decision.at + chrono::Duration::days(days),
                    delivered_at: None,
                    delivered_via: None,
                    flagged_at: None,
                    created_at: now,
                })
                .execute(conn)?;
            s.created += 1;
        }
    }
    let open: Vec<NoticeRow> = decision_notices::table
        .filter(decision_notices::delivered_at.is_null())
        .select(NoticeRow::as_select())
        .load(conn)?;
    for n in open {
        let acked: Option<Option<NaiveDateTime>> = webhook_deliveries::table
            .inner_join(
                webhook_subscriptions::table
                    .on(webhook_subscriptions::id.eq(webhook_deliveries::subscription_id)),
            )
            .inner_join(audit_log::table.on(audit_log::seq.eq(webhook_deliveries::event_seq)))
            .filter(webhook_subscriptions::department_id.eq(&n.department_id))
            .filter(webhook_deliveries::status.eq("delivered"))
            .filter(audit_log::command.eq("decide_case"))
            .filter(audit_log::case_id.eq(&n.case_id))
            .select(webhook_deliveries::delivered_at)
            .first(conn)
            .optional()?;
        if let Some(at) = acked {
            diesel::update(decision_notices::table.find(&n.id))
                .set((
                    decision_notices::delivered_at.eq(Some(at.unwrap_or(now))),
                    decision_notices::delivered_via.eq(Some("webhook")),
                ))
                .execute(conn)?;
            s.delivered += 1;
        } else if n.due_at < now && n.flagged_at.is_none() {
            flag(conn, &n, now)?;
            s.flagged += 1;
        }
    }
    Ok(s)
}

fn flag(conn: &mut DbConn, n: &NoticeRow, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(decision_notices::table.find(&n.id))
        .set(decision_notices::flagged_at.eq(Some(now)))
        .execute(conn)?;
    let name = departments::find(conn, &n.department_id)?
        .map(|d| d.name)
        .unwrap_or_default();
    let number = store::case(conn, &n.case_id)?
        .and_then(|c| c.number)
        .unwrap_or_default();
    let message = format!(
        "案件 {number} 的处理决定未按时抄告{name}（应于 {} 前送达）(the decision of case {number} has not reached {name} in time)",
        crate::domain::time::china_date(n.due_at)
    );
    let to: Vec<String> = user_roles::table
        .filter(user_roles::role.eq_any(["admin", "duty_chief"]))
        .select(user_roles::user_id)
        .distinct()
        .load(conn)?;
    for user in to {
        crate::workflow::notify::send(conn, &user, "decision_notice_overdue", None, &message, now)?;
    }
    Ok(())
}

/// Notices, newest first: of one department, or all; only the undelivered ones if asked.
pub fn list(
    conn: &mut DbConn,
    department_id: Option<&str>,
    undelivered: bool,
    now: NaiveDateTime,
) -> QueryResult<Vec<NoticeView>> {
    let mut q = decision_notices::table.into_boxed();
    if let Some(d) = department_id {
        q = q.filter(decision_notices::department_id.eq(d.to_owned()));
    }
    if undelivered {
        q = q.filter(decision_notices::delivered_at.is_null());
    }
    let rows: Vec<NoticeRow> = q
        .order(decision_notices::decided_at.desc())
        .limit(500)
        .select(NoticeRow::as_select())
        .load(conn)?;
    let outside = crate::workflow::queries::Visibility::outside_system();
    rows.into_iter()
        .map(|n| {
            let case = store::case(conn, &n.case_id)?;
            Ok(NoticeView {
                overdue: n.delivered_at.is_none() && n.due_at < now,
                case_number: case.as_ref().and_then(|c| c.number.clone()),
                decision: case
                    .and_then(|c| c.procedure.decision)
                    .map(|d| outside.serve(&d))
                    .unwrap_or_default(),
                notice: n,
            })
        })
        .collect()
}

/// One notice.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<NoticeRow>> {
    decision_notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()
}

/// The liaison confirms receipt.
pub fn acknowledge(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        decision_notices::table
            .find(id)
            .filter(decision_notices::delivered_at.is_null()),
    )
    .set((
        decision_notices::delivered_at.eq(Some(now)),
        decision_notices::delivered_via.eq(Some("liaison")),
    ))
    .execute(conn)
}
