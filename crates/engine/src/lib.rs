//! The service-item engine. Every online service is an item spec (TOML, see `spec.rs`) loaded
//! into a checked [`Item`]: the same item renders the form, validates what comes back, and (with
//! the documents crate) produces the ledger templates and the PDF. No HTTP, no SQL.
#![forbid(unsafe_code)]

pub mod case;
pub mod condition;
pub mod item;
pub mod materials;
pub mod prefill;
pub mod rules;
pub mod spec;
pub mod validate;
pub mod values;
pub mod workflow;

pub use item::{
    Catalogue, Field, FieldKind, Item, Ledger, Material, Section, Signing, SpecError, Step,
};
pub use rules::RuleRegistry;
pub use spec::SigningParty;
pub use validate::Problem;
pub use values::{FormData, Value};
