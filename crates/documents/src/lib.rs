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
#[cfg(feature = "testing")]
pub mod testing;
mod world;

pub use kinds::{
    DocumentKind, Field, FormDocument, Letter, Licence, Section, SignatureBox, Stamp, StampKind,
    Table,
};
pub use render::{RenderError, Rendered, Renderer, Slot};
pub use world::Template;

/// Why a document could not be produced or signed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Sign(#[from] signature::SignError),
    #[error(transparent)]
    Qr(#[from] qr::QrError),
}

/// Draws the signer's mark (a round seal, or a boxed name) in `slot` and signs the PDF.
pub fn sign_in_slot(
    renderer: &Renderer,
    pdf: &[u8],
    slot: &Slot,
    signer: &signature::Signer,
    kind: StampKind,
    line: &str,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Vec<u8>, DocumentError> {
    let prepared = prepare_in_slot(renderer, pdf, slot, &signer.info(), kind, line, at)?;
    let signature = signer.key.sign(prepared.digest().as_bytes());
    Ok(prepared.finish(&signer.key.public_key(), &signature)?)
}

/// Draws the signer's mark in `slot` and prepares the signature for a key held elsewhere.
pub fn prepare_in_slot(
    renderer: &Renderer,
    pdf: &[u8],
    slot: &Slot,
    signer: &signature::SignerInfo,
    kind: StampKind,
    line: &str,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<signature::Prepared, DocumentError> {
    let stamp = Stamp {
        kind,
        name: signer.name.clone(),
        line: line.to_string(),
        width: slot.width,
        height: slot.height,
    };
    let stamp = renderer.render(Template::Stamp, &stamp, None)?;
    let mark = signature::Mark {
        slot,
        stamp_pdf: &stamp.pdf,
    };
    Ok(signature::prepare(pdf, signer, Some(&mark), at)?)
}
