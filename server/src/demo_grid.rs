//! Demo grid for `griddispatch demo`: the synthetic 承留示范镇, its four squads and the grid
//! people. Loaded only while no grid exists, so a restart (or an admin's own grid) is kept.

use chrono::NaiveDateTime;
use grid_data::{demo_town, CellLevel, GenerateError, Grid};
use griddispatch_protocol::auth::NewUserRequest;
use griddispatch_protocol::Role;

use crate::accounts;
use crate::db::DbConn;
use crate::demo::DEMO_PASSWORD;
use crate::grid::{self, CellRole, GridError, NewSquad};
use crate::store::{grid as grid_store, users};

/// The squads of the model town (seed 002 第五条): code, name, domain.
pub const DEMO_SQUADS: [(&str, &str, &str); 4] = [
    (
        "squad1",
        "一中队（自然资源和城市管理）",
        "自然资源和城市管理",
    ),
    (
        "squad2",
        "二中队（环境保护和安全管理）",
        "环境保护和安全管理",
    ),
    (
        "squad3",
        "三中队（市场监督管理，含文化市场）",
        "市场监督管理",
    ),
    ("squad4", "四中队（应急管理，含消防安全）", "应急管理"),
];

/// What `load` did.
#[derive(Debug, Clone, Default)]
pub struct DemoGrid {
    /// The version imported now (`None`: a grid existed already, nothing was changed).
    pub imported_version: Option<i64>,
    /// Grid-member accounts created, one per village (`gm_<village number>`).
    pub grid_members: Vec<String>,
}

/// Import the demo town and attach squads and people, unless a grid exists already.
pub fn load(conn: &mut DbConn, now: NaiveDateTime) -> Result<DemoGrid, GridError> {
    if grid_store::current_version(conn)?.is_some() {
        return Ok(DemoGrid::default());
    }
    let town = demo_town().map_err(|e| match e {
        GenerateError::Invalid(problems) => GridError::Invalid(problems),
        other => GridError::Stored(other.to_string()),
    })?;
    let version = grid::import(
        conn,
        std::slice::from_ref(&town),
        "demo_town（演示）",
        None,
        now,
        &mut |_| {},
    )?;
    let town_code = town.town().code.as_str().to_owned();
    for (code, name, domain) in DEMO_SQUADS {
        if grid_store::find_squad(conn, code)?.is_none() {
            let new = NewSquad {
                code: code.into(),
                name: name.into(),
                domain: domain.into(),
                cells: vec![town_code.clone()],
            };
            grid::create_squad(conn, "demo", &new, now)?;
        }
    }
    if let Some(squad1) = grid_store::find_squad(conn, "squad1")? {
        for username in ["squad_leader", "officer", "officer2"] {
            if let Some(user) = users::find_by_username(conn, username)? {
                grid::add_squad_member(conn, "demo", &squad1.id, &user.id, now)?;
            }
        }
    }
    attach_people(conn, &town, now)?;
    let grid_members = village_members(conn, &town, now)?;
    Ok(DemoGrid {
        imported_version: Some(version.version),
        grid_members,
    })
}

/// The demo `grid_member` on the first village, `grid_leader` on the first area.
fn attach_people(conn: &mut DbConn, town: &Grid, now: NaiveDateTime) -> Result<(), GridError> {
    let first = |level| town.level(level).next().map(|c| c.code.as_str().to_owned());
    let pairs = [
        (
            first(CellLevel::Village),
            "grid_member",
            CellRole::GridMember,
        ),
        (first(CellLevel::Area), "grid_leader", CellRole::GridLeader),
    ];
    for (cell, username, role) in pairs {
        let exists = users::find_by_username(conn, username)?.is_some();
        if let (Some(cell), true) = (cell, exists) {
            grid::set_member(conn, "demo", &cell, username, role, now)?;
        }
    }
    Ok(())
}

/// One grid-member account per village, `gm_<last digits of the village code>`.
fn village_members(
    conn: &mut DbConn,
    town: &Grid,
    now: NaiveDateTime,
) -> Result<Vec<String>, GridError> {
    let mut created = Vec::new();
    for village in town.level(CellLevel::Village) {
        let code = village.code.as_str();
        let username = format!("gm_{}", code.get(9..).unwrap_or(code));
        if users::find_by_username(conn, &username)?.is_none() {
            let req = NewUserRequest {
                username: username.clone(),
                display_name: format!("网格员（{}，演示）", village.name),
                password: DEMO_PASSWORD.into(),
                roles: vec![Role::GridMember],
                certificate: None,
            };
            accounts::create(conn, "demo", &req, now)?;
            created.push(username.clone());
        }
        grid::set_member(conn, "demo", code, &username, CellRole::GridMember, now)?;
    }
    Ok(created)
}
