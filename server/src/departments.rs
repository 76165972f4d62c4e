//! Departments an admin keeps (职能部门、派驻机构、公安、检察院、法院、鉴定/专业机构) and the
//! liaison accounts acting for them. Shared by the admin API and the demo data, so both enforce
//! the same rules; each change is stored with its entry in the full-process record, in one
//! transaction.

use chrono::NaiveDateTime;
use griddispatch_protocol::Role;
use serde_json::json;

use crate::db::DbConn;
use crate::error::AppError;
use crate::store::departments::{self as store, DepartmentRow, LiaisonRow};
use crate::store::{audit, users};

/// What kind of body a department is; decides what it may be sent (a crime hand-over goes to
/// `police` with a copy to the `procuratorate`; an appraisal to an `expert` body).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentKind {
    /// 职能部门 (a functional department of the county, e.g. 县市场监督管理局).
    Functional,
    /// 派驻机构 (a resident agency in the town, e.g. 市场监管所、派出所).
    Resident,
    /// 公安机关.
    Police,
    /// 人民检察院.
    Procuratorate,
    /// 人民法院.
    Court,
    /// 鉴定、检测或专业机构 (expert body).
    Expert,
}

impl DepartmentKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Functional => "functional",
            Self::Resident => "resident",
            Self::Police => "police",
            Self::Procuratorate => "procuratorate",
            Self::Court => "court",
            Self::Expert => "expert",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Functional,
            Self::Resident,
            Self::Police,
            Self::Procuratorate,
            Self::Court,
            Self::Expert,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A department as created or replaced by an admin.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    /// Name, unique, 1–100 characters (e.g. 县市场监督管理局).
    pub name: String,
    /// Kind of body.
    pub kind: DepartmentKind,
    /// Field of competence in words (e.g. 食品安全、价格), up to 200 characters.
    #[serde(default)]
    pub domain: String,
    /// Office phone, up to 50 characters.
    #[serde(default)]
    pub phone: String,
    /// Office address, up to 200 characters.
    #[serde(default)]
    pub address: String,
    /// Offered for new transfers and requests (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// Liaison accounts (user ids or usernames) with the `department_liaison` role; each acts
    /// for one department only.
    #[serde(default)]
    pub liaisons: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A department as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DepartmentView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind of body.
    pub kind: DepartmentKind,
    /// Field of competence.
    pub domain: String,
    /// Office phone.
    pub phone: String,
    /// Office address.
    pub address: String,
    /// Offered for new transfers and requests.
    pub active: bool,
    /// Liaison accounts.
    pub liaisons: Vec<LiaisonRow>,
}

fn view(conn: &mut DbConn, row: DepartmentRow) -> Result<DepartmentView, AppError> {
    let liaisons = store::liaisons(conn, &row.id)?;
    Ok(DepartmentView {
        kind: DepartmentKind::parse(&row.kind).unwrap_or(DepartmentKind::Functional),
        id: row.id,
        name: row.name,
        domain: row.domain,
        phone: row.phone,
        address: row.address,
        active: row.active,
        liaisons,
    })
}

/// All departments; a liaison sees only its own department.
pub fn list(
    conn: &mut DbConn,
    viewer: &str,
    roles: &[Role],
) -> Result<Vec<DepartmentView>, AppError> {
    let own = own_only(conn, viewer, roles)?;
    let rows = store::list(conn)?;
    rows.into_iter()
        .filter(|r| {
            own.as_ref()
                .is_none_or(|d| d.as_deref() == Some(r.id.as_str()))
        })
        .map(|r| view(conn, r))
        .collect()
}

/// One department (404 when unknown or, to a liaison, not its own).
pub fn get(
    conn: &mut DbConn,
    viewer: &str,
    roles: &[Role],
    id: &str,
) -> Result<DepartmentView, AppError> {
    let own = own_only(conn, viewer, roles)?;
    let row = store::find(conn, id)?
        .filter(|r| {
            own.as_ref()
                .is_none_or(|d| d.as_deref() == Some(r.id.as_str()))
        })
        .ok_or_else(not_found)?;
    view(conn, row)
}

/// `Some(department)` when the viewer is only a liaison (and sees only its department).
fn own_only(
    conn: &mut DbConn,
    viewer: &str,
    roles: &[Role],
) -> Result<Option<Option<String>>, AppError> {
    if roles.iter().all(|r| *r == Role::DepartmentLiaison) {
        Ok(Some(store::department_of(conn, viewer)?))
    } else {
        Ok(None)
    }
}

fn not_found() -> AppError {
    AppError::NotFound("部门不存在 (no such department)".into())
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable("invalid_department", message)
}

