//! Subscriptions and push (订阅推送): an application subscribes to the contracts it may read
//! with a callback URL; the server posts it the entries it may see, in leaf order, signed with
//! the application's secret; the cursor moves only once the callback answered 2xx. A failed
//! delivery is retried after 1 s, 2 s, 4 s … up to 10 minutes, from the same cursor, also after
//! a restart; the application can also pull from any cursor. One pass runs at a time across
//! all instances (it is a recurring job), so the order holds with several servers.
use std::future::Future;
use std::pin::Pin;

use tongban_domain::Timestamp;
use tongban_store::chain::{self, SubscriptionRow};

use crate::apps::{self, App};
use crate::audit::entry_of;
use crate::entry::Entry;
use crate::log::LedgerError;
use crate::service::Ledger;

/// Entries looked at per subscription and pass.
pub const SCAN: i64 = 500;
/// Entries per delivery at most.
pub const PER_DELIVERY: usize = 100;
/// Deliveries per subscription and pass at most.
pub const ROUNDS: usize = 20;
/// Longest wait between two tries.
pub const MAX_BACKOFF_MS: i64 = 10 * 60 * 1000;

pub const HEADER_SUBSCRIPTION: &str = "x-tongban-subscription";

/// Sends one delivery: POST `body` to `url` with `headers`; Err with the reason on anything but
/// a 2xx answer.
pub trait Deliver: Send + Sync {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// A subscription as the API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub app_id: String,
    /// The contracts it covers; empty means every contract the application may read.
    pub contracts: Vec<String>,
    pub callback_url: String,
    pub cursor: u64,
    pub delivered: u64,
    pub attempts: u64,
    pub last_error: Option<String>,
}

impl Subscription {
    fn of(row: SubscriptionRow) -> Result<Self, LedgerError> {
        Ok(Subscription {
            contracts: serde_json::from_str(&row.contracts)
                .map_err(|e| LedgerError::Corrupt(format!("订阅 {} 的合约：{e}", row.id)))?,
            id: row.id,
            app_id: row.app_id,
            callback_url: row.callback_url,
            cursor: row.cursor as u64,
            delivered: row.delivered as u64,
            attempts: row.attempts as u64,
            last_error: row.last_error,
        })
    }

