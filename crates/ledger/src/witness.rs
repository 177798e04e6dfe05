//! Witnesses: each other province checks every new checkpoint of the log against the last one
//! it cosigned (same log, the log's signature, a consistency proof from its size) and cosigns
//! it; a checkpoint with a quorum of signatures (the log's and the witnesses') is final. A
//! checkpoint that contradicts what the witness cosigned (a rewritten, truncated or forked
//! history) is refused, and both signed checkpoints are kept as evidence.
use tongban_crypto::{Sm2KeyPair, Sm2PublicKey};
use tongban_domain::Timestamp;
use tongban_store::chain::{self, EvidenceRow, WitnessedRow};
use tongban_store::{Store, StoreError};

use crate::checkpoint::Checkpoint;
use crate::merkle::{Hash, Sm3, verify_consistency};

/// Signatures that make a checkpoint final by default: 3 of the 4 provinces.
pub const DEFAULT_QUORUM: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("检查点属于日志“{0}”，不是本节点见证的日志")]
    WrongOrigin(String),
    #[error("检查点上的日志签名无效")]
    BadSignature,
    #[error("区块高度 {offered} 早于本节点已见证的高度 {cosigned}，不再见证")]
    Stale { offered: u64, cosigned: u64 },
    #[error(
        "检查点与本节点已见证的历史矛盾（{reason}），已拒绝并保存两份签名检查点作为证据（{evidence}）"
    )]
    Conflict { reason: String, evidence: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One province's witness of one log.
pub struct Witness {
    pub name: String,
    key: Sm2KeyPair,
    origin: String,
    log_key: Sm2PublicKey,
}

fn checkpoint_of(row: &WitnessedRow) -> Checkpoint {
    Checkpoint {
        origin: row.origin.clone(),
        height: row.height as u64,
        size: row.tree_size as u64,
        root: row.root.as_slice().try_into().unwrap_or([0; 32]),
        at: row.at,
    }
}

impl Witness {
    pub fn new(
        name: impl Into<String>,
        key: Sm2KeyPair,
        origin: impl Into<String>,
        log_key: Sm2PublicKey,
    ) -> Self {
        Self {
            name: name.into(),
            key,
            origin: origin.into(),
            log_key,
        }
    }

    pub fn public_key(&self) -> Sm2PublicKey {
        self.key.public_key()
    }

    /// The last checkpoint this witness cosigned, with the log's signature of it.
    pub async fn last(&self, store: &Store) -> Result<Option<(Checkpoint, Vec<u8>)>, StoreError> {
        Ok(chain::witnessed(store, &self.origin)
            .await?
            .map(|r| (checkpoint_of(&r), r.signature)))
    }

    /// Checks `offered` (signed by the log with `signature`; `proof` its consistency with the
    /// last cosigned checkpoint's size) and cosigns it.
    pub async fn observe(
        &self,
        store: &Store,
        offered: &Checkpoint,
        signature: &[u8],
        proof: &[Hash],
    ) -> Result<Vec<u8>, WitnessError> {
        if offered.origin != self.origin {
            return Err(WitnessError::WrongOrigin(offered.origin.clone()));
        }
        if !offered.verify(&self.log_key, signature) {
            return Err(WitnessError::BadSignature);
        }
        if let Some((last, last_signature)) = self.last(store).await? {
            let conflict = if offered.height == last.height {
                (offered != &last).then_some("同一区块高度有两个不同的检查点")
            } else if offered.height < last.height {
                return Err(WitnessError::Stale {
                    offered: offered.height,
                    cosigned: last.height,
                });
            } else if offered.size < last.size {
                Some("树比已见证的小，历史被截断")
            } else if !verify_consistency::<Sm3>(
                last.size,
                offered.size,
                proof,
                &last.root,
                &offered.root,
            ) {
                Some("一致性证明不成立，历史被改写")
            } else {
                None
            };
            if let Some(reason) = conflict {
                let evidence = uuid::Uuid::now_v7().to_string();
                chain::add_evidence(
                    store,
                    &EvidenceRow {
                        id: evidence.clone(),
                        origin: self.origin.clone(),
                        reason: reason.to_string(),
                        cosigned_body: last.body(),
                        cosigned_signature: last_signature,
                        offered_body: offered.body(),
                        offered_signature: signature.to_vec(),
                        at: Timestamp::now().millis(),
                    },
                )
                .await?;
                tracing::error!(
                    witness = %self.name, origin = %self.origin, height = offered.height,
                    reason, evidence = %evidence, "固废链 checkpoint refused"
                );
                return Err(WitnessError::Conflict {
                    reason: reason.to_string(),
                    evidence,
                });
            }
        }
        chain::advance_witnessed(
            store,
            &WitnessedRow {
                origin: offered.origin.clone(),
                height: offered.height as i64,
                tree_size: offered.size as i64,
                root: offered.root.to_vec(),
                at: offered.at,
                signature: signature.to_vec(),
            },
        )
        .await?;
        Ok(offered.cosign(&self.name, &self.key))
    }
}

/// The witnesses a log counts, by name.
#[derive(Debug, Clone, Default)]
pub struct Witnesses(pub Vec<(String, Sm2PublicKey)>);

impl Witnesses {
    /// How many valid signatures `checkpoint` carries: the log's own, and each known witness's
    /// valid cosignature among `cosignatures` (name, signature).
    pub fn signatures(&self, checkpoint: &Checkpoint, cosignatures: &[(String, Vec<u8>)]) -> usize {
        1 + self
            .0
            .iter()
            .filter(|(name, key)| {
                cosignatures
                    .iter()
                    .any(|(n, sig)| n == name && checkpoint.verify_cosignature(name, key, sig))
            })
            .count()
    }

    pub fn key_of(&self, name: &str) -> Option<&Sm2PublicKey> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }
}
