//! Group commit on SQLite's one writer connection.
//!
//! Every write transaction on SQLite runs on the one writer connection, one after another. Each
//! commit with `synchronous=FULL` waits for the disk, and while it waits no other writer can run.
//! So transactions that arrive together share one physical transaction: each member runs inside
//! a savepoint of it, and the whole group is made durable by a single `COMMIT`. A member's `commit` returns only after that `COMMIT` succeeds,
//! so an acknowledged write is still a durable one. A member that fails, or is dropped, rolls
//! back to its own savepoint and leaves the rest of the group alone.
//!
//! Who commits: a member that has done its work queues for the connection again. The
//! lock is fair (FIFO), so every member already waiting for the connection runs first and joins
//! the group. The first finished member to get the connection back commits for everyone. Under
//! load a group grows to about the number of concurrent writers; when there is no load it is one
//! transaction, committed at once.
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Executor, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::StoreError;

/// Each member's savepoint. A member that succeeds leaves it on the stack (the group's `COMMIT`
/// commits them all, and a `RELEASE` would cost a round trip to the connection's thread); one
/// that fails rolls back to the newest savepoint of this name, which is its own, and pops it.
const SAVEPOINT: &str = "SAVEPOINT tongban_member";
const BEGIN_FIRST: &str = "BEGIN IMMEDIATE; SAVEPOINT tongban_member";
const ROLLBACK_MEMBER: &str = "ROLLBACK TO tongban_member; RELEASE tongban_member";

type Outcome = Result<(), Arc<sqlx::Error>>;

/// The writer connection and the physical transaction open on it.
pub(crate) struct Writer {
    pool: SqlitePool,
    conn: Option<PoolConnection<Sqlite>>,
    /// A physical transaction is open (`BEGIN IMMEDIATE` ran, `COMMIT` not yet).
    open: bool,
    /// The last member left without committing: its savepoint is still to be rolled back.
    abandoned: bool,
    /// Members whose work is done, each told the outcome of the common commit.
    released: Vec<oneshot::Sender<Outcome>>,
}

/// The shared writer of one SQLite store.
#[derive(Clone)]
pub(crate) struct Group {
    writer: Arc<Mutex<Writer>>,
    acquire_timeout: Duration,
}

/// One write transaction: a savepoint in the group's physical transaction, holding the writer.
pub struct GroupTx {
    guard: Option<OwnedMutexGuard<Writer>>,
    writer: Arc<Mutex<Writer>>,
}

impl Group {
    pub(crate) fn new(pool: SqlitePool, acquire_timeout: Duration) -> Group {
        Group {
            writer: Arc::new(Mutex::new(Writer {
                pool,
                conn: None,
                open: false,
                abandoned: false,
                released: Vec::new(),
            })),
            acquire_timeout,
        }
    }

    pub(crate) async fn begin(&self) -> Result<GroupTx, StoreError> {
        let lock = self.writer.clone().lock_owned();
        let mut guard = tokio::time::timeout(self.acquire_timeout, lock)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        guard.settle().await;
        if guard.open {
            if let Err(e) = guard.execute(SAVEPOINT).await {
                guard.finish().await;
                return Err(e.into());
            }
        } else {
            // One hand-off for both: the group's first member opens the transaction.
            if let Err(e) = guard.execute(BEGIN_FIRST).await {
                // Should the savepoint have failed after the BEGIN, leave no transaction open.
                let _ = guard.execute("ROLLBACK").await;
                return Err(e.into());
            }
            guard.open = true;
        }
        Ok(GroupTx {
            guard: Some(guard),
            writer: self.writer.clone(),
        })
    }

    /// Commits what is done and gives the connection back, so the pool can close.
    pub(crate) async fn close(&self) {
        let mut guard = self.writer.lock().await;
        guard.settle().await;
        guard.finish().await;
        guard.conn = None;
        guard.pool.close().await;
    }
}

