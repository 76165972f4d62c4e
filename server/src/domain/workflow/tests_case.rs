//! The general procedure's rules tried against their breakers (行政处罚法 2021; seeds 002,
//! 003), and a property test over case states × case commands × roles.

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use griddispatch_protocol::case::{
    CaseDecision, CaseRecordKind, Party, PaymentChannel, PreservationMeasure, Sanction,
    SanctionKind, ServiceMethod,
};
use griddispatch_protocol::command::{Command, PartyKind};
use griddispatch_protocol::Role;
use proptest::prelude::*;

use super::*;

const CASE: &str = "0190f7a8-8d5e-7c3a-9d6b-2f1e4c5a6b03";
const RECORD: &str = "0190f7a8-8d5e-7c3a-9d6b-2f1e4c5a6b0a";

pub(super) fn t0() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(1, 0, 0)
        .unwrap()
}

fn person(user: &str, roles: &[Role]) -> ActorCtx {
    ActorCtx {
        user_id: user.into(),
        roles: roles.to_vec(),
        certified: true,
        villages: vec![],
        squads: vec![],
        is_system: false,
    }
}

fn officer(id: &str, certified: bool) -> OfficerFact {
    OfficerFact {
        user_id: id.into(),
        is_officer: true,
        certified,
        in_squad: true,
        active: true,
        is_legal_reviewer: false,
    }
}

fn fine(fen: i64) -> Sanction {
    Sanction {
        kind: SanctionKind::Fine,
        amount_fen: Some(fen),
    }
}

fn filed() -> Case {
    Case {
        id: CASE.into(),
        number: Some("立〔2026〕1号".into()),
        task_id: "task".into(),
        report_id: "report".into(),
        status: CaseStatus::Filed,
        finding: "未取得规划许可建设".into(),
        issuing_unit: "自然资源所".into(),
        suspected_provision: "城乡规划法第六十四条".into(),
        evidence_ids: vec![],
        proposed_by: "off1".into(),
        proposed_at: t0(),
        decided_by: Some("boss".into()),
        decided_at: Some(t0()),
        decline_reason: None,
        procedure: Procedure {
            filed_at: Some(t0()),
            decision_due_at: Some(t0() + Duration::days(90)),
            ..Procedure::default()
        },
    }
}

/// Facts for `user` acting on `case` at `now`, with the usual people known.
pub(super) fn facts(user: &str, roles: &[Role], case: &Case, now: NaiveDateTime) -> Facts {
    Facts {
        actor: person(user, roles),
        now: Some(now),
        case: Some(case.clone()),
        officers: vec![
            officer("off1", true),
            officer("off2", true),
            officer("old", false),
        ],
        host: Some(OfficerFact {
            is_legal_reviewer: true,
            is_officer: false,
            certified: false,
            ..officer("legal", false)
        }),
        number: Some("罚决〔2026〕1号".into()),
        publish_due_at: Some(now + Duration::days(9)),
        preservation_due_at: Some(now + Duration::days(9)),
        case_due: CaseDue::from_calendar(&calendar(), &CaseRules::default(), now),
        department: Some(dept("police-1", "police")),
        copy_department: Some(dept("proc-1", "procuratorate")),
        ..Facts::default()
    }
}

/// A UTC instant (China time is UTC+8: 01:00 UTC is 09:00, 10:00 UTC is closing time 18:00).
pub(super) fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap()
}

/// The official working-day calendar (2025–2026 holidays).
pub(super) fn calendar() -> crate::domain::calendar::WorkCalendar {
    crate::domain::calendar::WorkCalendar::official().expect("bundled calendar")
}

fn dept(id: &str, kind: &str) -> crate::domain::workflow::DepartmentFact {
    crate::domain::workflow::DepartmentFact {
        id: id.into(),
        name: format!("{kind} {id}"),
        kind: kind.into(),
        active: true,
    }
}

/// Run `cmd` and return the case, or the refusal's code.
fn run(
    user: &str,
    roles: &[Role],
    case: &Case,
    now: NaiveDateTime,
    cmd: Command,
) -> Result<Case, &'static str> {
    decide(&cmd, &facts(user, roles, case, now))
        .map(|c| c.case.expect("a case command changes the case"))
        .map_err(|e| e.code)
}

const BOSS: (&str, &[Role]) = ("boss", &[Role::Approver]);
const OFF1: (&str, &[Role]) = ("off1", &[Role::Officer]);
const LEGAL: (&str, &[Role]) = ("legal", &[Role::LegalReviewer]);

fn investigate(officers: &[&str]) -> Command {
    Command::StartInvestigation {
        case_id: CASE.into(),
        officer_ids: officers.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn record(officers: &[&str], shown: bool) -> Command {
    Command::AddCaseRecord {
        case_id: CASE.into(),
        record_id: RECORD.into(),
        kind: CaseRecordKind::Inquiry,
        officer_ids: officers.iter().map(|s| (*s).to_owned()).collect(),
        certificates_shown: shown,
        content: "询问当事人李某，承认未办理规划许可".into(),
        attachment_ids: vec![],
    }
}

fn notify(sanctions: Vec<Sanction>) -> Command {
    Command::NotifyParty {
        case_id: CASE.into(),
        party: Party {
            kind: PartyKind::Person,
            name: "李某".into(),
            id_number: Some("410881199001011234".into()),
            address: None,
        },
        facts: "未取得建设工程规划许可证建设房屋".into(),
        legal_basis: "城乡规划法第六十四条".into(),
        sanctions,
    }
}

fn penalty(sanctions: Vec<Sanction>) -> Command {
    Command::DecideCase {
        case_id: CASE.into(),
        decision: CaseDecision::Penalty {
            sanctions,
            facts: "未取得建设工程规划许可证建设房屋".into(),
            legal_basis: "城乡规划法第六十四条".into(),
            discretion: "一般情节，按裁量基准第二档".into(),
            statements_answer: "当事人未提出陈述申辩".into(),
        },
    }
}

fn simple(case_id: &str) -> Command {
    Command::SubmitForReview {
        case_id: case_id.into(),
    }
}

fn review(passed: bool) -> Command {
    Command::ReviewCase {
        case_id: CASE.into(),
        passed,
        opinion: "事实清楚，证据确凿，程序合法".into(),
    }
}

/// A case investigated by off1 and off2, one record, notified of `sanctions` at t0.
fn notified(sanctions: Vec<Sanction>) -> Case {
    let c = run(
        BOSS.0,
        BOSS.1,
        &filed(),
        t0(),
        investigate(&["off1", "off2"]),
    )
    .unwrap();
    let c = run(OFF1.0, OFF1.1, &c, t0(), record(&["off1", "off2"], true)).unwrap();
    run(OFF1.0, OFF1.1, &c, t0(), notify(sanctions)).unwrap()
}

/// A notified case past its statement period, reviewed and passed.
fn reviewed(sanctions: Vec<Sanction>) -> (Case, NaiveDateTime) {
    let c = notified(sanctions);
    let later = t0() + Duration::days(6);
    let c = run(OFF1.0, OFF1.1, &c, later, simple(CASE)).unwrap();
    (
        run(LEGAL.0, LEGAL.1, &c, later, review(true)).unwrap(),
        later,
    )
}

#[test]
fn investigation_needs_two_distinct_officers_with_valid_certificates() {
    let c = filed();
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, t0(), investigate(&["off1"])).err(),
        Some("two_officers_required")
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, t0(), investigate(&["off1", "off1"])).err(),
        Some("two_officers_required")
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, t0(), investigate(&["off1", "old"])).err(),
        Some("certificate_required")
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, t0(), investigate(&["off1", "nobody"])).err(),
        Some("not_an_officer")
    );
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0(), investigate(&["off1", "off2"])).err(),
        Some("forbidden")
    );
    let c = run(BOSS.0, BOSS.1, &c, t0(), investigate(&["off1", "off2"])).unwrap();
    assert_eq!(c.status, CaseStatus::Investigating);
    assert_eq!(c.procedure.investigators, vec!["off1", "off2"]);
}

