//! Rules tried against their breakers, and a property test over states × commands × roles.

use chrono::{NaiveDate, NaiveDateTime};
use griddispatch_protocol::command::{
    Command, DeadlineClock, Outcome, PartyKind, Penalty, Position, ReportSource,
};
use griddispatch_protocol::Role;
use proptest::prelude::*;

use super::*;

pub(super) const VILLAGE: &str = "419001199201";

pub(super) fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 10)
        .unwrap()
        .and_hms_opt(2, 0, 0)
        .unwrap()
}

pub(super) fn id(n: u8) -> String {
    format!("0190f7a8-8d5e-7c3a-9d6b-2f1e4c5a6b{n:02x}")
}

pub(super) fn actor(user: &str, roles: &[Role]) -> ActorCtx {
    ActorCtx {
        user_id: user.into(),
        roles: roles.to_vec(),
        certified: true,
        villages: vec![VILLAGE.into()],
        squads: vec!["squad-1".into()],
        is_system: false,
    }
}

pub(super) fn cell() -> CellRef {
    CellRef {
        village: VILLAGE.into(),
        area: "419001199A01".into(),
        town: "419001199".into(),
        version: 1,
    }
}

pub(super) fn report(status: ReportStatus) -> Report {
    Report {
        id: id(1),
        source: ReportSource::GridPatrol,
        reporter_id: "gm".into(),
        contact: None,
        category_code: "0101".into(),
        description: "占道经营".into(),
        lat: Some(35.05),
        lon: Some(112.5),
        cell: Some(cell()),
        attachment_ids: vec![id(9)],
        status,
        note: None,
        merged_into: None,
        transferred_to: None,
        task_id: Some(id(2)),
        supplements: vec![],
        transfer: None,
        assistance: vec![],
        transfer_in: None,
        occurred_at: None,
        address: None,
        created_at: now(),
        updated_at: now(),
        finished_at: None,
    }
}

pub(super) fn task(status: TaskStatus) -> Task {
    Task {
        id: id(2),
        report_id: id(1),
        squad_id: "squad-1".into(),
        cell_village: Some(VILLAGE.into()),
        category_code: "0101".into(),
        status,
        officer_ids: vec!["off1".into(), "off2".into()],
        handled_by: matches!(
            status,
            TaskStatus::Handled | TaskStatus::Closed | TaskStatus::Verified
        )
        .then(|| "off1".into()),
        outcome: None,
        outcome_attachment_ids: vec![],
        decision_number: None,
        case_id: None,
        dispatched_at: now(),
        ack_due_at: now(),
        due_at: now(),
        handling_measure: crate::domain::calendar::Measure::Working,
        accepted_at: None,
        arrived_at: None,
        handled_at: None,
        closed_at: None,
        verified_at: None,
        pending_return: None,
        pending_extension: None,
        rework_count: 0,
        return_count: 0,
        extension_count: 0,
        last_recheck: None,
        warned_at: None,
        escalated_at: None,
        ack_warned_at: None,
        ack_escalated_at: None,
        escalations: vec![],
    }
}

pub(super) fn facts(a: ActorCtx) -> Facts {
    Facts {
        actor: a,
        now: Some(now()),
        category: Some(CategoryRules {
            simple_procedure_allowed: true,
            penalty_possible: true,
        }),
        located: Some(Located::Inside(cell())),
        squad_exists: true,
        officers: ["off1", "off2", "uncert", "outsider", "clerk"]
            .iter()
            .map(|u| OfficerFact {
                is_legal_reviewer: false,
                user_id: (*u).into(),
                is_officer: *u != "clerk",
                certified: *u != "uncert",
                in_squad: *u != "outsider",
                active: true,
            })
            .collect(),
        arrival_distance_m: Some(0.0),
        merge_distance_m: Some(0.0),
        due_at: Some(now()),
        ack_due_at: Some(now()),
        number: Some("N-1".into()),
        ..Facts::default()
    }
}

