//! The applicant's side of every item, drawn from its spec: 办事指南, 办理须知 with its countdown,
//! the form step by step (上一步 / 暂存 / 下一步 / 提交), 我的办件 and the case with its
//! progress. No handler here knows a particular item.
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::BTreeMap;

use tongban_cases::issuing::{self, LiveStatus};
use tongban_cases::ledgers::LedgerPage;
use tongban_cases::materials::{self, Target};
use tongban_cases::{self as cases, CaseError};
use tongban_documents::DocumentKind;
use tongban_domain::Timestamp;
use tongban_engine::case::{CaseState, Event, OpenCorrection};
use tongban_engine::validate::check_fields;
use tongban_engine::workflow::beijing_date;
use tongban_engine::{Item, Problem};
use tongban_store::cases::{CaseFilter, MaterialRow};

use crate::applicant::CurrentApplicant;
use crate::case_form::{self, FieldView, FormView};
use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/items/{item}", get(guide))
        .route("/items/{item}/apply", get(notice).post(apply))
        .route("/items/{item}/again", post(again))
        .route("/cases", get(list))
        .route("/cases/{id}", get(detail))
        .route("/cases/{id}/edit", get(edit).post(save))
        .route("/cases/{id}/delete", post(delete))
        .route(
            "/cases/{id}/correction",
            get(correction).post(resubmit_correction),
        )
        .route("/cases/{id}/documents/{doc}", get(document))
        .route(
            "/cases/{id}/materials",
            // Room for the largest material (10 MB by default) plus the form around it; the
            // handler holds each file to its material's own limit.
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/cases/{id}/materials/{file}", get(download))
        .route("/cases/{id}/materials/{file}/delete", post(remove_file))
        .route(
            "/items/{item}/ledgers/{ledger}/template",
            get(ledger_template),
        )
        .route(
            "/cases/{id}/ledgers/{ledger}/import",
            post(ledger_import).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/cases/{id}/ledgers/{ledger}/export", get(ledger_export))
        .route("/cases/{id}/ledgers/{ledger}/rows", post(ledger_add_row))
        .route(
            "/cases/{id}/ledgers/{ledger}/rows/{row}/delete",
            post(ledger_delete_row),
        )
}

/// The page after the item's own steps, where materials are uploaded (seed 004's 申请材料).
pub const MATERIALS_STEP: &str = "_materials";
const UPLOAD_LIMIT: usize = 12 * 1024 * 1024;

fn item_of<'a>(state: &'a AppState, id: &str) -> Result<&'a Item, WebError> {
    state.items.get(id).ok_or(WebError::NotFound)
}

/// The applicant's case `id` and its item — if this login may work on that item (a secondary
/// certificate only on the services it was granted). Every case page starts here.
async fn case_of<'a>(
    state: &'a AppState,
    who: &CurrentApplicant,
    id: &str,
) -> Result<(cases::Case, &'a Item), WebError> {
    let case = cases::open(&state.store, &who.applicant, id).await?;
    let item = item_of(state, &case.item_id)?;
    who.may_apply(item)?;
    Ok((case, item))
}

impl From<CaseError> for WebError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NotFound => WebError::NotFound,
            CaseError::Store(e) => e.into(),
            CaseError::NotDraft
            | CaseError::Conflict
            | CaseError::NothingToCopy
            | CaseError::NotCorrecting => WebError::Conflict(e.to_string()),
            CaseError::Invalid(_) => WebError::Invalid(e.to_string()),
        }
    }
}

// ── 办事指南 ────────────────────────────────────────────────────────────────

#[derive(Template)]
#[template(path = "item_guide.html")]
struct Guide<'a> {
    item: &'a Item,
    kind: &'static str,
}

async fn guide(
    State(state): State<AppState>,
    Path(item): Path<String>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &item)?;
    Ok(render(Guide {
        item,
        kind: item.kind.label(),
    })?
    .into_response())
}

// ── 办理须知 and starting an application ───────────────────────────────────

#[derive(Template)]
#[template(path = "item_notice.html")]
struct Notice<'a> {
    item: &'a Item,
    shown_at: i64,
    token: String,
    error: Option<&'a str>,
    csrf: &'a str,
}

/// Binds the notice page's time to the item, so the server can tell the countdown ran.
fn notice_token(state: &AppState, item: &Item, shown_at: i64) -> String {
    state
        .fields
        .blind_index("notice_shown", &format!("{}:{shown_at}", item.id))
}

fn notice_page(
    state: &AppState,
    item: &Item,
    error: Option<&str>,
    csrf: &str,
) -> Result<Response, WebError> {
    let shown_at = Timestamp::now().millis();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = Notice {
        item,
        shown_at,
        token: notice_token(state, item, shown_at),
        error,
        csrf,
    };
    Ok((status, render(page)?).into_response())
}

async fn notice(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(item): Path<String>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let item = item_of(&state, &item)?;
    who.may_apply(item)?;
    notice_page(&state, item, None, &csrf)
}