    fn covers(&self, app: &App, e: &Entry) -> bool {
        (self.contracts.is_empty() || self.contracts.contains(&e.contract))
            && app.may_read(&e.contract, &e.app_id, &e.payload)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("回调地址应以 http:// 或 https:// 开头")]
    BadCallback,
    #[error("应用“{app}”无权读取合约“{contract}”，不能订阅")]
    NotReadable { app: String, contract: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The entries after `cursor` a subscription covers, scanning at most `scan` leaves; and the
/// cursor after the ones scanned.
pub async fn covered(
    ledger: &Ledger,
    app: &App,
    sub: &Subscription,
    cursor: u64,
    scan: i64,
    limit: usize,
) -> Result<(Vec<Entry>, u64), LedgerError> {
    let rows = chain::entries_from(&ledger.store, cursor as i64, scan).await?;
    let mut next = cursor;
    let mut out = Vec::new();
    for row in rows {
        let e = entry_of(&row);
        if sub.covers(app, &e) {
            if out.len() == limit {
                break;
            }
            out.push(e);
        }
        next = row.seq as u64 + 1;
    }
    Ok((out, next))
}

impl Ledger {
    pub async fn subscribe(
        &self,
        app: &App,
        callback_url: &str,
        contracts: Vec<String>,
    ) -> Result<Subscription, SubscribeError> {
        if !(callback_url.starts_with("http://") || callback_url.starts_with("https://")) {
            return Err(SubscribeError::BadCallback);
        }
        for c in &contracts {
            if !app.reads(c) {
                return Err(SubscribeError::NotReadable {
                    app: app.id.clone(),
                    contract: c.clone(),
                });
            }
        }
        let row = SubscriptionRow {
            id: format!("sub-{}", &tongban_crypto::random_token()[..16]),
            app_id: app.id.clone(),
            contracts: serde_json::to_string(&contracts).expect("strings serialise"),
            callback_url: callback_url.to_string(),
            cursor: 0,
            delivered: 0,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            created_at: Timestamp::now().millis(),
        };
        chain::insert_subscription(&self.store, &row)
            .await
            .map_err(LedgerError::from)?;
        Ok(Subscription::of(row)?)
    }

    /// Subscription `id` if it is `app`'s.
    pub async fn subscription(
        &self,
        app: &App,
        id: &str,
    ) -> Result<Option<Subscription>, LedgerError> {
        match chain::subscription(&self.store, id).await? {
            Some(row) if row.app_id == app.id => Ok(Some(Subscription::of(row)?)),
            _ => Ok(None),
        }
    }

    /// One pass over the due subscriptions; how many entries were delivered.
    pub async fn push_due(&self, deliver: &dyn Deliver) -> Result<u64, LedgerError> {
        let size = chain::size(&self.store).await?;
        let now = Timestamp::now().millis();
        let mut pushed = 0;
        for row in chain::due_subscriptions(&self.store, size, now).await? {
            let mut sub = Subscription::of(row)?;
            let Some(app) = self.app(&sub.app_id).await?.filter(|a| !a.revoked) else {
                continue;
            };
            // Until it has caught up, a delivery fails, or the pass has done its share.
            for _ in 0..ROUNDS {
                if sub.cursor >= size as u64 {
                    break;
                }
                match self.deliver_next(deliver, &app, &sub, now).await? {
                    Some((cursor, n)) => {
                        sub.cursor = cursor;
                        pushed += n;
                    }
                    None => break,
                }
            }
        }
        Ok(pushed)
    }
}

impl Ledger {
    /// One delivery from the subscription's cursor: the new cursor and how many entries went,
    /// or `None` if it failed (and was scheduled again).
    async fn deliver_next(
        &self,
        deliver: &dyn Deliver,
        app: &App,
        sub: &Subscription,
        now: i64,
    ) -> Result<Option<(u64, u64)>, LedgerError> {
        let (entries, next) = covered(self, app, sub, sub.cursor, SCAN, PER_DELIVERY).await?;
        if entries.is_empty() {
            chain::advance_subscription(&self.store, &sub.id, next as i64, 0).await?;
            return Ok(Some((next, 0)));
        }
        let last = entries.last().map_or(next, |e| e.seq + 1);
        let body = serde_json::json!({
            "subscription": sub.id,
            "entries": entries.iter().map(Entry::to_json).collect::<Vec<_>>(),
            "next": last,
        })
        .to_string();
        match deliver
            .post(&sub.callback_url, signed_headers(app, sub, &body), body)
            .await
        {
            Ok(()) => {
                let n = entries.len() as i64;
                chain::advance_subscription(&self.store, &sub.id, last as i64, n).await?;
                Ok(Some((last, n as u64)))
            }
            Err(why) => {
                let wait = 1000i64
                    .saturating_mul(1 << sub.attempts.min(20))
                    .min(MAX_BACKOFF_MS);
                tracing::warn!(subscription = %sub.id, attempts = sub.attempts + 1, error = %why, "固废链 push failed");
                chain::fail_subscription(&self.store, &sub.id, now + wait, &why).await?;
                Ok(None)
            }
        }
    }
}

/// The headers of a delivery: the subscription, and the call signed as the application signs
/// its own (HMAC-SM3 with its secret over POST, the callback's path, time, nonce, body).
fn signed_headers(app: &App, sub: &Subscription, body: &str) -> Vec<(&'static str, String)> {
    let timestamp = Timestamp::now().millis();
    let nonce = tongban_crypto::random_token()[..32].to_string();
    let path = path_of(&sub.callback_url);
    let signature = apps::sign(
        &app.secret,
        "POST",
        path,
        timestamp,
        &nonce,
        body.as_bytes(),
    );
    vec![
        (HEADER_SUBSCRIPTION, sub.id.clone()),
        (apps::HEADER_APP, app.id.clone()),
        (apps::HEADER_TIMESTAMP, timestamp.to_string()),
        (apps::HEADER_NONCE, nonce),
        (apps::HEADER_SIGNATURE, signature),
    ]
}

/// The path (with query) of an absolute URL.
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}
