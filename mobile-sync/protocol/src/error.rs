//! The one error shape every endpoint answers with.

use serde::{Deserialize, Serialize};

/// `{"error":{"code":"snake_case_code","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// A stable machine code and a human message (Chinese first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable snake_case code that clients may branch on; see docs/api.md.
    pub code: String,
    /// What went wrong and what to fix, for people.
    pub message: String,
}
