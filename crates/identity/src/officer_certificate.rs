//! Officers' login certificates: issued with a fresh SM2 key and recorded, so that each can be
//! revoked on its own (a lost key) without touching the officer's account or other certificates.
use std::time::Duration;

use serde_json::json;
use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::{Ca, Holder};
use tongban_domain::audit::AuditAction;
use tongban_domain::{Officer, Timestamp};
use tongban_store::officer_certificates::{self, OfficerCertificate};
use tongban_store::{Store, StoreError, audit};

use crate::audit::entry;

/// How long an officer certificate is valid.
pub const VALIDITY: Duration = Duration::from_secs(2 * 365 * 24 * 3600);

pub struct Issued {
    pub key: Sm2KeyPair,
    pub pem: String,
    pub serial: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OfficerCertificateError {
    #[error("{0}")]
    Certificate(String),
    #[error("证书 {0} 不存在或已吊销")]
    NotLive(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues a certificate for `officer` from `ca` and records it; `by` is who asked (for the log).
pub async fn issue(
    store: &Store,
    ca: &Ca,
    officer: &Officer,
    by: &str,
) -> Result<Issued, OfficerCertificateError> {
    let key = Sm2KeyPair::generate();
    let holder = Holder::Officer {
        name: officer.display_name.clone(),
        username: officer.username.clone(),
    };
    let bad = |e: tongban_crypto::CryptoError| OfficerCertificateError::Certificate(e.to_string());
    let pem = ca
        .issue(&holder, &key.public_key(), VALIDITY)
        .map_err(bad)?;
    let info = ca.verify(&pem, std::time::SystemTime::now()).map_err(bad)?;
    let not_after = info
        .not_after
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let subject = format!("officer:{}", officer.id);
    let mut tx = store.begin().await?;
    officer_certificates::insert(
        &mut tx,
        &OfficerCertificate {
            serial: info.serial.clone(),
            officer_id: officer.id.to_string(),
            not_after,
            issued_at: Timestamp::now().millis(),
            revoked_at: None,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &entry(
            by,
            AuditAction::PermissionChange,
            &subject,
            json!({ "certificate_issued": info.serial }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Issued {
        key,
        pem,
        serial: info.serial,
    })
}

/// Revokes certificate `serial`; sessions opened with it end at once. Returns whose it was.
pub async fn revoke(
    store: &Store,
    serial: &str,
    by: &str,
) -> Result<String, OfficerCertificateError> {
    let serial = serial.trim().to_ascii_uppercase();
    let not_live = || OfficerCertificateError::NotLive(serial.clone());
    let cert = officer_certificates::by_serial(store, &serial)
        .await?
        .ok_or_else(not_live)?;
    let mut tx = store.begin().await?;
    if !officer_certificates::revoke(&mut tx, &serial, Timestamp::now()).await? {
        return Err(not_live());
    }
    audit::append(
        &mut tx,
        &entry(
            by,
            AuditAction::PermissionChange,
            format!("officer:{}", cert.officer_id),
            json!({ "certificate_revoked": serial }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(cert.officer_id)
}
