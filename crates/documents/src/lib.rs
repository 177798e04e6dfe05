//! Official documents: reports, application forms, notices, decisions, licences and
//! certificates rendered to PDF with embedded Chinese fonts (typst as a library), signed QR
//! codes that verify offline, and SM2 signatures and seals inside the PDF.
#![forbid(unsafe_code)]

pub mod fonts;
pub mod kinds;
pub mod qr;
mod render;
pub mod samples;
pub mod signature;
mod world;

pub use kinds::{
    DocumentKind, Field, FormDocument, Letter, Licence, Section, SignatureBox, Stamp, StampKind,
    Table,
};
pub use render::{RenderError, Rendered, Renderer, Slot};
pub use world::Template;
