//! 链上数据 (003 module 91): the figures the open API's dashboard, the officers' 固废链数据看板
//! and the city's government-blockchain display (市政务区块链展示平台) all show, computed once
//! here: block height, entries, the nodes (the log and each witness, with their last cosignature
//! and whether they keep up), the contracts with their keys and executions, the latest final
//! checkpoint, the hash check's alerts and the newest entries.
use serde_json::{Value, json};
use tongban_domain::Timestamp;
use tongban_store::chain;

use crate::apps::PROVINCES;
use crate::contracts::{Contract, VERSION};
use crate::log::{self, LedgerError};
use crate::service::Ledger;

/// Entries the officers' page lists.
pub const RECENT: usize = 20;

/// How long a witness may go without cosigning a newer checkpoint and still keep up: it checks
/// every few seconds (`tongban witness --every`, default 2 s), so a minute behind is stuck.
pub const KEEPING_UP_MS: i64 = 60_000;

/// The figures at one moment.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub origin: String,
    /// When the figures were read, milliseconds since the epoch.
    pub at: i64,
    /// The latest checkpoint's height and size (0 and 0 before the first).
    pub height: u64,
    pub entries: u64,
    pub final_checkpoint: Option<FinalFigures>,
    pub quorum: usize,
    pub nodes: Vec<Node>,
    pub contracts: Vec<ContractFigures>,
    /// Every contract's executions together: the entries of the log.
    pub executions: i64,
    pub alerts: Vec<Alert>,
    /// The newest entries, newest first.
    pub recent: Vec<RecentEntry>,
}

/// The newest final checkpoint.
#[derive(Debug, Clone)]
pub struct FinalFigures {
    pub height: u64,
    pub size: u64,
    /// The root, lower-case hex.
    pub root: String,
    pub at: i64,
    /// Valid signatures, the log's own included.
    pub signatures: usize,
}

#[derive(Debug, Clone)]
pub struct Node {
    /// `shanghai` for the log, else the witness's configured name.
    pub name: String,
    /// The province's name when the node is named after one (`jiangsu` → 江苏省).
    pub label: String,
    /// `log` or `witness`.
    pub role: &'static str,
    /// The log's latest checkpoint, or the witness's newest cosignature: height and time.
    pub height: Option<u64>,
    pub last_at: Option<i64>,
    /// The log always; a witness that has cosigned the latest checkpoint, or whose last
    /// cosignature is at most [`KEEPING_UP_MS`] older than it.
    pub keeping_up: bool,
}

#[derive(Debug, Clone)]
pub struct ContractFigures {
    pub id: &'static str,
    pub name: &'static str,
    pub version: u32,
    /// Business keys the contract keeps state for.
    pub keys: i64,
    /// Entries appended under it.
    pub executions: i64,
}

/// A run of the hash check that found something.
#[derive(Debug, Clone)]
pub struct Alert {
    pub at: i64,
    pub findings: Value,
}

/// An entry as the page lists it: no payload.
#[derive(Debug, Clone)]
pub struct RecentEntry {
    pub seq: u64,
    pub contract: String,
    /// The contract's name (the id when it is not one of ours).
    pub contract_name: String,
    pub key: String,
    pub operation: String,
    pub operation_label: &'static str,
    pub at: i64,
    pub app_id: String,
    /// The submitting application's registered name (its id if it has gone).
    pub app_name: String,
}

/// An operation's name in Chinese.
pub fn operation_label(operation: &str) -> &'static str {
    match operation {
        "create" => "新增",
        "update" => "变更",
        "status" => "状态更新",
        _ => "其他",
    }
}

/// A province's name for a node named by its code, else the name itself.
fn node_label(name: &str) -> String {
    PROVINCES
        .iter()
        .find(|(code, _)| *code == name)
        .map_or_else(|| name.to_string(), |(_, label)| label.to_string())
}

