//! Long sequential reads on SQLite, through a direct read-only connection to the same file.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every row across as owned
//! values: on the 固废链's entries (1.4 KB rows, twelve columns) that measured 8–11 µs a row,
//! against 2.5–3 µs for the same query on the same file through rusqlite, which reads the
//! columns where SQLite holds them. The full audit reads every entry, so it reads them here;
//! everything else stays on sqlx. Both link the one SQLite library (libsqlite3-sys, bundled).
//! WAL lets this connection read beside the writer; each call is one read transaction.
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

pub(crate) struct Scanner {
    path: PathBuf,
    /// Connections between calls; a call that finds none opens one, so calls can run at once.
    idle: Mutex<Vec<Connection>>,
}

impl Scanner {
    pub(crate) fn new(path: &str) -> Scanner {
        Scanner {
            path: PathBuf::from(path),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on a blocking thread with the connection.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let idle = self.idle.lock().expect("scan connections").pop();
        let path = self.path.clone();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let conn = match idle {
                Some(conn) => conn,
                None => open(&path)?,
            };
            let result = read(&conn);
            Ok::<_, rusqlite::Error>((conn, result))
        })
        .await
        // A panic in `read` is the caller's bug: it goes on up as the panic it was.
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .map_err(StoreError::Scan)?;
        self.idle.lock().expect("scan connections").push(conn);
        result.map_err(StoreError::Scan)
    }

    pub(crate) fn close(&self) {
        self.idle.lock().expect("scan connections").clear();
    }
}

fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}
