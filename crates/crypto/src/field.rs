//! Encryption of sensitive stored fields (ID numbers, phone numbers) with SM4 in GCM mode
//! (RFC 8998), so the database file and its dumps never hold them in the clear.
//!
//! Stored form: `sm4gcm:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The field's name is the
//! associated data, so a value copied into another column does not decrypt. Several keys may be
//! known at once; new values use the active one, and `needs_rotation` tells which stored values
//! to re-encrypt after the active key changes. Equality lookups (log in by phone number) use a
//! blind index: HMAC-SM3 of the normalised value under a separate key.
use std::collections::BTreeMap;

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;

use crate::CryptoError;

type Sm4Gcm = AesGcm<crate::sm4::Sm4, U12>;
const PREFIX: &str = "sm4gcm";

/// The keys for stored fields.
#[derive(Clone)]
pub struct FieldCipher {
    keys: BTreeMap<String, Sm4Gcm>,
    active: String,
    index_key: [u8; 16],
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("FieldCipher")
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

/// 16 random bytes as 32 hex characters: a new key for configuration.
pub fn new_key_hex() -> String {
    let mut key = [0u8; 16];
    rand::RngCore::fill_bytes(&mut OsRng, &mut key);
    hex::encode(key)
}

fn parse_key(id: &str, hex_key: &str) -> Result<[u8; 16], CryptoError> {
    let mut key = [0u8; 16];
    hex::decode_to_slice(hex_key.trim(), &mut key)
        .map_err(|_| CryptoError::KeyConfig(format!("密钥 {id} 应为32位十六进制字符")))?;
    Ok(key)
}

impl FieldCipher {
    /// `keys`: key id → 32 hex characters; `active`: the id new values use; `index_key`: 32 hex.
    pub fn new(
        keys: &BTreeMap<String, String>,
        active: &str,
        index_key: &str,
    ) -> Result<Self, CryptoError> {
        let mut ciphers = BTreeMap::new();
        for (id, hex_key) in keys {
            if id.is_empty() || id.contains(':') {
                return Err(CryptoError::KeyConfig(format!("密钥编号 {id:?} 无效")));
            }
            let key = parse_key(id, hex_key)?;
            ciphers.insert(id.clone(), Sm4Gcm::new(&key.into()));
        }
        if !ciphers.contains_key(active) {
            return Err(CryptoError::KeyConfig(format!(
                "当前密钥 {active:?} 未配置"
            )));
        }
        Ok(Self {
            keys: ciphers,
            active: active.to_string(),
            index_key: parse_key("index", index_key)?,
        })
    }

    /// Encrypts `value` of the field `field` (e.g. "individual.phone") under the active key.
    pub fn seal(&self, field: &str, value: &str) -> String {
        let cipher = &self.keys[&self.active];
        let mut nonce = [0u8; 12];
        rand::RngCore::fill_bytes(&mut OsRng, &mut nonce);
        let ct = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: value.as_bytes(),
                    aad: field.as_bytes(),
                },
            )
            .expect("GCM encryption of a short field cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend(ct);
        format!("{PREFIX}:{}:{}", self.active, URL_SAFE_NO_PAD.encode(blob))
    }

