//! SM2 signatures (GB/T 32918.2) with the standard user id, keys as PKCS#8 / SubjectPublicKeyInfo
//! PEM and signatures as DER: the forms OpenSSL 3 and the 一证通 tool chain exchange.
use rand::rngs::OsRng;
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm2::{PublicKey, SecretKey};

use crate::CryptoError;

/// The default signer id of GM/T 0009, hashed into the ZA value of every signature.
pub const DEFAULT_ID: &str = "1234567812345678";

/// A private signing key.
#[derive(Clone)]
pub struct Sm2KeyPair {
    secret: SecretKey,
    signing: SigningKey,
}

/// A public verification key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sm2PublicKey(PublicKey);

impl Sm2KeyPair {
    pub fn generate() -> Self {
        Self::from_secret(SecretKey::random(&mut OsRng)).expect("a random key is valid")
    }

    fn from_secret(secret: SecretKey) -> Result<Self, CryptoError> {
        let signing = SigningKey::new(DEFAULT_ID, &secret).map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self { secret, signing })
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey -algorithm SM2` writes.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        Self::from_secret(SecretKey::from_pkcs8_pem(pem).map_err(|_| CryptoError::InvalidKey)?)
    }

    pub fn to_pkcs8_pem(&self) -> String {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an SM2 key encodes")
            .to_string()
    }

    pub fn public_key(&self) -> Sm2PublicKey {
        Sm2PublicKey(self.secret.public_key())
    }

    /// Signs `message` (ZA ‖ message, hashed with SM3 inside) and returns the DER signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let sig: Signature = self.signing.sign(message);
        der_encode(&sig.to_bytes())
    }
}

impl Sm2PublicKey {
    /// Reads a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        PublicKey::from_public_key_pem(pem)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .expect("an SM2 public key encodes")
    }

    /// The SubjectPublicKeyInfo in DER, as a certificate carries it.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.0
            .to_public_key_der()
            .expect("an SM2 public key encodes")
            .into_vec()
    }

    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        PublicKey::from_public_key_der(der)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// The uncompressed point 04 ‖ x ‖ y.
    pub fn to_sec1(&self) -> Vec<u8> {
        self.0.to_sec1_bytes().to_vec()
    }

    pub fn from_sec1(bytes: &[u8]) -> Result<Self, CryptoError> {
        PublicKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// Checks a DER signature over `message` made with the default user id.
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> Result<(), CryptoError> {
        let raw = der_decode(der_signature)?;
        let sig = Signature::from_bytes(&raw).map_err(|_| CryptoError::BadSignature)?;
        let key = VerifyingKey::new(DEFAULT_ID, self.0).map_err(|_| CryptoError::InvalidKey)?;
        key.verify(message, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// r ‖ s (32 bytes each) as DER `SEQUENCE { INTEGER r, INTEGER s }`.
pub fn der_encode(raw: &[u8; 64]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, bytes: &[u8]) {
        let start = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        let trimmed = &bytes[start..];
        let pad = trimmed[0] & 0x80 != 0;
        out.push(0x02);
        out.push((trimmed.len() + pad as usize) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(trimmed);
    }
    let mut body = Vec::with_capacity(70);
    integer(&mut body, &raw[..32]);
    integer(&mut body, &raw[32..]);
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// Strict DER decoding of an SM2 signature into r ‖ s; anything non-canonical is refused.
pub fn der_decode(der: &[u8]) -> Result<[u8; 64], CryptoError> {
    let bad = CryptoError::BadSignature;
    let [0x30, len, body @ ..] = der else {
        return Err(bad);
    };
    if *len as usize != body.len() || *len >= 0x80 {
        return Err(bad);
    }
    let mut out = [0u8; 64];
    let mut rest = body;
    for half in out.chunks_mut(32) {
        let [0x02, n, tail @ ..] = rest else {
            return Err(bad);
        };
        let n = *n as usize;
        if n == 0 || n > 33 || tail.len() < n {
            return Err(bad);
        }
        let (value, next) = tail.split_at(n);
        // Non-negative and minimal: a leading zero only where the next byte has its top bit set.
        if value[0] & 0x80 != 0 || (n > 1 && value[0] == 0 && value[1] & 0x80 == 0) {
            return Err(bad);
        }
        let value = if value[0] == 0 && n > 1 {
            &value[1..]
        } else {
            value
        };
        if value.len() > 32 {
            return Err(bad);
        }
        half[32 - value.len()..].copy_from_slice(value);
        rest = next;
    }
    if !rest.is_empty() {
        return Err(bad);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_rejects_changes() {
        let key = Sm2KeyPair::generate();
        let sig = key.sign("沪环辐证[00123]".as_bytes());
        let public = key.public_key();
        public.verify("沪环辐证[00123]".as_bytes(), &sig).unwrap();
        assert!(public.verify("沪环辐证[00124]".as_bytes(), &sig).is_err());
        let other = Sm2KeyPair::generate().public_key();
        assert!(other.verify("沪环辐证[00123]".as_bytes(), &sig).is_err());
    }

    #[test]
    fn keys_round_trip_through_pem_and_sec1() {
        let key = Sm2KeyPair::generate();
        let again = Sm2KeyPair::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public = Sm2PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
        assert_eq!(public, key.public_key());
        assert_eq!(Sm2PublicKey::from_sec1(&public.to_sec1()).unwrap(), public);
        assert!(
            Sm2PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .is_err()
        );
    }

    #[test]
    fn der_is_canonical_both_ways() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80; // r needs a sign byte
        raw[63] = 0x01; // s is tiny
        let der = der_encode(&raw);
        assert_eq!(&der[..4], &[0x30, 0x26, 0x02, 0x21]);
        assert_eq!(der_decode(&der).unwrap(), raw);
        // A redundant leading zero, a negative integer, trailing bytes: all refused.
        assert!(der_decode(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]).is_err());
        assert!(der_decode(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]).is_err());
        assert!(der_decode(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]).is_err());
        assert!(der_decode(&[]).is_err());
    }
}
