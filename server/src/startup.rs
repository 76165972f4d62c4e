//! Building and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpMessage, HttpServer};
use chrono::Duration;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::tokens::{self, TokenKeys};
use crate::config::{Config, StorageConfig};
use crate::db::{self, migrate};
use crate::state::AppState;
use crate::store::settings;
use crate::tus::MediaContext;
use crate::{metrics, routes};
use griddispatch_media::storage::{LocalStorage, S3Storage, Storage};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// Open the configured evidence storage.
pub async fn open_storage(config: &Config) -> anyhow::Result<Arc<dyn Storage>> {
    Ok(match &config.storage {
        StorageConfig::Local { .. } => Arc::new(LocalStorage::new(config.media_dir()).await?),
        StorageConfig::S3(s3) => Arc::new(S3Storage::new(s3)?),
    })
}

/// Connect, migrate (under the advisory lock on PostgreSQL), resolve the signing secret and
/// open the evidence storage.
pub async fn prepare_state(config: &Config) -> anyhow::Result<AppState> {
    let url = config.database()?;
    let pool = db::pool(&url, config.pool_size)?;
    let mut conn = pool.get()?;
    // Everything written at start-up happens under the migration lock: instances starting
    // together on an empty database must not insert the same rows at once.
    let (applied, (secret, calendar)) = migrate::run_pending_then(&mut conn, |conn| {
        let secret = match &config.jwt_secret {
            Some(s) => s.clone(),
            None => settings::get_or_insert_with(conn, "jwt_secret", tokens::generate_secret)?,
        };
        let installed = crate::store::categories::seed_standard(
            conn,
            &crate::demo_categories::demo_categories(),
        )?;
        if installed > 0 {
            tracing::info!(installed, "installed the standard event categories");
        }
        anyhow::Ok((secret, crate::store::calendar::load(conn)?))
    })?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied database migrations");
    }
    drop(conn);
    let keys = TokenKeys::new(
        secret.as_bytes(),
        Duration::seconds(config.access_token_ttl_secs),
        Duration::days(config.refresh_token_ttl_days),
    );
    let media = MediaContext {
        storage: open_storage(config).await?,
        limits: config.media_limits.clone(),
        upload_dir: config.upload_dir(),
        upload_ttl: Duration::hours(config.upload_ttl_hours),
        position_mismatch_m: config.position_mismatch_m,
        running: Default::default(),
        copies_wake: Default::default(),
        copy_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
            config.photo_copies.workers.max(1),
        )),
    };
    std::fs::create_dir_all(&media.upload_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the upload directory {}: {e}",
            media.upload_dir.display()
        )
    })?;
    // The current grid version, indexed once; `None` before the first import.
    let grid = {
        let mut conn = pool.get()?;
        crate::grid::load_current(&mut conn)?
    };
    let head = {
        let mut conn = pool.get()?;
        crate::store::audit::head_seq(&mut conn)?
    };
    Ok(AppState {
        head: Arc::new(
            tokio::sync::watch::channel(crate::state::Head {
                seq: head,
                from: head,
                scopes: None,
            })
            .0,
        ),
        grid: Arc::new(arc_swap::ArcSwapOption::new(grid.map(Arc::new))),
        calendar: Arc::new(arc_swap::ArcSwap::from_pointee(calendar)),
        db_slots: Arc::new(tokio::sync::Semaphore::new(2 * pool.max_size() as usize)),
        pool,
        write_gate: crate::db::WriteGate::for_database(&url),
        database: Arc::new(url),
        keys: Arc::new(keys),
        config: Arc::new(config.clone()),
        media: Arc::new(media),
        changes: Arc::new(tokio::sync::Notify::new()),
    })
}

impl Application {
    /// Prepare state and bind the configured address (port 0 picks a free port).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let state = prepare_state(config).await?;
        Self::with_state(state, &config.bind)
    }

    /// Bind with an already prepared state and start the background upkeep (call inside the
    /// actix runtime).
    pub fn with_state(state: AppState, bind: &str) -> anyhow::Result<Self> {
        spawn_head_watch(state.clone(), std::time::Duration::from_secs(1));
        // Photos' copies are part of answering the phones, not upkeep: the workers run
        // whenever they are configured, background jobs or not.
        crate::tus::copies::spawn(state.clone());
        spawn_password_memory_release(std::time::Duration::from_secs(5));
        if state.config.background_jobs {
            crate::tus::jobs::spawn(state.clone(), std::time::Duration::from_secs(600));
            crate::grid::spawn_refresh(state.clone(), std::time::Duration::from_secs(30));
            spawn_deadline_job(state.clone(), std::time::Duration::from_secs(60));
            spawn_sync_retention(state.clone(), std::time::Duration::from_secs(3600));
            if state.config.webhooks.enabled {
                crate::webhooks::spawn(state.clone());
            }
        }
        let listener =
            TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use its pool).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until stopped (Ctrl-C / SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Raise deadline warnings every `every` (one instance at a time on PostgreSQL).
fn spawn_deadline_job(state: AppState, every: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let sharing = state.config.sharing;
            let result = state
                .with_command_env(move |conn, env| {
                    let tasks = crate::workflow::deadlines::sweep(conn, env)?;
                    let cases = crate::workflow::case_deadlines::sweep(conn, env)?;
                    let transfers = crate::workflow::transfer_deadlines::sweep(conn, env)?;
                    let notices = crate::decision_notices::sweep(
                        conn,
                        env.now,
                        sharing.decision_notice_days,
                        sharing.match_radius_m,
                    )?;
                    let items = crate::meetings::sweep(conn, env.now)?;
                    Ok(tasks + cases + transfers + notices.flagged + items)
                })
                .await;
            match result {
                Ok(0) => {}
                Ok(n) => {
                    state.changes.notify_waiters();
                    tracing::info!(raised = n, "deadline warnings raised")
                }
                Err(e) => tracing::warn!(error = %e, "deadline job failed"),
            }
        }
    });
}

