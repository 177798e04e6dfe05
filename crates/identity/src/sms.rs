//! Text messages go out through the outbox: a `sms.send` job written in the transaction that
//! needs the message, with recipient and text sealed (the job table must not hold a phone number
//! or a one-time code in the clear), and delivered by a sender with retries. The default sender
//! writes the message to the log; the city's SMS gateway plugs in as another [`SmsSender`].
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tongban_crypto::FieldCipher;
use tongban_store::jobs::NewJob;
use tongban_store::{StoreError, Tx, jobs};

pub const JOB_KIND: &str = "sms.send";
const TO_FIELD: &str = "outbox.sms.to";
const TEXT_FIELD: &str = "outbox.sms.text";

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Delivers one message; an error is retried later by the job scheduler.
pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> SendFuture<'a>;
}

/// Writes messages to the log, the phone number masked: for development and demonstrations.
pub struct LoggingSms;

impl SmsSender for LoggingSms {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let masked = if to.len() == 11 {
                format!("{}****{}", &to[..3], &to[7..])
            } else {
                "***".into()
            };
            tracing::info!(to = %masked, text, "SMS (logging sender)");
            Ok(())
        })
    }
}

/// Keeps every message it is given, in order: the local peer tests read what was "sent".
#[derive(Default, Clone)]
pub struct RecordingSms(pub Arc<Mutex<Vec<(String, String)>>>);

impl SmsSender for RecordingSms {
    fn send<'a>(&'a self, to: &'a str, text: &'a str) -> SendFuture<'a> {
        self.0
            .lock()
            .expect("not poisoned")
            .push((to.to_string(), text.to_string()));
        Box::pin(async { Ok(()) })
    }
}

/// Queues a message in `tx`.
pub async fn enqueue(
    tx: &mut Tx,
    fields: &FieldCipher,
    to: &str,
    text: &str,
) -> Result<(), StoreError> {
    let payload = json!({ "to": fields.seal(TO_FIELD, to), "text": fields.seal(TEXT_FIELD, text) });
    jobs::enqueue(tx, &NewJob::new(JOB_KIND, payload)).await?;
    Ok(())
}

/// The job handler that opens a queued message and hands it to `sender`.
pub fn handler(
    fields: Arc<FieldCipher>,
    sender: Arc<dyn SmsSender>,
) -> impl Fn(
    serde_json::Value,
) -> Pin<Box<dyn Future<Output = Result<(), tongban_jobs::JobFailure>> + Send>>
+ Send
+ Sync
+ 'static {
    move |payload| {
        let (fields, sender) = (fields.clone(), sender.clone());
        Box::pin(async move {
            let open = |field, key: &str| {
                payload[key]
                    .as_str()
                    .ok_or_else(|| format!("sms job without {key}"))
                    .and_then(|sealed| fields.open(field, sealed).map_err(|e| e.to_string()))
            };
            let to = open(TO_FIELD, "to").map_err(tongban_jobs::JobFailure)?;
            let text = open(TEXT_FIELD, "text").map_err(tongban_jobs::JobFailure)?;
            sender
                .send(&to, &text)
                .await
                .map_err(tongban_jobs::JobFailure)
        })
    }
}
