//! Enterprise certificates and what each may do (seed 001): the primary certificate may act on
//! every service and sets the rights of the secondary ones; a certificate the enterprise has not
//! registered may do nothing but ask to become the primary, when there is none.
use chrono::NaiveDate;
use serde::Serialize;

use crate::{EnterpriseId, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CertificateRole {
    Primary,
    Secondary,
    Unregistered,
}

impl CertificateRole {
    pub fn code(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
            Self::Unregistered => "unregistered",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Primary, Self::Secondary, Self::Unregistered]
            .into_iter()
            .find(|r| r.code() == code)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Primary => "主证书",
            Self::Secondary => "副证书",
            Self::Unregistered => "未开通",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnterpriseCertificate {
    /// Serial number in upper-case hex, as printed on the certificate.
    pub serial: String,
    pub enterprise_id: EnterpriseId,
    pub role: CertificateRole,
    /// Item ids a secondary certificate may act on.
    pub rights: Vec<String>,
    /// 证书持有人
    pub holder: String,
    pub not_after: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub first_seen_at: Timestamp,
}

impl EnterpriseCertificate {
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.not_after
    }

    /// Whether this certificate may act on the service `item`.
    pub fn may_act_on(&self, item: &str) -> bool {
        match self.role {
            CertificateRole::Primary => true,
            CertificateRole::Secondary => self.rights.iter().any(|r| r == item),
            CertificateRole::Unregistered => false,
        }
    }

    /// Whether it may manage the enterprise's other certificates.
    pub fn may_manage_certificates(&self) -> bool {
        self.role == CertificateRole::Primary
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ActivationState {
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
}

impl ActivationState {
    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Submitted,
            Self::Approved,
            Self::Rejected,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Submitted => "已提交主证书开通申请，将于1个工作日内处理",
            Self::Approved => "已开通",
            Self::Rejected => "未通过",
            Self::Withdrawn => "已撤回",
        }
    }
}

/// 主数字证书开通申请 as the enterprise filled it in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivationForm {
    /// 企业法定代表人
    pub legal_representative: String,
    /// 营业执照注册号（或事业单位证书号、社团编号）
    pub registration_number: String,
    /// 联系人
    pub contact: String,
    /// 联系电话
    pub contact_phone: String,
    /// 拟设为主数字证书的介质单号（硬件背面）
    pub media_number: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrimaryActivation {
    pub id: String,
    pub enterprise_id: EnterpriseId,
    pub certificate_serial: String,
    pub form: ActivationForm,
    /// SM3 digest of the stamped form scan in file storage.
    pub scan_digest: String,
    pub state: ActivationState,
    pub submitted_at: Timestamp,
    /// The working day by which an officer decides.
    pub due_date: NaiveDate,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub opinion: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(role: CertificateRole, rights: &[&str]) -> EnterpriseCertificate {
        EnterpriseCertificate {
            serial: "1A".into(),
            enterprise_id: EnterpriseId::new(),
            role,
            rights: rights.iter().map(|s| s.to_string()).collect(),
            holder: "李静".into(),
            not_after: Timestamp(i64::MAX),
            revoked_at: None,
            first_seen_at: Timestamp(0),
        }
    }

    #[test]
    fn rights_follow_the_role() {
        assert!(cert(CertificateRole::Primary, &[]).may_act_on("radiation-annual-report"));
        let secondary = cert(CertificateRole::Secondary, &["radiation-annual-report"]);
        assert!(secondary.may_act_on("radiation-annual-report"));
        assert!(!secondary.may_act_on("solid-waste-cross-storage"));
        assert!(!secondary.may_manage_certificates());
        assert!(
            !cert(CertificateRole::Unregistered, &["radiation-annual-report"])
                .may_act_on("radiation-annual-report")
        );
    }

    #[test]
    fn revoked_or_expired_certificates_are_unusable() {
        let mut c = cert(CertificateRole::Primary, &[]);
        assert!(c.is_usable(Timestamp(1)));
        c.revoked_at = Some(Timestamp(1));
        assert!(!c.is_usable(Timestamp(2)));
        c.revoked_at = None;
        c.not_after = Timestamp(5);
        assert!(!c.is_usable(Timestamp(5)));
    }
}
