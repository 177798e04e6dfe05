//! A faithful local peer of the registry's protocol: what the tests talk to, and what
//! `licence-peer` serves by hand. It answers from the records it was given, as the registry
//! would: every licence of the unit asked for, history included; the client chooses.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;
use tongban_domain::CreditCode;

use crate::record::{Document, LicenceRecord};

/// The protocol's routes over `records`.
pub fn router(records: Vec<LicenceRecord>) -> Router {
    Router::new()
        .route("/api/v1/licences", get(licences))
        .fallback(|| async {
            error(StatusCode::NOT_FOUND, "not_found", "没有这个接口".into())
        })
        .with_state(Arc::new(records))
}

/// Serves [`router`] on `addr` (port 0: a free one); returns the address bound and the task.
pub async fn serve(
    records: Vec<LicenceRecord>,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = router(records);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "licence peer stopped");
        }
    });
    Ok((addr, task))
}

async fn licences(
    State(records): State<Arc<Vec<LicenceRecord>>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let Ok(Query(pairs)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "查询参数格式有误".into(),
        );
    };
    let Some(code) = pairs
        .iter()
        .find(|(k, _)| k == "credit_code")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "credit_code_required",
            "缺少参数 credit_code（统一社会信用代码）".into(),
        );
    };
    let code = match CreditCode::parse(code) {
        Ok(code) => code,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_credit_code",
                e.to_string(),
            );
        }
    };
    let licences = records
        .iter()
        .filter(|r| r.credit_code.trim().eq_ignore_ascii_case(code.as_str()))
        .cloned()
        .collect();
    Json(Document { licences }).into_response()
}

/// `{"error": {"code": …, "message": …}}` with `status`.
fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}
