//! Sign-on through the city platform's unified login: leave for the platform, come back, and the
//! first time link or create the individual account. The rules are in
//! `tongban_identity::external`; this module moves the sign-on cookie and renders the pages.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tongban_identity::city_login::{CityLogin, CityLoginError, PlatformPerson};
use tongban_identity::external::{self, Arrival, Completion, ExternalError};
use tongban_identity::individual::IndividualError;

use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::{self, ClientAddr};
use crate::{AppState, WebError};

/// Holds the sign-on's secret between leaving for the platform and finishing. `SameSite=Lax`
/// because the platform sends the browser back with a top-level GET from its own site.
const COOKIE: &str = "tongban_city_login";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/city", get(start))
        .route("/login/city/callback", get(callback))
        .route("/login/city/link", get(link_page))
        .route("/login/city/link/existing", post(link_existing))
        .route("/login/city/link/new", post(register))
}

fn login_of(state: &AppState) -> Result<&CityLogin, WebError> {
    state.city_login.as_deref().ok_or(WebError::NotFound)
}

fn sign_on_cookie(value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/login/city; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The sign-on secret the browser holds.
struct SignOn(Option<String>);

impl axum::extract::FromRequestParts<AppState> for SignOn {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(SignOn(session::cookie(parts, COOKIE)))
    }
}

#[derive(Template)]
#[template(path = "city_login_failed.html")]
struct Failed<'a> {
    platform: &'a str,
    message: &'a str,
}

/// The page for a sign-on that cannot go on: the platform is down, refused, or it timed out.
fn failed(state: &AppState, e: ExternalError) -> Result<Response, WebError> {
    let status = match &e {
        ExternalError::Platform(CityLoginError::Unavailable(detail)) => {
            tracing::warn!(error = %detail, "city login unavailable");
            StatusCode::SERVICE_UNAVAILABLE
        }
        ExternalError::Platform(CityLoginError::Rejected(detail)) => {
            tracing::warn!(error = %detail, "city login rejected");
            StatusCode::UNAUTHORIZED
        }
        ExternalError::Store(_) | ExternalError::Individual(IndividualError::Store(_)) => {
            return Err(into_web(e));
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let platform = login_of(state)?.config().display_name.as_str();
    let page = render(Failed {
        platform,
        message: &e.to_string(),
    })?;
    let cleared = sign_on_cookie("", 0, state.config.secure_cookies);
    Ok((status, [(header::SET_COOKIE, cleared)], page).into_response())
}

fn into_web(e: ExternalError) -> WebError {
    match e {
        ExternalError::Store(e) | ExternalError::Individual(IndividualError::Store(e)) => e.into(),
        e => WebError::Internal(e.to_string()),
    }
}

async fn start(State(state): State<AppState>) -> Result<Response, WebError> {
    let login = login_of(&state)?;
    match external::start(&state.store, &state.fields, login).await {
        Ok(started) => {
            let lifetime = external::SIGN_ON_LIFETIME.as_secs();
            let cookie = sign_on_cookie(&started.secret, lifetime, state.config.secure_cookies);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&started.url)).into_response())
        }
        Err(e) => failed(&state, e),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    SignOn(secret): SignOn,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let login = login_of(&state)?;
    let (Some(secret), Some(code), Some(sent_state), None) = (secret, q.code, q.state, &q.error)
    else {
        let e = match q.error.as_deref() {
            Some(error) => ExternalError::Platform(CityLoginError::Rejected(error.to_string())),
            None => ExternalError::Expired,
        };
        return failed(&state, e);
    };
    let lifetime = state.config.session_lifetime;
    let arrival = external::arrive(
        &state.store,
        &state.fields,
        login,
        &secret,
        &sent_state,
        &code,
        &client,
        lifetime,
    )
    .await;
    match arrival {
        Ok(Arrival::SignedIn { secret, .. }) => Ok(signed_in(&state, &secret)),
        Ok(Arrival::MustLink(_)) => Ok(Redirect::to("/login/city/link").into_response()),
        Err(e) => failed(&state, e),
    }
}

/// Signs the browser in and drops the finished sign-on's cookie.
fn signed_in(state: &AppState, secret: &str) -> Response {
    let mut response = session::signed_in(state, secret, "/me");
    let cleared = sign_on_cookie("", 0, state.config.secure_cookies);
    response.headers_mut().append(
        header::SET_COOKIE,
        cleared.parse().expect("a cookie is a header value"),
    );
    response
}

#[derive(Template)]
#[template(path = "city_login_link.html")]
struct LinkPage<'a> {
    platform: &'a str,
    person: &'a PlatformPerson,
    phone_masked: Option<String>,
    id_masked: Option<String>,
    entered: Entered,
    csrf: &'a str,
}