fn penalty(kind: PartyKind, fen: i64) -> Command {
    Command::HandleTask {
        task_id: id(2),
        outcome: Outcome::SimplePenalty {
            party_kind: kind,
            party_name: "张三".into(),
            penalty: Penalty::Fine { amount_fen: fen },
            facts: "占道经营".into(),
            legal_basis: "城市市容和环境卫生管理条例".into(),
        },
        attachment_ids: vec![id(8)],
        case_id: None,
    }
}

fn on_site(f: &mut Facts) {
    f.task = Some(task(TaskStatus::OnSite));
    f.report = Some(report(ReportStatus::Accepted));
}

#[test]
fn a_patrol_report_is_created_in_the_members_cell_with_evidence() {
    let f = facts(actor("gm", &[Role::GridMember]));
    let cmd = Command::CreateReport {
        report_id: id(1),
        source: ReportSource::GridPatrol,
        category_code: "0101".into(),
        description: "占道经营".into(),
        position: Some(Position {
            lat: 35.05,
            lon: 112.5,
            crs: None,
        }),
        attachment_ids: vec![id(9)],
        contact: None,
        occurred_at: None,
        address: None,
    };
    let c = decide(&cmd, &f).unwrap();
    assert_eq!(c.report.unwrap().status, ReportStatus::Reported);
}

#[test]
fn a_patrol_report_without_evidence_or_outside_the_grid_or_the_members_cells_is_refused() {
    let mk = |atts: Vec<String>| Command::CreateReport {
        report_id: id(1),
        source: ReportSource::GridPatrol,
        category_code: "0101".into(),
        description: "x".into(),
        position: Some(Position {
            lat: 35.0,
            lon: 112.0,
            crs: None,
        }),
        attachment_ids: atts,
        contact: None,
        occurred_at: None,
        address: None,
    };
    let f = facts(actor("gm", &[Role::GridMember]));
    assert_eq!(
        decide(&mk(vec![]), &f).unwrap_err().code,
        "attachments_required"
    );
    let mut out = f.clone();
    out.located = Some(Located::Outside {
        nearest: VILLAGE.into(),
        distance_m: 1234.0,
    });
    let e = decide(&mk(vec![id(9)]), &out).unwrap_err();
    assert_eq!(e.code, "outside_grid");
    assert!(e.message.contains(VILLAGE));
    let mut bad = f.clone();
    bad.located = Some(Located::InvalidPoint);
    assert_eq!(
        decide(&mk(vec![id(9)]), &bad).unwrap_err().code,
        "invalid_position"
    );
    let mut other = f.clone();
    other.actor.villages = vec!["419001199202".into()];
    assert_eq!(
        decide(&mk(vec![id(9)]), &other).unwrap_err().kind,
        ErrorKind::OutOfScope
    );
    let mut foreign = f.clone();
    foreign.foreign_attachments = vec![id(9)];
    assert_eq!(
        decide(&mk(vec![id(9)]), &foreign).unwrap_err().kind,
        ErrorKind::OutOfScope
    );
}

#[test]
fn an_uncertified_officer_is_never_assigned_and_never_handles() {
    let mut f = facts(actor("lead", &[Role::SquadLeader]));
    f.task = Some(task(TaskStatus::Dispatched));
    let accept = |ids: &[&str]| Command::AcceptTask {
        task_id: id(2),
        officer_ids: ids.iter().map(|s| (*s).into()).collect(),
    };
    assert_eq!(
        decide(&accept(&["off1", "uncert"]), &f).unwrap_err().code,
        "certificate_required"
    );
    assert_eq!(
        decide(&accept(&["off1", "clerk"]), &f).unwrap_err().code,
        "not_an_officer"
    );
    assert_eq!(
        decide(&accept(&["off1", "outsider"]), &f).unwrap_err().code,
        "not_squad_officer"
    );
    assert_eq!(
        decide(&accept(&["off1", "off2"]), &f)
            .unwrap()
            .task
            .unwrap()
            .status,
        TaskStatus::Accepted
    );

    let mut h = facts(ActorCtx {
        certified: false,
        ..actor("off1", &[Role::Officer])
    });
    on_site(&mut h);
    assert_eq!(
        decide(&penalty(PartyKind::Person, 100), &h)
            .unwrap_err()
            .code,
        "certificate_required"
    );
}