#[test]
fn a_record_is_made_by_two_investigators_who_showed_their_certificates() {
    let c = run(
        BOSS.0,
        BOSS.1,
        &filed(),
        t0(),
        investigate(&["off1", "off2"]),
    )
    .unwrap();
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0(), record(&["off1"], true)).err(),
        Some("two_officers_required")
    );
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0(), record(&["off1", "off2"], false)).err(),
        Some("certificate_not_shown")
    );
    // An officer who is not on the case cannot write its records.
    assert_eq!(
        run(
            "off3",
            &[Role::Officer],
            &c,
            t0(),
            record(&["off1", "off2"], true)
        )
        .err(),
        Some("out_of_scope")
    );
    let mut uncertified = facts(OFF1.0, OFF1.1, &c, t0());
    uncertified.actor.certified = false;
    assert_eq!(
        decide(&record(&["off1", "off2"], true), &uncertified)
            .err()
            .map(|e| e.code),
        Some("certificate_required")
    );
    let c = run(OFF1.0, OFF1.1, &c, t0(), record(&["off1", "off2"], true)).unwrap();
    assert_eq!(c.procedure.records.len(), 1);
}

#[test]
fn no_notice_without_an_investigation_record_and_no_review_without_a_notice() {
    let c = run(
        BOSS.0,
        BOSS.1,
        &filed(),
        t0(),
        investigate(&["off1", "off2"]),
    )
    .unwrap();
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0(), notify(vec![fine(50_000)])).err(),
        Some("investigation_required")
    );
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0(), simple(CASE)).err(),
        Some("invalid_state")
    );
    let n = notified(vec![fine(50_000)]);
    assert_eq!(n.status, CaseStatus::Notified);
    assert!(!n.procedure.notice.as_ref().unwrap().hearing_right);
}

#[test]
fn a_hearing_is_asked_for_within_five_days_and_only_where_the_penalty_qualifies() {
    let small = notified(vec![fine(50_000)]);
    let ask = Command::RequestHearing {
        case_id: CASE.into(),
    };
    assert_eq!(
        run(OFF1.0, OFF1.1, &small, t0(), ask.clone()).err(),
        Some("hearing_not_available")
    );
    let large = notified(vec![fine(2_000_000)]);
    assert!(large.procedure.notice.as_ref().unwrap().hearing_right);
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &large,
            utc(2026, 12, 8, 10, 0) + Duration::seconds(1),
            ask.clone()
        )
        .err(),
        Some("hearing_request_late")
    );
    // Five working days from Tuesday 1 December end on Tuesday 8 December at closing time (art.
    // 85): on Monday the 7th, six calendar days on, the party may still ask.
    let c = run(OFF1.0, OFF1.1, &large, utc(2026, 12, 7, 1, 0), ask).unwrap();
    assert_eq!(c.status, CaseStatus::Hearing);
}

#[test]
fn the_hearing_is_noticed_seven_days_ahead_and_hosted_by_someone_who_did_not_investigate() {
    let c = run(
        OFF1.0,
        OFF1.1,
        &notified(vec![fine(2_000_000)]),
        t0(),
        Command::RequestHearing {
            case_id: CASE.into(),
        },
    )
    .unwrap();
    let schedule = |host: &str, days: i64, public: bool| Command::ScheduleHearing {
        case_id: CASE.into(),
        host_id: host.into(),
        hearing_at: Utc.from_utc_datetime(&(t0() + Duration::days(days))),
        public,
        not_public_reason: None,
    };
    // Eight calendar days are not seven working days (Tuesday 1 → Thursday 10 December).
    assert_eq!(
        run(LEGAL.0, LEGAL.1, &c, t0(), schedule("legal", 8, true)).err(),
        Some("hearing_notice_too_short")
    );
    assert_eq!(
        run(LEGAL.0, LEGAL.1, &c, t0(), schedule("off1", 10, true)).err(),
        Some("host_investigated")
    );
    assert_eq!(
        run(LEGAL.0, LEGAL.1, &c, t0(), schedule("stranger", 10, true)).err(),
        Some("host_not_qualified")
    );
    assert_eq!(
        run(LEGAL.0, LEGAL.1, &c, t0(), schedule("legal", 10, false)).err(),
        Some("reason_required")
    );
    let c = run(LEGAL.0, LEGAL.1, &c, t0(), schedule("legal", 10, true)).unwrap();
    // The case cannot go to review before the hearing is held, nor be recorded before its day.
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0() + Duration::days(6), simple(CASE)).err(),
        Some("hearing_pending")
    );
    let held = Command::RecordHearing {
        case_id: CASE.into(),
        record: "听证笔录：当事人陈述……".into(),
        attachment_ids: vec![],
    };
    assert_eq!(
        run(LEGAL.0, LEGAL.1, &c, t0() + Duration::days(9), held.clone()).err(),
        Some("hearing_not_yet")
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, t0() + Duration::days(10), held.clone()).err(),
        Some("out_of_scope")
    );
    let c = run(LEGAL.0, LEGAL.1, &c, t0() + Duration::days(10), held).unwrap();
    let c = run(OFF1.0, OFF1.1, &c, t0() + Duration::days(10), simple(CASE)).unwrap();
    assert_eq!(c.status, CaseStatus::LegalReview);
}

#[test]
fn the_party_keeps_the_statement_period_unless_they_waive_it() {
    let c = notified(vec![fine(50_000)]);
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, t0() + Duration::days(1), simple(CASE)).err(),
        Some("statement_period_open")
    );
    let waived = Command::RecordStatement {
        case_id: CASE.into(),
        content: "无异议，放弃陈述申辩".into(),
        waived: true,
    };
    let c = run(OFF1.0, OFF1.1, &c, t0() + Duration::days(1), waived).unwrap();
    assert!(run(OFF1.0, OFF1.1, &c, t0() + Duration::days(1), simple(CASE)).is_ok());
}

#[test]
fn no_decision_without_a_passed_review_by_someone_who_did_not_investigate() {
    let c = notified(vec![fine(50_000)]);
    let later = t0() + Duration::days(6);
    let c = run(OFF1.0, OFF1.1, &c, later, simple(CASE)).unwrap();
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, later, penalty(vec![fine(50_000)])).err(),
        Some("legal_review_required")
    );
    // off1 also holds the legal reviewer role, but investigated the case.
    assert_eq!(
        run(
            "off1",
            &[Role::Officer, Role::LegalReviewer],
            &c,
            later,
            review(true)
        )
        .err(),
        Some("reviewer_investigated")
    );
    // Sent back with opinions: investigation again, and still no decision.
    let back = run(LEGAL.0, LEGAL.1, &c, later, review(false)).unwrap();
    assert_eq!(back.status, CaseStatus::Investigating);
    assert_eq!(
        run(BOSS.0, BOSS.1, &back, later, penalty(vec![fine(50_000)])).err(),
        Some("invalid_state")
    );
    let passed = run(LEGAL.0, LEGAL.1, &c, later, review(true)).unwrap();
    let decided = run(BOSS.0, BOSS.1, &passed, later, penalty(vec![fine(50_000)])).unwrap();
    assert_eq!(decided.status, CaseStatus::Decided);
    assert_eq!(
        decided.procedure.decision.as_ref().unwrap().number,
        "罚决〔2026〕1号"
    );
}

#[test]
fn a_major_case_is_decided_after_a_collective_discussion() {
    let c = run(
        OFF1.0,
        OFF1.1,
        &notified(vec![Sanction {
            kind: SanctionKind::RevokeLicence,
            amount_fen: None,
        }]),
        t0() + Duration::days(8),
        simple(CASE),
    )
    .unwrap();
    let c = run(LEGAL.0, LEGAL.1, &c, t0() + Duration::days(8), review(true)).unwrap();
    let revoke = penalty(vec![Sanction {
        kind: SanctionKind::RevokeLicence,
        amount_fen: None,
    }]);
    let later = t0() + Duration::days(9);
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, later, revoke.clone()).err(),
        Some("collective_discussion_required")
    );
    let two = Command::RecordDiscussion {
        case_id: CASE.into(),
        participants: vec!["镇长".into(), "副镇长".into()],
        minutes: "m".into(),
        conclusion: "吊销".into(),
    };
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, later, two).err(),
        Some("participants_required")
    );
    let three = Command::RecordDiscussion {
        case_id: CASE.into(),
        participants: vec!["镇长".into(), "副镇长".into(), "大队长".into()],
        minutes: "讨论记录".into(),
        conclusion: "同意吊销".into(),
    };
    let c = run(BOSS.0, BOSS.1, &c, later, three).unwrap();
    assert!(run(BOSS.0, BOSS.1, &c, later, revoke).is_ok());
}

