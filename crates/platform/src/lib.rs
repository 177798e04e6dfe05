//! The adapter to the city platform (一网通办): its case library (办件库), which follows the
//! progress of every case, and its licence repository (电子证照库), which holds every licence
//! issued or revoked. Both are reached over HTTP. The platform's own interface is not public, so
//! the protocol is ours and small:
//!
//! ```text
//! POST {base}/api/v1/{destination}/messages          destination: case_library | licence_repository
//!      Idempotency-Key: {envelope id}
//!      X-Tongban-Signature: {base64 of the bureau's SM2 signature over the exact body bytes}
//!      {"id": …, "kind": …, "case_id": …, "payload": {…}, "created_at": Unix ms}   (an Envelope)
//! 200 {"id": …, "duplicate": false|true}     accepted (an id already held is not taken twice)
//! 400/401/404/5xx {"error": {"code": …, "message": …}}
//! ```
//!
//! Messages come from the outbox (`tongban_store::outbox`): written in the transaction of the
//! change they report, each with an `outbox.deliver` job ([`JOB_KIND`]) whose handler
//! ([`deliver_handler`]) sends the destination's pending messages in id order and stops at the
//! first failure, which the scheduler retries with backoff. Delivery is at least once; the
//! receiver deduplicates by id, so each message is taken exactly once and in order.
//!
//! [`HttpPlatform`] speaks the protocol, [`LoggingPlatform`] only logs (development, nothing
//! configured), and [`peer`] serves the protocol locally, for the tests and by hand
//! (`platform-peer`). [`display`] is the adapter to the city's government-blockchain display
//! (市政务区块链展示平台), which the peer also stands in for.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tongban_crypto::Sm2KeyPair;
use tongban_domain::Timestamp;
use tongban_jobs::JobFailure;
use tongban_store::Store;
use tongban_store::outbox::{self, OutboxRow};

pub mod display;
pub mod peer;

/// The case library (办件库): the progress of every case.
pub const CASE_LIBRARY: &str = "case_library";
/// The licence repository (电子证照库): licences issued and revoked.
pub const LICENCE_REPOSITORY: &str = "licence_repository";
/// Every destination the platform has.
pub const DESTINATIONS: [&str; 2] = [CASE_LIBRARY, LICENCE_REPOSITORY];

/// The job that delivers a destination's pending messages up to the one it was queued for.
pub const JOB_KIND: &str = outbox::DELIVER_JOB;

/// The request header carrying the message id the receiver deduplicates by.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The request header carrying the base64 SM2 signature (DER, standard user id) of the body.
pub const SIGNATURE_HEADER: &str = "x-tongban-signature";

/// Messages taken from the outbox at a time.
const BATCH: i64 = 100;

/// One message as the platform receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The message id (a UUIDv7): what the receiver deduplicates by.
    pub id: String,
    /// What it reports, e.g. `case.accepted`, `licence.issued`.
    pub kind: String,
    pub case_id: Option<String>,
    pub payload: serde_json::Value,
    /// When the change was committed, Unix milliseconds.
    pub created_at: i64,
}

impl From<&OutboxRow> for Envelope {
    fn from(row: &OutboxRow) -> Self {
        Envelope {
            id: row.id.clone(),
            kind: row.kind.clone(),
            case_id: row.case_id.clone(),
            payload: row.payload.clone(),
            created_at: row.created_at.millis(),
        }
    }
}

/// Hands one message to a destination; an `Err` (short text, kept on the outbox row) is retried.
pub trait Platform: Send + Sync {
    fn deliver<'a>(
        &'a self,
        destination: &'a str,
        message: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// The platform over HTTP.
#[derive(Clone)]
pub struct HttpPlatform {
    poster: SignedPoster,
}

impl HttpPlatform {
    /// The longest one delivery may take, connecting included.
    pub const TIMEOUT: Duration = SignedPoster::TIMEOUT;

