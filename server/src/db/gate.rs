//! An in-process queue in front of SQLite's one write lock.
//!
//! SQLite lets one connection write at a time. The others wait in its busy handler, which
//! polls with growing sleeps (1, 2, 5, 10 … 100 ms) and so wakes late: the lock sits free while
//! the writers that want it sleep. Through one batch of 500 uploaded photos the server slept in
//! that handler 8 177 times, 6.3 ms on average (`docs/benchmarks.md`, "Small upright JPEGs").
//! Writers of this process therefore first queue here, on a mutex that hands itself to the next
//! waiter the moment a write commits or rolls back. SQLite's busy handler still arbitrates
//! between processes (a `griddispatch` command run beside the server) and for any write that
//! does not pass through here, so correctness never depends on the gate: it only decides who
//! goes next, sooner.
//!
//! Why not `sqlite3_busy_handler` with a handler that waits for the commit: installing one
//! needs the raw connection and FFI, which diesel does not expose and the workspace's
//! `unsafe_code = "forbid"` rules out.
//!
//! Which gate applies is a property of the work a thread is doing, not of the connection
//! (diesel's connection enum carries no extra state): [`WriteGate::around`] names it for the
//! duration of a closure — `AppState::db` does this for every piece of database work of the
//! server — and [`crate::db::write_transaction`] and [`crate::db::write`] queue at it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use parking_lot::lock_api::ArcMutexGuard;
use parking_lot::RawMutex;

use super::DatabaseUrl;

/// How long a writer queues here before it goes on to SQLite's own waiting (as long as
/// SQLite's `busy_timeout`): a transaction that long is pathological, and then the writer
/// behaves as it would without the gate instead of hanging.
const QUEUE_LIMIT: Duration = Duration::from_secs(10);

/// The queue of one SQLite database file (cheap to clone).
#[derive(Clone, Debug)]
pub struct WriteGate(Arc<parking_lot::Mutex<()>>);

/// One gate per database file, so that servers of one process on different files (tests)
/// never wait for each other and pools on the same file share it.
static GATES: LazyLock<Mutex<HashMap<PathBuf, WriteGate>>> = LazyLock::new(Default::default);

thread_local! {
    /// The gate of the work this thread is doing, if any.
    static CURRENT: RefCell<Option<WriteGate>> = const { RefCell::new(None) };
    /// Whether this thread holds a gate now (a write inside a write does not queue again).
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

impl WriteGate {
    /// The gate of the database the URL names; `None` for PostgreSQL, which has row locks and
    /// wakes its waiters itself.
    pub fn for_database(url: &DatabaseUrl) -> Option<Self> {
        let DatabaseUrl::Sqlite(path) = url else {
            return None;
        };
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            gates
                .entry(path.clone())
                .or_insert_with(|| Self(Arc::new(parking_lot::Mutex::new(()))))
                .clone(),
        )
    }

    /// Run `f` with writes on this thread queueing at this gate.
    pub fn around<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<WriteGate>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.set(self.0.take());
            }
        }
        let _restore = Restore(CURRENT.replace(Some(self.clone())));
        f()
    }

    /// Whether a writer holds the gate now.
    pub fn is_held(&self) -> bool {
        self.0.is_locked()
    }
}

/// The gate held by a writer of this thread; dropping it lets the next one in.
pub(crate) struct Held {
    _guard: ArcMutexGuard<RawMutex, ()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        HOLDING.set(false);
    }
}

