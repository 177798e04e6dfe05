//! Issuing documents: a licence or certificate gets a QR code signed with the bureau's key, is
//! sealed with the bureau's e-seal, stored, and recorded with its live status; revoking it
//! shows on the verification page at once.
use std::sync::Arc;

use chrono::NaiveDate;
use tongban_crypto::{Sm2KeyPair, Sm2PublicKey};
use tongban_documents::signature::Signer;
use tongban_documents::{DocumentKind, Letter, Licence, Renderer, Slot, StampKind, Template, qr};
use tongban_engine::case::EventBody;

use crate::CaseError;
use tongban_domain::Timestamp;
use tongban_files::FileStore;
use tongban_store::documents::{self, IssuedRow};
use tongban_store::{Store, StoreError};

/// The issuing body's name as printed and sealed.
pub const BUREAU: &str = "上海市生态环境局";

/// The bureau as issuer: its name, its seal key, and where the QR codes point.
pub struct Bureau {
    pub name: String,
    pub seal: Sm2KeyPair,
    /// Public address of this server, e.g. `https://tongban.sthj.sh.gov.cn`.
    pub base_url: String,
    pub renderer: Arc<Renderer>,
}

impl Bureau {
    pub fn public_key(&self) -> Sm2PublicKey {
        self.seal.public_key()
    }

    fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.seal,
            name: self.name.clone(),
            role: "issuer".into(),
            method: "电子印章".into(),
            certificate: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Document(#[from] tongban_documents::DocumentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("文件保存失败：{0}")]
    Files(String),
    #[error("{0}")]
    Invalid(&'static str),
}

/// Beijing time, as documents print it.
pub fn beijing(at: Timestamp) -> chrono::DateTime<chrono::FixedOffset> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    chrono::DateTime::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .with_timezone(&offset)
}

/// What to issue as a licence or certificate.
pub struct LicenceRequest {
    pub kind: DocumentKind,
    pub licence: Licence,
    /// Facts the QR code vouches for besides the holder (number, credit code…).
    pub facts: Vec<String>,
    pub issued: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub case_id: Option<String>,
}

/// A document just issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub row: IssuedRow,
    /// The signed QR payload printed on it.
    pub payload: String,
    pub pdf: Vec<u8>,
}

/// Renders `data` with `template` and seals it in the template's `issuer` box. Rendering is CPU
/// work, so it runs off the async workers.
async fn sealed<T: serde::Serialize + Send + 'static>(
    bureau: &Arc<Bureau>,
    template: Template,
    data: T,
    qr_svg: Option<String>,
    now: Timestamp,
) -> Result<(Vec<u8>, Vec<Slot>), IssueError> {
    let worker = bureau.clone();
    let out = tokio::task::spawn_blocking(move || {
        let rendered = worker.renderer.render(template, &data, qr_svg)?;
        let slot = rendered
            .slots
            .iter()
            .find(|s| s.role == "issuer")
            .cloned()
            .ok_or(tongban_documents::DocumentError::Sign(
                tongban_documents::signature::SignError::Slot("模板缺少发证机关盖章位置".into()),
            ))?;
        let sealed = tongban_documents::sign_in_slot(
            &worker.renderer,
            &rendered.pdf,
            &slot,
            &worker.signer(),
            StampKind::Seal,
            "电子印章",
            beijing(now),
        )?;
        Ok::<_, tongban_documents::DocumentError>((sealed, rendered.slots))
    })
    .await
    .map_err(|e| IssueError::Files(e.to_string()))??;
    Ok(out)
}

async fn store_file(files: &FileStore, pdf: &[u8]) -> Result<String, IssueError> {
    files
        .put(bytes::Bytes::from(pdf.to_vec()))
        .await
        .map(|s| s.digest.to_hex())
        .map_err(|e| IssueError::Files(e.to_string()))
}

/// A notice or decision on a case, drafted by an officer.
pub struct LetterRequest {
    pub kind: DocumentKind,
    pub letter: Letter,
    pub case_id: String,
    /// Who sealed it, as the case's events name officers (`officer:<username>`).
    pub officer: String,
}

/// A document rendered, sealed and stored in the file store, not yet recorded as issued.
pub struct Prepared {
    pub row: IssuedRow,
    /// The signed QR payload printed on it, if any.
    pub payload: Option<String>,
    pub pdf: Vec<u8>,
}

/// What a notice's QR code says: the case it is about, so scanning it shows the progress.
pub struct ProgressQr {
    pub case_number: String,
}

