//! Wire types of the general procedure after filing (立案后): investigation records, the notice
//! of the intended penalty, hearing, legal review, decision, service, payment.

use serde::{Deserialize, Serialize};

use crate::command::PartyKind;

/// One sanction of an intended or decided penalty (行政处罚法 art. 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sanction {
    /// What kind.
    pub kind: SanctionKind,
    /// Fine, or value of what is confiscated, in fen (分); none for the other kinds.
    #[serde(default)]
    pub amount_fen: Option<i64>,
}

/// Kinds of sanction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SanctionKind {
    /// 警告、通报批评.
    Warning,
    /// 罚款.
    Fine,
    /// 没收违法所得、没收非法财物.
    Confiscation,
    /// 暂扣许可证件.
    SuspendLicence,
    /// 降低资质等级.
    LowerQualification,
    /// 吊销许可证件.
    RevokeLicence,
    /// 责令停产停业、责令关闭.
    OrderClosure,
    /// 限制从业.
    RestrictPractice,
}

/// Kinds of investigation record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseRecordKind {
    /// 询问笔录.
    Inquiry,
    /// 现场检查（勘验）笔录.
    Inspection,
    /// 先行登记保存 (art. 56: decided within 7 days).
    EvidencePreservation,
}

/// What becomes of evidence kept by 先行登记保存 (art. 56), decided within 7 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PreservationMeasure {
    /// 解除先行登记保存，退还当事人: not needed as evidence any more.
    Return,
    /// 送交检验、检测、鉴定.
    Test,
    /// 移送有关部门处理.
    Transfer,
    /// 依法予以没收（随行政处罚决定）.
    Confiscate,
}

/// The party (当事人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    /// Person or organisation.
    pub kind: PartyKind,
    /// Name.
    pub name: String,
    /// Identity or credit code (never published).
    #[serde(default)]
    pub id_number: Option<String>,
    /// Address for service.
    #[serde(default)]
    pub address: Option<String>,
}

/// The approver's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum CaseDecision {
    /// 行政处罚决定.
    Penalty {
        /// Sanctions; never heavier than the notice (art. 45).
        sanctions: Vec<Sanction>,
        /// Facts found.
        facts: String,
        /// Legal basis.
        legal_basis: String,
        /// Discretion baseline applied (裁量基准, seed 003).
        discretion: String,
        /// Whether and why the party's statements were accepted.
        statements_answer: String,
    },
    /// 不予行政处罚决定 (e.g. first minor violation corrected in time, art. 33).
    NoPenalty {
        /// Facts found.
        facts: String,
        /// Legal basis of not penalising.
        legal_basis: String,
        /// Why.
        reason: String,
    },
}

/// How a decision reached the party (送达方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceMethod {
    /// 直接送达.
    InPerson,
    /// 留置送达.
    LeftAtAddress,
    /// 邮寄送达.
    Post,
    /// 电子送达 (only with the party's consent, art. 61).
    Electronic,
    /// 公告送达.
    PublicNotice,
}

/// What the party asked for when they cannot pay the fine at once (行政处罚法 art. 66).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentPlanKind {
    /// 延期缴纳: the whole fine on one later date.
    Deferral,
    /// 分期缴纳: the fine in two or more parts.
    Instalments,
}

/// One part of a deferred or instalment payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstalmentSpec {
    /// Last day to pay this part (China date; the whole day counts).
    pub due_on: chrono::NaiveDate,
    /// Amount of this part, fen.
    pub amount_fen: i64,
}

/// Where a fine was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentChannel {
    /// At the designated bank (罚缴分离).
    Bank,
    /// Through the bank's or the government's online payment.
    Online,
    /// Handed to an officer: refused under the general procedure (art. 67).
    Officer,
}
