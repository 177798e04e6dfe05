//! The officer workbench: login, logout and the entry page with the work queues.
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tongban_domain::Officer;

use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::{self, ClientAddr, CurrentOfficer, SessionCookie};
use crate::{AppState, WebError};
use tongban_identity::officer_login::officer_logout;
use tongban_identity::{LoginError, officer_login};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workbench", get(home))
        .route("/workbench/login", get(login_page).post(login))
        .route("/workbench/login/certificate", post(certificate_login))
        .route("/workbench/logout", post(logout))
}

#[derive(Template)]
#[template(path = "workbench_login.html")]
struct LoginPage<'a> {
    username: &'a str,
    error: Option<&'a str>,
    csrf: &'a str,
    /// The one-time challenge for the certificate form.
    challenge: &'a str,
}

async fn login_page(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
) -> Result<impl IntoResponse, WebError> {
    let challenge = tongban_identity::session::new_challenge(&state.store).await?;
    render(LoginPage {
        username: "",
        error: None,
        csrf: &csrf,
        challenge: &challenge,
    })
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<Credentials>,
) -> Result<Response, WebError> {
    let missing = if form.username.trim().is_empty() {
        Some("请输入用户名。")
    } else if form.password.is_empty() {
        Some("请输入密码。")
    } else {
        None
    };
    let lifetime = state.config.session_lifetime;
    let outcome = match missing {
        Some(m) => Err((StatusCode::UNPROCESSABLE_ENTITY, m.to_string())),
        None => match officer_login(
            &state.store,
            &form.username,
            &form.password,
            &client,
            lifetime,
        )
        .await
        {
            Ok(login) => Ok(login.session_secret),
            Err(LoginError::BadCredentials) => Err((
                StatusCode::UNAUTHORIZED,
                "用户名或密码错误，请重新输入。".into(),
            )),
            Err(LoginError::Locked { until }) => Err((
                StatusCode::LOCKED,
                format!(
                    "该账号因连续{}次登录失败已被锁定，请于{}后再试，或联系管理员。",
                    tongban_identity::LOCK_AFTER_FAILURES,
                    until.beijing()
                ),
            )),
            Err(LoginError::Store(e)) => return Err(e.into()),
        },
    };
    answer(&state, &csrf, form.username.trim(), outcome).await
}

/// Answers a login attempt: the workbench on success, else the login page (with a fresh
/// challenge) saying what went wrong.
async fn answer(
    state: &AppState,
    csrf: &str,
    username: &str,
    outcome: Result<String, (StatusCode, String)>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(secret) => Ok(session::signed_in(state, &secret, "/workbench")),
        Err((status, message)) => {
            let challenge = tongban_identity::session::new_challenge(&state.store).await?;
            let page = render(LoginPage {
                username,
                error: Some(&message),
                csrf,
                challenge: &challenge,
            })?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(Deserialize)]
struct CertificateForm {
    certificate: String,
    challenge: String,
    signature: String,
}

async fn certificate_login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<CertificateForm>,
) -> Result<Response, WebError> {
    use base64::Engine as _;
    use tongban_identity::officer_login::{CertificateLoginError, officer_certificate_login};
    let lifetime = state.config.session_lifetime;
    let outcome = match base64::engine::general_purpose::STANDARD.decode(form.signature.trim()) {
        Err(_) => Err((
            StatusCode::UNAUTHORIZED,
            "签名值格式不正确，请粘贴签名工具输出的完整内容。".to_string(),
        )),
        Ok(signature) => {
            match officer_certificate_login(
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
                Ok(login) => Ok(login.session_secret),
                Err(CertificateLoginError::Store(e)) => return Err(e.into()),
                Err(e @ CertificateLoginError::Locked { .. }) => {
                    Err((StatusCode::LOCKED, e.to_string()))
                }
                Err(e) => Err((StatusCode::UNAUTHORIZED, e.to_string())),
            }
        }
    };
    answer(&state, &csrf, "", outcome).await
}

async fn logout(
    State(state): State<AppState>,
    SessionCookie { secret }: SessionCookie,
) -> Result<Response, WebError> {
    if let Some(secret) = secret {
        let officer = tongban_identity::session::officer(&state.store, &secret).await?;
        officer_logout(&state.store, &secret, officer.as_ref()).await?;
    }
    let cleared = session::set_cookie("", 0, state.config.secure_cookies);
    Ok((
        [(header::SET_COOKIE, cleared)],
        Redirect::to("/workbench/login"),
    )
        .into_response())
}

/// A work queue in the left menu, with how many cases it holds for this officer.
struct Queue {
    code: &'static str,
    name: &'static str,
    count: i64,
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct Home<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    roles: String,
    queues: Vec<Queue>,
    waiting: i64,
}

async fn home(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
) -> Result<impl IntoResponse, WebError> {
    let items: Vec<_> = state
        .items
        .iter()
        .filter(|i| i.workflow.is_some())
        .collect();
    let counts = tongban_cases::workflow::queue_counts(&state.desk(), &items, &officer).await?;
    let waiting = counts
        .iter()
        .filter(|(q, _)| {
            use tongban_cases::workflow::Queue as Q;
            matches!(q, Q::Acceptance | Q::Review | Q::Approval)
        })
        .map(|(_, n)| n)
        .sum();
    let queues = counts
        .into_iter()
        .map(|(q, count)| Queue {
            code: q.code(),
            name: q.label(),
            count,
        })
        .collect();
    let roles = officer
        .roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("、");
    render(Home {
        officer: &officer,
        csrf: &csrf,
        roles,
        queues,
        waiting,
    })
}
