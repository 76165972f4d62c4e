//! The route table: one place that names every endpoint.

mod attachments;
mod auth;
mod console;
mod departments;
mod documents;
mod field;
mod grid;
mod health;
mod input;
mod meetings;
mod notifications;
mod open311;
mod public;
mod reference;
mod sharing;
mod sync;
mod transfers;
mod users;
mod webhooks;
mod workflow;

use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest, HttpResponse};
use griddispatch_protocol::{ErrorBody, ErrorDetail};

use crate::error::AppError;

pub use input::refuse_nul_in_uri;

pub use attachments::{
    __path_get_attachment, __path_get_content, __path_set_proves, AttachmentView, ContentQuery,
    ProvesRequest,
};
pub use auth::{
    __path_login, __path_logout, __path_me, __path_my_devices, __path_refresh,
    __path_revoke_my_device,
};
pub use console::__path_settings;
pub use departments::{
    __path_create_department, __path_get_department, __path_list_departments,
    __path_update_department,
};
pub use documents::{
    __path_get_case_file, __path_get_document, __path_get_task_decision, __path_list_documents,
    DocumentEntry,
};
pub use grid::{
    __path_create_squad, __path_delete_member, __path_delete_squad_cell, __path_get_cell,
    __path_get_grid, __path_import, __path_list_squad_members, __path_list_squads, __path_locate,
    __path_put_member, __path_put_squad_cell, __path_versions, MemberRequest,
};
pub use health::{__path_healthz, __path_readyz};
pub use meetings::{
    __path_cancel_meeting, __path_close_meeting_item, __path_create_meeting, __path_decide_topic,
    __path_get_meeting, __path_issue_minutes, __path_list_meetings, __path_next_meeting_date,
    __path_report_item_progress, __path_reschedule_meeting, __path_submit_topic,
};
pub use notifications::{__path_mark_notifications_read, __path_my_notifications, MarkReadRequest};
pub use open311::{
    __path_create_request, __path_get_request, __path_list_requests, __path_service_definition,
    __path_services,
};
pub use public::{__path_decisions, PublicQuery};
pub use reference::{
    __path_export_categories, __path_get_calendar, __path_import_categories,
    __path_list_categories, __path_put_calendar, __path_put_category,
};
pub use sharing::{
    __path_ack_notice, __path_import_shared, __path_list_notices, __path_list_shared,
    __path_report_shared, __path_share, ForDepartment, Imported, NoticeQuery, SharedQuery,
};
pub use sync::{__path_info, __path_pull, __path_push, __path_wait, PullQuery, WaitQuery};
pub use transfers::{
    __path_assistance_letter, __path_list_assistance, __path_list_transfers,
    __path_transfer_letter, AssistanceEntry, AssistanceQuery, TransferEntry,
};
pub use users::{
    __path_create_user, __path_delete_certificate, __path_list_users, __path_put_certificate,
    __path_put_roles, __path_reset_password, __path_revoke_user_device, __path_set_user_disabled,
    __path_verify_audit,
};
pub use webhooks::{
    __path_create_webhook, __path_feed, __path_list_deliveries, __path_list_webhooks,
    __path_patch_webhook, __path_retry_delivery, CreatedWebhook, FeedPage, NewWebhook,
    WebhookPatch,
};
pub use workflow::{
    __path_delete_squad_member, __path_duplicates, __path_events, __path_get_case,
    __path_get_report, __path_get_task, __path_list_cases, __path_list_reports, __path_list_tasks,
    __path_map_pins, __path_post_command, __path_put_squad_member, __path_routing, __path_stats,
    CommandRequest, CommandResponse,
};