/// Keep `state.head` current: read the head of the change log after each local commit
/// (`state.changes`) and every `every` (commits of other instances sharing the database), and
/// when it moved publish it with the scopes of the rows written since. One query or two per
/// move for the instance, instead of one per waiting phone and open event stream.
fn spawn_head_watch(state: AppState, every: std::time::Duration) {
    /// More rows than this in one move: publish without scopes (everyone looks).
    const MAX_ROWS: i64 = 2_000;
    actix_web::rt::spawn(async move {
        loop {
            let notified = state.changes.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let prev = state.head.borrow().seq;
            let read = state
                .db(move |conn| {
                    let head = crate::store::audit::head_seq(conn)?;
                    let scopes = if head > prev {
                        crate::store::sync::scopes_between(conn, prev, head, MAX_ROWS)?
                    } else {
                        None
                    };
                    Ok((head, scopes))
                })
                .await;
            match read {
                Ok((head, scopes)) if head != prev => {
                    state.head.send_replace(crate::state::Head {
                        seq: head,
                        from: prev.min(head),
                        scopes,
                    });
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the change-log head failed"),
            }
            tokio::select! {
                () = &mut notified => {}
                () = actix_web::rt::time::sleep(every) => {}
            }
        }
    });
}

/// Drop sync change-log rows older than the retention window, every `every`.
fn spawn_sync_retention(state: AppState, every: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let days = state.config.sync_retention_days;
            match state
                .db(move |conn| Ok(crate::sync::prune(conn, db::now(), days)?))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "sync change log pruned"),
                Err(e) => tracing::warn!(error = %e, "sync retention job failed"),
            }
        }
    });
}

/// Give the password hashes' working memory (19 MiB per core) back to the system once sign-ins
/// have stopped for a while (`auth::password::IDLE_RELEASE`).
fn spawn_password_memory_release(every: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let bytes = crate::auth::password::release_idle();
            if bytes > 0 {
                tracing::debug!(bytes, "idle password-hash memory released");
            }
        }
    });
}

/// The body of the answers the HTTP/1 connection layer writes by itself, before any route or
/// middleware sees the request (a request head too large or malformed, or too slow to arrive):
/// the error shape of every other answer (vendor/README.md).
fn dispatcher_error_body(
    status: actix_web::http::StatusCode,
) -> Option<(&'static str, actix_web::web::Bytes)> {
    let (code, message) = match status.as_u16() {
        431 => (
            "header_too_large",
            "请求头过大：请减少或缩短请求头（例如 Cookie） (the request headers are too large: send fewer or shorter headers, e.g. cookies)",
        ),
        400 => (
            "malformed_request",
            "HTTP 请求格式有误，无法解析 (the HTTP request could not be parsed)",
        ),
        408 => (
            "request_timeout",
            "请求头未在时限内发完，连接已关闭 (the request head did not arrive in time; the connection was closed)",
        ),
        500 => ("internal_error", "服务器内部错误，请稍后重试 (internal server error; retry later)"),
        _ => return None,
    };
    let body = griddispatch_protocol::ErrorBody {
        error: griddispatch_protocol::ErrorDetail {
            code: code.into(),
            message: message.into(),
        },
    };
    serde_json::to_vec(&body)
        .ok()
        .map(|b| ("application/json", actix_web::web::Bytes::from(b)))
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    // Once per process; later servers (tests start many) find it installed.
    actix_http::error_body::set_error_body(dispatcher_error_body);
    let prometheus = metrics::middleware(state.pool.clone())?;
    let max_json = state.config.max_json_bytes;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap_fn(routes::refuse_nul_in_uri)
            .wrap(routes::error_shape())
            .wrap_fn(|req, srv| {
                // Echo the request id so that a user's report can be matched to the logs.
                use actix_web::dev::Service;
                let id = req.extensions().get::<RequestId>().map(ToString::to_string);
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Some(v) = id.and_then(|id| id.parse().ok()) {
                        res.headers_mut().insert(
                            actix_web::http::header::HeaderName::from_static("x-request-id"),
                            v,
                        );
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::default())
            .wrap(prometheus.clone())
            .app_data(data.clone())
            // The UI reads the document from our own route (`openapi::serve_document`), which
            // serializes it once for all workers.
            .service(
                SwaggerUi::new("/api/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
            )
            .service(
                web::resource("/api/openapi.json")
                    .wrap(actix_web::middleware::Compress::default())
                    .get(crate::openapi::serve_document),
            )
            // No app-wide default service: unknown paths get actix's 404 and known paths with
            // the wrong method its 405; `error_shape` gives both the JSON error body.
            .configure(|cfg| routes::configure(cfg, max_json))
    })
    // Compressed answers and event streams go out as several writes (head, chunks, the last
    // chunk); with Nagle's algorithm on, each answer after the first on a connection waited for
    // the phone's delayed ACK, ~40 ms (docs/benchmarks.md, "Offline sync").
    .tcp_nodelay(true)
    .listen(listener)?
    .run();
    Ok(server)
}
