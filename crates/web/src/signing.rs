//! 签章 pages: the parties of a submitted case sign its form in order. An individual confirms
//! with an SMS code; an enterprise signs the page's digest with its 一证通 certificate (here
//! `tongban cert sign-document`, in production the certificate helper) and pastes the
//! signature. An employer named in a person's form finds it under 申请事项单位确认.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use serde::Deserialize;
use tongban_cases::Case;
use tongban_cases::signing::{self, Caller, Pending, SigningError, Status};
use tongban_engine::Item;
use tongban_identity::individual::{self, CodePurpose, IndividualError};

use crate::applicant::{CurrentApplicant, Who};
use crate::applications::attachment;
use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/signing", get(page))
        .route("/cases/{id}/signing/document", get(document))
        .route("/cases/{id}/signing/report", get(report))
        .route("/cases/{id}/signing/prepare", post(prepare))
        .route("/cases/{id}/signing/finish", post(finish))
        .route("/cases/{id}/signing/code", post(send_code))
        .route("/cases/{id}/signing/confirm", post(confirm))
        .route("/enterprise/signing", get(requests))
}

impl From<SigningError> for WebError {
    fn from(e: SigningError) -> Self {
        match e {
            SigningError::Case(e) => e.into(),
            SigningError::Files(e) => WebError::Internal(e),
            other => WebError::Conflict(other.to_string()),
        }
    }
}

fn desk(state: &AppState) -> signing::Desk<'_> {
    signing::Desk {
        store: &state.store,
        files: &state.files,
        renderer: &state.bureau.renderer,
        ca: &state.ca,
    }
}

/// The signer the case API sees for this login (an enterprise with its credit code).
pub(crate) fn caller(who: &CurrentApplicant) -> Caller {
    Caller {
        applicant: who.applicant.clone(),
        credit_code: match &who.who {
            Who::Enterprise(actor) => Some(actor.enterprise.credit_code.as_str().to_string()),
            Who::Individual(_) => None,
        },
    }
}

/// The case `id` as its signer sees it: only its applicant or a party the form names, and an
/// enterprise only with a certificate allowed on the item.
async fn signing_of<'a>(
    state: &'a AppState,
    who: &CurrentApplicant,
    id: &str,
) -> Result<(Case, &'a Item, Status), WebError> {
    let item_id = signing::item_of(&state.store, id).await?;
    let item = state.items.get(&item_id).ok_or(WebError::NotFound)?;
    let (case, status) = signing::open(&state.store, item, &caller(who), id).await?;
    if let Who::Enterprise(actor) = &who.who
        && !actor.certificate.may_act_on(&item.id)
    {
        return Err(WebError::NotAllowed(
            "您使用的数字证书无权办理该事项，请联系本单位主证书持有人授权".into(),
        ));
    }
    Ok((case, item, status))
}

struct PartyView {
    label: String,
    state: String,
}

#[derive(Template)]
#[template(path = "case_signing.html")]
struct SigningPage<'a> {
    item: &'a Item,
    case: &'a Case,
    number: String,
    parties: Vec<PartyView>,
    /// Whose turn, when it is not the caller's.
    waiting_for: Option<String>,
    complete: bool,
    /// The caller's box, when it is their turn.
    my_turn: Option<String>,
    enterprise: bool,
    masked_phone: String,
    pending: Option<Pending>,
    pending_expires: String,
    code_sent: bool,
    message: Option<String>,
    error: Option<String>,
    is_applicant: bool,
    csrf: &'a str,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    signed: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let message = q.signed.map(|_| "签章成功。".to_string());
    show(
        &who,
        item,
        &case,
        &status,
        View::default().message(message),
        &csrf,
    )
}

#[derive(Default)]
struct View {
    pending: Option<Pending>,
    code_sent: bool,
    message: Option<String>,
    error: Option<String>,
}

impl View {
    fn message(mut self, m: Option<String>) -> Self {
        self.message = m;
        self
    }
    fn error(e: impl ToString) -> Self {
        View {
            error: Some(e.to_string()),
            ..View::default()
        }
    }
}

