//! Signatures waiting for a certificate holder's key, and whose turn it is to sign a case's form.
use tongban_domain::Timestamp;

use crate::{Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingRow {
    pub id: String,
    pub case_id: String,
    pub role: String,
    pub signer: String,
    pub prepared_file: String,
    pub base_file: String,
    pub contents_at: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

const PENDING: &str =
    "id, case_id, role, signer, prepared_file, base_file, contents_at, created_at, expires_at";

pub async fn insert_pending(tx: &mut Tx, row: &PendingRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO pending_signatures ({PENDING}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&row.id)
        .bind(&row.case_id)
        .bind(&row.role)
        .bind(&row.signer)
        .bind(&row.prepared_file)
        .bind(&row.base_file)
        .bind(row.contents_at)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The pending signature `id` on `case_id`, if it has not expired.
pub async fn pending(
    store: &Store,
    case_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<Option<PendingRow>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {PENDING} FROM pending_signatures \
             WHERE id = $1 AND case_id = $2 AND expires_at > $3"
        ))
        .bind(id)
        .bind(case_id)
        .bind(now.millis())
        .fetch_optional(e)
        .await?
    }))
}

/// Removes a pending signature; false if it was already taken (finished twice at once).
pub async fn take_pending(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("DELETE FROM pending_signatures WHERE id = $1")
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

pub async fn purge_pending(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM pending_signatures WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    }))
}

/// It is now the enterprise with `credit_code`'s turn to sign `case_id` as `role`.
pub async fn request(
    tx: &mut Tx,
    case_id: &str,
    role: &str,
    credit_code: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO signature_requests (case_id, role, credit_code, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (case_id, role) DO UPDATE \
             SET credit_code = excluded.credit_code, created_at = excluded.created_at",
        )
        .bind(case_id)
        .bind(role)
        .bind(credit_code)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

pub async fn fulfil(tx: &mut Tx, case_id: &str, role: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM signature_requests WHERE case_id = $1 AND role = $2")
            .bind(case_id)
            .bind(role)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// (case id, role, since) the enterprise is asked to sign, newest first.
pub async fn requests_for(
    store: &Store,
    credit_code: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT case_id, role, created_at FROM signature_requests \
             WHERE credit_code = $1 ORDER BY created_at DESC, case_id LIMIT 200",
        )
        .bind(credit_code)
        .fetch_all(e)
        .await?
    }))
}
