//! The log on the store: appending a batch of requests (each checked by its contract, the
//! refused ones writing nothing) as leaves, with the subtrees they complete and a checkpoint
//! signed by the log's key, in one transaction; and proofs read in one query.
use std::collections::{HashMap, HashSet};

use tongban_crypto::Sm2KeyPair;
use tongban_domain::Timestamp;
use tongban_store::chain::{self, CheckpointRow, EntryRow, KeyRow, NodeRow};
use tongban_store::{Store, StoreError, Tx};

use crate::checkpoint::Checkpoint;
use crate::contracts::{self, Contract, ContractError, KeyState};
use crate::entry::{Entry, is_line_value};
use crate::merkle::{Frontier, Hash, NodeId, Plan, ProofError, Sm3, range_nodes};

/// Longest business key, operation or application id, in bytes.
pub const MAX_FIELD: usize = 128;
/// Largest payload, in bytes.
pub const MAX_PAYLOAD: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error("存储中的数据已损坏：{0}")]
    Corrupt(String),
}

/// What an application asks the log to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub contract: String,
    pub version: u32,
    pub key: String,
    pub operation: String,
    /// JSON text, kept byte for byte.
    pub payload: String,
    pub app_id: String,
    pub app_signature: String,
    /// The nonce of the signed call that carried it: recorded in the batch's transaction, so a
    /// replayed call is refused on any instance.
    pub nonce: Option<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error("字段“{0}”不能为空、不能换行，且不超过128字节")]
    BadField(&'static str),
    #[error("载荷超过1 MiB")]
    PayloadTooLarge,
    #[error("重复的请求：该 nonce 已使用过")]
    Replayed,
}

/// The outcome of a batch: each request's leaf index or why it was refused, and the
/// checkpoint that ends the batch (none if every request was refused).
#[derive(Debug, Clone)]
pub struct Appended {
    pub results: Vec<Result<Entry, Refusal>>,
    pub checkpoint: Option<SignedCheckpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: Vec<u8>,
}

/// The log of one origin, signing with its key.
pub struct Log {
    origin: String,
    key: Sm2KeyPair,
}

fn check_fields(r: &Request) -> Result<(), Refusal> {
    for (name, value) in [
        ("contract", &r.contract),
        ("key", &r.key),
        ("operation", &r.operation),
        ("app_id", &r.app_id),
    ] {
        if !is_line_value(value, MAX_FIELD) {
            return Err(Refusal::BadField(name));
        }
    }
    if !is_line_value(&r.app_signature, 1024) {
        return Err(Refusal::BadField("app_signature"));
    }
    if r.payload.len() > MAX_PAYLOAD {
        return Err(Refusal::PayloadTooLarge);
    }
    Ok(())
}

fn hash_of(bytes: &[u8]) -> Result<Hash, LedgerError> {
    bytes
        .try_into()
        .map_err(|_| LedgerError::Corrupt(format!("哈希长度为 {} 字节", bytes.len())))
}

/// The keys' states as the batch has left them so far, read from `tx` when first needed.
struct Overlay<'a> {
    known: HashMap<(Contract, String), (KeyState, Option<KeyRow>)>,
    /// Keys already looked up, found or not.
    looked: HashSet<(Contract, String)>,
    tx: &'a mut Tx,
}

impl Overlay<'_> {
    /// Looks up every key in `wanted` not looked up yet, in as few queries as it takes.
    async fn load(&mut self, wanted: &[(Contract, String)]) -> Result<(), StoreError> {
        let new: Vec<(&str, &str)> = wanted
            .iter()
            .filter(|w| self.looked.insert((*w).clone()))
            .map(|(c, k)| (c.id(), k.as_str()))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        for row in chain::keys_in(self.tx, &new).await? {
            let Some(contract) = Contract::parse(&row.contract) else {
                continue;
            };
            let state = KeyState {
                state: row.state.clone(),
                reference: row.reference.clone(),
            };
            self.known
                .insert((contract, row.business_key.clone()), (state, Some(row)));
        }
        Ok(())
    }
}

/// The keys request `r` reads: its own, and the one it refers to (a revocation's filing).
fn keys_read(r: &Request) -> impl Iterator<Item = (Contract, String)> {
    Contract::parse(&r.contract)
        .map(|c| (c, r.key.clone()))
        .into_iter()
        .chain(also_reads(r))
}

impl contracts::States for Overlay<'_> {
    fn get(&self, contract: Contract, key: &str) -> Option<KeyState> {
        self.known
            .get(&(contract, key.to_string()))
            .map(|(s, _)| s.clone())
    }
}