async fn apply(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(item): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &item)?;
    who.may_apply(item)?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let shown_at: i64 = get("shown_at").and_then(|v| v.parse().ok()).unwrap_or(0);
    let genuine = get("token") == Some(notice_token(&state, item, shown_at).as_str());
    let waited =
        Timestamp::now().millis() - shown_at >= i64::from(item.notice.countdown_seconds) * 1000;
    if !genuine || !waited {
        return notice_page(
            &state,
            item,
            Some("请阅读办理须知，倒计时结束后再继续"),
            &csrf,
        );
    }
    let accepted = pairs.iter().filter(|(n, _)| n == "commitment").count();
    if accepted < item.commitments.len() {
        return notice_page(&state, item, Some("请阅读并勾选全部承诺事项"), &csrf);
    }
    let known = who.known_with(&state.prefill).await;
    let id = cases::start(&state.store, item, &who.applicant, &known).await?;
    Ok(Redirect::to(&format!("/cases/{id}/edit")).into_response())
}

async fn again(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(item): Path<String>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &item)?;
    who.may_apply(item)?;
    let known = who.known_with(&state.prefill).await;
    let id = cases::again(&state.store, item, &who.applicant, &known).await?;
    Ok(Redirect::to(&format!("/cases/{id}/edit")).into_response())
}

// ── The form ───────────────────────────────────────────────────────────────

#[derive(Template)]
#[template(path = "case_form.html")]
struct FormPage<'a> {
    item: &'a Item,
    case_id: &'a str,
    form: FormView,
    /// On the materials page: each material with its files.
    materials: Option<Vec<MaterialView>>,
    extras: Vec<FileView>,
    errors: Vec<String>,
    saved: bool,
    days_left: Option<i64>,
    csrf: &'a str,
}

#[derive(Deserialize)]
struct EditQuery {
    step: Option<String>,
    saved: Option<String>,
    /// `page.<ledger>=N`: which page of a ledger to show.
    ledger_pages: BTreeMap<String, i64>,
}

impl EditQuery {
    fn read(pairs: Vec<(String, String)>) -> Self {
        let mut q = EditQuery {
            step: None,
            saved: None,
            ledger_pages: BTreeMap::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "step" => q.step = Some(v),
                "saved" => q.saved = Some(v),
                _ => {
                    if let (Some(ledger), Ok(n)) = (k.strip_prefix("page."), v.parse()) {
                        q.ledger_pages.insert(ledger.to_string(), n);
                    }
                }
            }
        }
        q
    }
}

/// A page of each of the item's ledgers (the first, unless another is asked for).
async fn load_ledgers(
    state: &AppState,
    who: &CurrentApplicant,
    id: &str,
    item: &Item,
    wanted: &BTreeMap<String, i64>,
) -> Result<BTreeMap<String, LedgerPage>, WebError> {
    let mut pages = BTreeMap::new();
    for (_, _, l) in item.ledgers() {
        let page = wanted.get(&l.id).copied().unwrap_or(1);
        let p = cases::ledgers::page(&state.store, &who.applicant, id, &l.id, page).await?;
        pages.insert(l.id.clone(), p);
    }
    Ok(pages)
}

struct FormPageArgs<'a> {
    item: &'a Item,
    case: &'a cases::Case,
    attached: &'a [MaterialRow],
    ledgers: &'a BTreeMap<String, LedgerPage>,
    data: &'a tongban_engine::FormData,
    step: Option<&'a str>,
    problems: &'a [Problem],
    saved: bool,
}

struct FileView {
    id: String,
    file_name: String,
    size: String,
}

struct MaterialView {
    id: String,
    name: String,
    required: bool,
    multiple: bool,
    types: String,
    help: Option<String>,
    files: Vec<FileView>,
    error: Option<String>,
}

fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn file_view(m: &MaterialRow) -> FileView {
    FileView {
        id: m.id.clone(),
        file_name: m.file_name.clone(),
        size: size_label(m.size),
    }
}

/// The materials page's content: the shown materials with their files, and the extras.
fn materials_view(
    item: &Item,
    data: &tongban_engine::FormData,
    attached: &[MaterialRow],
    problems: &[Problem],
) -> (Vec<MaterialView>, Vec<FileView>) {
    let effective = tongban_engine::validate::shown(item, data).effective;
    let views = item
        .materials
        .iter()
        .filter(|m| m.show_if.as_ref().is_none_or(|c| c.holds(&effective)))
        .map(|m| MaterialView {
            id: m.id.clone(),
            name: m.name.clone(),
            required: m.required,
            multiple: m.multiple,
            types: m.types.join("、"),
            help: m.help.clone(),
            files: attached
                .iter()
                .filter(|a| a.material_id == m.id)
                .map(file_view)
                .collect(),
            error: problems
                .iter()
                .find(|p| p.field == format!("material:{}", m.id))
                .map(|p| p.message.clone()),
        })
        .collect();
    let extras = attached
        .iter()
        .filter(|a| a.material_id == materials::EXTRA)
        .map(|a| FileView {
            file_name: format!("{}：{}", a.name, a.file_name),
            ..file_view(a)
        })
        .collect();
    (views, extras)
}