#[test]
fn a_task_that_may_lead_to_a_penalty_needs_two_certified_officers() {
    let mut f = facts(actor("lead", &[Role::SquadLeader]));
    f.task = Some(task(TaskStatus::Dispatched));
    let one = Command::AcceptTask {
        task_id: id(2),
        officer_ids: vec!["off1".into(), "off1".into()],
    };
    assert_eq!(decide(&one, &f).unwrap_err().code, "two_officers_required");
    f.category = Some(CategoryRules {
        simple_procedure_allowed: false,
        penalty_possible: false,
    });
    assert!(
        decide(&one, &f).is_ok(),
        "one officer is enough when no penalty is possible"
    );
}

#[test]
fn simple_procedure_fines_stop_at_200_yuan_for_a_person_and_3000_for_an_organisation() {
    let mut f = facts(actor("off1", &[Role::Officer]));
    on_site(&mut f);
    assert!(decide(&penalty(PartyKind::Person, 20_000), &f).is_ok());
    assert_eq!(
        decide(&penalty(PartyKind::Person, 20_001), &f)
            .unwrap_err()
            .code,
        "penalty_over_limit"
    );
    assert!(decide(&penalty(PartyKind::Organization, 300_000), &f).is_ok());
    assert_eq!(
        decide(&penalty(PartyKind::Organization, 300_001), &f)
            .unwrap_err()
            .code,
        "penalty_over_limit"
    );
    assert_eq!(
        decide(&penalty(PartyKind::Person, 0), &f).unwrap_err().code,
        "invalid_amount"
    );
    let t = decide(&penalty(PartyKind::Person, 5_000), &f)
        .unwrap()
        .task
        .unwrap();
    assert_eq!(t.decision_number.as_deref(), Some("N-1"));
    f.category = Some(CategoryRules {
        simple_procedure_allowed: false,
        penalty_possible: true,
    });
    assert_eq!(
        decide(&penalty(PartyKind::Person, 5_000), &f)
            .unwrap_err()
            .code,
        "simple_procedure_not_allowed"
    );
}

#[test]
fn the_handler_never_rechecks_their_own_work() {
    let recheck = Command::RecheckTask {
        task_id: id(2),
        passed: true,
        note: None,
        attachment_ids: vec![],
    };
    for who in ["off1", "off2"] {
        let mut f = facts(actor(who, &[Role::GridMember, Role::Officer]));
        f.task = Some(task(TaskStatus::Closed));
        assert_eq!(
            decide(&recheck, &f).unwrap_err().code,
            "handler_cannot_recheck",
            "{who}"
        );
    }
    let mut f = facts(actor("gm", &[Role::GridMember]));
    f.task = Some(task(TaskStatus::Closed));
    assert_eq!(
        decide(&recheck, &f).unwrap().task.unwrap().status,
        TaskStatus::Verified
    );
    let fail = Command::RecheckTask {
        task_id: id(2),
        passed: false,
        note: None,
        attachment_ids: vec![],
    };
    assert_eq!(decide(&fail, &f).unwrap_err().code, "note_required");
    let fail = Command::RecheckTask {
        task_id: id(2),
        passed: false,
        note: Some("摊位仍在".into()),
        attachment_ids: vec![],
    };
    let t = decide(&fail, &f).unwrap().task.unwrap();
    assert_eq!((t.status, t.rework_count), (TaskStatus::Rework, 1));
}

#[test]
fn arrival_far_from_the_cell_is_refused() {
    let mut f = facts(actor("off1", &[Role::Officer]));
    f.task = Some(task(TaskStatus::Accepted));
    f.arrival_distance_m = Some(ARRIVAL_TOLERANCE_M + 1.0);
    let arrive = Command::ArriveOnSite {
        task_id: id(2),
        position: Position {
            lat: 0.0,
            lon: 0.0,
            crs: None,
        },
    };
    assert_eq!(decide(&arrive, &f).unwrap_err().code, "arrival_too_far");
    f.arrival_distance_m = Some(10.0);
    assert_eq!(
        decide(&arrive, &f).unwrap().task.unwrap().status,
        TaskStatus::OnSite
    );
}

