//! For tests: a PDF's text as a reader sees it, through poppler's `pdftotext`, and its QR code
//! as a phone scans it, through poppler's `pdftoppm` and zbar's `zbarimg`.
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

/// What the QR code on the PDF's first page says, scanned from the page rendered at 200 dpi.
pub fn qr_of(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("the PDF is written");
    let rendered = Command::new("pdftoppm")
        .args(["-r", "200", "-f", "1", "-l", "1", "-png", "-singlefile"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (Debian poppler-utils) is needed for this test; .ci/run installs it");
    assert!(rendered.success(), "pdftoppm failed");
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "--oneshot"])
        .arg(dir.path().join("page.png"))
        .output()
        .expect("zbarimg (Debian zbar-tools) is needed for this test; .ci/run installs it");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