fn form_page(a: FormPageArgs<'_>, csrf: &str) -> Result<Response, WebError> {
    let active: Vec<_> = a.item.active_steps(a.data).collect();
    let on_materials = a.step == Some(MATERIALS_STEP) && !a.item.materials.is_empty();
    let step = match a.step.and_then(|id| active.iter().find(|s| s.id == id)) {
        Some(step) => step,
        None if on_materials => active.last().ok_or(WebError::NotFound)?,
        None => active.first().ok_or(WebError::NotFound)?,
    };
    let mut form = case_form::view(a.item, a.data, step, a.problems, a.ledgers);
    let (materials, extras) = if on_materials {
        let (m, e) = materials_view(a.item, a.data, a.attached, a.problems);
        (Some(m), e)
    } else {
        (None, vec![])
    };
    if !a.item.materials.is_empty() {
        for link in &mut form.steps {
            link.current &= !on_materials;
        }
        form.steps.push(case_form::StepLink {
            title: "申请材料".into(),
            current: on_materials,
        });
        if on_materials {
            form.previous = active.last().map(|s| s.id.clone());
            form.next = None;
            form.step_id = MATERIALS_STEP.into();
            form.sections.clear();
            form.help = None;
        } else if form.next.is_none() {
            form.next = Some(MATERIALS_STEP.into());
        }
    }
    let page = FormPage {
        item: a.item,
        case_id: &a.case.id,
        materials,
        extras,
        form,
        errors: a.problems.iter().map(|p| p.message.clone()).collect(),
        saved: a.saved,
        days_left: a.case.days_left(Timestamp::now()),
        csrf,
    };
    let status = if a.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(page)?).into_response())
}

async fn edit(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let q = EditQuery::read(q);
    let (case, item) = case_of(&state, &who, &id).await?;
    if case.state() != CaseState::Draft {
        return Ok(Redirect::to(&format!("/cases/{id}")).into_response());
    }
    let step = q.step.as_deref().or(case.projection.step.as_deref());
    let attached = materials::list(&state.store, &who.applicant, &id).await?;
    let ledgers = load_ledgers(&state, &who, &id, item, &q.ledger_pages).await?;
    form_page(
        FormPageArgs {
            item,
            case: &case,
            attached: &attached,
            ledgers: &ledgers,
            data: &case.projection.data,
            step,
            problems: &[],
            saved: q.saved.is_some(),
        },
        &csrf,
    )
}

async fn save(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    let attached = materials::list(&state.store, &who.applicant, &id).await?;
    let ledgers = load_ledgers(&state, &who, &id, item, &BTreeMap::new()).await?;
    let posted = case_form::read(pairs);
    let data = case_form::merge(item, &case.projection.data, &posted);
    let page = |step: Option<&str>, problems: &[Problem]| {
        form_page(
            FormPageArgs {
                item,
                case: &case,
                attached: &attached,
                ledgers: &ledgers,
                data: &data,
                step,
                problems,
                saved: false,
            },
            &csrf,
        )
    };
    // The pages in order: the item's active steps, then 申请材料 if it has materials.
    let mut pages: Vec<String> = item.active_steps(&data).map(|s| s.id.clone()).collect();
    if !item.materials.is_empty() {
        pages.push(MATERIALS_STEP.into());
    }
    let step_now = if pages.contains(&posted.step) {
        posted.step.clone()
    } else {
        pages.first().cloned().unwrap_or_default()
    };
    let at = pages.iter().position(|s| *s == step_now);
    let (to, check_step) = match posted.action.as_str() {
        "next" => (at.and_then(|i| pages.get(i + 1)).cloned(), true),
        "previous" => (
            at.and_then(|i| i.checked_sub(1)).map(|i| pages[i].clone()),
            false,
        ),
        "submit" => {
            let submitted =
                cases::workflow::submit(&state.desk(), item, &who.applicant, &id, &data).await;
            return match submitted {
                Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?submitted=1")).into_response()),
                Err(CaseError::Invalid(problems)) => {
                    // Keep what was typed, and show the first page with a problem.
                    cases::save(&state.store, item, &who.applicant, &id, &data, &step_now).await?;
                    let first = item
                        .fields()
                        .find(|(_, _, f)| problems.iter().any(|p| p.field == f.id))
                        .map(|(s, _, _)| s.id.as_str())
                        .or_else(|| {
                            problems
                                .iter()
                                .any(|p| p.field.starts_with("material:"))
                                .then_some(MATERIALS_STEP)
                        });
                    page(first.or(Some(step_now.as_str())), &problems)
                }
                Err(e) => Err(e.into()),
            };
        }
        _ => (None, false),
    };
    cases::save(&state.store, item, &who.applicant, &id, &data, &step_now).await?;
    if check_step {
        let problems = check_fields(item, &data, Some(&step_now));
        if !problems.is_empty() {
            return page(Some(&step_now), &problems);
        }
    }
    let target = match to {
        Some(step) => format!("/cases/{id}/edit?step={step}"),
        None => format!("/cases/{id}/edit?step={step_now}&saved=1"),
    };
    Ok(Redirect::to(&target).into_response())
}

/// An upload form: which material (or `extra` with a name), the file, and the page it came
/// from (`back=correction` for the 补正 page; otherwise the form's materials page).
#[derive(Default)]
struct Upload {
    material: String,
    name: String,
    file_name: String,
    bytes: bytes::Bytes,
    back: String,
}

impl Upload {
    fn came_from_correction(&self) -> bool {
        self.back == BACK_TO_CORRECTION
    }
}

/// The `back` value of the 补正 page's upload and delete forms.
const BACK_TO_CORRECTION: &str = "correction";

async fn read_upload(mut multipart: Multipart) -> Result<Upload, WebError> {
    let bad = |_| WebError::Invalid("上传未完成，请重新选择文件。".into());
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                upload.file_name = field.file_name().unwrap_or_default().to_string();
                upload.bytes = field.bytes().await.map_err(bad)?;
            }
            "material" => upload.material = field.text().await.map_err(bad)?,
            "name" => upload.name = field.text().await.map_err(bad)?,
            "back" => upload.back = field.text().await.map_err(bad)?,
            _ => {}
        }
    }
    Ok(upload)
}

