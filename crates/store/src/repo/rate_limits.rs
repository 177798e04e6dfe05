//! Fixed-window counters for rate limits.
use std::time::Duration;

use tongban_domain::Timestamp;

use crate::{Store, StoreError};

/// Counts one request under `key` in the current window of length `window`; returns the count
/// so far in that window, this request included.
pub async fn hit(
    store: &Store,
    key: &str,
    window: Duration,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let span = window.as_millis().max(1) as i64;
    let start = now.millis() - now.millis().rem_euclid(span);
    let mut tx = store.begin().await?;
    let count: i32 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             count = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.count + 1 ELSE 1 END, \
             window_start = excluded.window_start \
             RETURNING count",
        )
        .bind(key)
        .bind(start)
        .fetch_one(c)
        .await?
    });
    tx.commit().await?;
    Ok(count as i64)
}

/// Drops counters of windows that started before `before`.
pub async fn purge(store: &Store, before: Timestamp) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
            .bind(before.millis())
            .execute(c)
            .await?
            .rows_affected()
    });
    tx.commit().await?;
    Ok(n)
}
