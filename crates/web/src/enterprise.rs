//! The enterprise side of identity: certificate login (法人一证通), the enterprise home page
//! (企业主页) with the first-login activation request, and certificate management by the primary.
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use tongban_domain::catalogue::{self, CatalogueItem};
use tongban_domain::certificate::{
    ActivationForm, ActivationState, CertificateRole, EnterpriseCertificate, PrimaryActivation,
};
use tongban_identity::enterprise::{self, Activation, EnterpriseActor, EnterpriseError};
use tongban_store::{activations, certificates};

use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::{self, ClientAddr, SessionCookie};
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/enterprise", get(login_page).post(login))
        .route("/enterprise", get(home))
        .route("/enterprise/logout", post(logout))
        .route("/enterprise/licences", get(licences))
        .route("/enterprise/activation", post(submit_activation))
        .route(
            "/enterprise/activation/{id}/withdraw",
            post(withdraw_activation),
        )
        .route(
            "/enterprise/certificates/{serial}/secondary",
            post(set_secondary),
        )
        .route("/enterprise/certificates/{serial}/revoke", post(revoke))
}

pub fn activation(state: &AppState) -> Activation<'_> {
    Activation {
        store: &state.store,
        files: &state.files,
        fields: &state.fields,
        calendar: &state.calendar,
    }
}

/// The enterprise logged in on this request; without one the browser goes to the login page.
pub struct CurrentEnterprise(pub EnterpriseActor);

impl axum::extract::FromRequestParts<AppState> for CurrentEnterprise {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, WebError> {
        let store = &state.store;
        session::resolve(parts, "/login/enterprise", |secret| async move {
            enterprise::actor_of_session(store, &secret).await
        })
        .await
        .map(CurrentEnterprise)
    }
}

#[derive(Template)]
#[template(path = "enterprise_login.html")]
struct LoginPage<'a> {
    challenge: &'a str,
    certificate: &'a str,
    error: Option<&'a str>,
    csrf: &'a str,
}