#[test]
fn an_arrival_made_offline_is_dated_when_the_phone_says_within_dispatch_and_now() {
    let mut f = facts(actor("off1", &[Role::Officer]));
    let t = task(TaskStatus::Accepted);
    let dispatched = t.dispatched_at;
    f.task = Some(t);
    let arrive = Command::ArriveOnSite {
        task_id: id(2),
        position: Position {
            lat: 0.0,
            lon: 0.0,
            crs: None,
        },
    };
    let arrived = |f: &Facts| decide(&arrive, f).unwrap().task.unwrap().arrived_at;
    assert_eq!(arrived(&f), Some(now()), "online: now");
    // The task's dispatch in the fixture is at `now()`: move it an hour back.
    let dispatched = dispatched - chrono::Duration::hours(1);
    f.task.as_mut().unwrap().dispatched_at = dispatched;
    let on_site = now() - chrono::Duration::minutes(40);
    f.occurred_at = Some(on_site);
    assert_eq!(arrived(&f), Some(on_site), "offline: when the phone says");
    f.occurred_at = Some(now() + chrono::Duration::hours(3));
    assert_eq!(arrived(&f), Some(now()), "never in the future");
    f.occurred_at = Some(dispatched - chrono::Duration::days(2));
    assert_eq!(arrived(&f), Some(dispatched), "never before the dispatch");
}

#[test]
fn rectification_needs_before_and_after_photos_and_a_case_needs_evidence() {
    let mut f = facts(actor("off1", &[Role::Officer]));
    on_site(&mut f);
    let rect = |n| Command::HandleTask {
        task_id: id(2),
        outcome: Outcome::Rectified {
            note: "已清理".into(),
        },
        attachment_ids: (0..n).map(id).collect(),
        case_id: None,
    };
    assert_eq!(
        decide(&rect(1), &f).unwrap_err().code,
        "attachments_required"
    );
    assert!(decide(&rect(2), &f).is_ok());
    let case = |atts: Vec<String>| Command::HandleTask {
        task_id: id(2),
        outcome: Outcome::CaseNeeded {
            finding: "违法建设".into(),
            issuing_unit: "自然资源所".into(),
            suspected_provision: "城乡规划法第六十四条".into(),
        },
        attachment_ids: atts,
        case_id: Some(id(3)),
    };
    assert_eq!(
        decide(&case(vec![]), &f).unwrap_err().code,
        "attachments_required"
    );
    let c = decide(&case(vec![id(7)]), &f).unwrap();
    let proposal = c.case.unwrap();
    assert_eq!(proposal.status, CaseStatus::Proposed);
    assert!(
        proposal.evidence_ids.contains(&id(9)),
        "report evidence joins the case"
    );
    assert_eq!(c.task.unwrap().case_id, Some(id(3)));
}

#[test]
fn only_an_approver_files_or_declines_a_case() {
    let proposal = Case {
        id: id(3),
        number: None,
        task_id: id(2),
        report_id: id(1),
        status: CaseStatus::Proposed,
        finding: "f".into(),
        issuing_unit: "u".into(),
        suspected_provision: "p".into(),
        evidence_ids: vec![],
        proposed_by: "off1".into(),
        proposed_at: now(),
        decided_by: None,
        decided_at: None,
        decline_reason: None,
        procedure: Default::default(),
    };
    let mut f = facts(actor("disp", &[Role::Dispatcher, Role::LegalReviewer]));
    f.case = Some(proposal.clone());
    let file = Command::FileCase { case_id: id(3) };
    assert_eq!(decide(&file, &f).unwrap_err().kind, ErrorKind::Forbidden);
    f.actor = actor("boss", &[Role::Approver]);
    let filed = decide(&file, &f).unwrap().case.unwrap();
    assert_eq!(
        (filed.status, filed.number.as_deref()),
        (CaseStatus::Filed, Some("N-1"))
    );
    f.case = Some(filed);
    assert_eq!(decide(&file, &f).unwrap_err().kind, ErrorKind::InvalidState);
    f.case = Some(proposal);
    let decline = Command::DeclineCase {
        case_id: id(3),
        reason: " ".into(),
    };
    assert_eq!(decide(&decline, &f).unwrap_err().code, "reason_required");
}

