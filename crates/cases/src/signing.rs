//! 签章: after submitting, the parties of a case sign its form in the order the item names
//! (seed 002: the person, then the employer). The form is rendered once, recorded as an issued
//! document of the case, and each signature appends to its PDF (see `tongban_documents::
//! signature`) and becomes a case event.
//!
//! An enterprise signs with its 一证通 certificate, whose key never reaches us: `prepare` keeps
//! the file with the signature left blank and gives the digest; `finish` takes the signature
//! back, checks it against the certificate's key and writes it in. A person confirms with an SMS
//! code (checked by the caller) and is signed for with a fresh key that our CA certifies for
//! this one signature, naming the account (an event certificate, 事件型证书).
use std::sync::Arc;
use std::time::Duration;

use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::{Ca, Holder};
use tongban_documents::signature::{Prepared, SignerInfo};
use tongban_documents::{DocumentKind, Renderer, Slot, StampKind, Template};
use tongban_domain::Timestamp;
use tongban_engine::case::{CaseState, EventBody};
use tongban_engine::{Item, SigningParty};
use tongban_files::FileStore;
use tongban_store::cases as repo;
use tongban_store::documents::{self, IssuedRow};
use tongban_store::signatures::{self as pending_repo, PendingRow};
use tongban_store::{Store, StoreError};

use crate::issuing::{beijing, slots_of};
use crate::{Applicant, Case, CaseError, chain, paper, to_case};

/// How long a prepared signature waits for the certificate's signature.
pub const PENDING_FOR: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error("办件提交后才能签章")]
    NotSubmitted,
    #[error("现在不是您签章的时候：{0}")]
    NotYourTurn(String),
    #[error("全部签章已完成")]
    Complete,
    #[error("签章已过期或已完成，请重新签章")]
    PendingGone,
    #[error("文件已被他人签章，请重新签章")]
    Moved,
    #[error("数字证书无效：{0}")]
    Certificate(String),
    #[error("{0}")]
    Document(String),
    #[error("文件保存失败：{0}")]
    Files(String),
}

impl From<StoreError> for SigningError {
    fn from(e: StoreError) -> Self {
        SigningError::Case(CaseError::Store(e))
    }
}

impl From<tongban_documents::DocumentError> for SigningError {
    fn from(e: tongban_documents::DocumentError) -> Self {
        SigningError::Document(e.to_string())
    }
}

/// Who is asking: an applicant, and for an enterprise its credit code (an employer is found by
/// it in the form).
#[derive(Debug, Clone)]
pub struct Caller {
    pub applicant: Applicant,
    pub credit_code: Option<String>,
}

impl Caller {
    fn actor(&self) -> String {
        self.applicant.actor()
    }
}

/// A signature already made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub name: String,
    pub method: String,
    pub at: Timestamp,
}

/// Where a case's signing stands.
#[derive(Debug, Clone)]
pub struct Status {
    /// The item's parties in order, each with its signature once made.
    pub parties: Vec<(SigningParty, Option<Signed>)>,
    /// The roles the caller holds on this case (`applicant`, `employer`).
    pub roles: Vec<String>,
    /// The issued form document, once it exists.
    pub document: Option<IssuedRow>,
}

impl Status {
    /// The first party that has not signed.
    pub fn next(&self) -> Option<&SigningParty> {
        self.parties
            .iter()
            .find(|(_, s)| s.is_none())
            .map(|(p, _)| p)
    }

    /// The caller's turn: the next party is a role the caller holds.
    pub fn my_turn(&self) -> Option<&SigningParty> {
        self.next().filter(|p| self.roles.contains(&p.role))
    }

    pub fn complete(&self) -> bool {
        self.next().is_none()
    }

    /// The party the caller signs as now, or why not.
    pub fn turn(&self) -> Result<&SigningParty, SigningError> {
        let Some(next) = self.next() else {
            return Err(SigningError::Complete);
        };
        self.my_turn()
            .ok_or_else(|| SigningError::NotYourTurn(format!("请等待「{}」先签章", next.label)))
    }
}

/// The enterprise named as `party` in the form, if any.
fn employer_code<'a>(party: &SigningParty, case: &'a Case) -> Option<&'a str> {
    party
        .credit_code_field
        .as_deref()
        .and_then(|f| case.projection.data.one(f))
}