#[test]
fn the_decision_comes_within_ninety_days_of_filing_unless_extended() {
    let (c, _) = reviewed(vec![fine(50_000)]);
    let late = t0() + Duration::days(91);
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, late, penalty(vec![fine(50_000)])).err(),
        Some("case_deadline_passed")
    );
    let extend = |days| Command::ExtendCaseDeadline {
        case_id: CASE.into(),
        days,
        reason: "案情复杂，需鉴定".into(),
    };
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, late, extend(31)).err(),
        Some("invalid_extension")
    );
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, late, extend(30)).err(),
        Some("forbidden")
    );
    let c = run(BOSS.0, BOSS.1, &c, late, extend(30)).unwrap();
    assert!(run(BOSS.0, BOSS.1, &c, late, penalty(vec![fine(50_000)])).is_ok());
}

#[test]
fn the_decision_is_never_heavier_than_the_notice() {
    let (c, at) = reviewed(vec![fine(50_000)]);
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, at, penalty(vec![fine(50_001)])).err(),
        Some("heavier_than_notified")
    );
    let added = vec![
        fine(50_000),
        Sanction {
            kind: SanctionKind::Confiscation,
            amount_fen: Some(100),
        },
    ];
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, at, penalty(added)).err(),
        Some("heavier_than_notified")
    );
    assert!(run(BOSS.0, BOSS.1, &c, at, penalty(vec![fine(30_000)])).is_ok());
}

#[test]
fn after_a_hand_over_to_police_no_penalty_may_follow() {
    let (c, at) = reviewed(vec![fine(50_000)]);
    let hand = Command::HandOverToPolice {
        case_id: CASE.into(),
        reason: "涉嫌非法占用农用地罪".into(),
        police_department_id: "police-1".into(),
        procuratorate_department_id: "proc-1".into(),
    };
    let c = run(BOSS.0, BOSS.1, &c, at, hand.clone()).unwrap();
    assert_eq!(c.status, CaseStatus::HandedOver);
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, at, penalty(vec![fine(50_000)])).err(),
        Some("handed_to_police")
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, at, hand).err(),
        Some("invalid_state")
    );
}

#[test]
fn a_hand_over_proposal_waits_for_the_approver_and_holds_back_the_decision() {
    let (c, at) = reviewed(vec![fine(50_000)]);
    let propose = |reason: &str| Command::ProposeHandOver {
        case_id: CASE.into(),
        reason: reason.into(),
    };
    let refuse = |reason: &str| Command::RefuseHandOver {
        case_id: CASE.into(),
        reason: reason.into(),
    };
    // The legal reviewer is not the case's officer; an empty reason is no proposal.
    assert_eq!(
        run(LEGAL.0, LEGAL.1, &c, at, propose("涉嫌犯罪")).err(),
        Some("forbidden")
    );
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, at, propose(" ")).err(),
        Some("reason_required")
    );
    let waiting = run(OFF1.0, OFF1.1, &c, at, propose("涉嫌非法占用农用地罪")).unwrap();
    assert_eq!(waiting.status, CaseStatus::LegalReview);
    let clocks = super::procedure::running_clocks(&waiting, &CaseRules::default());
    let approval = clocks
        .iter()
        .find(|r| r.clock == "hand_over_approval")
        .expect("the approval clock runs");
    assert_eq!(approval.due, at + Duration::days(3));
    // No decision while it waits, not even no-penalty; a second proposal waits for the first.
    assert_eq!(
        run(BOSS.0, BOSS.1, &waiting, at, penalty(vec![fine(50_000)])).err(),
        Some("hand_over_pending")
    );
    assert_eq!(
        run(OFF1.0, OFF1.1, &waiting, at, propose("再次")).err(),
        Some("invalid_state")
    );
    // Only the approver refuses, and with a reason.
    assert_eq!(
        run(OFF1.0, OFF1.1, &waiting, at, refuse("不构成犯罪")).err(),
        Some("forbidden")
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &waiting, at, refuse("")).err(),
        Some("reason_required")
    );
    let refused = run(BOSS.0, BOSS.1, &waiting, at, refuse("不构成犯罪")).unwrap();
    assert!(
        super::procedure::running_clocks(&refused, &CaseRules::default())
            .iter()
            .all(|r| r.clock != "hand_over_approval")
    );
    assert!(run(BOSS.0, BOSS.1, &refused, at, penalty(vec![fine(50_000)])).is_ok());
}

#[test]
fn a_hand_over_goes_to_police_with_a_copy_to_the_procuratorate_and_may_come_back() {
    use griddispatch_protocol::agency::HandOverAnswer;
    let (c, at) = reviewed(vec![fine(50_000)]);
    let hand = Command::HandOverToPolice {
        case_id: CASE.into(),
        reason: "涉嫌非法占用农用地罪".into(),
        police_department_id: "police-1".into(),
        procuratorate_department_id: "proc-1".into(),
    };
    // The copy goes to a procuratorate, the case to police: the kinds are checked.
    let mut f = facts(BOSS.0, BOSS.1, &c, at);
    f.copy_department = Some(dept("market", "functional"));
    assert_eq!(
        decide(&hand, &f).err().map(|e| e.code),
        Some("invalid_department_kind")
    );
    let mut f = facts(BOSS.0, BOSS.1, &c, at);
    f.department = Some(dept("proc-1", "procuratorate"));
    assert_eq!(
        decide(&hand, &f).err().map(|e| e.code),
        Some("invalid_department_kind")
    );
    let handed = run(BOSS.0, BOSS.1, &c, at, hand).unwrap();
    let answer = |decision| Command::AnswerHandOver {
        case_id: CASE.into(),
        decision,
        note: "公安不予立案通知书".into(),
    };
    let liaison = |dept: Option<&str>| {
        let mut f = facts("cop", &[Role::DepartmentLiaison], &handed, at);
        f.actor_department = dept.map(str::to_owned);
        f
    };
    // Only police's own liaison answers.
    let code = |f: &Facts, cmd: &Command| decide(cmd, f).err().map(|e| e.code);
    assert_eq!(
        code(&liaison(Some("proc-1")), &answer(HandOverAnswer::NotFiled)),
        Some("out_of_scope")
    );
    assert_eq!(
        code(&liaison(None), &answer(HandOverAnswer::NotFiled)),
        Some("out_of_scope")
    );
    assert_eq!(
        code(
            &facts(BOSS.0, BOSS.1, &handed, at),
            &answer(HandOverAnswer::NotFiled)
        ),
        Some("forbidden")
    );
    // Filed by police: still no penalty.
    let filed = decide(&answer(HandOverAnswer::Filed), &liaison(Some("police-1")))
        .unwrap()
        .case
        .unwrap();
    assert_eq!(filed.status, CaseStatus::HandedOver);
    assert_eq!(
        run(BOSS.0, BOSS.1, &filed, at, penalty(vec![fine(50_000)])).err(),
        Some("handed_to_police")
    );
    // Sent back for administrative handling: the procedure resumes and a penalty may follow.
    let mut f = liaison(Some("police-1"));
    f.case = Some(filed);
    let back = decide(&answer(HandOverAnswer::Returned), &f)
        .unwrap()
        .case
        .unwrap();
    assert_eq!(back.status, CaseStatus::LegalReview);
    assert!(back
        .procedure
        .hand_over
        .as_ref()
        .unwrap()
        .returned_at
        .is_some());
    assert!(run(BOSS.0, BOSS.1, &back, at, penalty(vec![fine(50_000)])).is_ok());
}

