//! The QR code on a licence or certificate: a compact payload signed with the bureau's SM2 key,
//! so anyone holding the public key checks it offline, inside the address of the page that
//! also shows the live status.
//!
//! Payload (then base64url without padding):
//! `version 1 | kind 1 | id 16 | issued day u32 | valid-until day u32 (0 = none) |
//!  holder len u8 + UTF-8 | fact count u8, each len u8 + UTF-8 | SM2 signature r‖s 64`,
//! days counted from 1970-01-01, integers big-endian; the signature covers everything before it.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use tongban_crypto::sm2::{der_decode, der_encode};
use tongban_crypto::{Sm2KeyPair, Sm2PublicKey};

use crate::kinds::DocumentKind;

const VERSION: u8 = 1;
const SIGNATURE_LEN: usize = 64;
/// Longest holder or fact, in bytes, so a code stays scannable.
const MAX_TEXT: usize = 120;
const MAX_FACTS: usize = 6;

/// What the QR code vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub kind: DocumentKind,
    /// The issued document's id (a UUID).
    pub id: uuid::Uuid,
    pub holder: String,
    /// Key facts in print order, e.g. the licence number and the holder's credit code.
    pub facts: Vec<String>,
    pub issued: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("二维码内容无法识别")]
    Malformed,
    #[error("二维码签名验证失败：内容被改动或并非本局签发")]
    BadSignature,
    #[error("二维码内容过长：{0}")]
    TooLong(&'static str),
}

fn days(date: NaiveDate) -> u32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    u32::try_from((date - epoch).num_days()).unwrap_or(0)
}

fn date_of(days: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_days(chrono::Days::new(days.into()))
}

fn push_text(out: &mut Vec<u8>, text: &str, what: &'static str) -> Result<(), QrError> {
    let bytes = text.as_bytes();
    if bytes.len() > MAX_TEXT {
        return Err(QrError::TooLong(what));
    }
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
    Ok(())
}

fn body(claims: &Claims) -> Result<Vec<u8>, QrError> {
    if claims.facts.len() > MAX_FACTS {
        return Err(QrError::TooLong("要素过多"));
    }
    let mut out = vec![VERSION, claims.kind.code()];
    out.extend_from_slice(claims.id.as_bytes());
    out.extend_from_slice(&days(claims.issued).to_be_bytes());
    out.extend_from_slice(&claims.valid_until.map(days).unwrap_or(0).to_be_bytes());
    push_text(&mut out, &claims.holder, "持证单位")?;
    out.push(claims.facts.len() as u8);
    for fact in &claims.facts {
        push_text(&mut out, fact, "证照要素")?;
    }
    Ok(out)
}

/// Signs `claims` and returns the payload text.
pub fn seal(claims: &Claims, key: &Sm2KeyPair) -> Result<String, QrError> {
    let mut bytes = body(claims)?;
    let signature = der_decode(&key.sign(&bytes)).map_err(|_| QrError::Malformed)?;
    bytes.extend_from_slice(&signature);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], QrError> {
        if self.0.len() < n {
            return Err(QrError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32, QrError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().map_err(|_| QrError::Malformed)?,
        ))
    }
    fn text(&mut self) -> Result<String, QrError> {
        let len = self.take(1)?[0] as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| QrError::Malformed)
    }
}

/// Checks the signature with only the public key and returns what the code vouches for.
pub fn open(payload: &str, key: &Sm2PublicKey) -> Result<Claims, QrError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim())
        .map_err(|_| QrError::Malformed)?;
    if bytes.len() < SIGNATURE_LEN + 2 {
        return Err(QrError::Malformed);
    }
    let (signed, signature) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    let raw: [u8; SIGNATURE_LEN] = signature.try_into().map_err(|_| QrError::Malformed)?;
    key.verify(signed, &der_encode(&raw))
        .map_err(|_| QrError::BadSignature)?;
    let mut r = Reader(signed);
    if r.take(1)?[0] != VERSION {
        return Err(QrError::Malformed);
    }
    let kind = DocumentKind::from_code(r.take(1)?[0]).ok_or(QrError::Malformed)?;
    let id = uuid::Uuid::from_slice(r.take(16)?).map_err(|_| QrError::Malformed)?;
    let issued = date_of(r.u32()?).ok_or(QrError::Malformed)?;
    let valid_until = match r.u32()? {
        0 => None,
        d => Some(date_of(d).ok_or(QrError::Malformed)?),
    };
    let holder = r.text()?;
    let count = r.take(1)?[0] as usize;
    let facts = (0..count).map(|_| r.text()).collect::<Result<_, _>>()?;
    if !r.0.is_empty() {
        return Err(QrError::Malformed);
    }
    Ok(Claims {
        kind,
        id,
        holder,
        facts,
        issued,
        valid_until,
    })
}

/// The verification address a code carries: `{base}/verify/{payload}`.
pub fn verify_url(base: &str, payload: &str) -> String {
    format!("{}/verify/{payload}", base.trim_end_matches('/'))
}

/// The payload inside a scanned verification address (or the payload itself).
pub fn payload_of(scanned: &str) -> &str {
    scanned.rsplit('/').next().unwrap_or(scanned)
}

/// The QR code for `text` as SVG, medium error correction (survives a smudge or a fold).
pub fn svg(text: &str) -> Result<String, QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| QrError::TooLong("二维码"))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .min_dimensions(240, 240)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            kind: DocumentKind::Licence,
            id: uuid::Uuid::now_v7(),
            holder: "上海浦东喆堃环保科技有限公司".into(),
            facts: vec!["沪环辐证〔00123〕".into(), "91310115MA1K4XXXX2".into()],
            issued: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2031, 11, 22),
        }
    }

    #[test]
    fn a_payload_verifies_offline_with_only_the_public_key() {
        let key = Sm2KeyPair::generate();
        let vouched = claims();
        let payload = seal(&vouched, &key).unwrap();
        // The verifier holds nothing but the published public key.
        let public = Sm2PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
        assert_eq!(open(&payload, &public).unwrap(), vouched);
    }

    #[test]
    fn changing_any_single_byte_fails_verification() {
        let key = Sm2KeyPair::generate();
        let payload = seal(&claims(), &key).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&payload).unwrap();
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 0x01;
            let result = open(&URL_SAFE_NO_PAD.encode(&changed), &key.public_key());
            assert!(result.is_err(), "byte {i} changed and still verified");
        }
    }

    #[test]
    fn another_key_does_not_verify() {
        let payload = seal(&claims(), &Sm2KeyPair::generate()).unwrap();
        assert_eq!(
            open(&payload, &Sm2KeyPair::generate().public_key()),
            Err(QrError::BadSignature)
        );
    }

    #[test]
    fn the_code_fits_a_scannable_version() {
        let key = Sm2KeyPair::generate();
        let url = verify_url(
            "https://tongban.sthj.sh.gov.cn",
            &seal(&claims(), &key).unwrap(),
        );
        let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
            .unwrap();
        assert!(
            matches!(code.version(), qrcode::Version::Normal(v) if v <= 15),
            "{:?}",
            code.version()
        );
        assert!(open(payload_of(&url), &key.public_key()).is_ok());
    }
}
