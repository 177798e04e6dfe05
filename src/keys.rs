//! The keys Tongban runs with, kept in `keys_dir` (default `data/keys`), never in the repository:
//! - `ca.cert.pem`, `ca.key.pem`: the Tongban CA that issues SM2 certificates;
//! - `seal.key.pem`: the bureau's SM2 e-seal key, which signs licence QR codes and seals issued
//!   documents (its public key is served at `/verify/public-key.pem` for offline checks);
//! - `ledger.key.pem`: the 固废链's SM2 key, which signs its checkpoints (public at
//!   `/ledger/v1/public-key.pem`, and given to the provinces' witnesses);
//! - `fields.toml`: SM4 keys for sensitive stored fields (`keys = { id = "32 hex" }`, `active`,
//!   and `index` for the blind index). Add a key and make it active to rotate; keep the old ones
//!   as long as values sealed with them remain.
//!
//! Missing files are generated on first start, with owner-only permissions.
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tongban_crypto::FieldCipher;
use tongban_crypto::cert::Ca;

pub struct Keys {
    pub ca: Ca,
    pub fields: FieldCipher,
    pub seal: tongban_crypto::Sm2KeyPair,
    /// 固废链's checkpoint-signing key.
    pub ledger: tongban_crypto::Sm2KeyPair,
}

#[derive(Serialize, Deserialize)]
struct FieldKeys {
    active: String,
    index: String,
    keys: BTreeMap<String, String>,
}

fn write_secret(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("写入 {} 失败", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

pub fn load_or_create(dir: &Path) -> anyhow::Result<Keys> {
    std::fs::create_dir_all(dir).with_context(|| format!("创建密钥目录 {} 失败", dir.display()))?;
    let (cert, key) = (dir.join("ca.cert.pem"), dir.join("ca.key.pem"));
    let ca = if cert.exists() && key.exists() {
        Ca::from_pem(
            &std::fs::read_to_string(&cert)?,
            &std::fs::read_to_string(&key)?,
        )
        .with_context(|| format!("读取CA证书 {} 失败", cert.display()))?
    } else {
        let ca = Ca::create(
            "通办数字证书认证中心",
            Duration::from_secs(10 * 365 * 24 * 3600),
        )?;
        write_secret(&key, &ca.key_pem())?;
        std::fs::write(&cert, ca.cert_pem())?;
        tracing::warn!(dir = %dir.display(), "generated a new Tongban CA");
        ca
    };
    let fields_path = dir.join("fields.toml");
    let field_keys: FieldKeys = if fields_path.exists() {
        toml::from_str(&std::fs::read_to_string(&fields_path)?)
            .with_context(|| format!("{} 格式有误", fields_path.display()))?
    } else {
        let k = FieldKeys {
            active: "k1".into(),
            index: tongban_crypto::field::new_key_hex(),
            keys: [("k1".to_string(), tongban_crypto::field::new_key_hex())].into(),
        };
        write_secret(&fields_path, &toml::to_string(&k)?)?;
        tracing::warn!(dir = %dir.display(), "generated new field-encryption keys");
        k
    };
    let fields = FieldCipher::new(&field_keys.keys, &field_keys.active, &field_keys.index)
        .with_context(|| format!("{} 中的密钥有误", fields_path.display()))?;
    let seal = sm2_key(&dir.join("seal.key.pem"), "印章密钥")?;
    let ledger = sm2_key(&dir.join("ledger.key.pem"), "固废链签名密钥")?;
    Ok(Keys {
        ca,
        fields,
        seal,
        ledger,
    })
}

/// The SM2 key in `path` (PKCS#8 PEM), made and written there first if it is missing.
pub fn sm2_key(path: &Path, what: &str) -> anyhow::Result<tongban_crypto::Sm2KeyPair> {
    if path.exists() {
        return tongban_crypto::Sm2KeyPair::from_pkcs8_pem(&std::fs::read_to_string(path)?)
            .with_context(|| format!("{} 中的{what}有误", path.display()));
    }
    let key = tongban_crypto::Sm2KeyPair::generate();
    write_secret(path, &key.to_pkcs8_pem())?;
    tracing::warn!(path = %path.display(), "generated a new {what}");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_once_then_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let sealed = first.fields.seal("t", "13800000000");
        let second = load_or_create(dir.path()).unwrap();
        assert_eq!(second.ca.cert_pem(), first.ca.cert_pem());
        assert_eq!(second.fields.open("t", &sealed).unwrap(), "13800000000");
        // Licences sealed before a restart still verify after it.
        assert_eq!(second.seal.public_key(), first.seal.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in ["ca.key.pem", "seal.key.pem"] {
                let mode = std::fs::metadata(dir.path().join(key))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{key} is readable by its owner only");
            }
        }
    }
}
