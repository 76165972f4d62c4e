//! Loading what a decision needs, inside the command's transaction.

use chrono::Datelike;
use griddispatch_protocol::command::{Command, Outcome, Position};
use griddispatch_protocol::Role;

use super::{scope, Env, Issuer};
use crate::db::DbConn;
use crate::domain::account::certificate_valid;
use crate::domain::calendar::{Measure, WorkingDuration};
use crate::domain::workflow::{ActorCtx, CategoryRules, EvidenceFact, Facts, Located, OfficerFact};
use crate::store::{attachments, categories, users, workflow as store};

/// Acknowledgement clock for every task (签收时限): 1 working hour (DOMAIN.md §5).
pub const ACK_TIME: WorkingDuration = WorkingDuration::WorkingHours(1);

type Q<T> = Result<T, diesel::result::Error>;

pub(super) fn actor(conn: &mut DbConn, env: &Env<'_>, issuer: &Issuer) -> Q<ActorCtx> {
    if issuer.is_system {
        return Ok(ActorCtx {
            user_id: issuer.user_id.clone(),
            is_system: true,
            ..ActorCtx::default()
        });
    }
    let user = users::find(conn, &issuer.user_id)?;
    Ok(ActorCtx {
        user_id: issuer.user_id.clone(),
        roles: users::roles_of(conn, &issuer.user_id)?,
        certified: user
            .as_ref()
            .is_some_and(|u| !u.disabled && certificate_valid(u.cert_valid_until, env.now)),
        villages: scope::villages_of(conn, &issuer.user_id, env.grid_version)?,
        squads: scope::squads_of(conn, &issuer.user_id)?,
        is_system: false,
    })
}

/// Categories' rules and handling times read in this transaction (see `Batch`).
pub(super) type Categories = std::collections::HashMap<String, Option<(CategoryRules, String)>>;

fn rules(
    conn: &mut DbConn,
    known: &mut Categories,
    code: &str,
) -> Q<Option<(CategoryRules, String)>> {
    if let Some(r) = known.get(code) {
        return Ok(r.clone());
    }
    let r = categories::find(conn, code)?.filter(|c| c.active).map(|c| {
        (
            CategoryRules {
                simple_procedure_allowed: c.simple_procedure,
                penalty_possible: c.penalty_possible,
            },
            c.handling,
        )
    });
    known.insert(code.to_owned(), r.clone());
    Ok(r)
}

fn to_wgs84(p: &Position) -> (f64, f64) {
    // `domain::input::check_command` has refused unknown names before the facts are loaded.
    let crs = p
        .crs
        .as_deref()
        .and_then(|c| c.parse::<grid_data::Crs>().ok())
        .unwrap_or_default();
    let (lon, lat) = crs.to_wgs84(p.lon, p.lat);
    (lat, lon)
}

fn locate(env: &Env<'_>, p: &Position) -> Located {
    let Some(index) = env.grid else {
        return Located::NoGrid;
    };
    let (lat, lon) = to_wgs84(p);
    scope::locate(index, env.grid_version, lat, lon)
}

fn foreign(conn: &mut DbConn, ids: &[String], owner: &str) -> Q<Vec<String>> {
    let mut out = Vec::new();
    for id in ids {
        // An attachment not uploaded yet is fine (the phone uploads whichever is first);
        // one that exists must be the actor's own.
        if let Some(a) = attachments::find(conn, id)? {
            if a.owner_id != owner {
                out.push(id.clone());
            }
        }
    }
    Ok(out)
}

/// The named attachments already uploaded, with their labels and when they were taken.
fn evidence(conn: &mut DbConn, ids: &[String]) -> Q<Vec<EvidenceFact>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(a) = attachments::find(conn, id)? {
            out.push(EvidenceFact {
                taken_at: a.taken_at(),
                proves: a.proves.as_deref().is_some_and(|p| !p.trim().is_empty()),
                id: a.id,
                phase: a.phase,
            });
        }
    }
    Ok(out)
}

