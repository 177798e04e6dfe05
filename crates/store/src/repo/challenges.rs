//! One-time login challenges.
use tongban_domain::Timestamp;

use crate::{StoreError, Tx};

pub async fn insert(tx: &mut Tx, nonce: &str, expires_at: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query("INSERT INTO login_challenges (nonce, expires_at) VALUES ($1, $2)")
            .bind(nonce)
            .bind(expires_at.millis())
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Spends `nonce`: true only for the first use of a live challenge.
pub async fn spend(tx: &mut Tx, nonce: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE login_challenges SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(nonce)
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Removes challenges that expired before `now`.
pub async fn purge(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    }))
}