/// Register every route.
pub fn configure(cfg: &mut web::ServiceConfig, max_json_bytes: usize) {
    cfg.app_data(json_config(max_json_bytes))
        .app_data(web::PayloadConfig::new(max_json_bytes))
        .app_data(query_config())
        .app_data(path_config())
        .configure(crate::tus::configure)
        .service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(
            web::scope("/sync/v1")
                // Answers compressed as the client accepts (zstd, brotli, gzip): a phone's first
                // pull over 4G is mostly repetitive JSON.
                .wrap(actix_web::middleware::Compress::default())
                // Every answer, refusals included, names the protocol version spoken.
                .wrap(actix_web::middleware::DefaultHeaders::new().add((
                    griddispatch_protocol::sync::PROTOCOL_HEADER,
                    griddispatch_protocol::sync::PROTOCOL_VERSION.to_string(),
                )))
                .service(web::resource("/info").get(sync::info))
                .service(
                    web::resource("/push")
                        // Batches of up to 500 commands: larger than other JSON bodies.
                        .app_data(json_config(sync::MAX_PUSH_BYTES))
                        .app_data(web::PayloadConfig::new(sync::MAX_PUSH_BYTES))
                        .post(sync::push),
                )
                .service(web::resource("/pull").get(sync::pull))
                .service(web::resource("/wait").get(sync::wait)),
        )
        .service(web::resource("/").get(console::index))
        .service(web::resource("/console/{path}*").get(console::asset))
        .service(
            web::scope("/m")
                // The field app's shell goes compressed: phones open it over slow links.
                .wrap(actix_web::middleware::Compress::default())
                .service(web::resource("").get(field::bare))
                .service(web::resource("/").get(field::index))
                .service(web::resource("/{path}*").get(field::asset)),
        )
        .service(web::resource("/public/").get(public::page))
        .service(web::resource("/api/v1/public/decisions").get(public::decisions))
        .service(
            web::scope("/open311/v2")
                .service(web::resource("/services.{format}").get(open311::services))
                .service(
                    web::resource("/services/{service_code}.{format}")
                        .get(open311::service_definition),
                )
                .service(
                    web::resource("/requests.{format}")
                        .get(open311::list_requests)
                        .post(open311::create_request),
                )
                .service(
                    web::resource("/requests/{service_request_id}.{format}")
                        .get(open311::get_request),
                ),
        )
        .service(
            web::scope("/api/v1")
                // JSON answers compressed as the client accepts; evidence (images, video) and
                // the event stream (marked identity) are sent as they are.
                .wrap(actix_web::middleware::Compress::default())
                .service(web::resource("/auth/login").post(auth::login))
                .service(web::resource("/console/settings").get(console::settings))
                .service(web::resource("/auth/refresh").post(auth::refresh))
                .service(web::resource("/auth/logout").post(auth::logout))
                .service(web::resource("/me").get(auth::me))
                .service(web::resource("/me/devices").get(auth::my_devices))
                .service(
                    web::resource("/me/devices/{device_id}/revoke").post(auth::revoke_my_device),
                )
                .service(
                    web::resource("/users")
                        .get(users::list_users)
                        .post(users::create_user),
                )
                .service(
                    web::resource("/attachments/{id}")
                        .get(attachments::get_attachment)
                        .patch(attachments::set_proves),
                )
                .service(web::resource("/attachments/{id}/content").get(attachments::get_content))
                .service(web::resource("/grid").get(grid::get_grid))
                .service(web::resource("/grid/locate").get(grid::locate))
                .service(
                    web::resource("/grid/import")
                        .app_data(web::PayloadConfig::new(grid::MAX_GRID_BYTES))
                        .post(grid::import),
                )
                .service(web::resource("/grid/versions").get(grid::versions))
                .service(web::resource("/grid/cells/{code}").get(grid::get_cell))
                .service(
                    web::resource("/grid/cells/{code}/members/{user}")
                        .put(grid::put_member)
                        .delete(grid::delete_member),
                )
                .service(
                    web::resource("/squads")
                        .get(grid::list_squads)
                        .post(grid::create_squad),
                )
                .service(web::resource("/squads/{id}/members").get(grid::list_squad_members))
                .service(
                    web::resource("/squads/{id}/cells/{code}")
                        .put(grid::put_squad_cell)
                        .delete(grid::delete_squad_cell),
                )
                .service(web::resource("/commands").post(workflow::post_command))
                .service(web::resource("/reports").get(workflow::list_reports))
                .service(web::resource("/map/pins").get(workflow::map_pins))
                .service(web::resource("/reports/{id}").get(workflow::get_report))
                .service(web::resource("/reports/{id}/routing").get(workflow::routing))
                .service(web::resource("/reports/{id}/duplicates").get(workflow::duplicates))
                .service(web::resource("/tasks").get(workflow::list_tasks))
                .service(web::resource("/tasks/{id}").get(workflow::get_task))
                .service(web::resource("/tasks/{id}/decision").get(documents::get_task_decision))
                .service(web::resource("/cases").get(workflow::list_cases))
                .service(web::resource("/cases/{id}").get(workflow::get_case))
                .service(web::resource("/cases/{id}/documents").get(documents::list_documents))
                .service(web::resource("/cases/{id}/documents/{name}").get(documents::get_document))
                .service(web::resource("/cases/{id}/file").get(documents::get_case_file))
                .service(web::resource("/categories").get(reference::list_categories))
                .service(web::resource("/categories/export").get(reference::export_categories))
                .service(web::resource("/categories/import").post(reference::import_categories))
                .service(web::resource("/categories/{code}").put(reference::put_category))
                .service(
                    web::resource("/calendar/{year}")
                        .get(reference::get_calendar)
                        .put(reference::put_calendar),
                )
                .service(web::resource("/stats").get(workflow::stats))
                .service(web::resource("/events").get(workflow::events))
                .service(web::resource("/me/notifications").get(notifications::my_notifications))
                .service(
                    web::resource("/me/notifications/read")
                        .post(notifications::mark_notifications_read),
                )
                .service(
                    web::resource("/squads/{id}/members/{user}")
                        .put(workflow::put_squad_member)
                        .delete(workflow::delete_squad_member),
                )
                .service(web::resource("/users/{id}/disable").post(users::set_user_disabled))
                .service(
                    web::resource("/users/{id}/certificate")
                        .put(users::put_certificate)
                        .delete(users::delete_certificate),
                )
                .service(web::resource("/users/{id}/enable").post(users::set_user_disabled))
                .service(web::resource("/users/{id}/roles").put(users::put_roles))
                .service(web::resource("/users/{id}/password").post(users::reset_password))
                .service(web::resource("/audit/verify").get(users::verify_audit))
                .service(
                    web::resource("/users/{id}/devices/{device_id}/revoke")
                        .post(users::revoke_user_device),
                )
                .service(
                    web::resource("/webhooks")
                        .get(webhooks::list_webhooks)
                        .post(webhooks::create_webhook),
                )
                .service(web::resource("/webhooks/{id}").patch(webhooks::patch_webhook))
                .service(web::resource("/webhooks/{id}/deliveries").get(webhooks::list_deliveries))
                .service(
                    web::resource("/webhooks/deliveries/{id}/retry").post(webhooks::retry_delivery),
                )
                .service(web::resource("/feed").get(webhooks::feed))
                .service(
                    web::resource("/shared")
                        .get(sharing::list_shared)
                        .post(sharing::share),
                )
                .service(
                    web::resource("/shared/import")
                        .app_data(web::PayloadConfig::new(sharing::MAX_CSV_BYTES))
                        .post(sharing::import_shared),
                )
                .service(web::resource("/reports/{id}/shared").get(sharing::report_shared))
                .service(web::resource("/decision-notices").get(sharing::list_notices))
                .service(web::resource("/decision-notices/{id}/ack").post(sharing::ack_notice))
                .service(
                    web::resource("/departments")
                        .get(departments::list_departments)
                        .post(departments::create_department),
                )
                .service(
                    web::resource("/departments/{id}")
                        .get(departments::get_department)
                        .put(departments::update_department),
                )
                .service(web::resource("/transfers").get(transfers::list_transfers))
                .service(web::resource("/assistance").get(transfers::list_assistance))
                .service(web::resource("/assistance/{id}/letter").get(transfers::assistance_letter))
                .service(
                    web::resource("/reports/{id}/transfer-letter").get(transfers::transfer_letter),
                )
                .service(
                    web::resource("/meetings")
                        .get(meetings::list_meetings)
                        .post(meetings::create_meeting),
                )
                .service(web::resource("/meetings/next-date").get(meetings::next_meeting_date))
                .service(
                    web::resource("/meetings/{id}")
                        .get(meetings::get_meeting)
                        .patch(meetings::reschedule_meeting),
                )
                .service(web::resource("/meetings/{id}/cancel").post(meetings::cancel_meeting))
                .service(
                    web::resource("/meetings/{id}/topics/{topic_id}/decision")
                        .post(meetings::decide_topic),
                )
                .service(web::resource("/meetings/{id}/topics").post(meetings::submit_topic))
                .service(web::resource("/meetings/{id}/minutes").post(meetings::issue_minutes))
                .service(
                    web::resource("/meeting-items/{id}/progress")
                        .post(meetings::report_item_progress),
                )
                .service(
                    web::resource("/meeting-items/{id}/close").post(meetings::close_meeting_item),
                ),
        );
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| {
            let app = match &err {
                JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
                    "请求体须为 JSON：Content-Type: application/json (send Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    AppError::PayloadTooLarge(format!("请求体过大，上限 {limit} 字节 (body larger than {limit} bytes)"))
                }
                JsonPayloadError::Deserialize(e) if e.is_data() => AppError::unprocessable(
                    "invalid_field",
                    format!("字段类型或取值不正确 (invalid field): {e}"),
                ),
                JsonPayloadError::Deserialize(e) => {
                    AppError::bad_request("invalid_json", format!("JSON 格式错误 (malformed JSON): {e}"))
                }
                other => AppError::bad_request("invalid_json", format!("无法读取请求体 (cannot read body): {other}")),
            };
            app.into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        AppError::bad_request(
            "invalid_query",
            format!("查询参数不正确 (invalid query string): {err}"),
        )
        .into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        AppError::bad_request(
            "invalid_path",
            format!("路径参数不正确 (invalid path parameter): {err}"),
        )
        .into()
    })
}

/// Give every error response that is not already ours (actix's own 404, 405, 413 …) the one
/// JSON error shape, so clients never have to parse a second format.
pub fn error_shape<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .response()
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| {
                // Open311 answers its errors in its own JSON and XML formats.
                v.as_bytes().starts_with(b"application/json")
                    || v.as_bytes().starts_with(b"text/xml")
            });
        if is_json || !(res.status().is_client_error() || res.status().is_server_error()) {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "没有这个地址 (no such endpoint)"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "此地址不支持该请求方法 (method not allowed here)",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("payload_too_large", "请求体过大 (request body too large)")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "不支持的内容类型 (unsupported content type)",
            ),
            s if s.is_server_error() => (
                "internal_error",
                "服务器内部错误，请稍后重试 (internal server error)",
            ),
            _ => ("bad_request", "请求无效 (bad request)"),
        };
        let (req, _) = res.into_parts();
        let mut resp = HttpResponse::build(status).json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        });
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::METHOD_NOT_ALLOWED {
            // RFC 9110: a 405 names the methods the resource supports.
            let allow = req
                .match_pattern()
                .and_then(|p| crate::openapi::allowed_methods().get(&p).cloned());
            if let Some(v) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
        }
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, resp).map_into_right_body(),
        ))
    })
}