async fn upload(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    let upload = read_upload(multipart).await?;
    let back_to_correction = upload.came_from_correction();
    let target = if upload.material == materials::EXTRA {
        Target::Extra { name: &upload.name }
    } else {
        Target::Material(&upload.material)
    };
    let attached = materials::attach(
        &state.store,
        &state.files,
        item,
        &who.applicant,
        &id,
        target,
        &upload.file_name,
        upload.bytes.clone(),
    )
    .await;
    match attached {
        Ok(_) if back_to_correction => {
            Ok(Redirect::to(&format!("/cases/{id}/correction")).into_response())
        }
        Ok(_) => {
            Ok(Redirect::to(&format!("/cases/{id}/edit?step={MATERIALS_STEP}")).into_response())
        }
        Err(CaseError::Invalid(problems)) if back_to_correction => {
            let attached = materials::list(&state.store, &who.applicant, &id).await?;
            correction_page(
                item,
                &case,
                &case.projection.data,
                &attached,
                &problems,
                &csrf,
            )
        }
        Err(CaseError::Invalid(problems)) => {
            let attached = materials::list(&state.store, &who.applicant, &id).await?;
            let ledgers = load_ledgers(&state, &who, &id, item, &BTreeMap::new()).await?;
            form_page(
                FormPageArgs {
                    item,
                    case: &case,
                    attached: &attached,
                    ledgers: &ledgers,
                    data: &case.projection.data,
                    step: Some(MATERIALS_STEP),
                    problems: &problems,
                    saved: false,
                },
                &csrf,
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn download(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    case_of(&state, &who, &id).await?;
    let (row, kind, bytes) =
        materials::download(&state.store, &state.files, &who.applicant, &id, &file).await?;
    Ok((
        [
            (header::CONTENT_TYPE, kind.mime().to_string()),
            (header::CONTENT_DISPOSITION, attachment(&row.file_name)),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct BackQuery {
    /// `correction`: the form is on the 补正 page, so back to it.
    back: Option<String>,
}

async fn remove_file(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<BackQuery>,
) -> Result<Response, WebError> {
    let (_, item) = case_of(&state, &who, &id).await?;
    materials::remove(&state.store, item, &who.applicant, &id, &file).await?;
    if q.back.as_deref() == Some(BACK_TO_CORRECTION) {
        return Ok(Redirect::to(&format!("/cases/{id}/correction")).into_response());
    }
    Ok(Redirect::to(&format!("/cases/{id}/edit?step={MATERIALS_STEP}")).into_response())
}

#[derive(Deserialize)]
struct DeleteQuery {
    /// `reports`: deleted from the item's list of yearly reports, so back to it.
    from: Option<String>,
}

async fn delete(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<Response, WebError> {
    let (_, item) = case_of(&state, &who, &id).await?;
    cases::delete_draft(&state.store, &who.applicant, &id).await?;
    let back = if q.from.as_deref() == Some("reports") && item.index.is_some() {
        format!("/cases?item={}&deleted=1", item.id)
    } else {
        "/cases?deleted=1".to_string()
    };
    Ok(Redirect::to(&back).into_response())
}

// ── Ledgers ───────────────────────────────────────────────────────────────

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987).
pub(crate) fn attachment(name: &str) -> String {
    disposition("attachment", name)
}

/// `inline`: shown in the browser (a material previewed on the workbench), saved under `name`.
pub(crate) fn inline(name: &str) -> String {
    disposition("inline", name)
}

fn disposition(how: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{how}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

pub(crate) fn xlsx_download(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, attachment(name)),
        ],
        bytes,
    )
        .into_response()
}

/// 模板下载: public, like the guide it is linked from.
async fn ledger_template(
    State(state): State<AppState>,
    Path((item, ledger)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let ledger = item_of(&state, &item)?
        .ledger(&ledger)
        .ok_or(WebError::NotFound)?;
    let bytes = tongban_sheets::template(ledger).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(xlsx_download(&format!("{}模板.xlsx", ledger.title), bytes))
}

/// The step that holds `ledger`, to come back to after a change.
fn ledger_step(item: &Item, ledger: &str) -> String {
    item.ledgers()
        .find(|(_, _, l)| l.id == ledger)
        .map(|(s, _, _)| s.id.clone())
        .unwrap_or_default()
}

/// Shows the ledger's page again with `problems` beside the ledger.
async fn ledger_problems(
    state: &AppState,
    who: &CurrentApplicant,
    case: &cases::Case,
    item: &Item,
    ledger: &str,
    problems: &[Problem],
    csrf: &str,
) -> Result<Response, WebError> {
    let attached = materials::list(&state.store, &who.applicant, &case.id).await?;
    let ledgers = load_ledgers(state, who, &case.id, item, &BTreeMap::new()).await?;
    let step = ledger_step(item, ledger);
    form_page(
        FormPageArgs {
            item,
            case,
            attached: &attached,
            ledgers: &ledgers,
            data: &case.projection.data,
            step: Some(&step),
            problems,
            saved: false,
        },
        csrf,
    )
}

async fn ledger_import(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, ledger)): Path<(String, String)>,
    CsrfToken(csrf): CsrfToken,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    let bytes = read_upload(multipart).await?.bytes;
    match cases::ledgers::import(&state.store, item, &who.applicant, &id, &ledger, &bytes).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/cases/{id}/edit?step={}&saved=1",
            ledger_step(item, &ledger)
        ))
        .into_response()),
        Err(CaseError::Invalid(mut problems)) => {
            // A sheet full of mistakes: the first ones, and how many there are.
            let total = problems.len();
            if total > 50 {
                problems.truncate(50);
                problems.push(Problem {
                    field: format!("ledger:{ledger}"),
                    message: format!("……共{total}处错误，未导入任何数据"),
                });
            }
            ledger_problems(&state, &who, &case, item, &ledger, &problems, &csrf).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn ledger_export(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, ledger)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (_, item) = case_of(&state, &who, &id).await?;
    let bytes = cases::ledgers::export(&state.store, item, &who.applicant, &id, &ledger).await?;
    let title = item.ledger(&ledger).map_or("台账", |l| l.title.as_str());
    Ok(xlsx_download(&format!("{title}.xlsx"), bytes))
}

async fn ledger_add_row(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, ledger)): Path<(String, String)>,
    CsrfToken(csrf): CsrfToken,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    let values: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "c")
        .map(|(_, v)| v)
        .collect();
    match cases::ledgers::add_row(&state.store, item, &who.applicant, &id, &ledger, &values).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/cases/{id}/edit?step={}&saved=1",
            ledger_step(item, &ledger)
        ))
        .into_response()),
        Err(CaseError::Invalid(problems)) => {
            ledger_problems(&state, &who, &case, item, &ledger, &problems, &csrf).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn ledger_delete_row(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, ledger, row)): Path<(String, String, i64)>,
) -> Result<Response, WebError> {
    let (_, item) = case_of(&state, &who, &id).await?;
    cases::ledgers::delete_row(&state.store, item, &who.applicant, &id, &ledger, row).await?;
    Ok(Redirect::to(&format!(
        "/cases/{id}/edit?step={}",
        ledger_step(item, &ledger)
    ))
    .into_response())
}

