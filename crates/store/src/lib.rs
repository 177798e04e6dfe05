//! The relational store: one code base over SQLite (the embedded default) and PostgreSQL.
//!
//! Policy:
//! - Every query is written once, in the SQL both engines accept (`$1` placeholders, `RETURNING`,
//!   `ON CONFLICT`); what differs lives in [`dialect`] and nowhere else.
//! - Writes go through a [`Tx`]. On SQLite all writes share one connection (`BEGIN IMMEDIATE`), so the
//!   application serialises writers instead of fighting `SQLITE_BUSY`, and writers that arrive
//!   together share one commit (see `group`); reads use read-only connections lent without
//!   sqlx's pings (see `readers`), except a few hot or long ones that read the file directly
//!   (see `direct`). On PostgreSQL writes and reads have a pool each.
//! - Durability: SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction survives
//!   a power cut, not only a crash of the process. An acknowledged submission is a committed one.
//! - Repositories return domain types; rows never leave this crate.
#![forbid(unsafe_code)]

#[macro_use]
mod macros;

pub mod dialect;
mod direct;
mod engine;
mod error;
mod group;
mod keyed;
pub mod migrations;
mod readers;
pub mod repo;
#[cfg(feature = "testing")]
pub mod testing;

pub use engine::{Engine, Store, StoreOptions, Tx};
pub use error::StoreError;
pub use repo::{
    activations, audit, batches, case_index, cases, certificates, chain, challenges, documents,
    enterprises, external_accounts, individuals, jobs, ledgers, officer_certificates, officers,
    outbox, rate_limits, sessions, signatures,
};
