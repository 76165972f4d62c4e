//! Every refusal reads in Chinese first and English second, and the English half is English:
//! no Chinese inside it, no "a approver". Tried over every command, state and role.

use griddispatch_protocol::Role;

use super::tests::{actor, all_commands, facts, report, task};
use super::*;

fn han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c)
}

/// The problem with a message's English half, if any.
fn fault(message: &str) -> Option<String> {
    let Some(open) = message.rfind('(') else {
        return Some("no English half".into());
    };
    let english = &message[open..];
    if english.chars().any(han) {
        return Some(format!("Chinese inside the English half: {english}"));
    }
    for word in ["a", "A"] {
        for vowel in ['a', 'e', 'i', 'o', 'u'] {
            if english.contains(&format!(" {word} {vowel}"))
                || english.contains(&format!("({word} {vowel}"))
            {
                return Some(format!("`{word}` before a vowel: {english}"));
            }
        }
    }
    None
}

fn check(errors: &mut Vec<String>, cmd: &griddispatch_protocol::command::Command, f: &Facts) {
    if let Err(e) = decide(cmd, f) {
        if let Some(problem) = fault(&e.message) {
            errors.push(format!("{} ({}): {problem}", cmd.name(), e.code));
        }
    }
}

#[test]
fn every_refusal_has_an_english_half_without_chinese() {
    let mut errors = Vec::new();
    let roles: Vec<Vec<Role>> = std::iter::once(vec![])
        .chain(Role::ALL.iter().map(|r| vec![*r]))
        .collect();
    for cmd in all_commands() {
        for rs in ReportStatus::ALL {
            for ts in TaskStatus::ALL {
                for r in &roles {
                    let mut f = facts(actor("off1", r));
                    f.report = Some(report(rs));
                    f.task = Some(task(ts));
                    check(&mut errors, &cmd, &f);
                }
            }
        }
    }
    for cmd in super::tests_case::case_commands() {
        for status in CaseStatus::ALL {
            for r in &roles {
                let c = super::tests_case::case_in(status);
                let f = super::tests_case::facts("off1", r, &c, super::tests_case::t0());
                check(&mut errors, &cmd, &f);
            }
        }
    }
    errors.sort();
    errors.dedup();
    assert!(
        errors.is_empty(),
        "{} messages:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