/// The key another key's request reads (a revocation reads its filing).
fn also_reads(r: &Request) -> Option<(Contract, String)> {
    if Contract::parse(&r.contract) != Some(Contract::FilingRevocation) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&r.payload).ok()?;
    Some((Contract::Filing, v.get("filing_key")?.as_str()?.to_string()))
}

impl Log {
    pub fn new(origin: impl Into<String>, key: Sm2KeyPair) -> Self {
        Self {
            origin: origin.into(),
            key,
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn public_key(&self) -> tongban_crypto::Sm2PublicKey {
        self.key.public_key()
    }

    /// Appends `requests` in one transaction and signs the checkpoint that ends them.
    pub async fn append(
        &self,
        store: &Store,
        requests: &[Request],
    ) -> Result<Appended, LedgerError> {
        let now = Timestamp::now().millis();
        let mut tx = store.begin().await?;
        // Taken first: the checks below read key states that must hold until the commit.
        chain::lock_head(&mut tx).await?;
        let replayed = self.replayed(&mut tx, requests, now).await?;
        let mut overlay = Overlay {
            known: HashMap::new(),
            looked: HashSet::new(),
            tx: &mut tx,
        };
        // Every key the batch reads, in one go rather than a query a request.
        let wanted: Vec<(Contract, String)> = requests
            .iter()
            .zip(&replayed)
            .filter(|(_, replayed)| !**replayed)
            .flat_map(|(r, _)| keys_read(r))
            .collect();
        overlay.load(&wanted).await?;
        // Each request against the states the ones before it left.
        let mut checked: Vec<Result<(usize, Vec<contracts::KeyChange>), Refusal>> = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            if replayed[i] {
                checked.push(Err(Refusal::Replayed));
                continue;
            }
            if let Err(why) = check_fields(r) {
                checked.push(Err(why));
                continue;
            }
            match contracts::apply(
                &r.contract,
                r.version,
                &r.operation,
                &r.key,
                &r.payload,
                &overlay,
            ) {
                Ok(changes) => {
                    for ch in &changes {
                        let entry = overlay
                            .known
                            .entry((ch.contract, ch.key.clone()))
                            .or_insert_with(|| (ch.state.clone(), None));
                        entry.0 = ch.state.clone();
                    }
                    checked.push(Ok((i, changes)));
                }
                Err(e) => checked.push(Err(e.into())),
            }
        }
        let accepted = checked.iter().filter(|c| c.is_ok()).count() as i64;
        if accepted == 0 {
            // Nothing to append; the nonces stay used, so a refused call cannot be replayed
            // once the states have moved on.
            drop(overlay);
            tx.commit().await?;
            return Ok(Appended {
                // Every one of them was refused.
                results: checked
                    .into_iter()
                    .filter_map(Result::err)
                    .map(Err)
                    .collect(),
                checkpoint: None,
            });
        }
        let known = std::mem::take(&mut overlay.known);
        drop(overlay);

        let (start, height) = chain::grow(&mut tx, accepted).await?;
        let start = start as u64;
        let mut frontier = self.frontier_in(&mut tx, start).await?;
        // The rows of the keys as they stood before the batch, for `prev` and the counts.
        let mut rows: HashMap<(Contract, String), KeyRow> = known
            .iter()
            .filter_map(|(k, (_, row))| row.clone().map(|r| (k.clone(), r)))
            .collect();
        let mut entries = Vec::new();
        let mut nodes = Vec::new();
        let mut results = Vec::with_capacity(requests.len());
        let mut seq = start;
        for c in checked {
            let (i, changes) = match c {
                Ok(ok) => ok,
                Err(why) => {
                    results.push(Err(why));
                    continue;
                }
            };
            let r = &requests[i];
            let own = (changes[0].contract, changes[0].key.clone());
            let entry = Entry {
                seq,
                contract: r.contract.clone(),
                version: r.version,
                key: r.key.clone(),
                operation: r.operation.clone(),
                payload: r.payload.clone(),
                app_id: r.app_id.clone(),
                app_signature: r.app_signature.clone(),
                at: now,
                prev: rows.get(&own).map(|k| k.last_seq as u64),
            };
            let leaf = entry.leaf_hash();
            for (id, hash) in frontier.push::<Sm3>(leaf) {
                nodes.push(NodeRow {
                    level: id.level as i32,
                    idx: id.index as i64,
                    hash: hash.to_vec(),
                });
            }
            entries.push(EntryRow {
                seq: seq as i64,
                contract: entry.contract.clone(),
                version: entry.version as i32,
                business_key: entry.key.clone(),
                operation: entry.operation.clone(),
                payload: entry.payload.clone(),
                payload_sm3: entry.payload_sm3(),
                app_id: entry.app_id.clone(),
                app_signature: entry.app_signature.clone(),
                at: entry.at,
                prev_seq: entry.prev.map(|p| p as i64),
                leaf_hash: leaf.to_vec(),
            });
            for ch in changes {
                let key = (ch.contract, ch.key.clone());
                let before = rows.get(&key);
                let is_own = key == own;
                let row = KeyRow {
                    contract: ch.contract.id().to_string(),
                    business_key: ch.key.clone(),
                    state: ch.state.state.clone(),
                    reference: ch.state.reference.clone(),
                    last_seq: if is_own {
                        seq as i64
                    } else {
                        before.map_or(seq as i64, |b| b.last_seq)
                    },
                    entries: before.map_or(0, |b| b.entries) + i64::from(is_own),
                };
                rows.insert(key, row);
            }
            results.push(Ok(entry));
            seq += 1;
        }
        chain::insert_entries(&mut tx, &entries).await?;
        chain::insert_nodes(&mut tx, &nodes).await?;
        chain::put_keys(&mut tx, &rows.values().collect::<Vec<_>>()).await?;
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            height: height as u64,
            size: frontier.size(),
            root: frontier.root::<Sm3>(),
            at: now,
        };
        let signature = checkpoint.sign(&self.key);
        chain::insert_checkpoint(
            &mut tx,
            &CheckpointRow {
                height,
                tree_size: checkpoint.size as i64,
                root: checkpoint.root.to_vec(),
                at: now,
                signature: signature.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Appended {
            results,
            checkpoint: Some(SignedCheckpoint {
                checkpoint,
                signature,
            }),
        })
    }

    /// Records the requests' nonces; true for each request whose nonce was used before (or
    /// earlier in the batch).
    async fn replayed(
        &self,
        tx: &mut Tx,
        requests: &[Request],
        now: i64,
    ) -> Result<Vec<bool>, LedgerError> {
        let mut seen = std::collections::HashSet::new();
        let mut first = vec![false; requests.len()];
        let mut wanted = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let Some(nonce) = &r.nonce else { continue };
            if seen.insert((r.app_id.clone(), nonce.clone())) {
                first[i] = true;
                wanted.push((r.app_id.clone(), nonce.clone()));
            }
        }
        if wanted.is_empty() {
            return Ok(requests.iter().map(|r| r.nonce.is_some()).collect());
        }
        let fresh: std::collections::HashSet<(String, String)> =
            chain::use_nonces(tx, &wanted, now)
                .await?
                .into_iter()
                .collect();
        Ok(requests
            .iter()
            .enumerate()
            .map(|(i, r)| match &r.nonce {
                None => false,
                Some(n) => !(first[i] && fresh.contains(&(r.app_id.clone(), n.clone()))),
            })
            .collect())
    }

