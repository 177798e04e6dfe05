//! 办件审批 on the workbench: the queues (待受理, 待审查, 待审批, 补正中, 即将超期, 已超期, 已办结)
//! with search, paging and batch acceptance / licence issue; the case with its form read-only,
//! its materials previewed in the browser, the documents issued and the event timeline; and the
//! actions of the stage with the officer's opinion — 受理, 不予受理, 补正 (marking fields and
//! materials), 审查通过, 拆分并联审查, the decision with its drafted reply letter, 发证, 撤销, 归档.
//! Every case is opened through `workflow::open`, which holds it to the officer's jurisdiction.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tongban_cases::letters::{self, Draft};
use tongban_cases::workflow::{self, CorrectionRequest, Handling, Queue, WorkError};
use tongban_domain::{Jurisdiction, Officer, OfficerId, Timestamp, jurisdiction};
use tongban_engine::Item;
use tongban_engine::case::{CaseState, EventBody};
use tongban_engine::workflow::{Act, Urgency, WorkflowError, beijing_date};

use crate::applications::{attachment, inline};
use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::CurrentOfficer;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workbench/cases", get(queue))
        .route("/workbench/cases/batch", post(batch))
        .route("/workbench/cases/{id}", get(detail))
        .route("/workbench/cases/{id}/act", post(act))
        .route("/workbench/cases/{id}/split", post(split))
        .route(
            "/workbench/cases/{id}/correction",
            get(correction_page).post(correction),
        )
        .route(
            "/workbench/cases/{id}/decision",
            get(decision_page).post(decision),
        )
        .route("/workbench/cases/{id}/materials/{file}", get(material))
        .route("/workbench/cases/{id}/documents/{doc}", get(document))
}

impl From<WorkError> for WebError {
    fn from(e: WorkError) -> Self {
        match e {
            WorkError::NotFound => WebError::NotFound,
            WorkError::Workflow(e @ WorkflowError::NotYourRole { .. }) => {
                WebError::NotAllowed(e.to_string())
            }
            WorkError::Workflow(e) => WebError::Conflict(e.to_string()),
            WorkError::Invalid(m) => WebError::Invalid(m),
            WorkError::Case(e) => e.into(),
            WorkError::Issue(e) => WebError::Internal(e.to_string()),
            WorkError::Store(e) => e.into(),
        }
    }
}

/// The items the bureau decides on (those with a workflow).
fn handled(state: &AppState) -> Vec<&Item> {
    state
        .items
        .iter()
        .filter(|i| i.workflow.is_some())
        .collect()
}

/// The item of case `id`, for routing only: `workflow::open` then decides whether the officer
/// may see it, so an unknown case and another district's case answer alike.
async fn item_of<'a>(state: &'a AppState, id: &str) -> Result<&'a Item, WebError> {
    let row = tongban_store::cases::by_id(&state.store, id)
        .await?
        .ok_or(WebError::NotFound)?;
    state
        .items
        .get(&row.item_id)
        .filter(|i| i.workflow.is_some())
        .ok_or(WebError::NotFound)
}

fn district_name(code: Option<&str>) -> String {
    code.and_then(Jurisdiction::by_code)
        .map_or_else(|| "市级".to_string(), |j| j.name.to_string())
}

fn urgency_class(u: Option<Urgency>) -> &'static str {
    match u {
        Some(Urgency::Overdue) => "badge badge-danger",
        Some(Urgency::DueSoon) => "badge badge-warn",
        _ => "badge",
    }
}

// ── Queues ─────────────────────────────────────────────────────────────────

struct Tab {
    code: &'static str,
    label: &'static str,
    count: i64,
    current: bool,
}

struct Row {
    id: String,
    number: String,
    item: String,
    unit: String,
    district: String,
    submitted: String,
    stage: String,
    deadline: String,
    urgency: &'static str,
    urgency_class: &'static str,
    sub_case: bool,
}

#[derive(Template)]
#[template(path = "workbench_cases.html")]
struct QueuePage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    tabs: Vec<Tab>,
    queue: &'static str,
    queue_label: &'static str,
    q: String,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    batch: Option<(&'static str, &'static str)>,
    flash: Option<String>,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    #[serde(default)]
    queue: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