/// The item case `id` belongs to, to open it with (`open` then decides who may see it).
pub async fn item_of(store: &Store, id: &str) -> Result<String, SigningError> {
    Ok(repo::by_id(store, id)
        .await?
        .ok_or(CaseError::NotFound)?
        .item_id)
}

/// Opens case `id` for someone who signs it: its applicant, or an enterprise the form names as
/// a signing party. Anyone else gets `NotFound`, as for any case they cannot see.
pub async fn open(
    store: &Store,
    item: &Item,
    caller: &Caller,
    id: &str,
) -> Result<(Case, Status), SigningError> {
    let row = repo::by_id(store, id).await?.ok_or(CaseError::NotFound)?;
    if row.item_id != item.id {
        return Err(CaseError::NotFound.into());
    }
    let is_applicant =
        row.applicant_kind == caller.applicant.kind() && row.applicant_id == caller.applicant.id();
    let case = to_case(row)?;
    let mut roles = Vec::new();
    if is_applicant {
        roles.push("applicant".to_string());
    }
    if case.state() == CaseState::Submitted
        && let Some(code) = &caller.credit_code
    {
        for party in &item.signing.parties {
            if party.role != "applicant" && employer_code(party, &case) == Some(code.as_str()) {
                roles.push(party.role.clone());
            }
        }
    }
    if roles.is_empty() {
        return Err(CaseError::NotFound.into());
    }
    let status = status(store, item, &case, roles).await?;
    Ok((case, status))
}

async fn status(
    store: &Store,
    item: &Item,
    case: &Case,
    roles: Vec<String>,
) -> Result<Status, SigningError> {
    let mut signed: Vec<(String, Signed)> = Vec::new();
    for row in repo::events(store, &case.id).await? {
        if row.kind != "document_signed" {
            continue;
        }
        let body: EventBody = serde_json::from_str(&row.payload)
            .map_err(|e| StoreError::InvalidRow(format!("case event: {e}")))?;
        if let EventBody::DocumentSigned {
            role, name, method, ..
        } = body
        {
            signed.push((
                role,
                Signed {
                    name,
                    method,
                    at: Timestamp(row.at),
                },
            ));
        }
    }
    let parties = item
        .signing
        .parties
        .iter()
        .map(|p| {
            let s = signed
                .iter()
                .find(|(r, _)| *r == p.role)
                .map(|(_, s)| s.clone());
            (p.clone(), s)
        })
        .collect();
    let document = form_document(store, item, case).await?;
    Ok(Status {
        parties,
        roles,
        document,
    })
}

pub(crate) fn form_kind(item: &Item) -> DocumentKind {
    match item.kind {
        tongban_domain::catalogue::ItemKind::Filing => DocumentKind::Report,
        _ => DocumentKind::ApplicationForm,
    }
}

async fn form_document(
    store: &Store,
    item: &Item,
    case: &Case,
) -> Result<Option<IssuedRow>, SigningError> {
    let kind = form_kind(item).as_str();
    Ok(documents::of_case(store, &case.id)
        .await?
        .into_iter()
        .find(|d| d.kind == kind))
}

/// The form as it stands: the latest signed file, or a fresh rendering before anyone signed.
pub async fn current_pdf(
    store: &Store,
    files: &FileStore,
    renderer: &Arc<Renderer>,
    item: &Item,
    case: &Case,
    status: &Status,
) -> Result<Vec<u8>, SigningError> {
    match &status.document {
        Some(doc) => read_file(files, &doc.file_digest).await,
        None => Ok(render_form(store, renderer, item, case).await?.0),
    }
}

pub(crate) async fn read_file(files: &FileStore, hex: &str) -> Result<Vec<u8>, SigningError> {
    let digest: tongban_crypto::Sm3Digest = hex
        .parse()
        .map_err(|_| SigningError::Files(format!("文件摘要无效：{hex}")))?;
    files
        .get(&digest)
        .await
        .map(|b| b.to_vec())
        .map_err(|e| SigningError::Files(e.to_string()))
}

async fn put_file(files: &FileStore, pdf: Vec<u8>) -> Result<String, SigningError> {
    files
        .put(bytes::Bytes::from(pdf))
        .await
        .map(|s| s.digest.to_hex())
        .map_err(|e| SigningError::Files(e.to_string()))
}

