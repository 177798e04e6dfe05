//! SM2 certificates: X.509 v3 signed with SM2-with-SM3 (OID 1.2.156.10197.1.501) by the Tongban
//! CA, standing in for the 一证通 CA. An enterprise certificate names the enterprise (O, CN) and
//! carries its unified social credit code in the subject's serialNumber attribute; an officer
//! certificate carries the username in UID. OpenSSL reads and verifies what this module issues.
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use der::asn1::BitString;
use der::{Decode, DecodePem, Encode, EncodePem};
use x509_cert::Certificate;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use crate::{CryptoError, Sm2KeyPair, Sm2PublicKey};

/// SM2 signature with SM3 (GM/T 0006).
pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
const SERIAL_NUMBER_ATTR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const UID_ATTR: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");
/// X.520 pseudonym: an individual's account id, never the ID-card number.
const PSEUDONYM_ATTR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.65");

/// Whom a certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Enterprise {
        name: String,
        credit_code: String,
    },
    Officer {
        name: String,
        username: String,
    },
    /// A person confirmed by SMS code: an event certificate for one signature (事件型证书).
    Individual {
        name: String,
        account: String,
    },
}

/// What a certificate says, read back and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Hex, upper case, as OpenSSL prints it.
    pub serial: String,
    pub holder: Holder,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub public_key: Sm2PublicKey,
}

/// The certificate authority: its key and its self-signed certificate.
pub struct Ca {
    key: Sm2KeyPair,
    cert: Certificate,
}

fn algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SM2_WITH_SM3,
        parameters: None,
    }
}

fn escape(value: &str) -> String {
    // RFC 4514: characters with meaning in a distinguished name are escaped.
    let mut out = String::new();
    for c in value.chars() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn name_of(holder: &Holder) -> Result<Name, CryptoError> {
    let rdn = match holder {
        Holder::Enterprise { name, credit_code } => {
            format!(
                "{SERIAL_NUMBER_ATTR}={},CN={},O={},C=CN",
                escape(credit_code),
                escape(name),
                escape(name)
            )
        }
        Holder::Officer { name, username } => {
            format!("{UID_ATTR}={},CN={},C=CN", escape(username), escape(name))
        }
        Holder::Individual { name, account } => {
            format!(
                "{PSEUDONYM_ATTR}={},CN={},C=CN",
                escape(account),
                escape(name)
            )
        }
    };
    Name::from_str(&rdn).map_err(|e| CryptoError::Certificate(format!("名称无效：{e}")))
}

fn random_serial() -> Result<SerialNumber, CryptoError> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x10; // no leading zero byte to trim
    SerialNumber::new(&bytes).map_err(|e| CryptoError::Certificate(e.to_string()))
}

fn der_err(e: der::Error) -> CryptoError {
    CryptoError::Certificate(e.to_string())
}

fn extension<E: AsExtension>(ext: E, subject: &Name) -> Result<Extension, CryptoError> {
    ext.to_extension(subject, &[]).map_err(der_err)
}

fn build(
    signer: &Sm2KeyPair,
    issuer: Name,
    subject: Name,
    subject_key: &Sm2PublicKey,
    valid_for: Duration,
    ca: bool,
) -> Result<Certificate, CryptoError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(&subject_key.to_spki_der()).map_err(der_err)?;
    let now = SystemTime::now();
    let validity = Validity {
        not_before: Time::try_from(now - Duration::from_secs(300)).map_err(der_err)?,
        not_after: Time::try_from(now + valid_for).map_err(der_err)?,
    };
    let usage = if ca {
        KeyUsages::KeyCertSign | KeyUsages::CRLSign
    } else {
        KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
    };
    let extensions = vec![
        extension(
            BasicConstraints {
                ca,
                path_len_constraint: if ca { Some(0) } else { None },
            },
            &subject,
        )?,
        extension(KeyUsage(usage), &subject)?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial()?,
        signature: algorithm(),
        issuer,
        validity,
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signature = signer.sign(&tbs.to_der().map_err(der_err)?);
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm(),
        signature: BitString::from_bytes(&signature).map_err(der_err)?,
    })
}

impl Ca {
    /// A new CA with a fresh key and a self-signed certificate valid for `valid_for`.
    pub fn create(name: &str, valid_for: Duration) -> Result<Ca, CryptoError> {
        let key = Sm2KeyPair::generate();
        let subject = Name::from_str(&format!("CN={},O={},C=CN", escape(name), escape(name)))
            .map_err(der_err)?;
        let cert = build(
            &key,
            subject.clone(),
            subject,
            &key.public_key(),
            valid_for,
            true,
        )?;
        Ok(Ca { key, cert })
    }

    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca, CryptoError> {
        let cert = Certificate::from_pem(cert_pem).map_err(der_err)?;
        let key = Sm2KeyPair::from_pkcs8_pem(key_pem)?;
        if public_key_of(&cert)? != key.public_key() {
            return Err(CryptoError::Certificate("CA证书与私钥不匹配".into()));
        }
        Ok(Ca { key, cert })
    }

    pub fn cert_pem(&self) -> String {
        self.cert
            .to_pem(der::pem::LineEnding::LF)
            .expect("a certificate encodes")
    }

    pub fn key_pem(&self) -> String {
        self.key.to_pkcs8_pem()
    }

    pub fn public_key(&self) -> Sm2PublicKey {
        self.key.public_key()
    }

    /// Issues a certificate for `holder`'s public key; returns it as PEM.
    pub fn issue(
        &self,
        holder: &Holder,
        key: &Sm2PublicKey,
        valid_for: Duration,
    ) -> Result<String, CryptoError> {
        let issuer = self.cert.tbs_certificate.subject.clone();
        let cert = build(&self.key, issuer, name_of(holder)?, key, valid_for, false)?;
        Ok(cert
            .to_pem(der::pem::LineEnding::LF)
            .expect("a certificate encodes"))
    }

