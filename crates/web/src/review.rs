//! The workbench's review of primary-certificate activation requests (主证书开通审核): a queue
//! with the one-working-day deadline, the request with its scanned form, and the decision.
//! An officer sees the requests of enterprises in their jurisdiction (the city sees all).
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tongban_crypto::Sm3Digest;
use tongban_domain::certificate::{ActivationState, PrimaryActivation};
use tongban_domain::{Enterprise, Officer, OfficerRole};
use tongban_store::{activations, enterprises};

use crate::csrf::CsrfToken;
use crate::enterprise::activation;
use crate::portal::render;
use crate::session::CurrentOfficer;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workbench/activations", get(queue))
        .route("/workbench/activations/{id}", get(detail))
        .route("/workbench/activations/{id}/scan", get(scan))
        .route("/workbench/activations/{id}/decide", post(decide))
}

/// Who may review: intake officers and administrators.
fn may_review(officer: &Officer) -> Result<(), WebError> {
    if officer.has_role(OfficerRole::Intake) || officer.has_role(OfficerRole::Admin) {
        Ok(())
    } else {
        Err(WebError::NotAllowed(
            "您的岗位无权审核主证书开通申请。".into(),
        ))
    }
}

/// The request and its enterprise, if the officer's jurisdiction covers it. Anything else is
/// "not found", so ids cannot be probed.
async fn visible(
    state: &AppState,
    officer: &Officer,
    id: &str,
) -> Result<(PrimaryActivation, Enterprise), WebError> {
    may_review(officer)?;
    let a = activation(state).get(id).await?.ok_or(WebError::NotFound)?;
    let e = enterprises::by_id(&state.store, &a.enterprise_id)
        .await?
        .ok_or(WebError::NotFound)?;
    if !officer.covers(&e.district) {
        return Err(WebError::NotFound);
    }
    Ok((a, e))
}

struct QueueRow {
    activation: PrimaryActivation,
    enterprise: Enterprise,
    remaining: i64,
}

#[derive(Template)]
#[template(path = "workbench_activations.html")]
struct Queue<'a> {
    officer: &'a Officer,
    rows: Vec<QueueRow>,
    csrf: &'a str,
}

async fn queue(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    may_review(&officer)?;
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    let mut rows = Vec::new();
    for a in activations::pending(&state.store).await? {
        let Some(e) = enterprises::by_id(&state.store, &a.enterprise_id).await? else {
            continue;
        };
        if officer.covers(&e.district) {
            let remaining = if a.due_date >= today {
                state.calendar.working_days_between(today, a.due_date)
            } else {
                -state.calendar.working_days_between(a.due_date, today)
            };
            rows.push(QueueRow {
                activation: a,
                enterprise: e,
                remaining,
            });
        }
    }
    Ok(render(Queue {
        officer: &officer,
        rows,
        csrf: &csrf,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "workbench_activation.html")]
struct Detail<'a> {
    officer: &'a Officer,
    a: &'a PrimaryActivation,
    e: &'a Enterprise,
    csrf: &'a str,
}

async fn detail(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (a, e) = visible(&state, &officer, &id).await?;
    Ok(render(Detail {
        officer: &officer,
        a: &a,
        e: &e,
        csrf: &csrf,
    })?
    .into_response())
}

async fn scan(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (a, _) = visible(&state, &officer, &id).await?;
    let digest: Sm3Digest = a
        .scan_digest
        .parse()
        .map_err(|_| WebError::Internal(format!("activation {id}: bad digest")))?;
    let bytes = state.files.get(&digest).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct Decision {
    decision: String,
    #[serde(default)]
    opinion: String,
}

async fn decide(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path(id): Path<String>,
    Form(form): Form<Decision>,
) -> Result<Response, WebError> {
    visible(&state, &officer, &id).await?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(WebError::Invalid("审核结果：请选择通过或不予通过。".into())),
    };
    activation(&state)
        .decide(&officer, &id, approve, &form.opinion)
        .await?;
    Ok(Redirect::to("/workbench/activations").into_response())
}
