//! What a case carries through the general procedure after filing, and the figures of the law
//! that a town or province may set differently (行政处罚法 2021 unless noted).

use chrono::NaiveDateTime;
use griddispatch_protocol::case::{
    CaseDecision, CaseRecordKind, Party, PaymentChannel, PreservationMeasure, Sanction,
    SanctionKind, ServiceMethod,
};
use griddispatch_protocol::command::PartyKind;
use serde::{Deserialize, Serialize};

use crate::domain::time::{rfc3339, rfc3339_opt};

/// The procedure's figures. Defaults are the national law's; local thresholds for a hearing
/// ("较大数额") differ by province and are configuration (`[case_rules]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseRules {
    /// Days from filing to the decision (art. 60).
    pub decision_days: i64,
    /// Longest single extension of that limit, days, with the approver's approval.
    pub max_extension_days: u32,
    /// Working days after the notice in which the party may ask for a hearing (art. 64; art. 85:
    /// the law's "五日" are working days).
    #[serde(alias = "hearing_request_days")]
    pub hearing_request_working_days: u32,
    /// Working days the hearing notice must precede the hearing (art. 64, art. 85).
    #[serde(alias = "hearing_notice_days")]
    pub hearing_notice_working_days: u32,
    /// Working days the party has to state and defend after the notice, when no hearing
    /// applies (art. 85).
    #[serde(alias = "statement_days")]
    pub statement_working_days: u32,
    /// Working days to serve the decision (art. 61, art. 85).
    #[serde(alias = "service_days")]
    pub service_working_days: u32,
    /// Days to pay a fine after service (art. 67).
    pub payment_days: i64,
    /// Late-payment surcharge per day, in per mille of the fine (3 % = 30, art. 72).
    pub surcharge_per_mille_per_day: i64,
    /// A fine from this amount on (fen) gives a person the right to a hearing.
    pub hearing_fine_person_fen: i64,
    /// A fine from this amount on (fen) gives an organisation the right to a hearing.
    pub hearing_fine_organization_fen: i64,
    /// Working days to publish a decision (国办发〔2018〕118号).
    pub publication_working_days: u32,
    /// Working days to decide what becomes of evidence kept by 先行登记保存 (art. 56; art. 85:
    /// the law's "七日" are working days).
    pub preservation_working_days: u32,
    /// Working days to send a transfer after deciding it (seed 000: 5).
    pub transfer_send_working_days: u32,
    /// Hours to send an urgent transfer (seed 000: 24).
    pub transfer_urgent_hours: i64,
    /// Days the receiving department has to accept or refuse (seed 000: 3).
    pub transfer_answer_days: i64,
    /// Days the receiving department has to report its outcome after accepting (seed 000: 3).
    pub transfer_outcome_days: i64,
    /// Days the approver (正职负责人) has to approve or refuse a proposed hand-over to police
    /// (国务院令 310 第八条: 3).
    pub hand_over_approval_days: i64,
    /// Days police have to answer a crime hand-over (国务院令 310 第八条: 3).
    pub hand_over_answer_days: i64,
    /// Working days the party has to pay after a reminder (催告) before the court may be asked
    /// (行政强制法 art. 54: 十日; art. 69: periods of up to ten days are working days).
    pub reminder_working_days: u32,
    /// Days to apply for administrative review after service (行政复议法: 60).
    pub review_days: i64,
    /// Months to bring an administrative suit after service (行政诉讼法 art. 46: 6).
    pub litigation_months: u32,
    /// Months after the review and litigation periods end in which the court may be asked to
    /// enforce (行政强制法 art. 53: 3).
    pub court_application_months: u32,
    /// Working days a department or expert body has to answer an assistance request (seed 000
    /// 三(二)(五): 5).
    pub assistance_answer_working_days: u32,
    /// Most days in all that the addressed department may add to that deadline, announced
    /// before it (issue #13: 10).
    pub assistance_max_extension_days: u32,
    /// Days the brigade has to accept or refuse a department's transfer in (seed 000: 3, as
    /// for a receiving department).
    pub transfer_in_answer_days: i64,
}

