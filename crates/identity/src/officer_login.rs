//! Officer login by username and password, with lockout: the fifth consecutive failure locks the
//! account for 15 minutes. Every attempt, successful or not, is an audit entry committed with
//! its effect.
use std::time::Duration;

use serde_json::json;
use tongban_domain::audit::AuditAction;
use tongban_domain::{Officer, Timestamp};
use tongban_store::{Store, StoreError, audit, officers};

use crate::audit::entry;
use crate::{password, session};

pub const LOCK_AFTER_FAILURES: i32 = 5;
pub const LOCK_DURATION: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong username or password")]
    BadCredentials,
    #[error("account locked until {until}")]
    Locked { until: Timestamp },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A successful login: the officer and the session secret for the cookie.
#[derive(Debug)]
pub struct OfficerLogin {
    pub officer: Officer,
    pub session_secret: String,
}

/// Checks `username` / `password` from `client` (an address, for the audit log) and opens a
/// session lasting `lifetime`.
pub async fn officer_login(
    store: &Store,
    username: &str,
    password: &str,
    client: &str,
    lifetime: Duration,
) -> Result<OfficerLogin, LoginError> {
    let username = username.trim();
    let now = Timestamp::now();
    let state = officers::login_state(store, username).await?;
    let detail = json!({ "username": username, "client": client });

    let Some(state) = state else {
        password::verify_off_thread(password::decoy_hash().to_string(), password.to_string()).await;
        let mut tx = store.begin().await?;
        audit::append(
            &mut tx,
            &entry("anonymous", AuditAction::LoginFailed, String::new(), detail),
        )
        .await?;
        tx.commit().await?;
        return Err(LoginError::BadCredentials);
    };
    let subject = format!("officer:{}", state.officer.id);

    if let Some(until) = state.locked_until.filter(|until| *until > now) {
        let mut tx = store.begin().await?;
        audit::append(
            &mut tx,
            &entry("anonymous", AuditAction::LoginLocked, subject, detail),
        )
        .await?;
        tx.commit().await?;
        return Err(LoginError::Locked { until });
    }

    if !password::verify_off_thread(state.password_hash.clone(), password.to_string()).await {
        let mut tx = store.begin().await?;
        let locked = officers::record_failed_login(
            &mut tx,
            &state.officer.id,
            LOCK_AFTER_FAILURES,
            now.after(LOCK_DURATION),
        )
        .await?;
        audit::append(
            &mut tx,
            &entry(
                "anonymous",
                AuditAction::LoginFailed,
                subject.clone(),
                detail.clone(),
            ),
        )
        .await?;
        if let Some(until) = locked {
            audit::append(
                &mut tx,
                &entry(
                    "system",
                    AuditAction::AccountLocked,
                    subject,
                    json!({ "until": until.beijing(), "client": client }),
                ),
            )
            .await?;
            tx.commit().await?;
            tracing::warn!(username, "officer account locked after repeated failures");
            return Err(LoginError::Locked { until });
        }
        tx.commit().await?;
        return Err(LoginError::BadCredentials);
    }

    let mut tx = store.begin().await?;
    officers::record_login(&mut tx, &state.officer.id).await?;
    let session_secret = session::open(&mut tx, &state.officer, None, lifetime).await?;
    audit::append(
        &mut tx,
        &entry(subject.clone(), AuditAction::Login, subject, detail),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %state.officer.id, username, "officer logged in");
    Ok(OfficerLogin {
        officer: state.officer,
        session_secret,
    })
}

/// The bytes an officer signs to log in with a certificate: bound to the challenge and username.
pub fn certificate_login_message(challenge: &str, username: &str) -> Vec<u8> {
    format!("tongban-officer-login:v1\n{challenge}\n{username}").into_bytes()
}

/// Logs an officer in with an SM2 certificate from `ca` naming the username, and a signature
/// over [`certificate_login_message`] for an unspent challenge. A locked account stays locked.
pub async fn officer_certificate_login(
    store: &Store,
    ca: &tongban_crypto::cert::Ca,
    cert_pem: &str,
    challenge: &str,
    signature: &[u8],
    client: &str,
    lifetime: Duration,
) -> Result<OfficerLogin, CertificateLoginError> {
    use tongban_crypto::cert::Holder;
    let info = ca
        .verify(cert_pem, std::time::SystemTime::now())
        .map_err(|e| CertificateLoginError::Certificate(e.to_string()))?;
    let Holder::Officer { username, .. } = info.holder else {
        return Err(CertificateLoginError::Certificate(
            "该证书不是工作人员证书".into(),
        ));
    };
    let detail = json!({ "username": username, "client": client, "certificate": info.serial });
    if info
        .public_key
        .verify(&certificate_login_message(challenge, &username), signature)
        .is_err()
    {
        let mut tx = store.begin().await?;
        audit::append(
            &mut tx,
            &entry("anonymous", AuditAction::LoginFailed, String::new(), detail),
        )
        .await?;
        tx.commit().await?;
        return Err(CertificateLoginError::BadSignature);
    }
    let Some(state) = officers::login_state(store, &username).await? else {
        return Err(CertificateLoginError::Certificate(
            "证书对应的工作人员账号不存在".into(),
        ));
    };
    if !tongban_store::officer_certificates::is_live(store, &info.serial, &state.officer.id).await?
    {
        return Err(CertificateLoginError::Certificate(
            "该证书未登记或已吊销，请联系管理员".into(),
        ));
    }
    let now = Timestamp::now();
    if let Some(until) = state.locked_until.filter(|until| *until > now) {
        return Err(CertificateLoginError::Locked { until });
    }
    let subject = format!("officer:{}", state.officer.id);
    let mut tx = store.begin().await?;
    if !tongban_store::challenges::spend(&mut tx, challenge, now).await? {
        return Err(CertificateLoginError::ChallengeSpent);
    }
    officers::record_login(&mut tx, &state.officer.id).await?;
    let session_secret =
        session::open(&mut tx, &state.officer, Some(&info.serial), lifetime).await?;
    audit::append(
        &mut tx,
        &entry(subject.clone(), AuditAction::Login, subject, detail),
    )
    .await?;
    tx.commit().await?;
    Ok(OfficerLogin {
        officer: state.officer,
        session_secret,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateLoginError {
    #[error("{0}")]
    Certificate(String),
    #[error("签名验证失败，请使用本证书重新签名")]
    BadSignature,
    #[error("登录验证码已失效，请刷新页面后重新签名")]
    ChallengeSpent,
    #[error("该账号已被锁定，请于{}后再试", .until.beijing())]
    Locked { until: Timestamp },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ends the session and records it.
pub async fn officer_logout(
    store: &Store,
    secret: &str,
    officer: Option<&Officer>,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    session::close(&mut tx, secret).await?;
    if let Some(o) = officer {
        let who = format!("officer:{}", o.id);
        audit::append(
            &mut tx,
            &entry(who.clone(), AuditAction::Logout, who, json!({})),
        )
        .await?;
    }
    tx.commit().await
}
