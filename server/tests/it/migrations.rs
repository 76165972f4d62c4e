//! Migrations: up → down → up on the configured backend, and concurrent start-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestDb;
use diesel::prelude::*;
use griddispatch::db::migrate;

fn table_exists(conn: &mut griddispatch::db::DbConn, backend: &str, table: &str) -> bool {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = if backend == "postgres" {
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
    };
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(table)
        .get_result::<N>(conn)
        .unwrap()
        .n
        == 1
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let first = migrate::run_pending(&mut conn).unwrap();
    assert!(!first.is_empty());
    assert!(migrate::pending(&mut conn).unwrap().is_empty());
    assert!(table_exists(&mut conn, db.backend(), "users"));
    let reverted = migrate::revert_all(&mut conn).unwrap();
    assert_eq!(reverted.len(), first.len());
    assert!(!table_exists(&mut conn, db.backend(), "users"));
    let again = migrate::run_pending(&mut conn).unwrap();
    assert_eq!(again, first);
    assert!(table_exists(&mut conn, db.backend(), "sessions"));
}

#[test]
fn instances_starting_together_apply_each_migration_once() {
    let db = TestDb::new();
    let url = griddispatch::db::DatabaseUrl::parse(&db.url).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut conn = griddispatch::db::establish(&url).unwrap();
                migrate::run_pending(&mut conn).map(|v| v.len())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total = migrate::run_pending(&mut db.connect()).unwrap();
    assert!(total.is_empty());
    // Under the start-up lock (advisory lock on PostgreSQL, an immediate transaction on
    // SQLite) every instance succeeds and exactly one does the work.
    let applied: Vec<usize> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(applied.iter().filter(|n| **n > 0).count(), 1, "{applied:?}");
}

#[test]
fn constraints_refuse_unknown_roles_and_half_certificates() {
    let db = TestDb::new();
    let mut conn = db.connect();
    migrate::run_pending(&mut conn).unwrap();
    let now = griddispatch::db::now();
    diesel::sql_query(
        "INSERT INTO users (id, username, display_name, password_hash, disabled, created_at, updated_at) \
         VALUES ('u1', 'a', 'A', 'h', FALSE, $1, $1)",
    )
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .execute(&mut conn)
    .unwrap();
    let bad_role =
        diesel::sql_query("INSERT INTO user_roles (user_id, role) VALUES ('u1', 'mayor')")
            .execute(&mut conn);
    assert!(bad_role.is_err());
    let half_cert =
        diesel::sql_query("UPDATE users SET cert_number = 'X' WHERE id = 'u1'").execute(&mut conn);
    assert!(half_cert.is_err());
}

#[test]
fn instances_starting_together_on_an_empty_database_all_serve() {
    const INSTANCES: usize = 6;
    let db = TestDb::new();
    let data = tempfile::tempdir().unwrap();
    let config = griddispatch::config::Config {
        database_url: Some(db.url.clone()),
        bind: "127.0.0.1:0".into(),
        data_dir: data.path().to_path_buf(),
        pool_size: 2,
        background_jobs: false,
        ..Default::default()
    };
    let start = std::sync::Arc::new(std::sync::Barrier::new(INSTANCES));
    let handles: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let (config, start) = (config.clone(), start.clone());
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    start.wait();
                    let app = griddispatch::Application::build(&config)
                        .await
                        .map_err(|e| format!("{e:#}"))?;
                    let url = format!("http://127.0.0.1:{}/readyz", app.port());
                    actix_web::rt::spawn(app.run_until_stopped());
                    let status = reqwest::get(&url)
                        .await
                        .map_err(|e| e.to_string())?
                        .status();
                    Ok::<_, String>(status.as_u16())
                })
            })
        })
        .collect();
    let results: Vec<Result<u16, String>> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        results.iter().all(|r| r == &Ok(200)),
        "every instance must start and serve: {results:?}"
    );
}
