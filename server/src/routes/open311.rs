//! `/open311/v2/…`: Open311 GeoReport v2 (services, service definitions, requests create and
//! query), each in JSON and XML as the path's extension asks. Errors come in the spec's own
//! format (`[{"code", "description"}]`, `<errors><error>…`), the description beginning with
//! the stable error code of docs/api.md.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use griddispatch_protocol::command::{Command, Contact, Position};

use crate::domain::workflow::ErrorKind;
use crate::error::AppError;
use crate::open311::{self, Created, Format, Open311Error, RequestQuery, ServiceRequest};
use crate::state::AppState;
use crate::store::{categories, users, workflow as store};
use crate::workflow::{execute_in, CommandError, Issuer};

/// Longest value of a parameter not otherwise limited (account_id, device_id, media_url …).
const MAX_PARAM_CHARS: usize = 1_000;
/// Most ids one query may name.
const MAX_IDS: usize = 1_000;

fn xml_type() -> &'static str {
    "text/xml; charset=utf-8"
}

fn render_error(fmt: Format, e: &AppError) -> HttpResponse {
    let status = e.status_code();
    let message = if status.is_server_error() {
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "open311 request failed");
        }
        "服务暂时不可用，请稍后重试 (service unavailable; retry later)".to_owned()
    } else {
        e.to_string()
    };
    let err = Open311Error {
        code: status.as_u16(),
        description: format!("{}: {message}", e.code()),
    };
    match fmt {
        Format::Json => HttpResponse::build(status).json([err]),
        Format::Xml => HttpResponse::build(status)
            .content_type(xml_type())
            .body(open311::xml_list("errors", "error", &[err])),
    }
}

fn respond(fmt: Format, result: Result<HttpResponse, AppError>) -> HttpResponse {
    result.unwrap_or_else(|e| render_error(fmt, &e))
}

/// The format from the path, or a 404 in JSON.
fn format_of(ext: &str) -> Result<Format, Box<HttpResponse>> {
    Format::parse(ext).ok_or_else(|| {
        Box::new(render_error(
            Format::Json,
            &AppError::NotFound(format!(
                "格式 `{}` 不受支持，请用 .json 或 .xml (unsupported format; use .json or .xml)",
                ext.chars().take(16).collect::<String>()
            )),
        ))
    })
}

fn list<T: serde::Serialize>(fmt: Format, root: &str, item: &str, items: &[T]) -> HttpResponse {
    match fmt {
        Format::Json => HttpResponse::Ok().json(items),
        Format::Xml => HttpResponse::Ok()
            .content_type(xml_type())
            .body(open311::xml_list(root, item, items)),
    }
}

/// Query-string and form parameters; a later value of the same name wins.
fn params(req: &HttpRequest, body: Option<&[u8]>) -> Result<HashMap<String, String>, AppError> {
    let bad = |e: serde_urlencoded::de::Error| {
        AppError::bad_request(
            "invalid_query",
            format!("参数无法解析 (parameters cannot be read): {e}"),
        )
    };
    let mut out: HashMap<String, String> = HashMap::new();
    let q: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).map_err(bad)?;
    out.extend(q);
    if let Some(body) = body {
        let b: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(bad)?;
        out.extend(b);
    }
    for (k, v) in &out {
        if k.contains('\0') || v.contains('\0') {
            return Err(AppError::bad_request(
                "invalid_text",
                format!(
                    "参数 {} 含有空字符 (\\u0000)，请删除后重试 (contains a NUL character; remove it)",
                    k.escape_debug()
                ),
            ));
        }
        if k != "description" && v.chars().count() > MAX_PARAM_CHARS {
            return Err(AppError::bad_request(
                "text_too_long",
                format!("参数 {k} 过长，最多 {MAX_PARAM_CHARS} 个字符 (longer than {MAX_PARAM_CHARS} characters)"),
            ));
        }
    }
    Ok(out)
}

fn check_jurisdiction(state: &AppState, p: &HashMap<String, String>) -> Result<(), AppError> {
    match (
        &state.config.open311.jurisdiction_id,
        p.get("jurisdiction_id").filter(|j| !j.is_empty()),
    ) {
        (Some(ours), Some(theirs)) if ours != theirs => Err(AppError::bad_request(
            "unknown_jurisdiction",
            format!("jurisdiction_id 应为 `{ours}` (this endpoint serves jurisdiction `{ours}`)"),
        )),
        _ => Ok(()),
    }
}

fn non_empty<'a>(p: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn comma_list(p: &HashMap<String, String>, k: &str) -> Vec<String> {
    non_empty(p, k)
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn w3_param(
    p: &HashMap<String, String>,
    k: &str,
) -> Result<Option<chrono::NaiveDateTime>, AppError> {
    non_empty(p, k)
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.naive_utc())
                .map_err(|_| {
                    AppError::bad_request(
                        "invalid_date",
                        format!("{k} 须为 W3C 日期时间，如 2026-01-01T00:00:00Z ({k} must be a W3C date-time)"),
                    )
                })
        })
        .transpose()
}

