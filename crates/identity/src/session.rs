//! Login sessions. The client holds a random 256-bit secret; the store keeps only its SM3 digest,
//! so a copy of the sessions table cannot be replayed.
use std::time::Duration;

use tongban_crypto::sm3;
use tongban_domain::{Officer, Timestamp};
use tongban_store::{StoreError, Tx, officer_certificates, officers, sessions};

pub(crate) fn key_of(secret: &str) -> String {
    sm3(secret.as_bytes()).to_hex()
}

/// Opens a session for `officer` inside `tx`, noting the certificate (serial) it was opened
/// with, if any; returns the secret for the cookie.
pub async fn open(
    tx: &mut Tx,
    officer: &Officer,
    certificate: Option<&str>,
    lifetime: Duration,
) -> Result<String, StoreError> {
    let secret = tongban_crypto::random_token();
    let owner = match certificate {
        Some(certificate) => sessions::Owner::OfficerByCertificate {
            id: &officer.id,
            certificate,
        },
        None => sessions::Owner::Officer(&officer.id),
    };
    sessions::insert(
        tx,
        &key_of(&secret),
        owner,
        Timestamp::now().after(lifetime),
    )
    .await?;
    Ok(secret)
}

/// The officer whose live session `secret` is, if any.
pub async fn officer(
    store: &tongban_store::Store,
    secret: &str,
) -> Result<Option<Officer>, StoreError> {
    let Some(session) = sessions::live(store, &key_of(secret), Timestamp::now()).await? else {
        return Ok(None);
    };
    let Some(id) = session.officer_id else {
        return Ok(None);
    };
    // A session opened with a certificate ends when the certificate is revoked.
    if let Some(serial) = &session.certificate_serial
        && !officer_certificates::is_live(store, serial, &id).await?
    {
        return Ok(None);
    }
    officers::by_id(store, &id).await
}

/// Ends the session `secret` (no error if it was already gone).
pub async fn close(tx: &mut Tx, secret: &str) -> Result<(), StoreError> {
    sessions::delete(tx, &key_of(secret)).await
}

/// How long a login challenge may be answered.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(300);

/// A fresh one-time challenge for a certificate login page.
pub async fn new_challenge(store: &tongban_store::Store) -> Result<String, StoreError> {
    let nonce = tongban_crypto::random_token();
    let mut tx = store.begin().await?;
    tongban_store::challenges::insert(&mut tx, &nonce, Timestamp::now().after(CHALLENGE_LIFETIME))
        .await?;
    tx.commit().await?;
    Ok(nonce)
}