fn row_of(state: &AppState, c: &tongban_cases::Case, today: chrono::NaiveDate) -> Row {
    let item = state.items.get(&c.item_id);
    let wf = item.and_then(|i| i.workflow.as_ref());
    let urgency = match (c.deadline, wf) {
        (Some(d), Some(wf)) if c.state().is_open() => {
            Some(Urgency::of(d, today, &state.calendar, wf.due_soon_days))
        }
        _ => None,
    };
    let stage = match (wf, c.state()) {
        (Some(wf), CaseState::Reviewing) => c
            .projection
            .level
            .as_deref()
            .and_then(|l| wf.level(l))
            .map_or_else(|| "审查".to_string(), |l| l.name.clone()),
        (_, CaseState::Submitted) => "待受理".into(),
        (_, CaseState::Granted) => "待发证".into(),
        (_, s) => s.label().into(),
    };
    Row {
        id: c.id.clone(),
        number: c.projection.number.clone().unwrap_or_default(),
        item: item.map(|i| i.name.clone()).unwrap_or_default(),
        unit: c
            .projection
            .title
            .clone()
            .map(|t| {
                format!(
                    "{}（{t}）",
                    c.projection.data.one("unit_name").unwrap_or("")
                )
            })
            .unwrap_or_else(|| c.projection.data.one("unit_name").unwrap_or("").to_string()),
        district: district_name(c.projection.district.as_deref()),
        submitted: c
            .projection
            .submitted_at
            .map(|t| t.beijing()[..16].to_string())
            .unwrap_or_default(),
        stage,
        deadline: c
            .deadline
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into()),
        urgency: urgency.map_or("", Urgency::label),
        urgency_class: urgency_class(urgency),
        sub_case: c.projection.parent.is_some(),
    }
}

async fn queue(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    queue_page(&state, &officer, &csrf, q, None).await
}

async fn queue_page(
    state: &AppState,
    officer: &Officer,
    csrf: &str,
    q: QueueQuery,
    flash: Option<String>,
) -> Result<Response, WebError> {
    let items = handled(state);
    let which = Queue::parse(&q.queue).unwrap_or(Queue::Acceptance);
    let keyword: String = q.q.trim().chars().take(50).collect();
    let page = q.page.unwrap_or(1).max(1);
    let desk = state.desk();
    let counts = workflow::queue_counts(&desk, &items, officer).await?;
    let found = workflow::queue(&desk, &items, officer, which, &keyword, page).await?;
    let today = beijing_date(Timestamp::now());
    let rows = found
        .cases
        .iter()
        .map(|c| row_of(state, c, today))
        .collect();
    let batch = match which {
        Queue::Acceptance => Some(("accept", "批量受理")),
        Queue::Approval => Some(("licence", "批量发证")),
        _ => None,
    };
    let html = render(QueuePage {
        officer,
        csrf,
        tabs: counts
            .into_iter()
            .map(|(t, count)| Tab {
                code: t.code(),
                label: t.label(),
                count,
                current: t == which,
            })
            .collect(),
        queue: which.code(),
        queue_label: which.label(),
        q: keyword,
        rows,
        total: found.total,
        page,
        pages: ((found.total + workflow::QUEUE_PAGE - 1) / workflow::QUEUE_PAGE).max(1),
        batch,
        flash,
    })?;
    Ok(html.into_response())
}

/// 批量受理 / 批量发证 of the ticked cases; each case is checked on its own.
async fn batch(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let action = form
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let ids: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .take(200)
        .collect();
    if ids.is_empty() {
        return Err(WebError::Invalid("请先勾选办件".into()));
    }
    let desk = state.desk();
    let (mut done, mut refused) = (0, vec![]);
    for id in &ids {
        let Ok(item) = item_of(&state, id).await else {
            refused.push(format!("{id}：{}", WorkError::NotFound));
            continue;
        };
        let outcome = match action {
            "accept" => workflow::accept(&desk, item, &officer, id, "").await,
            "licence" => workflow::issue_licence(&desk, item, &officer, id)
                .await
                .map(|_| ()),
            _ => return Err(WebError::Invalid("批量操作无效".into())),
        };
        match outcome {
            Ok(()) => done += 1,
            // Nothing about a case outside the officer's jurisdiction, not even its number.
            Err(e @ WorkError::NotFound) => refused.push(format!("{id}：{e}")),
            Err(e) => {
                let number = tongban_store::cases::by_id(&state.store, id)
                    .await?
                    .and_then(|r| r.number)
                    .unwrap_or_default();
                refused.push(format!("{number}：{e}"));
            }
        }
    }
    let (queue, what) = if action == "accept" {
        ("acceptance", "受理")
    } else {
        ("approval", "发证")
    };
    let mut message = format!("已{what}{done}件");
    if !refused.is_empty() {
        message.push_str(&format!(
            "，{}件未办理（{}）",
            refused.len(),
            refused.join("；")
        ));
    }
    // The outcome is shown on the queue itself (not carried in a URL anyone could craft).
    let q = QueueQuery {
        queue: queue.into(),
        ..QueueQuery::default()
    };
    queue_page(&state, &officer, &csrf, q, Some(message)).await
}

