//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::*;

/// The whole HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(title = "GridDispatch API", description = "网格化综合行政执法 指挥调度系统 — API. Errors: docs/api.md."),
    paths(healthz, readyz, settings, login, refresh, logout, me, my_devices, revoke_my_device,
          list_users, create_user, set_user_disabled, put_certificate, verify_audit, revoke_user_device,
          get_attachment, get_content, set_proves,
          info, push, pull, wait,
          post_command, list_reports, get_report, routing, duplicates, list_tasks, get_task, list_cases, get_case,
          list_categories, put_category, get_calendar, put_calendar, stats, my_notifications, mark_notifications_read, events, put_squad_member, delete_squad_member,
          get_grid, locate, import, versions, get_cell, put_member, delete_member,
          create_squad, list_squads, list_squad_members, put_squad_cell, delete_squad_cell),
    components(schemas(
        griddispatch_protocol::ErrorBody,
        griddispatch_protocol::ErrorDetail,
        griddispatch_protocol::Role,
        griddispatch_protocol::auth::LoginRequest,
        griddispatch_protocol::auth::RefreshRequest,
        griddispatch_protocol::auth::TokenResponse,
        griddispatch_protocol::auth::UserView,
        griddispatch_protocol::auth::DeviceView,
        griddispatch_protocol::auth::Certificate,
        griddispatch_protocol::auth::NewUserRequest,
        AttachmentView,
        CommandRequest,
        griddispatch_protocol::sync::SyncInfo,
        griddispatch_protocol::sync::PushRequest,
        griddispatch_protocol::sync::PushCommand,
        griddispatch_protocol::sync::PushResponse,
        griddispatch_protocol::sync::PushResult,
        griddispatch_protocol::sync::PushStatus,
        griddispatch_protocol::sync::Entity,
        griddispatch_protocol::sync::PullResponse,
        griddispatch_protocol::sync::Change,
        griddispatch_protocol::sync::ChangeOp,
        griddispatch_protocol::sync::WaitResponse,
        CommandResponse,
        MarkReadRequest,
        griddispatch_protocol::command::Command,
        griddispatch_protocol::command::Outcome,
        griddispatch_protocol::command::Penalty,
        griddispatch_protocol::command::PartyKind,
        griddispatch_protocol::command::Position,
        griddispatch_protocol::command::Contact,
        griddispatch_protocol::command::ReportSource,
        crate::store::categories::CategoryRow,
        crate::workflow::stats::StatsRow,
        ProvesRequest,
        MemberRequest,
        crate::grid::VersionView,
        crate::grid::CellRef,
        crate::grid::LocateView,
        crate::grid::CellRole,
        crate::grid::CellMember,
        crate::grid::CellDetail,
        crate::grid::SquadView,
        crate::grid::SquadMembers,
        crate::grid::NewSquad,
    )),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "登录与令牌 sign-in and tokens"),
         (name = "sync", description = "离线同步 offline-first sync for phones (docs/sync-protocol.md)"),
         (name = "users", description = "账号管理 accounts"),
         (name = "evidence", description = "证据 evidence files; uploads use tus 1.0 at /files/ (docs/api.md)"),
         (name = "workflow", description = "闭环 reports, tasks, cases: change them only through /api/v1/commands"),
         (name = "grid", description = "网格 the three-level grid, point lookup, cell people and squads (docs/grid.md)"),
         (name = "ops", description = "运维 operations"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
