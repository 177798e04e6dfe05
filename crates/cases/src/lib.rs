//! Applications and cases on the item engine. An application starts as a draft (暂存) owned by
//! one applicant; saving appends an event and keeps it another `draft_days`; submitting
//! validates it against its item, gives it a case number and makes it a case. Every look-up is by
//! (applicant, case): another applicant's case does not exist for them.
#![forbid(unsafe_code)]

pub mod batch;
pub mod issuing;
pub mod ledgers;
pub mod letters;
pub mod materials;
pub mod paper;
pub mod reports;
pub mod signing;
pub mod solid_waste_chain;
pub mod workflow;

use std::time::Duration;

use tongban_domain::{EnterpriseId, Timestamp};
use tongban_engine::case::{self, CaseState, Event, EventBody, Projection};
use tongban_engine::prefill::{self, Known};
use tongban_engine::validate::{clean, shown, validate_shown};
use tongban_engine::{FormData, Item, Problem};
use tongban_store::cases::{self as repo, CaseFilter, CaseRow, EventRow};
use tongban_store::{Store, StoreError};

/// Who applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicant {
    Enterprise {
        id: EnterpriseId,
        /// Who acted, for the event log, as the audit log names them
        /// (`enterprise:<credit code>/cert:<serial>`).
        actor: String,
    },
    Individual {
        id: String,
    },
}

