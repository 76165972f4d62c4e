//! Embedded migrations, one folder per backend.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
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
/// Runs under the start-up lock (see [`run_pending_then`]).
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    run_pending_then(conn, |_| Ok::<_, DbError>(())).map(|(applied, ())| applied)
}

/// Apply every pending migration, then run `seed` (rows every instance needs at start-up, such
/// as the bundled calendar), both under one start-up lock; returns the versions applied and
/// what `seed` returned.
///
/// On PostgreSQL the lock is a session advisory lock, so several instances starting at once on
/// an empty database apply each migration and seed each row exactly once; the others wait,
/// then find nothing to do. On SQLite it is an immediate (write) transaction: another process
/// starting on the same file waits on the busy timeout instead of failing half-way. Seeding
/// must therefore be read-then-write under this lock, never before or after it.
pub fn run_pending_then<T, E: From<DbError>>(
    conn: &mut DbConn,
    seed: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<(Vec<String>, T), E> {
    lock(conn)?;
    let result = migrate_and_seed(conn, seed);
    unlock(conn, result.is_ok())?;
    result
}

fn migrate_and_seed<T, E: From<DbError>>(
    conn: &mut DbConn,
    seed: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<(Vec<String>, T), E> {
    let to_err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    let applied = match conn {
        DbConn::Pg(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(lite) => lite.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map(|v| v.iter().map(ToString::to_string).collect())
    .map_err(to_err)?;
    Ok((applied, seed(conn)?))
}

fn lock(conn: &mut DbConn) -> Result<(), DbError> {
    match conn {
        DbConn::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        }
        DbConn::Sqlite(lite) => {
            AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")
        }
    }
    .map_err(DbError::from)
}

/// Release the lock; on SQLite commit what was done, or roll it back after a failure.
fn unlock(conn: &mut DbConn, succeeded: bool) -> Result<(), DbError> {
    match conn {
        DbConn::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        }
        DbConn::Sqlite(lite) if succeeded => AnsiTransactionManager::commit_transaction(lite),
        DbConn::Sqlite(lite) => AnsiTransactionManager::rollback_transaction(lite),
    }
    .map_err(DbError::from)
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

/// Revert the applied migration whose name starts with `name` (a data migration's test: it
/// then applies it again over rows written before it, with [`apply_one`]).
pub fn revert_one(conn: &mut DbConn, name: &str) -> Result<(), DbError> {
    match conn {
        DbConn::Pg(pg) => {
            let m = named::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS, name)?;
            pg.revert_migration(&*m).map(|_| ())
        }
        DbConn::Sqlite(lite) => {
            let m = named::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS, name)?;
            lite.revert_migration(&*m).map(|_| ())
        }
    }
    .map_err(|e| DbError::Migration(e.to_string()))
}

/// Apply the migration whose name starts with `name` (see [`revert_one`]).
pub fn apply_one(conn: &mut DbConn, name: &str) -> Result<(), DbError> {
    match conn {
        DbConn::Pg(pg) => {
            let m = named::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS, name)?;
            pg.run_migration(&*m).map(|_| ())
        }
        DbConn::Sqlite(lite) => {
            let m = named::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS, name)?;
            lite.run_migration(&*m).map(|_| ())
        }
    }
    .map_err(|e| DbError::Migration(e.to_string()))
}

fn named<DB: diesel::backend::Backend>(
    source: &EmbeddedMigrations,
    name: &str,
) -> Result<Box<dyn diesel::migration::Migration<DB>>, DbError>
where
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    diesel::migration::MigrationSource::<DB>::migrations(source)
        .map_err(|e| DbError::Migration(e.to_string()))?
        .into_iter()
        .find(|m| m.name().to_string().starts_with(name))
        .ok_or_else(|| DbError::Migration(format!("no migration named {name}")))
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