// ── Home-page messages ────────────────────────────────────────────────────

/// One line of 办件动态 on the applicant's home page.
pub struct MessageView {
    pub at: String,
    pub text: String,
    pub link: String,
}

/// The newest messages about `applicant`'s cases of items `may_see` allows (a secondary
/// certificate sees only its services), worded for the applicant.
pub async fn home_messages(
    state: &AppState,
    applicant: &cases::Applicant,
    may_see: impl Fn(&str) -> bool,
) -> Result<Vec<MessageView>, WebError> {
    let messages = cases::messages(&state.store, applicant, 30).await?;
    Ok(messages
        .into_iter()
        .filter(|m| may_see(&m.item_id))
        .take(10)
        .map(|m| {
            let item = state.items.get(&m.item_id);
            let name = item.map_or(m.item_id.as_str(), |i| i.name.as_str());
            let case = match &m.number {
                Some(number) => format!("您的「{name}」申请（申请号 {number}）"),
                None => format!("您的「{name}」申请"),
            };
            let text = match (m.kind.as_str(), &m.number) {
                ("created", _) => format!(
                    "您新建了「{name}」申请。暂存的申请保留{}天，请及时提交。",
                    item.map_or(15, |i| i.draft_days)
                ),
                ("submitted", Some(number)) => {
                    format!("您的「{name}」申请已提交，申请号 {number}。")
                }
                ("submitted", None) => format!("{case}已提交。"),
                ("accepted", _) => format!("{case}已受理。"),
                ("not_accepted", _) => format!("{case}不予受理，请查看不予受理理由。"),
                ("correction_requested", _) => {
                    format!("{case}需要补正，请查看补正意见并在补正期限内提交补正。")
                }
                ("resubmitted", _) => format!("{case}已提交补正。"),
                ("reviewed", _) => format!("{case}审查通过。"),
                ("decided", _) => format!("{case}已作出审批决定。"),
                ("split", _) => format!("{case}进入并联审查。"),
                ("sub_case_decided", _) => format!("{case}并联审查办结。"),
                ("licence_issued", _) => format!("{case}电子证照已发放。"),
                ("licence_revoked", _) => format!("{case}电子证照已撤销。"),
                ("licence_expired", _) => format!("{case}电子证照已到期失效。"),
                _ => format!("{case}有新的办理进展。"),
            };
            MessageView {
                at: m.at.beijing()[..16].to_string(),
                text,
                link: format!("/cases/{}", m.case_id),
            }
        })
        .collect())
}

// ── 我的办件 and the case ─────────────────────────────────────────────────

#[derive(Deserialize, Default)]
struct ListQuery {
    item: Option<String>,
    state: Option<String>,
    year: Option<i32>,
    page: Option<i64>,
    deleted: Option<String>,
}

struct Row {
    id: String,
    number: String,
    item_name: String,
    item_id: String,
    state: &'static str,
    draft: bool,
    /// 补正中: the row offers 材料补正.
    correcting: bool,
    updated: String,
    days_left: Option<i64>,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage<'a> {
    rows: Vec<Row>,
    items: Vec<(&'a str, &'a str)>,
    item: String,
    state: String,
    /// The state filter's choices: (code, label).
    states: Vec<(&'static str, &'static str)>,
    year: String,
    years: Vec<i32>,
    page: i64,
    pages: i64,
    total: i64,
    deleted: bool,
    home: &'static str,
    csrf: &'a str,
}

