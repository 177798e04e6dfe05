//! Commercial cryptography (商用密码) for Tongban: SM3 digests (addressing files, chaining the
//! audit log), SM2 signatures with the standard user id (logins, e-signatures, seals, signed
//! checkpoints), and SM4-GCM encryption of sensitive stored fields.
#![forbid(unsafe_code)]

pub mod cert;
mod digest;
pub mod field;
pub mod sm2;
pub mod sm4;

pub use digest::{Sm3Digest, Sm3Hasher, hmac_sm3, sm3, verify_hmac_sm3};
pub use field::FieldCipher;
pub use sm2::{Sm2KeyPair, Sm2PublicKey};

/// 32 bytes from the operating system's generator, as 64 hex characters: session secrets,
/// CSRF tokens, login challenges.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("密钥无效")]
    InvalidKey,
    #[error("签名验证失败")]
    BadSignature,
    #[error("密钥配置有误：{0}")]
    KeyConfig(String),
    #[error("加密字段使用的密钥 {0} 未配置")]
    UnknownKey(String),
    #[error("加密字段无法解密（已损坏或密钥不符）")]
    Undecryptable,
    #[error("证书无效：{0}")]
    Certificate(String),
}
