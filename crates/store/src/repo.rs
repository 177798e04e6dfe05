//! Repositories: one module per table family. Each function takes the store (reads) or a
//! transaction (writes) and speaks in domain types.
pub mod activations;
pub mod audit;
pub mod batches;
pub mod case_index;
pub mod cases;
pub mod certificates;
pub mod chain;
pub mod challenges;
pub mod documents;
pub mod enterprises;
pub mod external_accounts;
pub mod individuals;
pub mod jobs;
pub mod ledgers;
pub mod officer_certificates;
pub mod officers;
pub mod outbox;
pub mod rate_limits;
pub mod sessions;
pub mod signatures;
