//! 固废链: the verifiable log shared by Shanghai, Jiangsu, Zhejiang and Anhui for
//! cross-province general solid-waste records. An append-only Merkle tree (RFC 6962/9162) over
//! SM3 with inclusion and consistency proofs; checkpoints signed with the Shanghai bureau's SM2
//! key and cosigned by the other provinces' witnesses. Storage is in `tongban-store`; this
//! crate holds the tree and the rules, free of SQL and HTTP.
#![forbid(unsafe_code)]

pub mod apps;
pub mod checkpoint;
pub mod contracts;
pub mod entry;
pub mod merkle;
pub mod outbox;
// What runs on a store: the server's log, the witnesses, the audit. Without the `server`
// feature (the SDK) the crate is the formats and the checks alone.
#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod dashboard;
#[cfg(feature = "server")]
pub mod log;
#[cfg(feature = "server")]
pub mod push;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod witness;

pub use merkle::{Frontier, Hash, MemoryTree, NodeId, Plan, ProofError, Sha256, Sm3, TreeHasher};
