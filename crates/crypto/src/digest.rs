use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sm3::Digest as _;

/// A 32-byte SM3 digest (GB/T 32905-2016), shown as 64 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Sm3Digest([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("不是有效的SM3摘要（应为64位十六进制字符）")]
pub struct DigestParseError;

impl Sm3Digest {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The SM3 digest of `data`.
pub fn sm3(data: &[u8]) -> Sm3Digest {
    Sm3Digest(sm3::Sm3::digest(data).into())
}

/// Incremental SM3, for content that arrives in chunks (uploads, streamed objects).
#[derive(Default, Clone)]
pub struct Sm3Hasher(sm3::Sm3);

impl Sm3Hasher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finish(self) -> Sm3Digest {
        Sm3Digest(self.0.finalize().into())
    }
}

impl fmt::Display for Sm3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sm3Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm3Digest({})", self.to_hex())
    }
}

impl FromStr for Sm3Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(DigestParseError);
        }
        hex::decode_to_slice(s, &mut out).map_err(|_| DigestParseError)?;
        Ok(Self(out))
    }
}

impl TryFrom<String> for Sm3Digest {
    type Error = DigestParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Sm3Digest> for String {
    fn from(d: Sm3Digest) -> String {
        d.to_hex()
    }
}

/// HMAC-SM3 (RFC 2104 over SM3) of `message` under `key`: how the 固废链's applications sign
/// their calls with the secret they were issued.
pub fn hmac_sm3(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sm3::Sm3> as hmac::Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Whether `tag` is `hmac_sm3(key, message)`, compared in constant time.
pub fn verify_hmac_sm3(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sm3::Sm3> as hmac::Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // GB/T 32905-2016 appendix A, example 1 and example 2.
    #[test]
    fn matches_the_standard_test_vectors() {
        assert_eq!(
            sm3(b"abc").to_hex(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        let long = b"abcd".repeat(16);
        assert_eq!(
            sm3(&long).to_hex(),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn incremental_equals_one_shot_and_hex_round_trips() {
        let mut h = Sm3Hasher::new();
        h.update(b"ab");
        h.update(b"c");
        let d = h.finish();
        assert_eq!(d, sm3(b"abc"));
        assert_eq!(d.to_hex().parse::<Sm3Digest>().unwrap(), d);
        assert!("xyz".parse::<Sm3Digest>().is_err());
        assert!(d.to_hex().to_uppercase().parse::<Sm3Digest>().is_err());
    }
}
