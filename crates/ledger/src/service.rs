//! The log as the server runs it: requests from many calls queued to one batcher, which appends
//! whatever has queued while the previous batch committed (so a busy log writes big batches and
//! an idle one answers at once); the access applications and their secrets; answers to queries
//! with proofs against the newest final checkpoint.
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tongban_crypto::FieldCipher;
use tongban_domain::Timestamp;
use tongban_store::Store;
use tongban_store::chain::{self, AppRow};

use crate::apps::{self, App, AuthError, Call, Grant, PROVINCES};
use crate::audit::entry_of;
use crate::entry::Entry;
use crate::log::{self, FinalCheckpoint, LedgerError, Log, Refusal, Request};
use crate::merkle::Hash;
use crate::witness::Witnesses;

/// Requests appended in one transaction at most.
pub const MAX_BATCH: usize = 2_000;

/// The field name the apps' secrets are sealed under.
const SECRET_FIELD: &str = "chain_app_secret";

/// A call's requests (appended together, in order) and where their outcomes go.
type Queued = (Vec<Request>, Reply);
type Reply = oneshot::Sender<Result<Vec<Result<Entry, Refusal>>, String>>;

/// Requests one call may hand to [`Ledger::submit_many`].
pub const MAX_CALL: usize = 1_000;

pub struct Ledger {
    pub store: Store,
    pub log: Arc<Log>,
    pub witnesses: Witnesses,
    /// Signatures that make a checkpoint final, the log's own included.
    pub quorum: usize,
    cipher: Arc<FieldCipher>,
    queue: mpsc::Sender<Queued>,
}

/// An entry with its audit path in the tree of the final checkpoint (none if the entry came
/// after it).
#[derive(Debug, Clone)]
pub struct ProvenEntry {
    pub entry: Entry,
    pub leaf_hash: Hash,
    pub proof: Option<Vec<Hash>>,
}

