//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::*;

/// The whole HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(title = "GridDispatch API", description = "网格化综合行政执法 指挥调度系统 — API. Errors: docs/api.md."),
    paths(healthz, readyz, settings, login, refresh, logout, me, my_devices, revoke_my_device,
          list_users, create_user, put_roles, reset_password, set_user_disabled, put_certificate, delete_certificate, verify_audit, revoke_user_device,
          get_attachment, get_content, set_proves,
          info, push, pull, wait,
          post_command, list_reports, map_pins, get_report, routing, duplicates, list_tasks, get_task, list_cases, get_case,
          list_categories, put_category, export_categories, import_categories, get_calendar, put_calendar, stats, my_notifications, mark_notifications_read, events, put_squad_member, delete_squad_member,
          get_grid, locate, import, versions, get_cell, put_member, delete_member,
          create_squad, list_squads, list_squad_members, put_squad_cell, delete_squad_cell,
          decisions, list_documents, get_document, get_case_file, get_task_decision,
          services, service_definition, create_request, list_requests, get_request,
          create_webhook, list_webhooks, patch_webhook, list_deliveries, retry_delivery, feed,
          share, import_shared, list_shared, report_shared, list_notices, ack_notice,
          crate::tus::options, crate::tus::create, crate::tus::head, crate::tus::patch, crate::tus::terminate,
          list_departments, get_department, create_department, update_department,
          list_transfers, transfer_letter, list_assistance, assistance_letter,
          list_meetings, next_meeting_date, get_meeting, create_meeting, submit_topic, issue_minutes,
          reschedule_meeting, cancel_meeting, decide_topic,
          report_item_progress, close_meeting_item),
    components(schemas(
        griddispatch_protocol::ErrorBody,
        griddispatch_protocol::ErrorDetail,
        griddispatch_protocol::Role,
        griddispatch_protocol::auth::LoginRequest,
        griddispatch_protocol::auth::RefreshRequest,
        griddispatch_protocol::auth::TokenResponse,
        griddispatch_protocol::auth::UserView,
        griddispatch_protocol::auth::MeView,
        griddispatch_protocol::auth::MyCell,
        griddispatch_protocol::auth::MyDepartment,
        griddispatch_protocol::auth::DeviceView,
        griddispatch_protocol::auth::Certificate,
        griddispatch_protocol::auth::NewUserRequest,
        griddispatch_protocol::auth::SetRolesRequest,
        griddispatch_protocol::auth::SetPasswordRequest,
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
        griddispatch_protocol::command::DeadlineClock,
        crate::workflow::duplicates::DuplicateCandidate,
        crate::store::categories::CategoryRow,
        crate::reference::CategoryImport,
        crate::reference::CategoryFileProblem,
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
        crate::domain::workflow::PublicDecision,
        DocumentEntry,
        crate::documents::DocumentKind,
        crate::open311::Service,
        crate::open311::ServiceDefinition,
        crate::open311::Created,
        crate::open311::ServiceRequest,
        crate::open311::Open311Error,
        NewWebhook,
        CreatedWebhook,
        WebhookPatch,
        FeedPage,
        crate::webhooks::Event,
        crate::webhooks::SubscriptionView,
        crate::webhooks::DeliveryRow,
        crate::webhooks::DeliveryView,
        crate::webhooks::AttemptRow,
        crate::sharing::SharedInput,
        crate::sharing::SharedItem,
        crate::sharing::SharedMatch,
        crate::sharing::Problem,
        Imported,
        crate::decision_notices::NoticeRow,
        crate::decision_notices::NoticeView,
        crate::departments::DepartmentKind,
        crate::departments::DepartmentInput,
        crate::departments::DepartmentView,
        crate::store::departments::LiaisonRow,
        TransferEntry,
        AssistanceEntry,
        griddispatch_protocol::agency::AssistanceKind,
        griddispatch_protocol::agency::TransferSender,
        griddispatch_protocol::agency::DisputeLevel,
        griddispatch_protocol::agency::HandOverAnswer,
        crate::meetings::MeetingInput,
        crate::meetings::TopicInput,
        crate::meetings::ItemInput,
        crate::meetings::MinutesInput,
        crate::meetings::NoteInput,
        crate::meetings::ItemView,
        crate::meetings::MeetingView,
        crate::meetings::NextDate,
        crate::meetings::CancelInput,
        crate::meetings::TopicDecisionInput,
        crate::store::meetings::TopicRow,
        crate::store::meetings::ProgressRow,
    )),
    modifiers(&BearerAuth, &CommonErrors),
    tags((name = "auth", description = "登录与令牌 sign-in and tokens"),
         (name = "sync", description = "离线同步 offline-first sync for phones (docs/sync-protocol.md)"),
         (name = "users", description = "账号管理 accounts"),
         (name = "evidence", description = "证据 evidence files; uploads use tus 1.0 at /files/ (docs/api.md)"),
         (name = "workflow", description = "闭环 reports, tasks, cases: change them only through /api/v1/commands"),
         (name = "grid", description = "网格 the three-level grid, point lookup, cell people and squads (docs/grid.md)"),
         (name = "public", description = "公示 published decisions, no sign-in"),
         (name = "ops", description = "运维 operations"),
         (name = "agencies", description = "部门协作 departments, transfers, crime hand-overs, assistance (docs/agencies.md)"),
         (name = "integration", description = "对外共享 signed webhooks, their delivery log, and the pull feed (docs/integration.md)"),
         (name = "open311", description = "Open311 GeoReport v2 intake for hotline platforms and civic apps (docs/integration.md)"))
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