pub(crate) async fn render_form(
    store: &Store,
    renderer: &Arc<Renderer>,
    item: &Item,
    case: &Case,
) -> Result<(Vec<u8>, Vec<Slot>), SigningError> {
    let rows = paper::ledger_rows(store, item, case).await?;
    let form = paper::application_form_with(item, case, &rows);
    let renderer = renderer.clone();
    // Rendering is CPU work: keep it off the async workers.
    let rendered =
        tokio::task::spawn_blocking(move || renderer.render(Template::Form, &form, None))
            .await
            .map_err(|e| SigningError::Document(e.to_string()))?
            .map_err(|e| SigningError::Document(e.to_string()))?;
    Ok((rendered.pdf, rendered.slots))
}

/// The form document of the case, rendered and recorded the first time someone signs.
async fn document_to_sign(
    store: &Store,
    files: &FileStore,
    renderer: &Arc<Renderer>,
    item: &Item,
    case: &Case,
    status: &Status,
) -> Result<IssuedRow, SigningError> {
    if let Some(doc) = &status.document {
        return Ok(doc.clone());
    }
    let (pdf, slots) = render_form(store, renderer, item, case).await?;
    let digest = put_file(files, pdf).await?;
    let row = IssuedRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: form_kind(item).as_str().into(),
        case_id: Some(case.id.clone()),
        number: case.projection.number.clone().unwrap_or_default(),
        title: item.signing.title.clone(),
        holder: String::new(),
        file_digest: digest,
        slots: serde_json::to_string(&slots).unwrap_or_else(|_| "[]".into()),
        issued_at: Timestamp::now().millis(),
        valid_until: None,
        revoked_at: None,
        revoked_reason: None,
    };
    let mut tx = store.begin().await?;
    // Two first signers at once: the second finds the first's row.
    if form_document(store, item, case).await?.is_none() {
        documents::insert(&mut tx, &row).await?;
        tx.commit().await?;
        return Ok(row);
    }
    drop(tx);
    form_document(store, item, case)
        .await?
        .ok_or(SigningError::Moved)
}

fn slot_for(doc: &IssuedRow, role: &str) -> Result<Slot, SigningError> {
    slots_of(doc)
        .into_iter()
        .find(|s| s.role == role)
        .ok_or_else(|| SigningError::Document(format!("文件中没有「{role}」的签章位置")))
}

fn stamp_of(caller: &Caller) -> (StampKind, &'static str) {
    match caller.applicant {
        Applicant::Enterprise { .. } => (StampKind::Seal, "数字证书"),
        Applicant::Individual { .. } => (StampKind::Signature, "短信验证码"),
    }
}

/// What signing works with: the store, the file store, the renderer and the CA that certifies
/// signers.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    pub store: &'a Store,
    pub files: &'a FileStore,
    pub renderer: &'a Arc<Renderer>,
    pub ca: &'a Ca,
}

/// A signature prepared for a certificate holder: sign `digest` and send it back with `id`.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: String,
    /// SM3 (hex) of the bytes the signature covers: what the certificate's key signs.
    pub digest: String,
    pub expires_at: Timestamp,
}

/// What a signer works on when it is their turn: the case, their party, the form document
/// (rendered and recorded on the first signature) with its current file, and their box.
struct Turn {
    case: Case,
    party: SigningParty,
    doc: IssuedRow,
    base: Vec<u8>,
    slot: Slot,
}

async fn take_turn(
    desk: &Desk<'_>,
    item: &Item,
    case: Case,
    status: &Status,
) -> Result<Turn, SigningError> {
    if case.state() != CaseState::Submitted {
        return Err(SigningError::NotSubmitted);
    }
    let party = status.turn()?.clone();
    let doc = document_to_sign(desk.store, desk.files, desk.renderer, item, &case, status).await?;
    let base = read_file(desk.files, &doc.file_digest).await?;
    let slot = slot_for(&doc, &party.role)?;
    Ok(Turn {
        case,
        party,
        doc,
        base,
        slot,
    })
}

