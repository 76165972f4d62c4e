//! Database access: one connection type over SQLite and PostgreSQL, a pool, migrations.
//!
//! The backend is chosen from the URL scheme *before* connecting, so a refused PostgreSQL
//! connection reports PostgreSQL's own error instead of a confusing SQLite one (diesel's
//! `MultiConnection::establish` tries each variant in turn and keeps only the last error).

pub mod gate;
pub mod migrate;

pub use gate::WriteGate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDateTime, Timelike, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// A connection to either backend; queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL (city and province deployments).
    Pg(PgConnection),
    /// SQLite (embedded default: one town on one machine).
    Sqlite(SqliteConnection),
}

/// Which database a URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://` or `postgresql://`.
    Postgres(String),
    /// A file path, `sqlite://path` or `file:path`.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Decide the backend from the scheme; anything without a known scheme is an SQLite path.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DbError::Config("database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some(scheme_end) = url.find("://") {
            return Err(DbError::Config(format!(
                "unsupported database URL scheme `{}`: use postgres:// or an SQLite file path",
                &url[..scheme_end]
            )));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    /// The backend's name for logs and `/readyz`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// Errors of the storage layer that are not plain query errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database URL or settings are unusable.
    #[error("database configuration: {0}")]
    Config(String),
    /// Could not connect.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// The SQLite file could not be opened (SQLite's own message names no path).
    #[error("cannot open the SQLite database {}: {cause}", path.display())]
    OpenSqlite {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        cause: diesel::ConnectionError,
    },
    /// The directory that should hold the SQLite file does not exist and cannot be made.
    #[error("cannot create the directory {} for the SQLite database: {cause}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why not.
        cause: std::io::Error,
    },
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// No pooled connection became free in time.
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// r2d2 manager that connects to the backend named by the URL.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    /// A manager for the given URL.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// SQLite settings applied to every connection. `busy_timeout` comes before `journal_mode`
/// because switching to WAL itself needs the lock when another connection is open.
/// `temp_store = MEMORY` keeps savepoint journals (every pushed command runs in a savepoint of
/// its group, and a page it changes is first copied there) in memory instead of a temporary
/// file written with a system call per page.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;";

/// Open one connection to the database the URL names.
pub fn establish(url: &DatabaseUrl) -> Result<DbConn, DbError> {
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut conn = PgConnection::establish(u)?;
            conn.batch_execute("SET TIME ZONE 'UTC'")?;
            Ok(DbConn::Pg(conn))
        }
        DatabaseUrl::Sqlite(path) => {
            let path_str = path
                .to_str()
                .ok_or_else(|| DbError::Config("SQLite path is not valid UTF-8".into()))?;
            // Every command (migrate, serve, user add …) may be the first to touch the data
            // directory; SQLite itself would only say "Unable to open the database file".
            ensure_parent_dir(path)?;
            let mut conn =
                SqliteConnection::establish(path_str).map_err(|cause| DbError::OpenSqlite {
                    path: path.clone(),
                    cause,
                })?;
            // Switching a new database to WAL needs an exclusive lock that the busy handler
            // does not always wait for (several connections opening a fresh file at once):
            // retry briefly instead of failing start-up.
            let mut attempts = 0;
            loop {
                match conn.batch_execute(SQLITE_PRAGMAS) {
                    Ok(()) => break,
                    Err(e) if attempts < 100 && e.to_string().contains("locked") => {
                        attempts += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(DbConn::Sqlite(conn))
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    /// A connection given back while its holder panicked, or still inside a transaction (a
    /// panic in a transaction's closure skips both COMMIT and ROLLBACK), is closed rather than
    /// handed to the next request: on SQLite it would still hold the write lock. The same test
    /// as diesel's own r2d2 manager (`R2D2Connection::is_broken`, derived for [`DbConn`]).
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        std::thread::panicking() || conn.is_broken()
    }
}

/// The connection pool shared by request handlers and jobs.
pub type Pool = r2d2::Pool<Manager>;
/// A connection checked out of the pool.
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Build a pool; the first connection is made now so that a bad URL fails at start-up
/// with the database's own message.
pub fn pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, DbError> {
    // Fail fast with the real error before r2d2 starts retrying in the background.
    drop(establish(url)?);
    let pool = r2d2::Pool::builder()
        .max_size(max_size.max(1))
        .connection_timeout(Duration::from_secs(10))
        .build(Manager::new(url.clone()))?;
    Ok(pool)
}

fn ensure_parent_dir(path: &Path) -> Result<(), DbError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => std::fs::create_dir_all(dir)
            .map_err(|cause| DbError::CreateDir {
                path: dir.to_path_buf(),
                cause,
            }),
        _ => Ok(()),
    }
}

