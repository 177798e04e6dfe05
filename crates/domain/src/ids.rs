//! Typed identifiers. Ids are UUIDv7 (time-ordered) kept as text, so rows need no engine-specific
//! auto-increment and ids can be made before the row is written (e.g. inside an outbox payload).
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            /// Wraps an id read back from storage or a URL.
            pub fn from_raw(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(
    /// An enterprise (法人) registered with Tongban.
    EnterpriseId
);
typed_id!(
    /// A bureau officer account.
    OfficerId
);
typed_id!(
    /// A durable job row.
    JobId
);
typed_id!(
    /// A login session.
    SessionId
);
