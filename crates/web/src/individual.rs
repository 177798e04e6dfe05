//! The individual's pages: registration, login with phone or identity number, and the personal
//! home page. Numbers are shown masked.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tongban_identity::individual::{self, Individual, IndividualError, Registration};

use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::{self, ClientAddr, SessionCookie};
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/individual", get(login_page).post(login))
        .route("/register/individual", get(register_page).post(register))
        .route("/me", get(home))
        .route("/me/logout", post(logout))
}

pub struct CurrentIndividual(pub Individual);

impl axum::extract::FromRequestParts<AppState> for CurrentIndividual {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, WebError> {
        let (store, fields) = (&state.store, &state.fields);
        session::resolve(parts, "/login/individual", |secret| async move {
            individual::of_session(store, fields, &secret).await
        })
        .await
        .map(CurrentIndividual)
    }
}

#[derive(Template)]
#[template(path = "individual_login.html")]
struct LoginPage<'a> {
    account: &'a str,
    error: Option<&'a str>,
    csrf: &'a str,
    /// The city platform's login button text, when it is configured.
    city: Option<&'a str>,
}

fn city_button(state: &AppState) -> Option<&str> {
    state
        .city_login
        .as_deref()
        .map(|c| c.config().display_name.as_str())
}

async fn login_page(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    Ok(render(LoginPage {
        account: "",
        error: None,
        csrf: &csrf,
        city: city_button(&state),
    })?
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    account: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let lifetime = state.config.session_lifetime;
    match individual::login(
        &state.store,
        &state.fields,
        &form.account,
        &form.password,
        &client,
        lifetime,
    )
    .await
    {
        Ok((_, secret)) => Ok(session::signed_in(&state, &secret, "/me")),
        Err(IndividualError::Store(e)) => Err(e.into()),
        Err(e) => {
            let status = if matches!(e, IndividualError::Locked { .. }) {
                StatusCode::LOCKED
            } else {
                StatusCode::UNAUTHORIZED
            };
            let page = render(LoginPage {
                account: form.account.trim(),
                error: Some(&e.to_string()),
                csrf: &csrf,
                city: city_button(&state),
            })?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "individual_register.html")]
struct RegisterPage<'a> {
    name: &'a str,
    id_number: &'a str,
    phone: &'a str,
    errors: Vec<String>,
    csrf: &'a str,
}

async fn register_page(CsrfToken(csrf): CsrfToken) -> Result<Response, WebError> {
    Ok(render(RegisterPage {
        name: "",
        id_number: "",
        phone: "",
        errors: vec![],
        csrf: &csrf,
    })?
    .into_response())
}

#[derive(Deserialize)]
struct RegisterForm {
    name: String,
    id_number: String,
    phone: String,
    password: String,
    password_again: String,
}

async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<RegisterForm>,
) -> Result<Response, WebError> {
    let reg = Registration {
        name: form.name.clone(),
        id_number: form.id_number.clone(),
        phone: form.phone.clone(),
        password: form.password.clone(),
    };
    let outcome = if form.password != form.password_again {
        Err(vec!["确认密码：两次输入的密码不一致".to_string()])
    } else {
        match individual::register(&state.store, &state.fields, &reg).await {
            Ok(_) => Ok(()),
            Err(IndividualError::Invalid(errors)) => Err(errors),
            Err(IndividualError::Store(e)) => return Err(e.into()),
            Err(e) => Err(vec![e.to_string()]),
        }
    };
    match outcome {
        Ok(()) => {
            let lifetime = state.config.session_lifetime;
            let (_, secret) = individual::login(
                &state.store,
                &state.fields,
                &reg.phone,
                &reg.password,
                &client,
                lifetime,
            )
            .await
            .map_err(|e| WebError::Internal(format!("login after registration: {e}")))?;
            Ok(session::signed_in(&state, &secret, "/me"))
        }
        Err(errors) => {
            let page = RegisterPage {
                name: form.name.trim(),
                id_number: form.id_number.trim(),
                phone: form.phone.trim(),
                errors,
                csrf: &csrf,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "individual_home.html")]
struct Home<'a> {
    who: &'a Individual,
    messages: Vec<crate::applications::MessageView>,
    id_masked: String,
    phone_masked: String,
    csrf: &'a str,
}

async fn home(
    State(state): State<AppState>,
    CurrentIndividual(who): CurrentIndividual,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    let applicant = tongban_cases::Applicant::Individual { id: who.id.clone() };
    let messages = crate::applications::home_messages(&state, &applicant, |_| true).await?;
    let page = Home {
        messages,
        id_masked: who.id_number.masked(),
        phone_masked: who.masked_phone(),
        who: &who,
        csrf: &csrf,
    };
    Ok(render(page)?.into_response())
}

async fn logout(
    State(state): State<AppState>,
    SessionCookie { secret }: SessionCookie,
) -> Result<Response, WebError> {
    session::sign_out(&state, secret, "/").await
}
