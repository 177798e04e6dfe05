//! SQLite's read-only connections, handed out without the checks sqlx's pool makes.
//!
//! A sqlx SQLite connection is a thread of its own, and each statement is a hand-off to that
//! thread and back. sqlx's pool pings a connection when it lends it and again when it gets it
//! back, so one query through the pool costs three hand-offs. Those pings look for a network
//! peer that went away; a SQLite connection is a file in this process, so they can find
//! nothing. Here a query costs its own hand-off only. A connection whose query was abandoned
//! half-way can go straight back: its thread finishes or resets the statement before it takes
//! the next command, and a read-only connection has no transaction to roll back.
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Semaphore, SemaphorePermit};

pub(crate) struct Readers {
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    options: SqliteConnectOptions,
    acquire_timeout: Duration,
}

/// A connection lent for one read; it goes back to the idle list when dropped.
pub(crate) struct Reader<'a> {
    conn: Option<SqliteConnection>,
    readers: &'a Readers,
    _permit: SemaphorePermit<'a>,
}

impl Readers {
    /// Opens the first connection at once, so a bad path or file fails at start-up.
    pub(crate) async fn open(
        options: SqliteConnectOptions,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Readers, sqlx::Error> {
        let first = options.connect().await?;
        Ok(Readers {
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(max_connections.max(1) as usize),
            options,
            acquire_timeout,
        })
    }

    pub(crate) async fn acquire(&self) -> Result<Reader<'_>, sqlx::Error> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().expect("reader list").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.options.connect().await?,
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self,
            _permit: permit,
        })
    }

    /// Refuses new reads and closes the idle connections (one in use closes when dropped).
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().expect("reader list"));
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

impl Deref for Reader<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("lent until dropped")
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("lent until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.readers.permits.is_closed()
        {
            self.readers.idle.lock().expect("reader list").push(conn);
        }
    }
}