/// What was just done to a case, as `?done=` carries it: fixed codes, so a crafted link cannot
/// put words on the bureau's page.
const DONE: &[(&str, &str)] = &[
    ("accepted", "已受理"),
    ("not-accepted", "已不予受理"),
    ("passed", "审查意见已提交"),
    ("split", "已拆分为并联审查子件"),
    ("corrected", "已发出补正告知书"),
    ("sealed", "复函已签发"),
    ("licensed", "电子证照已发放"),
    ("revoked", "电子证照已撤销"),
    ("archived", "已归档"),
];

fn done_label(code: &str) -> Option<String> {
    DONE.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| l.to_string())
}

// ── One case ───────────────────────────────────────────────────────────────

struct Line {
    at: String,
    label: String,
    who: String,
    detail: String,
}

struct FileView {
    id: String,
    material: String,
    file_name: String,
    size: String,
}

struct DocView {
    id: String,
    kind: &'static str,
    number: String,
    title: String,
    issued: String,
    status: &'static str,
}

struct ChildView {
    id: String,
    number: String,
    title: String,
    district: String,
    state: String,
}

#[derive(Template)]
#[template(path = "workbench_case.html")]
struct DetailPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    item: &'a Item,
    id: String,
    number: String,
    state: String,
    stage: String,
    district: String,
    deadline: String,
    urgency: &'static str,
    urgency_class: &'static str,
    parent: Option<String>,
    sub_title: Option<String>,
    correction: Option<tongban_engine::case::OpenCorrection>,
    form: tongban_documents::FormDocument,
    files: Vec<FileView>,
    documents: Vec<DocView>,
    children: Vec<ChildView>,
    timeline: Vec<Line>,
    /// The actions open to this officer here.
    can: Vec<&'static str>,
    districts: Vec<(&'static str, &'static str)>,
    flash: Option<String>,
    error: Option<String>,
}

impl DetailPage<'_> {
    fn may(&self, what: &str) -> bool {
        self.can.contains(&what)
    }
}

#[derive(Deserialize, Default)]
struct DetailQuery {
    done: Option<String>,
}

/// Who an event's actor is, as the timeline says it.
fn actor_name(actor: &str, officers: &HashMap<String, String>) -> String {
    if let Some(id) = actor.strip_prefix("officer:") {
        return officers
            .get(id)
            .cloned()
            .unwrap_or_else(|| "工作人员".into());
    }
    if actor == "system" {
        return "系统".into();
    }
    "申请人".into()
}

fn event_detail(body: &EventBody) -> String {
    match body {
        EventBody::Accepted { opinion, .. }
        | EventBody::Reviewed { opinion, .. }
        | EventBody::Decided { opinion, .. } => opinion.clone(),
        EventBody::NotAccepted { reason } | EventBody::LicenceRevoked { reason, .. } => {
            reason.clone()
        }
        EventBody::CorrectionRequested { points, .. } => points
            .iter()
            .map(|p| format!("{}：{}", p.label, p.note))
            .collect::<Vec<_>>()
            .join("；"),
        EventBody::Split { children } => children
            .iter()
            .map(|c| c.title.clone())
            .collect::<Vec<_>>()
            .join("、"),
        EventBody::SubCaseDecided { title, granted, .. } => {
            format!("{title}：{}", if *granted { "同意" } else { "不同意" })
        }
        EventBody::DocumentSealed { title, number, .. } => format!("{title}（{number}）"),
        EventBody::LicenceIssued { number, .. } => number.clone(),
        EventBody::MaterialAttached {
            name, file_name, ..
        } => format!("{name}：{file_name}"),
        _ => String::new(),
    }
}

