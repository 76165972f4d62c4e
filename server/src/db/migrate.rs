//! Embedded migrations, one folder per backend.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{DbConn, DbError};

/// SQLite schema migrations.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
/// PostgreSQL schema migrations.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Advisory-lock key that serialises migrations across instances starting together
/// ("GRIDDISP" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x4752_4944_4449_5350;

/// Apply every pending migration; returns the versions applied.
///
/// On PostgreSQL the work happens under a session advisory lock so that several instances
/// starting at once apply each migration exactly once; the others wait, then find nothing to do.
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let to_err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConn::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(to_err);
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result
        }
        DbConn::Sqlite(lite) => lite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect())
            .map_err(to_err),
    }
}

/// Revert every applied migration (used by the migration tests: up → down → up).
pub fn revert_all(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let to_err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConn::Pg(pg) => pg
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect())
            .map_err(to_err),
        DbConn::Sqlite(lite) => lite
            .revert_all_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect())
            .map_err(to_err),
    }
}

/// Versions not yet applied.
pub fn pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let to_err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConn::Pg(pg) => pg
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect())
            .map_err(to_err),
        DbConn::Sqlite(lite) => lite
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.name().to_string()).collect())
            .map_err(to_err),
    }
}
