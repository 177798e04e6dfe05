//! The 固废链's open API (`/ledger/v1/…`) for the provinces' systems: submit an entry, query a
//! key (or a 备案号) with proofs, read checkpoints and consistency proofs, post a witness's
//! cosignature. Calls that read or write business data are signed with the application's
//! HMAC-SM3 secret (see `docs/ledger.md`); checkpoints and proofs are public, being signed or
//! checkable by themselves. Errors are JSON with a Chinese message.
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tongban_ledger::apps::{self, App, AuthError, Call};
use tongban_ledger::contracts::VERSION;
use tongban_ledger::log::{self, FinalCheckpoint, LedgerError, Refusal, Request, SignedCheckpoint};
use tongban_ledger::service::KeyView;

use crate::AppState;

pub const PREFIX: &str = "/ledger/v1/";

/// The largest batch call's body: many small records, not many 1 MiB payloads.
const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ledger/v1/entries", post(submit))
        .route(
            "/ledger/v1/entries/batch",
            post(submit_batch).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        )
        .route("/ledger/v1/keys/{contract}/{key}", get(key))
        .route(
            "/ledger/v1/references/{contract}/{reference}",
            get(by_reference),
        )
        .route("/ledger/v1/checkpoints/latest", get(latest))
        .route("/ledger/v1/checkpoints/final", get(final_checkpoint))
        .route("/ledger/v1/checkpoints/{height}", get(checkpoint))
        .route("/ledger/v1/checkpoints/{height}/cosignatures", post(cosign))
        .route("/ledger/v1/proofs/consistency", get(consistency))
        .route("/ledger/v1/subscriptions", post(subscribe))
        .route("/ledger/v1/subscriptions/{id}", get(subscription))
        .route("/ledger/v1/subscriptions/{id}/entries", get(pull))
        .route("/ledger/v1/public-key.pem", get(public_key))
        .route("/ledger/v1/openapi.json", get(openapi))
        .route("/ledger/v1/dashboard", get(dashboard))
}

/// An API error: its status and message, as JSON.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    Invalid(String),
    Internal(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Unauthorized(e.to_string())
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Proof(p) => ApiError::Invalid(p.to_string()),
            other => {
                tracing::error!(error = %other, "ledger API");
                ApiError::Internal("账本服务暂时不可用，请稍后重试".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "refused", m),
            ApiError::Invalid(m) => (StatusCode::BAD_REQUEST, "invalid", m),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", m),
        };
        (
            status,
            axum::Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response()
    }
}

fn header_value<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AuthError::MissingHeader(name).into())
}

