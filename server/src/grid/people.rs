//! The people attached to cells (网格长, 网格员) and the squads (执法中队) responsible for them.

use chrono::NaiveDateTime;
use griddispatch_protocol::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CellRef, GridError};
use crate::accounts;
use crate::db::DbConn;
use crate::store::grid::{self as store, CellRow, SquadRow};
use crate::store::users;

/// A person's role in one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum CellRole {
    /// 网格长: sees everything in the cell and below, told of overdue items.
    GridLeader,
    /// 网格员: reports and re-checks in the cell.
    GridMember,
}

impl CellRole {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GridLeader => "grid_leader",
            Self::GridMember => "grid_member",
        }
    }

    /// The account role a person needs to hold this cell role.
    pub fn account_role(self) -> Role {
        match self {
            Self::GridLeader => Role::GridLeader,
            Self::GridMember => Role::GridMember,
        }
    }
}

/// A person on a cell.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CellMember {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// `grid_leader` or `grid_member`.
    pub role: String,
    /// When assigned (UTC).
    pub assigned_at: chrono::DateTime<chrono::Utc>,
}

/// A squad with the cells it is responsible for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SquadView {
    /// Id.
    pub id: String,
    /// Short unique code.
    pub code: String,
    /// Name, e.g. `一中队`.
    pub name: String,
    /// Enforcement domain, e.g. `自然资源和城市管理`.
    pub domain: String,
    /// Cell codes it is responsible for.
    pub cells: Vec<String>,
}

/// A new squad.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewSquad {
    /// Short unique code (1–32 characters), e.g. `squad1`.
    pub code: String,
    /// Name, e.g. `一中队`.
    pub name: String,
    /// Enforcement domain, e.g. `自然资源和城市管理`.
    pub domain: String,
    /// Cells it is responsible for (optional; codes in the current grid).
    #[serde(default)]
    pub cells: Vec<String>,
}

/// One cell with its people and squads.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CellDetail {
    /// Grid version the cell was read from.
    pub version: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `town`, `area` or `village`.
    pub level: String,
    /// Parent cell.
    pub parent: Option<CellRef>,
    /// Direct children.
    pub children: Vec<CellRef>,
    /// Bounding box `[west, south, east, north]`.
    pub bbox: [f64; 4],
    /// Boundary as a GeoJSON geometry (WGS-84).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    /// Grid leaders and members of this cell (not of cells above or below).
    pub members: Vec<CellMember>,
    /// Squads responsible for this cell.
    pub squads: Vec<SquadView>,
}

fn current_cell(conn: &mut DbConn, code: &str) -> Result<CellRow, GridError> {
    let version = store::current_version(conn)?.ok_or(GridError::NoGrid)?;
    store::find_cell(conn, version.version, code)?
        .ok_or_else(|| GridError::UnknownCell(code.to_owned()))
}

/// Append an administrator's change of the grid's people or squads to the full-process record.
fn record(
    conn: &mut DbConn,
    actor_id: &str,
    action: &str,
    payload: serde_json::Value,
    before: serde_json::Value,
    after: serde_json::Value,
    now: NaiveDateTime,
) -> Result<(), GridError> {
    crate::store::audit::record_action(conn, actor_id, action, &payload, &before, &after, now)?;
    Ok(())
}

/// The role `user_id` holds on `cell` now, if any.
fn role_on(conn: &mut DbConn, cell: &str, user_id: &str) -> Result<Option<String>, GridError> {
    Ok(store::members_of(conn, cell)?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .map(|m| m.role))
}

/// Put a user (id or username) on a cell of the current grid with a role, by `actor_id`; the
/// account must hold the matching system role. Recorded as `set_cell_member`.
pub fn set_member(
    conn: &mut DbConn,
    actor_id: &str,
    cell_code: &str,
    user: &str,
    role: CellRole,
    now: NaiveDateTime,
) -> Result<CellMember, GridError> {
    crate::db::write_transaction(conn, |conn| {
        let cell = current_cell(conn, cell_code)?;
        let account = accounts::find(conn, user)?;
        if !users::roles_of(conn, &account.id)?.contains(&role.account_role()) {
            return Err(GridError::RoleNotHeld(role.as_str()));
        }
        let before = role_on(conn, &cell.code, &account.id)?;
        record(
            conn,
            actor_id,
            "set_cell_member",
            serde_json::json!({"cell": cell.code, "user_id": account.id,
                "username": account.username, "role": role.as_str()}),
            serde_json::json!({"role": before}),
            serde_json::json!({"role": role.as_str()}),
            now,
        )?;
        store::set_member(conn, &cell.code, &account.id, role.as_str(), now)?;
        Ok(CellMember {
            user_id: account.id,
            username: account.username,
            display_name: account.display_name,
            role: role.as_str().to_owned(),
            assigned_at: now.and_utc(),
        })
    })
}