    /// A client of the platform at `base_url` (`http://` or `https://`), signing every body with
    /// `seal` when given.
    pub fn new(base_url: &str, seal: Option<Sm2KeyPair>) -> Result<Self, String> {
        Ok(Self {
            poster: SignedPoster::new(base_url, seal, "一网通办平台")?,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.poster.base_url
    }

    /// Whether bodies are signed.
    pub fn signs(&self) -> bool {
        self.poster.seal.is_some()
    }
}

/// JSON posted to one base URL, each body signed with the bureau's seal when one is given: what
/// the platform's and the display's adapters share.
#[derive(Clone)]
pub(crate) struct SignedPoster {
    pub(crate) base_url: String,
    client: reqwest::Client,
    pub(crate) seal: Option<Sm2KeyPair>,
}

impl SignedPoster {
    /// The longest one post may take, connecting included.
    pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

    /// `whom` names the far end in the error.
    pub(crate) fn new(
        base_url: &str,
        seal: Option<Sm2KeyPair>,
        whom: &str,
    ) -> Result<Self, String> {
        let base_url = check_url(base_url)?;
        let client = reqwest::Client::builder()
            .timeout(Self::TIMEOUT)
            .connect_timeout(Self::TIMEOUT)
            .build()
            .map_err(|e| format!("无法创建{whom}的客户端：{e}"))?;
        Ok(Self {
            base_url,
            client,
            seal,
        })
    }

    /// Posts `body` to `path` under the base URL with `headers`; `Ok` for a 2xx answer.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<(), String> {
        let url = format!("{}{path}", self.base_url);
        let mut request = self
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(seal) = &self.seal {
            request = request.header(SIGNATURE_HEADER, sign_body(seal, &body));
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| unsent(&url, &e, Self::TIMEOUT))?;
        accepted(&url, response).await
    }
}

/// `url` as a base URL of the platform (trimmed, without a trailing `/`), or why it is not one:
/// it must be `http://` or `https://` with a host.
pub fn check_url(url: &str) -> Result<String, String> {
    let base_url = url.trim().trim_end_matches('/').to_string();
    let parsed = reqwest::Url::parse(&base_url)
        .map_err(|e| format!("一网通办平台地址有误（{base_url}）：{e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "一网通办平台地址应以 http:// 或 https:// 开头并含主机名：{base_url}"
        ));
    }
    Ok(base_url)
}

/// The signature header's value for `body`.
pub fn sign_body(seal: &Sm2KeyPair, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(seal.sign(body))
}

impl Platform for HttpPlatform {
    fn deliver<'a>(
        &'a self,
        destination: &'a str,
        message: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = serde_json::to_vec(message).map_err(|e| format!("encode: {e}"))?;
            self.poster
                .post(
                    &format!("/api/v1/{destination}/messages"),
                    body,
                    &[(IDEMPOTENCY_HEADER, &message.id)],
                )
                .await
        })
    }
}

/// Why a post to `url` got no answer, in short.
pub(crate) fn unsent(url: &str, e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("{url}: no answer within {} s", timeout.as_secs())
    } else if e.is_connect() {
        format!("{url}: cannot connect")
    } else {
        format!("{url}: {e}")
    }
}

/// `Ok` for a 2xx answer, else its status and the message of its `{"error": …}` body.
pub(crate) async fn accepted(url: &str, response: reqwest::Response) -> Result<(), String> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect());
    Err(format!("{url}: {} {detail}", status.as_u16()))
}

/// Accepts every message and writes it to the log: for development when no platform is
/// configured (like the logging SMS sender). The payload is not logged.
pub struct LoggingPlatform;

impl Platform for LoggingPlatform {
    fn deliver<'a>(
        &'a self,
        destination: &'a str,
        message: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            tracing::info!(
                destination,
                id = %message.id,
                kind = %message.kind,
                case_id = message.case_id.as_deref().unwrap_or(""),
                "city platform message (logging platform)"
            );
            Ok(())
        })
    }
}

/// The `outbox.deliver` job handler. The job names a destination and a message id; the handler
/// delivers the destination's undelivered messages up to that id, oldest first, marking each
/// delivered once accepted. On the first failure it records it on the message and fails the job
/// (retried with backoff), so a later message never overtakes an earlier one of the same
/// destination. Messages already delivered are skipped: the job is idempotent.
pub fn deliver_handler(
    store: Store,
    platform: Arc<dyn Platform>,
) -> impl Fn(serde_json::Value) -> BoxFuture<'static, Result<(), JobFailure>> + Send + Sync + 'static
{
    move |job| {
        let (store, platform) = (store.clone(), platform.clone());
        Box::pin(async move {
            let field = |key: &str| {
                job[key]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| JobFailure(format!("{JOB_KIND} job without {key}")))
            };
            let (destination, up_to) = (field("destination")?, field("id")?);
            loop {
                let batch = outbox::pending(&store, &destination, &up_to, BATCH).await?;
                for row in &batch {
                    let envelope = Envelope::from(row);
                    if let Err(e) = platform.deliver(&destination, &envelope).await {
                        outbox::record_failure(&store, &row.id, &e).await?;
                        return Err(JobFailure(format!(
                            "message {} to {destination} not delivered: {e}",
                            row.id
                        )));
                    }
                    outbox::mark_delivered(&store, &row.id, Timestamp::now()).await?;
                }
                if (batch.len() as i64) < BATCH {
                    return Ok(());
                }
            }
        })
    }
}