impl Default for CaseRules {
    fn default() -> Self {
        Self {
            decision_days: 90,
            max_extension_days: 30,
            hearing_request_working_days: 5,
            hearing_notice_working_days: 7,
            statement_working_days: 3,
            service_working_days: 7,
            payment_days: 15,
            surcharge_per_mille_per_day: 30,
            // Common provincial thresholds of "较大数额罚款": 10 000 元 for a person, 100 000 元
            // for an organisation.
            hearing_fine_person_fen: 1_000_000,
            hearing_fine_organization_fen: 10_000_000,
            publication_working_days: 7,
            preservation_working_days: 7,
            transfer_send_working_days: 5,
            transfer_urgent_hours: 24,
            transfer_answer_days: 3,
            transfer_outcome_days: 3,
            hand_over_approval_days: 3,
            hand_over_answer_days: 3,
            reminder_working_days: 10,
            review_days: 60,
            litigation_months: 6,
            court_application_months: 3,
            assistance_answer_working_days: 5,
            assistance_max_extension_days: 10,
            transfer_in_answer_days: 3,
        }
    }
}

/// Due times of the procedure counted from `now` on the working-day calendar (行政处罚法 art. 85:
/// the law's 期限 of 二日、三日、五日、七日 are working days, holidays not counted). The command
/// handler computes them; the rules only compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseDue {
    /// End of the statement period of a notice given now.
    pub statement_until: Option<NaiveDateTime>,
    /// Last moment to ask for a hearing after a notice given now.
    pub hearing_request_until: Option<NaiveDateTime>,
    /// Earliest hearing time for a hearing noticed now.
    pub hearing_earliest_at: Option<NaiveDateTime>,
    /// Service due for a decision taken now.
    pub serve_by: Option<NaiveDateTime>,
    /// End of the period a reminder (催告) given now leaves the party to pay.
    pub reminder_pay_by: Option<NaiveDateTime>,
}

impl CaseDue {
    /// The due times counted from `now` on `calendar`.
    pub fn from_calendar(
        calendar: &crate::domain::calendar::WorkCalendar,
        rules: &CaseRules,
        now: NaiveDateTime,
    ) -> Self {
        use crate::domain::calendar::WorkingDuration::WorkingDays;
        Self {
            statement_until: Some(
                calendar.add_working(now, WorkingDays(rules.statement_working_days)),
            ),
            hearing_request_until: Some(
                calendar.add_working(now, WorkingDays(rules.hearing_request_working_days)),
            ),
            hearing_earliest_at: Some(
                calendar.add_working(now, WorkingDays(rules.hearing_notice_working_days)),
            ),
            serve_by: Some(calendar.add_working(now, WorkingDays(rules.service_working_days))),
            reminder_pay_by: Some(
                calendar.add_working(now, WorkingDays(rules.reminder_working_days)),
            ),
        }
    }
}

impl CaseRules {
    /// Whether these sanctions give the party the right to a hearing (art. 63).
    pub fn hearing_right(&self, party: PartyKind, sanctions: &[Sanction]) -> bool {
        let large = match party {
            PartyKind::Person => self.hearing_fine_person_fen,
            PartyKind::Organization => self.hearing_fine_organization_fen,
        };
        sanctions.iter().any(|s| match s.kind {
            SanctionKind::Warning => false,
            SanctionKind::Fine | SanctionKind::Confiscation => {
                s.amount_fen.is_some_and(|a| a >= large)
            }
            SanctionKind::SuspendLicence
            | SanctionKind::LowerQualification
            | SanctionKind::RevokeLicence
            | SanctionKind::OrderClosure
            | SanctionKind::RestrictPractice => true,
        })
    }

    /// What a fine costs on `now`: the fine, plus 3 % a day after the payment period, never
    /// more than the fine itself (art. 72).
    pub fn amount_due(&self, fine_fen: i64, served_at: NaiveDateTime, now: NaiveDateTime) -> i64 {
        let late_days = (now - served_at).num_days() - self.payment_days;
        if late_days <= 0 {
            return fine_fen;
        }
        let surcharge = fine_fen
            .saturating_mul(self.surcharge_per_mille_per_day)
            .saturating_mul(late_days)
            / 1000;
        fine_fen + surcharge.min(fine_fen)
    }