async fn login_page(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let challenge = enterprise::new_challenge(&state.store).await?;
    Ok(render(LoginPage {
        challenge: &challenge,
        certificate: "",
        error: None,
        csrf: &csrf,
    })?
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    certificate: String,
    challenge: String,
    signature: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let lifetime = state.config.session_lifetime;
    let outcome = if form.certificate.trim().is_empty() {
        Err("请粘贴法人一证通证书（PEM格式）。".to_string())
    } else {
        match base64::engine::general_purpose::STANDARD.decode(form.signature.trim()) {
            Err(_) => Err("签名值格式不正确，请粘贴签名工具输出的完整内容。".to_string()),
            Ok(signature) => {
                match enterprise::enterprise_login(
                    &state.store,
                    &state.ca,
                    &form.certificate,
                    form.challenge.trim(),
                    &signature,
                    &client,
                    lifetime,
                )
                .await
                {
                    Ok(login) => Ok(login),
                    Err(EnterpriseError::Store(e)) => return Err(e.into()),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    };
    match outcome {
        Ok(login) => Ok(session::signed_in(
            &state,
            &login.session_secret,
            "/enterprise",
        )),
        Err(message) => {
            let challenge = enterprise::new_challenge(&state.store).await?;
            let page = render(LoginPage {
                challenge: &challenge,
                certificate: form.certificate.trim(),
                error: Some(&message),
                csrf: &csrf,
            })?;
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    SessionCookie { secret }: SessionCookie,
) -> Result<Response, WebError> {
    session::sign_out(&state, secret, "/").await
}

/// A certificate row on the home page, with its rights as names.
struct CertRow {
    cert: EnterpriseCertificate,
    rights: String,
    not_after: String,
}

#[derive(Template)]
#[template(path = "enterprise_home.html")]
struct Home<'a> {
    actor: &'a EnterpriseActor,
    role: &'static str,
    not_after: String,
    has_primary: bool,
    pending: Option<PrimaryActivation>,
    rejected: Option<PrimaryActivation>,
    others: Vec<CertRow>,
    items: &'static [CatalogueItem],
    my_rights: String,
    /// 办件动态: what happened to the enterprise's cases.
    messages: Vec<crate::applications::MessageView>,
    errors: Vec<String>,
    csrf: &'a str,
}

fn item_names(rights: &[String]) -> String {
    let names: Vec<&str> = rights
        .iter()
        .filter_map(|r| catalogue::ITEMS.iter().find(|i| i.id == r).map(|i| i.name))
        .collect();
    if names.is_empty() {
        "无".into()
    } else {
        names.join("；")
    }
}

async fn home_page(
    state: &AppState,
    actor: &EnterpriseActor,
    csrf: &str,
    errors: Vec<String>,
) -> Result<Response, WebError> {
    let all = certificates::of_enterprise(&state.store, &actor.enterprise.id).await?;
    let has_primary = all
        .iter()
        .any(|c| c.role == CertificateRole::Primary && c.revoked_at.is_none());
    let requests = activations::of_enterprise(&state.store, &actor.enterprise.id).await?;
    let mine = |a: &&PrimaryActivation| a.certificate_serial == actor.certificate.serial;
    let pending = requests
        .iter()
        .filter(mine)
        .find(|a| a.state == ActivationState::Submitted)
        .cloned();
    let rejected = requests
        .iter()
        .filter(mine)
        .find(|a| a.state == ActivationState::Rejected)
        .cloned();
    let others = if actor.certificate.may_manage_certificates() {
        all.into_iter()
            .filter(|c| c.serial != actor.certificate.serial && c.revoked_at.is_none())
            .map(|cert| CertRow {
                rights: item_names(&cert.rights),
                not_after: cert.not_after.beijing()[..10].to_string(),
                cert,
            })
            .collect()
    } else {
        Vec::new()
    };
    let applicant = tongban_cases::Applicant::Enterprise {
        id: actor.enterprise.id.clone(),
        actor: actor.audit_name(),
    };
    let messages = crate::applications::home_messages(state, &applicant, |item| {
        actor.certificate.may_act_on(item)
    })
    .await?;
    let page = Home {
        messages,
        actor,
        role: actor.certificate.role.label(),
        not_after: actor.certificate.not_after.beijing(),
        has_primary,
        pending,
        rejected,
        others,
        items: &catalogue::ITEMS,
        my_rights: item_names(&actor.certificate.rights),
        errors,
        csrf,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(page)?).into_response())
}

/// One licence on 企业证照.
struct LicenceView {
    id: String,
    case_id: String,
    title: String,
    number: String,
    holder: String,
    issued: String,
    valid_until: String,
    status: &'static str,
    valid: bool,
    /// Why it no longer holds: revoked (with the bureau's reason) or expired.
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "enterprise_licences.html")]
struct LicencesPage {
    licences: Vec<LicenceView>,
}

/// 企业证照: the electronic licences issued on the enterprise's cases, of the services this
/// certificate may act on (a secondary sees only those it was granted).
async fn licences(
    State(state): State<AppState>,
    CurrentEnterprise(actor): CurrentEnterprise,
) -> Result<Response, WebError> {
    use tongban_cases::issuing::{LiveStatus, status_of};
    // `enterprise` is the applicant kind cases of an enterprise are stored under.
    let rows = tongban_store::documents::licences_of_applicant(
        &state.store,
        "enterprise",
        actor.enterprise.id.as_str(),
    )
    .await?;
    let today = tongban_engine::workflow::beijing_date(tongban_domain::Timestamp::now());
    let licences = rows
        .into_iter()
        .filter(|r| actor.certificate.may_act_on(&r.item_id))
        .filter_map(|r| {
            let d = r.document;
            let status = status_of(Some(&d), today);
            let reason = match &status {
                LiveStatus::Revoked { at, reason } => {
                    Some(format!("{}撤销：{reason}", &at.beijing()[..10]))
                }
                LiveStatus::Expired { on } => Some(format!("有效期已于{on}届满")),
                _ => None,
            };
            Some(LicenceView {
                case_id: d.case_id.clone()?,
                title: d.title.clone(),
                number: d.number.clone(),
                holder: d.holder.clone(),
                issued: tongban_domain::Timestamp(d.issued_at).beijing()[..10].to_string(),
                valid_until: d.valid_until.clone().unwrap_or_else(|| "长期".into()),
                status: status.label(),
                valid: status == LiveStatus::Valid,
                reason,
                id: d.id,
            })
        })
        .collect();
    Ok(render(LicencesPage { licences })?.into_response())
}

async fn home(
    State(state): State<AppState>,
    CurrentEnterprise(actor): CurrentEnterprise,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    home_page(&state, &actor, &csrf, Vec::new()).await
}

/// Reads the activation form: text fields and the scanned JPG (`scan`).
async fn read_activation(mut multipart: Multipart) -> Result<(ActivationForm, Bytes), WebError> {
    let mut form = ActivationForm {
        legal_representative: String::new(),
        registration_number: String::new(),
        contact: String::new(),
        contact_phone: String::new(),
        media_number: String::new(),
    };
    let mut scan = Bytes::new();
    let bad = |_| WebError::Invalid("上传内容不完整，请重新提交。".into());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "scan" {
            scan = field.bytes().await.map_err(bad)?;
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "legal_representative" => form.legal_representative = value,
            "registration_number" => form.registration_number = value,
            "contact" => form.contact = value,
            "contact_phone" => form.contact_phone = value,
            "media_number" => form.media_number = value,
            _ => {}
        }
    }
    Ok((form, scan))
}

async fn submit_activation(
    State(state): State<AppState>,
    CurrentEnterprise(actor): CurrentEnterprise,
    CsrfToken(csrf): CsrfToken,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let (form, scan) = read_activation(multipart).await?;
    match activation(&state).submit(&actor, form, scan).await {
        Ok(_) => Ok(Redirect::to("/enterprise").into_response()),
        Err(EnterpriseError::Invalid(errors)) => home_page(&state, &actor, &csrf, errors).await,
        Err(e) => Err(e.into()),
    }
}

async fn withdraw_activation(
    State(state): State<AppState>,
    CurrentEnterprise(actor): CurrentEnterprise,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    activation(&state).withdraw(&actor, &id).await?;
    Ok(Redirect::to("/enterprise").into_response())
}

async fn set_secondary(
    State(state): State<AppState>,
    CurrentEnterprise(actor): CurrentEnterprise,
    Path(serial): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let holder = fields
        .iter()
        .find(|(k, _)| k == "holder")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let rights: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "rights")
        .map(|(_, v)| v.clone())
        .collect();
    enterprise::set_secondary(&state.store, &actor, &serial, holder, &rights).await?;
    Ok(Redirect::to("/enterprise").into_response())
}

async fn revoke(
    State(state): State<AppState>,
    CurrentEnterprise(actor): CurrentEnterprise,
    Path(serial): Path<String>,
) -> Result<Response, WebError> {
    enterprise::revoke(&state.store, &actor, &serial).await?;
    Ok(Redirect::to("/enterprise").into_response())
}
