//! Wire types of the work between the brigade and other departments: transfers out (移送),
//! their answers, disputes.

use serde::{Deserialize, Serialize};

/// In whose name a transfer is sent. Only the brigade (the enforcement authority) sends; a
/// squad or other sub-unit may not send in its own name (refused: `brigade_name_required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferSender {
    /// 以综合行政执法队（执法主体）名义.
    #[default]
    Brigade,
    /// 以中队等内设机构名义 — refused.
    Squad,
}

/// Where a refused transfer is taken (争议: 法制机构, then the government).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DisputeLevel {
    /// 司法所 / 法制机构 first.
    LegalOffice,
    /// 本级人民政府 after the legal office.
    Government,
}

/// Police's answer to a crime hand-over (行刑衔接).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HandOverAnswer {
    /// 立案侦查: police took it as a criminal case; still no administrative penalty.
    Filed,
    /// 不予立案: not a crime; the case returns to the brigade.
    NotFiled,
    /// 移交回执法队: sent back for administrative handling (e.g. no criminal liability).
    Returned,
}

/// What an assistance request (执法协助, seed 000 三(二)(五)) asks a department or an expert
/// body for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssistanceKind {
    /// 书面认定: the competent department's finding.
    Finding,
    /// 咨询意见: an opinion.
    Opinion,
    /// 检测: a test by a technical body.
    Test,
    /// 鉴定: an appraisal.
    Appraisal,
}

impl AssistanceKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finding => "finding",
            Self::Opinion => "opinion",
            Self::Test => "test",
            Self::Appraisal => "appraisal",
        }
    }

    /// Chinese name, for letters and screens.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Finding => "书面认定",
            Self::Opinion => "咨询意见",
            Self::Test => "检测",
            Self::Appraisal => "鉴定",
        }
    }
}