/// Step one of a certificate signature: the caller's mark drawn in its box, the signature left
/// blank, the file kept until `finish`.
pub async fn prepare(
    desk: &Desk<'_>,
    item: &Item,
    caller: &Caller,
    id: &str,
    certificate_pem: &str,
) -> Result<Pending, SigningError> {
    let Desk {
        store,
        files,
        renderer,
        ca,
    } = *desk;
    let (case, status) = open(store, item, caller, id).await?;
    // The certificate must be one our CA issued to the caller's own enterprise.
    let info = ca
        .verify(certificate_pem, std::time::SystemTime::now())
        .map_err(|e| SigningError::Certificate(e.to_string()))?;
    let Holder::Enterprise { name, credit_code } = info.holder else {
        return Err(SigningError::Certificate("不是单位数字证书".into()));
    };
    if Some(credit_code.as_str()) != caller.credit_code.as_deref() {
        return Err(SigningError::Certificate("该证书不属于本单位".into()));
    }
    let Turn {
        case,
        party,
        doc,
        base,
        slot,
    } = take_turn(desk, item, case, &status).await?;
    let info = SignerInfo {
        public_key: info.public_key,
        name,
        role: party.role.clone(),
        method: "数字证书".into(),
        certificate: Some(certificate_pem.trim().to_string()),
    };
    let now = Timestamp::now();
    let worker = renderer.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        tongban_documents::prepare_in_slot(
            &worker,
            &base,
            &slot,
            &info,
            StampKind::Seal,
            "数字证书签章",
            beijing(now),
        )
    })
    .await
    .map_err(|e| SigningError::Document(e.to_string()))??;
    let digest = prepared.digest().to_hex();
    let contents_at = prepared.contents_at as i64;
    let prepared_file = put_file(files, prepared.pdf).await?;
    let pending = PendingRow {
        id: uuid::Uuid::now_v7().to_string(),
        case_id: case.id.clone(),
        role: party.role,
        signer: caller.actor(),
        prepared_file,
        base_file: doc.file_digest,
        contents_at,
        created_at: now.millis(),
        expires_at: now.after(PENDING_FOR).millis(),
    };
    let mut tx = store.begin().await?;
    pending_repo::insert_pending(&mut tx, &pending).await?;
    tx.commit().await?;
    Ok(Pending {
        id: pending.id,
        digest,
        expires_at: Timestamp(pending.expires_at),
    })
}

/// Step two: the certificate's signature over the digest, checked and written in.
pub async fn finish(
    store: &Store,
    files: &FileStore,
    item: &Item,
    caller: &Caller,
    id: &str,
    pending_id: &str,
    signature: &[u8],
) -> Result<Status, SigningError> {
    let (case, status) = open(store, item, caller, id).await?;
    let party = status.turn()?.clone();
    let now = Timestamp::now();
    let pending = pending_repo::pending(store, &case.id, pending_id, now)
        .await?
        .filter(|p| p.signer == caller.actor() && p.role == party.role)
        .ok_or(SigningError::PendingGone)?;
    let doc = status.document.clone().ok_or(SigningError::PendingGone)?;
    if doc.file_digest != pending.base_file {
        return Err(SigningError::Moved);
    }
    let prepared = Prepared::from_parts(
        read_file(files, &pending.prepared_file).await?,
        pending.contents_at as usize,
    )
    .map_err(|e| SigningError::Document(e.to_string()))?;
    // The key and name the signer declared when it prepared: the blank signature's dictionary.
    let declared = tongban_documents::signature::verify(&prepared.pdf)
        .ok()
        .and_then(|v| v.signatures.into_iter().last())
        .ok_or(SigningError::PendingGone)?;
    let covered = prepared.digest().to_hex();
    let signed = prepared
        .finish(&declared.public_key, signature)
        .map_err(|e| SigningError::Document(e.to_string()))?;
    let name = declared.name;
    record(
        (store, files),
        (item, caller, &case),
        &doc,
        Some(pending_id),
        &party,
        Recorded {
            name,
            method: "数字证书".into(),
            covered,
            pdf: signed,
        },
    )
    .await
}