#[test]
fn service_payment_publication_and_archive_follow_the_law() {
    let (c, at) = reviewed(vec![fine(50_000)]);
    let c = run(BOSS.0, BOSS.1, &c, at, penalty(vec![fine(50_000)])).unwrap();
    let serve = |method, consent| Command::ServeDecision {
        case_id: CASE.into(),
        method,
        consent_to_electronic: consent,
        receipt_attachment_id: None,
    };
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &c,
            at,
            serve(ServiceMethod::Electronic, false)
        )
        .err(),
        Some("consent_required")
    );
    let c = run(
        OFF1.0,
        OFF1.1,
        &c,
        at,
        serve(ServiceMethod::InPerson, false),
    )
    .unwrap();
    assert_eq!(c.status, CaseStatus::Served);
    let pay = |fen, channel| Command::RecordPayment {
        case_id: CASE.into(),
        amount_fen: fen,
        channel,
        reference: "ICBC-20261210-0001".into(),
    };
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, at, pay(50_000, PaymentChannel::Officer)).err(),
        Some("payment_to_officer")
    );
    // Ten days late: 30 % surcharge on top of the fine.
    let late = at + Duration::days(25);
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, late, pay(50_000, PaymentChannel::Bank)).err(),
        Some("amount_mismatch")
    );
    let archive = Command::ArchiveCase {
        case_id: CASE.into(),
        closing_report: "结案报告".into(),
    };
    let publish = Command::PublishDecision {
        case_id: CASE.into(),
    };
    let published = run(BOSS.0, BOSS.1, &c, at, publish).unwrap();
    assert_eq!(
        run(BOSS.0, BOSS.1, &published, late, archive.clone()).err(),
        Some("unpaid_fine")
    );
    let paid = run(
        OFF1.0,
        OFF1.1,
        &published,
        late,
        pay(65_000, PaymentChannel::Bank),
    )
    .unwrap();
    assert_eq!(
        paid.procedure.payment.as_ref().unwrap().surcharge_fen,
        15_000
    );
    let archived = run(LEGAL.0, LEGAL.1, &paid, late, archive).unwrap();
    assert_eq!(archived.status, CaseStatus::Archived);
}

#[test]
fn a_no_penalty_decision_is_not_published_and_archives_after_service() {
    let (c, at) = reviewed(vec![fine(50_000)]);
    let none = Command::DecideCase {
        case_id: CASE.into(),
        decision: CaseDecision::NoPenalty {
            facts: "首次违法，当场改正".into(),
            legal_basis: "行政处罚法第三十三条".into(),
            reason: "初次违法且危害后果轻微并及时改正".into(),
        },
    };
    let c = run(BOSS.0, BOSS.1, &c, at, none).unwrap();
    let c = run(
        OFF1.0,
        OFF1.1,
        &c,
        at,
        Command::ServeDecision {
            case_id: CASE.into(),
            method: ServiceMethod::Post,
            consent_to_electronic: false,
            receipt_attachment_id: None,
        },
    )
    .unwrap();
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &c,
            at,
            Command::PublishDecision {
                case_id: CASE.into()
            }
        )
        .err(),
        Some("nothing_to_publish")
    );
    assert!(run(
        BOSS.0,
        BOSS.1,
        &c,
        at,
        Command::ArchiveCase {
            case_id: CASE.into(),
            closing_report: "结案".into()
        }
    )
    .is_ok());
}

/// Who may issue each case command (the rules may narrow it further to the case's people).
pub(super) fn allowed_roles(cmd: &Command) -> Vec<Role> {
    match cmd {
        Command::StartInvestigation { .. } => vec![Role::Approver, Role::SquadLeader],
        Command::AddCaseRecord { .. }
        | Command::NotifyParty { .. }
        | Command::RecordStatement { .. }
        | Command::RequestHearing { .. }
        | Command::SubmitForReview { .. }
        | Command::ServeDecision { .. } => vec![Role::Officer],
        Command::ScheduleHearing { .. } | Command::ArchiveCase { .. } => {
            vec![Role::Approver, Role::LegalReviewer]
        }
        Command::RecordHearing { .. } => Role::ALL.to_vec(),
        Command::ReviewCase { .. } => vec![Role::LegalReviewer],
        Command::RecordPayment { .. }
        | Command::RequestPaymentPlan { .. }
        | Command::RemindParty { .. } => vec![Role::Approver, Role::Officer],
        Command::FlagCaseDeadline { .. } => vec![],
        _ => vec![Role::Approver],
    }
}

/// From which states each case command may succeed.
fn allowed_states(cmd: &Command) -> Vec<CaseStatus> {
    use CaseStatus::*;
    match cmd {
        Command::FileCase { .. } | Command::DeclineCase { .. } => vec![Proposed],
        Command::StartInvestigation { .. } => vec![Filed, Investigating],
        Command::AddCaseRecord { .. } | Command::NotifyParty { .. } => vec![Investigating],
        Command::RecordStatement { .. } | Command::SubmitForReview { .. } => {
            vec![Notified, Hearing]
        }
        Command::RequestHearing { .. } => vec![Notified],
        Command::ScheduleHearing { .. } | Command::RecordHearing { .. } => vec![Hearing],
        Command::ReviewCase { .. }
        | Command::RecordDiscussion { .. }
        | Command::DecideCase { .. } => vec![LegalReview],
        Command::ExtendCaseDeadline { .. }
        | Command::HandOverToPolice { .. }
        | Command::DecidePreservation { .. } => {
            vec![Filed, Investigating, Notified, Hearing, LegalReview]
        }
        Command::AnswerHandOver { .. } => vec![HandedOver],
        Command::ServeDecision { .. } => vec![Decided],
        Command::RecordPayment { .. }
        | Command::RequestPaymentPlan { .. }
        | Command::DecidePaymentPlan { .. }
        | Command::RemindParty { .. }
        | Command::ApplyToCourt { .. } => vec![Served, Published],
        Command::PublishDecision { .. } => vec![Served],
        Command::ArchiveCase { .. } => vec![Served, Published],
        _ => vec![],
    }
}

pub(super) fn case_commands() -> Vec<Command> {
    let at = Utc.from_utc_datetime(&(t0() + Duration::days(30)));
    vec![
        Command::FileCase {
            case_id: CASE.into(),
        },
        Command::DeclineCase {
            case_id: CASE.into(),
            reason: "r".into(),
        },
        investigate(&["off1", "off2"]),
        Command::AddCaseRecord {
            case_id: CASE.into(),
            record_id: "0190f7a8-8d5e-7c3a-9d6b-2f1e4c5a6b0b".into(),
            kind: CaseRecordKind::Inspection,
            officer_ids: vec!["off1".into(), "off2".into()],
            certificates_shown: true,
            content: "现场检查".into(),
            attachment_ids: vec![],
        },
        notify(vec![fine(2_000_000)]),
        Command::RecordStatement {
            case_id: CASE.into(),
            content: "c".into(),
            waived: true,
        },
        Command::RequestHearing {
            case_id: CASE.into(),
        },
        Command::ScheduleHearing {
            case_id: CASE.into(),
            host_id: "legal".into(),
            hearing_at: at,
            public: true,
            not_public_reason: None,
        },
        Command::RecordHearing {
            case_id: CASE.into(),
            record: "r".into(),
            attachment_ids: vec![],
        },
        simple(CASE),
        review(true),
        Command::RecordDiscussion {
            case_id: CASE.into(),
            participants: vec!["a".into(), "b".into(), "c".into()],
            minutes: "m".into(),
            conclusion: "c".into(),
        },
        Command::ExtendCaseDeadline {
            case_id: CASE.into(),
            days: 10,
            reason: "r".into(),
        },
        penalty(vec![fine(2_000_000)]),
        Command::ServeDecision {
            case_id: CASE.into(),
            method: ServiceMethod::InPerson,
            consent_to_electronic: false,
            receipt_attachment_id: None,
        },
        Command::RecordPayment {
            case_id: CASE.into(),
            amount_fen: 2_000_000,
            channel: PaymentChannel::Bank,
            reference: "r".into(),
        },
        Command::PublishDecision {
            case_id: CASE.into(),
        },
        Command::ArchiveCase {
            case_id: CASE.into(),
            closing_report: "r".into(),
        },
        Command::HandOverToPolice {
            case_id: CASE.into(),
            reason: "r".into(),
            police_department_id: "police-1".into(),
            procuratorate_department_id: "proc-1".into(),
        },
        Command::DecidePreservation {
            case_id: CASE.into(),
            record_id: RECORD.into(),
            measure: PreservationMeasure::Return,
            note: "n".into(),
        },
        plan(
            griddispatch_protocol::case::PaymentPlanKind::Deferral,
            vec![part(2027, 12, 1, 2_000_000)],
        ),
        answer_plan(true),
        Command::RemindParty {
            case_id: CASE.into(),
        },
        Command::ApplyToCourt {
            case_id: CASE.into(),
            court: "某县人民法院".into(),
            note: "n".into(),
        },
    ]
}

