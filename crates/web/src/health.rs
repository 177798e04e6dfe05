//! Liveness and readiness for load balancers and operators.
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up and answering.
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers and is migrated: safe to send traffic here.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(schema) => (
            StatusCode::OK,
            Json(
                json!({"status": "ready", "store": state.store.engine().name(), "schema_version": schema}),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"status": "unavailable", "store": state.store.engine().name(), "message": "数据库暂时无法访问"}),
                ),
            )
        }
    }
}
