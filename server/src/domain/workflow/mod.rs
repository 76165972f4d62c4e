//! The closed loop (闭环): report → triage → dispatch → on-site handling → re-check → closed,
//! and case filing. Pure: the command handler loads the facts inside its transaction, calls
//! [`decide`], and writes what comes back. Nothing here reads a clock or a database.

mod decide;
mod model;
mod procedure;
mod publication;
mod rules;

pub use decide::{
    case_evidence_ids, decide, ActorCtx, AssistanceDue, CategoryRules, Change, DepartmentFact,
    EvidenceFact, Facts, Located, OfficerFact, TransferDue,
};
pub use model::{
    Assistance, AssistanceExtension, AssistanceFlag, AssistanceStatus, Case, CaseStatus, CellRef,
    Escalation, PendingRequest, Recheck, Report, ReportStatus, Supplement, Task, TaskStatus,
    Transfer, TransferDispute, TransferFlag, TransferIn, TransferInStatus, TransferPacket,
    TransferStatus,
};
pub use procedure::{
    running_clocks, Archive, CaseDue, CaseRecord, CaseRules, ClockFlag, CourtApplication, Decision,
    Discussion, Extension, HandOver, HandOverProposal, Hearing, Instalment, Notice, Payment,
    PaymentPlan, Procedure, Reminder, Review, RunningClock, Service, Statement,
};
pub use publication::{mask_digits, mask_person, public_decision, PublicDecision};
pub use rules::{
    DomainError, ErrorKind, Fen, MergeRules, ARRIVAL_TOLERANCE_M, SIMPLE_FINE_LIMIT_ORGANIZATION,
    SIMPLE_FINE_LIMIT_PERSON,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_case;
#[cfg(test)]
mod tests_loop;
#[cfg(test)]
mod tests_messages;
