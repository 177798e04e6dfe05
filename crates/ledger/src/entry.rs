//! An entry of the log and the bytes its leaf hashes. The leaf is a short text of fixed lines,
//! so that a province's verifier in any language rebuilds it from the fields the query API
//! returns: the payload enters through its SM3 digest, the key's history through `prev`.
use tongban_crypto::sm3;

use crate::merkle::{Hash, Sm3, TreeHasher};

/// The first line of every entry's leaf text: the format's name and version.
pub const ENTRY_FORMAT: &str = "tongban-ledger/entry/v1";

/// An entry as the log holds it: leaf `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    /// The contract's id (`filing`, `filing_revocation`, `disposal_process`,
    /// `disposal_application`) and version.
    pub contract: String,
    pub version: u32,
    /// The business key (e.g. the application's number) the contract keeps state for.
    pub key: String,
    pub operation: String,
    /// The payload as the application sent it (JSON text), byte for byte.
    pub payload: String,
    /// The application that submitted it, and its signature over the request.
    pub app_id: String,
    pub app_signature: String,
    /// Milliseconds since the epoch, when the log accepted it.
    pub at: i64,
    /// The key's previous entry under the same contract: the hash-linked history.
    pub prev: Option<u64>,
}

impl Entry {
    /// SM3 of the payload, lower-case hex.
    pub fn payload_sm3(&self) -> String {
        sm3(self.payload.as_bytes()).to_hex()
    }

    /// The text the leaf hashes: one `name value` line a field.
    pub fn leaf_text(&self) -> String {
        self.leaf_text_with(&self.payload_sm3())
    }

    /// [`Entry::leaf_text`] with the payload's SM3 already computed.
    pub fn leaf_text_with(&self, payload_sm3: &str) -> String {
        let prev = self.prev.map_or_else(|| "-".to_string(), |p| p.to_string());
        format!(
            "{ENTRY_FORMAT}\nseq {}\ncontract {}\nversion {}\nkey {}\noperation {}\n\
             payload-sm3 {}\napp {}\napp-signature {}\nat {}\nprev {prev}\n",
            self.seq,
            self.contract,
            self.version,
            self.key,
            self.operation,
            payload_sm3,
            self.app_id,
            self.app_signature,
            self.at,
        )
    }

    /// The entry as the API and the pushes give it: its fields, the payload's SM3 and the leaf
    /// hash, so a receiver can rebuild and check the leaf.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seq": self.seq,
            "contract": self.contract,
            "version": self.version,
            "key": self.key,
            "operation": self.operation,
            "payload": self.payload,
            "payload_sm3": self.payload_sm3(),
            "app": self.app_id,
            "app_signature": self.app_signature,
            "at": self.at,
            "prev": self.prev,
            "leaf_hash": hex::encode(self.leaf_hash()),
        })
    }

    /// RFC 6962's leaf hash of [`Entry::leaf_text`], over SM3.
    pub fn leaf_hash(&self) -> Hash {
        Sm3::leaf(self.leaf_text().as_bytes())
    }
}

/// Whether `value` may stand in a leaf line: not empty, no line breaks, at most `max` bytes.
pub fn is_line_value(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && !value.contains(['\n', '\r'])
}
