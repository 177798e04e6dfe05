//! The 固废链 SDK for the provinces' systems: a client that signs each call with the
//! application's HMAC-SM3 secret (method, path, timestamp, nonce, SM3 of the body), and checks
//! that verify an answer on their own: the log's SM2 signature of the checkpoint, the
//! witnesses' cosignatures up to the quorum, and each entry's leaf and inclusion proof.
#![forbid(unsafe_code)]

use serde::Deserialize;
use serde_json::Value;
use tongban_crypto::Sm2PublicKey;
use tongban_ledger::apps::{self, HEADER_APP, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use tongban_ledger::checkpoint::Checkpoint;
use tongban_ledger::entry::Entry;
use tongban_ledger::merkle::{Hash, Sm3, verify_consistency, verify_inclusion};

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("无法连接账本服务：{0}")]
    Http(#[from] reqwest::Error),
    /// The server's answer: its status, code and message.
    #[error("{status} {code}：{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("账本的应答无法验证：{0}")]
    Unverified(String),
}

/// A checkpoint as the API gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckpointAnswer {
    pub origin: String,
    pub height: u64,
    pub size: u64,
    pub root: String,
    pub at: i64,
    pub signature: String,
    #[serde(default)]
    pub cosignatures: Vec<CosignatureAnswer>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CosignatureAnswer {
    pub witness: String,
    pub signature: String,
}

impl CheckpointAnswer {
    pub fn checkpoint(&self) -> Result<Checkpoint, SdkError> {
        Ok(Checkpoint {
            origin: self.origin.clone(),
            height: self.height,
            size: self.size,
            root: hash(&self.root)?,
            at: self.at,
        })
    }

    pub fn log_signature(&self) -> Result<Vec<u8>, SdkError> {
        hex::decode(&self.signature)
            .map_err(|_| SdkError::Unverified("检查点签名不是十六进制".into()))
    }
}

/// An entry with its audit path, as a query gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct EntryAnswer {
    #[serde(flatten)]
    pub fields: PushedEntry,
    /// The audit path in the final checkpoint's tree; none for an entry after it.
    pub proof: Option<Vec<String>>,
}

/// A business key with its entries, as the API gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyAnswer {
    pub contract: String,
    pub key: String,
    pub state: String,
    pub reference: Option<String>,
    pub checkpoint: Option<CheckpointAnswer>,
    pub entries: Vec<EntryAnswer>,
}

/// What the server said when it accepted an entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Submitted {
    pub seq: u64,
    pub leaf_hash: String,
    pub payload_sm3: String,
    pub at: i64,
    pub prev: Option<u64>,
}

/// One entry for [`Client::submit_many`].
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub contract: &'a str,
    pub key: &'a str,
    pub operation: &'a str,
    pub payload: &'a Value,
}

fn hash(hex_text: &str) -> Result<Hash, SdkError> {
    hex::decode(hex_text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SdkError::Unverified(format!("“{hex_text}”不是32字节的哈希")))
}

/// Who may sign checkpoints: the log's key, the witnesses' keys, the quorum.
#[derive(Debug, Clone)]
pub struct Trust {
    pub log_key: Sm2PublicKey,
    pub witnesses: Vec<(String, Sm2PublicKey)>,
    pub quorum: usize,
}

impl Trust {
    /// That `answer` is signed by the log and cosigned by enough witnesses.
    pub fn check_checkpoint(&self, answer: &CheckpointAnswer) -> Result<Checkpoint, SdkError> {
        let checkpoint = answer.checkpoint()?;
        if !checkpoint.verify(&self.log_key, &answer.log_signature()?) {
            return Err(SdkError::Unverified("检查点上的账本签名无效".into()));
        }
        let cosigned = self
            .witnesses
            .iter()
            .filter(|(name, key)| {
                answer.cosignatures.iter().any(|c| {
                    c.witness == *name
                        && hex::decode(&c.signature)
                            .is_ok_and(|s| checkpoint.verify_cosignature(name, key, &s))
                })
            })
            .count();
        if 1 + cosigned < self.quorum {
            return Err(SdkError::Unverified(format!(
                "检查点只有 {} 个有效签名，不足 {} 个",
                1 + cosigned,
                self.quorum
            )));
        }
        Ok(checkpoint)
    }

    /// That every entry of `answer` with a proof is in the tree of its final checkpoint, with
    /// exactly the fields returned. Returns how many entries were proven.
    pub fn check_key(&self, answer: &KeyAnswer) -> Result<usize, SdkError> {
        let Some(cp) = &answer.checkpoint else {
            return Ok(0);
        };
        let checkpoint = self.check_checkpoint(cp)?;
        let mut proven = 0;
        for e in &answer.entries {
            let seq = e.fields.seq;
            if !e.fields.leaf_holds() {
                return Err(SdkError::Unverified(format!(
                    "第 {seq} 条的内容与其哈希不符"
                )));
            }
            let Some(proof) = &e.proof else { continue };
            let leaf = e.fields.entry().leaf_hash();
            let path = proof
                .iter()
                .map(|h| hash(h))
                .collect::<Result<Vec<_>, _>>()?;
            if !verify_inclusion::<Sm3>(seq, checkpoint.size, &leaf, &path, &checkpoint.root) {
                return Err(SdkError::Unverified(format!("第 {seq} 条的包含证明不成立")));
            }
            proven += 1;
        }
        Ok(proven)
    }
}