/// The service list: one service per active event category.
#[utoipa::path(get, path = "/open311/v2/services.{format}", tag = "open311",
    params(("format" = String, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "must match the configured one when that is set")),
    responses(
        (status = 200, description = "the services", content(
            (Vec<open311::Service> = "application/json"),
            (String = "text/xml"))),
        (status = 400, description = "invalid_query, unknown_jurisdiction", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "not_found: unsupported format", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 503, description = "service_unavailable", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml")))))]
pub async fn services(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let fmt = match format_of(&path.into_inner()) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let result = async {
        check_jurisdiction(&state, &params(&req, None)?)?;
        let rows = state.db(|conn| Ok(categories::list(conn)?)).await?;
        let services: Vec<open311::Service> = rows
            .iter()
            .filter(|c| c.active)
            .map(open311::Service::of)
            .collect();
        Ok(list(fmt, "services", "service", &services))
    }
    .await;
    respond(fmt, result)
}

/// A service definition (its attributes: none beyond the standard fields).
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.{format}", tag = "open311",
    params(("service_code" = String, Path, description = "an event category's code"),
        ("format" = String, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "must match the configured one when that is set")),
    responses(
        (status = 200, description = "the definition", content(
            (open311::ServiceDefinition = "application/json"),
            (String = "text/xml"))),
        (status = 400, description = "invalid_query, unknown_jurisdiction", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "not_found: no such service, or an unsupported format", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 503, description = "service_unavailable", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml")))))]
pub async fn service_definition(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (code, ext) = path.into_inner();
    let fmt = match format_of(&ext) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let result = async {
        check_jurisdiction(&state, &params(&req, None)?)?;
        let c = code.clone();
        let row = state
            .db(move |conn| Ok(categories::find(conn, &c)?))
            .await?
            .filter(|c| c.active)
            .ok_or_else(|| no_service(&code))?;
        let def = open311::ServiceDefinition {
            service_code: row.code,
            attributes: vec![],
        };
        Ok(match fmt {
            Format::Json => HttpResponse::Ok().json(def),
            Format::Xml => HttpResponse::Ok()
                .content_type(xml_type())
                .body(open311::xml_one("service_definition", &def)),
        })
    }
    .await;
    respond(fmt, result)
}

fn no_service(code: &str) -> AppError {
    AppError::NotFound(format!(
        "没有服务代码 `{}` (no such service_code; see services)",
        code.chars().take(32).collect::<String>()
    ))
}

/// File a request: a report through the one command path, under the platform's intake
/// account. Parameters as form fields (or in the query string).
#[utoipa::path(post, path = "/open311/v2/requests.{format}", tag = "open311",
    params(("format" = String, Path, description = "`json` or `xml`")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "api_key, service_code, lat + long or address_string, description, email, first_name, last_name, phone, device_id, account_id, media_url, jurisdiction_id"),
    responses(
        (status = 200, description = "filed: the service_request_id", content(
            (Vec<Created> = "application/json"),
            (String = "text/xml"))),
        (status = 400, description = "service_code_required, position_required, invalid_position, description_required, outside_grid, invalid_text, text_too_long, invalid_query, unknown_jurisdiction, …", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 403, description = "invalid_api_key, account_disabled, forbidden: the key or its intake account", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "not_found: no such service_code, or an unsupported format", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 503, description = "service_unavailable", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml")))))]
pub async fn create_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let fmt = match format_of(&path.into_inner()) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let result = create(&state, &req, &body).await;
    if result.is_ok() {
        state.changes.notify_waiters();
    }
    respond(
        fmt,
        result.map(|c| list(fmt, "service_requests", "request", &[c])),
    )
}

async fn create(state: &AppState, req: &HttpRequest, body: &[u8]) -> Result<Created, AppError> {
    let p = params(req, Some(body))?;
    check_jurisdiction(state, &p)?;
    let client = non_empty(&p, "api_key")
        .and_then(|k| open311::client_for_key(&state.config.open311, k))
        .cloned()
        .ok_or_else(|| {
            AppError::forbidden(
                "invalid_api_key",
                "api_key 无效，不能提交诉求 (invalid api_key: cannot submit requests)",
            )
        })?;
    let code = non_empty(&p, "service_code")
        .ok_or_else(|| {
            AppError::bad_request(
                "service_code_required",
                "须提供 service_code (service_code was not provided)",
            )
        })?
        .to_owned();
    let position =
        match (non_empty(&p, "lat"), non_empty(&p, "long")) {
            (None, None) => None,
            (Some(lat), Some(lon)) => {
                let parse = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
                match (parse(lat), parse(lon)) {
                    (Some(lat), Some(lon)) => Some(Position {
                        lat,
                        lon,
                        crs: Some("wgs84".into()),
                    }),
                    _ => return Err(AppError::bad_request(
                        "invalid_position",
                        "lat 与 long 须为十进制度数 (lat and long must be decimal degrees, WGS-84)",
                    )),
                }
            }
            _ => {
                return Err(AppError::bad_request(
                    "invalid_position",
                    "lat 与 long 须同时提供 (give both lat and long, or neither)",
                ))
            }
        };
    let address = non_empty(&p, "address_string").map(str::to_owned);
    if position.is_none() && address.is_none() {
        return Err(AppError::bad_request(
            "position_required",
            "须提供 lat/long 或 address_string (a location is required: lat and long, or address_string)",
        ));
    }
    let name = [non_empty(&p, "last_name"), non_empty(&p, "first_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    let contact = Contact {
        name: Some(name).filter(|n| !n.is_empty()),
        phone: non_empty(&p, "phone").map(str::to_owned),
        email: non_empty(&p, "email").map(str::to_owned),
    };
    let contact = (contact.name.is_some() || contact.phone.is_some() || contact.email.is_some())
        .then_some(contact);
    let mut description = p.get("description").cloned().unwrap_or_default();
    if let Some(url) = non_empty(&p, "media_url") {
        description = format!("{}\n照片 (media_url): {url}", description.trim_end());
    }
    let account_id = non_empty(&p, "account_id").map(str::to_owned);
    let device_id = non_empty(&p, "device_id").map(str::to_owned);
    let report_id = uuid::Uuid::new_v4().to_string();
    let cmd = Command::CreateReport {
        report_id: report_id.clone(),
        source: client.source,
        category_code: code.clone(),
        description,
        position,
        attachment_ids: vec![],
        contact,
        occurred_at: None,
        address,
    };
    let account = client.account.clone();
    let client_name = client.name.clone();
    let (acc, dev, id) = (account_id.clone(), device_id, report_id.clone());
    state
        .with_command_env(move |conn, env| {
            // An unknown or retired category is the caller's wrong service_code.
            if !categories::find(conn, &code)?.is_some_and(|c| c.active) {
                return Err(no_service(&code));
            }
            let user = users::find_by_username(conn, &account)?.ok_or_else(|| {
                AppError::forbidden(
                    "forbidden",
                    format!("接入账号 `{account}` 不存在，请联系管理员 (the platform's intake account does not exist; ask the administrator)"),
                )
            })?;
            if user.disabled {
                return Err(AppError::forbidden(
                    "account_disabled",
                    "接入账号已停用 (the platform's intake account is disabled)",
                ));
            }
            let issuer = Issuer {
                user_id: user.id.clone(),
                is_system: false,
        occurred_at: None,
            };
            crate::db::write_transaction(conn, |conn| {
                execute_in(conn, env, &issuer, &cmd, None)?;
                open311::record(conn, &id, &client_name, acc.as_deref(), dev.as_deref(), env.now)?;
                Ok::<_, CommandError>(())
            })
            .map_err(command_error)
        })
        .await?;
    Ok(Created {
        service_request_id: report_id,
        service_notice: Some(
            "已收到，指挥中心受理后派遣执法中队处置；可凭编号查询进度 (received: the dispatch center triages it and sends a squad; query its status by this id)".into(),
        ),
        account_id,
    })
}

/// The rules' refusals, all of them something the caller sent: 400 unless the key's account
/// may not file (403).
fn command_error(e: CommandError) -> AppError {
    match e {
        CommandError::Domain(d) => match d.kind {
            ErrorKind::Forbidden | ErrorKind::OutOfScope => AppError::forbidden(d.code, d.message),
            ErrorKind::NotFound => AppError::NotFound(d.message),
            ErrorKind::Rule | ErrorKind::InvalidState => AppError::bad_request(d.code, d.message),
        },
        CommandError::Db(e) => AppError::from(e),
    }
}

/// Query requests: by ids (everything else ignored), or by service codes, a date range (at
/// most 90 days; default the last 90) and status. Newest first, at most 1000.
#[utoipa::path(get, path = "/open311/v2/requests.{format}", tag = "open311",
    params(("format" = String, Path, description = "`json` or `xml`"),
        ("service_request_id" = Option<String>, Query, description = "ids, comma-delimited; overrides the others"),
        ("service_code" = Option<String>, Query, description = "codes, comma-delimited"),
        ("start_date" = Option<String>, Query, description = "W3C date-time, e.g. 2026-01-01T00:00:00Z"),
        ("end_date" = Option<String>, Query, description = "W3C date-time"),
        ("status" = Option<String>, Query, description = "`open`, `closed`, or both comma-delimited"),
        ("jurisdiction_id" = Option<String>, Query, description = "must match the configured one when that is set")),
    responses(
        (status = 200, description = "the requests", content(
            (Vec<ServiceRequest> = "application/json"),
            (String = "text/xml"))),
        (status = 400, description = "invalid_date, invalid_status, date_range_too_long, too_many_items, invalid_query, unknown_jurisdiction", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "not_found: unsupported format", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 503, description = "service_unavailable", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml")))))]
pub async fn list_requests(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let fmt = match format_of(&path.into_inner()) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let result = async {
        let p = params(&req, None)?;
        check_jurisdiction(&state, &p)?;
        let q = request_query(&p)?;
        let agency = state.config.open311.agency.clone();
        let views = state
            .db(move |conn| {
                let rows = open311::find(conn, &q, crate::db::now())?;
                views(conn, &rows, agency.as_deref())
            })
            .await?;
        Ok(list(fmt, "service_requests", "request", &views))
    }
    .await;
    respond(fmt, result)
}

fn request_query(p: &HashMap<String, String>) -> Result<RequestQuery, AppError> {
    let ids = comma_list(p, "service_request_id");
    if ids.len() > MAX_IDS {
        return Err(AppError::bad_request(
            "too_many_items",
            format!("service_request_id 最多 {MAX_IDS} 个 (at most {MAX_IDS} ids)"),
        ));
    }
    let statuses = comma_list(p, "status");
    if let Some(bad) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
        return Err(AppError::bad_request(
            "invalid_status",
            format!(
                "status `{}` 须为 open 或 closed (status must be open or closed)",
                bad.chars().take(32).collect::<String>()
            ),
        ));
    }
    let start = w3_param(p, "start_date")?;
    let end = w3_param(p, "end_date")?;
    if let (Some(s), Some(e)) = (start, end) {
        if e < s || e - s > chrono::Duration::days(open311::MAX_SPAN_DAYS) {
            return Err(AppError::bad_request(
                "date_range_too_long",
                format!(
                    "end_date 须不早于 start_date，且跨度不超过 {} 天 (end_date must not precede start_date, and the range may not span more than {} days)",
                    open311::MAX_SPAN_DAYS,
                    open311::MAX_SPAN_DAYS
                ),
            ));
        }
    }
    Ok(RequestQuery {
        // An id that is no UUID names no report.
        ids: ids
            .into_iter()
            .filter(|i| uuid::Uuid::parse_str(i).is_ok())
            .collect(),
        codes: comma_list(p, "service_code"),
        start,
        end,
        statuses,
        by_id: !comma_list(p, "service_request_id").is_empty(),
    })
}

fn views(
    conn: &mut crate::db::DbConn,
    rows: &[crate::domain::workflow::Report],
    agency: Option<&str>,
) -> Result<Vec<ServiceRequest>, AppError> {
    let names: HashMap<String, String> = categories::list(conn)?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect();
    rows.iter()
        .map(|r| Ok(open311::view(conn, r, &names, agency)?))
        .collect()
}

/// One request's state.
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.{format}", tag = "open311",
    params(("service_request_id" = String, Path, description = "the id returned when it was filed"),
        ("format" = String, Path, description = "`json` or `xml`"),
        ("jurisdiction_id" = Option<String>, Query, description = "must match the configured one when that is set")),
    responses(
        (status = 200, description = "the request, as a list of one", content(
            (Vec<ServiceRequest> = "application/json"),
            (String = "text/xml"))),
        (status = 400, description = "invalid_query, unknown_jurisdiction", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "not_found: no such request, or an unsupported format", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml"))),
        (status = 503, description = "service_unavailable", content(
            (Vec<Open311Error> = "application/json"), (String = "text/xml")))))]
pub async fn get_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, ext) = path.into_inner();
    let fmt = match format_of(&ext) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let result = async {
        check_jurisdiction(&state, &params(&req, None)?)?;
        let agency = state.config.open311.agency.clone();
        let views = state
            .db(move |conn| {
                let report =
                    if uuid::Uuid::parse_str(&id).is_ok() && open311::is_open311(conn, &id)? {
                        store::report(conn, &id)?
                    } else {
                        None
                    };
                let report = report.ok_or_else(|| {
                    AppError::NotFound(format!(
                        "没有编号为 `{}` 的诉求 (no such service_request_id)",
                        id.chars().take(64).collect::<String>()
                    ))
                })?;
                views(conn, &[report], agency.as_deref())
            })
            .await?;
        Ok(list(fmt, "service_requests", "request", &views))
    }
    .await;
    respond(fmt, result)
}