/// The handling and acknowledgement due times of a task dispatched now, and how its handling
/// clock counts.
fn due(env: &Env<'_>, handling: &str, f: &mut Facts) {
    let spec: WorkingDuration = handling.parse().unwrap_or(WorkingDuration::WorkingDays(1));
    f.due_at = Some(env.calendar.add_working(env.now, spec));
    f.ack_due_at = Some(env.calendar.add_working(env.now, ACK_TIME));
    f.handling_measure = Some(if spec.is_working_time() {
        Measure::Working
    } else {
        Measure::Natural
    });
}

/// Load the facts for `cmd` by `issuer`, whose [`actor`] context the caller has read in this
/// transaction; `categories` keeps the categories read so far in it.
pub fn load(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    actor: &ActorCtx,
    categories: &mut Categories,
    cmd: &Command,
) -> Q<Facts> {
    let mut f = Facts {
        actor: actor.clone(),
        now: Some(env.now),
        occurred_at: issuer.occurred_at,
        ..Facts::default()
    };
    let year = env.now.year();
    match cmd {
        Command::CreateReport {
            report_id,
            category_code,
            position: pos,
            attachment_ids,
            ..
        } => {
            f.id_taken = store::id_taken(conn, report_id)?;
            f.category = rules(conn, categories, category_code)?.map(|(r, _)| r);
            f.located = pos.as_ref().map(|p| locate(env, p));
            f.position_wgs84 = pos.as_ref().map(to_wgs84);
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
        }
        Command::TransferIn {
            report_id,
            category_code,
            position: pos,
            attachment_ids,
            ..
        } => {
            f.id_taken = store::id_taken(conn, report_id)?;
            f.category = rules(conn, categories, category_code)?.map(|(r, _)| r);
            f.located = pos.as_ref().map(|p| locate(env, p));
            f.position_wgs84 = pos.as_ref().map(to_wgs84);
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
            f.actor_department = crate::store::departments::department_of(conn, &issuer.user_id)?;
            if let Some(d) = f.actor_department.clone() {
                f.department = department_fact(conn, &d)?;
            }
            f.transfer_due.answer =
                Some(env.now + chrono::Duration::days(env.case_rules.transfer_in_answer_days));
        }
        Command::SetReportPosition {
            report_id,
            position,
        } => {
            f.report = store::report(conn, report_id)?;
            f.located = Some(locate(env, position));
            f.position_wgs84 = Some(to_wgs84(position));
        }
        Command::RequestInfo { report_id, .. }
        | Command::RejectReport { report_id, .. }
        | Command::TransferReport { report_id, .. } => f.report = store::report(conn, report_id)?,
        Command::SupplementReport {
            report_id,
            attachment_ids,
            ..
        } => {
            f.report = store::report(conn, report_id)?;
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
        }
        Command::MergeReport {
            report_id,
            into_report_id,
        } => {
            f.report = store::report(conn, report_id)?;
            f.merge_target = store::report(conn, into_report_id)?;
            f.merge_rules = env.merge_rules;
            if let (Some(a), Some(b)) = (&f.report, &f.merge_target) {
                f.merge_distance_m = super::duplicates::distance_m(a, b);
            }
        }
        Command::DispatchReport {
            report_id,
            task_id,
            squad_id,
        } => {
            f.report = store::report(conn, report_id)?;
            f.id_taken = store::id_taken(conn, task_id)?;
            squad(conn, &mut f, squad_id)?;
            if let Some(r) = &f.report {
                if let Some((rules, handling)) = rules(conn, categories, &r.category_code)? {
                    f.category = Some(rules);
                    due(env, &handling, &mut f);
                }
            }
        }
        Command::CloseReport { report_id } => {
            f.report = store::report(conn, report_id)?;
            if let Some(tid) = f.report.as_ref().and_then(|r| r.task_id.clone()) {
                f.task = store::task(conn, &tid)?;
            }
            if let Some(cid) = f.task.as_ref().and_then(|t| t.case_id.clone()) {
                f.case = store::case(conn, &cid)?;
            }
        }
        Command::AcceptTask {
            task_id,
            officer_ids,
        } => {
            load_task(conn, categories, &mut f, task_id)?;
            let squad = f
                .task
                .as_ref()
                .map(|t| t.squad_id.clone())
                .unwrap_or_default();
            for id in officer_ids {
                if let Some(o) = officer_fact(conn, env, id, Some(&squad))? {
                    f.officers.push(o);
                }
            }
        }
        Command::RedispatchTask { task_id, squad_id } => {
            load_task(conn, categories, &mut f, task_id)?;
            squad(conn, &mut f, squad_id)?;
            if let Some(t) = &f.task {
                if let Some((_, handling)) = rules(conn, categories, &t.category_code)? {
                    due(env, &handling, &mut f);
                }
            }
        }
        Command::ArriveOnSite { task_id, position } => {
            load_task(conn, categories, &mut f, task_id)?;
            let (lat, lon) = to_wgs84(position);
            f.arrival_distance_m = Some(scope::arrival_distance(
                env,
                f.task.as_ref(),
                f.report.as_ref(),
                lat,
                lon,
            ));
        }
        Command::HandleTask {
            task_id,
            outcome,
            attachment_ids,
            case_id,
        } => {
            load_task(conn, categories, &mut f, task_id)?;
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
            f.evidence = evidence(conn, attachment_ids)?;
            match outcome {
                Outcome::SimplePenalty { .. } => {
                    let n = store::next_counter(conn, &format!("simple-decision-{year}"))?;
                    f.number = Some(format!("简罚〔{year}〕{n}号"));
                }
                Outcome::CaseNeeded { .. } => {
                    if let Some(id) = case_id {
                        f.id_taken = store::id_taken(conn, id)?;
                    }
                }
                _ => {}
            }
        }
        Command::RecheckTask {
            task_id,
            attachment_ids,
            ..
        } => {
            load_task(conn, categories, &mut f, task_id)?;
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
        }
        Command::DecideExtension { task_id, approve } => {
            load_task(conn, categories, &mut f, task_id)?;
            if let (true, Some(t)) = (*approve, &f.task) {
                if let Some(h) = t.pending_extension.as_ref().and_then(|p| p.extra_hours) {
                    // The extra time is added on the working calendar from the current due time.
                    f.due_at = Some(
                        env.calendar
                            .add_working(t.due_at.max(env.now), WorkingDuration::WorkingHours(h)),
                    );
                }
            }
        }
        Command::RequestReturn { task_id, .. }
        | Command::DecideReturn { task_id, .. }
        | Command::CloseTask { task_id }
        | Command::RequestExtension { task_id, .. }
        | Command::FlagDeadline { task_id, .. }
        | Command::EscalateTask { task_id, .. } => load_task(conn, categories, &mut f, task_id)?,
        Command::FileCase { case_id } => {
            f.case = store::case(conn, case_id)?;
            let n = store::next_counter(conn, &format!("case-{year}"))?;
            f.number = Some(format!("立〔{year}〕{n}号"));
        }
        other => {
            if let Some(case_id) = other.case_id() {
                case_facts(conn, env, issuer, other, case_id, &mut f)?;
            } else if let Some(report_id) = other.transfer_report_id() {
                transfer_facts(conn, env, issuer, other, report_id, &mut f)?;
            } else if let Some(report_id) = other.assistance_report_id() {
                assistance_facts(conn, env, issuer, other, report_id, &mut f)?;
            }
        }
    }
    Ok(f)
}