fn show(
    who: &CurrentApplicant,
    item: &Item,
    case: &Case,
    status: &Status,
    view: View,
    csrf: &str,
) -> Result<Response, WebError> {
    let parties = status
        .parties
        .iter()
        .map(|(p, s)| PartyView {
            label: p.label.clone(),
            state: match s {
                Some(s) => format!("已签章（{}，{}，{}）", s.name, s.method, s.at.beijing()),
                None => "待签章".into(),
            },
        })
        .collect();
    let my_turn = status.my_turn().map(|p| p.label.clone());
    let waiting_for = status
        .next()
        .filter(|_| my_turn.is_none())
        .map(|p| p.label.clone());
    let masked_phone = match &who.who {
        Who::Individual(p) => p.masked_phone(),
        Who::Enterprise(_) => String::new(),
    };
    let pending_expires = view
        .pending
        .as_ref()
        .map(|p| p.expires_at.beijing())
        .unwrap_or_default();
    let page = SigningPage {
        item,
        case,
        number: case.projection.number.clone().unwrap_or_else(|| "—".into()),
        parties,
        waiting_for,
        complete: status.complete(),
        my_turn,
        enterprise: matches!(who.who, Who::Enterprise(_)),
        masked_phone,
        pending: view.pending,
        pending_expires,
        code_sent: view.code_sent,
        message: view.message,
        error: view.error,
        is_applicant: status.roles.iter().any(|r| r == "applicant"),
        csrf,
    };
    Ok(render(page)?.into_response())
}

