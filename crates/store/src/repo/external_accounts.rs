//! Platform accounts linked to individuals, and sign-ons through the platform in progress.
use tongban_domain::Timestamp;

use crate::error::conflict_on_unique;
use crate::{Store, StoreError, Tx};

/// The individual linked to the platform account (`issuer`, `subject`), if any.
pub async fn linked_individual(
    store: &Store,
    issuer: &str,
    subject: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = on_reader!(store, |e| sqlx::query_as(
        "SELECT individual_id FROM external_accounts WHERE issuer = $1 AND subject = $2"
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(e)
    .await?);
    Ok(row.map(|(id,)| id))
}

/// Links a platform account to an individual; either side already linked is a conflict.
pub async fn link(
    tx: &mut Tx,
    issuer: &str,
    subject: &str,
    individual_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO external_accounts (issuer, subject, individual_id, created_at, last_login_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(individual_id)
        .bind(now.millis())
        .execute(c)
        .await
        .map_err(conflict_on_unique("统一身份认证账号"))?
        .rows_affected()
    });
    Ok(())
}

pub async fn record_login(
    tx: &mut Tx,
    issuer: &str,
    subject: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE external_accounts SET last_login_at = $3 WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .bind(now.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// A sign-on in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingLogin {
    pub id: String,
    pub state: String,
    pub nonce: String,
    /// Sealed by the identity layer.
    pub pkce_verifier: String,
    /// The platform's claims (sealed) once it has answered for a person not yet linked.
    pub person: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
}

pub async fn begin(tx: &mut Tx, p: &PendingLogin) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO external_logins (id, state, nonce, pkce_verifier, person, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(&p.state)
        .bind(&p.nonce)
        .bind(&p.pkce_verifier)
        .bind(&p.person)
        .bind(p.expires_at)
        .bind(p.created_at)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The live sign-on `id`.
pub async fn pending(
    store: &Store,
    id: &str,
    now: Timestamp,
) -> Result<Option<PendingLogin>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT id, state, nonce, pkce_verifier, person, expires_at, created_at \
         FROM external_logins WHERE id = $1 AND expires_at > $2"
    )
    .bind(id)
    .bind(now.millis())
    .fetch_optional(e)
    .await?))
}

/// Records who the platform said the person is; only once per sign-on. False if already set or
/// gone (a replayed callback).
pub async fn set_person(tx: &mut Tx, id: &str, person: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE external_logins SET person = $2 WHERE id = $1 AND person IS NULL")
            .bind(id)
            .bind(person)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Ends sign-on `id`; false if it was already ended (a second use).
pub async fn finish(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("DELETE FROM external_logins WHERE id = $1")
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Removes sign-ons that expired before `now`.
pub async fn purge(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM external_logins WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    }))
}