/// Check the fields; returns the liaisons' user ids.
fn validate(
    conn: &mut DbConn,
    input: &DepartmentInput,
    department_id: &str,
) -> Result<Vec<String>, AppError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid(
            "部门名称不能为空，最多 100 个字 (name is required, at most 100 characters)",
        ));
    }
    for (field, value, max) in [
        ("domain", &input.domain, 200),
        ("phone", &input.phone, 50),
        ("address", &input.address, 200),
    ] {
        if value.chars().count() > max {
            return Err(invalid(format!(
                "{field} 最多 {max} 个字 ({field}: at most {max} characters)"
            )));
        }
    }
    if let Some(other) = store::find_by_name(conn, name)? {
        if other.id != department_id {
            return Err(AppError::conflict(
                "department_name_taken",
                format!("已有名为「{name}」的部门 (a department named {name} exists)"),
            ));
        }
    }
    if input.liaisons.len() > 50 {
        return Err(invalid("联络员最多 50 人 (at most 50 liaisons)"));
    }
    let mut ids: Vec<String> = Vec::new();
    for key in &input.liaisons {
        let user = match users::find(conn, key)? {
            Some(u) => u,
            None => users::find_by_username(conn, key)?.ok_or_else(|| {
                AppError::unprocessable(
                    "unknown_liaison",
                    format!("联络员账号「{key}」不存在 (no such account: {key})"),
                )
            })?,
        };
        if !users::roles_of(conn, &user.id)?.contains(&Role::DepartmentLiaison) {
            return Err(AppError::unprocessable(
                "not_a_liaison",
                format!(
                    "账号「{}」没有部门联络员角色 department_liaison (the account lacks the department_liaison role)",
                    user.username
                ),
            ));
        }
        if let Some(dept) = store::department_of(conn, &user.id)? {
            if dept != department_id {
                return Err(AppError::conflict(
                    "liaison_taken",
                    format!(
                        "账号「{}」已是另一部门的联络员，先从该部门移除 (the account already acts for another department; remove it there first)",
                        user.username
                    ),
                ));
            }
        }
        if !ids.contains(&user.id) {
            ids.push(user.id);
        }
    }
    Ok(ids)
}

fn row_of(
    input: &DepartmentInput,
    id: String,
    created_at: NaiveDateTime,
    now: NaiveDateTime,
) -> DepartmentRow {
    DepartmentRow {
        id,
        name: input.name.trim().to_owned(),
        kind: input.kind.as_str().to_owned(),
        domain: input.domain.trim().to_owned(),
        phone: input.phone.trim().to_owned(),
        address: input.address.trim().to_owned(),
        active: input.active,
        created_at,
        updated_at: now,
    }
}

/// Create a department, recorded as `create_department` by `admin`.
pub fn create(
    conn: &mut DbConn,
    admin: &str,
    input: &DepartmentInput,
    now: NaiveDateTime,
) -> Result<DepartmentView, AppError> {
    crate::db::write_transaction(conn, |conn| {
        let id = uuid::Uuid::new_v4().to_string();
        let liaisons = validate(conn, input, &id)?;
        let row = row_of(input, id, now, now);
        store::insert(conn, &row)?;
        store::set_liaisons(conn, &row.id, &liaisons)?;
        let after = view(conn, row)?;
        audit::record_action(
            conn,
            admin,
            "create_department",
            &json!({"name": input.name, "kind": input.kind, "liaisons": input.liaisons}),
            &json!({"department": null}),
            &json!({"department": after}),
            now,
        )?;
        Ok(after)
    })
}

/// Replace a department's fields and liaisons, recorded as `update_department` by `admin`.
pub fn update(
    conn: &mut DbConn,
    admin: &str,
    id: &str,
    input: &DepartmentInput,
    now: NaiveDateTime,
) -> Result<DepartmentView, AppError> {
    crate::db::write_transaction(conn, |conn| {
        let old = store::find(conn, id)?.ok_or_else(not_found)?;
        let liaisons = validate(conn, input, id)?;
        let created_at = old.created_at;
        let before = view(conn, old)?;
        let row = row_of(input, id.to_owned(), created_at, now);
        store::update(conn, &row)?;
        store::set_liaisons(conn, id, &liaisons)?;
        let after = view(conn, row)?;
        audit::record_action(
            conn,
            admin,
            "update_department",
            &json!({"id": id, "name": input.name, "kind": input.kind, "liaisons": input.liaisons}),
            &json!({"department": before}),
            &json!({"department": after}),
            now,
        )?;
        Ok(after)
    })
}
