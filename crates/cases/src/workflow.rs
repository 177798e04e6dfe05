//! The bureau's handling of submitted cases (受理 → 审查 → 决定 → 发证 → 办结), by the rules of the
//! item's workflow (`tongban_engine::workflow`). Every action is checked against the officer's
//! jurisdiction (a case outside it does not exist for them) and roles, appended as a case event,
//! and in the same transaction told to the applicant: a 企业主页 message (the event itself), a text
//! message through the SMS outbox, and a progress message for the city platform's case library
//! through the outbox. Licences go to the platform's licence repository the same way.
use chrono::NaiveDate;
use serde_json::json;
use tongban_crypto::FieldCipher;
use tongban_domain::audit::{AuditAction, NewAuditEntry};
use tongban_domain::calendar::WorkCalendar;
use tongban_domain::{Jurisdiction, Officer, Timestamp};
use tongban_engine::case::{
    self, CaseState, CorrectionPoint, Event, EventBody, OpenCorrection, SubCase,
};
use tongban_engine::validate::{shown, validate_shown};
use tongban_engine::workflow::{Act, Position, Urgency, Workflow, WorkflowError, beijing_date};
use tongban_engine::{FormData, Item, Problem};
use tongban_store::cases::{self as repo, CaseRow, QueueQuery};
use tongban_store::outbox::{self, NewMessage};
use tongban_store::{Store, StoreError, Tx};

use crate::{Applicant, Case, CaseError, chain, letters, materials, to_case};

/// Where progress messages go: the city platform's case library (办件库).
pub const CASE_LIBRARY: &str = "case_library";
/// Where licences go: the city platform's licence repository (电子证照库).
pub const LICENCE_REPOSITORY: &str = "licence_repository";

/// What handling a case needs: the store, the working-day calendar, the field keys that seal
/// text messages in the outbox, and the file store and bureau for the documents it issues.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    pub store: &'a Store,
    pub calendar: &'a WorkCalendar,
    pub fields: &'a FieldCipher,
    pub files: &'a tongban_files::FileStore,
    pub bureau: &'a std::sync::Arc<crate::issuing::Bureau>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("办件不存在或不在您的管辖范围内")]
    NotFound,
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Issue(#[from] crate::issuing::IssueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn officer_actor(officer: &Officer) -> String {
    format!("officer:{}", officer.id.as_str())
}

/// 提交 through the desk, so the acceptance limit counts with the configured calendar.
pub async fn submit(
    desk: &Desk<'_>,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    data: &FormData,
) -> Result<String, CaseError> {
    crate::submit_counting(desk.store, Some(desk.calendar), item, applicant, id, data).await
}

/// Queues a progress message about `row` for the city platform's case library.
pub(crate) async fn report_progress(
    tx: &mut Tx,
    item: &Item,
    row: &CaseRow,
    kind: &str,
    label: &str,
    detail: &str,
) -> Result<(), StoreError> {
    outbox::push(tx, &progress_message(item, row, kind, label, detail)).await?;
    Ok(())
}

/// The case library's message of [`report_progress`].
pub(crate) fn progress_message(
    item: &Item,
    row: &CaseRow,
    kind: &str,
    label: &str,
    detail: &str,
) -> NewMessage {
    let state = CaseState::parse(&row.state).unwrap_or(CaseState::Submitted);
    NewMessage {
        destination: CASE_LIBRARY.into(),
        case_id: Some(row.id.clone()),
        kind: kind.into(),
        payload: json!({
            "case_number": row.number,
            "item_id": item.id,
            "item_name": item.name,
            "applicant": { "kind": row.applicant_kind, "id": row.applicant_id },
            "district": row.district_code,
            "state": state.code(),
            "state_label": state.label(),
            "event": kind,
            "label": label,
            "detail": detail,
            "at": Timestamp::now().beijing(),
        }),
    }
}

/// Queues a text message to the phone the item names in the form, if it holds one.
async fn text_applicant(
    tx: &mut Tx,
    desk: &Desk<'_>,
    item: &Item,
    data: &FormData,
    number: &str,
    what: &str,
) -> Result<(), StoreError> {
    let Some(phone) = item
        .workflow
        .as_ref()
        .and_then(|w| w.sms_field.as_deref())
        .and_then(|f| data.one(f))
    else {
        return Ok(());
    };
    let text = format!(
        "【上海市生态环境局】您申请的“{}”（办件编号{number}）{what}。详情请登录“一网通办”查看。",
        item.name
    );
    tongban_identity::sms::enqueue(tx, desk.fields, phone, &text).await
}

/// The officer's view of a case: the case, its events and its sub-cases.
#[derive(Debug, Clone)]
pub struct Handling {
    pub case: Case,
    pub row: CaseRow,
    pub events: Vec<Event>,
    pub children: Vec<Case>,
}

impl Handling {
    pub fn position(&self) -> Position<'_> {
        Position {
            state: self.case.state(),
            level: self.case.projection.level.as_deref(),
            children_pending: self.children.iter().any(|c| c.state().is_open()),
            is_child: self.case.projection.parent.is_some(),
        }
    }

    pub fn urgency(
        &self,
        today: NaiveDate,
        calendar: &WorkCalendar,
        wf: &Workflow,
    ) -> Option<Urgency> {
        self.case
            .deadline
            .map(|d| Urgency::of(d, today, calendar, wf.due_soon_days))
    }
}

fn workflow_of(item: &Item) -> Result<&Workflow, WorkError> {
    item.workflow.as_ref().ok_or(WorkError::NotFound)
}

