use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Transaction};

use crate::StoreError;
use crate::direct::Direct;
use crate::group::{Group, GroupTx};
use crate::readers::Readers;

/// Which engine a [`Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// Connection settings that are not part of the URL.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Connections for readers; writers have their own pool of as many on PostgreSQL, one on SQLite.
    pub max_connections: u32,
    /// How long a request waits for a connection before the store counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Writes and reads take connections from pools of their own on both engines, so a write
/// transaction that reads through the store while it holds its connection never waits on a pool
/// that other writers have emptied.
pub(crate) enum Pools {
    Sqlite {
        writer: Group,
        reader: Box<Readers>,
        direct: Box<Direct>,
    },
    Postgres {
        writer: PgPool,
        reader: PgPool,
    },
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pools: Arc<Pools>,
}

/// A write transaction. Commit it, or dropping it rolls back.
pub enum Tx {
    /// A member of a group commit on the one writer (see [`crate::group`]).
    Sqlite(GroupTx),
    Postgres(Transaction<'static, Postgres>),
}

impl Store {
    /// Opens the store at `url` (`sqlite://PATH` or `postgres://…`), creating a SQLite file when
    /// missing, and applies pending migrations.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let store = Self::connect(url, options).await?;
        crate::migrations::apply(&store).await?;
        Ok(store)
    }

    /// Opens the store without migrating (for `tongban migrate --status` and tests of migrations).
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let pools = if let Some(path) = url.strip_prefix("sqlite://") {
            Self::sqlite_pools(path, &options).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
            // sqlx pings a connection before lending it: a round trip on every query. One that
            // was busy a moment ago cannot have lost its server unnoticed (sqlx pings it again
            // as it comes back), so only a connection idle for a second or more is pinged, as
            // after a quiet spell in which PostgreSQL may have restarted.
            let pool = || {
                PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= Duration::from_secs(1) {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(opts.clone())
            };
            let writer = pool().await.map_err(StoreError::Connect)?;
            let reader = pool().await.map_err(StoreError::Connect)?;
            Pools::Postgres { writer, reader }
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        Ok(Store {
            pools: Arc::new(pools),
        })
    }

    async fn sqlite_pools(path: &str, options: &StoreOptions) -> Result<Pools, StoreError> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // Each member of a group commit runs in a savepoint, whose sub-journal (the pages'
            // contents before the member changed them) is a temporary file by default: a write
            // system call for every page a submission touches. In memory it is a copy.
            .pragma("temp_store", "memory")
            .pragma("mmap_size", crate::direct::MMAP_SIZE);
        // sqlx's pool pings a connection as it lends it; the one writer connection is held by
        // the group for good (see `group`), and readers have a pool without pings (`readers`).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(StoreError::Connect)?;
        let writer = Group::new(writer, options.acquire_timeout);
        let reader = Readers::open(
            base.read_only(true),
            options.max_connections,
            options.acquire_timeout,
        )
        .await
        .map_err(StoreError::Connect)?;
        Ok(Pools::Sqlite {
            writer,
            reader: Box::new(reader),
            direct: Box::new(Direct::new(path)),
        })
    }

    pub fn engine(&self) -> Engine {
        match &*self.pools {
            Pools::Sqlite { .. } => Engine::Sqlite,
            Pools::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match &*self.pools {
            Pools::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Pools::Postgres { writer, .. } => Tx::Postgres(writer.begin().await?),
        })
    }

    /// Checks that the store answers and is migrated: what `/readyz` reports.
    pub async fn ping(&self) -> Result<i64, StoreError> {
        let version: Option<i64> = on_reader!(self, |e| {
            sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
                .fetch_one(e)
                .await?
        });
        Ok(version.unwrap_or(0))
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite {
                writer,
                reader,
                direct,
            } => {
                direct.close();
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
        }
    }

    /// The tables and columns as the engine reports them, normalised (see [`crate::dialect`]).
    pub async fn schema(&self) -> Result<Vec<(String, String, String, bool)>, StoreError> {
        let sql = crate::dialect::schema_query(self.engine());
        let rows: Vec<(String, String, String, bool)> =
            on_reader!(self, |e| sqlx::query_as(sql).fetch_all(e).await?);
        Ok(rows
            .into_iter()
            .map(|(t, c, ty, nn)| (t, c, crate::dialect::normalise_type(&ty), nn))
            .collect())
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }
}