impl Writer {
    async fn conn(&mut self) -> Result<&mut SqliteConnection, sqlx::Error> {
        if self.conn.is_none() {
            self.conn = Some(self.pool.acquire().await?);
        }
        Ok(self.conn.as_deref_mut().expect("acquired above"))
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        let conn = self.conn().await?;
        conn.execute(sql).await?;
        Ok(())
    }

    /// Rolls back an abandoned member's savepoint. If that fails, SQLite has already rolled the
    /// whole transaction back (it does after some I/O errors), so every finished member is told.
    async fn settle(&mut self) {
        if !self.abandoned {
            return;
        }
        self.abandoned = false;
        if let Err(e) = self.execute(ROLLBACK_MEMBER).await {
            tracing::error!(error = %e, "group commit: rolling back a member failed");
            self.fail(e).await;
        }
    }

    /// Ends the physical transaction: commits it if a member is waiting on it, else rolls it
    /// back so that an idle store holds no write lock.
    async fn finish(&mut self) {
        if !self.open {
            return;
        }
        if self.released.is_empty() {
            if let Err(e) = self.execute("ROLLBACK").await {
                tracing::error!(error = %e, "group commit: rollback failed");
            }
            self.open = false;
            return;
        }
        let outcome = self.execute("COMMIT").await.map_err(Arc::new);
        if outcome.is_err() {
            // A failed COMMIT may leave the transaction open; end it so the next group starts clean.
            let _ = self.execute("ROLLBACK").await;
        }
        self.open = false;
        for member in self.released.drain(..) {
            // A member whose caller went away has no receiver; its work is committed all the same.
            let _ = member.send(outcome.clone());
        }
    }

    /// Rolls the physical transaction back and tells every finished member that it failed.
    async fn fail(&mut self, error: sqlx::Error) {
        let _ = self.execute("ROLLBACK").await;
        self.open = false;
        let error = Arc::new(error);
        for member in self.released.drain(..) {
            let _ = member.send(Err(error.clone()));
        }
    }
}

impl GroupTx {
    /// Joins the group's `COMMIT` and returns once it is durable.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let mut guard = self.guard.take().expect("a transaction holds the writer");
        let (tell, mut told) = oneshot::channel();
        guard.released.push(tell);
        drop(guard);
        // If this caller goes away before the commit, someone must still end the transaction.
        let mut pending = PendingCommit {
            writer: Some(self.writer.clone()),
        };
        let mut guard = self.writer.clone().lock_owned().await;
        pending.writer = None;
        if let Ok(outcome) = told.try_recv() {
            return outcome.map_err(StoreError::CommitFailed);
        }
        guard.settle().await;
        guard.finish().await;
        drop(guard);
        match told.await {
            Ok(outcome) => outcome.map_err(StoreError::CommitFailed),
            Err(_) => {
                Err(sqlx::Error::Protocol("group commit ended without an outcome".into()).into())
            }
        }
    }
}

impl Deref for GroupTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        let writer = self.guard.as_ref().expect("a transaction holds the writer");
        writer.conn.as_deref().expect("the transaction began on it")
    }
}

impl DerefMut for GroupTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        let writer = self.guard.as_mut().expect("a transaction holds the writer");
        writer
            .conn
            .as_deref_mut()
            .expect("the transaction began on it")
    }
}

impl Drop for GroupTx {
    /// Dropped without commit: the member's savepoint is rolled back now if a runtime is at hand
    /// (an idle store must not keep SQLite's write lock), else by the next writer.
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        guard.abandoned = true;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                guard.settle().await;
                guard.finish().await;
            });
        }
    }
}

/// Ends the group's transaction if a finished member's caller stops waiting before anyone
/// committed it.
struct PendingCommit {
    writer: Option<Arc<Mutex<Writer>>>,
}

impl Drop for PendingCommit {
    fn drop(&mut self) {
        let Some(writer) = self.writer.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut guard = writer.lock().await;
                guard.settle().await;
                guard.finish().await;
            });
        }
    }
}
