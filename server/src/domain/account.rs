//! Rules for accounts: names, passwords, certificates.

use chrono::{NaiveDate, NaiveDateTime};
use griddispatch_protocol::auth::Certificate;
use griddispatch_protocol::Role;

use super::time::china_date;

/// Why an account value is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRuleError {
    /// Username outside the allowed alphabet or length.
    #[error("用户名须为 3–32 位小写字母、数字或 _ . - (username must be 3–32 of a-z 0-9 _ . -)")]
    InvalidUsername,
    /// Display name empty or too long.
    #[error("姓名不能为空且不超过 64 字 (display name must be 1–64 characters)")]
    InvalidDisplayName,
    /// Password too short or too long.
    #[error("密码至少 8 位、最多 128 位 (password must be 8–128 characters)")]
    WeakPassword,
    /// No role given.
    #[error("至少需要一个角色 (at least one role is required)")]
    NoRoles,
    /// Certificate number empty or malformed.
    #[error("执法证号不能为空且不超过 32 位 (certificate number must be 1–32 characters)")]
    InvalidCertificate,
}

/// A username: 3–32 of `a-z 0-9 _ . -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validate; usernames are case-insensitive, so they are lower-cased first.
    pub fn parse(raw: &str) -> Result<Self, AccountRuleError> {
        let name = raw.trim().to_lowercase();
        let ok_len = (3..=32).contains(&name.len());
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
        let ok_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if ok_len && ok_chars && ok_start {
            Ok(Self(name))
        } else {
            Err(AccountRuleError::InvalidUsername)
        }
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Check a display name.
pub fn check_display_name(name: &str) -> Result<&str, AccountRuleError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AccountRuleError::InvalidDisplayName);
    }
    Ok(name)
}

/// Check a new password's length (argon2 makes the rest of the policy a deployment choice).
pub fn check_password(password: &str) -> Result<(), AccountRuleError> {
    let n = password.chars().count();
    if (8..=128).contains(&n) {
        Ok(())
    } else {
        Err(AccountRuleError::WeakPassword)
    }
}

/// Deduplicate and check a role list.
pub fn check_roles(roles: &[Role]) -> Result<Vec<Role>, AccountRuleError> {
    let mut out: Vec<Role> = roles.to_vec();
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(AccountRuleError::NoRoles);
    }
    Ok(out)
}

/// Check a certificate's number.
pub fn check_certificate(cert: &Certificate) -> Result<(), AccountRuleError> {
    let n = cert.number.trim();
    if n.is_empty() || n.chars().count() > 32 {
        return Err(AccountRuleError::InvalidCertificate);
    }
    Ok(())
}

/// Whether an enforcement certificate is valid at `now` (UTC): valid through its last day
/// in China Standard Time.
pub fn certificate_valid(valid_until: Option<NaiveDate>, now_utc: NaiveDateTime) -> bool {
    valid_until.is_some_and(|last_day| china_date(now_utc) <= last_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse(" Grid.Member_1 ").unwrap().as_str(),
            "grid.member_1"
        );
        for bad in ["ab", "-lead", "名字abc", "a b c", &"x".repeat(33)] {
            assert_eq!(
                Username::parse(bad),
                Err(AccountRuleError::InvalidUsername),
                "{bad}"
            );
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
    }

    #[test]
    fn roles_must_not_be_empty_and_are_deduplicated() {
        assert_eq!(check_roles(&[]), Err(AccountRuleError::NoRoles));
        assert_eq!(
            check_roles(&[Role::Officer, Role::Officer, Role::Dispatcher]).unwrap(),
            vec![Role::Dispatcher, Role::Officer]
        );
    }

    #[test]
    fn certificate_is_valid_through_its_last_day_in_china_time() {
        let last = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let day = |d, h| {
            NaiveDate::from_ymd_opt(2026, 6, d)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        assert!(certificate_valid(Some(last), day(30, 15))); // 23:00 in China on the last day
        assert!(!certificate_valid(Some(last), day(30, 16))); // 00:00 on 1 July in China
        assert!(!certificate_valid(None, day(1, 0)));
    }
}