/// A case in `status` with everything that state implies already done (records, notice,
/// hearing held, review passed, discussion, decision, service, payment), so that only the
/// role and state rules are left to refuse.
pub(super) fn case_in(status: CaseStatus) -> Case {
    let mut c = filed();
    c.status = status;
    let p = &mut c.procedure;
    p.investigators = vec!["off1".into(), "off2".into()];
    if status == CaseStatus::Proposed {
        c.number = None;
        return c;
    }
    let t = t0();
    p.records.push(CaseRecord {
        id: RECORD.into(),
        kind: CaseRecordKind::Inspection,
        officer_ids: p.investigators.clone(),
        content: "c".into(),
        attachment_ids: vec![],
        decide_by: None,
        preservation: None,
        by: "off1".into(),
        at: t,
    });
    if matches!(
        status,
        CaseStatus::Filed | CaseStatus::Investigating | CaseStatus::Declined
    ) {
        return c;
    }
    p.notice = Some(Notice {
        party: Party {
            kind: PartyKind::Person,
            name: "李某".into(),
            id_number: None,
            address: None,
        },
        facts: "f".into(),
        legal_basis: "b".into(),
        sanctions: vec![fine(2_000_000)],
        hearing_right: true,
        hearing_request_until: t + Duration::days(5),
        statement_until: t + Duration::days(3),
        by: "off1".into(),
        at: t,
    });
    if status == CaseStatus::Hearing {
        p.hearing = Some(Hearing {
            requested_at: t,
            host_id: Some("legal".into()),
            hearing_at: Some(t + Duration::days(8)),
            noticed_at: Some(t),
            public: true,
            not_public_reason: None,
            record: None,
            attachment_ids: vec![],
            held_at: None,
        });
    }
    if matches!(
        status,
        CaseStatus::Notified | CaseStatus::Hearing | CaseStatus::HandedOver
    ) {
        return c;
    }
    if status != CaseStatus::LegalReview {
        p.reviews.push(Review {
            by: "legal".into(),
            passed: true,
            opinion: "o".into(),
            at: t,
        });
        p.discussion = Some(Discussion {
            participants: vec!["a".into(), "b".into(), "c".into()],
            minutes: "m".into(),
            conclusion: "c".into(),
            by: "boss".into(),
            at: t,
        });
        p.decision = Some(Decision {
            number: "罚决〔2026〕1号".into(),
            decision: CaseDecision::Penalty {
                sanctions: vec![fine(2_000_000)],
                facts: "f".into(),
                legal_basis: "b".into(),
                discretion: "d".into(),
                statements_answer: "s".into(),
            },
            by: "boss".into(),
            at: t,
            serve_by: t + Duration::days(7),
            publish_by: Some(t + Duration::days(9)),
        });
    }
    if matches!(
        status,
        CaseStatus::Served | CaseStatus::Published | CaseStatus::Archived
    ) {
        p.service = Some(Service {
            method: ServiceMethod::InPerson,
            receipt_attachment_id: None,
            late: false,
            by: "off1".into(),
            at: t,
        });
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn no_case_command_succeeds_for_a_role_or_from_a_state_the_procedure_does_not_allow(
        cmd_i in 0usize..23,
        state_i in 0usize..12,
        role_bits in 1u16..1024,
        user_i in 0usize..4,
        pass_review in any::<bool>(),
        paid in any::<bool>(),
        days in 1i64..300,
        reminded in any::<bool>(),
    ) {
        let cmds = case_commands();
        let cmd = &cmds[cmd_i % cmds.len()];
        let status = CaseStatus::ALL[state_i];
        let roles: Vec<Role> = Role::ALL.iter().enumerate().filter(|(i, _)| role_bits & (1 << i) != 0).map(|(_, r)| *r).collect();
        let user = ["off1", "legal", "boss", "someone"][user_i];
        let mut c = case_in(status);
        if status == CaseStatus::LegalReview && pass_review {
            c.procedure.reviews.push(Review { by: "legal".into(), passed: true, opinion: "o".into(), at: t0() });
            c.procedure.discussion = Some(Discussion { participants: vec!["a".into(), "b".into(), "c".into()], minutes: "m".into(), conclusion: "c".into(), by: "boss".into(), at: t0() });
        }
        if paid && c.procedure.service.is_some() {
            c.procedure.payment = Some(Payment { amount_fen: 2_000_000, surcharge_fen: 0, channel: PaymentChannel::Bank, reference: "r".into(), by: "off1".into(), at: t0() });
        }
        if reminded && c.procedure.service.is_some() {
            c.procedure.reminder = Some(Reminder { number: "催告〔2026〕1号".into(), amount_fen: 2_000_000, pay_by: t0() + Duration::days(30), by: "off1".into(), at: t0() + Duration::days(16) });
        }
        let now = t0() + Duration::days(days);
        if let Ok(change) = decide(cmd, &facts(user, &roles, &c, now)) {
            let allowed = allowed_roles(cmd);
            prop_assert!(allowed.iter().any(|r| roles.contains(r)), "{} succeeded for roles {:?}", cmd.name(), roles);
            prop_assert!(allowed_states(cmd).contains(&status), "{} succeeded from {:?}", cmd.name(), status);
            let after = change.case.expect("case changed");
            prop_assert_eq!(&after.id, &c.id);
            if matches!(cmd, Command::DecideCase { .. }) {
                prop_assert!(c.procedure.review_passed(), "decided without a passed review");
            }
            if matches!(cmd, Command::ArchiveCase { .. }) {
                prop_assert!(paid, "archived with the fine unpaid");
            }
            if matches!(cmd, Command::ApplyToCourt { .. }) {
                prop_assert!(!paid && c.procedure.reminder.as_ref().is_some_and(|r| now > r.pay_by), "court without a reminder whose period ran out");
            }
            if matches!(cmd, Command::RemindParty { .. }) {
                prop_assert!(!paid && days > 15, "reminded before the fine was overdue");
            }
            if status == CaseStatus::HandedOver {
                prop_assert!(false, "{} succeeded after the hand-over to police", cmd.name());
            }
        }
    }
}

#[test]
fn every_case_command_succeeds_for_its_role_from_some_allowed_state() {
    // Keeps the property test honest: it must not pass merely because nothing succeeds.
    for cmd in case_commands() {
        let mut ok = false;
        for status in CaseStatus::ALL {
            for user in ["off1", "legal", "boss"] {
                let mut c = case_in(status);
                c.procedure.reviews.push(Review {
                    by: "legal".into(),
                    passed: status != CaseStatus::LegalReview
                        || !matches!(cmd, Command::ReviewCase { .. }),
                    opinion: "o".into(),
                    at: t0(),
                });
                if matches!(cmd, Command::ReviewCase { .. }) {
                    c.procedure.reviews.clear();
                }
                c.procedure.discussion.get_or_insert(Discussion {
                    participants: vec!["a".into(), "b".into(), "c".into()],
                    minutes: "m".into(),
                    conclusion: "c".into(),
                    by: "boss".into(),
                    at: t0(),
                });
                if c.procedure.service.is_some() {
                    c.procedure.payment = Some(Payment {
                        amount_fen: 2_000_000,
                        surcharge_fen: 0,
                        channel: PaymentChannel::Bank,
                        reference: "r".into(),
                        by: "off1".into(),
                        at: t0(),
                    });
                }
                if matches!(
                    cmd,
                    Command::RecordPayment { .. }
                        | Command::RequestPaymentPlan { .. }
                        | Command::DecidePaymentPlan { .. }
                        | Command::RemindParty { .. }
                        | Command::ApplyToCourt { .. }
                ) {
                    c.procedure.payment = None;
                }
                if matches!(cmd, Command::DecidePaymentPlan { .. }) && c.procedure.service.is_some()
                {
                    c.procedure.payment_plan = match decide(
                        &plan(
                            griddispatch_protocol::case::PaymentPlanKind::Deferral,
                            vec![part(2027, 12, 1, 2_000_000)],
                        ),
                        &facts("off1", &[Role::Officer], &c, t0()),
                    ) {
                        Ok(ch) => ch.case.and_then(|x| x.procedure.payment_plan),
                        Err(_) => None,
                    };
                }
                if matches!(cmd, Command::ApplyToCourt { .. }) && c.procedure.service.is_some() {
                    c.procedure.reminder = Some(Reminder {
                        number: "催告〔2026〕1号".into(),
                        amount_fen: 2_000_000,
                        pay_by: t0() + Duration::days(30),
                        by: "off1".into(),
                        at: t0() + Duration::days(16),
                    });
                }
                if matches!(cmd, Command::DecidePreservation { .. }) {
                    for r in &mut c.procedure.records {
                        r.kind = CaseRecordKind::EvidencePreservation;
                    }
                }
                if matches!(cmd, Command::RecordHearing { .. }) {
                    if let Some(h) = c.procedure.hearing.as_mut() {
                        h.hearing_at = Some(t0());
                    }
                }
                let days = match cmd {
                    Command::RequestHearing { .. } => 1,
                    Command::RemindParty { .. } => 20,
                    // Six months after service, inside the window of 行政强制法 art. 53.
                    Command::ApplyToCourt { .. } => 200,
                    _ => 10,
                };
                let now = t0() + Duration::days(days);
                ok |= decide(&cmd, &facts(user, &allowed_roles(&cmd), &c, now)).is_ok();
            }
        }
        assert!(ok, "{} never succeeds", cmd.name());
    }
}

#[test]
fn kept_evidence_is_decided_by_the_approver_within_seven_working_days_before_any_decision() {
    const KEPT: &str = "0190f7a8-8d5e-7c3a-9d6b-2f1e4c5a6b0b";
    let c = notified(vec![fine(100_000)]);
    // An evidence-preservation record made during the investigation starts its clock.
    let mut investigating = c.clone();
    investigating.status = CaseStatus::Investigating;
    let keep = Command::AddCaseRecord {
        case_id: CASE.into(),
        record_id: KEPT.into(),
        kind: CaseRecordKind::EvidencePreservation,
        officer_ids: vec!["off1".into(), "off2".into()],
        certificates_shown: true,
        content: "先行登记保存占道经营的三轮车一辆".into(),
        attachment_ids: vec![],
    };
    let kept = run(OFF1.0, OFF1.1, &investigating, t0(), keep).unwrap();
    let rec = kept
        .procedure
        .records
        .iter()
        .find(|r| r.id == KEPT)
        .unwrap();
    assert_eq!(
        rec.decide_by,
        Some(t0() + Duration::days(9)),
        "from the calendar's 7 working days"
    );
    let rules = CaseRules::default();
    assert!(running_clocks(&kept, &rules)
        .iter()
        .any(|r| r.clock == "preservation" && r.working_time));
    let mut kept = kept;
    kept.status = CaseStatus::Notified;
    let decide_kept = |measure, note: &str, record: &str| Command::DecidePreservation {
        case_id: CASE.into(),
        record_id: record.into(),
        measure,
        note: note.into(),
    };
    let later = t0() + Duration::days(2);
    // Only the approver; only a preservation record; with reasons.
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &kept,
            later,
            decide_kept(PreservationMeasure::Return, "r", KEPT)
        )
        .err(),
        Some("forbidden")
    );
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &kept,
            later,
            decide_kept(PreservationMeasure::Return, "r", RECORD)
        )
        .err(),
        Some("not_a_preservation")
    );
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &kept,
            later,
            decide_kept(PreservationMeasure::Return, " ", KEPT)
        )
        .err(),
        Some("note_required")
    );
    // No penalty decision while the kept evidence waits for its decision.
    let mut waiting = kept.clone();
    waiting.status = CaseStatus::LegalReview;
    waiting.procedure.reviews.push(Review {
        by: "legal".into(),
        passed: true,
        opinion: "o".into(),
        at: later,
    });
    let after_statements = t0() + Duration::days(6);
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &waiting,
            after_statements,
            penalty(vec![fine(100_000)])
        )
        .err(),
        Some("preservation_undecided")
    );
    // Decided: the clock stops, the decision may follow, and it cannot be decided twice.
    let decided = run(
        BOSS.0,
        BOSS.1,
        &waiting,
        later,
        decide_kept(
            PreservationMeasure::Confiscate,
            "违法工具，随处罚决定没收",
            KEPT,
        ),
    )
    .unwrap();
    assert!(!running_clocks(&decided, &rules)
        .iter()
        .any(|r| r.clock == "preservation"));
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &decided,
            later,
            decide_kept(PreservationMeasure::Return, "r", KEPT)
        )
        .err(),
        Some("invalid_state")
    );
    assert!(run(
        BOSS.0,
        BOSS.1,
        &decided,
        after_statements,
        penalty(vec![fine(100_000)])
    )
    .is_ok());
}