impl Applicant {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Enterprise { .. } => "enterprise",
            Self::Individual { .. } => "individual",
        }
    }

    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Enterprise { id, .. } => id.as_str(),
            Self::Individual { id } => id,
        }
    }

    pub(crate) fn actor(&self) -> String {
        match self {
            Self::Enterprise { actor, .. } => actor.clone(),
            Self::Individual { id } => format!("individual:{id}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("办件不存在或已删除")]
    NotFound,
    #[error("该办件已提交，不能再修改")]
    NotDraft,
    #[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("；"))]
    Invalid(Vec<Problem>),
    #[error("该办件已在其他窗口修改，请刷新页面后重试")]
    Conflict,
    #[error("您还没有已提交的该事项办件，无法再来一单")]
    NothingToCopy,
    #[error("该办件不在补正中")]
    NotCorrecting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A case as its applicant sees it.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub item_id: String,
    pub projection: Projection,
    /// When a draft will be deleted.
    pub expires_at: Option<Timestamp>,
    /// The last day of the current stage's time limit, while its clock runs.
    pub deadline: Option<chrono::NaiveDate>,
}

impl Case {
    pub fn state(&self) -> CaseState {
        self.projection.state
    }

    /// Whole days a draft has left (0 on its last day); `None` for a submitted case.
    pub fn days_left(&self, now: Timestamp) -> Option<i64> {
        self.expires_at
            .map(|e| (e.millis() - now.millis()).div_euclid(86_400_000))
    }
}

fn bad_row(e: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidRow(format!("case: {e}"))
}

pub(crate) fn to_case(row: CaseRow) -> Result<Case, StoreError> {
    let data: FormData = serde_json::from_str(&row.data).map_err(bad_row)?;
    let state = CaseState::parse(&row.state).ok_or_else(|| bad_row(&row.state))?;
    let correction = match &row.correction {
        Some(json) => Some(serde_json::from_str(json).map_err(bad_row)?),
        None => None,
    };
    Ok(Case {
        projection: Projection {
            state,
            data,
            step: row.step,
            number: row.number,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
            submitted_at: row.submitted_at.map(Timestamp),
            district: row.district_code,
            level: row.level,
            correction,
            parent: row.parent_id,
            title: row.title,
        },
        deadline: row
            .deadline
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        id: row.id,
        item_id: row.item_id,
        expires_at: row.expires_at.map(Timestamp),
    })
}

fn draft_expiry(item: &Item, now: Timestamp) -> Timestamp {
    now.after(Duration::from_secs(u64::from(item.draft_days) * 86_400))
}

fn json(data: &FormData) -> String {
    serde_json::to_string(data).expect("form data serialises")
}

pub(crate) fn event_row(case_id: &str, event: &Event, payload: String) -> EventRow {
    EventRow {
        case_id: case_id.to_string(),
        seq: event.seq,
        at: event.at.millis(),
        actor: event.actor.clone(),
        kind: event.body.kind().to_string(),
        payload,
        prev_digest: event.prev_digest.clone(),
        digest: event.digest.clone(),
    }
}

async fn create(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    data: FormData,
    from: Option<String>,
) -> Result<String, CaseError> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = Timestamp::now();
    let data = clean(item, &data);
    let (event, payload) = case::next_event(
        &id,
        None,
        &applicant.actor(),
        EventBody::Created {
            data: data.clone(),
            from,
        },
        now,
    );
    let mut tx = store.begin().await?;
    repo::insert(
        &mut tx,
        &CaseRow {
            id: id.clone(),
            number: None,
            item_id: item.id.clone(),
            applicant_kind: applicant.kind().into(),
            applicant_id: applicant.id().into(),
            state: CaseState::Draft.code().into(),
            step: None,
            data: json(&data),
            created_at: now.millis(),
            updated_at: now.millis(),
            submitted_at: None,
            expires_at: Some(draft_expiry(item, now).millis()),
            last_seq: event.seq,
            last_digest: event.digest.clone(),
            district_code: None,
            level: None,
            deadline: None,
            correction: None,
            parent_id: None,
            title: None,
        },
    )
    .await?;
    repo::append_event(&mut tx, &event_row(&id, &event, payload)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Starts a new application of `item`, prefilled from what is `known` about the applicant.
pub async fn start(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    known: &Known,
) -> Result<String, CaseError> {
    create(
        store,
        item,
        applicant,
        prefill::new_application(item, known),
        None,
    )
    .await
}

/// 再来一单: a new draft with the values of the applicant's last submitted case of `item`,
/// except the fields the item marks per-case.
pub async fn again(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    known: &Known,
) -> Result<String, CaseError> {
    let last = repo::latest_submitted(store, applicant.kind(), applicant.id(), &item.id)
        .await?
        .ok_or(CaseError::NothingToCopy)?;
    let previous = to_case(last)?;
    let data = prefill::again(item, &previous.projection.data, known);
    create(store, item, applicant, data, Some(previous.id)).await
}

/// The applicant's case `id`; another applicant's is `NotFound`.
pub async fn open(store: &Store, applicant: &Applicant, id: &str) -> Result<Case, CaseError> {
    let row = repo::by_id(store, id).await?.ok_or(CaseError::NotFound)?;
    if row.applicant_kind != applicant.kind() || row.applicant_id != applicant.id() {
        return Err(CaseError::NotFound);
    }
    Ok(to_case(row)?)
}

/// The applicant's draft `id` of `item`.
async fn owned_draft(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
) -> Result<CaseRow, CaseError> {
    owned(repo::by_id(store, id).await?, item, applicant)
}

/// `row` if it is a draft of `item` of the applicant's.
fn owned(row: Option<CaseRow>, item: &Item, applicant: &Applicant) -> Result<CaseRow, CaseError> {
    let row = row.ok_or(CaseError::NotFound)?;
    if row.applicant_kind != applicant.kind()
        || row.applicant_id != applicant.id()
        || row.item_id != item.id
    {
        return Err(CaseError::NotFound);
    }
    if row.state != CaseState::Draft.code() {
        return Err(CaseError::NotDraft);
    }
    Ok(row)
}

/// The applicant's case `id` of `item` where `material`'s files may change: a draft, or a case in
/// 补正 whose request marked that material.
async fn owned_for_material(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    material: &str,
) -> Result<CaseRow, CaseError> {
    match owned_draft(store, item, applicant, id).await {
        Err(CaseError::NotDraft) => {
            let row = repo::by_id(store, id).await?.ok_or(CaseError::NotFound)?;
            let case = to_case(row.clone())?;
            let marked = case
                .projection
                .correction
                .as_ref()
                .is_some_and(|c| c.materials().any(|m| m == material));
            if case.state() == CaseState::Correcting && marked {
                Ok(row)
            } else {
                Err(CaseError::NotDraft)
            }
        }
        other => other,
    }
}

/// Appends a material event to a case whose `material` may change (see [`owned_for_material`]).
pub(crate) async fn append_material_in(
    tx: &mut tongban_store::Tx,
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    material: &str,
    body: EventBody,
) -> Result<CaseRow, CaseError> {
    let row = owned_for_material(store, item, applicant, id, material).await?;
    chain(tx, row, &applicant.actor(), body, Timestamp::now()).await
}

/// Appends `body` to the applicant's draft `id` and writes the new projection.
async fn append(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    body: impl FnOnce(&mut repo::CaseRow, Timestamp) -> Result<EventBody, CaseError>,
) -> Result<CaseRow, CaseError> {
    let mut tx = store.begin().await?;
    let row = append_in(&mut tx, item, applicant, id, body).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`append`] inside the caller's transaction, so other writes can commit with the event.
async fn append_in(
    tx: &mut tongban_store::Tx,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    body: impl FnOnce(&mut repo::CaseRow, Timestamp) -> Result<EventBody, CaseError>,
) -> Result<CaseRow, CaseError> {
    // Read through the transaction: a second connection taken while this one is held could
    // wait for ever on a pool that every writer has emptied.
    let row = owned(repo::by_id_in(tx, id).await?, item, applicant)?;
    append_to(tx, row, applicant, body).await
}

/// Appends to the draft in `row`, read and authorised before the transaction.
async fn append_to(
    tx: &mut tongban_store::Tx,
    mut row: CaseRow,
    applicant: &Applicant,
    body: impl FnOnce(&mut repo::CaseRow, Timestamp) -> Result<EventBody, CaseError>,
) -> Result<CaseRow, CaseError> {
    let now = Timestamp::now();
    let body = body(&mut row, now)?;
    chain(tx, row, &applicant.actor(), body, now).await
}

/// Appends `body` by `actor` to the case in `row` (already authorised by the caller) and writes
/// the projection; `Conflict` if another event was appended since `row` was read.
pub(crate) async fn chain(
    tx: &mut tongban_store::Tx,
    mut row: CaseRow,
    actor: &str,
    body: EventBody,
    now: Timestamp,
) -> Result<CaseRow, CaseError> {
    let prev_seq = row.last_seq;
    let (event, payload) = case::next_event(
        &row.id,
        Some((row.last_seq, &row.last_digest)),
        actor,
        body,
        now,
    );
    row.updated_at = now.millis();
    row.last_seq = event.seq;
    row.last_digest = event.digest.clone();
    if !repo::advance(tx, &row, prev_seq, &event_row(&row.id, &event, payload)).await? {
        return Err(CaseError::Conflict);
    }
    Ok(row)
}

/// 暂存: keeps what is filled in (as typed), and the page the applicant is on; the draft is kept
/// another `draft_days` from now.
pub async fn save(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    data: &FormData,
    step: &str,
) -> Result<(), CaseError> {
    let data = clean(item, data);
    append(store, item, applicant, id, |row, now| {
        row.data = json(&data);
        row.step = Some(step.to_string());
        row.expires_at = Some(draft_expiry(item, now).millis());
        Ok(EventBody::Saved {
            data,
            step: step.to_string(),
        })
    })
    .await?;
    Ok(())
}

/// 提交: validates against the item and makes the draft a case with a number. An item with a
/// workflow counts its acceptance limit with the official holiday schedule; the server passes
/// its configured calendar through [`workflow::submit`].
pub async fn submit(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    data: &FormData,
) -> Result<String, CaseError> {
    submit_counting(store, None, item, applicant, id, data).await
}

pub(crate) async fn submit_counting(
    store: &Store,
    calendar: Option<&tongban_domain::calendar::WorkCalendar>,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    data: &FormData,
) -> Result<String, CaseError> {
    // Whose the draft is comes first: nothing about another's case may show in the answer.
    let draft = owned_draft(store, item, applicant, id).await?;
    // What the form shows, worked out once (it normalises every value) for the checks and for
    // what is stored.
    let visible = shown(item, data);
    let mut problems = validate_shown(item, data, &visible);
    let attached = repo::materials(store, id).await?;
    problems.extend(materials::missing(item, &visible.effective, &attached));
    problems.extend(ledgers::short(store, item, id, data).await?);
    if !item.ledger_rules.is_empty() {
        let rows = paper::ledger_rows_of(store, item, id, data).await?;
        for (_, rule) in &item.ledger_rules {
            problems.extend(rule(item, data, &rows));
        }
    }
    if !problems.is_empty() {
        return Err(CaseError::Invalid(problems));
    }
    let data = visible.effective;
    // Yearly reports are indexed, and cases handled, by the applicant's district (its
    // enterprise's); individuals' and others' go to the city bureau.
    let district = match applicant {
        Applicant::Enterprise { id, .. } if item.index.is_some() || item.workflow.is_some() => {
            tongban_store::enterprises::by_id(store, id)
                .await?
                .map(|e| e.district.code)
                .unwrap_or(tongban_domain::Jurisdiction::CITY.code)
        }
        _ => tongban_domain::Jurisdiction::CITY.code,
    };
    let handled = item.workflow.as_ref().map(|wf| {
        let official;
        let calendar = match calendar {
            Some(c) => c,
            None => {
                official = tongban_domain::calendar::WorkCalendar::official();
                &official
            }
        };
        let today = tongban_engine::workflow::beijing_date(Timestamp::now());
        calendar
            .add_working_days(today, wf.acceptance_days)
            .format("%Y-%m-%d")
            .to_string()
    });
    // The draft was checked before a number is drawn, so a refused submission uses none.
    let day = beijing_day(Timestamp::now());
    // Work that needs no number is done before the writer is taken: other submissions wait on it.
    let stored = json(&data);
    let ticket = repo::NumberTicket::reserve(store, &format!("{}{day}", item.case_prefix)).await?;
    let mut tx = store.begin().await?;
    let sequence = ticket.take(&mut tx).await?;
    let number = case::case_number(&item.case_prefix, &day, sequence);
    let indexed = data.clone();
    // The draft as read above: if anything was appended since, `chain` refuses with Conflict,
    // so the writer need not read it again.
    let row = append_to(&mut tx, draft, applicant, |row, now| {
        row.data = stored;
        row.state = CaseState::Submitted.code().into();
        row.number = Some(number.clone());
        row.submitted_at = Some(now.millis());
        row.expires_at = None;
        if handled.is_some() {
            row.district_code = Some(district.to_string());
            row.deadline = handled.clone();
        }
        Ok(EventBody::Submitted {
            data,
            number: number.clone(),
            district: handled.is_some().then(|| district.to_string()),
        })
    })
    .await?;
    if let Some(index) = reports::index_row(
        item,
        &row.id,
        &number,
        &indexed,
        district,
        Timestamp(row.submitted_at.unwrap_or(row.updated_at)),
    ) {
        tongban_store::case_index::upsert(&mut tx, &index).await?;
    }
    // The case library's message and the 固废链's, in one statement.
    let mut messages = solid_waste_chain::submitted(item, &row, &indexed, &attached);
    if item.workflow.is_some() {
        let progress = workflow::progress_message(item, &row, "submitted", "提交申请", "");
        messages.insert(0, progress);
    }
    tongban_store::outbox::push_all(&mut tx, &messages).await?;
    tx.commit().await?;
    Ok(number)
}

/// Deletes one of the applicant's drafts.
pub async fn delete_draft(store: &Store, applicant: &Applicant, id: &str) -> Result<(), CaseError> {
    let mut tx = store.begin().await?;
    if !repo::delete_draft(&mut tx, id, applicant.kind(), applicant.id()).await? {
        return Err(CaseError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The case's events, oldest first, checked against their chain.
pub async fn timeline(
    store: &Store,
    applicant: &Applicant,
    id: &str,
) -> Result<Vec<Event>, CaseError> {
    open(store, applicant, id).await?;
    Ok(events_of(store, id).await?)
}

/// Case `id`'s events, checked against their chain; the caller has authorised the reader.
pub(crate) async fn events_of(store: &Store, id: &str) -> Result<Vec<Event>, StoreError> {
    let rows = repo::events(store, id).await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let body: EventBody = serde_json::from_str(&r.payload).map_err(bad_row)?;
        events.push((
            Event {
                seq: r.seq,
                at: Timestamp(r.at),
                actor: r.actor,
                body,
                prev_digest: r.prev_digest,
                digest: r.digest,
            },
            r.payload,
        ));
    }
    case::verify(id, &events).map_err(bad_row)?;
    Ok(events.into_iter().map(|(e, _)| e).collect())
}

/// A page of the applicant's cases (我的办件).
pub struct CasePage {
    pub cases: Vec<Case>,
    pub total: i64,
}

pub const PAGE_SIZE: i64 = 10;

pub async fn list(
    store: &Store,
    applicant: &Applicant,
    filter: &CaseFilter,
    page: i64,
) -> Result<CasePage, CaseError> {
    let (rows, total) = repo::of_applicant(
        store,
        applicant.kind(),
        applicant.id(),
        filter,
        (page.max(1) - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    Ok(CasePage {
        cases: rows.into_iter().map(to_case).collect::<Result<_, _>>()?,
        total,
    })
}

/// Deletes drafts past their expiry (the scheduler runs this); returns how many.
pub async fn purge_expired(store: &Store, now: Timestamp) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let n = repo::purge_expired_drafts(&mut tx, now).await?;
    tx.commit().await?;
    Ok(n)
}

/// `[start, end)` of a Beijing calendar year in milliseconds, for the list's year filter.
pub fn year_range(year: i32) -> (i64, i64) {
    let start = |y: i32| {
        chrono::NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp_millis() - 8 * 3_600_000)
    };
    (start(year), start(year + 1))
}

/// `YYYYMMDD` of `t` in Beijing.
pub fn beijing_day(t: Timestamp) -> String {
    t.beijing()[..10].replace('-', "")
}

/// A message on the applicant's home page (企业主页 / 个人主页), from a case event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub at: Timestamp,
    pub case_id: String,
    pub item_id: String,
    pub number: Option<String>,
    /// The event kind (`created`, `submitted`, …).
    pub kind: String,
}

/// The events an applicant is told about; saves, files and ledger rows are their own doing.
pub(crate) const MESSAGE_KINDS: &[&str] = &[
    "created",
    "submitted",
    "accepted",
    "not_accepted",
    "correction_requested",
    "resubmitted",
    "reviewed",
    "split",
    "decided",
    "sub_case_decided",
    "licence_issued",
    "licence_revoked",
    "licence_expired",
];

/// The newest messages about the applicant's cases.
pub async fn messages(
    store: &Store,
    applicant: &Applicant,
    limit: i64,
) -> Result<Vec<Message>, CaseError> {
    let events = repo::applicant_events(
        store,
        applicant.kind(),
        applicant.id(),
        MESSAGE_KINDS,
        limit,
    )
    .await?;
    Ok(events
        .into_iter()
        .map(|e| Message {
            at: Timestamp(e.at),
            case_id: e.case_id,
            item_id: e.item_id,
            number: e.number,
            kind: e.kind,
        })
        .collect())
}
