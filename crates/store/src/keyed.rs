//! Reads of the rows under one key (a case's id, an enterprise's), made on every submission and
//! every case page: on SQLite on the calling thread through a direct connection (see `direct`:
//! tens of microseconds, where sqlx's two hand-offs to its connection thread were most of such a
//! read), on PostgreSQL from the read pool.
use sqlx::postgres::PgRow;

use crate::engine::Pools;
use crate::{Store, StoreError};

/// Decodes a row of a direct read.
pub(crate) type DirectRow<T> = fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

/// The one row `sql` selects with `key` as its `$1`, if any.
pub(crate) async fn one<T>(
    store: &Store,
    sql: &str,
    key: &str,
    direct_row: DirectRow<T>,
) -> Result<Option<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin + 'static,
{
    Ok(all(store, sql, key, direct_row).await?.into_iter().next())
}

/// Every row `sql` selects with `key` as its `$1`, in its order.
pub(crate) async fn all<T>(
    store: &Store,
    sql: &str,
    key: &str,
    direct_row: DirectRow<T>,
) -> Result<Vec<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin + 'static,
{
    Ok(match &*store.pools {
        Pools::Sqlite { direct, .. } => {
            let (sql, key) = (sql.to_string(), key.to_string());
            direct
                .read_here(move |conn| {
                    conn.prepare_cached(&sql)?
                        .query_map([&key], direct_row)?
                        .collect()
                })
                .await?
        }
        Pools::Postgres { reader, .. } => sqlx::query_as(sql).bind(key).fetch_all(reader).await?,
    })
}