/// Take a user (id or username) off a cell, by `actor_id`; recorded as `remove_cell_member`.
pub fn remove_member(
    conn: &mut DbConn,
    actor_id: &str,
    cell_code: &str,
    user: &str,
    now: NaiveDateTime,
) -> Result<(), GridError> {
    let account = accounts::find(conn, user)?;
    crate::db::write_transaction(conn, |conn| {
        let Some(before) = role_on(conn, cell_code, &account.id)? else {
            return Err(GridError::NotAMember {
                cell: cell_code.to_owned(),
                user: user.to_owned(),
            });
        };
        record(
            conn,
            actor_id,
            "remove_cell_member",
            serde_json::json!({"cell": cell_code, "user_id": account.id,
                "username": account.username}),
            serde_json::json!({"role": before}),
            serde_json::json!({"role": null}),
            now,
        )?;
        store::remove_member(conn, cell_code, &account.id)?;
        Ok(())
    })
}

/// A cell of the current grid with its parent, children, people and squads.
pub fn cell_detail(conn: &mut DbConn, code: &str) -> Result<CellDetail, GridError> {
    let cell = current_cell(conn, code)?;
    let parent = match &cell.parent_code {
        Some(p) => store::find_cell(conn, cell.version, p)?.map(|p| CellRef {
            code: p.code,
            name: p.name,
        }),
        None => None,
    };
    let children = store::cells_of(conn, cell.version, None, Some(&cell.code))?
        .into_iter()
        .map(|c| CellRef {
            code: c.code,
            name: c.name,
        })
        .collect();
    let members = store::members_of(conn, &cell.code)?
        .into_iter()
        .map(|m| CellMember {
            user_id: m.user_id,
            username: m.username,
            display_name: m.display_name,
            role: m.role,
            assigned_at: m.assigned_at.and_utc(),
        })
        .collect();
    let squads = store::squads_of_cell(conn, &cell.code)?
        .into_iter()
        .map(|s| squad_view(conn, s))
        .collect::<Result<_, _>>()?;
    Ok(CellDetail {
        version: cell.version,
        geometry: serde_json::from_str(&cell.geometry)
            .map_err(|e| GridError::Stored(e.to_string()))?,
        bbox: [cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat],
        code: cell.code,
        name: cell.name,
        level: cell.level,
        parent,
        children,
        members,
        squads,
    })
}

fn squad_view(conn: &mut DbConn, s: SquadRow) -> Result<SquadView, GridError> {
    let cells = store::squad_cell_codes(conn, &s.id)?;
    Ok(SquadView {
        id: s.id,
        code: s.code,
        name: s.name,
        domain: s.domain,
        cells,
    })
}

/// Create a squad, optionally responsible for some cells of the current grid, by `actor_id`;
/// recorded as `create_squad`.
pub fn create_squad(
    conn: &mut DbConn,
    actor_id: &str,
    new: &NewSquad,
    now: NaiveDateTime,
) -> Result<SquadView, GridError> {
    let code = new.code.trim();
    let name = new.name.trim();
    let domain = new.domain.trim();
    if code.is_empty() || code.chars().count() > 32 {
        return Err(GridError::InvalidSquad("code"));
    }
    if name.is_empty() {
        return Err(GridError::InvalidSquad("name"));
    }
    if domain.is_empty() {
        return Err(GridError::InvalidSquad("domain"));
    }
    crate::db::write_transaction(conn, |conn| {
        if store::find_squad(conn, code)?.is_some() {
            return Err(GridError::SquadCodeTaken(code.to_owned()));
        }
        let row = SquadRow {
            id: uuid::Uuid::now_v7().to_string(),
            code: code.to_owned(),
            name: name.to_owned(),
            domain: domain.to_owned(),
            created_at: now,
        };
        store::insert_squad(conn, &row)?;
        for cell in &new.cells {
            let cell = current_cell(conn, cell)?;
            store::add_squad_cell(conn, &row.id, &cell.code)?;
        }
        let view = squad_view(conn, row)?;
        record(
            conn,
            actor_id,
            "create_squad",
            serde_json::json!(new),
            serde_json::Value::Null,
            serde_json::json!(view),
            now,
        )?;
        Ok(view)
    })
}

/// Every squad with its cells.
pub fn list_squads(conn: &mut DbConn) -> Result<Vec<SquadView>, GridError> {
    let pairs = store::all_squad_cells(conn)?;
    Ok(store::list_squads(conn)?
        .into_iter()
        .map(|s| SquadView {
            cells: pairs
                .iter()
                .filter(|(id, _)| *id == s.id)
                .map(|(_, c)| c.clone())
                .collect(),
            id: s.id,
            code: s.code,
            name: s.name,
            domain: s.domain,
        })
        .collect())
}

/// A squad and its members (roles, certificate and whether it is valid today), by name: what
/// a squad leader picks officers from when accepting a task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SquadMembers {
    /// Squad id.
    pub squad_id: String,
    /// Squad code.
    pub code: String,
    /// Squad name.
    pub name: String,
    /// Members, by display name.
    pub members: Vec<griddispatch_protocol::auth::UserView>,
}

/// The squad (id or code), for deciding who may read its members.
pub fn find_squad(conn: &mut DbConn, squad: &str) -> Result<SquadRow, GridError> {
    store::find_squad(conn, squad)?.ok_or_else(|| GridError::UnknownSquad(squad.to_owned()))
}