    /// Reads `pem`, checks that this CA signed it and that it is valid at `at`, and says what it certifies.
    pub fn verify(&self, pem: &str, at: SystemTime) -> Result<CertInfo, CryptoError> {
        let cert = Certificate::from_pem(pem.trim())
            .map_err(|_| CryptoError::Certificate("证书格式无效".into()))?;
        if cert.signature_algorithm.oid != SM2_WITH_SM3
            || cert.tbs_certificate.signature.oid != SM2_WITH_SM3
        {
            return Err(CryptoError::Certificate("证书不是SM2/SM3签名证书".into()));
        }
        if cert.tbs_certificate.issuer != self.cert.tbs_certificate.subject {
            return Err(CryptoError::Certificate(
                "证书不是本系统认可的机构签发的".into(),
            ));
        }
        let tbs = cert.tbs_certificate.to_der().map_err(der_err)?;
        let sig = cert.signature.as_bytes().ok_or(CryptoError::BadSignature)?;
        self.key
            .public_key()
            .verify(&tbs, sig)
            .map_err(|_| CryptoError::Certificate("证书签名验证失败".into()))?;
        let validity = &cert.tbs_certificate.validity;
        let (not_before, not_after) = (
            validity.not_before.to_system_time(),
            validity.not_after.to_system_time(),
        );
        if at < not_before || at > not_after {
            return Err(CryptoError::Certificate("证书不在有效期内".into()));
        }
        Ok(CertInfo {
            serial: hex::encode_upper(cert.tbs_certificate.serial_number.as_bytes()),
            holder: holder_of(&cert.tbs_certificate.subject)?,
            not_before,
            not_after,
            public_key: public_key_of(&cert)?,
        })
    }
}

fn public_key_of(cert: &Certificate) -> Result<Sm2PublicKey, CryptoError> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(der_err)?;
    Sm2PublicKey::from_spki_der(&spki)
}

fn holder_of(name: &Name) -> Result<Holder, CryptoError> {
    let mut cn = None;
    let mut serial = None;
    let mut uid = None;
    let mut pseudonym = None;
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            let value = x509_cert::der::asn1::Utf8StringRef::try_from(&atv.value)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    x509_cert::der::asn1::PrintableStringRef::try_from(&atv.value)
                        .map(|s| s.as_str().to_string())
                })
                .ok();
            match atv.oid {
                o if o == SERIAL_NUMBER_ATTR => serial = value,
                o if o == UID_ATTR => uid = value,
                o if o == PSEUDONYM_ATTR => pseudonym = value,
                o if o == ObjectIdentifier::new_unwrap("2.5.4.3") => cn = value,
                _ => {}
            }
        }
    }
    let name = cn.ok_or_else(|| CryptoError::Certificate("证书缺少名称".into()))?;
    match (serial, uid, pseudonym) {
        (Some(credit_code), None, None) => Ok(Holder::Enterprise { name, credit_code }),
        (None, Some(username), None) => Ok(Holder::Officer { name, username }),
        (None, None, Some(account)) => Ok(Holder::Individual { name, account }),
        _ => Err(CryptoError::Certificate("证书持有者信息不完整".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

    #[test]
    fn issues_and_verifies_an_enterprise_certificate() {
        let ca = Ca::create("通办测试CA", YEAR).unwrap();
        let key = Sm2KeyPair::generate();
        let holder = Holder::Enterprise {
            name: "上海喆玥环保科技有限公司".into(),
            credit_code: "91310115MA1K3YJ12G".into(),
        };
        let pem = ca.issue(&holder, &key.public_key(), YEAR).unwrap();
        let info = ca.verify(&pem, SystemTime::now()).unwrap();
        assert_eq!(info.holder, holder);
        assert_eq!(info.public_key, key.public_key());
        assert_eq!(info.serial.len(), 32);

        // Expired, or from another CA: refused.
        assert!(ca.verify(&pem, SystemTime::now() + 2 * YEAR).is_err());
        let other = Ca::create("通办测试CA", YEAR).unwrap();
        assert!(
            other.verify(&pem, SystemTime::now()).is_err(),
            "same name, different key"
        );
        // The CA survives a round trip through PEM.
        let again = Ca::from_pem(&ca.cert_pem(), &ca.key_pem()).unwrap();
        assert!(again.verify(&pem, SystemTime::now()).is_ok());
        assert!(Ca::from_pem(&ca.cert_pem(), &other.key_pem()).is_err());
    }

    #[test]
    fn officer_certificates_carry_the_username() {
        let ca = Ca::create("通办测试CA", YEAR).unwrap();
        let key = Sm2KeyPair::generate();
        let holder = Holder::Officer {
            name: "浦东审核员".into(),
            username: "pd.shencha".into(),
        };
        let pem = ca.issue(&holder, &key.public_key(), YEAR).unwrap();
        assert_eq!(ca.verify(&pem, SystemTime::now()).unwrap().holder, holder);
    }

    #[test]
    fn individual_certificates_carry_the_account_not_the_id_number() {
        let ca = Ca::create("通办测试CA", YEAR).unwrap();
        let key = Sm2KeyPair::generate();
        let holder = Holder::Individual {
            name: "王𡒄".into(),
            account: "0192f0aa-7c1e-7000-8000-000000000001".into(),
        };
        let pem = ca.issue(&holder, &key.public_key(), YEAR).unwrap();
        assert_eq!(ca.verify(&pem, SystemTime::now()).unwrap().holder, holder);
    }
}
