//! Account management shared by the admin API and the `griddispatch user` commands,
//! so that both enforce the same rules.

use chrono::NaiveDateTime;
use griddispatch_protocol::auth::{Certificate, DeviceView, NewUserRequest, UserView};

use crate::auth::password;
use crate::db::{self, DbConn};
use crate::domain::account::{self, AccountRuleError, Username};
use crate::error::AppError;
use crate::store::{sessions, users};

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A value breaks a rule.
    #[error(transparent)]
    Rule(#[from] AccountRuleError),
    /// The username exists already.
    #[error("用户名 `{0}` 已被使用 (username `{0}` is taken)")]
    UsernameTaken(String),
    /// No such user.
    #[error("用户不存在 (no such user: {0})")]
    NotFound(String),
    /// The change would leave no enabled administrator.
    #[error("至少要保留一个启用的系统管理员账号 (at least one enabled administrator account must remain)")]
    LastAdmin,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl From<AccountError> for AppError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Rule(rule) => {
                let code = match rule {
                    AccountRuleError::InvalidUsername => "invalid_username",
                    AccountRuleError::InvalidDisplayName => "invalid_display_name",
                    AccountRuleError::WeakPassword => "weak_password",
                    AccountRuleError::NoRoles => "no_roles",
                    AccountRuleError::InvalidCertificate => "invalid_certificate",
                };
                AppError::unprocessable(code, rule.to_string())
            }
            e @ AccountError::UsernameTaken(_) => {
                AppError::conflict("username_taken", e.to_string())
            }
            e @ AccountError::NotFound(_) => AppError::NotFound(e.to_string()),
            e @ AccountError::LastAdmin => AppError::conflict("last_admin", e.to_string()),
            AccountError::Hash(e) => AppError::Internal(e),
            AccountError::Db(e) => AppError::Internal(e.to_string()),
        }
    }
}

/// The API view of a user.
pub fn view(
    user: users::UserRow,
    roles: Vec<griddispatch_protocol::Role>,
    now: NaiveDateTime,
) -> UserView {
    let certificate_valid = account::certificate_valid(user.cert_valid_until, now);
    let certificate = match (user.cert_number, user.cert_valid_until) {
        (Some(number), Some(valid_until)) => Some(Certificate {
            number,
            valid_until,
        }),
        _ => None,
    };
    UserView {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        roles,
        certificate,
        certificate_valid,
        disabled: user.disabled,
        created_at: user.created_at.and_utc(),
    }
}

/// Create an account after checking every rule, by `actor_id`; appended to the full-process
/// record (`create_user`, without the password).
pub fn create(
    conn: &mut DbConn,
    actor_id: &str,
    req: &NewUserRequest,
    now: NaiveDateTime,
) -> Result<UserView, AccountError> {
    let username = Username::parse(&req.username)?;
    let display_name = account::check_display_name(&req.display_name)?;
    account::check_password(&req.password)?;
    let roles = account::check_roles(&req.roles)?;
    if let Some(cert) = &req.certificate {
        account::check_certificate(cert)?;
    }
    let hash = password::hash(&req.password).map_err(|e| AccountError::Hash(e.to_string()))?;
    let id = uuid::Uuid::now_v7().to_string();
    let row = users::NewUserRow {
        id: &id,
        username: username.as_str(),
        display_name,
        password_hash: &hash,
        disabled: false,
        cert_number: req.certificate.as_ref().map(|c| c.number.trim()),
        cert_valid_until: req.certificate.as_ref().map(|c| c.valid_until),
        created_at: now,
        updated_at: now,
    };
    let inserted = crate::db::write_transaction(conn, |conn| {
        let created = serde_json::json!({
            "user_id": id, "username": row.username, "display_name": row.display_name,
            "roles": roles, "certificate": req.certificate,
        });
        crate::store::audit::record_action(
            conn,
            actor_id,
            "create_user",
            &created,
            &serde_json::Value::Null,
            &created,
            now,
        )?;
        users::insert(conn, &row, &roles)
    });
    match inserted {
        Ok(()) => {}
        Err(e) if db::is_unique_violation(&e) => {
            return Err(AccountError::UsernameTaken(username.as_str().to_owned()))
        }
        Err(e) => return Err(e.into()),
    }
    let user = users::find(conn, &id)?.ok_or_else(|| AccountError::NotFound(id.clone()))?;
    Ok(view(user, roles, now))
}