fn department_fact(
    conn: &mut DbConn,
    id: &str,
) -> Q<Option<crate::domain::workflow::DepartmentFact>> {
    Ok(crate::store::departments::find(conn, id)?.map(|d| {
        crate::domain::workflow::DepartmentFact {
            id: d.id,
            name: d.name,
            kind: d.kind,
            active: d.active,
        }
    }))
}

/// Facts of a transfer command: the report, the department named or acted for, the clocks.
fn transfer_facts(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    cmd: &Command,
    report_id: &str,
    f: &mut Facts,
) -> Q<()> {
    use crate::domain::workflow::DepartmentFact;
    let rules = env.case_rules;
    f.report = store::report(conn, report_id)?;
    if !issuer.is_system {
        f.actor_department = crate::store::departments::department_of(conn, &issuer.user_id)?;
    }
    match cmd {
        Command::DecideTransfer {
            department_id,
            urgent,
            ..
        } => {
            f.case = store::case_of_report(conn, report_id)?;
            f.department =
                crate::store::departments::find(conn, department_id)?.map(|d| DepartmentFact {
                    id: d.id,
                    name: d.name,
                    kind: d.kind,
                    active: d.active,
                });
            f.transfer_due.send = Some(if *urgent {
                env.now + chrono::Duration::hours(rules.transfer_urgent_hours)
            } else {
                env.calendar.add_working(
                    env.now,
                    WorkingDuration::WorkingDays(rules.transfer_send_working_days),
                )
            });
        }
        Command::SendTransfer { attachment_ids, .. } => {
            let year = env.now.year();
            let n = store::next_counter(conn, &format!("transfer-{year}"))?;
            f.number = Some(format!("移〔{year}〕{n}号"));
            f.transfer_due.answer =
                Some(env.now + chrono::Duration::days(rules.transfer_answer_days));
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
        }
        Command::AnswerTransfer { .. } => {
            f.transfer_due.outcome =
                Some(env.now + chrono::Duration::days(rules.transfer_outcome_days));
        }
        _ => {}
    }
    Ok(())
}

