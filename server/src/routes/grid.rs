//! `/api/v1/grid*` and `/api/v1/squads*`: the grid, point lookup, import, cell people, squads.

use actix_web::{web, HttpResponse};
use grid_data::{CellLevel, Crs, ImportOptions, ValidationOptions};
use griddispatch_protocol::{ErrorBody, Role};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Actor;
use crate::db;
use crate::error::AppError;
use crate::grid::{
    self, CellDetail, CellMember, CellRole, LocateView, NewSquad, SquadMembers, SquadView,
    VersionView,
};
use crate::state::AppState;

/// Largest grid file the import endpoint accepts (a province of 100k cells is ~60 MB).
pub const MAX_GRID_BYTES: usize = 256 * 1024 * 1024;

/// Filters of `GET /api/v1/grid`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GridQuery {
    /// Only cells of this level (`town`, `area`, `village`).
    #[param(value_type = Option<String>)]
    pub level: Option<CellLevel>,
    /// Only the direct children of this cell.
    pub parent: Option<String>,
    /// An older version (default: the current one).
    pub version: Option<i64>,
}

/// The current grid (or an older version) as a GeoJSON FeatureCollection.
#[utoipa::path(get, path = "/api/v1/grid", tag = "grid", security(("bearer" = [])), params(GridQuery),
    responses(
    (status = 200, description = "GeoJSON FeatureCollection (`grid_version` foreign member)", content_type = "application/geo+json"),
    (status = 404, description = "not_found: no such version", body = ErrorBody),
    (status = 409, description = "no_grid", body = ErrorBody)))]
pub async fn get_grid(
    state: web::Data<AppState>,
    _actor: Actor,
    query: web::Query<GridQuery>,
) -> Result<HttpResponse, AppError> {
    let GridQuery {
        level,
        parent,
        version,
    } = query.into_inner();
    let (_, text) = state
        .db(move |conn| {
            Ok(grid::export_geojson(
                conn,
                version,
                level,
                parent.as_deref(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(text))
}

/// Position to locate.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LocateQuery {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Coordinate system of the position: `wgs84` (default, GPS), `gcj02` (Amap, Tencent), `bd09` (Baidu).
    #[param(value_type = Option<String>)]
    pub crs: Option<Crs>,
}

/// Which village, area and town a position lies in (or the nearest village when outside).
#[utoipa::path(get, path = "/api/v1/grid/locate", tag = "grid", security(("bearer" = [])), params(LocateQuery),
    responses(
    (status = 200, body = LocateView),
    (status = 400, description = "invalid_query", body = ErrorBody),
    (status = 409, description = "no_grid", body = ErrorBody)))]
pub async fn locate(
    state: web::Data<AppState>,
    _actor: Actor,
    query: web::Query<LocateQuery>,
) -> Result<web::Json<LocateView>, AppError> {
    let snapshot = state.grid.load_full();
    let view = grid::locate(
        snapshot.as_deref(),
        query.lat,
        query.lon,
        query.crs.unwrap_or_default(),
    )?;
    Ok(web::Json(view))
}

/// Options of an import.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Coordinate system of the file (default `wgs84`); stored as WGS-84.
    #[param(value_type = Option<String>)]
    pub crs: Option<Crs>,
    /// Gaps up to this many m² each are accepted as slivers (default 0).
    pub gap_tolerance_m2: Option<f64>,
    /// Label kept with the version (e.g. the file name; default `api`).
    pub source: Option<String>,
}

/// Import a GeoJSON FeatureCollection as a new grid version and make it current (admin).
/// Invalid input is rejected whole with every problem listed in `error.problems`.
#[utoipa::path(post, path = "/api/v1/grid/import", tag = "grid", security(("bearer" = [])), params(ImportQuery),
    request_body(content = Object, content_type = "application/json", description = "GeoJSON FeatureCollection; features have properties code, name, level, parent"),
    responses(
    (status = 201, body = VersionView),
    (status = 403, description = "forbidden", body = ErrorBody),
    (status = 413, description = "payload_too_large", body = ErrorBody),
    (status = 422, description = "invalid_grid: `error.problems` lists every problem (kind, code, feature_index, location, area_m2, related, message)", body = ErrorBody)))]
