//! The bureau's own requests to the 固废链, from the cases: the workflow of 一般固体废物跨省贮存、
//! 处置审批 queues each request as an outbox message to [`DESTINATION`] in the transaction of
//! the case change it records (`tongban-cases`); [`deliver`] (server side) hands one such
//! message to the log in-process, as application [`BUREAU_APP`].
//!
//! A message's content is the request without who sends it:
//! `{"contract": …, "version": 1, "key": …, "operation": …, "payload": {…}}`. The entry's
//! payload is the message's with `message_id` (the outbox id) added, and the request's nonce is
//! the outbox id too: delivery is at least once, and a redelivery — after a crash between the
//! append and marking the message delivered — finds the entry it wrote, by the nonce while the
//! nonce is kept and by `message_id` after, and writes nothing.

/// The outbox destination of the cases' 固废链 requests.
pub const DESTINATION: &str = "solid_waste_ledger";

/// The application id the bureau's own entries carry (the log's origin is
/// `shanghai-eeb/solid-waste`). Registered applications are `app-…`, so it names no other.
pub const BUREAU_APP: &str = "shanghai-eeb";

/// The text the bureau's seal signs for a request it submits itself (the entry's
/// `app_signature` is the hex DER signature over it): the request's fields, one to a line,
/// the payload by its SM3.
pub fn signed_text(
    contract: &str,
    version: u32,
    key: &str,
    operation: &str,
    nonce: &str,
    payload: &str,
) -> String {
    format!(
        "tongban-ledger/bureau-request/v1\ncontract {contract}\nversion {version}\nkey {key}\n\
         operation {operation}\nnonce {nonce}\npayload-sm3 {}\n",
        tongban_crypto::sm3(payload.as_bytes()).to_hex()
    )
}

#[cfg(feature = "server")]
pub use server::{Delivered, deliver};

#[cfg(feature = "server")]
mod server {
    use tongban_crypto::Sm2KeyPair;
    use tongban_store::chain;

    use super::{BUREAU_APP, signed_text};
    use crate::log::{Refusal, Request};
    use crate::service::Ledger;

    /// What a delivery did.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Delivered {
        /// Appended as leaf `seq`.
        Appended(u64),
        /// The log holds the message's entry already (a redelivery): nothing written.
        Already,
    }

    /// Submits outbox message `message_id` with `content` to the log as [`BUREAU_APP`], signed
    /// with `seal`. `Err` (kept on the outbox row, which stops the destination until it is
    /// delivered) for a store failure, retried, and for a refusal: the workflow only asks for
    /// what the contract allows, so a refusal is a bug and is logged as an error.
    pub async fn deliver(
        ledger: &Ledger,
        seal: &Sm2KeyPair,
        message_id: &str,
        content: &serde_json::Value,
    ) -> Result<Delivered, String> {
        let text = |name: &str| {
            content[name]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("固废链消息 {message_id} 缺少“{name}”"))
        };
        let (contract, key, operation) = (text("contract")?, text("key")?, text("operation")?);
        let version = content["version"]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("固废链消息 {message_id} 缺少“version”"))?;
        let mut payload = content["payload"]
            .as_object()
            .cloned()
            .ok_or_else(|| format!("固废链消息 {message_id} 的“payload”不是对象"))?;
        payload.insert("message_id".into(), message_id.into());
        let payload = serde_json::Value::Object(payload).to_string();
        if holds(ledger, &contract, &key, message_id).await? {
            return Ok(Delivered::Already);
        }
        let signature = seal.sign(
            signed_text(&contract, version, &key, &operation, message_id, &payload).as_bytes(),
        );
        let request = Request {
            contract: contract.clone(),
            version,
            key: key.clone(),
            operation,
            payload,
            app_id: BUREAU_APP.into(),
            app_signature: hex::encode(signature),
            nonce: Some(message_id.to_string()),
        };
        let refusal = match ledger.submit(request).await.map_err(|e| e.to_string())? {
            Ok(entry) => return Ok(Delivered::Appended(entry.seq)),
            // The nonce was used: by an earlier delivery that wrote the entry, or was refused.
            Err(Refusal::Replayed) if holds(ledger, &contract, &key, message_id).await? => {
                return Ok(Delivered::Already);
            }
            Err(Refusal::Replayed) => {
                "已被拒绝过（nonce 已使用，账本中没有该消息的条目）".to_string()
            }
            Err(why) => why.to_string(),
        };
        tracing::error!(
            message_id,
            contract = %contract,
            key = %key,
            refusal = %refusal,
            "固废链 refused a request of the cases: the outbox holds it and stops its destination"
        );
        Err(format!("固废链拒绝了 {contract}/{key}：{refusal}"))
    }

    /// Whether key `key` of `contract` has an entry of the bureau carrying `message_id`.
    async fn holds(
        ledger: &Ledger,
        contract: &str,
        key: &str,
        message_id: &str,
    ) -> Result<bool, String> {
        let entries = chain::entries_of_key(&ledger.store, contract, key)
            .await
            .map_err(|e| e.to_string())?;
        Ok(entries.iter().any(|e| {
            e.app_id == BUREAU_APP
                && serde_json::from_str::<serde_json::Value>(&e.payload)
                    .is_ok_and(|p| p["message_id"].as_str() == Some(message_id))
        }))
    }
}
