//! 哈希核验: recompute every entry's payload digest and leaf from its stored fields, rebuild the
//! tree from the leaves, and compare it with every signed checkpoint. A direct edit of the
//! database shows as the entry (or checkpoint) it touched.
use tongban_crypto::Sm2PublicKey;
use tongban_store::Store;
use tongban_store::chain::{self, EntryRow};

use crate::checkpoint::Checkpoint;
use crate::entry::Entry;
use crate::log::LedgerError;
use crate::merkle::{Frontier, Hash, Sm3};

/// Entries read at a time.
const PAGE: i64 = 5_000;

/// What the audit found wrong, in the order it found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The payload no longer has the digest stored with it.
    PayloadAltered { seq: u64 },
    /// The entry's fields no longer give the leaf stored with it.
    EntryAltered { seq: u64 },
    /// The stored leaves no longer give checkpoint `height`'s root.
    RootMismatch { height: u64, size: u64 },
    /// Checkpoint `height` does not carry the log's signature.
    BadSignature { height: u64 },
    /// A checkpoint claims more leaves than the log holds.
    MissingEntries { height: u64, size: u64 },
}

impl Finding {
    /// The finding in words, for the workbench's alert and the audit log.
    pub fn describe(&self) -> String {
        match self {
            Finding::PayloadAltered { seq } => {
                format!("第 {seq} 条：载荷与其SM3摘要不符（载荷被改动）")
            }
            Finding::EntryAltered { seq } => {
                format!("第 {seq} 条：条目内容与其叶子哈希不符（条目被改动）")
            }
            Finding::RootMismatch { height, size } => {
                format!("区块高度 {height}：前 {size} 条重算的树根与签名的检查点不符")
            }
            Finding::BadSignature { height } => format!("区块高度 {height}：检查点签名无效"),
            Finding::MissingEntries { height, size } => {
                format!("区块高度 {height}：检查点记有 {size} 条，存储中不足")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub entries: u64,
    pub checkpoints: u64,
    /// Bytes of payload hashed, for the throughput figure.
    pub payload_bytes: u64,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// An entry as its stored row gives it.
pub fn entry_of(row: &EntryRow) -> Entry {
    Entry {
        seq: row.seq as u64,
        contract: row.contract.clone(),
        version: row.version as u32,
        key: row.business_key.clone(),
        operation: row.operation.clone(),
        payload: row.payload.clone(),
        app_id: row.app_id.clone(),
        app_signature: row.app_signature.clone(),
        at: row.at,
        prev: row.prev_seq.map(|p| p as u64),
    }
}

/// The whole log against the checkpoints signed by `key` for `origin`.
pub async fn audit(store: &Store, origin: &str, key: &Sm2PublicKey) -> Result<Report, LedgerError> {
    let mut report = Report::default();
    let mut checkpoints = chain::checkpoints_from(store, 0, i64::MAX)
        .await?
        .into_iter()
        .peekable();
    let mut frontier = Frontier::new();
    let mut from = 0;
    loop {
        let rows = chain::entries_from(store, from, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let entry = entry_of(row);
            report.payload_bytes += entry.payload.len() as u64;
            if entry.payload_sm3() != row.payload_sm3 {
                report
                    .findings
                    .push(Finding::PayloadAltered { seq: entry.seq });
            }
            // The tree is rebuilt from the fields, so an edit shows even if the stored leaf
            // hash was edited to match.
            let leaf = entry.leaf_hash();
            if leaf.as_slice() != row.leaf_hash.as_slice() {
                report
                    .findings
                    .push(Finding::EntryAltered { seq: entry.seq });
            }
            frontier.push::<Sm3>(leaf);
            report.entries += 1;
            while let Some(cp) = checkpoints.next_if(|c| c.tree_size as u64 == frontier.size()) {
                check(&mut report, origin, key, &cp, frontier.root::<Sm3>());
            }
        }
        from = rows.last().map_or(from, |r| r.seq + 1);
    }
    for cp in checkpoints {
        report.checkpoints += 1;
        report.findings.push(Finding::MissingEntries {
            height: cp.height as u64,
            size: cp.tree_size as u64,
        });
    }
    Ok(report)
}

fn check(
    report: &mut Report,
    origin: &str,
    key: &Sm2PublicKey,
    cp: &chain::CheckpointRow,
    root: Hash,
) {
    report.checkpoints += 1;
    let (height, size) = (cp.height as u64, cp.tree_size as u64);
    let signed = Checkpoint {
        origin: origin.to_string(),
        height,
        size,
        root: cp.root.as_slice().try_into().unwrap_or([0; 32]),
        at: cp.at,
    };
    if !signed.verify(key, &cp.signature) {
        report.findings.push(Finding::BadSignature { height });
    }
    if signed.root != root {
        report.findings.push(Finding::RootMismatch { height, size });
    }
}