/// The members of a squad, with certificates judged valid or not at `now`.
pub fn squad_members(
    conn: &mut DbConn,
    squad: SquadRow,
    now: NaiveDateTime,
) -> Result<SquadMembers, GridError> {
    let members = users::squad_members(conn, &squad.id)?
        .into_iter()
        .map(|m| accounts::view(m.user, m.roles, now))
        .collect();
    Ok(SquadMembers {
        squad_id: squad.id,
        code: squad.code,
        name: squad.name,
        members,
    })
}

/// Make a squad (id or code) responsible for a cell of the current grid, by `actor_id`;
/// recorded as `add_squad_cell` (idempotent: a cell it already has changes and records nothing).
pub fn add_squad_cell(
    conn: &mut DbConn,
    actor_id: &str,
    squad: &str,
    cell_code: &str,
    now: NaiveDateTime,
) -> Result<SquadView, GridError> {
    crate::db::write_transaction(conn, |conn| {
        let squad = store::find_squad(conn, squad)?
            .ok_or_else(|| GridError::UnknownSquad(squad.to_owned()))?;
        let cell = current_cell(conn, cell_code)?;
        let before = store::squad_cell_codes(conn, &squad.id)?;
        if before.contains(&cell.code) {
            return squad_view(conn, squad);
        }
        store::add_squad_cell(conn, &squad.id, &cell.code)?;
        let view = squad_view(conn, squad)?;
        record(
            conn,
            actor_id,
            "add_squad_cell",
            serde_json::json!({"squad_id": view.id, "code": view.code, "cell": cell.code}),
            serde_json::json!({"cells": before}),
            serde_json::json!({"cells": view.cells}),
            now,
        )?;
        Ok(view)
    })
}

/// Remove a squad's responsibility for a cell, by `actor_id`; recorded as `remove_squad_cell`.
pub fn remove_squad_cell(
    conn: &mut DbConn,
    actor_id: &str,
    squad: &str,
    cell_code: &str,
    now: NaiveDateTime,
) -> Result<SquadView, GridError> {
    crate::db::write_transaction(conn, |conn| {
        let row = store::find_squad(conn, squad)?
            .ok_or_else(|| GridError::UnknownSquad(squad.to_owned()))?;
        let before = store::squad_cell_codes(conn, &row.id)?;
        if !store::remove_squad_cell(conn, &row.id, cell_code)? {
            return Err(GridError::UnknownCell(cell_code.to_owned()));
        }
        let view = squad_view(conn, row)?;
        record(
            conn,
            actor_id,
            "remove_squad_cell",
            serde_json::json!({"squad_id": view.id, "code": view.code, "cell": cell_code}),
            serde_json::json!({"cells": before}),
            serde_json::json!({"cells": view.cells}),
            now,
        )?;
        Ok(view)
    })
}

/// Add a user (id or username) to a squad (id or code), by `actor_id`; recorded as
/// `add_squad_member` (idempotent: an existing member changes and records nothing).
pub fn add_squad_member(
    conn: &mut DbConn,
    actor_id: &str,
    squad: &str,
    user: &str,
    now: NaiveDateTime,
) -> Result<(), GridError> {
    crate::db::write_transaction(conn, |conn| {
        let squad = find_squad(conn, squad)?;
        let account = accounts::find(conn, user)?;
        let before: Vec<String> = users::squad_members(conn, &squad.id)?
            .into_iter()
            .map(|m| m.user.id)
            .collect();
        if before.contains(&account.id) {
            return Ok(());
        }
        record(
            conn,
            actor_id,
            "add_squad_member",
            serde_json::json!({"squad_id": squad.id, "code": squad.code,
                "user_id": account.id, "username": account.username}),
            serde_json::json!({"member": false}),
            serde_json::json!({"member": true}),
            now,
        )?;
        crate::workflow::scope::add_squad_member(conn, &squad.id, &account.id)?;
        Ok(())
    })
}

/// Take a user (id or username) out of a squad (id or code), by `actor_id`; recorded as
/// `remove_squad_member` (idempotent: a non-member changes and records nothing).
pub fn remove_squad_member(
    conn: &mut DbConn,
    actor_id: &str,
    squad: &str,
    user: &str,
    now: NaiveDateTime,
) -> Result<(), GridError> {
    crate::db::write_transaction(conn, |conn| {
        let squad = find_squad(conn, squad)?;
        let account = accounts::find(conn, user)?;
        let member = users::squad_members(conn, &squad.id)?
            .iter()
            .any(|m| m.user.id == account.id);
        if !member {
            // Deleting what is not there is idempotent: nothing changes, nothing is recorded.
            return Ok(());
        }
        record(
            conn,
            actor_id,
            "remove_squad_member",
            serde_json::json!({"squad_id": squad.id, "code": squad.code,
                "user_id": account.id, "username": account.username}),
            serde_json::json!({"member": true}),
            serde_json::json!({"member": false}),
            now,
        )?;
        crate::workflow::scope::remove_squad_member(conn, &squad.id, &account.id)?;
        Ok(())
    })
}
