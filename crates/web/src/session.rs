//! Officer login sessions. The cookie carries a random secret; the store keeps only its SM3
//! digest, so a copy of the sessions table cannot be replayed as cookies.
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rand::RngCore;
use tongban_crypto::sm3;
use tongban_domain::{Officer, Timestamp};
use tongban_store::{officers, sessions};

use crate::{AppState, WebError};

pub const COOKIE: &str = "tongban_session";

/// An argon2id hash of `password` in PHC string form.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the username is unknown, so both cases take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing"))
}

fn session_key(secret: &str) -> String {
    sm3(secret.as_bytes()).to_hex()
}

fn cookie_value(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Checks the officer's password and opens a session; returns the `Set-Cookie` value.
pub async fn login(state: &AppState, username: &str, password: &str) -> Result<String, WebError> {
    let found = officers::by_username(&state.store, username.trim()).await?;
    let (hash, officer) = match found {
        Some((officer, hash)) => (hash, Some(officer)),
        None => (decoy_hash().to_string(), None),
    };
    let password = password.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(officer) = officer.filter(|_| ok) else {
        tracing::info!(username = %username, "officer login failed");
        return Err(WebError::BadCredentials);
    };

    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let secret = hex_of(&secret);
    let lifetime = state.config.session_lifetime;
    let mut tx = state.store.begin().await?;
    sessions::insert(
        &mut tx,
        &session_key(&secret),
        &officer.id,
        Timestamp::now().after(lifetime),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %officer.id, username = %officer.username, "officer logged in");
    Ok(set_cookie(
        &secret,
        lifetime.as_secs(),
        state.config.secure_cookies,
    ))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn set_cookie(value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// Ends the session in the request, if any; returns the `Set-Cookie` value that clears it.
pub async fn logout(state: &AppState, parts: &Parts) -> Result<String, WebError> {
    if let Some(secret) = cookie_value(parts) {
        let mut tx = state.store.begin().await?;
        sessions::delete(&mut tx, &session_key(&secret)).await?;
        tx.commit().await?;
    }
    Ok(set_cookie("", 0, state.config.secure_cookies))
}

/// The officer logged in on this request. Extracting it from a request without a live session
/// sends the browser to the workbench login page.
pub struct CurrentOfficer(pub Officer);

impl FromRequestParts<AppState> for CurrentOfficer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let required = WebError::LoginRequired {
            login_path: "/workbench/login",
        };
        let Some(secret) = cookie_value(parts) else {
            return Err(required);
        };
        let Some(session) =
            sessions::live(&state.store, &session_key(&secret), Timestamp::now()).await?
        else {
            return Err(required);
        };
        let Some(officer_id) = session.officer_id else {
            return Err(WebError::Forbidden);
        };
        match officers::by_id(&state.store, &officer_id).await? {
            Some(officer) => Ok(CurrentOfficer(officer)),
            None => Err(required),
        }
    }
}

/// Lets a handler take the raw request parts (for logout).
pub struct RequestParts(pub Parts);

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestParts(parts.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("Shanghai#2026");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "Shanghai#2026"));
        assert!(!verify_password(&hash, "shanghai#2026"));
        assert!(!verify_password("not a hash", "Shanghai#2026"));
    }

    #[test]
    fn the_session_cookie_is_http_only_and_same_site() {
        let c = set_cookie("abc", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set_cookie("abc", 60, false).contains("Secure"));
    }
}