/// Whether a witness whose newest cosignature is `cosigned` (height, time) keeps up with the
/// log's `latest` checkpoint (height, time): nothing to cosign yet, the latest cosigned, or a
/// cosignature at most [`KEEPING_UP_MS`] older than the latest checkpoint.
pub fn keeps_up(latest: Option<(u64, i64)>, cosigned: Option<(u64, i64)>) -> bool {
    match (latest, cosigned) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((height, _)), Some((h, _))) if h >= height => true,
        (Some((_, newest)), Some((_, at))) => newest - at <= KEEPING_UP_MS,
    }
}

impl Ledger {
    /// The dashboard's figures with the `recent` newest entries (none for the API and the
    /// display, which show counts only).
    pub async fn dashboard(&self, recent: usize) -> Result<Dashboard, LedgerError> {
        let store = &self.store;
        let latest = log::latest(store, self.log.origin()).await?;
        let fin = self.final_checkpoint().await?;
        let counts = chain::contract_counts(store).await?;
        let keys = chain::key_counts(store).await?;
        let activity = chain::witness_activity(store).await?;
        let audits = chain::audits(store, 20).await?;
        let count = |rows: &[(String, i64)], id: &str| {
            rows.iter().find(|(c, _)| c == id).map_or(0, |(_, n)| *n)
        };
        let (height, entries, latest_at) = latest.as_ref().map_or((0, 0, None), |c| {
            (
                c.checkpoint.height,
                c.checkpoint.size,
                Some(c.checkpoint.at),
            )
        });
        let mut nodes = vec![Node {
            name: "shanghai".into(),
            label: node_label("shanghai"),
            role: "log",
            height: latest.as_ref().map(|c| c.checkpoint.height),
            last_at: latest_at,
            keeping_up: true,
        }];
        for (name, _) in &self.witnesses.0 {
            let seen = activity.iter().find(|(w, _, _)| w == name);
            let (cosigned, last_at) = (seen.map(|(_, h, _)| *h as u64), seen.map(|(_, _, at)| *at));
            let keeping_up = keeps_up(latest_at.map(|at| (height, at)), cosigned.zip(last_at));
            nodes.push(Node {
                name: name.clone(),
                label: node_label(name),
                role: "witness",
                height: cosigned,
                last_at,
                keeping_up,
            });
        }
        let recent = if recent == 0 {
            Vec::new()
        } else {
            let apps = chain::apps(store).await?;
            chain::latest_entries(store, recent as i64)
                .await?
                .into_iter()
                .map(|e| RecentEntry {
                    seq: e.seq as u64,
                    contract_name: Contract::parse(&e.contract)
                        .map_or_else(|| e.contract.clone(), |c| c.name().to_string()),
                    operation_label: operation_label(&e.operation),
                    app_name: apps
                        .iter()
                        .find(|a| a.app_id == e.app_id)
                        .map_or_else(|| e.app_id.clone(), |a| a.name.clone()),
                    contract: e.contract,
                    key: e.business_key,
                    operation: e.operation,
                    at: e.at,
                    app_id: e.app_id,
                })
                .collect()
        };
        Ok(Dashboard {
            origin: self.log.origin().to_string(),
            at: Timestamp::now().millis(),
            height,
            entries,
            final_checkpoint: fin.map(|f| FinalFigures {
                height: f.signed.checkpoint.height,
                size: f.signed.checkpoint.size,
                root: hex::encode(f.signed.checkpoint.root),
                at: f.signed.checkpoint.at,
                signatures: 1 + f.cosignatures.len(),
            }),
            quorum: self.quorum,
            nodes,
            contracts: Contract::ALL
                .iter()
                .map(|c| ContractFigures {
                    id: c.id(),
                    name: c.name(),
                    version: VERSION,
                    keys: count(&keys, c.id()),
                    executions: count(&counts, c.id()),
                })
                .collect(),
            executions: counts.iter().map(|(_, n)| n).sum(),
            alerts: audits
                .iter()
                .filter(|a| a.findings != "[]")
                .map(|a| Alert {
                    at: a.at,
                    findings: serde_json::from_str(&a.findings).unwrap_or(Value::Null),
                })
                .collect(),
            recent,
        })
    }
}

