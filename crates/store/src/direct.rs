//! Reads on SQLite through direct read-only rusqlite connections to the same file, for the two
//! kinds of read where sqlx's way of running SQLite costs more than the read itself.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is a hand-off to that
//! thread and back, and every row comes across as owned values.
//! - A long sequential read ([`Direct::read`]): on the 固废链's entries (1.4 KB rows, twelve
//!   columns) sqlx took 8–11 µs a row, rusqlite 2.5–3 µs on the same query and file, because it
//!   reads the columns where SQLite holds them. The full audit reads every entry, so it reads
//!   them here, on a blocking thread.
//! - A short indexed read on every request ([`Direct::read_here`]): the session behind a cookie,
//!   a page of 我的办件, the case, its files and its enterprise that a submission or a case page
//!   reads (`keyed`). The two thread hand-offs were most of such a read; run on the calling
//!   thread it is tens of microseconds, so it runs there.
//!
//! Everything else stays on sqlx. Both crates link the one SQLite library (libsqlite3-sys,
//! bundled). WAL lets these connections read beside the writer; each call is one read
//! transaction.
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::StoreError;

/// Every SQLite connection of the store, sqlx's and these, maps up to this much of the file
/// (`mmap_size`, 256 MiB): a page it needs is read where the kernel holds it rather than
/// copied by a system call, which matters because a connection's page cache is emptied
/// whenever another connection commits. SQLite still writes through the WAL with `write`, so
/// durability is as before; an I/O error on a mapped page would be a SIGBUS rather than an
/// error code, which on a local disk is as fatal anyway.
pub(crate) const MMAP_SIZE: &str = "268435456";

/// How long a read on a blocking thread waits for a lock, like sqlx's connections.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Direct {
    path: PathBuf,
    /// Connections between calls; a call that finds none opens one, so calls can run at once.
    idle: Mutex<Vec<Connection>>,
}

impl Direct {
    pub(crate) fn new(path: &str) -> Direct {
        Direct {
            path: PathBuf::from(path),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on a blocking thread with a connection.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let idle = self.take();
        let path = self.path.clone();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let conn = match idle {
                Some(conn) => conn,
                None => open(&path)?,
            };
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let result = read(&conn);
            Ok::<_, rusqlite::Error>((conn, result))
        })
        .await
        // A panic in `read` is the caller's bug: it goes on up as the panic it was.
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .map_err(StoreError::Direct)?;
        self.give_back(conn);
        result.map_err(StoreError::Direct)
    }

    /// Runs `read` on the calling thread, for a short indexed read. It must not wait there for
    /// a lock: in WAL a reader almost never has to (a crashed writer's recovery, an exclusive
    /// lock), and when it does, the read is run again by [`Direct::read`], which waits on a
    /// blocking thread as sqlx's connections do.
    pub(crate) async fn read_here<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = match self.take() {
            Some(conn) => conn,
            None => open(&self.path).map_err(StoreError::Direct)?,
        };
        conn.busy_timeout(Duration::ZERO)
            .map_err(StoreError::Direct)?;
        let result = read(&conn);
        self.give_back(conn);
        match result {
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => {
                self.read(read).await
            }
            result => result.map_err(StoreError::Direct),
        }
    }

    fn take(&self) -> Option<Connection> {
        self.idle.lock().expect("direct connections").pop()
    }

    fn give_back(&self, conn: Connection) {
        self.idle.lock().expect("direct connections").push(conn);
    }

    pub(crate) fn close(&self) {
        self.idle.lock().expect("direct connections").clear();
    }
}

fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Every hot read's statement stays prepared (rusqlite keeps 16 by default; 我的办件's
    // filters alone make several texts).
    conn.set_prepared_statement_cache_capacity(64);
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A WAL reader is busy only in rare moments that a test cannot bring about from the outside
    /// (another process's recovery of the WAL index, say), so the read itself reports busy once.
    #[tokio::test]
    async fn a_busy_read_on_the_calling_thread_is_run_again_where_it_may_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7);",
            )
            .unwrap();
        let direct = Direct::new(path.to_str().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let here = std::thread::current().id();
        let seen = {
            let calls = calls.clone();
            direct
                .read_here(move |conn| {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        assert_eq!(std::thread::current().id(), here, "first on this thread");
                        return Err(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("database is locked".into()),
                        ));
                    }
                    assert_ne!(
                        std::thread::current().id(),
                        here,
                        "then on a blocking thread"
                    );
                    conn.query_row("SELECT v FROM t", [], |r| r.get::<_, i64>(0))
                })
                .await
                .unwrap()
        };
        assert_eq!((seen, calls.load(Ordering::SeqCst)), (7, 2));

        let failed = direct
            .read_here(|conn| conn.query_row("SELECT nope FROM t", [], |r| r.get::<_, i64>(0)))
            .await;
        assert!(
            matches!(failed, Err(StoreError::Direct(_))),
            "any other error is the caller's: {failed:?}"
        );
    }
}