    /// Decrypts a value sealed for `field` by any configured key.
    pub fn open(&self, field: &str, sealed: &str) -> Result<String, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Undecryptable);
        };
        let cipher = self
            .keys
            .get(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Undecryptable)?;
        if blob.len() < 12 + 16 {
            return Err(CryptoError::Undecryptable);
        }
        let (nonce, ct) = blob.split_at(12);
        let plain = cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: ct,
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Undecryptable)
    }

    /// Whether `sealed` was made with a key other than the active one.
    pub fn needs_rotation(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1) != Some(self.active.as_str())
    }

    /// A deterministic, keyed digest of `value` for equality lookups (hex HMAC-SM3).
    pub fn blind_index(&self, field: &str, value: &str) -> String {
        let mut mac = <Hmac<sm3::Sm3> as Mac>::new_from_slice(&self.index_key)
            .expect("HMAC takes any key length");
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(keys: &[(&str, &str)], active: &str) -> FieldCipher {
        let keys = keys
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FieldCipher::new(&keys, active, "000102030405060708090a0b0c0d0e0f").unwrap()
    }

    const K1: &str = "0123456789abcdeffedcba9876543210";
    const K2: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0f";

    // RFC 8998 appendix A.1 (SM4-GCM).
    #[test]
    fn matches_the_rfc_8998_test_vector() {
        let c = Sm4Gcm::new(&parse_key("t", K1).unwrap().into());
        let iv = hex::decode("00001234567800000000ABCD").unwrap();
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let pt = hex::decode("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA").unwrap();
        let out = c
            .encrypt(
                iv.as_slice().into(),
                Payload {
                    msg: &pt,
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(
            hex::encode_upper(&out),
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D83DE3541E4C2B58177E065A9BF7B62EC"
        );
    }

    /// Values sealed while the field cipher used RustCrypto's `sm4` still open.
    #[test]
    fn opens_values_sealed_with_rustcrypto_sm4() {
        let before = AesGcm::<sm4::Sm4, U12>::new(&parse_key("t", K1).unwrap().into());
        let nonce = [3u8; 12];
        let payload = Payload {
            msg: b"13812345678",
            aad: b"individual.phone",
        };
        let ct = before.encrypt((&nonce).into(), payload).unwrap();
        let sealed = format!(
            "sm4gcm:k1:{}",
            URL_SAFE_NO_PAD.encode([&nonce[..], &ct].concat())
        );
        let c = cipher(&[("k1", K1)], "k1");
        assert_eq!(c.open("individual.phone", &sealed).unwrap(), "13812345678");
    }

    #[test]
    fn seals_opens_and_hides_the_value() {
        let c = cipher(&[("k1", K1)], "k1");
        let sealed = c.seal("individual.phone", "13812345678");
        assert!(sealed.starts_with("sm4gcm:k1:"));
        assert!(!sealed.contains("13812345678"));
        assert_ne!(
            sealed,
            c.seal("individual.phone", "13812345678"),
            "a fresh nonce each time"
        );
        assert_eq!(c.open("individual.phone", &sealed).unwrap(), "13812345678");
        assert!(
            matches!(
                c.open("individual.id_number", &sealed),
                Err(CryptoError::Undecryptable)
            ),
            "bound to its field"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(c.open("individual.phone", &tampered).is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = cipher(&[("k1", K1)], "k1");
        let sealed = old.seal("individual.phone", "13900001111");
        let rotated = cipher(&[("k1", K1), ("k2", K2)], "k2");
        assert!(rotated.needs_rotation(&sealed));
        assert_eq!(
            rotated.open("individual.phone", &sealed).unwrap(),
            "13900001111"
        );
        let resealed = rotated.seal("individual.phone", "13900001111");
        assert!(!rotated.needs_rotation(&resealed));
        let retired = cipher(&[("k2", K2)], "k2");
        assert!(
            matches!(retired.open("individual.phone", &sealed), Err(CryptoError::UnknownKey(k)) if k == "k1")
        );
    }

    #[test]
    fn blind_index_is_stable_keyed_and_per_field() {
        let c = cipher(&[("k1", K1)], "k1");
        assert_eq!(
            c.blind_index("phone", "13812345678"),
            c.blind_index("phone", "13812345678")
        );
        assert_ne!(
            c.blind_index("phone", "13812345678"),
            c.blind_index("id_number", "13812345678")
        );
        let other =
            FieldCipher::new(&[("k1".to_string(), K1.to_string())].into(), "k1", K2).unwrap();
        assert_ne!(
            c.blind_index("phone", "13812345678"),
            other.blind_index("phone", "13812345678")
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        let keys: BTreeMap<String, String> = [("k1".to_string(), "abc".to_string())].into();
        assert!(FieldCipher::new(&keys, "k1", K1).is_err());
        let keys: BTreeMap<String, String> = [("k1".to_string(), K1.to_string())].into();
        assert!(FieldCipher::new(&keys, "k9", K1).is_err());
        assert!(!format!("{:?}", cipher(&[("k1", K1)], "k1")).contains(K1));
    }
}