/// The application that signed this call, and the call's nonce and signature.
async fn signed(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(App, String, String), ApiError> {
    let app_id = header_value(headers, apps::HEADER_APP)?;
    let timestamp = header_value(headers, apps::HEADER_TIMESTAMP)?
        .parse::<i64>()
        .map_err(|_| ApiError::from(AuthError::StaleTimestamp))?;
    let nonce = header_value(headers, apps::HEADER_NONCE)?;
    let signature = header_value(headers, apps::HEADER_SIGNATURE)?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let call = Call {
        method: method.as_str(),
        path,
        timestamp,
        nonce,
        body,
        signature,
    };
    let app = state.ledger.authenticate(app_id, &call).await??;
    Ok((app, nonce.to_string(), signature.to_string()))
}

/// A signed read: the nonce is used up here.
async fn signed_read(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<App, ApiError> {
    let (app, nonce, _) = signed(state, method, uri, headers, b"").await?;
    if !state.ledger.use_nonce(&app, &nonce).await? {
        return Err(AuthError::Replayed.into());
    }
    Ok(app)
}

/// A signed read by an application that may read `contract`.
async fn signed_reader_of(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    contract: &str,
) -> Result<App, ApiError> {
    let app = signed_read(state, method, uri, headers).await?;
    if !app.reads(contract) {
        return Err(ApiError::Forbidden(format!(
            "应用“{}”无权查询合约“{contract}”",
            app.id
        )));
    }
    Ok(app)
}

#[derive(Deserialize)]
struct Submission {
    contract: String,
    #[serde(default = "current_version")]
    version: u32,
    key: String,
    operation: String,
    payload: Value,
}

fn current_version() -> u32 {
    VERSION
}

impl Submission {
    /// The log request for this submission, once `app` may make it.
    fn into_request(self, app: &App, signature: &str, nonce: Option<String>) -> Request {
        Request {
            contract: self.contract,
            version: self.version,
            key: self.key,
            operation: self.operation,
            payload: self.payload.to_string(),
            app_id: app.id.clone(),
            app_signature: signature.to_string(),
            nonce,
        }
    }

    /// Refuses a submission `app` may not make, or whose payload is not an object.
    fn check(&self, app: &App, which: &str) -> Result<(), ApiError> {
        if !self.payload.is_object() {
            return Err(ApiError::Invalid(format!(
                "{which}字段“payload”应为JSON对象"
            )));
        }
        if !app.may_submit(&self.contract, &self.operation) {
            return Err(ApiError::Forbidden(format!(
                "{which}应用“{}”无权对合约“{}”执行“{}”",
                app.id, self.contract, self.operation
            )));
        }
        Ok(())
    }
}

fn entry_json(entry: &tongban_ledger::entry::Entry) -> Value {
    json!({
        "seq": entry.seq,
        "leaf_hash": hex::encode(entry.leaf_hash()),
        "payload_sm3": entry.payload_sm3(),
        "at": entry.at,
        "prev": entry.prev,
    })
}

async fn submit(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (app, nonce, signature) = signed(&state, &method, &uri, &headers, &body).await?;
    let s: Submission = serde_json::from_slice(&body).map_err(|e| {
        ApiError::Invalid(format!(
            "请求体应为JSON对象，含 contract、key、operation、payload（{e}）"
        ))
    })?;
    s.check(&app, "")?;
    let request = s.into_request(&app, &signature, Some(nonce));
    match state.ledger.submit(request).await? {
        Ok(entry) => Ok((StatusCode::CREATED, axum::Json(entry_json(&entry))).into_response()),
        Err(Refusal::Replayed) => Err(AuthError::Replayed.into()),
        Err(Refusal::Contract(e)) => Err(ApiError::Conflict(e.to_string())),
        Err(other) => Err(ApiError::Invalid(other.to_string())),
    }
}

#[derive(Deserialize)]
struct Batch {
    entries: Vec<Submission>,
}

/// Many submissions in one signed call, appended together and in order: the way a province's
/// system sends a day's records. Either every item is within the grants or nothing is written
/// (403); each item the contracts refuse is answered in its place.
async fn submit_batch(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (app, nonce, signature) = signed(&state, &method, &uri, &headers, &body).await?;
    let batch: Batch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::Invalid(format!(
            "请求体应为JSON对象 {{\"entries\": [...]}}，每项含 contract、key、operation、payload（{e}）"
        ))
    })?;
    let max = tongban_ledger::service::MAX_CALL;
    if batch.entries.is_empty() || batch.entries.len() > max {
        return Err(ApiError::Invalid(format!(
            "“entries”应含1至{max}项，实有{}项",
            batch.entries.len()
        )));
    }
    for (i, s) in batch.entries.iter().enumerate() {
        s.check(&app, &format!("第{}项：", i + 1))?;
    }
    // One nonce for the call, used up before anything is queued: a replay writes nothing.
    if !state.ledger.use_nonce(&app, &nonce).await? {
        return Err(AuthError::Replayed.into());
    }
    let requests = batch
        .entries
        .into_iter()
        .map(|s| s.into_request(&app, &signature, None))
        .collect();
    let results: Vec<Value> = state
        .ledger
        .submit_many(requests)
        .await?
        .iter()
        .map(|outcome| match outcome {
            Ok(entry) => entry_json(entry),
            Err(Refusal::Contract(e)) => {
                json!({"error": {"code": "refused", "message": e.to_string()}})
            }
            Err(other) => json!({"error": {"code": "invalid", "message": other.to_string()}}),
        })
        .collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

fn checkpoint_json(c: &SignedCheckpoint) -> Value {
    json!({
        "origin": c.checkpoint.origin,
        "height": c.checkpoint.height,
        "size": c.checkpoint.size,
        "root": hex::encode(c.checkpoint.root),
        "at": c.checkpoint.at,
        "signature": hex::encode(&c.signature),
        "body": c.checkpoint.body(),
    })
}

fn final_json(f: &FinalCheckpoint) -> Value {
    let mut v = checkpoint_json(&f.signed);
    v["cosignatures"] = f
        .cosignatures
        .iter()
        .map(|(w, s)| json!({"witness": w, "signature": hex::encode(s)}))
        .collect();
    v
}

fn view_json(v: &KeyView) -> Value {
    json!({
        "contract": v.contract,
        "key": v.key,
        "state": v.state,
        "reference": v.reference,
        "checkpoint": v.checkpoint.as_ref().map(final_json),
        "entries": v.entries.iter().map(|p| {
            let mut e = p.entry.to_json();
            e["proof"] = json!(p.proof.as_ref().map(|path| path.iter().map(hex::encode).collect::<Vec<_>>()));
            e
        }).collect::<Vec<_>>(),
    })
}

async fn key(
    State(state): State<AppState>,
    Path((contract, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = signed_reader_of(&state, &method, &uri, &headers, &contract).await?;
    match state.ledger.key_view(&app, &contract, &key).await? {
        Some(view) => Ok(axum::Json(view_json(&view)).into_response()),
        None => Err(ApiError::NotFound(format!(
            "合约“{contract}”中没有可见的业务主键“{key}”"
        ))),
    }
}

async fn by_reference(
    State(state): State<AppState>,
    Path((contract, reference)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = signed_reader_of(&state, &method, &uri, &headers, &contract).await?;
    let views = state
        .ledger
        .by_reference(&app, &contract, &reference)
        .await?;
    Ok(
        axum::Json(json!({"keys": views.iter().map(view_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

async fn latest(State(state): State<AppState>) -> Result<Response, ApiError> {
    match log::latest(&state.ledger.store, state.ledger.log.origin()).await? {
        Some(c) => Ok(axum::Json(checkpoint_json(&c)).into_response()),
        None => Err(ApiError::NotFound("账本尚无检查点".into())),
    }
}

async fn final_checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.ledger.final_checkpoint().await? {
        Some(f) => Ok(axum::Json(final_json(&f)).into_response()),
        None => Err(ApiError::NotFound("尚无最终确认的检查点".into())),
    }
}

async fn checkpoint(
    State(state): State<AppState>,
    Path(height): Path<u64>,
) -> Result<Response, ApiError> {
    match log::checkpoint(&state.ledger.store, state.ledger.log.origin(), height).await? {
        Some(c) => Ok(axum::Json(checkpoint_json(&c)).into_response()),
        None => Err(ApiError::NotFound(format!(
            "没有区块高度 {height} 的检查点"
        ))),
    }
}

#[derive(Deserialize)]
struct Cosignature {
    witness: String,
    signature: String,
}

async fn cosign(
    State(state): State<AppState>,
    Path(height): Path<u64>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let c: Cosignature = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Invalid(format!("请求体应含 witness 和 signature（{e}）")))?;
    let signature = hex::decode(&c.signature)
        .map_err(|_| ApiError::Invalid("signature 应为十六进制".into()))?;
    match log::add_cosignature(
        &state.ledger.store,
        state.ledger.log.origin(),
        &state.ledger.witnesses,
        height,
        &c.witness,
        &signature,
    )
    .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(log::CosignRefusal::Ledger(e)) => Err(e.into()),
        Err(log::CosignRefusal::NoCheckpoint(h)) => {
            Err(ApiError::NotFound(format!("没有区块高度 {h} 的检查点")))
        }
        Err(other) => Err(ApiError::Forbidden(other.to_string())),
    }
}

#[derive(Deserialize)]
struct Sizes {
    old: u64,
    new: u64,
}

async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<Sizes>,
) -> Result<Response, ApiError> {
    let size = log::latest(&state.ledger.store, state.ledger.log.origin())
        .await?
        .map_or(0, |c| c.checkpoint.size);
    if q.new > size {
        return Err(ApiError::Invalid(format!(
            "树的大小 {} 超过账本的 {size} 条",
            q.new
        )));
    }
    let proof = log::consistency_proof(&state.ledger.store, q.old, q.new).await?;
    Ok(axum::Json(json!({
        "old": q.old,
        "new": q.new,
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn public_key(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        state.ledger.log.public_key().to_pem(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct NewSubscription {
    callback_url: String,
    #[serde(default)]
    contracts: Vec<String>,
}

fn subscription_json(s: &tongban_ledger::push::Subscription) -> Value {
    json!({
        "id": s.id,
        "contracts": s.contracts,
        "callback_url": s.callback_url,
        "cursor": s.cursor,
        "delivered": s.delivered,
        "failed_attempts": s.attempts,
        "last_error": s.last_error,
    })
}

async fn subscribe(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (app, nonce, _) = signed(&state, &method, &uri, &headers, &body).await?;
    if !state.ledger.use_nonce(&app, &nonce).await? {
        return Err(AuthError::Replayed.into());
    }
    let s: NewSubscription = serde_json::from_slice(&body).map_err(|e| {
        ApiError::Invalid(format!("请求体应含 callback_url，可含 contracts（{e}）"))
    })?;
    use tongban_ledger::push::SubscribeError;
    match state
        .ledger
        .subscribe(&app, &s.callback_url, s.contracts)
        .await
    {
        Ok(sub) => Ok((StatusCode::CREATED, axum::Json(subscription_json(&sub))).into_response()),
        Err(SubscribeError::Ledger(e)) => Err(e.into()),
        Err(e @ SubscribeError::NotReadable { .. }) => Err(ApiError::Forbidden(e.to_string())),
        Err(e) => Err(ApiError::Invalid(e.to_string())),
    }
}

async fn owned_subscription(
    state: &AppState,
    app: &App,
    id: &str,
) -> Result<tongban_ledger::push::Subscription, ApiError> {
    state
        .ledger
        .subscription(app, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("没有本应用的订阅“{id}”")))
}

async fn subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = signed_read(&state, &method, &uri, &headers).await?;
    let sub = owned_subscription(&state, &app, &id).await?;
    Ok(axum::Json(subscription_json(&sub)).into_response())
}

#[derive(Deserialize)]
struct Page {
    /// The cursor to read from: the first leaf to look at.
    #[serde(default)]
    from: u64,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    100
}

/// Pull: the entries the subscription covers from cursor `from`, and the cursor to go on from.
async fn pull(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(page): Query<Page>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = signed_read(&state, &method, &uri, &headers).await?;
    let sub = owned_subscription(&state, &app, &id).await?;
    let limit = page.limit.clamp(1, tongban_ledger::push::PER_DELIVERY);
    let (entries, next) = tongban_ledger::push::covered(
        &state.ledger,
        &app,
        &sub,
        page.from,
        tongban_ledger::push::SCAN,
        limit,
    )
    .await?;
    let next = entries.last().map_or(next, |e| e.seq + 1);
    Ok(axum::Json(json!({
        "subscription": sub.id,
        "entries": entries.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
        "next": next,
    }))
    .into_response())
}

/// 链上数据 for the dashboard and the city's government-blockchain display (003 module 91):
/// block height, entries, nodes with their last activity, contracts and their executions, and
/// the hash check's alerts. Counts only: no business data.
async fn dashboard(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(axum::Json(dashboard_json(&state).await?).into_response())
}

pub(crate) async fn dashboard_json(state: &AppState) -> Result<Value, ApiError> {
    Ok(state.ledger.dashboard(0).await?.to_json())
}

/// The OpenAPI 3.0 document of this API (`docs/ledger-openapi.json`), for the provinces to
/// generate clients from; public.
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../../docs/ledger-openapi.json"),
    )
        .into_response()
}