/// Queue at the current gate, if this thread's work has one and does not hold it already.
/// `None` also when the queue took longer than [`QUEUE_LIMIT`]: SQLite decides then.
pub(crate) fn enter() -> Option<Held> {
    if HOLDING.get() {
        return None;
    }
    let gate = CURRENT.with_borrow(|g| g.as_ref().map(|g| g.0.clone()))?;
    let guard = parking_lot::Mutex::try_lock_arc_for(&gate, QUEUE_LIMIT)?;
    HOLDING.set(true);
    Some(Held { _guard: guard })
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::*;
    use crate::db::{establish, write, write_transaction, DbConn};

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn counter(conn: &mut DbConn) -> i64 {
        diesel::sql_query("SELECT n FROM counter")
            .get_result::<N>(conn)
            .unwrap()
            .n
    }

    fn database() -> (tempfile::TempDir, DatabaseUrl) {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("gate.db"));
        establish(&url)
            .unwrap()
            .batch_execute(
                "CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0)",
            )
            .unwrap();
        (dir, url)
    }

    /// Read, then write what was read plus one: a lost turn or a writer let in twice shows as
    /// a wrong count.
    fn increment(conn: &mut DbConn) -> QueryResult<()> {
        write_transaction(conn, |conn| {
            let n = counter(conn);
            diesel::sql_query("UPDATE counter SET n = $1")
                .bind::<BigInt, _>(n + 1)
                .execute(conn)
                .map(|_| ())
        })
    }

    #[test]
    fn writers_of_one_process_take_turns_and_every_write_counts() {
        let (_dir, url) = database();
        let gate = WriteGate::for_database(&url).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (url, gate) = (url.clone(), gate.clone());
                std::thread::spawn(move || {
                    let mut conn = establish(&url).unwrap();
                    gate.around(|| {
                        for _ in 0..40 {
                            increment(&mut conn).unwrap();
                            // A single statement queues too, and a write inside a write does
                            // not queue behind itself.
                            write(&mut conn, |conn| {
                                diesel::sql_query("UPDATE counter SET n = n + 1").execute(conn)
                            })
                            .unwrap();
                        }
                    })
                })
            })
            .collect();
        // A writer of another process (no gate) still gets its turns from SQLite.
        let mut outsider = establish(&url).unwrap();
        for _ in 0..40 {
            increment(&mut outsider).unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter(&mut outsider), 8 * 40 * 2 + 40);
        assert!(!gate.is_held());
    }

    #[test]
    fn the_gate_is_held_while_a_transaction_writes_and_given_back_however_it_ends() {
        let (_dir, url) = database();
        let gate = WriteGate::for_database(&url).unwrap();
        let mut conn = establish(&url).unwrap();
        gate.around(|| {
            // Committed, with a nested transaction (a savepoint) inside.
            write_transaction(&mut conn, |conn| {
                assert!(gate.is_held());
                write_transaction(conn, |conn| {
                    write(conn, |conn| {
                        diesel::sql_query("UPDATE counter SET n = 5").execute(conn)
                    })
                })
            })
            .unwrap();
            assert!(!gate.is_held());
            // Rolled back by an error.
            let err = write_transaction(&mut conn, |conn| {
                diesel::sql_query("UPDATE counter SET n = 6").execute(conn)?;
                Err::<(), _>(diesel::result::Error::RollbackTransaction)
            });
            assert!(err.is_err());
            assert!(!gate.is_held());
            // Rolled back by a panic.
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                write_transaction(&mut conn, |_| -> QueryResult<()> { panic!("boom") })
            }));
            assert!(panicked.is_err());
            assert!(!gate.is_held());
        });
        // The panic left that connection inside its transaction, holding SQLite's lock; the
        // pool discards such a connection (`Manager::has_broken`), here it is dropped.
        drop(conn);
        let mut fresh = establish(&url).unwrap();
        assert_eq!(counter(&mut fresh), 5);
        // After a panic the thread queues again: another thread's writer is kept out meanwhile.
        gate.around(|| {
            write_transaction(&mut fresh, |conn| {
                assert!(gate.is_held());
                let other = {
                    let gate = gate.clone();
                    std::thread::spawn(move || gate.0.try_lock().is_some())
                };
                assert!(!other.join().unwrap(), "another writer got in");
                diesel::sql_query("UPDATE counter SET n = 7").execute(conn)
            })
            .unwrap();
        });
        assert_eq!(counter(&mut fresh), 7);
    }

    #[test]
    fn a_gate_per_sqlite_file_and_only_work_inside_around_queues() {
        assert!(
            WriteGate::for_database(&DatabaseUrl::Postgres("postgres://h/db".into())).is_none()
        );
        let a = WriteGate::for_database(&DatabaseUrl::Sqlite("/tmp/a.db".into())).unwrap();
        let b = WriteGate::for_database(&DatabaseUrl::Sqlite("/tmp/b.db".into())).unwrap();
        let a2 = WriteGate::for_database(&DatabaseUrl::Sqlite("/tmp/a.db".into())).unwrap();
        assert!(Arc::ptr_eq(&a.0, &a2.0));
        assert!(!Arc::ptr_eq(&a.0, &b.0));
        // Only work inside `around` queues, and `around` leaves no gate behind on the thread.
        let c = WriteGate::for_database(&DatabaseUrl::Sqlite("/tmp/c.db".into())).unwrap();
        assert!(enter().is_none());
        c.around(|| {
            let held = enter().expect("inside `around` a writer queues");
            assert!(c.is_held());
            // A write inside a write does not queue behind itself.
            assert!(enter().is_none());
            drop(held);
            assert!(!c.is_held());
        });
        assert!(enter().is_none());
    }
}