/// A business key as an application may see it.
#[derive(Debug, Clone)]
pub struct KeyView {
    pub contract: String,
    pub key: String,
    pub state: String,
    pub reference: Option<String>,
    pub entries: Vec<ProvenEntry>,
    pub checkpoint: Option<FinalCheckpoint>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("省份应为 shanghai、jiangsu、zhejiang、anhui 之一")]
    UnknownProvince,
    #[error("应用名称不能为空")]
    NoName,
    #[error("未知的合约“{0}”")]
    UnknownContract(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl Ledger {
    /// Starts the batcher on the current runtime.
    pub fn start(
        store: Store,
        log: Log,
        witnesses: Witnesses,
        quorum: usize,
        cipher: Arc<FieldCipher>,
    ) -> Arc<Ledger> {
        let (queue, mut rx) = mpsc::channel::<Queued>(MAX_BATCH * 4);
        let log = Arc::new(log);
        let (batch_store, batch_log) = (store.clone(), log.clone());
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // A call's requests stay together, so a batch may pass MAX_BATCH by less than
                // one call's worth.
                let mut calls = vec![first];
                let mut total = calls[0].0.len();
                while total < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => {
                            total += next.0.len();
                            calls.push(next);
                        }
                        Err(_) => break,
                    }
                }
                let mut requests = Vec::with_capacity(total);
                let mut replies = Vec::with_capacity(calls.len());
                for (call, reply) in calls {
                    replies.push((call.len(), reply));
                    requests.extend(call);
                }
                match batch_log.append(&batch_store, &requests).await {
                    Ok(appended) => {
                        let mut results = appended.results.into_iter();
                        for (n, reply) in replies {
                            let _ = reply.send(Ok(results.by_ref().take(n).collect()));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, n = requests.len(), "固废链 batch failed");
                        for (_, reply) in replies {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        Arc::new(Ledger {
            store,
            log,
            witnesses,
            quorum,
            cipher,
            queue,
        })
    }

    /// Queues `request` for the next batch and waits until it is committed (or refused).
    pub async fn submit(&self, request: Request) -> Result<Result<Entry, Refusal>, LedgerError> {
        let mut outcomes = self.submit_many(vec![request]).await?;
        outcomes
            .pop()
            .ok_or_else(|| LedgerError::Corrupt("账本写入任务未给出结果".into()))
    }

    /// Queues one call's `requests` (at most [`MAX_CALL`]) to be appended together, in order, in
    /// one transaction, each checked against the states the ones before it leave; waits for
    /// their outcomes, in the same order.
    pub async fn submit_many(
        &self,
        requests: Vec<Request>,
    ) -> Result<Vec<Result<Entry, Refusal>>, LedgerError> {
        debug_assert!(requests.len() <= MAX_CALL);
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((requests, reply))
            .await
            .map_err(|_| LedgerError::Corrupt("账本写入任务已停止".into()))?;
        answer
            .await
            .map_err(|_| LedgerError::Corrupt("账本写入任务已停止".into()))?
            .map_err(LedgerError::Corrupt)
    }

    /// Registers an application and issues its secret (shown once, to the administrator);
    /// `actor` is who did it, for the audit log.
    pub async fn register(
        &self,
        actor: &str,
        name: &str,
        province: &str,
        grants: Vec<Grant>,
    ) -> Result<App, RegisterError> {
        if name.trim().is_empty() {
            return Err(RegisterError::NoName);
        }
        if !PROVINCES.iter().any(|(code, _)| *code == province) {
            return Err(RegisterError::UnknownProvince);
        }
        for g in &grants {
            if crate::contracts::Contract::parse(&g.contract).is_none() {
                return Err(RegisterError::UnknownContract(g.contract.clone()));
            }
        }
        let app = App {
            id: format!("app-{}", &tongban_crypto::random_token()[..16]),
            name: name.trim().to_string(),
            province: province.to_string(),
            secret: tongban_crypto::random_token(),
            grants,
            revoked: false,
        };
        chain::insert_app(
            &self.store,
            &AppRow {
                app_id: app.id.clone(),
                name: app.name.clone(),
                province: app.province.clone(),
                secret: self.cipher.seal(SECRET_FIELD, &app.secret),
                grants: serde_json::to_string(&app.grants).expect("grants serialise"),
                created_at: Timestamp::now().millis(),
                revoked_at: None,
            },
            &tongban_domain::audit::NewAuditEntry {
                actor: actor.to_string(),
                action: tongban_domain::audit::AuditAction::PermissionChange,
                object: format!("ledger_app:{}", app.id),
                detail: serde_json::json!({
                    "change": "registered",
                    "name": app.name,
                    "province": app.province,
                    "grants": app.grants,
                }),
            },
        )
        .await
        .map_err(LedgerError::from)?;
        Ok(app)
    }

    /// Stops application `id`; false if there is no such active application.
    pub async fn revoke(&self, actor: &str, id: &str) -> Result<bool, LedgerError> {
        Ok(chain::revoke_app(
            &self.store,
            id,
            Timestamp::now().millis(),
            &tongban_domain::audit::NewAuditEntry {
                actor: actor.to_string(),
                action: tongban_domain::audit::AuditAction::PermissionChange,
                object: format!("ledger_app:{id}"),
                detail: serde_json::json!({ "change": "revoked" }),
            },
        )
        .await?)
    }

    pub async fn app(&self, id: &str) -> Result<Option<App>, LedgerError> {
        let Some(row) = chain::app(&self.store, id).await? else {
            return Ok(None);
        };
        let secret = self
            .cipher
            .open(SECRET_FIELD, &row.secret)
            .map_err(|e| LedgerError::Corrupt(format!("应用 {id} 的密钥无法解密：{e}")))?;
        let grants = serde_json::from_str(&row.grants)
            .map_err(|e| LedgerError::Corrupt(format!("应用 {id} 的授权：{e}")))?;
        Ok(Some(App {
            id: row.app_id,
            name: row.name,
            province: row.province,
            secret,
            grants,
            revoked: row.revoked_at.is_some(),
        }))
    }

    /// The application a signed call comes from, if the signature holds. The nonce is not yet
    /// marked used: [`Ledger::use_nonce`] or the append's batch does that.
    pub async fn authenticate(
        &self,
        app_id: &str,
        call: &Call<'_>,
    ) -> Result<Result<App, AuthError>, LedgerError> {
        let Some(app) = self.app(app_id).await? else {
            return Ok(Err(AuthError::UnknownApp(app_id.to_string())));
        };
        Ok(apps::check(&app, call, Timestamp::now().millis()).map(|()| app))
    }

    /// Marks a read call's nonce used; false for a replay.
    pub async fn use_nonce(&self, app: &App, nonce: &str) -> Result<bool, LedgerError> {
        Ok(chain::use_nonce(&self.store, &app.id, nonce, Timestamp::now().millis()).await?)
    }

    pub async fn final_checkpoint(&self) -> Result<Option<FinalCheckpoint>, LedgerError> {
        log::latest_final(&self.store, self.log.origin(), &self.witnesses, self.quorum).await
    }

    /// Key `key` of `contract` with the entries `app` may see, each with its proof; `None` if
    /// there is no such key or the application may see none of it.
    pub async fn key_view(
        &self,
        app: &App,
        contract: &str,
        key: &str,
    ) -> Result<Option<KeyView>, LedgerError> {
        let checkpoint = self.final_checkpoint().await?;
        self.key_view_at(app, contract, key, checkpoint).await
    }

    /// [`Ledger::key_view`] with proofs against `checkpoint`, found once by the caller: finding
    /// the final checkpoint verifies its signatures.
    async fn key_view_at(
        &self,
        app: &App,
        contract: &str,
        key: &str,
        checkpoint: Option<FinalCheckpoint>,
    ) -> Result<Option<KeyView>, LedgerError> {
        let Some(row) = chain::key(&self.store, contract, key).await? else {
            return Ok(None);
        };
        let size = checkpoint.as_ref().map_or(0, |c| c.signed.checkpoint.size);
        let mut entries = Vec::new();
        for e in chain::entries_of_key(&self.store, contract, key).await? {
            if !app.may_read(&e.contract, &e.app_id, &e.payload) {
                continue;
            }
            let entry = entry_of(&e);
            let proof = if entry.seq < size {
                Some(log::inclusion_proof(&self.store, entry.seq, size).await?)
            } else {
                None
            };
            entries.push(ProvenEntry {
                leaf_hash: entry.leaf_hash(),
                entry,
                proof,
            });
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(KeyView {
            contract: row.contract,
            key: row.business_key,
            state: row.state,
            reference: row.reference,
            entries,
            checkpoint,
        }))
    }

    /// The keys of `contract` with reference (备案号) `reference` that `app` may see.
    pub async fn by_reference(
        &self,
        app: &App,
        contract: &str,
        reference: &str,
    ) -> Result<Vec<KeyView>, LedgerError> {
        let checkpoint = self.final_checkpoint().await?;
        let mut out = Vec::new();
        for k in chain::keys_by_reference(&self.store, contract, reference).await? {
            let view = self
                .key_view_at(app, contract, &k.business_key, checkpoint.clone())
                .await?;
            if let Some(view) = view {
                out.push(view);
            }
        }
        Ok(out)
    }
}
