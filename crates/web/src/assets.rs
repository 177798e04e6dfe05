//! Static assets, compiled into the binary so a deployment is one file.
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

const CSS: &str = include_str!("../static/app.css");
const FORM_JS: &str = include_str!("../static/form.js");
const LEDGER_JS: &str = include_str!("../static/ledger.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(css))
        .route("/static/form.js", get(form_js))
        .route("/static/ledger.js", get(ledger_js))
}

async fn form_js() -> impl IntoResponse {
    script(FORM_JS)
}

async fn ledger_js() -> impl IntoResponse {
    script(LEDGER_JS)
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}