    /// What one part of an approved deferral or instalment plan costs on `now`: the part, plus
    /// 3 % of it a day once its day has passed, never more than the part (art. 72). Nothing
    /// runs before its day.
    pub fn instalment_due(&self, part: &Instalment, now: NaiveDateTime) -> i64 {
        let late_days = (now - part.due_end()).num_days();
        if now <= part.due_end() || late_days <= 0 {
            return part.amount_fen;
        }
        let surcharge = part
            .amount_fen
            .saturating_mul(self.surcharge_per_mille_per_day)
            .saturating_mul(late_days)
            / 1000;
        part.amount_fen + surcharge.min(part.amount_fen)
    }

    /// The window in which the court may be asked to enforce a decision served at `served`:
    /// from the end of the review and litigation periods, for three months (行政强制法 art. 53).
    pub fn court_window(&self, served: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
        let review = served + chrono::Duration::days(self.review_days);
        let litigation = served
            .checked_add_months(chrono::Months::new(self.litigation_months))
            .unwrap_or(NaiveDateTime::MAX);
        let from = review.max(litigation);
        let until = from
            .checked_add_months(chrono::Months::new(self.court_application_months))
            .unwrap_or(NaiveDateTime::MAX);
        (from, until)
    }
}

/// Everything the procedure has produced so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Procedure {
    /// 立案 time: the 90-day clock starts.
    #[serde(with = "rfc3339_opt")]
    pub filed_at: Option<NaiveDateTime>,
    /// The decision is due (filing + 90 days + extensions).
    #[serde(with = "rfc3339_opt")]
    pub decision_due_at: Option<NaiveDateTime>,
    /// Investigating officers.
    pub investigators: Vec<String>,
    /// Investigation records.
    pub records: Vec<CaseRecord>,
    /// The notice of the intended penalty.
    pub notice: Option<Notice>,
    /// The party's statements and defences.
    pub statements: Vec<Statement>,
    /// The hearing, once asked for.
    pub hearing: Option<Hearing>,
    /// Every legal review, oldest first.
    pub reviews: Vec<Review>,
    /// Collective discussion.
    pub discussion: Option<Discussion>,
    /// Approved extensions of the decision limit.
    pub extensions: Vec<Extension>,
    /// The decision.
    pub decision: Option<Decision>,
    /// Service of the decision.
    pub service: Option<Service>,
    /// Payment of the fine (the whole of it, or the last part of an approved plan).
    pub payment: Option<Payment>,
    /// Deferral or instalments asked for by the party (art. 66), with the approver's answer.
    pub payment_plan: Option<PaymentPlan>,
    /// Plans refused before, oldest first.
    pub refused_plans: Vec<PaymentPlan>,
    /// 催告: the reminder after the fine went unpaid.
    pub reminder: Option<Reminder>,
    /// 申请人民法院强制执行.
    pub court_application: Option<CourtApplication>,
    /// Published at.
    #[serde(with = "rfc3339_opt")]
    pub published_at: Option<NaiveDateTime>,
    /// Archived at, with the closing report.
    pub archive: Option<Archive>,
    /// Handed over to police.
    pub hand_over: Option<HandOver>,
    /// Hand-over proposals put to the approver (国务院令 310 第八条), oldest first; the last one
    /// undecided is pending.
    pub hand_over_proposals: Vec<HandOverProposal>,
    /// Deadline warnings raised on the case's clocks.
    pub flags: Vec<ClockFlag>,
}

/// A warning or escalation raised on one of a case's clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockFlag {
    /// `decision`, `service`, `publication`, `payment`, `preservation`, `hand_over_approval`
    /// or `police_answer`.
    pub clock: String,
    /// `yellow` or `red`.
    pub level: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// A case clock that is running: what it is, when it started and when it runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningClock {
    /// `decision` (90 days from filing), `service` (7 days from the decision), `publication`
    /// (7 working days from the decision), `payment` (15 days from service).
    pub clock: &'static str,
    /// Started.
    pub from: NaiveDateTime,
    /// Runs out.
    pub due: NaiveDateTime,
    /// Counted in working time on the calendar.
    pub working_time: bool,
}

