//! The session cookie and the extractors built on it. Everything about who may log in, and how,
//! is in `tongban-identity`; this module only moves the secret between cookie and service.
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use tongban_domain::Officer;
use tongban_identity::session;

use crate::{AppState, WebError};

pub const COOKIE: &str = "tongban_session";

/// The value of the cookie `name` in the request, if any.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}

/// The value of our session cookie in the request, if any.
pub fn cookie_value(parts: &Parts) -> Option<String> {
    cookie(parts, COOKIE)
}

/// Sets the session cookie for `secret` and sends the browser to `to`.
pub fn signed_in(state: &AppState, secret: &str, to: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let lifetime = state.config.session_lifetime;
    let cookie = set_cookie(secret, lifetime.as_secs(), state.config.secure_cookies);
    (
        [(header::SET_COOKIE, cookie)],
        axum::response::Redirect::to(to),
    )
        .into_response()
}

/// Ends the session `secret` (if any), clears the cookie and sends the browser to `then`.
pub async fn sign_out(
    state: &AppState,
    secret: Option<String>,
    then: &str,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    if let Some(secret) = secret {
        let mut tx = state.store.begin().await?;
        session::close(&mut tx, &secret).await?;
        tx.commit().await?;
    }
    let cleared = set_cookie("", 0, state.config.secure_cookies);
    Ok((
        [(header::SET_COOKIE, cleared)],
        axum::response::Redirect::to(then),
    )
        .into_response())
}

/// `Set-Cookie` for a session secret (`max_age` 0 clears it).
pub fn set_cookie(value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// Resolves the request's session with `lookup`; without a cookie, or when `lookup` finds no one,
/// the browser is sent to `login_path`.
pub async fn resolve<T, Fut>(
    parts: &Parts,
    login_path: &'static str,
    lookup: impl FnOnce(String) -> Fut,
) -> Result<T, WebError>
where
    Fut: std::future::Future<Output = Result<Option<T>, tongban_store::StoreError>>,
{
    let required = WebError::LoginRequired { login_path };
    let Some(secret) = cookie_value(parts) else {
        return Err(required);
    };
    lookup(secret).await?.ok_or(required)
}

/// The officer logged in on this request. Extracting it from a request without a live session
/// sends the browser to the workbench login page.
pub struct CurrentOfficer(pub Officer);

impl FromRequestParts<AppState> for CurrentOfficer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let store = &state.store;
        resolve(parts, "/workbench/login", |secret| async move {
            session::officer(store, &secret).await
        })
        .await
        .map(CurrentOfficer)
    }
}

/// The session secret of the request, if it carries one, and whose it is.
pub struct SessionCookie {
    pub secret: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SessionCookie {
            secret: cookie_value(parts),
        })
    }
}

/// The client's address as the server saw it (for the audit log); "-" when unknown.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_else(|| "-".into());
        Ok(ClientAddr(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_and_same_site() {
        let c = set_cookie("abc", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set_cookie("abc", 60, false).contains("Secure"));
    }
}