async fn list(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Query(q): Query<ListQuery>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    // A yearly report's own list (000's 年度评估报告), by the fields its index names.
    if let Some(item) = q.item.as_deref().and_then(|id| state.items.get(id))
        && let Some(index) = &item.index
    {
        return report_list(&state, &who, item, index, &q, &csrf).await;
    }
    let filter = CaseFilter {
        item_id: q.item.clone().filter(|s| !s.is_empty()),
        state: q.state.clone().filter(|s| CaseState::parse(s).is_some()),
        created_between: q.year.map(cases::year_range),
        only_items: who.visible_items(),
        without_data: true,
    };
    let page = q.page.unwrap_or(1).max(1);
    let found = cases::list(&state.store, &who.applicant, &filter, page).await?;
    let now = Timestamp::now();
    let rows = found
        .cases
        .iter()
        .map(|c| Row {
            id: c.id.clone(),
            number: c.projection.number.clone().unwrap_or_else(|| "—".into()),
            item_name: state
                .items
                .get(&c.item_id)
                .map_or_else(|| c.item_id.clone(), |i| i.name.clone()),
            item_id: c.item_id.clone(),
            state: c.state().label(),
            draft: c.state() == CaseState::Draft,
            correcting: c.state() == CaseState::Correcting,
            updated: c.projection.updated_at.beijing()[..16].to_string(),
            days_left: c.days_left(now),
        })
        .collect();
    let this_year: i32 = cases::beijing_day(now)[..4].parse().unwrap_or(2026);
    let page_view = ListPage {
        rows,
        items: state
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.name.as_str()))
            .collect(),
        item: q.item.unwrap_or_default(),
        state: q.state.unwrap_or_default(),
        states: CaseState::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        year: q.year.map(|y| y.to_string()).unwrap_or_default(),
        years: (this_year - 4..=this_year).rev().collect(),
        page,
        pages: ((found.total + cases::PAGE_SIZE - 1) / cases::PAGE_SIZE).max(1),
        total: found.total,
        deleted: q.deleted.is_some(),
        home: who.home(),
        csrf: &csrf,
    };
    Ok(render(page_view)?.into_response())
}

/// Where a yearly report stands in its list: 暂存, 已提交, or 已盖章 once every party of the
/// item's `[signing]` has signed its form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReportState {
    Draft,
    Submitted,
    Sealed,
}

impl ReportState {
    fn label(self) -> &'static str {
        match self {
            Self::Draft => "暂存",
            Self::Submitted => "已提交",
            Self::Sealed => "已盖章",
        }
    }
}

struct ReportRow {
    id: String,
    /// The index's year, title and credit code, then its `columns`, as printed.
    cells: Vec<String>,
    state: ReportState,
    status: &'static str,
    /// The 检查编号 the bureau confirmed the report with.
    confirmed: Option<String>,
    days_left: Option<i64>,
}

#[derive(Template)]
#[template(path = "case_reports.html")]
struct ReportListPage<'a> {
    item: &'a Item,
    headers: Vec<String>,
    rows: Vec<ReportRow>,
    page: i64,
    pages: i64,
    total: i64,
    deleted: bool,
    home: &'static str,
    csrf: &'a str,
}

/// A form value as a list cell: lists joined by 、, a blank as —.
fn cell(data: &tongban_engine::FormData, field: &str) -> String {
    let text = data.many(field).join("、");
    if text.is_empty() { "—".into() } else { text }
}

/// 年度评估报告: the applicant's cases of an item with an `[index]`, one row a report, with the
/// index's fields as columns and what may be done with each (000: 修改 / 删除 for a draft,
/// 签章 until the form is signed, 报告下载 once submitted).
async fn report_list(
    state: &AppState,
    who: &CurrentApplicant,
    item: &Item,
    index: &tongban_engine::spec::IndexSpec,
    q: &ListQuery,
    csrf: &str,
) -> Result<Response, WebError> {
    who.may_apply(item)?;
    let fields: Vec<&str> = [&index.year, &index.title, &index.credit_code]
        .into_iter()
        .chain(&index.columns)
        .map(String::as_str)
        .collect();
    let headers = fields
        .iter()
        .map(|id| {
            item.field(id)
                .map_or_else(|| id.to_string(), |f| f.label.clone())
        })
        .collect();
    let filter = CaseFilter {
        item_id: Some(item.id.clone()),
        state: None,
        created_between: None,
        only_items: who.visible_items(),
        without_data: false,
    };
    let page = q.page.unwrap_or(1).max(1);
    let found = cases::list(&state.store, &who.applicant, &filter, page).await?;
    let now = Timestamp::now();
    let caller = crate::signing::caller(who);
    let mut rows = Vec::with_capacity(found.cases.len());
    for c in &found.cases {
        let state_now = match c.state() {
            CaseState::Draft => ReportState::Draft,
            // Yearly reports have no workflow: once submitted they stay submitted.
            _ => {
                let (_, status) =
                    tongban_cases::signing::open(&state.store, item, &caller, &c.id).await?;
                if status.complete() {
                    ReportState::Sealed
                } else {
                    ReportState::Submitted
                }
            }
        };
        // The bureau's confirmation (年度报告确认) shows beside the state.
        let confirmed = match state_now {
            ReportState::Draft => None,
            _ => tongban_cases::reports::confirmation_of(&state.store, &c.id)
                .await
                .map_err(WebError::from)?,
        };
        rows.push(ReportRow {
            id: c.id.clone(),
            cells: fields.iter().map(|f| cell(&c.projection.data, f)).collect(),
            state: state_now,
            status: state_now.label(),
            confirmed,
            days_left: c.days_left(now),
        });
    }
    let view = ReportListPage {
        item,
        headers,
        rows,
        page,
        pages: ((found.total + cases::PAGE_SIZE - 1) / cases::PAGE_SIZE).max(1),
        total: found.total,
        deleted: q.deleted.is_some(),
        home: who.home(),
        csrf,
    };
    Ok(render(view)?.into_response())
}