/// What the person typed into the link page, and what was wrong with it.
#[derive(Default)]
struct Entered {
    account: String,
    typed: Completion,
    link_error: Option<String>,
    errors: Vec<String>,
}

fn mask_phone(phone: &str) -> String {
    match (phone.get(..3), phone.get(7..)) {
        (Some(head), Some(tail)) if phone.len() == 11 => format!("{head}****{tail}"),
        _ => "****".into(),
    }
}

fn mask_id(id: &str) -> String {
    match (id.get(..4), id.get(id.len().saturating_sub(2)..)) {
        (Some(head), Some(tail)) if id.len() > 6 => format!("{head}************{tail}"),
        _ => "****".into(),
    }
}

struct Waiting(PlatformPerson, String);

async fn waiting(state: &AppState, secret: Option<String>) -> Result<Option<Waiting>, WebError> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    Ok(external::waiting(&state.store, &state.fields, &secret)
        .await?
        .map(|p| Waiting(p, secret)))
}

fn link_page_for(
    state: &AppState,
    status: StatusCode,
    person: &PlatformPerson,
    entered: Entered,
    csrf: &str,
) -> Result<Response, WebError> {
    let platform = login_of(state)?.config().display_name.as_str();
    let page = LinkPage {
        platform,
        phone_masked: person.phone.as_deref().map(mask_phone),
        id_masked: person.id_number.as_deref().map(mask_id),
        person,
        entered,
        csrf,
    };
    Ok((status, render(page)?).into_response())
}

async fn link_page(
    State(state): State<AppState>,
    SignOn(secret): SignOn,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    login_of(&state)?;
    match waiting(&state, secret).await? {
        Some(Waiting(person, _)) => {
            link_page_for(&state, StatusCode::OK, &person, Entered::default(), &csrf)
        }
        None => failed(&state, ExternalError::Expired),
    }
}

#[derive(Deserialize)]
struct ExistingForm {
    account: String,
    password: String,
}

async fn link_existing(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    SignOn(secret): SignOn,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<ExistingForm>,
) -> Result<Response, WebError> {
    login_of(&state)?;
    let Some(Waiting(person, secret)) = waiting(&state, secret).await? else {
        return failed(&state, ExternalError::Expired);
    };
    let lifetime = state.config.session_lifetime;
    let linked = external::link_existing(
        &state.store,
        &state.fields,
        &secret,
        &form.account,
        &form.password,
        &client,
        lifetime,
    )
    .await;
    let (status, message) = match linked {
        Ok((_, session)) => return Ok(signed_in(&state, &session)),
        Err(e @ ExternalError::Individual(IndividualError::Locked { .. })) => {
            (StatusCode::LOCKED, e.to_string())
        }
        Err(e @ ExternalError::Individual(IndividualError::BadCredentials)) => {
            (StatusCode::UNAUTHORIZED, e.to_string())
        }
        Err(e @ (ExternalError::AlreadyLinked | ExternalError::Mismatch)) => {
            (StatusCode::CONFLICT, e.to_string())
        }
        Err(e) => return failed(&state, e),
    };
    link_page_for(
        &state,
        status,
        &person,
        Entered {
            account: form.account.trim().to_string(),
            link_error: Some(message),
            ..Entered::default()
        },
        &csrf,
    )
}

#[derive(Deserialize)]
struct NewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
}

async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    SignOn(secret): SignOn,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<NewForm>,
) -> Result<Response, WebError> {
    login_of(&state)?;
    let Some(Waiting(person, secret)) = waiting(&state, secret).await? else {
        return failed(&state, ExternalError::Expired);
    };
    let typed = Completion {
        name: form.name.trim().to_string(),
        id_number: form.id_number.trim().to_string(),
        phone: form.phone.trim().to_string(),
    };
    let lifetime = state.config.session_lifetime;
    let created = external::register(
        &state.store,
        &state.fields,
        &secret,
        &typed,
        &client,
        lifetime,
    )
    .await;
    let errors = match created {
        Ok((_, session)) => return Ok(signed_in(&state, &session)),
        Err(ExternalError::Individual(IndividualError::Invalid(errors))) => errors,
        Err(ExternalError::Individual(IndividualError::AlreadyRegistered)) => {
            vec!["该身份证号码或手机号码已注册个人账号，请在上方“绑定已有账号”".to_string()]
        }
        Err(e) => return failed(&state, e),
    };
    link_page_for(
        &state,
        StatusCode::UNPROCESSABLE_ENTITY,
        &person,
        Entered {
            typed,
            errors,
            ..Entered::default()
        },
        &csrf,
    )
}