    async fn frontier_in(&self, tx: &mut Tx, size: u64) -> Result<Frontier, LedgerError> {
        let ids = range_nodes(0, size);
        let wanted: Vec<(i32, i64)> = ids
            .iter()
            .map(|id| (id.level as i32, id.index as i64))
            .collect();
        let found: HashMap<(i32, i64), Vec<u8>> = chain::nodes_in(tx, &wanted)
            .await?
            .into_iter()
            .map(|n| ((n.level, n.idx), n.hash))
            .collect();
        let mut hashes = Vec::with_capacity(ids.len());
        for w in &wanted {
            let bytes = found.get(w).ok_or_else(|| {
                LedgerError::Corrupt(format!("缺少节点（层 {}，序号 {}）", w.0, w.1))
            })?;
            hashes.push(hash_of(bytes)?);
        }
        Frontier::from_nodes(size, hashes)
            .ok_or_else(|| LedgerError::Corrupt("树的右边界不完整".into()))
    }
}

/// Reads what `plan` needs in one query and assembles it.
async fn assemble(store: &Store, plan: &Plan) -> Result<Vec<Hash>, LedgerError> {
    let ids = plan.nodes();
    let wanted: Vec<(i32, i64)> = ids
        .iter()
        .map(|id| (id.level as i32, id.index as i64))
        .collect();
    let mut found: HashMap<NodeId, Hash> = HashMap::with_capacity(wanted.len());
    for n in chain::nodes(store, &wanted).await? {
        found.insert(NodeId::new(n.level as u32, n.idx as u64), hash_of(&n.hash)?);
    }
    Ok(plan.assemble::<Sm3>(|id| found.get(&id).copied())?)
}

