//! Issued documents (and their revocation). Batch renders are in [`crate::batches`].
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

/// An issued document with the service of the case it was issued on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseDocument {
    #[sqlx(flatten)]
    pub document: IssuedRow,
    pub item_id: String,
}

/// 企业证照: the licences issued on the applicant's cases, newest first, revoked ones included
/// (the applicant sees why a licence no longer holds).
pub async fn licences_of_applicant(
    store: &Store,
    applicant_kind: &str,
    applicant_id: &str,
) -> Result<Vec<CaseDocument>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT d.id, d.kind, d.case_id, d.number, d.title, d.holder, d.file_digest, d.slots, \
             d.issued_at, d.valid_until, d.revoked_at, d.revoked_reason, c.item_id \
             FROM issued_documents d JOIN cases c ON c.id = d.case_id \
             WHERE d.kind = 'licence' AND c.applicant_kind = $1 AND c.applicant_id = $2 \
             ORDER BY d.issued_at DESC, d.id",
        )
        .bind(applicant_kind)
        .bind(applicant_id)
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

/// Licences of cases whose last valid day is before `today` (YYYY-MM-DD), neither revoked nor
/// yet recorded as expired, oldest first.
pub async fn expiring(
    store: &Store,
    today: &str,
    limit: i64,
) -> Result<Vec<IssuedRow>, StoreError> {
    let sql = format!(
        "SELECT {ISSUED} FROM issued_documents WHERE kind = 'licence' AND case_id IS NOT NULL \
         AND valid_until IS NOT NULL AND valid_until < $1 AND revoked_at IS NULL \
         AND expired_at IS NULL ORDER BY valid_until, id LIMIT $2"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(today)
        .bind(limit)
        .fetch_all(e)
        .await?))
}

/// Records that licence `id` expired; false if that was already recorded.
pub async fn mark_expired(tx: &mut Tx, id: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE issued_documents SET expired_at = $2 WHERE id = $1 AND expired_at IS NULL",
        )
        .bind(id)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}