/// A case investigated by off1 and off2 and notified of `sanctions` at `at`.
fn notified_at(sanctions: Vec<Sanction>, at: NaiveDateTime) -> Case {
    let c = run(BOSS.0, BOSS.1, &filed(), at, investigate(&["off1", "off2"])).unwrap();
    let c = run(OFF1.0, OFF1.1, &c, at, record(&["off1", "off2"], true)).unwrap();
    run(OFF1.0, OFF1.1, &c, at, notify(sanctions)).unwrap()
}

#[test]
fn the_statement_period_is_three_working_days_across_a_weekend() {
    // Notice on Friday 4 December 2026, 09:00: Monday, Tuesday, Wednesday → Wednesday 9th, 18:00.
    let c = notified_at(vec![fine(50_000)], utc(2026, 12, 4, 1, 0));
    let n = c.procedure.notice.as_ref().unwrap();
    assert_eq!(n.statement_until, utc(2026, 12, 9, 10, 0));
    // Three calendar days on (Monday) the period still runs: no review yet.
    for at in [utc(2026, 12, 7, 1, 1), utc(2026, 12, 9, 9, 59)] {
        assert_eq!(
            run(OFF1.0, OFF1.1, &c, at, simple(CASE)).err(),
            Some("statement_period_open"),
            "{at}"
        );
    }
    assert!(run(OFF1.0, OFF1.1, &c, utc(2026, 12, 9, 10, 1), simple(CASE)).is_ok());
}

#[test]
fn the_hearing_periods_skip_the_national_day_holiday() {
    // Notice on Wednesday 30 September 2026; 1–7 October are holidays, Saturday 10 October is
    // a working day (调休).
    let c = notified_at(vec![fine(2_000_000)], utc(2026, 9, 30, 1, 0));
    let n = c.procedure.notice.as_ref().unwrap();
    assert_eq!(n.statement_until, utc(2026, 10, 10, 10, 0));
    assert_eq!(n.hearing_request_until, utc(2026, 10, 13, 10, 0));
    let ask = Command::RequestHearing {
        case_id: CASE.into(),
    };
    // Twelve calendar days on, inside five working days.
    assert!(run(OFF1.0, OFF1.1, &c, utc(2026, 10, 12, 1, 0), ask.clone()).is_ok());
    let c = run(OFF1.0, OFF1.1, &c, utc(2026, 9, 30, 2, 0), ask.clone()).unwrap();
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &notified_at(vec![fine(2_000_000)], utc(2026, 9, 30, 1, 0)),
            utc(2026, 10, 13, 10, 1),
            ask
        )
        .err(),
        Some("hearing_request_late")
    );
    // The hearing noticed on 30 September: seven working days end on 15 October at 18:00 — a
    // hearing that morning (fifteen calendar days on) is too soon.
    let schedule = |at: NaiveDateTime| Command::ScheduleHearing {
        case_id: CASE.into(),
        host_id: "legal".into(),
        hearing_at: Utc.from_utc_datetime(&at),
        public: true,
        not_public_reason: None,
    };
    let noticed = utc(2026, 9, 30, 2, 0);
    assert_eq!(
        run(
            LEGAL.0,
            LEGAL.1,
            &c,
            noticed,
            schedule(utc(2026, 10, 15, 1, 0))
        )
        .err(),
        Some("hearing_notice_too_short")
    );
    assert!(run(
        LEGAL.0,
        LEGAL.1,
        &c,
        noticed,
        schedule(utc(2026, 10, 16, 10, 0))
    )
    .is_ok());
}

