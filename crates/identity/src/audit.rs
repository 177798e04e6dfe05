//! Reading the audit log back: the full-chain verification behind `tongban audit verify`.
use tongban_domain::audit::{AuditAction, AuditBreak, ChainVerifier, NewAuditEntry};
use tongban_store::{Store, StoreError, audit};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Broken(#[from] AuditBreak),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Walks the whole log in pages and checks every link; returns the number of entries.
pub async fn verify(store: &Store) -> Result<i64, VerifyError> {
    // Read the head first: entries appended while we read only extend the chain past it.
    let (head_seq, head_digest) = audit::head(store).await?;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = audit::page(store, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in page.iter().take_while(|r| r.seq <= head_seq) {
            verifier.check(record)?;
        }
        if after >= head_seq {
            break;
        }
    }
    Ok(verifier.finish(head_seq, &head_digest)?)
}

/// An entry: `actor` did `action` to `object` (empty for none), with `detail`.
pub(crate) fn entry(
    actor: impl Into<String>,
    action: AuditAction,
    object: impl Into<String>,
    detail: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.into(),
        action,
        object: object.into(),
        detail,
    }
}
