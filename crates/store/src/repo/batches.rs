//! Batch renders into one zip (`document_batches`, `document_batch_items`). An item is done once
//! its PDF's digest is recorded; recording is conditional on the item having none yet, and only a
//! recording that changed a row counts in `done`, so a batch resumed after a crash — or, after a
//! lost lease, run by two workers at once — neither double-counts nor skips an item.
use tongban_domain::Timestamp;

use crate::{Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    pub id: String,
    /// The officer who asked for it (their id); only they see it.
    pub requested_by: String,
    pub title: String,
    pub total: i64,
    pub done: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// SM3 of the zip, hex: its key in the file store, once done.
    pub zip_digest: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// Why it failed, in words for the officer.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchItemRow {
    /// Position in the zip, from 1.
    pub seq: i64,
    /// The file name in the zip, unique within the batch.
    pub name: String,
    /// What to render, as JSON (`{"kind": …, "data": …}`).
    pub source: String,
    /// SM3 of the rendered PDF, hex, once rendered.
    pub file_digest: Option<String>,
}

const BATCH: &str =
    "id, requested_by, title, total, done, state, zip_digest, created_at, finished_at, error";

/// Rows per INSERT statement when recording items.
const ITEMS_PER_STATEMENT: usize = 400;

/// Records a batch and all its items, in the caller's transaction (with the job that runs it).
pub async fn insert(
    tx: &mut Tx,
    batch: &BatchRow,
    items: &[BatchItemRow],
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO document_batches ({BATCH}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&batch.id)
        .bind(&batch.requested_by)
        .bind(&batch.title)
        .bind(batch.total)
        .bind(batch.done)
        .bind(&batch.state)
        .bind(&batch.zip_digest)
        .bind(batch.created_at)
        .bind(batch.finished_at)
        .bind(&batch.error)
        .execute(c)
        .await?
        .rows_affected()
    });
    for chunk in items.chunks(ITEMS_PER_STATEMENT) {
        let values = (0..chunk.len())
            .map(|i| {
                let p = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO document_batch_items (batch_id, seq, name, source, file_digest) VALUES {values}"
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(&sql);
            for item in chunk {
                query = query
                    .bind(&batch.id)
                    .bind(item.seq)
                    .bind(&item.name)
                    .bind(&item.source)
                    .bind(&item.file_digest);
            }
            query.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

pub async fn by_id(store: &Store, id: &str) -> Result<Option<BatchRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {BATCH} FROM document_batches WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(e)
        .await?
    }))
}

/// The batches `requested_by` asked for, newest first.
pub async fn of_requester(
    store: &Store,
    requested_by: &str,
    limit: i64,
) -> Result<Vec<BatchRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {BATCH} FROM document_batches WHERE requested_by = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(requested_by)
        .bind(limit)
        .fetch_all(e)
        .await?
    }))
}

/// The next items not yet rendered, in order.
pub async fn pending_items(
    store: &Store,
    batch_id: &str,
    limit: i64,
) -> Result<Vec<BatchItemRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT seq, name, source, file_digest FROM document_batch_items \
             WHERE batch_id = $1 AND file_digest IS NULL ORDER BY seq LIMIT $2",
        )
        .bind(batch_id)
        .bind(limit)
        .fetch_all(e)
        .await?
    }))
}

/// Every item in order with its file (without the source), for assembling the zip.
pub async fn files(store: &Store, batch_id: &str) -> Result<Vec<BatchItemRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT seq, name, '' AS source, file_digest FROM document_batch_items \
             WHERE batch_id = $1 ORDER BY seq",
        )
        .bind(batch_id)
        .fetch_all(e)
        .await?
    }))
}

/// Moves a queued batch to running; false if it was not queued.
pub async fn mark_running(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE document_batches SET state = 'running' WHERE id = $1 AND state = 'queued'",
        )
        .bind(id)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Records an item's rendered file and counts it, once: true if this call recorded it, false if
/// it already had a file (then nothing changes).
pub async fn item_done(
    tx: &mut Tx,
    batch_id: &str,
    seq: i64,
    digest: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE document_batch_items SET file_digest = $3 \
             WHERE batch_id = $1 AND seq = $2 AND file_digest IS NULL",
        )
        .bind(batch_id)
        .bind(seq)
        .bind(digest)
        .execute(c)
        .await?
        .rows_affected()
    });
    if n == 1 {
        on_tx!(tx, |c| {
            sqlx::query("UPDATE document_batches SET done = done + 1 WHERE id = $1")
                .bind(batch_id)
                .execute(c)
                .await?
                .rows_affected()
        });
    }
    Ok(n == 1)
}

/// Marks a batch done with its zip; false if it was already finished (done or failed).
pub async fn finish(
    tx: &mut Tx,
    id: &str,
    zip_digest: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE document_batches SET state = 'done', zip_digest = $2, finished_at = $3 \
             WHERE id = $1 AND state IN ('queued', 'running')",
        )
        .bind(id)
        .bind(zip_digest)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Marks a batch failed with the reason; false if it was already finished.
pub async fn fail(tx: &mut Tx, id: &str, error: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE document_batches SET state = 'failed', error = $2, finished_at = $3 \
             WHERE id = $1 AND state IN ('queued', 'running')",
        )
        .bind(id)
        .bind(error)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}