pub async fn import(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let gap = query.gap_tolerance_m2.unwrap_or(0.0);
    if !(gap.is_finite() && gap >= 0.0) {
        return Err(AppError::bad_request(
            "invalid_query",
            "gap_tolerance_m2 须为非负数 (gap_tolerance_m2 must be a non-negative number)",
        ));
    }
    let options = ImportOptions {
        crs: query.crs.unwrap_or_default(),
        validation: ValidationOptions {
            gap_tolerance_m2: gap,
            ..ValidationOptions::default()
        },
    };
    let source = query.source.clone().unwrap_or_else(|| "api".into());
    let user = actor.user_id.clone();
    // Streamed by town (validated and written one town after another in one transaction), then
    // read back and indexed as start-up does: the region's parsed grids are never all held.
    let (version, snapshot) = state
        .db(move |conn| {
            let text = std::str::from_utf8(&body).map_err(|_| {
                AppError::bad_request("invalid_json", "请求体不是 UTF-8 文本 (body is not UTF-8)")
            })?;
            let version = grid::import_text(
                conn,
                text,
                &options,
                &source,
                Some(&user),
                db::now(),
                &mut |_| {},
            )?;
            drop(body);
            let grids = grid::load_version(conn, version.version)?;
            let snapshot = grid::build_snapshot(version.version, &grids)?;
            Ok((version, snapshot))
        })
        .await?;
    let number = version.version;
    grid::install(&state, snapshot);
    tracing::info!(
        version = number,
        cells = version.cell_count,
        "grid imported"
    );
    Ok(HttpResponse::Created().json(version))
}

/// Every grid version, newest first.
#[utoipa::path(get, path = "/api/v1/grid/versions", tag = "grid", security(("bearer" = [])),
    responses((status = 200, body = Vec<VersionView>)))]
pub async fn versions(
    state: web::Data<AppState>,
    _actor: Actor,
) -> Result<web::Json<Vec<VersionView>>, AppError> {
    let rows = state
        .db(|conn| Ok(crate::store::grid::versions(conn)?))
        .await?;
    Ok(web::Json(rows.into_iter().map(VersionView::from).collect()))
}

/// One cell of the current grid with its parent, children, people and squads.
#[utoipa::path(get, path = "/api/v1/grid/cells/{code}", tag = "grid", security(("bearer" = [])),
    params(("code" = String, Path, description = "cell code")),
    responses((status = 200, body = CellDetail), (status = 404, body = ErrorBody), (status = 409, description = "no_grid", body = ErrorBody)))]
pub async fn get_cell(
    state: web::Data<AppState>,
    _actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<CellDetail>, AppError> {
    let code = path.into_inner();
    let detail = state
        .db(move |conn| Ok(grid::cell_detail(conn, &code)?))
        .await?;
    Ok(web::Json(detail))
}

/// Role of a person on a cell.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberRequest {
    /// `grid_leader` or `grid_member`; the account must hold that role.
    pub role: CellRole,
}

/// Put a user (id or username) on a cell with a role, replacing an earlier role there (admin).
#[utoipa::path(put, path = "/api/v1/grid/cells/{code}/members/{user}", tag = "grid", security(("bearer" = [])),
    params(("code" = String, Path, description = "cell code"), ("user" = String, Path, description = "user id or username")),
    request_body = MemberRequest,
    responses((status = 200, body = CellMember), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "role_not_held", body = ErrorBody)))]
pub async fn put_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    body: super::input::Json<MemberRequest>,
) -> Result<web::Json<CellMember>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (code, user) = path.into_inner();
    let role = body.role;
    let admin = actor.user_id.clone();
    let member = state
        .db(move |conn| {
            Ok(grid::set_member(
                conn,
                &admin,
                &code,
                &user,
                role,
                db::now(),
            )?)
        })
        .await?;
    Ok(web::Json(member))
}