async fn detail_page(
    state: &AppState,
    officer: &Officer,
    csrf: &str,
    id: &str,
    flash: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let item = item_of(state, id).await?;
    let desk = state.desk();
    let h = workflow::open(&desk, item, officer, id).await?;
    let wf = item.workflow.as_ref().ok_or(WebError::NotFound)?;
    let today = beijing_date(Timestamp::now());
    let row = row_of(state, &h.case, today);
    let mut officers = HashMap::new();
    for e in &h.events {
        if let Some(oid) = e.actor.strip_prefix("officer:")
            && !officers.contains_key(oid)
            && let Some(o) =
                tongban_store::officers::by_id(&state.store, &OfficerId::from_raw(oid)).await?
        {
            officers.insert(
                oid.to_string(),
                format!("{}（{}）", o.display_name, o.jurisdiction.bureau),
            );
        }
    }
    let owner = h
        .case
        .projection
        .parent
        .clone()
        .unwrap_or_else(|| h.case.id.clone());
    let files = tongban_store::cases::materials(&state.store, &owner)
        .await?
        .into_iter()
        .map(|m| FileView {
            id: m.id,
            material: m.name,
            file_name: m.file_name,
            size: format!("{:.1} KB", m.size as f64 / 1024.0),
        })
        .collect();
    let documents = tongban_store::documents::of_case(&state.store, id)
        .await?
        .into_iter()
        .map(|d| DocView {
            kind: tongban_documents::DocumentKind::parse(&d.kind).map_or("文书", |k| k.label()),
            status: tongban_cases::issuing::status_of(Some(&d), today).label(),
            issued: Timestamp(d.issued_at).beijing()[..10].to_string(),
            id: d.id,
            number: d.number,
            title: d.title,
        })
        .collect();
    let children = h
        .children
        .iter()
        .map(|c| ChildView {
            id: c.id.clone(),
            number: c.projection.number.clone().unwrap_or_default(),
            title: c.projection.title.clone().unwrap_or_default(),
            district: district_name(c.projection.district.as_deref()),
            state: row_of(state, c, today).stage,
        })
        .collect();
    let timeline = h
        .events
        .iter()
        .filter(|e| !matches!(e.body, EventBody::Saved { .. }))
        .map(|e| Line {
            at: e.at.beijing()[..16].to_string(),
            label: e.body.label().to_string(),
            who: actor_name(&e.actor, &officers),
            detail: event_detail(&e.body),
        })
        .collect();
    let can = actions(&h, wf, officer);
    let form = tongban_cases::paper::application_form(item, &h.case);
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let html = render(DetailPage {
        officer,
        csrf,
        item,
        id: h.case.id.clone(),
        number: row.number,
        state: h.case.state().label().to_string(),
        stage: row.stage,
        district: row.district,
        deadline: row.deadline,
        urgency: row.urgency,
        urgency_class: row.urgency_class,
        parent: h.case.projection.parent.clone(),
        sub_title: h.case.projection.title.clone(),
        correction: h.case.projection.correction.clone(),
        form,
        files,
        documents,
        children,
        timeline,
        can,
        districts: jurisdiction::ALL.iter().map(|j| (j.code, j.name)).collect(),
        flash,
        error,
    })?;
    Ok((status, html).into_response())
}

/// The actions the officer may take on the case now (their names in the template).
fn actions(
    h: &Handling,
    wf: &tongban_engine::workflow::Workflow,
    officer: &Officer,
) -> Vec<&'static str> {
    let at = h.position();
    let mut can = vec![];
    for (act, name) in [
        (Act::Accept, "accept"),
        (Act::NotAccept, "not-accept"),
        (Act::RequestCorrection, "correction"),
        (Act::Pass, "pass"),
        (Act::Split, "split"),
        (Act::Decide, "decision"),
        (Act::IssueLicence, "licence"),
        (Act::Archive, "archive"),
    ] {
        if wf.may(&officer.roles, &at, act).is_ok() {
            can.push(name);
        }
    }
    let licensed = h
        .events
        .iter()
        .any(|e| matches!(e.body, EventBody::LicenceIssued { .. }))
        && !h
            .events
            .iter()
            .any(|e| matches!(e.body, EventBody::LicenceRevoked { .. }));
    if licensed && officer.has_role(tongban_domain::OfficerRole::Approval) {
        can.push("revoke");
    }
    can
}