/// The current time as stored: UTC, truncated to microseconds so that both backends keep
/// exactly the value we wrote (PostgreSQL has microsecond precision).
pub fn now() -> NaiveDateTime {
    truncate_micros(Utc::now().naive_utc())
}

/// Truncate a timestamp to microseconds.
pub fn truncate_micros(t: NaiveDateTime) -> NaiveDateTime {
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// Run `f` in a transaction that writes. On SQLite it begins `IMMEDIATE`, taking the write lock
/// first: a deferred transaction that reads and then writes cannot wait for another writer
/// (SQLite answers "database is locked" at once instead of using the busy timeout, since the
/// snapshot it read is stale), so two writers at once — two job rounds, a job and a request —
/// would fail instead of queueing. On PostgreSQL, and inside an open transaction, it is
/// `Connection::transaction`. Diesel's `immediate_transaction` hands the closure the inner
/// `SqliteConnection`, not the [`DbConn`] our queries take; hence this.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(lite) = conn else {
        return conn.transaction(f);
    };
    let depth = AnsiTransactionManager::transaction_manager_status_mut(lite)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        return conn.transaction(f);
    }
    // Queue behind this process's other writers first (gate.rs); released after COMMIT or
    // ROLLBACK, when this binding is dropped at the end of the function.
    let _queued = gate::enter();
    AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(lite) = conn else {
        unreachable!("the variant does not change");
    };
    match result {
        Ok(v) => match AnsiTransactionManager::commit_transaction(lite) {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(lite);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(lite)?;
            Err(e)
        }
    }
}

/// Run a write that is one statement (SQLite commits it by itself) behind this process's other
/// writers on SQLite (gate.rs), like [`write_transaction`] does for transactions; inside an open
/// transaction, and on PostgreSQL, `f` simply runs.
pub fn write<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> T) -> T {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let _queued = match conn {
        DbConn::Sqlite(lite) => {
            match AnsiTransactionManager::transaction_manager_status_mut(lite).transaction_depth() {
                Ok(None) => gate::enter(),
                _ => None,
            }
        }
        DbConn::Pg(_) => None,
    };
    f(conn)
}

/// Whether an error is a unique-constraint violation (e.g. a username already taken).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;

    #[test]
    fn backend_is_chosen_from_the_url_scheme() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db")
                .unwrap()
                .backend_name(),
            "postgres"
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db")
                .unwrap()
                .backend_name(),
            "postgres"
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/gd/db.sqlite").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/gd/db.sqlite"))
        );
        assert_eq!(
            DatabaseUrl::parse("data/griddispatch.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/griddispatch.db"))
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[test]
    fn a_refused_postgres_connection_reports_the_postgres_error() {
        // Port 1 is never a PostgreSQL server; the message must come from libpq, not SQLite.
        let url = DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").unwrap();
        let err = establish(&url)
            .err()
            .expect("connection must fail")
            .to_string();
        assert!(
            err.contains("127.0.0.1") || err.contains("connect"),
            "unexpected error: {err}"
        );
        assert!(!err.to_lowercase().contains("sqlite"), "{err}");
    }

    #[test]
    fn a_connection_given_back_inside_a_transaction_is_not_handed_out_again() {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("t.db"));
        let pool = pool(&url, 1).unwrap();
        {
            let mut conn = pool.get().unwrap();
            conn.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
            let DbConn::Sqlite(lite) = &mut *conn else {
                unreachable!()
            };
            // As a panic inside a transaction's closure leaves it: begun, never ended.
            AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE").unwrap();
            diesel::sql_query("INSERT INTO t VALUES (1)")
                .execute(&mut *conn)
                .unwrap();
        }
        let mut conn = pool.get().unwrap();
        let DbConn::Sqlite(lite) = &mut *conn else {
            unreachable!()
        };
        assert_eq!(
            AnsiTransactionManager::transaction_manager_status_mut(lite).transaction_depth(),
            Ok(None),
            "the pool handed out a connection inside a transaction"
        );
        // And the write lock is free for everyone else; the abandoned row was never committed.
        let mut other = establish(&url).unwrap();
        other.batch_execute("INSERT INTO t VALUES (2)").unwrap();
        #[derive(diesel::QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            x: i32,
        }
        let rows: Vec<X> = diesel::sql_query("SELECT x FROM t")
            .load(&mut other)
            .unwrap();
        assert_eq!(rows.iter().map(|r| r.x).collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn timestamps_are_truncated_to_microseconds() {
        let t = now();
        assert_eq!(t.nanosecond() % 1_000, 0);
    }
}
