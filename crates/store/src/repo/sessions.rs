//! Login sessions, kept in the store so that any instance can serve any request and a restart
//! logs nobody out.
use tongban_domain::{OfficerId, Timestamp};

use crate::{Store, StoreError, Tx};

/// A live session and whom it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub officer_id: Option<OfficerId>,
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

/// The session under `key` if it has not expired at `now`.
pub async fn live(store: &Store, key: &str, now: Timestamp) -> Result<Option<Session>, StoreError> {
    let row: Option<(Option<String>, i64)> = on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT officer_id, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(key)
        .bind(now.millis())
        .fetch_optional(e)
        .await?
    });
    Ok(row.map(|(officer, expires)| Session {
        officer_id: officer.map(OfficerId::from_raw),
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