/// Renders and seals a letter (受理通知书, 补正告知书, 批复) for case `case_id` and stores the PDF;
/// [`record_letter`] then records it, in the caller's transaction.
pub async fn prepare_letter(
    files: &FileStore,
    bureau: &Arc<Bureau>,
    kind: DocumentKind,
    mut letter: Letter,
    case_id: &str,
    progress: Option<ProgressQr>,
) -> Result<Prepared, IssueError> {
    if kind.template() != Template::Letter {
        return Err(IssueError::Invalid("只有通知书和批复以公文格式盖章"));
    }
    let id = uuid::Uuid::now_v7();
    let now = Timestamp::now();
    let (payload, svg) = match progress {
        Some(qr) => {
            let claims = qr::Claims {
                kind,
                id,
                holder: letter.addressee.clone(),
                facts: vec![qr.case_number],
                issued: beijing(now).date_naive(),
                valid_until: None,
            };
            let payload =
                qr::seal(&claims, &bureau.seal).map_err(tongban_documents::DocumentError::from)?;
            let svg = qr::svg(&qr::verify_url(&bureau.base_url, &payload))
                .map_err(tongban_documents::DocumentError::from)?;
            (Some(payload), Some(svg))
        }
        None => (None, None),
    };
    letter.qr = svg.is_some();
    let (title, number) = (letter.title.clone(), letter.number.clone());
    let holder = letter.addressee.clone();
    let (pdf, slots) = sealed(bureau, Template::Letter, letter, svg, now).await?;
    let file_digest = store_file(files, &pdf).await?;
    Ok(Prepared {
        row: IssuedRow {
            id: id.to_string(),
            kind: kind.as_str().into(),
            case_id: Some(case_id.to_string()),
            number,
            title,
            holder,
            file_digest,
            slots: serde_json::to_string(&slots).unwrap_or_else(|_| "[]".into()),
            issued_at: now.millis(),
            valid_until: None,
            revoked_at: None,
            revoked_reason: None,
        },
        payload,
        pdf,
    })
}

/// Records a prepared letter as issued on its case, with a `document_sealed` event by
/// `officer`, in `tx`; returns the case row after the event.
pub async fn record_letter(
    tx: &mut tongban_store::Tx,
    row: &IssuedRow,
    case: tongban_store::cases::CaseRow,
    officer: &str,
) -> Result<tongban_store::cases::CaseRow, CaseError> {
    documents::insert(tx, row).await?;
    crate::chain(
        tx,
        case,
        officer,
        EventBody::DocumentSealed {
            document_kind: row.kind.clone(),
            document_id: row.id.clone(),
            number: row.number.clone(),
            title: row.title.clone(),
            file: row.file_digest.clone(),
        },
        Timestamp(row.issued_at),
    )
    .await
}

/// Seals a letter (受理通知书, 补正告知书, 批复) with the bureau's seal, stores it, and records it
/// as an issued document of the case and as a case event, in one transaction.
pub async fn seal_letter(
    store: &Store,
    files: &FileStore,
    bureau: &Arc<Bureau>,
    request: LetterRequest,
) -> Result<IssuedRow, IssueError> {
    let case = tongban_store::cases::by_id(store, &request.case_id)
        .await?
        .ok_or(IssueError::Invalid("办件不存在"))?;
    let prepared =
        prepare_letter(files, bureau, request.kind, request.letter, &case.id, None).await?;
    let mut tx = store.begin().await?;
    record_letter(&mut tx, &prepared.row, case, &request.officer)
        .await
        .map_err(|e| match e {
            CaseError::Store(e) => IssueError::Store(e),
            other => IssueError::Files(other.to_string()),
        })?;
    tx.commit().await?;
    Ok(prepared.row)
}

/// Renders, seals and stores a licence or certificate, not yet recorded.
pub async fn prepare_licence(
    files: &FileStore,
    bureau: &Arc<Bureau>,
    request: LicenceRequest,
) -> Result<Prepared, IssueError> {
    if !request.kind.has_qr() {
        return Err(IssueError::Invalid("只有证照和证明带核验二维码"));
    }
    let id = uuid::Uuid::now_v7();
    let claims = qr::Claims {
        kind: request.kind,
        id,
        holder: request.licence.holder.clone(),
        facts: request.facts.clone(),
        issued: request.issued,
        valid_until: request.valid_until,
    };
    let now = Timestamp::now();
    let licence = Licence {
        qr: true,
        ..request.licence
    };
    let (title, number, holder) = (
        licence.title.clone(),
        licence.number.clone(),
        licence.holder.clone(),
    );
    let payload =
        qr::seal(&claims, &bureau.seal).map_err(tongban_documents::DocumentError::from)?;
    let svg = qr::svg(&qr::verify_url(&bureau.base_url, &payload))
        .map_err(tongban_documents::DocumentError::from)?;
    let (pdf, slots) = sealed(bureau, Template::Licence, licence, Some(svg), now).await?;
    let file_digest = store_file(files, &pdf).await?;
    let row = IssuedRow {
        id: id.to_string(),
        kind: request.kind.as_str().into(),
        case_id: request.case_id,
        number,
        title,
        holder,
        file_digest,
        slots: serde_json::to_string(&slots).unwrap_or_else(|_| "[]".into()),
        issued_at: now.millis(),
        valid_until: request
            .valid_until
            .map(|d| d.format("%Y-%m-%d").to_string()),
        revoked_at: None,
        revoked_reason: None,
    };
    Ok(Prepared {
        row,
        payload: Some(payload),
        pdf,
    })
}

