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
    let session_secret = session::open(&mut tx, &state.officer, lifetime).await?;
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