/// The audit path of leaf `seq` in the tree of `size` leaves.
pub async fn inclusion_proof(store: &Store, seq: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
    assemble(store, &Plan::inclusion(seq, size)?).await
}

/// The proof that the tree of `old` leaves is a prefix of the tree of `new`.
pub async fn consistency_proof(
    store: &Store,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, LedgerError> {
    assemble(store, &Plan::consistency(old, new)?).await
}

/// The root of the first `size` leaves, from the stored subtrees.
pub async fn root(store: &Store, size: u64) -> Result<Hash, LedgerError> {
    Ok(assemble(store, &Plan::root(size))
        .await?
        .pop()
        .unwrap_or_else(<Sm3 as crate::merkle::TreeHasher>::empty_root))
}

/// A checkpoint as stored, with the log's signature.
pub async fn checkpoint(
    store: &Store,
    origin: &str,
    height: u64,
) -> Result<Option<SignedCheckpoint>, LedgerError> {
    Ok(chain::checkpoint(store, height as i64)
        .await?
        .map(|row| signed_of(origin, row)))
}

/// The newest checkpoint.
pub async fn latest(store: &Store, origin: &str) -> Result<Option<SignedCheckpoint>, LedgerError> {
    Ok(chain::latest_checkpoint(store)
        .await?
        .map(|row| signed_of(origin, row)))
}

fn signed_of(origin: &str, row: CheckpointRow) -> SignedCheckpoint {
    SignedCheckpoint {
        checkpoint: Checkpoint {
            origin: origin.to_string(),
            height: row.height as u64,
            size: row.tree_size as u64,
            root: row.root.as_slice().try_into().unwrap_or([0; 32]),
            at: row.at,
        },
        signature: row.signature,
    }
}

/// Why a cosignature was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CosignRefusal {
    #[error("未登记的见证节点“{0}”")]
    UnknownWitness(String),
    #[error("没有区块高度 {0} 的检查点")]
    NoCheckpoint(u64),
    #[error("见证节点“{0}”的签名无效")]
    BadSignature(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Records witness `name`'s cosignature of checkpoint `height`, once it verifies; false if it
/// was recorded before.
pub async fn add_cosignature(
    store: &Store,
    origin: &str,
    witnesses: &crate::witness::Witnesses,
    height: u64,
    name: &str,
    signature: &[u8],
) -> Result<bool, CosignRefusal> {
    let key = witnesses
        .key_of(name)
        .ok_or_else(|| CosignRefusal::UnknownWitness(name.to_string()))?;
    let signed = checkpoint(store, origin, height)
        .await?
        .ok_or(CosignRefusal::NoCheckpoint(height))?;
    if !signed.checkpoint.verify_cosignature(name, key, signature) {
        return Err(CosignRefusal::BadSignature(name.to_string()));
    }
    Ok(chain::add_cosignature(
        store,
        &chain::CosignatureRow {
            height: height as i64,
            witness: name.to_string(),
            signature: signature.to_vec(),
            at: Timestamp::now().millis(),
        },
    )
    .await
    .map_err(LedgerError::from)?)
}

/// A checkpoint with the signatures that make it final.
#[derive(Debug, Clone)]
pub struct FinalCheckpoint {
    pub signed: SignedCheckpoint,
    /// (witness, signature), each verified.
    pub cosignatures: Vec<(String, Vec<u8>)>,
}

/// The newest checkpoint with at least `quorum` valid signatures, the log's own counted.
pub async fn latest_final(
    store: &Store,
    origin: &str,
    witnesses: &crate::witness::Witnesses,
    quorum: usize,
) -> Result<Option<FinalCheckpoint>, LedgerError> {
    let needed = quorum.saturating_sub(1) as i64;
    if needed == 0 {
        return Ok(latest(store, origin).await?.map(|signed| FinalCheckpoint {
            signed,
            cosignatures: Vec::new(),
        }));
    }
    for height in chain::cosigned_heights(store, needed, 16).await? {
        let Some(signed) = checkpoint(store, origin, height as u64).await? else {
            continue;
        };
        let cosignatures: Vec<(String, Vec<u8>)> = chain::cosignatures(store, height)
            .await?
            .into_iter()
            .filter(|c| {
                witnesses.key_of(&c.witness).is_some_and(|k| {
                    signed
                        .checkpoint
                        .verify_cosignature(&c.witness, k, &c.signature)
                })
            })
            .map(|c| (c.witness, c.signature))
            .collect();
        if 1 + cosignatures.len() >= quorum {
            return Ok(Some(FinalCheckpoint {
                signed,
                cosignatures,
            }));
        }
    }
    Ok(None)
}