/// The clocks running on a case in its present state.
pub fn running_clocks(case: &super::Case, rules: &CaseRules) -> Vec<RunningClock> {
    use super::CaseStatus as S;
    let p = &case.procedure;
    let mut out = Vec::new();
    if case.status.before_decision() {
        if let (Some(from), Some(due)) = (p.filed_at, p.decision_due_at) {
            out.push(RunningClock {
                clock: "decision",
                from,
                due,
                working_time: false,
            });
        }
    }
    // 先行登记保存: the oldest record still waiting for its decision (one clock at a time; the
    // next starts when that one is decided).
    if !matches!(
        case.status,
        S::Archived | S::HandedOver | S::Declined | S::Transferred
    ) {
        if let Some(r) = p
            .records
            .iter()
            .filter(|r| r.kind == CaseRecordKind::EvidencePreservation && r.preservation.is_none())
            .filter(|r| r.decide_by.is_some())
            .min_by_key(|r| r.at)
        {
            out.push(RunningClock {
                clock: "preservation",
                from: r.at,
                due: r.decide_by.unwrap_or(r.at),
                working_time: true,
            });
        }
    }
    if let Some(h) = p.pending_hand_over() {
        if case.status.before_decision() {
            out.push(RunningClock {
                clock: "hand_over_approval",
                from: h.at,
                due: h.at + chrono::Duration::days(rules.hand_over_approval_days),
                working_time: false,
            });
        }
    }
    if let Some(h) = &p.hand_over {
        if case.status == S::HandedOver && h.replies.is_empty() {
            out.push(RunningClock {
                clock: "police_answer",
                from: h.at,
                due: h.at + chrono::Duration::days(rules.hand_over_answer_days),
                working_time: false,
            });
        }
    }
    if let Some(d) = &p.decision {
        if case.status == S::Decided {
            out.push(RunningClock {
                clock: "service",
                from: d.at,
                due: d.serve_by,
                working_time: false,
            });
        }
        if matches!(case.status, S::Decided | S::Served) {
            if let Some(due) = d.publish_by {
                out.push(RunningClock {
                    clock: "publication",
                    from: d.at,
                    due,
                    working_time: true,
                });
            }
        }
    }
    if let Some(s) = &p.service {
        let unpaid = matches!(case.status, S::Served | S::Published)
            && p.fine_fen() > 0
            && p.payment.is_none()
            && p.court_application.is_none();
        if unpaid {
            // An approved deferral or instalment plan moves the payment clock to the next part.
            let (from, due) = match p.payment_plan.as_ref().filter(|pl| pl.in_force()) {
                Some(plan) => {
                    let from = plan.decided_at.unwrap_or(s.at);
                    match plan.next_unpaid() {
                        Some(part) => (from, part.due_end()),
                        None => (from, from),
                    }
                }
                None => (s.at, s.at + chrono::Duration::days(rules.payment_days)),
            };
            out.push(RunningClock {
                clock: "payment",
                from,
                due,
                working_time: false,
            });
            // After a reminder: the court must be asked within its window (行政强制法 art. 53).
            if p.reminder.is_some() {
                let (from, due) = rules.court_window(s.at);
                out.push(RunningClock {
                    clock: "court_application",
                    from,
                    due,
                    working_time: false,
                });
            }
        }
    }
    out
}

impl Procedure {
    /// The last review passed and nothing has changed since.
    pub fn review_passed(&self) -> bool {
        self.reviews.last().is_some_and(|r| r.passed)
    }

    /// The hand-over proposal waiting for the approver, if any.
    pub fn pending_hand_over(&self) -> Option<&HandOverProposal> {
        self.hand_over_proposals
            .last()
            .filter(|h| h.approved.is_none())
    }

    /// Total fine decided, fen.
    pub fn fine_fen(&self) -> i64 {
        match self.decision.as_ref().map(|d| &d.decision) {
            Some(CaseDecision::Penalty { sanctions, .. }) => sanctions
                .iter()
                .filter(|s| s.kind == SanctionKind::Fine)
                .filter_map(|s| s.amount_fen)
                .sum(),
            _ => 0,
        }
    }

    /// The party asked for a hearing that has not been held yet.
    pub fn hearing_pending(&self) -> bool {
        self.hearing.as_ref().is_some_and(|h| h.held_at.is_none())
    }
}

