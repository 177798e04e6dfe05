//! For tests: a PDF's text as a reader sees it, through poppler's `pdftotext`.
use std::process::Command;

/// The PDF's text as `pdftotext -layout` reads it, without the spaces layout mode pads with.
pub fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("the PDF is written");
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is needed for this test; .ci/run installs it");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("pdftotext prints UTF-8")
        .replace([' ', '\u{3000}'], "")
}