/// 查看 / 下载: the form as it stands, with every signature made so far.
async fn document(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let pdf = signing::current_pdf(
        &state.store,
        &state.files,
        &state.bureau.renderer,
        item,
        &case,
        &status,
    )
    .await?;
    let name = format!(
        "{}{}.pdf",
        item.signing.title,
        case.projection.number.as_deref().unwrap_or("")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&name).replacen("attachment", "inline", 1),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// 报告下载 (the list of a yearly report): the form as it stands, as a download named for the
/// year and the unit — signed once 签章 is done; before, the unsigned report, which 000 lets
/// a unit without an electronic seal print and seal on paper.
async fn report(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let pdf = signing::current_pdf(
        &state.store,
        &state.files,
        &state.bureau.renderer,
        item,
        &case,
        &status,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&report_name(item, &case)),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// `2025年<title>-<unit>.pdf` for an item with an index; else the title and the case number.
fn report_name(item: &Item, case: &Case) -> String {
    let data = &case.projection.data;
    let value = |id: &str| data.one(id).map(|v| v.trim().to_string());
    match &item.index {
        Some(index) => {
            let year = value(&index.year)
                .map(|y| format!("{y}年"))
                .unwrap_or_default();
            let unit = value(&index.title)
                .map(|u| format!("-{u}"))
                .unwrap_or_default();
            format!("{year}{}{unit}.pdf", item.signing.title)
        }
        None => format!(
            "{}{}.pdf",
            item.signing.title,
            case.projection.number.as_deref().unwrap_or("")
        ),
    }
}

/// A refusal the signer can act on is shown on the page; anything else is an error page.
fn on_page(e: SigningError) -> Result<View, WebError> {
    match e {
        SigningError::Case(_) | SigningError::Files(_) => Err(e.into()),
        other => Ok(View::error(other)),
    }
}

#[derive(Deserialize)]
struct PrepareForm {
    certificate: String,
}

/// Enterprise, step one: the certificate it signs with; the page then shows the digest.
async fn prepare(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<PrepareForm>,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let Who::Enterprise(actor) = &who.who else {
        return Err(WebError::NotAllowed("个人请使用短信验证码签名".into()));
    };
    // The certificate that signs is the one this session logged in with.
    let serial =
        tongban_identity::enterprise::certificate_serial(&state.ca, &form.certificate).ok();
    let view = if serial.as_deref() != Some(actor.certificate.serial.as_str()) {
        View::error("请使用登录本系统的数字证书签章")
    } else {
        match signing::prepare(&desk(&state), item, &caller(&who), &id, &form.certificate).await {
            Ok(pending) => View {
                pending: Some(pending),
                ..View::default()
            },
            Err(e) => on_page(e)?,
        }
    };
    show(&who, item, &case, &status, view, &csrf)
}

#[derive(Deserialize)]
struct FinishForm {
    pending: String,
    signature: String,
}

/// Enterprise, step two: the certificate's signature over the digest.
async fn finish(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<FinishForm>,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(form.signature.trim())
    else {
        return show(
            &who,
            item,
            &case,
            &status,
            View::error("签名值格式错误，请粘贴签名工具输出的完整内容"),
            &csrf,
        );
    };
    match signing::finish(
        &state.store,
        &state.files,
        item,
        &caller(&who),
        &id,
        &form.pending,
        &signature,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}/signing?signed=1")).into_response()),
        Err(e) => show(&who, item, &case, &status, on_page(e)?, &csrf),
    }
}

/// Individual, step one: an SMS code to the registered phone.
async fn send_code(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let Who::Individual(person) = &who.who else {
        return Err(WebError::NotAllowed("单位请使用数字证书签章".into()));
    };
    let view = if let Err(e) = status.turn() {
        on_page(e)?
    } else {
        match individual::send_code(
            &state.store,
            &state.fields,
            person,
            CodePurpose::SignApplication,
        )
        .await
        {
            Ok(()) => View {
                code_sent: true,
                ..View::default()
            },
            Err(IndividualError::Store(e)) => return Err(e.into()),
            Err(e) => View::error(e),
        }
    };
    show(&who, item, &case, &status, view, &csrf)
}

#[derive(Deserialize)]
struct ConfirmForm {
    code: String,
}

/// Individual, step two: the code confirms, and the form is signed in their name.
async fn confirm(
    State(state): State<AppState>,
    who: CurrentApplicant,
    Path(id): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let (case, item, status) = signing_of(&state, &who, &id).await?;
    let Who::Individual(person) = &who.who else {
        return Err(WebError::NotAllowed("单位请使用数字证书签章".into()));
    };
    if let Err(e) = status.turn() {
        return show(&who, item, &case, &status, on_page(e)?, &csrf);
    }
    match individual::verify_code(
        &state.store,
        &state.fields,
        person,
        CodePurpose::SignApplication,
        &form.code,
    )
    .await
    {
        Ok(()) => {}
        Err(IndividualError::Store(e)) => return Err(e.into()),
        Err(e) => {
            let view = View {
                code_sent: true,
                error: Some(e.to_string()),
                ..View::default()
            };
            return show(&who, item, &case, &status, view, &csrf);
        }
    }
    match signing::sign_confirmed(&desk(&state), item, &caller(&who), &id, &person.name).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}/signing?signed=1")).into_response()),
        Err(e) => show(&who, item, &case, &status, on_page(e)?, &csrf),
    }
}

struct RequestRow {
    case_id: String,
    number: String,
    item: String,
    person: String,
    submitted: String,
    since: String,
}

#[derive(Template)]
#[template(path = "enterprise_signing.html")]
struct RequestsPage {
    rows: Vec<RequestRow>,
}

/// 申请事项单位确认: the forms waiting for this enterprise's seal, newest first.
async fn requests(
    State(state): State<AppState>,
    who: CurrentApplicant,
) -> Result<Response, WebError> {
    let Who::Enterprise(actor) = &who.who else {
        return Err(WebError::NotAllowed("请使用法人一证通登录".into()));
    };
    let waiting = signing::requests(
        &state.store,
        &state.items,
        actor.enterprise.credit_code.as_str(),
    )
    .await?;
    let rows = waiting
        .into_iter()
        .filter(|w| actor.certificate.may_act_on(&w.case.item_id))
        .map(|w| RequestRow {
            case_id: w.case.id.clone(),
            number: w.case.projection.number.clone().unwrap_or_default(),
            item: w.item_name,
            person: w.applicant_name,
            submitted: w
                .case
                .projection
                .submitted_at
                .map(|t| t.beijing())
                .unwrap_or_default(),
            since: w.since.beijing(),
        })
        .collect();
    Ok(render(RequestsPage { rows })?.into_response())
}