/// The answers every operation can give besides its own: declared once here so that the
/// document lists every status a client may see (Schemathesis checks it in CI).
struct CommonErrors;

impl CommonErrors {
    fn error(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
            .into()
    }
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let sync = path.starts_with("/sync/");
            let tus = path.starts_with("/files/");
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| Self::error(description));
                };
                if path.as_str() == "/healthz" {
                    continue;
                }
                add(
                    "503",
                    "service_unavailable: the database cannot be reached; retry later",
                );
                if path.as_str() == "/readyz" || op.operation_id.as_deref() == Some("options") {
                    continue;
                }
                if secured {
                    add("401", "missing_token, invalid_token, token_expired, session_revoked: sign in or refresh");
                    add("403", "forbidden, out_of_scope, account_disabled: a role or scope this needs is missing");
                }
                if has_params || has_body || sync || tus {
                    add(
                        "400",
                        "invalid_json, invalid_query, invalid_path, invalid_header, bad_request",
                    );
                    add("422", "invalid_field, invalid_text, invalid_id, invalid_query …: the message names what to fix");
                }
                if path.contains('{') {
                    add("404", "not_found");
                }
                if has_body {
                    add("413", "payload_too_large");
                    add(
                        "415",
                        "unsupported_media_type: send Content-Type: application/json",
                    );
                }
                if sync {
                    add("426", "unsupported_protocol: update the app");
                }
                if path.as_str() == "/api/v1/auth/login" {
                    add("429", "too_many_attempts: see Retry-After");
                }
            }
        }
    }
}

/// The document as served at `/api/openapi.json`: serialized once, on the first request, and
/// shared by every worker. utoipa-swagger-ui's own route keeps an [`utoipa::openapi::OpenApi`]
/// per worker (~7.6 MB in memory each, cloned again for every worker; a third of an idle
/// server's heap on two cores) and serializes it again for every request.
pub fn document_json() -> actix_web::web::Bytes {
    static JSON: std::sync::OnceLock<actix_web::web::Bytes> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let json = ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes");
        actix_web::web::Bytes::from(json)
    })
    .clone()
}

/// `GET /api/openapi.json`.
pub async fn serve_document() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(document_json())
}

/// The methods the API documents for each path pattern, for the `Allow` header of a 405.
pub fn allowed_methods() -> &'static std::collections::HashMap<String, String> {
    static ALLOW: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    ALLOW.get_or_init(|| {
        ApiDoc::openapi()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some() || item.head.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, on)| on.then_some(m))
                .collect();
                (path.clone(), methods.join(", "))
            })
            .collect()
    })
}
