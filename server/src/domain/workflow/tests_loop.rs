//! Loose ends of the closed loop (issue 15): re-dispatch, a report with an open case,
//! escalation by hand (督办), the acknowledgement clock (签收).

use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::tests::{actor, facts, id, report, task};
use super::*;

fn case(status: CaseStatus) -> Case {
    Case {
        id: id(3),
        number: None,
        task_id: id(2),
        report_id: id(1),
        status,
        finding: "f".into(),
        issuing_unit: "u".into(),
        suspected_provision: "p".into(),
        evidence_ids: vec![],
        proposed_by: "off1".into(),
        proposed_at: super::tests::now(),
        decided_by: None,
        decided_at: None,
        decline_reason: None,
        procedure: Procedure::default(),
    }
}

#[test]
fn a_returned_task_is_never_redispatched_to_the_same_squad() {
    let mut f = facts(actor("disp", &[Role::Dispatcher]));
    f.task = Some(task(TaskStatus::Returned));
    let same = Command::RedispatchTask {
        task_id: id(2),
        squad_id: "squad-1".into(),
    };
    assert_eq!(decide(&same, &f).unwrap_err().code, "same_squad");
    let other = Command::RedispatchTask {
        task_id: id(2),
        squad_id: "squad-2".into(),
    };
    assert_eq!(
        decide(&other, &f).unwrap().task.unwrap().squad_id,
        "squad-2"
    );
}

#[test]
fn a_report_is_not_closed_while_its_case_is_open() {
    let close = Command::CloseReport { report_id: id(1) };
    let mut f = facts(actor("disp", &[Role::Dispatcher]));
    f.report = Some(report(ReportStatus::Accepted));
    let mut t = task(TaskStatus::Verified);
    t.case_id = Some(id(3));
    f.task = Some(t);
    for open in [
        CaseStatus::Proposed,
        CaseStatus::Filed,
        CaseStatus::Investigating,
        CaseStatus::Decided,
        CaseStatus::Published,
    ] {
        f.case = Some(case(open));
        let e = decide(&close, &f).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidState, "{open:?}");
    }
    for ended in [
        CaseStatus::Declined,
        CaseStatus::Archived,
        CaseStatus::HandedOver,
    ] {
        f.case = Some(case(ended));
        let r = decide(&close, &f).unwrap().report.unwrap();
        assert_eq!(r.status, ReportStatus::Closed, "{ended:?}");
    }
}

#[test]
fn the_squad_closes_a_task_whose_handling_proposed_a_case() {
    let mut f = facts(actor("lead", &[Role::SquadLeader]));
    let mut t = task(TaskStatus::Handled);
    t.case_id = Some(id(3));
    f.task = Some(t);
    f.case = Some(case(CaseStatus::Filed));
    let closed = decide(&Command::CloseTask { task_id: id(2) }, &f)
        .unwrap()
        .task
        .unwrap();
    assert_eq!(closed.status, TaskStatus::Closed);
}

#[test]
fn the_duty_chief_escalates_a_running_task_by_hand_with_a_reason() {
    let escalate = |reason: &str| Command::EscalateTask {
        task_id: id(2),
        reason: reason.into(),
    };
    let mut f = facts(actor("disp", &[Role::Dispatcher, Role::SquadLeader]));
    f.task = Some(task(TaskStatus::OnSite));
    assert_eq!(
        decide(&escalate("拖延"), &f).unwrap_err().kind,
        ErrorKind::Forbidden
    );
    f.actor = actor("chief", &[Role::DutyChief]);
    assert_eq!(
        decide(&escalate(" "), &f).unwrap_err().code,
        "reason_required"
    );
    let t = decide(&escalate("群众反复投诉"), &f).unwrap().task.unwrap();
    assert_eq!(t.escalations.len(), 1);
    assert_eq!(t.escalations[0].by, "chief");
    assert_eq!(t.status, TaskStatus::OnSite, "an escalation moves no state");
    f.task = Some(task(TaskStatus::Verified));
    assert_eq!(
        decide(&escalate("拖延"), &f).unwrap_err().kind,
        ErrorKind::InvalidState
    );
}

