//! Login sessions, kept in the store so that any instance can serve any request and a restart
//! logs nobody out.
use tongban_domain::{EnterpriseId, OfficerId, Timestamp};

use crate::{Store, StoreError, Tx};

/// A live session and whom it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub officer_id: Option<OfficerId>,
    /// For an enterprise login: the enterprise and the certificate it logged in with.
    pub enterprise_id: Option<EnterpriseId>,
    pub certificate_serial: Option<String>,
    pub expires_at: Timestamp,
}

/// Records a session under `key` (the digest of the cookie secret).
pub async fn insert(
    tx: &mut Tx,
    key: &str,
    officer: &OfficerId,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO sessions (id, officer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key)
        .bind(officer.as_str())
        .bind(Timestamp::now().millis())
        .bind(expires_at.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Records an enterprise session under `key`: logged in with the certificate `serial`.
pub async fn insert_enterprise(
    tx: &mut Tx,
    key: &str,
    enterprise: &EnterpriseId,
    serial: &str,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO sessions (id, enterprise_id, certificate_serial, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key)
        .bind(enterprise.as_str())
        .bind(serial)
        .bind(Timestamp::now().millis())
        .bind(expires_at.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The session under `key` if it has not expired at `now`.
pub async fn live(store: &Store, key: &str, now: Timestamp) -> Result<Option<Session>, StoreError> {
    type Row = (Option<String>, Option<String>, Option<String>, i64);
    let row: Option<Row> = on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT officer_id, enterprise_id, certificate_serial, expires_at FROM sessions \
             WHERE id = $1 AND expires_at > $2",
        )
        .bind(key)
        .bind(now.millis())
        .fetch_optional(e)
        .await?
    });
    Ok(row.map(|(officer, enterprise, serial, expires)| Session {
        officer_id: officer.map(OfficerId::from_raw),
        enterprise_id: enterprise.map(EnterpriseId::from_raw),
        certificate_serial: serial,
        expires_at: Timestamp(expires),
    }))
}

pub async fn delete(tx: &mut Tx, key: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn purge_expired(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    let done = on_tx!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(done)
}
