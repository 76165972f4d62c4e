//! 公示: what of a penalty decision the public may see (国办发〔2018〕118号; seed 003). Built
//! field by field from what may be shown — never by removing what may not — so that nothing
//! added to a case later can reach the public page by accident: no complainant, no identity or
//! phone number, no address, no position, and a person's name masked.

use chrono::{DateTime, Utc};
use griddispatch_protocol::case::{CaseDecision, Sanction};
use griddispatch_protocol::command::PartyKind;
use serde::Serialize;

use super::model::Case;

/// A published decision as the public page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicDecision {
    /// 决定书文号.
    pub number: String,
    /// The party: an organisation's name, or a person's surname with the rest masked.
    pub party: String,
    /// Person or organisation.
    #[schema(value_type = String)]
    pub party_kind: PartyKind,
    /// Facts found.
    pub facts: String,
    /// Legal basis.
    pub legal_basis: String,
    /// Sanctions (kind and amount in fen).
    #[schema(value_type = Vec<Object>)]
    pub sanctions: Vec<Sanction>,
    /// Decided at.
    pub decided_at: DateTime<Utc>,
    /// Published at.
    pub published_at: DateTime<Utc>,
    /// Deciding body.
    pub authority: String,
}

/// The public view of a published penalty decision; `None` for anything else.
pub fn public_decision(case: &Case, authority: &str) -> Option<PublicDecision> {
    let p = &case.procedure;
    let decision = p.decision.as_ref()?;
    let published_at = p.published_at?;
    let notice = p.notice.as_ref()?;
    let CaseDecision::Penalty {
        sanctions,
        facts,
        legal_basis,
        ..
    } = &decision.decision
    else {
        return None;
    };
    let party = match notice.party.kind {
        PartyKind::Organization => notice.party.name.trim().to_owned(),
        PartyKind::Person => mask_person(&notice.party.name),
    };
    Some(PublicDecision {
        number: decision.number.clone(),
        party,
        party_kind: notice.party.kind,
        facts: mask_digits(facts),
        legal_basis: legal_basis.clone(),
        sanctions: sanctions.clone(),
        decided_at: decision.at.and_utc(),
        published_at: published_at.and_utc(),
        authority: authority.to_owned(),
    })
}

/// A person's name as published: the surname, the rest as `*` (李小明 → 李**).
pub fn mask_person(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// Long digit runs in free text (identity, phone and account numbers typed into the facts)
/// masked: 7 or more digits in a row keep their first 3 and last 2.
pub fn mask_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let n = run.chars().count();
        if n >= 7 {
            let v: Vec<char> = run.chars().collect();
            out.extend(&v[..3]);
            out.extend(std::iter::repeat_n('*', n - 5));
            out.extend(&v[n - 2..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for ch in text.chars() {
        // An identity number may end in X; an X starts no run of its own.
        if ch.is_ascii_digit() || (matches!(ch, 'X' | 'x') && !run.is_empty()) {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_name_keeps_only_the_surname() {
        assert_eq!(mask_person("李小明"), "李**");
        assert_eq!(mask_person("王五"), "王*");
        assert_eq!(mask_person("张"), "张*");
    }

    #[test]
    fn identity_and_phone_numbers_in_the_facts_are_masked() {
        assert_eq!(
            mask_digits(
                "当事人（身份证 41088119900101123X，电话 13912345678）于 2026 年建房 40 平方米"
            ),
            "当事人（身份证 410*************3X，电话 139******78）于 2026 年建房 40 平方米"
        );
    }
}
