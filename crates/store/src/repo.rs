//! Repositories: one module per table family. Each function takes the store (reads) or a
//! transaction (writes) and speaks in domain types.
pub mod audit;
pub mod enterprises;
pub mod jobs;
pub mod officers;
pub mod sessions;
