//! 哈希核验: recompute every entry's payload digest and leaf from its stored fields, rebuild the
//! tree from the leaves, and compare it with every signed checkpoint. A direct edit of the
//! database shows as the entry (or checkpoint) it touched.
use tongban_crypto::Sm2PublicKey;
use tongban_store::Store;
use tongban_store::chain::{self, EntryRow};

use crate::checkpoint::Checkpoint;
use crate::entry::Entry;
use crate::log::LedgerError;
use crate::merkle::{Frontier, Hash, Sm3, TreeHasher};

/// Entries read at a time.
const PAGE: i64 = 1_000;

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
    into_entry(row.clone())
}

/// [`entry_of`], taking the row's fields rather than copying them.
fn into_entry(row: EntryRow) -> Entry {
    Entry {
        seq: row.seq as u64,
        contract: row.contract,
        version: row.version as u32,
        key: row.business_key,
        operation: row.operation,
        payload: row.payload,
        app_id: row.app_id,
        app_signature: row.app_signature,
        at: row.at,
        prev: row.prev_seq.map(|p| p as u64),
    }
}

/// The whole log against the checkpoints signed by `key` for `origin`.
pub async fn audit(store: &Store, origin: &str, key: &Sm2PublicKey) -> Result<Report, LedgerError> {
    Ok(audit_from(store, origin, key, Frontier::new()).await?.0)
}

/// The entries after `frontier` (the right edge of the tree as an earlier run rebuilt it) and
/// the checkpoints beyond its size; and the right edge rebuilt now. Pages are read and their
/// entries hashed on blocking threads, one more page at once than the machine has cores (so no
/// core waits while the tree takes in a finished page), each page hashed where it was read; the
/// tree is then built from them in order.
pub async fn audit_from(
    store: &Store,
    origin: &str,
    key: &Sm2PublicKey,
    frontier: Frontier,
) -> Result<(Report, Frontier), LedgerError> {
    use futures::StreamExt as _;
    let start = frontier.size() as i64;
    let checkpoints = chain::checkpoints_beyond(store, start).await?;
    let mut run = Run {
        report: Report::default(),
        frontier,
        checkpoints: checkpoints.into_iter().peekable(),
        origin: origin.to_string(),
        key: key.clone(),
    };
    let at_once = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Each page is its own read, so a page read later may hold entries appended since: the run
    // stops at the first page that is not full, and what it rebuilt is a prefix of the log.
    let mut pages = futures::stream::iter((start..).step_by(PAGE as usize))
        .map(|from| chain::map_entries_from(store, from, PAGE, hash_entry))
        .buffered(at_once + 1);
    while let Some(page) = pages.next().await {
        let page = page?;
        let full = page.len() as i64 == PAGE;
        run = tokio::task::spawn_blocking(move || {
            run.entries(page);
            run
        })
        .await
        .map_err(|e| LedgerError::Corrupt(format!("核验任务中止：{e}")))?;
        if !full {
            break;
        }
    }
    let Run {
        mut report,
        frontier,
        checkpoints,
        ..
    } = run;
    for cp in checkpoints {
        report.checkpoints += 1;
        report.findings.push(Finding::MissingEntries {
            height: cp.height as u64,
            size: cp.tree_size as u64,
        });
    }
    Ok((report, frontier))
}

/// An audit under way: what it found, the tree so far, the checkpoints still to meet.
struct Run {
    report: Report,
    frontier: Frontier,
    checkpoints: std::iter::Peekable<std::vec::IntoIter<chain::CheckpointRow>>,
    origin: String,
    key: Sm2PublicKey,
}

impl Run {
    /// A page's entries, hashed, into the tree in order; each checkpoint met on the way checked.
    fn entries(&mut self, page: Vec<Hashed>) {
        for entry in page {
            let seq = entry.seq;
            self.report.payload_bytes += entry.payload_bytes;
            if !entry.payload_matches {
                self.report.findings.push(Finding::PayloadAltered { seq });
            }
            if !entry.leaf_matches {
                self.report.findings.push(Finding::EntryAltered { seq });
            }
            self.frontier.push::<Sm3>(entry.leaf);
            self.report.entries += 1;
            let size = self.frontier.size();
            while let Some(cp) = self.checkpoints.next_if(|c| c.tree_size as u64 == size) {
                check(
                    &mut self.report,
                    &self.origin,
                    &self.key,
                    &cp,
                    self.frontier.root::<Sm3>(),
                );
            }
        }
    }
}

/// An entry's digests recomputed, beside what its row holds.
struct Hashed {
    seq: u64,
    payload_bytes: u64,
    payload_matches: bool,
    leaf_matches: bool,
    leaf: Hash,
}

fn hash_entry(mut row: EntryRow) -> Hashed {
    let stored_sm3 = std::mem::take(&mut row.payload_sm3);
    let stored_leaf = std::mem::take(&mut row.leaf_hash);
    let entry = into_entry(row);
    let payload_sm3 = entry.payload_sm3();
    // The leaf is rebuilt from the fields, so an edit shows even if the stored leaf hash was
    // edited to match.
    let leaf = Sm3::leaf(entry.leaf_text_with(&payload_sm3).as_bytes());
    Hashed {
        seq: entry.seq,
        payload_bytes: entry.payload.len() as u64,
        payload_matches: payload_sm3 == stored_sm3,
        leaf_matches: leaf.as_slice() == stored_leaf.as_slice(),
        leaf,
    }
}

/// The scheduled hash check: from where the last run stopped to the end, recorded with its
/// findings; a run that finds anything also writes a line to the audit log, which the
/// workbench shows as an alert.
pub async fn run_incremental(
    store: &Store,
    origin: &str,
    key: &Sm2PublicKey,
) -> Result<Report, LedgerError> {
    let last = chain::audits(store, 1).await?.into_iter().next();
    let frontier = match &last {
        None => Frontier::new(),
        Some(run) => {
            let hashes: Vec<String> = serde_json::from_str(&run.frontier)
                .map_err(|e| LedgerError::Corrupt(format!("上次核验的记录：{e}")))?;
            let hashes = hashes
                .iter()
                .map(|h| {
                    hex::decode(h)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .ok_or_else(|| LedgerError::Corrupt("上次核验的记录有误".into()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Frontier::from_nodes(run.to_size as u64, hashes)
                .ok_or_else(|| LedgerError::Corrupt("上次核验的记录与树的大小不符".into()))?
        }
    };
    let from_size = frontier.size();
    let (report, frontier) = audit_from(store, origin, key, frontier).await?;
    let findings: Vec<String> = report.findings.iter().map(Finding::describe).collect();
    let alert = (!findings.is_empty()).then(|| tongban_domain::audit::NewAuditEntry {
        actor: "system".into(),
        action: tongban_domain::audit::AuditAction::LedgerTampered,
        object: "ledger".into(),
        detail: serde_json::json!({ "findings": findings, "from": from_size, "to": frontier.size() }),
    });
    chain::insert_audit(
        store,
        &chain::AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            at: tongban_domain::Timestamp::now().millis(),
            from_size: from_size as i64,
            to_size: frontier.size() as i64,
            findings: serde_json::to_string(&findings).expect("strings serialise"),
            frontier: serde_json::to_string(
                &frontier
                    .hashes()
                    .iter()
                    .map(hex::encode)
                    .collect::<Vec<_>>(),
            )
            .expect("strings serialise"),
        },
        alert.as_ref(),
    )
    .await?;
    if !findings.is_empty() {
        tracing::error!(findings = ?findings, "固废链 hash check found changes in storage");
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