/// Every account.
pub fn list(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<UserView>, AccountError> {
    Ok(users::list(conn)?
        .into_iter()
        .map(|u| view(u.user, u.roles, now))
        .collect())
}

/// Find a user by id or username.
pub fn find(conn: &mut DbConn, id_or_username: &str) -> Result<users::UserRow, AccountError> {
    if let Some(u) = users::find(conn, id_or_username)? {
        return Ok(u);
    }
    let by_name = match Username::parse(id_or_username) {
        Ok(name) => users::find_by_username(conn, name.as_str())?,
        Err(_) => None,
    };
    by_name.ok_or_else(|| AccountError::NotFound(id_or_username.to_owned()))
}

/// Disable (and sign out everywhere) or re-enable an account, by `actor_id`; appended to the
/// full-process record (`disable_user` / `enable_user`).
pub fn set_disabled(
    conn: &mut DbConn,
    actor_id: &str,
    id_or_username: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> Result<UserView, AccountError> {
    let user = find(conn, id_or_username)?;
    crate::db::write_transaction(conn, |conn| {
        crate::store::audit::record_action(
            conn,
            actor_id,
            if disabled {
                "disable_user"
            } else {
                "enable_user"
            },
            &serde_json::json!({"user_id": user.id, "username": user.username}),
            &serde_json::json!({"disabled": user.disabled}),
            &serde_json::json!({"disabled": disabled}),
            now,
        )?;
        users::set_disabled(conn, &user.id, disabled, now)?;
        if disabled {
            sessions::revoke_all(conn, &user.id, "account_disabled", now)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    reload(conn, &user.id, now)
}

/// Renew, change (`Some`) or withdraw (`None`) an account's enforcement certificate, by
/// `actor_id`; the change is appended to the full-process record (`set_certificate`).
pub fn set_certificate(
    conn: &mut DbConn,
    actor_id: &str,
    id_or_username: &str,
    certificate: Option<&Certificate>,
    now: NaiveDateTime,
) -> Result<UserView, AccountError> {
    if let Some(cert) = certificate {
        account::check_certificate(cert)?;
    }
    let user = find(conn, id_or_username)?;
    let shown = |number: Option<&str>, valid_until: Option<chrono::NaiveDate>| serde_json::json!({"cert_number": number, "cert_valid_until": valid_until});
    let before = shown(user.cert_number.as_deref(), user.cert_valid_until);
    let number = certificate.map(|c| c.number.trim());
    let valid_until = certificate.map(|c| c.valid_until);
    let after = shown(number, valid_until);
    crate::db::write_transaction(conn, |conn| {
        crate::store::audit::record_action(
            conn,
            actor_id,
            "set_certificate",
            &serde_json::json!({"user_id": user.id, "username": user.username, "certificate": after}),
            &before,
            &after,
            now,
        )?;
        users::set_certificate(conn, &user.id, number, valid_until, now)
    })?;
    reload(conn, &user.id, now)
}

/// Give an account a new set of roles, by `actor_id`; appended to the full-process record
/// (`set_roles`). Refused when it would leave no enabled administrator. Takes effect on the
/// account's next request (roles are read per request, not carried in tokens).
pub fn set_roles(
    conn: &mut DbConn,
    actor_id: &str,
    id_or_username: &str,
    roles: &[griddispatch_protocol::Role],
    now: NaiveDateTime,
) -> Result<UserView, AccountError> {
    use griddispatch_protocol::Role;
    let roles = account::check_roles(roles)?;
    let user = find(conn, id_or_username)?;
    crate::db::write_transaction(conn, |conn| {
        let before = users::roles_of(conn, &user.id)?;
        if before.contains(&Role::Admin)
            && !roles.contains(&Role::Admin)
            && !user.disabled
            && users::count_enabled_with_role(conn, Role::Admin)? <= 1
        {
            return Err(AccountError::LastAdmin);
        }
        crate::store::audit::record_action(
            conn,
            actor_id,
            "set_roles",
            &serde_json::json!({"user_id": user.id, "username": user.username, "roles": roles}),
            &serde_json::json!({"roles": before}),
            &serde_json::json!({"roles": roles}),
            now,
        )?;
        users::set_roles(conn, &user.id, &roles, now)?;
        Ok(())
    })?;
    let user =
        users::find(conn, &user.id)?.ok_or_else(|| AccountError::NotFound(user.id.clone()))?;
    Ok(view(user, roles, now))
}

/// Set a new password for a user who lost theirs, by `actor_id`; the account is signed out on
/// every device (its tokens stop working) and the change is appended to the full-process record
/// (`reset_password`, never the password itself).
pub fn reset_password(
    conn: &mut DbConn,
    actor_id: &str,
    id_or_username: &str,
    password: &str,
    now: NaiveDateTime,
) -> Result<UserView, AccountError> {
    account::check_password(password)?;
    let user = find(conn, id_or_username)?;
    let hash = password::hash(password).map_err(|e| AccountError::Hash(e.to_string()))?;
    crate::db::write_transaction(conn, |conn| {
        let who = serde_json::json!({"user_id": user.id, "username": user.username});
        crate::store::audit::record_action(
            conn,
            actor_id,
            "reset_password",
            &who,
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            now,
        )?;
        users::set_password_hash(conn, &user.id, &hash, now)?;
        sessions::revoke_all(conn, &user.id, "password_reset", now)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    reload(conn, &user.id, now)
}

/// An account as it is now.
fn reload(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<UserView, AccountError> {
    let roles = users::roles_of(conn, id)?;
    let user = users::find(conn, id)?.ok_or_else(|| AccountError::NotFound(id.to_owned()))?;
    Ok(view(user, roles, now))
}

/// Revoke a user's device (lost phone); returns how many sessions were ended.
pub fn revoke_device(
    conn: &mut DbConn,
    user_id: &str,
    device_id: &str,
    now: NaiveDateTime,
) -> Result<usize, AccountError> {
    Ok(sessions::revoke_device(
        conn,
        user_id,
        device_id,
        "device_revoked",
        now,
    )?)
}

/// Devices a user is signed in on.
pub fn devices(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<DeviceView>, AccountError> {
    Ok(sessions::active_for_user(conn, user_id, now)?
        .into_iter()
        .map(|s| DeviceView {
            device_id: s.device_id,
            signed_in_at: s.created_at.and_utc(),
            last_seen_at: s.last_used_at.and_utc(),
        })
        .collect())
}