#[test]
fn deadline_flags_come_only_from_the_system_and_fire_once() {
    let flag = Command::FlagDeadline {
        task_id: id(2),
        level: "red".into(),
        clock: DeadlineClock::Handling,
    };
    let mut f = facts(actor("chief", &[Role::DutyChief, Role::Admin]));
    f.task = Some(task(TaskStatus::Accepted));
    assert_eq!(decide(&flag, &f).unwrap_err().kind, ErrorKind::Forbidden);
    f.actor = ActorCtx {
        user_id: "system".into(),
        is_system: true,
        ..ActorCtx::default()
    };
    let t = decide(&flag, &f).unwrap().task.unwrap();
    assert!(t.escalated_at.is_some() && t.warned_at.is_some());
    f.task = Some(t);
    assert_eq!(decide(&flag, &f).unwrap_err().kind, ErrorKind::InvalidState);
}

// ---- property test: states × commands × roles ----

/// Who may issue each command at all (independent of state and scope): the specification
/// the property test holds `decide` to.
fn allowed_roles(cmd: &Command) -> Vec<Role> {
    match cmd {
        Command::CreateReport { source, .. } => match source {
            ReportSource::GridPatrol => vec![Role::GridMember],
            ReportSource::Department => vec![Role::DepartmentLiaison],
            _ => vec![Role::Dispatcher],
        },
        Command::RequestInfo { .. }
        | Command::SetReportPosition { .. }
        | Command::RejectReport { .. }
        | Command::MergeReport { .. }
        | Command::TransferReport { .. }
        | Command::DispatchReport { .. }
        | Command::RedispatchTask { .. }
        | Command::CloseReport { .. } => vec![Role::Dispatcher],
        // The reporter, whatever their role.
        Command::SupplementReport { .. } => Role::ALL.to_vec(),
        Command::AcceptTask { .. }
        | Command::RequestReturn { .. }
        | Command::CloseTask { .. }
        | Command::RequestExtension { .. } => vec![Role::SquadLeader],
        Command::DecideReturn { .. }
        | Command::DecideExtension { .. }
        | Command::EscalateTask { .. } => vec![Role::DutyChief],
        Command::ArriveOnSite { .. } | Command::HandleTask { .. } => vec![Role::Officer],
        Command::RecheckTask { .. } => vec![Role::GridMember],
        Command::FileCase { .. } | Command::DeclineCase { .. } => vec![Role::Approver],
        Command::FlagDeadline { .. } => vec![],
        other => super::tests_case::allowed_roles(other),
    }
}

/// From which task states each task command may succeed.
fn allowed_task_states(cmd: &Command) -> Option<Vec<TaskStatus>> {
    use TaskStatus::*;
    Some(match cmd {
        Command::AcceptTask { .. } | Command::RequestReturn { .. } => vec![Dispatched],
        Command::DecideReturn { .. } => vec![ReturnRequested],
        Command::RedispatchTask { .. } => vec![Returned],
        Command::ArriveOnSite { .. } => vec![Accepted, Rework],
        Command::HandleTask { .. } => vec![OnSite],
        Command::CloseTask { .. } => vec![Handled],
        Command::RecheckTask { .. } => vec![Closed],
        Command::RequestExtension { .. } => vec![Dispatched, Accepted, OnSite, Rework],
        Command::EscalateTask { .. } => vec![Dispatched, ReturnRequested, Accepted, OnSite, Rework],
        _ => return None,
    })
}

fn allowed_report_states(cmd: &Command) -> Option<Vec<ReportStatus>> {
    use ReportStatus::*;
    Some(match cmd {
        Command::RequestInfo { .. } => vec![Reported],
        Command::SupplementReport { .. } => vec![NeedsInfo],
        Command::RejectReport { .. }
        | Command::MergeReport { .. }
        | Command::TransferReport { .. }
        | Command::SetReportPosition { .. }
        | Command::DispatchReport { .. } => {
            vec![Reported, NeedsInfo]
        }
        Command::CloseReport { .. } => vec![Accepted],
        _ => return None,
    })
}

