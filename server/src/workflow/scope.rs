//! Where the workflow meets the grid and the squads: a user's cells, squads, locating a
//! position, arrival distance.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use grid_data::{GridIndex, Lookup};
use griddispatch_media::GeoPoint;

use super::Env;
use crate::db::DbConn;
use crate::domain::workflow::{CellRef, Located, Report, Task};
use crate::schema::squad_members;

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    code: String,
}

/// Village codes a user serves: cells they are a member or leader of, with areas and towns
/// expanded to the villages below them, in the given grid version.
pub fn villages_of(conn: &mut DbConn, user_id: &str, version: i64) -> QueryResult<Vec<String>> {
    let rows: Vec<Code> = diesel::sql_query(
        // SQLite numbers `$n` parameters by first appearance: `$1` must come before `$2`.
        "SELECT v.code AS code FROM cells v \
         WHERE ( \
           v.code IN (SELECT m.cell_code FROM cell_members m WHERE m.user_id = $1) \
           OR v.parent_code IN (SELECT m.cell_code FROM cell_members m WHERE m.user_id = $1) \
           OR EXISTS (SELECT 1 FROM cell_members m JOIN cells t ON t.code = m.cell_code \
                      WHERE m.user_id = $1 AND t.version = $2 AND t.level = 'town')) \
         AND v.version = $2 AND v.level = 'village'",
    )
    .bind::<Text, _>(user_id)
    .bind::<BigInt, _>(version)
    .load(conn)?;
    Ok(rows.into_iter().map(|c| c.code).collect())
}

/// Squads a user belongs to.
pub fn squads_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<String>> {
    squad_members::table
        .filter(squad_members::user_id.eq(user_id))
        .select(squad_members::squad_id)
        .load(conn)
}

/// Whether a squad exists.
pub fn squad_exists(conn: &mut DbConn, squad_id: &str) -> QueryResult<bool> {
    let rows: Vec<Code> = diesel::sql_query("SELECT id AS code FROM squads WHERE id = $1")
        .bind::<Text, _>(squad_id)
        .load(conn)?;
    Ok(!rows.is_empty())
}

/// Locate a WGS-84 position.
pub fn locate(index: &GridIndex, version: i64, lat: f64, lon: f64) -> Located {
    match index.locate(lon, lat) {
        Lookup::Located(l) => Located::Inside(CellRef {
            village: l.village.as_str().to_owned(),
            area: l.area.as_str().to_owned(),
            town: l.town.as_str().to_owned(),
            version,
        }),
        Lookup::OutsideGrid {
            nearest,
            distance_m,
        } => Located::Outside {
            nearest: nearest.as_str().to_owned(),
            distance_m,
        },
        Lookup::InvalidPoint => Located::InvalidPoint,
    }
}

/// How far an arriving officer is from the task: 0 inside the task's village cell, otherwise
/// the distance to the reported position (GPS drift and cells' edges are what the tolerance
/// absorbs).
pub fn arrival_distance(
    env: &Env<'_>,
    task: Option<&Task>,
    report: Option<&Report>,
    lat: f64,
    lon: f64,
) -> f64 {
    if let (Some(index), Some(t)) = (env.grid, task) {
        if let Lookup::Located(l) = index.locate(lon, lat) {
            if t.cell_village.as_deref() == Some(l.village.as_str()) {
                return 0.0;
            }
        }
    }
    match report.and_then(|r| r.lat.zip(r.lon)) {
        Some((rlat, rlon)) => match (GeoPoint::new(lat, lon), GeoPoint::new(rlat, rlon)) {
            (Some(a), Some(b)) => a.distance_m(&b),
            _ => f64::INFINITY,
        },
        None => f64::INFINITY,
    }
}

/// When the officers arrived at the task whose handling cites an attachment (the latest, if
/// several do): an `after` photo must not have been taken before it.
pub fn arrival_for_evidence(
    conn: &mut DbConn,
    attachment_id: &str,
) -> QueryResult<Option<chrono::NaiveDateTime>> {
    use crate::schema::tasks;
    if uuid::Uuid::parse_str(attachment_id).is_err() {
        return Ok(None);
    }
    // The id (a UUID, no LIKE wildcards) narrows the rows; the parsed lists decide.
    let rows: Vec<String> = tasks::table
        .filter(tasks::data.like(format!("%{attachment_id}%")))
        .select(tasks::data)
        .load(conn)?;
    Ok(rows
        .iter()
        .filter_map(|d| serde_json::from_str::<Task>(d).ok())
        .filter(|t| t.outcome_attachment_ids.iter().any(|a| a == attachment_id))
        .filter_map(|t| t.arrived_at)
        .max())
}