/// Take a user off a cell (admin).
#[utoipa::path(delete, path = "/api/v1/grid/cells/{code}/members/{user}", tag = "grid", security(("bearer" = [])),
    params(("code" = String, Path, description = "cell code"), ("user" = String, Path, description = "user id or username")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (code, user) = path.into_inner();
    let admin = actor.user_id.clone();
    state
        .db(move |conn| Ok(grid::remove_member(conn, &admin, &code, &user, db::now())?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Create a squad (admin).
#[utoipa::path(post, path = "/api/v1/squads", tag = "grid", security(("bearer" = [])), request_body = NewSquad,
    responses((status = 201, body = SquadView), (status = 403, body = ErrorBody),
              (status = 404, description = "not_found: a cell in `cells` is not in the current grid", body = ErrorBody),
              (status = 409, description = "squad_code_taken, no_grid", body = ErrorBody), (status = 422, description = "invalid_field", body = ErrorBody)))]
pub async fn create_squad(
    state: web::Data<AppState>,
    actor: Actor,
    body: super::input::Json<NewSquad>,
) -> Result<HttpResponse, AppError> {
    actor.require_any(&[Role::Admin])?;
    let admin = actor.user_id.clone();
    let squad = state
        .db(move |conn| Ok(grid::create_squad(conn, &admin, &body, db::now())?))
        .await?;
    Ok(HttpResponse::Created().json(squad))
}

/// Every squad with its cells.
#[utoipa::path(get, path = "/api/v1/squads", tag = "grid", security(("bearer" = [])),
    responses((status = 200, body = Vec<SquadView>)))]
pub async fn list_squads(
    state: web::Data<AppState>,
    _actor: Actor,
) -> Result<web::Json<Vec<SquadView>>, AppError> {
    let list = state.db(|conn| Ok(grid::list_squads(conn)?)).await?;
    Ok(web::Json(list))
}

/// The members of a squad (id or code) by name, with their roles and enforcement certificates
/// (valid today or not): whom a squad leader assigns to a task and an approver to a case.
/// Administrators, dispatchers, duty chiefs, approvers and legal reviewers see every squad; a
/// squad leader sees their own squads.
#[utoipa::path(get, path = "/api/v1/squads/{id}/members", tag = "grid", security(("bearer" = [])),
    params(("id" = String, Path, description = "squad id or code")),
    responses((status = 200, body = SquadMembers),
        (status = 403, description = "forbidden, out_of_scope", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn list_squad_members(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<web::Json<SquadMembers>, AppError> {
    actor.require_any(&[
        Role::Admin,
        Role::Dispatcher,
        Role::DutyChief,
        Role::Approver,
        Role::LegalReviewer,
        Role::SquadLeader,
    ])?;
    // Approvers assign a case's investigators from any squad; legal reviewers see who did.
    let town_wide = [
        Role::Admin,
        Role::Dispatcher,
        Role::DutyChief,
        Role::Approver,
        Role::LegalReviewer,
    ]
    .iter()
    .any(|r| actor.has(*r));
    let squad = path.into_inner();
    let user_id = actor.user_id.clone();
    let view = state
        .db(move |conn| {
            let row = grid::find_squad(conn, &squad)?;
            if !town_wide && !crate::workflow::scope::squads_of(conn, &user_id)?.contains(&row.id) {
                return Err(AppError::forbidden(
                    "out_of_scope",
                    "只能查看本中队的成员 (you may only see your own squad's members)",
                ));
            }
            Ok(grid::squad_members(conn, row, db::now())?)
        })
        .await?;
    Ok(web::Json(view))
}

/// Make a squad (id or code) responsible for a cell (admin; idempotent).
#[utoipa::path(put, path = "/api/v1/squads/{id}/cells/{code}", tag = "grid", security(("bearer" = [])),
    params(("id" = String, Path, description = "squad id or code"), ("code" = String, Path, description = "cell code")),
    responses((status = 200, body = SquadView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_squad_cell(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<web::Json<SquadView>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (squad, code) = path.into_inner();
    let admin = actor.user_id.clone();
    let view = state
        .db(move |conn| {
            Ok(grid::add_squad_cell(
                conn,
                &admin,
                &squad,
                &code,
                db::now(),
            )?)
        })
        .await?;
    Ok(web::Json(view))
}

/// Remove a squad's responsibility for a cell (admin).
#[utoipa::path(delete, path = "/api/v1/squads/{id}/cells/{code}", tag = "grid", security(("bearer" = [])),
    params(("id" = String, Path, description = "squad id or code"), ("code" = String, Path, description = "cell code")),
    responses((status = 200, body = SquadView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_squad_cell(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<web::Json<SquadView>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (squad, code) = path.into_inner();
    let admin = actor.user_id.clone();
    let view = state
        .db(move |conn| {
            Ok(grid::remove_squad_cell(
                conn,
                &admin,
                &squad,
                &code,
                db::now(),
            )?)
        })
        .await?;
    Ok(web::Json(view))
}