#[test]
fn the_decision_is_served_within_seven_working_days_counted_over_weekends() {
    let (c, _) = reviewed(vec![fine(50_000)]);
    // Decided on Friday 11 December: due Tuesday 22 December, 18:00.
    let decided = run(
        BOSS.0,
        BOSS.1,
        &c,
        utc(2026, 12, 11, 1, 0),
        penalty(vec![fine(50_000)]),
    )
    .unwrap();
    assert_eq!(
        decided.procedure.decision.as_ref().unwrap().serve_by,
        utc(2026, 12, 22, 10, 0)
    );
    let serve = Command::ServeDecision {
        case_id: CASE.into(),
        method: ServiceMethod::InPerson,
        consent_to_electronic: false,
        receipt_attachment_id: None,
    };
    // Nine calendar days on is still in time; a second after the seventh working day is late.
    let on_time = run(
        OFF1.0,
        OFF1.1,
        &decided,
        utc(2026, 12, 20, 1, 0),
        serve.clone(),
    )
    .unwrap();
    assert!(!on_time.procedure.service.unwrap().late);
    let late = run(
        OFF1.0,
        OFF1.1,
        &decided,
        utc(2026, 12, 22, 10, 0) + Duration::seconds(1),
        serve,
    )
    .unwrap();
    assert!(late.procedure.service.unwrap().late);
}

#[test]
fn each_working_day_period_is_a_figure_of_the_configuration() {
    let rules = CaseRules {
        statement_working_days: 5,
        hearing_request_working_days: 3,
        hearing_notice_working_days: 10,
        service_working_days: 2,
        ..CaseRules::default()
    };
    let due = CaseDue::from_calendar(&calendar(), &rules, utc(2026, 12, 4, 1, 0));
    assert_eq!(due.statement_until, Some(utc(2026, 12, 11, 10, 0)));
    assert_eq!(due.hearing_request_until, Some(utc(2026, 12, 9, 10, 0)));
    assert_eq!(due.hearing_earliest_at, Some(utc(2026, 12, 18, 10, 0)));
    assert_eq!(due.serve_by, Some(utc(2026, 12, 8, 10, 0)));
    // A command whose periods could not be counted is refused, never given natural days.
    let mut f = facts(OFF1.0, OFF1.1, &notified(vec![fine(50_000)]), t0());
    f.case = Some(
        run(
            BOSS.0,
            BOSS.1,
            &filed(),
            t0(),
            investigate(&["off1", "off2"]),
        )
        .unwrap(),
    );
    f.case = Some(
        decide(&record(&["off1", "off2"], true), &f)
            .unwrap()
            .case
            .unwrap(),
    );
    f.case_due = CaseDue::default();
    assert_eq!(
        decide(&notify(vec![fine(50_000)]), &f)
            .err()
            .map(|e| e.code),
        Some("no_deadline")
    );
}

/// A penalty of `fen` decided and served on `served`.
fn served_on(fen: i64, served: NaiveDateTime) -> Case {
    let mut c = case_in(CaseStatus::Served);
    let p = &mut c.procedure;
    if let Some(CaseDecision::Penalty { sanctions, .. }) =
        p.decision.as_mut().map(|d| &mut d.decision)
    {
        *sanctions = vec![fine(fen)];
    }
    if let Some(d) = p.decision.as_mut() {
        d.at = served;
    }
    if let Some(s) = p.service.as_mut() {
        s.at = served;
    }
    c
}

fn part(y: i32, m: u32, d: u32, fen: i64) -> griddispatch_protocol::case::InstalmentSpec {
    griddispatch_protocol::case::InstalmentSpec {
        due_on: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        amount_fen: fen,
    }
}

fn plan(
    kind: griddispatch_protocol::case::PaymentPlanKind,
    parts: Vec<griddispatch_protocol::case::InstalmentSpec>,
) -> Command {
    Command::RequestPaymentPlan {
        case_id: CASE.into(),
        kind,
        instalments: parts,
        reason: "家庭经济困难，申请延期缴纳".into(),
    }
}

fn answer_plan(approved: bool) -> Command {
    Command::DecidePaymentPlan {
        case_id: CASE.into(),
        approved,
        note: "经审查属实".into(),
    }
}

fn pay(fen: i64, channel: PaymentChannel) -> Command {
    Command::RecordPayment {
        case_id: CASE.into(),
        amount_fen: fen,
        channel,
        reference: "ICBC-0001".into(),
    }
}

#[test]
fn a_deferral_stops_the_surcharge_only_once_the_approver_has_approved_it() {
    use griddispatch_protocol::case::PaymentPlanKind::{Deferral, Instalments};
    let served = utc(2026, 12, 1, 1, 0);
    let c = served_on(50_000, served);
    let asked = utc(2026, 12, 3, 1, 0);
    // Malformed applications are refused.
    for bad in [
        plan(
            Deferral,
            vec![part(2027, 1, 20, 25_000), part(2027, 2, 20, 25_000)],
        ),
        plan(Instalments, vec![part(2027, 1, 20, 50_000)]),
        plan(Deferral, vec![part(2027, 1, 20, 40_000)]),
        plan(Deferral, vec![part(2026, 12, 3, 50_000)]),
        plan(
            Instalments,
            vec![part(2027, 2, 20, 25_000), part(2027, 1, 20, 25_000)],
        ),
        plan(
            Instalments,
            vec![part(2027, 1, 20, 60_000), part(2027, 2, 20, -10_000)],
        ),
    ] {
        assert_eq!(
            run(OFF1.0, OFF1.1, &c, asked, bad).err(),
            Some("invalid_payment_plan")
        );
    }
    // An officer who is not on the case cannot record it.
    let deferral = plan(Deferral, vec![part(2027, 1, 20, 50_000)]);
    assert_eq!(
        run("off3", &[Role::Officer], &c, asked, deferral.clone()).err(),
        Some("forbidden")
    );
    let asked_case = run(OFF1.0, OFF1.1, &c, asked, deferral.clone()).unwrap();
    assert_eq!(
        run(OFF1.0, OFF1.1, &asked_case, asked, deferral).err(),
        Some("invalid_state")
    );
    // Not approved yet: 17 days after service the surcharge runs (2 days × 3 % = 30 元).
    let day17 = served + Duration::days(17);
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &asked_case,
            day17,
            pay(50_000, PaymentChannel::Bank)
        )
        .err(),
        Some("amount_mismatch")
    );
    assert!(run(
        OFF1.0,
        OFF1.1,
        &asked_case,
        day17,
        pay(53_000, PaymentChannel::Bank)
    )
    .is_ok());
    // And a reminder may follow: an application is not a deferral.
    assert!(run(
        OFF1.0,
        OFF1.1,
        &asked_case,
        day17,
        Command::RemindParty {
            case_id: CASE.into()
        }
    )
    .is_ok());
    // Only the approver approves.
    assert_eq!(
        run(OFF1.0, OFF1.1, &asked_case, asked, answer_plan(true)).err(),
        Some("forbidden")
    );
    let approved = run(BOSS.0, BOSS.1, &asked_case, asked, answer_plan(true)).unwrap();
    assert_eq!(
        run(BOSS.0, BOSS.1, &approved, asked, answer_plan(true)).err(),
        Some("invalid_state")
    );
    // Approved, not yet due: no surcharge, no reminder, and the payment clock runs to 20 January.
    let day40 = served + Duration::days(40);
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &approved,
            day40,
            Command::RemindParty {
                case_id: CASE.into()
            }
        )
        .err(),
        Some("not_overdue")
    );
    let clocks = running_clocks(&approved, &CaseRules::default());
    let payment = clocks.iter().find(|k| k.clock == "payment").unwrap();
    assert_eq!(payment.due, utc(2027, 1, 20, 16, 0));
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &approved,
            day40,
            pay(53_000, PaymentChannel::Bank)
        )
        .err(),
        Some("amount_mismatch")
    );
    // Paid to an officer: still refused under a deferral.
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &approved,
            day40,
            pay(50_000, PaymentChannel::Officer)
        )
        .err(),
        Some("payment_to_officer")
    );
    let paid = run(
        OFF1.0,
        OFF1.1,
        &approved,
        day40,
        pay(50_000, PaymentChannel::Bank),
    )
    .unwrap();
    assert_eq!(paid.procedure.payment.as_ref().unwrap().surcharge_fen, 0);
    let mut published = paid;
    published.status = CaseStatus::Published;
    let archived = run(
        BOSS.0,
        BOSS.1,
        &published,
        day40,
        Command::ArchiveCase {
            case_id: CASE.into(),
            closing_report: "延期缴纳，已缴清".into(),
        },
    )
    .unwrap();
    assert_eq!(archived.procedure.archive.unwrap().outcome, "paid");
}

