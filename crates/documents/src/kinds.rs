//! The kinds of official document Tongban issues, and the data each template prints.
use serde::{Deserialize, Serialize};

use crate::world::Template;

/// What a document is; also its one-byte code in QR payloads (never renumber).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 年度评估报告 and other reports an applicant files.
    Report,
    /// 申请表, signed by the applicant(s).
    ApplicationForm,
    /// 受理通知书.
    AcceptanceNotice,
    /// 补正告知书.
    CorrectionNotice,
    /// 批复 / 复函.
    Decision,
    /// 电子证照.
    Licence,
    /// 回收证明, 注销证明 and the like.
    Certificate,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 7] = [
        Self::Report,
        Self::ApplicationForm,
        Self::AcceptanceNotice,
        Self::CorrectionNotice,
        Self::Decision,
        Self::Licence,
        Self::Certificate,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Report => "报告",
            Self::ApplicationForm => "申请表",
            Self::AcceptanceNotice => "受理通知书",
            Self::CorrectionNotice => "补正告知书",
            Self::Decision => "批复",
            Self::Licence => "电子证照",
            Self::Certificate => "证明",
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::Report => 1,
            Self::ApplicationForm => 2,
            Self::AcceptanceNotice => 3,
            Self::CorrectionNotice => 4,
            Self::Decision => 5,
            Self::Licence => 6,
            Self::Certificate => 7,
        }
    }

    pub fn from_code(code: u8) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::ApplicationForm => "application_form",
            Self::AcceptanceNotice => "acceptance_notice",
            Self::CorrectionNotice => "correction_notice",
            Self::Decision => "decision",
            Self::Licence => "licence",
            Self::Certificate => "certificate",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn template(self) -> Template {
        match self {
            Self::Report | Self::ApplicationForm => Template::Form,
            Self::AcceptanceNotice | Self::CorrectionNotice | Self::Decision => Template::Letter,
            Self::Licence | Self::Certificate => Template::Licence,
        }
    }

    /// Whether the document carries a signed QR code (those a third party checks).
    pub fn has_qr(self) -> bool {
        matches!(self, Self::Licence | Self::Certificate)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

impl Field {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            label: label.into(),
            value: value.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub caption: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    pub fields: Vec<Field>,
    pub tables: Vec<Table>,
}

/// A box where a party signs, in signing order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureBox {
    /// `applicant`, `employer`, `issuer`…: matched by the signer's role when it signs.
    pub role: String,
    /// What the box says, e.g. 申请人签名, 单位盖章.
    pub label: String,
}

/// A report or application form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDocument {
    pub title: String,
    pub subtitle: Option<String>,
    /// Left and right of the running header, e.g. the service and the case number.
    pub running: Option<(String, String)>,
    pub number: Option<String>,
    pub holder: Vec<Field>,
    pub sections: Vec<Section>,
    pub signatures: Vec<SignatureBox>,
    pub date: Option<String>,
}

/// A notice or decision in the official-letter layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    pub issuer: String,
    /// 文号, e.g. 沪环辐受〔2026〕12号.
    pub number: String,
    pub title: String,
    pub addressee: String,
    pub paragraphs: Vec<String>,
    /// Numbered points (what to correct, conditions of a decision).
    pub items: Vec<String>,
    pub closing: Option<String>,
    pub date: String,
    pub contact: Option<String>,
    /// Set by the renderer when a QR code (the case's progress, for notices) is printed.
    #[serde(default)]
    pub qr: bool,
}

/// A licence or certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Licence {
    pub title: String,
    pub number: String,
    pub holder: String,
    pub fields: Vec<Field>,
    pub valid_from: String,
    pub valid_until: String,
    pub issuer: String,
    pub date: String,
    pub note: Option<String>,
    /// Set by the renderer when a QR code is printed.
    #[serde(default)]
    pub qr: bool,
}

/// The mark drawn for a signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    /// `seal` (round, for the bureau and enterprises) or `signature` (boxed name, for people).
    pub kind: StampKind,
    pub name: String,
    /// The smaller line: 电子印章 / the signing time and method.
    pub line: String,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StampKind {
    Seal,
    Signature,
}
