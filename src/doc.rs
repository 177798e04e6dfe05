//! `tongban doc …`: check the signatures in a PDF, revoke an issued document.
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use tongban_cases::issuing;
use tongban_documents::signature;

use crate::config::Config;

#[derive(Subcommand)]
pub enum DocCommand {
    /// Check every signature and seal in a PDF and whether it changed after signing; exits
    /// non-zero unless the file is intact and every signer is the bureau or holds one of our
    /// certificates.
    Verify { file: PathBuf },
    /// Revoke an issued licence or certificate: its QR page says 已失效 from the next scan.
    Revoke {
        #[arg(long)]
        id: String,
        #[arg(long)]
        reason: String,
    },
}

pub async fn run(config: Config, command: DocCommand) -> anyhow::Result<()> {
    match command {
        DocCommand::Verify { file } => verify(&config, &file),
        DocCommand::Revoke { id, reason } => {
            let store = crate::open_store(&config).await?;
            let revoked = issuing::revoke(&store, id.trim(), &reason).await;
            store.close().await;
            if revoked? {
                println!("已撤销 {}：{}", id.trim(), reason.trim());
                Ok(())
            } else {
                anyhow::bail!("没有可撤销的文件 {}（不存在或已撤销）", id.trim())
            }
        }
    }
}

fn verify(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let pdf = std::fs::read(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let keys = crate::keys::load_or_create(&config.keys_dir())?;
    let check = signature::verify(&pdf).map_err(|e| anyhow::anyhow!("{}：{e}", file.display()))?;
    println!(
        "{}  SM3 {}",
        file.display(),
        tongban_crypto::sm3(&pdf).to_hex()
    );
    let trusts: Vec<issuing::Trust> = check
        .signatures
        .iter()
        .map(|s| issuing::trust_of(s, &keys.seal.public_key(), &keys.ca))
        .collect();
    for (i, (s, trust)) in check.signatures.iter().zip(&trusts).enumerate() {
        println!(
            "  {}. {}（{}）{}  {}  {}  {}",
            i + 1,
            s.name,
            s.role,
            s.time,
            s.method,
            trust.label(),
            if s.valid {
                "签名有效"
            } else {
                "签名无效"
            }
        );
    }
    let verdict = issuing::Verdict::of(&check, &trusts);
    if verdict != issuing::Verdict::Intact {
        anyhow::bail!("{}", verdict.message());
    }
    println!("{}", verdict.message());
    Ok(())
}