/// That the tree of `old` is a prefix of the tree of `new`, by `proof`.
pub fn check_consistency(old: &Checkpoint, new: &Checkpoint, proof: &[Hash]) -> bool {
    verify_consistency::<Sm3>(old.size, new.size, proof, &old.root, &new.root)
}

/// A client of one log, signing as one application (or unsigned, for the public endpoints).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    app: Option<(String, String)>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Client {
    /// A client of the log at `base_url` (e.g. `https://tongban.sthj.sh.gov.cn`).
    pub fn new(base_url: &str) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            app: None,
        }
    }

    /// The same client, signing as application `app_id` with `secret`.
    pub fn signing_as(mut self, app_id: &str, secret: &str) -> Self {
        self.app = Some((app_id.to_string(), secret.to_string()));
        self
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Value, SdkError> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some((app, secret)) = &self.app {
            let timestamp = now_ms();
            let nonce = tongban_crypto::random_token()[..32].to_string();
            let bytes = body.as_deref().unwrap_or(b"");
            let signature = apps::sign(secret, method.as_str(), path, timestamp, &nonce, bytes);
            req = req
                .header(HEADER_APP, app)
                .header(HEADER_TIMESTAMP, timestamp.to_string())
                .header(HEADER_NONCE, nonce)
                .header(HEADER_SIGNATURE, signature);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let response = req.send().await?;
        let status = response.status();
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let value: Value = response.json().await?;
        if !status.is_success() {
            return Err(SdkError::Api {
                status: status.as_u16(),
                code: value["error"]["code"].as_str().unwrap_or("").to_string(),
                message: value["error"]["message"].as_str().unwrap_or("").to_string(),
            });
        }
        Ok(value)
    }

    fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, SdkError> {
        serde_json::from_value(value)
            .map_err(|e| SdkError::Unverified(format!("应答格式有误：{e}")))
    }

    /// Submits an entry: contract, business key, operation and payload (a JSON object).
    pub async fn submit(
        &self,
        contract: &str,
        key: &str,
        operation: &str,
        payload: &Value,
    ) -> Result<Submitted, SdkError> {
        let body = serde_json::json!({
            "contract": contract,
            "key": key,
            "operation": operation,
            "payload": payload,
        });
        Self::parse(
            self.call(
                reqwest::Method::POST,
                "/ledger/v1/entries",
                Some(body.to_string().into_bytes()),
            )
            .await?,
        )
    }

    /// Submits many entries in one signed call (at most 1 000), appended together and in
    /// order. Each outcome is the entry written or the contract's refusal of that item; a call
    /// with any item outside the application's grants writes nothing and is an error.
    pub async fn submit_many(
        &self,
        entries: &[NewEntry<'_>],
    ) -> Result<Vec<Result<Submitted, String>>, SdkError> {
        let items: Vec<Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "contract": e.contract,
                    "key": e.key,
                    "operation": e.operation,
                    "payload": e.payload,
                })
            })
            .collect();
        let body = serde_json::json!({ "entries": items });
        let answer = self
            .call(
                reqwest::Method::POST,
                "/ledger/v1/entries/batch",
                Some(body.to_string().into_bytes()),
            )
            .await?;
        let results = answer["results"]
            .as_array()
            .ok_or_else(|| SdkError::Unverified("应答缺少 results".into()))?;
        if results.len() != entries.len() {
            return Err(SdkError::Unverified(format!(
                "提交{}项，应答{}项",
                entries.len(),
                results.len()
            )));
        }
        results
            .iter()
            .map(|r| match r["error"]["message"].as_str() {
                Some(refused) => Ok(Err(refused.to_string())),
                None => Self::parse(r.clone()).map(Ok),
            })
            .collect()
    }

    /// A business key with its history and proofs.
    pub async fn key(&self, contract: &str, key: &str) -> Result<KeyAnswer, SdkError> {
        let path = format!("/ledger/v1/keys/{}/{}", encode(contract), encode(key));
        Self::parse(self.call(reqwest::Method::GET, &path, None).await?)
    }

    /// The keys of `contract` with 备案号 `reference`.
    pub async fn by_reference(
        &self,
        contract: &str,
        reference: &str,
    ) -> Result<Vec<KeyAnswer>, SdkError> {
        let path = format!(
            "/ledger/v1/references/{}/{}",
            encode(contract),
            encode(reference)
        );
        let mut v = self.call(reqwest::Method::GET, &path, None).await?;
        Self::parse(v["keys"].take())
    }

    pub async fn latest_checkpoint(&self) -> Result<CheckpointAnswer, SdkError> {
        Self::parse(
            self.call(reqwest::Method::GET, "/ledger/v1/checkpoints/latest", None)
                .await?,
        )
    }

    pub async fn final_checkpoint(&self) -> Result<CheckpointAnswer, SdkError> {
        Self::parse(
            self.call(reqwest::Method::GET, "/ledger/v1/checkpoints/final", None)
                .await?,
        )
    }

    pub async fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, SdkError> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/ledger/v1/proofs/consistency?old={old}&new={new}"),
                None,
            )
            .await?;
        let proof: Vec<String> = Self::parse(v["proof"].clone())?;
        proof.iter().map(|h| hash(h)).collect()
    }

    /// Posts witness `witness`'s cosignature of checkpoint `height`.
    pub async fn cosign(
        &self,
        height: u64,
        witness: &str,
        signature: &[u8],
    ) -> Result<(), SdkError> {
        let body = serde_json::json!({"witness": witness, "signature": hex::encode(signature)});
        self.call(
            reqwest::Method::POST,
            &format!("/ledger/v1/checkpoints/{height}/cosignatures"),
            Some(body.to_string().into_bytes()),
        )
        .await?;
        Ok(())
    }
}