struct TimelineEntry {
    at: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "case_detail.html")]
struct Detail<'a> {
    item: &'a Item,
    case: &'a cases::Case,
    state: &'static str,
    number: String,
    timeline: Vec<TimelineEntry>,
    submitted: bool,
    resubmitted: bool,
    /// The 补正 the bureau asked for, while the case waits for it.
    correction: Option<CorrectionNotes>,
    /// 并联审查: the sub-cases' progress.
    children: Vec<ChildView>,
    documents: Vec<DocumentView>,
    csrf: &'a str,
}

/// The officer's 补正意见 as the applicant reads them.
struct CorrectionNotes {
    /// (label, note) per marked field or material.
    points: Vec<(String, String)>,
    note: String,
    due: String,
}

impl CorrectionNotes {
    fn of(c: &OpenCorrection) -> Self {
        CorrectionNotes {
            points: c
                .points
                .iter()
                .map(|p| (p.label.clone(), p.note.clone()))
                .collect(),
            note: c.note.clone(),
            due: c.due.clone(),
        }
    }
}

struct ChildView {
    title: String,
    number: String,
    state: &'static str,
}

/// A document the bureau issued on the case, with its live status.
struct DocumentView {
    id: String,
    kind: &'static str,
    number: String,
    date: String,
    status: &'static str,
    valid: bool,
}

/// The kinds the bureau issues on a case (the applicant's own signed forms are on the signing
/// page), which the case page lists and its download route serves.
fn issued_by_bureau(kind: &str) -> Option<DocumentKind> {
    DocumentKind::parse(kind).filter(|k| {
        matches!(
            k,
            DocumentKind::AcceptanceNotice
                | DocumentKind::CorrectionNotice
                | DocumentKind::Decision
                | DocumentKind::Licence
                | DocumentKind::Certificate
        )
    })
}

#[derive(Deserialize)]
struct DetailQuery {
    submitted: Option<String>,
    resubmitted: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    let events: Vec<Event> = cases::timeline(&state.store, &who.applicant, &id).await?;
    let children = cases::workflow::children_of(&state.store, &who.applicant, &id)
        .await?
        .into_iter()
        .map(|c| ChildView {
            title: c
                .projection
                .title
                .clone()
                .unwrap_or_else(|| "并联审查".into()),
            number: c.projection.number.clone().unwrap_or_else(|| "—".into()),
            state: c.state().label(),
        })
        .collect();
    let today = beijing_date(Timestamp::now());
    let documents = tongban_store::documents::of_case(&state.store, &id)
        .await?
        .into_iter()
        .filter_map(|d| {
            let kind = issued_by_bureau(&d.kind)?;
            let status = issuing::status_of(Some(&d), today);
            Some(DocumentView {
                kind: kind.label(),
                number: d.number.clone(),
                date: Timestamp(d.issued_at).beijing()[..10].to_string(),
                status: status.label(),
                valid: status == LiveStatus::Valid,
                id: d.id,
            })
        })
        .collect();
    let page = Detail {
        item,
        state: case.state().label(),
        number: case.projection.number.clone().unwrap_or_else(|| "—".into()),
        timeline: events
            .iter()
            .filter(|e| e.body.kind() != "saved")
            .map(|e| TimelineEntry {
                at: e.at.beijing(),
                label: e.body.label(),
            })
            .collect(),
        correction: case
            .projection
            .correction
            .as_ref()
            .filter(|_| case.state() == CaseState::Correcting)
            .map(CorrectionNotes::of),
        children,
        documents,
        case: &case,
        submitted: q.submitted.is_some(),
        resubmitted: q.resubmitted.is_some(),
        csrf: &csrf,
    };
    Ok(render(page)?.into_response())
}

/// 下载 a document the bureau issued on the applicant's case (the 补正告知书, the reply, the
/// licence): the case is authorised first, then the document must be one of its own.
async fn document(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response, WebError> {
    case_of(&state, &who, &id).await?;
    let row = tongban_store::documents::by_id(&state.store, &doc)
        .await?
        .filter(|d| d.case_id.as_deref() == Some(id.as_str()))
        .ok_or(WebError::NotFound)?;
    let kind = issued_by_bureau(&row.kind).ok_or(WebError::NotFound)?;
    let digest = row
        .file_digest
        .parse::<tongban_crypto::Sm3Digest>()
        .map_err(|e| WebError::Internal(format!("document digest: {e}")))?;
    let pdf = state.files.get(&digest).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("{}{}.pdf", kind.label(), row.number)),
            ),
        ],
        pdf,
    )
        .into_response())
}

