//! SM2 signatures (GB/T 32918.2) with the standard user id, keys as PKCS#8 / SubjectPublicKeyInfo
//! PEM and signatures as DER: the forms OpenSSL 3 and the 一证通 tool chain exchange.
use std::sync::LazyLock;

use sm2::dsa::signature::Signer;
use sm2::dsa::{Signature, SigningKey};
use sm2::elliptic_curve::ops::{MulByGeneratorVartime, Reduce};
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::{Generate, Group};
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm2::{FieldBytes, NonZeroScalar, ProjectivePoint, PublicKey, Scalar, SecretKey};
use sm3::{Digest, Sm3};

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
        // A non-zero scalar drawn from the OS generator (zero is rejected and drawn again).
        Self::from_secret(NonZeroScalar::generate().into()).expect("a random key is valid")
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
        der_encode(&sig.to_bytes().into())
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
    ///
    /// GB/T 32918.2 §7.1 on the library's arithmetic rather than `VerifyingKey::verify`, which
    /// computes s'G + t·P in constant time. Every input of a verification is public, and the
    /// variable-time multiplication (wNAF) is about 1.4× faster: that is what puts verification
    /// ahead of OpenSSL's (`bench/run crypto`).
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> Result<(), CryptoError> {
        let bad = CryptoError::BadSignature;
        // B1, B2: r', s' in [1, n-1], checked as the signature is parsed.
        let sig = Signature::from_slice(&der_decode(der_signature)?).map_err(|_| bad.clone())?;
        let (r, s) = sig.split_scalars();
        // B3, B4: e' = SM3(ZA ‖ M').
        let e = Scalar::reduce(&FieldBytes::from(<[u8; 32]>::from(
            Sm3::new_with_prefix(self.za())
                .chain_update(message)
                .finalize(),
        )));
        // B5: t = r' + s' mod n, not zero.
        let t = *r + *s;
        if bool::from(t.is_zero()) {
            return Err(bad);
        }
        // B6: (x1', y1') = s'G + t·P, not the point at infinity.
        let point =
            ProjectivePoint::mul_by_generator_and_mul_add_vartime(&s, &t, &self.0.to_projective());
        if bool::from(point.is_identity()) {
            return Err(bad);
        }
        // B7: R = e' + x1' mod n must equal r'.
        if e + Scalar::reduce(&point.to_affine().x()) == *r {
            Ok(())
        } else {
            Err(bad)
        }
    }

    /// ZA = SM3(ENTLA ‖ IDA ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) for the default user id.
    fn za(&self) -> [u8; 32] {
        static PREFIX: LazyLock<Sm3> = LazyLock::new(|| {
            let mut h = Sm3::new();
            h.update(((DEFAULT_ID.len() * 8) as u16).to_be_bytes());
            h.update(DEFAULT_ID);
            h.update(hex::decode(CURVE).expect("valid hex"));
            h
        });
        let point = self.0.to_sec1_bytes(); // 04 ‖ xA ‖ yA
        PREFIX.clone().chain_update(&point[1..]).finalize().into()
    }
}

/// a ‖ b ‖ xG ‖ yG of the SM2 curve (GB/T 32918.5), hashed into every ZA.
const CURVE: &str = concat!(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
);

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
    fn verification_agrees_with_the_library() {
        use sm2::dsa::VerifyingKey;
        use sm2::dsa::signature::Verifier;
        let generator = PublicKey::from_affine(ProjectivePoint::generator().to_affine()).unwrap();
        assert!(CURVE.eq_ignore_ascii_case(&format!(
            "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC\
             28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93{}",
            hex::encode(&generator.to_sec1_bytes()[1..])
        )));
        let library = |key: &Sm2PublicKey, message: &[u8], der: &[u8]| {
            let sig = Signature::from_slice(&der_decode(der).unwrap());
            let key = VerifyingKey::new(DEFAULT_ID, key.0).unwrap();
            sig.is_ok_and(|sig| key.verify(message, &sig).is_ok())
        };
        let other = Sm2KeyPair::generate().public_key();
        for i in 0..16u8 {
            let key = Sm2KeyPair::generate();
            let public = key.public_key();
            let message = vec![i; 3 * i as usize];
            let sig = key.sign(&message);
            let mut raw = der_decode(&sig).unwrap();
            raw[usize::from(i) * 4 % 64] ^= 1 << (i % 8);
            let altered = der_encode(&raw);
            for (k, m, s, expected) in [
                (&public, &message[..], &sig, true),
                (&public, b"another message", &sig, false),
                (&public, &message[..], &altered, false),
                (&other, &message[..], &sig, false),
            ] {
                assert_eq!(k.verify(m, s).is_ok(), expected);
                assert_eq!(library(k, m, s), expected);
            }
        }
        // r' + s' = n: refused (B5), not a panic.
        let mut raw = [0u8; 64];
        raw[31] = 1;
        raw[32..].copy_from_slice(
            &hex::decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122")
                .unwrap(),
        );
        assert!(other.verify(b"m", &der_encode(&raw)).is_err());
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