fn jurisdiction_of(row: &CaseRow) -> Jurisdiction {
    row.district_code
        .as_deref()
        .and_then(Jurisdiction::by_code)
        .unwrap_or(Jurisdiction::CITY)
}

/// Case `id` of `item` as `officer` may see it: submitted, of the item, in their jurisdiction.
pub async fn open(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
) -> Result<Handling, WorkError> {
    workflow_of(item)?;
    let row = repo::by_id(desk.store, id)
        .await?
        .ok_or(WorkError::NotFound)?;
    if row.item_id != item.id
        || row.state == CaseState::Draft.code()
        || !officer.covers(&jurisdiction_of(&row))
    {
        return Err(WorkError::NotFound);
    }
    let events = crate::events_of(desk.store, id).await?;
    let children = repo::children(desk.store, id)
        .await?
        .into_iter()
        .map(to_case)
        .collect::<Result<_, _>>()?;
    Ok(Handling {
        case: to_case(row.clone())?,
        row,
        events,
        children,
    })
}

/// Appends `body` to the case in `h`, with the projection and deadline it leads to, inside `tx`;
/// returns the row after it. A change of a case on the 固废链 is queued for it in `tx` too.
async fn record(
    tx: &mut Tx,
    desk: &Desk<'_>,
    wf: &Workflow,
    row: CaseRow,
    events: Vec<Event>,
    actor: &str,
    body: EventBody,
) -> Result<CaseRow, WorkError> {
    record_with(tx, desk, wf, row, events, actor, body, None).await
}

/// [`record`], with the item and materials of an amended application (a resubmission) for
/// the 固废链.
#[allow(clippy::too_many_arguments)]
async fn record_with(
    tx: &mut Tx,
    desk: &Desk<'_>,
    wf: &Workflow,
    mut row: CaseRow,
    mut events: Vec<Event>,
    actor: &str,
    body: EventBody,
    amended: Option<(&Item, &[repo::MaterialRow])>,
) -> Result<CaseRow, WorkError> {
    let now = Timestamp::now();
    let mut projection = to_case(row.clone())?.projection;
    let (event, _) = case::next_event(
        &row.id,
        Some((row.last_seq, &row.last_digest)),
        actor,
        body.clone(),
        now,
    );
    projection.apply(&event);
    row.state = projection.state.code().into();
    row.level = projection.level.clone();
    row.data = serde_json::to_string(&projection.data).expect("form data serialises");
    row.correction = projection
        .correction
        .as_ref()
        .map(|c| serde_json::to_string(c).expect("corrections serialise"));
    events.push(event);
    row.deadline = wf.deadline(desk.calendar, &events).map(day);
    let row = chain(tx, row, actor, body, now).await?;
    if let Some((event, before)) = events.split_last() {
        crate::solid_waste_chain::recorded(tx, &row, before, event, amended).await?;
    }
    Ok(row)
}

async fn audit(
    tx: &mut Tx,
    officer: &Officer,
    row: &CaseRow,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    tongban_store::audit::append(
        tx,
        &NewAuditEntry {
            actor: officer_actor(officer),
            action: AuditAction::CaseAction,
            object: format!("case:{}", row.id),
            detail: json!({ "action": action, "number": row.number, "detail": detail }),
        },
    )
    .await?;
    Ok(())
}

/// Tells the applicant (home page by the event itself, SMS, the case library) what happened.
async fn tell(
    tx: &mut Tx,
    desk: &Desk<'_>,
    item: &Item,
    row: &CaseRow,
    kind: &str,
    label: &str,
    detail: &str,
) -> Result<(), WorkError> {
    // A sub-case's progress reaches the applicant through its parent.
    if row.parent_id.is_some() {
        return Ok(());
    }
    report_progress(tx, item, row, kind, label, detail).await?;
    // A text message for what the home page tells too (not for housekeeping such as 归档).
    if crate::MESSAGE_KINDS.contains(&kind) {
        let data: FormData = serde_json::from_str(&row.data).unwrap_or_default();
        let number = row.number.clone().unwrap_or_default();
        text_applicant(tx, desk, item, &data, &number, label).await?;
    }
    Ok(())
}

fn required_text(value: &str, what: &str) -> Result<String, WorkError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(WorkError::Invalid(format!("请填写{what}")));
    }
    if v.chars().count() > 2000 {
        return Err(WorkError::Invalid(format!("{what}不超过2000个字")));
    }
    Ok(v.to_string())
}

/// One officer action on one case: checked, recorded, audited and told, in one transaction.
async fn act(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    what: Act,
    body: impl FnOnce(&Handling, &Workflow) -> Result<EventBody, WorkError>,
) -> Result<CaseRow, WorkError> {
    let wf = workflow_of(item)?;
    let h = open(desk, item, officer, id).await?;
    wf.may(&officer.roles, &h.position(), what)?;
    let body = body(&h, wf)?;
    let (kind, label) = (body.kind(), body.label());
    let detail = match &body {
        EventBody::Accepted { opinion, .. }
        | EventBody::Reviewed { opinion, .. }
        | EventBody::Decided { opinion, .. } => opinion.clone(),
        EventBody::NotAccepted { reason } => reason.clone(),
        EventBody::CorrectionRequested { note, .. } => note.clone(),
        _ => String::new(),
    };
    let mut tx = desk.store.begin().await?;
    let row = record(
        &mut tx,
        desk,
        wf,
        h.row.clone(),
        h.events.clone(),
        &officer_actor(officer),
        body,
    )
    .await?;
    audit(&mut tx, officer, &row, what.label(), &detail).await?;
    tell(&mut tx, desk, item, &row, kind, label, &detail).await?;
    tx.commit().await?;
    Ok(row)
}

