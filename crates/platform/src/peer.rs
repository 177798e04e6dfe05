//! A faithful local peer of the city platform's protocol: what the tests talk to, and what
//! `platform-peer` serves by hand. Like the platform it keeps, per destination, every message it
//! accepted, taking an id it already holds again with 200 but not a second time; it checks the
//! signature when it was given the bureau's public key. It also counts every delivery attempt
//! and can be told to fail the next ones with 503, as an unavailable platform would.
//!
//! It also stands in for the city's government-blockchain display ([`crate::display`]): it keeps
//! every snapshot posted to it, in order, and shows the newest by its `snapshot_at`, so an older
//! snapshot arriving late does not replace it.
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tongban_crypto::Sm2PublicKey;

use crate::{DESTINATIONS, Envelope, IDEMPOTENCY_HEADER, SIGNATURE_HEADER};

/// What the peer holds; cheap to clone (the clones share it).
#[derive(Clone, Default)]
pub struct PeerState {
    public_key: Option<Sm2PublicKey>,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Per destination, the messages accepted, in the order they were.
    held: HashMap<String, Vec<Envelope>>,
    ids: HashSet<(String, String)>,
    /// The display's snapshots, in the order they were accepted.
    snapshots: Vec<serde_json::Value>,
    attempts: usize,
    fail_next: usize,
}

impl PeerState {
    /// A peer that checks signatures against `public_key` when given (401 without a valid one),
    /// and takes unsigned messages otherwise.
    pub fn new(public_key: Option<Sm2PublicKey>) -> Self {
        Self {
            public_key,
            inner: Arc::default(),
        }
    }

    /// Answers the next `n` deliveries with 503, whatever they carry.
    pub fn fail_next(&self, n: usize) {
        self.lock().fail_next = n;
    }

    /// The messages accepted for `destination`, in the order they were, each once.
    pub fn received(&self, destination: &str) -> Vec<Envelope> {
        self.lock()
            .held
            .get(destination)
            .cloned()
            .unwrap_or_default()
    }

    /// The snapshots the display accepted, in the order it did.
    pub fn snapshots(&self) -> Vec<serde_json::Value> {
        self.lock().snapshots.clone()
    }

    /// The snapshot the display shows: the newest by `snapshot_at`.
    pub fn shown(&self) -> Option<serde_json::Value> {
        shown_of(&self.lock().snapshots).cloned()
    }

    /// Every delivery attempt seen, refused, failed and repeated ones included.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the record half-written: every change is one step.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The protocol's routes over `state`.
pub fn router(state: PeerState) -> Router {
    Router::new()
        .route(
            "/api/v1/{destination}/messages",
            post(accept).get(list_messages),
        )
        .route(
            crate::display::SNAPSHOTS_PATH,
            post(show).get(list_snapshots),
        )
        .fallback(|| async {
            error(StatusCode::NOT_FOUND, "not_found", "没有这个接口".into())
        })
        .with_state(state)
}

/// Serves [`router`] on `listener` (bind port 0 for a free one); returns the address and the task.
pub fn serve(
    state: PeerState,
    listener: TcpListener,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let addr = listener.local_addr()?;
    let app = router(state);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "city platform peer stopped");
        }
    });
    Ok((addr, task))
}

/// The refusal for a destination the platform does not have.
fn unknown(destination: &str) -> Option<Response> {
    (!DESTINATIONS.contains(&destination)).then(|| {
        error(
            StatusCode::NOT_FOUND,
            "unknown_destination",
            format!("没有这个库：{destination}"),
        )
    })
}

/// Counts the attempt; the 503 it is told to answer, if any.
fn unavailable(state: &PeerState) -> Option<Response> {
    let mut inner = state.lock();
    inner.attempts += 1;
    (inner.fail_next > 0).then(|| {
        inner.fail_next -= 1;
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "平台暂不可用，请稍后重试".into(),
        )
    })
}

/// The refusal of a body without a valid signature, when the peer checks them.
fn unsigned(state: &PeerState, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let key = state.public_key.as_ref()?;
    let Some(signature) = headers.get(SIGNATURE_HEADER) else {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "signature_required",
            format!("缺少签名（{SIGNATURE_HEADER}）"),
        ));
    };
    let valid = signature
        .to_str()
        .ok()
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .is_some_and(|der| key.verify(body, &der).is_ok());
    (!valid).then(|| {
        error(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "签名验证失败".into(),
        )
    })
}

async fn accept(
    State(state): State<PeerState>,
    Path(destination): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = unavailable(&state) {
        return refused;
    }
    if let Some(refused) = unknown(&destination) {
        return refused;
    }
    if let Some(refused) = unsigned(&state, &headers, &body) {
        return refused;
    }
    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(envelope) => envelope,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("报文格式有误：{e}"),
            );
        }
    };
    let key = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok());
    if key != Some(envelope.id.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "idempotency_key",
            format!("{IDEMPOTENCY_HEADER} 须与报文 id 相同"),
        );
    }
    let mut inner = state.lock();
    let duplicate = !inner.ids.insert((destination.clone(), envelope.id.clone()));
    let id = envelope.id.clone();
    if !duplicate {
        inner.held.entry(destination).or_default().push(envelope);
    }
    Json(serde_json::json!({ "id": id, "duplicate": duplicate })).into_response()
}

async fn list_messages(
    State(state): State<PeerState>,
    Path(destination): Path<String>,
) -> Response {
    if let Some(refused) = unknown(&destination) {
        return refused;
    }
    Json(serde_json::json!({ "messages": state.received(&destination) })).into_response()
}

/// The newest of `snapshots` by `snapshot_at`, the later accepted one on a tie.
fn shown_of(snapshots: &[serde_json::Value]) -> Option<&serde_json::Value> {
    snapshots
        .iter()
        .max_by_key(|s| s["snapshot_at"].as_i64().unwrap_or(i64::MIN))
}

/// The display takes a snapshot: an object with the figures its screen shows.
async fn show(State(state): State<PeerState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = unavailable(&state) {
        return refused;
    }
    if let Some(refused) = unsigned(&state, &headers, &body) {
        return refused;
    }
    let snapshot: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("报文格式有误：{e}"),
            );
        }
    };
    let missing = ["height", "entries", "executions", "snapshot_at"]
        .into_iter()
        .find(|field| !snapshot[*field].is_number())
        .or_else(|| (!snapshot["nodes"].is_array()).then_some("nodes"))
        .or_else(|| (!snapshot["contracts"].is_array()).then_some("contracts"));
    if let Some(field) = missing {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("快照缺少字段 {field}"),
        );
    }
    let mut inner = state.lock();
    inner.snapshots.push(snapshot);
    let shown = std::ptr::eq(
        shown_of(&inner.snapshots).expect("one at least"),
        inner.snapshots.last().expect("one at least"),
    );
    Json(serde_json::json!({ "shown": shown })).into_response()
}

async fn list_snapshots(State(state): State<PeerState>) -> Response {
    let inner = state.lock();
    Json(serde_json::json!({
        "snapshots": inner.snapshots,
        "shown": shown_of(&inner.snapshots),
    }))
    .into_response()
}

/// `{"error": {"code": …, "message": …}}` with `status`.
fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}
