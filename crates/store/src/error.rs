/// What can go wrong in the store. Callers map these to their own errors; the detail is for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "migration {version} was changed after it was applied (checksum {applied} in the database, {current} in the code)"
    )]
    MigrationEdited {
        version: i64,
        applied: String,
        current: String,
    },
    #[error("the database was migrated by a newer Tongban (version {0}); refusing to run")]
    SchemaTooNew(i64),
    #[error("a row with this {0} already exists")]
    Conflict(&'static str),
    #[error("stored row is not valid: {0}")]
    InvalidRow(String),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
    /// A read through the direct SQLite connection (see `direct`) failed.
    #[error("direct read failed: {0}")]
    Direct(#[source] rusqlite::Error),
    /// The common commit of a group of SQLite transactions failed; none of them is stored.
    #[error("commit failed: {0}")]
    CommitFailed(std::sync::Arc<sqlx::Error>),
}

impl StoreError {
    /// True when the store could not be reached at all (connection refused, pool closed or timed out):
    /// the caller should answer "service unavailable", not "internal error".
    pub fn is_unavailable(&self) -> bool {
        let unreachable = |e: &sqlx::Error| {
            matches!(
                e,
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            )
        };
        match self {
            StoreError::Connect(_) => true,
            StoreError::Query(e) => unreachable(e),
            StoreError::CommitFailed(e) => unreachable(e),
            _ => false,
        }
    }
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`], everything else into a query error.
pub(crate) fn conflict_on_unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Query(e),
    }
}