/// 受理: the case goes to the first 审查 level.
pub async fn accept(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    opinion: &str,
) -> Result<(), WorkError> {
    let opinion = match opinion.trim() {
        "" => "申请材料齐全，符合法定形式，予以受理。".to_string(),
        o => required_text(o, "受理意见")?,
    };
    act(desk, item, officer, id, Act::Accept, |_, wf| {
        Ok(EventBody::Accepted {
            opinion,
            level: wf.first_level().id.clone(),
        })
    })
    .await?;
    Ok(())
}

/// 不予受理, with the reason.
pub async fn not_accept(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    reason: &str,
) -> Result<(), WorkError> {
    let reason = required_text(reason, "不予受理理由")?;
    act(desk, item, officer, id, Act::NotAccept, |_, _| {
        Ok(EventBody::NotAccepted { reason })
    })
    .await?;
    Ok(())
}

/// What an officer marks for 补正: targets (`field:<id>` / `material:<id>`) with notes.
#[derive(Debug, Clone, Default)]
pub struct CorrectionRequest {
    pub points: Vec<(String, String)>,
    pub note: String,
}

/// 补正告知: checks every marked field and material belongs to the application and has a note,
/// issues the sealed 补正告知书 (with a QR code for the progress) and records both; returns the
/// open correction.
pub async fn request_correction(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    request: &CorrectionRequest,
) -> Result<OpenCorrection, WorkError> {
    let wf = workflow_of(item)?;
    let h = open(desk, item, officer, id).await?;
    wf.may(&officer.roles, &h.position(), Act::RequestCorrection)?;
    let data = &h.case.projection.data;
    let mut points = vec![];
    for (target, note) in &request.points {
        let label = if let Some(field) = target.strip_prefix("field:") {
            item.fields()
                .find(|(_, _, f)| f.id == field)
                .filter(|_| is_shown(item, data, field))
                .map(|(_, _, f)| f.label.clone())
        } else if let Some(material) = target.strip_prefix("material:") {
            item.materials
                .iter()
                .find(|m| m.id == material)
                .filter(|m| m.show_if.as_ref().is_none_or(|c| c.holds(data)))
                .map(|m| m.name.clone())
        } else {
            None
        }
        .ok_or_else(|| WorkError::Invalid(format!("补正项“{target}”不是本申请的字段或材料")))?;
        let note = note.trim();
        if note.is_empty() {
            return Err(WorkError::Invalid(format!("请填写「{label}」的补正意见")));
        }
        points.push(CorrectionPoint {
            target: target.clone(),
            label,
            note: note.chars().take(500).collect(),
        });
    }
    if points.is_empty() {
        return Err(WorkError::Invalid("请至少勾选一项需要补正的内容".into()));
    }
    let note: String = request.note.trim().chars().take(2000).collect();
    let today = beijing_date(Timestamp::now());
    let due = wf.correction_due(desk.calendar, today);
    let number = letter_number(desk, CORRECTION_PREFIX).await?;
    let letter = letters::correction_notice(
        item,
        &h.case,
        &points,
        &note,
        due,
        &number,
        &desk.bureau.name,
    );
    let prepared = crate::issuing::prepare_letter(
        desk.files,
        desk.bureau,
        tongban_documents::DocumentKind::CorrectionNotice,
        letter,
        id,
        Some(crate::issuing::ProgressQr {
            case_number: h.case.projection.number.clone().unwrap_or_default(),
        }),
    )
    .await?;
    let actor = officer_actor(officer);
    let mut tx = desk.store.begin().await?;
    let row = crate::issuing::record_letter(&mut tx, &prepared.row, h.row.clone(), &actor).await?;
    let row = record(
        &mut tx,
        desk,
        wf,
        row,
        h.events.clone(),
        &actor,
        EventBody::CorrectionRequested {
            points,
            note: note.clone(),
            due: day(due),
        },
    )
    .await?;
    audit(&mut tx, officer, &row, "补正告知", &note).await?;
    let detail = format!("请于{}前补正", day(due));
    tell(
        &mut tx,
        desk,
        item,
        &row,
        "correction_requested",
        "补正告知",
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(to_case(row)?
        .projection
        .correction
        .expect("a correction was just requested"))
}

/// The 文号 prefix of 补正告知书.
pub const CORRECTION_PREFIX: &str = "沪环补";

/// The next 文号 with `prefix` this year, e.g. 沪环土函〔2026〕3号.
async fn letter_number(desk: &Desk<'_>, prefix: &str) -> Result<String, WorkError> {
    let year = beijing_date(Timestamp::now()).format("%Y").to_string();
    let mut tx = desk.store.begin().await?;
    let n = repo::next_number(&mut tx, &format!("letter:{prefix}:{year}")).await?;
    tx.commit().await?;
    Ok(format!("{prefix}〔{year}〕{n}号"))
}

/// 提交补正 by the applicant: only the marked fields take the posted values (the rest of the
/// form stays as submitted), the whole application is checked again, and every marked material
/// must have a file uploaded since the request.
pub async fn resubmit(
    desk: &Desk<'_>,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    posted: &FormData,
) -> Result<(), CaseError> {
    let case = crate::open(desk.store, applicant, id).await?;
    let (Some(wf), Some(correction)) = (&item.workflow, &case.projection.correction) else {
        return Err(CaseError::NotCorrecting);
    };
    if case.state() != CaseState::Correcting || case.item_id != item.id {
        return Err(CaseError::NotCorrecting);
    }
    let mut data = case.projection.data.clone();
    for field in &correctable_fields(item, correction) {
        match posted.values.get(field) {
            Some(v) => {
                data.values.insert(field.to_string(), v.clone());
            }
            None => {
                data.values.remove(field);
            }
        }
    }
    // What the form shows, worked out once, as at 提交.
    let visible = shown(item, &data);
    let mut problems = validate_shown(item, &data, &visible);
    let attached = repo::materials(desk.store, id).await?;
    problems.extend(materials::missing(item, &visible.effective, &attached));
    for material in correction.materials() {
        let renewed = attached
            .iter()
            .any(|m| m.material_id == material && m.uploaded_at >= correction.requested_at);
        if !renewed {
            let name = item
                .materials
                .iter()
                .find(|m| m.id == material)
                .map_or(material, |m| m.name.as_str());
            problems.push(Problem {
                field: format!("material:{material}"),
                message: format!("{name}：请按补正意见重新上传"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(CaseError::Invalid(problems));
    }
    let data = visible.effective;
    let row = repo::by_id(desk.store, id)
        .await?
        .ok_or(CaseError::NotFound)?;
    let events = crate::events_of(desk.store, id).await?;
    let mut tx = desk.store.begin().await?;
    let row = record_with(
        &mut tx,
        desk,
        wf,
        row,
        events,
        &applicant.actor(),
        EventBody::Resubmitted { data },
        Some((item, &attached)),
    )
    .await
    .map_err(|e| match e {
        WorkError::Case(e) => e,
        WorkError::Store(e) => CaseError::Store(e),
        other => CaseError::Store(StoreError::InvalidRow(other.to_string())),
    })?;
    report_progress(&mut tx, item, &row, "resubmitted", "提交补正", "").await?;
    tx.commit().await?;
    Ok(())
}

/// The fields the applicant may change in answer to `correction`: those marked, and those whose
/// showing depends on one of them (a changed choice can reveal a field that must then be
/// filled). Conditions only read fields defined earlier, so one pass in document order finds
/// them all.
pub fn correctable_fields(item: &Item, correction: &OpenCorrection) -> Vec<String> {
    let mut open: Vec<String> = correction.fields().map(str::to_string).collect();
    for (_, section, field) in item.fields() {
        if open.contains(&field.id) {
            continue;
        }
        let reads = section
            .show_if
            .iter()
            .chain(&field.show_if)
            .flat_map(|c| c.fields())
            .any(|f| open.iter().any(|o| o == f));
        if reads {
            open.push(field.id.clone());
        }
    }
    open
}

/// Whether field `id` is shown in `data` (so it may be marked for correction).
pub fn is_shown(item: &Item, data: &FormData, id: &str) -> bool {
    shown(item, data).fields.contains(id)
}

/// 审查通过 at the current level: on to the next.
pub async fn pass(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    opinion: &str,
) -> Result<(), WorkError> {
    let opinion = required_text(opinion, "审查意见")?;
    act(desk, item, officer, id, Act::Pass, |h, wf| {
        let level = h.case.projection.level.clone().unwrap_or_default();
        let next = wf
            .next_level(&level)
            .ok_or(WorkflowError::NotNow {
                state: "审批",
                act: "审查通过",
            })?
            .id
            .clone();
        Ok(EventBody::Reviewed {
            level,
            opinion,
            next,
        })
    })
    .await?;
    Ok(())
}

/// Opens parallel sub-cases of a case in review, one per `(title, district code)`, each handled
/// by that district's bureau from the first level, due when the parent is.
pub async fn split(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    parts: &[(String, String)],
) -> Result<Vec<String>, WorkError> {
    let wf = workflow_of(item)?;
    if parts.len() < 2 {
        return Err(WorkError::Invalid("并联审查至少拆分为两个子件".into()));
    }
    let mut children = vec![];
    for (i, (title, district)) in parts.iter().enumerate() {
        let title = required_text(title, "子件名称")?;
        let district = Jurisdiction::by_code(district)
            .ok_or_else(|| WorkError::Invalid(format!("第{}个子件的承办单位有误", i + 1)))?;
        children.push(SubCase {
            id: uuid::Uuid::now_v7().to_string(),
            title,
            district: district.code.to_string(),
        });
    }
    let h = open(desk, item, officer, id).await?;
    wf.may(&officer.roles, &h.position(), Act::Split)?;
    let parent_number = h.case.projection.number.clone().unwrap_or_default();
    let due = h.row.deadline.clone().unwrap_or_default();
    let actor = officer_actor(officer);
    let now = Timestamp::now();
    let mut tx = desk.store.begin().await?;
    for (i, child) in children.iter().enumerate() {
        let number = format!("{parent_number}-{}", i + 1);
        let body = EventBody::SubCaseOpened {
            parent: h.case.id.clone(),
            title: child.title.clone(),
            data: h.case.projection.data.clone(),
            number: number.clone(),
            district: child.district.clone(),
            level: wf.first_level().id.clone(),
            due: due.clone(),
        };
        let (event, payload) = case::next_event(&child.id, None, &actor, body, now);
        repo::insert(
            &mut tx,
            &CaseRow {
                id: child.id.clone(),
                number: Some(number),
                item_id: item.id.clone(),
                applicant_kind: h.row.applicant_kind.clone(),
                applicant_id: h.row.applicant_id.clone(),
                state: CaseState::Reviewing.code().into(),
                step: None,
                data: h.row.data.clone(),
                created_at: now.millis(),
                updated_at: now.millis(),
                submitted_at: Some(now.millis()),
                expires_at: None,
                last_seq: event.seq,
                last_digest: event.digest.clone(),
                district_code: Some(child.district.clone()),
                level: Some(wf.first_level().id.clone()),
                deadline: (!due.is_empty()).then(|| due.clone()),
                correction: None,
                parent_id: Some(h.case.id.clone()),
                title: Some(child.title.clone()),
            },
        )
        .await?;
        repo::append_event(&mut tx, &crate::event_row(&child.id, &event, payload)).await?;
    }
    let row = record(
        &mut tx,
        desk,
        wf,
        h.row.clone(),
        h.events.clone(),
        &actor,
        EventBody::Split {
            children: children.clone(),
        },
    )
    .await?;
    let titles = children
        .iter()
        .map(|c| c.title.as_str())
        .collect::<Vec<_>>()
        .join("、");
    audit(&mut tx, officer, &row, "拆分并联审查", &titles).await?;
    tell(&mut tx, desk, item, &row, "split", "拆分并联审查", &titles).await?;
    tx.commit().await?;
    Ok(children.into_iter().map(|c| c.id).collect())
}

/// The decision of the last level. For a sub-case it closes the sub-case and is reported to the
/// parent, which moves to its next level when no other sub-case is open. For a case, a grant
/// with a licence to issue waits for 发证; otherwise the case is 办结. `letter` is the sealed
/// reply (复函) recorded with the decision, when one was drafted.
pub async fn decide(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    granted: bool,
    opinion: &str,
    letter: Option<&crate::issuing::Prepared>,
) -> Result<(), WorkError> {
    let wf = workflow_of(item)?;
    let opinion = required_text(opinion, "审批意见")?;
    let h = open(desk, item, officer, id).await?;
    wf.may(&officer.roles, &h.position(), Act::Decide)?;
    let is_child = h.case.projection.parent.is_some();
    let level = h.case.projection.level.clone().unwrap_or_default();
    let closed = is_child || !granted || wf.licence.is_none();
    let actor = officer_actor(officer);
    let mut tx = desk.store.begin().await?;
    let mut row = h.row.clone();
    if let Some(letter) = letter {
        row = crate::issuing::record_letter(&mut tx, &letter.row, row, &actor).await?;
    }
    let row = record(
        &mut tx,
        desk,
        wf,
        row,
        h.events.clone(),
        &actor,
        EventBody::Decided {
            level,
            granted,
            opinion: opinion.clone(),
            closed,
        },
    )
    .await?;
    let label = if granted {
        "准予许可"
    } else {
        "不予许可"
    };
    audit(&mut tx, officer, &row, label, &opinion).await?;
    tell(&mut tx, desk, item, &row, "decided", label, &opinion).await?;
    if let Some(parent_id) = &h.case.projection.parent {
        let parent = repo::by_id(desk.store, parent_id)
            .await?
            .ok_or(WorkError::NotFound)?;
        let siblings_open = repo::children(desk.store, parent_id)
            .await?
            .iter()
            .any(|c| {
                c.id != h.case.id && CaseState::parse(&c.state).is_some_and(CaseState::is_open)
            });
        let next = match (&parent.level, siblings_open) {
            (Some(level), false) => wf.next_level(level).map(|l| l.id.clone()),
            _ => None,
        };
        let title = h.case.projection.title.clone().unwrap_or_default();
        let parent_events = crate::events_of(desk.store, parent_id).await?;
        let parent = record(
            &mut tx,
            desk,
            wf,
            parent,
            parent_events,
            "system",
            EventBody::SubCaseDecided {
                child: h.case.id.clone(),
                title: title.clone(),
                granted,
                next,
            },
        )
        .await?;
        let detail = format!("{title}：{label}");
        tell(
            &mut tx,
            desk,
            item,
            &parent,
            "sub_case_decided",
            "并联审查办结",
            &detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// 发证: issues the electronic licence of a granted case from the item's licence spec, records
/// it with the case (now 办结) and sends it to the licence repository, in one transaction.
pub async fn issue_licence(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
) -> Result<tongban_store::documents::IssuedRow, WorkError> {
    let wf = workflow_of(item)?;
    let spec = wf.licence.as_ref().ok_or(WorkflowError::NoLicence)?;
    let h = open(desk, item, officer, id).await?;
    wf.may(&officer.roles, &h.position(), Act::IssueLicence)?;
    let data = &h.case.projection.data;
    let today = beijing_date(Timestamp::now());
    let valid_until = spec
        .valid_until_field
        .as_deref()
        .and_then(|f| data.one(f))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let holder = data.one(&spec.holder_field).unwrap_or_default().to_string();
    let case_number = h.case.projection.number.clone().unwrap_or_default();
    let year = today.format("%Y").to_string();
    let mut tx = desk.store.begin().await?;
    let sequence =
        repo::next_number(&mut tx, &format!("licence:{}:{year}", spec.number_prefix)).await?;
    tx.commit().await?;
    let number = format!("{}〔{year}〕{sequence}号", spec.number_prefix);
    let mut fields: Vec<tongban_documents::Field> = spec
        .fields
        .iter()
        .filter_map(|f| {
            let (_, _, field) = item.fields().find(|(_, _, x)| &x.id == f)?;
            let value = data.many(f).join("、");
            if value.is_empty() {
                return None;
            }
            let unit = match &field.kind {
                tongban_engine::FieldKind::Number { unit: Some(u), .. } => u.as_str(),
                _ => "",
            };
            Some(tongban_documents::Field::new(
                field.label.clone(),
                format!("{value}{unit}"),
            ))
        })
        .collect();
    fields.push(tongban_documents::Field::new(
        "办件编号",
        case_number.clone(),
    ));
    let print = |d: NaiveDate| d.format("%Y年%m月%d日").to_string();
    let request = crate::issuing::LicenceRequest {
        kind: tongban_documents::DocumentKind::Licence,
        licence: tongban_documents::Licence {
            title: spec.title.clone(),
            number: number.clone(),
            holder: holder.clone(),
            fields,
            valid_from: print(today),
            valid_until: valid_until.map_or_else(|| "长期".into(), print),
            issuer: desk.bureau.name.clone(),
            date: print(today),
            note: Some(format!("依据{}（{}）核发。", item.name, case_number)),
            qr: true,
        },
        facts: vec![number.clone(), case_number.clone()],
        issued: today,
        valid_until,
        case_id: Some(h.case.id.clone()),
    };
    let prepared = crate::issuing::prepare_licence(desk.files, desk.bureau, request).await?;
    let actor = officer_actor(officer);
    let mut tx = desk.store.begin().await?;
    tongban_store::documents::insert(&mut tx, &prepared.row).await?;
    let row = record(
        &mut tx,
        desk,
        wf,
        h.row.clone(),
        h.events.clone(),
        &actor,
        EventBody::LicenceIssued {
            document_id: prepared.row.id.clone(),
            number: number.clone(),
        },
    )
    .await?;
    audit(&mut tx, officer, &row, "发证", &number).await?;
    tell(
        &mut tx,
        desk,
        item,
        &row,
        "licence_issued",
        "电子证照已发放",
        &number,
    )
    .await?;
    push_licence(&mut tx, &prepared.row, &row, "issued", None).await?;
    tx.commit().await?;
    Ok(prepared.row)
}

async fn push_licence(
    tx: &mut Tx,
    licence: &tongban_store::documents::IssuedRow,
    case: &CaseRow,
    status: &str,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    outbox::push(
        tx,
        &NewMessage {
            destination: LICENCE_REPOSITORY.into(),
            case_id: Some(case.id.clone()),
            kind: format!("licence_{status}"),
            payload: json!({
                "licence_id": licence.id,
                "number": licence.number,
                "title": licence.title,
                "holder": licence.holder,
                "case_number": case.number,
                "issued_at": Timestamp(licence.issued_at).beijing(),
                "valid_until": licence.valid_until,
                "status": status,
                "reason": reason,
                "file_sm3": licence.file_digest,
            }),
        },
    )
    .await?;
    Ok(())
}

/// 撤销 a licence issued on a case, with the reason: the verification page shows 已失效 at once,
/// the applicant is told and the licence repository updated.
pub async fn revoke_licence(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    reason: &str,
) -> Result<(), WorkError> {
    let wf = workflow_of(item)?;
    let reason = required_text(reason, "撤销原因")?;
    let h = open(desk, item, officer, id).await?;
    if !officer.has_role(tongban_domain::OfficerRole::Approval) {
        return Err(WorkflowError::NotYourRole {
            stage: "发证".into(),
            act: "撤销证照",
        }
        .into());
    }
    let licence = tongban_store::documents::of_case(desk.store, id)
        .await?
        .into_iter()
        .find(|d| {
            d.kind == tongban_documents::DocumentKind::Licence.as_str() && d.revoked_at.is_none()
        })
        .ok_or_else(|| WorkError::Invalid("该办件没有有效的电子证照".into()))?;
    let now = Timestamp::now();
    let mut tx = desk.store.begin().await?;
    if !tongban_store::documents::revoke(&mut tx, &licence.id, &reason, now).await? {
        return Err(WorkError::Invalid("该电子证照已失效".into()));
    }
    let row = record(
        &mut tx,
        desk,
        wf,
        h.row.clone(),
        h.events.clone(),
        &officer_actor(officer),
        EventBody::LicenceRevoked {
            document_id: licence.id.clone(),
            number: licence.number.clone(),
            reason: reason.clone(),
        },
    )
    .await?;
    audit(&mut tx, officer, &row, "撤销证照", &reason).await?;
    tell(
        &mut tx,
        desk,
        item,
        &row,
        "licence_revoked",
        "电子证照已撤销",
        &reason,
    )
    .await?;
    push_licence(&mut tx, &licence, &row, "revoked", Some(&reason)).await?;
    tx.commit().await?;
    Ok(())
}

/// 归档 a finished case.
pub async fn archive(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
) -> Result<(), WorkError> {
    act(desk, item, officer, id, Act::Archive, |_, _| {
        Ok(EventBody::Archived)
    })
    .await?;
    Ok(())
}

/// The workbench's queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// 待受理
    Acceptance,
    /// 待审查: in review below the last level
    Review,
    /// 待审批: at the last level, or granted and waiting for 发证
    Approval,
    /// 补正中
    Correcting,
    /// 即将超期
    DueSoon,
    /// 已超期
    Overdue,
    /// 已办结 (办结, 不予受理, 归档)
    Done,
}

impl Queue {
    pub const ALL: [Queue; 7] = [
        Self::Acceptance,
        Self::Review,
        Self::Approval,
        Self::Correcting,
        Self::DueSoon,
        Self::Overdue,
        Self::Done,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Acceptance => "acceptance",
            Self::Review => "review",
            Self::Approval => "approval",
            Self::Correcting => "correcting",
            Self::DueSoon => "due-soon",
            Self::Overdue => "overdue",
            Self::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Queue> {
        Self::ALL.into_iter().find(|q| q.code() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Acceptance => "待受理",
            Self::Review => "待审查",
            Self::Approval => "待审批",
            Self::Correcting => "补正中",
            Self::DueSoon => "即将超期",
            Self::Overdue => "已超期",
            Self::Done => "已办结",
        }
    }
}

/// One page of a queue.
pub struct QueuePage {
    pub cases: Vec<Case>,
    pub total: i64,
}

pub const QUEUE_PAGE: i64 = 20;

/// The query a queue runs for `officer` over the `items` (with workflows): pinned to their
/// jurisdiction; review and approval queues by level.
fn queue_query(
    desk: &Desk<'_>,
    items: &[&Item],
    officer: &Officer,
    queue: Queue,
    keyword: &str,
    approval_levels: bool,
) -> Vec<QueueQuery> {
    let today = beijing_date(Timestamp::now());
    let district = (!officer.jurisdiction.is_city()).then(|| officer.jurisdiction.code.to_string());
    let base = |states: Vec<&'static str>| QueueQuery {
        items: items.iter().map(|i| i.id.clone()).collect(),
        states,
        district: district.clone(),
        keyword: keyword.to_string(),
        ..QueueQuery::default()
    };
    let open = vec!["submitted", "reviewing", "granted"];
    match queue {
        Queue::Acceptance => vec![base(vec!["submitted"])],
        Queue::Correcting => vec![base(vec!["correcting"])],
        Queue::Done => vec![base(vec!["closed", "not_accepted", "archived"])],
        Queue::Overdue => vec![QueueQuery {
            deadline_to: Some(day(today - chrono::Duration::days(1))),
            ..base(open)
        }],
        Queue::DueSoon => {
            // The largest due-soon threshold of the items; each case's own is checked on display.
            let soon = items
                .iter()
                .filter_map(|i| i.workflow.as_ref())
                .map(|w| w.due_soon_days)
                .max()
                .unwrap_or(3);
            vec![QueueQuery {
                deadline_from: Some(day(today)),
                deadline_to: Some(day(desk.calendar.add_working_days(today, soon))),
                ..base(open)
            }]
        }
        Queue::Review | Queue::Approval => {
            // By level: each item's last level is 审批, the others 审查.
            let mut out = vec![];
            for item in items {
                let Some(wf) = &item.workflow else { continue };
                let levels: Vec<&str> = if approval_levels {
                    wf.levels
                        .last()
                        .map(|l| l.id.as_str())
                        .into_iter()
                        .collect()
                } else {
                    wf.levels[..wf.levels.len() - 1]
                        .iter()
                        .map(|l| l.id.as_str())
                        .collect()
                };
                for level in levels {
                    out.push(QueueQuery {
                        items: vec![item.id.clone()],
                        level: Some(level.to_string()),
                        ..base(vec!["reviewing"])
                    });
                }
                if approval_levels {
                    out.push(QueueQuery {
                        items: vec![item.id.clone()],
                        ..base(vec!["granted"])
                    });
                }
            }
            out
        }
    }
}

/// A page of `queue` for `officer`, most urgent first.
pub async fn queue(
    desk: &Desk<'_>,
    items: &[&Item],
    officer: &Officer,
    queue: Queue,
    keyword: &str,
    page: i64,
) -> Result<QueuePage, WorkError> {
    let queries = queue_query(
        desk,
        items,
        officer,
        queue,
        keyword,
        queue == Queue::Approval,
    );
    let offset = (page.max(1) - 1) * QUEUE_PAGE;
    if let [one] = queries.as_slice() {
        let (rows, total) = repo::queue(desk.store, one, offset, QUEUE_PAGE).await?;
        return Ok(QueuePage {
            cases: rows.into_iter().map(to_case).collect::<Result<_, _>>()?,
            total,
        });
    }
    // Several levels: few cases each in practice; merge them by urgency, then page.
    let mut all = vec![];
    let mut total = 0;
    for q in &queries {
        let (rows, n) = repo::queue(desk.store, q, 0, offset + QUEUE_PAGE).await?;
        total += n;
        all.extend(rows);
    }
    all.sort_by(|a, b| {
        (a.deadline.is_none(), &a.deadline, a.submitted_at).cmp(&(
            b.deadline.is_none(),
            &b.deadline,
            b.submitted_at,
        ))
    });
    let cases = all
        .into_iter()
        .skip(offset as usize)
        .take(QUEUE_PAGE as usize)
        .map(to_case)
        .collect::<Result<_, _>>()?;
    Ok(QueuePage { cases, total })
}

/// How many cases each queue holds for `officer`.
pub async fn queue_counts(
    desk: &Desk<'_>,
    items: &[&Item],
    officer: &Officer,
) -> Result<Vec<(Queue, i64)>, WorkError> {
    let mut out = vec![];
    for q in Queue::ALL {
        let mut n = 0;
        for query in queue_query(desk, items, officer, q, "", q == Queue::Approval) {
            n += repo::queue(desk.store, &query, 0, 0).await?.1;
        }
        out.push((q, n));
    }
    Ok(out)
}

/// 签发: seals the edited reply (复函) with the next 文号 and records it with the decision.
#[allow(clippy::too_many_arguments)]
pub async fn seal_decision(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    granted: bool,
    opinion: &str,
    draft: letters::Draft,
) -> Result<tongban_store::documents::IssuedRow, WorkError> {
    let wf = workflow_of(item)?;
    required_text(opinion, "审批意见")?;
    let title = required_text(&draft.title, "复函标题")?;
    if draft.paragraphs.iter().all(|p| p.trim().is_empty()) {
        return Err(WorkError::Invalid("请填写复函正文".into()));
    }
    let h = open(desk, item, officer, id).await?;
    wf.may(&officer.roles, &h.position(), Act::Decide)?;
    let number = letter_number(desk, &wf.letter_prefix).await?;
    let draft = letters::Draft { title, ..draft };
    let letter = letters::decision_letter(item, &h.case, draft, &number, &desk.bureau.name);
    let prepared = crate::issuing::prepare_letter(
        desk.files,
        desk.bureau,
        tongban_documents::DocumentKind::Decision,
        letter,
        id,
        None,
    )
    .await?;
    decide(desk, item, officer, id, granted, opinion, Some(&prepared)).await?;
    Ok(prepared.row)
}

/// The sub-cases of the applicant's case `id`, for its progress (the applicant sees one case).
pub async fn children_of(
    store: &Store,
    applicant: &Applicant,
    id: &str,
) -> Result<Vec<Case>, CaseError> {
    crate::open(store, applicant, id).await?;
    Ok(repo::children(store, id)
        .await?
        .into_iter()
        .map(to_case)
        .collect::<Result<_, _>>()?)
}

/// A file of case `id` (a sub-case shows its parent's) for `officer` to preview.
pub async fn material(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    file_id: &str,
) -> Result<
    (
        repo::MaterialRow,
        tongban_domain::file_kind::FileKind,
        bytes::Bytes,
    ),
    WorkError,
> {
    let h = open(desk, item, officer, id).await?;
    let owner = h.case.projection.parent.clone().unwrap_or(h.case.id);
    let file = repo::materials(desk.store, &owner)
        .await?
        .into_iter()
        .find(|m| m.id == file_id)
        .ok_or(WorkError::NotFound)?;
    let bytes = stored(desk, &file.digest).await?;
    let kind = tongban_domain::file_kind::FileKind::from_code(&file.file_kind);
    Ok((file, kind, bytes))
}

/// A document the bureau issued on case `id`, for `officer`.
pub async fn document(
    desk: &Desk<'_>,
    item: &Item,
    officer: &Officer,
    id: &str,
    document_id: &str,
) -> Result<(tongban_store::documents::IssuedRow, bytes::Bytes), WorkError> {
    open(desk, item, officer, id).await?;
    let row = tongban_store::documents::by_id(desk.store, document_id)
        .await?
        .filter(|d| d.case_id.as_deref() == Some(id))
        .ok_or(WorkError::NotFound)?;
    let bytes = stored(desk, &row.file_digest).await?;
    Ok((row, bytes))
}

async fn stored(desk: &Desk<'_>, digest: &str) -> Result<bytes::Bytes, WorkError> {
    let digest = digest
        .parse::<tongban_crypto::Sm3Digest>()
        .map_err(|e| StoreError::InvalidRow(format!("file digest: {e}")))?;
    Ok(desk
        .files
        .get(&digest)
        .await
        .map_err(|e| StoreError::InvalidRow(format!("file store: {e}")))?)
}

/// What a notice's QR code shows (扫码查询办理进度): the case's number, state and the dates of
/// its steps — nothing the printed notice does not already say about the applicant.
pub struct Progress {
    pub number: String,
    pub item_id: String,
    pub state: &'static str,
    pub steps: Vec<(Timestamp, &'static str)>,
}

/// The progress of the case document `document_id` was issued on, if it was issued on one.
pub async fn progress_of_document(
    store: &Store,
    document_id: &str,
) -> Result<Option<Progress>, StoreError> {
    let Some(case_id) = tongban_store::documents::by_id(store, document_id)
        .await?
        .and_then(|d| d.case_id)
    else {
        return Ok(None);
    };
    let Some(row) = repo::by_id(store, &case_id).await? else {
        return Ok(None);
    };
    let case = to_case(row)?;
    let told =
        |e: &Event| crate::MESSAGE_KINDS.contains(&e.body.kind()) && e.body.kind() != "created";
    let steps = crate::events_of(store, &case_id)
        .await?
        .into_iter()
        .filter(told)
        .map(|e| (e.at, e.body.label()))
        .collect();
    Ok(Some(Progress {
        number: case.projection.number.clone().unwrap_or_default(),
        item_id: case.item_id.clone(),
        state: case.state().label(),
        steps,
    }))
}

/// Records the expiry of every licence whose last valid day has passed (the QR page already
/// says 已失效 from that day; this tells the applicant and the licence repository, once).
/// Returns how many were recorded.
pub async fn expire_licences(
    desk: &Desk<'_>,
    items: &tongban_engine::Catalogue,
) -> Result<usize, WorkError> {
    let today = day(beijing_date(Timestamp::now()));
    let mut recorded = 0;
    for licence in tongban_store::documents::expiring(desk.store, &today, 200).await? {
        let Some(case_id) = licence.case_id.clone() else {
            continue;
        };
        let Some(row) = repo::by_id(desk.store, &case_id).await? else {
            continue;
        };
        let Some(item) = items.get(&row.item_id) else {
            continue;
        };
        let wf = workflow_of(item)?;
        let events = crate::events_of(desk.store, &case_id).await?;
        let mut tx = desk.store.begin().await?;
        if !tongban_store::documents::mark_expired(&mut tx, &licence.id, Timestamp::now()).await? {
            continue;
        }
        let row = record(
            &mut tx,
            desk,
            wf,
            row,
            events,
            "system",
            EventBody::LicenceExpired {
                document_id: licence.id.clone(),
                number: licence.number.clone(),
            },
        )
        .await?;
        let until = licence.valid_until.clone().unwrap_or_default();
        tell(
            &mut tx,
            desk,
            item,
            &row,
            "licence_expired",
            "电子证照已到期",
            &until,
        )
        .await?;
        push_licence(&mut tx, &licence, &row, "expired", None).await?;
        tx.commit().await?;
        recorded += 1;
    }
    Ok(recorded)
}