/// A person's signature, once the caller has checked their SMS code: signed with a key made for
/// this signature and certified by `ca` for the person's account.
pub async fn sign_confirmed(
    desk: &Desk<'_>,
    item: &Item,
    caller: &Caller,
    id: &str,
    name: &str,
) -> Result<Status, SigningError> {
    let Desk {
        store,
        files,
        renderer,
        ca,
    } = *desk;
    let Applicant::Individual { id: account } = &caller.applicant else {
        return Err(SigningError::NotYourTurn("单位请使用数字证书签章".into()));
    };
    let (case, status) = open(store, item, caller, id).await?;
    let Turn {
        case,
        party,
        doc,
        base,
        slot,
    } = take_turn(desk, item, case, &status).await?;
    let key = Sm2KeyPair::generate();
    let holder = Holder::Individual {
        name: name.to_string(),
        account: account.clone(),
    };
    let certificate = ca
        .issue(&holder, &key.public_key(), Duration::from_secs(24 * 3600))
        .map_err(|e| SigningError::Document(e.to_string()))?;
    let (kind, method) = stamp_of(caller);
    let signer_name = name.to_string();
    let role = party.role.clone();
    let worker = renderer.clone();
    let now = Timestamp::now();
    let (pdf, covered) = tokio::task::spawn_blocking(move || {
        let info = SignerInfo {
            public_key: key.public_key(),
            name: signer_name,
            role,
            method: method.into(),
            certificate: Some(certificate),
        };
        let prepared = tongban_documents::prepare_in_slot(
            &worker,
            &base,
            &slot,
            &info,
            kind,
            "短信验证码确认签名",
            beijing(now),
        )?;
        let covered = prepared.digest();
        let signature = key.sign(covered.as_bytes());
        let pdf = prepared.finish(&key.public_key(), &signature)?;
        Ok::<_, tongban_documents::DocumentError>((pdf, covered.to_hex()))
    })
    .await
    .map_err(|e| SigningError::Document(e.to_string()))??;
    record(
        (store, files),
        (item, caller, &case),
        &doc,
        None,
        &party,
        Recorded {
            name: name.to_string(),
            method: method.into(),
            covered,
            pdf,
        },
    )
    .await
}

struct Recorded {
    name: String,
    method: String,
    covered: String,
    pdf: Vec<u8>,
}

/// Stores the signed file and, in one transaction, points the document at it, appends the
/// case event, spends the pending signature and asks the next party.
async fn record(
    (store, files): (&Store, &FileStore),
    (item, caller, case): (&Item, &Caller, &Case),
    doc: &IssuedRow,
    pending_id: Option<&str>,
    party: &SigningParty,
    signed: Recorded,
) -> Result<Status, SigningError> {
    let file = put_file(files, signed.pdf).await?;
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    if let Some(p) = pending_id
        && !pending_repo::take_pending(&mut tx, p).await?
    {
        return Err(SigningError::PendingGone);
    }
    if !documents::replace_file(&mut tx, &doc.id, &doc.file_digest, &file).await? {
        return Err(SigningError::Moved);
    }
    let row = repo::by_id(store, &case.id)
        .await?
        .ok_or(CaseError::NotFound)?;
    chain(
        &mut tx,
        row,
        &caller.actor(),
        EventBody::DocumentSigned {
            role: party.role.clone(),
            name: signed.name,
            method: signed.method,
            file: file.clone(),
            covered: signed.covered,
        },
        now,
    )
    .await?;
    pending_repo::fulfil(&mut tx, &case.id, &party.role).await?;
    // The next party after this one, if an enterprise named in the form, is asked now.
    let parties = &item.signing.parties;
    let at = parties.iter().position(|p| p.role == party.role);
    match at.and_then(|i| parties.get(i + 1)) {
        Some(next) => {
            if let Some(code) = employer_code(next, case) {
                pending_repo::request(&mut tx, &case.id, &next.role, code, now).await?;
            }
        }
        // The last party signed: a yearly report is now 已盖章.
        None => crate::reports::sealed(&mut tx, &case.id).await?,
    }
    tx.commit().await?;
    Ok(open(store, item, caller, &case.id).await?.1)
}

/// A form waiting for an enterprise's seal, as its 申请事项单位确认 list shows it.
pub struct Waiting {
    pub case: Case,
    pub item_name: String,
    /// The person, as the form names them (the field prefilled from `individual.name`).
    pub applicant_name: String,
    pub since: Timestamp,
}

/// The forms the enterprise with `credit_code` is asked to sign, newest first.
pub async fn requests(
    store: &Store,
    items: &tongban_engine::Catalogue,
    credit_code: &str,
) -> Result<Vec<Waiting>, SigningError> {
    let mut out = Vec::new();
    for (case_id, _role, since) in pending_repo::requests_for(store, credit_code).await? {
        let Some(row) = repo::by_id(store, &case_id).await? else {
            continue;
        };
        let Some(item) = items.get(&row.item_id) else {
            continue;
        };
        let case = to_case(row)?;
        let applicant_name = item
            .fields()
            .find(|(_, _, f)| f.prefill.as_deref() == Some("individual.name"))
            .and_then(|(_, _, f)| case.projection.data.one(&f.id))
            .unwrap_or_default()
            .to_string();
        out.push(Waiting {
            item_name: item.name.clone(),
            applicant_name,
            since: Timestamp(since),
            case,
        });
    }
    Ok(out)
}
