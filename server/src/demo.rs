//! Demo data for `griddispatch demo`: loaded idempotently, so restarting keeps what exists.

use chrono::{NaiveDate, NaiveDateTime};
use griddispatch_protocol::auth::{Certificate, NewUserRequest};
use griddispatch_protocol::Role;

use crate::accounts::{self, AccountError};
use crate::db::DbConn;
use crate::store::users;

/// The password of every demo account (printed at start-up; demo only).
pub const DEMO_PASSWORD: &str = "griddemo2026";

/// One demo sign-in.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// Username.
    pub username: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// Roles.
    pub roles: Vec<Role>,
    /// Whether it was created now (false: it existed already).
    pub created: bool,
}

fn demo_accounts() -> Vec<(&'static str, &'static str, Vec<Role>, Option<&'static str>)> {
    vec![
        ("admin", "系统管理员（演示）", vec![Role::Admin], None),
        (
            "grid_member",
            "网格员 张明（演示）",
            vec![Role::GridMember],
            None,
        ),
        (
            "grid_leader",
            "网格长 李红（演示）",
            vec![Role::GridLeader],
            None,
        ),
        (
            "dispatcher",
            "调度员 王强（演示）",
            vec![Role::Dispatcher],
            None,
        ),
        (
            "duty_chief",
            "值班长 赵刚（演示）",
            vec![Role::DutyChief],
            None,
        ),
        (
            "squad_leader",
            "一中队中队长 陈伟（演示）",
            vec![Role::SquadLeader, Role::Officer],
            Some("豫济执 0001"),
        ),
        (
            "officer",
            "执法队员 刘洋（演示）",
            vec![Role::Officer],
            Some("豫济执 0002"),
        ),
        (
            "officer2",
            "执法队员 孙磊（演示）",
            vec![Role::Officer],
            Some("豫济执 0003"),
        ),
        (
            "legal_reviewer",
            "法制审核员 周敏（演示）",
            vec![Role::LegalReviewer],
            None,
        ),
        (
            "approver",
            "镇政府负责人 吴军（演示）",
            vec![Role::Approver],
            None,
        ),
        (
            "department_liaison",
            "市场监管所联络员 郑丽（演示）",
            vec![Role::DepartmentLiaison],
            None,
        ),
    ]
}

/// Create the demo accounts that do not exist yet.
pub fn load(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<DemoLogin>, AccountError> {
    let valid_until = NaiveDate::from_ymd_opt(2030, 12, 31);
    let mut out = Vec::new();
    for (username, display_name, roles, cert) in demo_accounts() {
        let exists = users::find_by_username(conn, username)?.is_some();
        if !exists {
            let req = NewUserRequest {
                username: username.into(),
                display_name: display_name.into(),
                password: DEMO_PASSWORD.into(),
                roles: roles.clone(),
                certificate: cert
                    .zip(valid_until)
                    .map(|(number, valid_until)| Certificate {
                        number: number.into(),
                        valid_until,
                    }),
            };
            accounts::create(conn, "demo", &req, now)?;
        }
        out.push(DemoLogin {
            username,
            display_name,
            roles,
            created: !exists,
        });
    }
    Ok(out)
}
