//! Signatures inside the PDF: the person signs first and the employer second, each mark drawn
//! in its place, and any change after signing is caught.
use std::process::Command;

use tongban_crypto::Sm2KeyPair;
use tongban_documents::signature::{self, Signer};
use tongban_documents::{Renderer, Slot, StampKind, Template, samples};

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-23T14:09:40+08:00").unwrap()
}

fn sign_as(
    renderer: &Renderer,
    pdf: &[u8],
    slots: &[Slot],
    key: &Sm2KeyPair,
    role: &str,
    name: &str,
    kind: StampKind,
) -> Vec<u8> {
    let slot = slots.iter().find(|s| s.role == role).unwrap();
    let signer = Signer {
        key,
        name: name.into(),
        role: role.into(),
        method: "数字证书".into(),
        certificate: None,
    };
    tongban_documents::sign_in_slot(renderer, pdf, slot, &signer, kind, "2026-11-23 14:09", at())
        .unwrap()
}

struct TwoSigned {
    unsigned: Vec<u8>,
    first: Vec<u8>,
    both: Vec<u8>,
    person: Sm2KeyPair,
    employer: Sm2KeyPair,
}

fn signed_in_order() -> TwoSigned {
    let renderer = Renderer::new();
    let form = renderer
        .render(Template::Form, &samples::application_form(), None)
        .unwrap();
    let (person, employer) = (Sm2KeyPair::generate(), Sm2KeyPair::generate());
    let first = sign_as(
        &renderer,
        &form.pdf,
        &form.slots,
        &person,
        "applicant",
        "王珺",
        StampKind::Signature,
    );
    let both = sign_as(
        &renderer,
        &first,
        &form.slots,
        &employer,
        "employer",
        "上海闵行区𡒄垚建设工程有限公司",
        StampKind::Seal,
    );
    TwoSigned {
        unsigned: form.pdf,
        first,
        both,
        person,
        employer,
    }
}

#[test]
fn two_parties_sign_in_order_and_both_signatures_hold() {
    let s = signed_in_order();
    assert!(
        s.both.starts_with(&s.first),
        "a later signature appends; it never rewrites"
    );
    let check = signature::verify(&s.both).unwrap();
    assert!(check.intact(), "{check:?}");
    let who: Vec<(&str, &str)> = check
        .signatures
        .iter()
        .map(|s| (s.role.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(
        who,
        [
            ("applicant", "王珺"),
            ("employer", "上海闵行区𡒄垚建设工程有限公司")
        ]
    );
    assert_eq!(check.signatures[0].public_key, s.person.public_key());
    assert_eq!(check.signatures[1].public_key, s.employer.public_key());
    assert_eq!(check.signatures[0].time, "2026-11-23 14:09:40");
    // The instant keeps its offset, so a certificate is checked at the right moment.
    assert_eq!(check.signatures[0].signed_at, Some(at()));
    // The person's signature covers exactly the file as the person signed it.
    assert_eq!(check.signatures[0].covers, s.first.len());
    assert_eq!(check.signatures[1].covers, s.both.len());
}

#[test]
fn an_unsigned_document_is_not_intact() {
    let s = signed_in_order();
    let check = signature::verify(&s.unsigned).unwrap();
    assert!(check.signatures.is_empty());
    assert!(!check.intact());
}

#[test]
fn changing_any_signed_byte_breaks_the_signature() {
    let s = signed_in_order();
    let check = signature::verify(&s.both).unwrap();
    let last = &check.signatures[1];
    // A byte in the body of the document (the person's part), and one in the employer's update.
    for at in [s.unsigned.len() / 2, s.first.len() + 10] {
        let mut altered = s.both.clone();
        altered[at] ^= 0x01;
        // Either it no longer verifies, or it is so damaged it is no longer a PDF: refused too.
        if let Ok(check) = signature::verify(&altered) {
            assert!(
                !check.intact(),
                "byte {at} changed and still intact: {check:?}"
            );
        }
    }
    assert!(last.valid);
}

#[test]
fn text_added_after_signing_is_reported_as_unsigned() {
    let s = signed_in_order();
    let mut altered = s.both.clone();
    altered.extend_from_slice(b"1 0 obj\n(changed after signing)\nendobj\n");
    let check = signature::verify(&altered).unwrap();
    assert!(check.signatures.iter().all(|s| s.valid));
    assert!(check.unsigned_tail > 0);
    assert!(!check.intact());
}

#[test]
fn a_forged_signature_value_fails() {
    let s = signed_in_order();
    let key = b"/Contents <";
    let at = s.both.windows(key.len()).rposition(|w| w == key).unwrap() + key.len() + 12;
    let mut forged = s.both.clone();
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let check = signature::verify(&forged).unwrap();
    assert!(!check.signatures[1].valid);
    assert!(
        check.signatures[0].valid,
        "the first signature does not cover the second"
    );
    assert!(!check.intact());
}

#[test]
fn poppler_reads_the_signed_file_and_draws_both_marks() {
    let s = signed_in_order();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &s.both).unwrap();
    let text = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    // The marks' own text (the person's name in the signature box, the seal's words) is on the
    // page as well as the form's.
    assert!(text.matches("王珺").count() >= 2, "{text}");
    assert!(text.contains("2026-11-23 14:09"), "{text}");
    let png = Command::new("pdftoppm")
        .args(["-r", "40", "-png", "-singlefile"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(
        png.status.success(),
        "{}",
        String::from_utf8_lossy(&png.stderr)
    );
    assert!(dir.path().join("page.png").exists());
}

#[test]
fn a_signing_time_in_another_offset_is_the_same_instant() {
    let renderer = Renderer::new();
    let rendered = renderer
        .render(Template::Form, &samples::application_form(), None)
        .unwrap();
    let key = Sm2KeyPair::generate();
    let signer = Signer {
        key: &key,
        name: "王珺".into(),
        role: "applicant".into(),
        method: "数字证书".into(),
        certificate: None,
    };
    let utc = at().with_timezone(&chrono::FixedOffset::east_opt(0).unwrap());
    let signed = signature::sign(&rendered.pdf, &signer, None, utc).unwrap();
    let check = signature::verify(&signed).unwrap();
    assert_eq!(
        check.signatures[0].time, "2026-11-23 06:09:40",
        "as the clock wrote it"
    );
    assert_eq!(
        check.signatures[0].signed_at,
        Some(at()),
        "the same instant"
    );
}
