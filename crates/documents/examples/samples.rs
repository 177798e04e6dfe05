//! Renders one sample of each document kind into a folder, for eyes and for pdftoppm, plus a
//! sealed decision and an application form signed by the person and then the employer:
//! `cargo run -p tongban-documents --example samples -- target/samples`.
use tongban_crypto::Sm2KeyPair;
use tongban_documents::signature::{self, Signer};
use tongban_documents::{Renderer, StampKind};

fn sign(
    renderer: &Renderer,
    pdf: &[u8],
    slots: &[tongban_documents::Slot],
    role: &str,
    kind: StampKind,
    name: &str,
    line: &str,
) -> Vec<u8> {
    let slot = slots.iter().find(|s| s.role == role).expect("slot");
    let key = Sm2KeyPair::generate();
    let signer = Signer {
        key: &key,
        name: name.into(),
        role: role.into(),
        method: line.into(),
        certificate: None,
    };
    let at = chrono::Local::now().fixed_offset();
    tongban_documents::sign_in_slot(renderer, pdf, slot, &signer, kind, line, at).unwrap()
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("target/samples".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let renderer = Renderer::new();
    for (name, rendered) in tongban_documents::samples::all(&renderer) {
        let rendered = rendered.unwrap();
        std::fs::write(dir.join(format!("{name}.pdf")), &rendered.pdf).unwrap();
        println!(
            "{name}: {} pages, {} bytes",
            rendered.pages,
            rendered.pdf.len()
        );
        let signed = match name {
            "decision" | "licence" => sign(
                &renderer,
                &rendered.pdf,
                &rendered.slots,
                "issuer",
                StampKind::Seal,
                "上海市生态环境局",
                "电子印章",
            ),
            "application_form" => {
                let once = sign(
                    &renderer,
                    &rendered.pdf,
                    &rendered.slots,
                    "applicant",
                    StampKind::Signature,
                    "王珺",
                    "2026-11-23 14:09 短信验证码签名",
                );
                sign(
                    &renderer,
                    &once,
                    &rendered.slots,
                    "employer",
                    StampKind::Seal,
                    "上海闵行区𡒄垚建设工程有限公司",
                    "电子签章",
                )
            }
            _ => continue,
        };
        let check = signature::verify(&signed).unwrap();
        println!(
            "  signed: intact {} by {:?}",
            check.intact(),
            check
                .signatures
                .iter()
                .map(|s| (&s.name, s.valid))
                .collect::<Vec<_>>()
        );
        std::fs::write(dir.join(format!("{name}-signed.pdf")), &signed).unwrap();
    }
}