// ── 材料补正 ──────────────────────────────────────────────────────────────

#[derive(Template)]
#[template(path = "case_correction.html")]
struct CorrectionPage<'a> {
    item: &'a Item,
    case_id: &'a str,
    number: String,
    notes: CorrectionNotes,
    steps: Vec<ReadStep>,
    materials: Vec<CorrectionMaterial>,
    errors: Vec<String>,
    csrf: &'a str,
}

/// A step of the application as submitted, read-only but for the marked fields.
struct ReadStep {
    title: String,
    sections: Vec<ReadSection>,
}

struct ReadSection {
    title: String,
    /// The shown fields; a marked one carries the officer's note (`FieldView::note`).
    fields: Vec<FieldView>,
}

/// A material marked for 补正, with its files and whether one was uploaded since the request.
struct CorrectionMaterial {
    id: String,
    name: String,
    note: String,
    types: String,
    help: Option<String>,
    files: Vec<FileView>,
    renewed: bool,
    error: Option<String>,
}

/// The open 补正 of a case, or 409 with the reason.
fn open_correction(case: &cases::Case) -> Result<&OpenCorrection, WebError> {
    case.projection
        .correction
        .as_ref()
        .filter(|_| case.state() == CaseState::Correcting)
        .ok_or_else(|| CaseError::NotCorrecting.into())
}

/// The 补正 page: every shown step and section of `data`, the marked fields as inputs with the
/// officer's note, the rest as text; then the marked materials with their files and upload.
fn correction_page(
    item: &Item,
    case: &cases::Case,
    data: &tongban_engine::FormData,
    attached: &[MaterialRow],
    problems: &[Problem],
    csrf: &str,
) -> Result<Response, WebError> {
    let correction = open_correction(case)?;
    let correctable = cases::workflow::correctable_fields(item, correction);
    let no_ledgers = BTreeMap::new();
    let steps = item
        .active_steps(data)
        .map(|step| {
            let view = case_form::view(item, data, step, problems, &no_ledgers);
            let sections = view
                .sections
                .into_iter()
                .filter(|s| s.shown)
                .map(|s| ReadSection {
                    title: s.title,
                    fields: s
                        .fields
                        .into_iter()
                        .filter(|f| f.shown)
                        .map(|mut f| {
                            let target = format!("field:{}", f.id);
                            if let Some(note) = correction.note_for(&target) {
                                f.note = Some(note.into());
                            } else if correctable.contains(&f.id) {
                                // Revealed by a marked field: filled in with it.
                                f.note = Some("随补正内容一并填写".into());
                            }
                            f
                        })
                        .collect(),
                })
                .filter(|s| !s.fields.is_empty())
                .collect();
            ReadStep {
                title: step.title.clone(),
                sections,
            }
        })
        .filter(|s| !s.sections.is_empty())
        .collect();
    let materials = correction
        .materials()
        .filter_map(|id| item.materials.iter().find(|m| m.id == id))
        .map(|m| {
            let files: Vec<&MaterialRow> =
                attached.iter().filter(|a| a.material_id == m.id).collect();
            CorrectionMaterial {
                id: m.id.clone(),
                name: m.name.clone(),
                note: correction
                    .note_for(&format!("material:{}", m.id))
                    .unwrap_or("")
                    .to_string(),
                types: m.types.join("、"),
                help: m.help.clone(),
                renewed: files
                    .iter()
                    .any(|f| f.uploaded_at >= correction.requested_at),
                files: files.into_iter().map(file_view).collect(),
                error: problems
                    .iter()
                    .find(|p| p.field == format!("material:{}", m.id))
                    .map(|p| p.message.clone()),
            }
        })
        .collect();
    let page = CorrectionPage {
        item,
        case_id: &case.id,
        number: case.projection.number.clone().unwrap_or_else(|| "—".into()),
        notes: CorrectionNotes::of(correction),
        steps,
        materials,
        errors: problems.iter().map(|p| p.message.clone()).collect(),
        csrf,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(page)?).into_response())
}

async fn correction(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    open_correction(&case)?;
    let attached = materials::list(&state.store, &who.applicant, &id).await?;
    correction_page(item, &case, &case.projection.data, &attached, &[], &csrf)
}

/// 提交补正: the marked fields as posted (nothing else is taken), checked with the whole
/// application by the workflow; problems show on the page again with what was typed.
async fn resubmit_correction(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (case, item) = case_of(&state, &who, &id).await?;
    // The marked fields and those they reveal; nothing else is taken from the post.
    let marked = cases::workflow::correctable_fields(item, open_correction(&case)?);
    let posted = case_form::read(pairs);
    let values = case_form::posted_fields(item, &posted, marked.iter().map(String::as_str));
    match cases::workflow::resubmit(&state.desk(), item, &who.applicant, &id, &values).await {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?resubmitted=1")).into_response()),
        Err(CaseError::Invalid(problems)) => {
            let mut data = case.projection.data.clone();
            for field in &marked {
                match values.values.get(field) {
                    Some(v) => data.values.insert(field.clone(), v.clone()),
                    None => data.values.remove(field),
                };
            }
            let attached = materials::list(&state.store, &who.applicant, &id).await?;
            correction_page(item, &case, &data, &attached, &problems, &csrf)
        }
        Err(e) => Err(e.into()),
    }
}
