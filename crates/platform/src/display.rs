//! The adapter to the city's government-blockchain display (市政务区块链展示平台, the 大屏 of
//! 003 module 91): every `[ledger] display_secs` the `ledger.display` job posts the 固废链's
//! dashboard snapshot (counts only: height, entries, nodes, contracts, executions) to it. The
//! display's interface is not public, so the protocol is ours and small, like the case
//! library's:
//!
//! ```text
//! POST {base}/api/v1/ledger_display/snapshots
//!      X-Tongban-Signature: {base64 of the bureau's SM2 signature over the exact body bytes}
//!      {"origin": …, "height": …, "entries": …, "nodes": [...], "contracts": [...],
//!       "executions": …, "snapshot_at": Unix ms, …}
//! 200 {"shown": true|false}     false: older than the snapshot the screen already shows
//! 400/401/5xx {"error": {"code": …, "message": …}}
//! ```
//!
//! A snapshot replaces the one before, so nothing is queued: a failed post is logged and the
//! next period's snapshot, newer, is sent instead (the latest wins).
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use tongban_crypto::Sm2KeyPair;
use tongban_jobs::JobFailure;

use crate::SignedPoster;

/// The recurring job that posts the snapshot.
pub const JOB_KIND: &str = "ledger.display";

/// Where snapshots are posted, under the display's base URL.
pub const SNAPSHOTS_PATH: &str = "/api/v1/ledger_display/snapshots";

/// Shows one snapshot; an `Err` is a short text for the log.
pub trait Display: Send + Sync {
    fn show<'a>(&'a self, snapshot: &'a Value) -> BoxFuture<'a, Result<(), String>>;
}

/// The display over HTTP.
#[derive(Clone)]
pub struct HttpDisplay {
    poster: SignedPoster,
}

impl HttpDisplay {
    /// The longest one post may take, connecting included.
    pub const TIMEOUT: Duration = SignedPoster::TIMEOUT;

    /// A client of the display at `base_url` (`http://` or `https://`), signing every body with
    /// `seal` when given.
    pub fn new(base_url: &str, seal: Option<Sm2KeyPair>) -> Result<Self, String> {
        Ok(Self {
            poster: SignedPoster::new(base_url, seal, "政务区块链展示平台")?,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.poster.base_url
    }
}

impl Display for HttpDisplay {
    fn show<'a>(&'a self, snapshot: &'a Value) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = serde_json::to_vec(snapshot).map_err(|e| format!("encode: {e}"))?;
            self.poster.post(SNAPSHOTS_PATH, body, &[]).await
        })
    }
}

/// The `ledger.display` job: takes a snapshot with `snapshot` and shows it on `display`. A
/// snapshot that cannot be taken (the store) fails the run, which the scheduler retries; a
/// display that does not take it is logged and the run succeeds, so the next period sends a
/// newer one.
pub fn job<F, Fut>(
    display: Arc<dyn Display>,
    snapshot: F,
) -> impl Fn() -> BoxFuture<'static, Result<(), JobFailure>> + Send + Sync + 'static
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    let snapshot = Arc::new(snapshot);
    move || {
        let (display, snapshot) = (display.clone(), snapshot.clone());
        Box::pin(async move {
            let taken = snapshot()
                .await
                .map_err(|e| JobFailure(format!("固废链看板数据读取失败：{e}")))?;
            match display.show(&taken).await {
                Ok(()) => tracing::debug!(
                    height = taken["height"].as_u64(),
                    entries = taken["entries"].as_u64(),
                    "固废链 snapshot shown on the government-blockchain display"
                ),
                Err(e) => tracing::warn!(
                    error = %e,
                    "固废链 snapshot not taken by the government-blockchain display; the next period sends a newer one"
                ),
            }
            Ok(())
        })
    }
}
