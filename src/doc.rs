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
    let mut trusted = true;
    for (i, s) in check.signatures.iter().enumerate() {
        let trust = issuing::trust_of(s, &keys.seal.public_key(), &keys.ca);
        trusted &= trust != issuing::Trust::Unknown;
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
    if check.signatures.is_empty() {
        anyhow::bail!("文件中没有电子签章");
    }
    if check.unsigned_tail > 0 {
        anyhow::bail!(
            "文件在最后一次签章后被改动过（{} 字节不受签章保护）",
            check.unsigned_tail
        );
    }
    if !check.intact() {
        anyhow::bail!("签章无效：文件在签章后被改动过");
    }
    if !trusted {
        anyhow::bail!("签章完整，但有签名者身份无法确认");
    }
    println!("文件完整，全部签章有效。");
    Ok(())
}
