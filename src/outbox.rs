//! Where the outbox's messages go: the 固废链's ([`tongban_ledger::outbox::DESTINATION`]) to the
//! log in-process, as the bureau's own application signed with its seal; every other
//! destination to the city platform. One `outbox.deliver` job kind serves them all, each
//! destination in order and stopped at its first failure.
use std::sync::Arc;

use tongban_crypto::Sm2KeyPair;
use tongban_ledger::service::Ledger;
use tongban_platform::{Envelope, Platform};

pub struct Destinations {
    pub city: Arc<dyn Platform>,
    pub ledger: Arc<Ledger>,
    pub seal: Sm2KeyPair,
}

impl Platform for Destinations {
    fn deliver<'a>(
        &'a self,
        destination: &'a str,
        message: &'a Envelope,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        if destination != tongban_ledger::outbox::DESTINATION {
            return self.city.deliver(destination, message);
        }
        Box::pin(async move {
            let delivered = tongban_ledger::outbox::deliver(
                &self.ledger,
                &self.seal,
                &message.id,
                &message.payload,
            )
            .await?;
            tracing::debug!(id = %message.id, kind = %message.kind, ?delivered, "固废链 message delivered");
            Ok(())
        })
    }
}
