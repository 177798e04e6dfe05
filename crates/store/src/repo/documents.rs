//! Issued documents (and their revocation), and batch renders with their items.
use tongban_domain::Timestamp;

use crate::{Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssuedRow {
    pub id: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub number: String,
    pub title: String,
    pub holder: String,
    /// SM3 of the current file, hex: its key in the file store.
    pub file_digest: String,
    /// JSON list of the signature places the template reserved.
    pub slots: String,
    pub issued_at: i64,
    /// `YYYY-MM-DD`, the last valid day.
    pub valid_until: Option<String>,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

const ISSUED: &str = "id, kind, case_id, number, title, holder, file_digest, slots, issued_at, \
                      valid_until, revoked_at, revoked_reason";

pub async fn insert(tx: &mut Tx, row: &IssuedRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO issued_documents ({ISSUED}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&row.id)
        .bind(&row.kind)
        .bind(&row.case_id)
        .bind(&row.number)
        .bind(&row.title)
        .bind(&row.holder)
        .bind(&row.file_digest)
        .bind(&row.slots)
        .bind(row.issued_at)
        .bind(&row.valid_until)
        .bind(row.revoked_at)
        .bind(&row.revoked_reason)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

pub async fn by_id(store: &Store, id: &str) -> Result<Option<IssuedRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {ISSUED} FROM issued_documents WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(e)
        .await?
    }))
}

/// The document whose current file has this digest (what the verify page looks up).
pub async fn by_file(store: &Store, digest: &str) -> Result<Option<IssuedRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {ISSUED} FROM issued_documents WHERE file_digest = $1 LIMIT 1"
        ))
        .bind(digest)
        .fetch_optional(e)
        .await?
    }))
}

pub async fn of_case(store: &Store, case_id: &str) -> Result<Vec<IssuedRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {ISSUED} FROM issued_documents WHERE case_id = $1 ORDER BY issued_at, id"
        ))
        .bind(case_id)
        .fetch_all(e)
        .await?
    }))
}

/// The newest documents first, a page at a time.
pub async fn recent(store: &Store, limit: i64, offset: i64) -> Result<Vec<IssuedRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {ISSUED} FROM issued_documents ORDER BY issued_at DESC, id LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(e)
        .await?
    }))
}

/// Points the document at its newly signed file; false if `expected` is no longer current
/// (someone else signed in between).
pub async fn replace_file(
    tx: &mut Tx,
    id: &str,
    expected: &str,
    digest: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE issued_documents SET file_digest = $3 WHERE id = $1 AND file_digest = $2",
        )
        .bind(id)
        .bind(expected)
        .bind(digest)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Revokes a live document; false if it was already revoked or does not exist.
pub async fn revoke(
    tx: &mut Tx,
    id: &str,
    reason: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE issued_documents SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now.millis())
        .bind(reason)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    pub id: String,
    pub requested_by: String,
    pub title: String,
    pub total: i64,
    pub done: i64,
    pub zip_digest: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchItemRow {
    pub seq: i64,
    pub name: String,
    /// What to render, as JSON.
    pub source: String,
    pub file_digest: Option<String>,
}

/// Records a batch and all its items (in the caller's transaction, with the job that runs it).
pub async fn insert_batch(
    tx: &mut Tx,
    batch: &BatchRow,
    items: &[BatchItemRow],
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO document_batches (id, requested_by, title, total, done, zip_digest, \
             created_at, finished_at, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&batch.id)
        .bind(&batch.requested_by)
        .bind(&batch.title)
        .bind(batch.total)
        .bind(batch.done)
        .bind(&batch.zip_digest)
        .bind(batch.created_at)
        .bind(batch.finished_at)
        .bind(&batch.error)
        .execute(c)
        .await?
        .rows_affected()
    });
    for item in items {
        on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO document_batch_items (batch_id, seq, name, source, file_digest) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&batch.id)
            .bind(item.seq)
            .bind(&item.name)
            .bind(&item.source)
            .bind(&item.file_digest)
            .execute(c)
            .await?
            .rows_affected()
        });
    }
    Ok(())
}

pub async fn batch(store: &Store, id: &str) -> Result<Option<BatchRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT id, requested_by, title, total, done, zip_digest, created_at, finished_at, \
             error FROM document_batches WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(e)
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

/// Every item in order with its file, for assembling the zip.
pub async fn items(store: &Store, batch_id: &str) -> Result<Vec<BatchItemRow>, StoreError> {
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

/// Marks an item rendered and counts it, once: a repeated call changes nothing.
pub async fn item_done(
    tx: &mut Tx,
    batch_id: &str,
    seq: i64,
    digest: &str,
) -> Result<(), StoreError> {
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
    Ok(())
}

pub async fn finish_batch(
    tx: &mut Tx,
    batch_id: &str,
    zip_digest: Option<&str>,
    error: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE document_batches SET zip_digest = $2, error = $3, finished_at = $4 WHERE id = $1",
        )
        .bind(batch_id)
        .bind(zip_digest)
        .bind(error)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}
