//! Checkpoints: the log's signed statement of its size and root at a height (the "block
//! height"), and the witnesses' cosignatures of them. Both sign short fixed texts, so any SM2
//! implementation with the standard user id checks them.
use tongban_crypto::{Sm2KeyPair, Sm2PublicKey};

use crate::merkle::Hash;

pub const CHECKPOINT_FORMAT: &str = "tongban-ledger/checkpoint/v1";
pub const COSIGNATURE_FORMAT: &str = "tongban-ledger/cosignature/v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (`shanghai-eeb/solid-waste`), so a signature of one log's checkpoint is
    /// never taken for another's.
    pub origin: String,
    pub height: u64,
    pub size: u64,
    pub root: Hash,
    /// Milliseconds since the epoch.
    pub at: i64,
}

impl Checkpoint {
    /// The text the log signs.
    pub fn body(&self) -> String {
        format!(
            "{CHECKPOINT_FORMAT}\norigin {}\nheight {}\nsize {}\nroot {}\nat {}\n",
            self.origin,
            self.height,
            self.size,
            hex::encode(self.root),
            self.at
        )
    }

    pub fn sign(&self, key: &Sm2KeyPair) -> Vec<u8> {
        key.sign(self.body().as_bytes())
    }

    pub fn verify(&self, key: &Sm2PublicKey, signature: &[u8]) -> bool {
        key.verify(self.body().as_bytes(), signature).is_ok()
    }

    /// The text witness `witness` signs to cosign this checkpoint.
    pub fn cosigned_body(&self, witness: &str) -> String {
        format!("{COSIGNATURE_FORMAT}\nwitness {witness}\n{}", self.body())
    }

    pub fn cosign(&self, witness: &str, key: &Sm2KeyPair) -> Vec<u8> {
        key.sign(self.cosigned_body(witness).as_bytes())
    }

    pub fn verify_cosignature(&self, witness: &str, key: &Sm2PublicKey, signature: &[u8]) -> bool {
        key.verify(self.cosigned_body(witness).as_bytes(), signature)
            .is_ok()
    }
}
