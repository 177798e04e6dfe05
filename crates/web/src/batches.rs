//! 批量生成 on the workbench: an officer starts a batch render of documents into one zip (a
//! background job, `tongban_cases::batch`), watches its progress bar and downloads the zip.
//! A batch is its officer's alone: anyone else's id answers 404.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use tongban_cases::batch::{self, Batch, BatchError};
use tongban_domain::Officer;

use crate::applications::attachment;
use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::CurrentOfficer;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workbench/batches", get(list).post(start))
        .route("/workbench/batches/{id}", get(detail))
        .route("/workbench/batches/{id}/progress", get(progress))
        .route("/workbench/batches/{id}/zip", get(download))
}

impl From<BatchError> for WebError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::NotFound => WebError::NotFound,
            BatchError::Store(e) => e.into(),
            e @ (BatchError::Files(_) | BatchError::Zip(_)) => WebError::Internal(e.to_string()),
            e @ BatchError::NotReady => WebError::Conflict(e.to_string()),
            e => WebError::Invalid(e.to_string()),
        }
    }
}

/// Whose batches these are: the officer's id.
fn owner(officer: &Officer) -> &str {
    officer.id.as_str()
}

/// A batch as a row or a page shows it.
pub struct BatchView {
    pub id: String,
    pub title: String,
    pub done: i64,
    pub total: i64,
    pub state: &'static str,
    pub label: &'static str,
    pub ready: bool,
    pub error: String,
    pub created_at: String,
    pub finished_at: String,
}

impl From<Batch> for BatchView {
    fn from(b: Batch) -> Self {
        BatchView {
            ready: b.zip.is_some(),
            state: b.state.as_str(),
            label: b.state.label(),
            error: b.error.clone().unwrap_or_default(),
            created_at: b.created_at.beijing(),
            finished_at: b.finished_at.map(|t| t.beijing()).unwrap_or_default(),
            id: b.id,
            title: b.title,
            done: b.done,
            total: b.total,
        }
    }
}

#[derive(Template)]
#[template(path = "workbench_batches.html")]
struct ListPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    rows: Vec<BatchView>,
    max: usize,
    error: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
) -> Result<Response, WebError> {
    list_page(&state, &officer, &csrf, None).await
}

async fn list_page(
    state: &AppState,
    officer: &Officer,
    csrf: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let rows = batch::of_owner(&state.store, owner(officer))
        .await?
        .into_iter()
        .map(BatchView::from)
        .collect();
    Ok(render(ListPage {
        officer,
        csrf,
        rows,
        max: batch::MAX_ITEMS,
        error,
    })?
    .into_response())
}

#[derive(Deserialize)]
struct StartForm {
    /// What to render: `sample_reports` (示例年度报告).
    source: String,
    #[serde(default)]
    count: String,
}

async fn start(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let refuse = |message: String| async {
        let page = list_page(&state, &officer, &csrf, Some(message)).await?;
        Ok::<_, WebError>((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let (title, items) = match form.source.as_str() {
        "sample_reports" => {
            let n = match form.count.trim().parse::<usize>() {
                Ok(n) if (1..=batch::MAX_ITEMS).contains(&n) => n,
                _ => {
                    return refuse(format!("份数应为1至{}之间的整数。", batch::MAX_ITEMS)).await;
                }
            };
            (format!("示例年度报告（{n}份）"), batch::sample_reports(n))
        }
        _ => return refuse("请选择要生成的文件。".into()).await,
    };
    let id = match batch::start(&state.store, owner(&officer), &title, items).await {
        Ok(id) => id,
        Err(e @ (BatchError::Empty | BatchError::TooMany | BatchError::BadItem { .. })) => {
            return refuse(e.to_string()).await;
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(batch = %id, officer = %officer.username, %title, "batch render started");
    Ok(Redirect::to(&format!("/workbench/batches/{id}")).into_response())
}

/// `owner`'s batch, or 404.
async fn own(state: &AppState, officer: &Officer, id: &str) -> Result<Batch, WebError> {
    batch::get(&state.store, owner(officer), id)
        .await?
        .ok_or(WebError::NotFound)
}

#[derive(Template)]
#[template(path = "workbench_batch.html")]
struct DetailPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    b: BatchView,
}

async fn detail(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let b = own(&state, &officer, &id).await?.into();
    Ok(render(DetailPage {
        officer: &officer,
        csrf: &csrf,
        b,
    })?
    .into_response())
}

async fn progress(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let b = own(&state, &officer, &id).await?;
    let mut response = Json(serde_json::json!({
        "done": b.done,
        "total": b.total,
        "state": b.state.as_str(),
        "label": b.state.label(),
        "error": b.error,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn download(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (b, bytes) = batch::zip_of(&state.store, &state.files, owner(&officer), &id).await?;
    let disposition = HeaderValue::from_str(&attachment(&b.zip_name()))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
