//! Enterprise identity (法人一证通, seed 001): certificate login by challenge and response, the
//! request to activate a primary certificate, and the rights of secondary certificates.
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::{FixedOffset, Utc};
use serde_json::json;
use tongban_crypto::cert::{Ca, Holder};
use tongban_crypto::{FieldCipher, Sm2PublicKey};
use tongban_domain::audit::AuditAction;

use crate::audit::entry;
use tongban_domain::calendar::WorkCalendar;
use tongban_domain::catalogue;
use tongban_domain::certificate::{
    ActivationForm, ActivationState, CertificateRole, EnterpriseCertificate, PrimaryActivation,
};
use tongban_domain::id_number::is_phone;
use tongban_domain::{CreditCode, Enterprise, EnterpriseId, Jurisdiction, Officer, Timestamp};
use tongban_files::FileStore;
use tongban_store::{
    Store, StoreError, activations, audit, certificates, challenges, enterprises, sessions,
};

const PENDING_EXISTS: &str = "贵企业已有一份待处理的主证书开通申请，如需更换证书请先撤回";

/// Largest stamped-form scan accepted (seed 001: 图片最大不超过200KB).
pub const MAX_SCAN_BYTES: usize = 200 * 1024;
const PHONE_FIELD: &str = "primary_activation.contact_phone";

pub use crate::session::new_challenge;

/// The bytes an enterprise signs to log in: bound to the challenge and to its credit code.
pub fn login_message(challenge: &str, credit_code: &str) -> Vec<u8> {
    format!("tongban-enterprise-login:v1\n{challenge}\n{credit_code}").into_bytes()
}

/// Who is acting for an enterprise: the enterprise and the certificate it logged in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseActor {
    pub enterprise: Enterprise,
    pub certificate: EnterpriseCertificate,
}

