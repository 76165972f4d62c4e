//! Legal limits and the domain's error type.

use std::fmt;

use griddispatch_protocol::command::PartyKind;

/// An amount of money in fen (分), never floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fen(pub i64);

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} 元", self.0 / 100, self.0 % 100)
    }
}

/// 行政处罚法 (2021) art. 51: on-the-spot fines up to 200 元 for a person …
pub const SIMPLE_FINE_LIMIT_PERSON: Fen = Fen(20_000);
/// … and up to 3000 元 for an organisation.
pub const SIMPLE_FINE_LIMIT_ORGANIZATION: Fen = Fen(300_000);
/// How far from the cell an officer may report arrival (GPS error, cell edges), metres.
pub const ARRIVAL_TOLERANCE_M: f64 = 300.0;

/// When two reports are the same matter (合并 criteria, DOMAIN.md §4): same category, within
/// `max_distance_m` of each other, made within `max_hours` of each other. Configuration
/// (`[merge_rules]`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MergeRules {
    /// Farthest apart two duplicates may be, metres.
    pub max_distance_m: f64,
    /// Longest time between the two reports, hours.
    pub max_hours: i64,
}

impl Default for MergeRules {
    fn default() -> Self {
        Self {
            max_distance_m: 200.0,
            max_hours: 72,
        }
    }
}

/// The statutory limit of a simple-procedure fine for a party.
pub fn simple_fine_limit(kind: PartyKind) -> Fen {
    match kind {
        PartyKind::Person => SIMPLE_FINE_LIMIT_PERSON,
        PartyKind::Organization => SIMPLE_FINE_LIMIT_ORGANIZATION,
    }
}

/// What kind of refusal: decides the HTTP status at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The actor's role does not allow it (403).
    Forbidden,
    /// The role allows it, but not on this object: not their cell, squad or task (403).
    OutOfScope,
    /// Not from this state (409).
    InvalidState,
    /// A rule of law or procedure (422).
    Rule,
    /// A referenced object does not exist (404).
    NotFound,
}

/// A refused command: kind, stable code and a Chinese-first message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    /// Kind.
    pub kind: ErrorKind,
    /// Stable snake_case code.
    pub code: &'static str,
    /// What and why.
    pub message: String,
}

impl DomainError {
    /// Forbidden by role.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Forbidden,
            code: "forbidden",
            message: message.into(),
        }
    }

    /// Outside the actor's cells, squad or task.
    pub fn out_of_scope(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::OutOfScope,
            code: "out_of_scope",
            message: message.into(),
        }
    }

    /// Wrong state.
    pub fn state(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidState,
            code: "invalid_state",
            message: message.into(),
        }
    }

    /// A rule.
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Rule,
            code,
            message: message.into(),
        }
    }

    /// Missing object.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::NotFound,
            code: "not_found",
            message: message.into(),
        }
    }
}
