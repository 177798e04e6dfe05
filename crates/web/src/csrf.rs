//! CSRF protection for every state-changing request. Each browser gets a random token in a
//! `SameSite=Strict`, `HttpOnly` cookie; pages put the same token in their forms (`_csrf`) or
//! scripts send it as `x-csrf-token`. A POST (or PUT, PATCH, DELETE) whose token is missing or
//! differs from the cookie's is refused before any handler runs. Another site can make a browser
//! send the cookie, but cannot read it to put it in the form.
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::WebError;

pub const COOKIE: &str = "tongban_csrf";
pub const FIELD: &str = "_csrf";
pub const HEADER: &str = "x-csrf-token";
/// Largest form body read to find the token (larger forms are uploads, which send the header).
const MAX_FORM: usize = 1 << 20;

/// The request's CSRF token, for templates to put in their forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

fn cookie_token(parts: &Parts) -> Option<String> {
    crate::session::cookie(parts, COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn form_field(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body).ok()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == FIELD).then(|| v.to_string())
    })
}

fn query_token(parts: &Parts) -> Option<String> {
    parts.uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == FIELD).then(|| v.to_string())
    })
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// The middleware: hands out tokens and checks them.
pub async fn protect(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let existing = cookie_token(&parts);
    let token = existing
        .clone()
        .unwrap_or_else(tongban_crypto::random_token);
    parts.extensions.insert(CsrfToken(token.clone()));

    // The ledger's open API is called by other systems, signed with their HMAC-SM3 secrets;
    // no cookie or session authorises it, so there is nothing for a forged request to borrow.
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        || parts.uri.path().starts_with(crate::ledger_api::PREFIX);
    let body = if safe {
        body
    } else {
        let header = parts
            .headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (sent, body) = match header {
            Some(h) => (Some(h), body),
            None if is_form(&parts) => match to_bytes(body, MAX_FORM).await {
                Ok(bytes) => (form_field(&bytes), Body::from(bytes)),
                Err(_) => return WebError::Invalid("提交的内容过大。".into()).into_response(),
            },
            // Multipart forms (uploads) cannot set a header and are not read here: the page puts
            // the token in the action's query string.
            None => (query_token(&parts), body),
        };
        let valid = matches!((&existing, &sent), (Some(cookie), Some(sent)) if same(cookie, sent));
        if !valid {
            tracing::warn!(method = %parts.method, path = %parts.uri.path(), "CSRF token missing or wrong");
            return WebError::StaleForm.into_response();
        }
        body
    };

    let mut response = next.run(Request::from_parts(parts, body)).await;
    if existing.is_none() {
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| WebError::Internal("CSRF layer missing".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_token_in_a_form_and_compares_exactly() {
        assert_eq!(
            form_field(b"username=a&_csrf=abc&password=b").as_deref(),
            Some("abc")
        );
        assert_eq!(form_field(b"username=a"), None);
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "ab"));
    }
}