/// The decision on evidence kept by 先行登记保存.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreservationDecision {
    /// What becomes of it.
    pub measure: PreservationMeasure,
    /// Reasons and particulars.
    pub note: String,
    /// Decided by (the approver).
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// An investigation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: CaseRecordKind,
    /// Officers present.
    pub officer_ids: Vec<String>,
    /// Content.
    pub content: String,
    /// Evidence.
    pub attachment_ids: Vec<String>,
    /// 先行登记保存 only: the decision on the kept evidence is due (7 working days).
    #[serde(default, with = "rfc3339_opt")]
    pub decide_by: Option<NaiveDateTime>,
    /// 先行登记保存 only: what was decided for the kept evidence.
    #[serde(default)]
    pub preservation: Option<PreservationDecision>,
    /// Entered by.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 行政处罚事先告知.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The party.
    pub party: Party,
    /// Facts.
    pub facts: String,
    /// Legal basis.
    pub legal_basis: String,
    /// Intended sanctions.
    pub sanctions: Vec<Sanction>,
    /// The penalty qualifies for a hearing (art. 63).
    pub hearing_right: bool,
    /// Last moment to ask for a hearing.
    #[serde(with = "rfc3339")]
    pub hearing_request_until: NaiveDateTime,
    /// End of the statement period.
    #[serde(with = "rfc3339")]
    pub statement_until: NaiveDateTime,
    /// By.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 陈述申辩.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// What was said.
    pub content: String,
    /// The party waived the rest of the period.
    pub waived: bool,
    /// Recorded by.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 听证.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    /// Asked for at.
    #[serde(with = "rfc3339")]
    pub requested_at: NaiveDateTime,
    /// Host.
    pub host_id: Option<String>,
    /// Hearing time.
    #[serde(with = "rfc3339_opt")]
    pub hearing_at: Option<NaiveDateTime>,
    /// The hearing notice was given at.
    #[serde(with = "rfc3339_opt")]
    pub noticed_at: Option<NaiveDateTime>,
    /// Public.
    pub public: bool,
    /// Why not public.
    pub not_public_reason: Option<String>,
    /// The record (听证笔录).
    pub record: Option<String>,
    /// Evidence produced at the hearing.
    pub attachment_ids: Vec<String>,
    /// Held (recorded) at.
    #[serde(with = "rfc3339_opt")]
    pub held_at: Option<NaiveDateTime>,
}

/// 法制审核.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Reviewer.
    pub by: String,
    /// Passed.
    pub passed: bool,
    /// Opinion.
    pub opinion: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 集体讨论.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discussion {
    /// Who took part.
    pub participants: Vec<String>,
    /// Minutes.
    pub minutes: String,
    /// Conclusion.
    pub conclusion: String,
    /// Recorded by.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// An approved extension of the decision limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Days.
    pub days: u32,
    /// Why.
    pub reason: String,
    /// Approver.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 决定.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// 决定书 number.
    pub number: String,
    /// What was decided.
    pub decision: CaseDecision,
    /// Approver.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
    /// Service due (7 days).
    #[serde(with = "rfc3339")]
    pub serve_by: NaiveDateTime,
    /// Publication due (7 working days).
    #[serde(with = "rfc3339_opt")]
    pub publish_by: Option<NaiveDateTime>,
}

/// 送达.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// How.
    pub method: ServiceMethod,
    /// Proof.
    pub receipt_attachment_id: Option<String>,
    /// After the 7 days.
    pub late: bool,
    /// By.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 缴纳罚款.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Paid, fen (fine and surcharge).
    pub amount_fen: i64,
    /// Of which surcharge (加处罚款), fen.
    pub surcharge_fen: i64,
    /// Where.
    pub channel: PaymentChannel,
    /// Bank receipt number.
    pub reference: String,
    /// Recorded by.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// One part of a deferral or instalment plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    /// Last day (China date).
    pub due_on: chrono::NaiveDate,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Its payment.
    #[serde(default)]
    pub paid: Option<Payment>,
}

impl Instalment {
    /// The instant the part's day ends (midnight China time, as UTC).
    pub fn due_end(&self) -> NaiveDateTime {
        self.due_on
            .succ_opt()
            .unwrap_or(self.due_on)
            .and_time(chrono::NaiveTime::MIN)
            - crate::domain::time::china_offset()
    }
}

/// 延期、分期缴纳罚款 (art. 66).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPlan {
    /// Deferral or instalments.
    pub kind: griddispatch_protocol::case::PaymentPlanKind,
    /// The parts.
    pub instalments: Vec<Instalment>,
    /// The party's reasons.
    pub reason: String,
    /// Recorded by.
    pub requested_by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub requested_at: NaiveDateTime,
    /// `None` while pending; approved or not.
    pub approved: Option<bool>,
    /// The approver's reasons.
    pub note: Option<String>,
    /// The approver.
    pub decided_by: Option<String>,
    /// When.
    #[serde(with = "rfc3339_opt")]
    pub decided_at: Option<NaiveDateTime>,
}

