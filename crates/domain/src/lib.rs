//! Domain types of Tongban, shared by every layer: typed ids, the public code formats
//! (unified social credit code), jurisdictions and timestamps. Nothing here knows HTTP or SQL.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod catalogue;
pub mod certificate;
pub mod credit_code;
pub mod file_kind;
pub mod id_number;
pub mod ids;
pub mod jurisdiction;
pub mod party;
pub mod time;

pub use credit_code::{CreditCode, CreditCodeError};
pub use ids::{EnterpriseId, OfficerId};
pub use jurisdiction::Jurisdiction;
pub use party::{Enterprise, Officer, OfficerRole};
pub use time::Timestamp;