async fn detail(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, WebError> {
    let flash = q.done.as_deref().and_then(done_label);
    detail_page(&state, &officer, &csrf, &id, flash, None).await
}

/// Runs an action and shows the case again: with what was done, or with why it was refused.
async fn acted(
    state: &AppState,
    officer: &Officer,
    csrf: &str,
    id: &str,
    done: &str,
    outcome: Result<(), WorkError>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/workbench/cases/{id}?done={done}")).into_response()),
        Err(e @ (WorkError::Workflow(_) | WorkError::Invalid(_) | WorkError::Case(_))) => {
            let message = e.to_string();
            let status = WebError::from(e).status();
            detail_page(state, officer, csrf, id, None, Some((status, message))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One of the case page's actions, with the officer's opinion or reason.
#[derive(Deserialize, Default)]
struct ActForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    reason: String,
}

/// 受理, 不予受理, 审查通过, 发证, 撤销 and 归档: each checked by the workflow for this officer.
async fn act(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let desk = state.desk();
    let (done, outcome) = match f.action.as_str() {
        "accept" => (
            "accepted",
            workflow::accept(&desk, item, &officer, &id, &f.opinion).await,
        ),
        "not-accept" => (
            "not-accepted",
            workflow::not_accept(&desk, item, &officer, &id, &f.reason).await,
        ),
        "pass" => (
            "passed",
            workflow::pass(&desk, item, &officer, &id, &f.opinion).await,
        ),
        "licence" => (
            "licensed",
            workflow::issue_licence(&desk, item, &officer, &id)
                .await
                .map(|_| ()),
        ),
        "revoke" => (
            "revoked",
            workflow::revoke_licence(&desk, item, &officer, &id, &f.reason).await,
        ),
        "archive" => (
            "archived",
            workflow::archive(&desk, item, &officer, &id).await,
        ),
        _ => return Err(WebError::Invalid("办理操作无效".into())),
    };
    acted(&state, &officer, &csrf, &id, done, outcome).await
}

#[derive(Deserialize, Default)]
struct SplitForm {
    #[serde(default)]
    title1: String,
    #[serde(default)]
    district1: String,
    #[serde(default)]
    title2: String,
    #[serde(default)]
    district2: String,
}

async fn split(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Form(f): Form<SplitForm>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let parts = [(f.title1, f.district1), (f.title2, f.district2)];
    let outcome = workflow::split(&state.desk(), item, &officer, &id, &parts)
        .await
        .map(|_| ());
    acted(
        &state,
        &officer,
        &csrf,
        &id,
        "已拆分为并联审查子件",
        outcome,
    )
    .await
}

// ── 补正 ───────────────────────────────────────────────────────────────────

struct Mark {
    target: String,
    label: String,
    value: String,
    section: String,
}

#[derive(Template)]
#[template(path = "workbench_case_correction.html")]
struct CorrectionPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    item: &'a Item,
    id: String,
    number: String,
    fields: Vec<Mark>,
    materials: Vec<Mark>,
    error: Option<String>,
}

async fn correction_view(
    state: &AppState,
    officer: &Officer,
    csrf: &str,
    id: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let item = item_of(state, id).await?;
    let h = workflow::open(&state.desk(), item, officer, id).await?;
    let data = &h.case.projection.data;
    let fields = item
        .fields()
        .filter(|(_, _, f)| workflow::is_shown(item, data, &f.id))
        .map(|(step, section, f)| Mark {
            target: format!("field:{}", f.id),
            label: f.label.clone(),
            value: data.many(&f.id).join("、"),
            section: format!("{} › {}", step.title, section.title),
        })
        .collect();
    let attached = tongban_store::cases::materials(&state.store, id).await?;
    let materials = item
        .materials
        .iter()
        .filter(|m| m.show_if.as_ref().is_none_or(|c| c.holds(data)))
        .map(|m| Mark {
            target: format!("material:{}", m.id),
            label: m.name.clone(),
            value: attached
                .iter()
                .filter(|a| a.material_id == m.id)
                .map(|a| a.file_name.clone())
                .collect::<Vec<_>>()
                .join("、"),
            section: String::new(),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = render(CorrectionPage {
        officer,
        csrf,
        item,
        id: id.to_string(),
        number: h.case.projection.number.clone().unwrap_or_default(),
        fields,
        materials,
        error,
    })?;
    Ok((status, html).into_response())
}

async fn correction_page(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    correction_view(&state, &officer, &csrf, &id, None).await
}

/// The marks arrive as `mark=<target>` with `note:<target>=<text>`, and `note` overall.
async fn correction(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let notes: HashMap<&str, &str> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("note:").map(|t| (t, v.as_str())))
        .collect();
    let request = CorrectionRequest {
        points: form
            .iter()
            .filter(|(k, _)| k == "mark")
            .map(|(_, t)| {
                (
                    t.clone(),
                    notes.get(t.as_str()).copied().unwrap_or("").to_string(),
                )
            })
            .collect(),
        note: form
            .iter()
            .find(|(k, _)| k == "note")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    };
    match workflow::request_correction(&state.desk(), item, &officer, &id, &request).await {
        Ok(_) => Ok(Redirect::to(&format!("/workbench/cases/{id}?done=corrected")).into_response()),
        Err(WorkError::Invalid(m)) => correction_view(&state, &officer, &csrf, &id, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

// ── 拟函 and the decision ─────────────────────────────────────────────────

#[derive(Template)]
#[template(path = "workbench_case_decision.html")]
struct DecisionPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    item: &'a Item,
    id: String,
    number: String,
    granted: bool,
    opinion: String,
    title: String,
    paragraphs: String,
    items: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct DecisionQuery {
    granted: Option<String>,
}

async fn decision_page(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<DecisionQuery>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let h = workflow::open(&state.desk(), item, &officer, &id).await?;
    let wf = item.workflow.as_ref().ok_or(WebError::NotFound)?;
    wf.may(&officer.roles, &h.position(), Act::Decide)
        .map_err(|e| WebError::from(WorkError::from(e)))?;
    let granted = q.granted.as_deref() != Some("0");
    let opinion = if granted {
        "经审查，申请材料齐全，符合法定条件。"
    } else {
        ""
    };
    let draft = letters::decision_draft(item, &h.case, granted, opinion);
    let html = render(DecisionPage {
        officer: &officer,
        csrf: &csrf,
        item,
        id: id.clone(),
        number: h.case.projection.number.clone().unwrap_or_default(),
        granted,
        opinion: opinion.to_string(),
        title: draft.title,
        paragraphs: draft.paragraphs.join("\n"),
        items: draft.items.join("\n"),
        error: None,
    })?;
    Ok(html.into_response())
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    granted: String,
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    paragraphs: String,
    #[serde(default)]
    items: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// 签发: seals the edited reply and records the decision.
async fn decision(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let granted = match f.granted.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(WebError::Invalid("请选择审批结果".into())),
    };
    let draft = Draft {
        title: f.title.clone(),
        paragraphs: lines(&f.paragraphs),
        items: lines(&f.items),
    };
    let outcome = workflow::seal_decision(
        &state.desk(),
        item,
        &officer,
        &id,
        granted,
        &f.opinion,
        draft,
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/workbench/cases/{id}?done=sealed")).into_response()),
        Err(WorkError::Invalid(m)) => {
            let number = tongban_store::cases::by_id(&state.store, &id)
                .await?
                .and_then(|r| r.number)
                .unwrap_or_default();
            let html = render(DecisionPage {
                officer: &officer,
                csrf: &csrf,
                item,
                id: id.clone(),
                number,
                granted,
                opinion: f.opinion,
                title: f.title,
                paragraphs: f.paragraphs,
                items: f.items,
                error: Some(m),
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ── Files ──────────────────────────────────────────────────────────────────

/// A material shown in the browser (PDF and images preview inline; others download).
async fn material(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let (row, kind, bytes) = workflow::material(&state.desk(), item, &officer, &id, &file).await?;
    let previewable = matches!(kind.mime(), "application/pdf" | "image/jpeg" | "image/png");
    let disposition = if previewable {
        inline(&row.file_name)
    } else {
        attachment(&row.file_name)
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.mime().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

async fn document(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &id).await?;
    let (row, bytes) = workflow::document(&state.desk(), item, &officer, &id, &doc).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                inline(&format!("{}.pdf", row.title)),
            ),
        ],
        bytes,
    )
        .into_response())
}