#[test]
fn a_refused_plan_leaves_the_fine_due_as_decided() {
    use griddispatch_protocol::case::PaymentPlanKind::Deferral;
    let served = utc(2026, 12, 1, 1, 0);
    let c = run(
        OFF1.0,
        OFF1.1,
        &served_on(50_000, served),
        served,
        plan(Deferral, vec![part(2027, 1, 20, 50_000)]),
    )
    .unwrap();
    let refused = run(BOSS.0, BOSS.1, &c, served, answer_plan(false)).unwrap();
    let day17 = served + Duration::days(17);
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &refused,
            day17,
            pay(50_000, PaymentChannel::Bank)
        )
        .err(),
        Some("amount_mismatch")
    );
    // The party may apply again; the refused one is kept.
    let again = run(
        OFF1.0,
        OFF1.1,
        &refused,
        served + Duration::days(2),
        plan(Deferral, vec![part(2027, 1, 10, 50_000)]),
    )
    .unwrap();
    assert_eq!(again.procedure.refused_plans.len(), 1);
}

#[test]
fn instalments_are_paid_part_by_part_with_a_surcharge_only_on_a_late_part() {
    use griddispatch_protocol::case::PaymentPlanKind::Instalments;
    let served = utc(2026, 12, 1, 1, 0);
    let c = run(
        OFF1.0,
        OFF1.1,
        &served_on(50_000, served),
        served,
        plan(
            Instalments,
            vec![part(2027, 1, 10, 25_000), part(2027, 2, 10, 25_000)],
        ),
    )
    .unwrap();
    let c = run(BOSS.0, BOSS.1, &c, served, answer_plan(true)).unwrap();
    let c = run(
        OFF1.0,
        OFF1.1,
        &c,
        utc(2027, 1, 5, 1, 0),
        pay(25_000, PaymentChannel::Online),
    )
    .unwrap();
    assert!(
        c.procedure.payment.is_none(),
        "one part of two is not the fine"
    );
    let clocks = running_clocks(&c, &CaseRules::default());
    assert_eq!(
        clocks.iter().find(|k| k.clock == "payment").unwrap().due,
        utc(2027, 2, 10, 16, 0)
    );
    // The archive waits for the second part.
    let mut published = c.clone();
    published.status = CaseStatus::Published;
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &published,
            utc(2027, 1, 6, 1, 0),
            Command::ArchiveCase {
                case_id: CASE.into(),
                closing_report: "r".into()
            }
        )
        .err(),
        Some("unpaid_fine")
    );
    // Second part two whole days late: 25 000 × 3 % × 2 = 1 500 fen.
    let late = utc(2027, 2, 13, 1, 0);
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, late, pay(25_000, PaymentChannel::Bank)).err(),
        Some("amount_mismatch")
    );
    let c = run(OFF1.0, OFF1.1, &c, late, pay(26_500, PaymentChannel::Bank)).unwrap();
    let paid = c.procedure.payment.as_ref().unwrap();
    assert_eq!((paid.amount_fen, paid.surcharge_fen), (51_500, 1_500));
}

#[test]
fn the_court_is_asked_only_after_a_reminder_whose_ten_working_days_ran_out_within_the_window() {
    // Served on 1 September 2026: the payment period ends on the 16th.
    let served = utc(2026, 9, 1, 1, 0);
    let c = served_on(50_000, served);
    let remind = Command::RemindParty {
        case_id: CASE.into(),
    };
    let court = Command::ApplyToCourt {
        case_id: CASE.into(),
        court: "某县人民法院".into(),
        note: "申请强制执行罚款及加处罚款".into(),
    };
    assert_eq!(
        run(OFF1.0, OFF1.1, &c, utc(2026, 9, 16, 0, 0), remind.clone()).err(),
        Some("not_overdue")
    );
    // Without a reminder, never — not even in the window.
    assert_eq!(
        run(BOSS.0, BOSS.1, &c, utc(2027, 3, 2, 1, 0), court.clone()).err(),
        Some("reminder_required")
    );
    // Reminded on Monday 28 September: ten working days over the National Day holiday end on
    // Friday 16 October, 18:00 (not on 8 October).
    let at = utc(2026, 9, 28, 1, 0);
    let reminded = run(OFF1.0, OFF1.1, &c, at, remind.clone()).unwrap();
    let r = reminded.procedure.reminder.as_ref().unwrap();
    assert_eq!(r.pay_by, utc(2026, 10, 16, 10, 0));
    // 12 days late: 50 000 + 3 % × 12 = 68 000 fen owed.
    assert_eq!(r.amount_fen, 68_000);
    assert_eq!(
        run(OFF1.0, OFF1.1, &reminded, at, remind).err(),
        Some("invalid_state")
    );
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &reminded,
            utc(2026, 10, 16, 9, 0),
            court.clone()
        )
        .err(),
        Some("reminder_period_open")
    );
    // The review (60 days) and litigation (6 months) periods end on 1 March 2027.
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &reminded,
            utc(2026, 10, 17, 1, 0),
            court.clone()
        )
        .err(),
        Some("review_periods_open")
    );
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &reminded,
            utc(2027, 6, 1, 1, 1),
            court.clone()
        )
        .err(),
        Some("court_application_late")
    );
    assert_eq!(
        run(
            OFF1.0,
            OFF1.1,
            &reminded,
            utc(2027, 3, 2, 1, 0),
            court.clone()
        )
        .err(),
        Some("forbidden")
    );
    // Closing with the fine unpaid and no application is refused; after it, the case closes.
    let mut published = reminded.clone();
    published.status = CaseStatus::Published;
    let archive = Command::ArchiveCase {
        case_id: CASE.into(),
        closing_report: "当事人逾期不履行，已申请人民法院强制执行".into(),
    };
    assert_eq!(
        run(
            BOSS.0,
            BOSS.1,
            &published,
            utc(2027, 3, 2, 1, 0),
            archive.clone()
        )
        .err(),
        Some("unpaid_fine")
    );
    let applied = run(
        BOSS.0,
        BOSS.1,
        &published,
        utc(2027, 3, 2, 1, 0),
        court.clone(),
    )
    .unwrap();
    let ca = applied.procedure.court_application.as_ref().unwrap();
    assert_eq!(
        ca.amount_fen, 100_000,
        "the surcharge never exceeds the fine"
    );
    assert_eq!(
        run(BOSS.0, BOSS.1, &applied, utc(2027, 3, 2, 1, 0), court).err(),
        Some("invalid_state")
    );
    let archived = run(BOSS.0, BOSS.1, &applied, utc(2027, 3, 3, 1, 0), archive).unwrap();
    assert_eq!(archived.status, CaseStatus::Archived);
    assert_eq!(
        archived.procedure.archive.unwrap().outcome,
        "applied_to_court"
    );
}
