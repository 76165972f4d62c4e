//! What every handler can reach.

use std::sync::Arc;

use crate::auth::tokens::TokenKeys;
use crate::config::Config;
use crate::db::{DatabaseUrl, Pool};

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub pool: Pool,
    /// Which backend the pool talks to.
    pub database: Arc<DatabaseUrl>,
    /// On SQLite, the queue this process's writers take turns at (`db::gate`).
    pub write_gate: Option<crate::db::WriteGate>,
    /// Database work admitted to the blocking pool at once ([`AppState::db`]): two per pooled
    /// connection (one working, one ready for the connection the moment it is given back; one
    /// per connection cost intake 10–30 %). The rest wait here on the runtime instead of each
    /// parking a blocking thread on the pool — 10 000 phones' first checks of
    /// `/sync/v1/wait` started ~500 threads (docs/benchmarks.md, "Footprint").
    pub db_slots: Arc<tokio::sync::Semaphore>,
    /// Access-token keys.
    pub keys: Arc<TokenKeys>,
    /// Loaded configuration.
    pub config: Arc<Config>,
    /// Evidence storage, limits and the upload directory.
    pub media: Arc<crate::tus::MediaContext>,
    /// The current grid, swapped whole after an import so lookups never wait.
    pub grid: Arc<arc_swap::ArcSwapOption<GridSnapshot>>,
    /// The working-day calendar, swapped whole when an admin loads a year.
    pub calendar: Arc<arc_swap::ArcSwap<crate::domain::calendar::WorkCalendar>>,
    /// Woken after commands commit, for phones waiting on `/sync/v1/wait`.
    pub changes: Arc<tokio::sync::Notify>,
    /// The head of the change log as last read by this instance's watcher
    /// (`startup::spawn_head_watch`, after each local commit and once a second for other
    /// instances): waiting phones and event streams ask the database only when it moved, and
    /// a phone whose scope the move did not touch not even then.
    pub head: Arc<tokio::sync::watch::Sender<Head>>,
}

/// The head of the change log and the scopes its last move touched.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// Highest command `seq`.
    pub seq: i64,
    /// The head before this move: `scopes` covers the commands after it up to `seq`.
    pub from: i64,
    /// Scope keys (`u:<user>`, `v:<village>`, `s:<squad>`, as in sync cursors) of the rows
    /// those commands changed, including the village or squad an entity left; `None` when
    /// not known (too many rows): everyone looks.
    pub scopes: Option<std::collections::HashSet<String>>,
}

/// One grid version's spatial index.
pub struct GridSnapshot {
    /// Grid version number.
    pub version: i64,
    /// Its index.
    pub index: grid_data::GridIndex,
    /// Name of every cell of the version, for answers (`crate::grid::locate`).
    pub names: std::collections::HashMap<grid_data::CellCode, String>,
}

impl AppState {
    /// Run blocking database work on the blocking thread pool, off the async executor, once
    /// one of the `db_slots` is free.
    pub async fn db<T, F>(&self, f: F) -> Result<T, crate::AppError>
    where
        F: FnOnce(&mut crate::db::DbConn) -> Result<T, crate::AppError> + Send + 'static,
        T: Send + 'static,
    {
        // The pool's own wait (`db::pool`) bounds the slot's and the connection's together.
        let deadline = tokio::time::Instant::now() + self.pool.connection_timeout();
        let slot = tokio::time::timeout_at(deadline, self.db_slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                crate::AppError::Unavailable("no database connection became free in time".into())
            })?
            // The semaphore is never closed.
            .ok();
        let pool = self.pool.clone();
        let gate = self.write_gate.clone();
        actix_web::web::block(move || {
            // Given back as soon as the work is done, not when this task is next polled: on a
            // busy worker that can be much later, and the next call would wait for it.
            let _slot = slot;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut conn = pool
                .get_timeout(left.max(std::time::Duration::from_millis(100)))
                .map_err(crate::db::DbError::from)?;
            match gate {
                Some(gate) => gate.around(|| f(&mut conn)),
                None => f(&mut conn),
            }
        })
        .await?
    }

    /// Run work that applies commands on the blocking pool, with the command environment of
    /// this moment: the current grid and calendar, and now.
    pub async fn with_command_env<T, F>(&self, f: F) -> Result<T, crate::AppError>
    where
        F: FnOnce(&mut crate::db::DbConn, &crate::workflow::Env<'_>) -> Result<T, crate::AppError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let st = self.clone();
        self.db(move |conn| {
            let grid = st.grid.load_full();
            let calendar = st.calendar.load_full();
            let env = crate::workflow::Env {
                grid: grid.as_deref().map(|g| &g.index),
                grid_version: grid.as_ref().map_or(0, |g| g.version),
                calendar: &calendar,
                now: crate::db::now(),
                case_rules: st.config.case_rules,
                merge_rules: st.config.merge_rules,
            };
            f(conn, &env)
        })
        .await
    }
}
