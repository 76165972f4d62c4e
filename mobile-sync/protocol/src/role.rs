//! The ten roles of the system (DOMAIN.md §1). A person may hold several.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role a user holds; decides what the server lets them do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 网格员: reports leads and re-checks handled items in their own cells.
    GridMember,
    /// 网格长: sees everything in their cell and below; told of overdue items.
    GridLeader,
    /// 指挥调度中心 受理员/派遣员: triage, merge, dispatch, close after re-check.
    Dispatcher,
    /// 值班长: approves extensions and returns, escalates.
    DutyChief,
    /// 中队长: accepts or returns tasks, assigns officers, closes tasks.
    SquadLeader,
    /// 执法人员: handles tasks on site; needs a valid enforcement certificate.
    Officer,
    /// 法制审核员: legal review of cases.
    LegalReviewer,
    /// 镇政府负责人: approves case filing and penalty decisions.
    Approver,
    /// 职能部门联络员: receives transfers and assistance requests.
    DepartmentLiaison,
    /// Administrator: grid, accounts, categories, calendar.
    Admin,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 10] = [
        Role::GridMember,
        Role::GridLeader,
        Role::Dispatcher,
        Role::DutyChief,
        Role::SquadLeader,
        Role::Officer,
        Role::LegalReviewer,
        Role::Approver,
        Role::DepartmentLiaison,
        Role::Admin,
    ];

    /// The stable snake_case name used on the wire, in the database and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridMember => "grid_member",
            Role::GridLeader => "grid_leader",
            Role::Dispatcher => "dispatcher",
            Role::DutyChief => "duty_chief",
            Role::SquadLeader => "squad_leader",
            Role::Officer => "officer",
            Role::LegalReviewer => "legal_reviewer",
            Role::Approver => "approver",
            Role::DepartmentLiaison => "department_liaison",
            Role::Admin => "admin",
        }
    }

    /// The Chinese name shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::GridMember => "网格员",
            Role::GridLeader => "网格长",
            Role::Dispatcher => "调度员",
            Role::DutyChief => "值班长",
            Role::SquadLeader => "中队长",
            Role::Officer => "执法人员",
            Role::LegalReviewer => "法制审核员",
            Role::Approver => "审批负责人",
            Role::DepartmentLiaison => "部门联络员",
            Role::Admin => "系统管理员",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the ten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        write!(
            f,
            "未知角色 unknown role `{}`; expected one of: {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownRole {}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name_and_serde() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn unknown_role_is_refused_with_the_list_of_valid_names() {
        let err = "mayor".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("grid_member"));
    }
}