/// Facts of an assistance command: the report, the case it serves, the department addressed or
/// acted for, the answer clock and the letter number of a new request.
fn assistance_facts(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    cmd: &Command,
    report_id: &str,
    f: &mut Facts,
) -> Q<()> {
    f.report = store::report(conn, report_id)?;
    f.case_rules = env.case_rules;
    if !issuer.is_system {
        f.actor_department = crate::store::departments::department_of(conn, &issuer.user_id)?;
    }
    match cmd {
        Command::RequestAssistance {
            request_id,
            case_id,
            department_id,
            attachment_ids,
            ..
        } => {
            f.id_taken =
                store::id_taken(conn, request_id)? || store::assistance_taken(conn, request_id)?;
            if let Some(c) = case_id {
                f.case = store::case(conn, c)?;
            }
            f.department = department_fact(conn, department_id)?;
            f.assistance_due.answer = Some(env.calendar.add_working(
                env.now,
                WorkingDuration::WorkingDays(env.case_rules.assistance_answer_working_days),
            ));
            let year = env.now.year();
            let n = store::next_counter(conn, &format!("assistance-{year}"))?;
            f.number = Some(format!("协〔{year}〕{n}号"));
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
        }
        Command::AnswerAssistance {
            request_id,
            attachment_ids,
            ..
        } => {
            let case_id = f.report.as_ref().and_then(|r| {
                r.assistance
                    .iter()
                    .find(|a| &a.id == request_id)
                    .and_then(|a| a.case_id.clone())
            });
            if let Some(c) = case_id {
                f.case = store::case(conn, &c)?;
            }
            f.foreign_attachments = foreign(conn, attachment_ids, &issuer.user_id)?;
        }
        _ => {}
    }
    Ok(())
}

