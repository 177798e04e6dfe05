//! Rate limits on the endpoints that guess-and-try attacks aim at (logins, registration): a fixed
//! one-minute window per endpoint and client address, counted in the store so that every
//! instance sees the same count. Over the limit: 429 with a Chinese message and `Retry-After`.
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tongban_domain::Timestamp;
use tongban_store::rate_limits;

use crate::{AppState, WebError};

const LIMITED: &[&str] = &[
    "/workbench/login",
    "/workbench/login/certificate",
    "/login/enterprise",
    "/login/individual",
    "/register/individual",
    "/login/city/link/existing",
    "/login/city/link/new",
];
const WINDOW: Duration = Duration::from_secs(60);

pub async fn logins(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == Method::POST && LIMITED.contains(&path) {
        let client = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_else(|| "-".into());
        let key = format!("{path}:{client}");
        match rate_limits::hit(&state.store, &key, WINDOW, Timestamp::now()).await {
            Ok(n) if n > state.config.login_attempts_per_minute => {
                tracing::warn!(%path, %client, attempts = n, "rate limit reached");
                let mut response = WebError::TooManyRequests.into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                return response;
            }
            Ok(_) => {}
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    next.run(req).await
}