/// A subscription as the API gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionAnswer {
    pub id: String,
    pub contracts: Vec<String>,
    pub callback_url: String,
    pub cursor: u64,
    pub delivered: u64,
    pub failed_attempts: u64,
    pub last_error: Option<String>,
}

/// A page of pulled (or pushed) entries and the cursor to go on from.
#[derive(Debug, Clone, Deserialize)]
pub struct EntriesPage {
    pub subscription: String,
    pub entries: Vec<PushedEntry>,
    pub next: u64,
}

/// An entry as a push or a pull gives it (no proof: ask [`Client::key`] for one).
#[derive(Debug, Clone, Deserialize)]
pub struct PushedEntry {
    pub seq: u64,
    pub contract: String,
    pub version: u32,
    pub key: String,
    pub operation: String,
    pub payload: String,
    pub payload_sm3: String,
    pub app: String,
    pub app_signature: String,
    pub at: i64,
    pub prev: Option<u64>,
    pub leaf_hash: String,
}

impl PushedEntry {
    /// The entry these fields make.
    pub fn entry(&self) -> Entry {
        Entry {
            seq: self.seq,
            contract: self.contract.clone(),
            version: self.version,
            key: self.key.clone(),
            operation: self.operation.clone(),
            payload: self.payload.clone(),
            app_id: self.app.clone(),
            app_signature: self.app_signature.clone(),
            at: self.at,
            prev: self.prev,
        }
    }

    /// Whether the leaf hash and payload digest given are the ones the fields make.
    pub fn leaf_holds(&self) -> bool {
        let entry = self.entry();
        hex::encode(entry.leaf_hash()) == self.leaf_hash && entry.payload_sm3() == self.payload_sm3
    }
}

/// Whether a push is from the log: its signature by the application's own secret over POST,
/// the callback's path, the timestamp, the nonce and the body.
pub fn push_is_genuine(
    secret: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    let text = apps::canonical("POST", path, timestamp, nonce, body);
    hex::decode(signature)
        .is_ok_and(|tag| tongban_crypto::verify_hmac_sm3(secret.as_bytes(), text.as_bytes(), &tag))
}

impl Client {
    /// Subscribes to `contracts` (empty: all it may read) with a callback URL.
    pub async fn subscribe(
        &self,
        callback_url: &str,
        contracts: &[&str],
    ) -> Result<SubscriptionAnswer, SdkError> {
        let body = serde_json::json!({"callback_url": callback_url, "contracts": contracts});
        Self::parse(
            self.call(
                reqwest::Method::POST,
                "/ledger/v1/subscriptions",
                Some(body.to_string().into_bytes()),
            )
            .await?,
        )
    }

    pub async fn subscription(&self, id: &str) -> Result<SubscriptionAnswer, SdkError> {
        Self::parse(
            self.call(
                reqwest::Method::GET,
                &format!("/ledger/v1/subscriptions/{}", encode(id)),
                None,
            )
            .await?,
        )
    }

    /// Pulls the entries of subscription `id` from cursor `from`.
    pub async fn pull(&self, id: &str, from: u64, limit: usize) -> Result<EntriesPage, SdkError> {
        Self::parse(
            self.call(
                reqwest::Method::GET,
                &format!(
                    "/ledger/v1/subscriptions/{}/entries?from={from}&limit={limit}",
                    encode(id)
                ),
                None,
            )
            .await?,
        )
    }
}

/// Percent-encodes a path segment (business keys and 备案号 may hold any characters).
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