#[test]
fn the_acknowledgement_flag_runs_only_while_the_task_waits_and_fires_once() {
    use griddispatch_protocol::command::DeadlineClock;
    let flag = |level: &str| Command::FlagDeadline {
        task_id: id(2),
        level: level.into(),
        clock: DeadlineClock::Acknowledgement,
    };
    let mut f = facts(ActorCtx {
        user_id: "system".into(),
        is_system: true,
        ..ActorCtx::default()
    });
    f.task = Some(task(TaskStatus::Dispatched));
    let t = decide(&flag("yellow"), &f).unwrap().task.unwrap();
    assert!(t.ack_warned_at.is_some());
    assert!(t.warned_at.is_none(), "the handling clock is not flagged");
    f.task = Some(t);
    let t = decide(&flag("red"), &f).unwrap().task.unwrap();
    assert!(t.ack_escalated_at.is_some() && t.escalated_at.is_none());
    f.task = Some(t);
    assert_eq!(
        decide(&flag("red"), &f).unwrap_err().kind,
        ErrorKind::InvalidState
    );
    f.task = Some(task(TaskStatus::Accepted));
    assert_eq!(
        decide(&flag("yellow"), &f).unwrap_err().kind,
        ErrorKind::InvalidState
    );
}

#[test]
fn a_merge_needs_the_same_category_nearby_and_recent() {
    let merge = Command::MergeReport {
        report_id: id(1),
        into_report_id: id(4),
    };
    let mut f = facts(actor("disp", &[Role::Dispatcher]));
    f.report = Some(report(ReportStatus::Reported));
    let target = Report {
        id: id(4),
        ..report(ReportStatus::Accepted)
    };
    f.merge_target = Some(target.clone());
    f.merge_distance_m = Some(150.0);
    assert_eq!(
        decide(&merge, &f).unwrap().report.unwrap().status,
        ReportStatus::Merged
    );
    f.merge_target = Some(Report {
        category_code: "0302".into(),
        ..target.clone()
    });
    assert_eq!(decide(&merge, &f).unwrap_err().code, "not_a_duplicate");
    f.merge_target = Some(target.clone());
    f.merge_distance_m = Some(250.0);
    assert_eq!(decide(&merge, &f).unwrap_err().code, "not_a_duplicate");
    f.merge_rules.max_distance_m = 300.0;
    assert!(decide(&merge, &f).is_ok(), "the distance is configuration");
    f.merge_distance_m = None;
    assert_eq!(decide(&merge, &f).unwrap_err().code, "not_a_duplicate");
    f.merge_distance_m = Some(10.0);
    f.merge_target = Some(Report {
        created_at: target.created_at - chrono::Duration::hours(73),
        ..target
    });
    assert_eq!(decide(&merge, &f).unwrap_err().code, "not_a_duplicate");
}

#[test]
fn a_hotline_report_may_carry_only_an_address_and_is_placed_before_dispatch() {
    use griddispatch_protocol::command::{Position, ReportSource};
    let create = |source: ReportSource, address: Option<&str>| Command::CreateReport {
        report_id: id(5),
        source,
        category_code: "0101".into(),
        description: "来电反映夜间施工噪音".into(),
        position: None,
        attachment_ids: vec![id(9)],
        contact: None,
        occurred_at: None,
        address: address.map(str::to_owned),
    };
    let mut f = facts(actor("disp", &[Role::Dispatcher, Role::GridMember]));
    f.located = None;
    let r = decide(&create(ReportSource::Hotline, Some("人民路 12 号")), &f)
        .unwrap()
        .report
        .unwrap();
    assert!(r.cell.is_none() && r.lat.is_none());
    assert_eq!(r.address.as_deref(), Some("人民路 12 号"));
    assert_eq!(
        decide(&create(ReportSource::Hotline, Some("  ")), &f)
            .unwrap_err()
            .code,
        "position_required"
    );
    assert_eq!(
        decide(&create(ReportSource::GridPatrol, Some("人民路 12 号")), &f)
            .unwrap_err()
            .code,
        "position_required",
        "a patrol report is made on the spot"
    );
    // No dispatch before the report is on the map.
    f.report = Some(r.clone());
    let dispatch = Command::DispatchReport {
        report_id: r.id.clone(),
        task_id: id(6),
        squad_id: "squad-1".into(),
    };
    assert_eq!(decide(&dispatch, &f).unwrap_err().code, "position_required");
    let place = Command::SetReportPosition {
        report_id: r.id.clone(),
        position: Position {
            lat: 35.05,
            lon: 112.5,
            crs: None,
        },
    };
    f.located = Some(Located::Inside(super::tests::cell()));
    f.position_wgs84 = Some((35.05, 112.5));
    let placed = decide(&place, &f).unwrap().report.unwrap();
    assert_eq!(placed.cell, Some(super::tests::cell()));
    assert_eq!(placed.lat, Some(35.05));
    f.report = Some(placed);
    assert!(decide(&dispatch, &f).is_ok());
    f.actor = actor("gm", &[Role::GridMember]);
    assert_eq!(decide(&place, &f).unwrap_err().kind, ErrorKind::Forbidden);
}
