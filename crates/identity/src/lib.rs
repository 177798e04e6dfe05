//! Identity and accountability: who may act, proven how, and the record of what they did.
//! Services here take the store and plain values and return domain types; the web layer only
//! translates HTTP to these calls.
#![forbid(unsafe_code)]

pub mod audit;
pub mod city_login;
pub mod enterprise;
pub mod external;
pub mod individual;
pub mod officer_certificate;
pub mod officer_login;
pub mod password;
pub mod session;
pub mod sms;
#[cfg(feature = "testing")]
pub mod testing;

pub use officer_login::{LOCK_AFTER_FAILURES, LOCK_DURATION, LoginError, officer_login};
pub use password::hash_password;