pub(super) fn all_commands() -> Vec<Command> {
    let pos = Position {
        lat: 35.0,
        lon: 112.0,
        crs: None,
    };
    vec![
        Command::CreateReport {
            report_id: id(5),
            source: ReportSource::GridPatrol,
            category_code: "0101".into(),
            description: "d".into(),
            position: Some(pos.clone()),
            attachment_ids: vec![id(9)],
            contact: None,
            occurred_at: None,
            address: None,
        },
        Command::CreateReport {
            report_id: id(5),
            source: ReportSource::Hotline,
            category_code: "0101".into(),
            description: "d".into(),
            position: Some(pos.clone()),
            attachment_ids: vec![],
            contact: None,
            occurred_at: None,
            address: None,
        },
        Command::CreateReport {
            report_id: id(5),
            source: ReportSource::Department,
            category_code: "0101".into(),
            description: "d".into(),
            position: Some(pos.clone()),
            attachment_ids: vec![],
            contact: None,
            occurred_at: None,
            address: None,
        },
        Command::SetReportPosition {
            report_id: id(1),
            position: pos.clone(),
        },
        Command::RequestInfo {
            report_id: id(1),
            question: "q".into(),
        },
        Command::SupplementReport {
            report_id: id(1),
            note: "n".into(),
            attachment_ids: vec![],
        },
        Command::RejectReport {
            report_id: id(1),
            reason: "r".into(),
        },
        Command::MergeReport {
            report_id: id(1),
            into_report_id: id(4),
        },
        Command::TransferReport {
            report_id: id(1),
            department: "d".into(),
            reason: "r".into(),
        },
        Command::DispatchReport {
            report_id: id(1),
            task_id: id(6),
            squad_id: "squad-1".into(),
        },
        Command::AcceptTask {
            task_id: id(2),
            officer_ids: vec!["off1".into(), "off2".into()],
        },
        Command::RequestReturn {
            task_id: id(2),
            reason: "r".into(),
        },
        Command::DecideReturn {
            task_id: id(2),
            approve: true,
            note: None,
        },
        Command::RedispatchTask {
            task_id: id(2),
            squad_id: "squad-2".into(),
        },
        Command::ArriveOnSite {
            task_id: id(2),
            position: pos,
        },
        Command::HandleTask {
            task_id: id(2),
            outcome: Outcome::NoViolation { reply: "r".into() },
            attachment_ids: vec![],
            case_id: None,
        },
        penalty(PartyKind::Person, 10_000),
        Command::CloseTask { task_id: id(2) },
        Command::RecheckTask {
            task_id: id(2),
            passed: true,
            note: None,
            attachment_ids: vec![],
        },
        Command::RequestExtension {
            task_id: id(2),
            extra_hours: 8,
            reason: "r".into(),
        },
        Command::DecideExtension {
            task_id: id(2),
            approve: true,
        },
        Command::CloseReport { report_id: id(1) },
        Command::FileCase { case_id: id(3) },
        Command::DeclineCase {
            case_id: id(3),
            reason: "r".into(),
        },
        Command::FlagDeadline {
            task_id: id(2),
            level: "red".into(),
            clock: DeadlineClock::Handling,
        },
        Command::EscalateTask {
            task_id: id(2),
            reason: "群众反复投诉".into(),
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn no_command_succeeds_for_a_role_or_from_a_state_the_rules_do_not_allow(
        cmd_i in 0usize..26,
        rstate in 0usize..7,
        tstate in 0usize..9,
        role_bits in 1u16..1024,
        user_i in 0usize..3,
        pending_ext in any::<bool>(),
    ) {
        let cmds = all_commands();
        let cmd = &cmds[cmd_i % cmds.len()];
        let roles: Vec<Role> = Role::ALL.iter().enumerate().filter(|(i, _)| role_bits & (1 << i) != 0).map(|(_, r)| *r).collect();
        let user = ["gm", "off1", "someone"][user_i];
        let reporter = user == "gm";
        let mut f = facts(actor(user, &roles));
        let rs = ReportStatus::ALL[rstate];
        let ts = TaskStatus::ALL[tstate];
        f.report = Some(report(rs));
        let mut t = task(ts);
        if pending_ext {
            t.pending_extension = Some(PendingRequest { reason: "r".into(), by: "lead".into(), at: now(), extra_hours: Some(8) });
        }
        f.task = Some(t);
        f.merge_target = Some(Report { id: id(4), ..report(ReportStatus::Reported) });
        f.case = Some(Case { id: id(3), number: None, task_id: id(2), report_id: id(1), status: CaseStatus::Proposed, finding: "f".into(), issuing_unit: "u".into(), suspected_provision: "p".into(), evidence_ids: vec![], proposed_by: "x".into(), proposed_at: now(), decided_by: None, decided_at: None, decline_reason: None, procedure: Default::default() });
        if let Ok(change) = decide(cmd, &f) {
            let allowed = allowed_roles(cmd);
            prop_assert!(allowed.iter().any(|r| roles.contains(r)), "{} succeeded for roles {:?}", cmd.name(), roles);
            if let Some(states) = allowed_task_states(cmd) {
                prop_assert!(states.contains(&ts), "{} succeeded from task state {:?}", cmd.name(), ts);
            }
            if let Some(states) = allowed_report_states(cmd) {
                prop_assert!(states.contains(&rs), "{} succeeded from report state {:?}", cmd.name(), rs);
            }
            if matches!(cmd, Command::SupplementReport { .. }) {
                prop_assert!(reporter, "only the reporter supplements");
            }
            if matches!(cmd, Command::CloseReport { .. }) {
                prop_assert_eq!(ts, TaskStatus::Verified);
            }
            if matches!(cmd, Command::DecideExtension { .. }) {
                prop_assert!(pending_ext);
            }
            // A command on a task changes that task and no other.
            if let (Some(t), Some(before)) = (&change.task, &f.task) {
                if !matches!(cmd, Command::DispatchReport { .. }) {
                    prop_assert_eq!(&t.id, &before.id);
                }
            }
        }
    }
}

#[test]
fn every_command_succeeds_for_its_role_from_some_allowed_state() {
    // Keeps the property test honest: it must not pass merely because nothing ever succeeds.
    for cmd in all_commands() {
        let mut ok = false;
        for rs in ReportStatus::ALL {
            for ts in TaskStatus::ALL {
                for pending in [false, true] {
                    let roles = if matches!(cmd, Command::FlagDeadline { .. }) {
                        vec![]
                    } else {
                        allowed_roles(&cmd)
                    };
                    let mut f = facts(actor("gm", &roles));
                    f.actor.is_system = matches!(cmd, Command::FlagDeadline { .. });
                    f.report = Some(report(rs));
                    let mut t = task(ts);
                    if pending {
                        t.pending_extension = Some(PendingRequest {
                            reason: "r".into(),
                            by: "l".into(),
                            at: now(),
                            extra_hours: Some(8),
                        });
                    }
                    f.task = Some(t);
                    f.merge_target = Some(Report {
                        id: id(4),
                        ..report(ReportStatus::Reported)
                    });
                    f.case = Some(Case {
                        id: id(3),
                        number: None,
                        task_id: id(2),
                        report_id: id(1),
                        status: CaseStatus::Proposed,
                        finding: "f".into(),
                        issuing_unit: "u".into(),
                        suspected_provision: "p".into(),
                        evidence_ids: vec![],
                        proposed_by: "x".into(),
                        proposed_at: now(),
                        decided_by: None,
                        decided_at: None,
                        decline_reason: None,
                        procedure: Default::default(),
                    });
                    if matches!(cmd, Command::RecheckTask { .. }) {
                        f.actor.user_id = "checker".into();
                    }
                    if matches!(
                        cmd,
                        Command::ArriveOnSite { .. } | Command::HandleTask { .. }
                    ) {
                        f.actor.user_id = "off1".into();
                    }
                    ok |= decide(&cmd, &f).is_ok();
                }
            }
        }
        assert!(ok, "{} never succeeds", cmd.name());
    }
}