impl PaymentPlan {
    /// The plan is in force.
    pub fn in_force(&self) -> bool {
        self.approved == Some(true)
    }

    /// The first part not paid yet.
    pub fn next_unpaid(&self) -> Option<&Instalment> {
        self.instalments.iter().find(|i| i.paid.is_none())
    }
}

/// 催告.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// 催告书 number.
    pub number: String,
    /// What was owed when reminded (fine and surcharge so far), fen.
    pub amount_fen: i64,
    /// The party may pay until (10 working days).
    #[serde(with = "rfc3339")]
    pub pay_by: NaiveDateTime,
    /// By.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 申请人民法院强制执行.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtApplication {
    /// The court.
    pub court: String,
    /// Particulars.
    pub note: String,
    /// What was owed when applying, fen.
    pub amount_fen: i64,
    /// By (the approver).
    pub by: String,
    /// When (the application's date).
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 结案归档.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// 结案报告.
    pub closing_report: String,
    /// How the decision was carried out: `paid`, `applied_to_court` (申请人民法院强制执行) or
    /// `nothing_to_pay`.
    #[serde(default)]
    pub outcome: String,
    /// By.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// Police's answer to a hand-over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOverReply {
    /// What police decided.
    pub decision: griddispatch_protocol::agency::HandOverAnswer,
    /// Why / its number.
    pub note: String,
    /// The liaison who answered.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

/// 移送公安审批: a proposal to hand the case to police and the approver's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOverProposal {
    /// Why a crime is suspected.
    pub reason: String,
    /// Proposed by.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
    /// `true` approved (the hand-over followed), `false` refused; `None` while pending.
    #[serde(default)]
    pub approved: Option<bool>,
    /// Why refused.
    #[serde(default)]
    pub refusal_reason: Option<String>,
    /// The approver who decided.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// When.
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub decided_at: Option<NaiveDateTime>,
}

/// 移送公安.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOver {
    /// Why a crime is suspected.
    pub reason: String,
    /// Police department it went to.
    #[serde(default)]
    pub police_department_id: Option<String>,
    /// Its name.
    #[serde(default)]
    pub police_name: Option<String>,
    /// Procuratorate with the copy (抄送).
    #[serde(default)]
    pub procuratorate_department_id: Option<String>,
    /// Its name.
    #[serde(default)]
    pub procuratorate_name: Option<String>,
    /// Police's answer(s), in order.
    #[serde(default)]
    pub replies: Vec<HandOverReply>,
    /// When the case came back to the brigade (not filed / returned).
    #[serde(default, with = "crate::domain::time::rfc3339_opt")]
    pub returned_at: Option<NaiveDateTime>,
    /// State the case was in.
    pub from_status: String,
    /// By.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap()
    }

    #[test]
    fn the_surcharge_is_three_percent_a_day_after_fifteen_days_and_never_above_the_fine() {
        let r = CaseRules::default();
        assert_eq!(r.amount_due(100_000, at(1), at(16)), 100_000);
        assert_eq!(r.amount_due(100_000, at(1), at(17)), 103_000);
        assert_eq!(r.amount_due(100_000, at(1), at(26)), 130_000);
        // 40 days late would be 120 %: capped at the fine.
        assert_eq!(
            r.amount_due(100_000, at(1), at(1) + chrono::Duration::days(55)),
            200_000
        );
    }

    #[test]
    fn large_fines_and_licence_sanctions_give_a_right_to_a_hearing() {
        let r = CaseRules::default();
        let fine = |a| Sanction {
            kind: SanctionKind::Fine,
            amount_fen: Some(a),
        };
        assert!(!r.hearing_right(PartyKind::Person, &[fine(999_999)]));
        assert!(r.hearing_right(PartyKind::Person, &[fine(1_000_000)]));
        assert!(!r.hearing_right(PartyKind::Organization, &[fine(1_000_000)]));
        assert!(r.hearing_right(
            PartyKind::Organization,
            &[Sanction {
                kind: SanctionKind::RevokeLicence,
                amount_fen: None
            }]
        ));
    }
}