/// Renders, seals, stores and records a licence or certificate.
pub async fn issue_licence(
    store: &Store,
    files: &FileStore,
    bureau: &Arc<Bureau>,
    request: LicenceRequest,
) -> Result<Issued, IssueError> {
    let prepared = prepare_licence(files, bureau, request).await?;
    let mut tx = store.begin().await?;
    documents::insert(&mut tx, &prepared.row).await?;
    tx.commit().await?;
    Ok(Issued {
        row: prepared.row,
        payload: prepared.payload.unwrap_or_default(),
        pdf: prepared.pdf,
    })
}

/// Revokes an issued document; false if it was not live.
pub async fn revoke(store: &Store, id: &str, reason: &str) -> Result<bool, IssueError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(IssueError::Invalid("请填写撤销原因"));
    }
    let mut tx = store.begin().await?;
    let revoked = documents::revoke(&mut tx, id, reason, Timestamp::now()).await?;
    tx.commit().await?;
    Ok(revoked)
}

/// Whether an issued document holds today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStatus {
    Valid,
    Revoked {
        at: Timestamp,
        reason: String,
    },
    Expired {
        on: String,
    },
    /// Not in our records (a copy from elsewhere, or a test payload).
    Unknown,
}

impl LiveStatus {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Revoked { .. } | Self::Expired { .. } => "已失效",
            Self::Unknown => "未查到签发记录",
        }
    }
}

pub fn status_of(row: Option<&IssuedRow>, today: NaiveDate) -> LiveStatus {
    let Some(row) = row else {
        return LiveStatus::Unknown;
    };
    if let Some(at) = row.revoked_at {
        return LiveStatus::Revoked {
            at: Timestamp(at),
            reason: row.revoked_reason.clone().unwrap_or_default(),
        };
    }
    match &row.valid_until {
        Some(until)
            if NaiveDate::parse_from_str(until, "%Y-%m-%d").is_ok_and(|last| today > last) =>
        {
            LiveStatus::Expired { on: until.clone() }
        }
        _ => LiveStatus::Valid,
    }
}

/// The slots recorded for a document.
pub fn slots_of(row: &IssuedRow) -> Vec<Slot> {
    serde_json::from_str(&row.slots).unwrap_or_default()
}

/// Whom a signature in a PDF can be traced to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The bureau's own e-seal key.
    BureauSeal,
    /// A certificate our CA issued, naming the holder; its key made the signature.
    Certificate { holder: String },
    /// A key we cannot vouch for.
    Unknown,
}

impl Trust {
    pub fn label(&self) -> String {
        match self {
            Self::BureauSeal => "本局电子印章".into(),
            Self::Certificate { holder } => format!("数字证书（{holder}）"),
            Self::Unknown => "无法确认签名者身份".into(),
        }
    }
}

pub fn trust_of(
    signature: &tongban_documents::signature::SignatureInfo,
    bureau: &Sm2PublicKey,
    ca: &tongban_crypto::cert::Ca,
) -> Trust {
    if signature.public_key == *bureau {
        return Trust::BureauSeal;
    }
    let Some(pem) = &signature.certificate else {
        return Trust::Unknown;
    };
    // A certificate must have been valid when it signed: an event certificate for one SMS
    // signature, or an enterprise's that has since expired, still vouches for what it signed.
    let signed_at = signature
        .signed_at
        .map_or_else(std::time::SystemTime::now, std::time::SystemTime::from);
    match ca.verify(pem, signed_at) {
        Ok(info) if info.public_key == signature.public_key => Trust::Certificate {
            holder: match info.holder {
                tongban_crypto::cert::Holder::Enterprise { name, credit_code } => {
                    format!("{name}，{credit_code}")
                }
                tongban_crypto::cert::Holder::Officer { name, .. } => name,
                tongban_crypto::cert::Holder::Individual { name, .. } => {
                    format!("{name}，短信验证码确认")
                }
            },
        },
        _ => Trust::Unknown,
    }
}

/// The one-line answer about a PDF's signatures, the same on the page and in `tongban doc verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact,
    NoSignatures,
    /// A signature does not match the bytes it covers: changed after signing.
    Broken,
    /// This many bytes were added after the last signature.
    ChangedAfter(usize),
    /// Every signature holds, but not every signer is the bureau or one of our certificates.
    UnknownSigner,
}

impl Verdict {
    pub fn of(check: &tongban_documents::signature::Verification, trusts: &[Trust]) -> Verdict {
        if check.signatures.is_empty() {
            Verdict::NoSignatures
        } else if check.signatures.iter().any(|s| !s.valid) {
            Verdict::Broken
        } else if check.unsigned_tail > 0 {
            Verdict::ChangedAfter(check.unsigned_tail)
        } else if trusts.contains(&Trust::Unknown) {
            Verdict::UnknownSigner
        } else {
            Verdict::Intact
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Intact => "文件完整，全部签章有效。".into(),
            Self::NoSignatures => "文件中没有电子签章。".into(),
            Self::Broken => "签章无效：文件在签章后被改动过。".into(),
            Self::ChangedAfter(n) => {
                format!("文件在最后一次签章后被改动过（{n} 字节不受签章保护）。")
            }
            Self::UnknownSigner => "签章完整，但有签名者身份无法确认。".into(),
        }
    }
}