impl EnterpriseActor {
    /// How the audit and case logs name this actor: the enterprise and the certificate used.
    pub fn audit_name(&self) -> String {
        format!(
            "enterprise:{}/cert:{}",
            self.enterprise.credit_code, self.certificate.serial
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnterpriseError {
    /// Not our CA's, expired, not an enterprise certificate, or revoked.
    #[error("{0}")]
    Certificate(String),
    #[error("签名验证失败，请使用本证书重新签名")]
    BadSignature,
    #[error("登录验证码已失效，请刷新页面后重新签名")]
    ChallengeSpent,
    /// Input that fails validation; each message names its field.
    #[error("{}", .0.join("；"))]
    Invalid(Vec<String>),
    /// The action is not open to this certificate.
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("文件存储失败：{0}")]
    Files(#[from] tongban_files::FileError),
}

/// The district an enterprise registered in Shanghai belongs to, from its credit code; the city
/// for a code from elsewhere (外省市企业).
fn district_of(code: &CreditCode) -> Jurisdiction {
    Jurisdiction::by_code(code.division()).unwrap_or(Jurisdiction::CITY)
}

/// A successful certificate login.
#[derive(Debug)]
pub struct EnterpriseLogin {
    pub actor: EnterpriseActor,
    pub session_secret: String,
    /// Whether the enterprise already has an active primary certificate.
    pub has_primary: bool,
}

/// Logs an enterprise in: `cert_pem` must be issued by `ca` and valid, and `signature` (DER) must
/// be its key's signature over [`login_message`] for the unspent `challenge`.
pub async fn enterprise_login(
    store: &Store,
    ca: &Ca,
    cert_pem: &str,
    challenge: &str,
    signature: &[u8],
    client: &str,
    lifetime: Duration,
) -> Result<EnterpriseLogin, EnterpriseError> {
    let info = ca
        .verify(cert_pem, SystemTime::now())
        .map_err(|e| EnterpriseError::Certificate(e.to_string()))?;
    let Holder::Enterprise { name, credit_code } = info.holder else {
        return Err(EnterpriseError::Certificate("该证书不是法人证书".into()));
    };
    let code = CreditCode::parse(&credit_code)
        .map_err(|e| EnterpriseError::Certificate(format!("证书中的{e}")))?;
    let actor_name = format!("enterprise:{code}/cert:{}", info.serial);
    if info
        .public_key
        .verify(&login_message(challenge, code.as_str()), signature)
        .is_err()
    {
        let mut tx = store.begin().await?;
        audit::append(
            &mut tx,
            &entry(
                "anonymous",
                AuditAction::LoginFailed,
                actor_name,
                json!({ "client": client, "reason": "bad signature" }),
            ),
        )
        .await?;
        tx.commit().await?;
        return Err(EnterpriseError::BadSignature);
    }

    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    if !challenges::spend(&mut tx, challenge, now).await? {
        return Err(EnterpriseError::ChallengeSpent);
    }
    // The first login of an enterprise registers it from its certificate.
    let candidate = Enterprise {
        id: EnterpriseId::new(),
        name: name.clone(),
        credit_code: code.clone(),
        legal_representative: String::new(),
        registered_address: String::new(),
        district: district_of(&code),
        created_at: now,
    };
    let enterprise = match enterprises::by_credit_code(store, &code).await? {
        Some(e) => e,
        None => {
            enterprises::insert(&mut tx, &candidate).await?;
            candidate
        }
    };
    let not_after = Timestamp(
        info.not_after
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64,
    );
    let certificate = certificates::record_seen(
        &mut tx,
        &info.serial,
        &enterprise.id,
        cert_pem.trim(),
        not_after,
    )
    .await?;
    if !certificate.is_usable(now) {
        return Err(EnterpriseError::Certificate(
            "该证书已被注销，不能再使用".into(),
        ));
    }
    let has_primary = certificates::primary_of(&mut tx, &enterprise.id)
        .await?
        .is_some();
    let session_secret = tongban_crypto::random_token();
    sessions::insert(
        &mut tx,
        &crate::session::key_of(&session_secret),
        sessions::Owner::Enterprise {
            id: &enterprise.id,
            certificate: &info.serial,
        },
        now.after(lifetime),
    )
    .await?;
    audit::append(
        &mut tx,
        &entry(
            actor_name.clone(),
            AuditAction::Login,
            actor_name,
            json!({ "client": client, "role": certificate.role.code() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(EnterpriseLogin {
        actor: EnterpriseActor {
            enterprise,
            certificate,
        },
        session_secret,
        has_primary,
    })
}

/// The enterprise acting on a session, if the session is live and its certificate still usable.
pub async fn actor_of_session(
    store: &Store,
    secret: &str,
) -> Result<Option<EnterpriseActor>, StoreError> {
    let now = Timestamp::now();
    let key = crate::session::key_of(secret);
    let Some((certificate, enterprise)) =
        certificates::of_enterprise_session(store, &key, now).await?
    else {
        return Ok(None);
    };
    if !certificate.is_usable(now) {
        return Ok(None);
    }
    Ok(Some(EnterpriseActor {
        enterprise,
        certificate,
    }))
}

fn validate_form(form: &ActivationForm) -> Vec<String> {
    let mut errors = Vec::new();
    let required = [
        ("企业法定代表人", &form.legal_representative),
        ("营业执照注册号", &form.registration_number),
        ("联系人", &form.contact),
        ("联系电话", &form.contact_phone),
        ("拟设为主数字证书的介质单号", &form.media_number),
    ];
    for (label, value) in required {
        if value.trim().is_empty() {
            errors.push(format!("{label}：必填"));
        } else if value.chars().count() > 100 {
            errors.push(format!("{label}：不能超过100个字"));
        }
    }
    let phone = form.contact_phone.trim();
    if !phone.is_empty() && !is_phone(phone) {
        errors.push("联系电话：应为11位手机号码或带区号的固定电话（如021-12345678）".into());
    }
    errors
}

/// A JPEG by its content (SOI marker and a JFIF/Exif/raw segment), not by its name.
fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

/// Context the activation work needs.
pub struct Activation<'a> {
    pub store: &'a Store,
    pub files: &'a FileStore,
    pub fields: &'a FieldCipher,
    pub calendar: &'a WorkCalendar,
}

fn beijing_today(now: Timestamp) -> chrono::NaiveDate {
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    chrono::DateTime::from_timestamp_millis(now.millis())
        .unwrap_or_else(Utc::now)
        .with_timezone(&offset)
        .date_naive()
}

impl Activation<'_> {
    /// Submits the request to make the actor's certificate the primary one.
    pub async fn submit(
        &self,
        actor: &EnterpriseActor,
        form: ActivationForm,
        scan: Bytes,
    ) -> Result<PrimaryActivation, EnterpriseError> {
        let mut errors = validate_form(&form);
        if scan.is_empty() {
            errors.push("申请表扫描件：请上传盖章后的申请表扫描件".into());
        } else if scan.len() > MAX_SCAN_BYTES {
            errors.push(format!(
                "申请表扫描件：图片最大不超过200KB，当前为{}KB",
                scan.len().div_ceil(1024)
            ));
        } else if !is_jpeg(&scan) {
            errors.push("申请表扫描件：文件内容不是JPG图片，请扫描成JPG文件后上传".into());
        }
        if !errors.is_empty() {
            return Err(EnterpriseError::Invalid(errors));
        }
        if actor.certificate.role != CertificateRole::Unregistered {
            return Err(EnterpriseError::NotAllowed(
                "本证书已开通，无需再次申请".into(),
            ));
        }
        let stored = self.files.put(scan).await?;
        let now = Timestamp::now();
        let mut sealed = form.clone();
        sealed.contact_phone = self.fields.seal(PHONE_FIELD, form.contact_phone.trim());
        let activation = PrimaryActivation {
            id: tongban_domain::ids::JobId::new().to_string(),
            enterprise_id: actor.enterprise.id.clone(),
            certificate_serial: actor.certificate.serial.clone(),
            form: sealed,
            scan_digest: stored.digest.to_hex(),
            state: ActivationState::Submitted,
            submitted_at: now,
            due_date: self.calendar.add_working_days(beijing_today(now), 1),
            decided_at: None,
            decided_by: None,
            opinion: String::new(),
        };
        let mut tx = self.store.begin().await?;
        if certificates::primary_of(&mut tx, &actor.enterprise.id)
            .await?
            .is_some()
        {
            return Err(EnterpriseError::Conflict(
                "贵企业已开通主数字证书。如需开通本证书，请联系主证书持有人设置副证书权限".into(),
            ));
        }
        let open = activations::of_enterprise(self.store, &actor.enterprise.id).await?;
        if open.iter().any(|a| a.state == ActivationState::Submitted) {
            return Err(EnterpriseError::Conflict(PENDING_EXISTS.into()));
        }
        match activations::insert(&mut tx, &activation).await {
            Err(StoreError::Conflict(_)) => {
                return Err(EnterpriseError::Conflict(PENDING_EXISTS.into()));
            }
            other => other?,
        }
        let who = actor.audit_name();
        audit::append(
            &mut tx,
            &entry(
                who,
                AuditAction::PermissionChange,
                format!("activation:{}", activation.id),
                json!({ "step": "submitted", "certificate": actor.certificate.serial }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(PrimaryActivation { form, ..activation })
    }

    /// The request with its phone number readable.
    pub async fn get(&self, id: &str) -> Result<Option<PrimaryActivation>, EnterpriseError> {
        let Some(mut a) = activations::by_id(self.store, id).await? else {
            return Ok(None);
        };
        a.form.contact_phone = self
            .fields
            .open(PHONE_FIELD, &a.form.contact_phone)
            .map_err(|e| EnterpriseError::Store(StoreError::InvalidRow(e.to_string())))?;
        Ok(Some(a))
    }

    /// Withdraws a request of the actor's enterprise that no officer has decided yet.
    pub async fn withdraw(&self, actor: &EnterpriseActor, id: &str) -> Result<(), EnterpriseError> {
        let a = activations::by_id(self.store, id)
            .await?
            .filter(|a| a.enterprise_id == actor.enterprise.id)
            .ok_or(EnterpriseError::NotFound)?;
        let mut tx = self.store.begin().await?;
        if !activations::decide(&mut tx, &a.id, ActivationState::Withdrawn, None, "").await? {
            return Err(EnterpriseError::Conflict("该申请已处理，不能撤回".into()));
        }
        audit::append(
            &mut tx,
            &entry(
                actor.audit_name(),
                AuditAction::PermissionChange,
                format!("activation:{id}"),
                json!({ "step": "withdrawn" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An officer's decision: approval makes the certificate the enterprise's primary one.
    pub async fn decide(
        &self,
        officer: &Officer,
        id: &str,
        approve: bool,
        opinion: &str,
    ) -> Result<(), EnterpriseError> {
        if !approve && opinion.trim().is_empty() {
            return Err(EnterpriseError::Invalid(vec![
                "审核意见：不予通过时必须填写理由".into(),
            ]));
        }
        let a = activations::by_id(self.store, id)
            .await?
            .ok_or(EnterpriseError::NotFound)?;
        let to = if approve {
            ActivationState::Approved
        } else {
            ActivationState::Rejected
        };
        let mut tx = self.store.begin().await?;
        if !activations::decide(
            &mut tx,
            &a.id,
            to,
            Some(officer.id.as_str()),
            opinion.trim(),
        )
        .await?
        {
            return Err(EnterpriseError::Conflict("该申请已被处理或已撤回".into()));
        }
        if approve {
            if certificates::primary_of(&mut tx, &a.enterprise_id)
                .await?
                .is_some()
            {
                return Err(EnterpriseError::Conflict("该企业已有主证书".into()));
            }
            let holder = a.form.legal_representative.clone();
            match certificates::set_role(
                &mut tx,
                &a.enterprise_id,
                &a.certificate_serial,
                CertificateRole::Primary,
                &[],
                &holder,
            )
            .await
            {
                Err(StoreError::Conflict(_)) => {
                    return Err(EnterpriseError::Conflict("该企业已有主证书".into()));
                }
                other => other?,
            };
        }
        let who = format!("officer:{}", officer.id);
        audit::append(
            &mut tx,
            &entry(
                who,
                AuditAction::PermissionChange,
                format!("activation:{id}"),
                json!({ "step": to.code(), "opinion": opinion.trim() }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The primary certificate registers another certificate of the enterprise as a secondary one
/// that may act on `rights` (item ids from the catalogue).
pub async fn set_secondary(
    store: &Store,
    actor: &EnterpriseActor,
    serial: &str,
    holder: &str,
    rights: &[String],
) -> Result<(), EnterpriseError> {
    if !actor.certificate.may_manage_certificates() {
        return Err(EnterpriseError::NotAllowed(
            "只有主证书可以设置副证书权限".into(),
        ));
    }
    let mut errors = Vec::new();
    if holder.trim().is_empty() {
        errors.push("证书持有人：必填".to_string());
    }
    for r in rights {
        if !catalogue::ITEMS.iter().any(|i| i.id == r) {
            errors.push(format!("办理事项权限：未知事项“{r}”"));
        }
    }
    if serial == actor.certificate.serial {
        errors.push("主证书不能设为副证书".into());
    }
    if !errors.is_empty() {
        return Err(EnterpriseError::Invalid(errors));
    }
    let mut tx = store.begin().await?;
    if !certificates::set_role(
        &mut tx,
        &actor.enterprise.id,
        serial,
        CertificateRole::Secondary,
        rights,
        holder.trim(),
    )
    .await?
    {
        return Err(EnterpriseError::NotFound);
    }
    audit::append(
        &mut tx,
        &entry(
            actor.audit_name(),
            AuditAction::PermissionChange,
            format!("certificate:{serial}"),
            json!({ "role": "secondary", "rights": rights }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The primary certificate revokes another certificate of the enterprise.
pub async fn revoke(
    store: &Store,
    actor: &EnterpriseActor,
    serial: &str,
) -> Result<(), EnterpriseError> {
    if !actor.certificate.may_manage_certificates() {
        return Err(EnterpriseError::NotAllowed(
            "只有主证书可以注销副证书".into(),
        ));
    }
    if serial == actor.certificate.serial {
        return Err(EnterpriseError::NotAllowed("主证书不能在此注销".into()));
    }
    let mut tx = store.begin().await?;
    if !certificates::revoke(&mut tx, &actor.enterprise.id, serial).await? {
        return Err(EnterpriseError::NotFound);
    }
    audit::append(
        &mut tx,
        &entry(
            actor.audit_name(),
            AuditAction::PermissionChange,
            format!("certificate:{serial}"),
            json!({ "revoked": true }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Signs a login challenge with a private key: what the 一证通 client does (used by the CLI and tests).
pub fn sign_login(key: &tongban_crypto::Sm2KeyPair, challenge: &str, credit_code: &str) -> Vec<u8> {
    key.sign(&login_message(challenge, credit_code))
}

/// The serial of a valid certificate issued by `ca`, as the certificates table records it.
pub fn certificate_serial(ca: &Ca, pem: &str) -> Result<String, EnterpriseError> {
    ca.verify(pem.trim(), SystemTime::now())
        .map(|i| i.serial)
        .map_err(|e| EnterpriseError::Certificate(e.to_string()))
}

/// The public key of a certificate issued by `ca` (for tools that hold only the certificate).
pub fn certificate_key(ca: &Ca, pem: &str) -> Result<Sm2PublicKey, EnterpriseError> {
    ca.verify(pem, SystemTime::now())
        .map(|i| i.public_key)
        .map_err(|e| EnterpriseError::Certificate(e.to_string()))
}
