//! 固废链数据看板 (003 module 91): the officers' page of the ledger's figures, and the JSON it
//! polls every 2 s (`/workbench/ledger/summary`, the session's officer only) to stay current
//! without a reload. The figures are `tongban_ledger::dashboard`'s, the open API's and the city
//! display's too.
use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tongban_domain::{Officer, Timestamp};
use tongban_ledger::dashboard::{Dashboard, RECENT};

use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::CurrentOfficer;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workbench/ledger", get(page))
        .route("/workbench/ledger/summary", get(summary))
}

async fn figures(state: &AppState) -> Result<Dashboard, WebError> {
    state.ledger.dashboard(RECENT).await.map_err(|e| match e {
        tongban_ledger::log::LedgerError::Store(e) => e.into(),
        other => WebError::Internal(format!("固废链看板：{other}")),
    })
}

/// A node's row as the page first shows it.
struct NodeRow {
    label: String,
    role: &'static str,
    height: String,
    last_at: String,
    keeping_up: bool,
}

struct EntryRow {
    seq: u64,
    contract: String,
    key: String,
    operation: &'static str,
    at: String,
    app: String,
}

#[derive(Template)]
#[template(path = "workbench_ledger.html")]
struct Page<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    d: &'a Dashboard,
    updated: String,
    nodes: Vec<NodeRow>,
    recent: Vec<EntryRow>,
    /// The final checkpoint's root, its first 16 hex digits, and its time.
    root_prefix: String,
    final_at: String,
}

fn time(at: Option<i64>) -> String {
    at.map_or_else(|| "—".to_string(), |t| Timestamp(t).beijing())
}

async fn page(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
) -> Result<impl IntoResponse, WebError> {
    let d = figures(&state).await?;
    let nodes = d
        .nodes
        .iter()
        .map(|n| NodeRow {
            label: n.label.clone(),
            role: if n.role == "log" {
                "账本节点"
            } else {
                "见证节点"
            },
            height: n.height.map_or_else(|| "—".to_string(), |h| h.to_string()),
            last_at: time(n.last_at),
            keeping_up: n.keeping_up,
        })
        .collect();
    let recent = d
        .recent
        .iter()
        .map(|e| EntryRow {
            seq: e.seq,
            contract: e.contract_name.clone(),
            key: e.key.clone(),
            operation: e.operation_label,
            at: Timestamp(e.at).beijing(),
            app: e.app_name.clone(),
        })
        .collect();
    let (root_prefix, final_at) = d
        .final_checkpoint
        .as_ref()
        .map_or_else(Default::default, |f| {
            (
                f.root[..16.min(f.root.len())].to_string(),
                Timestamp(f.at).beijing(),
            )
        });
    render(Page {
        officer: &officer,
        csrf: &csrf,
        updated: Timestamp(d.at).beijing(),
        d: &d,
        nodes,
        recent,
        root_prefix,
        final_at,
    })
}

async fn summary(
    State(state): State<AppState>,
    CurrentOfficer(_officer): CurrentOfficer,
) -> Result<Response, WebError> {
    let d = figures(&state).await?;
    let mut response = Json(d.to_page_json()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
