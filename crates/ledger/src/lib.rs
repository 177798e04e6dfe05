//! 固废链: the verifiable log shared by Shanghai, Jiangsu, Zhejiang and Anhui for
//! cross-province general solid-waste records. An append-only Merkle tree (RFC 6962/9162) over
//! SM3 with inclusion and consistency proofs; checkpoints signed with the Shanghai bureau's SM2
//! key and cosigned by the other provinces' witnesses. Storage is in `tongban-store`; this
//! crate holds the tree and the rules, free of SQL and HTTP.
#![forbid(unsafe_code)]

pub mod merkle;

pub use merkle::{Frontier, Hash, MemoryTree, NodeId, Plan, ProofError, Sha256, Sm3, TreeHasher};
pub mod audit;
pub mod checkpoint;
pub mod contracts;
pub mod entry;
pub mod log;
pub mod witness;