/// Whether an attachment is evidence of a report or of a task's handling (before/after
/// photos) in one of `villages`: what a grid member may open to re-check the work.
pub fn evidence_in_villages(
    conn: &mut DbConn,
    attachment_id: &str,
    villages: &[String],
) -> QueryResult<bool> {
    use crate::schema::{reports, tasks};
    if villages.is_empty() || uuid::Uuid::parse_str(attachment_id).is_err() {
        return Ok(false);
    }
    // The id (a UUID, no LIKE wildcards) narrows the rows; the parsed lists decide.
    let pattern = format!("%{attachment_id}%");
    let task_rows: Vec<String> = tasks::table
        .filter(tasks::village_code.eq_any(villages))
        .filter(tasks::data.like(&pattern))
        .select(tasks::data)
        .load(conn)?;
    for data in task_rows {
        if let Ok(t) = serde_json::from_str::<Task>(&data) {
            if t.outcome_attachment_ids.iter().any(|a| a == attachment_id) {
                return Ok(true);
            }
        }
    }
    let report_rows: Vec<String> = reports::table
        .filter(reports::village_code.eq_any(villages))
        .filter(reports::data.like(&pattern))
        .select(reports::data)
        .load(conn)?;
    Ok(report_rows.iter().any(|data| {
        serde_json::from_str::<Report>(data)
            .is_ok_and(|r| r.attachment_ids.iter().any(|a| a == attachment_id))
    }))
}

/// Squad leaders of a squad (members holding the squad_leader role).
pub fn squad_leaders(conn: &mut DbConn, squad_id: &str) -> QueryResult<Vec<String>> {
    use crate::schema::user_roles;
    let members = squad_members(conn, squad_id)?;
    user_roles::table
        .filter(user_roles::user_id.eq_any(members))
        .filter(user_roles::role.eq("squad_leader"))
        .select(user_roles::user_id)
        .load(conn)
}

/// Members of a squad.
pub fn squad_members(conn: &mut DbConn, squad_id: &str) -> QueryResult<Vec<String>> {
    squad_members::table
        .filter(squad_members::squad_id.eq(squad_id))
        .select(squad_members::user_id)
        .load(conn)
}

/// A squad suggested for a report.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SquadSuggestion {
    /// Squad id.
    pub squad_id: String,
    /// Name.
    pub name: String,
    /// Enforcement domain.
    pub domain: String,
    /// Its domain matches the report's category.
    pub domain_matches: bool,
    /// Responsible for the report's cell (or its area or town).
    pub responsible_for_cell: bool,
    /// Tasks it has open now.
    pub open_tasks: i64,
}

#[derive(QueryableByName)]
struct SquadRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    domain: String,
}

/// Squads for a report: responsible for its cell and matching its category's domain first,
/// then by open workload.
pub fn suggest_squads(conn: &mut DbConn, report: &Report) -> QueryResult<Vec<SquadSuggestion>> {
    use crate::schema::tasks;
    let squads: Vec<SquadRow> =
        diesel::sql_query("SELECT id, name, domain FROM squads ORDER BY id").load(conn)?;
    let cells: Vec<String> = report
        .cell
        .as_ref()
        .map(|c| vec![c.village.clone(), c.area.clone(), c.town.clone()])
        .unwrap_or_default();
    let responsible: Vec<Code> = if cells.len() == 3 {
        diesel::sql_query(
            "SELECT squad_id AS code FROM squad_cells WHERE cell_code IN ($1, $2, $3)",
        )
        .bind::<Text, _>(&cells[0])
        .bind::<Text, _>(&cells[1])
        .bind::<Text, _>(&cells[2])
        .load(conn)?
    } else {
        vec![]
    };
    let domain = crate::store::categories::find(conn, &report.category_code)?
        .map(|c| c.domain)
        .unwrap_or_default();
    let running = [
        "dispatched",
        "return_requested",
        "accepted",
        "on_site",
        "rework",
    ];
    let mut out = Vec::new();
    for s in squads {
        let open_tasks: i64 = tasks::table
            .filter(tasks::squad_id.eq(&s.id))
            .filter(tasks::status.eq_any(running))
            .count()
            .get_result(conn)?;
        out.push(SquadSuggestion {
            domain_matches: !domain.is_empty() && s.domain == domain,
            responsible_for_cell: responsible.iter().any(|r| r.code == s.id),
            squad_id: s.id,
            name: s.name,
            domain: s.domain,
            open_tasks,
        });
    }
    out.sort_by_key(|s| (!s.domain_matches, !s.responsible_for_cell, s.open_tasks));
    Ok(out)
}

/// Add a squad member (no-op if already one).
pub fn add_squad_member(conn: &mut DbConn, squad_id: &str, user_id: &str) -> QueryResult<()> {
    let exists: i64 = squad_members::table
        .filter(squad_members::squad_id.eq(squad_id))
        .filter(squad_members::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(squad_members::table)
            .values((
                squad_members::squad_id.eq(squad_id),
                squad_members::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Remove a squad member.
pub fn remove_squad_member(conn: &mut DbConn, squad_id: &str, user_id: &str) -> QueryResult<()> {
    diesel::delete(
        squad_members::table
            .filter(squad_members::squad_id.eq(squad_id))
            .filter(squad_members::user_id.eq(user_id)),
    )
    .execute(conn)
    .map(|_| ())
}
