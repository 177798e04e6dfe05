//! Officers' login certificates as issued, and their revocation.
use tongban_domain::{OfficerId, Timestamp};

use crate::{Store, StoreError, Tx};

/// A certificate as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OfficerCertificate {
    pub serial: String,
    pub officer_id: String,
    pub not_after: i64,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
}

pub async fn insert(tx: &mut Tx, c: &OfficerCertificate) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO officer_certificates (serial, officer_id, not_after, issued_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&c.serial)
        .bind(&c.officer_id)
        .bind(c.not_after)
        .bind(c.issued_at)
        .bind(c.revoked_at)
        .execute(conn)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Whether `serial` is a certificate issued to `officer` and not revoked.
pub async fn is_live(store: &Store, serial: &str, officer: &OfficerId) -> Result<bool, StoreError> {
    let row: Option<(String,)> = on_reader!(store, |e| {
        sqlx::query_as(
        "SELECT serial FROM officer_certificates WHERE serial = $1 AND officer_id = $2 AND revoked_at IS NULL"
    )
    .bind(serial)
    .bind(officer.as_str())
    .fetch_optional(e)
    .await?
    });
    Ok(row.is_some())
}

pub async fn by_serial(
    store: &Store,
    serial: &str,
) -> Result<Option<OfficerCertificate>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
        "SELECT serial, officer_id, not_after, issued_at, revoked_at FROM officer_certificates WHERE serial = $1"
    )
    .bind(serial)
    .fetch_optional(e)
    .await?
    }))
}

/// Revokes `serial` and ends the sessions opened with it; false if it was not live.
pub async fn revoke(tx: &mut Tx, serial: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE officer_certificates SET revoked_at = $2 WHERE serial = $1 AND revoked_at IS NULL",
        )
        .bind(serial)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    if n == 1 {
        on_tx!(tx, |c| {
            sqlx::query(
                "DELETE FROM sessions WHERE certificate_serial = $1 AND officer_id IS NOT NULL",
            )
            .bind(serial)
            .execute(c)
            .await?
            .rows_affected()
        });
    }
    Ok(n == 1)
}