/// Facts of a command of the general procedure.
fn case_facts(
    conn: &mut DbConn,
    env: &Env<'_>,
    issuer: &Issuer,
    cmd: &Command,
    case_id: &str,
    f: &mut Facts,
) -> Q<()> {
    let year = env.now.year();
    f.case = store::case(conn, case_id)?;
    f.case_rules = env.case_rules;
    f.case_due =
        crate::domain::workflow::CaseDue::from_calendar(env.calendar, &env.case_rules, env.now);
    match cmd {
        Command::StartInvestigation { officer_ids, .. }
        | Command::AddCaseRecord { officer_ids, .. } => {
            for id in officer_ids {
                if let Some(o) = officer_fact(conn, env, id, None)? {
                    f.officers.push(o);
                }
            }
        }

        Command::ScheduleHearing { host_id, .. } => {
            f.host = officer_fact(conn, env, host_id, None)?
        }
        Command::HandOverToPolice {
            police_department_id,
            procuratorate_department_id,
            ..
        } => {
            f.department = department_fact(conn, police_department_id)?;
            f.copy_department = department_fact(conn, procuratorate_department_id)?;
        }
        Command::AnswerHandOver { .. } => {
            f.actor_department = crate::store::departments::department_of(conn, &issuer.user_id)?;
        }
        Command::SubmitForReview { .. } => {
            if let Some(c) = &f.case {
                let ids = crate::domain::workflow::case_evidence_ids(c);
                f.evidence = evidence(conn, &ids)?;
            }
        }
        Command::DecideCase { decision, .. } => {
            let (kind, prefix) = match decision {
                griddispatch_protocol::case::CaseDecision::Penalty { .. } => ("penalty", "罚决"),
                griddispatch_protocol::case::CaseDecision::NoPenalty { .. } => {
                    ("no-penalty", "不罚")
                }
            };
            let n = store::next_counter(conn, &format!("decision-{kind}-{year}"))?;
            f.number = Some(format!("{prefix}〔{year}〕{n}号"));
            f.publish_due_at = Some(env.calendar.add_working(
                env.now,
                WorkingDuration::WorkingDays(env.case_rules.publication_working_days),
            ));
        }
        Command::RemindParty { .. } => {
            let n = store::next_counter(conn, &format!("reminder-{year}"))?;
            f.number = Some(format!("催告〔{year}〕{n}号"));
        }
        _ => {}
    }
    if let Command::AddCaseRecord {
        kind: griddispatch_protocol::case::CaseRecordKind::EvidencePreservation,
        ..
    } = cmd
    {
        f.preservation_due_at = Some(env.calendar.add_working(
            env.now,
            WorkingDuration::WorkingDays(env.case_rules.preservation_working_days),
        ));
    }
    let attachments: Vec<String> = match cmd {
        Command::AddCaseRecord { attachment_ids, .. }
        | Command::RecordHearing { attachment_ids, .. } => attachment_ids.clone(),
        Command::ServeDecision {
            receipt_attachment_id: Some(id),
            ..
        } => vec![id.clone()],
        _ => vec![],
    };
    f.foreign_attachments = foreign(conn, &attachments, &issuer.user_id)?;
    Ok(())
}

/// What the rules need to know of a person named as an officer or a hearing host; `squad` is
/// the squad membership to check, if any.
fn officer_fact(
    conn: &mut DbConn,
    env: &Env<'_>,
    id: &str,
    squad: Option<&str>,
) -> Q<Option<OfficerFact>> {
    let Some(u) = users::find(conn, id)? else {
        return Ok(None);
    };
    let roles = users::roles_of(conn, id)?;
    let in_squad = match squad {
        Some(s) => scope::squads_of(conn, id)?.iter().any(|x| x == s),
        None => false,
    };
    Ok(Some(OfficerFact {
        user_id: id.to_owned(),
        is_officer: roles.contains(&Role::Officer),
        certified: certificate_valid(u.cert_valid_until, env.now),
        in_squad,
        active: !u.disabled,
        is_legal_reviewer: roles.contains(&Role::LegalReviewer),
    }))
}

/// The squad a command names, by id or code alike (`gridsync` and the admin API take both).
fn squad(conn: &mut DbConn, f: &mut Facts, id_or_code: &str) -> Q<()> {
    let found = crate::store::grid::find_squad(conn, id_or_code)?;
    f.squad_exists = found.is_some();
    f.squad_id = found.map(|s| s.id);
    Ok(())
}

fn load_task(
    conn: &mut DbConn,
    categories: &mut Categories,
    f: &mut Facts,
    task_id: &str,
) -> Q<()> {
    f.task = store::task(conn, task_id)?;
    if let Some(t) = &f.task {
        f.report = store::report(conn, &t.report_id)?;
        f.category = rules(conn, categories, &t.category_code)?.map(|(r, _)| r);
    }
    Ok(())
}