impl Dashboard {
    /// The open API's `GET /ledger/v1/dashboard`: counts only, no business data.
    pub fn to_json(&self) -> Value {
        json!({
            "origin": self.origin,
            "height": self.height,
            "entries": self.entries,
            "final_height": self.final_checkpoint.as_ref().map(|f| f.height),
            "final_entries": self.final_checkpoint.as_ref().map(|f| f.size),
            "quorum": self.quorum,
            "nodes": self.nodes.iter().map(|n| json!({
                "name": n.name,
                "role": n.role,
                "last_at": n.last_at,
                "height": n.height,
            })).collect::<Vec<_>>(),
            "contracts": self.contracts.iter().map(|c| json!({
                "id": c.id,
                "name": c.name,
                "version": c.version,
                "executions": c.executions,
            })).collect::<Vec<_>>(),
            "executions": self.executions,
            "alerts": self.alerts.iter().map(|a| json!({
                "at": a.at,
                "findings": a.findings,
            })).collect::<Vec<_>>(),
        })
    }

    /// What the city's government-blockchain display receives: the API's figures, the counts
    /// its screen names (节点数量, 智能合约数), whether each node keeps up, the final checkpoint and
    /// when the snapshot was taken. Still counts only: no key, payload or application.
    pub fn snapshot(&self) -> Value {
        let mut v = self.to_json();
        v["snapshot_at"] = json!(self.at);
        v["node_count"] = json!(self.nodes.len());
        v["contract_count"] = json!(self.contracts.len());
        v["final_checkpoint"] = self.final_json();
        for (node, n) in v["nodes"]
            .as_array_mut()
            .expect("nodes")
            .iter_mut()
            .zip(&self.nodes)
        {
            node["keeping_up"] = json!(n.keeping_up);
        }
        v
    }

    fn final_json(&self) -> Value {
        self.final_checkpoint.as_ref().map_or(Value::Null, |f| {
            json!({
                "height": f.height,
                "size": f.size,
                "root": f.root,
                "at": f.at,
                "signatures": f.signatures,
                "quorum": self.quorum,
            })
        })
    }

    /// Everything, for the officers' page: the snapshot with node labels, keys per contract and
    /// the newest entries (with their business keys and applications).
    pub fn to_page_json(&self) -> Value {
        let mut v = self.snapshot();
        for (node, n) in v["nodes"]
            .as_array_mut()
            .expect("nodes")
            .iter_mut()
            .zip(&self.nodes)
        {
            node["label"] = json!(n.label);
            node["last_at_text"] = json!(n.last_at.map(|t| Timestamp(t).beijing()));
        }
        if let Some(f) = &self.final_checkpoint {
            v["final_checkpoint"]["root_prefix"] = json!(&f.root[..16.min(f.root.len())]);
            v["final_checkpoint"]["at_text"] = json!(Timestamp(f.at).beijing());
        }
        v["snapshot_at_text"] = json!(Timestamp(self.at).beijing());
        for (contract, c) in v["contracts"]
            .as_array_mut()
            .expect("contracts")
            .iter_mut()
            .zip(&self.contracts)
        {
            contract["keys"] = json!(c.keys);
        }
        v["recent"] = self
            .recent
            .iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "contract": e.contract,
                    "contract_name": e.contract_name,
                    "key": e.key,
                    "operation": e.operation,
                    "operation_label": e.operation_label,
                    "at": e.at,
                    "at_text": Timestamp(e.at).beijing(),
                    "app": e.app_id,
                    "app_name": e.app_name,
                })
            })
            .collect();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_witness_keeps_up_with_the_latest_checkpoint_or_a_minute_behind_it() {
        assert!(keeps_up(None, None), "nothing to cosign yet");
        assert!(!keeps_up(Some((3, 10_000)), None), "never cosigned");
        assert!(keeps_up(Some((3, 10_000)), Some((3, 9_000))));
        assert!(
            keeps_up(Some((5, 70_000)), Some((3, 10_000))),
            "a minute behind"
        );
        assert!(!keeps_up(Some((5, 70_001)), Some((3, 10_000))), "stuck");
        assert_eq!(operation_label("status"), "状态更新");
        assert_eq!(node_label("anhui"), "安徽省");
        assert_eq!(node_label("witness-x"), "witness-x");
    }
}
